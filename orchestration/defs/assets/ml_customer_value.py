"""ML customer-value assets: CLV, churn risk, basket rules and spend drivers.

Each asset reads marts (and ``ml.customer_segments`` for spend drivers), calls a pure model in
``ml/``, writes its result to ``ml.*`` with model version and training time
(``orchestration.ml_io``), keeps the fitted artifact under FUNDFLOW_HOME/models and puts its
quality figures in the materialization metadata.
"""


from datetime import datetime, timedelta, timezone

import dagster as dg
import pandas as pd

from ml.basket_rules import association_rules as mine_association_rules
from ml.churn import churn_risk as score_churn_risk
from ml.clv import customer_lifetime_value
from ml.spend_drivers import spend_drivers as fit_spend_drivers
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from orchestration.ml_io import dbt_project_var, read_frame, save_artifact, write_result

CLV_KEY = dg.AssetKey(["ml", "customer_clv"])
CHURN_KEY = dg.AssetKey(["ml", "churn_risk"])
BASKET_RULES_KEY = dg.AssetKey(["ml", "association_rules"])
SPEND_DRIVERS_KEY = dg.AssetKey(["ml", "spend_drivers"])
ML_VALUE_KEYS = [CLV_KEY, CHURN_KEY, BASKET_RULES_KEY, SPEND_DRIVERS_KEY]

FLOWS_KEY = dg.AssetKey(["marts", "fct_fund_flows"])
FEATURES_KEY = dg.AssetKey(["marts", "mart_customer_features"])
BASKET_LINES_KEY = dg.AssetKey(["intermediate", "int_basket_lines"])
SEGMENTS_KEY = dg.AssetKey(["ml", "customer_segments"])

# CLV counts consumption spending: the flows on which a bank or platform earns merchant fees,
# and the only outflows that are repeat purchases (transfers and investments are not).
CLV_TRANSACTIONS_SQL = """
    select customer_id, flow_date as date, amount_cny as value
    from marts.fct_fund_flows
    where customer_id is not null and direction = 'out' and category like 'consumption:%'
      and not is_internal_transfer and not is_echo and amount_cny > 0
"""
CHURN_FLOWS_SQL = """
    select customer_id, flow_date, direction, amount_cny, category, is_internal_transfer, is_echo
    from marts.fct_fund_flows
    where customer_id is not null
"""
BASKET_MIN_SUPPORT = 0.005
BASKET_MIN_CONFIDENCE = 0.05
BASKET_TOP_RULES = 200


def _as_of(con):
    return con.execute("select max(as_of_date) from marts.mart_customer_features").fetchone()[0]


@dg.asset(
    key=CLV_KEY,
    deps=[FLOWS_KEY, FEATURES_KEY],
    group_name="ml",
    kinds={"scipy", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="12-month customer lifetime value: BG/NBD (repeat consumption days) × Gamma-Gamma "
    "(value per day), fitted by maximum likelihood; probability alive per customer.",
)
def customer_clv(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        as_of = _as_of(con)
        transactions = read_frame(con, CLV_TRANSACTIONS_SQL)
        customers = con.execute("select customer_id from marts.mart_customer_features").df()["customer_id"]
        result = customer_lifetime_value(transactions, as_of, customers=customers)
        write_result(con, "customer_clv", result.customers, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "customer_clv", result.model_version,
                             {"bgnbd": result.bgnbd, "gamma_gamma": result.gamma_gamma, "metrics": result.metrics})
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.customers),
            "model_version": result.model_version,
            "bgnbd": dg.MetadataValue.json({k: round(v, 6) for k, v in vars(result.bgnbd).items() if isinstance(v, float)}),
            "gamma_gamma": dg.MetadataValue.json({k: round(v, 6) for k, v in vars(result.gamma_gamma).items() if isinstance(v, float)}),
            **{name: float(value) for name, value in result.metrics.items()},
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )


