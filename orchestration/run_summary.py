"""What a finished refresh produced: rows per layer and the checks that passed or failed."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from warehouse.connections import warehouse_connection
from warehouse.settings import Settings

LAYERS = ("raw", "staging", "intermediate", "marts", "ml", "quality")


@dataclass
class RunSummary:
    rows_per_layer: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer → (tables, rows)
    checks_passed: int = 0
    checks_failed: int = 0
    failed_checks: list[str] = field(default_factory=list)


def rows_per_layer(settings: Settings) -> dict[str, tuple[int, int]]:
    if not settings.warehouse_path.exists():
        return {}
    counts: dict[str, tuple[int, int]] = {}
    with warehouse_connection(settings, read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
        for layer in LAYERS:
            names = [t for s, t in tables if s == layer]
            rows = sum(con.execute(f'select count(*) from {layer}."{t}"').fetchone()[0] for t in names)
            counts[layer] = (len(names), rows)
    return counts


def summarize_run(instance: dg.DagsterInstance, run_id: str, settings: Settings) -> RunSummary:
    summary = RunSummary(rows_per_layer=rows_per_layer(settings))
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            summary.checks_passed += 1
        else:
            summary.checks_failed += 1
            summary.failed_checks.append(
                f"{evaluation.asset_key.to_user_string()} · {evaluation.check_name}"
            )
    return summary
