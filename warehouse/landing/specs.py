"""What each channel delivers: the contract between the files in ``landing/`` and ``raw.*``.

One ``SourceSpec`` per source entity. The demo generator writes exactly these formats and the
landing loader reads them; a user adding a format of their own adds a spec here and a staging
model in dbt. Raw tables keep the delivered column names (the bank's headers stay Chinese):
renaming is staging's job, so raw always shows what the channel actually sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FileFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class SourceSpec:
    channel: str  # folder under landing/
    entity: str  # raw table is raw.<channel>__<entity>
    pattern: str  # glob within the channel folder
    file_format: FileFormat
    columns: tuple[str, ...]  # delivered columns, in order (CSV header / JSON keys)
    encoding: str = "utf-8"
    description: str = ""
    delimiter: str = ","  # CSV field separator
    # Part of every delivery of its channel: absent while the channel folder holds other files
    # = a partial delivery, logged as 'missing' in ops.load_log.
    required: bool = False
    # The format's files always end with a line break, so a last line without one is a
    # truncated file (its line goes to quality.landing_rejects).
    ends_with_newline: bool = False
    # The currency every amount of the source is in, when no column carries it ('' = the rows
    # say, or the demo's CNY). Decides the default reporting currency (warehouse/settings.py).
    currency: str = ""
    # ISO date of the oldest movement the format may carry when it is a historical data set
    # (PKDD'99: 1993): widens the gates' load window while such files are delivered.
    history_from: str = ""

    @property
    def table(self) -> str:
        return f"{self.channel}__{self.entity}"


LINEAGE_COLUMNS = ("_source_file", "_source_line", "_loaded_at")

# The channels the synthetic demo delivers; every demo landing holds files for each of these.
DEMO_SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        channel="bank",
        entity="transactions",
        pattern="bank_txn_*.csv",
        file_format="csv",
        encoding="gbk",
        columns=(
            "交易流水号", "账号", "交易时间", "借贷标志", "交易金额", "币种",
            "账户余额", "对方账号", "对方户名", "对方行名", "交易渠道", "摘要",
        ),
        description="Daily bank statement lines (GBK, Chinese headers); 借 = out, 贷 = in.",
    ),
    SourceSpec(
        channel="payments",
        entity="trades",
        pattern="pay_*.jsonl",
        file_format="jsonl",
        columns=(
            "trade_no", "user_id", "created_at", "trade_type", "amount_fen", "currency",
            "merchant", "mcc", "status", "funding_source", "order_ref", "counterparty_user_id",
        ),
        description="Online payment platform trades, one JSON object per line, amounts in fen.",
    ),
    SourceSpec(
        channel="payments",
        entity="users",
        pattern="users.csv",
        file_format="csv",
        columns=("user_id", "phone", "registered_at"),
        description="Payment platform users and the phone number each is bound to.",
    ),
    SourceSpec(
        channel="ecommerce",
        entity="order_lines",
        pattern="orders_*.csv",
        file_format="csv",
        columns=(
            "order_id", "line_no", "customer_ref", "order_time", "sku", "category", "qty",
            "unit_price", "discount", "pay_method", "status",
        ),
        description="E-commerce order lines; customer_ref is a phone number or an e-mail.",
    ),
    SourceSpec(
        channel="cards",
        entity="accounts",
        pattern="card_accounts.csv",
        file_format="csv",
        columns=("pan", "customer_id", "product", "credit_limit", "open_date", "status"),
        description="Credit-card accounts (PAN = primary account number).",
    ),
    SourceSpec(
        channel="cards",
        entity="statements",
        pattern="statements_*.csv",
        file_format="csv",
        columns=(
            "pan", "statement_date", "statement_balance", "minimum_due", "due_date",
            "paid_amount", "paid_date",
        ),
        description="Monthly credit-card statements with the repayment made against each.",
    ),
    SourceSpec(
        channel="cards",
        entity="transactions",
        pattern="card_txn_*.csv",
        file_format="csv",
        columns=(
            "txn_id", "pan", "txn_time", "post_date", "txn_type", "amount", "currency",
            "merchant", "mcc",
        ),
        description="Credit-card transactions (PURCHASE, REFUND, CASH_ADVANCE, FEE, INTEREST).",
    ),
    SourceSpec(
        channel="crm",
        entity="customers",
        pattern="customers.csv",
        file_format="csv",
        columns=(
            "customer_id", "name", "id_number", "phone", "email", "gender", "birth_date",
            "city", "acquisition_channel", "registered_date", "updated_at",
        ),
        description="Customer master with personal data.",
    ),
    SourceSpec(
        channel="crm",
        entity="accounts",
        pattern="accounts.csv",
        file_format="csv",
        columns=("account_no", "customer_id", "account_type", "currency", "open_date", "branch", "status"),
        description="Bank accounts held by each customer.",
    ),
    SourceSpec(
        channel="crm",
        entity="surveys",
        pattern="surveys.csv",
        file_format="csv",
        columns=("survey_id", "customer_id", "survey_date", "csat", "nps", "channel"),
        description="Customer satisfaction (CSAT 1-5) and NPS (0-10) survey answers.",
    ),
    SourceSpec(
        channel="crm",
        entity="marketing_spend",
        pattern="marketing_spend.csv",
        file_format="csv",
        columns=("month", "acquisition_channel", "spend_cny"),
        description="Monthly acquisition spend per channel, for CAC.",
    ),
    SourceSpec(
        channel="reference",
        entity="fx_rates",
        pattern="fx_rates.csv",
        file_format="csv",
        columns=("rate_date", "currency", "rate_to_cny"),
        description="Daily rate to CNY per currency (business days only).",
    ),
)


# Real-world formats live in their own modules (one per adapter). A demo landing has none of
# their files, so code that expects every source to be delivered iterates DEMO_SOURCES.
from warehouse.landing.specs_berka import BERKA_SOURCES  # noqa: E402
from warehouse.landing.specs_retail import RETAIL_SOURCES  # noqa: E402

ADAPTER_SOURCES: tuple[SourceSpec, ...] = BERKA_SOURCES + RETAIL_SOURCES
SOURCES: tuple[SourceSpec, ...] = DEMO_SOURCES + ADAPTER_SOURCES


def delivered_sources(landing_dir: Path) -> list[SourceSpec]:
    """The specs with at least one file in ``landing_dir`` (what this warehouse is built from)."""
    return [spec for spec in SOURCES if any((landing_dir / spec.channel).glob(spec.pattern))]


def spec_for(table: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.table == table:
            return spec
    raise KeyError(f"no landing spec for raw table {table!r}; known: {[s.table for s in SOURCES]}")
