"""Backfills: a date window rebuilds exactly those flow dates of `marts.fct_fund_flows`.

One small world (300 customers, 2 months) is built by a full refresh (landing + dbt, through
Dagster in its own process, as the CLI and the daemon run it) and kept as the reference. Then
the fact is damaged directly in the warehouse, inside a 5-day window and outside it: rows
deleted, amounts and categories overwritten, a row whose flow no longer exists upstream, flows
re-dated across the window's edge. The `backfill_flow_dates` job's own run config
(``{from_date, to_date}`` through its config mapping) then runs landing + dbt: the window must
equal the full refresh again, and every row outside it must be exactly as the damage left it
(proof that nothing outside was rewritten). Invalid windows are refused by the CLI, at the
job's launch, by the dbt step and by dbt itself.
"""

import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.backfill_window import BackfillWindow, BackfillWindowError, parse_backfill_window
from warehouse import settings as fundflow_settings
from warehouse.synthetic import generate

CUSTOMERS = 300
SEED = 11
WINDOW_DAYS = 5
STALE_FLOW_ID = "stale-flow-dropped-upstream"
OUTSIDE_MARK = "corrupted-outside-the-window"
DELETED_OUTSIDE = 3
# dbt_project/ is edited by other people while tests run; a build that meets a half-saved model
# or a manifest being rewritten is retried after a pause (as in tests/quality/conftest.py).
ATTEMPTS = 3
RETRY_WAIT_SECONDS = 30
DBT_BIN = Path(sys.executable).parent / "dbt"

_RUNNER = textwrap.dedent(
    """
    import json, sys
    import dagster as dg
    from orchestration.definitions import defs
    from orchestration.defs.assets.dbt import fundflow_dbt_models
    from orchestration.defs.assets.landing import landing
    from orchestration.defs.jobs import BACKFILL_CONFIG, FULL_REFRESH_RUN_CONFIG

    mode, run_config = sys.argv[1], json.loads(sys.argv[2])
    full = defs()
    # Landing + dbt (its tests included) with the jobs' own configs: the backfill job's config
    # mapping turns {from_date, to_date} into the run config. ML, GX gates and publishing do not
    # change the fact and cost minutes.
    job = dg.define_asset_job(
        "refresh_under_test",
        selection=dg.AssetSelection.assets(*landing.keys, *fundflow_dbt_models.keys),
        executor_def=dg.in_process_executor,
        config=BACKFILL_CONFIG if mode == "backfill" else FULL_REFRESH_RUN_CONFIG,
    )
    only = dg.Definitions(assets=[landing, fundflow_dbt_models], resources=full.resources, jobs=[job])
    instance = dg.DagsterInstance.ephemeral()
    result = only.resolve_job_def("refresh_under_test").execute_in_process(
        run_config=run_config or None, instance=instance, raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            print("STEP FAILED", event.step_key, event.event_specific_data.error.message[:2000])
    for entry in instance.all_logs(result.run_id):
        if "backfill:" in (entry.user_message or ""):
            print(entry.user_message)
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key == dg.AssetKey(["marts", "fct_fund_flows"]):
            print("FACT ROW COUNT", materialization.metadata["dagster/row_count"].value)
    sys.exit(0 if result.success else 1)
    """
)


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "FUNDFLOW_HOME": str(home), "FUNDFLOW_LANDING_SETTLE_SECONDS": "0",
           # one thread: outlier scores (doubles) are summed in the same order in both builds
           "FUNDFLOW_DUCKDB_THREADS": "1"}
    env.pop("FUNDFLOW_WAREHOUSE_PATH", None)
    return env


def _refresh(home: Path, mode: str, run_config: str = "{}") -> str:
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RETRY_WAIT_SECONDS)
        run = subprocess.run([sys.executable, "-c", _RUNNER, mode, run_config], env=_env(home),
                             capture_output=True, text=True)
        if run.returncode == 0:
            return run.stdout
    pytest.fail(f"{mode} refresh failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")


