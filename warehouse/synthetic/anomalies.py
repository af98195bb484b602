"""Planted suspicious patterns (truth: ``is_anomaly`` / ``anomaly_type``), about 0.2% of records.

- rapid_pass_through: a large inflow from a stranger leaves again within hours, split over two or
  three transfers (a mule account).
- structuring: several cash deposits just under the 50,000 CNY reporting threshold over a few
  days, then most of it transferred away.
- late_night_large: one large transfer out between 00:30 and 04:30.
- spike: a burst of unusually large purchases on one day (card, else platform, else debit POS).
Every record that belongs to a pattern is flagged, not only the first.
"""

from __future__ import annotations

import numpy as np

from . import bank, cards, payments
from .context import MonthContext, lognormal_cents
from .frames import CAT, CNY, Frame
from .personas import BUSINESS
from .seasonality import DAY, HOUR

EVENTS_PER_CUSTOMER_MONTH = 0.0022
KINDS = ("rapid_pass_through", "structuring", "late_night_large", "spike")
PASS_THROUGH, STRUCTURING, LATE_NIGHT, SPIKE = 1, 2, 3, 4  # frames.ANOMALY_TYPES codes
SPIKE_MCCS = ("5944", "5732", "7995", "5311")


class Planter:
    """Plants patterns month by month; kinds rotate so even a small book gets every kind."""

    # One cycle of kinds in the KIND_MIX proportions (3:2.5:2.5:2 ~ 6:5:5:4 of 20).
    CYCLE = np.array([1, 2, 3, 4, 1, 2, 3, 1, 4, 2, 3, 1, 2, 4, 3, 1, 2, 3, 4, 1])

    def __init__(self) -> None:
        self.planted = 0
        self.carry = 0.0

    def month(self, ctx: MonthContext, rng: np.random.Generator) -> dict[str, list[Frame]]:
        # Randomised rounding of the expected count keeps the long-run rate exact.
        expected = EVENTS_PER_CUSTOMER_MONTH * len(ctx.c) + self.carry
        n_events = int(expected)
        self.carry = expected - n_events
        kinds = self.CYCLE[(self.planted + np.arange(n_events)) % len(self.CYCLE)]
        self.planted += n_events
        return plant(ctx, rng, kinds)


