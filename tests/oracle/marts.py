"""The oracle's three marts, assembled from the column families of the other modules.

Each ``oracle_*`` function takes ``OracleInputs`` (frames) and returns a frame with the mart's
key and compared columns, money in yuan (float), under the mart's column names.
"""

from __future__ import annotations

import pandas as pd

from tests.oracle import balances as balance_family
from tests.oracle import customer_360 as features
from tests.oracle import customers as customer_family
from tests.oracle import key_accounts
from tests.oracle.arithmetic import fen_to_yuan
from tests.oracle.inputs import OracleInputs
from tests.oracle.monthly import customer_monthly_fen


def _fen_columns_to_yuan(frame: pd.DataFrame, renames: dict[str, str]) -> pd.DataFrame:
    for fen_column, yuan_column in renames.items():
        frame[yuan_column] = fen_to_yuan(frame[fen_column])
    return frame.drop(columns=list(renames))


def customer_balances(inputs: OracleInputs) -> pd.DataFrame:
    """Summed month-end balances per customer and month (re-derived from staged bank lines)."""
    as_of = customer_family.warehouse_date(inputs.fund_flows)
    customer_ids = inputs.crm_customers["customer_id"].drop_duplicates()
    account_balances = balance_family.account_month_end_balances(
        inputs.bank_transactions, inputs.crm_accounts, inputs.fx_rates, customer_ids,
        newest_month=balance_family.month_start(pd.Series([as_of])).iloc[0],
        reporting_currency=inputs.parameters.reporting_currency,
    )
    return balance_family.customer_month_end_balances(account_balances)


def oracle_customer_monthly(inputs: OracleInputs) -> pd.DataFrame:
    """``mart_customer_monthly``: key (customer_id, month, source_channel, category)."""
    monthly = customer_monthly_fen(inputs.fund_flows)
    return _fen_columns_to_yuan(monthly, {"inflow_fen": "inflow_cny", "outflow_fen": "outflow_cny", "net_fen": "net_cny"})


def oracle_customer_360(
    inputs: OracleInputs, balances: pd.DataFrame | None = None, key_account_rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``mart_customer_360`` without the ML columns: key customer_id. ``key_account_rows`` is
    this oracle's ``mart_key_accounts`` (computed when not given)."""
    parameters = inputs.parameters
    as_of = customer_family.warehouse_date(inputs.fund_flows)
    customers = customer_family.customers(inputs.crm_customers, as_of)
    balances = customer_balances(inputs) if balances is None else balances
    if key_account_rows is None:
        key_account_rows = oracle_key_accounts(inputs, balances)
    cards = customer_family.customer_cards(inputs.card_accounts, customers["customer_id"])
    window = parameters.window_days

    out = customers.set_index("customer_id")
    out = out.join(features.flow_activity(inputs.fund_flows, as_of, window))
    out = out.join(features.income_and_spending(inputs.fund_flows, as_of, window))
    out = out.join(features.balance_summary(balances, as_of))
    out = out.join(features.card_utilisation(cards, inputs.card_statements))
    out = out.join(features.latest_survey(inputs.crm_surveys))
    out = out.join(features.income_and_spending_by_channel(inputs.fund_flows, as_of, window))
    out = out.join(features.top_spending_category(inputs.fund_flows, as_of, window))
    out = out.join(features.acquisition_cac(inputs.marketing_spend, customers), on="acquisition_channel")
    out = out.join(key_account_columns(key_account_rows))

    # customers without flows: 0 amounts and counts, NULL dates / recency / ratios
    channel_amounts = [f"{channel}_{label}_fen_12m" for channel in features.INCOME_CHANNELS for label in ("income", "spending")]
    zero_when_no_flows = [
        "frequency_12m", "flows_12m", "outlier_count_12m", "income_fen_12m", "spending_fen_12m",
        "consumption_fen_12m", "salary_fen_12m", "total_inflow_fen", "total_outflow_fen",
        "share_bank", "share_payments", "share_ecommerce", "share_cards", *channel_amounts,
    ]
    for column in zero_when_no_flows:
        out[column] = out[column].fillna(0)
    for column in ("frequency_12m", "flows_12m", "outlier_count_12m"):
        out[column] = out[column].astype("int64")
    out["has_salary"] = out["has_salary"].fillna(False).astype(bool)
    out["is_key_account"] = out["is_key_account"].fillna(False).astype(bool)
    out = out.join(features.repayment_behaviour(
        cards, inputs.card_statements, inputs.fund_flows, out["income_fen_12m"], as_of, parameters
    ))
    out = out.reset_index()
    out["as_of_date"] = as_of
    out["recency_days"] = (as_of - out["last_flow_date"]).dt.days.astype("Int64")
    out["tenure_days"] = (as_of - out["registered_date"]).dt.days.astype("Int64")
    out["net_flow_fen_12m"] = out["income_fen_12m"] - out["spending_fen_12m"]
    income = out["income_fen_12m"].astype("Float64")
    out["spending_to_income_ratio"] = out["spending_fen_12m"] / income.where(income != 0)
    out = out.drop(columns=["age"])
    return _fen_columns_to_yuan(out, {
        "income_fen_12m": "income_cny_12m",
        "spending_fen_12m": "spending_cny_12m",
        "net_flow_fen_12m": "net_flow_cny_12m",
        "salary_fen_12m": "salary_cny_12m",
        "consumption_fen_12m": "consumption_cny_12m",
        "avg_balance_fen": "avg_balance_cny",
        "latest_balance_fen": "latest_balance_cny",
        "total_inflow_fen": "total_inflow_cny",
        "total_outflow_fen": "total_outflow_cny",
        "top_spending_category_fen_12m": "top_spending_category_cny_12m",
        "obligations_fen_12m": "obligations_cny_12m",
        **{column: column.replace("_fen_", "_cny_") for column in channel_amounts},
    })


def key_account_columns(key_account_rows: pd.DataFrame) -> pd.DataFrame:
    """The customer's key-account row of the as-of month (the newest period_month): tier,
    is_key_account, contribution_rank, revenue_proxy_cny_12m; indexed by customer_id."""
    newest = key_account_rows[key_account_rows["period_month"] == key_account_rows["period_month"].max()]
    return newest.set_index("customer_id")[["tier", "is_key_account", "contribution_rank", "revenue_proxy_cny_12m"]].rename(
        columns={"tier": "key_account_tier"}
    )


def oracle_key_accounts(inputs: OracleInputs, balances: pd.DataFrame | None = None) -> pd.DataFrame:
    """``mart_key_accounts``: key (customer_id, period_month)."""
    as_of = customer_family.warehouse_date(inputs.fund_flows)
    customers = customer_family.customers(inputs.crm_customers, as_of)
    balances = customer_balances(inputs) if balances is None else balances
    months = key_accounts.history_months(inputs.fund_flows)
    panel = key_accounts.customer_month_panel(customers, months, balances)
    figures = key_accounts.twelve_month_figures(panel, customer_monthly_fen(inputs.fund_flows), months)
    ranked = key_accounts.rank_and_tier(figures, inputs.parameters)
    out = key_accounts.compare_with_previous_month(ranked)
    out["net_inflow_fen_12m"] = out["income_fen_12m"] - out["spending_fen_12m"]
    return _fen_columns_to_yuan(out, {
        "month_end_balance_fen": "month_end_balance_cny",
        "income_fen_12m": "income_cny_12m",
        "spending_fen_12m": "spending_cny_12m",
        "net_inflow_fen_12m": "net_inflow_cny_12m",
        "consumption_fen_12m": "consumption_cny_12m",
    })
