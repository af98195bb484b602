"""The refresh summary report: what the warehouse holds after a refresh and what it says.

Reads only the serving copy, like every other reader. Charts are inline SVG drawn here so the
page works offline and fetches nothing (no CDN scripts). Amounts are labelled with the reporting
currency the copy was published in (``reports.currency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.currency import published_currency

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Bar:
    label: str
    inflow: float
    outflow: float


def _monthly_bars(con: duckdb.DuckDBPyConnection) -> list[Bar]:
    rows = con.execute(
        """select strftime(month, '%Y-%m') as month, sum(inflow_cny), sum(outflow_cny)
           from marts.mart_customer_monthly group by all order by 1"""
    ).fetchall()
    return [Bar(m, float(i or 0), float(o or 0)) for m, i, o in rows]


def _svg_bars(bars: list[Bar], currency: str, width: int = 900, height: int = 260) -> str:
    """Paired bars (inflow, outflow) per month; a plain SVG string."""
    if not bars:
        return "<p>No monthly flows.</p>"
    top = max(max(b.inflow, b.outflow) for b in bars) or 1.0
    slot = width / len(bars)
    bar_w = max(slot * 0.38, 1.0)
    parts = [f'<svg viewBox="0 0 {width} {height + 40}" role="img" aria-label="monthly inflow and outflow">']
    for index, bar in enumerate(bars):
        x = index * slot
        for offset, value, css in ((0, bar.inflow, "in"), (bar_w, bar.outflow, "out")):
            h = value / top * height
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{height - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{bar.label} {css}: {value:,.0f} {currency}</title></rect>'
            )
        if index % max(len(bars) // 12, 1) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 16}" font-size="11">{bar.label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def build_refresh_summary(serving_path: Path, out_dir: Path) -> Path:
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        publication = _query(con, "select * from meta.publication")[0]
        currency = published_currency(con)
        tables = [
            # marts are published into the serving file's default schema (see warehouse.publishing)
            {"schema": "marts" if schema == "main" else schema, "name": name,
             "rows": con.execute(f'select count(*) from {schema}."{name}"').fetchone()[0]}
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name in ('main', 'ml') order by 1, 2"
            ).fetchall()
        ]
        kpis = _query(
            con,
            """select count(distinct customer_id) as customers,
                      sum(case when direction = 'in' then amount_cny end) as inflow_cny,
                      sum(case when direction = 'out' then amount_cny end) as outflow_cny,
                      count(*) as flows, min(flow_date) as first_date, max(flow_date) as last_date
               from marts.fct_fund_flows
               -- income and spending: internal transfers and cross-channel echoes would count twice
               where not is_internal_transfer and not is_echo""",
        )[0]
        segments = (
            _query(
                con,
                """select segment_name, count(*) as customers from ml.customer_segments
                   group by all order by customers desc""",
            )
            if _table_exists(con, "ml", "customer_segments")
            else []
        )
        forecast = (
            _query(con, "select * from ml.monthly_flow_forecast order by series, month")
            if _table_exists(con, "ml", "monthly_flow_forecast")
            else []
        )
        bars = _monthly_bars(con)
    finally:
        con.close()

    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("refresh_summary.html.j2").render(
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        publication=publication,
        tables=tables,
        kpis=kpis,
        segments=segments,
        forecast=forecast,
        currency=currency,
        monthly_chart=_svg_bars(bars, currency),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "refresh_summary.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
