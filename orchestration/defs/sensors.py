"""Sensors: new landing files start a refresh of what they feed; failures raise alerts.

``landing_files_sensor`` never opens the warehouse (a run may hold it): it keeps, in its cursor,
the content hash it last launched for each file and the size/mtime it saw at the last tick. The
cursor is stored by the Dagster instance, so it survives daemon restarts.

A file is taken when it is *complete*: its name is not a temporary one, it was not modified in
the last ``FUNDFLOW_LANDING_SETTLE_SECONDS``, and its size and mtime are the same as at the
previous tick (a copy that preserves the source's mtime, like ``cp -p`` or ``rsync -t``, would pass
the age rule alone while still growing). So a new file starts a run one tick after it settles.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.assets.landing import LANDING_REJECTS_KEY, raw_key
from orchestration.defs.jobs import INCREMENTAL_RUN_CONFIG, daily_incremental_refresh_job
from orchestration.defs.resources import WarehouseResource
from warehouse.alerts import Alert, raise_alert
from warehouse.landing import SOURCES, files_for

LANDING_SENSOR_INTERVAL_SECONDS = 30
# Names that writers use while a file is incomplete (downloaders, rsync, editors, scp).
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", "~", ".swp")


def is_temporary_name(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower().endswith(_TEMPORARY_SUFFIXES)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_landing(landing_dir: Path, cursor: dict, settle_seconds: float, now: float) -> tuple[dict, dict]:
    """One sensor tick as a pure function: (changed files {path: (table, sha256)}, new cursor).

    cursor = {"launched": {path: sha256 last launched}, "seen": {path: [size, mtime_ns] at the last
    tick}, "hashed": {path: [size, mtime_ns] when last hashed}} — the last lets a tick skip
    re-reading files that have not been touched since.
    """
    launched: dict[str, str] = dict(cursor.get("launched", {}))
    hashed: dict[str, list] = dict(cursor.get("hashed", {}))
    previously_seen: dict[str, list] = cursor.get("seen", {})
    seen: dict[str, list] = {}
    changed: dict[str, tuple[str, str]] = {}
    for spec in SOURCES:
        for path in files_for(spec, landing_dir):
            if is_temporary_name(path.name):
                continue
            rel_path = path.relative_to(landing_dir).as_posix()
            stat = path.stat()
            observed = [stat.st_size, stat.st_mtime_ns]
            seen[rel_path] = observed
            if now - stat.st_mtime < settle_seconds or previously_seen.get(rel_path) != observed:
                continue  # still being written, or first sight at this size: look again next tick
            if hashed.get(rel_path) == observed:
                continue  # untouched since we last read it
            digest = _file_sha256(path)
            hashed[rel_path] = observed
            if launched.get(rel_path) != digest:
                changed[rel_path] = (spec.table, digest)
                launched[rel_path] = digest
    return changed, {"launched": launched, "seen": seen, "hashed": hashed}


def run_key_for(changed: dict[str, tuple[str, str]]) -> str:
    """The content hash: the file's SHA-256 for one file, a hash of the sorted (path, hash) pairs for several."""
    if len(changed) == 1:
        return next(iter(changed.values()))[1]
    joined = "\n".join(f"{path}:{digest}" for path, (_, digest) in sorted(changed.items()))
    return hashlib.sha256(joined.encode()).hexdigest()


@dg.sensor(
    name="landing_files_sensor",
    job=daily_incremental_refresh_job,
    minimum_interval_seconds=LANDING_SENSOR_INTERVAL_SECONDS,
    description="Watches FUNDFLOW_HOME/landing: complete new or changed files start an incremental "
    "refresh of the raw tables they feed and everything downstream (run key = content hash).",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    cursor = json.loads(context.cursor) if context.cursor else {}
    changed, new_cursor = scan_landing(settings.landing_dir, cursor, settings.landing_settle_seconds, time.time())
    context.update_cursor(json.dumps(new_cursor, sort_keys=True))
    if not changed:
        return dg.SkipReason("no new or changed complete landing files")
    tables = sorted({table for table, _ in changed.values()})
    context.log.info("new or changed landing files: %s", ", ".join(sorted(changed)))
    selection = [raw_key(table) for table in tables] + [LANDING_REJECTS_KEY]
    return dg.RunRequest(
        run_key=run_key_for(changed),
        run_config=INCREMENTAL_RUN_CONFIG,
        asset_selection=list(
            dg.AssetSelection.assets(*selection).downstream().resolve(context.repository_def.asset_graph)
        )
        if context.repository_def is not None
        else selection,
        tags={"fundflow/trigger": "landing_files", "fundflow/files": ",".join(sorted(changed))[:4000]},
    )


def check_alert_for(evaluation, run_id: str | None) -> Alert | None:
    """The alert a check evaluation deserves: failed blocking/error checks and failed freshness checks."""
    if evaluation.passed:
        return None
    is_freshness = "freshness" in evaluation.check_name
    if not (evaluation.blocking or evaluation.severity == dg.AssetCheckSeverity.ERROR or is_freshness):
        return None
    subject = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    if is_freshness:
        text = "asset is older than its schedule allows (freshness check failed)"
    elif evaluation.blocking:
        text = "blocking check failed; everything downstream of it was held back"
    else:
        text = "error-severity check failed"
    return Alert("freshness" if is_freshness else "check_failure", subject, text, run_id=run_id,
                 severity=evaluation.severity.value.lower())


def check_alerts_for_run(instance: dg.DagsterInstance, run_id: str) -> list[Alert]:
    """Alerts for the failed checks of one run (read per run: works on run-sharded event logs too)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    alerts = (check_alert_for(r.event_log_entry.dagster_event.event_specific_data, run_id) for r in records)
    return [alert for alert in alerts if alert is not None]


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    description="A failed run (including one stopped by a failed blocking check) writes a row to "
    "ops.alerts per failure, logs a clear message and calls the notification hook "
    "(FUNDFLOW_ALERT_COMMAND / FUNDFLOW_ALERT_WEBHOOK, see warehouse/alerts.py).",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    failed_steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    if failed_steps:
        message += f" (failed steps: {', '.join(failed_steps)})"
    raise_alert(Alert("run_failure", run.job_name, message, run_id=run.run_id), warehouse.settings)
    for alert in check_alerts_for_run(context.instance, run.run_id):
        raise_alert(alert, warehouse.settings)


@dg.run_status_sensor(
    name="check_failure_alert_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    description="A run that succeeded but carried failed error-severity or freshness checks writes "
    "a row to ops.alerts per failed check and calls the notification hook.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def check_failure_alert_sensor(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    for alert in check_alerts_for_run(context.instance, context.dagster_run.run_id):
        raise_alert(alert, warehouse.settings)
