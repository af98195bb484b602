"""Resources: the warehouse settings and the dbt CLI, built once from ``warehouse.settings``."""


import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import fundflow_dbt_project
from warehouse.connections import open_duckdb
from warehouse.settings import Settings, load_settings

# One name for "writes the warehouse file": every such step runs in this pool, whose limit is
# 1 (see dagster.yaml written by the CLI), so two runs never hold the DuckDB file at once.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse_writer"


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse lives and how to open it (from FUNDFLOW_* settings)."""

    home: str
    warehouse_path: str

    @property
    def settings(self) -> Settings:
        return replace(load_settings(), home=Path(self.home), warehouse_path=Path(self.warehouse_path))

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        settings = self.settings
        con = open_duckdb(settings.warehouse_path, settings, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(home=str(settings.home), warehouse_path=str(settings.warehouse_path)),
            "dbt": DbtCliResource(
                project_dir=fundflow_dbt_project,
                dbt_executable=str(Path(sys.executable).parent / "dbt"),
            ),
        }
    )
