"""Bank channel: statement lines of every account, with true running balances.

A month's lines come from the bank's own events (salary, pension, business takings, POS, bills,
transfers, ATM, loans, wealth products, fees) plus the legs other channels cause (platform
top-ups and withdrawals, card repayments) and planted anomalies. ``settle`` then orders each
account's lines, keeps the balance from going negative the way people do (redeeming a wealth
product or asking family), works out the amounts that depend on the balance (interest, the
churner's exit transfer, FX conversion, sweeps into wealth products) and stamps 账户余额.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from ..landing.specs import spec_for
from . import catalog
from .context import MonthContext, choose, lognormal_cents, pick_mcc, round_like_people
from .dirt import Delivery
from .frames import CAT, CNY, Frame, consumption
from .personas import AFFLUENT, BUSINESS, RATES, RETIREE, STUDENT
from .seasonality import (
    DAY, HOUR, from_day, is_bonus_month, next_business_day, previous_business_day,
    sample_seconds_of_day,
)
from .textops import amount_text, by_unique, clock_text, date_text, datetime_text, digits_text, encode, join, take
from .world import CURRENCY_TEXT, FX

TABLE = "bank__transactions"
SUMMARIES = (
    "工资", "奖金", "养老金", "货款", "代发工资", "税款", "境外汇款", "结汇", "购汇", "消费",
    "代扣电费", "代扣水费", "代扣燃气费", "话费充值", "转账", "生活费", "取现", "现金存入",
    "贷款还款", "理财购买", "理财赎回", "短信服务费", "年费", "利息", "信用卡还款", "充值", "提现",
    "跨行转出", "境外消费", "手续费",
)
S = {name: i for i, name in enumerate(SUMMARIES)}
CHANNELS = ("柜面", "网银", "手机银行", "ATM", "POS", "第三方支付")
COUNTER, ONLINE, MOBILE, ATM, POS, THIRD_PARTY = range(6)

SPECIAL_NONE, SPECIAL_FIXUP, SPECIAL_EXIT, SPECIAL_INTEREST, SPECIAL_FX, SPECIAL_SWEEP = range(6)
INTEREST_PER_QUARTER = 0.0015 / 4  # demand deposits earn about 0.15% a year
FX_SPREAD = 0.006


def legs(ctx: MonthContext, cust: np.ndarray, ts: np.ndarray, cents: np.ndarray, inflow: bool | np.ndarray,
         summ: int, cp: int | np.ndarray, chan: int, cat: int, *, acct: np.ndarray | None = None,
         internal: bool = False, match: pa.Array | None = None, anom: int | np.ndarray = 0,
         cur: np.ndarray | None = None, order: int = 0, special: int = SPECIAL_NONE) -> Frame:
    """Bank lines (ids assigned now) on each customer's main account unless ``acct`` is given."""
    n = len(cust)
    acct = ctx.world.accounts.primary[cust] if acct is None else acct
    cols = dict(
        rid=ctx.ids.bank(ts), cust=cust, ts=ts, cents=cents,
        cur=ctx.world.accounts.currency[acct] if cur is None else cur,
        dir=np.broadcast_to(np.asarray(inflow, dtype=np.int8), (n,)), cat=cat, internal=internal,
        anom=anom, acct=acct, summ=summ, chan=chan, cp=cp, order=order, special=special,
    )
    if match is not None:
        cols["match"] = match
    return Frame.build(TABLE, n, **cols)


def _pair(ctx: MonthContext, cust: np.ndarray, ts: np.ndarray, out_acct: np.ndarray, in_acct: np.ndarray,
          out_cents: np.ndarray, in_cents: np.ndarray, summ: int, chan: int,
          order: int = 0, special: int = SPECIAL_NONE) -> list[Frame]:
    """Both legs of a move between two of the customer's own accounts."""
    reg = ctx.world.registry
    out_id = ctx.ids.bank(ts)
    in_id = ctx.ids.bank(ts)
    n = len(cust)
    a = ctx.world.accounts
    common = dict(cust=cust, ts=ts, cat=CAT["transfer"], internal=True, summ=summ, chan=chan,
                  order=order, special=special)
    out = Frame.build(TABLE, n, rid=out_id, cents=out_cents, cur=a.currency[out_acct], dir=0,
                      acct=out_acct, cp=reg.own_accounts + in_acct, match=in_id, **common)
    inn = Frame.build(TABLE, n, rid=in_id, cents=in_cents, cur=a.currency[in_acct], dir=1,
                      acct=in_acct, cp=reg.own_accounts + out_acct, match=out_id, **common)
    return [out, inn]


