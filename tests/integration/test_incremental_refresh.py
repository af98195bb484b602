"""Incremental refresh: two new days delivered one after the other, each carried through landing
and dbt by the `daily_incremental_refresh` job, give exactly the marts of a full refresh of both;
delivering nothing new and running again changes nothing.

A small world (100 customers, 2 months) is generated once; its last two days of bank and payment
files are held back and delivered later, as a bank and a payment platform would. Each refresh
runs in its own process (as the CLI and the daemon do): it loads the Dagster definitions, and so
the dbt manifest, fresh. Only the landing and dbt assets are run, with the run configs of the
daily and full jobs (ML, GX gates and publishing do not change what is compared, and cost minutes).
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from warehouse.synthetic import generate

CUSTOMERS = 100
HELD_BACK_CHANNELS = ("bank_txn_", "pay_")
# dbt_project/ is edited by other people while tests run; a build that meets a half-saved model
# is retried once (the same reason as tests/quality/conftest.py).
ATTEMPTS = 2

_RUNNER = textwrap.dedent(
    """
    import sys
    import dagster as dg
    from orchestration.definitions import defs
    from orchestration.defs.assets.dbt import fundflow_dbt_models
    from orchestration.defs.assets.landing import landing
    from orchestration.defs.jobs import FULL_REFRESH_RUN_CONFIG, INCREMENTAL_RUN_CONFIG

    mode = sys.argv[1]
    full = defs()
    # Landing + dbt (its tests included) in the jobs' own run configs; the GX gates belong to
    # other tests and are left out.
    job = dg.define_asset_job(
        "refresh_under_test",
        selection=dg.AssetSelection.assets(*landing.keys, *fundflow_dbt_models.keys),
        executor_def=dg.in_process_executor,
        config=FULL_REFRESH_RUN_CONFIG if mode == "full" else INCREMENTAL_RUN_CONFIG,
    )
    only = dg.Definitions(assets=[landing, fundflow_dbt_models], resources=full.resources, jobs=[job])
    result = only.resolve_job_def("refresh_under_test").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            print("STEP FAILED", event.step_key, event.event_specific_data.error.message[:2000])
    sys.exit(0 if result.success else 1)
    """
)


def _day_of(path: Path) -> str | None:
    if not path.name.startswith(HELD_BACK_CHANNELS):
        return None
    return path.stem.rsplit("_", 1)[-1]


class World:
    def __init__(self, root: Path) -> None:
        self.source = root / "generated"
        self.home = root / "home"
        generate(self.source / "landing", self.source / "truth", customers=CUSTOMERS, seed=5, months=2)
        days = sorted({d for p in (self.source / "landing").rglob("*") if (d := _day_of(p))})
        self.held_back = days[-2:]
        self.timings: dict[str, float] = {}

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def deliver(self, days: set[str] | None) -> list[str]:
        """Copy delivered files into landing/: every file except held-back days, or just those days."""
        delivered = []
        for path in sorted((self.source / "landing").rglob("*")):
            if not path.is_file():
                continue
            day = _day_of(path)
            if (days is None and day not in self.held_back) or (days is not None and day in days):
                target = self.home / "landing" / path.relative_to(self.source / "landing")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                delivered.append(target.relative_to(self.home / "landing").as_posix())
        return delivered

    def refresh(self, mode: str) -> None:
        env = {**os.environ, "FUNDFLOW_HOME": str(self.home), "FUNDFLOW_LANDING_SETTLE_SECONDS": "0",
               "FUNDFLOW_DUCKDB_THREADS": "1"}
        env.pop("FUNDFLOW_WAREHOUSE_PATH", None)
        for attempt in range(ATTEMPTS):
            run = subprocess.run([sys.executable, "-c", _RUNNER, mode], env=env, capture_output=True, text=True)
            if run.returncode == 0:
                return
        pytest.fail(f"{mode} refresh failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")

    def snapshot(self, name: str) -> Path:
        copy = self.home.parent / f"{name}.duckdb"
        shutil.copy2(self.warehouse, copy)
        return copy


# Doubles (averages, standard deviations, shares) are summed by DuckDB's parallel aggregation in
# an order that varies between runs, so the same inputs can differ in the last bits; they are
# compared to 9 significant digits (after a 1e-12 relative nudge: a mean of cents such as
# 57757.11625 lands exactly on a rounding boundary, and last-bit noise would round it either way;
# the nudge, far above that noise, sends both sides the same way). Every other type (money as
# DECIMAL, counts, dates, text) must be equal exactly. A double below 1e-6 (a standard deviation of identical values, computed
# as 0 or as 1e-13) counts as 0: no figure in the marts is meaningful at a millionth of a yuan.
DOUBLE_SIGNIFICANT_DIGITS = 9
DOUBLE_ZERO = 1e-6


def _comparable_columns(con, table: str) -> str:
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'l' and table_schema = 'marts' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    selected = []
    for name, data_type in columns:
        if data_type in ("DOUBLE", "FLOAT", "REAL"):
            digits = DOUBLE_SIGNIFICANT_DIGITS
            selected.append(
                f'case when "{name}" is null or isinf("{name}") or isnan("{name}") then "{name}" '
                f'when abs("{name}") < {DOUBLE_ZERO} then 0 '
                f'else round("{name}" * (1 + 1e-12), {digits} - 1 - cast(floor(log10(abs("{name}"))) as integer)) end as "{name}"'
            )
        else:
            selected.append(f'"{name}"')
    return ", ".join(selected)


def _mart_differences(left: Path, right: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart table: (rows, rows only in left, rows only in right), compared with EXCEPT ALL."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'l' "
            "and table_schema = 'marts' order by 1").fetchall()]
        assert tables, "no marts built"
        differences = {}
        for table in tables:
            columns = _comparable_columns(con, table)
            left_rows = f"select {columns} from l.marts.{table}"
            right_rows = f"select {columns} from r.marts.{table}"
            only_left = con.execute(f"select count(*) from ({left_rows} except all {right_rows})").fetchone()[0]
            only_right = con.execute(f"select count(*) from ({right_rows} except all {left_rows})").fetchone()[0]
            rows = con.execute(f"select count(*) from l.marts.{table}").fetchone()[0]
            differences[table] = (rows, only_left, only_right)
        return differences
    finally:
        con.close()


def _describe(left: Path, right: Path, differences: dict) -> str:
    """The differing rows of each differing table, for the failure message."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        parts = []
        for table, (_, only_left, only_right) in differences.items():
            if only_left or only_right:
                columns = _comparable_columns(con, table)
                rows = con.execute(
                    f"(select 'left' as side, * from (select {columns} from l.marts.{table} except all "
                    f"select {columns} from r.marts.{table})) union all "
                    f"(select 'right' as side, * from (select {columns} from r.marts.{table} except all "
                    f"select {columns} from l.marts.{table})) limit 6").df()
                parts.append(f"{table}:\n{rows.T.to_string()}")
        return "\n".join(parts)
    finally:
        con.close()


