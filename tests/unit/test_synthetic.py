"""The demo-data generator: determinism, landing formats, planted dirt and truth, echoes."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from warehouse.landing.specs import DEMO_SOURCES
from warehouse.synthetic import DirtRates, GenerationSummary, generate
from warehouse.synthetic.identity import id_check_char, luhn_valid

START = dt.date(2024, 11, 1)
RECORD_ID = {
    "bank__transactions": lambda r: r["交易流水号"],
    "payments__trades": lambda r: r["trade_no"],
    "ecommerce__order_lines": lambda r: f"{r['order_id']}-{r['line_no']}",
    "cards__transactions": lambda r: r["txn_id"],
}
MONEY_TABLES = tuple(RECORD_ID)


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path, GenerationSummary]:
    """13 months (Spring Festival, 618 and two Double 11s) for 600 customers, default dirt."""
    root = tmp_path_factory.mktemp("demo")
    summary = generate(root / "landing", root / "truth", customers=600, seed=7, start=START, months=13)
    return root / "landing", root / "truth", summary


@pytest.fixture(scope="module")
def landing(demo) -> Path:
    return demo[0]


@pytest.fixture(scope="module")
def truth(demo) -> Path:
    return demo[1]


@pytest.fixture(scope="module")
def flows(truth):
    return pq.read_table(truth / "flows.parquet").to_pandas()


@pytest.fixture(scope="module")
def dirt(truth):
    return pq.read_table(truth / "dirt.parquet").to_pandas()


@pytest.fixture(scope="module")
def manifest(truth) -> dict:
    return json.loads((truth / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed(landing, dirt) -> dict[str, list[dict]]:
    """Every well-formed delivered row per table, with its file and line."""
    malformed = {(f, int(n)) for f, n in zip(dirt.loc[dirt.dirt_type == "malformed", "source_file"],
                                             dirt.loc[dirt.dirt_type == "malformed", "source_line"])}
    out: dict[str, list[dict]] = {}
    for spec in DEMO_SOURCES:
        rows = []
        for path in sorted((landing / spec.channel).glob(spec.pattern)):
            rel = f"{spec.channel}/{path.name}"
            for line_no, row in _rows(path, spec):
                if (rel, line_no) in malformed:
                    continue
                row["_file"], row["_line"] = rel, line_no
                rows.append(row)
        out[spec.table] = rows
    return out


def _rows(path: Path, spec):
    text = path.read_bytes().decode(spec.encoding)
    if spec.file_format == "jsonl":
        for i, line in enumerate(text.split("\n")[:-1], start=1):
            try:
                yield i, json.loads(line)
            except json.JSONDecodeError:
                yield i, None
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        assert tuple(header) == spec.columns, f"{path.name}: header {header}"
        for i, values in enumerate(reader, start=2):
            yield i, dict(zip(spec.columns, values)) if len(values) == len(spec.columns) else None


def _hashes(*dirs: Path) -> dict[str, str]:
    out = {}
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                out[f"{d.name}/{p.relative_to(d)}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# --- determinism and scale -----------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    runs = {}
    calls = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / name / "landing", tmp_path / name / "truth", customers=150, seed=seed, months=3,
                 progress=lambda stage, done, total: calls.append((stage, done, total)))
        runs[name] = _hashes(tmp_path / name / "landing", tmp_path / name / "truth")
    assert ("months", 3, 3) in calls and ("months", 1, 3) in calls
    assert len(runs["a"]) > 200  # daily bank and payment files, monthly files, truth
    assert runs["a"] == runs["b"]
    differing = [f for f in runs["a"] if runs["a"][f] != runs["c"].get(f)]
    assert len(differing) > 0.9 * len(runs["a"])


def test_more_customers_means_proportionally_more_records(tmp_path):
    small = generate(tmp_path / "s" / "l", tmp_path / "s" / "t", customers=300, seed=11, months=6)
    large = generate(tmp_path / "l" / "l", tmp_path / "l" / "t", customers=600, seed=11, months=6)
    assert 1.75 < large.records / small.records < 2.25
    for table in MONEY_TABLES:
        assert 1.6 < large.rows[table] / small.rows[table] < 2.4, table


def test_volume_is_about_a_hundred_movements_per_customer_over_two_years(demo):
    _, _, summary = demo
    per_customer_month = summary.records / 600 / 13
    assert 3.0 < per_customer_month < 5.5  # ~100 per customer over 24 months


def test_generation_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path / "l", tmp_path / "t", customers=0)
    with pytest.raises(ValueError):
        generate(tmp_path / "l", tmp_path / "t", customers=10, start=dt.date(2024, 11, 2))
    with pytest.raises(ValueError):
        generate(tmp_path / "x", tmp_path / "x", customers=10)


# --- landing formats -----------------------------------------------------------------------------

def test_expected_files_exist(landing):
    names = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    assert "bank/bank_txn_20241101.csv" in names and "bank/bank_txn_20251130.csv" in names
    assert sum(n.startswith("bank/bank_txn_") for n in names) == 395  # one per day, 13 months
    assert sum(n.startswith("payments/pay_") for n in names) == 395
    assert sum(n.startswith("ecommerce/orders_") for n in names) == 13
    for fixed in ("payments/users.csv", "cards/card_accounts.csv", "crm/customers.csv", "crm/accounts.csv",
                  "crm/surveys.csv", "crm/marketing_spend.csv", "reference/fx_rates.csv"):
        assert fixed in names
    assert {"cards/statements_202411.csv", "cards/card_txn_202511.csv"} <= names


def test_every_file_parses_with_its_spec(landing, dirt):
    malformed = Counter(dirt.loc[dirt.dirt_type == "malformed", "source_file"])
    for spec in DEMO_SOURCES:
        paths = sorted((landing / spec.channel).glob(spec.pattern))
        assert paths, spec.table
        for path in paths:
            raw = path.read_bytes()
            assert b"\r" not in raw
            rel = f"{spec.channel}/{path.name}"
            bad = 0
            for _, row in _rows(path, spec):
                if row is None:
                    bad += 1
                elif spec.file_format == "jsonl":
                    assert tuple(row) == spec.columns, rel
            assert bad == malformed.get(rel, 0), rel


def test_csv_files_round_trip_through_pythons_csv_writer(landing):
    """Minimal quoting and \n line ends, exactly as csv.writer / pandas would write them."""
    for spec in DEMO_SOURCES:
        if spec.file_format != "csv":
            continue
        for path in sorted((landing / spec.channel).glob(spec.pattern))[:40]:
            text = path.read_bytes().decode(spec.encoding)
            rows = list(csv.reader(io.StringIO(text, newline="")))
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            assert out.getvalue() == text, path.name


def test_bank_files_are_gbk_with_chinese_headers(landing):
    raw = (landing / "bank" / "bank_txn_20250103.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("交易流水号,账号,交易时间,借贷标志,交易金额,币种,账户余额,对方账号,对方户名,对方行名,交易渠道,摘要\n")


def test_bank_amounts_have_thousands_separators(parsed):
    rows = parsed["bank__transactions"]
    big = [r["账户余额"] for r in rows if len(r["账户余额"].split(".")[0].replace(",", "")) > 3]
    assert big and all("," in v for v in big)
    assert {r["借贷标志"] for r in rows} == {"借", "贷"}
    assert {r["交易渠道"] for r in rows} - {""} <= {"柜面", "网银", "手机银行", "ATM", "POS", "第三方支付"}


def test_payment_lines_use_json_null_and_integers(parsed):
    rows = parsed["payments__trades"]
    assert all(isinstance(r["amount_fen"], int) for r in rows)
    transfers = [r for r in rows if r["trade_type"] == "TRANSFER_IN"]
    assert transfers and all(r["order_ref"] is None and r["merchant"] is None for r in transfers)
    assert {r["trade_type"] for r in rows} == {
        "PAYMENT", "REFUND", "TRANSFER_IN", "TRANSFER_OUT", "TOPUP", "WITHDRAW", "RED_PACKET"}


def test_fx_rates_cover_business_days_only(landing):
    rows = list(csv.DictReader((landing / "reference" / "fx_rates.csv").open(encoding="utf-8")))
    days = {dt.date.fromisoformat(r["rate_date"]) for r in rows}
    assert all(d.weekday() < 5 for d in days)
    assert {r["currency"] for r in rows} == {"USD", "HKD", "EUR", "JPY", "GBP"}
    usd = [float(r["rate_to_cny"]) for r in rows if r["currency"] == "USD"]
    assert 6.5 < min(usd) and max(usd) < 7.8
    assert min(days) <= START


# --- manifest and dirt ---------------------------------------------------------------------------

def test_manifest_counts_equal_the_rows_in_the_files(landing, manifest):
    assert manifest["config"]["seed"] == 7 and manifest["config"]["customers"] == 600
    files = manifest["files"]
    on_disk = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    assert set(files) == on_disk
    for rel, info in files.items():
        text = (landing / rel).read_bytes()
        lines = text.count(b"\n") - (1 if rel.endswith(".csv") else 0)
        assert lines == info["rows"], rel
    for table, t in manifest["tables"].items():
        assert t["rows"] == sum(f["rows"] for f in files.values() if f["table"] == table)
        assert t["rows"] == t["unique_records"] + t["duplicates"]


def test_delivered_rows_are_unique_records_plus_duplicates(parsed, manifest, flows, dirt):
    for table in MONEY_TABLES:
        t = manifest["tables"][table]
        ids = Counter(RECORD_ID[table](r) for r in parsed[table])
        malformed_ids = set(dirt.loc[(dirt.source_table == table) & (dirt.dirt_type == "malformed"),
                                     "source_record_id"])
        truth_ids = set(flows.loc[flows.source_table == table, "source_record_id"])
        assert t["unique_records"] == len(truth_ids) == t["true_flows"]
        assert set(ids) | malformed_ids == truth_ids
        assert sum(ids.values()) - len(ids) == t["duplicates"]
        assert t["duplicates"] == (dirt[(dirt.source_table == table) & (dirt.dirt_type == "duplicate")]).shape[0]


def test_dirt_truth_points_at_the_right_lines(dirt, parsed):
    by_pos = {(r["_file"], r["_line"]): r for rows in parsed.values() for r in rows}
    broken = set(zip(dirt.loc[dirt.dirt_type == "malformed", "source_file"],
                     dirt.loc[dirt.dirt_type == "malformed", "source_line"]))
    checked = Counter()
    for row in dirt.itertuples():
        kind = row.dirt_type
        if (row.source_file, row.source_line) in broken:
            assert kind == "malformed" or kind.startswith("date_format:")  # planted before the line broke
            continue
        got = by_pos[(row.source_file, row.source_line)]
        assert RECORD_ID[row.source_table](got) == row.source_record_id
        if kind.startswith("missing:"):
            column = kind.split(":", 1)[1]
            assert got[column] in ("", None), row
        elif kind == "duplicate":
            orig_file, orig_line = row.detail.removeprefix("copy of ").rsplit(":", 1)
            original = by_pos[(orig_file, int(orig_line))]
            assert {k: v for k, v in original.items() if not k.startswith("_")} == \
                   {k: v for k, v in got.items() if not k.startswith("_")}
        elif kind == "full_width":
            column = row.detail.split("=", 1)[0]
            assert any("０" <= ch <= "９" for ch in str(got[column]))
        elif kind == "currency_alias":
            assert got[row.detail.split("=")[0]] in ("RMB", "人民币", "rmb")
        elif kind == "unknown_currency":
            assert got[row.detail.split("=")[0]] in ("XXX", "US$", "CNH", "RMB￥")
        checked[kind.split(":")[0]] += 1
    assert {"missing", "duplicate", "outlier", "full_width", "date_format", "currency_alias"} <= set(checked)


def test_mixed_date_formats_are_planted(parsed, dirt):
    bank_times = {r["交易时间"] for r in parsed["bank__transactions"]}
    assert any("/" in t for t in bank_times) and any("年" in t for t in bank_times)
    assert any(len(t) == 14 and t.isdigit() for t in bank_times)
    created = [r["created_at"] for r in parsed["payments__trades"]]
    assert any(isinstance(v, int) for v in created)
    assert any(isinstance(v, str) and v.endswith("Z") for v in created)
    assert sum(isinstance(v, str) and v.endswith("+08:00") for v in created) > 0.85 * len(created)
    kinds = set(dirt.dirt_type)
    assert {"date_format:slash", "date_format:compact", "date_format:chinese", "date_format:utc_z",
            "date_format:epoch_ms", "date_format:no_offset"} <= kinds


def _rate(dirt, manifest, kind: str, tables=MONEY_TABLES) -> float:
    planted = dirt[dirt.source_table.isin(tables) & dirt.dirt_type.str.startswith(kind)].shape[0]
    rows = sum(manifest["tables"][t]["unique_records"] for t in tables)
    return planted / rows


def test_planted_rates_are_close_to_the_defaults(dirt, manifest):
    d = DirtRates()
    assert _rate(dirt, manifest, "duplicate") == pytest.approx(d.duplicate, rel=0.3)
    assert _rate(dirt, manifest, "missing") == pytest.approx(d.missing, rel=0.25)
    assert _rate(dirt, manifest, "full_width", ("bank__transactions", "ecommerce__order_lines")) == \
        pytest.approx(d.full_width, rel=0.35)
    assert _rate(dirt, manifest, "date_format", ("bank__transactions", "payments__trades")) == \
        pytest.approx(d.date_format, rel=0.1)
    assert 0 < _rate(dirt, manifest, "outlier") < 4 * d.outlier
    assert 0 < _rate(dirt, manifest, "malformed") < 4 * d.malformed


def test_rate_overrides_change_what_is_planted(tmp_path):
    rates = DirtRates.from_overrides({"duplicate": 0.05, "missing": 0.0, "malformed": 0.02})
    generate(tmp_path / "l", tmp_path / "t", customers=300, seed=5, months=3, dirt=rates)
    dirt = pq.read_table(tmp_path / "t" / "dirt.parquet").to_pandas()
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert manifest["config"]["dirt"]["duplicate"] == 0.05
    assert _rate(dirt, manifest, "duplicate") == pytest.approx(0.05, rel=0.2)
    assert _rate(dirt, manifest, "malformed") == pytest.approx(0.02, rel=0.3)
    assert _rate(dirt, manifest, "missing") == 0

    clean = tmp_path / "clean"
    summary = generate(clean / "l", clean / "t", customers=100, seed=5, months=2, dirt=DirtRates.clean())
    assert pq.read_table(clean / "t" / "dirt.parquet").num_rows == 0
    assert sum(summary.duplicates.values()) == 0 and sum(summary.malformed.values()) == 0


def test_dirt_rates_validate_their_input():
    with pytest.raises(ValueError, match="unknown dirt kinds"):
        DirtRates.from_overrides({"dupes": 0.1})
    with pytest.raises(ValueError):
        DirtRates(missing=1.5)
    with pytest.raises(ValueError):
        DirtRates(missing=0.6, outlier=0.6)
    assert DirtRates.from_overrides({"outlier": 0.01}).outlier == 0.01
    assert DirtRates().duplicate == 0.005


# --- identities ----------------------------------------------------------------------------------

def test_id_numbers_phones_emails_and_card_numbers_are_valid(parsed):
    customers = parsed["crm__customers"]
    assert len(customers) == 600
    for r in customers:
        idn = r["id_number"]
        assert len(idn) == 18 and idn[:17].isdigit()
        assert id_check_char(idn[:17]) == idn[17]
        assert idn[6:14] == r["birth_date"].replace("-", "")
        assert r["gender"] == ("男" if int(idn[16]) % 2 else "女")
        assert len(r["phone"]) == 11 and r["phone"][0] == "1" and r["phone"][1] in "3456789"
        assert "@" in r["email"]
    assert len({r["phone"] for r in customers}) == 600 and len({r["email"] for r in customers}) == 600
    known = {r["phone"] for r in customers} | {r["email"] for r in customers}
    refs = [r["customer_ref"] for r in parsed["ecommerce__order_lines"]]
    wide = str.maketrans("０１２３４５６７８９", "0123456789")
    assert all(ref.translate(wide) in known for ref in refs)
    assert any("@" in ref for ref in refs) and any(ref.isdigit() for ref in refs)
    for r in parsed["cards__accounts"]:
        assert len(r["pan"]) == 16 and luhn_valid(r["pan"])
    for r in parsed["crm__accounts"]:
        assert len(r["account_no"]) == 19 and r["account_no"].isdigit()
    assert {r["currency"] for r in parsed["crm__accounts"]} >= {"CNY", "USD", "HKD"}
    assert id_check_char("11010519491231002") == "X"  # GB 11643 worked example


def test_check_digit_helpers_reject_bad_numbers():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert id_check_char("44052418800101001") == "4"


# --- truth and behaviour -------------------------------------------------------------------------

def test_truth_customers_match_crm(truth, parsed):
    c = pq.read_table(truth / "customers.parquet").to_pandas()
    assert list(c.columns) == ["customer_id", "persona", "is_churner", "churn_date", "is_key_account",
                               "platform_user_id", "phone", "email", "account_nos", "pans"]
    crm = {r["customer_id"]: r for r in parsed["crm__customers"]}
    assert set(c.customer_id) == set(crm)
    shares = c.persona.value_counts(normalize=True)
    assert shares["salaried"] == pytest.approx(0.40, abs=0.06)
    assert shares["dormant"] == pytest.approx(0.10, abs=0.04)
    assert (c.is_churner == c.churn_date.notna()).all()
    assert 0.6 < c.platform_user_id.notna().mean() < 0.8
    users = {r["user_id"]: r["phone"] for r in parsed["payments__users"]}
    for row in c.itertuples():
        assert row.phone == crm[row.customer_id]["phone"]
        if isinstance(row.platform_user_id, str):
            assert users[row.platform_user_id] == row.phone
    owners = {r["account_no"]: r["customer_id"] for r in parsed["crm__accounts"]}
    assert all(owners[a] == row.customer_id for row in c.itertuples() for a in row.account_nos)


def test_every_topup_and_withdrawal_has_its_bank_leg(flows, parsed):
    bank = {r["交易流水号"]: r for r in parsed["bank__transactions"]}
    by_id = flows.set_index("source_record_id")
    trades = [r for r in parsed["payments__trades"] if r["trade_type"] in ("TOPUP", "WITHDRAW")]
    assert len(trades) > 50
    seen = 0
    for t in trades:
        truth_trade = by_id.loc[t["trade_no"]]
        leg_id = truth_trade["matched_record_id"]
        leg = by_id.loc[leg_id]
        assert leg["source_table"] == "bank__transactions"
        assert leg["amount"] == truth_trade["amount"]
        assert leg["is_internal_transfer"] and truth_trade["is_internal_transfer"]
        gap = (leg["flow_ts"] - truth_trade["flow_ts"]).total_seconds()
        if t["trade_type"] == "TOPUP":
            assert leg["direction"] == "out" and -180 <= gap <= 0
        else:
            assert leg["direction"] == "in" and 0 <= gap <= 3 * 86400
        if leg_id in bank:  # the bank line itself (unless that line was malformed)
            line = bank[leg_id]
            assert line["对方户名"] in ("快付通支付", "")
            assert line["借贷标志"] == ("借" if t["trade_type"] == "TOPUP" else "贷")
            seen += 1
    assert seen > 0.95 * len(trades)


def test_platform_orders_are_echoed_by_payments_with_the_order_total(flows, parsed):
    lines = flows[flows.source_table == "ecommerce__order_lines"]
    true_total = lines.amount.groupby(lines.source_record_id.str.rsplit("-", n=1).str[0]).sum()
    order_status = {r["order_id"]: r["status"] for r in parsed["ecommerce__order_lines"]}
    platform = {r["order_id"] for r in parsed["ecommerce__order_lines"] if r["pay_method"] == "PLATFORM"}
    trades = flows[flows.source_table == "payments__trades"].set_index("source_record_id")
    echoed = set(trades.matched_record_id.dropna())
    assert len(platform) > 50
    assert all(f"{o}-1" in echoed for o in platform)
    payments = [r for r in parsed["payments__trades"] if r["trade_type"] == "PAYMENT" and r["order_ref"]]
    for p in payments:
        order = p["order_ref"]
        assert order in platform or order not in order_status
        assert trades.loc[p["trade_no"], "amount"] == pytest.approx(true_total[order])
        assert trades.loc[p["trade_no"], "matched_record_id"] == f"{order}-1"
        if order in order_status:
            assert (p["status"] == "CLOSED") == (order_status[order] == "CANCELLED")
    refunds = [r for r in parsed["payments__trades"] if r["trade_type"] == "REFUND" and r["order_ref"]]
    assert refunds and all(order_status.get(r["order_ref"], "RETURNED") == "RETURNED" for r in refunds)


def test_card_repayments_appear_as_bank_outflows(flows, parsed):
    by_id = flows.set_index("source_record_id")
    paid = [r for r in parsed["cards__statements"] if r["paid_date"]]
    assert len(paid) > 100
    for r in paid:
        sid = f"{r['pan']}-{r['statement_date'].replace('-', '')}"
        leg = by_id.loc[by_id.loc[sid, "matched_record_id"]]
        assert leg["source_table"] == "bank__transactions" and leg["direction"] == "out"
        assert leg["category"] == "card_repayment"
        assert f"{leg['amount']:.2f}" == r["paid_amount"]
        assert str(leg["flow_ts"].date()) == r["paid_date"]
        assert float(r["minimum_due"]) == pytest.approx(round(0.1 * float(r["statement_balance"]), 2), abs=0.011)


def test_statement_balances_carry_over_with_what_posted_and_what_was_paid(landing, parsed, flows):
    """balance = previous balance - paid + what posted in the cycle (cards with CNY spending only)."""
    txns = flows[flows.source_table == "cards__transactions"].set_index("source_record_id")
    posted = defaultdict(dict)
    foreign = set()
    for path in sorted((landing / "cards").glob("card_txn_*.csv")):
        reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
        next(reader)
        for values in reader:  # even broken lines keep txn_id, pan and post_date up front
            t = txns.loc[values[0]]
            foreign |= {values[1]} if t["currency"] != "CNY" else set()
            posted[values[1]][values[0]] = (values[3], t["amount"] if t["direction"] == "out" else -t["amount"])
    by_card = defaultdict(list)
    for r in parsed["cards__statements"]:
        by_card[r["pan"]].append(r)
    checked, wrong = 0, []
    for pan, stmts in by_card.items():
        if pan in foreign:
            continue
        stmts.sort(key=lambda r: r["statement_date"])
        for prev, cur in zip(stmts, stmts[1:]):
            cycle = sum(a for d, a in posted[pan].values() if prev["statement_date"] < d <= cur["statement_date"])
            expected = float(prev["statement_balance"]) - float(prev["paid_amount"] or 0) + cycle
            if abs(expected - float(cur["statement_balance"])) > 0.011:
                wrong.append((pan, cur["statement_date"], expected, cur["statement_balance"]))
            checked += 1
    assert checked > 500 and not wrong


def test_bank_balances_follow_the_true_amounts_and_stay_positive(landing, flows):
    bank = flows[flows.source_table == "bank__transactions"]
    signed_amount = dict(zip(bank.source_record_id, bank.amount.where(bank.direction == "in", -bank.amount)))
    seen = set()
    last: dict[str, float] = {}
    checked = 0
    for path in sorted((landing / "bank").glob("bank_txn_*.csv")):  # days in order, lines in order
        reader = csv.reader(io.StringIO(path.read_bytes().decode("gbk"), newline=""))
        next(reader)
        for values in reader:  # malformed lines still carry id, account and balance up front
            rid, acct, balance = values[0], values[1], float(values[6].replace(",", ""))
            if rid in seen:
                continue  # a re-exported duplicate
            seen.add(rid)
            assert balance >= 0
            if acct in last:
                assert abs(balance - (last[acct] + signed_amount[rid])) < 0.005, rid
                checked += 1
            last[acct] = balance
    assert checked > 5000 and len(seen) == len(signed_amount)


def test_anomalies_are_planted_at_about_two_per_thousand(flows):
    share = flows.is_anomaly.mean()
    assert 0.0006 < share < 0.004  # 0.2% expected; a small book plants only a dozen patterns
    assert set(flows.anomaly_type.dropna()) == {"rapid_pass_through", "structuring", "late_night_large", "spike"}
    structuring = flows[(flows.anomaly_type == "structuring") & (flows.direction == "in")]
    assert ((structuring.amount >= 45_000) & (structuring.amount < 50_000)).all()
    late = flows[flows.anomaly_type == "late_night_large"]
    assert late.flow_ts.dt.hour.between(0, 4).all() and (late.amount >= 10_000).all()


def test_churners_go_quiet_after_their_churn_date(flows, truth):
    c = pq.read_table(truth / "customers.parquet").to_pandas()
    churn = c.loc[c.is_churner].set_index("customer_id").churn_date
    f = flows[flows.customer_id.isin(churn.index)]
    after = f[f.flow_ts.dt.date > f.customer_id.map(churn)]
    assert len(churn) > 20
    assert set(after.category) <= {"interest"}


def test_seasonality_double_11_and_spring_festival(flows):
    orders = flows[(flows.source_table == "ecommerce__order_lines")]
    nov = orders[(orders.flow_ts.dt.month == 11) & (orders.flow_ts.dt.year == 2024)]
    per_day = nov.groupby(nov.flow_ts.dt.day).size()
    assert per_day[11] > 3 * per_day.drop(11).mean()
    red = flows[(flows.source_table == "payments__trades") & (flows.direction == "in")]
    red_days = red.groupby(red.flow_ts.dt.date).size()
    assert red_days.get(dt.date(2025, 1, 28), 0) > 3 * red_days.median()  # New Year's Eve 2025


def test_personas_differ_in_income_and_channel_mix(flows, truth):
    c = pq.read_table(truth / "customers.parquet").to_pandas().set_index("customer_id")
    f = flows.join(c.persona, on="customer_id")
    salary = f[f.category == "salary"].groupby("persona").amount.median()
    assert salary["affluent"] > 2.5 * salary["salaried"]
    assert salary["retiree"] < salary["salaried"]
    platform_share = (f.source_table == "payments__trades").groupby(f.persona).mean()
    assert platform_share["student"] > 2 * platform_share["retiree"]
    big = f[f.source_table == "bank__transactions"].groupby("persona").amount.sum() / c.persona.value_counts()
    assert big["business_owner"] > 5 * big["salaried"]


def test_regenerating_keeps_other_formats_deliveries(tmp_path):
    # A real delivery of another format beside the demo: regenerating (which clears the demo's
    # own earlier files) must leave it alone, while a stale demo file of the same names goes.
    landing = tmp_path / "landing"
    real = {landing / "berka" / "trans.asc": b'"trans_id";"account_id"\r\n',
            landing / "online_retail" / "online_retail.parquet": b"PAR1",
            landing / "cdnow" / "CDNOW_master.txt": b"00001 19970101 1 11.77\n"}
    for path, data in real.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    stale = landing / "bank" / "bank_txn_20000101.csv"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    generate(landing, tmp_path / "truth", customers=20, seed=3, months=1)
    assert all(path.read_bytes() == data for path, data in real.items())
    assert not stale.exists()
