"""Benchmark: the fund-flow fact's quality gate on 10M rows (GX's SQL route on DuckDB).

How the table is made: a demo world's ``marts.fct_fund_flows`` (``--source``, a built
warehouse) is replicated in DuckDB until it holds ``--rows`` rows, each copy with new unique
``flow_id``s (``flow_id || '#' || copy``) and every other value as it is, so keys stay unique
and the values stay as realistic (and as clean) as the demo's: the suite must pass. It is written to its own DuckDB file
(``--work``), never to a warehouse in use.

What is timed: ``expectations.validate_table`` with the ``marts.fct_fund_flows`` suite, in this
process, on a read-only connection opened like the warehouse's (``memory_limit``, ``threads``
from ``FUNDFLOW_DUCKDB_*``). Wall seconds from ``time.perf_counter``; peak RSS of the process
from ``resource.getrusage`` (it includes the ~1 GB that importing GX, Dagster-free, and DuckDB
costs), and the CPU seconds the validation used (user + sys of all threads), which unlike wall
time does not depend on what else the machine is running.

    .venv/bin/python bench/bench_gates.py --source $FUNDFLOW_HOME/warehouse.duckdb --rows 10000000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from expectations import suite_for, validate_table  # noqa: E402
from warehouse.connections import open_duckdb  # noqa: E402
from warehouse.settings import load_settings  # noqa: E402

FACT = "marts.fct_fund_flows"


def build_big_fact(source: Path, target: Path, rows: int) -> int:
    """Replicate the demo fact into ``target`` until it has ``rows`` rows; return the count."""
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{source}' as demo (read_only)")
        base = con.execute(f"select count(*) from demo.{FACT}").fetchone()[0]
        copies = -(-rows // base)
        con.execute("create schema marts")
        columns = [name for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'demo' "
            "and schema_name = 'marts' and table_name = 'fct_fund_flows' order by column_index").fetchall()]
        shifted = {"flow_id": "flow_id || '#' || copy"}
        select_list = ", ".join(f"{shifted.get(c, c)} as {c}" if c in shifted else c for c in columns)
        con.execute(
            f"create table {FACT} as select {select_list} from demo.{FACT}, range({copies}) copies(copy) "
            f"limit {rows}"
        )
        return con.execute(f"select count(*) from {FACT}").fetchone()[0]
    finally:
        con.close()


def _trace_queries() -> None:
    from expectations import duckdb_compat
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    duckdb_compat.install()
    patched = SqlAlchemyExecutionEngine.execute_query

    def timed(self, query):
        started = time.perf_counter()
        result = patched(self, query)
        print(f"  {time.perf_counter() - started:6.2f}s  {' '.join(str(query).split())[:160]}")
        return result

    SqlAlchemyExecutionEngine.execute_query = timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="a built warehouse with marts.fct_fund_flows")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/fundflow-bench-gates.duckdb"))
    parser.add_argument("--reuse", action="store_true", help="keep an existing --work file")
    parser.add_argument("--trace", action="store_true", help="print each SQL query GX runs and its seconds")
    args = parser.parse_args()

    if not (args.reuse and args.work.exists()):
        started = time.perf_counter()
        made = build_big_fact(args.source, args.work, args.rows)
        print(f"built {made:,} rows in {time.perf_counter() - started:.1f}s -> {args.work}")

    if args.trace:
        _trace_queries()
    settings = load_settings()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con = open_duckdb(args.work, settings, read_only=True)
    suite = suite_for(FACT)
    suite_for("marts.mart_customer_360")  # import GX before timing (a one-off ~10 s per process)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    outcome = validate_table(con, FACT, suite)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"validated {outcome.row_count:,} rows, {outcome.evaluated} expectations "
        f"({outcome.passed} passed, {outcome.failed} failed) in {seconds:.1f}s wall, {cpu_seconds:.1f}s CPU "
        f"(user+sys, all threads; load average then {os.getloadavg()[0]:.1f}); "
        f"peak RSS {peak_mb:,.0f} MB (before validation {rss_before:,.0f} MB); "
        f"duckdb memory_limit={settings.duckdb_memory_limit}, threads={settings.duckdb_threads}"
    )
    for failure in outcome.failures():
        print("  FAILED", failure.label, failure.summary())


if __name__ == "__main__":
    main()
