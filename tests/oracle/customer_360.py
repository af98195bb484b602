"""``marts.mart_customer_360`` (the columns of ``mart_customer_features`` and the non-ML
columns added on top): one row per customer as of the warehouse date.

Column definitions: ``dbt_project/models/marts/_marts.yml``. "12m" for flows = the
``window_days`` days ending on the as-of date; for balances = the last 12 calendar months.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from tests.oracle.arithmetic import round_half_away_from_zero
from tests.oracle.balances import month_start
from tests.oracle.monthly import counted_flows

CHANNELS = ("bank", "payments", "ecommerce", "cards")
# income / spending columns also exist for the real-format adapters (issue 11), as in the mart
INCOME_CHANNELS = CHANNELS + ("berka", "online_retail", "cdnow")


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
    # min_count=1: a sum over no known value is NULL, not 0 (SQL SUM)
    totals = cards.groupby("customer_id")[["statement_balance_fen", "credit_limit_fen"]].sum(min_count=1)
    totals.columns = ["statement_fen", "limit_fen"]
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


def income_and_spending_by_channel(fund_flows: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Per customer: <channel>_income_fen_12m and <channel>_spending_fen_12m for every source
    channel (counted flows in the window; they add up to income / spending)."""
    counted = counted_flows(fund_flows)
    recent = counted[in_window(counted["flow_date"], as_of, window_days)]
    sums = recent.groupby(["customer_id", "source_channel", "direction"])["amount_fen"].sum().unstack(
        ["source_channel", "direction"]
    )
    columns = {}
    for channel in INCOME_CHANNELS:
        for direction, label in (("in", "income"), ("out", "spending")):
            key = (channel, direction)
            columns[f"{channel}_{label}_fen_12m"] = sums[key] if key in sums.columns else pd.Series(dtype="float64")
    return pd.DataFrame(columns, index=sums.index)


