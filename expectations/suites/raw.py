"""Raw contract: what every ``raw.<channel>__<entity>`` table must hold after landing.

The columns come from the landing specs (``warehouse.landing.specs.SOURCES``), so a new source
gets its raw gate by adding a spec. Raw keeps every delivered value as text; this suite checks
the shape, not the content (content is staging's job):

- every delivered column and the lineage columns exist, with the landing types;
- at least one row;
- each source's key columns are present on every row: not null and not blank (CSV delivers an
  empty field as ``''``, not as null, so "not null" alone would let a missing key through);
- the share of rows whose key value fields look parseable by staging is above a threshold per
  column (``RAW_PARSE_RULES``: the delivered formats staging knows, with full-width digits);
- ``(_source_file, _source_line)`` is unique: every delivered line lands at most once.

A second, WARN-only gate per table compares each delivered file's row count with the previous
delivery's (``RAW_FILE_COUNT_SUITES``).

Type expectations name SQLAlchemy types (validation runs in DuckDB through GX's SQL route, see
``expectations.duckdb_compat``): VARCHAR, INTEGER, and TIMESTAMP for TIMESTAMPTZ (a timestamp
without time zone reflects as DATETIME, so it fails).
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
    # PKDD'99 bank data (warehouse/landing/specs_berka.py)
    "berka__account": ("account_id",),
    "berka__client": ("client_id",),
    "berka__disp": ("disp_id", "client_id", "account_id"),
    "berka__order": ("order_id", "account_id"),
    "berka__trans": ("trans_id", "account_id"),
    "berka__loan": ("loan_id", "account_id"),
    "berka__card": ("card_id", "disp_id"),
    "berka__district": ("A1",),
    # UCI Online Retail and CDNOW (warehouse/landing/specs_retail.py)
    "online_retail__invoice_lines": ("InvoiceNo", "StockCode"),
    "cdnow__purchases": ("customer_id", "date"),
}

# SQLAlchemy type names of the landing types (see the module docstring).
_TEXT_TYPE = "VARCHAR"
_LINEAGE_TYPES = {"_source_file": "VARCHAR", "_source_line": "INTEGER", "_loaded_at": "TIMESTAMP"}

_DIGIT = "[0-9０-９]"  # staging's parsers accept full-width digits (macros/text_cleaning.sql)
_AMOUNT = rf"^\s*-?{_DIGIT}[0-9０-９,，]*([.．]{_DIGIT}+)?\s*$"
_INTEGER = rf"^\s*-?{_DIGIT}+\s*$"
_HAS_YEAR = rf"{_DIGIT}{{4}}"  # every timestamp format staging parses starts with or holds a year
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Share of non-null values that must look parseable. The demo plants a few % of dirt that
# staging repairs or rejects; 98 % leaves room for that and stops a format change (a new
# date layout, amounts in a new notation) that would send a whole file to quarantine.
PARSE_SHARE_MIN = 0.98
RAW_PARSE_RULES: dict[str, tuple[tuple[str, str, float], ...]] = {
    "bank__transactions": (("交易金额", _AMOUNT, PARSE_SHARE_MIN), ("交易时间", _HAS_YEAR, PARSE_SHARE_MIN),
                           ("借贷标志", r"^\s*(借|贷)\s*$", PARSE_SHARE_MIN)),
    "payments__trades": (("amount_fen", _INTEGER, PARSE_SHARE_MIN), ("created_at", rf"^\s*{_DIGIT}", PARSE_SHARE_MIN)),
    "ecommerce__order_lines": (("unit_price", _AMOUNT, PARSE_SHARE_MIN), ("qty", _INTEGER, PARSE_SHARE_MIN),
                               ("order_time", _HAS_YEAR, PARSE_SHARE_MIN)),
    "cards__transactions": (("amount", _AMOUNT, PARSE_SHARE_MIN), ("txn_time", _HAS_YEAR, PARSE_SHARE_MIN)),
    "cards__statements": (("statement_balance", _AMOUNT, PARSE_SHARE_MIN), ("statement_date", _HAS_YEAR, PARSE_SHARE_MIN)),
    "reference__fx_rates": (("rate_to_cny", _AMOUNT, PARSE_SHARE_MIN), ("rate_date", _ISO_DATE, PARSE_SHARE_MIN)),
}
# A delivered file with under a tenth or over ten times the previous deliveries' mean rows.
# Salary days and Double 11 spike daily files, so only most files must be in the band.
FILE_COUNT_RATIO_BAND = (0.1, 10.0)
FILE_COUNT_MOSTLY = 0.90
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
    for column, regex, mostly in RAW_PARSE_RULES.get(spec.table, ()):
        expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex, mostly=mostly))
    expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=["_source_file", "_source_line"]))
    return gx.ExpectationSuite(
        name=f"raw.{spec.table}", expectations=expectations, meta={"row_key": ["_source_file", "_source_line"]}
    )


def file_row_counts_query(spec: SourceSpec) -> str:
    """Rows per delivered file and the ratio to the mean of the previous deliveries.

    The mean of up to 7 previous files (a week of daily files) smooths weekday swings that a
    single previous file would turn into false alarms; files sort by name, which carries the
    delivery date in every demo format.
    """
    return f"""
        with files as (
            select _source_file, count(*) as row_count from {RAW_SCHEMA}.{spec.table} group by _source_file
        ),
        compared as (
            select _source_file, row_count,
                   avg(row_count) over (order by _source_file rows between 7 preceding and 1 preceding)
                       as previous_mean_row_count
            from files
        )
        select _source_file, row_count, previous_mean_row_count,
               row_count / previous_mean_row_count as ratio_to_previous
        from compared"""


def build_file_row_counts_suite(spec: SourceSpec) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    low, high = FILE_COUNT_RATIO_BAND
    return gx.ExpectationSuite(
        name=f"raw.{spec.table}.file_row_counts",
        meta={"row_key": ["_source_file"]},
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="ratio_to_previous", min_value=low, max_value=high, mostly=FILE_COUNT_MOSTLY
            ),
        ],
    )


def _builder(spec: SourceSpec) -> Callable[[], gx.ExpectationSuite]:
    def build() -> gx.ExpectationSuite:
        return build_raw_suite(spec)

    build.__name__ = f"build_raw_{spec.table}_suite"
    build.__doc__ = f"Raw contract for raw.{spec.table}: {spec.description}"
    return build


RAW_SUITES: dict[str, Callable[[], gx.ExpectationSuite]] = {
    f"{RAW_SCHEMA}.{spec.table}": _builder(spec) for spec in SOURCES
}


def _file_counts_builder(spec: SourceSpec) -> Callable[[], gx.ExpectationSuite]:
    def build() -> gx.ExpectationSuite:
        return build_file_row_counts_suite(spec)

    build.__name__ = f"build_raw_{spec.table}_file_row_counts_suite"
    return build


# 'raw.table' → (query, builder). Sources delivered as one file (CRM master data) have no
# previous delivery to compare with inside one load and are left out.
RAW_FILE_COUNT_SUITES: dict[str, tuple[str, Callable[[], gx.ExpectationSuite]]] = {
    f"{RAW_SCHEMA}.{spec.table}": (file_row_counts_query(spec), _file_counts_builder(spec))
    for spec in SOURCES
    if spec.table in RAW_PARSE_RULES and spec.table != "reference__fx_rates"
}
