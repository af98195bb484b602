"""``marts.mart_key_accounts`` (大客户分析): every customer ranked by contribution in every
month, the Pareto curve, tiers and the change against the previous month.

Implements the agreed text of ``/tmp/briefs/keyaccounts_spec.md`` (grain: customer_id x
period_month), step by step:
1. ``customer_month_panel``: the months of the flow history x the customers registered by
   the end of the month, with the month-end balance (0 when none);
2. ``twelve_month_figures``: the balance mean over the customer's rows of the 12 calendar
   months ending at the month, and income / spending / consumption summed over the
   customer's monthly-mart rows of those months;
3. ``rank_and_tier``: contribution, rank, shares, tier within each month;
4. ``compare_with_previous_month``: prev_* and key_account_change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.oracle.balances import month_start
from tests.oracle.inputs import OracleParameters

WINDOW_MONTHS = 12


def history_months(fund_flows: pd.DataFrame) -> pd.DatetimeIndex:
    """Every calendar month from the earliest flow_date's month to the newest one's."""
    dates = fund_flows["flow_date"]
    first, last = month_start(pd.Series([dates.min(), dates.max()]))
    return pd.date_range(first, last, freq="MS").astype("datetime64[s]")


def customer_month_panel(
    customers: pd.DataFrame, months: pd.DatetimeIndex, customer_balances: pd.DataFrame
) -> pd.DataFrame:
    """One row per (customer, month) once the customer is registered (registered_date on or
    before the month's last day; every month when registered_date is unknown), with the
    customer's summed month-end balance in fen (0 when there is none)."""
    panel = customers[["customer_id", "registered_date"]].merge(
        pd.DataFrame({"period_month": months}), how="cross"
    )
    month_last_day = panel["period_month"] + pd.offsets.MonthEnd(0)
    registered = panel["registered_date"].isna() | (panel["registered_date"] <= month_last_day)
    panel = panel.loc[registered, ["customer_id", "period_month"]]
    balances = customer_balances.rename(columns={"balance_month": "period_month", "balance_cny_fen": "month_end_balance_fen"})
    panel = panel.merge(balances, on=["customer_id", "period_month"], how="left")
    panel["month_end_balance_fen"] = panel["month_end_balance_fen"].fillna(0).astype("int64")
    return panel.reset_index(drop=True)


def _trailing_sum(wide: pd.DataFrame) -> pd.DataFrame:
    """Per column, the sum over the 12 rows (calendar months) ending at each row; missing
    months contribute nothing. Values are integer fen held in float64: exact below 2**53."""
    return wide.fillna(0).rolling(WINDOW_MONTHS, min_periods=1).sum()


def twelve_month_figures(panel: pd.DataFrame, monthly_fen: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Adds avg_balance_cny_12m (yuan, float), income_fen_12m, spending_fen_12m,
    consumption_fen_12m to the panel."""
    # balances: mean over the customer's own panel rows in the window (fewer at the start of
    # history or after a late registration)
    balance_wide = panel.pivot(index="period_month", columns="customer_id", values="month_end_balance_fen")
    balance_wide = balance_wide.reindex(months).astype("float64")
    balance_sum = _trailing_sum(balance_wide)
    balance_rows = balance_wide.notna().astype("int64").rolling(WINDOW_MONTHS, min_periods=1).sum()
    avg_balance = (balance_sum / balance_rows) / 100

    # flows: every monthly-mart row of the customer in the window, registered or not
    flows = monthly_fen.assign(
        consumption_fen=monthly_fen["outflow_fen"].where(monthly_fen["category"].str.startswith("consumption:"), 0)
    ).groupby(["customer_id", "month"])[["inflow_fen", "outflow_fen", "consumption_fen"]].sum()

    def rolled(column: str) -> pd.Series:
        wide = flows[column].unstack("customer_id").reindex(months).astype("float64")
        return _trailing_sum(wide).stack().rename(column)

    figures = pd.concat(
        [avg_balance.stack().rename("avg_balance_cny_12m")]
        + [rolled(column) for column in ("inflow_fen", "outflow_fen", "consumption_fen")],
        axis=1,
    )
    figures.index = figures.index.set_names(["period_month", "customer_id"])
    out = panel.merge(figures.reset_index(), on=["customer_id", "period_month"], how="left")
    for source, target in (("inflow_fen", "income_fen_12m"), ("outflow_fen", "spending_fen_12m"),
                           ("consumption_fen", "consumption_fen_12m")):
        out[target] = out[source].fillna(0).round().astype("int64")
    return out


def rank_and_tier(figures: pd.DataFrame, parameters: OracleParameters) -> pd.DataFrame:
    """Contribution (revenue proxy), its rank within the month, the Pareto shares and the tier."""
    ranked = figures.copy()
    ranked["revenue_proxy_cny_12m"] = (
        ranked["avg_balance_cny_12m"].clip(lower=0) * parameters.balance_margin
        + ranked["consumption_fen_12m"] / 100 * parameters.interchange_rate
    )
    ranked = ranked.sort_values(["period_month", "revenue_proxy_cny_12m", "customer_id"], ascending=[True, False, True])
    ranked["contribution_rank"] = ranked.groupby("period_month").cumcount() + 1
    positive = ranked["revenue_proxy_cny_12m"].clip(lower=0)
    month_total = positive.groupby(ranked["period_month"]).transform("sum")
    month_total = month_total.where(month_total != 0)  # no positive contribution: shares are NULL
    ranked["contribution_share"] = ranked["revenue_proxy_cny_12m"] / month_total
    ranked["cumulative_share"] = positive.groupby(ranked["period_month"]).cumsum() / month_total
    preceding_share = ranked["cumulative_share"] - ranked["contribution_share"]
    earns = ranked["revenue_proxy_cny_12m"] > 0
    ranked["tier"] = np.select(
        [
            earns & (preceding_share < parameters.tier_a_share),
            earns & (preceding_share < parameters.tier_b_share),
            earns & (preceding_share < parameters.tier_c_share),
        ],
        ["A", "B", "C"],
        default="D",
    )
    ranked["is_key_account"] = ranked["tier"] == "A"
    return ranked.reset_index(drop=True)


def compare_with_previous_month(ranked: pd.DataFrame) -> pd.DataFrame:
    """prev_tier, prev_contribution_rank, rank_change (positive = moved up),
    revenue_change_cny and key_account_change (entered / exited / stayed / NULL)."""
    previous = ranked[["customer_id", "period_month", "tier", "contribution_rank", "revenue_proxy_cny_12m"]].copy()
    previous["period_month"] = (previous["period_month"] + pd.DateOffset(months=1)).astype("datetime64[s]")
    previous.columns = ["customer_id", "period_month", "prev_tier", "prev_contribution_rank", "prev_revenue_proxy"]
    out = ranked.merge(previous, on=["customer_id", "period_month"], how="left")
    out["prev_contribution_rank"] = out["prev_contribution_rank"].astype("Int64")
    out["rank_change"] = out["prev_contribution_rank"] - out["contribution_rank"]
    out["revenue_change_cny"] = out["revenue_proxy_cny_12m"] - out["prev_revenue_proxy"]
    was_key = (out["prev_tier"] == "A").fillna(False).astype(bool)
    is_key = out["is_key_account"].astype(bool)
    out["key_account_change"] = np.select(
        [is_key & ~was_key, ~is_key & was_key, is_key & was_key], ["entered", "exited", "stayed"], default=None
    )
    return out
