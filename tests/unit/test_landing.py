"""Landing keeps every delivered line: a raw row with lineage, or a reject with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from warehouse.landing import LandingContractError, load_source, spec_for

BANK_HEADER = "交易流水号,账号,交易时间,借贷标志,交易金额,币种,账户余额,对方账号,对方户名,对方行名,交易渠道,摘要\n"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_bank_lines_become_raw_rows_or_rejects(tmp_path: Path) -> None:
    good = 'B1,6222000011112222333,2025-01-03 10:22:01,借,"1,234.56",CNY,"10,000.00",,张三,工商银行,网银,转账\n'
    short = "B2,6222000011112222333,2025/1/3 10:22,贷,１２.５,CNY,\n"
    _write(tmp_path / "bank" / "bank_txn_20250103.csv", (BANK_HEADER + good + short).encode("gbk") + b"B3,\xff\xfe\n")
    con = duckdb.connect()
    load = load_source(con, spec_for("bank__transactions"), tmp_path)

    assert (load.rows, load.rejected) == (1, 2)
    row = con.execute('select "交易金额", "对方户名", _source_file, _source_line from raw.bank__transactions').fetchone()
    assert row == ("1,234.56", "张三", "bank/bank_txn_20250103.csv", 2)
    rejects = con.execute("select _source_line, reason from quality.landing_rejects order by 1").fetchall()
    assert rejects == [(3, "wrong field count: expected 12, got 7"), (4, "not valid gbk")]
    logged = con.execute("select rows, rejected, length(sha256) from ops.load_log").fetchone()
    assert logged == (1, 2, 64)


def test_jsonl_values_arrive_as_text_and_bad_json_is_rejected(tmp_path: Path) -> None:
    record = {"trade_no": "T1", "user_id": "U1", "created_at": 1735871521000, "trade_type": "PAYMENT",
              "amount_fen": 1234, "currency": "CNY", "merchant": "便利店", "mcc": "5411", "status": "SUCCESS",
              "funding_source": "BALANCE", "order_ref": None, "counterparty_user_id": None}
    lines = [json.dumps(record, ensure_ascii=False), '{"trade_no": "T2", broken', json.dumps({**record, "extra": 1})]
    _write(tmp_path / "payments" / "pay_20250103.jsonl", ("\n".join(lines) + "\n").encode())
    con = duckdb.connect()
    load = load_source(con, spec_for("payments__trades"), tmp_path)

    assert (load.rows, load.rejected) == (1, 2)
    assert con.execute("select created_at, amount_fen, order_ref, _source_line from raw.payments__trades").fetchone() == (
        "1735871521000", "1234", None, 1)
    reasons = [r for (r,) in con.execute("select reason from quality.landing_rejects order by _source_line").fetchall()]
    assert reasons[0].startswith("invalid JSON") and reasons[1] == "unexpected keys: extra"


def test_a_file_with_the_wrong_header_is_refused_clearly(tmp_path: Path) -> None:
    _write(tmp_path / "crm" / "surveys.csv", b"id,score\n1,5\n")
    with pytest.raises(LandingContractError, match="does not match the crm__surveys contract"):
        load_source(duckdb.connect(), spec_for("crm__surveys"), tmp_path)


def test_reloading_replaces_instead_of_appending(tmp_path: Path) -> None:
    _write(tmp_path / "reference" / "fx_rates.csv", b"rate_date,currency,rate_to_cny\n2025-01-02,USD,7.3\n")
    con = duckdb.connect()
    spec = spec_for("reference__fx_rates")
    load_source(con, spec, tmp_path)
    load_source(con, spec, tmp_path)
    assert con.execute("select count(*) from raw.reference__fx_rates").fetchone()[0] == 1
