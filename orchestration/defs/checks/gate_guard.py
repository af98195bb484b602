"""Scheduled runs skip assets whose upstream blocking checks failed.

Inside one run Dagster already skips everything downstream of a failed blocking check. A
scheduled or sensor-triggered run that does *not* re-materialize the failed asset (an ML retrain
at night, a publish every hour) would otherwise read the data that failed its gate in an
earlier run. Two mechanisms, for the two ways schedules are written (issue 7 adds them):

- ``GATED_AUTOMATION_CONDITION`` for declarative automation: Dagster's
  ``all_deps_blocking_checks_passed`` keeps an asset from being requested while any parent's
  blocking check's latest result is a failure.
- ``gated_run_request`` for classic schedules and sensors: reads the latest check executions
  from the Dagster instance and drops from the selection every asset with a failed ERROR-gate
  upstream that this run would not rebuild (an upstream asset in the selection is rebuilt and
  re-checked in the run, where in-run blocking applies). If nothing is left it returns a
  ``SkipReason`` that names the failed gates.
"""

from collections.abc import Iterable, Mapping

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

GATED_AUTOMATION_CONDITION = (
    dg.AutomationCondition.on_cron("0 6 * * *") & dg.AutomationCondition.all_deps_blocking_checks_passed()
)


def failed_blocking_gates(instance: dg.DagsterInstance, asset_graph) -> dict[dg.AssetKey, list[str]]:
    """Assets whose latest run of a blocking check failed with ERROR → those checks' names."""
    blocking = [key for key in asset_graph.asset_check_keys if asset_graph.get(key).blocking]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(blocking)
    failed: dict[dg.AssetKey, list[str]] = {}
    for key, record in latest.items():
        if record.status != AssetCheckExecutionRecordStatus.FAILED or record.event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        if getattr(evaluation, "severity", dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR:
            failed.setdefault(key.asset_key, []).append(key.name)
    return failed


def assets_blocked_by_failed_gates(
    instance: dg.DagsterInstance, asset_graph, selection: Iterable[dg.AssetKey]
) -> Mapping[dg.AssetKey, list[str]]:
    """Selected assets that must not run → the failed gates (``asset:check``) upstream of them."""
    selected = set(selection)
    failed = failed_blocking_gates(instance, asset_graph)
    blocked: dict[dg.AssetKey, list[str]] = {}
    for key in selected:
        reasons = sorted(
            f"{ancestor.to_user_string()}:{check}"
            for ancestor in asset_graph.get_ancestor_asset_keys(key)
            if ancestor not in selected
            for check in failed.get(ancestor, [])
        )
        if reasons:
            blocked[key] = reasons
    # what depends, inside the selection, on a blocked asset is blocked too
    changed = True
    while changed:
        changed = False
        for key in selected - set(blocked):
            upstream = [a for a in asset_graph.get_ancestor_asset_keys(key) if a in blocked]
            if upstream:
                blocked[key] = sorted({r for a in upstream for r in blocked[a]})
                changed = True
    return blocked


def gated_run_request(
    instance: dg.DagsterInstance, asset_graph, selection: Iterable[dg.AssetKey], **run_request_kwargs
) -> dg.RunRequest | dg.SkipReason:
    """A run request for ``selection`` minus the assets behind a failed gate (or a skip)."""
    selected = set(selection)
    blocked = assets_blocked_by_failed_gates(instance, asset_graph, selected)
    kept = sorted(selected - set(blocked), key=lambda k: k.to_user_string())
    if not kept:
        gates = sorted({r for reasons in blocked.values() for r in reasons})
        return dg.SkipReason(f"every selected asset is behind a failed blocking gate: {', '.join(gates)}")
    tags = dict(run_request_kwargs.pop("tags", {}) or {})
    if blocked:
        tags["fundflow/skipped_behind_failed_gates"] = ", ".join(sorted(k.to_user_string() for k in blocked))
    return dg.RunRequest(asset_selection=kept, tags=tags, **run_request_kwargs)
