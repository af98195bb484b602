"""Action lists on a small serving copy with known answers, and the effect-evaluation mart
(``mart_action_effect``) built by real dbt against a recorded, back-dated snapshot and compared
with the same matching computed independently in pandas."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reports.actions import build_action_lists, export_action_lists, record_action_lists, write_action_files
from reports.serving_reader import open_serving
from test_report_world import customers, monthly, write_serving
from warehouse.settings import DBT_PROJECT_DIR, load_settings

DBT = Path(sys.executable).parent / "dbt"


@pytest.fixture()
def serving(tmp_path) -> Path:
    return write_serving(tmp_path / "marts.duckdb")


def test_retention_targets_are_high_value_and_high_risk_with_reasons(serving) -> None:
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    retention = lists.lists["retention_targets"].targets
    # c03 is high risk but low value, c08 is of high value but already churned: neither is a target
    assert list(retention["customer_id"]) == ["c00"]
    reason = retention.iloc[0]
    assert "churn probability 0.90" in reason["reason"] and "¥50,000" in reason["reason"]
    assert "流失概率 0.90" in reason["reason_zh"]
    assert reason["owner"] is None and lists.as_of_month == date(2025, 12, 1)


def test_upsell_and_risk_review_lists_are_ranked(serving) -> None:
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    upsell = lists.lists["upsell_targets"].targets
    assert upsell["customer_id"].iloc[0] == "c01"
    assert set(upsell["churn_risk_band"]) == {"low"}
    assert (upsell["net_flow_cny_12m"] > 0).all()
    risk = lists.lists["risk_review_cases"].targets
    assert list(risk["customer_id"]) == ["c02", "c05"] and list(risk["score"]) == [5.0, 1.0]
    assert risk.iloc[0]["flag_count"] == 2 and risk.iloc[0]["rules"] == "night_burst, structuring"
    # the population holds every scored customer once per list, targeted or not
    assert lists.population.groupby("list_name").size().to_dict() == {
        "retention_targets": 40, "upsell_targets": 40, "risk_review_cases": 40}
    assert lists.population.query("is_targeted").groupby("list_name").size().to_dict() == {
        "retention_targets": 1, "upsell_targets": len(upsell), "risk_review_cases": 2}


def test_files_have_an_empty_owner_and_are_never_overwritten(serving, tmp_path) -> None:
    out = tmp_path / "actions"
    lists, paths = export_action_lists(serving, out)
    assert {p.name for p in paths} == {f"{n}.{e}" for n in lists.lists for e in ("csv", "parquet")}
    csv = pd.read_csv(out / lists.snapshot_id / "retention_targets.csv", encoding="utf-8-sig")
    assert csv["owner"].isna().all() and "流失概率" in csv["reason_zh"].iloc[0]
    assert (out / lists.snapshot_id / "retention_targets.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel BOM
    parquet = pd.read_parquet(out / lists.snapshot_id / "upsell_targets.parquet")
    assert parquet["owner"].isna().all() and len(parquet) == len(lists.lists["upsell_targets"].targets)
    # the business fills in an owner; exporting the same snapshot again keeps it
    csv["owner"] = csv["owner"].astype(object)
    csv.loc[0, "owner"] = "张三"
    csv.to_csv(out / lists.snapshot_id / "retention_targets.csv", index=False, encoding="utf-8-sig")
    write_action_files(lists, out)
    again = pd.read_csv(out / lists.snapshot_id / "retention_targets.csv", encoding="utf-8-sig")
    assert again.loc[0, "owner"] == "张三"


def test_a_first_release_serving_copy_gives_notes_not_errors(tmp_path) -> None:
    serving = write_serving(tmp_path / "marts.duckdb", full=False)
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    assert lists.lists["retention_targets"].targets.empty
    assert "not available" in lists.lists["retention_targets"].note
    assert "not available" in lists.lists["risk_review_cases"].note
    assert any("churn_probability" in note for note in lists.notes)


def test_recording_a_snapshot_again_replaces_it(serving, tmp_path) -> None:
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        assert record_action_lists(con, lists) == 120
        assert record_action_lists(con, lists) == 120
        assert con.execute("select count(*), count(distinct snapshot_id) from ops.action_lists").fetchone() == (120, 1)
    finally:
        con.close()


# --- the effect-evaluation mart ----------------------------------------------------------------

FOLLOWUP_MONTHS = 3
AS_OF = date(2025, 6, 1)


def expected_effects(population: pd.DataFrame, month_rows: pd.DataFrame) -> pd.DataFrame:
    """The mart's method in pandas: exact strata (segment, band), nearest score, ties by id."""
    window = month_rows[(month_rows["month"] > AS_OF)
                        & (month_rows["month"] <= (pd.Timestamp(AS_OF) + pd.DateOffset(months=FOLLOWUP_MONTHS)).date())]
    end = (pd.Timestamp(AS_OF) + pd.DateOffset(months=FOLLOWUP_MONTHS)).date()
    active = window[window["flow_count"] > 0].groupby("customer_id")["month"].nunique()
    at_end = set(window[(window["month"] == end) & (window["flow_count"] > 0)]["customer_id"])
    net = window.groupby("customer_id")["net_cny"].sum()
    rows = []
    for list_name, members in population.groupby("list_name"):
        targets, pool = members[members["is_targeted"]], members[~members["is_targeted"]]
        pairs = []
        for target in targets.itertuples():
            stratum = pool[(pool["segment_name"] == target.segment_name) & (pool["churn_risk_band"] == target.churn_risk_band)]
            if stratum.empty:
                continue
            stratum = stratum.assign(distance=(stratum["score"] - target.score).abs()).sort_values(["distance", "customer_id"])
            pairs.append((target.customer_id, stratum["customer_id"].iloc[0]))
        def mean(values):
            return sum(values) / len(values) if values else None
        rows.append({
            "list_name": list_name, "targeted_customers": len(targets), "matched_targets": len(pairs),
            "target_active_rate": mean([t in at_end for t, _ in pairs]),
            "control_active_rate": mean([c in at_end for _, c in pairs]),
            "target_avg_net_flow_cny": mean([net.get(t, 0.0) for t, _ in pairs]),
            "control_avg_net_flow_cny": mean([net.get(c, 0.0) for _, c in pairs]),
            "target_churn_rate": mean([active.get(t, 0) == 0 for t, _ in pairs]),
            "control_churn_rate": mean([active.get(c, 0) == 0 for _, c in pairs]),
        })
    return pd.DataFrame(rows).set_index("list_name").sort_index()


