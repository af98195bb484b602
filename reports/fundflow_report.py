"""The refresh report (报告): background, method, results, conclusions, and a data-quality appendix.

One self-contained HTML file per serving version and language,
``$FUNDFLOW_HOME/reports/fundflow_report_<version>_<lang>.html``. It reads only the serving copy;
a table a given version does not publish yet becomes a visible "not available" note rather than
an error. plotly.js is inlined once in the page head, so the report opens offline and fetches
nothing. Amounts are labelled with the reporting currency the serving copy was published in
(``reports.currency``): the ``*_cny`` columns hold CZK for PKDD'99 data, not CNY. A new report
is a draft until approved (see ``reports.review``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from plotly.offline import get_plotlyjs

from reports import charts
from reports.actions import ActionLists, customer_profiles, risk_flag_rows_sql
from reports.currency import Currency, currency_for, published_currency
from reports.i18n import labels
from reports.review import ReviewError, approval_of, review_banner
from reports.serving_reader import MARTS, ServingReader, open_serving

_TEMPLATES = Path(__file__).parent / "templates"
_CHANNELS = ("bank", "payments", "ecommerce", "cards", "crm")
TOP_ROWS = 15


@dataclass
class Table:
    columns: list[str]
    rows: list[list]
    title: str | None = None


@dataclass
class Section:
    key: str
    title: str
    charts: list[str] = field(default_factory=list)  # HTML fragments (plotly divs)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GateResult:
    asset: str
    check: str
    passed: bool
    severity: str = "ERROR"


def report_path(out_dir: Path, version: str, lang: str) -> Path:
    return out_dir / f"fundflow_report_{version}_{lang}.html"


def _chart(figure, key: str) -> str:
    return pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=f"chart-{key}",
                       default_height="auto", config={"displaylogo": False, "responsive": True})


def _missing(t: dict, what: str) -> str:
    return t["not_available"].format(what=what)


# --- results sections --------------------------------------------------------------------------

def _monthly_history(reader: ServingReader) -> pd.DataFrame:
    return reader.df(
        f"""select month::date as month, sum(inflow_cny) as inflow, sum(outflow_cny) as outflow,
                   sum(net_cny) as net
            from {MARTS}.mart_customer_monthly group by 1 order by 1"""
    )


def flows_section(reader: ServingReader, t: dict, facts: dict) -> Section:
    section = Section("flows", t["section_flows"])
    if not reader.has(MARTS, "mart_customer_monthly"):
        section.notes.append(_missing(t, "mart_customer_monthly"))
        return section
    history = _monthly_history(reader)
    forecast = pd.DataFrame(columns=["series", "month", "forecast", "lower", "upper"])
    if reader.has_columns("ml", "monthly_flow_forecast", ["series", "month", "forecast", "lower", "upper"]):
        frame = reader.df("select * from ml.monthly_flow_forecast order by series, month")
        if "kind" in frame.columns:  # a long frame with history: keep only the months ahead
            frame = frame[frame["kind"] == "forecast"]
        forecast = frame[frame["month"] > history["month"].max()] if len(history) else frame
    else:
        section.notes.append(_missing(t, "ml.monthly_flow_forecast"))
    section.charts.append(_chart(charts.monthly_flows(history, forecast, t), "monthly"))
    facts["history"], facts["forecast"] = history, forecast
    return section


def sankey_section(reader: ServingReader, t: dict) -> Section:
    section = Section("sankey", t["section_sankey"])
    if reader.has_columns(MARTS, "mart_fund_flow_paths", ["from_node", "to_node", "amount_cny"]):
        paths = reader.df(
            f"""select from_node, to_node, sum(amount_cny) as amount_cny from {MARTS}.mart_fund_flow_paths
                where from_node is not null and to_node is not null group by all having sum(amount_cny) > 0"""
        )
    elif reader.has(MARTS, "fct_fund_flows"):
        # Fallback for versions without the paths mart: income category → channel → spending
        # category, straight from the canonical flows with the same exclusions as income/spending.
        paths = reader.df(
            f"""with flows as (
                    select * from {MARTS}.fct_fund_flows
                    where not is_internal_transfer and not is_echo and customer_id is not null)
                select 'in · ' || category as from_node, source_channel as to_node, sum(amount_cny) as amount_cny
                from flows where direction = 'in' group by all
                union all
                select source_channel, 'out · ' || split_part(category, ':', 1), sum(amount_cny)
                from flows where direction = 'out' group by all"""
        )
        section.notes.append(_missing(t, "mart_fund_flow_paths (drawn from fct_fund_flows)"))
    else:
        section.notes.append(_missing(t, "mart_fund_flow_paths"))
        return section
    paths = paths[paths["amount_cny"] > 0]
    if len(paths):
        section.charts.append(_chart(charts.fund_flow_sankey(paths, t), "sankey"))
    return section


def segments_section(reader: ServingReader, t: dict, facts: dict) -> Section:
    section = Section("segments", t["section_segments"])
    if not reader.has_columns("ml", "customer_segment_profiles", ["segment_name", "customers"]):
        section.notes.append(_missing(t, "ml.customer_segment_profiles"))
        return section
    profiles = reader.df("select * from ml.customer_segment_profiles order by customers desc")
    section.charts.append(_chart(charts.segment_profiles(profiles, t), "segments"))
    facts["largest_segment"] = (profiles["segment_name"].iloc[0], profiles["customers"].iloc[0] / profiles["customers"].sum())
    return section


def key_accounts_section(reader: ServingReader, t: dict, facts: dict) -> Section:
    section = Section("key_accounts", t["section_key_accounts"])
    needed = ["customer_id", "period_month", "tier", "revenue_proxy_cny_12m", "cumulative_share"]
    if not reader.has_columns(MARTS, "mart_key_accounts", needed):
        section.notes.append(_missing(t, "mart_key_accounts"))
        return section
    latest = f"(select max(period_month) from {MARTS}.mart_key_accounts)"
    accounts = reader.df(
        f"""select customer_id, tier, revenue_proxy_cny_12m, cumulative_share from {MARTS}.mart_key_accounts
            where period_month = {latest} and revenue_proxy_cny_12m > 0"""
    )
    if len(accounts):
        section.charts.append(_chart(charts.key_account_pareto(accounts, t), "pareto"))
        ranked = accounts.sort_values("revenue_proxy_cny_12m", ascending=False)
        top = max(1, round(len(ranked) * 0.2))
        facts["pareto"] = (top, ranked["revenue_proxy_cny_12m"].head(top).sum() / ranked["revenue_proxy_cny_12m"].sum())
    if "key_account_change" in reader.columns(MARTS, "mart_key_accounts"):
        changes = reader.df(
            f"""select coalesce(key_account_change, 'unchanged') as key_account_change, count(*) as customers
                from {MARTS}.mart_key_accounts where period_month = {latest} group by 1 order by 2 desc"""
        )
        section.charts.append(_chart(charts.tier_changes(changes, t), "tiers"))
    else:
        section.notes.append(_missing(t, "mart_key_accounts.key_account_change"))
    return section


def churn_section(profiles: pd.DataFrame, t: dict, facts: dict, currency: Currency) -> Section:
    section = Section("churn", t["section_churn"])
    scored = profiles.dropna(subset=["churn_probability"])
    if not len(scored):
        section.notes.append(_missing(t, "churn_probability"))
        return section
    scored = scored.astype({"churn_probability": float})
    section.charts.append(_chart(charts.churn_risk_distribution(scored, t), "churn"))
    # customers already churned are gone (win-back, not retention): the table lists who can still be kept
    active = scored[scored["churn_risk_band"].astype("string").str.lower() != "churned"]
    top = active.sort_values(["churn_probability", "customer_id"], ascending=[False, True]).head(TOP_ROWS)
    section.tables.append(Table(
        [t["customer_id"], t["segment"], t["band"], t["probability"], t["clv"], t["reason"]],
        [[r.customer_id[:12], r.segment_name, r.churn_risk_band, f"{r.churn_probability:.2f}", currency.money(r.clv_12m_cny),
          r.churn_top_features or ""] for r in top.itertuples()],
        t["top_churn"],
    ))
    facts["high_churn"] = int((scored["churn_risk_band"].astype("string").str.lower() == "high").sum())
    return section


def risk_section(reader: ServingReader, t: dict, action_lists: ActionLists | None) -> Section:
    section = Section("risk", t["section_risk"])
    rows_sql = risk_flag_rows_sql(reader)
    if rows_sql is None:
        section.notes.append(_missing(t, "ml.risk_flags"))
        return section
    by_rule = reader.df(
        f"""with flag_rows as ({rows_sql})
            select rule, count(*) as flags, count(distinct customer_id) as customers from flag_rows group by 1 order by 2"""
    )
    if len(by_rule):
        section.charts.append(_chart(charts.risk_flags_by_rule(by_rule, t), "risk_flags"))
    if action_lists is not None:
        cases = action_lists.lists["risk_review_cases"].targets.head(TOP_ROWS)
        reason = "reason_zh" if t["html_lang"].startswith("zh") else "reason"
        section.tables.append(Table(
            [t["customer_id"], t["flags"], t["rules"], t["reason"]],
            [[r["customer_id"][:12], r.get("flag_count", ""), r.get("rules", ""), r[reason]] for _, r in cases.iterrows()],
            t["top_risk"],
        ))
    return section


def regional_section(reader: ServingReader, t: dict) -> Section:
    section = Section("regional", t["section_regional"])
    if reader.has_columns(MARTS, "mart_kpis", ["month", "dimension", "dimension_value", "active_customers"]):
        regional = reader.df(
            f"""select dimension_value as region, month::date as month, active_customers as value
                from {MARTS}.mart_kpis where dimension = 'region'"""
        )
    elif reader.has_columns(MARTS, "dim_customer", ["customer_id", "city"]) and reader.has(MARTS, "mart_customer_monthly"):
        # Fallback before mart_kpis: active customers per city and month from the monthly mart.
        regional = reader.df(
            f"""select coalesce(c.city, '?') as region, m.month::date as month, count(distinct m.customer_id) as value
                from {MARTS}.mart_customer_monthly m join {MARTS}.dim_customer c using (customer_id)
                where m.flow_count > 0 group by all"""
        )
        section.notes.append(_missing(t, "mart_kpis (drawn from mart_customer_monthly by city)"))
    else:
        section.notes.append(_missing(t, "mart_kpis"))
        return section
    if len(regional):
        value_label = "active customers" if t["html_lang"] == "en" else "活跃客户数"
        section.charts.append(_chart(charts.regional_heatmap(regional, t, value_label), "regional"))
    return section


def _kpi_column(columns: list[str], *patterns: str) -> str | None:
    for pattern in patterns:
        for column in columns:
            if pattern in column:
                return column
    return None


def kpis_section(reader: ServingReader, t: dict) -> Section:
    section = Section("kpis", t["section_kpis"])
    columns = reader.columns(MARTS, "mart_kpis")
    if not {"month", "dimension"} <= set(columns):
        section.notes.append(_missing(t, "mart_kpis"))
        return section
    chosen = {
        t["kpi_clv"]: _kpi_column(columns, "clv"),
        t["kpi_cac"]: _kpi_column(columns, "cac"),
        t["kpi_churn"]: _kpi_column(columns, "churn_rate"),
        t["kpi_csat"]: _kpi_column(columns, "csat"),
    }
    absent = [label for label, column in chosen.items() if column is None]
    if absent:
        section.notes.append(_missing(t, ", ".join(absent)))
    chosen = {label: column for label, column in chosen.items() if column is not None}
    if chosen:
        select = ", ".join(f'"{c}"' for c in dict.fromkeys(chosen.values()))
        kpis = reader.df(f"select month::date as month, {select} from {MARTS}.mart_kpis where dimension = 'all' order by 1")
        section.charts.append(_chart(charts.kpi_trends(kpis, chosen, t), "kpis"))
    return section


def actions_section(reader: ServingReader, t: dict, action_lists: ActionLists | None, facts: dict) -> Section:
    section = Section("actions", t["section_actions"])
    names = dict(item.split("=") for item in t["action_list_names"].split(";"))
    if action_lists is not None:
        section.tables.append(Table(
            [t["list"], t["targets"], t["file"]],
            [[names[name], len(a.targets), f"actions/{action_lists.snapshot_id}/{name}.csv"
              + (f" ({a.note})" if a.note else "")] for name, a in action_lists.lists.items()],
        ))
        facts["actions"] = {name: len(a.targets) for name, a in action_lists.lists.items()}
    needed = ["list_name", "snapshot_id", "followup_complete", "target_active_rate", "control_active_rate"]
    if not reader.has_columns(MARTS, "mart_action_effect", needed):
        section.notes.append(_missing(t, "mart_action_effect"))
        return section
    effect = reader.df(f"select * from {MARTS}.mart_action_effect where followup_complete order by as_of_month, list_name")
    if not len(effect):
        section.notes.append(t["effect_pending"])
        return section
    long = []
    for row in effect.itertuples():
        label = f"{names.get(row.list_name, row.list_name)} {str(row.as_of_month)[:7]}"
        for metric, target, control in (
            ("active_rate", row.target_active_rate, row.control_active_rate),
            ("avg_net_flow_cny", row.target_avg_net_flow_cny, row.control_avg_net_flow_cny),
            ("churn_rate", row.target_churn_rate, row.control_churn_rate),
        ):
            long.append({"label": label, "metric": metric, "targeted": target, "control": control})
    section.charts.append(_chart(charts.action_effect(pd.DataFrame(long), t), "effect"))
    return section


# --- appendix, facts, conclusions ---------------------------------------------------------------

def gate_results_from_serving(reader: ServingReader) -> list[GateResult] | None:
    """The latest result of every gate check published in serving (``quality.check_results``,
    read through the gates' own ``expectations.results.latest_results``), one row per check."""
    from expectations.results import latest_results

    if not reader.has("quality", "check_results"):
        return None
    checks: dict[tuple[str, str], GateResult] = {}
    for row in latest_results(reader.con):
        key = (row["asset"], row["check_name"])
        previous = checks.get(key)
        passed = bool(row["success"]) and (previous is None or previous.passed)
        checks[key] = GateResult(row["asset"], row["check_name"], passed, str(row["severity"]))
    return list(checks.values())


def quality_appendix(gates: list[GateResult] | None, t: dict, facts: dict) -> Section:
    section = Section("quality", t["appendix_quality"])
    if gates is None:
        section.notes.append(_missing(t, "quality.check_results"))
        return section
    failed = [g for g in gates if not g.passed]
    facts["failed_checks"] = len(failed)
    section.notes.append(t["checks_summary"].format(total=len(gates), passed=len(gates) - len(failed), failed=len(failed)))
    # Failures first, then the passing checks, so a reader sees what went wrong at the top.
    ordered = sorted(gates, key=lambda g: (g.passed, g.asset, g.check))
    section.tables.append(Table(
        [t["asset"], t["check"], t["status"]],
        [[g.asset, g.check, t["passed"] if g.passed else t["failed"]] for g in ordered],
    ))
    return section


def _key_figures(reader: ServingReader) -> dict:
    if not reader.has(MARTS, "fct_fund_flows"):
        return dict.fromkeys(("customers", "flows", "income", "spending", "first_date", "last_date"))
    return reader.df(
        f"""select count(distinct customer_id) as customers, count(*) as flows,
                   sum(case when direction = 'in' then amount_cny end) as income,
                   sum(case when direction = 'out' then amount_cny end) as spending,
                   min(flow_date) as first_date, max(flow_date) as last_date
            from {MARTS}.fct_fund_flows
            -- income and spending: internal transfers and cross-channel echoes would count twice
            where not is_internal_transfer and not is_echo"""
    ).iloc[0].to_dict()


def _models(reader: ServingReader) -> list[list]:
    rows = []
    for table in reader.tables("ml"):
        if "model_version" in reader.columns("ml", table):
            version, rows_count = reader.con.execute(
                f'select any_value(model_version), count(*) from ml."{table}"'
            ).fetchone()
            rows.append([f"ml.{table}", version, f"{rows_count:,}"])
    return rows


def conclusions(facts: dict, t: dict, currency: Currency) -> list[str]:
    """Statements computed from the figures above, so the text always matches the charts."""
    lines = []
    _money = currency.money
    history = facts.get("history")
    if history is not None and len(history) >= 6:
        recent, before = history["net"].iloc[-3:].sum(), history["net"].iloc[-6:-3].sum()
        change = t["increase" if recent >= before else "decrease"].format(value=_money(abs(recent - before)))
        lines.append(t["conclusion_net"].format(recent=_money(recent), change=change))
    forecast = facts.get("forecast")
    if forecast is not None and len(forecast[forecast["series"] == "net"]):
        net = forecast[forecast["series"] == "net"]
        lines.append(t["conclusion_forecast"].format(
            months=len(net), total=_money(net["forecast"].sum()), level="90%",
            lower=_money(net["lower"].sum()), upper=_money(net["upper"].sum())))
    if "largest_segment" in facts:
        name, share = facts["largest_segment"]
        lines.append(t["conclusion_segment"].format(name=name, share=f"{share:.0%}"))
    if "pareto" in facts:
        top, share = facts["pareto"]
        lines.append(t["conclusion_pareto"].format(top=top, share=f"{share:.0%}"))
    if "high_churn" in facts:
        lines.append(t["conclusion_churn"].format(high=facts["high_churn"]))
    if "actions" in facts:
        counts = facts["actions"]
        lines.append(t["conclusion_actions"].format(
            retention=counts["retention_targets"], upsell=counts["upsell_targets"], risk=counts["risk_review_cases"]))
    if "failed_checks" in facts:
        lines.append(t["conclusion_quality"].format(failed=facts["failed_checks"]))
    return lines


def render_report(
    reader: ServingReader,
    lang: str,
    *,
    gate_results: list[GateResult] | None = None,
    action_lists: ActionLists | None = None,
) -> tuple[str, str]:
    """(version, HTML) of the report on the serving copy ``reader`` in ``lang``."""
    currency = currency_for(published_currency(reader.con), lang)
    t = labels(lang, currency)
    publication = reader.publication()
    facts: dict = {}
    profiles, _ = customer_profiles(reader)
    sections = [
        flows_section(reader, t, facts),
        sankey_section(reader, t),
        segments_section(reader, t, facts),
        key_accounts_section(reader, t, facts),
        churn_section(profiles, t, facts, currency),
        risk_section(reader, t, action_lists),
        regional_section(reader, t),
        kpis_section(reader, t),
        actions_section(reader, t, action_lists, facts),
    ]
    # The run's own check evaluations (dbt tests and GX gates) when the refresh passes them in;
    # otherwise (``fundflow report`` later) the gate results published with this version.
    gates = gate_results if gate_results is not None else gate_results_from_serving(reader)
    appendix = quality_appendix(gates, t, facts)
    figures = _key_figures(reader)
    tables = [
        [f"{'marts' if schema == MARTS else schema}.{name}",
         f"{reader.scalar(f'select count(*) from {schema}.{chr(34)}{name}{chr(34)}'):,}"]
        for schema in (MARTS, "ml") for name in reader.tables(schema)
    ]
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("fundflow_report.html.j2").render(
        t=t,
        lang=lang,
        plotly_js=get_plotlyjs(),
        publication=publication,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        figures=figures,
        money=currency.money,
        background=t["background_text"].format(
            channels=len(_CHANNELS), customers=f"{int(figures.get('customers') or 0):,}",
            flows=f"{int(figures.get('flows') or 0):,}", first=str(figures.get("first_date"))[:10],
            last=str(figures.get("last_date"))[:10]),
        models=_models(reader),
        sections=sections,
        conclusions=conclusions(facts, t, currency),
        appendix=appendix,
        tables=tables,
        review_banner=review_banner(t, None),
    )
    return str(publication["version"]), html


def build_report(
    serving_path: Path,
    out_dir: Path,
    lang: str,
    *,
    gate_results: list[GateResult] | None = None,
    action_lists: ActionLists | None = None,
) -> Path:
    with open_serving(serving_path) as reader:
        version, html = render_report(reader, lang, gate_results=gate_results, action_lists=action_lists)
    existing = approval_of(out_dir, version)
    if existing is not None:
        # An approved report is a record: rebuilding it would silently replace what was reviewed.
        raise ReviewError(f"report {version} was approved by {existing.approved_by}; it is not rebuilt")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = report_path(out_dir, version, lang)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # readers never see a half-written report
    return path


def save_gate_results(out_dir: Path, version: str, gates: list[GateResult]) -> Path:
    """Keep the gate results of the run that published ``version`` beside its report, so a report
    rebuilt later (``fundflow report``) shows the same appendix."""
    import json
    from dataclasses import asdict

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"gates_{version}.json"
    path.write_text(json.dumps([asdict(g) for g in gates], ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def load_gate_results(out_dir: Path, version: str) -> list[GateResult] | None:
    import json

    path = out_dir / f"gates_{version}.json"
    if not path.exists():
        return None
    return [GateResult(**g) for g in json.loads(path.read_text(encoding="utf-8"))]
