"""GX gates really evaluate: every expectation kind the suites use is broken on purpose and must
fail, clean data must pass, and an expectation that errors inside GX is never counted as passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

import expectations.runner as runner
from expectations import SUITES, TableNotFoundError, columns_needed, suite_for, validate_frame, validate_table
from expectations.suites.raw import RAW_KEY_COLUMNS
from warehouse.landing import LINEAGE_COLUMNS, SOURCES, load_source, spec_for

# --- builders of clean data ----------------------------------------------------------------------

N_FLOWS = 200  # large enough that 1 missing customer_id is 0.5% (< 1%) and 3 are 1.5%


def clean_flows(n: int = N_FLOWS) -> pd.DataFrame:
    channels = ["bank", "payments", "ecommerce", "cards"]
    return pd.DataFrame(
        {
            "flow_id": [f"F{i:05d}" for i in range(n)],
            "source_channel": [channels[i % 4] for i in range(n)],
            "customer_id": [f"C{i % 37:03d}" for i in range(n)],
            "flow_date": [date(2025, 1, 1 + i % 28) for i in range(n)],
            "direction": ["in" if i % 3 else "out" for i in range(n)],
            "amount": [10.0 + i for i in range(n)],
            "currency": ["CNY" if i % 5 else "USD" for i in range(n)],
            "amount_cny": [10.0 + i for i in range(n)],
            "category": ["salary" if i % 2 else "consumption:food" for i in range(n)],
        }
    )


def clean_customers(n: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)], "income_cny_12m": [1000.0 * i for i in range(n)]})


def with_value(column: str, value, rows: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if value is None and pd.api.types.is_float_dtype(df[column]):
            df.loc[: rows - 1, column] = float("nan")
        else:
            df[column] = df[column].astype(object)
            df.loc[: rows - 1, column] = [value] * rows
        return df

    return mutate


def duplicate_first(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.loc[1, column] = df.loc[0, column]
        return df

    return mutate


def no_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[0:0]


def failed_labels(outcome) -> set[str]:
    return {e.label for e in outcome.failures()}


# --- the marts suites, one broken frame per expectation ------------------------------------------

FLOW_BREAKS = [
    ("no rows", no_rows, "expect_table_row_count_to_be_between"),
    ("null flow_id", with_value("flow_id", None), "expect_column_values_to_not_be_null(flow_id)"),
    ("duplicate flow_id", duplicate_first("flow_id"), "expect_column_values_to_be_unique(flow_id)"),
    ("unknown channel", with_value("source_channel", "crm"), "expect_column_values_to_be_in_set(source_channel)"),
    ("unknown direction", with_value("direction", "sideways"), "expect_column_values_to_be_in_set(direction)"),
    ("null amount", with_value("amount", None), "expect_column_values_to_not_be_null(amount)"),
    ("negative amount", with_value("amount", -0.01), "expect_column_values_to_be_between(amount)"),
    ("null amount_cny", with_value("amount_cny", None), "expect_column_values_to_not_be_null(amount_cny)"),
    ("negative amount_cny", with_value("amount_cny", -5.0), "expect_column_values_to_be_between(amount_cny)"),
    ("lower-case currency", with_value("currency", "cny"), "expect_column_values_to_match_regex(currency)"),
    ("four-letter currency", with_value("currency", "CNYX"), "expect_column_values_to_match_regex(currency)"),
    ("null flow_date", with_value("flow_date", None), "expect_column_values_to_not_be_null(flow_date)"),
    ("null category", with_value("category", None), "expect_column_values_to_not_be_null(category)"),
    ("1.5% without customer", with_value("customer_id", None, rows=3), "expect_column_values_to_not_be_null(customer_id)"),
]


def test_clean_fund_flows_pass_every_expectation() -> None:
    outcome = validate_frame(clean_flows(), suite_for("marts.fct_fund_flows"), table="marts.fct_fund_flows")
    assert outcome.success, [e.summary() for e in outcome.failures()]
    assert outcome.evaluated == outcome.passed == len(suite_for("marts.fct_fund_flows").expectations)
    assert outcome.failed == outcome.errored == 0
    assert outcome.row_count == N_FLOWS


@pytest.mark.parametrize(("case", "break_frame", "expected_failure"), FLOW_BREAKS, ids=[c[0] for c in FLOW_BREAKS])
def test_each_fund_flow_expectation_fails_on_data_that_breaks_it(case, break_frame, expected_failure) -> None:
    outcome = validate_frame(break_frame(clean_flows()), suite_for("marts.fct_fund_flows"))
    assert not outcome.success
    assert failed_labels(outcome) == {expected_failure}, case
    assert outcome.failed == 1 and outcome.passed == outcome.evaluated - 1
    assert outcome.failures()[0].exception is None  # a real verdict, not an error


def test_a_few_flows_without_customer_are_tolerated() -> None:
    outcome = validate_frame(with_value("customer_id", None, rows=1)(clean_flows()), suite_for("marts.fct_fund_flows"))
    assert outcome.success
    customer = next(e for e in outcome.expectations if e.label == "expect_column_values_to_not_be_null(customer_id)")
    assert customer.unexpected_count == 1


def test_unexpected_values_are_reported_with_counts_and_examples() -> None:
    outcome = validate_frame(with_value("direction", "sideways", rows=4)(clean_flows()), suite_for("marts.fct_fund_flows"))
    (failure,) = outcome.failures()
    assert failure.unexpected_count == 4
    assert failure.unexpected_percent == pytest.approx(2.0)
    assert "sideways" in failure.sample_unexpected
    assert failure.summary().startswith("FAILED: 4 unexpected")


CUSTOMER_BREAKS = [
    ("no rows", no_rows, "expect_table_row_count_to_be_between"),
    ("null customer_id", with_value("customer_id", None), "expect_column_values_to_not_be_null(customer_id)"),
    ("duplicate customer_id", duplicate_first("customer_id"), "expect_column_values_to_be_unique(customer_id)"),
]


def test_clean_customer_360_passes() -> None:
    assert validate_frame(clean_customers(), suite_for("marts.mart_customer_360")).success


@pytest.mark.parametrize(("case", "break_frame", "expected_failure"), CUSTOMER_BREAKS, ids=[c[0] for c in CUSTOMER_BREAKS])
def test_each_customer_360_expectation_fails_on_data_that_breaks_it(case, break_frame, expected_failure) -> None:
    outcome = validate_frame(break_frame(clean_customers()), suite_for("marts.mart_customer_360"))
    assert failed_labels(outcome) == {expected_failure}, case


# --- the raw contract, on real raw tables in DuckDB ---------------------------------------------

SURVEYS_CSV = "survey_id,customer_id,survey_date,csat,nps,channel\nS1,C1,2025-01-02,5,9,app\nS2,C2,2025-01-03,4,7,web\n"


@pytest.fixture
def raw_surveys(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """raw.crm__surveys as the real landing loader writes it."""
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "surveys.csv").write_text(SURVEYS_CSV, encoding="utf-8")
    con = duckdb.connect()
    load_source(con, spec_for("crm__surveys"), tmp_path)
    return con


RAW = "raw.crm__surveys"


def test_a_landed_raw_table_passes_its_contract(raw_surveys) -> None:
    outcome = validate_table(raw_surveys, RAW, suite_for(RAW))
    assert outcome.success, [e.summary() for e in outcome.failures()]
    assert outcome.row_count == 2
    assert outcome.table == RAW and outcome.suite_name == RAW


RAW_BREAKS = [
    ("blank key", "update raw.crm__surveys set survey_id = '  ' where survey_id = 'S1'",
     {"expect_column_values_to_match_regex(survey_id)"}),
    ("null key", "update raw.crm__surveys set customer_id = null where survey_id = 'S1'",
     {"expect_column_values_to_not_be_null(customer_id)"}),
    ("null lineage", "update raw.crm__surveys set _loaded_at = null where survey_id = 'S1'",
     {"expect_column_values_to_not_be_null(_loaded_at)"}),
    ("line loaded twice", "insert into raw.crm__surveys select * from raw.crm__surveys where survey_id = 'S1'",
     {"expect_compound_columns_to_be_unique(_source_file, _source_line)"}),
    ("no rows", "delete from raw.crm__surveys", {"expect_table_row_count_to_be_between"}),
    ("line number typed as text", "alter table raw.crm__surveys alter _source_line type varchar",
     {"expect_column_values_to_be_of_type(_source_line)"}),
    ("load time without time zone", "alter table raw.crm__surveys alter _loaded_at type timestamp",
     {"expect_column_values_to_be_of_type(_loaded_at)"}),
    ("delivered column typed", "alter table raw.crm__surveys alter csat type integer",
     {"expect_column_values_to_be_of_type(csat)"}),
]


@pytest.mark.parametrize(("case", "sql", "expected_failures"), RAW_BREAKS, ids=[c[0] for c in RAW_BREAKS])
def test_each_raw_expectation_fails_on_a_table_that_breaks_it(raw_surveys, case, sql, expected_failures) -> None:
    raw_surveys.execute(sql)
    outcome = validate_table(raw_surveys, RAW, suite_for(RAW))
    assert not outcome.success
    assert failed_labels(outcome) == expected_failures, case


def test_a_missing_raw_column_fails_the_column_set_and_errors_its_expectations(raw_surveys) -> None:
    raw_surveys.execute("alter table raw.crm__surveys drop column nps")
    outcome = validate_table(raw_surveys, RAW, suite_for(RAW))
    assert not outcome.success
    column_set = next(e for e in outcome.expectations if e.expectation_type == "expect_table_columns_to_match_set")
    assert not column_set.success and column_set.exception is None
    nps_type = next(e for e in outcome.expectations if e.label == "expect_column_values_to_be_of_type(nps)")
    assert not nps_type.success and nps_type.exception == "column(s) ['nps'] not found in the data"
    assert failed_labels(outcome) == {column_set.label, nps_type.label}
    assert outcome.errored == 1


def test_every_landing_source_has_a_raw_suite_with_declared_keys() -> None:
    for spec in SOURCES:
        qualified = f"raw.{spec.table}"
        assert qualified in SUITES
        suite = suite_for(qualified)
        assert suite.name == qualified
        named = set(columns_needed(suite))
        assert set(spec.columns) | set(LINEAGE_COLUMNS) <= named
        assert set(RAW_KEY_COLUMNS[spec.table]) <= set(spec.columns)


def test_every_expectation_kind_the_suites_use_has_a_breaking_case_above() -> None:
    used = {e.expectation_type for build in SUITES.values() for e in build().expectations}
    broken = {label.split("(")[0] for _, _, label in FLOW_BREAKS + CUSTOMER_BREAKS}
    broken |= {label.split("(")[0] for _, _, labels in RAW_BREAKS for label in labels}
    broken.add("expect_table_columns_to_match_set")  # the missing-column test
    assert used <= broken, f"add a failing case for {sorted(used - broken)}"


# --- errors inside GX count as failures ---------------------------------------------------------


def test_an_expectation_that_raises_in_gx_is_reported_failed_not_passed() -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name="broken",
        expectations=[
            # text compared with a number: GX's metric raises inside validation
            gxe.ExpectColumnValuesToBeBetween(column="flow_id", min_value=0),
            gxe.ExpectColumnValuesToNotBeNull(column="flow_id"),
        ],
    )
    outcome = validate_frame(clean_flows(), suite)
    assert not outcome.success
    assert (outcome.evaluated, outcome.passed, outcome.failed, outcome.errored) == (2, 1, 1, 1)
    broken = outcome.expectations[0]  # results come back in suite order
    assert broken.column == "flow_id" and not broken.success
    assert "same type" in broken.exception
    assert broken.summary().startswith("ERROR: ")
    assert outcome.to_metadata()["failed_expectations"] == "expect_column_values_to_be_between(flow_id)"


def test_an_expectation_on_a_missing_column_fails_with_a_clear_message() -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="missing", expectations=[gxe.ExpectColumnValuesToBeOfType(column="nope", type_="str")])
    (outcome,) = validate_frame(clean_flows(), suite).expectations
    assert not outcome.success and outcome.exception == "column(s) ['nope'] not found in the data"


def _fake_result(expectation, *, success, exception_info, index=0):
    config = SimpleNamespace(
        type=expectation.expectation_type,
        kwargs=dict(expectation.configuration.kwargs),
        meta={runner._INDEX_META_KEY: index},
    )
    return SimpleNamespace(expectation_config=config, success=success, result={}, exception_info=exception_info)


def test_an_exception_is_a_failure_even_if_gx_says_success(monkeypatch) -> None:
    suite = suite_for("marts.mart_customer_360")
    first = suite.expectations[0]
    raised = {"metric-id": {"raised_exception": True, "exception_message": "boom", "exception_traceback": "..."}}
    monkeypatch.setattr(runner, "_run_gx", lambda df, name, exps: [_fake_result(first, success=True, exception_info=raised)])
    outcome = validate_frame(clean_customers(), suite)
    assert not outcome.success
    assert outcome.expectations[0].exception == "boom" and not outcome.expectations[0].success
    # the two expectations GX never reported on are failures too
    assert [e.exception for e in outcome.expectations[1:]] == ["GX returned no result for this expectation"] * 2
    assert outcome.passed == 0


def test_gx_crashing_fails_every_expectation(monkeypatch) -> None:
    def crash(df, name, exps):
        raise RuntimeError("metric graph exploded")

    monkeypatch.setattr(runner, "_run_gx", crash)
    outcome = validate_frame(clean_customers(), suite_for("marts.mart_customer_360"))
    assert not outcome.success and outcome.passed == 0 and outcome.errored == outcome.evaluated == 3
    assert all("metric graph exploded" in e.exception for e in outcome.expectations)


def test_an_empty_suite_is_refused() -> None:
    import great_expectations as gx

    with pytest.raises(ValueError, match="no expectations"):
        validate_frame(clean_customers(), gx.ExpectationSuite(name="empty"))


# --- validate_table on DuckDB -------------------------------------------------------------------


@pytest.fixture
def warehouse_with_flows() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        """create table marts.fct_fund_flows (
            flow_id varchar, source_channel varchar, source_record_id varchar, customer_id varchar,
            account_id varchar, flow_ts timestamptz, flow_date date, direction varchar,
            amount decimal(18, 2), currency varchar, fx_rate double, amount_cny decimal(18, 2),
            category varchar, is_internal_transfer boolean)"""
    )
    flows = clean_flows()
    con.register("flows", flows)
    con.execute(
        """insert into marts.fct_fund_flows
           select flow_id, source_channel, flow_id, customer_id, 'A1', now(), flow_date, direction,
                  amount, currency, 1.0, amount_cny, category, false from flows"""
    )
    con.unregister("flows")
    return con


def test_validate_table_passes_a_clean_duckdb_table(warehouse_with_flows) -> None:
    outcome = validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite_for("marts.fct_fund_flows"))
    assert outcome.success, [e.summary() for e in outcome.failures()]
    assert outcome.row_count == N_FLOWS


def test_validate_table_fails_on_bad_rows_in_duckdb(warehouse_with_flows) -> None:
    warehouse_with_flows.execute(
        "update marts.fct_fund_flows set amount_cny = -1, currency = 'rmb' where flow_id in ('F00001', 'F00002')"
    )
    outcome = validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite_for("marts.fct_fund_flows"))
    assert not outcome.success
    assert failed_labels(outcome) == {
        "expect_column_values_to_be_between(amount_cny)",
        "expect_column_values_to_match_regex(currency)",
    }
    assert all(e.unexpected_count == 2 for e in outcome.failures())


def test_column_batches_give_the_same_verdicts(warehouse_with_flows) -> None:
    warehouse_with_flows.execute("update marts.fct_fund_flows set direction = 'x', flow_id = 'F00000' where flow_id = 'F00003'")
    suite = suite_for("marts.fct_fund_flows")
    whole = validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite)
    batched = validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite, max_columns_per_batch=1)

    def verdicts(outcome):
        return [(e.label, e.success, e.unexpected_count, e.observed_value) for e in outcome.expectations]

    assert verdicts(whole) == verdicts(batched)
    assert failed_labels(whole) == {
        "expect_column_values_to_be_unique(flow_id)",
        "expect_column_values_to_be_in_set(direction)",
    }


def test_only_the_columns_the_suite_names_are_read(warehouse_with_flows, monkeypatch) -> None:
    read: list[list[str]] = []
    original = runner._read_columns

    def spy(con, qualified, columns, row_count):
        read.append(list(columns))
        return original(con, qualified, columns, row_count)

    monkeypatch.setattr(runner, "_read_columns", spy)
    # the customer-360 suite names one column; the flows table has fourteen
    validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite_for("marts.mart_customer_360"))
    assert read == [["customer_id"]]


def test_a_missing_table_is_an_error_not_a_verdict() -> None:
    with pytest.raises(TableNotFoundError, match="marts.fct_fund_flows"):
        validate_table(duckdb.connect(), "marts.fct_fund_flows", suite_for("marts.fct_fund_flows"))


def test_metadata_is_flat_and_names_each_expectation(warehouse_with_flows) -> None:
    warehouse_with_flows.execute("update marts.fct_fund_flows set category = null where flow_id = 'F00010'")
    metadata = validate_table(warehouse_with_flows, "marts.fct_fund_flows", suite_for("marts.fct_fund_flows")).to_metadata()
    assert all(isinstance(v, (str, int, float, bool)) for v in metadata.values())
    assert metadata["success"] is False and metadata["failed"] == 1 and metadata["row_count"] == N_FLOWS
    assert metadata["12 expect_column_values_to_not_be_null(category)"].startswith("FAILED: 1 unexpected")
    assert metadata["03 expect_column_values_to_be_unique(flow_id)"] == "passed: 0 unexpected (0%)"


def test_validation_writes_nothing_to_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    validate_frame(clean_customers(), suite_for("marts.mart_customer_360"))
    assert list(tmp_path.iterdir()) == []

