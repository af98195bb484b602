"""GX gates really evaluate, on DuckDB, through GX's SQL route (``expectations.duckdb_compat``).

Every expectation kind the suites use is broken on purpose and must fail with a real verdict
(not an error); clean data must pass; an expectation that errors inside GX is never counted as
passed; the SQL route gives the same verdicts as GX's pandas route.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

import expectations.runner as runner
from expectations import SUITES, TableNotFoundError, columns_needed, suite_for, validate_frame, validate_table
from expectations.drift import FAIL_BAND, PROFILES, WARN_BAND, drift_suite, latest_baseline, profile, record_profile
from expectations.quality_docs import build_quality_docs
from expectations.registry import GATES
from expectations.results import latest_results, quality_summary, record_outcome
from expectations.runner import validate_query, validate_table_in_pandas
from expectations.suites.marts import RECONCILE_CUSTOMER_360, RECONCILE_CUSTOMER_MONTHLY
from expectations.suites.raw import RAW_KEY_COLUMNS
from expectations.suites.staging import accepted_rows_query
from warehouse.landing import LINEAGE_COLUMNS, SOURCES, load_source, spec_for

N_FLOWS = 200  # large enough that 1 missing customer_id is 0.5% and 30 are 15% (> 10% allowed)
FCT = "marts.fct_fund_flows"


def failed_labels(outcome) -> set[str]:
    return {e.label for e in outcome.failures()}


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
            "counterparty_type": ["merchant" if i % 2 else "person" for i in range(n)],
        }
    )


@pytest.fixture
def flows_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    flows = clean_flows()
    con.register("flows", flows)
    con.execute(
        """create table marts.fct_fund_flows as
           select flow_id, source_channel, flow_id as source_record_id, customer_id, 'A1' as account_id,
                  flow_date::timestamptz as flow_ts, flow_date, direction, amount::decimal(18, 2) as amount,
                  currency, 1.0 as fx_rate, amount_cny::decimal(18, 2) as amount_cny, category,
                  counterparty_type, false as is_internal_transfer, false as is_echo
           from flows"""
    )
    con.unregister("flows")
    return con


# --- the fact's suite: one broken table per expectation -------------------------------------------

FLOW_BREAKS = [
    ("no rows", "delete from marts.fct_fund_flows", "expect_table_row_count_to_be_between"),
    ("null flow_id", "update marts.fct_fund_flows set flow_id = null where flow_id = 'F00001'",
     "expect_column_values_to_not_be_null(flow_id)"),
    ("duplicate flow_id", "update marts.fct_fund_flows set flow_id = 'F00000' where flow_id = 'F00001'",
     "expect_column_values_to_be_unique(flow_id)"),
    ("unknown channel", "update marts.fct_fund_flows set source_channel = 'crm' where flow_id = 'F00001'",
     "expect_column_values_to_be_in_set(source_channel)"),
    ("unknown direction", "update marts.fct_fund_flows set direction = 'sideways' where flow_id = 'F00001'",
     "expect_column_values_to_be_in_set(direction)"),
    ("null amount", "update marts.fct_fund_flows set amount = null where flow_id = 'F00001'",
     "expect_column_values_to_not_be_null(amount)"),
    ("negative amount", "update marts.fct_fund_flows set amount = -0.01 where flow_id = 'F00001'",
     "expect_column_values_to_be_between(amount)"),
    ("null amount_cny", "update marts.fct_fund_flows set amount_cny = null where flow_id = 'F00001'",
     "expect_column_values_to_not_be_null(amount_cny)"),
    ("negative amount_cny", "update marts.fct_fund_flows set amount_cny = -5 where flow_id = 'F00001'",
     "expect_column_values_to_be_between(amount_cny)"),
    ("currency outside the set", "update marts.fct_fund_flows set currency = 'XXX' where flow_id = 'F00001'",
     "expect_column_values_to_be_in_set(currency)"),
    ("null flow_date", "update marts.fct_fund_flows set flow_date = null where flow_id = 'F00001'",
     "expect_column_values_to_not_be_null(flow_date)"),
    ("flow dated in the future", "update marts.fct_fund_flows set flow_date = current_date + 30 where flow_id = 'F00001'",
     "expect_column_values_to_be_between(flow_date)"),
    ("flow dated 1990", "update marts.fct_fund_flows set flow_date = date '1990-01-01' where flow_id = 'F00001'",
     "expect_column_values_to_be_between(flow_date)"),
    ("unknown category", "update marts.fct_fund_flows set category = 'Salary ' where flow_id = 'F00001'",
     "expect_column_values_to_match_regex(category)"),
    ("unknown counterparty type", "update marts.fct_fund_flows set counterparty_type = 'alien' where flow_id = 'F00001'",
     "expect_column_values_to_be_in_set(counterparty_type)"),
    ("15% without customer", "update marts.fct_fund_flows set customer_id = null where flow_id < 'F00030'",
     "expect_column_values_to_not_be_null(customer_id)"),
]


def test_clean_fund_flows_pass_every_expectation(flows_db) -> None:
    outcome = validate_table(flows_db, FCT, suite_for(FCT))
    assert outcome.success, [e.summary() for e in outcome.failures()]
    assert outcome.evaluated == outcome.passed == len(suite_for(FCT).expectations)
    assert outcome.failed == outcome.errored == 0
    assert outcome.row_count == N_FLOWS


@pytest.mark.parametrize(("case", "sql", "expected_failure"), FLOW_BREAKS, ids=[c[0] for c in FLOW_BREAKS])
def test_each_fund_flow_expectation_fails_on_data_that_breaks_it(flows_db, case, sql, expected_failure) -> None:
    flows_db.execute(sql)
    outcome = validate_table(flows_db, FCT, suite_for(FCT))
    assert not outcome.success
    assert failed_labels(outcome) == {expected_failure}, case
    assert outcome.failures()[0].exception is None  # a real verdict, not an error


def test_a_few_flows_without_customer_are_tolerated(flows_db) -> None:
    flows_db.execute("update marts.fct_fund_flows set customer_id = null where flow_id = 'F00001'")
    outcome = validate_table(flows_db, FCT, suite_for(FCT))
    assert outcome.success
    customer = next(e for e in outcome.expectations if e.label == "expect_column_values_to_not_be_null(customer_id)")
    assert customer.unexpected_count == 1


def test_failures_carry_counts_examples_and_failing_rows(flows_db) -> None:
    flows_db.execute("update marts.fct_fund_flows set direction = 'sideways' where flow_id in ('F00003', 'F00004', 'F00005', 'F00006')")
    (failure,) = validate_table(flows_db, FCT, suite_for(FCT)).failures()
    assert failure.unexpected_count == 4
    assert failure.unexpected_percent == pytest.approx(2.0)
    assert "sideways" in failure.sample_unexpected
    assert failure.summary().startswith("FAILED: 4 unexpected")
    assert {row["flow_id"] for row in failure.sample_failing_rows} == {"F00003", "F00004", "F00005", "F00006"}
    assert all(row["direction"] == "sideways" for row in failure.sample_failing_rows)


def test_the_sql_route_matches_the_pandas_route(flows_db) -> None:
    flows_db.execute("update marts.fct_fund_flows set direction = 'x', flow_id = 'F00000' where flow_id = 'F00003'")
    flows_db.execute("update marts.fct_fund_flows set currency = 'XXX', amount_cny = -1 where flow_id in ('F00007', 'F00008')")
    suite = suite_for(FCT)
    sql = validate_table(flows_db, FCT, suite)
    pandas = validate_table_in_pandas(flows_db, FCT, suite)

    # The pandas reference cannot compare DuckDB DATEs (pandas Timestamps) with date bounds: it
    # errors on the load-window expectation, which only the SQL route can evaluate.
    date_window = "expect_column_values_to_be_between(flow_date)"
    assert [e.label for e in pandas.expectations if e.errored] == [date_window]

    def verdicts(outcome):
        return [(e.label, e.success, e.unexpected_count, e.exception) for e in outcome.expectations if e.label != date_window]

    assert verdicts(sql) == verdicts(pandas)
    assert failed_labels(sql) == {
        "expect_column_values_to_be_unique(flow_id)",
        "expect_column_values_to_be_in_set(direction)",
        "expect_column_values_to_be_in_set(currency)",
        "expect_column_values_to_be_between(amount_cny)",
    }


def test_a_missing_table_is_an_error_not_a_verdict() -> None:
    with pytest.raises(TableNotFoundError, match="marts.fct_fund_flows"):
        validate_table(duckdb.connect(), FCT, suite_for(FCT))


def test_metadata_is_flat_and_names_each_expectation(flows_db) -> None:
    flows_db.execute("update marts.fct_fund_flows set category = null where flow_id = 'F00010'")
    flows_db.execute("update marts.fct_fund_flows set currency = 'XXX' where flow_id = 'F00011'")
    metadata = validate_table(flows_db, FCT, suite_for(FCT)).to_metadata()
    assert all(isinstance(v, (str, int, float, bool)) for v in metadata.values())
    assert metadata["success"] is False and metadata["failed"] == 1 and metadata["row_count"] == N_FLOWS
    assert metadata["failed_expectations"] == "expect_column_values_to_be_in_set(currency)"
    assert metadata["10 expect_column_values_to_be_in_set(currency)"].startswith("FAILED: 1 unexpected")
    assert metadata["03 expect_column_values_to_be_unique(flow_id)"] == "passed: 0 unexpected (0%)"
    assert "F00011" in metadata["sample_failing_rows"] and "XXX" in metadata["sample_failing_rows"]


# --- the raw contract, on real raw tables in DuckDB ---------------------------------------------

SURVEYS_CSV = "survey_id,customer_id,survey_date,csat,nps,channel\nS1,C1,2025-01-02,5,9,app\nS2,C2,2025-01-03,4,7,web\n"
RAW = "raw.crm__surveys"


@pytest.fixture
def raw_surveys(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """raw.crm__surveys as the real landing loader writes it."""
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "surveys.csv").write_text(SURVEYS_CSV, encoding="utf-8")
    con = duckdb.connect()
    load_source(con, spec_for("crm__surveys"), tmp_path)
    return con


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
    assert all(e.exception is None for e in outcome.failures())


def test_a_missing_raw_column_fails_the_column_set_and_its_expectations(raw_surveys) -> None:
    raw_surveys.execute("alter table raw.crm__surveys drop column nps")
    outcome = validate_table(raw_surveys, RAW, suite_for(RAW))
    assert not outcome.success
    column_set = next(e for e in outcome.expectations if e.expectation_type == "expect_table_columns_to_match_set")
    assert not column_set.success and column_set.exception is None
    nps_type = next(e for e in outcome.expectations if e.label == "expect_column_values_to_be_of_type(nps)")
    assert not nps_type.success and nps_type.exception == "column(s) ['nps'] not found in the data"
    assert failed_labels(outcome) == {column_set.label, nps_type.label}


def _fx_rates(tmp_path: Path, rates: list[str]) -> duckdb.DuckDBPyConnection:
    (tmp_path / "reference").mkdir(parents=True)
    lines = "".join(f"2025-01-{1 + i % 28:02d},USD,{rate}\n" for i, rate in enumerate(rates))
    spec = spec_for("reference__fx_rates")
    (tmp_path / "reference" / "fx_rates.csv").write_text(",".join(spec.columns) + "\n" + lines, encoding="utf-8")
    con = duckdb.connect()
    load_source(con, spec, tmp_path, settle_seconds=0)
    assert con.execute("select count(*) from raw.reference__fx_rates").fetchone()[0] == len(rates)
    return con


def test_the_parse_share_of_a_raw_column_has_a_threshold(tmp_path: Path) -> None:
    # 1 unparseable rate in 100 is dirt staging quarantines; 3 in 100 is a format change
    label = "expect_column_values_to_match_regex(rate_to_cny)"
    a_few = _fx_rates(tmp_path / "a", ["7.1"] * 99 + ["n/a"])
    outcome = validate_table(a_few, "raw.reference__fx_rates", suite_for("raw.reference__fx_rates"))
    assert outcome.success, [e.summary() for e in outcome.failures()]
    too_many = _fx_rates(tmp_path / "b", ["7.1"] * 97 + ["n/a", "７.１x", "7.1.2"])
    outcome = validate_table(too_many, "raw.reference__fx_rates", suite_for("raw.reference__fx_rates"))
    assert failed_labels(outcome) == {label}
    (failure,) = outcome.failures()
    assert failure.unexpected_count == 3


def test_every_landing_source_has_a_raw_suite_with_declared_keys() -> None:
    for spec in SOURCES:
        qualified = f"raw.{spec.table}"
        assert qualified in SUITES
        suite = suite_for(qualified)
        assert suite.name == qualified
        assert set(spec.columns) | set(LINEAGE_COLUMNS) <= set(columns_needed(suite))
        assert set(RAW_KEY_COLUMNS[spec.table]) <= set(spec.columns)


def test_file_row_counts_flag_a_delivery_far_from_the_previous_ones() -> None:
    gate = next(g for g in GATES if g.name == "file_row_counts_bank__transactions")
    con = duckdb.connect()
    con.execute("create schema raw")
    # 20 daily files of 50 rows, then one of 2 rows (a truncated delivery) and ones of 49
    sizes = [50] * 20 + [2] + [49] * 3
    con.execute("create table raw.bank__transactions (_source_file varchar, _source_line integer)")
    for day, size in enumerate(sizes, start=1):
        con.execute(f"insert into raw.bank__transactions select 'bank/bank_txn_2025{day:04d}.csv', range from range({size})")
    outcome = validate_query(con, gate.table, gate.query, gate.build_suite())
    assert gate.severity == "warn"
    assert outcome.success  # 1 file in 23 outside the band: within "mostly"
    con.execute("insert into raw.bank__transactions select 'bank/bank_txn_20250099.csv', range from range(2)")
    con.execute("insert into raw.bank__transactions select 'bank/bank_txn_20250098.csv', range from range(1)")
    outcome = validate_query(con, gate.table, gate.query, gate.build_suite())
    assert not outcome.success
    assert outcome.failures()[0].sample_failing_rows[0]["_source_file"].startswith("bank/bank_txn_2025")


# --- staging: the accepted rows ------------------------------------------------------------------


def test_staging_gates_judge_accepted_rows_and_ignore_quarantined_ones() -> None:
    gate = next(g for g in GATES if g.name == "gx_stg_crm__accounts")
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute(
        """create table staging.stg_crm__accounts as select * from (values
           ('A1', 'C1', 'CNY', null, 'f', 1), ('A2', 'C2', 'XXX', 'unknown currency XXX', 'f', 2),
           ('A3', 'C3', 'USD', null, 'f', 3)) t(account_id, customer_id, currency, reject_reason, _source_file, _source_line)"""
    )
    assert gate.query == accepted_rows_query("stg_crm__accounts")
    assert validate_query(con, gate.table, gate.query, gate.build_suite()).success
    con.execute("update staging.stg_crm__accounts set currency = 'XXX' where account_id = 'A3'")
    outcome = validate_query(con, gate.table, gate.query, gate.build_suite())
    assert failed_labels(outcome) == {"expect_column_values_to_be_in_set(currency)"}
    assert outcome.failures()[0].sample_failing_rows == ({"_source_file": "f", "_source_line": 3, "currency": "XXX"},)


# --- reconciliations with the fact ---------------------------------------------------------------


@pytest.fixture
def customer_marts(flows_db) -> duckdb.DuckDBPyConnection:
    con = flows_db
    con.execute("create table marts.dim_customer as select distinct customer_id from marts.fct_fund_flows")
    con.execute(
        """create table marts.mart_customer_monthly as
           select customer_id, date_trunc('month', flow_date) as month, source_channel, category,
                  coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
                  coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny
           from marts.fct_fund_flows group by all"""
    )
    con.execute(
        """create table marts.mart_customer_360 as
           select customer_id, sum(inflow_cny) as total_inflow_cny, sum(outflow_cny) as total_outflow_cny
           from marts.mart_customer_monthly group by customer_id"""
    )
    return con


def _gate(name: str, table: str):
    return next(g for g in GATES if g.name == name and g.table == table)


def test_customer_marts_reconcile_with_the_fact(customer_marts) -> None:
    for table, sql in (("marts.mart_customer_monthly", RECONCILE_CUSTOMER_MONTHLY),
                       ("marts.mart_customer_360", RECONCILE_CUSTOMER_360)):
        gate = _gate("reconcile_with_fct_fund_flows", table)
        assert gate.query == sql
        outcome = validate_query(customer_marts, table, sql, gate.build_suite())
        assert outcome.success, [e.summary() for e in outcome.failures()]


RECONCILE_BREAKS = [
    ("monthly inflow off by 1 CNY", "marts.mart_customer_monthly",
     "update marts.mart_customer_monthly set inflow_cny = inflow_cny + 1 where customer_id = 'C005' and inflow_cny > 0",
     {"expect_column_values_to_be_between(inflow_difference_cny)"}),
    ("a fact row the mart lost", "marts.mart_customer_monthly",
     "insert into marts.fct_fund_flows select flow_id || 'x', source_channel, source_record_id, customer_id, account_id, "
     "flow_ts, flow_date, 'out', amount, currency, fx_rate, amount_cny, category, counterparty_type, false, false "
     "from marts.fct_fund_flows where flow_id = 'F00002'",
     {"expect_column_values_to_be_between(outflow_difference_cny)"}),
    ("360 total off", "marts.mart_customer_360",
     "update marts.mart_customer_360 set total_outflow_cny = total_outflow_cny * 2 where customer_id = 'C007'",
     {"expect_column_values_to_be_between(outflow_difference_cny)"}),
    ("360 customer twice", "marts.mart_customer_360",
     "insert into marts.mart_customer_360 select * from marts.mart_customer_360 where customer_id = 'C001'",
     {"expect_column_values_to_be_unique(customer_id)"}),
    ("360 customer missing", "marts.mart_customer_360",
     "delete from marts.mart_customer_360 where customer_id = 'C003'",
     {"expect_column_values_to_be_in_set(in_mart)", "expect_column_values_to_be_between(inflow_difference_cny)",
      "expect_column_values_to_be_between(outflow_difference_cny)"}),
    ("360 customer unknown to dim_customer", "marts.mart_customer_360",
     "insert into marts.mart_customer_360 values ('C999', 0, 0)",
     {"expect_column_values_to_be_in_set(in_dim_customer)"}),
]


@pytest.mark.parametrize(("case", "table", "sql", "expected"), RECONCILE_BREAKS, ids=[c[0] for c in RECONCILE_BREAKS])
def test_each_reconciliation_fails_when_a_mart_no_longer_adds_up(customer_marts, case, table, sql, expected) -> None:
    customer_marts.execute(sql)
    gate = _gate("reconcile_with_fct_fund_flows", table)
    outcome = validate_query(customer_marts, table, gate.query, gate.build_suite())
    assert failed_labels(outcome) == expected, case
    assert all(e.sample_failing_rows and "customer_id" in e.sample_failing_rows[0] for e in outcome.failures())


# --- drift against the previous successful run ---------------------------------------------------


def test_drift_bands_warn_then_fail(flows_db) -> None:
    spec = PROFILES[FCT]
    assert latest_baseline(flows_db, FCT) is None  # first run: nothing to compare with
    baseline = profile(flows_db, FCT)
    record_profile(flows_db, "run-1", FCT, baseline)
    assert latest_baseline(flows_db, FCT) == baseline

    def verdicts() -> tuple[bool, bool]:
        current = latest_baseline(flows_db, FCT)
        fail = validate_query(flows_db, FCT, spec.query, drift_suite(FCT, current, FAIL_BAND))
        warn = validate_query(flows_db, FCT, spec.query, drift_suite(FCT, current, WARN_BAND))
        return warn.success, fail.success

    assert verdicts() == (True, True)
    # one more day of flows (+4 %): growth inside the warn band
    flows_db.execute("insert into marts.fct_fund_flows select * replace (flow_id || 'd' as flow_id) from marts.fct_fund_flows where flow_id < 'F00008'")
    assert verdicts() == (True, True)
    # a third of the rows vanished: beyond ±20 %, inside ±50 %
    flows_db.execute("delete from marts.fct_fund_flows where flow_id >= 'F00140'")
    assert verdicts() == (False, True)
    # most rows vanished: beyond ±50 %
    flows_db.execute("delete from marts.fct_fund_flows where flow_id >= 'F00060'")
    assert verdicts() == (False, False)


# --- results, the report, the summary ------------------------------------------------------------


def test_results_are_appended_and_the_report_shows_failing_rows(flows_db, tmp_path: Path) -> None:
    clean = validate_table(flows_db, FCT, suite_for(FCT))
    record_outcome(flows_db, run_id="run-1", check_name="gx_fct_fund_flows", asset=FCT, severity="error", outcome=clean)
    flows_db.execute("update marts.fct_fund_flows set currency = 'XXX' where flow_id = 'F00042'")
    broken = validate_table(flows_db, FCT, suite_for(FCT))
    record_outcome(flows_db, run_id="run-2", check_name="gx_fct_fund_flows", asset=FCT, severity="error", outcome=broken)
    total, runs = flows_db.execute("select count(*), count(distinct run_id) from quality.check_results").fetchone()
    assert (total, runs) == (2 * clean.evaluated, 2)
    failed = flows_db.execute(
        "select expectation, observed_value, unexpected_count, sample_failing_rows from quality.check_results "
        "where run_id = 'run-2' and not success"
    ).fetchall()
    assert [(e, n) for e, _, n, _ in failed] == [("expect_column_values_to_be_in_set(currency)", 1)]
    assert "F00042" in failed[0][3]
    assert {r["run_id"] for r in latest_results(flows_db)} == {"run-2"}
    summary = quality_summary(flows_db)
    assert summary["all_gates_passed"] is False
    assert [c["check"] for c in summary["failed_errors"]] == ["gx_fct_fund_flows"]

    index = build_quality_docs(flows_db, tmp_path / "docs" / "quality")
    page = tmp_path / "docs" / "quality" / "marts.fct_fund_flows.gx_fct_fund_flows.html"
    assert index.exists() and page.exists()
    text = page.read_text(encoding="utf-8")
    assert "F00042" in text and "expect_column_values_to_be_in_set(currency)" in text and "FAILED" in text
    assert "http://" not in text + index.read_text() and "https://" not in text + index.read_text()


# --- every kind used has a breaking case; errors inside GX count as failures --------------------


def test_every_expectation_kind_the_gates_use_has_a_breaking_case_above() -> None:
    used = {e.expectation_type for gate in GATES for e in gate.build_suite().expectations}
    used |= {e.expectation_type for spec in PROFILES.values() for e in drift_suite(spec.table, {"row_count": 1.0}, 0.5).expectations}
    broken = {label.split("(")[0] for _, _, label in FLOW_BREAKS}
    broken |= {label.split("(")[0] for _, _, labels in RAW_BREAKS for label in labels}
    broken |= {label.split("(")[0] for *_, labels in RECONCILE_BREAKS for label in labels}
    broken.add("expect_table_columns_to_match_set")  # the missing-column test
    assert used <= broken, f"add a failing case for {sorted(used - broken)}"


def test_an_expectation_that_raises_in_gx_is_reported_failed_not_passed(flows_db) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name="broken",
        expectations=[
            # a regex on a DATE column: DuckDB refuses the query inside GX's metric
            gxe.ExpectColumnValuesToMatchRegex(column="flow_date", regex="^2"),
            gxe.ExpectColumnValuesToNotBeNull(column="flow_id"),
        ],
    )
    outcome = validate_table(flows_db, FCT, suite)
    assert not outcome.success
    assert (outcome.evaluated, outcome.passed, outcome.failed, outcome.errored) == (2, 1, 1, 1)
    broken = outcome.expectations[0]  # results come back in suite order
    assert broken.column == "flow_date" and not broken.success and broken.exception
    assert broken.summary().startswith("ERROR: ")


def test_an_expectation_on_a_missing_column_fails_with_a_clear_message(flows_db) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="missing", expectations=[gxe.ExpectColumnValuesToNotBeNull(column="nope")])
    (outcome,) = validate_table(flows_db, FCT, suite).expectations
    assert not outcome.success and outcome.exception == "column(s) ['nope'] not found in the data"


def _fake_result(expectation, *, success, exception_info, index=0):
    config = SimpleNamespace(
        type=expectation.expectation_type,
        kwargs=dict(expectation.configuration.kwargs),
        meta={runner._INDEX_META_KEY: index},
    )
    return SimpleNamespace(expectation_config=config, success=success, result={}, exception_info=exception_info)


def test_an_exception_is_a_failure_even_if_gx_says_success(flows_db, monkeypatch) -> None:
    suite = suite_for("marts.mart_customer_360")
    first = suite.expectations[0]
    raised = {"metric-id": {"raised_exception": True, "exception_message": "boom", "exception_traceback": "..."}}
    monkeypatch.setattr(runner, "_run_gx_sql", lambda *args: [_fake_result(first, success=True, exception_info=raised)])
    flows_db.execute("create table marts.mart_customer_360 as select 'C1' as customer_id, 1.0 as total_inflow_cny, 1.0 as total_outflow_cny")
    outcome = validate_table(flows_db, "marts.mart_customer_360", suite)
    assert not outcome.success
    assert outcome.expectations[0].exception == "boom" and not outcome.expectations[0].success
    # the expectations GX never reported on are failures too
    assert [e.exception for e in outcome.expectations[1:]] == ["GX returned no result for this expectation"] * 4
    assert outcome.passed == 0


def test_gx_crashing_fails_every_expectation(flows_db, monkeypatch) -> None:
    def crash(*args):
        raise RuntimeError("metric graph exploded")

    monkeypatch.setattr(runner, "_run_gx_sql", crash)
    outcome = validate_table(flows_db, FCT, suite_for(FCT))
    assert not outcome.success and outcome.passed == 0 and outcome.errored == outcome.evaluated
    assert all("metric graph exploded" in e.exception for e in outcome.expectations)


def test_an_empty_suite_is_refused(flows_db) -> None:
    import great_expectations as gx

    with pytest.raises(ValueError, match="no expectations"):
        validate_table(flows_db, FCT, gx.ExpectationSuite(name="empty"))
    with pytest.raises(ValueError, match="no expectations"):
        validate_frame(clean_flows(), gx.ExpectationSuite(name="empty"))


def test_validation_writes_nothing_to_disk(flows_db, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    validate_table(flows_db, FCT, suite_for(FCT))
    validate_frame(clean_flows(), suite_for("marts.mart_customer_360"))
    assert list(tmp_path.iterdir()) == []
