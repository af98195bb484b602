"""Validation results kept in the warehouse (``quality.check_results``) and summarised.

Every gate run appends one row per expectation: run id, check, suite, expectation, success,
observed value, unexpected count. The table is append-only, so a gate's history is a query
away, and the quality summary (``quality_summary``) is what reports embed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import duckdb

from expectations.runner import ValidationOutcome

CHECK_RESULTS_TABLE = "quality.check_results"


def ensure_check_results_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists quality")
    con.execute(
        f"""create table if not exists {CHECK_RESULTS_TABLE} (
            run_id varchar not null,
            checked_at timestamptz not null,
            check_name varchar not null,
            asset varchar not null,          -- 'schema.table' the check is attached to
            suite varchar not null,
            severity varchar not null,       -- error (blocks what follows) | warn
            expectation_index integer not null,
            expectation varchar not null,    -- e.g. expect_column_values_to_be_unique(flow_id)
            success boolean not null,
            observed_value varchar,
            unexpected_count bigint,
            unexpected_percent double,
            element_count bigint,
            exception varchar,
            sample_failing_rows varchar,     -- JSON, a few failing rows (row key + value)
            row_count bigint
        )"""
    )


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    check_name: str,
    asset: str,
    severity: str,
    outcome: ValidationOutcome,
    checked_at: datetime | None = None,
) -> int:
    """Append one row per expectation of ``outcome``; return the number of rows written."""
    ensure_check_results_table(con)
    checked_at = checked_at or datetime.now(timezone.utc)
    rows = [
        [
            run_id, checked_at, check_name, asset, outcome.suite_name, severity, index, e.label, e.success,
            _text(e.observed_value), e.unexpected_count, e.unexpected_percent, e.element_count, e.exception,
            json.dumps(list(e.sample_failing_rows), ensure_ascii=False, default=str) if e.sample_failing_rows else None,
            outcome.row_count,
        ]
        for index, e in enumerate(outcome.expectations, start=1)
    ]
    con.executemany(f"insert into {CHECK_RESULTS_TABLE} values ({', '.join(['?'] * 16)})", rows)
    return len(rows)


def latest_results(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest run's rows of every (asset, check): what the gates say now."""
    if not _exists(con):
        return []
    cursor = con.execute(
        f"""with latest as (
                select asset, check_name, max(checked_at) as checked_at from {CHECK_RESULTS_TABLE}
                group by asset, check_name
            )
            select r.* from {CHECK_RESULTS_TABLE} r join latest using (asset, check_name, checked_at)
            order by r.asset, r.check_name, r.expectation_index"""
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def quality_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the gates say now, for a report to embed: counts by layer and the failed checks."""
    rows = latest_results(con)
    checks: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        check = checks.setdefault(
            (row["asset"], row["check_name"]),
            {"asset": row["asset"], "check": row["check_name"], "severity": row["severity"], "passed": True,
             "failed_expectations": [], "checked_at": row["checked_at"]},
        )
        if not row["success"]:
            check["passed"] = False
            check["failed_expectations"].append(row["expectation"])
    layers: dict[str, dict[str, int]] = {}
    for check in checks.values():
        layer = layers.setdefault(check["asset"].split(".", 1)[0], {"checks": 0, "passed": 0, "failed": 0})
        layer["checks"] += 1
        layer["passed" if check["passed"] else "failed"] += 1
    failed = [c for c in checks.values() if not c["passed"]]
    return {
        "checks": len(checks),
        "expectations": len(rows),
        "passed_checks": len(checks) - len(failed),
        "failed_errors": [c for c in failed if c["severity"] == "error"],
        "failed_warnings": [c for c in failed if c["severity"] == "warn"],
        "by_layer": layers,
        "all_gates_passed": not any(c["severity"] == "error" for c in failed),
    }


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'quality' and table_name = 'check_results'"
    ).fetchone()[0])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
