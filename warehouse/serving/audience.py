"""Who a serving file is for, and therefore which tables, columns and rows it may carry.

``ANALYST`` is the default serving copy (``serving/marts.duckdb``): BI tools, reports and action
lists, which see every published table with pseudonymous keys and masked display values only.
The roles of ``warehouse/security/roles.yml`` (权限管理) are further audiences, each with explicit
``grants`` (tables, columns, a row filter) and its own sub-directory; publishing writes one file
per audience, each named ``marts.duckdb`` so its catalog stays ``marts`` for every tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Column names that hold clear personal data wherever they appear. The marts are built without
# them (staging pseudonymises), so normally nothing matches: this is the second line of defence
# for a model that one day selects a clear column by mistake. Masked variants (``*_masked``,
# ``display_number``) and pseudonymous keys (``*_id``) do not match.
CLEAR_PII_COLUMN = re.compile(
    r"^(name|full_name|customer_name|holder_name|counterparty_name|对方户名|"
    r"phone|mobile|phone_number|telephone|email|e_mail|"
    r"id_number|id_no|id_card|national_id|身份证号|"
    r"pan|card_number|card_no|account_no|account_number|bank_account_no|"
    r"address|home_address|birth_date|date_of_birth)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TableGrant:
    """What an audience may see of one published table."""

    columns: tuple[str, ...] | None = None  # None: every column (minus clear personal data)
    # A predicate on the warehouse table. Built only from allow-listed identifiers
    # (warehouse.security.roles); every value in it is a ? bound from ``row_filter_params``.
    row_filter: str | None = None
    row_filter_params: tuple[str, ...] = ()


_EVERYTHING = TableGrant()


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    # Where the audience's files live under FUNDFLOW_HOME/serving ("" = serving/ itself).
    subdir: str = ""
    # Column names this audience never receives, on top of CLEAR_PII_COLUMN.
    withheld_columns: frozenset[str] = field(default_factory=frozenset)
    # "schema.table" -> grant. None: every published table (the default serving copy).
    grants: dict[str, TableGrant] | None = field(default=None, hash=False)
    # The BI views of bi_views.py join many marts; a role file carries only its grant.
    bi_views: bool = True

    def withholds(self, column: str) -> bool:
        return bool(CLEAR_PII_COLUMN.match(column)) or column.lower() in self.withheld_columns

    def grant_for(self, schema: str, table: str) -> TableGrant | None:
        """The grant on a published table, or None when this audience may not see it at all."""
        if self.grants is None:
            return _EVERYTHING
        return self.grants.get(f"{schema}.{table}")

    def directory(self, serving_dir: Path) -> Path:
        return serving_dir / self.subdir if self.subdir else serving_dir


ANALYST = Audience(
    name="analyst",
    description="BI tools, reports and action lists: pseudonymous keys and masked display values only.",
    # quality.check_results keeps a few failing rows per expectation as evidence; on raw and
    # staging tables those are delivered lines with clear personal data. The counts and rates
    # travel, the rows stay in the warehouse.
    withheld_columns=frozenset({"sample_failing_rows"}),
)
