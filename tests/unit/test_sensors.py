"""Sensors with a built sensor context: landing files start runs only when new, changed and
complete; failed runs and failed blocking checks become rows in ops.alerts (or a parked side file
while another process holds the warehouse)."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.sensors import (
    check_failure_alert_sensor,
    landing_files_sensor,
    run_failure_alert_sensor,
)
from warehouse.alerts import Alert, flush_pending_alerts, pending_alerts_path, raise_alert

BANK_HEADER = "交易流水号,账号,交易时间,借贷标志,交易金额,币种,账户余额,对方账号,对方户名,对方行名,交易渠道,摘要\n"
BANK_LINE = 'B1,6222000011112222333,2025-01-03 10:22:01,借,"1,234.56",CNY,"10,000.00",,张三,工商银行,网银,转账\n'


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    # Long enough that a slow tick on a busy machine never lets a "just written" file settle.
    monkeypatch.setenv("FUNDFLOW_LANDING_SETTLE_SECONDS", "300")
    return tmp_path


def _warehouse(home: Path) -> WarehouseResource:
    return WarehouseResource(home=str(home), database=str(home / "warehouse.duckdb"))


def _deliver(home: Path, name: str, text: str, *, age_seconds: float = 3600) -> Path:
    path = home / "landing" / "bank" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("gbk"))
    settled = time.time() - age_seconds
    os.utime(path, (settled, settled))
    return path


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


class Ticks:
    """Evaluates the landing sensor tick after tick, carrying its cursor like the daemon does."""

    def __init__(self, definitions: dg.Definitions, instance: dg.DagsterInstance, home: Path) -> None:
        self.definitions, self.instance, self.home, self.cursor = definitions, instance, home, None

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=self.definitions,
            resources={"warehouse": _warehouse(self.home)},
        )
        result = landing_files_sensor(context)
        self.cursor = context.cursor
        return [result] if isinstance(result, dg.RunRequest) else []


def test_a_new_complete_file_starts_a_refresh_of_what_it_feeds(definitions, instance, home: Path) -> None:
    path = _deliver(home, "bank_txn_20250103.csv", BANK_HEADER + BANK_LINE)
    ticks = Ticks(definitions, instance, home)
    assert ticks.tick() == []  # first sight: its size must hold until the next tick
    (request,) = ticks.tick()

    assert request.run_key == hashlib.sha256(path.read_bytes()).hexdigest()
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {"raw/bank__transactions", "staging/stg_bank__transactions", "marts/fct_fund_flows"} <= selected
    assert "raw/crm__customers" not in selected  # only what the new file feeds
    assert request.run_config["ops"]["landing"]["config"]["full"] is False


def test_the_same_content_again_starts_nothing_even_after_a_restart(definitions, instance, home: Path) -> None:
    path = _deliver(home, "bank_txn_20250103.csv", BANK_HEADER + BANK_LINE)
    ticks = Ticks(definitions, instance, home)
    ticks.tick()
    assert len(ticks.tick()) == 1
    assert ticks.tick() == []

    # The daemon restarts: the instance hands the stored cursor to a fresh evaluation.
    stored = ticks.cursor
    restarted = Ticks(definitions, instance, home)
    restarted.cursor = stored
    assert restarted.tick() == []

    # Re-delivered with identical bytes (new mtime): hashed again, same content, no run.
    _deliver(home, path.name, BANK_HEADER + BANK_LINE, age_seconds=1800)
    assert restarted.tick() == [] and restarted.tick() == []

    # A corrected re-delivery is new content: a run with that content's hash as its key.
    changed = _deliver(home, path.name, BANK_HEADER + BANK_LINE.replace("B1", "B2"), age_seconds=900)
    restarted.tick()
    (request,) = restarted.tick()
    assert request.run_key == hashlib.sha256(changed.read_bytes()).hexdigest()


def test_a_file_still_being_written_waits_until_it_is_complete(definitions, instance, home: Path) -> None:
    path = _deliver(home, "bank_txn_20250104.csv", BANK_HEADER, age_seconds=0)
    ticks = Ticks(definitions, instance, home)
    assert ticks.tick() == [] and ticks.tick() == []  # modified just now
    with path.open("ab") as handle:  # still growing
        handle.write(BANK_LINE.encode("gbk"))
    assert ticks.tick() == []
    # The writer preserved an old mtime (cp -p) while the size still changes: not yet.
    with path.open("ab") as handle:
        handle.write(BANK_LINE.replace("B1", "B2").encode("gbk"))
    old = time.time() - 600
    os.utime(path, (old, old))
    assert ticks.tick() == []
    # Same size and mtime as at the previous tick, and settled: now it is taken, complete.
    (request,) = ticks.tick()
    assert request.run_key == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.read_bytes().count(b"\n") == 3


def test_temporary_names_are_never_taken(definitions, instance, home: Path) -> None:
    for name in ("bank_txn_20250105.csv.part", "bank_txn_20250105.csv.tmp", ".bank_txn_20250105.csv"):
        _deliver(home, name, BANK_HEADER + BANK_LINE)
    ticks = Ticks(definitions, instance, home)
    assert ticks.tick() == [] and ticks.tick() == []
    assert json.loads(ticks.cursor)["launched"] == {}


def test_several_files_in_one_tick_make_one_run_keyed_by_their_hashes(definitions, instance, home: Path) -> None:
    _deliver(home, "bank_txn_20250106.csv", BANK_HEADER + BANK_LINE)
    _deliver(home, "bank_txn_20250107.csv", BANK_HEADER + BANK_LINE.replace("B1", "B7"))
    ticks = Ticks(definitions, instance, home)
    ticks.tick()
    (request,) = ticks.tick()
    assert len(request.run_key) == 64 and "bank_txn_20250106.csv" in request.tags["fundflow/files"]


def _alerts(home: Path) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select kind, subject, run_id, message from ops.alerts order by raised_at").fetchall()
    finally:
        con.close()


def test_a_failed_run_writes_an_alert_and_calls_the_hook(home: Path, monkeypatch) -> None:
    hook_file = home / "hook.jsonl"
    monkeypatch.setenv("FUNDFLOW_ALERT_COMMAND", f"cat >> {hook_file}")

    @dg.op
    def load_the_bank_file():
        raise RuntimeError("bank file is unreadable")

    @dg.job
    def nightly():
        load_the_bank_file()

    with dg.instance_for_test() as instance:
        result = nightly.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"warehouse": _warehouse(home)},
        ).for_run_failure()
        run_failure_alert_sensor(context)

    (kind, subject, run_id, message), = _alerts(home)
    assert (kind, subject, run_id) == ("run_failure", "nightly", result.run_id)
    assert "load_the_bank_file" in message
    assert json.loads(hook_file.read_text())["subject"] == "nightly"


def test_failed_blocking_and_error_checks_write_alerts_and_passing_ones_do_not(home: Path) -> None:
    @dg.asset
    def fct_fund_flows() -> None:
        return None

    @dg.asset_check(asset=fct_fund_flows, blocking=True)
    def amounts_are_positive() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    @dg.asset_check(asset=fct_fund_flows, blocking=True)
    def ids_are_unique() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset
    def mart_customer_360() -> None:
        return None

    @dg.asset_check(asset=mart_customer_360)
    def every_customer_once() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)

    @dg.asset_check(asset=mart_customer_360)
    def balances_look_usual() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    resources = {"warehouse": _warehouse(home)}
    with dg.instance_for_test() as instance:
        # A failed blocking check fails the run: the failure sensor names the run and the check.
        blocked = dg.materialize([fct_fund_flows, amounts_are_positive, ids_are_unique], instance=instance,
                                 raise_on_error=False)
        assert not blocked.success
        run_failure_alert_sensor(dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor", dagster_event=blocked.get_run_failure_event(),
            dagster_instance=instance, dagster_run=blocked.dagster_run, resources=resources,
        ).for_run_failure())
        # An error-severity (non-blocking) check fails inside a run that succeeds.
        finished = dg.materialize([mart_customer_360, every_customer_once, balances_look_usual], instance=instance)
        check_failure_alert_sensor(dg.build_run_status_sensor_context(
            sensor_name="check_failure_alert_sensor", dagster_event=finished.get_run_success_event(),
            dagster_instance=instance, dagster_run=finished.dagster_run, resources=resources,
        ))

    alerts = {(kind, subject, run_id) for kind, subject, run_id, _ in _alerts(home)}
    assert alerts == {
        ("run_failure", "__ephemeral_asset_job__", blocked.run_id),
        ("check_failure", "fct_fund_flows:amounts_are_positive", blocked.run_id),
        ("check_failure", "mart_customer_360:every_customer_once", finished.run_id),
    }  # the passing check and the warning raise nothing


def test_an_alert_raised_while_another_process_writes_is_parked_then_moved_in(home: Path) -> None:
    settings = _warehouse(home).settings
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
         str(settings.warehouse_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        where = raise_alert(Alert("run_failure", "daily_incremental_refresh", "boom", run_id="r1"), settings)
        assert where == str(pending_alerts_path(settings))
    finally:
        holder.kill()
        holder.wait()
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        assert flush_pending_alerts(con, settings) == 1
        assert con.execute("select kind, subject, run_id from ops.alerts").fetchall() == [
            ("run_failure", "daily_incremental_refresh", "r1")]
    finally:
        con.close()
    assert not pending_alerts_path(settings).exists()
