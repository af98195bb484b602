"""PKDD'99 ("Berka") bank data end to end: landing → staging → canonical flows → marts, with real dbt.

One Berka-only warehouse per module: the fixture files (``berka_files.py``, the challenge's exact
format with planted faults) are loaded by the landing loader and built by ``dbt build`` (every
model and data test, unit tests aside). The tests compare the warehouse with the planted truth:
every delivered line is accounted for, every planted wrong balance is found (and nothing else),
defaults are counted, gender and birth dates are decoded, and the warehouse reports in CZK.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.formats.berka_files import BerkaTruth, write_berka
from warehouse import settings as fundflow_settings
from warehouse.landing import load_all
from warehouse.settings import default_reporting_currency

DBT_BIN = Path(sys.executable).parent / "dbt"
ACCOUNTS = 200
SEED = 5


@dataclasses.dataclass
class BerkaWorld:
    home: Path
    con: duckdb.DuckDBPyConnection
    truth: BerkaTruth
    build_seconds: float

    def one(self, sql: str, params: list | None = None):
        return self.con.execute(sql, params or []).fetchone()

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


def _settled(landing_dir: Path) -> None:
    """Date the written files a minute back: the loader leaves files younger than the settle
    time (FUNDFLOW_LANDING_SETTLE_SECONDS) for the next run, as they may still be being written."""
    past = time.time() - 60
    for path in landing_dir.rglob("*"):
        os.utime(path, (past, past))


def _dbt(args: list[str], settings: fundflow_settings.Settings, work_dir: Path) -> subprocess.CompletedProcess:
    project = str(fundflow_settings.DBT_PROJECT_DIR)
    return subprocess.run(
        [str(DBT_BIN), *args, "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")],
        env={**os.environ, **settings.dbt_env()}, capture_output=True, text=True,
    )


@pytest.fixture(scope="module")
def berka(tmp_path_factory: pytest.TempPathFactory) -> BerkaWorld:
    home = tmp_path_factory.mktemp("berka_home")
    landing_dir = home / "landing"
    truth = write_berka(landing_dir / "berka", accounts=ACCOUNTS, seed=SEED)
    settings = dataclasses.replace(
        fundflow_settings.load_settings(), home=home, warehouse_path=home / "warehouse.duckdb",
        reporting_currency=default_reporting_currency(landing_dir),
    )
    _settled(landing_dir)
    con = duckdb.connect(str(settings.warehouse_path))
    for source in load_all(con, landing_dir):
        assert not source.problems, [(f.status, f.error) for f in source.problems]
    con.close()
    started = time.perf_counter()
    result = _dbt(["build", "--exclude", "test_type:unit"], settings, home / "dbt")
    build_seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-6000:]
    print(f"berka {ACCOUNTS} accounts, {truth.trans_lines} trans lines: dbt build {build_seconds:.1f} s")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield BerkaWorld(home, con, truth, build_seconds)
    con.close()


def test_every_delivered_line_is_clean_quarantined_or_a_counted_duplicate(berka: BerkaWorld) -> None:
    truth = berka.truth
    delivered, clean, quarantined = berka.one(
        """select
               (select count(*) from raw.berka__trans),
               (select count(*) from intermediate.int_berka__transactions_deduped),
               (select count(*) from quality.quarantine where source_table = 'berka__trans')"""
    )
    duplicates = berka.one("select sum(duplicate_count) from intermediate.int_berka__transactions_deduped")[0]
    assert delivered == truth.trans_lines
    assert quarantined == truth.unknown_type_trans > 0
    assert duplicates == truth.duplicate_trans > 0
    assert clean == truth.usable_trans
    assert delivered == clean + quarantined + duplicates
    # the file-level reconciliation (quality.reconciliation, latest run) balances for every berka file
    files = berka.rows(
        """select source_file, delivered_rows, unaccounted_rows, dedup_unaccounted_rows
           from quality.reconciliation where source_table like 'berka__%'"""
    )
    assert len(files) == 8
    assert all(unaccounted == 0 and dedup == 0 for _, _, unaccounted, dedup in files), files


def test_unknown_codes_are_quarantined_with_their_reason(berka: BerkaWorld) -> None:
    reasons = dict(berka.rows(
        "select source_table || ': ' || reason, count(*) from quality.quarantine "
        "where source_table like 'berka__%' group by 1"
    ))
    assert reasons == {
        "berka__trans: unknown type PRIJEM X": berka.truth.unknown_type_trans,
        "berka__loan: unknown loan status X": berka.truth.unknown_status_loans,
        "berka__card: truncated file: last line has no line break": berka.truth.truncated_card_lines,
    }


def test_gender_and_birth_date_are_decoded_from_the_birth_number(berka: BerkaWorld) -> None:
    decoded = {
        client_id: (gender, birth_date)
        for client_id, gender, birth_date in berka.rows(
            "select berka_client_id, gender, birth_date from staging.stg_berka__clients where reject_reason is null"
        )
    }
    assert decoded == berka.truth.birth
    # and every client reaches dim_customer with its gender, birth year and district as city
    women, customers, with_city = berka.one(
        "select count(*) filter (where gender = 'F'), count(*), count(city) from marts.dim_customer "
        "where acquisition_channel = 'berka'"
    )
    assert (women, customers, with_city) == (berka.truth.women, berka.truth.clients, berka.truth.clients)


def test_every_planted_wrong_balance_is_found_and_nothing_else(berka: BerkaWorld) -> None:
    truth = berka.truth
    statuses = dict(berka.rows("select check_status, count(*) from intermediate.int_berka__balance_checks group by 1"))
    assert statuses.get("misreported_balance") == truth.wrong_balances > 0
    assert statuses.get("follows_misreported") == truth.wrong_balances
    # a quarantined line (unknown type) leaves its amount unexplained in the next balance: shown, not lost
    assert statuses.get("unexplained_change") == truth.unknown_type_gaps
    assert sum(statuses.values()) == truth.usable_trans
    shown = berka.one(
        "select sum(misreported_balances), sum(unexplained_changes), sum(mismatch_lines) "
        "from marts.mart_berka_balance_checks"
    )
    assert shown == (truth.wrong_balances, truth.unknown_type_gaps, 2 * truth.wrong_balances + truth.unknown_type_gaps)


def test_flows_reach_the_fact_in_czk_with_categories_from_k_symbol_and_operation(berka: BerkaWorld) -> None:
    truth = berka.truth
    flows, resolved, amount, amount_reported, currencies = berka.one(
        """select count(*), count(customer_id), sum(amount), sum(amount_cny), string_agg(distinct currency)
           from marts.fct_fund_flows where source_channel = 'berka'"""
    )
    assert flows == resolved == truth.usable_trans
    assert float(amount) == pytest.approx(truth.flows_in_czk, abs=0.01)
    # no CZK rate delivered: the warehouse reports in CZK, at rate 1
    assert currencies == "CZK" and amount_reported == amount
    categories = dict(berka.rows(
        """select s.k_symbol || '/' || coalesce(s.operation, '') || '/' || s.direction, any_value(f.category)
           from marts.fct_fund_flows f
           join staging.stg_berka__transactions s on f.source_record_id = s.transaction_id and s.reject_reason is null
           where f.source_channel = 'berka' and s.k_symbol is not null group by 1"""
    ))
    assert categories["UVER/PREVOD NA UCET/out"] == "loan_repayment"
    assert categories["SIPO/PREVOD NA UCET/out"] == "consumption:utilities"
    assert categories["POJISTNE/PREVOD NA UCET/out"] == "consumption:insurance"
    assert categories["SLUZBY/VYBER/out"] == "fee"
    assert categories["UROK//in"] == "interest"
    assert categories["DUCHOD/PREVOD Z UCTU/in"] == "salary"  # pension: regular income
    cash = berka.rows(
        """select distinct f.category from marts.fct_fund_flows f
           join staging.stg_berka__transactions s on f.source_record_id = s.transaction_id
           where s.k_symbol is null and s.operation in ('VYBER', 'VKLAD', 'VYBER KARTOU')"""
    )
    assert cash == [("cash",)]


def test_loans_and_defaults_in_the_credit_risk_mart(berka: BerkaWorld) -> None:
    truth = berka.truth
    loans, defaults, defaulted_customers, cards = berka.one(
        "select sum(loan_count), sum(defaulted_loan_count), count(*) filter (where has_defaulted_loan), "
        "sum(debit_card_count) from marts.mart_credit_risk"
    )
    assert loans == truth.loans - truth.unknown_status_loans
    assert defaults == truth.default_loans > 0
    assert defaulted_customers == truth.default_loans  # one loan per account, one account per owner
    assert cards == truth.cards - truth.truncated_card_lines
    # loan instalments (k_symbol UVER) count as obligations in the repayment capacity
    assert berka.one("select count(*) from marts.mart_credit_risk where loan_repayment_cny_12m > 0")[0] > 0


def test_district_and_region_dimension(berka: BerkaWorld) -> None:
    rows = berka.rows(
        "select district_id, region, unemployment_rate_95_pct, crimes_95, clients, accounts from marts.dim_berka_district"
    )
    assert len(rows) == 12
    missing = [r for r in rows if r[2] is None or r[3] is None]
    assert [r[0] for r in missing] == [12]  # the '?' figures of district 12 are NULL, the row is kept
    assert sum(r[4] for r in rows) == berka.truth.clients
    assert sum(r[5] for r in rows) == berka.truth.accounts


def test_a_missing_file_of_a_partial_delivery_is_reported(tmp_path: Path) -> None:
    landing_dir = tmp_path / "landing"
    write_berka(landing_dir / "berka", accounts=5, seed=1, truncate_cards=False)
    (landing_dir / "berka" / "loan.asc").unlink()
    _settled(landing_dir)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    loads = {load.table: load for load in load_all(con, landing_dir)}
    [missing] = loads["berka__loan"].problems
    assert missing.status == "missing"
    assert missing.error.startswith("berka/loan.asc: missing from the berka delivery")
    assert con.execute(
        "select status, error from ops.load_log where source_table = 'berka__loan'"
    ).fetchone() == ("missing", missing.error)
    # the complete files load cleanly and the demo channels (no folder) report nothing
    assert loads["berka__trans"].rows > 0 and not loads["berka__trans"].problems
    assert not loads["bank__transactions"].files


def test_reporting_currency_is_czk_only_without_a_rate_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing_dir = tmp_path / "landing"
    assert default_reporting_currency(landing_dir) == "CNY"  # nothing delivered
    write_berka(landing_dir / "berka", accounts=3, seed=2)
    assert default_reporting_currency(landing_dir) == "CZK"
    (landing_dir / "reference").mkdir()
    (landing_dir / "reference" / "fx_rates.csv").write_text("rate_date,currency,rate_to_cny\n1995-01-02,CZK,0.31\n")
    assert default_reporting_currency(landing_dir) == "CNY"  # a rate file: convert to CNY
    shutil.rmtree(landing_dir / "reference")
    # FUNDFLOW_LANDING_DIR points the settings at the folder; an explicit currency always wins
    monkeypatch.setenv("FUNDFLOW_LANDING_DIR", str(landing_dir))
    monkeypatch.delenv("FUNDFLOW_REPORTING_CURRENCY", raising=False)
    assert fundflow_settings.load_settings().reporting_currency == "CZK"
    assert fundflow_settings.load_settings().landing_dir == landing_dir.resolve()
    monkeypatch.setenv("FUNDFLOW_REPORTING_CURRENCY", "eur")
    assert fundflow_settings.load_settings().reporting_currency == "EUR"


def test_gates_skip_only_the_empty_tables_of_channels_that_delivered_nothing(tmp_path: Path) -> None:
    # A Berka-only warehouse still has the demo channels' (empty) tables: their gates must not
    # block the run, while an empty table of a channel that did deliver must still fail.
    from orchestration.defs.checks.quality_gates import _undelivered_source

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("raw", "staging", "intermediate", "ops"):
        con.execute(f"create schema {schema}")
    con.execute("create table ops.load_log (source_table varchar, path varchar, status varchar)")
    con.execute("insert into ops.load_log values ('berka__trans', 'berka/trans.asc', 'loaded'), "
                "('berka__loan', 'berka/loan.asc', 'missing')")
    for table in ("raw.bank__transactions", "staging.stg_bank__transactions", "intermediate.int_bank__flows",
                  "raw.berka__loan", "staging.stg_berka__loans", "staging.stg_berka__transactions"):
        con.execute(f"create table {table} (x integer)")
    con.execute("insert into staging.stg_berka__transactions values (1)")
    assert _undelivered_source(con, "raw.bank__transactions")
    assert _undelivered_source(con, "staging.stg_bank__transactions")
    assert _undelivered_source(con, "intermediate.int_bank__flows")
    assert not _undelivered_source(con, "raw.berka__loan")  # a missing file of a delivery still fails
    assert not _undelivered_source(con, "staging.stg_berka__loans")
    assert not _undelivered_source(con, "staging.stg_berka__transactions")
