"""Landing contract of the PKDD'99 Discovery Challenge bank data ("Berka", a Czech bank, 1993-1998).

A delivery is the eight ``*.asc`` files of the challenge in ``landing/berka/``: ``;``-separated,
text in double quotes, CRLF line endings, ASCII, a header row, dates as ``YYMMDD`` (19YY), amounts
in CZK. Raw tables keep the delivered names (``raw.berka__trans``, columns ``A1``..``A16`` of the
district file); staging (``dbt_project/models/staging/berka``) decodes them.

Every file is ``required``: the tables only make sense together (a transaction needs its account,
an account its owner), so one file missing from a delivery is reported as a partial delivery.
The files always end with a line break, so a last line without one is a truncated file.
"""

from __future__ import annotations

from warehouse.landing.specs import SourceSpec

BERKA_CHANNEL = "berka"
# Currency of every amount in the files (Czech koruna); see settings.default_reporting_currency.
BERKA_CURRENCY = "CZK"


def _berka(entity: str, columns: tuple[str, ...], description: str) -> SourceSpec:
    return SourceSpec(
        channel=BERKA_CHANNEL,
        entity=entity,
        pattern=f"{entity}.asc",
        file_format="csv",
        encoding="ascii",
        delimiter=";",
        required=True,
        ends_with_newline=True,
        currency=BERKA_CURRENCY,
        history_from="1993-01-01",  # the challenge covers 1993-1998 (accounts opened from 1993)
        columns=columns,
        description=f"PKDD'99 bank data: {description}",
    )


BERKA_SOURCES: tuple[SourceSpec, ...] = (
    _berka("account", ("account_id", "district_id", "frequency", "date"),
           "accounts with their branch district, statement frequency and opening date (YYMMDD)."),
    _berka("client", ("client_id", "birth_number", "district_id"),
           "clients; birth_number is YYMMDD with 50 added to the month for women."),
    _berka("disp", ("disp_id", "client_id", "account_id", "type"),
           "dispositions: which client may operate which account (OWNER or DISPONENT)."),
    _berka("order", ("order_id", "account_id", "bank_to", "account_to", "amount", "k_symbol"),
           "standing payment orders (k_symbol POJISTNE, SIPO, LEASING, UVER or blank)."),
    _berka("trans", ("trans_id", "account_id", "date", "type", "operation", "amount", "balance",
                     "k_symbol", "bank", "account"),
           "account transactions with the balance after each (type PRIJEM credit, VYDAJ/VYBER debit)."),
    _berka("loan", ("loan_id", "account_id", "date", "amount", "duration", "payments", "status"),
           "loans (status A paid, B finished unpaid, C running fine, D running in debt)."),
    _berka("card", ("card_id", "disp_id", "type", "issued"),
           "cards (junior, classic, gold) with their issue time (YYMMDD hh:mm:ss)."),
    _berka("district", tuple(f"A{i}" for i in range(1, 17)),
           "districts (A1 id, A2 name, A3 region, A4 inhabitants ... A16 crimes '96); '?' = missing."),
)
