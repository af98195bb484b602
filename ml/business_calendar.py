"""Business days per calendar month in mainland China: weekdays minus the public holidays.

Why the forecast needs it: business takings, supplier payments and wealth-product purchases
happen on working days, so a month's flows move with its number of business days (October
loses a week to National Day, the Spring Festival month loses another, a month with five
weekends loses two days), and that calendar differs from the same month last year.

The days off are the State Council's published schedules where they are known
(``PUBLISHED_DAYS_OFF``); other years follow the fixed rules (New Year's Day, Labour Day
1-5 May, National Day 1-7 October) plus the Spring Festival week from ``SPRING_FESTIVAL``
(the eve to the fifth day); the lunar Dragon Boat and Mid-Autumn days and the make-up working
weekends (调休) are left out there. Hand-written because no holiday package is a dependency
here; ``chinese-calendar`` or ``holidays`` (PyPI) would replace the tables.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

# Lunar New Year's day (春节).
SPRING_FESTIVAL = {
    2015: dt.date(2015, 2, 19), 2016: dt.date(2016, 2, 8), 2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16), 2019: dt.date(2019, 2, 5), 2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3), 2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31), 2034: dt.date(2034, 2, 19), 2035: dt.date(2035, 2, 8),
}

# Official days off (first, last), from the State Council's yearly notices.
PUBLISHED_DAYS_OFF = {
    2024: (("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
           ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
           ("2024-10-01", "2024-10-07")),
    2025: (("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
           ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")),
    2026: (("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
           ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
           ("2026-10-01", "2026-10-07")),
}


def _rule_days_off(year: int) -> list[tuple[str, str]]:
    ranges = [(f"{year}-01-01", f"{year}-01-01"), (f"{year}-05-01", f"{year}-05-05"), (f"{year}-10-01", f"{year}-10-07")]
    festival = SPRING_FESTIVAL.get(year)
    if festival is not None:
        ranges.append(((festival - dt.timedelta(days=1)).isoformat(), (festival + dt.timedelta(days=5)).isoformat()))
    return ranges


@lru_cache(maxsize=8)
def _days_off(first_year: int, last_year: int) -> np.ndarray:
    days: list[np.ndarray] = []
    for year in range(first_year, last_year + 1):
        for first, last in PUBLISHED_DAYS_OFF.get(year) or _rule_days_off(year):
            days.append(np.arange(np.datetime64(first), np.datetime64(last) + 1))
    return np.unique(np.concatenate(days)) if days else np.array([], dtype="datetime64[D]")


def business_days(month_numbers: np.ndarray) -> np.ndarray:
    """Business days of each month, months given as ``year * 12 + month - 1``."""
    numbers = np.asarray(month_numbers, dtype="int64")
    if numbers.size == 0:
        return np.zeros(0)
    starts = (numbers - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    ends = (numbers + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    holidays = _days_off(int(numbers.min() // 12), int(numbers.max() // 12))
    return np.busday_count(starts, ends, holidays=holidays).astype("float64")
