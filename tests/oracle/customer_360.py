"""``marts.mart_customer_360`` (the columns of ``mart_customer_features`` and the non-ML
columns added on top): one row per customer as of the warehouse date.

Column definitions: ``dbt_project/models/marts/_marts.yml``. "12m" for flows = the
``window_days`` days ending on the as-of date; for balances = the last 12 calendar months.
"""

from __future__ import annotations

import pandas as pd

from tests.oracle.arithmetic import round_half_away_from_zero
from tests.oracle.balances import month_start
from tests.oracle.monthly import counted_flows

CHANNELS = ("bank", "payments", "ecommerce", "cards")


def in_window(flow_date: pd.Series, as_of: pd.Timestamp, window_days: int) -> pd.Series:
    """The ``window_days`` days ending on ``as_of`` (inclusive)."""
    return flow_date > as_of - pd.Timedelta(days=window_days)


def flow_activity(fund_flows: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Per customer with flows: dates, counts and channel mix over all their flows (internal and
    echo included: they show which channels the customer uses)."""
    flows = fund_flows[fund_flows["customer_id"].notna()]
    recent = flows[in_window(flows["flow_date"], as_of, window_days)]
    dates = flows.groupby("customer_id").agg(
        first_flow_date=("flow_date", "min"), last_flow_date=("flow_date", "max")
    )
    recent_counts = recent.groupby("customer_id").agg(
        flows_12m=("flow_id", "size"), outlier_count_12m=("is_outlier", "sum")
    )
    per_channel = recent.groupby(["customer_id", "source_channel"]).size().unstack(fill_value=0)
    per_channel = per_channel.reindex(columns=list(CHANNELS), fill_value=0)
    activity = dates.join(recent_counts, how="left").fillna({"flows_12m": 0, "outlier_count_12m": 0})
    for channel in CHANNELS:
        channel_flows = per_channel[channel].reindex(activity.index, fill_value=0)
        activity[f"share_{channel}"] = (channel_flows / activity["flows_12m"]).where(activity["flows_12m"] > 0, 0.0)
    salary_recent = recent[(recent["category"] == "salary") & (recent["direction"] == "in")]
    activity["salary_fen_12m"] = salary_recent.groupby("customer_id")["amount_fen"].sum()
    activity["has_salary"] = activity.index.isin(recent.loc[recent["category"] == "salary", "customer_id"])
    return activity


def income_and_spending(fund_flows: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Per customer: income / spending (counted flows only) in the window and all time, the
    consumption part of spending, and the number of counted flows in the window."""
    counted = counted_flows(fund_flows)
    inflow = counted["direction"] == "in"
    recent = in_window(counted["flow_date"], as_of, window_days)
    consumption = (~inflow) & counted["category"].str.startswith("consumption:")
    parts = {
        "income_fen_12m": counted[recent & inflow],
        "spending_fen_12m": counted[recent & ~inflow],
        "consumption_fen_12m": counted[recent & consumption],
        "total_inflow_fen": counted[inflow],
        "total_outflow_fen": counted[~inflow],
    }
    sums = pd.DataFrame({name: rows.groupby("customer_id")["amount_fen"].sum() for name, rows in parts.items()})
    sums["frequency_12m"] = counted[recent].groupby("customer_id").size()
    return sums


def balance_summary(customer_balances: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer with bank balances: the mean of the summed month-end balances over the 12
    calendar months ending with the as-of month, rounded to fen (ties away from zero, as the
    DECIMAL(18,2) cast), and the summed balance of the newest month."""
    as_of_month = month_start(pd.Series([as_of])).iloc[0]
    first_month = as_of_month - pd.DateOffset(months=11)
    recent = customer_balances[customer_balances["balance_month"] >= first_month].dropna(subset=["balance_cny_fen"])
    totals = recent.groupby("customer_id")["balance_cny_fen"].agg(["sum", "count"])
    summary = pd.DataFrame({"avg_balance_fen": round_half_away_from_zero(totals["sum"], totals["count"])})
    newest = customer_balances.sort_values("balance_month").drop_duplicates("customer_id", keep="last")
    summary = summary.join(newest.set_index("customer_id")["balance_cny_fen"].rename("latest_balance_fen"), how="outer")
    return summary


def card_utilisation(customer_cards: pd.DataFrame, card_statements: pd.DataFrame) -> pd.Series:
    """Per customer with cards: latest statement balances / credit limits over the customer's
    cards. The latest statement of a card = newest statement_date, then the latest delivery."""
    latest = card_statements.sort_values(["statement_date", "_source_file", "_source_line"]).drop_duplicates(
        "card_account_id", keep="last"
    )[["card_account_id", "statement_balance_fen"]]
    cards = customer_cards.merge(latest, on="card_account_id", how="left")
    totals = cards.groupby("customer_id").agg(
        statement_fen=("statement_balance_fen", lambda fen: fen.sum() if fen.notna().any() else pd.NA),
        limit_fen=("credit_limit_fen", lambda fen: fen.sum() if fen.notna().any() else pd.NA),
    )
    limit = totals["limit_fen"].astype("Float64")
    return (totals["statement_fen"].astype("Float64") / limit.where(limit != 0)).rename("card_utilisation")


def latest_survey(crm_surveys: pd.DataFrame) -> pd.DataFrame:
    """Per customer: CSAT and NPS of the newest answer (survey_date, then survey_id) that has
    one, and the date of the newest answer."""
    ordered = crm_surveys.sort_values(["survey_date", "survey_id"])
    latest_csat = ordered.dropna(subset=["csat"]).drop_duplicates("customer_id", keep="last").set_index("customer_id")["csat"]
    latest_nps = ordered.dropna(subset=["nps"]).drop_duplicates("customer_id", keep="last").set_index("customer_id")["nps"]
    return pd.DataFrame({
        "latest_csat": latest_csat.astype("Int64"),
        "latest_nps": latest_nps.astype("Int64"),
        "latest_survey_date": crm_surveys.groupby("customer_id")["survey_date"].max(),
    })
