"""Great Expectations suites as blocking asset checks: a failed gate stops what follows.

One check per suite in ``expectations.registry.SUITES`` (keyed ``schema.table``), attached to the
asset of that table. ``blocking=True`` means Dagster skips every downstream asset in the run when
the check fails, so ML, serving and reports never see data that failed its gate.
"""


import dagster as dg

from expectations.registry import SUITES
from expectations.runner import validate_table
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource


def _gx_check(qualified_table: str, build_suite) -> dg.AssetChecksDefinition:
    schema, table = qualified_table.split(".", 1)

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name=f"gx_{table}",
        blocking=True,
        pool=WAREHOUSE_WRITER_POOL,
        description=f"Great Expectations suite for {qualified_table} (validated through pandas).",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        suite = build_suite()
        with warehouse.connect(read_only=True) as con:
            outcome = validate_table(con, qualified_table, suite)
        if not outcome.success:
            context.log.error("%s failed %d of %d expectations", qualified_table, outcome.failed, outcome.evaluated)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=outcome.to_metadata(),
        )

    return _check


quality_gate_checks = [_gx_check(table, builder) for table, builder in sorted(SUITES.items())]
