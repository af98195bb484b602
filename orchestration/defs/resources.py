"""Resources: the warehouse settings and the dbt CLI, built once from ``warehouse.settings``."""


import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import fundflow_dbt_project
from warehouse.connections import open_duckdb
from warehouse.settings import Settings, load_settings

# One name for "writes the warehouse file": every such step runs in this pool, whose limit is
# 1 (see dagster.yaml written by the CLI), so two runs never hold the DuckDB file at once.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse_writer"


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse (``database``) and FUNDFLOW_HOME around it, from FUNDFLOW_* settings.

    Extends dagster-duckdb's resource because its connections are always read-write and give up
    on a held lock after a few seconds; ours open read-only when asked, set the time zone, and
    wait out another writer (see ``warehouse.connections``).
    """

    home: str

    @property
    def settings(self) -> Settings:
        return replace(load_settings(), home=Path(self.home), warehouse_path=Path(self.database))

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        settings = self.settings
        con = open_duckdb(settings.warehouse_path, settings, read_only=read_only)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connect() as con:
            yield con


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(home=str(settings.home), database=str(settings.warehouse_path)),
            "dbt": DbtCliResource(
                project_dir=fundflow_dbt_project,
                dbt_executable=str(Path(sys.executable).parent / "dbt"),
            ),
        }
    )
