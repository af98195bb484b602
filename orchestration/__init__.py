"""Dagster side of fundflow: definitions, assets, checks, jobs, schedules, sensors, resources.

Thin by design: each asset calls into warehouse/, dbt, expectations/, ml/ or reports/.
"""