def _scalar(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    world = World(tmp_path_factory.mktemp("incremental"))
    world.deliver(None)
    world.refresh("incremental")  # the history so far, into an empty warehouse
    snapshots = {"history": world.snapshot("history")}
    delivered = {}
    for day in world.held_back:
        delivered[day] = world.deliver({day})
        world.refresh("incremental")
        snapshots[day] = world.snapshot(f"after-{day}")
    world.refresh("incremental")  # nothing new delivered
    snapshots["again"] = world.snapshot("again")
    world.refresh("full")
    snapshots["full"] = world.snapshot("full")
    return {"world": world, "snapshots": snapshots, "delivered": delivered}


def test_each_new_day_is_loaded_once_and_only_its_files(world) -> None:
    snapshots, delivered = world["snapshots"], world["delivered"]
    first, second = world["world"].held_back
    assert all(delivered[day] for day in (first, second))
    for day, before, after in ((first, "history", first), (second, first, second)):
        previous_load = _scalar(snapshots[before], "select max(loaded_at) from ops.load_log")
        con = duckdb.connect(str(snapshots[after]), read_only=True)
        newly_logged = [p for (p,) in con.execute(
            "select path from ops.load_log where loaded_at > ? order by path", [previous_load]).fetchall()]
        con.close()
        assert newly_logged == sorted(delivered[day]), day  # only the new day's files were read in
        # Bank and payment flows of the day arrive with the day's files (monthly card and order
        # files already carry that day's other flows).
        day_flows = ("select count(*) from marts.fct_fund_flows where source_channel in ('bank', 'payments') "
                     f"and strftime(flow_date, '%Y%m%d') = '{day}'")
        assert _scalar(snapshots[before], day_flows) == 0, day
        assert _scalar(snapshots[after], day_flows) > 0, day


def test_running_again_with_nothing_new_changes_nothing(world) -> None:
    snapshots = world["snapshots"]
    last = world["world"].held_back[-1]
    for path in (snapshots[last], snapshots["again"]):
        assert _scalar(path, "select count(*) from ops.load_log") == _scalar(snapshots[last], "select count(*) from ops.load_log")
    assert _scalar(snapshots["again"], "select max(_loaded_at) from raw.bank__transactions") == _scalar(
        snapshots[last], "select max(_loaded_at) from raw.bank__transactions")
    differences = _mart_differences(snapshots[last], snapshots["again"])
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}, _describe(snapshots[last], snapshots["again"], differences)


def test_day_by_day_incremental_marts_equal_a_full_refresh(world) -> None:
    snapshots = world["snapshots"]
    last = world["world"].held_back[-1]
    differences = _mart_differences(snapshots[last], snapshots["full"])
    assert differences["fct_fund_flows"][0] > 500
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}, _describe(snapshots[last], snapshots["full"], differences)


def test_the_comparison_sees_a_difference_when_there_is_one(world, tmp_path: Path) -> None:
    """The equality above is not vacuous: one changed fact row is caught."""
    tampered = tmp_path / "tampered.duckdb"
    shutil.copy2(world["snapshots"]["full"], tampered)
    con = duckdb.connect(str(tampered))
    con.execute("update marts.fct_fund_flows set amount_cny = amount_cny + 0.01 "
                "where flow_id = (select min(flow_id) from marts.fct_fund_flows)")
    con.close()
    assert _mart_differences(world["snapshots"]["full"], tampered)["fct_fund_flows"][1:] == (1, 1)
