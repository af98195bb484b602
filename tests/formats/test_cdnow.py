"""CDNOW end to end: the real 1/10th sample landed, staged and turned into flows; the 39-week
calibration summary the warehouse computes equals the published one, and the CLV model fitted
on the warehouse's flows, exactly as the ``ml/customer_clv`` asset fits them, reproduces the
published BG/NBD and Gamma-Gamma estimates within 1 %.

One world per module (the sample plus a small correction file holding an unparseable date and
a line that does not split into fields), built once with dbt up to ``fct_fund_flows``. No rate
table is delivered, so the warehouse reports in the source's own currency, USD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from retail_world import DATASETS, failure_summary, make_world

from ml.clv import customer_lifetime_value, fit_bgnbd, fit_gamma_gamma
from orchestration.defs.assets.ml_customer_value import CLV_TRANSACTIONS_SQL
from warehouse import landing
from warehouse.landing.specs import spec_for

CDNOW = DATASETS / "cdnow"
SAMPLE_NAME = "cdnow/CDNOW_sample.txt"
CORRECTIONS_NAME = "cdnow/CDNOW_sample_corrections.txt"
CORRECTIONS = " 99998 9998 19971341  1   10.00\r\n 99999 9999 19970105\r\n"
CALIBRATION_END = pd.Timestamp("1997-09-30")
# Fader, Hardie & Lee (2005) on the 2,357-customer sample (../shared/datasets/README.md).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
TOLERANCE = 0.01
BUILD = ["build", "--select", "+fct_fund_flows", "+int_cdnow__calibration_summary", "+int_cdnow__customers",
         "--indirect-selection", "buildable", "--exclude", "test_type:unit"]


def relative_errors(fitted: object, published: dict[str, float]) -> dict[str, float]:
    return {name: abs(getattr(fitted, name) - value) / value for name, value in published.items()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("cdnow")
    corrections = home / "corrections.txt"
    corrections.write_bytes(CORRECTIONS.encode("ascii"))
    built = make_world(home, {SAMPLE_NAME: CDNOW / "CDNOW_sample.txt", CORRECTIONS_NAME: corrections})
    built.loads = {load.table: load for load in built.land()}
    result = built.dbt(BUILD)
    assert result.returncode == 0, failure_summary(result)
    print(f"\n[cdnow] landing {built.land_seconds:.1f}s, dbt build {built.dbt_seconds:.1f}s")
    with built.connect() as con:
        yield built, con


@pytest.fixture(scope="module")
def published_summary() -> pd.DataFrame:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    with_values = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    return summary.merge(with_values[["ID", "zbar"]], on="ID", validate="1:1")


def test_every_line_is_landed_staged_or_quarantined(world) -> None:
    built, con = world
    by_file = {f.path: f for f in built.loads["cdnow__purchases"].files}
    assert (by_file[SAMPLE_NAME].rows, by_file[SAMPLE_NAME].rejected) == (6_919, 0)
    assert (by_file[CORRECTIONS_NAME].rows, by_file[CORRECTIONS_NAME].rejected) == (1, 1)
    assert con.execute("select reason from quality.landing_rejects where source_table = 'cdnow__purchases'").fetchall() \
        == [("wrong field count: expected 5, got 3",)]
    assert con.execute("select reject_reason from staging.stg_cdnow__purchases where reject_reason is not null").fetchall() \
        == [("unparseable date",)]
    flows, dollars = con.execute("select count(*), sum(amount_cny) from marts.fct_fund_flows where source_channel = 'cdnow'").fetchone()
    usable, usable_dollars = con.execute(
        "select count(*) filter (where dollar_value > 0), sum(dollar_value) from intermediate.int_cdnow__purchases_deduped"
    ).fetchone()
    assert (flows, dollars) == (usable, usable_dollars) and usable == 6_919 - 8  # 8 purchases of $0 are no flow
    assert built.reporting_currency == "USD"
    print(f"\n[cdnow] {flows:,} flows, ${dollars:,}")


def test_calibration_summary_equals_the_published_one(world, published_summary) -> None:
    _, con = world
    computed = con.execute("select * from intermediate.int_cdnow__calibration_summary").df()
    merged = computed.merge(published_summary, left_on="sample_id", right_on="ID", how="outer", validate="1:1",
                            indicator=True)
    assert len(published_summary) == 2_357 and (merged["_merge"] == "both").all()
    assert (merged["frequency_x"] == merged["frequency_y"]).all()
    # The published file rounds weeks and dollars to 2 decimals.
    assert np.abs(merged["recency_x"] - merged["recency_y"]).max() < 0.006
    assert np.abs(merged["t_weeks"] - merged["T"]).max() < 0.006
    assert np.abs(merged["zbar_x"].astype(float) - merged["zbar_y"]).max() < 0.006
    assert merged["t_weeks"].max() == pytest.approx(272 / 7)  # 1997-01-01 -> 1997-09-30


def test_clv_asset_reproduces_the_published_estimates(world) -> None:
    _, con = world
    transactions = con.execute(CLV_TRANSACTIONS_SQL).df()
    customers = con.execute("select customer_id from intermediate.int_cdnow__customers").df()["customer_id"]
    result = customer_lifetime_value(transactions, CALIBRATION_END, customers=customers)
    bgnbd_errors = relative_errors(result.bgnbd, PUBLISHED_BGNBD)
    gamma_gamma_errors = relative_errors(result.gamma_gamma, PUBLISHED_GAMMA_GAMMA)
    print(f"\n[cdnow] BG/NBD {result.bgnbd}\n  relative errors {bgnbd_errors}"
          f"\n[cdnow] Gamma-Gamma {result.gamma_gamma}\n  relative errors {gamma_gamma_errors}")
    assert max(bgnbd_errors.values()) < TOLERANCE
    assert max(gamma_gamma_errors.values()) < TOLERANCE
    assert len(result.customers) == 2_357


def test_the_one_percent_check_fails_on_a_perturbed_summary(world) -> None:
    _, con = world
    summary = con.execute("select frequency, recency, t_weeks, cast(zbar as double) as zbar "
                          "from intermediate.int_cdnow__calibration_summary").df()
    fitted = fit_bgnbd(summary["frequency"], summary["recency"], summary["t_weeks"])
    assert max(relative_errors(fitted, PUBLISHED_BGNBD).values()) < TOLERANCE
    # Each repeat customer's purchases counted once more (same-day orders not merged, say):
    # BG/NBD leaves the 1 % band.
    overcounted = fit_bgnbd(summary["frequency"] + (summary["frequency"] > 0), summary["recency"], summary["t_weeks"])
    assert max(relative_errors(overcounted, PUBLISHED_BGNBD).values()) > TOLERANCE
    inflated = fit_gamma_gamma(summary["frequency"], summary["zbar"] * 1.05)
    assert max(relative_errors(inflated, PUBLISHED_GAMMA_GAMMA).values()) > TOLERANCE


def test_a_truncated_or_partial_delivery_is_reported(tmp_path) -> None:
    folder = tmp_path / "cdnow"
    folder.mkdir()
    data = (CDNOW / "CDNOW_sample.txt").read_bytes()
    (folder / "CDNOW_sample.txt").write_bytes(data[:-5])  # cut inside the last line: " 25.7"
    spec = spec_for("cdnow__purchases")
    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load = landing.load_source(con, spec, tmp_path)
        rejects = con.execute("select _source_line, reason from quality.landing_rejects").fetchall()
    assert (load.rows, load.rejected) == (6_918, 1)
    assert rejects == [(6_919, "truncated file: last line has no line break")]
    # The summaries delivered without the purchases: a partial delivery, logged as missing.
    (folder / "CDNOW_sample.txt").unlink()
    (folder / "cdnow_customers_summary.csv").write_bytes((CDNOW / "cdnow_customers_summary.csv").read_bytes())
    with duckdb.connect(str(tmp_path / "w2.duckdb")) as con:
        load = landing.load_source(con, spec, tmp_path)
    assert [f.status for f in load.files] == ["missing"]
    assert "missing from the cdnow delivery" in load.files[0].error
