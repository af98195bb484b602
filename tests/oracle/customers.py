"""Customers, re-derived from the staged CRM (what ``marts.dim_customer`` and the card part of
``marts.dim_account`` provide to the marts)."""

from __future__ import annotations

import pandas as pd

AGE_BANDS = [(25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]


def warehouse_date(fund_flows: pd.DataFrame) -> pd.Timestamp:
    """The as-of date of every mart: the newest flow_date."""
    return fund_flows["flow_date"].max()


def latest_crm_records(crm_customers: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: the CRM may deliver a customer again (updates), the newest
    record wins: newest updated_ts (a record without one loses), then the later delivery
    (file, line)."""
    ordered = crm_customers.sort_values(
        ["updated_ts", "_source_file", "_source_line"], ascending=False, na_position="last"
    )
    return ordered.drop_duplicates("customer_id", keep="first").reset_index(drop=True)


def age_in_years(birth_date: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Whole years lived at ``as_of``: one less when this year's birthday is still ahead."""
    birthday_ahead = (birth_date.dt.month > as_of.month) | (
        (birth_date.dt.month == as_of.month) & (birth_date.dt.day > as_of.day)
    )
    return (as_of.year - birth_date.dt.year - birthday_ahead.astype("int64")).astype("Int64")


def age_band(age: pd.Series) -> pd.Series:
    """18-24, 25-34, ..., 65+; 'unknown' without an age."""
    bands = pd.Series("65+", index=age.index, dtype="object")
    for upper, label in reversed(AGE_BANDS):
        bands = bands.mask((age < upper).fillna(False).astype(bool), label)
    return bands.mask(age.isna().astype(bool), "unknown")


def customers(crm_customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The customer dimension: customer_id, acquisition_channel, registered_date, city, age, age_band."""
    latest = latest_crm_records(crm_customers)
    latest["age"] = age_in_years(latest["birth_date"], as_of)
    latest["age_band"] = age_band(latest["age"])
    return latest[["customer_id", "acquisition_channel", "registered_date", "city", "age", "age_band"]]


def customer_cards(card_accounts: pd.DataFrame, customer_ids: pd.Series) -> pd.DataFrame:
    """Credit cards that resolve to a CRM customer: the card master names the owner (the
    smallest customer_id when deliveries disagree) and the owner must be a CRM customer. The
    credit limit is the one of the latest delivery (file, line)."""
    owners = card_accounts.groupby("card_account_id", as_index=False)["customer_id"].min()
    owners = owners[owners["customer_id"].isin(customer_ids)]
    latest_master = card_accounts.sort_values(["_source_file", "_source_line"]).drop_duplicates(
        "card_account_id", keep="last"
    )[["card_account_id", "credit_limit_fen"]]
    return owners.merge(latest_master, on="card_account_id", how="left")
