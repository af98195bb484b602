"""Each risk rule catches its pattern, leaves ordinary flows alone and says why."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.risk_flags import OUTPUT_COLUMNS, RiskRules, flag_risky_flows, rule_input_sql

UTC8 = pd.Timedelta(hours=8)


class Book:
    """A small fund-flow table: ordinary salaried customers plus planted patterns."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, customer, local_ts, direction, amount, category="transfer", cp_type="person", cp=None, tag=None):
        ts = pd.Timestamp(local_ts) - UTC8  # stored in UTC like fct_fund_flows' timestamptz
        self.rows.append({
            "flow_id": f"F{len(self.rows):06d}", "customer_id": customer, "flow_ts": ts.tz_localize("UTC"),
            "direction": direction, "amount_cny": amount, "category": category, "counterparty_type": cp_type,
            "counterparty_id": cp, "is_internal_transfer": False, "is_echo": False, "tag": tag,
        })

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    b = Book()
    for c in range(30):
        customer = f"C{c:03d}"
        for month in pd.date_range("2025-01-01", periods=12, freq="MS"):
            b.add(customer, month + pd.Timedelta(days=9, hours=10), "in", 12_000.0, "salary", "bank", "EMPLOYER")
            for d in range(10):
                day = month + pd.Timedelta(days=int(rng.integers(0, 27)), hours=int(rng.integers(8, 22)))
                b.add(customer, day, "out", float(rng.lognormal(4.5, 0.8)), "consumption:groceries", "merchant", "M1")
            b.add(customer, month + pd.Timedelta(days=15, hours=20), "out", 800.0, "transfer", "person", "MOM")
    # rapid pass-through: 200k in from a stranger, out again in three transfers within 3 hours
    b.add("C001", "2025-06-03 10:00", "in", 200_000.0, cp="X1", tag="pt")
    for i, cp in enumerate(("X2", "X3", "X4")):
        b.add("C001", f"2025-06-03 1{1 + i}:00", "out", 66_000.0, cp=cp, tag="pt")
    # structuring: four deposits just under 50k over two days, then a transfer out
    for i, ts in enumerate(("2025-07-01 09:30", "2025-07-01 15:00", "2025-07-02 10:00", "2025-07-02 16:00")):
        b.add("C002", ts, "in", 48_000.0 + 300 * i, "cash", "bank", None, tag="st")
    b.add("C002", "2025-07-03 09:00", "out", 180_000.0, cp="Y1", tag="st")
    # late-night large transfer at 02:40 local time (18:40 UTC the day before)
    b.add("C003", "2025-08-10 02:40", "out", 120_000.0, cp="Z1", tag="ln")
    # spending spike: five big purchases in one day
    for h in range(5):
        b.add("C004", f"2025-09-20 1{h}:15", "out", 9_000.0, "consumption:jewelry", "merchant", "J1", tag="sp")
    # a big daytime transfer to mum: large but ordinary for no rule
    b.add("C005", "2025-10-05 14:00", "out", 120_000.0, cp="MOM")
    return b.frame()


@pytest.fixture(scope="module")
def result(book):
    return flag_risky_flows(book)


def test_each_planted_pattern_is_flagged_by_its_rule(book, result) -> None:
    flags = result.flags.merge(book[["flow_id", "tag"]], on="flow_id")
    expected = {"pt": "rapid_pass_through", "st": "structuring", "ln": "late_night_large", "sp": "spending_spike"}
    for tag, rule in expected.items():
        planted = set(book.loc[book["tag"] == tag, "flow_id"])
        hit = set(flags.loc[flags["rules"].str.contains(rule), "flow_id"])
        assert planted <= hit, (tag, planted - hit)


def test_ordinary_flows_are_not_flagged(book, result) -> None:
    flagged = book[book["flow_id"].isin(result.flags["flow_id"])]
    assert flagged["tag"].notna().all(), flagged[flagged["tag"].isna()]


def test_new_counterparty_burst_needs_new_persons(result) -> None:
    # the pass-through customer met four new persons in 3 hours with 400k: a burst as well
    burst = result.flags[result.flags["rules"].str.contains("new_counterparty_burst")]
    assert set(burst["customer_id"]) == {"C001"}


def test_reasons_are_readable_and_events_group_flows(result) -> None:
    flags = result.flags
    assert list(flags.columns) == OUTPUT_COLUMNS
    structuring = flags[flags["rules"] == "structuring"]
    assert structuring["event_id"].nunique() == 1 and len(structuring) == 5
    assert "4 cash deposits" in structuring["reason"].iloc[0] and "拆分" in structuring["reason"].iloc[0]
    late = flags[flags["rules"] == "late_night_large"]["reason"].iloc[0]
    assert "02:40" in late  # judged in local time, not UTC
    assert result.summary["structuring_events"] == 1


def test_thresholds_are_parameters(book) -> None:
    strict = flag_risky_flows(book, RiskRules(late_night_min_cny=500_000.0))
    assert not strict.flags["rules"].str.contains("late_night_large").any()
    assert strict.model_version != flag_risky_flows(book).model_version


