"""Loading: the only place the oracle touches DuckDB.

The oracle starts from the canonical cleaned flows (``marts.fct_fund_flows``, verified against
the generator's truth in ``tests/quality/test_cleaning_vs_truth.py``) and the staging tables
(usable rows only: ``reject_reason is null``). It reads no ``intermediate``, ``dim_*`` or
``mart_*`` table: customers, card accounts and month-end balances are re-derived from staging
in the pure modules.

Each table is read with a plain ``select`` of the columns the oracle needs; every typed
conversion is done here in pandas (money DECIMAL(18,2) -> int64 fen, FX DECIMAL(18,6) -> int64
millionths, timestamps -> Asia/Shanghai), so the pure modules see exact integers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
LOCAL_TIMEZONE = "Asia/Shanghai"


@dataclasses.dataclass(frozen=True)
class OracleParameters:
    """The dbt vars the marts use, read from dbt_project.yml (the same source dbt reads)."""

    window_days: int = 365
    balance_margin: float = 0.02
    interchange_rate: float = 0.006
    tier_a_share: float = 0.5
    tier_b_share: float = 0.8
    tier_c_share: float = 0.95
    reporting_currency: str = "CNY"
    min_payment_max_share: float = 0.2
    obligation_ratio_watch: float = 0.4
    obligation_ratio_high: float = 0.7

    @classmethod
    def from_dbt_project(cls, path: Path = DBT_PROJECT_FILE) -> OracleParameters:
        dbt_vars = yaml.safe_load(path.read_text(encoding="utf-8")).get("vars", {})
        defaults = cls()
        # reporting_currency is an env_var() template in dbt_project.yml; only CNY is supported.
        return cls(
            window_days=int(dbt_vars.get("customer_360_window_days", defaults.window_days)),
            balance_margin=float(dbt_vars.get("key_account_balance_margin", defaults.balance_margin)),
            interchange_rate=float(dbt_vars.get("key_account_interchange_rate", defaults.interchange_rate)),
            tier_a_share=float(dbt_vars.get("key_account_tier_a_share", defaults.tier_a_share)),
            tier_b_share=float(dbt_vars.get("key_account_tier_b_share", defaults.tier_b_share)),
            tier_c_share=float(dbt_vars.get("key_account_tier_c_share", defaults.tier_c_share)),
            min_payment_max_share=float(dbt_vars.get("credit_min_payment_max_share", defaults.min_payment_max_share)),
            obligation_ratio_watch=float(dbt_vars.get("credit_obligation_ratio_watch", defaults.obligation_ratio_watch)),
            obligation_ratio_high=float(dbt_vars.get("credit_obligation_ratio_high", defaults.obligation_ratio_high)),
        )


@dataclasses.dataclass
class OracleInputs:
    """Frames the oracle computes from (names = the warehouse tables they come from)."""

    fund_flows: pd.DataFrame  # marts.fct_fund_flows
    crm_customers: pd.DataFrame  # staging.stg_crm__customers
    crm_accounts: pd.DataFrame  # staging.stg_crm__accounts
    crm_surveys: pd.DataFrame  # staging.stg_crm__surveys
    marketing_spend: pd.DataFrame  # staging.stg_crm__marketing_spend
    card_accounts: pd.DataFrame  # staging.stg_cards__accounts
    card_statements: pd.DataFrame  # staging.stg_cards__statements
    bank_transactions: pd.DataFrame  # staging.stg_bank__transactions
    fx_rates: pd.DataFrame  # staging.stg_reference__fx_rates
    parameters: OracleParameters


def to_fen(money: pd.Series) -> pd.Series:
    """DECIMAL(18,2) read as float -> exact int64 fen (nullable)."""
    return (money.astype("float64") * 100).round().astype("Int64")


def to_millionths(rate: pd.Series) -> pd.Series:
    """DECIMAL(18,6) read as float -> exact int64 millionths (nullable)."""
    return (rate.astype("float64") * 1_000_000).round().astype("Int64")


def to_date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[s]")


def to_local_time(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.tz_convert(LOCAL_TIMEZONE)


def _usable(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> pd.DataFrame:
    return con.execute(f"select {columns} from {table} where reject_reason is null").df()


def load_inputs(con: duckdb.DuckDBPyConnection, parameters: OracleParameters | None = None) -> OracleInputs:
    """Read the oracle's inputs from a built warehouse."""
    flows = con.execute(
        "select flow_id, source_channel, customer_id, flow_date, direction, amount_cny, category, "
        "is_internal_transfer, is_echo, is_outlier from marts.fct_fund_flows"
    ).df()
    flows["flow_date"] = to_date(flows["flow_date"])
    flows["amount_fen"] = to_fen(flows["amount_cny"]).astype("int64")

    customers = _usable(
        con, "staging.stg_crm__customers",
        "customer_id, birth_date, city, acquisition_channel, registered_date, updated_ts, _source_file, _source_line",
    )
    customers["birth_date"] = to_date(customers["birth_date"])
    customers["registered_date"] = to_date(customers["registered_date"])

    accounts = _usable(con, "staging.stg_crm__accounts", "account_id, customer_id, currency")

    surveys = _usable(con, "staging.stg_crm__surveys", "survey_id, customer_id, survey_date, csat, nps")
    surveys["survey_date"] = to_date(surveys["survey_date"])

    spend = _usable(con, "staging.stg_crm__marketing_spend", "spend_month, acquisition_channel, spend_cny")
    spend["spend_month"] = to_date(spend["spend_month"])
    spend["spend_fen"] = to_fen(spend["spend_cny"])

    cards = _usable(
        con, "staging.stg_cards__accounts", "card_account_id, customer_id, credit_limit, _source_file, _source_line"
    )
    cards["credit_limit_fen"] = to_fen(cards["credit_limit"])

    statements = _usable(
        con, "staging.stg_cards__statements",
        "card_account_id, statement_date, statement_balance, minimum_due, due_date, paid_amount, paid_date, "
        "_source_file, _source_line",
    )
    for column in ("statement_date", "due_date", "paid_date"):
        statements[column] = to_date(statements[column])
    for column in ("statement_balance", "minimum_due", "paid_amount"):
        statements[f"{column}_fen"] = to_fen(statements[column])

    bank = _usable(
        con, "staging.stg_bank__transactions",
        "transaction_id, account_id, txn_ts, currency, balance, _source_file, _source_line",
    )
    bank["txn_ts"] = to_local_time(bank["txn_ts"])
    bank["balance_fen"] = to_fen(bank["balance"])

    fx_rates = _usable(con, "staging.stg_reference__fx_rates", "rate_date, currency, rate_to_cny, _source_file, _source_line")
    fx_rates["rate_date"] = to_date(fx_rates["rate_date"])
    fx_rates["rate_millionths"] = to_millionths(fx_rates["rate_to_cny"])

    return OracleInputs(
        fund_flows=flows,
        crm_customers=customers,
        crm_accounts=accounts,
        crm_surveys=surveys,
        marketing_spend=spend,
        card_accounts=cards,
        card_statements=statements,
        bank_transactions=bank,
        fx_rates=fx_rates,
        parameters=parameters or OracleParameters.from_dbt_project(),
    )


__all__ = ["OracleInputs", "OracleParameters", "load_inputs", "to_fen", "to_millionths"]
