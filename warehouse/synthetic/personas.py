"""Who the demo customers are: personas and the per-customer traits that drive their money.

A persona fixes income level and source, spending mix, which channels a customer uses and how
much they keep in the bank. Every trait gets per-customer noise, so personas overlap at the edges
but stay recoverable from behaviour (RFM, income, spend mix, channel mix, balances): that is what
the segmentation model is scored on. Personas are truth only: no file carries them.

Rates in ``RATES`` are expected events per *fully active* month before seasonality and the
customer's own activity multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog
from .seasonality import DAY, Month

PERSONAS: tuple[str, ...] = ("salaried", "affluent", "business_owner", "student", "retiree", "dormant")
SALARIED, AFFLUENT, BUSINESS, STUDENT, RETIREE, DORMANT = range(6)
PERSONA_MIX = np.array([0.40, 0.15, 0.05, 0.15, 0.15, 0.10])


def _p(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


# Monthly income (business owners: monthly takings) in CNY: lognormal median and sigma.
INCOME_MEDIAN = _p(9_000, 42_000, 260_000, 2_000, 4_800, 6_500)
INCOME_SIGMA = _p(0.28, 0.28, 0.45, 0.30, 0.22, 0.30)
# How big a typical purchase is relative to the average customer.
SPEND_SCALE = _p(1.0, 2.4, 2.2, 0.45, 0.7, 0.9)
AGE_RANGE = ((23, 50), (28, 58), (30, 62), (18, 24), (60, 82), (22, 55))

P_PLATFORM = _p(0.80, 0.75, 0.70, 0.98, 0.30, 0.70)
P_ECOMMERCE = _p(0.60, 0.60, 0.40, 0.70, 0.10, 0.50)
P_CARD = _p(0.45, 0.95, 0.70, 0.10, 0.20, 0.45)
P_LOAN = _p(0.30, 0.45, 0.40, 0.0, 0.02, 0.25)
P_SECOND_ACCOUNT = _p(0.10, 0.40, 0.0, 0.03, 0.10, 0.08)
P_FX_ACCOUNT = _p(0.0, 0.35, 1.0, 0.0, 0.0, 0.0)
P_NEW_IN_PERIOD = _p(0.22, 0.15, 0.15, 0.45, 0.08, 0.0)
# Bank balance kept, in months of income (business owners: of monthly takings).
BALANCE_MONTHS = _p(2.5, 6.0, 1.2, 1.5, 10.0, 1.0)
# Dormant customers were never very engaged, even before they drift away.
ENGAGEMENT = _p(1.0, 1.0, 1.0, 1.0, 1.0, 0.6)

# Expected events per active month.
RATES: dict[str, np.ndarray] = {
    # bank
    "pos": _p(0.30, 0.20, 0.35, 0.10, 0.90, 0.30),
    "utility": _p(0.30, 0.25, 0.30, 0.05, 0.50, 0.30),
    "p2p_out": _p(0.25, 0.40, 0.40, 0.05, 0.25, 0.25),
    "p2p_in": _p(0.12, 0.20, 0.20, 0.25, 0.15, 0.12),
    "atm": _p(0.10, 0.03, 0.12, 0.08, 0.60, 0.12),
    "invest_in": _p(0.03, 0.30, 0.10, 0.0, 0.15, 0.03),
    "own_transfer": _p(0.30, 0.45, 1.0, 0.20, 0.20, 0.30),  # only with a second account
    "fx_spend": _p(0.0, 0.30, 0.10, 0.0, 0.0, 0.0),  # only with an FX account
    "biz_in": _p(0, 0, 2.2, 0, 0, 0),
    "biz_out": _p(0, 0, 1.6, 0, 0, 0),
    "remit_in": _p(0, 0, 0.4, 0, 0, 0),
    # payment platform
    "pay": _p(0.85, 0.55, 0.70, 2.60, 0.45, 0.75),
    "transfer_out": _p(0.18, 0.25, 0.30, 0.15, 0.08, 0.15),
    "transfer_in": _p(0.12, 0.15, 0.20, 0.45, 0.10, 0.10),
    "red_packet": _p(0.05, 0.05, 0.05, 0.20, 0.03, 0.05),
    "cny_red_packet_in": _p(1.2, 1.5, 1.5, 5.0, 0.8, 1.2),
    "cny_red_packet_out": _p(1.5, 3.0, 3.0, 0.3, 1.5, 1.2),
    # e-commerce orders
    "order": _p(0.28, 0.40, 0.22, 0.35, 0.12, 0.28),
    # credit-card purchases
    "card_purchase": _p(1.0, 4.0, 2.4, 0.8, 0.7, 1.0),
}

# Calibration: scales the everyday rates above so the whole book averages about 100 money
# movements per customer over 24 months, with a channel mix of roughly bank 60%, platform 20%,
# cards 12%, e-commerce 8% (salary, pension, interest, loans and repayments are not scaled).
VOLUME = {
    "bank": (0.3, ("pos", "utility", "p2p_out", "p2p_in", "atm", "invest_in", "own_transfer", "fx_spend")),
    "platform": (0.5, ("pay", "transfer_out", "transfer_in", "red_packet")),
    "cards": (0.5, ("card_purchase",)),
    "ecommerce": (1.0, ("order",)),
}
for _factor, _keys in VOLUME.values():
    for _key in _keys:
        RATES[_key] = RATES[_key] * _factor

# How customers repay card statements: full, minimum, partial, often-late, by persona.
PAYER_MIX = (
    (0.62, 0.15, 0.18, 0.05),
    (0.88, 0.03, 0.07, 0.02),
    (0.70, 0.10, 0.15, 0.05),
    (0.40, 0.30, 0.20, 0.10),
    (0.85, 0.05, 0.07, 0.03),
    (0.45, 0.25, 0.18, 0.12),
)
FUNDING_MIX = (  # platform payments: BALANCE, BANK_CARD, CREDIT_CARD
    (0.50, 0.32, 0.18),
    (0.30, 0.30, 0.40),
    (0.35, 0.40, 0.25),
    (0.80, 0.18, 0.02),
    (0.45, 0.50, 0.05),
    (0.50, 0.32, 0.18),
)
ACQUISITION_MIX = (  # branch, online_ads, referral, partner, app_store
    (0.30, 0.25, 0.15, 0.15, 0.15),
    (0.45, 0.10, 0.25, 0.15, 0.05),
    (0.50, 0.05, 0.25, 0.20, 0.00),
    (0.05, 0.35, 0.15, 0.10, 0.35),
    (0.80, 0.02, 0.15, 0.03, 0.00),
    (0.30, 0.25, 0.15, 0.15, 0.15),
)


@dataclass
class Customers:
    """One entry per customer (index = customer number - 1)."""

    persona: np.ndarray
    male: np.ndarray
    birth_day: np.ndarray
    city: np.ndarray
    hukou_region: np.ndarray  # 6-digit region code of the ID number
    income: np.ndarray  # monthly CNY
    spend_scale: np.ndarray
    activity: np.ndarray  # (n, 4) multipliers for bank, platform, e-commerce, cards
    has_platform: np.ndarray
    has_ecommerce: np.ndarray
    has_card: np.ndarray
    loan_cents: np.ndarray  # monthly instalment, 0 = none
    loan_day: np.ndarray
    employer: np.ndarray  # -1 = none
    pension_day: np.ndarray
    registered_day: np.ndarray
    active_from: np.ndarray  # local seconds
    active_until: np.ndarray  # local seconds (exclusive); churners: their exit transfer
    churn_day: np.ndarray  # -1 = not a churner
    acquisition: np.ndarray
    is_key_account: np.ndarray
    payer_type: np.ndarray
    funding_cdf: np.ndarray  # (n, 3)
    ref_mode: np.ndarray  # e-commerce customer_ref: 0 phone, 1 e-mail, 2 both
    sms_fee: np.ndarray

    def __len__(self) -> int:
        return len(self.persona)

    @property
    def is_churner(self) -> np.ndarray:
        return self.churn_day >= 0

    def active_fraction(self, month: Month) -> np.ndarray:
        """Share of ``month`` each customer is active, with a fade-out before churning."""
        lo = np.maximum(self.active_from, month.start_ts)
        hi = np.minimum(self.active_until, month.end_ts)
        frac = np.clip(hi - lo, 0, None) / (month.end_ts - month.start_ts)
        # Churners drift away: activity falls over the last 90 days before they leave.
        mid = (month.start_ts + month.end_ts) / 2
        left = (self.active_until - mid) / (90 * DAY)
        fade = np.where(self.is_churner, np.clip(left, 0.25, 1.0), 1.0)
        return frac * fade


N_EMPLOYERS_PER_1000 = 12
PAY_DAYS = np.array([5, 10, 15, 20, 25, 28])
PAY_DAY_WEIGHTS = np.array([0.1, 0.3, 0.25, 0.1, 0.2, 0.05])


def sample_customers(n: int, months: list[Month], rng: np.random.Generator) -> Customers:
    first_day = months[0].first_day
    end_day = months[-1].first_day + months[-1].n_days
    persona = rng.choice(len(PERSONAS), size=n, p=PERSONA_MIX).astype(np.int8)
    male = rng.random(n) < np.where(persona == STUDENT, 0.48, 0.51)

    lo = np.array([a for a, _ in AGE_RANGE])[persona]
    hi = np.array([b for _, b in AGE_RANGE])[persona]
    age_days = (lo + rng.random(n) * (hi - lo + 1)) * 365.25
    birth_day = (first_day - age_days).astype(np.int64)

    cw = np.array(catalog.CITY_WEIGHTS, dtype=float)
    city = rng.choice(len(cw), size=n, p=cw / cw.sum())
    city_region = np.array([int(r) for _, r in catalog.CITIES])[city]
    other = np.array([int(r) for r in catalog.OTHER_REGIONS])[rng.integers(0, len(catalog.OTHER_REGIONS), n)]
    hukou_region = np.where(rng.random(n) < 0.7, city_region, other)

    income = INCOME_MEDIAN[persona] * np.exp(rng.normal(0, INCOME_SIGMA[persona]))
    rel = income / INCOME_MEDIAN[persona]
    spend_scale = SPEND_SCALE[persona] * rel**0.5 * np.exp(rng.normal(0, 0.15, n))
    activity = np.exp(rng.normal(0, 0.25, (n, 4))) * ENGAGEMENT[persona][:, None]

    has_platform = rng.random(n) < P_PLATFORM[persona]
    has_ecommerce = rng.random(n) < P_ECOMMERCE[persona]
    has_card = rng.random(n) < P_CARD[persona]
    has_loan = rng.random(n) < P_LOAN[persona]
    loan_cents = np.where(has_loan, np.round(income * rng.uniform(0.18, 0.4, n)) * 100, 0).astype(np.int64)
    loan_cents = np.where(persona == BUSINESS, loan_cents // 4, loan_cents)  # a mortgage, not on takings
    loan_day = rng.integers(1, 29, n)

    n_employers = max(5, n * N_EMPLOYERS_PER_1000 // 1000)
    employed = np.isin(persona, [SALARIED, AFFLUENT, DORMANT])
    employer = np.where(employed, rng.integers(0, n_employers, n), -1)
    pension_day = np.array([5, 10, 15])[city % 3]

    # Registration: most customers predate the demo period; some are acquired during it.
    new = rng.random(n) < P_NEW_IN_PERIOD[persona]
    old_span = np.where(persona == STUDENT, 4 * 365, 10 * 365)
    old_day = first_day - 30 - (rng.random(n) * old_span).astype(np.int64)
    old_day = np.where(persona == DORMANT, np.minimum(old_day, first_day - 180), old_day)
    new_day = first_day + (rng.random(n) * (end_day - first_day - 30)).astype(np.int64)
    registered_day = np.where(new, new_day, old_day)
    # Nobody opens an account before they are 16.
    registered_day = np.maximum(registered_day, birth_day + 16 * 366)

    churn = persona == DORMANT
    # Churn dates fall between month 3 and five months before the end of the period.
    churn_span = max(1, end_day - first_day - 90 - 150)
    churn_day = np.where(churn, first_day + 90 + (rng.random(n) * churn_span).astype(np.int64), -1)
    active_from = np.maximum(registered_day, first_day) * DAY + 9 * 3600
    active_until = np.where(churn, churn_day * DAY + 15 * 3600 + rng.integers(0, 3600, n), end_day * DAY)

    acq = np.array(ACQUISITION_MIX)[persona]
    acquisition = (rng.random(n)[:, None] > np.cumsum(acq, axis=1)).sum(axis=1).clip(0, 4)

    is_key_account = (persona == BUSINESS) | ((persona == AFFLUENT) & (rel > 1.35))
    pm = np.cumsum(np.array(PAYER_MIX)[persona], axis=1)
    payer_type = (rng.random(n)[:, None] > pm).sum(axis=1).clip(0, 3)
    funding_cdf = np.cumsum(np.array(FUNDING_MIX)[persona], axis=1)
    ref_mode = rng.choice(3, size=n, p=[0.5, 0.25, 0.25])
    sms_fee = rng.random(n) < 0.25

    return Customers(
        persona=persona, male=male, birth_day=birth_day, city=city, hukou_region=hukou_region,
        income=income, spend_scale=spend_scale, activity=activity, has_platform=has_platform,
        has_ecommerce=has_ecommerce, has_card=has_card, loan_cents=loan_cents, loan_day=loan_day,
        employer=employer, pension_day=pension_day, registered_day=registered_day,
        active_from=active_from, active_until=active_until, churn_day=churn_day,
        acquisition=acquisition, is_key_account=is_key_account, payer_type=payer_type,
        funding_cdf=funding_cdf, ref_mode=ref_mode, sms_fee=sms_fee,
    )


def employer_pay_days(n_employers: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(PAY_DAYS, size=n_employers, p=PAY_DAY_WEIGHTS / PAY_DAY_WEIGHTS.sum())


def period_bounds(months: list[Month]) -> tuple[int, int]:
    return months[0].start_ts, months[-1].end_ts


