"""Freshness: marts and ML outputs older than their schedule allows fail a check (and raise an
alert through ``check_failure_alert_sensor``).

The daily refresh starts at 02:00 Asia/Shanghai and takes minutes (≈2 min at 3,000 customers):
by 06:00 every mart must have been materialized since 02:00 of that day. The ML outputs are
re-fitted daily and retrained by the weekly full refresh (Sunday 03:00); they get a week and a
day before they count as stale, so one skipped daily run alerts on the marts, not twice.
"""

from datetime import timedelta

import dagster as dg

from orchestration.defs.assets import ml, ml_customer_value
from orchestration.defs.assets.dbt import fundflow_dbt_models
from orchestration.defs.schedules import SCHEDULE_TIMEZONE

FRESHNESS_SENSOR_NAME = "freshness_checks_sensor"
MART_KEYS = sorted((key for key in fundflow_dbt_models.keys if key.path[0] == "marts"), key=str)
ML_KEYS = sorted(
    {
        key
        for module in (ml, ml_customer_value)
        for value in vars(module).values()
        if isinstance(value, dg.AssetsDefinition)
        for key in value.keys
        if key.path[0] == "ml"
    },
    key=str,
)


@dg.definitions
def freshness_defs() -> dg.Definitions:
    mart_checks = dg.build_last_update_freshness_checks(
        assets=MART_KEYS,
        # Deadline 06:00 daily; the newest materialization must be no older than 4 h before it (02:00).
        deadline_cron="0 6 * * *",
        lower_bound_delta=timedelta(hours=4),
        timezone=SCHEDULE_TIMEZONE,
        severity=dg.AssetCheckSeverity.WARN,
    )
    ml_checks = dg.build_last_update_freshness_checks(
        assets=ML_KEYS,
        deadline_cron="0 6 * * *",
        lower_bound_delta=timedelta(days=8),
        timezone=SCHEDULE_TIMEZONE,
        severity=dg.AssetCheckSeverity.WARN,
    )
    checks = [*mart_checks, *ml_checks]
    return dg.Definitions(
        asset_checks=checks,
        sensors=[
            dg.build_sensor_for_freshness_checks(
                freshness_checks=checks,
                name=FRESHNESS_SENSOR_NAME,
                minimum_interval_seconds=600,
                default_status=dg.DefaultSensorStatus.RUNNING,
            )
        ],
    )
