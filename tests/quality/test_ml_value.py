"""ML customer-value models scored against published estimates (CDNOW) and the demo world's
planted truth (1000 customers, seed 11, ``quality_world`` from conftest).

- CLV: the CDNOW summary is rebuilt from the raw purchases (it must match the shipped one: the
  2,357-customer cohort, 39-week calibration) and the BG/NBD and Gamma-Gamma fits must be within
  1 % (relative) of Fader, Hardie & Lee's estimates; a perturbed data set must fail that check.
- Churn: ROC AUC ≥ 0.85 against the planted churners on held-out time (definition below).
- Basket rules and spend drivers on the world's tables: consistent, non-empty results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ml import churn
from ml.basket_rules import association_rules
from ml.clv import customer_lifetime_value, fit_bgnbd, fit_gamma_gamma, rfm_summary
from ml.segmentation import SEGMENT_FEATURES, segment_customers
from ml.spend_drivers import ALL_SEGMENTS_ID, spend_drivers
from orchestration.ml_io import dbt_project_var

CDNOW = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "cdnow"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LOG_LIKELIHOOD = -9582.4
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = pd.Timestamp("1997-09-30")
TOLERANCE = 0.01

# Churn evaluation: the model is trained on monthly cutoffs whose 90-day label window ends by
# SPLIT (labels known then) and scored at monthly cutoffs from SPLIT on, while planted churn
# dates still occur (the generator plants them up to mid-2026).
SPLIT = pd.Timestamp("2025-09-01")
FIRST_TRAIN_CUTOFF = pd.Timestamp("2025-01-30")  # ≈ 90 days of history before it
LAST_EVAL_CUTOFF = pd.Timestamp("2026-04-15")

CLV_TRANSACTIONS_SQL = """
    select customer_id, flow_date as date, amount_cny as value from marts.fct_fund_flows
    where customer_id is not null and direction = 'out' and category like 'consumption:%'
      and not is_internal_transfer and not is_echo and amount_cny > 0
