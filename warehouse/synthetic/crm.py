"""CRM exports (customer master, accounts, surveys, marketing spend) and the other snapshot files
written once per run: platform users, card accounts, FX rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import catalog
from .files import write_plain_csv
from .fx import FxRates
from .personas import DORMANT
from .seasonality import DAY, Month
from .textops import amount_text, date_text, datetime_text, encode, join, take, zero_pad
from .world import ACCOUNT_TYPES, CURRENCY_TEXT, World, branch_names

CSAT_MEAN = np.array([4.0, 4.2, 3.9, 3.8, 4.3, 3.6])


def write_customers(landing: Path, w: World, end_ts: int, rng: np.random.Generator) -> int:
    c = w.customers
    n = len(c)
    reg_ts = c.registered_day * DAY + rng.integers(9 * 3600, 18 * 3600, n)
    # Last profile change: some time after registering, never after the export.
    upd = reg_ts + (rng.random(n) * np.maximum(end_ts - 3600 - reg_ts, 0)).astype(np.int64)
    cities = encode([name for name, _ in catalog.CITIES])
    fields = {
        "customer_id": w.customer_id,
        "name": w.names.render("utf-8"),
        "id_number": w.id_number,
        "phone": w.phone,
        "email": w.email,
        "gender": take(encode(["女", "男"]), c.male.astype(np.int64)),
        "birth_date": date_text(c.birth_day),
        "city": take(cities, c.city),
        "acquisition_channel": take(encode(catalog.ACQUISITION_CHANNELS), c.acquisition),
        "registered_date": date_text(c.registered_day),
        "updated_at": datetime_text(upd),
    }
    return write_plain_csv(landing, "crm/customers.csv", "crm__customers", fields)


def write_accounts(landing: Path, w: World) -> int:
    a = w.accounts
    fields = {
        "account_no": a.number,
        "customer_id": take(w.customer_id, a.cust),
        "account_type": take(encode(ACCOUNT_TYPES), a.kind),
        "currency": take(CURRENCY_TEXT, a.currency),
        "open_date": date_text(a.open_day),
        "branch": encode(branch_names(a, w.customers)),
        "status": take(encode(["ACTIVE", "DORMANT"]), a.status),
    }
    return write_plain_csv(landing, "crm/accounts.csv", "crm__accounts", fields)


def write_surveys(landing: Path, w: World, months: list[Month], rng: np.random.Generator) -> int:
    """About 30% of customers answer 1-3 satisfaction surveys; churners grow unhappy first."""
    c = w.customers
    n = len(c)
    start, end = months[0].start_ts, months[-1].end_ts
    answers = np.where(rng.random(n) < 0.3, rng.integers(1, 4, n), 0)
    cust = np.repeat(np.arange(n), answers)
    lo = np.maximum(c.active_from[cust], start)
    hi = np.minimum(c.active_until[cust], end) - DAY
    ok = hi > lo
    cust, lo, hi = cust[ok], lo[ok], hi[ok]
    ts = lo + (rng.random(len(cust)) * (hi - lo)).astype(np.int64)
    persona = c.persona[cust]
    mean = CSAT_MEAN[persona]
    # Unhappiness builds over the half year before a churner leaves.
    closeness = np.clip(1 - (c.active_until[cust] - ts) / (180 * DAY), 0, 1)
    mean = np.where(persona == DORMANT, mean - 1.5 * closeness, mean)
    csat = np.clip(np.round(rng.normal(mean, 0.7)), 1, 5).astype(np.int64)
    nps = np.clip(np.round(2.2 * csat - 1.5 + rng.normal(0, 1.3, len(cust))), 0, 10).astype(np.int64)
    order = np.lexsort((cust, ts))
    cust, ts, csat, nps = cust[order], ts[order], csat[order], nps[order]
    fields = {
        "survey_id": join(b"S", zero_pad(np.arange(1, len(cust) + 1), 8)),
        "customer_id": take(w.customer_id, cust),
        "survey_date": date_text(ts // DAY),
        "csat": pc.cast(pa.array(csat), pa.string()).cast(pa.binary()),
        "nps": pc.cast(pa.array(nps), pa.string()).cast(pa.binary()),
        "channel": take(encode(catalog.SURVEY_CHANNELS), rng.integers(0, len(catalog.SURVEY_CHANNELS), len(cust))),
    }
    return write_plain_csv(landing, "crm/surveys.csv", "crm__surveys", fields)


def write_marketing_spend(landing: Path, w: World, months: list[Month], rng: np.random.Generator) -> int:
    """Spend per month and acquisition channel, in line with the customers each one brought in."""
    c = w.customers
    k = len(catalog.ACQUISITION_CHANNELS)
    cac = np.array(catalog.ACQUISITION_CAC)
    rows_month, rows_channel, spend = [], [], []
    base = np.maximum(len(c) / 3000, 0.2) * 2.0  # always-on activity, scaled with the book
    for m in months:
        new = (c.registered_day >= m.first_day) & (c.registered_day < m.first_day + m.n_days)
        acquired = np.bincount(c.acquisition[new], minlength=k)
        cost = (acquired + base) * cac * np.exp(rng.normal(0, 0.15, k))
        rows_month += [m.first_day] * k
        rows_channel += list(range(k))
        spend.append(np.round(cost * 100).astype(np.int64))
    fields = {
        "month": date_text(np.array(rows_month), "month"),
        "acquisition_channel": take(encode(catalog.ACQUISITION_CHANNELS), np.array(rows_channel)),
        "spend_cny": amount_text(np.concatenate(spend)),
    }
    return write_plain_csv(landing, "crm/marketing_spend.csv", "crm__marketing_spend", fields)


def write_platform_users(landing: Path, w: World) -> int:
    c = w.customers
    users = np.flatnonzero(c.has_platform)
    users = users[np.lexsort((users, w.platform_joined[users]))]
    fields = {
        "user_id": take(w.user_id, users),
        "phone": take(w.phone, users),
        "registered_at": datetime_text(w.platform_joined[users]),
    }
    return write_plain_csv(landing, "payments/users.csv", "payments__users", fields)


def write_card_accounts(landing: Path, w: World, end_ts: int) -> int:
    cards = w.cards
    rows = np.flatnonzero(cards.open_day * DAY < end_ts)
    fields = {
        "pan": take(cards.pan, rows),
        "customer_id": take(w.customer_id, cards.cust[rows]),
        "product": take(encode([p for _, p in catalog.CARD_BINS]), cards.product[rows]),
        "credit_limit": amount_text(cards.limit_cents[rows]),
        "open_date": date_text(cards.open_day[rows]),
        "status": take(encode(["ACTIVE", "CLOSED"]), cards.closed[rows].astype(np.int64)),
    }
    return write_plain_csv(landing, "cards/card_accounts.csv", "cards__accounts", fields)


def write_fx(landing: Path, fx: FxRates) -> int:
    rows = fx.rows()
    fields = {
        "rate_date": encode([r[0] for r in rows]),
        "currency": encode([r[1] for r in rows]),
        "rate_to_cny": encode([r[2] for r in rows]),
    }
    return write_plain_csv(landing, "reference/fx_rates.csv", "reference__fx_rates", fields)

