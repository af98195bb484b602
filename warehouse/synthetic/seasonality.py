"""The demo period, Chinese calendar effects and when in a day or month things happen.

Time inside the generator is an ``int64`` count of *local* (Asia/Shanghai, UTC+8, no daylight
saving) seconds since 1970-01-01 00:00 local; days are ``ts // 86400``. Only the writers turn
these into text, and the truth writer shifts them by eight hours to real instants.

Seasonality is a per-day weight for each kind of activity ("profile"): a month's expected count
is scaled by its mean weight, and each event's day is drawn in proportion to the weights, so a
Double 11 month has more orders *and* they pile up on the 11th.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DAY = 86_400
HOUR = 3_600
UTC_OFFSET_SECONDS = 8 * HOUR
EPOCH = dt.date(1970, 1, 1)

# Lunar New Year's day (春节). The generator knows the years a demo can plausibly span.
SPRING_FESTIVAL = {
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}

# Statutory holidays (official day-off ranges) that close the FX market and shift pay days.
_HOLIDAY_RANGES = (
    ("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
    ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
    ("2024-10-01", "2024-10-07"),
    ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
    ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
    ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
    ("2027-01-01", "2027-01-01"), ("2027-02-05", "2027-02-11"), ("2027-04-04", "2027-04-06"),
    ("2027-05-01", "2027-05-05"), ("2027-10-01", "2027-10-07"),
)


def to_day(d: dt.date) -> int:
    return (d - EPOCH).days


def from_day(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@lru_cache(maxsize=1)
def _holiday_days() -> frozenset[int]:
    days: set[int] = set()
    for first, last in _HOLIDAY_RANGES:
        a, b = to_day(dt.date.fromisoformat(first)), to_day(dt.date.fromisoformat(last))
        days.update(range(a, b + 1))
    return frozenset(days)


def weekday(days: np.ndarray | int) -> np.ndarray | int:
    """Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7 if not isinstance(days, int) else (days + 3) % 7


def is_business_day(day: int) -> bool:
    return weekday(day) < 5 and day not in _holiday_days()


def previous_business_day(day: int) -> int:
    while not is_business_day(day):
        day -= 1
    return day


def next_business_day(day: int) -> int:
    while not is_business_day(day):
        day += 1
    return day


@dataclass(frozen=True)
class Month:
    """One generation chunk: a calendar month of the demo period."""

    index: int
    year: int
    month: int
    first_day: int  # days since epoch
    n_days: int

    @property
    def start_ts(self) -> int:
        return self.first_day * DAY

    @property
    def end_ts(self) -> int:  # exclusive
        return (self.first_day + self.n_days) * DAY

    @property
    def days(self) -> np.ndarray:
        return np.arange(self.first_day, self.first_day + self.n_days)

    @property
    def tag(self) -> str:
        return f"{self.year:04d}{self.month:02d}"


def months_of(start: dt.date, months: int) -> list[Month]:
    if start.day != 1:
        raise ValueError(f"start must be the first day of a month, got {start}")
    if months < 1:
        raise ValueError("months must be >= 1")
    out = []
    y, m = start.year, start.month
    for i in range(months):
        first = dt.date(y, m, 1)
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append(Month(i, y, m, to_day(first), (dt.date(ny, nm, 1) - first).days))
        y, m = ny, nm
    return out


# --- day-of-period weights ------------------------------------------------------------------

PROFILES = ("retail", "online", "workday", "flat")


def _day_weight(profile: str, day: int) -> float:
    d = from_day(day)
    wd = weekday(day)
    w = 1.0
    cny = SPRING_FESTIVAL.get(d.year if d.month < 6 else d.year + 1)
    to_cny = (d - cny).days if cny else 999
    holiday = day in _holiday_days()
    if profile == "retail":
        w *= 1.35 if wd >= 5 else (1.1 if wd == 4 else 1.0)
        if -20 <= to_cny <= -2:  # buying for the New Year (年货)
            w *= 1.3 + 0.5 * (20 + to_cny) / 18
        elif -1 <= to_cny <= 6:
            w *= 0.8
        if d.month == 6 and d.day <= 17:
            w *= 1.15
        if (d.month, d.day) == (6, 18):
            w *= 1.8
        if d.month == 11 and d.day <= 10:
            w *= 1.15
        if (d.month, d.day) == (11, 11):
            w *= 2.0
        if (d.month, d.day) == (12, 12):
            w *= 1.3
        if d.month == 10 and d.day <= 7:  # Golden Week travel and shopping
            w *= 1.3
    elif profile == "online":
        w *= 1.1 if wd >= 5 else 1.0
        if -25 <= to_cny <= -8:
            w *= 1.5
        elif -7 <= to_cny <= 6:  # couriers stop for the holiday
            w *= 0.4
        if d.month == 6 and d.day <= 17:
            w *= 1.5
        if (d.month, d.day) == (6, 18):
            w *= 7.0
        if (d.month, d.day) == (10, 31):
            w *= 2.0
        if d.month == 11 and d.day <= 10:
            w *= 1.6
        if (d.month, d.day) == (11, 11):
            w *= 9.0
        if (d.month, d.day) == (11, 12):
            w *= 1.5
        if (d.month, d.day) == (12, 12):
            w *= 3.0
    elif profile == "workday":
        w = 0.3 if holiday else (1.0 if wd < 5 else 0.35)
    return w


