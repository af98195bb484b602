"""Publishing swaps a complete new serving version into place and keeps the last few."""

from __future__ import annotations

import subprocess
import sys

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from warehouse.publishing import current_version, publish
from warehouse.settings import load_settings


def _warehouse(path: Path, rows: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists staging")
    con.execute(f"create or replace table marts.fct_fund_flows as select range as flow_id from range({rows})")
    con.execute("create or replace table staging.not_published as select 1 as x")
    return con


def _count_in_new_process(path: Path, table: str) -> str:
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        f"print(con.execute('select count(*) from {table}').fetchone()[0])"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True).stdout.strip()


def test_publish_swaps_atomically_and_keeps_readers_on_their_version(tmp_path: Path) -> None:
    settings = replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb", serving_versions_kept=2)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    con = _warehouse(settings.warehouse_path, 10)
    first = publish(con, settings, now=start)
    reader = duckdb.connect(str(settings.serving_path), read_only=True)
    assert reader.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == 10

    con.execute("create or replace table marts.fct_fund_flows as select range as flow_id from range(25)")
    second = publish(con, settings, now=start + timedelta(minutes=1))
    # The open reader still sees its complete version; a new reader (another process, as a BI
    # tool is: DuckDB shares one instance per file within a process) sees the new one.
    assert reader.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == 10
    reader.close()
    assert _count_in_new_process(settings.serving_path, "marts.fct_fund_flows") == "25"
    assert _count_in_new_process(settings.serving_path, "fct_fund_flows") == "25"
    assert current_version(settings) == second.version != first.version
    # Only published schemas travel; Parquet beside it matches.
    fresh = duckdb.connect(str(settings.serving_path), read_only=True)
    schemas = {s for (s,) in fresh.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    fresh.close()
    assert schemas == {"main", "meta"}
    assert pq.read_table(settings.parquet_dir / "marts.fct_fund_flows.parquet").num_rows == 25

    publish(con, settings, now=start + timedelta(minutes=2))
    kept = sorted(p.name for p in (settings.serving_dir / "versions").glob("marts-*.duckdb"))
    assert len(kept) == 2 and first.version not in " ".join(kept)
    assert len(list((settings.serving_dir / "versions").glob("parquet-*"))) == 2
