"""Schedules fire at the business's local times (Asia/Shanghai) and launch the right job with the
right configuration: daily incremental at 02:00, weekly full refresh with ML, monthly report."""

from datetime import datetime, timezone

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

SHANGHAI = "Asia/Shanghai"


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def _schedule(definitions: dg.Definitions, job_name: str) -> dg.ScheduleDefinition:
    (schedule,) = [s for s in definitions.schedules if s.job_name == job_name]
    return schedule


def _next_fires_utc(schedule: dg.ScheduleDefinition, after: datetime, count: int) -> list[datetime]:
    fires = cron_string_iterator(after.timestamp(), schedule.cron_schedule, schedule.execution_timezone)
    return [next(fires).astimezone(timezone.utc).replace(tzinfo=None) for _ in range(count)]


def test_every_schedule_runs_in_shanghai_time_with_a_named_described_job(definitions) -> None:
    schedules = {s.name: s for s in definitions.schedules}
    assert set(schedules) == {"daily_incremental_refresh_0200", "weekly_full_refresh_sun_0300", "monthly_report_1st_0600"}
    for schedule in schedules.values():
        assert schedule.execution_timezone == SHANGHAI
        assert schedule.description and definitions.resolve_job_def(schedule.job_name).description
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_daily_refresh_fires_at_two_in_the_morning_shanghai_time(definitions) -> None:
    schedule = _schedule(definitions, "daily_incremental_refresh")
    # 02:00 in Shanghai (UTC+8, no daylight saving) is 18:00 UTC the evening before.
    assert _next_fires_utc(schedule, datetime(2026, 3, 1, 12, tzinfo=timezone.utc), 2) == [
        datetime(2026, 3, 1, 18), datetime(2026, 3, 2, 18)]


def test_the_weekly_full_refresh_fires_on_sunday_and_the_report_on_the_first(definitions) -> None:
    weekly = _schedule(definitions, "full_refresh")
    fires = _next_fires_utc(weekly, datetime(2026, 3, 2, tzinfo=timezone.utc), 2)  # a Monday
    # Sunday 03:00 Shanghai = Saturday 19:00 UTC
    assert fires == [datetime(2026, 3, 7, 19), datetime(2026, 3, 14, 19)]
    monthly = _schedule(definitions, "monthly_report")
    assert _next_fires_utc(monthly, datetime(2026, 3, 2, tzinfo=timezone.utc), 2) == [
        datetime(2026, 3, 31, 22), datetime(2026, 4, 30, 22)]  # 06:00 on the 1st in Shanghai


def test_the_jobs_behind_the_schedules_do_what_their_names_say(definitions) -> None:
    incremental = definitions.resolve_job_def("daily_incremental_refresh")
    full = definitions.resolve_job_def("full_refresh")
    report = definitions.resolve_job_def("monthly_report")
    # The full job reloads raw from scratch and rebuilds incremental models; the daily one does neither.
    assert full.run_config["ops"]["landing"]["config"]["full"] is True
    assert full.run_config["ops"]["fundflow_dbt_models"]["config"]["full_refresh"] is True
    assert incremental.run_config["ops"]["landing"]["config"]["full"] is False
    assert incremental.run_config["ops"]["fundflow_dbt_models"]["config"]["full_refresh"] is False
    # Weekly = every layer including ML retraining; the report job touches reports only.
    ml = {k for k in full.asset_layer.selected_asset_keys if k.path[0] == "ml"}
    assert ml and {"raw", "marts", "serving"} <= {k.path[0] for k in full.asset_layer.selected_asset_keys}
    assert {k.path[0] for k in report.asset_layer.selected_asset_keys} == {"reports"}
