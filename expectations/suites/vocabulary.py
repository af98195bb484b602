"""Closed vocabularies and windows the suites share, read from the project's own definitions.

Currencies come from the dbt seed that staging standardises against (``seeds/currencies.csv``),
so the gate and the cleaning rule can never disagree about what a valid currency is.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from functools import cache

from warehouse.settings import DBT_PROJECT_DIR

DIRECTIONS = ("in", "out")
SOURCE_CHANNELS = ("bank", "payments", "ecommerce", "cards", "berka", "online_retail", "cdnow")
COUNTERPARTY_TYPES = ("person", "merchant", "bank", "platform", "self")
# Flow categories: fixed names plus ``consumption:<group>`` (DESIGN.md, canonical fund flow).
FLOW_CATEGORY = r"^(salary|transfer|card_repayment|loan_repayment|investment|cash|fee|interest|refund|other|consumption:[a-z_]+)$"

# The load window: a movement dated more than this far back, or after tomorrow, is a parsing or
# clock error, not history. Ten years covers the longest statement history a bank re-delivers;
# tomorrow (not today) because Asia/Shanghai runs ahead of UTC.
LOAD_WINDOW_YEARS = 10


@cache
def currencies() -> tuple[str, ...]:
    with (DBT_PROJECT_DIR / "seeds" / "currencies.csv").open(encoding="utf-8") as handle:
        return tuple(sorted(row["currency"] for row in csv.DictReader(handle)))


def load_window() -> tuple[datetime, datetime]:
    """(earliest, latest) timestamps a delivered movement may carry, as of now.

    A historical data set delivered to the landing folder (a spec with ``history_from``, e.g.
    the PKDD'99 bank data of 1993-1998) moves the earliest bound back to its first date, for
    as long as its files are there; the demo channels keep the ten-year window.
    """
    from warehouse.landing.specs import delivered_sources
    from warehouse.settings import load_settings

    now = datetime.now(timezone.utc)
    earliest = now - timedelta(days=365 * LOAD_WINDOW_YEARS)
    for spec in delivered_sources(load_settings().landing_dir):
        if spec.history_from:
            earliest = min(earliest, datetime.fromisoformat(spec.history_from).replace(tzinfo=timezone.utc))
    return earliest, now + timedelta(days=1)
