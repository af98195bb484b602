"""Great Expectations suites as code and the runner that validates DuckDB tables with them.

GX must never phone home. 1.24 ships no analytics client any more, but it still documents the
``GX_ANALYTICS_ENABLED`` switch, so it is forced off here, before any submodule imports GX.

Public API:
- ``registry.SUITES``: ``'schema.table'`` → suite builder, used by the Dagster quality gates.
- ``runner.validate_table`` / ``validate_query`` (GX's SQL route on DuckDB, the gates) and
  ``validate_frame`` / ``validate_table_in_pandas`` (GX's pandas route, the reference) →
  ``ValidationOutcome``.
"""

from __future__ import annotations

import os

os.environ["GX_ANALYTICS_ENABLED"] = "false"

from expectations.registry import SUITES, suite_for  # noqa: E402
from expectations.runner import (  # noqa: E402
    ExpectationOutcome,
    TableNotFoundError,
    ValidationOutcome,
    columns_needed,
    validate_frame,
    validate_query,
    validate_table,
    validate_table_in_pandas,
)

__all__ = [
    "SUITES",
    "ExpectationOutcome",
    "TableNotFoundError",
    "ValidationOutcome",
    "columns_needed",
    "suite_for",
    "validate_frame",
    "validate_query",
    "validate_table",
    "validate_table_in_pandas",
]
