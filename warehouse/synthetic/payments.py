"""Payment platform (快付通): trades of customers bound by phone, and the wallet they keep.

Trade semantics the demo follows (the platform's, documented for staging):
- PAYMENT money to a merchant (``mcc``); ``order_ref`` is set when it pays an e-commerce order.
- REFUND money back from a merchant (``order_ref`` set for returned orders).
- TRANSFER_OUT / TRANSFER_IN to / from another platform user (``counterparty_user_id``);
  red packets a customer *sends* are TRANSFER_OUTs.
- RED_PACKET a red packet (红包) the customer *received*.
- TOPUP wallet funded from the customer's bank account (the bank shows a 借 line to 快付通支付).
- WITHDRAW wallet paid out to the bank account (the bank shows a 贷 line).
- status CLOSED / FAILED: no money moved. TOPUP and WITHDRAW always succeed in the demo.
- funding_source BANK_CARD / CREDIT_CARD means a card the customer linked from another issuer,
  so such payments have no second leg in the bank or card files; BALANCE is the wallet.
The wallet is kept consistent: each month, top-ups cover what the wallet pays out beyond what
came in, and surplus is sometimes withdrawn.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..landing.specs import spec_for
from . import bank
from .context import MonthContext, choose, lognormal_cents, pick_mcc, round_like_people
from .dirt import Delivery
from .frames import CAT, CNY, Frame
from .personas import RATES, STUDENT
from .seasonality import DAY, HOUR, from_day, sample_seconds_of_day, spring_festival_in, to_day
from .textops import clock_text, date_text, encode, int_text, join, take
from .world import CURRENCY_TEXT

TABLE = "payments__trades"
TRADE_TYPES = ("PAYMENT", "REFUND", "TRANSFER_IN", "TRANSFER_OUT", "TOPUP", "WITHDRAW", "RED_PACKET")
PAYMENT, REFUND, TRANSFER_IN, TRANSFER_OUT, TOPUP, WITHDRAW, RED_PACKET = range(7)
STATUSES = ("SUCCESS", "CLOSED", "FAILED")
SUCCESS, CLOSED, FAILED = range(3)
FUNDING = ("BALANCE", "BANK_CARD", "CREDIT_CARD")
BALANCE, BANK_CARD, CREDIT_CARD = range(3)
LUCKY_FEN = np.array([666, 888, 1_666, 1_888, 6_600, 8_800, 10_000, 16_800, 18_800, 20_000, 52_000, 66_600, 88_800])


class Wallets:
    """Platform wallet balance per customer (fen), carried month to month."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.balance = np.round(rng.uniform(0, 300, n)) * 100


def _funding(rng: np.random.Generator, ctx: MonthContext, cust: np.ndarray) -> np.ndarray:
    cdf = ctx.c.funding_cdf[cust]
    return (rng.random(len(cust))[:, None] > cdf).sum(axis=1).clip(0, 2).astype(np.int8)


def _status(rng: np.random.Generator, n: int, p_closed: float, p_failed: float) -> np.ndarray:
    return choose(rng, [1 - p_closed - p_failed, p_closed, p_failed], n).astype(np.int8)


