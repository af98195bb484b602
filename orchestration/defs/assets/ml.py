"""ML assets (segments, flow forecasts, risk flags): read marts, call the pure models in ``ml/``,
write results to ``ml.*``.

Each result table carries the model version and training time; the fitted artifact is kept,
versioned, under FUNDFLOW_HOME/models; quality figures go to the materialization's metadata.
"""


from datetime import datetime, timezone

import dagster as dg
from ml.forecast import forecast_flow_groups
from ml.risk_flags import RiskRules, flag_risky_flows, rule_input_sql
from ml.segmentation import INPUT_COLUMNS, segment_customers
from orchestration.ml_io import read_frame, save_artifact, write_result
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

SEGMENTS_KEY = dg.AssetKey(["ml", "customer_segments"])
SEGMENT_PROFILES_KEY = dg.AssetKey(["ml", "customer_segment_profiles"])
FORECAST_KEY = dg.AssetKey(["ml", "monthly_flow_forecast"])
BACKTEST_KEY = dg.AssetKey(["ml", "flow_forecast_backtest"])
RISK_FLAGS_KEY = dg.AssetKey(["ml", "risk_flags"])
ML_KEYS = [SEGMENTS_KEY, SEGMENT_PROFILES_KEY, FORECAST_KEY, BACKTEST_KEY, RISK_FLAGS_KEY]

FEATURES = dg.AssetKey(["marts", "mart_customer_features"])
FUND_FLOWS = dg.AssetKey(["marts", "fct_fund_flows"])
MONTHLY = dg.AssetKey(["marts", "mart_customer_monthly"])
KEY_ACCOUNTS = dg.AssetKey(["marts", "mart_key_accounts"])
# Per-customer forecasts are for the largest key accounts only: a forecast per customer is read
# by an account manager, and a few hundred is what a team can act on.
MAX_KEY_ACCOUNT_FORECASTS = 200

# The forecast's input: marts.mart_customer_monthly's outlier-excluded sums per customer and month.
# Outliers (fat-finger amounts flagged by the cleaning layer) are left out because one mistyped
# amount at 100x dominates a month of a small book and the forecast would chase it; the
# seasonal-naive baseline is scored on this same series. Summed over channel and category here,
# which the model does not use: at 100k customers 2.1M rows instead of 7.1M, read plus forecast
# 4.8 s instead of 10.7 s (the asset's step 6.8 s instead of 11.0 s), with the same forecasts.
MONTHLY_FLOWS_SQL = """
select
    customer_id,
    month,
    sum(inflow_cny_excl_outliers) as inflow_cny,
    sum(outflow_cny_excl_outliers) as outflow_cny,
    sum(net_cny_excl_outliers) as net_cny
from marts.mart_customer_monthly
group by customer_id, month
"""


def _has_table(con, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0] > 0


