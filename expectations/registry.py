"""Which suite gates which table: ``'schema.table'`` → a builder of a fresh suite.

Orchestration attaches one blocking asset check per entry (``orchestration/defs/checks``), so a
new gate is a new entry here and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from expectations.suites.marts import MARTS_SUITES
from expectations.suites.raw import RAW_SUITES

if TYPE_CHECKING:
    import great_expectations as gx

SuiteBuilder = Callable[[], "gx.ExpectationSuite"]

SUITES: dict[str, SuiteBuilder] = {**RAW_SUITES, **MARTS_SUITES}


def suite_for(table: str) -> gx.ExpectationSuite:
    """A fresh suite for ``schema.table``; KeyError names the tables that have one."""
    try:
        return SUITES[table]()
    except KeyError:
        raise KeyError(f"no expectation suite for {table!r}; known: {sorted(SUITES)}") from None