def assert_effects_match(mart: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = mart.set_index("list_name").sort_index()[expected.columns]
    pd.testing.assert_frame_equal(got.astype(float), expected.astype(float), check_exact=False, rtol=1e-9)


@pytest.fixture(scope="module")
def effect_world(tmp_path_factory):
    home = tmp_path_factory.mktemp("effect")
    serving = write_serving(home / "marts.duckdb")
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    # A snapshot taken in June 2025: its follow-up (Jul-Sep) is in the data, and c00 (the retention
    # target) goes quiet in September.
    population = lists.population.assign(as_of_month=AS_OF)
    lists = dataclasses.replace(lists, population=population, as_of_month=AS_OF)
    month_rows = monthly(customers())
    warehouse = home / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema marts")
        con.register("month_rows", month_rows)
        con.execute("create table marts.mart_customer_monthly as select * from month_rows")
        record_action_lists(con, lists)
    finally:
        con.close()
    settings = dataclasses.replace(load_settings(), home=home, warehouse_path=warehouse)
    project = str(DBT_PROJECT_DIR)
    # mart_customer_monthly is already in the warehouse, so only the mart itself is built (and tested).
    result = subprocess.run(
        [str(DBT), "build", "--select", "mart_action_effect", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(home / "target"), "--log-path", str(home / "logs")],
        env={**os.environ, **settings.dbt_env()}, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    mart = con.execute("select * from marts.mart_action_effect").df()
    con.close()
    return mart, population, month_rows


def test_effect_mart_matches_the_independent_computation(effect_world) -> None:
    mart, population, month_rows = effect_world
    expected = expected_effects(population, month_rows)
    assert_effects_match(mart, expected)
    assert mart["followup_complete"].all() and (mart["followup_months"] == FOLLOWUP_MONTHS).all()
    retention = mart.set_index("list_name").loc["retention_targets"]
    # c00 stopped in September, its matched control did not
    assert retention["target_active_rate"] == 0.0 and retention["control_active_rate"] == 1.0
    assert retention["active_rate_effect"] == -1.0


def test_effect_comparison_detects_a_wrong_mart(effect_world) -> None:
    mart, population, month_rows = effect_world
    expected = expected_effects(population, month_rows)
    wrong = mart.copy()
    wrong.loc[wrong["list_name"] == "upsell_targets", "control_avg_net_flow_cny"] += 1.0
    with pytest.raises(AssertionError):
        assert_effects_match(wrong, expected)
