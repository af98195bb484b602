"""Validate a DuckDB table, a query or a DataFrame against a GX suite and say plainly what happened.

Two routes, same verdicts (tests/integration/test_gates_sql_route.py compares them on demo data):

- ``validate_table`` / ``validate_query`` (the gates): GX's own SQL route. GX compiles every
  expectation into aggregate SQL (counts of unexpected values, GROUP BY ... HAVING for
  uniqueness) and DuckDB evaluates it where the data lies. Nothing but metric rows and a small
  sample of failing rows crosses into Python, so memory is bounded by DuckDB's
  ``memory_limit`` (it spills aggregates to disk beyond it), not by the table size: 10M fact
  rows validate in seconds (bench/bench_gates.py). GX 1.24 does not work on DuckDB out of the
  box; ``expectations.duckdb_compat`` fixes the three causes with small documented patches.
- ``validate_frame`` / ``validate_table_in_pandas``: GX's pandas route on an in-memory frame.
  Kept as the reference the SQL route is checked against, and for frames that never were a
  table. It loads whole columns, so it is not used on warehouse tables (measured: ~40 s and
  ~8 GB at 10M rows).

Rules this module enforces, because a quality gate must never pass by accident:
- an expectation that raised inside GX counts as FAILED (``exception`` holds the message);
- an expectation GX did not report on at all counts as FAILED;
- an expectation on a column the data lacks FAILS with ``column(s) [...] not found in the data``;
- an empty suite is refused (a gate that checks nothing is a configuration bug).

A suite may name its row key in ``suite.meta["row_key"]``: failing column expectations then
carry a sample of failing rows (key + value) from GX's unexpected-index query.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

if TYPE_CHECKING:  # GX takes ~10 s to import; load it when a validation runs, not on import
    import great_expectations as gx

# Never phone home (GX 1.24 has no analytics client left, but honours this documented switch).
# Set before GX is first imported: it is imported lazily, in ``_run_gx``.
os.environ["GX_ANALYTICS_ENABLED"] = "false"

# Result detail: BASIC gives unexpected counts and a few example values; SUMMARY would also
# value-count the unexpected values, which costs real time on wide failures at 10M rows.
_RESULT_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": 5}
_INDEX_META_KEY = "fundflow_expectation_index"
# Expectations whose verdict depends on every column of the table, not only the ones named.
_NEEDS_ALL_COLUMNS = {
    "expect_table_columns_to_match_ordered_list",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
}
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")
# Expectations about the table's columns themselves: a missing column is their verdict to give,
# not a reason to skip them.
_TABLE_SHAPE_EXPECTATIONS = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
}


class TableNotFoundError(LookupError):
    """The table to validate does not exist (a pipeline bug, not a data-quality verdict)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found. ``success`` is False for failures and for errors alike."""

    expectation_type: str
    column: str | None  # the column, or the columns joined by ", " for multi-column expectations
    success: bool
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    sample_unexpected: tuple[Any, ...] = ()
    exception: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    sample_failing_rows: tuple[dict[str, Any], ...] = ()

    @property
    def errored(self) -> bool:
        return self.exception is not None

    @property
    def label(self) -> str:
        if not self.column:
            return self.expectation_type
        columns = self.column.split(", ")
        shown = self.column if len(columns) <= 3 else f"{len(columns)} columns"
        return f"{self.expectation_type}({shown})"

    def summary(self) -> str:
        if self.exception is not None:
            return f"ERROR: {self.exception}"
        verdict = "passed" if self.success else "FAILED"
        details = []
        if self.unexpected_count is not None:
            percent = f" ({self.unexpected_percent:.4g}%)" if self.unexpected_percent is not None else ""
            details.append(f"{self.unexpected_count} unexpected{percent}")
            if self.sample_unexpected and not self.success:
                details.append(f"e.g. {list(self.sample_unexpected)}")
        elif self.observed_value is not None:
            details.append(f"observed {_short(self.observed_value)}")
        return f"{verdict}: {', '.join(details)}" if details else verdict


@dataclass(frozen=True)
class ValidationOutcome:
    """A suite's verdict on one table, one entry per expectation of the suite, in suite order."""

    table: str
    suite_name: str
    row_count: int
    expectations: tuple[ExpectationOutcome, ...]

    @property
    def evaluated(self) -> int:
        return len(self.expectations)

    @property
    def passed(self) -> int:
        return sum(1 for e in self.expectations if e.success)

    @property
    def failed(self) -> int:
        return self.evaluated - self.passed

    @property
    def errored(self) -> int:
        return sum(1 for e in self.expectations if e.errored)

    @property
    def success(self) -> bool:
        return self.evaluated > 0 and self.failed == 0

    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def to_metadata(self) -> dict[str, str | int | float | bool]:
        """Flat, scalar-valued dict for Dagster metadata (one text entry per expectation)."""
        metadata: dict[str, str | int | float | bool] = {
            "table": self.table,
            "suite": self.suite_name,
            "success": self.success,
            "row_count": self.row_count,
            "evaluated": self.evaluated,
            "passed": self.passed,
            "failed": self.failed,
            "errored": self.errored,
            "failed_expectations": "; ".join(e.label for e in self.failures()) or "none",
        }
        width = len(str(self.evaluated))
        for number, outcome in enumerate(self.expectations, start=1):
            metadata[f"{number:0{width}d} {outcome.label}"] = outcome.summary()
        samples = {e.label: list(e.sample_failing_rows) for e in self.failures() if e.sample_failing_rows}
        if samples:
            metadata["sample_failing_rows"] = _short(samples, limit=4000)
        return metadata


