"""The report on a small serving copy: structure, both languages, graceful notes for tables a
version does not publish, the data-quality appendix, and the review (approval) workflow."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reports.actions import build_action_lists
from reports.fundflow_report import GateResult, build_report
from reports.i18n import LABELS
from reports.review import ReviewError, approvals, approve, status
from reports.serving_reader import open_serving
from test_report_world import write_serving

CHART_IDS = ["chart-monthly", "chart-sankey", "chart-segments", "chart-pareto", "chart-tiers", "chart-churn",
             "chart-risk_flags", "chart-regional", "chart-kpis", "chart-effect"]
GATES = [GateResult("marts/fct_fund_flows", "gx_fct_fund_flows", True),
         GateResult("raw/bank__transactions", "raw_gate", False)]


def _build(serving: Path, out: Path, lang: str, gates=None) -> str:
    with open_serving(serving) as reader:
        lists = build_action_lists(reader)
    return build_report(serving, out, lang, gate_results=gates, action_lists=lists).read_text(encoding="utf-8")


@pytest.fixture()
def full_serving(tmp_path) -> Path:
    return write_serving(tmp_path / "marts.duckdb")


def test_both_languages_have_every_label() -> None:
    assert set(LABELS["zh"]) == set(LABELS["en"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_has_the_structure_and_every_chart(full_serving, tmp_path, lang) -> None:
    html = _build(full_serving, tmp_path / "reports", lang, GATES)
    t = LABELS[lang]
    for heading in ("background", "method", "results", "conclusions", "appendix_quality"):
        assert t[heading] in html
    for chart in CHART_IDS:
        assert f'id="{chart}"' in html, chart
    assert 'data-status="draft"' in html
    assert f'lang="{t["html_lang"]}"' in html
    # self-contained: plotly.js inlined once, no external script, stylesheet or image
    assert html.count("plotly.js v") >= 1
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "not_available" not in html and t["not_available"].split("{")[0] not in html


def test_conclusions_are_computed_from_the_data(full_serving, tmp_path) -> None:
    html = _build(full_serving, tmp_path / "reports", "en", GATES)
    conclusions = html.split('id="conclusions"')[1].split("</ul>")[0]
    assert "1 retention targets" in conclusions and "2 risk-review cases" in conclusions
    assert "Quality gates: 1 failed." in conclusions
    assert "The largest segment is" in conclusions


def test_failed_gates_are_listed_first_in_the_appendix(full_serving, tmp_path) -> None:
    html = _build(full_serving, tmp_path / "reports", "en", GATES)
    appendix = html.split('id="section-quality"')[1]
    assert "2 checks: 1 passed, 1 failed." in appendix
    assert appendix.index("raw_gate") < appendix.index("gx_fct_fund_flows")
    assert '<tr class="failed"><td>raw/bank__transactions' in appendix


def test_a_first_release_serving_copy_renders_with_notes(tmp_path) -> None:
    serving = write_serving(tmp_path / "marts.duckdb", full=False)
    html = _build(serving, tmp_path / "reports", "en")
    for missing in ("ml.customer_segment_profiles", "mart_key_accounts", "ml.risk_flags", "mart_action_effect",
                    "quality.check_results", "churn_probability"):
        assert f"Not available in this version: {missing}" in html, missing
    # what the first release has is still drawn (the Sankey and the regional map from fallbacks)
    for chart in ("chart-monthly", "chart-sankey", "chart-regional"):
        assert f'id="{chart}"' in html
    assert 'id="chart-pareto"' not in html


def test_approval_records_who_and_when_and_locks_the_report(full_serving, tmp_path) -> None:
    out = tmp_path / "reports"
    for lang in ("zh", "en"):
        _build(full_serving, out, lang)
    with pytest.raises(ReviewError):
        approve(out, "  ")
    approval = approve(out, "王经理")
    assert approval.version == "20260101T000000000000Z" and approval.approved_by == "王经理"
    record = json.loads((out / "approvals.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["approved_by"] == "王经理" and record["approved_at"] == approval.approved_at
    assert {f["path"] for f in record["files"]} == {f"fundflow_report_{approval.version}_{l}.html" for l in ("zh", "en")}
    zh = (out / f"fundflow_report_{approval.version}_zh.html").read_text(encoding="utf-8")
    assert 'data-status="approved"' in zh and "已审核：王经理" in zh and 'data-status="draft"' not in zh
    assert status(out)[0][2] == approval
    with pytest.raises(ReviewError, match="already approved"):
        approve(out, "someone else")
    with pytest.raises(ReviewError, match="not rebuilt"):
        _build(full_serving, out, "en")
    assert len(approvals(out)) == 1


def test_approve_takes_the_latest_version_unless_told(tmp_path) -> None:
    out = tmp_path / "reports"
    for version in ("20260101T000000000000Z", "20260201T000000000000Z"):
        _build(write_serving(tmp_path / f"{version}.duckdb", version=version), out, "en")
    assert approve(out, "a").version == "20260201T000000000000Z"
    assert approve(out, "b", version="20260101T000000000000Z").version == "20260101T000000000000Z"
    with pytest.raises(ReviewError, match="no report"):
        approve(out, "c", version="19990101T000000000000Z")


def test_an_empty_serving_copy_gives_a_report_of_notes(tmp_path) -> None:
    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with open_serving(tmp_path / "empty.duckdb") as reader:
        lists = build_action_lists(reader)
    assert all(a.targets.empty and a.note for a in lists.lists.values())
    html = build_report(tmp_path / "empty.duckdb", tmp_path / "reports", "en", action_lists=lists).read_text(encoding="utf-8")
    assert html.count("Not available in this version") >= 9 and "plotly-graph-div" not in html


def test_the_appendix_reads_the_gate_results_published_in_serving(full_serving, tmp_path) -> None:
    import duckdb

    from expectations.results import ensure_check_results_table

    con = duckdb.connect(str(full_serving))
    ensure_check_results_table(con)
    con.execute(
        """insert into quality.check_results (run_id, checked_at, check_name, asset, suite, severity,
                                              expectation_index, expectation, success)
           values ('r1', now(), 'gx_fct_fund_flows', 'marts.fct_fund_flows', 's', 'error', 1, 'e1', true),
                  ('r1', now(), 'gx_fct_fund_flows', 'marts.fct_fund_flows', 's', 'error', 2, 'e2', false),
                  ('r1', now(), 'gx_bank', 'raw.bank__transactions', 's', 'warn', 1, 'e1', true)"""
    )
    con.close()
    html = _build(full_serving, tmp_path / "reports", "en")  # no run results passed: serving's are used
    appendix = html.split('id="section-quality"')[1]
    assert "2 checks: 1 passed, 1 failed." in appendix
    assert '<tr class="failed"><td>marts.fct_fund_flows</td><td>gx_fct_fund_flows' in appendix
