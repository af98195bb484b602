"""Marts gates: the canonical fund-flow fact and the customer 360 mart.

These block ML, serving and reports when they fail, so each expectation is one a consumer
relies on (a key, a closed vocabulary, a sign, a format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # GX is imported by the builders: importing GX takes ~10 s
    import great_expectations as gx

SOURCE_CHANNELS = ("bank", "payments", "ecommerce", "cards")
DIRECTIONS = ("in", "out")
CURRENCY_CODE = r"^[A-Z]{3}$"
# A flow may legitimately lack a customer (an unresolved counterparty account); more than 1%
# unresolved means identity resolution broke.
CUSTOMER_ID_MIN_RESOLVED = 0.99


def build_fct_fund_flows_suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(
        name="marts.fct_fund_flows",
        expectations=[
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            gxe.ExpectColumnValuesToNotBeNull(column="flow_id"),
            gxe.ExpectColumnValuesToBeUnique(column="flow_id"),
            gxe.ExpectColumnValuesToBeInSet(column="source_channel", value_set=list(SOURCE_CHANNELS)),
            gxe.ExpectColumnValuesToBeInSet(column="direction", value_set=list(DIRECTIONS)),
            gxe.ExpectColumnValuesToNotBeNull(column="amount"),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
            gxe.ExpectColumnValuesToNotBeNull(column="amount_cny"),
            gxe.ExpectColumnValuesToBeBetween(column="amount_cny", min_value=0),
            gxe.ExpectColumnValuesToMatchRegex(column="currency", regex=CURRENCY_CODE),
            gxe.ExpectColumnValuesToNotBeNull(column="flow_date"),
            gxe.ExpectColumnValuesToNotBeNull(column="category"),
            gxe.ExpectColumnValuesToNotBeNull(column="customer_id", mostly=CUSTOMER_ID_MIN_RESOLVED),
        ],
    )


def build_mart_customer_360_suite() -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(
        name="marts.mart_customer_360",
        expectations=[
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
            gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        ],
    )


MARTS_SUITES: dict[str, Callable[[], gx.ExpectationSuite]] = {
    "marts.fct_fund_flows": build_fct_fund_flows_suite,
    "marts.mart_customer_360": build_mart_customer_360_suite,
}
