"""Jobs. The full refresh runs every layer in one process, one step at a time, so the single
DuckDB writer is never contended inside a run (runs launched side by side queue on the pool)."""

import dagster as dg

# A full refresh rebuilds incremental models too, so a changed rule reaches all history.
FULL_REFRESH_RUN_CONFIG = {"ops": {"fundflow_dbt_models": {"config": {"full_refresh": True}}}}

full_refresh_job = dg.define_asset_job(
    name="full_refresh",
    selection=dg.AssetSelection.all(),
    description="Load every landing file, rebuild staging → intermediate → marts with dbt (tests as "
    "checks), run the quality gates, retrain the ML assets, publish to serving and build the report.",
    executor_def=dg.in_process_executor,
    config=FULL_REFRESH_RUN_CONFIG,
)
