"""Which gate checks what: one ``Gate`` per Dagster asset check.

A gate validates a table (its suite) or a query's rows (reconciliations, staging's accepted
rows) and is attached to one asset, ``[schema, table]``. ``severity="error"`` gates block what
follows when they fail; ``"warn"`` gates only show. Orchestration turns each entry into a check
(``orchestration/defs/checks/quality_gates.py``), so a new gate is a new entry here.
Drift gates are built from ``expectations.drift.PROFILES`` (their suite needs the baseline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from expectations.suites.intermediate import INTERMEDIATE_SUITES
from expectations.suites.marts import (
    LIGHT_MARTS_SUITES,
    MARTS_SUITES,
    RECONCILE_CUSTOMER_360,
    RECONCILE_CUSTOMER_MONTHLY,
    build_reconcile_customer_360_suite,
    build_reconcile_customer_monthly_suite,
)
from expectations.suites.raw import RAW_SUITES, RAW_FILE_COUNT_SUITES
from expectations.suites.staging import STAGING_BUILDERS, accepted_rows_query

if TYPE_CHECKING:
    import great_expectations as gx

SuiteBuilder = Callable[[], "gx.ExpectationSuite"]
Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class Gate:
    name: str  # the check's name, unique per asset
    table: str  # 'schema.table' of the asset the check is attached to
    build_suite: SuiteBuilder
    severity: Severity = "error"
    query: str | None = None  # validate these rows instead of the whole table
    description: str = ""
    optional: bool = False  # skip (do not fail) when the dbt project does not build the table

    @property
    def asset_path(self) -> list[str]:
        return self.table.split(".", 1)


# Table suites: 'schema.table' → builder (validated on the whole table).
SUITES: dict[str, SuiteBuilder] = {**RAW_SUITES, **INTERMEDIATE_SUITES, **MARTS_SUITES, **LIGHT_MARTS_SUITES}


def _table_gates() -> list[Gate]:
    gates = [
        Gate(name=f"gx_{table.split('.', 1)[1]}", table=table, build_suite=build,
             description=f"Great Expectations suite for {table}.", optional=table in LIGHT_MARTS_SUITES)
        for table, build in {**RAW_SUITES, **INTERMEDIATE_SUITES, **MARTS_SUITES, **LIGHT_MARTS_SUITES}.items()
    ]
    gates += [
        Gate(name=f"gx_{model}", table=f"staging.{model}", build_suite=build, query=accepted_rows_query(model),
             description=f"Great Expectations suite for the rows staging.{model} accepted (reject_reason is null).")
        for model, build in STAGING_BUILDERS.items()
    ]
    gates += [
        # A delivery much smaller or larger than the previous one is worth a look, not a stop:
        # seasonal peaks (Double 11) and holidays move daily volumes a lot.
        Gate(name=f"file_row_counts_{table.split('.', 1)[1]}", table=table, build_suite=build, query=query,
             severity="warn", description=f"Rows of each delivered file of {table} against the previous delivery.")
        for table, (query, build) in RAW_FILE_COUNT_SUITES.items()
    ]
    gates += [
        Gate(name="reconcile_with_fct_fund_flows", table="marts.mart_customer_monthly",
             build_suite=build_reconcile_customer_monthly_suite, query=RECONCILE_CUSTOMER_MONTHLY,
             description="Per customer, monthly inflow/outflow add up to the fact's counted flows."),
        Gate(name="reconcile_with_fct_fund_flows", table="marts.mart_customer_360",
             build_suite=build_reconcile_customer_360_suite, query=RECONCILE_CUSTOMER_360,
             description="One row per customer of dim_customer; totals equal the fact's counted flows."),
    ]
    return gates


GATES: tuple[Gate, ...] = tuple(_table_gates())


def suite_for(table: str) -> gx.ExpectationSuite:
    """A fresh suite for ``schema.table``; KeyError names the tables that have one."""
    try:
        return SUITES[table]()
    except KeyError:
        if table.startswith("staging.") and table.split(".", 1)[1] in STAGING_BUILDERS:
            return STAGING_BUILDERS[table.split(".", 1)[1]]()
        raise KeyError(f"no expectation suite for {table!r}; known: {sorted(SUITES)}") from None