def _damage(warehouse: Path, window: BackfillWindow, outside_before: date, outside_after: date) -> dict:
    """Damage the fact in and outside the window; return what was done, for the assertions."""
    con = duckdb.connect(str(warehouse))
    try:
        fact = "marts.fct_fund_flows"
        days = [window.from_date.toordinal() + i for i in range(window.days)]
        deleted_day, overwritten_day, stale_day = (date.fromordinal(d) for d in days[1:4])
        con.execute(f"delete from {fact} where flow_date = ?", [deleted_day])
        con.execute(f"update {fact} set amount_cny = -1, category = 'corrupted' where flow_date = ?", [overwritten_day])
        # a flow a corrected delivery dropped: in the fact, gone upstream
        con.execute(f"insert into {fact} select * replace ('{STALE_FLOW_ID}' as flow_id) from {fact} "
                    "where flow_date = ? order by flow_id limit 1", [stale_day])
        # re-dated across the edge: a window flow filed outside it, an outside flow filed inside
        moved_out = con.execute(f"select min(flow_id) from {fact} where flow_date = ?", [window.to_date]).fetchone()[0]
        con.execute(f"update {fact} set flow_date = ? where flow_id = ?", [outside_after, moved_out])
        moved_in = con.execute(f"select min(flow_id) from {fact} where flow_date = ?", [outside_before]).fetchone()[0]
        con.execute(f"update {fact} set flow_date = ? where flow_id = ?", [window.from_date, moved_in])
        # outside the window: rows deleted and overwritten. The deleted ones are unpaired and not
        # bank lines, so the dbt tests the backfill runs (paired legs, bank balances) still hold.
        deleted_outside = con.execute(
            f"delete from {fact} where flow_id in (select flow_id from {fact} where flow_date = ? "
            "and matched_flow_id is null and source_channel <> 'bank' and flow_id <> ? "
            f"order by flow_id limit {DELETED_OUTSIDE}) returning flow_id",
            [outside_before, moved_in]).fetchall()
        con.execute(f"update {fact} set counterparty_id = '{OUTSIDE_MARK}' where flow_date = ? and flow_id <> ?",
                    [outside_after, moved_out])
        marked = con.execute(f"select count(*) from {fact} where counterparty_id = '{OUTSIDE_MARK}'").fetchone()[0]
    finally:
        con.close()
    return {"moved_out": moved_out, "moved_in": moved_in, "deleted_outside": [f for (f,) in deleted_outside],
            "marked_outside": marked, "deleted_day": deleted_day}


