"""Scheduled runs skip assets whose upstream blocking checks failed (orchestration/defs/checks/gate_guard.py),
and dbt tests surface as asset checks that block where their severity is error."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.checks.gate_guard import (
    GATED_AUTOMATION_CONDITION,
    assets_blocked_by_failed_gates,
    gated_run_request,
)

STATE = {"orders_ok": False}


@dg.asset
def orders() -> None:
    pass


@dg.asset_check(asset=orders, blocking=True)
def orders_gate() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=STATE["orders_ok"], severity=dg.AssetCheckSeverity.ERROR)


@dg.asset_check(asset=orders, blocking=True)
def orders_volume_warning() -> dg.AssetCheckResult:  # a WARN failure never blocks
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


@dg.asset(deps=[orders])
def order_features() -> None:
    pass


@dg.asset(deps=[order_features])
def churn_model() -> None:
    pass


@dg.asset
def fx_rates() -> None:
    pass


DEFS = dg.Definitions(
    assets=[orders, order_features, churn_model, fx_rates],
    asset_checks=[orders_gate, orders_volume_warning],
    jobs=[dg.define_asset_job("everything", executor_def=dg.in_process_executor)],
)
KEYS = {name: dg.AssetKey(name) for name in ("orders", "order_features", "churn_model", "fx_rates")}


def _run(instance: dg.DagsterInstance, *names: str) -> set[str]:
    job = DEFS.resolve_job_def("everything")
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=[KEYS[n] for n in names]
    )
    return {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }


def test_a_scheduled_run_skips_what_is_behind_a_failed_gate() -> None:
    instance = dg.DagsterInstance.ephemeral()
    graph = DEFS.resolve_asset_graph()
    STATE["orders_ok"] = False
    # the run that loads orders: its gate fails, everything downstream is skipped in the run
    assert _run(instance, "orders", "order_features", "churn_model", "fx_rates") == {"orders", "fx_rates"}

    # a later scheduled run that only retrains must not read the orders that failed their gate
    nightly = [KEYS["order_features"], KEYS["churn_model"], KEYS["fx_rates"]]
    blocked = assets_blocked_by_failed_gates(instance, graph, nightly)
    assert blocked == {KEYS["order_features"]: ["orders:orders_gate"], KEYS["churn_model"]: ["orders:orders_gate"]}
    request = gated_run_request(instance, graph, nightly)
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == [KEYS["fx_rates"]]
    assert "order_features" in request.tags["fundflow/skipped_behind_failed_gates"]
    skip = gated_run_request(instance, graph, [KEYS["churn_model"]])
    assert isinstance(skip, dg.SkipReason) and "orders:orders_gate" in skip.skip_message

    # a run that rebuilds orders itself is not pre-empted: the gate is re-checked in the run
    assert assets_blocked_by_failed_gates(instance, graph, [KEYS["orders"], KEYS["order_features"]]) == {}

    # once orders pass their gate (the WARN check still fails), nothing is blocked any more
    STATE["orders_ok"] = True
    assert _run(instance, "orders") == {"orders"}
    assert assets_blocked_by_failed_gates(instance, graph, nightly) == {}
    assert gated_run_request(instance, graph, nightly).asset_selection == sorted(nightly, key=lambda k: k.to_user_string())


def test_the_declarative_condition_requires_upstream_blocking_checks_to_pass() -> None:
    labels = {operand.get_label() for operand in GATED_AUTOMATION_CONDITION.operands}
    assert "all_deps_blocking_checks_passed" in labels


def test_dbt_tests_are_asset_checks_blocking_where_their_severity_is_error() -> None:
    import json

    from orchestration.dbt_project import fundflow_dbt_project
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    manifest = json.loads(fundflow_dbt_project.manifest_path.read_text(encoding="utf-8"))
    severities = {
        node["name"]: (node.get("config", {}).get("severity") or "error").lower()
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }
    dbt_checks = [graph.get(key) for key in graph.asset_check_keys if key.name in severities]
    assert len(dbt_checks) > 100
    assert {check.key.name for check in dbt_checks if check.blocking} == {
        check.key.name for check in dbt_checks if severities[check.key.name] == "error"
    }
    assert any(severities[c.key.name] == "warn" and not c.blocking for c in dbt_checks)