def test_reasons_name_the_reporting_currency(book, result) -> None:
    # A warehouse reporting in CZK (PKDD'99) must not call its amounts CNY in a flag's reason.
    czk = flag_risky_flows(book, RiskRules(currency="CZK"))
    assert len(czk.flags) == len(result.flags) > 0
    assert czk.flags["reason"].str.contains("CZK ").all()
    assert not czk.flags["reason"].str.contains("CNY").any()
    assert result.flags["reason"].str.contains("CNY ").all()


def test_internal_transfers_are_not_screened(book) -> None:
    internal = book.assign(is_internal_transfer=book["tag"].eq("ln"))
    assert "late_night_large" not in ",".join(flag_risky_flows(internal).flags["rules"])


def test_missing_columns_are_a_clear_error(book) -> None:
    with pytest.raises(ValueError, match="counterparty_id"):
        flag_risky_flows(book.drop(columns=["counterparty_id"]))


def test_no_flows_no_flags(book) -> None:
    empty = flag_risky_flows(book.iloc[0:0])
    assert empty.flags.empty and list(empty.flags.columns) == OUTPUT_COLUMNS


def test_flags_do_not_depend_on_row_order_even_for_flows_at_the_same_instant(book, result) -> None:
    # Flows are screened in (customer, local time, flow_id) order; flow_id breaks ties of one
    # customer's same instant, so a structuring chain whose deposits share a timestamp still gets
    # one event id, whatever order the warehouse returns the rows in.
    tied = book.copy()
    deposits = tied.index[tied["tag"] == "st"][:4]
    tied.loc[deposits, "flow_ts"] = tied.loc[deposits[0], "flow_ts"]
    tied.loc[deposits, "flow_id"] = ["F900003", "F900001", "F900004", "F900002"]
    reference = flag_risky_flows(tied).flags
    for seed in range(3):
        shuffled = tied.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(flag_risky_flows(shuffled).flags, reference)
    chain = reference[reference["rules"] == "structuring"]
    assert len(chain) == 5 and chain["event_id"].nunique() == 1
    # The flows the result carries are the input's: same ids, amounts and timestamps.
    merged = result.flags.merge(book, on="flow_id", suffixes=("", "_in"))
    assert len(merged) == len(result.flags)
    assert (merged["amount_cny"] == merged["amount_cny_in"]).all() and (merged["flow_ts"] == merged["flow_ts_in"]).all()
    assert (merged["customer_id"] == merged["customer_id_in"]).all()


def test_duplicate_flow_ids_are_a_clear_error(book) -> None:
    # A duplicate id anywhere (here an ordinary salary flow no rule reads) is refused.
    salary = book[book["category"] == "salary"].iloc[[0]]
    with pytest.raises(ValueError, match="flow_id must be unique"):
        flag_risky_flows(pd.concat([book, salary], ignore_index=True))


def _prefiltered(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    with duckdb.connect() as con:
        con.register("flows", frame)
        rows_sql, screened_sql = rule_input_sql("flows")
        return con.sql(rows_sql).df(), con.execute(screened_sql).fetchall()[0][0]


def test_flows_filtered_in_sql_give_the_same_flags(book) -> None:
    # A customer whose history starts with a salary (a flow no rule reads) and who, six weeks
    # later, pays three new persons in one day: a burst only because the history started before.
    late = Book()
    late.add("C900", "2025-01-05 10:00", "in", 12_000.0, "salary", "bank", "EMPLOYER")
    for i, cp in enumerate(("N1", "N2", "N3")):
        late.add("C900", f"2025-02-20 1{i}:00", "out", 20_000.0, cp=cp)
    frame = pd.concat([book, late.frame().assign(flow_id=lambda f: "L" + f["flow_id"])], ignore_index=True)
    frame.loc[frame.index[:5], "is_echo"] = True  # echoes and internal transfers are not screened
    frame.loc[frame.index[5:9], "is_internal_transfer"] = True
    whole = flag_risky_flows(frame)
    rows, screened = _prefiltered(frame)
    # Salaries stay in the database, but for a customer's first flow; echoes and internal transfers too.
    assert 0 < (rows["category"] == "salary").sum() <= rows["customer_id"].nunique() < (frame["category"] == "salary").sum()
    assert not set(rows["flow_id"]) & set(frame["flow_id"].iloc[:9])
    assert screened == whole.summary["flows_screened"] == len(frame) - 9
    filtered = flag_risky_flows(rows, flows_screened=screened)
    pd.testing.assert_frame_equal(filtered.flags, whole.flags, check_dtype=False)
    assert filtered.summary == whole.summary
    assert "LF000001" in set(whole.flags["flow_id"])
    # Without each customer's first flow the burst would be missed: the filter must keep it.
    no_history = rows[rows["category"] != "salary"]
    assert "LF000001" not in set(flag_risky_flows(no_history).flags["flow_id"])
