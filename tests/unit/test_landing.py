"""Landing keeps every delivered line: a raw row with lineage, or a reject with a reason.

A bad file never takes the other files with it: it is refused with a clear reason naming the
file, its lines quarantined, and the files beside it load normally.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb

from warehouse.landing import load_source, spec_for

BANK_HEADER = "交易流水号,账号,交易时间,借贷标志,交易金额,币种,账户余额,对方账号,对方户名,对方行名,交易渠道,摘要\n"
GOOD_BANK_LINE = 'B1,6222000011112222333,2025-01-03 10:22:01,借,"1,234.56",CNY,"10,000.00",,张三,工商银行,网银,转账\n'


def _write(path: Path, data: bytes, *, age_seconds: float = 60) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    settled = time.time() - age_seconds
    os.utime(path, (settled, settled))


def _load(con: duckdb.DuckDBPyConnection, table: str, landing: Path):
    # The tests write files "60 s ago" unless they mean a file still being written.
    return load_source(con, spec_for(table), landing, settle_seconds=5)


def _rejects(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select _source_file, _source_line, reason from quality.landing_rejects order by 1, 2").fetchall()


def _log(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute("select path, status, rows, rejected, error from ops.load_log").fetchall()
    return {path: (status, n, rejected, error) for path, status, n, rejected, error in rows}


def test_bank_lines_become_raw_rows_or_rejects(tmp_path: Path) -> None:
    short = "B2,6222000011112222333,2025/1/3 10:22,贷,１２.５,CNY,\n"
    _write(tmp_path / "bank" / "bank_txn_20250103.csv", (BANK_HEADER + GOOD_BANK_LINE + short).encode("gbk") + b"B3,\xff\xfe\n")
    con = duckdb.connect()
    load = _load(con, "bank__transactions", tmp_path)

    assert (load.rows, load.rejected) == (1, 2)
    row = con.execute('select "交易金额", "对方户名", _source_file, _source_line from raw.bank__transactions').fetchone()
    assert row == ("1,234.56", "张三", "bank/bank_txn_20250103.csv", 2)
    assert [(line, reason) for _, line, reason in _rejects(con)] == [
        (3, "wrong field count: expected 12, got 7"), (4, "not valid gbk")]
    assert con.execute("select rows, rejected, length(sha256), status from ops.load_log").fetchone() == (1, 2, 64, "loaded")


def test_jsonl_values_arrive_as_text_and_bad_json_is_rejected(tmp_path: Path) -> None:
    record = {"trade_no": "T1", "user_id": "U1", "created_at": 1735871521000, "trade_type": "PAYMENT",
              "amount_fen": 1234, "currency": "CNY", "merchant": "便利店", "mcc": "5411", "status": "SUCCESS",
              "funding_source": "BALANCE", "order_ref": None, "counterparty_user_id": None}
    lines = [json.dumps(record, ensure_ascii=False), '{"trade_no": "T2", broken', json.dumps({**record, "extra": 1})]
    _write(tmp_path / "payments" / "pay_20250103.jsonl", ("\n".join(lines) + "\n").encode())
    con = duckdb.connect()
    load = _load(con, "payments__trades", tmp_path)

    assert (load.rows, load.rejected) == (1, 2)
    assert con.execute("select created_at, amount_fen, order_ref, _source_line from raw.payments__trades").fetchone() == (
        "1735871521000", "1234", None, 1)
    reasons = [reason for _, _, reason in _rejects(con)]
    assert reasons[0].startswith("invalid JSON") and reasons[1] == "unexpected keys: extra"


def test_reloading_replaces_instead_of_appending(tmp_path: Path) -> None:
    _write(tmp_path / "reference" / "fx_rates.csv", b"rate_date,currency,rate_to_cny\n2025-01-02,USD,7.3\n")
    con = duckdb.connect()
    _load(con, "reference__fx_rates", tmp_path)
    _load(con, "reference__fx_rates", tmp_path)
    assert con.execute("select count(*) from raw.reference__fx_rates").fetchone()[0] == 1


def test_bad_files_are_refused_clearly_and_never_take_the_good_files_with_them(tmp_path: Path) -> None:
    # Every bad kind is a bank day file, beside a good day and lines that are fine.
    bank = tmp_path / "bank"
    _write(bank / "bank_txn_20250101.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"))
    _write(bank / "bank_txn_20250102.csv", b"")  # empty file
    _write(bank / "bank_txn_20250103.csv", BANK_HEADER.encode("gbk"))  # header only: fine, no rows
    _write(bank / "bank_txn_20250104.csv", ("交易流水号,账号,交易时间\n" + "B9,1,2\n").encode("gbk"))  # missing columns
    _write(bank / "bank_txn_20250105.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("utf-8"))  # wrong encoding
    _write(bank / "bank_txn_20250106.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("gbk") + GOOD_BANK_LINE.encode("gbk")[:30])  # truncated last line
    _write(bank / "bank_txn_20250107.csv", (BANK_HEADER + 'B7,"6222,2025-01-07 09:00:00,借,1.00,CNY,1.00,,a,b,c,d\n' + GOOD_BANK_LINE.replace("B1", "B8")).encode("gbk"))  # stray quote
    _write(bank / "bank_txn_20250108.csv", BANK_HEADER.encode("gbk") + bytes(range(256)) * 4 + b"\n" + GOOD_BANK_LINE.replace("B1", "B10").encode("gbk"))  # binary garbage
    _write(bank / "bank_txn_20250109.csv", (BANK_HEADER + "X" * 10_000_000 + "\n").encode("gbk"))  # a 10 MB line
    _write(bank / "bank_txn_20250110.csv", (BANK_HEADER + GOOD_BANK_LINE.replace("B1", "B11")).encode("gbk"), age_seconds=0)  # still being written

    con = duckdb.connect()
    load = _load(con, "bank__transactions", tmp_path)
    log = _log(con)

    loaded_ids = {r[0] for r in con.execute('select "交易流水号" from raw.bank__transactions').fetchall()}
    assert loaded_ids == {"B1", "B8", "B10"}  # the good lines of every file that could be read
    assert log["bank/bank_txn_20250101.csv"][:3] == ("loaded", 1, 0)
    status, _, _, error = log["bank/bank_txn_20250102.csv"]
    assert status == "rejected" and "bank_txn_20250102.csv: empty file" in error
    assert log["bank/bank_txn_20250103.csv"][:3] == ("loaded", 0, 0)
    status, _, rejected, error = log["bank/bank_txn_20250104.csv"]
    assert status == "rejected" and rejected == 1 and "missing columns" in error and "账户余额" in error
    status, _, rejected, error = log["bank/bank_txn_20250105.csv"]
    assert status == "rejected" and rejected == 1 and "encoded as utf-8" in error and "says gbk" in error
    assert log["bank/bank_txn_20250106.csv"][:3] == ("loaded", 1, 1)
    assert log["bank/bank_txn_20250107.csv"][:3] == ("loaded", 1, 1)
    assert log["bank/bank_txn_20250108.csv"][:3] == ("loaded", 1, 5)  # the garbage holds 4 newlines
    assert log["bank/bank_txn_20250109.csv"][:3] == ("loaded", 0, 1)
    status, _, _, error = log["bank/bank_txn_20250110.csv"]
    assert status == "deferred" and "may still be being written" in error
    assert {f.path for f in load.problems} == {
        "bank/bank_txn_20250102.csv", "bank/bank_txn_20250104.csv", "bank/bank_txn_20250105.csv",
        "bank/bank_txn_20250110.csv"}

    reasons = {(path, line): reason for path, line, reason in _rejects(con)}
    assert reasons[("bank/bank_txn_20250104.csv", 2)].startswith("file refused: bank/bank_txn_20250104.csv")
    assert reasons[("bank/bank_txn_20250106.csv", 3)] == "wrong field count: expected 12, got 3"
    assert reasons[("bank/bank_txn_20250107.csv", 2)].startswith("wrong field count")
    assert reasons[("bank/bank_txn_20250108.csv", 2)] in {"not valid gbk", "binary data (NUL bytes) in line"}
    assert reasons[("bank/bank_txn_20250109.csv", 2)].startswith("unreadable CSV line: field larger than")
    clipped = con.execute(
        "select length(raw_record) from quality.landing_rejects where _source_file = 'bank/bank_txn_20250109.csv'"
    ).fetchone()[0]
    assert clipped < 70_000  # the 10 MB line is kept findable, not copied whole

    # Nothing lost: for every file that was read, delivered data lines = raw rows + rejects.
    for path, (status, rows, rejected, _) in log.items():
        if status == "deferred":
            continue
        text = (tmp_path / path).read_bytes().split(b"\n")
        data_lines = [line for line in text[1:] if line.strip()]
        assert rows + rejected == len(data_lines), path


def test_a_header_with_columns_in_another_order_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "crm" / "surveys.csv", b"customer_id,survey_id,survey_date,csat,nps,channel\nC1,S1,2025-01-01,5,9,app\n")
    con = duckdb.connect()
    load = _load(con, "crm__surveys", tmp_path)
    assert load.rows == 0 and "columns in the wrong order" in load.problems[0].error


def test_a_load_log_from_an_older_warehouse_gains_the_new_column(tmp_path: Path) -> None:
    _write(tmp_path / "reference" / "fx_rates.csv", b"rate_date,currency,rate_to_cny\n2025-01-02,USD,7.3\n")
    con = duckdb.connect()
    con.execute("create schema ops")
    con.execute(
        "create table ops.load_log (source_table varchar, path varchar, size_bytes bigint, sha256 varchar, "
        "rows bigint, rejected bigint, status varchar, loaded_at timestamptz)"
    )
    _load(con, "reference__fx_rates", tmp_path)
    assert con.execute("select rows, status, error from ops.load_log").fetchone() == (1, "loaded", None)


def _raw_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        'select "交易流水号", _source_file, _source_line, _loaded_at from raw.bank__transactions order by 1'
    ).fetchall()


def test_an_incremental_load_skips_content_it_has_seen_and_adds_only_the_new_day(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    _write(bank / "bank_txn_20250101.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"))
    con = duckdb.connect()
    first = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert [f.status for f in first.files] == ["loaded"]
    before = _raw_rows(con)
    log_rows = con.execute("select count(*) from ops.load_log").fetchone()[0]

    again = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert [f.status for f in again.files] == ["unchanged"] and again.changed == []
    assert _raw_rows(con) == before  # not even _loaded_at moved: the content was not loaded twice
    assert con.execute("select count(*) from ops.load_log").fetchone()[0] == log_rows

    _write(bank / "bank_txn_20250102.csv", (BANK_HEADER + GOOD_BANK_LINE.replace("B1", "B2")).encode("gbk"))
    next_day = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert [(f.path, f.status) for f in next_day.files] == [
        ("bank/bank_txn_20250101.csv", "unchanged"), ("bank/bank_txn_20250102.csv", "loaded")]
    rows = _raw_rows(con)
    assert [r[0] for r in rows] == ["B1", "B2"]
    assert rows[0] == before[0]  # day one's row was left alone


def test_a_changed_file_replaces_its_own_rows_and_rejects_only(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    _write(bank / "bank_txn_20250101.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"))
    _write(bank / "bank_txn_20250102.csv", (BANK_HEADER + GOOD_BANK_LINE.replace("B1", "B2") + "broken\n").encode("gbk"))
    con = duckdb.connect()
    load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert len(_rejects(con)) == 1

    # Day two is delivered again, corrected and with one more line.
    corrected = BANK_HEADER + GOOD_BANK_LINE.replace("B1", "B2") + GOOD_BANK_LINE.replace("B1", "B3")
    _write(bank / "bank_txn_20250102.csv", corrected.encode("gbk"))
    load = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)

    assert [f.status for f in load.files] == ["unchanged", "loaded"]
    assert [(r[0], r[1], r[2]) for r in _raw_rows(con)] == [
        ("B1", "bank/bank_txn_20250101.csv", 2), ("B2", "bank/bank_txn_20250102.csv", 2),
        ("B3", "bank/bank_txn_20250102.csv", 3)]
    assert _rejects(con) == []  # the old file's reject went with its rows
    hashes = con.execute(
        "select count(distinct sha256) from ops.load_log where path = 'bank/bank_txn_20250102.csv'").fetchone()[0]
    assert hashes == 2  # both contents are on record


def test_a_full_load_after_incremental_ones_gives_the_same_rows(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    _write(bank / "bank_txn_20250101.csv", (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"))
    con = duckdb.connect()
    load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    _write(bank / "bank_txn_20250102.csv", (BANK_HEADER + GOOD_BANK_LINE.replace("B1", "B2") + "x\n").encode("gbk"))
    load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    incremental = [r[:3] for r in _raw_rows(con)], _rejects(con)
    load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=True)
    assert ([r[:3] for r in _raw_rows(con)], _rejects(con)) == incremental


def test_a_file_still_being_written_is_taken_in_once_it_settles(tmp_path: Path) -> None:
    path = tmp_path / "bank" / "bank_txn_20250101.csv"
    _write(path, (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"), age_seconds=0)
    con = duckdb.connect()
    load = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert [f.status for f in load.files] == ["deferred"] and _raw_rows(con) == []
    _write(path, (BANK_HEADER + GOOD_BANK_LINE).encode("gbk"))  # now complete and settled
    load = load_source(con, spec_for("bank__transactions"), tmp_path, settle_seconds=5, full=False)
    assert [f.status for f in load.files] == ["loaded"] and len(_raw_rows(con)) == 1