def columns_needed(suite: gx.ExpectationSuite) -> list[str]:
    """Columns the suite's expectations name, in order of first mention."""
    seen: dict[str, None] = {}
    for expectation in suite.expectations:
        for column in _expectation_columns(expectation):
            seen.setdefault(column, None)
    return list(seen)


def validate_frame(df: pd.DataFrame, suite: gx.ExpectationSuite, *, table: str = "<dataframe>") -> ValidationOutcome:
    """Validate an in-memory frame against ``suite`` (the suite object itself is not modified)."""
    expectations = list(suite.expectations)
    if not expectations:
        raise ValueError(f"suite {suite.name!r} has no expectations; a gate that checks nothing is refused")
    outcomes = _validate_indexed(df, suite.name, list(enumerate(expectations)))
    return ValidationOutcome(
        table=table,
        suite_name=suite.name,
        row_count=len(df),
        expectations=tuple(outcomes[i] for i in range(len(expectations))),
    )


def validate_table_in_pandas(
    con: duckdb.DuckDBPyConnection,
    table: str,
    suite: gx.ExpectationSuite,
    *,
    max_columns_per_batch: int | None = None,
) -> ValidationOutcome:
    """Validate ``schema.table`` in DuckDB against ``suite`` through pandas (the reference route).

    Only the columns the suite names are read. Expectations on a column the table lacks fail
    with ``column(s) [...] not found in the data``; a column-set expectation reports it too. ``max_columns_per_batch`` bounds
    how many columns are in memory at once (see the module docstring).
    """
    expectations = list(suite.expectations)
    if not expectations:
        raise ValueError(f"suite {suite.name!r} has no expectations; a gate that checks nothing is refused")
    if max_columns_per_batch is not None and max_columns_per_batch < 1:
        raise ValueError("max_columns_per_batch must be at least 1")
    qualified = _qualified_name(table)
    table_columns = _table_columns(con, table)
    row_count = int(con.execute(f"select count(*) from {qualified}").fetchone()[0])

    indexed = list(enumerate(expectations))
    if any(e.expectation_type in _NEEDS_ALL_COLUMNS for e in expectations):
        batches = [(table_columns, indexed)]
    else:
        batches = _column_batches(indexed, table_columns, max_columns_per_batch)

    outcomes: dict[int, ExpectationOutcome] = {}
    for columns, members in batches:
        frame = _read_columns(con, qualified, columns, row_count)
        outcomes.update(_validate_indexed(frame, suite.name, members))
        del frame  # release before the next batch is read
    return ValidationOutcome(
        table=table,
        suite_name=suite.name,
        row_count=row_count,
        expectations=tuple(outcomes[i] for i in range(len(expectations))),
    )


