"""Raw contract: what every ``raw.<channel>__<entity>`` table must hold after landing.

The columns come from the landing specs (``warehouse.landing.specs.SOURCES``), so a new source
gets its raw gate by adding a spec. Raw keeps every delivered value as text; this suite checks
the shape, not the content (content is staging's job):

- every delivered column and the lineage columns exist, with the landing types;
- at least one row;
- each source's key columns are present on every row: not null and not blank (CSV delivers an
  empty field as ``''``, not as null, so "not null" alone would let a missing key through);
- ``(_source_file, _source_line)`` is unique: every delivered line lands at most once.

Type expectations name pandas types, because validation runs on the frame DuckDB hands pandas:
VARCHAR → ``str``, INTEGER → ``int32``, TIMESTAMPTZ → ``Timestamp`` (tz-aware).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from warehouse.landing.specs import LINEAGE_COLUMNS, SOURCES, SourceSpec

if TYPE_CHECKING:  # GX is imported by the builders: importing GX takes ~10 s
    import great_expectations as gx

RAW_SCHEMA = "raw"

# The identifying fields of each source: a raw row without them cannot be typed, matched or
# traced by staging. Keyed by the raw table name (``<channel>__<entity>``).
RAW_KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "bank__transactions": ("交易流水号", "账号"),
    "payments__trades": ("trade_no", "user_id"),
    "payments__users": ("user_id",),
    "ecommerce__order_lines": ("order_id", "line_no"),
    "cards__accounts": ("pan", "customer_id"),
    "cards__statements": ("pan", "statement_date"),
    "cards__transactions": ("txn_id", "pan"),
    "crm__customers": ("customer_id",),
    "crm__accounts": ("account_no", "customer_id"),
    "crm__surveys": ("survey_id", "customer_id"),
    "crm__marketing_spend": ("month", "acquisition_channel"),
    "reference__fx_rates": ("rate_date", "currency", "rate_to_cny"),
}

# pandas type names of the landing types after DuckDB → pandas (see the module docstring).
_TEXT_TYPE = "str"
_LINEAGE_TYPES = {"_source_file": "str", "_source_line": "int32", "_loaded_at": "Timestamp"}
_NOT_BLANK = r"\S"  # at least one non-space character (match is a search, nulls are skipped)


def key_columns(spec: SourceSpec) -> tuple[str, ...]:
    try:
        keys = RAW_KEY_COLUMNS[spec.table]
    except KeyError:
        raise KeyError(f"no key columns declared for raw.{spec.table}; add them to RAW_KEY_COLUMNS") from None
    unknown = [k for k in keys if k not in spec.columns]
    if unknown:
        raise ValueError(f"key columns {unknown} of raw.{spec.table} are not in its landing spec")
    return keys


def build_raw_suite(spec: SourceSpec) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    # Built as a list and handed to the suite at once: ``suite.add_expectation`` needs an
    # active GX context, and building a suite should not require one.
    expectations: list[gxe.Expectation] = []
    expectations.append(
        # Not exact: the runner reads only the columns the suite names, so "no extra columns"
        # cannot be judged from the frame; extra columns are also harmless to staging.
        gxe.ExpectTableColumnsToMatchSet(column_set=[*spec.columns, *LINEAGE_COLUMNS], exact_match=False)
    )
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in spec.columns:
        expectations.append(gxe.ExpectColumnValuesToBeOfType(column=column, type_=_TEXT_TYPE))
    for column in LINEAGE_COLUMNS:
        expectations.append(gxe.ExpectColumnValuesToBeOfType(column=column, type_=_LINEAGE_TYPES[column]))
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    for column in key_columns(spec):
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
        expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=_NOT_BLANK))
    expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=["_source_file", "_source_line"]))
    return gx.ExpectationSuite(name=f"raw.{spec.table}", expectations=expectations)


def _builder(spec: SourceSpec) -> Callable[[], gx.ExpectationSuite]:
    def build() -> gx.ExpectationSuite:
        return build_raw_suite(spec)

    build.__name__ = f"build_raw_{spec.table}_suite"
    build.__doc__ = f"Raw contract for raw.{spec.table}: {spec.description}"
    return build


RAW_SUITES: dict[str, Callable[[], gx.ExpectationSuite]] = {
    f"{RAW_SCHEMA}.{spec.table}": _builder(spec) for spec in SOURCES
}
