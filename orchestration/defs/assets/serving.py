"""Publish the marts and ML outputs to the read-only serving copy (reports: see reports.py)."""


import importlib
import pkgutil

import dagster as dg

from orchestration.defs import assets as assets_package
from orchestration.defs.assets import dbt as dbt_layer
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from warehouse.publishing import publish, publish_roles

# Imported as a module, not by name, so the definitions loader does not collect the dbt assets twice.
MART_KEYS = sorted(
    (key for key in dbt_layer.fundflow_dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string()
)
SERVING_KEY = dg.AssetKey(["serving", "marts"])


def _ml_asset_keys() -> list[dg.AssetKey]:
    """Every asset keyed ["ml", ...] defined in the ML modules (ml.py, ml_customer_value.py, and
    any added later): publishing must wait for all of them, and a new model should not have
    to remember to register itself here."""
    keys: set[dg.AssetKey] = set()
    for module_info in pkgutil.iter_modules(assets_package.__path__):
        if not module_info.name.startswith("ml"):
            continue
        module = importlib.import_module(f"{assets_package.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, dg.AssetsDefinition):
                keys.update(k for k in value.keys if k.path[0] == "ml")
    return sorted(keys, key=lambda k: k.to_user_string())


ML_ASSET_KEYS = _ml_asset_keys()


@dg.asset(
    key=SERVING_KEY,
    deps=[*MART_KEYS, *ML_ASSET_KEYS],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    pool=WAREHOUSE_WRITER_POOL,
    description="The marts and ML outputs copied into serving/marts.duckdb (swapped in atomically) with "
    "documented BI views in schema `bi`, plus serving/parquet/ and serving/csv/, for BI tools and reports. "
    "Only pseudonymous and masked columns; never published after a failed gate. Also one file per role "
    "(serving/roles/<role>/marts.duckdb) holding only that role's grant (warehouse/security/roles.yml).",
)
def serving_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    # Read-write: publishing attaches the new serving file. A failure (a broken view, clear
    # personal data found) raises before the swap, so the served version stays as it was.
    with warehouse.connect() as con:
        publication = publish(con, settings)
        # One file per role of warehouse/security/roles.yml (serving/roles/<role>/marts.duckdb).
        role_files = publish_roles(con, settings)
    rows = {f"{t.schema}.{t.name}": t.rows for t in publication.tables}
    created = [v.name for v in publication.views if v.status == "created"]
    skipped = {v.name: v.reason for v in publication.views if v.status == "skipped"}
    context.log.info("published version %s: %d tables, BI views %s", publication.version, len(rows), created)
    for name, reason in skipped.items():
        context.log.warning("BI view bi.%s not published in this version: %s", name, reason)
    return dg.MaterializeResult(
        metadata={
            "version": publication.version,
            "path": dg.MetadataValue.path(str(publication.database_path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "csv_dir": dg.MetadataValue.path(str(publication.csv_dir)),
            "tables": len(rows),
            "dagster/row_count": sum(rows.values()),
            "rows_per_table": dg.MetadataValue.json(rows),
            "bi_views": dg.MetadataValue.json(created),
            "bi_views_skipped": dg.MetadataValue.json(skipped),
            "withheld_columns": dg.MetadataValue.json(list(publication.withheld_columns)),
            "role_files": dg.MetadataValue.json(
                {p.audience: {t.name: t.rows for t in p.tables} for p in role_files}),
        }
    )

