"""Credit cards: transactions, monthly statements, and the repayments the bank shows.

Each card has a statement day. A statement bills what posted since the previous one, plus the
previous balance less what was paid, plus interest (0.05% a day on what was left unpaid) and a
late fee (5% of the shortfall against the minimum). The minimum due is 10% of the balance, the
due date 20 days after the statement. How much is paid, and when, depends on the customer's
payer type (full, minimum, partial, often late); every payment is also a bank 借 line 信用卡还款
on the paid date, whose record id is the statement's ``<pan>-<statement date YYYYMMDD>``.
Foreign-currency transactions are billed in CNY at the day's rate.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..landing.specs import spec_for
from . import bank
from .context import MonthContext, choose, lognormal_cents, pick_mcc
from .dirt import Delivery
from .frames import CAT, CNY, Frame, statement_id
from .personas import AFFLUENT, BUSINESS, RATES
from .seasonality import DAY, HOUR, sample_seconds_of_day
from .textops import amount_text, date_text, datetime_text, encode, take
from .world import CURRENCY_TEXT

TABLE = "cards__transactions"
STATEMENTS = "cards__statements"
TXN_TYPES = ("PURCHASE", "REFUND", "CASH_ADVANCE", "FEE", "INTEREST")
PURCHASE, REFUND, CASH_ADVANCE, FEE, INTEREST = range(5)
DAILY_INTEREST = 0.0005
LATE_FEE = 0.05
TRAVEL_MCCS = ("7011", "4511", "5311", "5977", "5912", "5732")
PAID_UNKNOWN = -2  # statement paid after the export: paid_amount / paid_date blank


def _card_of(ctx: MonthContext) -> np.ndarray:
    cards = ctx.world.cards
    out = np.full(len(ctx.c), -1, dtype=np.int64)
    out[cards.cust] = np.arange(len(cards))
    return out


def transactions(ctx: MonthContext, rng: np.random.Generator) -> Frame:
    """Purchases, refunds (possibly in a later month), cash advances and annual fees."""
    w, c, m = ctx.world, ctx.c, ctx.month
    cards = w.cards
    card_of = _card_of(ctx)
    p = c.persona
    holder = card_of >= 0
    since = np.where(holder, cards.open_day[np.maximum(card_of, 0)] * DAY, np.iinfo(np.int64).max // 2)
    frames: list[Frame] = []

    # Churners stop using the card five weeks before leaving, so its last bill is settled in time.
    cust, ts = ctx.draw(rng, RATES["card_purchase"][p] * holder * c.activity[:, 3], "retail", "retail",
                        since=since, until_guard=35 * DAY)
    mcc = pick_mcc(rng, p[cust])
    merch = w.merchants.pick(mcc, rng)
    travel = np.isin(w.merchants.mcc[merch], TRAVEL_MCCS)
    abroad = travel & np.isin(p[cust], [AFFLUENT, BUSINESS]) & (rng.random(len(cust)) < 0.25)
    foreign = w.merchants.n_domestic + rng.integers(0, w.merchants.n_foreign, len(cust))
    merch = np.where(abroad, foreign, merch)
    cur = w.merchants.currency[merch]
    cny = w.merchants.ticket[merch] * c.spend_scale[cust]
    amt = lognormal_cents(rng, cny / ctx.fx.rate(cur, ts // DAY), 0.65)
    post = ts // DAY + choose(rng, [0.15, 0.6, 0.25], len(cust))
    card = card_of[cust]
    frames.append(Frame.build(TABLE, len(cust), rid=ctx.ids.card_txn(ts), cust=cust, ts=ts, cents=amt, cur=cur,
                              dir=0, cat=w.merchants.category[merch], card=card, post_day=post,
                              ttype=PURCHASE, merch=merch))

    ref = np.flatnonzero(rng.random(len(cust)) < 0.02)
    rts = ts[ref] + rng.integers(2 * DAY, 20 * DAY, len(ref))
    keep = rts < np.minimum(ctx.period_end, c.active_until[cust[ref]])
    ref, rts = ref[keep], rts[keep]
    frames.append(Frame.build(TABLE, len(ref), rid=ctx.ids.card_txn(rts), cust=cust[ref], ts=rts, cents=amt[ref],
                              cur=cur[ref], dir=1, cat=CAT["refund"], card=card[ref], post_day=rts // DAY + 1,
                              ttype=REFUND, merch=merch[ref]))

    revolver = np.isin(c.payer_type, [1, 3])
    cust, ts = ctx.draw(rng, np.where(revolver, 0.08, 0.01) * holder, "flat", "retail", since=since,
                        until_guard=35 * DAY)
    amt = (np.maximum(np.round(lognormal_cents(rng, np.full(len(cust), 1500.0), 0.6) / 10_000), 1) * 10_000)
    frames.append(Frame.build(TABLE, len(cust), rid=ctx.ids.card_txn(ts), cust=cust, ts=ts,
                              cents=amt.astype(np.int64), cur=CNY, dir=0, cat=CAT["cash"], card=card_of[cust],
                              post_day=ts // DAY, ttype=CASH_ADVANCE, merch=w.merchants.atm))

    # Annual fee on premium cards, in the card's anniversary month (half of them waived).
    open_month = cards.open_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    premium = np.isin(cards.product, [1, 4]) & (np.arange(len(cards)) % 2 == 0)
    due = np.flatnonzero(premium & (open_month == m.month) & (cards.open_day < m.first_day - 300))
    ts = (m.first_day + 2) * DAY + 3 * HOUR + np.zeros(len(due), dtype=np.int64)
    cust = cards.cust[due].astype(np.int64)
    ok = ctx.active_at(cust, ts) & (ts < c.active_until[cust] - 35 * DAY)
    due, ts, cust = due[ok], ts[ok], cust[ok]
    fee = np.where(cards.product[due] == 4, 200_000, 60_000)
    frames.append(Frame.build(TABLE, len(due), rid=ctx.ids.card_txn(ts), cust=cust, ts=ts, cents=fee, cur=CNY,
                              dir=0, cat=CAT["fee"], card=due, post_day=ts // DAY, ttype=FEE))
    return Frame.concat(TABLE, frames)


def statements(ctx: MonthContext, txns: Frame, rng: np.random.Generator) -> tuple[Frame, Frame, Frame]:
    """This month's statements; returns (txns incl. interest and fees, statements, bank legs)."""
    w, c, m = ctx.world, ctx.c, ctx.month
    cards = w.cards
    k = len(cards)
    end_day = ctx.period_end // DAY
    stmt_day = m.first_day + np.minimum(cards.stmt_dom, m.n_days) - 1
    churn_day = np.where(c.is_churner[cards.cust], c.active_until[cards.cust] // DAY, end_day + 10_000)
    eligible = (cards.open_day < stmt_day - 5) & (stmt_day < churn_day)

    # Interest and late fee for last statement's shortfall, posted on the statement date.
    had = cards.last_stmt_day >= 0
    unpaid = np.where(had, np.maximum(cards.balance - cards.paid, 0), 0)
    interest = np.round(unpaid * DAILY_INTEREST * np.maximum(stmt_day - cards.last_stmt_day, 0)).astype(np.int64)
    shortfall = np.where(had, np.maximum(cards.min_due - cards.paid, 0), 0)
    late = np.round(shortfall * LATE_FEE).astype(np.int64)
    extra = []
    for amount, ttype, cat in ((interest, INTEREST, CAT["interest"]), (late, FEE, CAT["fee"])):
        rows = np.flatnonzero(eligible & (amount > 0))
        ts = stmt_day[rows] * DAY + 1
        extra.append(Frame.build(TABLE, len(rows), rid=ctx.ids.card_txn(ts), cust=cards.cust[rows], ts=ts,
                                 cents=amount[rows], cur=CNY, dir=0, cat=cat, card=rows,
                                 post_day=stmt_day[rows], ttype=ttype))
    txns = Frame.concat(TABLE, [txns] + extra)

    # What posted in this cycle, in CNY.
    rate = ctx.fx.rate(txns["cur"], txns["ts"] // DAY)
    cny = np.round(txns["cents"] * rate).astype(np.int64)
    signed = np.where(txns["dir"] == 1, -cny, cny)
    card = txns["card"]
    in_cycle = txns["post_day"] <= stmt_day[card]
    billed = np.bincount(card[in_cycle], weights=signed[in_cycle], minlength=k).astype(np.int64)
    later = np.bincount(card[~in_cycle], weights=signed[~in_cycle], minlength=k).astype(np.int64)
    activity = np.bincount(card, minlength=k) > 0

    new_balance = np.where(had, cards.balance - cards.paid, 0) + cards.unbilled + billed
    emit = eligible & ((new_balance != 0) | activity | (cards.unbilled != 0))
    rows = np.flatnonzero(emit)
    bal = new_balance[rows]
    min_due = np.where(bal > 0, np.round(bal * 0.1), 0).astype(np.int64)
    due_day = stmt_day[rows] + 20

    # Repayment behaviour.
    cust = cards.cust[rows].astype(np.int64)
    kind = c.payer_type[cust]
    r = rng.random(len(rows))
    partial_amt = (np.round((min_due + rng.random(len(rows)) * (bal - min_due)) / 100) * 100).astype(np.int64)
    on_time = due_day - rng.integers(0, 6, len(rows))
    late_day = due_day + rng.integers(1, 8, len(rows))
    paid = np.select(
        [kind == 0, (kind == 1) & (r < 0.8), (kind == 1) & (r < 0.9), kind == 1,
         (kind == 2) & (r < 0.85), kind == 2, r < 0.4, r < 0.7],
        [bal, min_due, partial_amt, 0, partial_amt, bal, 0, min_due], default=bal)
    paid_day = np.select([(kind == 0) & (r >= 0.95), (kind == 3) & (r >= 0.4) & (r < 0.7)], [late_day, late_day],
                         default=on_time)
    # Leaving customers settle in full before they go.
    leaving = churn_day[rows] - stmt_day[rows] < 70
    paid = np.where(leaving, bal, paid)
    paid_day = np.where(leaving, np.maximum(np.minimum(paid_day, churn_day[rows] - 1), stmt_day[rows]), paid_day)
    paid = np.maximum(np.where(bal > 0, paid, 0), 0).astype(np.int64)
    paid_day = np.where(paid > 0, paid_day, -1)
    unknown = (paid > 0) & (paid_day >= end_day)
    paid_day = np.where(unknown, PAID_UNKNOWN, paid_day)
    paid = np.where(unknown, 0, paid)

    payer = paid > 0
    pay_ts = np.where(payer, np.maximum(paid_day, 0) * DAY + sample_seconds_of_day(rng, len(rows), "personal"), 0)
    sid = statement_id(cards.pan.take(pa.array(rows)), stmt_day[rows])
    pr = np.flatnonzero(payer)
    leg = bank.legs(ctx, cust[pr], pay_ts[pr], paid[pr], False, bank.S["信用卡还款"], w.registry.card_centre,
                    bank.MOBILE, CAT["card_repayment"], internal=True, match=sid.take(pa.array(pr)))
    match = pa.nulls(len(rows), pa.binary())
    if len(pr):
        mask = np.zeros(len(rows), dtype=bool)
        mask[pr] = True
        match = pc.replace_with_mask(match, pa.array(mask), leg["rid"])
    stmts = Frame.build(
        STATEMENTS, len(rows), rid=sid, cust=cust, ts=np.where(payer, pay_ts, stmt_day[rows] * DAY), cents=paid,
        cur=CNY, dir=1, cat=CAT["card_repayment"], internal=True, match=match, card=rows,
        stmt_day=stmt_day[rows], balance=bal, min_due=min_due, due_day=due_day, paid_day=paid_day,
    )

    # Carry the cycle state.
    cards.balance[rows] = bal
    cards.min_due[rows] = min_due
    cards.paid[rows] = paid
    cards.last_stmt_day[rows] = stmt_day[rows]
    cards.unbilled = np.where(emit, later, cards.unbilled + billed + later)
    return txns, stmts, leg


# --- delivery ------------------------------------------------------------------------------------

_TYPES = encode(TXN_TYPES)


def txn_delivery(ctx: MonthContext, f: Frame) -> Delivery:
    w, m = ctx.world, ctx.month
    merch = f["merch"]
    midx = pa.array(merch, mask=merch < 0)
    fields = {
        "txn_id": f["rid"],
        "pan": take(w.cards.pan, f["card"]),
        "txn_time": datetime_text(f["ts"]),
        "post_date": date_text(f["post_day"]),
        "txn_type": take(_TYPES, f["ttype"]),
        "amount": amount_text(f["cents"]),
        "currency": take(CURRENCY_TEXT, f["cur"]),
        "merchant": w.merchants.name_text.take(midx),
        "mcc": w.merchants.mcc_text.take(midx),
    }
    s = spec_for(TABLE)
    return Delivery(
        table=TABLE, columns=s.columns, encoding=s.encoding, file_format=s.file_format,
        files=[f"cards/card_txn_{m.tag}.csv"], file_idx=np.zeros(len(f), dtype=np.int64),
        record_id=f["rid"], fields=fields, missing_cols=("mcc", "merchant"),
        outlier_col="amount", outlier_value=f["cents"], outlier_format=amount_text,
        currency_col="currency", cny_rows=f["cur"] == CNY, ts=f["ts"],
    )


def statement_delivery(ctx: MonthContext, f: Frame) -> Delivery:
    w, m = ctx.world, ctx.month
    pd_ = f["paid_day"]
    known = pd_ != PAID_UNKNOWN
    paid_txt = amount_text(f["cents"])
    fields = {
        "pan": take(w.cards.pan, f["card"]),
        "statement_date": date_text(f["stmt_day"]),
        "statement_balance": amount_text(f["balance"]),
        "minimum_due": amount_text(f["min_due"]),
        "due_date": date_text(f["due_day"]),
        "paid_amount": pc.if_else(pa.array(known), paid_txt, pa.nulls(len(f), pa.binary())),
        "paid_date": pc.if_else(pa.array(pd_ >= 0), date_text(np.where(pd_ >= 0, pd_, f["stmt_day"])),
                                pa.nulls(len(f), pa.binary())),
    }
    s = spec_for(STATEMENTS)
    return Delivery(
        table=STATEMENTS, columns=s.columns, encoding=s.encoding, file_format=s.file_format,
        files=[f"cards/statements_{m.tag}.csv"], file_idx=np.zeros(len(f), dtype=np.int64),
        record_id=f["rid"], fields=fields, money=False,
    )


def sort_txns(f: Frame) -> Frame:
    return f.take(np.lexsort((np.arange(len(f)), f["ts"])))


def sort_statements(f: Frame) -> Frame:
    return f.take(np.lexsort((np.arange(len(f)), f["card"], f["stmt_day"])))


__all__ = ["TABLE", "STATEMENTS", "transactions", "statements", "txn_delivery", "statement_delivery"]
