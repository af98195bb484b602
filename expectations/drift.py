"""Distribution drift of the gated marts against the previous successful run.

Each profiled table has a profile query (row count and the totals consumers read). After a run
whose drift gate passed, the profile is appended to ``quality.table_profiles``; the next run
compares its own profile with the latest stored one, through GX (one expectation per figure,
bounds = baseline × (1 ± band)), so drift results look and are stored like every other gate.

Bands (fractions of the baseline):
- WARN beyond ±20 %: a month of growth in a young portfolio, a campaign, a late channel file
  can move totals by 10–20 %; beyond that a person should look, but the data may be right.
- FAIL beyond ±50 %: half the rows or half the money appearing or vanishing between two runs
  is a lost delivery, a doubled load or a broken join far more often than business; it stops
  ML, publishing and reports until someone accepts the new level (``accept_current_profile``).
Incremental daily refreshes (issue 7) add one day to a history of months: +0.3 % for a year
of history, far inside the warn band, so growth never trips it. The baseline moves with every
passing run, so slow growth is never compared with an old level.

The first run has no baseline: the gate passes with a note and stores the first profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import great_expectations as gx

WARN_BAND = 0.20
FAIL_BAND = 0.50

PROFILES_TABLE = "quality.table_profiles"


@dataclass(frozen=True)
class ProfileSpec:
    table: str
    query: str  # one row; every column is a figure to compare


PROFILES: dict[str, ProfileSpec] = {
    spec.table: spec
    for spec in (
        ProfileSpec(
            "marts.fct_fund_flows",
            """select count(*)::double as row_count,
                      coalesce(sum(amount_cny) filter (where direction = 'in'), 0)::double as total_inflow_cny,
                      coalesce(sum(amount_cny) filter (where direction = 'out'), 0)::double as total_outflow_cny,
                      coalesce(avg(amount_cny), 0)::double as mean_amount_cny
               from marts.fct_fund_flows""",
        ),
        ProfileSpec(
            "marts.mart_customer_360",
            """select count(*)::double as row_count,
                      coalesce(sum(total_inflow_cny), 0)::double as total_inflow_cny,
                      coalesce(sum(total_outflow_cny), 0)::double as total_outflow_cny
               from marts.mart_customer_360""",
        ),
        ProfileSpec(
            "marts.mart_customer_features",
            """select count(*)::double as row_count,
                      coalesce(avg(income_cny_12m), 0)::double as mean_income_cny_12m,
                      coalesce(avg(spending_cny_12m), 0)::double as mean_spending_cny_12m
               from marts.mart_customer_features""",
        ),
        ProfileSpec(
            "marts.mart_customer_monthly",
            """select count(*)::double as row_count,
                      coalesce(sum(inflow_cny), 0)::double as total_inflow_cny,
                      coalesce(sum(outflow_cny), 0)::double as total_outflow_cny
               from marts.mart_customer_monthly""",
        ),
    )
}


def profile(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float]:
    cursor = con.execute(PROFILES[table].query)
    names = [d[0] for d in cursor.description]
    return dict(zip(names, (float(v) for v in cursor.fetchone())))


def ensure_profiles_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists quality")
    con.execute(
        f"""create table if not exists {PROFILES_TABLE} (
            run_id varchar, table_name varchar, metric varchar, value double, profiled_at timestamptz)"""
    )


def latest_baseline(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float] | None:
    """The profile stored by the latest successful run, or None (first run, or no table yet)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'quality' and table_name = 'table_profiles'"
    ).fetchone()[0]
    if not exists:
        return None
    rows = con.execute(
        f"""select metric, value from {PROFILES_TABLE}
            where table_name = ? and run_id = (
                select run_id from {PROFILES_TABLE} where table_name = ? order by profiled_at desc limit 1)""",
        [table, table],
    ).fetchall()
    return {metric: value for metric, value in rows} or None


def record_profile(con: duckdb.DuckDBPyConnection, run_id: str, table: str, figures: dict[str, float]) -> None:
    ensure_profiles_table(con)
    now = datetime.now(timezone.utc)
    con.executemany(
        f"insert into {PROFILES_TABLE} values (?, ?, ?, ?, ?)",
        [[run_id, table, metric, value, now] for metric, value in figures.items()],
    )


def accept_current_profile(con: duckdb.DuckDBPyConnection, table: str, reason: str) -> dict[str, float]:
    """Make today's level the baseline after a person checked a real change (recorded as such)."""
    figures = profile(con, table)
    record_profile(con, f"accepted: {reason}", table, figures)
    return figures


def drift_suite(table: str, baseline: dict[str, float], band: float) -> gx.ExpectationSuite:
    """Each figure of the profile within baseline × (1 ± band)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    expectations = []
    for metric, value in baseline.items():
        low, high = sorted((value * (1 - band), value * (1 + band)))
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=metric, min_value=low, max_value=high))
    return gx.ExpectationSuite(name=f"drift.{table}.band_{band:.0%}", expectations=expectations)


def relative_changes(current: dict[str, float], baseline: dict[str, float]) -> dict[str, Any]:
    """Change of each figure as a fraction of its baseline (None where the baseline is 0)."""
    return {
        metric: (current.get(metric, 0.0) - value) / abs(value) if value else None
        for metric, value in baseline.items()
    }