@lru_cache(maxsize=64)
def _profile_weights(profile: str, first_day: int, n_days: int) -> np.ndarray:
    return np.array([_day_weight(profile, d) for d in range(first_day, first_day + n_days)])


@lru_cache(maxsize=16)
def _reference_level(profile: str) -> float:
    """Mean weight over two ordinary years, so a month factor of 1.0 means 'an average month'."""
    base = to_day(dt.date(2025, 1, 1))
    return float(_profile_weights(profile, base, 730).mean())


def month_factor(profile: str, month: Month) -> float:
    """How busy this month is for the profile relative to an average month."""
    w = _profile_weights(profile, month.first_day, month.n_days)
    return float(w.mean() / _reference_level(profile))


def day_weights(profile: str, month: Month) -> np.ndarray:
    return _profile_weights(profile, month.first_day, month.n_days)


# --- hour-of-day profiles ----------------------------------------------------------------------

_HOURS = {
    #           0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16   17   18   19   20   21   22   23
    "retail": (0.3, 0.15, 0.1, 0.05, 0.05, 0.1, 0.4, 1.2, 2.0, 2.2, 2.5, 3.5, 5.0, 4.0, 2.8, 2.6, 2.8, 3.5, 5.0, 5.5, 4.5, 3.0, 1.5, 0.7),
    "online": (1.5, 0.8, 0.4, 0.2, 0.1, 0.1, 0.3, 0.8, 1.5, 2.2, 2.8, 3.0, 3.5, 3.0, 2.8, 2.8, 3.0, 3.0, 3.2, 4.0, 5.0, 5.5, 5.0, 3.0),
    "office": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 2.0, 4.0, 4.5, 4.0, 2.0, 3.0, 4.5, 4.5, 4.0, 2.0, 0.5, 0.2, 0.1, 0.0, 0.0, 0.0),
    "personal": (0.2, 0.1, 0.05, 0.02, 0.02, 0.05, 0.3, 1.0, 2.0, 2.5, 2.8, 3.0, 3.0, 2.8, 2.6, 2.6, 2.8, 3.0, 3.2, 3.5, 3.5, 3.0, 1.8, 0.8),
    "batch": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 4.0, 3.0, 1.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "night": (2.0, 3.0, 3.0, 2.5, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
    "student": (1.5, 0.9, 0.4, 0.1, 0.05, 0.05, 0.2, 1.5, 2.5, 1.5, 1.5, 3.5, 5.0, 3.0, 1.8, 1.8, 2.0, 3.5, 5.0, 4.5, 4.0, 3.8, 3.0, 2.2),
}
_HOUR_CDF = {k: np.cumsum(v) / np.sum(v) for k, v in _HOURS.items()}


def sample_seconds_of_day(rng: np.random.Generator, n: int, hours: str) -> np.ndarray:
    hour = np.searchsorted(_HOUR_CDF[hours], rng.random(n), side="right")
    return hour.astype(np.int64) * HOUR + rng.integers(0, HOUR, n)


def sample_days(rng: np.random.Generator, month: Month, n: int, profile: str) -> np.ndarray:
    """Absolute day numbers inside ``month``, drawn in proportion to the profile's weights."""
    w = day_weights(profile, month)
    cdf = np.cumsum(w) / w.sum()
    return month.first_day + np.searchsorted(cdf, rng.random(n), side="right").clip(0, month.n_days - 1)


def sample_ts(
    rng: np.random.Generator, month: Month, n: int, profile: str, hours: str
) -> np.ndarray:
    return sample_days(rng, month, n, profile) * DAY + sample_seconds_of_day(rng, n, hours)


def spring_festival_in(month: Month) -> dt.date | None:
    """The Lunar New Year's day when it falls within ``month``'s red-packet window."""
    for cny in SPRING_FESTIVAL.values():
        first, last = to_day(cny) - 3, to_day(cny) + 7
        if first < month.first_day + month.n_days and last >= month.first_day:
            return cny
    return None


def is_bonus_month(month: Month) -> bool:
    """Year-end bonuses (年终奖) are paid in the month that holds the tenth day before 春节."""
    for cny in SPRING_FESTIVAL.values():
        d = to_day(cny) - 10
        if month.first_day <= d < month.first_day + month.n_days:
            return True
    return False
