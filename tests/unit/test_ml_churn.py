"""Churn: labels and features respect the cutoff (no leakage), interest is not activity, the
model ranks planted leavers above stayers on held-out time, and each score says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import churn
from ml.churn import FEATURES, churn_risk, daily_activity, features_at, labels_at
from orchestration.ml_io import dbt_project_var

# The one definition of "not activity": the dbt var mart_kpis also counts lost customers with.
PASSIVE = dbt_project_var("churn_passive_categories")

START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31")


def planted_flows(n: int = 300, seed: int = 4) -> tuple[pd.DataFrame, pd.Series]:
    """Customers spend every few days; a third leave at a random date, after a quiet month in
    which they move their money out (fewer purchases, one large transfer). Every account keeps
    receiving monthly interest, before and after leaving."""
    rng = np.random.default_rng(seed)
    rows, leave_dates = [], {}
    for i in range(n):
        customer = f"c{i:03d}"
        leaves = i % 3 == 0
        leave = START + pd.Timedelta(days=int(rng.integers(150, 700))) if leaves else END + pd.Timedelta(days=1)
        leave_dates[customer] = leave if leaves else pd.NaT
        rate = rng.uniform(0.15, 0.5)
        for day in pd.date_range(START, END):
            if day.day == 21:
                rows.append((customer, day, "in", 5.0, "interest", False, False))
            if day >= leave:
                continue
            quiet = (leave - day).days <= 30
            if rng.random() < (rate * 0.3 if quiet else rate):
                rows.append((customer, day, "out", float(rng.gamma(2, 80)), "consumption:groceries", False, False))
            if quiet and (leave - day).days == 3:
                rows.append((customer, day, "out", 50_000.0, "transfer", False, False))
    columns = ["customer_id", "flow_date", "direction", "amount_cny", "category", "is_internal_transfer", "is_echo"]
    return pd.DataFrame(rows, columns=columns), pd.Series(leave_dates)


@pytest.fixture(scope="module")
def planted():
    flows, leave = planted_flows()
    return flows, leave, daily_activity(flows, PASSIVE)


def test_features_ignore_everything_after_the_cutoff(planted) -> None:
    flows, _, daily = planted
    cutoff = pd.Timestamp("2025-03-01")
    before = features_at(daily, cutoff)
    future = flows[pd.to_datetime(flows["flow_date"]) >= cutoff].assign(amount_cny=1e9, category="salary", direction="in")
    tampered = pd.concat([flows[pd.to_datetime(flows["flow_date"]) < cutoff], future, future])
    after = features_at(daily_activity(tampered, PASSIVE), cutoff)
    pd.testing.assert_frame_equal(before, after)


def test_label_is_no_activity_in_next_90_days_and_interest_does_not_count(planted) -> None:
    _, leave, daily = planted
    cutoff = pd.Timestamp("2025-01-01")
    labels = labels_at(daily, cutoff)
    left_before_window_end = leave.notna() & (leave < cutoff + pd.Timedelta(days=90)) & (leave > cutoff - pd.Timedelta(days=400))
    # Leavers gone well before the window end have only interest in it: labelled churned.
    gone = leave[leave.notna() & (leave <= cutoff)].index
    assert labels.loc[gone].eq(1).all()
    stayers = leave[leave.isna()].index
    assert labels.loc[stayers].mean() < 0.05
    assert left_before_window_end.sum() > 0


def test_held_out_ranking_probabilities_and_reasons(planted) -> None:
    flows, leave, _ = planted
    customers = pd.Series([*leave.index, "no-flows"])
    result = churn_risk(flows, END + pd.Timedelta(days=1), customers=customers, passive_categories=PASSIVE)
    assert result.evaluation["heldout_roc_auc"] >= 0.8
    assert 0 <= result.evaluation["heldout_brier"] < 0.25
    scores = result.scores.set_index("customer_id")
    assert scores["churn_probability"].between(0, 1).all()
    assert scores.loc["no-flows", "churn_risk_band"] == "churned"
    gone = leave[leave.notna() & (leave < END - pd.Timedelta(days=90))].index
    assert (scores.loc[gone, "churn_risk_band"] == "churned").all()
    active = scores[scores["churn_risk_band"] != "churned"]
    assert active["top_features"].str.len().gt(0).all()
    assert set(FEATURES) <= set(result.scores.columns)
    assert result.model_version.startswith("churn-logit-platt-v1-")


def test_missing_columns_and_short_history_are_refused(planted) -> None:
    flows, _, _ = planted
    with pytest.raises(ValueError, match="lack columns"):
        daily_activity(flows.drop(columns="category"), PASSIVE)
    recent = flows[pd.to_datetime(flows["flow_date"]) >= pd.Timestamp("2025-09-01")]
    with pytest.raises(ValueError, match="history too short"):
        churn_risk(recent, passive_categories=PASSIVE)


def test_the_activity_rule_is_the_dbt_var_and_has_no_second_copy() -> None:
    assert "interest" in PASSIVE and "fee" in PASSIVE
    with pytest.raises(KeyError, match="not_a_var"):
        dbt_project_var("not_a_var")
    with pytest.raises(TypeError):
        churn_risk(pd.DataFrame())  # no default list to fall back on


def test_panel_built_for_the_fit_sample_gives_the_models_of_the_full_panel(planted, monkeypatch) -> None:
    # churn_risk builds the training panel only for the customers fit_churn_model's seeded sample
    # keeps (plus everyone at the held-out cutoffs). With a row cap that forces sampling, its
    # evaluation and scores must be those of the full panel of everyone at every cutoff.
    flows, _, daily = planted
    monkeypatch.setattr(churn, "MAX_FIT_ROWS", 1_500)
    as_of = END + pd.Timedelta(days=1)
    result = churn_risk(flows, as_of, passive_categories=PASSIVE)
    cutoffs = churn.monthly_cutoffs(as_of - pd.Timedelta(days=90), daily["day"].min() + pd.Timedelta(days=90))
    held_out = cutoffs[-3:]
    train = [c for c in cutoffs if c + pd.Timedelta(days=90) <= held_out[0]]
    panel = churn.training_panel(daily, cutoffs)
    assert result.evaluation["train_rows"] == len(panel) > 2 * churn.MAX_FIT_ROWS  # the sample is in play
    backtest = churn.fit_churn_model(panel[panel["cutoff"].isin(train)])
    expected = churn.evaluate(backtest, panel[panel["cutoff"].isin(held_out)])
    assert result.evaluation["heldout_roc_auc"] == pytest.approx(expected["roc_auc"], abs=1e-12)
    assert result.evaluation["heldout_brier"] == pytest.approx(expected["brier"], abs=1e-12)
    current = features_at(daily, as_of)
    reference = churn.predict_churn(churn.fit_churn_model(panel), current).set_index("customer_id")
    scores = result.scores.set_index("customer_id").loc[reference.index]
    np.testing.assert_allclose(scores["churn_probability"], reference["churn_probability"], atol=1e-12)
