"""Spend drivers (回归分析): how 12-month spending moves with income and behaviour, per segment.

Input: one row per customer with the ``mart_customer_features`` columns in ``DRIVERS`` and the
target, plus ``segment_id`` / ``segment_name`` (from ``ml.customer_segments``).

Model, per segment and once for all customers together (segment_id −1): ordinary least squares
(statsmodels) of ``log1p(spending)`` on ``log1p(income)``, ``log1p(frequency)``,
``log1p(average balance, floored at 0)`` and the channel shares. Logs because amounts span four
orders of magnitude and a few large customers would otherwise set every coefficient; the
income coefficient is then an elasticity (1 % more income ↔ β % more spending). Standard errors
are heteroskedasticity-robust (HC3), since spending varies far more among high earners, and
confidence intervals are at ``ci_level`` (95 %). A segment with fewer than
``MIN_CUSTOMERS_PER_TERM`` customers per coefficient is not fitted (listed in ``skipped``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

MODEL_NAME = "spend-ols-hc3"
MODEL_REVISION = "v1"
TARGET = "spending_cny_12m"
# feature column → (term name in the output, transform)
DRIVERS: dict[str, tuple[str, str]] = {
    "income_cny_12m": ("log_income_12m", "log1p"),
    "frequency_12m": ("log_frequency_12m", "log1p"),
    "avg_balance_cny": ("log_avg_balance", "log1p"),
    "share_payments": ("share_payments", "identity"),
    "share_ecommerce": ("share_ecommerce", "identity"),
    "share_cards": ("share_cards", "identity"),
}
MIN_CUSTOMERS_PER_TERM = 10
ALL_SEGMENTS_ID = -1
ALL_SEGMENTS_NAME = "全部客户 / all customers"
OUTPUT_COLUMNS = [
    "segment_id", "segment_name", "term", "coefficient", "std_error", "ci_lower", "ci_upper", "p_value",
    "ci_level", "n_customers", "r_squared", "target",
]


@dataclass(frozen=True)
class SpendDriversResult:
    coefficients: pd.DataFrame  # OUTPUT_COLUMNS, one row per segment × term
    skipped: dict[str, int]  # segment name → customers, for segments too small to fit
    models: dict[int, object]  # segment_id → statsmodels results
    model_version: str


def design_matrix(customers: pd.DataFrame, drivers: dict[str, tuple[str, str]] = DRIVERS) -> pd.DataFrame:
    missing = set(drivers) - set(customers.columns)
    if missing:
        raise ValueError(f"spend_drivers: customers lack columns {sorted(missing)}")
    columns = {}
    for column, (term, transform) in drivers.items():
        values = pd.to_numeric(customers[column], errors="coerce").astype(float)
        columns[term] = np.log1p(values.clip(lower=0)) if transform == "log1p" else values
    return sm.add_constant(pd.DataFrame(columns, index=customers.index), has_constant="add")


def spend_drivers(
    customers: pd.DataFrame,
    *,
    target: str = TARGET,
    drivers: dict[str, tuple[str, str]] = DRIVERS,
    ci_level: float = 0.95,
    log_target: bool = True,
) -> SpendDriversResult:
    for column in ("customer_id", "segment_id", "segment_name", target):
        if column not in customers.columns:
            raise ValueError(f"spend_drivers: customers lack column {column!r}")
    frame = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    y = pd.to_numeric(frame[target], errors="coerce").astype(float)
    y = np.log1p(y.clip(lower=0)) if log_target else y
    X = design_matrix(frame, drivers)
    usable = X.notna().all(axis=1) & y.notna()
    groups = [(ALL_SEGMENTS_ID, ALL_SEGMENTS_NAME, usable)]
    for (segment_id, segment_name), _ in frame.groupby(["segment_id", "segment_name"], sort=True):
        groups.append((int(segment_id), str(segment_name), usable & frame["segment_id"].eq(segment_id)))
    rows, skipped, models = [], {}, {}
    for segment_id, segment_name, rows_in in groups:
        n = int(rows_in.sum())
        # A constant column (e.g. no one in the segment uses cards) cannot be estimated: drop it.
        X_segment = X[rows_in]
        X_segment = X_segment.loc[:, (X_segment.nunique() > 1) | (X_segment.columns == "const")]
        if n < MIN_CUSTOMERS_PER_TERM * X_segment.shape[1]:
            skipped[segment_name] = n
            continue
        fitted = sm.OLS(y[rows_in], X_segment).fit(cov_type="HC3")
        models[segment_id] = fitted
        interval = fitted.conf_int(alpha=1 - ci_level)
        for term in X_segment.columns:
            rows.append(
                {
                    "segment_id": segment_id,
                    "segment_name": segment_name,
                    "term": term,
                    "coefficient": float(fitted.params[term]),
                    "std_error": float(fitted.bse[term]),
                    "ci_lower": float(interval.loc[term, 0]),
                    "ci_upper": float(interval.loc[term, 1]),
                    "p_value": float(fitted.pvalues[term]),
                    "ci_level": ci_level,
                    "n_customers": n,
                    "r_squared": float(fitted.rsquared),
                    "target": f"log1p({target})" if log_target else target,
                }
            )
    config = json.dumps({"target": target, "drivers": drivers, "ci_level": ci_level, "log_target": log_target,
                         "rev": MODEL_REVISION}, sort_keys=True)
    digest = hashlib.sha256(config.encode())
    digest.update(pd.util.hash_pandas_object(pd.concat([X, y.rename("y"), frame["segment_id"]], axis=1), index=False).to_numpy().tobytes())
    return SpendDriversResult(
        pd.DataFrame(rows, columns=OUTPUT_COLUMNS), skipped, models, f"{MODEL_NAME}-{MODEL_REVISION}-{digest.hexdigest()[:10]}"
    )