@pytest.fixture(scope="module")
def backfill(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("backfill")
    home = root / "home"
    generate(home / "landing", home / "truth", customers=CUSTOMERS, seed=SEED, months=2)
    _refresh(home, "full")
    warehouse = home / "warehouse.duckdb"
    full = root / "full.duckdb"
    shutil.copy2(warehouse, full)

    con = duckdb.connect(str(warehouse), read_only=True)
    flow_dates = [d for (d,) in con.execute(
        "select distinct flow_date from marts.fct_fund_flows order by 1").fetchall()]
    con.close()
    middle = len(flow_dates) // 2
    window = BackfillWindow(flow_dates[middle], flow_dates[middle + WINDOW_DAYS - 1])
    damage = _damage(warehouse, window, outside_before=flow_dates[middle - 3], outside_after=flow_dates[middle + WINDOW_DAYS + 2])
    damaged = root / "damaged.duckdb"
    shutil.copy2(warehouse, damaged)

    log = _refresh(home, "backfill", f'{{"from_date": "{window.from_date}", "to_date": "{window.to_date}"}}')
    return {"home": home, "root": root, "window": window, "damage": damage, "log": log,
            "full": full, "damaged": damaged, "backfilled": warehouse}


def _attached(**paths: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, path in paths.items():
        con.execute(f"attach '{path}' as {name} (read_only)")
    return con


# outlier_score is a double; the rest of the fact is text, dates, decimals and flags.
_FACT = "select * replace (round(outlier_score, 9) as outlier_score) from {db}.marts.fct_fund_flows where {where}"


def _only_in(con, left: str, right: str) -> int:
    return con.execute(f"select count(*) from ({left} except all {right})").fetchone()[0]


def _in_window(window: BackfillWindow) -> str:
    return f"flow_date between date '{window.from_date}' and date '{window.to_date}'"


def test_the_backfill_ran_on_its_window(backfill) -> None:
    window = backfill["window"]
    assert f"rebuilds the {WINDOW_DAYS} flow date(s) {window}" in backfill["log"]


def test_the_fact_materialization_carries_its_row_count(backfill) -> None:
    con = duckdb.connect(str(backfill["backfilled"]), read_only=True)
    rows = con.execute("select count(*) from marts.fct_fund_flows").fetchone()[0]
    con.close()
    assert f"FACT ROW COUNT {rows}\n" in backfill["log"]


def _window_differences(backfill: dict, result: str) -> tuple[int, int]:
    """Rows of the window only in the full refresh, and only in ``result`` (a snapshot's name)."""
    where = _in_window(backfill["window"])
    con = _attached(reference=backfill["full"], damaged=backfill["damaged"], backfilled=backfill["backfilled"])
    reference, candidate = _FACT.format(db="reference", where=where), _FACT.format(db=result, where=where)
    return _only_in(con, reference, candidate), _only_in(con, candidate, reference)


def _outside_differences(backfill: dict, result: str) -> tuple[int, int]:
    """Rows outside the window only as the damage left them, and only in ``result``.

    The two re-dated flows are left out: the one filed outside goes back into the window, the
    one filed inside comes back out (checked on their own below).
    """
    damage = backfill["damage"]
    where = (f"not ({_in_window(backfill['window'])}) "
             f"and flow_id not in ('{damage['moved_out']}', '{damage['moved_in']}')")
    con = _attached(reference=backfill["full"], damaged=backfill["damaged"], backfilled=backfill["backfilled"])
    damaged, candidate = _FACT.format(db="damaged", where=where), _FACT.format(db=result, where=where)
    return _only_in(con, damaged, candidate), _only_in(con, candidate, damaged)


def test_window_is_restored_identical_to_a_full_refresh(backfill) -> None:
    # deleted rows back, overwritten rows restored, the dropped flow gone, each re-dated flow back
    # on its own date
    assert _window_differences(backfill, "backfilled") == (0, 0)
    window, where = backfill["window"], _in_window(backfill["window"])
    con = _attached(reference=backfill["full"], backfilled=backfill["backfilled"])
    rows = con.execute(f"select count(*) from backfilled.marts.fct_fund_flows where {where}").fetchone()[0]
    assert rows == con.execute(f"select count(*) from reference.marts.fct_fund_flows where {where}").fetchone()[0]
    assert rows > 100, f"window {window} holds too few flows to mean anything"
    assert con.execute(f"select count(*) from backfilled.marts.fct_fund_flows where flow_id = '{STALE_FLOW_ID}'").fetchone()[0] == 0


def test_rows_outside_the_window_are_untouched(backfill) -> None:
    damage = backfill["damage"]
    assert _outside_differences(backfill, "backfilled") == (0, 0)
    con = _attached(reference=backfill["full"], backfilled=backfill["backfilled"])
    # nothing outside was rewritten, not even to its correct value
    assert con.execute(f"select count(*) from backfilled.marts.fct_fund_flows where counterparty_id = '{OUTSIDE_MARK}'"
                       ).fetchone()[0] == damage["marked_outside"] > 0
    deleted = ", ".join(f"'{f}'" for f in damage["deleted_outside"])
    assert len(damage["deleted_outside"]) == DELETED_OUTSIDE
    assert con.execute(f"select count(*) from backfilled.marts.fct_fund_flows where flow_id in ({deleted})").fetchone()[0] == 0
    # the flow filed inside the window by mistake is back on its own date, as in the full refresh
    restored = f"flow_id = '{damage['moved_in']}'"
    assert _only_in(con, _FACT.format(db="reference", where=restored), _FACT.format(db="backfilled", where=restored)) == 0
    assert con.execute(f"select count(*) from backfilled.marts.fct_fund_flows where {restored}").fetchone()[0] == 1


def test_the_checks_catch_a_backfill_that_did_nothing_or_rewrote_everything(backfill) -> None:
    """The two equalities above are not vacuous."""
    # no backfill at all: the window still holds the damage (deleted day, overwritten day, ...)
    only_reference, only_damaged = _window_differences(backfill, "damaged")
    assert only_reference > 20 and only_damaged > 20
    # a full refresh instead: the window is right, but the damaged rows outside were rewritten
    assert _window_differences(backfill, "reference") == (0, 0)
    only_damaged, only_reference = _outside_differences(backfill, "reference")
    assert only_damaged == backfill["damage"]["marked_outside"] and only_reference == (
        backfill["damage"]["marked_outside"] + DELETED_OUTSIDE)


@pytest.mark.parametrize(
    ("from_date", "to_date", "message"),
    [
        ("2024-12-09", "2024-12-05", "to_date 2024-12-05 is before from_date 2024-12-09"),
        ("2024-02-30", "2024-03-05", "is not a calendar date"),
        ("20241205", "2024-12-06", "must be a date written YYYY-MM-DD"),
        ("2024-12-05'; drop table marts.fct_fund_flows; --", "2024-12-06", "must be a date written YYYY-MM-DD"),
        ("2024-12-05", None, "needs both from_date and to_date"),
    ],
)
def test_invalid_windows_are_refused_with_the_reason(from_date, to_date, message) -> None:
    with pytest.raises(BackfillWindowError, match=message.replace("(", r"\(")):
        parse_backfill_window(from_date, to_date)


def test_a_valid_window_and_no_window() -> None:
    assert parse_backfill_window(None, None) is None
    window = parse_backfill_window("2024-02-29", "2024-02-29")
    assert (window.days, window.dbt_vars()) == (1, {"backfill_from_date": "2024-02-29", "backfill_to_date": "2024-02-29"})


def test_cli_refuses_an_invalid_window_before_running_anything(tmp_path: Path) -> None:
    fundflow = Path(sys.executable).parent / "fundflow"
    result = subprocess.run([str(fundflow), "refresh", "--from", "2024-12-09", "--to", "2024-12-05"],
                            env=_env(tmp_path), capture_output=True, text=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Refused: backfill to_date 2024-12-05 is before from_date 2024-12-09" in result.stdout
    assert not (tmp_path / "warehouse.duckdb").exists()


@pytest.fixture(scope="module")
def definitions():
    from orchestration.definitions import defs

    return defs()


def test_dbt_assets_name_owners_and_code(definitions) -> None:
    import dagster as dg

    fact = definitions.resolve_assets_def(dg.AssetKey(["marts", "fct_fund_flows"]))
    fact_spec = fact.specs_by_key[dg.AssetKey(["marts", "fct_fund_flows"])]
    assert fact_spec.owners == ["team:analytics"]
    staging_spec = fact.specs_by_key[dg.AssetKey(["staging", "stg_bank__transactions"])]
    assert staging_spec.owners == ["team:data-engineering"]
    references = fact_spec.metadata["dagster/code_references"].code_references
    assert any(str(r.file_path).endswith("models/marts/fct_fund_flows.sql") for r in references)


def test_the_backfill_job_refuses_an_invalid_window_at_launch_and_the_dbt_step_refuses_one_with_full_refresh(
    definitions,
) -> None:
    import dagster as dg

    from orchestration.defs.assets.dbt import fundflow_dbt_models

    job = definitions.resolve_job_def("backfill_flow_dates")
    instance = dg.DagsterInstance.ephemeral()
    with pytest.raises(dg.DagsterConfigMappingFunctionError) as refused:
        job.execute_in_process(run_config={"from_date": "2024-12-05'; --", "to_date": "2024-12-06"}, instance=instance)
    assert "must be a date written YYYY-MM-DD" in str(refused.value.__cause__)
    with pytest.raises(dg.DagsterInvalidConfigError, match='Missing required config entry "to_date"'):
        job.execute_in_process(run_config={"from_date": "2024-12-05"}, instance=instance)
    assert instance.get_runs_count() == 0  # refused before a run existed

    # the dbt step itself (run by another job or the asset's own Launchpad) checks again
    result = dg.materialize(
        [fundflow_dbt_models], resources=definitions.resources, instance=instance, raise_on_error=False,
        run_config={"ops": {"fundflow_dbt_models": {"config": {
            "full_refresh": True, "from_date": "2024-12-05", "to_date": "2024-12-06"}}}},
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "a window (2024-12-05..2024-12-06) cannot be combined with it" in str(failure.event_specific_data.error)


def test_dbt_run_by_hand_refuses_an_injected_window_and_leaves_the_fact_alone(backfill) -> None:
    home, warehouse = backfill["home"], backfill["backfilled"]
    before = duckdb.connect(str(warehouse), read_only=True)
    rows_before = before.execute("select count(*) from marts.fct_fund_flows").fetchone()[0]
    before.close()
    project = str(fundflow_settings.DBT_PROJECT_DIR)
    run = subprocess.run(
        [str(DBT_BIN), "run", "--select", "fct_fund_flows", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(backfill["root"] / "dbt-target"), "--log-path", str(backfill["root"] / "dbt-logs"),
         "--vars", '{"backfill_from_date": "2024-12-05\' or true; --", "backfill_to_date": "2024-12-06"}'],
        env={**_env(home), **dataclasses.replace(fundflow_settings.load_settings(), home=home,
                                                 warehouse_path=warehouse).dbt_env()},
        capture_output=True, text=True,
    )
    assert run.returncode != 0
    assert "backfill_from_date must be a date written YYYY-MM-DD" in run.stdout + run.stderr
    after = duckdb.connect(str(warehouse), read_only=True)
    assert after.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == rows_before
    after.close()
