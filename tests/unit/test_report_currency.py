"""Reports, charts and action lists label amounts with the warehouse's reporting currency.

The ``*_cny`` columns hold the reporting currency (CZK for PKDD'99 bank data), so a label must
come from the version read. Each world here is the small report world of ``test_report_world``
put into a warehouse and published by the real publish step (``warehouse.publishing.publish``)
with a given reporting currency, which it records in ``meta.publication``; the reports are then
built from that serving copy as the refresh builds them.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from reports.actions import export_action_lists
from reports.currency import currency_for
from reports.fundflow_report import build_report
from reports.refresh_summary import build_refresh_summary
from reports.serving_reader import open_serving
from test_report_world import write_serving
from warehouse.publishing import publish
from warehouse.settings import load_settings

NBSP = "\u00a0"


def _published_world(home: Path, reporting_currency: str) -> Path:
    """The report world as a warehouse (marts.*, ml.*), published with ``reporting_currency``."""
    home.mkdir(parents=True)
    source = write_serving(home / "world.duckdb")
    settings = replace(load_settings(), home=home, warehouse_path=home / "warehouse.duckdb",
                       reporting_currency=reporting_currency)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(f"attach '{source}' as world (read_only)")
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'world' "
            "and schema_name in ('main', 'ml')"
        ).fetchall():
            target = "marts" if schema == "main" else schema
            con.execute(f"create schema if not exists {target}")
            con.execute(f'create table {target}."{name}" as select * from world.{schema}."{name}"')
        con.execute("detach world")
        publish(con, settings)
    finally:
        con.close()
    return settings.serving_path


def _reports(serving: Path, out: Path) -> dict[str, str]:
    """Both languages' report HTML, without the inlined plotly.js bundle (library text, not ours)."""
    bundle = get_plotlyjs()
    return {lang: build_report(serving, out, lang).read_text(encoding="utf-8").replace(bundle, "")
            for lang in ("zh", "en")}


def _chart_layout(html: str, chart: str) -> str:
    """The plotly call drawing ``chart`` (its data and layout JSON)."""
    return html.split(f'id="chart-{chart}"')[1].split("</script>")[0]


