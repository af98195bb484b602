"""ML assets: read marts, call the pure models in ``ml/``, write results to ``ml.*``.

Each result table carries the model version and training time; the fitted artifact is kept,
versioned, under FUNDFLOW_HOME/models; quality figures go to the materialization's metadata.
"""


from datetime import datetime, timezone

import dagster as dg
from ml.forecast import forecast_monthly_flows
from ml.segmentation import SEGMENT_FEATURES, segment_customers
from orchestration.ml_io import save_artifact, write_result
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

SEGMENTS_KEY = dg.AssetKey(["ml", "customer_segments"])
FORECAST_KEY = dg.AssetKey(["ml", "monthly_flow_forecast"])
ML_KEYS = [SEGMENTS_KEY, FORECAST_KEY]


@dg.asset(
    key=SEGMENTS_KEY,
    deps=[dg.AssetKey(["marts", "mart_customer_features"])],
    group_name="ml",
    kinds={"sklearn", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Customer segments (k-means on scaled RFM, income/spend mix, channel mix and balances; "
    "k chosen by silhouette), named from their profiles in business terms.",
)
def customer_segments(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        columns = ", ".join(["customer_id", *SEGMENT_FEATURES])
        customers = con.execute(f"select {columns} from marts.mart_customer_features").df()
        result = segment_customers(customers, seed=settings.demo_seed)
        write_result(con, "customer_segments", result.assignments, result.model_version, trained_at)
        write_result(con, "customer_segment_profiles", result.profiles, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "customer_segments", result.model_version, result.model)
    sizes = result.assignments["segment_name"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.assignments),
            "model_version": result.model_version,
            "k": result.chosen_k,
            "silhouette_by_k": dg.MetadataValue.json({str(k): round(float(v), 4) for k, v in result.silhouette_by_k.items()}),
            "segment_sizes": dg.MetadataValue.json({str(k): int(v) for k, v in sizes.items()}),
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )


@dg.asset(
    key=FORECAST_KEY,
    deps=[dg.AssetKey(["marts", "mart_customer_monthly"])],
    group_name="ml",
    kinds={"sklearn", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Monthly inflow / outflow / net forecast for the next months, with a backtest on the "
    "last held-out months (MAE, MASE) in the metadata.",
)
def monthly_flow_forecast(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    trained_at = datetime.now(timezone.utc)
    with warehouse.connect() as con:
        monthly = con.execute("select * from marts.mart_customer_monthly").df()
        result = forecast_monthly_flows(monthly)
        write_result(con, "monthly_flow_forecast", result.forecast, result.model_version, trained_at)
    artifact = save_artifact(settings.models_dir, "monthly_flow_forecast", result.model_version, result)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result.forecast),
            "model_version": result.model_version,
            **{f"backtest_{name}": float(value) for name, value in result.metrics.items() if isinstance(value, (int, float))},
            "artifact": dg.MetadataValue.path(str(artifact)),
        }
    )
