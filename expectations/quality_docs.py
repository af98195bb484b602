"""A static HTML quality report (our Data Docs) built from ``quality.check_results``.

Why not GX's own Data Docs: they render from a file-backed GX project (stores, checkpoints,
validation-result JSON) that the gates deliberately do not keep (ephemeral contexts, results in
DuckDB), and their pages pull fonts and scripts from a CDN, which the design forbids. This page
shows the same content (each check, each expectation, observed value, unexpected count, sample
of failing rows) from the results table, with inline CSS and nothing fetched at view time.

``build_quality_docs`` writes ``index.html`` (every check's latest verdict) and one page per
check (``<schema>.<table>.<check>.html``) into ``$FUNDFLOW_HOME/docs/quality``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import duckdb

from expectations.results import latest_results, quality_summary

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.warn{color:#9a6700;font-weight:600}code{font-size:.85rem;white-space:pre-wrap}
"""


def check_page_name(asset: str, check_name: str) -> str:
    return f"{asset}.{check_name}.html"


def build_quality_docs(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Path:
    """(Re)write the report from the latest results; return the index page's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = latest_results(con)
    by_check: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_check.setdefault((row["asset"], row["check_name"]), []).append(row)
    for (asset, check_name), expectations in by_check.items():
        _write(out_dir / check_page_name(asset, check_name), f"{asset} · {check_name}", _check_body(expectations))
    summary = quality_summary(con)
    index = out_dir / "index.html"
    _write(index, "fundflow data quality", _index_body(summary, by_check))
    return index


def _verdict(passed: bool, severity: str) -> str:
    if passed:
        return '<span class="pass">passed</span>'
    return '<span class="fail">FAILED (blocks)</span>' if severity == "error" else '<span class="warn">failed (warn)</span>'


def _index_body(summary: dict[str, Any], by_check: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    e = html.escape
    parts = [
        f"<p>{summary['passed_checks']} of {summary['checks']} checks passed "
        f"({summary['expectations']} expectations); blocking failures: {len(summary['failed_errors'])}, "
        f"warnings: {len(summary['failed_warnings'])}.</p>",
        "<table><tr><th>asset</th><th>check</th><th>severity</th><th>verdict</th><th>failed expectations</th>"
        "<th>rows</th><th>checked at</th></tr>",
    ]
    for (asset, check_name), expectations in sorted(by_check.items()):
        first = expectations[0]
        passed = all(x["success"] for x in expectations)
        failed = ", ".join(x["expectation"] for x in expectations if not x["success"])
        link = e(check_page_name(asset, check_name))
        parts.append(
            f"<tr><td>{e(asset)}</td><td><a href=\"{link}\">{e(check_name)}</a></td><td>{e(first['severity'])}</td>"
            f"<td>{_verdict(passed, first['severity'])}</td><td>{e(failed)}</td><td>{first['row_count']}</td>"
            f"<td>{e(str(first['checked_at']))}</td></tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _check_body(expectations: list[dict[str, Any]]) -> str:
    e = html.escape
    first = expectations[0]
    parts = [
        f"<p>suite <code>{e(first['suite'])}</code>, run <code>{e(first['run_id'])}</code>, "
        f"{first['row_count']} rows, checked at {e(str(first['checked_at']))}. "
        '<a href="index.html">all checks</a></p>',
        "<table><tr><th>#</th><th>expectation</th><th>verdict</th><th>observed</th><th>unexpected</th>"
        "<th>sample of failing rows</th><th>error</th></tr>",
    ]
    for x in expectations:
        unexpected = "" if x["unexpected_count"] is None else f"{x['unexpected_count']} ({x['unexpected_percent'] or 0:.4g}%)"
        sample = json.dumps(json.loads(x["sample_failing_rows"]), ensure_ascii=False, indent=1) if x["sample_failing_rows"] else ""
        parts.append(
            f"<tr><td>{x['expectation_index']}</td><td><code>{e(x['expectation'])}</code></td>"
            f"<td>{_verdict(x['success'], first['severity'])}</td><td><code>{e(x['observed_value'] or '')}</code></td>"
            f"<td>{unexpected}</td><td><code>{e(sample)}</code></td><td>{e(x['exception'] or '')}</td></tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _write(path: Path, title: str, body: str) -> None:
    path.write_text(
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n",
        encoding="utf-8",
    )
