"""Jobs. Each runs its steps in one process, one at a time, so the single DuckDB writer is never
contended inside a run; runs launched side by side queue on the `duckdb_warehouse_writer` pool
(limit 1, see the instance's dagster.yaml) and a connection that still meets a lock retries.

- ``daily_incremental_refresh``: new or changed landing files only, the incremental fact merges
  the new dates, marts/ML/serving/report recomputed from it (schedule: daily 02:00 Asia/Shanghai;
  also what the landing sensor launches, restricted to what the new files feed);
- ``full_refresh``: everything rebuilt from every file, ML retrained (weekly, and `make run`);
- ``monthly_report``: the report(s) rebuilt from the published serving copy (monthly);
- ``backfill_flow_dates``: a date window (run config ``from_date``/``to_date``): landing takes new or
  changed files as the daily job does, and ``fct_fund_flows`` rebuilds exactly the flows dated in
  the window (other dates are left as they are); marts, ML, serving and report follow.
"""

import dagster as dg

from orchestration.backfill_window import BackfillWindowError, parse_backfill_window

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


def backfill_run_config(window_config: dict) -> dict:
    """The run config of a backfill from its window; an invalid window refuses the launch.

    Used as the job's config mapping, so the Launchpad asks for two dates only and a bad window
    (missing bound, not YYYY-MM-DD, ends before it starts) fails before any step touches the
    warehouse.
    """
    window = parse_backfill_window(window_config.get("from_date"), window_config.get("to_date"))
    if window is None:
        raise BackfillWindowError("a backfill needs from_date and to_date (YYYY-MM-DD)")
    return {
        "ops": {
            "landing": {"config": {"full": False}},
            "fundflow_dbt_models": {
                "config": {"full_refresh": False, "from_date": window.from_date.isoformat(),
                           "to_date": window.to_date.isoformat()}
            },
        },
        # The event log (UI, `fundflow refresh`'s summary) keeps every message; the console of a
        # backfill (the CLI's progress bar) only needs warnings and errors.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


BACKFILL_CONFIG = dg.ConfigMapping(
    config_fn=backfill_run_config,
    config_schema={
        "from_date": dg.Field(str, description="First flow date to rebuild, YYYY-MM-DD."),
        "to_date": dg.Field(str, description="Last flow date to rebuild, YYYY-MM-DD (inclusive; same as from_date for one day)."),
    },
)

backfill_job = dg.define_asset_job(
    name="backfill_flow_dates",
    selection=dg.AssetSelection.all(),
    description="Backfill a date window: load new or changed landing files (e.g. corrected deliveries), "
    "rebuild staging/intermediate from raw, and have fct_fund_flows delete and re-insert exactly the "
    "flows dated from from_date to to_date (flows of other dates are left untouched); marts, ML "
    "outputs, serving and report are recomputed from the fact.",
    executor_def=dg.in_process_executor,
    config=BACKFILL_CONFIG,
    tags={"fundflow/mode": "backfill"},
)