"""


def relative_errors(fitted: object, published: dict[str, float]) -> dict[str, float]:
    return {name: abs(getattr(fitted, name) - value) / value for name, value in published.items()}


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


def test_cdnow_summary_is_the_published_cohort(cdnow_summary) -> None:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "value"], dtype={"date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    rebuilt = rfm_summary(raw, CALIBRATION_END).merge(cdnow_summary, left_on="customer_id", right_on="ID", validate="1:1")
    assert len(cdnow_summary) == 2357 and len(rebuilt) == 2357
    assert (cdnow_summary["x"] > 0).sum() == 946
    assert (rebuilt["frequency"] == rebuilt["x"]).all()
    # The shipped file rounds weeks and dollars to 2 decimals.
    assert np.abs(rebuilt["recency"] - rebuilt["t_x"]).max() < 0.006
    assert np.abs(rebuilt["T_x"] - rebuilt["T_y"]).max() < 0.006
    assert np.abs(rebuilt["monetary"] - rebuilt["zbar"]).max() < 0.006
    assert rebuilt["T_x"].max() == pytest.approx(272 / 7)  # 1997-01-01 → 1997-09-30: 39 weeks


def test_bgnbd_matches_published_estimates(cdnow_summary) -> None:
    fitted = fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    errors = relative_errors(fitted, PUBLISHED_BGNBD)
    print(f"\n[clv] CDNOW BG/NBD {fitted}; relative errors {errors}")
    assert max(errors.values()) <= TOLERANCE, errors
    assert fitted.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LOG_LIKELIHOOD, abs=0.1)


def test_gamma_gamma_matches_published_estimates(cdnow_summary) -> None:
    fitted = fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["zbar"])
    errors = relative_errors(fitted, PUBLISHED_GAMMA_GAMMA)
    print(f"\n[clv] CDNOW Gamma-Gamma {fitted}; relative errors {errors}")
    assert max(errors.values()) <= TOLERANCE, errors


def test_the_published_check_fails_on_perturbed_data(cdnow_summary) -> None:
    """The 1 % check is sharp: 10 % of customers losing one repeat purchase (their last) already
    moves the estimates outside it, and so does a Gamma-Gamma fit on values inflated by 5 %."""
    perturbed = cdnow_summary.copy()
    drop = perturbed.index[(perturbed["x"] > 1)][::10]
    perturbed.loc[drop, "x"] -= 1
    bgnbd = fit_bgnbd(perturbed["x"], perturbed["t_x"], perturbed["T"])
    assert max(relative_errors(bgnbd, PUBLISHED_BGNBD).values()) > TOLERANCE
    gamma_gamma = fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["zbar"] * 1.05)
    assert max(relative_errors(gamma_gamma, PUBLISHED_GAMMA_GAMMA).values()) > TOLERANCE


@pytest.fixture(scope="module")
def truth_owner(quality_world) -> pd.Series:
    """Warehouse customer_id → planted customer, by majority over the customer's flows mapped to
    truth through (source_channel = source_table's channel, source_record_id)."""
    flows = quality_world.df("select customer_id, source_channel, source_record_id from marts.fct_fund_flows where customer_id is not null")
    truth = quality_world.flows.assign(source_channel=lambda f: f["source_table"].str.split("__").str[0])
    matched = flows.merge(truth[["source_channel", "source_record_id", "customer_id"]].rename(columns={"customer_id": "truth_customer"}),
                          on=["source_channel", "source_record_id"])
    owner = matched.groupby("customer_id")["truth_customer"].agg(lambda s: s.value_counts().index[0])
    assert len(owner) >= 0.95 * quality_world.df("select count(*) as n from marts.dim_customer")["n"].iloc[0]
    return owner


def test_clv_on_the_demo_world(quality_world, truth_owner) -> None:
    as_of = quality_world.df("select max(as_of_date) as d from marts.mart_customer_features")["d"].iloc[0]
    result = customer_lifetime_value(quality_world.df(CLV_TRANSACTIONS_SQL), as_of)
    customers = quality_world.customers.set_index("customer_id")
    scored = result.customers.assign(truth=lambda f: f["customer_id"].map(truth_owner)).dropna(subset=["truth"])
    scored["is_churner"] = scored["truth"].map(customers["is_churner"]).astype(bool)
    scored["persona"] = scored["truth"].map(customers["persona"])
    holdout_error = result.metrics["holdout_predicted_transactions"] / result.metrics["holdout_actual_transactions"] - 1
    auc_alive = roc_auc_score(scored["is_churner"], -scored["probability_alive"])
    print(f"\n[clv] world BG/NBD {result.bgnbd}\n[clv] Gamma-Gamma {result.gamma_gamma}\n"
          f"[clv] 26-week holdout: predicted/actual - 1 = {holdout_error:+.3f}; AUC(1 - P(alive), planted churners) = {auc_alive:.3f}")
    # Planted churners stopped buying: the model must see them as probably gone.
    assert scored.loc[scored["is_churner"], "probability_alive"].median() < 0.6
    assert scored.loc[~scored["is_churner"], "probability_alive"].median() > 0.95
    assert auc_alive >= 0.75
    assert abs(holdout_error) <= 0.10
    by_persona = scored.groupby("persona")["clv_12m_cny"].median()
    assert by_persona.idxmax() == "affluent" and by_persona.idxmin() == "dormant"


def test_churn_auc_against_planted_churners_on_held_out_time(quality_world, truth_owner) -> None:
    flows = quality_world.df("select customer_id, flow_date, direction, amount_cny, category, is_internal_transfer, is_echo "
                             "from marts.fct_fund_flows where customer_id is not null")
    daily = churn.daily_activity(flows, dbt_project_var("churn_passive_categories"))
    train_cutoffs = churn.monthly_cutoffs(SPLIT - pd.Timedelta(days=churn.HORIZON_DAYS), FIRST_TRAIN_CUTOFF)
    eval_cutoffs = churn.monthly_cutoffs(LAST_EVAL_CUTOFF, SPLIT)
    assert max(train_cutoffs) + pd.Timedelta(days=churn.HORIZON_DAYS) <= SPLIT <= min(eval_cutoffs)
    model = churn.fit_churn_model(churn.training_panel(daily, train_cutoffs))

    scored = churn.training_panel(daily, eval_cutoffs)
    scored["churn_probability"] = churn.predict_churn(model, scored)["churn_probability"].to_numpy()
    churn_dates = pd.to_datetime(quality_world.customers.set_index("customer_id")["churn_date"])
    scored["churn_date"] = scored["customer_id"].map(truth_owner).map(churn_dates)
    # Planted truth, per (customer, cutoff c): evaluated if still a customer at c (no churn date,
    # or churn date ≥ c) — those already gone are excluded, they would make ranking trivial;
    # positive = "churned in the following 90 days" = churn date in [c, c + 90 days).
    alive = scored["churn_date"].isna() | (scored["churn_date"] >= scored["cutoff"])
    evaluated = scored[alive]
    positive = evaluated["churn_date"] < evaluated["cutoff"] + pd.Timedelta(days=churn.HORIZON_DAYS)
    auc = roc_auc_score(positive, evaluated["churn_probability"])
    brier = float(np.mean((evaluated["churn_probability"] - scored.loc[alive, "churned"]) ** 2))
    print(f"\n[churn] truth AUC {auc:.4f} on {len(evaluated)} customer-cutoffs ({int(positive.sum())} planted churns), "
          f"{len(train_cutoffs)} train / {len(eval_cutoffs)} held-out cutoffs; Brier vs observed label {brier:.4f}")
    assert positive.sum() >= 50
    assert auc >= 0.85
    # Shuffled scores (a model that knows nothing) do not pass the bar.
    shuffled = np.random.default_rng(0).permutation(evaluated["churn_probability"].to_numpy())
    assert roc_auc_score(positive, shuffled) < 0.85


def test_churn_risk_scores_every_customer(quality_world) -> None:
    flows = quality_world.df("select customer_id, flow_date, direction, amount_cny, category, is_internal_transfer, is_echo "
                             "from marts.fct_fund_flows where customer_id is not null")
    customers = quality_world.df("select customer_id, as_of_date from marts.mart_customer_features")
    result = churn.churn_risk(flows, customers["as_of_date"].max() + pd.Timedelta(days=1), customers=customers["customer_id"],
                              passive_categories=dbt_project_var("churn_passive_categories"))
    print(f"\n[churn] held-out (warehouse label) {result.evaluation}")
    assert len(result.scores) == len(customers) and result.scores["customer_id"].is_unique
    assert result.scores["churn_probability"].between(0, 1).all()
    assert result.evaluation["heldout_roc_auc"] >= 0.9
    assert result.scores["top_features"].notna().all()


def test_basket_rules_on_the_demo_world(quality_world) -> None:
    lines = quality_world.df("select order_id, product_category, status from intermediate.int_ecommerce__order_lines_deduped")
    result = association_rules(lines, min_support=0.005, min_confidence=0.05)
    paid_orders = lines[(lines["status"] == "PAID") & lines["product_category"].notna()]["order_id"].nunique()
    assert result.n_baskets == paid_orders
    assert len(result.rules) > 0
    rules = result.rules
    assert np.allclose(rules["lift"], rules["confidence"] / rules["consequent_support"])
    assert (rules["support"] >= 0.005).all() and (rules["confidence"] >= 0.05).all()
    print(f"\n[basket] {result.n_baskets} baskets, {len(rules)} rules, max lift {rules['lift'].max():.3f}")


def test_spend_drivers_on_the_demo_world(quality_world) -> None:
    features = quality_world.df("select * from marts.mart_customer_features")
    segments = segment_customers(features[["customer_id", *SEGMENT_FEATURES]], seed=11).assignments
    result = spend_drivers(features.merge(segments, on="customer_id"))
    income = result.coefficients[result.coefficients["term"] == "log_income_12m"].set_index("segment_id")
    print(f"\n[spend] income elasticity by segment:\n{income[['segment_name', 'coefficient', 'ci_lower', 'ci_upper', 'n_customers', 'r_squared']]}")
    # Spending rises with income overall, and the interval excludes zero.
    assert income.loc[ALL_SEGMENTS_ID, "ci_lower"] > 0
    assert (result.coefficients["ci_lower"] <= result.coefficients["coefficient"]).all()
    assert (result.coefficients["coefficient"] <= result.coefficients["ci_upper"]).all()


def test_dagster_assets_write_ml_tables(quality_world, tmp_path) -> None:
    """The four assets materialize in process against a copy of the world's warehouse and leave
    ml.* tables with model version and training time. ml.customer_segments (another asset module's
    output, which spend drivers reads) is written first from the pure segmentation model."""
    import shutil
    from datetime import datetime, timezone

    import dagster as dg
    import duckdb

    from orchestration.defs.assets import ml_customer_value
    from orchestration.defs.resources import WarehouseResource
    from orchestration.ml_io import write_result

    warehouse_path = tmp_path / "warehouse.duckdb"
    shutil.copy(quality_world.warehouse_path, warehouse_path)
    con = duckdb.connect(str(warehouse_path))
    try:
        features = con.execute("select * from marts.mart_customer_features").df()
        segments = segment_customers(features[["customer_id", *SEGMENT_FEATURES]], seed=11)
        write_result(con, "customer_segments", segments.assignments, segments.model_version, datetime.now(timezone.utc))
    finally:
        con.close()
    result = dg.materialize(
        [ml_customer_value.customer_clv, ml_customer_value.churn_risk,
         ml_customer_value.association_rules, ml_customer_value.spend_drivers],
        resources={"warehouse": WarehouseResource(home=str(tmp_path), database=str(warehouse_path))},
    )
    assert result.success
    metadata = {
        event.asset_key.path[-1]: event.event_specific_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert metadata["churn_risk"]["heldout_roc_auc"].value >= 0.9
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        customers = con.execute("select count(*) from marts.mart_customer_features").fetchone()[0]
        for table, columns in {
            "customer_clv": ["customer_id", "expected_transactions_12m", "expected_avg_value_cny", "clv_12m_cny", "probability_alive"],
            "churn_risk": ["customer_id", "churn_probability", "churn_risk_band", "top_features"],
            "association_rules": ["antecedent", "consequent", "support", "confidence", "lift"],
            "spend_drivers": ["segment_id", "segment_name", "term", "coefficient", "ci_lower", "ci_upper"],
        }.items():
            present = {row[0] for row in con.execute(
                "select column_name from information_schema.columns where table_schema = 'ml' and table_name = ?", [table]).fetchall()}
            assert {*columns, "model_version", "trained_at"} <= present, table
            assert con.execute(f"select count(*) from ml.{table}").fetchone()[0] > 0
        for table in ("customer_clv", "churn_risk"):
            assert con.execute(f"select count(*), count(distinct customer_id) from ml.{table}").fetchone() == (customers, customers)
    finally:
        con.close()
    assert any((tmp_path / "models" / "churn_risk").glob("*.joblib"))
