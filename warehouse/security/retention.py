"""Retention of delivered files: a landing file older than FUNDFLOW_LANDING_RETENTION_DAYS is
removed once it is both loaded and backed up.

"Loaded": ``ops.load_log`` has this exact content (path and SHA-256) with status ``loaded``.
"Backed up": the newest backup was taken after that load, so its ``raw.*`` tables hold the
file's rows. A file that fails either test stays, whatever its age. Age is the file's
modification time (when it was delivered). Each removal is one ``ops.audit_log`` entry.

Consequence, documented in docs/security.md: a full load rebuilds ``raw.*`` from the files still
in the landing folder, so after retention a full refresh no longer has the removed files' rows
(incremental refreshes keep them); their content stays in the backups.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from warehouse.security import audit
from warehouse.security.backup import MANIFEST, list_backups
from warehouse.settings import Settings


@dataclass(frozen=True)
class RetentionResult:
    removed: list[str]
    kept_not_loaded: list[str]
    kept_not_backed_up: list[str]
    younger: int


def apply_retention(con: duckdb.DuckDBPyConnection, settings: Settings, *, dry_run: bool = False,
                    now: datetime | None = None) -> RetentionResult:
    if settings.landing_retention_days <= 0:
        raise ValueError("FUNDFLOW_LANDING_RETENTION_DAYS is not set (> 0): landing files are kept for ever")
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=settings.landing_retention_days)
    backups = list_backups(settings)
    last_backup = (datetime.fromisoformat(json.loads((backups[-1] / MANIFEST).read_text(encoding="utf-8"))["created_at"])
                   if backups else None)
    loads = {}
    for path, sha256, loaded_at in con.execute(
            "select path, sha256, max(loaded_at) from ops.load_log where status = 'loaded' group by all").fetchall():
        loads[(path, sha256)] = loaded_at
    removed, not_loaded, not_backed_up, younger = [], [], [], 0
    root = settings.landing_dir
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if datetime.fromtimestamp(file.stat().st_mtime, timezone.utc) >= cutoff:
            younger += 1
            continue
        relative = str(file.relative_to(root))
        loaded_at = loads.get((relative, hashlib.sha256(file.read_bytes()).hexdigest()))
        if loaded_at is None:
            not_loaded.append(relative)
        elif last_backup is None or last_backup < loaded_at:
            not_backed_up.append(relative)
        else:
            removed.append(relative)
            if not dry_run:
                file.unlink()
                audit.record(con, settings, "retention", f"landing/{relative}",
                             {"older_than_days": settings.landing_retention_days, "backup": backups[-1].name})
    return RetentionResult(removed, not_loaded, not_backed_up, younger)
