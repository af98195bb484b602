"""Spend drivers: OLS per segment recovers known coefficients inside its 95 % intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.spend_drivers import ALL_SEGMENTS_ID, spend_drivers

# Per segment: log1p(spending) = b0 + b_income · log1p(income) + b_freq · log1p(frequency) + noise.
TRUE = {0: {"const": 1.0, "log_income_12m": 0.9, "log_frequency_12m": 0.2},
        1: {"const": 3.0, "log_income_12m": 0.5, "log_frequency_12m": 0.6}}
DRIVERS = {"income_cny_12m": ("log_income_12m", "log1p"), "frequency_12m": ("log_frequency_12m", "log1p")}


def planted_customers(n_per_segment: int = 800, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for segment, beta in TRUE.items():
        log_income = rng.normal(11, 0.8, n_per_segment)
        log_frequency = rng.normal(3, 0.7, n_per_segment)
        # Heteroskedastic noise (larger for high incomes), which HC3 intervals must absorb.
        noise = rng.normal(0, 0.1 + 0.1 * (log_income - 9).clip(0), n_per_segment)
        log_spend = beta["const"] + beta["log_income_12m"] * log_income + beta["log_frequency_12m"] * log_frequency + noise
        parts.append(pd.DataFrame({
            "customer_id": [f"s{segment}-{i:04d}" for i in range(n_per_segment)],
            "segment_id": segment, "segment_name": f"segment {segment}",
            "income_cny_12m": np.expm1(log_income), "frequency_12m": np.expm1(log_frequency),
            "spending_cny_12m": np.expm1(log_spend),
        }))
    return pd.concat(parts, ignore_index=True)


def test_known_coefficients_inside_confidence_intervals() -> None:
    result = spend_drivers(planted_customers(), drivers=DRIVERS)
    table = result.coefficients.set_index(["segment_id", "term"])
    for segment, beta in TRUE.items():
        for term, value in beta.items():
            row = table.loc[(segment, term)]
            assert row["ci_lower"] <= value <= row["ci_upper"], (segment, term, row.to_dict())
            if term != "const":  # the intercept sits far from the data (log income ≈ 11): wide
                assert row["ci_upper"] - row["ci_lower"] < 0.2  # and the interval is informative
    # The pooled fit is there too, with every customer.
    assert table.loc[(ALL_SEGMENTS_ID, "log_income_12m"), "n_customers"] == 1600
    assert set(result.coefficients["ci_level"]) == {0.95}


def test_wrong_coefficient_falls_outside_interval() -> None:
    """The check above can fail: segment 1's income effect is not segment 0's."""
    table = spend_drivers(planted_customers(), drivers=DRIVERS).coefficients.set_index(["segment_id", "term"])
    row = table.loc[(1, "log_income_12m")]
    assert not row["ci_lower"] <= TRUE[0]["log_income_12m"] <= row["ci_upper"]


def test_small_segment_is_skipped_and_constant_column_dropped() -> None:
    customers = planted_customers()
    tiny = customers.head(12).assign(segment_id=7, segment_name="tiny", customer_id=lambda f: "t" + f["customer_id"])
    customers = pd.concat([customers, tiny], ignore_index=True).assign(share_cards=0.0)
    drivers = {**DRIVERS, "share_cards": ("share_cards", "identity")}
    result = spend_drivers(customers, drivers=drivers)
    assert result.skipped == {"tiny": 12}
    assert "share_cards" not in set(result.coefficients["term"])


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="segment_id"):
        spend_drivers(planted_customers().drop(columns="segment_id"), drivers=DRIVERS)
