"""Read-only access to the serving copy for reports and action lists.

Reports read only the published serving file (never the warehouse), and the tables in it grow
release by release. Every reader therefore asks ``has`` / ``columns`` first and degrades to a
visible "not available in this version" note instead of failing on an absent table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

# Marts are published into the serving file's default schema (see warehouse.publishing).
MARTS = "main"


class ServingReader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
        self._tables = {(schema, name) for schema, name in rows}

    def has(self, schema: str, table: str) -> bool:
        return (schema, table) in self._tables

    def tables(self, schema: str) -> list[str]:
        return sorted(name for s, name in self._tables if s == schema)

    def columns(self, schema: str, table: str) -> list[str]:
        if not self.has(schema, table):
            return []
        return [
            row[0]
            for row in self.con.execute(
                "select column_name from duckdb_columns() where database_name = current_database() "
                "and schema_name = ? and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
        ]

    def has_columns(self, schema: str, table: str, needed: list[str] | tuple[str, ...]) -> bool:
        present = set(self.columns(schema, table))
        return bool(present) and set(needed) <= present

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | None = None):
        return self.con.execute(sql, params or []).fetchone()[0]

    def publication(self) -> dict:
        if not self.has("meta", "publication"):
            return {"version": "unpublished", "published_at": None}
        frame = self.df("select * from meta.publication")
        return frame.iloc[0].to_dict()


@contextmanager
def open_serving(serving_path: Path) -> Iterator[ServingReader]:
    if not serving_path.exists():
        raise FileNotFoundError(
            f"No serving copy at {serving_path}: run `fundflow refresh` first (reports read only the serving copy)."
        )
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        yield ServingReader(con)
    finally:
        con.close()
