"""Jobs. Each runs its steps in one process, one at a time, so the single DuckDB writer is never
contended inside a run; runs launched side by side queue on the `duckdb_warehouse_writer` pool
(limit 1, see the instance's dagster.yaml) and a connection that still meets a lock retries.

- ``daily_incremental_refresh``: new or changed landing files only, the incremental fact merges
  the new dates, marts/ML/serving/report recomputed from it (schedule: daily 02:00 Asia/Shanghai;
  also what the landing sensor launches, restricted to what the new files feed);
- ``full_refresh``: everything rebuilt from every file, ML retrained (weekly, and `make run`);
- ``monthly_report``: the report(s) rebuilt from the published serving copy (monthly).
"""

import dagster as dg

# A full refresh reloads every landing file and rebuilds incremental models too, so a changed
# rule reaches all history.
FULL_REFRESH_RUN_CONFIG = {
    "ops": {
        "landing": {"config": {"full": True}},
        "fundflow_dbt_models": {"config": {"full_refresh": True}},
    }
}
INCREMENTAL_RUN_CONFIG = {
    "ops": {
        "landing": {"config": {"full": False}},
        "fundflow_dbt_models": {"config": {"full_refresh": False}},
    }
}

full_refresh_job = dg.define_asset_job(
    name="full_refresh",
    selection=dg.AssetSelection.all(),
    description="Weekly: reload every landing file into raw.* from scratch, rebuild staging → "
    "intermediate → marts with dbt --full-refresh (tests as checks), run the quality gates, "
    "retrain every ML model, publish to serving and build the report.",
    executor_def=dg.in_process_executor,
    config=FULL_REFRESH_RUN_CONFIG,
    tags={"fundflow/mode": "full"},
)

daily_incremental_refresh_job = dg.define_asset_job(
    name="daily_incremental_refresh",
    selection=dg.AssetSelection.all(),
    description="Daily: load only new or changed landing files (a content hash already in "
    "ops.load_log is skipped), rebuild staging/intermediate from raw, merge the new flow dates "
    "into the incremental fct_fund_flows (delete+insert), recompute marts, re-fit the ML outputs, "
    "publish and rebuild the report. Loading the same files again changes nothing.",
    executor_def=dg.in_process_executor,
    config=INCREMENTAL_RUN_CONFIG,
    tags={"fundflow/mode": "incremental"},
)

monthly_report_job = dg.define_asset_job(
    name="monthly_report",
    selection=dg.AssetSelection.groups("reports"),
    description="Monthly: rebuild the HTML report(s) from the published serving copy (never from "
    "the working warehouse), for managers at the start of the month.",
    executor_def=dg.in_process_executor,
    tags={"fundflow/mode": "report"},
)