def plant(ctx: MonthContext, rng: np.random.Generator, kinds: np.ndarray) -> dict[str, list[Frame]]:
    c, m, w = ctx.c, ctx.month, ctx.world
    reg = w.registry
    out: dict[str, list[Frame]] = {bank.TABLE: [], payments.TABLE: [], cards.TABLE: []}
    whole_month = (c.active_from <= m.start_ts) & (c.active_until >= m.end_ts + 7 * DAY)
    pool = np.flatnonzero(whole_month)
    if not len(pool):
        return out
    weight = np.where(c.persona[pool] == BUSINESS, 3.0, 1.0)
    who = rng.choice(pool, size=min(len(kinds), len(pool)), replace=False, p=weight / weight.sum())
    kind = kinds[:len(who)]
    # Leave room at the month end so a pattern's records stay inside the month.
    start = m.start_ts + (rng.random(len(who)) * (m.n_days - 4) * DAY).astype(np.int64)

    def persons(k: int) -> np.ndarray:
        return reg.persons + rng.integers(0, reg.n_persons, k)

    # Rapid pass-through.
    sel = np.flatnonzero(kind == PASS_THROUGH)
    if len(sel):
        cust = who[sel]
        t0 = (start[sel] // DAY) * DAY + rng.integers(9 * HOUR, 16 * HOUR, len(sel))
        amount = lognormal_cents(rng, np.full(len(sel), 250_000.0), 0.6, unit=10_000)
        out[bank.TABLE].append(bank.legs(ctx, cust, t0, amount, True, bank.S["转账"], persons(len(sel)),
                                         bank.ONLINE, CAT["transfer"], anom=PASS_THROUGH))
        k = rng.integers(2, 4, len(sel))
        share_left = amount * rng.uniform(0.97, 0.995, len(sel))
        for j in range(3):
            rows = np.flatnonzero(k > j)
            amt = np.round(share_left[rows] / k[rows] / 100) * 100
            ts = t0[rows] + (j + 1) * rng.integers(10 * 60, 100 * 60, len(rows))
            out[bank.TABLE].append(bank.legs(ctx, cust[rows], ts, amt.astype(np.int64), False, bank.S["转账"],
                                             persons(len(rows)), bank.MOBILE, CAT["transfer"], anom=PASS_THROUGH))

    # Structuring: cash deposits just under 50,000 on consecutive days, then a transfer out.
    sel = np.flatnonzero(kind == STRUCTURING)
    if len(sel):
        cust = who[sel]
        k = rng.integers(3, 7, len(sel))
        total = np.zeros(len(sel))
        last = start[sel].copy()
        for j in range(6):
            rows = np.flatnonzero(k > j)
            day = start[sel][rows] // DAY + j // 2
            ts = day * DAY + rng.integers(9 * HOUR, 17 * HOUR, len(rows))
            amt = (rng.integers(4_500, 5_000, len(rows)) * 1_000).astype(np.int64)  # 45,000.00-49,990.00
            total[rows] += amt
            last[rows] = np.maximum(last[rows], ts)
            out[bank.TABLE].append(bank.legs(ctx, cust[rows], ts, amt, True, bank.S["现金存入"], -1, bank.COUNTER,
                                             CAT["cash"], anom=STRUCTURING))
        ts = last + rng.integers(2 * HOUR, 20 * HOUR, len(sel))
        amt = (np.round(total * rng.uniform(0.85, 0.98, len(sel)) / 10_000) * 10_000).astype(np.int64)
        out[bank.TABLE].append(bank.legs(ctx, cust, ts, amt, False, bank.S["转账"], persons(len(sel)), bank.MOBILE,
                                         CAT["transfer"], anom=STRUCTURING))

    # Late-night large transfer.
    sel = np.flatnonzero(kind == LATE_NIGHT)
    if len(sel):
        cust = who[sel]
        ts = (start[sel] // DAY) * DAY + rng.integers(30 * 60, 4 * HOUR + 30 * 60, len(sel))
        amt = lognormal_cents(rng, np.full(len(sel), 120_000.0), 0.5, unit=10_000)
        out[bank.TABLE].append(bank.legs(ctx, cust, ts, amt, False, bank.S["转账"], persons(len(sel)), bank.MOBILE,
                                         CAT["transfer"], anom=LATE_NIGHT))

    # Spending spike: a burst of big purchases on one day.
    sel = np.flatnonzero(kind == SPIKE)
    if len(sel):
        cust_all = who[sel]
        k = rng.integers(4, 9, len(sel))
        cust = np.repeat(cust_all, k)
        day = np.repeat(start[sel] // DAY, k)
        ts = day * DAY + rng.integers(10 * HOUR, 22 * HOUR, len(cust))
        code = np.array(SPIKE_MCCS)[rng.integers(0, len(SPIKE_MCCS), len(cust))]
        merch = np.array([w.merchants.by_mcc[m_][rng.integers(0, len(w.merchants.by_mcc[m_]))] for m_ in code],
                         dtype=np.int64)
        amt = lognormal_cents(rng, w.merchants.ticket[merch] * c.spend_scale[cust] * 4, 0.4)
        card_of = np.full(len(c), -1, dtype=np.int64)
        card_of[w.cards.cust] = np.arange(len(w.cards))
        has_card = (card_of[cust] >= 0)
        if has_card.any():
            card = card_of[cust]
            has_card &= ts // DAY > w.cards.open_day[np.maximum(card, 0)]
        on_platform = c.has_platform[cust] & (ts >= w.platform_from[cust]) & ~has_card
        r = np.flatnonzero(has_card)
        out[cards.TABLE].append(Frame.build(
            cards.TABLE, len(r), rid=ctx.ids.card_txn(ts[r]), cust=cust[r], ts=ts[r], cents=amt[r], cur=CNY, dir=0,
            cat=w.merchants.category[merch[r]], anom=SPIKE, card=card_of[cust[r]], post_day=ts[r] // DAY + 1,
            ttype=cards.PURCHASE, merch=merch[r]))
        r = np.flatnonzero(on_platform)
        out[payments.TABLE].append(Frame.build(
            payments.TABLE, len(r), rid=ctx.ids.trade(ts[r]), cust=cust[r], ts=ts[r], cents=amt[r], cur=CNY, dir=0,
            cat=w.merchants.category[merch[r]], anom=SPIKE, status=payments.SUCCESS, ttype=payments.PAYMENT,
            merch=merch[r], fsrc=payments.BANK_CARD))
        r = np.flatnonzero(~has_card & ~on_platform)
        out[bank.TABLE].append(bank.legs(ctx, cust[r], ts[r], amt[r], False, bank.S["消费"],
                                         reg.merchants + merch[r], bank.POS, w.merchants.category[merch[r]],
                                         anom=SPIKE))
    return out