def trades(ctx: MonthContext, rng: np.random.Generator) -> list[Frame]:
    """The platform's own trades this month (before wallet top-ups / withdrawals)."""
    w, c = ctx.world, ctx.c
    p = c.persona
    on = c.has_platform * c.activity[:, 1]
    since = w.platform_from
    out: list[Frame] = []
    merchants = w.merchants

    # Payments to merchants.
    cust, ts = ctx.draw(rng, RATES["pay"][p] * on, "retail", "retail", student_hours="student", since=since,
                        until_guard=2 * DAY)
    merch = merchants.pick(pick_mcc(rng, p[cust]), rng)
    abroad = rng.random(len(cust)) < np.where(c.spend_scale[cust] > 1.8, 0.02, 0.002)
    n_foreign = merchants.n_foreign
    merch = np.where(abroad, merchants.n_domestic + rng.integers(0, n_foreign, len(cust)), merch)
    cur = merchants.currency[merch]
    cny = merchants.ticket[merch] * c.spend_scale[cust] * np.where(p[cust] == STUDENT, 0.8, 0.6)
    rate = ctx.fx.rate(cur, ts // DAY)
    amt = lognormal_cents(rng, cny / rate, 0.6)
    status = _status(rng, len(cust), 0.03, 0.02)
    fund = _funding(rng, ctx, cust)
    pay = Frame.build(TABLE, len(cust), rid=ctx.ids.trade(ts), cust=cust, ts=ts, cents=amt, cur=cur, dir=0,
                      cat=merchants.category[merch], status=status, ttype=PAYMENT, merch=merch, fsrc=fund)
    out.append(pay)

    # Some successful payments are refunded within days (may fall in a later month).
    ok = np.flatnonzero((status == SUCCESS) & (rng.random(len(cust)) < 0.015))
    if len(ok):
        rts = ts[ok] + rng.integers(HOUR, 10 * DAY, len(ok))
        keep = rts < np.minimum(ctx.period_end, c.active_until[cust[ok]])
        ok, rts = ok[keep], rts[keep]
        out.append(Frame.build(TABLE, len(ok), rid=ctx.ids.trade(rts), cust=cust[ok], ts=rts, cents=amt[ok],
                               cur=cur[ok], dir=1, cat=CAT["refund"], status=SUCCESS, ttype=REFUND,
                               merch=merch[ok], fsrc=fund[ok]))

    n_ext = len(w.external_users)
    # Transfers to and from other users.
    for key, ttype, inflow in (("transfer_out", TRANSFER_OUT, False), ("transfer_in", TRANSFER_IN, True)):
        cust, ts = ctx.draw(rng, RATES[key][p] * on, "flat", "personal", student_hours="student", since=since,
                            until_guard=2 * DAY)
        median = np.where((p[cust] == STUDENT) & inflow, c.income[cust] * 0.35, 300 * c.spend_scale[cust])
        amt = round_like_people(rng, lognormal_cents(rng, median, 0.8))
        fund = np.where(inflow, -1, np.where(rng.random(len(cust)) < 0.6, BALANCE, BANK_CARD))
        status = _status(rng, len(cust), 0.0, 0.02)
        out.append(Frame.build(TABLE, len(cust), rid=ctx.ids.trade(ts), cust=cust, ts=ts, cents=amt, cur=CNY,
                               dir=int(inflow), cat=CAT["transfer"], status=status, ttype=ttype, fsrc=fund,
                               cpu=rng.integers(0, n_ext, len(cust))))

    # Red packets received all year round, and the Spring Festival flood of them.
    cust, ts = ctx.draw(rng, RATES["red_packet"][p] * on, "flat", "personal", since=since, until_guard=2 * DAY)
    frames_rp = [(cust, ts, False)]
    cny = spring_festival_in(ctx.month)
    if cny is not None:
        first = max(to_day(cny) - 1, ctx.month.first_day)
        last = min(to_day(cny) + 5, ctx.month.first_day + ctx.month.n_days - 1)
        if last >= first:
            share = (last - first + 1) / 7
            for key, sent in (("cny_red_packet_in", False), ("cny_red_packet_out", True)):
                lam = RATES[key][p] * on * share * ctx.fade()
                counts = rng.poisson(lam)
                cc = np.repeat(np.arange(len(c)), counts)
                days = rng.integers(first, last + 1, len(cc))
                # New Year's Eve evening is the peak.
                eve = rng.random(len(cc)) < 0.35
                days = np.where(eve & (to_day(cny) - 1 >= first), to_day(cny) - 1, days)
                tts = days * DAY + sample_seconds_of_day(rng, len(cc), "online")
                limit = c.active_until - np.where(c.is_churner, 2 * DAY, 0)
                keep = (tts >= np.maximum(c.active_from, since)[cc]) & (tts < limit[cc])
                frames_rp.append((cc[keep], tts[keep], sent))
    for cust, ts, sent in frames_rp:
        scale = np.where(p[cust] == STUDENT, 3, 1)
        lucky = LUCKY_FEN[rng.integers(0, len(LUCKY_FEN) - 3, len(cust)) + (scale > 1) * 3]
        amt = np.where(sent, lucky * np.where(c.spend_scale[cust] > 1.8, 2, 1), lucky).astype(np.int64)
        ttype = TRANSFER_OUT if sent else RED_PACKET
        out.append(Frame.build(TABLE, len(cust), rid=ctx.ids.trade(ts), cust=cust, ts=ts, cents=amt, cur=CNY,
                               dir=int(not sent), cat=CAT["transfer"], status=SUCCESS, ttype=ttype,
                               fsrc=BALANCE if sent else -1, cpu=rng.integers(0, n_ext, len(cust))))
    return out


def balance_wallets(ctx: MonthContext, month_trades: Frame, wallets: Wallets,
                    rng: np.random.Generator) -> tuple[list[Frame], list[Frame]]:
    """Top-ups and withdrawals that keep each wallet funded, with their bank legs."""
    c = ctx.c
    n = len(c)
    t = month_trades
    ok = t["status"] == SUCCESS
    cur_cny = t["cur"] == CNY
    wallet_in = ok & cur_cny & (
        np.isin(t["ttype"], [TRANSFER_IN, RED_PACKET]) | ((t["ttype"] == REFUND) & (t["fsrc"] == BALANCE)))
    wallet_out = ok & cur_cny & np.isin(t["ttype"], [PAYMENT, TRANSFER_OUT]) & (t["fsrc"] == BALANCE)
    inflow = np.bincount(t["cust"][wallet_in], weights=t["cents"][wallet_in], minlength=n)
    outflow = np.bincount(t["cust"][wallet_out], weights=t["cents"][wallet_out], minlength=n)
    active = np.bincount(t["cust"], minlength=n) > 0
    m = ctx.month
    keep_at_hand = 20_000  # fen
    need = outflow - inflow - wallets.balance + keep_at_hand
    # Top-ups: one or two, adding up to what is needed (rounded up to whole hundreds of yuan).
    tu = np.flatnonzero(active & (need > 0))
    total = (np.ceil(need[tu] / 10_000) * 10_000).astype(np.int64)
    split = rng.random(len(tu)) < 0.3
    first = np.where(split, np.maximum(np.round(total * 0.5 / 10_000) * 10_000, 10_000), total).astype(np.int64)
    cust = np.concatenate([tu, tu[split]])
    amt = np.concatenate([first, (total - first)[split]])
    keep = amt > 0
    cust, amt = cust[keep], amt[keep]
    lo = np.maximum(np.maximum(c.active_from[cust], ctx.world.platform_from[cust]), m.start_ts) + 600
    hi = np.minimum(c.active_until[cust] - np.where(c.is_churner[cust], 2 * DAY, 0), m.end_ts)
    ok_window = hi > lo
    cust, amt, lo, hi = cust[ok_window], amt[ok_window], lo[ok_window], hi[ok_window]
    ts = lo + (rng.random(len(cust)) * (hi - lo)).astype(np.int64)
    ts = (ts // DAY) * DAY + sample_seconds_of_day(rng, len(cust), "personal")
    ts = np.minimum(np.maximum(ts, lo), hi - 1)
    topup_ids = ctx.ids.trade(ts)
    leg_ts = ts - rng.integers(5, 180, len(cust))
    leg = bank.legs(ctx, cust, leg_ts, amt, False, bank.S["充值"], ctx.world.registry.platform, bank.THIRD_PARTY,
                    CAT["transfer"], internal=True, match=topup_ids)
    topups = Frame.build(TABLE, len(cust), rid=topup_ids, cust=cust, ts=ts, cents=amt, cur=CNY, dir=1,
                         cat=CAT["transfer"], internal=True, match=leg["rid"], status=SUCCESS, ttype=TOPUP,
                         fsrc=BANK_CARD)
    added = np.bincount(cust, weights=amt, minlength=n)

    # Withdrawals: surplus beyond a comfortable float is sometimes sent back to the bank.
    surplus = wallets.balance + inflow - outflow + added
    float_kept = np.where(c.persona == STUDENT, 300_000, 100_000)
    wd = np.flatnonzero(active & (surplus > float_kept) & (rng.random(n) < 0.5))
    amt = (np.floor(surplus[wd] * rng.uniform(0.5, 0.9, len(wd)) / 10_000) * 10_000).astype(np.int64)
    cust = wd[amt > 0]
    amt = amt[amt > 0]
    lo = np.maximum(np.maximum(c.active_from[cust], ctx.world.platform_from[cust]), m.start_ts)
    hi = np.minimum(c.active_until[cust] - np.where(c.is_churner[cust], 2 * DAY, 0), m.end_ts)
    ok_window = hi > lo
    cust, amt, lo, hi = cust[ok_window], amt[ok_window], lo[ok_window], hi[ok_window]
    ts = lo + (rng.random(len(cust)) * (hi - lo)).astype(np.int64)
    wd_ids = ctx.ids.trade(ts)
    # Paid out within minutes, or the next business morning.
    fast = rng.random(len(cust)) < 0.7
    nxt = (ts // DAY + 1) * DAY + 9 * HOUR + rng.integers(0, 3 * HOUR, len(cust))
    leg_ts = np.where(fast, ts + rng.integers(60, 1800, len(cust)), nxt)
    leg_ts = np.minimum(leg_ts, np.minimum(ctx.period_end, c.active_until[cust]) - 60)
    leg_ts = np.maximum(leg_ts, ts)
    leg2 = bank.legs(ctx, cust, leg_ts, amt, True, bank.S["提现"], ctx.world.registry.platform, bank.THIRD_PARTY,
                     CAT["transfer"], internal=True, match=wd_ids)
    withdrawals = Frame.build(TABLE, len(cust), rid=wd_ids, cust=cust, ts=ts, cents=amt, cur=CNY, dir=0,
                              cat=CAT["transfer"], internal=True, match=leg2["rid"], status=SUCCESS,
                              ttype=WITHDRAW, fsrc=BALANCE)
    taken = np.bincount(cust, weights=amt, minlength=n)
    wallets.balance = surplus - taken
    return [topups, withdrawals], [leg, leg2]


# --- delivery ------------------------------------------------------------------------------------

_TYPES = encode(TRADE_TYPES)
_STATUS = encode(STATUSES)
_FUNDING = encode(FUNDING)


def _iso(ts: np.ndarray, suffix: str) -> pa.Array:
    return join(date_text(ts // DAY), "T", clock_text(ts), suffix) if suffix else join(date_text(ts // DAY), "T", clock_text(ts))


def _fmt_utc(ts: np.ndarray):
    return _iso(ts - 8 * HOUR, "Z"), None


def _fmt_epoch(ts: np.ndarray):
    return int_text((ts - 8 * HOUR) * 1000), np.ones(len(ts), dtype=bool)


def _fmt_naive(ts: np.ndarray):
    return _iso(ts, ""), None


def delivery(ctx: MonthContext, f: Frame) -> Delivery:
    w, m = ctx.world, ctx.month
    merch = f["merch"]
    midx = pa.array(merch, mask=merch < 0)
    cpu = f["cpu"]
    fs = f["fsrc"]
    fields = {
        "trade_no": f["rid"],
        "user_id": take(w.user_id, f["cust"]),
        "created_at": _iso(f["ts"], "+08:00"),
        "trade_type": take(_TYPES, f["ttype"]),
        "amount_fen": int_text(f["cents"]),
        "currency": take(CURRENCY_TEXT, f["cur"]),
        "merchant": w.merchants.name_text.take(midx),
        "mcc": w.merchants.mcc_text.take(midx),
        "status": take(_STATUS, f["status"]),
        "funding_source": _FUNDING.take(pa.array(fs, mask=fs < 0)),
        "order_ref": f["oref"],
        "counterparty_user_id": w.external_users.take(pa.array(cpu, mask=cpu < 0)),
    }
    s = spec_for(TABLE)
    n = len(f)
    return Delivery(
        table=TABLE, columns=s.columns, encoding=s.encoding, file_format=s.file_format,
        files=[f"payments/pay_{from_day(d).strftime('%Y%m%d')}.jsonl" for d in m.days],
        file_idx=f["ts"] // DAY - m.first_day, record_id=f["rid"], fields=fields,
        json_raw={"amount_fen": np.ones(n, dtype=bool)},
        missing_cols=("mcc", "merchant", "currency"),
        outlier_col="amount_fen", outlier_value=f["cents"], outlier_format=int_text,
        currency_col="currency", cny_rows=f["cur"] == CNY,
        date_col="created_at",
        date_formats={"utc_z": _fmt_utc, "epoch_ms": _fmt_epoch, "no_offset": _fmt_naive},
        ts=f["ts"],
    )


def sort_for_files(f: Frame) -> Frame:
    return f.take(np.lexsort((np.arange(len(f)), f["ts"])))


__all__ = ["TABLE", "Wallets", "trades", "balance_wallets", "delivery"]
