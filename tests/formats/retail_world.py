"""A warehouse built from a folder of real retail files (UCI Online Retail / CDNOW), without Dagster.

Shared by ``test_online_retail.py`` and ``test_cdnow.py``: the real files from
``../shared/datasets`` are linked (never copied) into a landing folder, landed with the landing
loader exactly as ``fundflow refresh`` does (every spec, so the demo channels' raw tables exist
and are empty), then dbt builds the selected models. The public data sets are not demo data, so
dbt runs outside demo mode with a test PII key (the real-data path).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from warehouse import landing
from warehouse import settings as fundflow_settings

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
DBT_BIN = Path(sys.executable).parent / "dbt"
TEST_PII_KEY = "retail-adapter-test-key-2f9c41d7"


@dataclasses.dataclass
class RetailWorld:
    home: Path
    landing_dir: Path
    warehouse_path: Path
    reporting_currency: str
    land_seconds: float = 0.0
    dbt_seconds: float = 0.0

    def settings(self) -> fundflow_settings.Settings:
        return dataclasses.replace(
            fundflow_settings.load_settings(), home=self.home, warehouse_path=self.warehouse_path,
            landing_dir_override=self.landing_dir, reporting_currency=self.reporting_currency, demo_flag="0",
        )

    def land(self) -> list[landing.SourceLoad]:
        started = time.perf_counter()
        with duckdb.connect(str(self.warehouse_path)) as con:
            loads = landing.load_all(con, self.settings().landing_dir)
        self.land_seconds = time.perf_counter() - started
        return loads

    def dbt(self, args: list[str]) -> subprocess.CompletedProcess:
        project = str(fundflow_settings.DBT_PROJECT_DIR)
        env = {**os.environ, **self.settings().dbt_env(), "FUNDFLOW_PII_KEY": TEST_PII_KEY}
        started = time.perf_counter()
        result = subprocess.run(
            [str(DBT_BIN), *args, "--project-dir", project, "--profiles-dir", project,
             "--target-path", str(self.home / "dbt-target"), "--log-path", str(self.home / "dbt-logs")],
            env=env, capture_output=True, text=True,
        )
        self.dbt_seconds += time.perf_counter() - started
        return result

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse_path), read_only=True)


def make_world(home: Path, files: dict[str, Path]) -> RetailWorld:
    """``files``: landing-relative name (``online_retail/x.parquet``) -> file to link or write there.
    The reporting currency is what fundflow picks for that folder (FUNDFLOW_REPORTING_CURRENCY unset)."""
    landing_dir = home / "landing"
    for name, source in files.items():
        target = landing_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve().is_relative_to(DATASETS.resolve()):
            target.symlink_to(source)  # the shared data sets are read in place, never copied
        else:
            target.write_bytes(source.read_bytes())
    return RetailWorld(home, landing_dir, home / "warehouse.duckdb", fundflow_settings.default_reporting_currency(landing_dir))


def failure_summary(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stdout.splitlines() if "ERROR" in line or "FAIL" in line or "Error" in line]
    return "\n".join(lines[-40:]) or result.stdout[-4000:] + result.stderr[-2000:]
