"""Publish the marts to the serving copy that BI tools, reports and action lists read.

BI tools never open the warehouse (DuckDB would lock them out during a refresh). A publish builds
a complete new DuckDB file and Parquet folder beside the current ones and then swaps each into
place with one atomic rename, so a reader sees either the previous version or the new one,
never half of a refresh, and a reader holding the old file keeps reading it undisturbed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.settings import Settings

PUBLISHED_SCHEMAS = ("marts", "ml")
# The serving file is serving/marts.duckdb, so DuckDB names its catalog "marts"; a schema also
# named "marts" inside it would make every `marts.x` reference ambiguous. Marts therefore go to
# the file's default schema, where both `fct_fund_flows` and `marts.fct_fund_flows` resolve.
_SERVING_SCHEMA = {"marts": "main"}
_VERSIONS_DIR = "versions"


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    rows: int


@dataclass(frozen=True)
class Publication:
    version: str
    database_path: Path
    parquet_dir: Path
    tables: tuple[PublishedTable, ...]


def _tables_to_publish(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    return con.execute(
        f"""select table_schema, table_name from information_schema.tables
            where table_catalog = current_database() and table_schema in ({placeholders})
            order by table_schema, table_name""",
        list(PUBLISHED_SCHEMAS),
    ).fetchall()


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime | None = None) -> Publication:
    """Copy the published schemas from the open warehouse connection into a new serving version."""
    now = now or datetime.now(timezone.utc)
    version = now.strftime("%Y%m%dT%H%M%S%fZ")
    versions_dir = settings.serving_dir / _VERSIONS_DIR
    versions_dir.mkdir(parents=True, exist_ok=True)
    new_db = versions_dir / f"marts-{version}.duckdb"
    new_parquet = versions_dir / f"parquet-{version}"
    new_parquet.mkdir()

    tables = _tables_to_publish(con)
    published: list[PublishedTable] = []
    con.execute(f"attach '{new_db}' as serving_new")
    try:
        for schema, name in tables:
            target = f"serving_new.{_SERVING_SCHEMA.get(schema, schema)}.{name}"
            con.execute(f"create schema if not exists serving_new.{_SERVING_SCHEMA.get(schema, schema)}")
            con.execute(f"create table {target} as select * from {schema}.{name}")
            rows = con.execute(f"select count(*) from {target}").fetchone()[0]
            parquet_path = new_parquet / f"{schema}.{name}.parquet"
            con.execute(f"copy {target} to '{parquet_path}' (format parquet, compression zstd)")
            published.append(PublishedTable(schema, name, rows))
        con.execute("create schema if not exists serving_new.meta")
        con.execute(
            "create table serving_new.meta.publication as "
            "select ?::varchar as version, ?::timestamptz as published_at, ?::integer as table_count, "
            "?::bigint as total_rows",
            [version, now, len(published), sum(t.rows for t in published)],
        )
    finally:
        con.execute("detach serving_new")

    _swap_into_place(new_db, settings.serving_path)
    _swap_into_place(new_parquet, settings.parquet_dir, is_dir=True)
    _prune_versions(versions_dir, keep=settings.serving_versions_kept)
    return Publication(version, settings.serving_path, settings.parquet_dir, tuple(published))


def _swap_into_place(new: Path, target: Path, *, is_dir: bool = False) -> None:
    """Point ``target`` at ``new`` with a single rename (atomic on POSIX)."""
    staging_name = target.with_name(f".{target.name}.swap")
    if staging_name.exists() or staging_name.is_symlink():
        staging_name.unlink()
    if is_dir:
        # A directory cannot be replaced atomically while it has contents; a symlink can.
        if target.exists() and not target.is_symlink():
            shutil.rmtree(target)
        os.symlink(new.relative_to(target.parent), staging_name)
    else:
        # A hard link keeps the versioned file and the served name on the same inode.
        os.link(new, staging_name)
    os.replace(staging_name, target)


def _prune_versions(versions_dir: Path, *, keep: int) -> None:
    databases = sorted(versions_dir.glob("marts-*.duckdb"))
    for old in databases[: max(len(databases) - keep, 0)]:
        version = old.stem.removeprefix("marts-")
        old.unlink(missing_ok=True)
        shutil.rmtree(versions_dir / f"parquet-{version}", ignore_errors=True)


def current_version(settings: Settings) -> str | None:
    if not settings.serving_path.exists():
        return None
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        return con.execute("select version from meta.publication").fetchone()[0]
    finally:
        con.close()
