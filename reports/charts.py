"""Plotly figures for the report, one function per chart, from plain DataFrames.

Pure: each function takes the frame a section query returned and the label dictionary of the
report language, and returns a figure. Plotly is used rather than hand-drawn SVG because the
report needs a Sankey, heat maps and hover details; its JavaScript is inlined once per page
(see ``reports.fundflow_report``), so nothing is fetched when the report opens. Amount axes and
hovers carry ``t["currency"]``, the warehouse's reporting currency (``reports.currency``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

INFLOW, OUTFLOW, NET = "#2f7d5b", "#c0563a", "#2b4f81"
_LAYOUT = dict(template="simple_white", height=420, margin=dict(l=60, r=20, t=50, b=50), font=dict(size=12))


def _layout(figure: go.Figure, title: str, **extra) -> go.Figure:
    figure.update_layout(title=title, **{**_LAYOUT, **extra})
    return figure


def monthly_flows(history: pd.DataFrame, forecast: pd.DataFrame, t: dict) -> go.Figure:
    """Bars of monthly inflow and outflow, the net line, and each series' forecast with its interval.

    ``history``: month, inflow, outflow, net. ``forecast``: series, month, forecast, lower, upper.
    """
    figure = go.Figure()
    figure.add_bar(x=history["month"], y=history["inflow"], name=t["inflow"], marker_color=INFLOW)
    figure.add_bar(x=history["month"], y=-history["outflow"], name=t["outflow"], marker_color=OUTFLOW)
    figure.add_scatter(x=history["month"], y=history["net"], name=t["net"], mode="lines+markers", line_color=NET)
    colours = {"inflow": INFLOW, "outflow": OUTFLOW, "net": NET}
    signs = {"inflow": 1, "outflow": -1, "net": 1}  # outflow drawn below zero, like its bars
    for series, ahead in forecast.groupby("series", sort=False):
        if series not in colours:
            continue
        sign, colour = signs[series], colours[series]
        # Join the forecast to the last actual month so the dashed line continues the history.
        last = history.iloc[[-1]] if len(history) else None
        x = list(ahead["month"]) if last is None else [last["month"].iloc[0], *ahead["month"]]
        y = list(sign * ahead["forecast"]) if last is None else [sign * last[series].iloc[0], *(sign * ahead["forecast"])]
        figure.add_scatter(x=list(ahead["month"]) + list(ahead["month"])[::-1],
                           y=list(sign * ahead["upper"]) + list(sign * ahead["lower"])[::-1],
                           fill="toself", fillcolor=colour, opacity=0.18, line=dict(width=0), hoverinfo="skip",
                           name=f"{t[series]} · {t['interval']}", showlegend=True)
        figure.add_scatter(x=x, y=y, name=f"{t[series]} · {t['forecast']}", mode="lines",
                           line=dict(color=colour, dash="dash"))
    return _layout(figure, t["chart_monthly"], barmode="relative", yaxis_title=t["currency"], hovermode="x unified")


def fund_flow_sankey(paths: pd.DataFrame, t: dict) -> go.Figure:
    """``paths``: from_node, to_node, amount_cny (one row per edge)."""
    nodes = list(dict.fromkeys([*paths["from_node"], *paths["to_node"]]))
    index = {name: i for i, name in enumerate(nodes)}
    figure = go.Figure(
        go.Sankey(
            node=dict(label=nodes, pad=14, thickness=14),
            link=dict(source=[index[n] for n in paths["from_node"]], target=[index[n] for n in paths["to_node"]],
                      value=paths["amount_cny"].astype(float).tolist()),
            valueformat=",.0f", valuesuffix=f" {t['currency']}",
        )
    )
    return _layout(figure, t["chart_sankey"], height=520)


def segment_profiles(profiles: pd.DataFrame, t: dict) -> go.Figure:
    """Heat map of each segment's feature medians relative to the median over segments (z-score
    per feature, so features of different units share one colour scale), with sizes in the labels."""
    features = [c for c in profiles.columns if c.startswith("median_")]
    values = profiles[features].astype(float)
    spread = values.std(ddof=0).replace(0, 1.0)
    z = ((values - values.median()) / spread).clip(-3, 3)
    rows = [f"{name} ({int(n):,})" for name, n in zip(profiles["segment_name"], profiles["customers"])]
    figure = go.Figure(
        go.Heatmap(z=z.values, x=[f.removeprefix("median_") for f in features], y=rows,
                   customdata=values.values, colorscale="RdBu", zmid=0,
                   hovertemplate="%{y}<br>%{x}: %{customdata:,.2f}<extra></extra>")
    )
    return _layout(figure, t["chart_segments"], height=max(320, 60 * len(rows) + 160), xaxis_tickangle=-40)


def key_account_pareto(accounts: pd.DataFrame, t: dict) -> go.Figure:
    """``accounts``: customer_id, revenue_proxy_cny_12m, cumulative_share, tier (latest period)."""
    ranked = accounts.sort_values("revenue_proxy_cny_12m", ascending=False).reset_index(drop=True)
    rank = np.arange(1, len(ranked) + 1)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_bar(x=rank, y=ranked["revenue_proxy_cny_12m"], name=t["revenue_proxy"], marker_color=NET,
                   customdata=ranked[["customer_id", "tier"]].values,
                   hovertemplate="#%{x} %{customdata[0]} (%{customdata[1]})<br>%{y:,.0f} " + t["currency"] + "<extra></extra>")
    figure.add_scatter(x=rank, y=ranked["cumulative_share"], name=t["cumulative_share"], mode="lines",
                       line_color=OUTFLOW, secondary_y=True)
    figure.update_yaxes(tickformat=".0%", range=[0, 1.02], secondary_y=True)
    return _layout(figure, t["chart_pareto"], xaxis_title=t["customer_rank"])


def tier_changes(changes: pd.DataFrame, t: dict) -> go.Figure:
    """``changes``: key_account_change, customers."""
    figure = go.Figure(go.Bar(x=changes["key_account_change"], y=changes["customers"], marker_color=NET,
                              text=changes["customers"], textposition="outside"))
    return _layout(figure, t["chart_tiers"], height=340)


def churn_risk_distribution(scores: pd.DataFrame, t: dict) -> go.Figure:
    """``scores``: churn_probability, churn_risk_band."""
    figure = go.Figure()
    for band, group in scores.groupby(scores["churn_risk_band"].fillna("?"), sort=True):
        figure.add_histogram(x=group["churn_probability"], name=str(band), xbins=dict(start=0, end=1, size=0.05))
    return _layout(figure, t["chart_churn"], barmode="stack", xaxis_title=t["churn_probability"], height=340)


def risk_flags_by_rule(flags: pd.DataFrame, t: dict) -> go.Figure:
    """``flags``: rule, flags, customers."""
    figure = go.Figure(go.Bar(y=flags["rule"], x=flags["flags"], orientation="h", marker_color=OUTFLOW,
                              customdata=flags["customers"],
                              hovertemplate="%{y}: %{x} / %{customdata}<extra></extra>"))
    return _layout(figure, t["chart_risk_flags"], height=max(300, 40 * len(flags) + 140))


def regional_heatmap(regional: pd.DataFrame, t: dict, value_label: str) -> go.Figure:
    """``regional``: region, month, value (long)."""
    grid = regional.pivot_table(index="region", columns="month", values="value", aggfunc="sum").sort_index()
    figure = go.Figure(go.Heatmap(z=grid.values, x=[str(m)[:7] for m in grid.columns], y=list(grid.index),
                                  colorscale="Viridis", colorbar=dict(title=value_label),
                                  hovertemplate="%{y} %{x}: %{z:,.0f}<extra></extra>"))
    return _layout(figure, f"{t['chart_regional']} · {value_label}", height=max(340, 28 * len(grid) + 160))


def kpi_trends(kpis: pd.DataFrame, columns: dict[str, str], t: dict) -> go.Figure:
    """Small multiples: ``kpis`` has month and the columns named in ``columns`` (label → column)."""
    labels = list(columns)
    figure = make_subplots(rows=2, cols=2, subplot_titles=labels, shared_xaxes=True)
    for i, label in enumerate(labels):
        figure.add_scatter(x=kpis["month"], y=kpis[columns[label]], mode="lines+markers", name=label,
                           row=i // 2 + 1, col=i % 2 + 1, line_color=[NET, OUTFLOW, INFLOW, "#8a5a9e"][i % 4])
    return _layout(figure, t["chart_kpis"], height=560, showlegend=False)


def action_effect(effect: pd.DataFrame, t: dict) -> go.Figure:
    """``effect``: label, metric, targeted, control (one row per list snapshot and metric)."""
    figure = make_subplots(rows=1, cols=3, subplot_titles=[t["effect_active"], t["effect_net"], t["effect_churn"]])
    for col, metric in enumerate(("active_rate", "avg_net_flow_cny", "churn_rate"), start=1):
        part = effect[effect["metric"] == metric]
        figure.add_bar(x=part["label"], y=part["targeted"], name=t["targeted"], marker_color=NET,
                       showlegend=col == 1, row=1, col=col)
        figure.add_bar(x=part["label"], y=part["control"], name=t["control"], marker_color="#9aa5b1",
                       showlegend=col == 1, row=1, col=col)
    return _layout(figure, t["chart_effect"], barmode="group", height=380)
