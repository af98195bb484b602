"""The dbt marts against an independent pandas oracle (tests/oracle).

On the quality world (1000 customers, seed 11, built by dbt in tests/quality/conftest.py) the
oracle recomputes mart_customer_monthly, mart_customer_360 (every column except the ML
outputs) and mart_key_accounts from marts.fct_fund_flows and the staging tables; every row and
every value must agree: money to the fen, doubles to 1e-9, everything else exactly, NULL with
NULL (rules in tests/oracle/compare.py). The column kind comes from the warehouse type.

The comparator is proven able to fail (perturbed copies of a dbt frame are reported exactly
where they were perturbed), the oracle's ranking is checked on a month computed by hand, and
an edge-case world (CRM updates and gaps the demo seed lacks) is compared mart by mart.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from tests.oracle import compare_frames, load_inputs, oracle_customer_360, oracle_customer_monthly, oracle_key_accounts
from tests.oracle.marts import customer_balances

MART_KEYS = {
    "mart_customer_monthly": ["customer_id", "month", "source_channel", "category"],
    "mart_customer_360": ["customer_id"],
    "mart_key_accounts": ["customer_id", "period_month"],
}
# Model outputs (ml.* tables joined into the 360): tested by the ML quality tests, not here.
# Every other column of a mart must be recomputed by the oracle (an unknown column fails).
ML_COLUMNS = {
    "mart_customer_360": {
        "segment_id", "segment_name",  # ml.customer_segments
        "clv_12m_cny", "probability_alive",  # ml.customer_clv
        "churn_probability", "churn_risk_band", "churn_top_features",  # ml.churn_risk
    },
}


def column_kinds(con, mart: str) -> dict[str, str]:
    """money for DECIMAL(_,2), double for DOUBLE/FLOAT, exact otherwise; keys and ML columns left out."""
    skipped = set(MART_KEYS[mart]) | ML_COLUMNS.get(mart, set())
    kinds = {}
    for name, column_type, *_ in con.execute(f"describe marts.{mart}").fetchall():
        if name in skipped:
            continue
        if column_type.startswith("DECIMAL") and column_type.endswith(",2)"):
            kinds[name] = "money"
        elif column_type in ("DOUBLE", "FLOAT"):
            kinds[name] = "double"
        else:
            kinds[name] = "exact"
    return kinds


def timed(label: str, compute):
    """Runs ``compute`` and prints its wall time (information for the report; never asserted)."""
    started = time.perf_counter()
    result = compute()
    print(f"\n[oracle] {label} computed in {time.perf_counter() - started:.2f}s")
    return result


@pytest.fixture(scope="module")
def oracle_inputs(quality_world):
    return timed("inputs loaded", lambda: load_inputs(quality_world.con))


@pytest.fixture(scope="module")
def oracle_balances(oracle_inputs):
    return timed("month-end balances", lambda: customer_balances(oracle_inputs))


def assert_mart_matches(quality_world, mart: str, oracle: pd.DataFrame) -> None:
    assert quality_world.has_table("marts", mart), f"marts.{mart} was not built"
    built = quality_world.df(f"select * from marts.{mart}")
    comparison = compare_frames(mart, oracle, built, MART_KEYS[mart], column_kinds(quality_world.con, mart))
    print(f"\n[oracle] {comparison.report()}")
    assert len(built) > 0 and comparison.rows_compared == len(built)
    if not comparison.ok:
        pytest.fail(comparison.report(), pytrace=False)


def test_customer_monthly_matches_oracle(quality_world, oracle_inputs):
    oracle = timed("mart_customer_monthly", lambda: oracle_customer_monthly(oracle_inputs))
    assert_mart_matches(quality_world, "mart_customer_monthly", oracle)


def test_customer_360_matches_oracle(quality_world, oracle_inputs, oracle_balances):
    oracle = timed("mart_customer_360", lambda: oracle_customer_360(oracle_inputs, oracle_balances))
    assert_mart_matches(quality_world, "mart_customer_360", oracle)


def test_key_accounts_match_oracle(quality_world, oracle_inputs, oracle_balances):
    oracle = timed("mart_key_accounts", lambda: oracle_key_accounts(oracle_inputs, oracle_balances))
    assert_mart_matches(quality_world, "mart_key_accounts", oracle)


def test_comparator_reports_exactly_the_perturbed_values(quality_world):
    """Copies of the dbt marts, each perturbed once, are reported at that row and column only."""
    keys = MART_KEYS["mart_key_accounts"]
    kinds = column_kinds(quality_world.con, "mart_key_accounts")
    built = quality_world.df("select * from marts.mart_key_accounts order by period_month, customer_id")
    assert compare_frames("mart_key_accounts", built, built.copy(), keys, kinds).ok

    earning = built.index[built["income_cny_12m"] > 0][0]
    cases = {
        "income_cny_12m": (earning, built.at[earning, "income_cny_12m"] + 0.01),  # one fen more
        "tier": (5, "D" if built.at[5, "tier"] != "D" else "A"),
        "cumulative_share": (7, built.at[7, "cumulative_share"] + 1e-7),
        "prev_tier": (built.index[built["prev_tier"].isna()][0], "B"),  # NULL vs a value
    }
    for column, (row, value) in cases.items():
        perturbed = built.copy()
        perturbed.at[row, column] = value
        comparison = compare_frames("mart_key_accounts", built, perturbed, keys, kinds)
        assert [(m.column, m.count) for m in comparison.mismatches] == [(column, 1)], comparison.report()
        reported = comparison.mismatches[0].examples.iloc[0]
        assert reported["customer_id"] == built.at[row, "customer_id"]
        assert not comparison.missing_in_dbt.shape[0] and not comparison.extra_in_dbt.shape[0]

    # 0.4 fen is within the money tolerance (< 0.005); a missing row and an extra row are reported as such
    within_fen = built.copy()
    within_fen.at[earning, "income_cny_12m"] += 0.004
    assert compare_frames("mart_key_accounts", built, within_fen, keys, kinds).ok
    dropped = compare_frames("mart_key_accounts", built, built.drop(index=3), keys, kinds)
    assert len(dropped.missing_in_dbt) == 1 and not dropped.mismatches and not dropped.ok
    assert dropped.missing_in_dbt.iloc[0]["customer_id"] == built.at[3, "customer_id"]
    extra = compare_frames("mart_key_accounts", built.drop(index=3), built, keys, kinds)
    assert len(extra.extra_in_dbt) == 1 and not extra.ok


def test_oracle_tiers_on_a_hand_computed_month():
    """The oracle's own ranking on a case computed by hand (so the oracle is not only checked
    against the SQL it is meant to check). Contributions 60, 25, 10, 5, 0 and a negative
    balance: preceding shares 0, .60, .85, .95 -> tiers A, B, C, D; non-positive -> D."""
    from tests.oracle.inputs import OracleParameters
    from tests.oracle.key_accounts import compare_with_previous_month, rank_and_tier

    months = [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    # revenue = max(avg balance, 0) x 0.02 + consumption x 0.006
    january = {"a": 3000.0, "b": 1250.0, "c": 500.0, "d": 250.0, "e": 0.0, "f": -900.0}
    february = {"a": 250.0, "b": 3000.0, "c": 500.0, "d": 1250.0, "e": 0.0, "f": -900.0}
    figures = pd.DataFrame([
        {"customer_id": customer, "period_month": month, "avg_balance_cny_12m": balance, "consumption_fen_12m": 0}
        for month, balances in zip(months, (january, february))
        for customer, balance in balances.items()
    ])
    ranked = compare_with_previous_month(rank_and_tier(figures, OracleParameters()))
    ranked = ranked.set_index(["period_month", "customer_id"]).sort_index()
    jan = ranked.loc[months[0]]
    assert jan["revenue_proxy_cny_12m"].round(9).tolist() == [60.0, 25.0, 10.0, 5.0, 0.0, 0.0]
    assert jan["contribution_rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert jan["tier"].tolist() == ["A", "B", "C", "D", "D", "D"]
    assert jan["cumulative_share"].round(12).tolist() == [0.6, 0.85, 0.95, 1.0, 1.0, 1.0]
    assert jan["key_account_change"].fillna("-").tolist() == ["entered", "-", "-", "-", "-", "-"]
    assert jan["prev_tier"].isna().all()
    feb = ranked.loc[months[1]]
    assert feb.loc["b", "tier"] == "A" and feb.loc["b", "key_account_change"] == "entered"
    assert feb.loc["a", "tier"] == "D" and feb.loc["a", "key_account_change"] == "exited"
    assert feb.loc["a", "rank_change"] == 1 - 4 and feb.loc["b", "rank_change"] == 2 - 1
    assert feb.loc["a", "revenue_change_cny"] == pytest.approx(5.0 - 60.0)


# --- an edge-case world -------------------------------------------------------------------
# The demo seed has no CRM updates, no unknown registration or age, no late registration and
# no re-delivered spend month, so the comparison above cannot see how the marts treat them.
# This world is the 300-customer seed-11 demo with a few CRM / marketing rows appended to the
# landing files (what a real CRM export does), loaded and built by dbt like the quality world.

EDGE_CUSTOMERS = 300
EDGE_UPDATED_AT = "2026-09-01 08:00:00"  # newer than every generated updated_at
# CRM number -> fields of a re-delivered (updated) record
EDGE_CRM_UPDATES = {
    "C00000002": {"registered_date": "2026-03-15", "city": "成都"},  # registered long after its first flows
    "C00000003": {"registered_date": ""},  # registration unknown: a key-account row every month
    "C00000005": {"birth_date": "", "id_number": ""},  # age unknown
    "C00000006": {"birth_date": "1990-10-31"},  # birthday on the as-of date (2026-10-31)
    "C00000007": {"birth_date": "1990-11-01"},  # birthday the day after
}


def add_edge_rows(landing_dir) -> None:
    import csv

    customers_file = landing_dir / "crm" / "customers.csv"
    with customers_file.open(encoding="utf-8", newline="") as handle:
        records = {row["customer_id"]: row for row in csv.DictReader(handle)}
    header = list(next(iter(records.values())))
    with customers_file.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        for crm_number, changes in EDGE_CRM_UPDATES.items():
            writer.writerow({**records[crm_number], **changes, "updated_at": EDGE_UPDATED_AT})
    spend_file = landing_dir / "crm" / "marketing_spend.csv"
    first_month_line = spend_file.read_text(encoding="utf-8").splitlines()[1]
    with spend_file.open("a", encoding="utf-8") as handle:
        handle.write(first_month_line + "\n")  # the first month of one channel delivered twice


@pytest.fixture(scope="module")
def edge_world(tmp_path_factory):
    import duckdb

    from tests.quality.conftest import dbt_command
    from warehouse import landing
    from warehouse.synthetic import generate

    home = tmp_path_factory.mktemp("oracle-edge-home")
    generate(home / "landing", home / "truth", customers=EDGE_CUSTOMERS, seed=11)
    add_edge_rows(home / "landing")
    warehouse_path = home / "warehouse.duckdb"
    aged = time.time() - 600  # as in conftest.py: fresh files would wait for the settle guard
    for path in (home / "landing").rglob("*"):
        if path.is_file():
            os.utime(path, (aged, aged))
    con = duckdb.connect(str(warehouse_path))
    try:
        loads = landing.load_all(con, home / "landing")
    finally:
        con.close()
    assert all(f.status == "loaded" for load in loads for f in load.files)
    # models only: the marts' own data tests may fail on this world, and a failed test would
    # skip the models after it; the oracle is the check here
    result = dbt_command(["build", "--exclude-resource-type", "test", "unit_test"], home, warehouse_path, home / "dbt")
    assert result.returncode == 0, "dbt build failed on the edge world:\n" + result.stdout[-6000:]
    con = duckdb.connect(str(warehouse_path), read_only=True)
    yield con
    con.close()


def test_edge_world_has_its_edge_cases(edge_world):
    inputs = load_inputs(edge_world)
    updated = inputs.crm_customers["customer_id"].value_counts()
    assert (updated == 2).sum() == len(EDGE_CRM_UPDATES)
    assert inputs.marketing_spend.duplicated(["spend_month", "acquisition_channel"]).sum() == 1
    customers = inputs.crm_customers.sort_values("updated_ts").drop_duplicates("customer_id", keep="last")
    late = customers[customers["registered_date"] == pd.Timestamp("2026-03-15")]["customer_id"]
    flows = inputs.fund_flows[inputs.fund_flows["customer_id"].isin(late)]
    assert len(late) == 1 and (flows["flow_date"] < pd.Timestamp("2026-03-01")).any()


@pytest.mark.parametrize("mart", list(MART_KEYS))
def test_edge_world_matches_oracle(edge_world, mart):
    inputs = load_inputs(edge_world)
    balances = customer_balances(inputs)
    oracle = {
        "mart_customer_monthly": lambda: oracle_customer_monthly(inputs),
        "mart_customer_360": lambda: oracle_customer_360(inputs, balances),
        "mart_key_accounts": lambda: oracle_key_accounts(inputs, balances),
    }[mart]()
    built = edge_world.execute(f"select * from marts.{mart}").df()
    comparison = compare_frames(mart, oracle, built, MART_KEYS[mart], column_kinds(edge_world, mart))
    print(f"\n[oracle, edge world] {comparison.report()}")
    assert comparison.rows_compared == len(built) > 0
    if not comparison.ok:
        pytest.fail(comparison.report(), pytrace=False)