def top_spending_category(fund_flows: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Per customer with consumption: the consumption:* category with the highest counted
    outflow in the window (ties: the first name) and that amount."""
    counted = counted_flows(fund_flows)
    recent = counted[in_window(counted["flow_date"], as_of, window_days)]
    consumption = recent[(recent["direction"] == "out") & recent["category"].str.startswith("consumption:")]
    per_category = consumption.groupby(["customer_id", "category"], as_index=False)["amount_fen"].sum()
    top = per_category.sort_values(["customer_id", "amount_fen", "category"], ascending=[True, False, True])
    top = top.drop_duplicates("customer_id", keep="first").set_index("customer_id")
    return top.rename(columns={"category": "top_spending_category_12m", "amount_fen": "top_spending_category_fen_12m"})


def acquisition_cac(marketing_spend: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """Per acquisition channel with spend: the channel's total spend / the customers it acquired
    while the spend ran (registered from the first spend month to the end of the last one);
    NULL when it acquired nobody. A (month, channel) re-delivered counts once (the last
    delivery): it is one month's spend."""
    spend = marketing_spend.drop_duplicates(["spend_month", "acquisition_channel"], keep="last")
    per_channel = spend.groupby("acquisition_channel").agg(
        spend_fen=("spend_fen", "sum"), first_month=("spend_month", "min"), last_month=("spend_month", "max")
    )
    acquired = customers.merge(per_channel, left_on="acquisition_channel", right_index=True)
    during = (acquired["registered_date"] >= acquired["first_month"]) & (
        acquired["registered_date"] < acquired["last_month"] + pd.DateOffset(months=1)
    )
    counts = acquired[during].groupby("acquisition_channel").size().reindex(per_channel.index, fill_value=0)
    cac = (per_channel["spend_fen"].astype("float64") / 100) / counts.where(counts > 0)
    return cac.rename("acquisition_cac_cny")


def repayment_behaviour(
    customer_cards: pd.DataFrame,
    card_statements: pd.DataFrame,
    fund_flows: pd.DataFrame,
    income_fen_12m: pd.Series,
    as_of: pd.Timestamp,
    parameters,
) -> pd.DataFrame:
    """Per customer (``income_fen_12m``'s index = every customer): card repayment behaviour over
    the statements of the window and the repayment capacity (the columns mart_customer_360 takes
    from mart_credit_risk):
    - card_count: the customer's cards;
    - card_avg_utilisation_12m: mean statement balance / credit limit over the window's statements;
    - minimum_payment_only_months_12m: months with a statement that had a balance and was repaid
      with at least the minimum due but below ``min_payment_max_share`` of the balance;
    - late_payment_count_12m: statements with a minimum due repaid after the due date, or not
      repaid although the due date has passed;
    - full_payment_rate_12m: statements repaid in full / statements with a balance (NULL without);
    - obligations_cny_12m: loan repayments (outflows, window) + the window's minimum dues;
    - obligation_to_income_ratio: obligations / income (NULL without income);
    - repayment_capacity_band: no_obligations, no_income, strong (< watch), watch (< high), high_risk.
    Statements: exact re-deliveries (same card, date and values) count once.
    """
    value_columns = ["statement_balance_fen", "minimum_due_fen", "due_date", "paid_amount_fen", "paid_date"]
    statements = card_statements.drop_duplicates(["card_account_id", "statement_date", *value_columns])
    statements = customer_cards.merge(statements, on="card_account_id", how="inner")
    statements = statements[in_window(statements["statement_date"], as_of, parameters.window_days)].copy()

    # the share as an exact fraction: paid < balance x share compared in integers, as DECIMAL does
    share = Fraction(str(parameters.min_payment_max_share)).limit_denominator()
    balance = statements["statement_balance_fen"]
    minimum = statements["minimum_due_fen"]
    paid = statements["paid_amount_fen"].fillna(0)
    limit = statements["credit_limit_fen"].astype("Float64")
    statements["utilisation"] = balance.astype("Float64") / limit.where(limit != 0)
    has_minimum = (minimum.fillna(0) > 0).astype(bool)
    repaid_late = (statements["paid_date"] > statements["due_date"]).fillna(False).astype(bool)
    unpaid_past_due = (statements["paid_date"].isna() & (statements["due_date"] < as_of)).fillna(False).astype(bool)
    statements["is_late"] = has_minimum & (repaid_late | unpaid_past_due)
    with_balance = (balance > 0).fillna(False).astype(bool)
    statements["with_balance"] = with_balance
    statements["is_minimum_payment_only"] = (
        with_balance & (paid >= minimum).fillna(False).astype(bool)
        & (paid * share.denominator < balance * share.numerator).fillna(False).astype(bool)
    )
    statements["is_paid_in_full"] = with_balance & (paid >= balance).fillna(False).astype(bool)
    statements["statement_month"] = month_start(statements["statement_date"])

    by_customer = statements.groupby("customer_id")
    summary = pd.DataFrame({
        "card_avg_utilisation_12m": by_customer["utilisation"].mean(),
        "minimum_payment_only_months_12m": statements[statements["is_minimum_payment_only"]]
        .groupby("customer_id")["statement_month"].nunique(),
        "late_payment_count_12m": by_customer["is_late"].sum(),
        "paid_in_full": by_customer["is_paid_in_full"].sum(),
        "with_balance": by_customer["with_balance"].sum(),
        "minimum_due_fen_12m": by_customer["minimum_due_fen"].sum(),
    })
    out = pd.DataFrame(index=income_fen_12m.index).join(summary)
    out["card_count"] = customer_cards.groupby("customer_id").size().reindex(out.index).fillna(0).astype("int64")
    for column in ("minimum_payment_only_months_12m", "late_payment_count_12m", "minimum_due_fen_12m"):
        out[column] = out[column].fillna(0).astype("int64")
    with_balance_count = out["with_balance"]
    out["full_payment_rate_12m"] = out["paid_in_full"] / with_balance_count.where(with_balance_count > 0)

    flows = fund_flows[fund_flows["customer_id"].notna()]
    loans = flows[(flows["category"] == "loan_repayment") & (flows["direction"] == "out")
                  & in_window(flows["flow_date"], as_of, parameters.window_days)]
    loan_fen = loans.groupby("customer_id")["amount_fen"].sum().reindex(out.index).fillna(0).astype("int64")
    out["obligations_fen_12m"] = loan_fen + out["minimum_due_fen_12m"]
    income = income_fen_12m.astype("float64")
    out["obligation_to_income_ratio"] = out["obligations_fen_12m"] / income.where(income != 0)
    ratio = out["obligations_fen_12m"] / income.where(income > 0)
    out["repayment_capacity_band"] = np.select(
        [out["obligations_fen_12m"] == 0, income <= 0, ratio < parameters.obligation_ratio_watch,
         ratio < parameters.obligation_ratio_high],
        ["no_obligations", "no_income", "strong", "watch"],
        default="high_risk",
    )
    return out