def validate_table(con: duckdb.DuckDBPyConnection, table: str, suite: gx.ExpectationSuite) -> ValidationOutcome:
    """Validate ``schema.table`` where it lies, through GX's SQL route on DuckDB.

    ``con`` is any DuckDB connection to the database (read-only is enough); GX gets its own
    cursors on the same database, so the connection's memory limit and threads apply.
    """
    expectations = _refuse_empty(suite)
    table_columns = _table_columns(con, table)  # raises TableNotFoundError
    schema, name = _split_name(table)
    row_count = int(con.execute(f"select count(*) from {_qualified_name(table)}").fetchone()[0])
    return _validate_sql(con, suite, expectations, table_columns, table=table, row_count=row_count,
                         asset=lambda source: source.add_table_asset(name, table_name=name, schema_name=schema))


def validate_query(con: duckdb.DuckDBPyConnection, name: str, sql: str, suite: gx.ExpectationSuite) -> ValidationOutcome:
    """Validate the rows of a query (reconciliations, profiles) through GX's SQL route.

    ``name`` labels the outcome (for example ``quality.reconcile_customer_360``).
    """
    expectations = _refuse_empty(suite)
    columns = [row[0] for row in con.execute(f"describe {sql}").fetchall()]
    row_count = int(con.execute(f"select count(*) from ({sql})").fetchone()[0])
    # GX wants a query asset to start with SELECT, so CTE queries are wrapped.
    wrapped = f"select * from ({sql}) as gated_rows"
    return _validate_sql(con, suite, expectations, columns, table=name, row_count=row_count,
                         asset=lambda source: source.add_query_asset("query", query=wrapped), source_sql=wrapped)


# --- internals -------------------------------------------------------------------------------


def _refuse_empty(suite: gx.ExpectationSuite) -> list[Any]:
    expectations = list(suite.expectations)
    if not expectations:
        raise ValueError(f"suite {suite.name!r} has no expectations; a gate that checks nothing is refused")
    return expectations


def _validate_sql(
    con: duckdb.DuckDBPyConnection,
    suite: gx.ExpectationSuite,
    expectations: list[Any],
    columns: list[str],
    *,
    table: str,
    row_count: int,
    asset: Callable[[Any], Any],
    source_sql: str | None = None,
) -> ValidationOutcome:
    outcomes: dict[int, ExpectationOutcome] = {}
    runnable: list[tuple[int, Any]] = []
    present = set(columns)
    for index, expectation in enumerate(expectations):
        missing = [c for c in _expectation_columns(expectation) if c not in present]
        if missing and expectation.expectation_type not in _TABLE_SHAPE_EXPECTATIONS:
            outcomes[index] = _errored(expectation, f"column(s) {missing} not found in the data")
        else:
            runnable.append((index, expectation))
    row_key = [c for c in (suite.meta or {}).get("row_key", []) if c in present]
    # Two passes. Pass 1 asks GX only for verdicts (BOOLEAN_ONLY): the aggregate count queries,
    # none of the "fetch 20 unexpected values" queries, which cost as much again on a large table
    # (a windowed scan for uniqueness). A strict map expectation that passed has 0 unexpected by
    # definition. Pass 2 re-runs, with counts, examples and failing rows, only what failed, what
    # tolerates some unexpected values (``mostly``) and the table/aggregate expectations whose
    # observed value is the point.
    first = _run_pass(con, suite.name, runnable, asset, {"result_format": "BOOLEAN_ONLY"}, outcomes) if runnable else {}
    detail = [(i, e) for i, e in runnable if not (first[i].success and _strict_map(e))]
    detailed = {i for i, _ in detail}
    for index, _ in runnable:
        if index not in detailed:
            outcomes[index] = replace(first[index], unexpected_count=0, unexpected_percent=0.0)
    if detail:
        result_format = dict(_RESULT_FORMAT)
        if row_key:
            result_format |= {"unexpected_index_column_names": row_key, "return_unexpected_index_query": True}
        second = _run_pass(con, suite.name, detail, asset, result_format, outcomes)
        for index, outcome in second.items():
            query = outcome.kwargs.pop("_unexpected_index_query", None)
            if not outcome.success and isinstance(query, str) and row_key:
                if source_sql:  # GX pastes a query asset's SQL after FROM unparenthesised
                    query = query.replace(source_sql, f"({source_sql}) as gated_source", 1)
                outcome = replace(outcome, sample_failing_rows=_sample_rows(con, query))
            outcomes[index] = outcome
    return ValidationOutcome(
        table=table,
        suite_name=suite.name,
        row_count=row_count,
        expectations=tuple(outcomes[i] for i in range(len(expectations))),
    )


