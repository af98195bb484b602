"""Daily FX rates to CNY: a random walk around realistic levels, business days only.

Rows exist only for business days (no weekends, no Chinese statutory holidays; the longest gap is
the Spring Festival week, up to 10 days). Consumers must carry the last known rate forward, as
the generator itself does (``FxRates.rate``). Rates start two weeks before the period so the
first days of the period have a rate to carry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import CNY, CURRENCIES, HKD, USD
from .seasonality import Month, from_day, is_business_day

START_LEVEL = {"USD": 7.16, "HKD": 0.921, "EUR": 7.74, "JPY": 0.0472, "GBP": 9.28}
DAILY_VOL = {"USD": 0.0018, "HKD": 0.0004, "EUR": 0.0040, "JPY": 0.0055, "GBP": 0.0042}
DECIMALS = {"USD": 4, "HKD": 4, "EUR": 4, "JPY": 6, "GBP": 4}


@dataclass
class FxRates:
    days: np.ndarray  # business days with a rate
    rates: np.ndarray  # (len(days), len(CURRENCIES)); column CNY is 1.0

    def rate(self, currency: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Rate to CNY for each (currency code, day): the last published rate on or before it."""
        pos = np.searchsorted(self.days, np.asarray(day), side="right") - 1
        return self.rates[np.clip(pos, 0, len(self.days) - 1), np.asarray(currency, dtype=np.int64)]

    def rows(self) -> list[tuple[str, str, str]]:
        out = []
        for i, d in enumerate(self.days):
            date = from_day(int(d)).isoformat()
            for k, cur in enumerate(CURRENCIES):
                if k == CNY:
                    continue
                out.append((date, cur, f"{self.rates[i, k]:.{DECIMALS[cur]}f}"))
        return out


def generate_fx(months: list[Month], rng: np.random.Generator) -> FxRates:
    first = months[0].first_day - 14
    last = months[-1].first_day + months[-1].n_days - 1
    days = np.array([d for d in range(first, last + 1) if is_business_day(d)], dtype=np.int64)
    rates = np.ones((len(days), len(CURRENCIES)))
    for k, cur in enumerate(CURRENCIES):
        if k in (CNY, HKD):
            continue
        steps = rng.normal(0, DAILY_VOL[cur], len(days))
        # Mean reversion keeps two years of walk inside a believable band.
        level = np.empty(len(days))
        x = 0.0
        for i, s in enumerate(steps):
            x = 0.995 * x + s
            level[i] = x
        rates[:, k] = START_LEVEL[cur] * np.exp(level)
    # The Hong Kong dollar is pegged to the US dollar (7.75-7.85 HKD per USD).
    peg = 7.80 + np.clip(np.cumsum(rng.normal(0, 0.004, len(days))), -0.045, 0.045)
    rates[:, HKD] = rates[:, USD] / peg
    for k, cur in enumerate(CURRENCIES):
        if k != CNY:
            rates[:, k] = np.round(rates[:, k], DECIMALS[cur])
    return FxRates(days=days, rates=rates)
