"""The date window of a backfill: which flow dates `fct_fund_flows` rebuilds, validated once.

The window reaches dbt as vars that are written into SQL, so it is checked here (the CLI, the
backfill job's launch and the dbt asset all call this) and again in dbt
(``macros/backfill_window.sql``) for anyone who runs dbt by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Exactly YYYY-MM-DD: date.fromisoformat alone also takes 20250103 and 2025-W01-5.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BackfillWindowError(ValueError):
    """A backfill window that cannot be run (missing bound, not a date, ends before it starts)."""


@dataclass(frozen=True)
class BackfillWindow:
    from_date: date
    to_date: date

    @property
    def days(self) -> int:
        return (self.to_date - self.from_date).days + 1

    def dbt_vars(self) -> dict[str, str]:
        return {"backfill_from_date": self.from_date.isoformat(), "backfill_to_date": self.to_date.isoformat()}

    def __str__(self) -> str:
        return f"{self.from_date.isoformat()}..{self.to_date.isoformat()}"


def _parse_date(name: str, value: object) -> date:
    text = str(value).strip() if value is not None else ""
    if not _ISO_DATE.fullmatch(text):
        raise BackfillWindowError(f"backfill {name} must be a date written YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise BackfillWindowError(f"backfill {name} {text!r} is not a calendar date ({error})") from None


def parse_backfill_window(from_date: object, to_date: object) -> BackfillWindow | None:
    """The window from its two bounds (inclusive), or None when neither is given (no backfill)."""
    if from_date in (None, "") and to_date in (None, ""):
        return None
    if from_date in (None, "") or to_date in (None, ""):
        raise BackfillWindowError(
            f"a backfill needs both from_date and to_date (got from_date={from_date!r}, to_date={to_date!r}); "
            "for one day give the same date twice"
        )
    window = BackfillWindow(_parse_date("from_date", from_date), _parse_date("to_date", to_date))
    if window.to_date < window.from_date:
        raise BackfillWindowError(
            f"backfill to_date {window.to_date.isoformat()} is before from_date {window.from_date.isoformat()}"
        )
    return window
