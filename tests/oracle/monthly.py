"""``marts.mart_customer_monthly``: income and spending per customer, month, channel and
category."""

from __future__ import annotations

import pandas as pd

from tests.oracle.balances import month_start


def counted_flows(fund_flows: pd.DataFrame) -> pd.DataFrame:
    """Flows that are income or spending: resolved customer, not an internal transfer (money
    between the customer's own pockets), not an echo (e-commerce copy of a platform payment).
    Outliers count (they are flagged, not removed)."""
    keep = fund_flows["customer_id"].notna() & ~fund_flows["is_internal_transfer"] & ~fund_flows["is_echo"]
    return fund_flows[keep]


def customer_monthly_fen(fund_flows: pd.DataFrame) -> pd.DataFrame:
    """Per (customer_id, month, source_channel, category): inflow_fen, outflow_fen, net_fen,
    flow_count, outlier_count."""
    flows = counted_flows(fund_flows).copy()
    flows["month"] = month_start(flows["flow_date"])
    flows["inflow_fen"] = flows["amount_fen"].where(flows["direction"] == "in", 0)
    flows["outflow_fen"] = flows["amount_fen"].where(flows["direction"] == "out", 0)
    monthly = flows.groupby(["customer_id", "month", "source_channel", "category"], as_index=False).agg(
        inflow_fen=("inflow_fen", "sum"),
        outflow_fen=("outflow_fen", "sum"),
        flow_count=("flow_id", "size"),
        outlier_count=("is_outlier", "sum"),
    )
    monthly["net_fen"] = monthly["inflow_fen"] - monthly["outflow_fen"]
    return monthly
