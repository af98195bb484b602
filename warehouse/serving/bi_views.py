"""The BI views of a serving file: wide, documented views in schema ``bi``.

Each view is one SQL file in ``views/`` and one entry in ``views/_views.yml`` (description,
the tables and columns it reads, column docs). A view whose inputs are missing from the
version being published is skipped and recorded, so the marts can grow step by step without
breaking a publish; a view whose inputs exist but whose SQL fails is a bug and fails the
publish. Comments go in as "English / 中文" with COMMENT ON, which BI tools and
``duckdb_columns()`` read.

Hand-written rather than a dbt project: the views live in the serving file, which dbt never
opens (dbt writes the warehouse; the serving file is built by publishing and then frozen).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

log = logging.getLogger(__name__)

VIEWS_DIR = Path(__file__).parent / "views"
BI_SCHEMA = "bi"


@dataclass(frozen=True)
class Doc:
    en: str
    zh: str

    def comment(self) -> str:
        return f"{self.en} / {self.zh}"


@dataclass(frozen=True)
class ViewVariant:
    requires: dict[str, tuple[str, ...]]  # "schema.table" -> columns
    sql: str


@dataclass(frozen=True)
class ViewSpec:
    name: str
    description: Doc
    # Tried in order; the first whose inputs exist is created. Usually one (`requires` and
    # `<name>.sql`); several when an input is changing shape and both shapes must serve.
    variants: tuple[ViewVariant, ...]
    column_docs: dict[str, Doc]


@dataclass(frozen=True)
class ViewOutcome:
    name: str
    status: str  # "created" or "skipped"
    reason: str | None
    columns: tuple[str, ...] = ()
    undocumented_columns: tuple[str, ...] = ()


def load_view_specs(directory: Path = VIEWS_DIR) -> list[ViewSpec]:
    config = yaml.safe_load((directory / "_views.yml").read_text(encoding="utf-8"))
    shared = {name: Doc(**doc) for name, doc in (config.get("columns") or {}).items()}
    specs = []
    for entry in config["views"]:
        own = {name: Doc(**doc) for name, doc in (entry.get("columns") or {}).items()}
        declared = entry.get("variants") or [{"sql": f"{entry['name']}.sql", "requires": entry["requires"]}]
        variants = tuple(
            ViewVariant(
                requires={table: tuple(columns) for table, columns in variant["requires"].items()},
                sql=(directory / variant["sql"]).read_text(encoding="utf-8"),
            )
            for variant in declared
        )
        specs.append(ViewSpec(entry["name"], Doc(**entry["description"]), variants, {**shared, **own}))
    return specs


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (for DDL and labels, where a parameter cannot go)."""
    return "'" + text.replace("'", "''") + "'"


def _existing_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where database_name = ?", [catalog]
    ).fetchall():
        columns.setdefault(f"{schema}.{table}", set()).add(column)
    return columns


def _missing_inputs(variant: ViewVariant, existing: dict[str, set[str]]) -> str | None:
    problems = []
    for table, needed in variant.requires.items():
        if table not in existing:
            problems.append(f"table {table} is not published")
            continue
        absent = [c for c in needed if c not in existing[table]]
        if absent:
            problems.append(f"{table} lacks {', '.join(absent)}")
    return "; ".join(problems) or None


def create_bi_views(
    con: duckdb.DuckDBPyConnection, catalog: str, specs: list[ViewSpec] | None = None
) -> list[ViewOutcome]:
    """Create every view whose inputs exist in ``catalog`` (the new serving database), with
    comments; return what was created and what was skipped, and why."""
    specs = load_view_specs() if specs is None else specs
    existing = _existing_columns(con, catalog)
    con.execute(f'create schema if not exists "{catalog}".{BI_SCHEMA}')
    outcomes = []
    for spec in specs:
        usable = [v for v in spec.variants if _missing_inputs(v, existing) is None]
        if not usable:
            reason = " | ".join(_missing_inputs(v, existing) or "" for v in spec.variants)
            log.warning("BI view %s.%s skipped: %s", BI_SCHEMA, spec.name, reason)
            outcomes.append(ViewOutcome(spec.name, "skipped", reason))
            continue
        target = f'"{catalog}".{BI_SCHEMA}."{spec.name}"'
        # Unqualified schema names in the SQL (main.x, ml.x) bind inside the view's own
        # catalog, so the view works under whatever name a reader attaches the file.
        con.execute(f"create or replace view {target} as\n{usable[0].sql}")
        con.execute(f"comment on view {target} is {sql_string(spec.description.comment())}")
        columns = tuple(
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
                "and table_name = ? order by column_index",
                [catalog, BI_SCHEMA, spec.name],
            ).fetchall()
        )
        undocumented = tuple(c for c in columns if c not in spec.column_docs)
        for column in columns:
            if column in spec.column_docs:
                con.execute(f'comment on column {target}."{column}" is {sql_string(spec.column_docs[column].comment())}')
        if undocumented:
            log.warning("BI view %s.%s: columns without documentation: %s", BI_SCHEMA, spec.name, undocumented)
        outcomes.append(ViewOutcome(spec.name, "created", None, columns, undocumented))
    return outcomes
