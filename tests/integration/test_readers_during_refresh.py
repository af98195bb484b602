"""Readers during a refresh: BI-style reader processes keep querying the serving file while a
real full refresh runs and publishes; no query fails and every answer belongs to one complete
version.

Real processes (spawned), real read-only DuckDB connections (plus one through SQLAlchemy +
duckdb_engine, as Superset connects), the real Dagster job. Before the readers start, a first
version is published from a small stand-in warehouse, so that they are already reading while
the refresh rewrites the warehouse; the refresh then publishes a second version and a
serving-only run a third.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from warehouse.publishing import publish
from warehouse.settings import load_settings
from warehouse.synthetic import generate

CUSTOMERS = 120
SEED = 5
DUCKDB_READERS = 2
PAUSE_BETWEEN_QUERIES_S = 0.25

# Each answer: the version, the row count the version recorded for fct_fund_flows, the rows
# actually there, and the same money total read through a BI view and through the mart below it.
QUERIES = {
    "version": "select version from meta.publication",
    "recorded_rows": "select row_count from meta.published_tables where schema_name = 'main' and table_name = 'fct_fund_flows'",
    "rows": "select count(*) from main.fct_fund_flows",
    "view_inflow": "select sum(actual_cny) from bi.forecast_vs_actual where scope = 'total' and series = 'inflow'",
    "mart_inflow": "select cast(sum(inflow_cny) as double) from main.mart_customer_monthly",
}


def _answer(execute) -> tuple:
    return tuple(execute(sql) for sql in QUERIES.values())


def _duckdb_reader(path: str, stop, results) -> None:
    """A plain read-only reader: a fresh connection per round (as a BI tool's query is)."""
    answers, errors = [], []
    while not stop.is_set():
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                answers.append(_answer(lambda sql: con.execute(sql).fetchone()[0]))
            finally:
                con.close()
        except Exception as error:  # every failure is the test's finding, not a crash
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(PAUSE_BETWEEN_QUERIES_S)
    results.put(("duckdb", answers, errors))


def _sqlalchemy_reader(path: str, stop, results) -> None:
    """Superset's way: SQLAlchemy + duckdb_engine, read_only in connect_args, no pooling
    (Superset's analytics engines use NullPool, so each query opens the current file)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=NullPool)
    answers, errors = [], []
    while not stop.is_set():
        try:
            with engine.connect() as connection:
                answers.append(_answer(lambda sql: connection.execute(text(sql)).scalar()))
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(PAUSE_BETWEEN_QUERIES_S)
    engine.dispose()
    results.put(("sqlalchemy", answers, errors))


def _seed_version(settings) -> str:
    """A first, complete serving version from a tiny stand-in warehouse (the refresh has not
    run yet): the tables and view the readers query, with different numbers than the refresh."""
    stand_in = duckdb.connect(str(settings.home / "stand_in_warehouse.duckdb"))
    stand_in.execute("create schema marts; create schema ml")
    stand_in.execute("create table marts.fct_fund_flows as select range::varchar as flow_id from range(7)")
    stand_in.execute(
        "create table marts.mart_customer_monthly as select 'c' || range as customer_id, "
        "date '2026-01-01' as month, 10.0 * range as inflow_cny, 1.0 as outflow_cny, 10.0 * range - 1 as net_cny "
        "from range(4)"
    )
    stand_in.execute(
        "create table ml.monthly_flow_forecast as select 'inflow' as series, date '2026-02-01' as month, "
        "1.0 as forecast, 0.5 as lower, 1.5 as upper, 'stand-in' as model_version"
    )
    version = publish(stand_in, settings, now=datetime(2000, 1, 1, tzinfo=timezone.utc)).version
    stand_in.close()
    return version


def _answers_of_version(versions_dir: Path, version: str) -> tuple:
    con = duckdb.connect(str(versions_dir / f"marts-{version}.duckdb"), read_only=True)
    try:
        return _answer(lambda sql: con.execute(sql).fetchone()[0])
    finally:
        con.close()


def test_readers_never_fail_and_never_see_half_a_refresh(tmp_path: Path, monkeypatch) -> None:
    import dagster as dg

    monkeypatch.setenv("FUNDFLOW_HOME", str(tmp_path))
    settings = replace(load_settings(), serving_versions_kept=3)
    assert settings.serving_versions_kept == 3  # all versions of this test stay inspectable
    generate(settings.landing_dir, settings.truth_dir, customers=CUSTOMERS, seed=SEED)
    seeded = _seed_version(settings)

    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    serving_file = str(settings.serving_path)
    readers = [context.Process(target=_duckdb_reader, args=(serving_file, stop, results)) for _ in range(DUCKDB_READERS)]
    readers.append(context.Process(target=_sqlalchemy_reader, args=(serving_file, stop, results)))
    for reader in readers:
        reader.start()
    try:
        from orchestration.defs.assets.serving import serving_marts
        from orchestration.definitions import defs

        definitions = defs()
        instance = dg.DagsterInstance.ephemeral()
        refresh = definitions.resolve_job_def("full_refresh").execute_in_process(
            instance=instance, raise_on_error=False
        )
        republish = dg.materialize(
            [serving_marts], resources={"warehouse": definitions.resources["warehouse"]}, instance=instance
        )
    finally:
        stop.set()
        reports = [results.get(timeout=120) for _ in readers]
        for reader in readers:
            reader.join(timeout=30)

    failures = [
        f"{e.step_key}: {e.event_specific_data.error.message[:300]}"
        for e in refresh.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert refresh.success and republish.success, failures
    errors = [error for _, _, reader_errors in reports for error in reader_errors]
    assert not errors, errors[:5]
    assert {kind for kind, _, _ in reports} == {"duckdb", "sqlalchemy"}
    assert all(len(answers) >= 5 for _, answers, _ in reports)

    observed = {answer for _, answers, _ in reports for answer in answers}
    versions = {answer[0] for answer in observed}
    # seeded, then published by the refresh, then by the serving-only run
    assert seeded in versions and len(versions) >= 2, versions
    expected = {v: _answers_of_version(settings.serving_dir / "versions", v) for v in versions}
    for answer in observed:
        version, recorded_rows, rows, view_inflow, mart_inflow = answer
        assert rows == recorded_rows, answer  # the whole table of that version, not part of it
        assert view_inflow == pytest.approx(mart_inflow, rel=1e-9), answer  # view and mart agree
        assert answer == expected[version], (answer, expected[version])  # exactly that version
    print(
        f"\n[readers] {sum(len(a) for _, a, _ in reports)} rounds, {len(readers)} readers, "
        f"versions seen {sorted(versions)}"
    )