@dg.asset(
    key=CHURN_KEY,
    deps=[FLOWS_KEY, FEATURES_KEY],
    group_name="ml",
    kinds={"sklearn", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Churn risk: calibrated probability of no activity in the next 90 days, risk band and "
    "the features pushing each customer towards churn; held-out-time AUC and Brier score in the metadata.",
)
def churn_risk(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        as_of = _as_of(con)
        flows = read_frame(con, CHURN_FLOWS_SQL)
        customers = con.execute("select customer_id from marts.mart_customer_features").df()["customer_id"]
        # Features use the days before the cutoff, so the as-of day itself is included: cutoff = as_of + 1.
        result = score_churn_risk(flows, as_of + timedelta(days=1), customers=customers,
                                  passive_categories=dbt_project_var("churn_passive_categories"))
        write_result(con, "churn_risk", result.scores, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "churn_risk", result.model_version, result.model)
    bands = result.scores["churn_risk_band"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.scores),
            "model_version": result.model_version,
            **{name: float(value) for name, value in result.evaluation.items()},
            "risk_bands": dg.MetadataValue.json({str(k): int(v) for k, v in bands.items()}),
            "coefficients": dg.MetadataValue.json(result.coefficients),
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )


@dg.asset(
    key=BASKET_RULES_KEY,
    deps=[BASKET_LINES_KEY],
    group_name="ml",
    kinds={"pandas", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Basket rules from paid orders (support, confidence, lift), best lift first, mined per source: "
    "demo e-commerce orders at category level, UCI Online Retail invoices at product (stock code) level.",
)
def association_rules(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        lines = con.execute(
            "select source_channel, order_id, item as product_category, status from intermediate.int_basket_lines"
        ).df()
        # Mined per source: supports are shares of one shop's baskets, and a category of one
        # source and a stock code of another never sit in the same basket.
        results = {
            channel: mine_association_rules(channel_lines.drop(columns="source_channel"),
                                            min_support=BASKET_MIN_SUPPORT, min_confidence=BASKET_MIN_CONFIDENCE,
                                            top_n=BASKET_TOP_RULES)
            for channel, channel_lines in lines.groupby("source_channel", sort=True)
        } or {"ecommerce": mine_association_rules(lines.drop(columns="source_channel"),
                                                  min_support=BASKET_MIN_SUPPORT, min_confidence=BASKET_MIN_CONFIDENCE,
                                                  top_n=BASKET_TOP_RULES)}
        rules = pd.concat([r.rules.assign(source_channel=c) for c, r in results.items()], ignore_index=True)
        rules = rules.sort_values("lift", ascending=False, kind="stable").reset_index(drop=True)
        itemsets = pd.concat([r.itemsets.assign(source_channel=c) for c, r in results.items()], ignore_index=True)
        model_version = next(iter(results.values())).model_version
        write_result(con, "association_rules", rules, model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "association_rules", model_version,
                             {"rules": rules, "itemsets": itemsets})
    top = rules.head(10)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rules),
            "model_version": model_version,
            "baskets": sum(r.n_baskets for r in results.values()),
            "baskets_per_source": dg.MetadataValue.json({c: r.n_baskets for c, r in results.items()}),
            "frequent_itemsets": len(itemsets),
            "max_lift": float(rules["lift"].max()) if len(rules) else 0.0,
            "min_support": BASKET_MIN_SUPPORT,
            "min_confidence": BASKET_MIN_CONFIDENCE,
            "top_rules": dg.MetadataValue.json(
                [f"{r.antecedent} → {r.consequent}: support {r.support:.4f}, confidence {r.confidence:.3f}, lift {r.lift:.3f}"
                 for r in top.itertuples()]
            ),
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )


@dg.asset(
    key=SPEND_DRIVERS_KEY,
    deps=[FEATURES_KEY, SEGMENTS_KEY],
    group_name="ml",
    kinds={"statsmodels", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Spend drivers (回归分析): OLS of log 12-month spending on log income, activity, balance "
    "and channel mix, per segment and overall, with HC3-robust 95 % confidence intervals.",
)
def spend_drivers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        customers = con.execute(
            """
            select features.*, segments.segment_id, segments.segment_name
            from marts.mart_customer_features as features
            inner join ml.customer_segments as segments using (customer_id)
            """
        ).df()
        result = fit_spend_drivers(customers)
        write_result(con, "spend_drivers", result.coefficients, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "spend_drivers", result.model_version, result.models)
    income = result.coefficients[result.coefficients["term"] == "log_income_12m"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.coefficients),
            "model_version": result.model_version,
            "segments_fitted": int(result.coefficients["segment_id"].nunique()) if len(result.coefficients) else 0,
            "segments_skipped": dg.MetadataValue.json(result.skipped),
            "income_elasticity_by_segment": dg.MetadataValue.json(
                {row.segment_name: [round(row.coefficient, 4), round(row.ci_lower, 4), round(row.ci_upper, 4)]
                 for row in income.itertuples()}
            ),
            "r_squared_by_segment": dg.MetadataValue.json(
                {name: round(float(value), 4) for name, value in
                 result.coefficients.groupby("segment_name")["r_squared"].first().items()}
            ),
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )
