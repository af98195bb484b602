"""Segmentation finds planted customer groups, is reproducible, and names them sensibly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from ml.segmentation import DESCRIBED_FEATURES, INPUT_COLUMNS, MODEL_FEATURES, age_from_band, name_segments, segment_customers

NUMERIC_INPUTS = [c for c in INPUT_COLUMNS if c not in ("as_of_date", "first_flow_date", "age_band")]

# persona: share of customers, income, spending, flows/yr, recency days, balance,
#          channel mix (bank, payments, e-commerce, cards), card utilisation, tenure days,
#          salary share of income, share of all-time income earned in the last 12 months, age band
PERSONAS = {
    "mass": (0.45, 120e3, 95e3, 300, 2, 30e3, (0.45, 0.35, 0.15, 0.05), 0.35, 1500, 0.95, 0.5, "25-34"),
    "affluent": (0.20, 700e3, 420e3, 420, 1, 600e3, (0.60, 0.20, 0.10, 0.10), 0.15, 3000, 0.9, 0.5, "45-54"),
    "business": (0.10, 20e6, 19e6, 6000, 0, 10e6, (0.85, 0.10, 0.02, 0.03), 0.05, 2500, 0.0, 0.5, "45-54"),
    "dormant": (0.25, 4e3, 3e3, 6, 240, 1.5e3, (0.90, 0.05, 0.03, 0.02), 0.02, 2800, 0.3, 0.05, "35-44"),
}
AS_OF = pd.Timestamp("2026-10-31")


def planted_customers(n: int = 800, seed: int = 0, missing_rate: float = 0.02) -> tuple[pd.DataFrame, pd.Series]:
    """Customers drawn from the personas above, with a few nulls sprinkled in."""
    rng = np.random.default_rng(seed)
    names = list(PERSONAS)
    persona_of = rng.choice(len(names), size=n, p=[PERSONAS[p][0] for p in names])
    rows = []
    for i, index in enumerate(persona_of):
        _, income, spending, flows, recency, balance, mix, utilisation, tenure, salary, recent, band = PERSONAS[names[index]]

        def jitter(value: float, sigma: float = 0.2) -> float:
            return value * float(np.exp(rng.normal(0.0, sigma)))

        income, spending = jitter(income), jitter(spending)
        shares = rng.dirichlet(np.array(mix) * 60)
        rows.append(
            {
                "customer_id": f"C{i:05d}",
                "recency_days": max(0.0, jitter(recency + 1) - 1),
                "frequency_12m": round(jitter(flows)),
                "income_cny_12m": income,
                "spending_cny_12m": spending,
                "net_flow_cny_12m": income - spending,
                "avg_balance_cny": jitter(balance),
                "latest_balance_cny": jitter(balance),
                "share_bank": shares[0],
                "share_payments": shares[1],
                "share_ecommerce": shares[2],
                "share_cards": shares[3],
                "spending_to_income_ratio": spending / income,
                "card_utilisation": min(1.5, jitter(utilisation + 0.01, 0.3)),
                "tenure_days": jitter(tenure, 0.3),
                "as_of_date": AS_OF.date(),
                "first_flow_date": (AS_OF - pd.Timedelta(days=720)).date(),
                "salary_cny_12m": income * min(1.0, jitter(salary + 0.01, 0.05)),
                "total_inflow_cny": income / min(1.0, jitter(recent, 0.1)),
                "age_band": band,
            }
        )
    customers = pd.DataFrame(rows)
    holes = rng.random((n, len(NUMERIC_INPUTS))) < missing_rate
    customers[NUMERIC_INPUTS] = customers[NUMERIC_INPUTS].mask(holes)
    return customers, pd.Series([names[i] for i in persona_of], index=customers["customer_id"])


@pytest.fixture(scope="module")
def planted():
    customers, truth = planted_customers()
    return customers, truth, segment_customers(customers, k_range=(3, 8), seed=42)


def test_planted_groups_are_recovered(planted) -> None:
    customers, truth, result = planted
    assert result.chosen_k == 4
    labels = result.assignments.set_index("customer_id").loc[truth.index, "segment_id"]
    assert adjusted_rand_score(truth.to_numpy(), labels.to_numpy()) >= 0.9
    assert set(result.davies_bouldin_by_k) == set(range(3, 9)) == set(result.silhouette_by_k)
    assert result.davies_bouldin_by_k[4] == min(result.davies_bouldin_by_k.values())


def test_result_shapes(planted) -> None:
    customers, _, result = planted
    assert list(result.assignments.columns) == ["customer_id", "segment_id", "segment_name", "distance_to_centroid"]
    assert len(result.assignments) == len(customers) and result.assignments["customer_id"].is_unique
    assert (result.assignments["distance_to_centroid"] >= 0).all()
    profiles = result.profiles
    assert list(profiles["segment_id"]) == list(range(result.chosen_k))
    assert profiles["customers"].sum() == len(customers)
    assert profiles["customers"].is_monotonic_decreasing  # segment 0 is the largest
    assert {f"median_{f}" for f in DESCRIBED_FEATURES} <= set(profiles.columns)
    assert set(result.imputed_values) == set(MODEL_FEATURES)
    assert result.imputed_values["avg_balance_cny"] == customers["avg_balance_cny"].isna().sum() > 0


def test_segment_names_are_unique_bilingual_and_fit_the_planted_personas(planted) -> None:
    _, truth, result = planted
    names = result.profiles["segment_name"]
    assert names.is_unique
    assert all(" / " in name for name in names)
    by_persona = (
        result.assignments.set_index("customer_id").loc[truth.index, "segment_name"].groupby(truth.to_numpy()).agg(
            lambda s: s.mode().iloc[0]
        )
    )
    assert by_persona["dormant"] == "流失沉睡 / dormant · lapsed"
    assert by_persona["business"] == "大额经营 / large business flows"
    assert by_persona["affluent"] == "高收入高消费 / high income · high spend"
    assert by_persona["mass"] == "工薪大众 / salaried mass market"


def test_the_fitted_model_predicts_the_assigned_segments(planted) -> None:
    customers, _, result = planted
    predicted = pd.Series(result.model.predict(customers), index=customers["customer_id"])
    assigned = result.assignments.set_index("customer_id")["segment_id"]
    assert (predicted.loc[assigned.index] == assigned).all()


def test_same_seed_same_result_whatever_the_row_order(planted) -> None:
    customers, _, first = planted
    shuffled = customers.sample(frac=1.0, random_state=7)
    again = segment_customers(shuffled, k_range=(3, 8), seed=42)
    assert again.model_version == first.model_version
    pd.testing.assert_frame_equal(again.assignments, first.assignments)
    pd.testing.assert_frame_equal(again.profiles, first.profiles)


def test_a_different_seed_gives_a_different_version() -> None:
    customers, _ = planted_customers(n=300, seed=3)
    assert segment_customers(customers, seed=1).model_version != segment_customers(customers, seed=2).model_version


def test_a_missing_feature_is_a_clear_error() -> None:
    customers, _ = planted_customers(n=50)
    with pytest.raises(ValueError, match="card_utilisation"):
        segment_customers(customers.drop(columns=["card_utilisation"]))


def test_duplicate_customers_are_refused() -> None:
    customers, _ = planted_customers(n=50)
    with pytest.raises(ValueError, match="one row per customer"):
        segment_customers(pd.concat([customers, customers.head(2)]))


def test_too_few_customers_for_the_k_range() -> None:
    customers, _ = planted_customers(n=3)
    with pytest.raises(ValueError, match="too few"):
        segment_customers(customers, k_range=(3, 8))


def test_infinite_ratios_and_all_null_features_do_not_break_fitting() -> None:
    customers, _ = planted_customers(n=200, seed=5)
    customers.loc[:10, "spending_to_income_ratio"] = np.inf
    customers.loc[:10, "avg_balance_cny"] = np.inf
    customers["age_band"] = None  # e.g. no birth dates in this market
    result = segment_customers(customers, k_range=(3, 5))
    assert result.imputed_values["age_years"] == 200
    assert result.imputed_values["avg_balance_cny"] >= 11
    assert result.assignments["segment_id"].notna().all()


def test_names_stay_unique_when_profiles_look_alike() -> None:
    population = pd.DataFrame({f: np.linspace(0, 1, 101) for f in DESCRIBED_FEATURES})
    median_row = {f"median_{f}": 0.5 for f in DESCRIBED_FEATURES}
    profiles = pd.DataFrame([{"segment_id": s, **median_row} for s in range(5)])
    names = name_segments(profiles, population)
    assert len(set(names.values())) == 5


def test_age_bands_become_mid_points() -> None:
    assert age_from_band("25-34") == 29.5
    assert age_from_band("65+") == 70.0
    assert np.isnan(age_from_band(None)) and np.isnan(age_from_band("unknown"))
