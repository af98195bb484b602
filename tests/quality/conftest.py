"""Quality tests: the cleaning layer scored against the generator's planted truth.

One demo world (1000 customers, seed 11) is generated, loaded and built with dbt once per
session, without Dagster (the integration tests cover Dagster). Tests open the warehouse
read-only and compare it with ``truth/`` computed independently in pandas.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse import landing
from warehouse import settings as fundflow_settings
from warehouse.synthetic import generate

CUSTOMERS = 1000
SEED = 11
DBT_BIN = Path(sys.executable).parent / "dbt"
BUILD_ATTEMPTS = 3  # dbt_project/ may be mid-edit by someone else: a failed build is retried
RETRY_WAIT_SECONDS = 60

# Money tables: truth id column(s) in raw.* and the staging / deduped models.
MONEY_TABLES = {
    "bank__transactions": "交易流水号",
    "payments__trades": "trade_no",
    "ecommerce__order_lines": "order_id || '-' || line_no",
    "cards__transactions": "txn_id",
    "cards__statements": "pan || '-' || replace(statement_date, '-', '')",
}


def dbt_command(args: list[str], home: Path, warehouse_path: Path, work_dir: Path) -> subprocess.CompletedProcess:
    """Run dbt against ``warehouse_path`` with its own target/log dirs (never the shared ones)."""
    settings = dataclasses.replace(fundflow_settings.load_settings(), home=home, warehouse_path=warehouse_path)
    project = str(fundflow_settings.DBT_PROJECT_DIR)
    return subprocess.run(
        [str(DBT_BIN), *args, "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")],
        env={**os.environ, **settings.dbt_env()},
        capture_output=True,
        text=True,
    )


@dataclasses.dataclass
class QualityWorld:
    home: Path
    warehouse_path: Path
    con: duckdb.DuckDBPyConnection
    flows: pd.DataFrame  # truth/flows.parquet
    dirt: pd.DataFrame  # truth/dirt.parquet
    customers: pd.DataFrame
    manifest: dict
    build_seconds: float

    money_tables = MONEY_TABLES

    def dbt(self, args: list[str], warehouse_path: Path, work_dir: Path) -> subprocess.CompletedProcess:
        return dbt_command(args, self.home, warehouse_path, work_dir)

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def has_table(self, schema: str, name: str) -> bool:
        return self.con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0] > 0

    def record_ids(self) -> pd.DataFrame:
        """(source_table, _source_file, _source_line) → truth record id, read from raw.* (the
        landing layer), so a warehouse row maps back to the generator's record by its lineage."""
        parts = [
            f"select '{table}' as source_table, _source_file, _source_line, "
            f"cast({expr} as varchar) as record_id from raw.{table}"
            for table, expr in MONEY_TABLES.items()
        ]
        return self.df(" union all ".join(parts))


@pytest.fixture(scope="session")
def quality_world(tmp_path_factory) -> QualityWorld:
    home = tmp_path_factory.mktemp("quality-home")
    started = time.monotonic()
    generate(home / "landing", home / "truth", customers=CUSTOMERS, seed=SEED)
    warehouse_path = home / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse_path))
    # Files written a moment ago would be deferred by the loader's settle guard: age them.
    aged = time.time() - 600
    for path in (home / "landing").rglob("*"):
        if path.is_file():
            os.utime(path, (aged, aged))
    try:
        loads = landing.load_all(con, home / "landing")
    finally:
        con.close()
    deferred = [f.path for load in loads for f in load.files if f.status != "loaded"]
    assert not deferred, f"landing did not load every demo file: {deferred[:10]}"
    result = None
    for attempt in range(BUILD_ATTEMPTS):
        result = dbt_command(["build"], home, warehouse_path, home / "dbt")
        if result.returncode == 0:
            break
        if attempt + 1 < BUILD_ATTEMPTS:
            time.sleep(RETRY_WAIT_SECONDS)
    assert result is not None and result.returncode == 0, (
        "dbt build failed on the quality world:\n" + result.stdout[-6000:] + result.stderr[-2000:]
    )
    build_seconds = time.monotonic() - started
    con = duckdb.connect(str(warehouse_path), read_only=True)
    truth = home / "truth"
    world = QualityWorld(
        home=home,
        warehouse_path=warehouse_path,
        con=con,
        flows=pd.read_parquet(truth / "flows.parquet"),
        dirt=pd.read_parquet(truth / "dirt.parquet"),
        customers=pd.read_parquet(truth / "customers.parquet"),
        manifest=json.loads((truth / "manifest.json").read_text(encoding="utf-8")),
        build_seconds=build_seconds,
    )
    print(f"\n[quality] world generated, loaded and built in {build_seconds:.1f}s")
    yield world
    con.close()

