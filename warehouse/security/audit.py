"""``ops.audit_log``: who did what to the warehouse and its outputs, and when (append-only).

Every load, publish, export, backup, restore and report approval appends one row: when (UTC),
who (FUNDFLOW_AUDIT_IDENTITY, else the OS user), the action, its target and details (JSON).
DuckDB has no triggers or grants to forbid UPDATE and DELETE, so append-only is made checkable
instead: each row carries ``entry_hash = sha256(previous entry_hash || the row's fields)``, a
hash chain, and ``verify_audit_log`` names the first row that was changed, removed or
reordered. Rows are only ever written by ``record``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from warehouse.settings import Settings

AUDIT_TABLE = "ops.audit_log"
ACTIONS = ("load", "publish", "export", "backup", "restore", "report_approval", "retention")
_GENESIS = "0" * 64


class AuditLogTamperedError(RuntimeError):
    """ops.audit_log no longer matches its hash chain."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    details: str
    entry_hash: str


def actor(settings: Settings) -> str:
    if settings.audit_identity:
        return settings.audit_identity
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def ensure_audit_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        f"""create table if not exists {AUDIT_TABLE} (
            seq bigint not null primary key, logged_at timestamptz not null, actor varchar not null,
            action varchar not null, target varchar not null, details varchar not null,
            prev_hash varchar not null, entry_hash varchar not null)"""
    )


def _entry_hash(prev_hash: str, seq: int, at: datetime, who: str, action: str, target: str, details: str) -> str:
    payload = json.dumps([prev_hash, seq, at.astimezone(timezone.utc).isoformat(), who, action, target, details],
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    action: str,
    target: str,
    details: dict | None = None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry (in the caller's transaction, if any). Values are bound, never spliced."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {ACTIONS}")
    ensure_audit_log(con)
    # Microsecond precision: what DuckDB's timestamptz stores, so the hash re-computes exactly.
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    who = actor(settings)
    text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str)
    last = con.execute(f"select seq, entry_hash from {AUDIT_TABLE} order by seq desc limit 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, _GENESIS)
    entry_hash = _entry_hash(prev, seq, at, who, action, target, text)
    con.execute(f"insert into {AUDIT_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at, who, action, target, text, prev, entry_hash])
    return AuditEntry(seq, at, who, action, target, text, entry_hash)


def entries(con: duckdb.DuckDBPyConnection) -> list[AuditEntry]:
    try:
        rows = con.execute(
            f"select seq, logged_at, actor, action, target, details, entry_hash from {AUDIT_TABLE} order by seq").fetchall()
    except duckdb.CatalogException:
        return []
    return [AuditEntry(*row) for row in rows]


def verify_audit_log(con: duckdb.DuckDBPyConnection) -> int:
    """Number of entries, after checking the chain; raises at the first altered entry."""
    prev = _GENESIS
    try:
        rows = con.execute(
            f"select seq, logged_at, actor, action, target, details, prev_hash, entry_hash from {AUDIT_TABLE} order by seq"
        ).fetchall()
    except duckdb.CatalogException:
        return 0
    for expected_seq, (seq, at, who, action, target, details, prev_hash, entry_hash) in enumerate(rows, start=1):
        if seq != expected_seq:
            raise AuditLogTamperedError(f"ops.audit_log: entry {expected_seq} is missing (next is {seq})")
        if prev_hash != prev or _entry_hash(prev, seq, at, who, action, target, details) != entry_hash:
            raise AuditLogTamperedError(f"ops.audit_log: entry {seq} ({action} {target}) was altered")
        prev = entry_hash
    return len(rows)
