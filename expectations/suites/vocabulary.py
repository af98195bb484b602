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
SOURCE_CHANNELS = ("bank", "payments", "ecommerce", "cards")
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
    """(earliest, latest) timestamps a delivered movement may carry, as of now."""
    now = datetime.now(timezone.utc)
    return now - timedelta(days=365 * LOAD_WINDOW_YEARS), now + timedelta(days=1)