@pytest.fixture(scope="module")
def czk(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("czk") / "home"
    serving = _published_world(home, "CZK")
    return {"serving": serving, "home": home, "html": _reports(serving, home / "reports")}


@pytest.fixture(scope="module")
def cny(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("cny") / "home"
    serving = _published_world(home, "CNY")
    return {"serving": serving, "home": home, "html": _reports(serving, home / "reports")}


def test_the_publish_step_records_the_reporting_currency(czk, cny) -> None:
    for world, code in ((czk, "CZK"), (cny, "CNY")):
        with open_serving(world["serving"]) as reader:
            assert reader.publication()["reporting_currency"] == code


def test_a_czk_warehouse_report_labels_every_amount_czk(czk) -> None:
    zh, en = czk["html"]["zh"], czk["html"]["en"]
    # key figures, table headers and the stated unit, in both languages
    assert "收入（CZK）" in zh and "支出（CZK）" in zh and "客户价值（CZK）" in zh and "金额单位：捷克克朗（CZK）" in zh
    assert "income (CZK)" in en and "spending (CZK)" in en and "CLV (CZK)" in en and "Amounts in Czech Koruna (CZK)." in en
    # money values: the churn table's CLV of c00 (50,000) and the conclusions
    assert f"<td>CZK{NBSP}50,000</td>" in zh and f"<td>CZK{NBSP}50,000</td>" in en
    conclusions = en.split('id="conclusions"')[1].split("</ul>")[0]
    assert re.search(f"Net inflow over the last 3 months: CZK{NBSP}[0-9,]+", conclusions), conclusions
    # the charts: monthly axis, Sankey value suffix, Pareto hover
    assert '"title":{"text":"CZK"}' in _chart_layout(en, "monthly")
    assert '"valuesuffix":" CZK"' in _chart_layout(en, "sankey")
    assert "%{y:,.0f} CZK\\u003cextra\\u003e" in _chart_layout(zh, "pareto")  # JSON-escaped <extra>
    for lang, html in czk["html"].items():
        assert "CNY" not in html, lang
        # The test world's ml.risk_flags reasons are written by the risk model with ¥ (its own
        # text, shown as is in the risk-review table); nothing the report writes has ¥.
        outside_risk_table = re.sub(r'<section id="section-risk".*?</section>', "", html, flags=re.S)
        assert "¥" not in outside_risk_table, lang


def test_a_cny_warehouse_report_still_shows_yuan(cny) -> None:
    zh, en = cny["html"]["zh"], cny["html"]["en"]
    assert "收入（CNY）" in zh and "客户价值（CNY）" in zh and "金额单位：人民币（CNY）" in zh
    assert "<td>¥50,000</td>" in zh  # Chinese: the yuan sign alone
    assert "income (CNY)" in en and "CLV (CNY)" in en and "Amounts in Chinese Yuan (CNY)." in en
    assert "<td>CN¥50,000</td>" in en  # English: CN¥, since ¥ alone is also the yen's sign
    assert '"title":{"text":"CNY"}' in _chart_layout(en, "monthly")
    assert '"valuesuffix":" CNY"' in _chart_layout(zh, "sankey")
    assert "CZK" not in zh + en


def test_action_list_exports_state_the_currency_in_every_row_and_reason(czk, cny) -> None:
    for world, code, en_amount, zh_amount in (
        (czk, "CZK", f"CZK{NBSP}50,000", f"CZK{NBSP}50,000"),
        (cny, "CNY", "CN¥50,000", "¥50,000"),
    ):
        lists, _ = export_action_lists(world["serving"], world["home"] / "actions")
        assert lists.currency == code
        folder = world["home"] / "actions" / lists.snapshot_id
        retention = pd.read_csv(folder / "retention_targets.csv", encoding="utf-8-sig")
        assert list(retention["customer_id"]) == ["c00"]
        assert retention.loc[0, "currency"] == code
        assert f"CLV {en_amount} (top 25%)" in retention.loc[0, "reason"]
        assert f"客户价值 {zh_amount}（前 25%）" in retention.loc[0, "reason_zh"]
        upsell = pd.read_parquet(folder / "upsell_targets.parquet")
        assert len(upsell) and set(upsell["currency"]) == {code}
        assert upsell["reason"].str.contains(f"net inflow {en_amount.removesuffix('50,000')}", regex=False).all()
        risk = pd.read_parquet(folder / "risk_review_cases.parquet")
        assert set(risk["currency"]) == {code}


def test_the_refresh_summary_labels_amounts_in_the_reporting_currency(czk) -> None:
    html = build_refresh_summary(czk["serving"], czk["home"] / "summary").read_text(encoding="utf-8")
    assert "流入 / income (CZK)" in html and "forecast (CZK)" in html and " CZK</title>" in html
    assert "CNY" not in html


def test_a_copy_published_before_the_currency_was_recorded_uses_the_settings(tmp_path, monkeypatch) -> None:
    serving = write_serving(tmp_path / "old.duckdb")  # its meta.publication has no reporting_currency
    monkeypatch.setenv("FUNDFLOW_REPORTING_CURRENCY", "gbp")
    html = build_report(serving, tmp_path / "reports", "en").read_text(encoding="utf-8")
    assert "income (GBP)" in html and "<td>£50,000</td>" in html and '"valuesuffix":" GBP"' in html
    assert "CLV (CNY)" not in html


def test_a_reporting_currency_that_is_no_iso_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not a three-letter ISO 4217 code"):
        currency_for("RMB¥", "zh")
    assert currency_for("usd", "en").money(-1234.5) == "-$1,234"  # sign before the symbol, code normalised
    assert json.dumps(currency_for("GBP", "zh").symbol, ensure_ascii=False) == '"£"'