def _on_day(ctx: MonthContext, cust: np.ndarray, day: np.ndarray, hours: str, rng: np.random.Generator):
    ts = day * DAY + sample_seconds_of_day(rng, len(cust), hours)
    keep = ctx.active_at(cust, ts)
    return cust[keep], ts[keep]


def _business_day(days: np.ndarray, forward: bool = False, floor: int | None = None) -> np.ndarray:
    """Move each day to a business day (earlier by default), never before ``floor``."""
    uniq, inv = np.unique(days, return_inverse=True)
    out = []
    for d in uniq:
        b = next_business_day(int(d)) if forward else previous_business_day(int(d))
        if floor is not None and b < floor:
            b = next_business_day(int(d))
        out.append(b)
    return np.array(out, dtype=np.int64)[inv] if len(uniq) else np.asarray(days, dtype=np.int64)


def _anniversaries(ctx: MonthContext, month_of_year: int) -> int:
    """How many times ``month_of_year`` has begun since the period started, up to this month."""
    start = from_day(ctx.period_start // DAY)
    m = ctx.month
    count = 0
    for year in range(start.year, m.year + 1):
        d = dt.date(year, month_of_year, 1)
        if start < d <= from_day(m.first_day):
            count += 1
    return count


def native_events(ctx: MonthContext, rng: np.random.Generator) -> list[Frame]:
    """The bank's own lines for the month (before other channels' legs)."""
    w, c, m = ctx.world, ctx.c, ctx.month
    a, reg = w.accounts, w.registry
    p = c.persona
    act = c.activity[:, 0]
    out: list[Frame] = []
    everyone = np.arange(len(c))

    # Salary on the employer's pay day (brought forward to a business day) and year-end bonus.
    employed = np.flatnonzero(c.employer >= 0)
    dom = np.minimum(w.employer_pay_day[c.employer[employed]], m.n_days)
    day = _business_day(m.first_day + dom - 1, floor=m.first_day)
    cust, ts = _on_day(ctx, employed, day, "batch", rng)
    raise_ = 1.04 ** _anniversaries(ctx, 3)  # pay rises every March
    pay = np.round(c.income[cust] * raise_ * (1 + rng.normal(0, 0.02, len(cust))) * 100).astype(np.int64)
    out.append(legs(ctx, cust, ts, pay, True, S["工资"], reg.employers + c.employer[cust], ONLINE, CAT["salary"]))
    if is_bonus_month(m):
        p_bonus = np.array([0.75, 0.9, 0.0, 0.0, 0.0, 0.5])[p[cust]]
        got = rng.random(len(cust)) < p_bonus
        bc, bts = cust[got], ts[got] + HOUR
        lo = np.where(p[bc] == AFFLUENT, 2.0, 1.0)
        hi = np.where(p[bc] == AFFLUENT, 6.0, 3.0)
        bonus = np.round(c.income[bc] * rng.uniform(lo, hi) / 100) * 10_000
        out.append(legs(ctx, bc, bts, bonus.astype(np.int64), True, S["奖金"],
                        reg.employers + c.employer[bc], ONLINE, CAT["salary"]))

    # Pension, paid by the city's social-security bureau.
    retired = np.flatnonzero(p == RETIREE)
    day = _business_day(m.first_day + c.pension_day[retired] - 1, floor=m.first_day)
    cust, ts = _on_day(ctx, retired, day, "batch", rng)
    pension = np.round(c.income[cust] * 1.03 ** _anniversaries(ctx, 7) * 100)  # raised every July
    out.append(legs(ctx, cust, ts, pension.astype(np.int64), True, S["养老金"],
                    reg.social_security + c.city[cust], ONLINE, CAT["salary"]))

    # Students: parents send living money (生活费) at the start of most months.
    st = np.flatnonzero((p == STUDENT) & (rng.random(len(c)) < 0.55))
    cust, ts = _on_day(ctx, st, m.first_day + rng.integers(0, 5, len(st)), "personal", rng)
    allowance = round_like_people(rng, lognormal_cents(rng, c.income[cust] * 0.7, 0.15), 0.95)
    out.append(legs(ctx, cust, ts, allowance, True, S["生活费"], reg.contacts + cust * 3, MOBILE, CAT["transfer"]))

    # Business owners: takings, suppliers, payroll, tax, owner's drawings, foreign receipts.
    biz_rate = np.where(p == BUSINESS, act, 0.0)
    cust, ts = ctx.draw(rng, RATES["biz_in"][p] * biz_rate, "workday", "office")
    amt = lognormal_cents(rng, c.income[cust] / RATES["biz_in"][BUSINESS], 0.7)
    cps = reg.companies + rng.integers(0, reg.n_companies, len(cust))
    out.append(legs(ctx, cust, ts, amt, True, S["货款"], cps, ONLINE, CAT["transfer"], acct=a.business[cust]))
    cust, ts = ctx.draw(rng, RATES["biz_out"][p] * biz_rate, "workday", "office")
    amt = lognormal_cents(rng, c.income[cust] * 0.55 / RATES["biz_out"][BUSINESS], 0.7)
    cps = reg.companies + rng.integers(0, reg.n_companies, len(cust))
    out.append(legs(ctx, cust, ts, amt, False, S["货款"], cps, ONLINE, CAT["transfer"], acct=a.business[cust]))
    owners = np.flatnonzero(p == BUSINESS)
    cust, ts = _on_day(ctx, owners, np.full(len(owners), _business_day(np.array([m.first_day + 9]), floor=m.first_day)[0]), "batch", rng)
    amt = np.round(c.income[cust] * 0.15 * (1 + rng.normal(0, 0.05, len(cust))) * 100).astype(np.int64)
    out.append(legs(ctx, cust, ts, amt, False, S["代发工资"], reg.payroll, ONLINE, CAT["transfer"], acct=a.business[cust]))
    tax_day = _business_day(np.array([m.first_day + 14]), forward=True)[0]
    cust, ts = _on_day(ctx, owners, np.full(len(owners), tax_day), "office", rng)
    amt = lognormal_cents(rng, c.income[cust] * 0.03, 0.3)
    out.append(legs(ctx, cust, ts, amt, False, S["税款"], reg.tax + c.city[cust], ONLINE, CAT["other"], acct=a.business[cust]))
    drawing = owners[rng.random(len(owners)) < 0.5]  # the owner pays themself every other month or so
    cust, ts = _on_day(ctx, drawing, m.first_day + rng.integers(20, m.n_days, len(drawing)), "office", rng)
    amt = lognormal_cents(rng, c.income[cust] * 0.16, 0.2, unit=100)
    out += _pair(ctx, cust, ts, a.business[cust], a.primary[cust], amt, amt, S["转账"], MOBILE)
    has_fx = a.fx >= 0
    cust, ts = ctx.draw(rng, RATES["remit_in"][p] * biz_rate * has_fx, "workday", "office")
    acct = a.fx[cust]
    rate = ctx.fx.rate(a.currency[acct], ts // DAY)
    amt = lognormal_cents(rng, c.income[cust] * 0.15 / rate, 0.5, unit=100)
    cps = reg.foreign + rng.integers(0, len(catalog.FOREIGN_COMPANIES), len(cust))
    out.append(legs(ctx, cust, ts, amt, True, S["境外汇款"], cps, ONLINE, CAT["transfer"], acct=acct))

    # Affluent customers buy foreign currency now and then, and spend it abroad.
    aff_fx = np.where((p == AFFLUENT) & has_fx, act, 0.0)
    cust, ts = ctx.draw(rng, 0.1 * aff_fx, "workday", "personal")
    acct = a.fx[cust]
    rate = ctx.fx.rate(a.currency[acct], ts // DAY)
    fx_amt = lognormal_cents(rng, np.full(len(cust), 5000.0), 0.6, unit=10_000)
    cny = np.round(fx_amt * rate * (1 + FX_SPREAD)).astype(np.int64)
    out += _pair(ctx, cust, ts, a.primary[cust], acct, cny, fx_amt, S["购汇"], MOBILE)
    cust, ts = ctx.draw(rng, RATES["fx_spend"][p] * aff_fx, "retail", "retail")
    acct = a.fx[cust]
    foreign = w.merchants.n_domestic + rng.integers(0, w.merchants.n_foreign, len(cust))
    amt = lognormal_cents(rng, np.full(len(cust), 180.0), 0.8)
    out.append(legs(ctx, cust, ts, amt, False, S["境外消费"], reg.merchants + foreign, POS,
                    w.merchants.category[foreign], acct=acct))

    # Everyday spending by debit card, bills, transfers, cash.
    cust, ts = ctx.draw(rng, RATES["pos"][p] * act, "retail", "retail")
    mcc = pick_mcc(rng, p[cust])
    merch = w.merchants.pick(mcc, rng)
    amt = lognormal_cents(rng, w.merchants.ticket[merch] * c.spend_scale[cust], 0.6)
    out.append(legs(ctx, cust, ts, amt, False, S["消费"], reg.merchants + merch, POS, w.merchants.category[merch]))

    cust, ts = ctx.draw(rng, RATES["utility"][p] * act, "workday", "batch")
    kind = choose(rng, [0.35, 0.2, 0.2, 0.25], len(cust))
    median = np.array([180.0, 60.0, 90.0, 100.0])[kind] * c.spend_scale[cust] ** 0.3
    amt = lognormal_cents(rng, median, 0.35)
    summ = np.array([S["代扣电费"], S["代扣水费"], S["代扣燃气费"], S["话费充值"]])[kind]
    out.append(legs(ctx, cust, ts, amt, False, summ, reg.utilities + c.city[cust] * 4 + kind, ONLINE,
                    consumption("utilities")))

    for key, inflow in (("p2p_out", False), ("p2p_in", True)):
        cust, ts = ctx.draw(rng, RATES[key][p] * act, "flat", "personal")
        amt = round_like_people(rng, lognormal_cents(rng, 600 * c.spend_scale[cust], 0.8))
        known = rng.random(len(cust)) < 0.75
        cps = np.where(known, reg.contacts + cust * 3 + rng.integers(0, 3, len(cust)),
                       reg.persons + rng.integers(0, reg.n_persons, len(cust)))
        counter = np.where(p[cust] == RETIREE, 0.4, 0.05)
        chan = np.where(rng.random(len(cust)) < counter, COUNTER,
                        np.where(rng.random(len(cust)) < 0.8, MOBILE, ONLINE))
        at_counter = np.flatnonzero(chan == COUNTER)  # counters keep office hours
        ts[at_counter] = (ts[at_counter] // DAY) * DAY + sample_seconds_of_day(rng, len(at_counter), "office")
        keep = ctx.active_at(cust, ts)
        cust, ts, amt, cps, chan = cust[keep], ts[keep], amt[keep], cps[keep], chan[keep]
        out.append(legs(ctx, cust, ts, amt, inflow, S["转账"], cps, chan, CAT["transfer"]))
        if not inflow:
            # Transfers made at the counter to another bank carry a fee (0.5%, 2 to 50 yuan).
            paid = np.flatnonzero(chan == COUNTER)
            fee = np.clip(np.round(amt[paid] * 0.005), 200, 5000).astype(np.int64)
            out.append(legs(ctx, cust[paid], ts[paid] + 1, fee, False, S["手续费"], reg.bank_self, COUNTER,
                            CAT["fee"]))

    cust, ts = ctx.draw(rng, RATES["atm"][p] * act, "flat", "retail")
    amt = np.maximum(np.round(lognormal_cents(rng, 500 * c.spend_scale[cust] ** 0.5, 0.6) / 10_000), 1) * 10_000
    out.append(legs(ctx, cust, ts, amt.astype(np.int64), False, S["取现"], -1, ATM, CAT["cash"]))

    borrowers = np.flatnonzero(c.loan_cents > 0)
    day = m.first_day + np.minimum(c.loan_day[borrowers], m.n_days) - 1
    cust, ts = _on_day(ctx, borrowers, day, "batch", rng)
    out.append(legs(ctx, cust, ts, c.loan_cents[cust], False, S["贷款还款"], reg.loan_centre, ONLINE,
                    CAT["loan_repayment"]))

    cust, ts = ctx.draw(rng, RATES["invest_in"][p] * act, "workday", "personal")
    amt = lognormal_cents(rng, c.income[cust] * 0.8, 0.6, unit=100_000)
    out.append(legs(ctx, cust, ts, amt, True, S["理财赎回"], reg.wealth, MOBILE, CAT["investment"]))

    # Moves between the customer's own accounts.
    two = a.second >= 0
    cust, ts = ctx.draw(rng, RATES["own_transfer"][p] * act * two, "flat", "personal")
    amt = lognormal_cents(rng, c.income[cust] * 0.3, 0.5, unit=10_000)
    back = rng.random(len(cust)) < 0.3
    src = np.where(back, a.second[cust], a.primary[cust])
    dst = np.where(back, a.primary[cust], a.second[cust])
    out += _pair(ctx, cust, ts, src, dst, amt, amt, S["转账"], MOBILE)

    # Fees: SMS alerts quarterly, a small account fee yearly.
    if m.month in (3, 6, 9, 12):
        subs = np.flatnonzero(c.sms_fee)
        cust, ts = _on_day(ctx, subs, np.full(len(subs), m.first_day + 19), "batch", rng)
        out.append(legs(ctx, cust, ts, np.full(len(cust), 600), False, S["短信服务费"], reg.bank_self,
                        COUNTER, CAT["fee"]))
        # Quarterly interest on every open account (amount set in settle()).
        open_acct = np.flatnonzero(a.open_day <= m.first_day + 20)
        ts = np.full(len(open_acct), (m.first_day + 20) * DAY + 2 * HOUR) + rng.integers(0, HOUR, len(open_acct))
        out.append(legs(ctx, a.cust[open_acct].astype(np.int64), ts, np.zeros(len(open_acct), dtype=np.int64),
                        True, S["利息"], reg.bank_self, COUNTER, CAT["interest"], acct=open_acct,
                        special=SPECIAL_INTEREST))
    reg_month = c.registered_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    anniversary = np.flatnonzero((everyone % 10 < 3) & (c.registered_day < m.first_day - 300)
                                 & (reg_month == m.month))
    cust, ts = _on_day(ctx, anniversary, np.full(len(anniversary), m.first_day + 1), "batch", rng)
    out.append(legs(ctx, cust, ts, np.full(len(cust), 1000), False, S["年费"], reg.bank_self, COUNTER, CAT["fee"]))

    # Churners move what is left to another bank just before going quiet (amount set in settle()).
    leaving = np.flatnonzero(c.is_churner & (c.active_until >= m.start_ts) & (c.active_until < m.end_ts))
    out.append(legs(ctx, leaving, c.active_until[leaving], np.zeros(len(leaving), dtype=np.int64), False,
                    S["跨行转出"], reg.elsewhere + leaving, MOBILE, CAT["transfer"], special=SPECIAL_EXIT))
    return out


# --- settling a month: order, balances, balance-dependent amounts -----------------------------

def _running(f: Frame, opening: np.ndarray, month_start: int):
    """Per-account running balance in (account, time, order-key, insertion) order."""
    n = len(f)
    # One stable sort on a packed key: account | seconds into the month | order key (-1..2).
    offset = f["ts"] - month_start
    key = (f["acct"].astype(np.int64) << 26) | (offset << 2) | (f["order"].astype(np.int64) + 1)
    order = np.argsort(key, kind="stable")
    acct = f["acct"][order]
    signed = np.where(f["dir"][order] == 1, f["cents"][order], -f["cents"][order])
    cs = np.cumsum(signed)
    starts = np.flatnonzero(np.r_[True, acct[1:] != acct[:-1]]) if n else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, n])
    base = np.repeat(cs[starts] - signed[starts], sizes) if n else cs
    bal = opening[acct] + cs - base
    return order, acct, bal, starts, sizes, signed


def settle(ctx: MonthContext, frames: list[Frame], rng: np.random.Generator) -> Frame:
    """Balance-consistent bank lines for the month, sorted for the files."""
    w, c, m = ctx.world, ctx.c, ctx.month
    a, reg = w.accounts, w.registry
    f = Frame.concat(TABLE, frames)
    opening = a.balance

    # 1. Nobody lets the account go negative: redeem wealth products (students: ask parents)
    #    at the start of the month, enough to cover the month's low point with a margin.
    order, acct, bal, starts, sizes, _ = _running(f, opening, m.start_ts)
    if len(starts):
        low = np.minimum.reduceat(bal, starts)
        need = np.flatnonzero(low < 0)
        if len(need):
            ac = acct[starts[need]]
            cust = a.cust[ac].astype(np.int64)
            first_ts = f["ts"][order[starts[need]]]
            ts = np.maximum(m.start_ts, first_ts - rng.integers(60, 3600, len(need)))
            rate = ctx.fx.rate(a.currency[ac], ts // DAY)
            margin = np.maximum(c.income[cust] * 0.3 / rate, 500) * 100
            amt = (np.ceil((-low[need] + margin) / 100_000) * 100_000).astype(np.int64)
            student = c.persona[cust] == STUDENT
            fix = []
            if (~student).any():
                sel = ~student
                fix.append(legs(ctx, cust[sel], ts[sel], amt[sel], True, S["理财赎回"], reg.wealth, MOBILE,
                                CAT["investment"], acct=ac[sel], order=-1, special=SPECIAL_FIXUP))
            if student.any():
                fix.append(legs(ctx, cust[student], ts[student], amt[student], True, S["生活费"],
                                reg.contacts + cust[student] * 3, MOBILE, CAT["transfer"], acct=ac[student],
                                order=-1, special=SPECIAL_FIXUP))
            f = Frame.concat(TABLE, [f] + fix)

    # 2. The churner's exit transfer takes nearly everything left.
    for special in (SPECIAL_EXIT, SPECIAL_INTEREST):
        rows = np.flatnonzero(f["special"] == special)
        if not len(rows):
            continue
        order, acct, bal, starts, sizes, signed = _running(f, opening, m.start_ts)
        pos = np.empty(len(f), dtype=np.int64)
        pos[order] = np.arange(len(f))
        before = bal[pos[rows]]  # amount is still 0, so balance "after" is the balance before
        if special == SPECIAL_EXIT:
            amt = np.floor(np.maximum(before, 0) * rng.uniform(0.9, 0.98, len(rows)) / 100) * 100
        else:
            amt = np.round(np.maximum(before, 0) * INTEREST_PER_QUARTER)
        cents = f["cents"].copy()
        cents[rows] = amt.astype(np.int64)
        f["cents"] = cents
        drop = rows[amt <= 0]
        if len(drop):
            keep = np.ones(len(f), dtype=bool)
            keep[drop] = False
            f = f.mask(keep)

    # 3. Month end: business owners convert foreign takings (结汇); idle money goes into wealth
    #    products once it is well above what the customer keeps at hand.
    order, acct, bal, starts, sizes, _ = _running(f, opening, m.start_ts)
    end_bal = opening.copy()
    last_ts = np.full(len(a), m.start_ts, dtype=np.int64)
    if len(starts):
        ends = starts + sizes - 1
        end_bal[acct[starts]] = bal[ends]
        last_ts[acct[starts]] = f["ts"][order[ends]]
    extra: list[Frame] = []
    fx_acct = np.flatnonzero((a.kind == FX) & (c.persona[a.cust] == BUSINESS) & (end_bal > 500_000)
                      & (rng.random(len(a)) < 0.5))
    fx_acct = fx_acct[ctx.active_at(a.cust[fx_acct].astype(np.int64), np.full(len(fx_acct), m.end_ts - DAY))]
    if len(fx_acct):
        cust = a.cust[fx_acct].astype(np.int64)
        cny_acct = a.business[cust]
        ts = np.minimum(np.maximum(last_ts[fx_acct], last_ts[cny_acct]) + rng.integers(60, 900, len(cust)), m.end_ts - 1)
        usd = (np.floor(end_bal[fx_acct] * 0.8 / 100) * 100).astype(np.int64)
        rate = ctx.fx.rate(a.currency[fx_acct], ts // DAY)
        cny = np.round(usd * rate * (1 - FX_SPREAD)).astype(np.int64)
        extra += _pair(ctx, cust, ts, fx_acct, cny_acct, usd, cny, S["结汇"], ONLINE, order=1, special=SPECIAL_FX)
        end_bal[fx_acct] -= usd
        end_bal[cny_acct] += cny
        last_ts[cny_acct] = np.maximum(last_ts[cny_acct], ts)
    cand = np.flatnonzero((a.target > 0) & (end_bal > 3 * a.target) & (a.currency == CNY))
    cand = cand[c.persona[a.cust[cand]] != STUDENT]
    cand = cand[ctx.active_at(a.cust[cand].astype(np.int64), np.full(len(cand), m.end_ts - DAY))]
    if len(cand):
        buy = (np.floor((end_bal[cand] - a.target[cand]) / 100_000) * 100_000).astype(np.int64)
        late = m.end_ts - rng.integers(1, 4 * DAY, len(cand))
        ts = np.minimum(np.maximum(last_ts[cand] + 60, late), m.end_ts - 1)
        cust = a.cust[cand].astype(np.int64)
        extra.append(legs(ctx, cust, ts, buy, False, S["理财购买"], reg.wealth, MOBILE, CAT["investment"],
                          acct=cand, order=2, special=SPECIAL_SWEEP))
    if extra:
        f = Frame.concat(TABLE, [f] + extra)

    # 4. Final balances, and the file order (time, then the same tie-break as the balance).
    order, acct, bal, starts, sizes, _ = _running(f, opening, m.start_ts)
    balance = np.empty(len(f), dtype=np.int64)
    balance[order] = bal
    f["bal"] = balance
    if len(starts):
        a.balance[acct[starts]] = bal[starts + sizes - 1]
    file_order = np.argsort(((f["ts"] - m.start_ts) << 2) | (f["order"].astype(np.int64) + 1), kind="stable")
    return f.take(file_order)


# --- delivery ------------------------------------------------------------------------------------

_ENC = "gbk"
_DIR = encode(["借", "贷"], _ENC)  # index by dir: 0 out = 借, 1 in = 贷
_SUMM = encode(SUMMARIES, _ENC)
_CHAN = encode(CHANNELS, _ENC)


def _fmt_slash(ts: np.ndarray):
    d = by_unique(ts // DAY, lambda x: f"{from_day(x).year}/{from_day(x).month}/{from_day(x).day}")
    return join(d, " ", clock_text(ts, seconds=False)), None


def _fmt_compact(ts: np.ndarray):
    sod = ts % DAY
    hms = (sod // 3600) * 10_000 + (sod % 3600 // 60) * 100 + sod % 60
    return join(date_text(ts // DAY, "compact"), digits_text(hms, 6)), None


def _fmt_chinese(ts: np.ndarray):
    d = by_unique(ts // DAY, lambda x: f"{from_day(x).year}年{from_day(x).month}月{from_day(x).day}日", _ENC)
    return join(d, " ", clock_text(ts)), None


def delivery(ctx: MonthContext, f: Frame) -> Delivery:
    w, m = ctx.world, ctx.month
    reg, a = w.registry, w.accounts
    cp = f["cp"]
    cp_idx = pa.array(cp, mask=cp < 0)
    money = lambda v: amount_text(v, thousands=True)  # noqa: E731
    fields = {
        "交易流水号": f["rid"],
        "账号": take(a.number, f["acct"]),
        "交易时间": datetime_text(f["ts"]),
        "借贷标志": take(_DIR, f["dir"]),
        "交易金额": money(f["cents"]),
        "币种": take(CURRENCY_TEXT, f["cur"]),
        "账户余额": money(f["bal"]),
        "对方账号": reg.account.take(cp_idx),
        "对方户名": reg.name.take(cp_idx),
        "对方行名": reg.bank.take(cp_idx),
        "交易渠道": take(_CHAN, f["chan"]),
        "摘要": take(_SUMM, f["summ"]),
    }
    n = len(f)
    s = spec_for(TABLE)
    return Delivery(
        table=TABLE, columns=s.columns, encoding=s.encoding, file_format=s.file_format,
        files=[f"bank/bank_txn_{from_day(d).strftime('%Y%m%d')}.csv" for d in m.days],
        file_idx=f["ts"] // DAY - m.first_day, record_id=f["rid"], fields=fields,
        missing_cols=("币种", "对方户名", "交易渠道"),
        outlier_col="交易金额", outlier_value=f["cents"], outlier_format=money,
        full_width={"交易金额": np.ones(n, dtype=bool)},
        currency_col="币种", cny_rows=f["cur"] == CNY,
        date_col="交易时间",
        date_formats={"slash": _fmt_slash, "compact": _fmt_compact, "chinese": _fmt_chinese},
        ts=f["ts"],
    )


__all__ = ["TABLE", "legs", "native_events", "settle", "delivery"]
