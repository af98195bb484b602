"""The static demo world: customers with their identities, accounts, cards, platform users,
employers, counterparties and the shop's catalogue. Built once; months only change balances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import catalog
from .frames import CNY, CURRENCIES, HKD, USD, Merchants
from .identity import Names, chinese_names, emails, id_numbers, luhn_numbers, mobile_numbers
from .personas import (
    BALANCE_MONTHS, BUSINESS, N_EMPLOYERS_PER_1000, P_FX_ACCOUNT, P_SECOND_ACCOUNT, Customers,
    employer_pay_days, sample_customers,
)
from .seasonality import DAY, Month
from .textops import customer_text, digits_text, encode, join, take

ACCOUNT_TYPES = ("DEBIT", "SAVINGS", "BUSINESS", "FX")
DEBIT, SAVINGS, BUSINESS_ACCT, FX = range(4)


@dataclass
class Accounts:
    number: pa.Array
    cust: np.ndarray
    currency: np.ndarray
    kind: np.ndarray
    open_day: np.ndarray
    balance: np.ndarray  # cents, carried month to month
    target: np.ndarray  # cents above which idle money is swept into wealth products
    status: np.ndarray  # 0 ACTIVE, 1 DORMANT
    primary: np.ndarray  # per customer
    second: np.ndarray  # per customer, -1 = none
    business: np.ndarray  # per customer, -1 = none
    fx: np.ndarray  # per customer, -1 = none

    def __len__(self) -> int:
        return len(self.cust)


@dataclass
class Cards:
    pan: pa.Array
    cust: np.ndarray
    product: np.ndarray
    limit_cents: np.ndarray
    open_day: np.ndarray
    stmt_dom: np.ndarray  # statement day of month
    closed: np.ndarray
    # statement state, carried month to month
    balance: np.ndarray  # last statement balance (cents)
    min_due: np.ndarray
    paid: np.ndarray  # paid against the last statement
    unbilled: np.ndarray  # posted after the last statement date
    last_stmt_day: np.ndarray  # -1 = none yet

    def __len__(self) -> int:
        return len(self.cust)


@dataclass
class Registry:
    """Bank counterparties (对方户名/对方账号/对方行名) pre-encoded in GBK; index = ``cp``."""

    name: pa.Array
    account: pa.Array
    bank: pa.Array
    platform: int
    card_centre: int
    wealth: int
    loan_centre: int
    bank_self: int
    payroll: int
    utilities: int  # + city * 4 + kind (electricity, water, gas, mobile)
    social_security: int  # + city
    tax: int  # + city
    employers: int
    companies: int
    n_companies: int
    foreign: int
    merchants: int
    persons: int
    n_persons: int
    contacts: int  # + customer * 3 + k
    own_accounts: int  # + account index
    elsewhere: int  # + customer: the customer's own account at another bank


@dataclass
class World:
    customers: Customers
    names: Names
    customer_id: pa.Array
    id_number: pa.Array
    phone: pa.Array
    email: pa.Array
    accounts: Accounts
    cards: Cards
    user_id: pa.Array  # per customer; null = not on the platform
    platform_joined: np.ndarray  # local seconds the customer signed up on the platform
    platform_from: np.ndarray  # local seconds from which the demo has their platform activity
    external_users: pa.Array
    employer_pay_day: np.ndarray
    employer_city: np.ndarray
    registry: Registry
    merchants: Merchants
    sku_code: pa.Array
    sku_cat: np.ndarray
    sku_price: np.ndarray  # cents

    @property
    def n(self) -> int:
        return len(self.customers)


def build_world(n: int, months: list[Month], rngs: dict[str, np.random.Generator]) -> World:
    rng = rngs["people"]
    customers = sample_customers(n, months, rng)
    names = chinese_names(customers.male, rng)
    id_number = id_numbers(customers.hukou_region, customers.birth_day, customers.male, rng)
    phone = mobile_numbers(n, rng)
    email = emails(*names.pinyin(), rng)
    accounts = _accounts(customers, months, rngs["accounts"])
    cards = _cards(customers, months, rngs["cards"])
    user_id, external, joined = _platform_users(customers, rngs["platform"])
    n_employers = max(5, n * N_EMPLOYERS_PER_1000 // 1000)
    pay_day = employer_pay_days(n_employers, rngs["accounts"])
    employer_city = rngs["accounts"].choice(len(catalog.CITIES), n_employers,
                                            p=np.array(catalog.CITY_WEIGHTS) / sum(catalog.CITY_WEIGHTS))
    merchants = Merchants()
    registry = _registry(customers, names, accounts, employer_city, merchants, rngs["registry"])
    sku_code, sku_cat, sku_price = _catalogue(rngs["catalogue"])
    return World(
        customers=customers, names=names, customer_id=customer_text("C", np.arange(n)),
        id_number=id_number, phone=phone, email=email, accounts=accounts, cards=cards,
        user_id=user_id, platform_joined=joined, platform_from=np.maximum(joined, customers.active_from),
        external_users=external,
        employer_pay_day=pay_day, employer_city=employer_city, registry=registry,
        merchants=merchants, sku_code=sku_code, sku_cat=sku_cat, sku_price=sku_price,
    )


def _accounts(c: Customers, months: list[Month], rng: np.random.Generator) -> Accounts:
    n = len(c)
    p = c.persona
    first_day = months[0].first_day
    end_day = months[-1].first_day + months[-1].n_days
    has_second = rng.random(n) < P_SECOND_ACCOUNT[p]
    has_fx = rng.random(n) < P_FX_ACCOUNT[p]
    is_biz = p == BUSINESS

    owners = [np.arange(n)]
    kinds = [np.full(n, DEBIT)]
    for mask, kind in ((has_second, SAVINGS), (is_biz, BUSINESS_ACCT), (has_fx, FX)):
        owners.append(np.flatnonzero(mask))
        kinds.append(np.full(int(mask.sum()), kind))
    cust = np.concatenate(owners).astype(np.int32)
    kind = np.concatenate(kinds).astype(np.int8)
    # Number accounts in customer order so the file reads naturally.
    order = np.lexsort((kind, cust))
    cust, kind = cust[order], kind[order]
    m = len(cust)

    currency = np.full(m, CNY, dtype=np.int8)
    fx_rows = kind == FX
    currency[fx_rows] = np.where((p[cust[fx_rows]] == BUSINESS) & (rng.random(int(fx_rows.sum())) < 0.4), HKD, USD)

    reg = c.registered_day[cust]
    later = reg + (rng.random(m) * np.maximum(1, end_day - 60 - reg)).astype(np.int64)
    open_day = np.where(kind == DEBIT, reg, np.where(reg < first_day, np.minimum(later, first_day - 1), later))
    open_day = np.maximum(open_day, reg)

    income = c.income[cust]
    prime = kind == DEBIT
    opening = np.exp(rng.normal(0, 0.45, m))
    months_kept = BALANCE_MONTHS[p[cust]]
    balance = np.select(
        [prime & (p[cust] == BUSINESS), prime, kind == SAVINGS, kind == BUSINESS_ACCT, kind == FX],
        [0.25 * income * opening, months_kept * income * opening, 3 * income * opening,
         1.2 * income * opening,
         np.where(p[cust] == BUSINESS, 0.08 * income, 1.2 * income) / np.where(currency == HKD, 0.92, 7.2) * opening],
    )
    # Accounts opened during the period start nearly empty: the first inflow funds them.
    balance = np.where(open_day >= first_day, np.minimum(balance, 500.0), balance)
    balance = np.round(balance * 100).astype(np.int64)
    target = np.round(np.select(
        [prime & (p[cust] == BUSINESS), prime, kind == BUSINESS_ACCT],
        [0.3 * income, months_kept * income, 1.2 * income], default=0.0) * 100).astype(np.int64)
    status = np.where(c.is_churner[cust], 1, 0).astype(np.int8)

    prefixes = np.where(kind == BUSINESS_ACCT, 310058, int(catalog.OWN_ACCOUNT_PREFIX))
    number = luhn_numbers(prefixes, 12, rng)

    def per_customer(k: int) -> np.ndarray:
        out = np.full(n, -1, dtype=np.int64)
        rows = np.flatnonzero(kind == k)
        out[cust[rows]] = rows
        return out

    return Accounts(
        number=number, cust=cust, currency=currency, kind=kind, open_day=open_day,
        balance=balance, target=target, status=status, primary=per_customer(DEBIT),
        second=per_customer(SAVINGS), business=per_customer(BUSINESS_ACCT), fx=per_customer(FX),
    )


def _cards(c: Customers, months: list[Month], rng: np.random.Generator) -> Cards:
    first_day = months[0].first_day
    end_day = months[-1].first_day + months[-1].n_days
    holders = np.flatnonzero(c.has_card).astype(np.int32)
    k = len(holders)
    p = c.persona[holders]
    reg = c.registered_day[holders]
    # Most cards predate the period; a few customers take one during it.
    during = rng.random(k) < 0.12
    before = np.minimum(reg + (rng.random(k) * np.maximum(1, first_day - reg)).astype(np.int64), first_day - 1)
    start_at = np.maximum(reg, first_day)
    inside = start_at + (rng.random(k) * np.maximum(1, end_day - 90 - start_at)).astype(np.int64)
    open_day = np.where(during | (reg >= first_day), inside, before)
    open_day = np.maximum(open_day, reg)

    product_by_persona = np.array([
        [0.55, 0.15, 0.10, 0.20, 0.00],
        [0.15, 0.50, 0.15, 0.00, 0.20],
        [0.20, 0.45, 0.15, 0.00, 0.20],
        [0.10, 0.00, 0.00, 0.90, 0.00],
        [0.60, 0.10, 0.10, 0.20, 0.00],
        [0.55, 0.15, 0.10, 0.20, 0.00],
    ])
    cdf = np.cumsum(product_by_persona[p], axis=1)
    product = (rng.random(k)[:, None] > cdf).sum(axis=1).clip(0, len(catalog.CARD_BINS) - 1)
    bins = np.array([int(b) for b, _ in catalog.CARD_BINS])[product]
    pan = luhn_numbers(bins, 9, rng)
    limit = np.array([30_000, 80_000, 50_000, 10_000, 200_000])[product] * np.exp(rng.normal(0, 0.3, k))
    limit = (np.round(limit / 1000) * 1000 * 100).astype(np.int64)
    stmt_dom = rng.choice(np.array([5, 8, 10, 15, 18, 20, 25]), k)
    closed = c.is_churner[holders]
    zeros = np.zeros(k, dtype=np.int64)
    return Cards(
        pan=pan, cust=holders, product=product, limit_cents=limit, open_day=open_day,
        stmt_dom=stmt_dom, closed=closed, balance=zeros.copy(), min_due=zeros.copy(),
        paid=zeros.copy(), unbilled=zeros.copy(), last_stmt_day=np.full(k, -1, dtype=np.int64),
    )


def _platform_users(c: Customers, rng: np.random.Generator) -> tuple[pa.Array, pa.Array, np.ndarray]:
    n = len(c)
    n_external = max(500, n // 4)
    ids = rng.choice(10**12, size=n + n_external, replace=False)
    text = join(b"2088", digits_text(ids, 12))
    mask = pa.array(~c.has_platform)
    user_id = pc.if_else(mask, pa.nulls(n, pa.binary()), text.slice(0, n))
    # Platform sign-up: usually before becoming a bank customer, sometimes after.
    since = c.registered_day - (rng.random(n) * 5 * 365).astype(np.int64) + 20
    since = np.maximum(since, c.birth_day + 16 * 366)
    joined = since * DAY + rng.integers(8 * 3600, 23 * 3600, n)
    return user_id, text.slice(n), joined


def _company_names(k: int, city: np.ndarray, rng: np.random.Generator) -> list[str]:
    stems = catalog.COMPANY_STEMS
    sufs = catalog.COMPANY_SUFFIXES
    a = rng.integers(0, len(stems), k)
    b = rng.integers(0, len(stems), k)
    s = rng.integers(0, len(sufs), k)
    return [f"{catalog.CITIES[ci][0]}{stems[x]}{stems[y]}{sufs[z]}" if x != y else
            f"{catalog.CITIES[ci][0]}{stems[x]}{sufs[z]}" for ci, x, y, z in zip(city, a, b, s)]


def _registry(c: Customers, names: Names, accounts: Accounts, employer_city: np.ndarray,
              merchants: Merchants, rng: np.random.Generator) -> Registry:
    enc = "gbk"
    n = len(c)
    bank = catalog.BANK_NAME
    cities = [name for name, _ in catalog.CITIES]
    other_banks = [b for b, _ in catalog.OTHER_BANKS]
    other_bins = np.array([int(b) for _, b in catalog.OTHER_BANKS])

    parts_name: list[pa.Array] = []
    parts_acct: list[pa.Array] = []
    parts_bank: list[pa.Array] = []
    offsets: dict[str, int] = {}
    size = 0

    def add(key: str, nm: pa.Array, ac: pa.Array, bk: pa.Array) -> None:
        nonlocal size
        offsets[key] = size
        parts_name.append(nm)
        parts_acct.append(ac)
        parts_bank.append(bk)
        size += len(nm)

    def internal_acct(k: int) -> pa.Array:
        return join(b"62305899", digits_text(rng.integers(0, 10**11, k), 11))

    def company_acct(k: int) -> pa.Array:
        return join(b"3", digits_text(rng.integers(0, 10**18, k), 18))

    specials = [
        ("platform", catalog.PLATFORM_NAME, catalog.PLATFORM_ACCOUNT, catalog.PLATFORM_BANK),
        ("card_centre", f"{bank}信用卡中心", None, bank),
        ("wealth", f"{bank}理财产品专户", None, bank),
        ("loan_centre", f"{bank}个人贷款中心", None, bank),
        ("bank_self", bank, None, None),
        ("payroll", "批量代发", None, bank),
    ]
    for key, nm, ac, bk in specials:
        acct = encode([ac], enc) if ac else internal_acct(1)
        if key == "bank_self":
            acct = pa.nulls(1, pa.binary())
        add(key, encode([nm], enc), acct, encode([bk], enc))

    util_names, util_banks = [], []
    for city in cities:
        util_names += [f"国网{city}供电公司", f"{city}自来水有限公司", f"{city}燃气集团", f"中国移动{city}分公司"]
        util_banks += [f"{other_banks[i % 4]}{city}分行" for i in range(4)]
    add("utilities", encode(util_names, enc), company_acct(len(util_names)), encode(util_banks, enc))
    add("social_security", encode([f"{city}市社会保险事业管理局" for city in cities], enc),
        company_acct(len(cities)), encode([f"中国工商银行{city}分行" for city in cities], enc))
    add("tax", encode([f"国家金库{city}中心支库" for city in cities], enc),
        company_acct(len(cities)), encode([f"中国人民银行{city}中心支行" for city in cities], enc))

    k = len(employer_city)
    bank_idx = rng.integers(0, len(other_banks), k)
    add("employers", encode(_company_names(k, employer_city, rng), enc), company_acct(k),
        encode([f"{other_banks[b]}{cities[ci]}分行" for b, ci in zip(bank_idx, employer_city)], enc))

    n_companies = max(40, n // 20)
    comp_city = rng.integers(0, len(cities), n_companies)
    bank_idx = rng.integers(0, len(other_banks), n_companies)
    add("companies", encode(_company_names(n_companies, comp_city, rng), enc), company_acct(n_companies),
        encode([f"{other_banks[b]}{cities[ci]}分行" for b, ci in zip(bank_idx, comp_city)], enc))

    add("foreign", encode([nm for nm, _ in catalog.FOREIGN_COMPANIES], enc),
        digits_text(rng.integers(10**11, 10**12, len(catalog.FOREIGN_COMPANIES)), 12),
        encode([bk for _, bk in catalog.FOREIGN_COMPANIES], enc))

    add("merchants", encode(merchants.names, enc),
        join(b"898", digits_text(rng.integers(10**11, 10**12, len(merchants)), 12)),
        encode(["银联商务股份有限公司"] * len(merchants), enc))

    def people(k: int) -> tuple[pa.Array, pa.Array, pa.Array]:
        male = rng.random(k) < 0.5
        nm = chinese_names(male, rng).render(enc)
        b = rng.integers(0, len(other_banks), k)
        ac = luhn_numbers(other_bins[b], 12, rng, unique=False)
        return nm, ac, take(encode(other_banks, enc), b)

    n_persons = max(200, n // 8)
    add("persons", *people(n_persons))
    add("contacts", *people(3 * n))

    owner_names = names.render(enc)
    add("own_accounts", take(owner_names, accounts.cust), accounts.number, encode(branch_names(accounts, c), enc))
    b = rng.integers(0, len(other_banks), n)
    add("elsewhere", owner_names, luhn_numbers(other_bins[b], 12, rng, unique=False),
        take(encode(other_banks, enc), b))

    return Registry(
        name=pa.concat_arrays(parts_name), account=pa.concat_arrays(parts_acct),
        bank=pa.concat_arrays(parts_bank), n_companies=n_companies, n_persons=n_persons, **offsets,
    )


def branch_names(accounts: Accounts, c: Customers) -> list[str]:
    cities = [name for name, _ in catalog.CITIES]
    return [f"{catalog.BANK_NAME}{cities[ci]}{catalog.DISTRICTS[i % len(catalog.DISTRICTS)]}支行"
            for i, ci in enumerate(c.city[accounts.cust])]


def _catalogue(rng: np.random.Generator) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    per_cat = 150
    cats = np.repeat(np.arange(len(catalog.ECOMMERCE_CATEGORIES)), per_cat)
    median = np.array([m for _, _, m in catalog.ECOMMERCE_CATEGORIES])[cats]
    price = median * np.exp(rng.normal(0, 0.6, len(cats)))
    # Shop prices end in 9 (¥59.00, ¥199.00, ¥1,299.00) or .90.
    yuan = np.maximum(np.round(price / 10) * 10 - 1, 1)
    cents = np.where(rng.random(len(cats)) < 0.8, yuan * 100, np.round(price) * 100 - 10).astype(np.int64)
    cents = np.maximum(cents, 90)
    codes = rng.choice(10**6, size=len(cats), replace=False)
    sku = join(b"SKU", digits_text(cats + 1, 2), digits_text(codes, 6))
    return sku, cats.astype(np.int8), cents


CURRENCY_TEXT = encode(CURRENCIES)
