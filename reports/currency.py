"""The currency the report, its charts and the action lists label amounts with.

Every ``*_cny`` column holds the warehouse's reporting currency (``warehouse.settings``: CNY by
default, CZK for PKDD'99 bank data, GBP for UCI Online Retail, USD for CDNOW), so a label must
come from the version being read, not from the column name. The publish step records it in
``meta.publication.reporting_currency``; a serving copy published before it did falls back to
the current settings. Symbols come from the CLDR data of Babel (the report language's locale:
¥ in Chinese, CN¥ in English, where ¥ alone could be the yen), not from a hand-kept table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pandas as pd
from babel.numbers import get_currency_name, get_currency_symbol

# Report language → CLDR locale of its symbols and currency names.
_LOCALES = {"zh": "zh_CN", "en": "en"}
_ISO_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217, e.g. CNY
    symbol: str  # in the report language, e.g. ¥ / CN¥ / £ / CZK
    name: str  # in the report language, e.g. 人民币 / Chinese Yuan

    def money(self, value) -> str:
        """Whole units with thousands separators, the sign before the symbol: -£1,234."""
        if value is None or pd.isna(value):
            return "–"
        amount = float(value)
        # A symbol that is a code (CZK) needs a space before the digits; ¥ / £ / $ do not.
        gap = "\u00a0" if self.symbol[-1].isalpha() else ""
        return f"{'-' if amount < 0 else ''}{self.symbol}{gap}{abs(amount):,.0f}"


def currency_for(code: str, lang: str) -> Currency:
    code = (code or "").strip().upper()
    if not _ISO_CODE.fullmatch(code):
        raise ValueError(f"reporting currency {code!r} is not a three-letter ISO 4217 code (FUNDFLOW_REPORTING_CURRENCY)")
    if lang not in _LOCALES:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(_LOCALES)}")
    locale = _LOCALES[lang]
    # An unknown code keeps the code as its symbol and name: still truthful, never another currency's sign.
    return Currency(code, get_currency_symbol(code, locale=locale), get_currency_name(code, locale=locale))


def published_currency(con: duckdb.DuckDBPyConnection) -> str:
    """The reporting currency of the serving copy open on ``con``: the one its publish step
    recorded, else (a copy published before the column existed) the current settings'."""
    recorded = con.execute(
        "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'meta' and table_name = 'publication' and column_name = 'reporting_currency'"
    ).fetchone()[0]
    if recorded:
        code = con.execute("select any_value(reporting_currency) from meta.publication").fetchone()[0]
        if code:
            return str(code).strip().upper()
    from warehouse.settings import load_settings  # only for copies without the recorded currency

    return load_settings().reporting_currency
