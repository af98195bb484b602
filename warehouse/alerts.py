"""Operational alerts: a failed run or a failed blocking/freshness check → a row in ``ops.alerts``,
a clear log line, and the notification hook (e-mail, chat) when one is configured.

Writing ``ops.alerts`` respects DuckDB's single writer: an alert is raised exactly when another
run may hold the warehouse (the next queued run, or the failing run's own step), so an alert
that cannot take the lock within a few seconds is appended to ``$FUNDFLOW_HOME/ops/
alerts_pending.jsonl`` instead, and moved into ``ops.alerts`` by the next writer that calls
``flush_pending_alerts`` (every landing step does). Nothing waits two minutes on a lock and no
alert is lost.

The notification hook, for whoever runs fundflow:
- ``FUNDFLOW_ALERT_COMMAND``: a shell command run once per alert with the alert as JSON on stdin
  (e.g. ``mail -s "fundflow alert" ops@example.com`` or a script that posts to a chat webhook);
- ``FUNDFLOW_ALERT_WEBHOOK``: a URL that receives the alert as a JSON POST (Slack, Teams,
  DingTalk and WeCom incoming webhooks accept this with a small adapter on their side);
- in Python, ``register_notifier(callable)`` adds a callable receiving each ``Alert``.
A failing notifier is logged and never stops the alert from being recorded.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.connections import is_lock_error, open_duckdb
from warehouse.settings import Settings

log = logging.getLogger("fundflow.alerts")

ALERTS_TABLE = "ops.alerts"
# Long enough to ride out a step that is just closing the file; short enough that a sensor tick
# (which must finish within its own time limit) never hangs on a long dbt build.
_ALERT_LOCK_TIMEOUT_S = 5.0
_notifiers: list[Callable[["Alert"], None]] = []


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | check_failure | freshness
    subject: str  # the job or the asset check that failed
    message: str
    run_id: str | None = None
    severity: str = "error"
    raised_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "raised_at": self.raised_at.isoformat()}, ensure_ascii=False)


def register_notifier(notifier: Callable[[Alert], None]) -> None:
    """Call ``notifier(alert)`` for every alert raised in this process (e.g. send an e-mail)."""
    _notifiers.append(notifier)


def ensure_alerts_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        f"""create table if not exists {ALERTS_TABLE} (
            raised_at timestamptz, kind varchar, subject varchar, severity varchar,
            run_id varchar, message varchar)"""
    )


def pending_alerts_path(settings: Settings) -> Path:
    return settings.home / "ops" / "alerts_pending.jsonl"


def _insert(con: duckdb.DuckDBPyConnection, alerts: list[Alert]) -> None:
    ensure_alerts_table(con)
    con.executemany(
        f"insert into {ALERTS_TABLE} (raised_at, kind, subject, severity, run_id, message) values (?, ?, ?, ?, ?, ?)",
        [[a.raised_at, a.kind, a.subject, a.severity, a.run_id, a.message] for a in alerts],
    )


def flush_pending_alerts(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Move alerts parked while the warehouse was locked into ``ops.alerts``; returns how many."""
    path = pending_alerts_path(settings)
    if not path.exists():
        return 0
    # Renamed first, so an alert parked while we insert lands in a fresh file, not in one we delete.
    claimed = path.with_suffix(f".{os.getpid()}.flushing")
    path.rename(claimed)
    alerts = []
    for line in claimed.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record["raised_at"] = datetime.fromisoformat(record["raised_at"])
            alerts.append(Alert(**record))
    if alerts:
        _insert(con, alerts)
    claimed.unlink()
    return len(alerts)


def raise_alert(alert: Alert, settings: Settings, *, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Record ``alert`` and notify; returns where it was recorded (``ops.alerts`` or the side file).

    ``con``: an open read-write warehouse connection, when the caller already holds one.
    """
    log.error("fundflow ALERT [%s] %s: %s (run %s)", alert.kind, alert.subject, alert.message, alert.run_id or "-")
    where = ALERTS_TABLE
    try:
        if con is not None:
            _insert(con, [alert])
        else:
            own = open_duckdb(settings.warehouse_path, settings, lock_timeout_s=_ALERT_LOCK_TIMEOUT_S)
            try:
                flush_pending_alerts(own, settings)
                _insert(own, [alert])
            finally:
                own.close()
    except duckdb.IOException as error:
        if not is_lock_error(error):
            raise
        path = pending_alerts_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as pending:
            pending.write(alert.as_json() + "\n")
        where = str(path)
        log.warning("warehouse is locked by another run; alert parked in %s until the next writer", path)
    _notify(alert)
    return where


def _notify(alert: Alert) -> None:
    command = os.environ.get("FUNDFLOW_ALERT_COMMAND")
    webhook = os.environ.get("FUNDFLOW_ALERT_WEBHOOK")
    try:
        if command:
            subprocess.run(command, shell=True, input=alert.as_json(), text=True, timeout=30, check=True)
        if webhook:
            request = urllib.request.Request(
                webhook, data=alert.as_json().encode(), headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=10).close()
        for notifier in _notifiers:
            notifier(alert)
    except Exception:  # a broken notifier must not lose the alert, which is already recorded
        log.exception("alert notification failed for %s", alert.subject)