def _strict_map(expectation: Any) -> bool:
    """A per-row expectation without ``mostly``: it passes only with zero unexpected rows."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    mostly = expectation.configuration.kwargs.get("mostly")
    is_map = isinstance(expectation, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation))
    return is_map and (mostly is None or mostly >= 1)


def _run_pass(
    con: duckdb.DuckDBPyConnection,
    suite_name: str,
    indexed: list[tuple[int, Any]],
    asset: Callable[[Any], Any],
    result_format: dict[str, Any],
    outcomes: dict[int, ExpectationOutcome],
) -> dict[int, ExpectationOutcome]:
    """Validate ``indexed`` once; return outcomes by index (also written into ``outcomes``)."""
    found: dict[int, ExpectationOutcome] = {}
    try:
        results = _run_gx_sql(con, suite_name, _indexed_copies(indexed), asset, result_format)
    except Exception as error:  # GX itself fell over: every expectation it held failed
        message = f"GX raised before reporting: {type(error).__name__}: {error}"
        found = {index: _errored(expectation, message) for index, expectation in indexed}
        outcomes.update(found)
        return found
    for result in results:
        index = (result.expectation_config.meta or {}).get(_INDEX_META_KEY)
        if index is not None:
            outcome = _outcome_from_result(result)
            query = (result.result or {}).get("unexpected_index_query")
            if query:
                outcome.kwargs["_unexpected_index_query"] = query
            found[int(index)] = outcome
    for index, expectation in indexed:
        if index not in found:
            found[index] = _errored(expectation, "GX returned no result for this expectation")
    outcomes.update(found)
    return found


def _indexed_copies(indexed: list[tuple[int, Any]]) -> list[Any]:
    # Copies carry their position in the caller's suite in ``meta`` (GX does not keep result
    # order) and always catch exceptions, so one broken expectation cannot hide the others.
    return [
        expectation.copy(
            update={"meta": {**(expectation.meta or {}), _INDEX_META_KEY: index}, "catch_exceptions": True},
            deep=True,
        )
        for index, expectation in indexed
    ]


def _run_gx_sql(
    con: duckdb.DuckDBPyConnection,
    suite_name: str,
    expectations: list[Any],
    asset: Callable[[Any], Any],
    result_format: dict[str, Any],
) -> list[Any]:
    import duckdb_engine
    import great_expectations as gx

    from expectations import duckdb_compat

    duckdb_compat.install()
    # GX builds its SQLAlchemy engine from these kwargs: ``creator`` hands it cursors of the
    # caller's connection, so GX sees the same database (even an in-memory one) in the same
    # mode, and never opens the warehouse file a second time.
    source = _ephemeral_context().data_sources.add_sql(
        "fundflow_duckdb",
        connection_string="duckdb:///:memory:",
        kwargs={"creator": lambda: duckdb_engine.ConnectionWrapper(con.cursor())},
    )
    try:
        batch = asset(source).add_batch_definition_whole_table("whole").get_batch()
        suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
        return list(batch.validate(suite, result_format=result_format).results)
    finally:
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()


def _sample_rows(con: duckdb.DuckDBPyConnection, query: str, limit: int = 5) -> tuple[dict[str, Any], ...]:
    """A few failing rows (row key + checked columns) from GX's unexpected-index query."""
    try:
        cursor = con.execute(f"select * from ({query.strip().rstrip(';')}) limit {limit}")
        names = [d[0] for d in cursor.description]
        return tuple({n: _plain_value(v) for n, v in zip(names, row)} for row in cursor.fetchall())
    except duckdb.Error as error:  # a sample is a courtesy: never let it hide the verdict
        return ({"sample_error": _first_line(str(error))},)


