"""Staging gates: the rows staging accepted (``reject_reason is null``) are what intermediate
reads, so those rows must have their keys, closed vocabularies and sane ranges.

Rejected rows are quarantined by design (``quality.quarantine``); they are not a gate failure.
Keys are checked for presence here and for uniqueness after dedup (``int_*_deduped``):
staging keeps re-exported duplicates on purpose, one row per delivered row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from expectations.suites.vocabulary import DIRECTIONS, currencies, load_window

if TYPE_CHECKING:
    import great_expectations as gx


@dataclass(frozen=True)
class StagingContract:
    keys: tuple[str, ...]
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    non_negative: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()  # movement times that must fall in the load window
    currency: str | None = None


STAGING_CONTRACTS: dict[str, StagingContract] = {
    "stg_bank__transactions": StagingContract(
        keys=("transaction_id", "account_id"), sets={"direction": DIRECTIONS},
        non_negative=("amount",), timestamps=("txn_ts",), currency="currency"),
    "stg_payments__trades": StagingContract(
        keys=("trade_id", "user_key"), sets={"direction": DIRECTIONS},
        non_negative=("amount",), timestamps=("created_ts",), currency="currency"),
    "stg_payments__users": StagingContract(keys=("user_key",)),
    "stg_ecommerce__order_lines": StagingContract(
        keys=("order_id", "line_no", "order_line_id"), sets={"status": ("PAID", "CANCELLED", "RETURNED")},
        non_negative=("qty", "unit_price"), timestamps=("order_ts",)),
    "stg_cards__accounts": StagingContract(keys=("card_account_id", "customer_id"), non_negative=("credit_limit",)),
    "stg_cards__statements": StagingContract(
        keys=("card_account_id", "statement_date", "statement_id"), non_negative=("minimum_due",)),
    "stg_cards__transactions": StagingContract(
        keys=("txn_id", "card_account_id"), sets={"direction": DIRECTIONS},
        non_negative=("amount",), timestamps=("txn_ts",), currency="currency"),
    "stg_crm__customers": StagingContract(keys=("customer_id",)),
    "stg_crm__accounts": StagingContract(keys=("account_id", "customer_id"), currency="currency"),
    "stg_crm__surveys": StagingContract(keys=("survey_id", "customer_id")),
    "stg_crm__marketing_spend": StagingContract(keys=("spend_month", "acquisition_channel"), non_negative=("spend_cny",)),
    "stg_reference__fx_rates": StagingContract(
        keys=("rate_date", "currency", "rate_to_cny"), currency="currency"),
}


def accepted_rows_query(model: str) -> str:
    return f"select * from staging.{model} where reject_reason is null"


def build_staging_suite(model: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    contract = STAGING_CONTRACTS[model]
    earliest, latest = load_window()
    expectations: list[gxe.Expectation] = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
    for key in contract.keys:
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=key))
    for column, values in contract.sets.items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    if contract.currency:
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=contract.currency, value_set=list(currencies())))
    for column in contract.non_negative:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for column in contract.timestamps:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=earliest, max_value=latest))
    return gx.ExpectationSuite(
        name=f"staging.{model}", expectations=expectations,
        meta={"row_key": ["_source_file", "_source_line"]},
    )


def _builder(model: str) -> Callable[[], gx.ExpectationSuite]:
    def build() -> gx.ExpectationSuite:
        return build_staging_suite(model)

    build.__name__ = f"build_{model}_suite"
    return build


STAGING_BUILDERS: dict[str, Callable[[], gx.ExpectationSuite]] = {
    model: _builder(model) for model in STAGING_CONTRACTS
}