def key_account_ids(con) -> tuple[list[str], str]:
    """Key accounts to forecast one by one (at most ``MAX_KEY_ACCOUNT_FORECASTS``), and where
    they came from: tier A of the newest month of ``marts.mart_key_accounts`` (best contribution
    rank first); without that mart, the top customers by 12-month income in
    ``marts.mart_customer_features``."""
    if _has_table(con, "marts", "mart_key_accounts"):
        ids = con.execute(
            """select customer_id from marts.mart_key_accounts
               where period_month = (select max(period_month) from marts.mart_key_accounts) and is_key_account
               order by contribution_rank, customer_id limit ?""",
            [MAX_KEY_ACCOUNT_FORECASTS],
        ).fetchall()
        return [r[0] for r in ids], "marts.mart_key_accounts (tier A, newest month)"
    ids = con.execute(
        """select customer_id from marts.mart_customer_features
           order by income_cny_12m desc, customer_id limit ?""",
        [MAX_KEY_ACCOUNT_FORECASTS],
    ).fetchall()
    return [r[0] for r in ids], "marts.mart_customer_features (top 12-month income; no mart_key_accounts)"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SEGMENTS_KEY,
            deps=[FEATURES],
            description="Customer segment per customer (k-means on monthly income / spend / flows, balance, "
            "recent income share, salary share, age and recency; k by Davies-Bouldin), named in business terms.",
            group_name="ml",
            kinds={"sklearn", "duckdb"},
        ),
        dg.AssetSpec(
            SEGMENT_PROFILES_KEY,
            deps=[FEATURES],
            description="One row per customer segment: name, size, share and median features.",
            group_name="ml",
            kinds={"sklearn", "duckdb"},
        ),
    ],
    pool=WAREHOUSE_WRITER_POOL,
)
def customer_segments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        columns = ", ".join(["customer_id", *INPUT_COLUMNS])
        customers = con.execute(f"select {columns} from marts.mart_customer_features").df()
        result = segment_customers(customers, seed=settings.demo_seed)
        write_result(con, "customer_segments", result.assignments, result.model_version, trained_at)
        write_result(con, "customer_segment_profiles", result.profiles, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "customer_segments", result.model_version, result.model)
    sizes = result.assignments["segment_name"].value_counts().to_dict()
    common = {"model_version": result.model_version, "artifact": dg.MetadataValue.path(str(artifact))}
    yield dg.MaterializeResult(
        asset_key=SEGMENTS_KEY,
        metadata={
            **common,
            "dagster/row_count": len(result.assignments),
            "k": result.chosen_k,
            "k_criterion": "Davies-Bouldin (lowest)",
            "davies_bouldin_by_k": dg.MetadataValue.json({str(k): round(v, 4) for k, v in result.davies_bouldin_by_k.items()}),
            "silhouette_by_k": dg.MetadataValue.json({str(k): round(v, 4) for k, v in result.silhouette_by_k.items()}),
            "segment_sizes": dg.MetadataValue.json({str(k): int(v) for k, v in sizes.items()}),
        },
    )
    yield dg.MaterializeResult(
        asset_key=SEGMENT_PROFILES_KEY,
        metadata={**common, "dagster/row_count": len(result.profiles)},
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FORECAST_KEY,
            deps=[MONTHLY, FEATURES, SEGMENTS_KEY, KEY_ACCOUNTS],
            description="Monthly inflow / outflow / net forecast 12 months ahead with 90% prediction intervals: "
            "total, per segment and per key account, outliers left out (the mean of a business-day model - "
            "flow per Chinese business day over the last 12 months times the month's business days - and "
            "the equal-weight mean of seasonal naive, the 12-month mean and a 2-harmonic yearly regression).",
            group_name="ml",
            kinds={"numpy", "duckdb"},
        ),
        dg.AssetSpec(
            BACKTEST_KEY,
            deps=[MONTHLY, SEGMENTS_KEY],
            description="Rolling-origin backtest of the flow forecast against the seasonal-naive baseline.",
            group_name="ml",
            kinds={"numpy", "duckdb"},
        ),
    ],
    pool=WAREHOUSE_WRITER_POOL,
)
def monthly_flow_forecast(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        monthly = read_frame(con, MONTHLY_FLOWS_SQL)
        segments = con.execute("select customer_id, segment_name from ml.customer_segments").df()
        key_accounts, key_account_source = key_account_ids(con)
        result = forecast_flow_groups(monthly, segments=segments, key_accounts=key_accounts)
        write_result(con, "monthly_flow_forecast", result.forecast, result.model_version, trained_at)
        write_result(con, "flow_forecast_backtest", result.backtest, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "monthly_flow_forecast", result.model_version, result)
    figures = {name: round(float(value), 4) for name, value in result.metrics.items() if name.startswith("total_")}
    yield dg.MaterializeResult(
        asset_key=FORECAST_KEY,
        metadata={
            "dagster/row_count": len(result.forecast),
            "model_version": result.model_version,
            "method": result.method,
            "key_accounts_from": key_account_source,
            "key_accounts_forecast": int((result.forecast["scope"] == "key_account").sum() // (3 * 12)),
            **figures,
            "artifact": dg.MetadataValue.path(str(artifact)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=BACKTEST_KEY,
        metadata={
            "dagster/row_count": len(result.backtest),
            "model_version": result.model_version,
            "metrics": dg.MetadataValue.json({k: round(float(v), 4) for k, v in result.metrics.items()}),
        },
    )


@dg.asset(
    key=RISK_FLAGS_KEY,
    deps=[FUND_FLOWS],
    group_name="ml",
    kinds={"pandas", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Flows flagged by the risk rules (rapid pass-through, structuring below the reporting "
    "threshold, late-night large transfers, spending spikes, new-counterparty bursts), each with a reason.",
)
def risk_flags(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        # Filtered in DuckDB to the flows a rule reads (about half): same flags, a third of the time.
        rows_sql, screened_sql = rule_input_sql("marts.fct_fund_flows")
        flows_screened = con.execute(screened_sql).fetchall()[0][0]
        flows = read_frame(con, rows_sql)
        result = flag_risky_flows(flows, RiskRules(currency=settings.reporting_currency), flows_screened=flows_screened)
        write_result(con, "risk_flags", result.flags, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "risk_flags", result.model_version, result.rules)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.flags),
            "model_version": result.model_version,
            **{name: int(value) for name, value in result.summary.items()},
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )
