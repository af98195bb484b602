"""Publishing swaps a complete new serving version into place and keeps the last few."""

from __future__ import annotations

import re
import subprocess
import sys

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from warehouse.publishing import NothingToPublishError, current_version, publish
from warehouse.serving.pii_guard import ClearPersonalDataError, find_clear_pii
from warehouse.settings import load_settings


def _warehouse(path: Path, rows: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists staging")
    con.execute(f"create or replace table marts.fct_fund_flows as select range as flow_id from range({rows})")
    con.execute("create or replace table staging.not_published as select 1 as x")
    return con


def _count_in_new_process(path: Path, table: str) -> str:
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        f"print(con.execute('select count(*) from {table}').fetchone()[0])"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True).stdout.strip()


def test_publish_swaps_atomically_and_keeps_readers_on_their_version(tmp_path: Path) -> None:
    settings = replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb", serving_versions_kept=2)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    con = _warehouse(settings.warehouse_path, 10)
    first = publish(con, settings, now=start)
    reader = duckdb.connect(str(settings.serving_path), read_only=True)
    assert reader.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == 10

    con.execute("create or replace table marts.fct_fund_flows as select range as flow_id from range(25)")
    second = publish(con, settings, now=start + timedelta(minutes=1))
    # The open reader still sees its complete version; a new reader (another process, as a BI
    # tool is: DuckDB shares one instance per file within a process) sees the new one.
    assert reader.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == 10
    reader.close()
    assert _count_in_new_process(settings.serving_path, "marts.fct_fund_flows") == "25"
    assert _count_in_new_process(settings.serving_path, "fct_fund_flows") == "25"
    assert current_version(settings) == second.version != first.version
    # Only published schemas travel; Parquet beside it matches.
    fresh = duckdb.connect(str(settings.serving_path), read_only=True)
    schemas = {s for (s,) in fresh.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    fresh.close()
    assert schemas == {"main", "meta"}
    assert pq.read_table(settings.parquet_dir / "marts.fct_fund_flows.parquet").num_rows == 25

    publish(con, settings, now=start + timedelta(minutes=2))
    kept = sorted(p.name for p in (settings.serving_dir / "versions").glob("marts-*.duckdb"))
    assert len(kept) == 2 and first.version not in " ".join(kept)
    assert len(list((settings.serving_dir / "versions").glob("parquet-*"))) == 2


# --- BI views, audience and the personal-data guard --------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def _stand_in_marts(con: duckdb.DuckDBPyConnection, *, with_kpis: bool = True) -> None:
    """Tiny marts with the agreed columns of every table the BI views read (3 customers)."""
    con.execute("create schema if not exists marts; create schema if not exists ml")
    con.execute(
        """create or replace table marts.dim_customer as select * from (values
             ('c1', '张*', '138****1234', 'M', '北京'), ('c2', '李**', '139****0000', 'F', '上海'),
             ('c3', '王*', null, 'F', '合肥')) v(customer_id, name_masked, phone_masked, gender, city)"""
    )
    con.execute(
        """create or replace table marts.mart_customer_360 as select
             customer_id, '25-34' as age_band, city, 'app_store' as acquisition_channel,
             date '2024-01-01' as registered_date, 300 as tenure_days, 'Salaried' as segment_name,
             tier as key_account_tier, tier = 'A' as is_key_account, 1000.0 as income_cny_12m,
             800.0 as spending_cny_12m, 200.0 as net_flow_cny_12m, 5000.0 as avg_balance_cny,
             5100.0 as latest_balance_cny, 3 as recency_days, 12 as frequency_12m,
             date '2026-01-28' as last_flow_date, clv as clv_12m_cny, churn as churn_probability,
             case when churn > 0.5 then 'high' else 'low' end as churn_risk_band,
             ['recency_days'] as churn_top_features, 4 as latest_csat, 9 as latest_nps
           from marts.dim_customer join (values ('c1', 'A', 900.0, 0.9), ('c2', 'B', 100.0, 0.95),
             ('c3', 'D', 50.0, null)) v(customer_id, tier, clv, churn) using (customer_id)"""
    )
    con.execute(
        """create or replace table marts.mart_key_accounts as select * from (values
             (date '2026-01-01', 'c1', 'A', true, 'entered', 1, 90.0, 0.6),
             (date '2026-01-01', 'c2', 'B', false, 'exited', 2, 50.0, 0.9),
             (date '2026-01-01', 'c3', 'D', false, null, 3, 5.0, 1.0),
             (date '2025-12-01', 'c2', 'A', true, 'stayed', 1, 80.0, 0.7))
           v(period_month, customer_id, tier, is_key_account, key_account_change, contribution_rank,
             revenue_proxy_cny_12m, cumulative_share)"""
    )
    con.execute(
        """create or replace table marts.mart_fund_flow_paths as select * from (values
             (date '2026-01-01', 'source_to_holding', 'salary', 'bank_account', 1000.0, 2, 2),
             (date '2026-01-01', 'holding_to_use', 'bank_account', 'consumption:food', 300.0, 5, 2))
           v(month, stage, from_node, to_node, amount_cny, flow_count, customer_count)"""
    )
    con.execute(
        """create or replace table marts.mart_customer_monthly as select * from (values
             ('c1', date '2025-12-01', 100.0, 40.0, 60.0), ('c2', date '2025-12-01', 50.0, 10.0, 40.0),
             ('c1', date '2026-01-01', 70.0, 90.0, -20.0))
           v(customer_id, month, inflow_cny, outflow_cny, net_cny)"""
    )
    con.execute(
        """create or replace table ml.monthly_flow_forecast as
           select series, date '2026-02-01' as month, 80.0 as forecast, 60.0 as lower, 100.0 as upper,
                  'fc-v1' as model_version
           from (values ('inflow'), ('outflow'), ('net')) v(series)"""
    )
    if with_kpis:
        con.execute(
            """create or replace table marts.mart_kpis as select *, 10 as customers, 3 as active_customers,
                 1 as new_customers, 9 as base_customers, 1 as lost_customers, 1 / 9 as churn_rate,
                 8 / 9 as retention_rate, 500.0 as marketing_spend_cny, 500.0 as cac_cny, 4.2 as avg_csat,
                 60.0 as clv_proxy_cny, 15000.0 as aum_proxy_cny
               from (values (date '2026-01-01', 'all', 'all'), (date '2026-01-01', 'segment', 'Salaried'))
               v(month, dimension, dimension_value)"""
        )


def _settings(tmp_path: Path):
    return replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb", serving_versions_kept=3)


def test_bi_views_are_built_documented_in_english_and_chinese_and_answer(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    _stand_in_marts(con)
    publication = publish(con, settings)
    con.close()
    assert {v.name: v.status for v in publication.views} == {
        name: "created" for name in
        ("customer_overview", "monthly_kpis", "key_account_board", "fund_flow_paths", "churn_risk_list",
         "forecast_vs_actual")
    }
    serving = duckdb.connect(str(settings.serving_path), read_only=True)
    views = dict(serving.execute("select view_name, comment from duckdb_views() where schema_name = 'bi'").fetchall())
    assert len(views) == 6 and all(" / " in c and CJK.search(c) for c in views.values())
    columns = serving.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'bi'"
    ).fetchall()
    undocumented = [(t, c) for t, c, comment in columns if not (comment and " / " in comment and CJK.search(comment))]
    assert not undocumented
    assert serving.execute("select count(*) from bi.customer_overview").fetchone()[0] == 3
    # key-account board: the latest month only, key accounts plus those who just exited
    board = serving.execute("select customer_id, key_account_change from bi.key_account_board order by 1").fetchall()
    assert board == [("c1", "entered"), ("c2", "exited")]
    # churn list: scored customers only, ranked by probability x CLV (0.9*900 > 0.95*100)
    ranked = serving.execute("select risk_rank, customer_id from bi.churn_risk_list order by 1").fetchall()
    assert ranked == [(1, "c1"), (2, "c2")]
    actual_inflow = serving.execute(
        "select sum(actual_cny) from bi.forecast_vs_actual where scope = 'total' and series = 'inflow'"
    ).fetchone()[0]
    assert actual_inflow == 220.0
    assert serving.execute(
        "select count(*) from bi.forecast_vs_actual where is_forecast and actual_cny is null"
    ).fetchone()[0] == 3
    serving.close()
    # CSV for Excel: UTF-8 with a byte-order mark, Chinese intact
    csv_bytes = (settings.serving_dir / "csv" / "bi.customer_overview.csv").read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and "张*" in csv_bytes.decode("utf-8-sig")
    assert pq.read_table(settings.parquet_dir / "bi.key_account_board.parquet").num_rows == 2


def test_a_view_whose_inputs_are_missing_is_skipped_and_recorded(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    _stand_in_marts(con, with_kpis=False)
    con.execute("alter table marts.mart_customer_360 drop column churn_top_features")
    publish(con, settings)
    con.close()
    serving = duckdb.connect(str(settings.serving_path), read_only=True)
    recorded = dict(serving.execute("select view_name, coalesce(reason, status) from meta.bi_views").fetchall())
    created = {v for (v,) in serving.execute("select view_name from duckdb_views() where schema_name = 'bi'").fetchall()}
    serving.close()
    assert recorded["bi.monthly_kpis"] == "table main.mart_kpis is not published"
    assert recorded["bi.churn_risk_list"] == "main.mart_customer_360 lacks churn_top_features"
    assert recorded["bi.customer_overview"] == "created"
    assert created == {"customer_overview", "key_account_board", "fund_flow_paths", "forecast_vs_actual"}


def test_clear_personal_data_is_withheld_by_name_and_refused_by_value(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    _stand_in_marts(con)
    # A clear column by name never reaches serving; the rest of the table does.
    con.execute("create table marts.mart_contacts as select 'c1' as customer_id, '13812345678' as phone")
    first = publish(con, settings, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    serving = duckdb.connect(str(settings.serving_path), read_only=True)
    assert serving.execute("select * from mart_contacts").fetchall() == [("c1",)]
    assert serving.execute("select source_column from meta.withheld_columns").fetchall() == [
        ("marts.mart_contacts.phone",)
    ]
    serving.close()

    # A clear value in an innocent-looking column fails the whole publish before the swap.
    con.execute("create table ml.risk_notes as select 'c1' as customer_id, '回访 13812345678 张三' as reason")
    with pytest.raises(ClearPersonalDataError, match=r"ml\.risk_notes\.reason: 1 value\(s\) look like a mobile phone"):
        publish(con, settings, now=datetime(2026, 1, 2, tzinfo=timezone.utc))
    con.close()
    assert current_version(settings) == first.version
    versions = settings.serving_dir / "versions"
    assert sorted(p.name for p in versions.iterdir()) == sorted(
        [f"marts-{first.version}.duckdb", f"parquet-{first.version}", f"csv-{first.version}"]
    )


def test_the_guard_finds_clear_values_and_ignores_keys_record_numbers_and_masks() -> None:
    con = duckdb.connect()
    con.execute(
        """create table t as select * from (values
             ('13812345678', 'e18d190eb52d66d7fa9cfba578b3e77a4bf9af5e73845f13812345678aa0000000', '电话13912345678'),
             ('a zhang.san@example.com', 'z***@example.com', 'ID: 110101199003071233'),
             ('110101199003071233', 'CT202506220000001007', 'plain'),
             ('plain', '110101199003071234', 'plain'),  -- date-shaped, wrong GB 11643 check digit: not an ID
             -- a record number: date-shaped, valid check digit, but no province starts with 20
             ('plain', '202506202506221231', 'plain'),
             ('6225881234567898', '622588******7890', 'plain'),
             -- record ids: digit runs inside an alphanumeric token (hex + suffix, not a pure digest)
             ('plain', 'ba5e0f13812345678aa:18', 'plain'),
             ('plain', 'c0ffee110101199003071233ab:7', 'plain'),
             ('plain', 'ab6225881234567898:3', 'plain'),
             ('plain', '****1234', 'plain')) v(leaky, harmless, in_text)"""
    )
    findings = {(f.column, f.kind) for f in find_clear_pii(con, "memory", ("main",))}
    assert findings == {
        ("leaky", "a mobile phone number"),
        ("leaky", "an e-mail address"),
        ("leaky", "a resident ID number"),
        ("leaky", "a card or account number"),
        ("in_text", "a mobile phone number"),
        ("in_text", "a resident ID number"),
    }


def test_an_empty_warehouse_is_not_published_over_a_good_version(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    _stand_in_marts(con)
    first = publish(con, settings, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    con.execute("drop schema marts cascade")
    with pytest.raises(NothingToPublishError, match="no marts"):
        publish(con, settings, now=datetime(2026, 1, 2, tzinfo=timezone.utc))
    con.close()
    assert current_version(settings) == first.version
    assert len(list((settings.serving_dir / "versions").iterdir())) == 3  # db, parquet, csv of the first


def test_forecast_vs_actual_follows_the_forecast_to_scopes_when_it_has_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    _stand_in_marts(con)
    con.execute(
        """create or replace table ml.customer_segments as select * from (values ('c1', 'Salaried'),
             ('c2', 'Affluent')) v(customer_id, segment_name)"""
    )
    con.execute(
        """create or replace table ml.monthly_flow_forecast as
           select scope, scope_id, series, date '2026-02-01' as month, 80.0 as forecast, 60.0 as lower,
                  100.0 as upper, 'fc-v2' as model_version
           from (values ('total', 'all'), ('segment', 'Salaried'), ('segment', 'Affluent'), ('key_account', 'c1'))
                s(scope, scope_id),
                (values ('inflow'), ('outflow'), ('net')) v(series)"""
    )
    publish(con, settings)
    con.close()
    serving = duckdb.connect(str(settings.serving_path), read_only=True)
    inflow = dict(
        serving.execute(
            """select scope || ':' || scope_id, sum(actual_cny) from bi.forecast_vs_actual
               where series = 'inflow' group by 1"""
        ).fetchall()
    )
    forecasts = serving.execute("select count(*) from bi.forecast_vs_actual where is_forecast").fetchone()[0]
    serving.close()
    # c1: 100 + 70, c2: 50; only the forecast key account (c1) gets its own actuals
    assert inflow == {"total:all": 220.0, "segment:Salaried": 170.0, "segment:Affluent": 50.0, "key_account:c1": 170.0}
    assert forecasts == 12


def test_the_guard_finds_known_names_as_whole_values_padded_or_not() -> None:
    con = duckdb.connect()
    con.execute(
        """create table t as select * from (values
             ('张三', 'plain', '张三丰'),
             ('plain', ' 张三  ', '张*'),
             ('plain', 'plain', '回访张三')) v("exact", "it's padded", substring_only)"""
    )
    findings = {(f.column, f.kind, f.rows) for f in find_clear_pii(con, "memory", ("main",), known_names=["张三", " "])}
    # A name inside longer text is not a whole-value match (names have no shape to search for).
    assert findings == {("exact", "a clear name", 1), ("it's padded", "a clear name", 1)}
