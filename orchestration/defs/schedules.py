"""Schedules, in the business's time zone (Asia/Shanghai), so "02:00" means 02:00 in Shanghai
whatever zone the server runs in. They run when the Dagster daemon runs (`make ui` starts one).

Running by default: the point of a schedule is that nobody has to remember to switch it on; an
operator can stop any of them in the UI (Automation tab), and the stop survives restarts.
"""

import dagster as dg

from orchestration.defs.jobs import daily_incremental_refresh_job, full_refresh_job, monthly_report_job

SCHEDULE_TIMEZONE = "Asia/Shanghai"

daily_incremental_refresh_schedule = dg.ScheduleDefinition(
    name="daily_incremental_refresh_0200",
    job=daily_incremental_refresh_job,
    cron_schedule="0 2 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    description="Every day at 02:00 Asia/Shanghai: the day's new landing files through every layer, "
    "without rebuilding history.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# Sunday 03:00: an hour after the daily run starts, so the two rarely overlap (and queue when they do).
weekly_full_refresh_schedule = dg.ScheduleDefinition(
    name="weekly_full_refresh_sun_0300",
    job=full_refresh_job,
    cron_schedule="0 3 * * 0",
    execution_timezone=SCHEDULE_TIMEZONE,
    description="Every Sunday at 03:00 Asia/Shanghai: full rebuild from every landing file with ML "
    "retraining, so rule changes reach all history and the models see the latest week.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

monthly_report_schedule = dg.ScheduleDefinition(
    name="monthly_report_1st_0600",
    job=monthly_report_job,
    cron_schedule="0 6 1 * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    description="On the 1st of every month at 06:00 Asia/Shanghai (after the 02:00 refresh has "
    "published the previous month's last day): the monthly report from the serving copy.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
