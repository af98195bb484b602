"""The whole asset graph, materialized in process on a small seed, in a temporary FUNDFLOW_HOME.

Real files, a real DuckDB warehouse, a real dbt build, real GX validations, real ML fits and a
real publish: the assertions compare what came out with what the generator says it wrote.
"""

import json

import dagster as dg
import duckdb
import pandas as pd
import pytest

from warehouse.settings import Settings, load_settings
from warehouse.synthetic import generate

CUSTOMERS = 300
SEED = 7
# raw table → the landing file prefix its flows carry in _source_file
FLOW_TABLES = {
    "bank__transactions": "bank/bank_txn_",
    "payments__trades": "payments/pay_",
    "ecommerce__order_lines": "ecommerce/orders_",
    "cards__transactions": "cards/card_txn_",
}
# records that move no money: cancelled orders, closed or failed payments
NOT_MONEY_MOVEMENTS = {"CANCELLED", "CLOSED", "FAILED"}


@pytest.fixture(scope="module")
def refreshed() -> tuple[dg.ExecuteInProcessResult, Settings, dict]:
    from orchestration.definitions import defs

    settings = load_settings()
    generate(settings.landing_dir, settings.truth_dir, customers=CUSTOMERS, seed=SEED)
    manifest = json.loads((settings.truth_dir / "manifest.json").read_text(encoding="utf-8"))
    job = defs().resolve_job_def("full_refresh")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return result, settings, manifest


@pytest.fixture(scope="module")
def warehouse(refreshed) -> duckdb.DuckDBPyConnection:
    _, settings, _ = refreshed
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield con
    con.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()[0]


