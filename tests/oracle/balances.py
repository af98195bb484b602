"""Month-end bank balances, re-derived from the staged bank lines (what
``intermediate.int_account_balances_monthly`` provides to the marts).

Definition (the model's documentation): the running balance (账户余额) after the month's last
statement line of each account, carried forward through months without lines up to the
newest month in the warehouse (here: the month of the newest flow_date, the as-of month of
every mart), converted to CNY at the month-end rate, rounded to fen.

Not reproduced, because it cannot change a month-end balance: the exact re-export dedup
(``int_bank__transactions_deduped``). Re-exported copies have identical delivered values
(same ``row_hash``), so the last line of a month carries the same balance whether or not its
copies were dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.oracle.arithmetic import round_half_away_from_zero


def month_start(dates: pd.Series) -> pd.Series:
    """First day of the month (naive datetime64[s])."""
    naive = dates.dt.tz_localize(None) if getattr(dates.dt, "tz", None) is not None else dates
    return naive.dt.to_period("M").dt.to_timestamp().astype("datetime64[s]")


def month_end(month: pd.Series) -> pd.Series:
    return (month + pd.offsets.MonthEnd(0)).astype("datetime64[s]")


def daily_fx_rate(fx_rates: pd.DataFrame, currency: str, on_day: pd.Series) -> pd.Series:
    """Rate to CNY (millionths) of ``currency`` on each day: the quote of that day, else the
    latest quote before it; before the first quote, the first quote. A day re-delivered keeps
    its last delivery. NA when the currency has no quote at all."""
    quotes = fx_rates[fx_rates["currency"] == currency].sort_values(["rate_date", "_source_file", "_source_line"])
    quotes = quotes.drop_duplicates("rate_date", keep="last")
    if quotes.empty:
        return pd.Series(pd.NA, index=on_day.index, dtype="Int64")
    days = pd.DataFrame({"day": on_day.astype("datetime64[s]"), "position": range(len(on_day))}).sort_values("day")
    matched = pd.merge_asof(
        days, quotes[["rate_date", "rate_millionths"]].astype({"rate_date": "datetime64[s]"}),
        left_on="day", right_on="rate_date", direction="backward",
    )
    rates = matched["rate_millionths"].fillna(quotes["rate_millionths"].iloc[0])
    return pd.Series(rates.to_numpy(), index=on_day.index[matched["position"].to_numpy()]).reindex(on_day.index).astype("Int64")


def bank_account_owners(crm_accounts: pd.DataFrame, customer_ids: pd.Series) -> pd.DataFrame:
    """account_id -> customer_id for accounts listed in the CRM (smallest customer_id when
    deliveries disagree) whose customer is a CRM customer; account currency likewise."""
    owners = crm_accounts.groupby("account_id", as_index=False).agg(
        customer_id=("customer_id", "min"), account_currency=("currency", "min")
    )
    owners.loc[~owners["customer_id"].isin(customer_ids), "customer_id"] = pd.NA
    return owners


def account_month_end_balances(
    bank_transactions: pd.DataFrame,
    crm_accounts: pd.DataFrame,
    fx_rates: pd.DataFrame,
    customer_ids: pd.Series,
    newest_month: pd.Timestamp,
    reporting_currency: str = "CNY",
) -> pd.DataFrame:
    """One row per bank account and month from its first line with a balance to
    ``newest_month``: account_id, customer_id, balance_month, balance_fen (local currency),
    currency, balance_cny_fen."""
    lines = bank_transactions[bank_transactions["balance_fen"].notna()].copy()
    lines["balance_month"] = month_start(lines["txn_ts"])
    last_lines = lines.sort_values(["txn_ts", "_source_file", "_source_line"]).drop_duplicates(
        ["account_id", "balance_month"], keep="last"
    )[["account_id", "balance_month", "balance_fen", "currency"]]

    # every month from the account's first month-end line to the newest month, as month numbers
    # (year x 12 + month - 1) expanded with numpy: one row per account and month
    first_months = last_lines.groupby("account_id")["balance_month"].min()
    first_number = (first_months.dt.year * 12 + first_months.dt.month - 1).to_numpy()
    newest_number = newest_month.year * 12 + newest_month.month - 1
    month_counts = newest_number - first_number + 1
    row_starts = np.repeat(np.cumsum(month_counts) - month_counts, month_counts)
    month_number = np.repeat(first_number, month_counts) + (np.arange(month_counts.sum()) - row_starts)
    account_months = pd.DataFrame({
        "account_id": np.repeat(first_months.index.to_numpy(), month_counts),
        "balance_month": pd.to_datetime(pd.DataFrame({"year": month_number // 12, "month": month_number % 12 + 1, "day": 1})),
    })
    account_months["balance_month"] = account_months["balance_month"].astype("datetime64[s]")
    # carry the last observed month-end line forward
    carried = pd.merge_asof(
        account_months.sort_values("balance_month"),
        last_lines.sort_values("balance_month").rename(columns={"currency": "line_currency"}),
        on="balance_month", by="account_id", direction="backward",
    )

    owners = bank_account_owners(crm_accounts, customer_ids)
    balances = carried.merge(owners, on="account_id", how="left")
    balances["currency"] = (
        balances["account_currency"].fillna(balances["line_currency"]).fillna(reporting_currency)
    )
    balances["fx_millionths"] = pd.Series(pd.NA, index=balances.index, dtype="Int64")
    balances.loc[balances["currency"] == reporting_currency, "fx_millionths"] = 1_000_000
    for currency in balances.loc[balances["currency"] != reporting_currency, "currency"].unique():
        in_currency = balances["currency"] == currency
        balances.loc[in_currency, "fx_millionths"] = daily_fx_rate(
            fx_rates, currency, month_end(balances.loc[in_currency, "balance_month"])
        )
    # fen x millionths = 1e-6 fen: back to fen, ties away from zero (DECIMAL rounding)
    balances["balance_cny_fen"] = round_half_away_from_zero(
        balances["balance_fen"].astype("Int64") * balances["fx_millionths"], 1_000_000
    )
    return balances[["account_id", "customer_id", "balance_month", "currency", "balance_fen", "balance_cny_fen"]]


def customer_month_end_balances(account_balances: pd.DataFrame) -> pd.DataFrame:
    """Per customer and month, the sum of the customer's accounts' month-end balances in CNY
    (NA only when no account has a converted balance)."""
    owned = account_balances[account_balances["customer_id"].notna()]
    return owned.groupby(["customer_id", "balance_month"], as_index=False)["balance_cny_fen"].sum(min_count=1)
