"""A small serving copy with the agreed table shapes, for the report and action-list unit tests.

Written with known answers: customer ``c00`` is the highest CLV at high churn risk (a retention
target), ``c01`` accumulates money at low risk (an upsell target), ``c02`` has two risk flags.
``full=False`` publishes only the tables of the first release (no ML churn / risk / KPI marts),
to check that the report degrades to notes instead of failing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

CUSTOMERS = 40
MONTHS = pd.date_range("2024-01-01", periods=24, freq="MS").date


def customers() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ids = [f"c{i:02d}" for i in range(CUSTOMERS)]
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "segment_name": ["稳健储蓄 / steady savers" if i % 2 else "活跃消费 / active spenders" for i in range(CUSTOMERS)],
            "clv_12m_cny": rng.uniform(1_000, 20_000, CUSTOMERS).round(2),
            "churn_probability": rng.uniform(0.0, 0.19, CUSTOMERS).round(3),
            "net_flow_cny_12m": rng.uniform(-5_000, 5_000, CUSTOMERS).round(2),
            "latest_balance_cny": rng.uniform(0, 50_000, CUSTOMERS).round(2),
            "city": [["上海", "北京", "成都"][i % 3] for i in range(CUSTOMERS)],
            "key_account_tier": ["A" if i < 4 else "none" for i in range(CUSTOMERS)],
        }
    )
    frame.loc[0, ["clv_12m_cny", "churn_probability"]] = [50_000.0, 0.9]  # retention target
    frame.loc[3, ["clv_12m_cny", "churn_probability"]] = [1_000.0, 0.95]  # high risk, low value: not a target
    frame.loc[6, ["clv_12m_cny", "churn_probability"]] = [2_000.0, 0.8]  # c00's comparable untargeted customer
    frame.loc[8, ["clv_12m_cny", "churn_probability"]] = [60_000.0, 1.0]  # already churned: no retention case
    frame.loc[1, ["net_flow_cny_12m", "churn_probability"]] = [80_000.0, 0.05]  # upsell target
    frame["churn_risk_band"] = pd.cut(frame["churn_probability"], [-1, 0.2, 0.5, 1.0], labels=["low", "medium", "high"]).astype(str)
    frame.loc[8, "churn_risk_band"] = "churned"
    frame["churn_top_features"] = ["recency_days, frequency_12m"] * CUSTOMERS
    return frame


def monthly(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, customer in enumerate(frame["customer_id"]):
        for m, month in enumerate(MONTHS):
            if customer == "c00" and m >= 20:
                continue  # the high-risk customer goes quiet
            inflow, outflow = 1000.0 + 10 * i + 50 * m, 800.0 + 5 * i + 40 * m
            rows.append((customer, month, "bank", "salary", inflow, 0.0, inflow, 2))
            rows.append((customer, month, "payments", "consumption:food", 0.0, outflow, -outflow, 3))
    return pd.DataFrame(rows, columns=["customer_id", "month", "source_channel", "category", "inflow_cny",
                                       "outflow_cny", "net_cny", "flow_count"])


def flows(month_rows: pd.DataFrame) -> pd.DataFrame:
    flows_in = month_rows[month_rows["inflow_cny"] > 0].assign(direction="in", amount_cny=lambda f: f["inflow_cny"])
    flows_out = month_rows[month_rows["outflow_cny"] > 0].assign(direction="out", amount_cny=lambda f: f["outflow_cny"])
    frame = pd.concat([flows_in, flows_out], ignore_index=True)
    return pd.DataFrame(
        {
            "flow_id": [f"f{i}" for i in range(len(frame))],
            "customer_id": frame["customer_id"],
            "flow_date": frame["month"],
            "direction": frame["direction"],
            "amount_cny": frame["amount_cny"],
            "category": frame["category"],
            "source_channel": frame["source_channel"],
            "is_internal_transfer": False,
            "is_echo": False,
        }
    )


def write_serving(path: Path, *, full: bool = True, version: str = "20260101T000000000000Z") -> Path:
    people = customers()
    month_rows = monthly(people)
    con = duckdb.connect(str(path))
    try:
        tables: dict[str, pd.DataFrame] = {
            "main.fct_fund_flows": flows(month_rows),
            "main.mart_customer_monthly": month_rows,
            "main.dim_customer": people[["customer_id", "city"]],
            "main.mart_customer_features": people[["customer_id", "net_flow_cny_12m", "latest_balance_cny"]],
        }
        if full:
            tables |= {
                "main.mart_customer_360": people,
                "ml.customer_segments": people[["customer_id", "segment_name"]].assign(model_version="seg-1"),
                "ml.customer_segment_profiles": pd.DataFrame(
                    {"segment_id": [0, 1], "segment_name": sorted(people["segment_name"].unique()),
                     "customers": [20, 20], "share": [0.5, 0.5], "median_income_cny_12m": [30_000.0, 12_000.0],
                     "median_recency_days": [3.0, 20.0]}
                ),
                "ml.monthly_flow_forecast": pd.DataFrame(
                    [(s, month, 1000.0 * k, 900.0 * k, 1100.0 * k, "fc-1")
                     for s, k in (("inflow", 60), ("outflow", 45), ("net", 15))
                     for month in pd.date_range("2026-01-01", periods=3, freq="MS").date],
                    columns=["series", "month", "forecast", "lower", "upper", "model_version"],
                ),
                "ml.risk_flags": pd.DataFrame(
                    # the shape of ml/risk_flags.py: one row per flagged flow, its rules comma-joined
                    {"flow_id": ["f1", "f2", "f3"], "customer_id": ["c02", "c02", "c05"],
                     "rules": ["structuring", "night_burst,structuring", "structuring"],
                     "reason": ["9 transfers just under ¥50,000", "¥80,000 at 02:10 | 9 transfers just under ¥50,000",
                                "8 transfers just under ¥50,000"],
                     "risk_score": [2.0, 3.0, 1.0]}
                ),
                "main.mart_key_accounts": pd.DataFrame(
                    {"customer_id": people["customer_id"], "period_month": date(2025, 12, 1),
                     "tier": people["key_account_tier"], "is_key_account": people["key_account_tier"].eq("A"),
                     "contribution_rank": range(1, CUSTOMERS + 1),
                     "revenue_proxy_cny_12m": people["clv_12m_cny"].sort_values(ascending=False).values,
                     "key_account_change": ["new"] * 2 + ["unchanged"] * (CUSTOMERS - 2)}
                ).assign(cumulative_share=lambda f: f["revenue_proxy_cny_12m"].cumsum() / f["revenue_proxy_cny_12m"].sum()),
                "main.mart_kpis": pd.concat([
                    pd.DataFrame({"month": MONTHS, "dimension": "all", "dimension_value": "all",
                                  "active_customers": 40, "churn_rate": 0.01, "cac_cny": 300.0, "avg_csat": 4.2,
                                  "clv_proxy_cny": 9000.0}),
                    pd.DataFrame([(m, "region", city, 13, 0.01, 300.0, 4.1, 8000.0) for m in MONTHS for city in ("上海", "北京", "成都")],
                                 columns=["month", "dimension", "dimension_value", "active_customers", "churn_rate",
                                          "cac_cny", "avg_csat", "clv_proxy_cny"]),
                ]),
                "main.mart_action_effect": pd.DataFrame(
                    {"snapshot_id": "20250601T000000000000Z", "list_name": ["retention_targets", "upsell_targets", "risk_review_cases"],
                     "as_of_month": date(2025, 6, 1), "followup_months": 3, "followup_complete": True,
                     "targeted_customers": [1, 5, 2], "matched_targets": [1, 5, 2],
                     "target_active_rate": [0.0, 1.0, 1.0], "control_active_rate": [1.0, 1.0, 1.0],
                     "target_avg_net_flow_cny": [300.0, 900.0, 500.0], "control_avg_net_flow_cny": [700.0, 800.0, 450.0],
                     "target_churn_rate": [0.0, 0.0, 0.0], "control_churn_rate": [0.0, 0.0, 0.0]}
                ),
                "main.mart_fund_flow_paths": pd.DataFrame(
                    {"month": date(2025, 12, 1), "stage": ["source_to_account", "account_to_use"],
                     "from_node": ["salary", "bank"], "to_node": ["bank", "consumption:food"],
                     "amount_cny": [100_000.0, 60_000.0], "flow_count": [10, 20], "customer_count": [5, 6]}
                ),
            }
        for name, frame in tables.items():
            schema = name.split(".")[0]
            con.execute(f"create schema if not exists {schema}")
            con.register("frame", frame)
            con.execute(f"create table {name} as select * from frame")
            con.unregister("frame")
        con.execute("create schema meta")
        con.execute(
            "create table meta.publication as select ?::varchar as version, now() as published_at, "
            "0 as table_count, 0::bigint as total_rows",
            [version],
        )
    finally:
        con.close()
    return path
