"""What every channel needs while generating one month, and small sampling helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog
from .frames import RecordIds
from .fx import FxRates
from .personas import STUDENT
from .seasonality import DAY, Month, month_factor, sample_seconds_of_day, sample_ts
from .world import World


@dataclass
class MonthContext:
    world: World
    fx: FxRates
    ids: RecordIds
    month: Month
    period_start: int  # local seconds
    period_end: int  # local seconds, exclusive

    @property
    def c(self):
        return self.world.customers

    def fade(self) -> np.ndarray:
        """Per-customer activity multiplier this month: churners fade out before leaving."""
        c = self.c
        mid = (self.month.start_ts + self.month.end_ts) / 2
        left = (c.active_until - mid) / (90 * DAY)
        return np.where(c.is_churner, np.clip(left, 0.25, 1.0), 1.0)

    def draw(self, rng: np.random.Generator, rate: np.ndarray, profile: str, hours: str,
             until_guard: int = 0, student_hours: str | None = None,
             since: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Poisson event counts per customer at ``rate`` per month, with timestamps.

        Events outside a customer's active window (joined late, churned) are dropped, so a
        half-active month gets about half the events.
        """
        c = self.c
        lam = np.asarray(rate, dtype=float) * self.fade() * month_factor(profile, self.month)
        counts = rng.poisson(np.maximum(lam, 0))
        cust = np.repeat(np.arange(len(c), dtype=np.int64), counts)
        ts = sample_ts(rng, self.month, len(cust), profile, hours)
        if student_hours is not None:
            st = np.flatnonzero(c.persona[cust] == STUDENT)
            ts[st] = (ts[st] // DAY) * DAY + sample_seconds_of_day(rng, len(st), student_hours)
        start = c.active_from if since is None else np.maximum(c.active_from, since)
        # The guard only concerns churners: their last weeks must leave room for follow-ups.
        limit = c.active_until - np.where(c.is_churner, until_guard, 0)
        keep = (ts >= start[cust]) & (ts < limit[cust])
        return cust[keep], ts[keep]

    def active_at(self, cust: np.ndarray, ts: np.ndarray) -> np.ndarray:
        c = self.c
        return (ts >= c.active_from[cust]) & (ts < c.active_until[cust])


def lognormal_cents(rng: np.random.Generator, median: np.ndarray, sigma: float, unit: int = 1) -> np.ndarray:
    """Amounts in cents around ``median`` (CNY), rounded to ``unit`` cents (100 = whole yuan)."""
    v = np.asarray(median, dtype=float) * np.exp(rng.normal(0, sigma, np.shape(median)))
    cents = np.round(v * 100 / unit) * unit
    return np.maximum(cents, unit).astype(np.int64)


def round_like_people(rng: np.random.Generator, cents: np.ndarray, p_round: float = 0.7) -> np.ndarray:
    """People send round sums: most transfers are whole tens or hundreds of yuan."""
    r = rng.random(len(cents))
    hundred = np.maximum(np.round(cents / 10_000) * 10_000, 10_000)
    ten = np.maximum(np.round(cents / 1_000) * 1_000, 1_000)
    return np.where(r < p_round * 0.5, hundred, np.where(r < p_round, ten, cents)).astype(np.int64)


def pick_mcc(rng: np.random.Generator, persona: np.ndarray) -> np.ndarray:
    """Index into ``catalog.MCC_CODES`` (consumption MCCs only) by persona spending mix."""
    codes = [m for m in catalog.MCC_CODES if m in catalog.MCC_WEIGHTS]
    w = np.array([catalog.MCC_WEIGHTS[m] for m in codes]).T  # (persona, mcc)
    cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    local = (rng.random(len(persona))[:, None] > cdf[persona]).sum(axis=1).clip(0, len(codes) - 1)
    to_global = np.array([catalog.MCC_CODES.index(m) for m in codes])
    return to_global[local]


def choose(rng: np.random.Generator, p: np.ndarray | list[float], n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.searchsorted(np.cumsum(p) / p.sum(), rng.random(n), side="right").clip(0, len(p) - 1)
