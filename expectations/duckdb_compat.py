"""Make Great Expectations' SQL route work on DuckDB (GX 1.24 + SQLAlchemy 2.1 + duckdb_engine).

Measured: every expectation errors through ``context.data_sources.add_sql("duckdb:///...")``.
Three causes, each fixed here by one small, documented patch, applied once by ``install()``:

1. **Results read after their connection closed.** ``SqlAlchemyExecutionEngine.execute_query``
   runs the query inside ``with self.get_connection()`` and returns the live cursor result;
   the caller calls ``fetchall()`` only after the ``with`` block closed the connection. Drivers
   that buffer rows client-side (psycopg2) survive that; DuckDB's cursor drops its result on
   close, so GX gets ``[]`` and fails with ``list index out of range`` (the error noted in
   DESIGN.md). Patch: on DuckDB, rows are buffered (``Result.freeze()``) before the connection
   closes. A metric query returns one aggregate row, or at most a result-format's sample of
   failing rows, so buffering costs nothing.
2. **Column reflection.** GX asks SQLAlchemy's inspector for the table's columns (the
   ``table.column_types`` metric behind every column expectation). duckdb_engine inherits
   PostgreSQL's reflection, whose SQLAlchemy 2.1 queries use ``pg_collation`` and ``REGCLASS``,
   which DuckDB's pg_catalog emulation lacks; GX's fallback then selects from the table without
   its schema (``Table with name f does not exist``). Patch: on DuckDB, columns and types come
   from DuckDB's own catalog (``duckdb_columns()``), mapped to SQLAlchemy types so that
   ``ExpectColumnValuesToBeOfType(type_="VARCHAR")`` keeps GX's isinstance comparison.

3. **Regular expressions.** GX builds a regex condition per dialect and knows no DuckDB, so every
   ``ExpectColumnValuesToMatchRegex`` raises ``Regex is not supported for dialect duckdb``.
   Patch: on DuckDB the condition is ``regexp_matches(column, regex)`` (a search, like
   PostgreSQL's ``~``, which GX uses for PostgreSQL).

All patches are no-ops for every other dialect. ``install()`` is idempotent. The unit tests
(tests/unit/test_expectations.py) prove the route evaluates: each expectation kind fails on
data built to break it.
"""

from __future__ import annotations

import re
from typing import Any

_INSTALLED = False

# DuckDB type name (without parameters) → SQLAlchemy type. Types not listed reflect as NullType,
# which fails any type expectation on them (never passes by accident).
_DUCKDB_TO_SQLALCHEMY: dict[str, str] = {
    "VARCHAR": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "TINYINT": "SMALLINT",
    "SMALLINT": "SMALLINT",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "HUGEINT": "BIGINT",
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INTEGER",
    "UINTEGER": "BIGINT",
    "UBIGINT": "BIGINT",
    "FLOAT": "REAL",
    "DOUBLE": "DOUBLE",
    "DECIMAL": "DECIMAL",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "DATETIME",  # naive: not a TIMESTAMP, so type_="TIMESTAMP" means tz-aware
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "INTERVAL": "Interval",
    "BLOB": "BLOB",
    "UUID": "UUID",
    "JSON": "JSON",
}


_REGEX_METRIC_MODULES = (
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex_list",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex_list",
    "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_match_regex_values",
    "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_not_match_regex_values",
)


def install() -> None:
    """Apply the three patches (idempotent). Import GX only when a validation needs it."""
    global _INSTALLED
    if _INSTALLED:
        return
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module
    from great_expectations.expectations.metrics.table_metrics import table_column_types

    engine_class = engine_module.SqlAlchemyExecutionEngine
    original_execute_query = engine_class.execute_query

    def execute_query(self: Any, query: Any) -> Any:
        if self.engine.dialect.name != "duckdb":
            return original_execute_query(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            # Buffer the rows while the DuckDB cursor is still open (cause 1 above).
            return result.freeze()() if result.returns_rows else result

    engine_class.execute_query = execute_query

    original_metadata = table_column_types._get_sqlalchemy_column_metadata

    def column_metadata(execution_engine: Any, batch_data: Any) -> Any:
        if execution_engine.engine.dialect.name != "duckdb":
            return original_metadata(execution_engine, batch_data)
        return _duckdb_column_metadata(execution_engine, batch_data)

    table_column_types._get_sqlalchemy_column_metadata = column_metadata

    _install_regex()
    # Type comparison falls back to SQLAlchemy's own types for DuckDB (what cause 2 feeds it)
    # and says so at WARNING on every type expectation; that is the intended path here.
    import logging

    logging.getLogger("great_expectations.expectations.type_comparison").setLevel(logging.ERROR)
    _INSTALLED = True


def _install_regex() -> None:
    import importlib

    import sqlalchemy as sa
    from great_expectations.expectations.metrics import util

    original = util.get_dialect_regex_expression

    def regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        if getattr(dialect, "name", None) != "duckdb":
            return original(column, regex, dialect, positive)
        matches = sa.func.regexp_matches(column, sa.literal(regex))
        return matches if positive else sa.not_(matches)

    util.get_dialect_regex_expression = regex_expression
    # The metric modules imported the function by name: rebind it there too.
    for module_name in _REGEX_METRIC_MODULES:
        module = importlib.import_module(module_name)
        module.get_dialect_regex_expression = regex_expression


def sqlalchemy_type(duckdb_type: str) -> Any:
    """The SQLAlchemy type instance GX sees for a DuckDB column type (e.g. ``DECIMAL(18,2)``)."""
    import sqlalchemy as sa

    base = re.sub(r"\(.*\)$", "", duckdb_type.strip().upper())
    name = _DUCKDB_TO_SQLALCHEMY.get(base)
    if name is None:
        return sa.types.NullType()
    if base == "TIMESTAMP WITH TIME ZONE":
        return sa.TIMESTAMP(timezone=True)
    return getattr(sa, name)()


def _duckdb_column_metadata(execution_engine: Any, batch_data: Any) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    selectable = batch_data.selectable
    if isinstance(selectable, sa.Table):
        table = batch_data.source_table_name or selectable.name
        schema = batch_data.source_schema_name or selectable.schema or "main"
        query = sa.text(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = :schema and table_name = :table "
            "order by column_index"
        ).bindparams(schema=schema, table=table)
    else:
        # A query asset: describe the query itself (DuckDB plans it without running it).
        compiled = selectable.compile(execution_engine.engine, compile_kwargs={"literal_binds": True})
        query = sa.text(f"select column_name, column_type from (describe {compiled})")
    with execution_engine.engine.connect() as connection:
        rows = connection.execute(query).fetchall()
    return [
        {"name": name, "type": sqlalchemy_type(type_name), "nullable": True, "primary_key": False}
        for name, type_name in rows
    ]
