"""E-commerce shop (云购商城): order lines, and the platform trades of orders paid through 快付通.

An order paid with PLATFORM has a platform PAYMENT with ``order_ref`` = order_id and the order's
total (sum of qty * unit_price - discount); a cancelled one has that PAYMENT CLOSED (no money
moved); a returned one also has a REFUND of the total a few days later. Orders paid by CARD (a
card of another issuer) or cash on delivery (COD) have no second leg.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..landing.specs import spec_for
from . import catalog, payments
from .context import MonthContext, choose
from .dirt import Delivery
from .frames import CAT, CNY, Frame, consumption, order_line_id
from .personas import RATES
from .seasonality import DAY, from_day
from .textops import amount_text, datetime_text, encode, int_text, take

TABLE = "ecommerce__order_lines"
PAY_METHODS = ("PLATFORM", "CARD", "COD")
PLATFORM, CARD, COD = range(3)
STATUSES = ("PAID", "CANCELLED", "RETURNED")
PAID, CANCELLED, RETURNED = range(3)
_PROMO = {(6, d) for d in range(1, 19)} | {(11, d) for d in range(1, 12)} | {(12, 12), (10, 31)}
_GROUP_CAT = np.array([consumption(g) for _, g, _ in catalog.ECOMMERCE_CATEGORIES], dtype=np.int16)


def orders(ctx: MonthContext, rng: np.random.Generator) -> tuple[Frame, list[Frame]]:
    """Order lines for the month, and the platform trades that echo PLATFORM orders."""
    w, c = ctx.world, ctx.c
    p = c.persona
    rate = RATES["order"][p] * c.has_ecommerce * c.activity[:, 2]
    # Returns are refunded up to 15 days later: churners stop ordering three weeks before leaving.
    cust, ts = ctx.draw(rng, rate, "online", "online", until_guard=21 * DAY)
    n_orders = len(cust)
    order_ids = ctx.ids.order(ts)
    n_lines = 1 + np.minimum(rng.poisson(0.45, n_orders), 4)
    m = ctx.month
    promo_day = np.array([(m.month, from_day(int(d)).day) in _PROMO for d in m.days], dtype=bool)
    promo = promo_day[ts // DAY - m.first_day]

    platform_user = c.has_platform[cust] & (ts >= w.platform_from[cust])
    paym = np.where(platform_user, choose(rng, [0.7, 0.2, 0.1], n_orders), choose(rng, [0, 0.75, 0.25], n_orders))
    status = choose(rng, [0.88, 0.07, 0.05], n_orders)
    status = np.where((status == RETURNED) & (ts + 16 * DAY >= ctx.period_end), PAID, status)
    mode = c.ref_mode[cust]
    ref_kind = np.where(mode == 2, rng.integers(0, 2, n_orders), mode)

    # Lines.
    o = np.repeat(np.arange(n_orders), n_lines)
    line_no = (np.arange(len(o)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1).astype(np.int16)
    weights = np.array(catalog.ECOMMERCE_CATEGORY_WEIGHTS)
    cdf = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    lc = p[cust[o]]
    ecat = (rng.random(len(o))[:, None] > cdf[lc]).sum(axis=1).clip(0, len(catalog.ECOMMERCE_CATEGORIES) - 1)
    per_cat = len(w.sku_cat) // len(catalog.ECOMMERCE_CATEGORIES)
    sku = ecat * per_cat + rng.integers(0, per_cat, len(o))
    unit = w.sku_price[sku]
    qty = choose(rng, [0.8, 0.14, 0.06], len(o)) + 1
    p_disc = np.where(promo[o], 0.7, 0.25)
    has_disc = rng.random(len(o)) < p_disc
    disc = np.where(has_disc, np.round(qty * unit * rng.uniform(0.05, 0.3, len(o)) / 100) * 100, 0).astype(np.int64)
    line_total = qty * unit - disc
    total = np.bincount(o, weights=line_total, minlength=n_orders).astype(np.int64)

    # The platform leg of PLATFORM orders.
    po = np.flatnonzero(paym == PLATFORM)
    pay_ts = ts[po] + rng.integers(10, 300, len(po))
    pay_ids = ctx.ids.trade(pay_ts)
    first_line = order_line_id(order_ids.take(pa.array(po)), np.ones(len(po), dtype=np.int16))
    merchant = w.merchants.ecommerce
    first_cat = _GROUP_CAT[ecat[np.cumsum(n_lines) - n_lines]]
    fund = payments._funding(rng, ctx, cust[po])
    trade_frames = [Frame.build(
        payments.TABLE, len(po), rid=pay_ids, cust=cust[po], ts=pay_ts, cents=total[po], cur=CNY, dir=0,
        cat=first_cat[po], match=first_line,
        status=np.where(status[po] == CANCELLED, payments.CLOSED, payments.SUCCESS),
        ttype=payments.PAYMENT, merch=merchant, fsrc=fund, oref=order_ids.take(pa.array(po)),
    )]
    ro = np.flatnonzero(status[po] == RETURNED)
    if len(ro):
        rts = ts[po][ro] + rng.integers(3 * DAY, 15 * DAY, len(ro))
        trade_frames.append(Frame.build(
            payments.TABLE, len(ro), rid=ctx.ids.trade(rts), cust=cust[po][ro], ts=rts, cents=total[po][ro],
            cur=CNY, dir=1, cat=CAT["refund"], match=first_line.take(pa.array(ro)), status=payments.SUCCESS,
            ttype=payments.REFUND, merch=merchant, fsrc=fund[ro], oref=order_ids.take(pa.array(po[ro])),
        ))

    match_of_order = pa.nulls(n_orders, pa.binary())
    if len(po):
        mask = np.zeros(n_orders, dtype=bool)
        mask[po] = True
        match_of_order = pc.replace_with_mask(match_of_order, pa.array(mask), pay_ids)
    oid = order_ids.take(pa.array(o))
    lines = Frame.build(
        TABLE, len(o), rid=order_line_id(oid, line_no), cust=cust[o], ts=ts[o], cents=line_total, cur=CNY,
        dir=0, cat=_GROUP_CAT[ecat], match=match_of_order.take(pa.array(o)), status=status[o],
        order_id=oid, line_no=line_no, ref_kind=ref_kind[o], sku=sku, ecat=ecat, qty=qty,
        unit_cents=unit, disc_cents=disc, paym=paym[o],
    )
    order = np.lexsort((lines["line_no"], o, lines["ts"]))
    return lines.take(order), trade_frames


_PAYM = encode(PAY_METHODS)
_STATUS = encode(STATUSES)
_CATS = encode([name for name, _, _ in catalog.ECOMMERCE_CATEGORIES])


def delivery(ctx: MonthContext, f: Frame) -> Delivery:
    w, m = ctx.world, ctx.month
    cust = f["cust"]
    is_phone = f["ref_kind"] == 0
    ref = pc.if_else(pa.array(is_phone), take(w.phone, cust), take(w.email, cust))
    money = lambda v: amount_text(v)  # noqa: E731
    fields = {
        "order_id": f["order_id"],
        "line_no": int_text(f["line_no"]),
        "customer_ref": ref,
        "order_time": datetime_text(f["ts"]),
        "sku": take(w.sku_code, f["sku"]),
        "category": take(_CATS, f["ecat"]),
        "qty": int_text(f["qty"]),
        "unit_price": money(f["unit_cents"]),
        "discount": money(f["disc_cents"]),
        "pay_method": take(_PAYM, f["paym"]),
        "status": take(_STATUS, f["status"]),
    }
    s = spec_for(TABLE)
    n = len(f)
    return Delivery(
        table=TABLE, columns=s.columns, encoding=s.encoding, file_format=s.file_format,
        files=[f"ecommerce/orders_{m.tag}.csv"], file_idx=np.zeros(n, dtype=np.int64),
        record_id=f["rid"], fields=fields,
        missing_cols=("category", "discount"),
        outlier_col="unit_price", outlier_value=f["unit_cents"], outlier_format=money,
        full_width={"unit_price": np.ones(n, dtype=bool), "customer_ref": is_phone},
        ts=f["ts"],
    )


__all__ = ["TABLE", "orders", "delivery"]