def test_every_step_succeeds_and_every_check_passes(refreshed) -> None:
    result, _, _ = refreshed
    failures = [
        f"{e.step_key}: {e.event_specific_data.error.message[:500]}"
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert result.success, failures
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [f"{ev.asset_key.to_user_string()}:{ev.check_name}" for ev in evaluations if not ev.passed]
    assert not failed
    gx = {ev.check_name for ev in evaluations if ev.check_name.startswith("gx_")}
    assert {"gx_fct_fund_flows", "gx_mart_customer_360", "gx_bank__transactions"} <= gx
    assert len(evaluations) - len(gx) >= 50  # the dbt tests ran as checks too


def test_every_delivered_line_lands_in_raw_or_in_landing_rejects(refreshed, warehouse) -> None:
    _, _, manifest = refreshed
    for table, figures in manifest["tables"].items():
        raw_rows = _scalar(warehouse, f"select count(*) from raw.{table}")
        rejected = _scalar(warehouse, "select count(*) from quality.landing_rejects where source_table = ?", [table])
        assert raw_rows + rejected == figures["rows"], table


def test_staging_keeps_every_raw_row_and_quarantines_the_unusable(warehouse) -> None:
    for table in FLOW_TABLES:
        raw_rows = _scalar(warehouse, f"select count(*) from raw.{table}")
        staged = _scalar(warehouse, f"select count(*) from staging.stg_{table}")
        unusable = _scalar(warehouse, f"select count(*) from staging.stg_{table} where reject_reason is not null")
        quarantined = _scalar(
            warehouse,
            "select count(*) from quality.quarantine where source_table = ? and rejected_at = 'staging'",
            [table],
        )
        assert staged == raw_rows, table
        assert quarantined == unusable, table


def test_dedup_removes_exactly_the_planted_duplicates(refreshed, warehouse) -> None:
    """Fact rows per channel = records the generator wrote, minus the duplicates it planted,
    minus the records quarantined with a reason (none silently dropped)."""
    _, settings, manifest = refreshed
    truth = pd.read_parquet(settings.truth_dir / "flows.parquet")
    quarantined_lines = warehouse.execute(
        "select source_table, _source_file, _source_line from quality.quarantine"
    ).df()
    dirt = pd.read_parquet(settings.truth_dir / "dirt.parquet")
    located = dirt.merge(
        quarantined_lines,
        left_on=["source_table", "source_file", "source_line"],
        right_on=["source_table", "_source_file", "_source_line"],
    )
    for table, file_prefix in FLOW_TABLES.items():
        records = truth[truth.source_table == table]
        money_ids = set(records.loc[~records.status.isin(NOT_MONEY_MOVEMENTS), "source_record_id"])
        lost_ids = set(located.loc[located.source_table == table, "source_record_id"])
        fact_ids = set(
            warehouse.execute(
                # a returned order line adds a refund flow '<record>:refund' of the same record
                """select distinct split_part(source_record_id, ':', 1) as record_id
                   from intermediate.int_fund_flows where starts_with(_source_file, ?)""",
                [file_prefix],
            ).df()["record_id"]
        )
        assert len(fact_ids) > 100, table
        # nothing invented, no money movement lost without a quarantine entry saying why
        assert fact_ids <= money_ids, (table, sorted(fact_ids - money_ids)[:5])
        assert not (money_ids - fact_ids - lost_ids), (table, sorted(money_ids - fact_ids - lost_ids)[:5])
        dropped = _scalar(
            warehouse,
            f"select sum(duplicate_count) from intermediate.int_{table}_deduped",
        )
        planted = manifest["tables"][table]["duplicates"]
        planted_in_quarantine = len(
            located[(located.source_table == table) & (located.dirt_type == "duplicate")]
        )
        assert dropped == planted - planted_in_quarantine, table


def test_marts_reconcile_with_the_fact(warehouse) -> None:
    fact_in, fact_out = warehouse.execute(
        """select sum(amount_cny) filter (direction = 'in'), sum(amount_cny) filter (direction = 'out')
           from marts.fct_fund_flows where not is_internal_transfer and not is_echo"""
    ).fetchone()
    monthly_in, monthly_out = warehouse.execute(
        "select sum(inflow_cny), sum(outflow_cny) from marts.mart_customer_monthly"
    ).fetchone()
    assert monthly_in == pytest.approx(fact_in, rel=1e-9)
    assert monthly_out == pytest.approx(fact_out, rel=1e-9)
    customers = _scalar(warehouse, "select count(*) from marts.dim_customer")
    assert customers == CUSTOMERS
    assert _scalar(warehouse, "select count(distinct customer_id) from marts.mart_customer_360") == customers
    assert _scalar(warehouse, "select count(*) from marts.mart_customer_360") == customers
    orphan_flows = _scalar(
        warehouse,
        "select count(*) from marts.fct_fund_flows f anti join marts.dim_customer c using (customer_id) "
        "where f.customer_id is not null",
    )
    assert orphan_flows == 0


def test_no_personal_data_reaches_the_marts(refreshed, warehouse) -> None:
    _, settings, _ = refreshed
    customers = pd.read_parquet(settings.truth_dir / "customers.parquet")
    phones = set(customers.phone.dropna())
    exported = warehouse.execute("select * from marts.dim_customer").df().astype(str)
    hits = exported.isin(phones).to_numpy().sum()
    assert hits == 0


def test_ml_outputs_cover_every_customer(warehouse) -> None:
    segmented = _scalar(warehouse, "select count(distinct customer_id) from ml.customer_segments")
    assert segmented == CUSTOMERS
    assert _scalar(warehouse, "select count(distinct segment_name) from ml.customer_segments") >= 3
    series = warehouse.execute(
        "select series, count(*) from ml.monthly_flow_forecast where scope = 'total' group by all order by 1"
    ).fetchall()
    # the issue asks for 6 to 12 months ahead, per series, with intervals
    assert [s for s, _ in series] == ["inflow", "net", "outflow"] and all(6 <= n <= 12 for _, n in series)
    assert _scalar(warehouse, "select count(*) from ml.monthly_flow_forecast where not (lower <= forecast and forecast <= upper)") == 0
    assert _scalar(warehouse, "select count(distinct model_version) from ml.customer_segments") == 1


def test_serving_copy_and_report_are_published(refreshed, warehouse) -> None:
    _, settings, _ = refreshed
    serving = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        served = _scalar(serving, "select count(*) from fct_fund_flows")
        assert served == _scalar(warehouse, "select count(*) from marts.fct_fund_flows") > 0
        assert _scalar(serving, "select count(*) from ml.customer_segments") == CUSTOMERS
        version = _scalar(serving, "select version from meta.publication")
    finally:
        serving.close()
    assert (settings.parquet_dir / "marts.fct_fund_flows.parquet").exists()
    report = (settings.reports_dir / "refresh_summary.html").read_text(encoding="utf-8")
    assert version in report and f"{CUSTOMERS:,}" in report
    assert "http://" not in report and "https://" not in report  # nothing fetched when opened
