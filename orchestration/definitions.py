"""The one Dagster code location: everything under ``orchestration/defs``."""

import dagster as dg

import orchestration.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(defs_root=orchestration.defs)
