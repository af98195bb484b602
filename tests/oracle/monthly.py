"""``marts.mart_customer_monthly``: income and spending per customer, month, channel and
category."""

from __future__ import annotations

import pandas as pd

from tests.oracle.arithmetic import fen_to_yuan
from tests.oracle.balances import month_start


def counted_flows(fund_flows: pd.DataFrame) -> pd.DataFrame:
    """Flows that are income or spending: resolved customer, not an internal transfer (money
    between the customer's own pockets), not an echo (e-commerce copy of a platform payment).
    Outliers count (they are flagged, not removed)."""
    keep = fund_flows["customer_id"].notna() & ~fund_flows["is_internal_transfer"] & ~fund_flows["is_echo"]
    return fund_flows[keep]


def customer_monthly_fen(fund_flows: pd.DataFrame) -> pd.DataFrame:
    """Per (customer_id, month, source_channel, category): inflow_fen, outflow_fen, net_fen,
    flow_count, outlier_count, and the same sums without outliers already in yuan
    (inflow_cny_excl_outliers, outflow_cny_excl_outliers, net_cny_excl_outliers: the mart's
    names, so the comparison reads them as they are)."""
    flows = counted_flows(fund_flows).copy()
    flows["month"] = month_start(flows["flow_date"])
    flows["inflow_fen"] = flows["amount_fen"].where(flows["direction"] == "in", 0)
    flows["outflow_fen"] = flows["amount_fen"].where(flows["direction"] == "out", 0)
    kept = ~flows["is_outlier"].astype(bool)
    flows["inflow_kept_fen"] = flows["inflow_fen"].where(kept, 0)
    flows["outflow_kept_fen"] = flows["outflow_fen"].where(kept, 0)
    monthly = flows.groupby(["customer_id", "month", "source_channel", "category"], as_index=False).agg(
        inflow_fen=("inflow_fen", "sum"),
        outflow_fen=("outflow_fen", "sum"),
        flow_count=("flow_id", "size"),
        outlier_count=("is_outlier", "sum"),
        inflow_kept_fen=("inflow_kept_fen", "sum"),
        outflow_kept_fen=("outflow_kept_fen", "sum"),
    )
    monthly["net_fen"] = monthly["inflow_fen"] - monthly["outflow_fen"]
    monthly["inflow_cny_excl_outliers"] = fen_to_yuan(monthly["inflow_kept_fen"])
    monthly["outflow_cny_excl_outliers"] = fen_to_yuan(monthly["outflow_kept_fen"])
    monthly["net_cny_excl_outliers"] = fen_to_yuan(monthly["inflow_kept_fen"] - monthly["outflow_kept_fen"])
    return monthly.drop(columns=["inflow_kept_fen", "outflow_kept_fen"])