def _plain_value(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _ephemeral_context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # In-memory stores, no Data Docs site (not even a temporary directory), no analytics, no
    # progress bars in the Dagster logs.
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _expectation_columns(expectation: Any) -> list[str]:
    kwargs = expectation.configuration.kwargs
    columns: list[str] = [kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    for key in _COLUMN_LIST_KWARGS:
        value = kwargs.get(key)
        if value:
            columns.extend(str(c) for c in value)
    return columns


def _column_label(expectation: Any) -> str | None:
    kwargs = expectation.configuration.kwargs
    if isinstance(kwargs.get("column"), str):
        return kwargs["column"]
    columns = _expectation_columns(expectation)
    return ", ".join(columns) if columns else None


def _split_name(table: str) -> tuple[str, str]:
    schema, dot, name = table.partition(".")
    if not dot or not schema or not name:
        raise ValueError(f"table must be 'schema.table', got {table!r}")
    return schema, name


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _qualified_name(table: str) -> str:
    schema, name = _split_name(table)
    return f"{_quote(schema)}.{_quote(name)}"


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = _split_name(table)
    rows = con.execute(
        """select column_name from duckdb_columns()
           where database_name = current_database() and schema_name = ? and table_name = ?
           order by column_index""",
        [schema, name],
    ).fetchall()
    if not rows:
        raise TableNotFoundError(f"table {table} does not exist in the connected DuckDB database")
    return [column for (column,) in rows]


def _read_columns(con: duckdb.DuckDBPyConnection, qualified: str, columns: Sequence[str], row_count: int) -> pd.DataFrame:
    if not columns:
        # Table-level expectations (row count) need the rows, not the values.
        return pd.DataFrame(index=pd.RangeIndex(row_count))
    select_list = ", ".join(_quote(c) for c in columns)
    with warnings.catch_warnings():
        # DuckDB's own DataFrame conversion uses an argument pandas 3.1 deprecates; not ours.
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop is deprecated")
        return con.execute(f"select {select_list} from {qualified}").df()


def _column_batches(
    indexed: list[tuple[int, Any]], table_columns: list[str], max_columns: int | None
) -> list[tuple[list[str], list[tuple[int, Any]]]]:
    """Group expectations so each batch reads at most ``max_columns`` existing columns.

    An expectation is never split across batches; one naming more columns than the limit gets a
    batch of its own. Columns the table lacks are not read (their expectations then error).
    """
    present = set(table_columns)

    def readable(expectation: Any) -> list[str]:
        return [c for c in dict.fromkeys(_expectation_columns(expectation)) if c in present]

    if max_columns is None:
        needed = {c for _, e in indexed for c in readable(e)}
        return [([c for c in table_columns if c in needed], indexed)]

    batches: list[tuple[list[str], list[tuple[int, Any]]]] = []
    for index, expectation in indexed:
        columns = readable(expectation)
        for batch_columns, members in batches:
            union = list(dict.fromkeys([*batch_columns, *columns]))
            if len(union) <= max_columns or not columns:
                batch_columns[:] = union
                members.append((index, expectation))
                break
        else:
            batches.append((list(columns), [(index, expectation)]))
    return batches


def _validate_indexed(
    df: pd.DataFrame, suite_name: str, indexed: list[tuple[int, Any]]
) -> dict[int, ExpectationOutcome]:
    """Validate the given (index, expectation) pairs on ``df``; return outcomes by index."""
    outcomes: dict[int, ExpectationOutcome] = {}
    # An expectation on a column the data lacks fails here with a clear message: inside GX some
    # kinds raise an opaque error for it (``list index out of range`` from the type checks).
    present = set(df.columns)
    runnable: list[tuple[int, Any]] = []
    for index, expectation in indexed:
        missing = [c for c in _expectation_columns(expectation) if c not in present]
        if missing and expectation.expectation_type not in _TABLE_SHAPE_EXPECTATIONS:
            outcomes[index] = _errored(expectation, f"column(s) {missing} not found in the data")
        else:
            runnable.append((index, expectation))
    if not runnable:
        return outcomes
    indexed = runnable

    copies = _indexed_copies(indexed)
    try:
        results = _run_gx(df, suite_name, copies)
    except Exception as error:  # GX itself fell over: every expectation of this batch failed
        message = f"GX raised before reporting: {type(error).__name__}: {error}"
        outcomes.update({index: _errored(expectation, message) for index, expectation in indexed})
        return outcomes

    for result in results:
        meta = result.expectation_config.meta or {}
        index = meta.get(_INDEX_META_KEY)
        if index is not None:
            outcomes[int(index)] = _outcome_from_result(result)
    for index, expectation in indexed:
        if index not in outcomes:
            outcomes[index] = _errored(expectation, "GX returned no result for this expectation")
    return outcomes


def _run_gx(df: pd.DataFrame, suite_name: str, expectations: list[Any]) -> Iterable[Any]:
    import great_expectations as gx

    batch = (
        _ephemeral_context().data_sources.add_pandas("fundflow_frame")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole_frame")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    return batch.validate(suite, result_format=_RESULT_FORMAT).results


def _outcome_from_result(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    exception = _exception_text(result.exception_info)
    unexpected_count = details.get("unexpected_count")
    unexpected_percent = details.get("unexpected_percent")
    element_count = details.get("element_count")
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return ExpectationOutcome(
        expectation_type=config.type,
        column=_column_label_from_kwargs(kwargs),
        # GX reports an errored expectation with success False today; do not rely on it.
        success=result.success is True and exception is None,
        observed_value=_plain(details.get("observed_value")),
        unexpected_count=int(unexpected_count) if unexpected_count is not None else None,
        unexpected_percent=float(unexpected_percent) if unexpected_percent is not None else None,
        element_count=int(element_count) if element_count is not None else None,
        sample_unexpected=tuple(_plain(v) for v in (details.get("partial_unexpected_list") or [])[:5]),
        exception=exception,
        kwargs=kwargs,
    )


def _column_label_from_kwargs(kwargs: dict[str, Any]) -> str | None:
    if isinstance(kwargs.get("column"), str):
        return kwargs["column"]
    columns = [kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    for key in _COLUMN_LIST_KWARGS:
        columns.extend(str(c) for c in kwargs.get(key) or [])
    return ", ".join(columns) if columns else None


def _errored(expectation: Any, message: str) -> ExpectationOutcome:
    kwargs = dict(expectation.configuration.kwargs)
    return ExpectationOutcome(
        expectation_type=expectation.expectation_type,
        column=_column_label(expectation),
        success=False,
        exception=message,
        kwargs=kwargs,
    )


def _exception_text(info: Any) -> str | None:
    """GX nests exception info either flat or per metric; find any raised exception's message."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        if info.get("raised_exception"):
            return _first_line(info.get("exception_message") or "GX raised an exception without a message")
        return None
    for value in info.values():
        text = _exception_text(value)
        if text is not None:
            return text
    return None


def _first_line(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()[:500]


def _plain(value: Any) -> Any:
    """Make a GX-reported value safe to show and to compare (numpy scalars → Python)."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN shows as null
        return None
    return value


def _short(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
