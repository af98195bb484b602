"""Publish the marts and ML outputs to the read-only serving copy, then build the report."""


import dagster as dg

from orchestration.defs.assets import dbt as dbt_layer
from orchestration.defs.assets.ml import ML_KEYS
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from reports.refresh_summary import build_refresh_summary
from warehouse.publishing import publish

# Imported as a module, not by name, so the definitions loader does not collect the dbt assets twice.
MART_KEYS = sorted(
    (key for key in dbt_layer.fundflow_dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string()
)
SERVING_KEY = dg.AssetKey(["serving", "marts"])


@dg.asset(
    key=SERVING_KEY,
    deps=[*MART_KEYS, *ML_KEYS],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    pool=WAREHOUSE_WRITER_POOL,
    description="The marts and ML outputs copied into serving/marts.duckdb (swapped in atomically) "
    "and serving/parquet/, for BI tools and reports. Never published after a failed gate.",
)
def serving_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    with warehouse.connect() as con:  # read-write: publishing attaches the new serving file
        publication = publish(con, settings)
    rows = {f"{t.schema}.{t.name}": t.rows for t in publication.tables}
    context.log.info("published version %s: %d tables", publication.version, len(rows))
    return dg.MaterializeResult(
        metadata={
            "version": publication.version,
            "path": dg.MetadataValue.path(str(publication.database_path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "tables": len(rows),
            "dagster/row_count": sum(rows.values()),
            "rows_per_table": dg.MetadataValue.json(rows),
        }
    )


@dg.asset(
    key=dg.AssetKey(["reports", "refresh_summary"]),
    deps=[SERVING_KEY],
    group_name="reports",
    kinds={"html"},
    description="HTML summary of the latest refresh (key figures, monthly flows, segments, forecast), "
    "built from the serving copy.",
)
def refresh_summary_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    path = build_refresh_summary(settings.serving_path, settings.reports_dir)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
