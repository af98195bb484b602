"""Refuse to serve clear personal data: a value-level scan of every text column.

The column rules in ``audience`` stop clear columns by name; this scan stops clear values
whatever the column is called (a free-text field, a reason string, a mis-mapped column). It
runs on the new serving database before it is swapped in, so a leak fails the publish and the
previous version stays. Patterns are deliberately specific (an 11-digit mainland mobile number
on digit boundaries, an 18-character resident ID with a valid date, an unmasked e-mail
address, a Luhn-valid card or account number) because the marts are full of long digit runs
and hex digests that are not personal data; pseudonymous keys (hex digests) are skipped.

Resident ID candidates start with a province code (GB/T 2260: 11-15, 21-23, … 65; 71, 81-83;
9x for foreigners' permanent residence IDs) and are confirmed with the GB 11643 check digit
(ISO 7064 MOD 11-2), card candidates with Luhn, so a date-shaped record number is not mistaken
for an ID. Names have no shape: ``known_names`` (the clear names the warehouse itself received,
see ``clear_names_in_warehouse``) are matched as whole values.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from warehouse.serving.bi_views import sql_string

# RE2 (DuckDB) has no look-around: boundaries are spelled as (^|[^0-9A-Za-z.]) ... ([^0-9A-Za-z]|$).
# A run right after a decimal point is the fraction of a number (a probability or an amount
# exported as text, 0.13984568871234), never an identifier; a run followed by ".0" still counts
# (a phone number that went through a float column). Digits inside a longer alphanumeric token
# (a hex record id such as "ba5…f13812345678aa:18") are not a number anyone reads as a phone,
# ID or card: at 10M flows such ids held letter-bounded 11-digit runs by chance and blocked the
# publish. Text around a number (电话13812345678, "ID: 1101…") still counts: only ASCII letters
# and digits join a token.
PATTERNS: dict[str, str] = {
    "a mobile phone number": r"(^|[^0-9A-Za-z.])1[3-9][0-9]{9}([^0-9A-Za-z]|$)",
    "a resident ID number": (
        r"(^|[^0-9A-Za-z.])(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3]|9[1-6])[0-9]{4}"
        r"(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]([^0-9A-Za-z]|$)"
    ),
    # The domain ends in a letters-only label (a TLD): "maki@8.2.0" in a bundled script is a
    # package version, not an address.
    "an e-mail address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    # Card numbers (PAN) and bank account numbers: 13-19 digits. Candidates are confirmed with
    # the Luhn check below, which record numbers and amounts almost never pass by chance.
    # (UnionPay 62, Visa 4, Mastercard 5/2-series, Amex 34/37; mainland debit accounts 62/4/5/6).
    # A leading 1 or 2 is left out on purpose: record numbers here start with a date (2025...).
    "a card or account number": r"(^|[^0-9A-Za-z.])[3-6][0-9]{12,18}([^0-9A-Za-z]|$)",
}
_LUHN_CHECKED = "a card or account number"
_ID_CHECKED = "a resident ID number"
_NAME = "a clear name"
# sha256 / md5 digests: the pseudonymous keys. They contain digit runs by chance.
_PSEUDONYMOUS_KEY = r"[0-9a-f]{32,}"
_CANDIDATES_PER_COLUMN = 200
_KNOWN_NAMES_VIEW = "pii_guard_known_names"


class ClearPersonalDataError(ValueError):
    """The data about to be served contains clear personal data."""


@dataclass(frozen=True)
class PiiFinding:
    schema: str
    table: str
    column: str
    kind: str
    rows: int
    example: str  # masked: enough to find the row, not enough to read the value

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}: {self.rows} value(s) look like {self.kind} (e.g. {self.example})"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def resident_id_valid(value: str) -> bool:
    """GB 11643-1999 check digit of an 18-character resident ID (last character, 0-9 or X)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    return _ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS)) % 11] == value[17].upper()


def _id_candidates(value: str) -> list[str]:
    """18-character runs of digits (last may be X): not the fraction of a number, not in a token."""
    return _digit_runs(value, 18, 18, check_char="Xx")


def _mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 5, 1) + value[-2:] if len(value) > 5 else "*" * len(value)


def _text_columns(con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...]) -> list[tuple[str, str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    # Views too (the BI views are what most tools read); nested types holding text are cast.
    return con.execute(
        f"""select schema_name, table_name, column_name from duckdb_columns()
            where database_name = ? and schema_name in ({placeholders}) and data_type like '%VARCHAR%'
            order by all""",
        [catalog, *schemas],
    ).fetchall()


def find_clear_pii(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    schemas: tuple[str, ...],
    known_names: tuple[str, ...] | list[str] = (),
) -> list[PiiFinding]:
    """Every text column in ``catalog``'s ``schemas`` whose values look like clear personal data,
    or equal one of ``known_names``."""
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in _text_columns(con, catalog, schemas):
        by_table.setdefault((schema, table), []).append(column)
    names = sorted({n.strip() for n in known_names if n and n.strip()})
    # A value is a candidate when it matches some pattern (one regular expression: RE2 tries the
    # alternatives in one pass) and is not a pseudonymous key, or when it is a known name. At 100k
    # customers a looser first filter (any 11 digits) let 8.5M bank record numbers through to the
    # per-kind lists and the scan took 60 s; this one passes only real candidates.
    any_pattern = "|".join(f"({pattern})" for pattern in PATTERNS.values())
    # trim(v) only where it can change v: trimming 10M ids per column was most of the name check.
    is_known_name = (
        f"(v in (select name from {_KNOWN_NAMES_VIEW}) or "
        f"((prefix(v, ' ') or suffix(v, ' ')) and trim(v) in (select name from {_KNOWN_NAMES_VIEW})))"
    )
    # Registered once (Arrow, no copy) rather than passed to every query: a list of 124k names as
    # a query parameter cost about half a second per table.
    con.register(_KNOWN_NAMES_VIEW, pa.table({"name": pa.array(names, pa.string())}))
    try:
        return _scan_tables(con, catalog, by_table, any_pattern, is_known_name)
    finally:
        con.unregister(_KNOWN_NAMES_VIEW)


def _scan_tables(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    by_table: dict[tuple[str, str], list[str]],
    any_pattern: str,
    is_known_name: str,
) -> list[PiiFinding]:
    kinds = list(PATTERNS)
    findings: list[PiiFinding] = []
    for (schema, table), columns in by_table.items():
        # One scan per column, unioned: DuckDB reads a column at a time, and an unpivot of every
        # text column of a 10M-row table cost more than the checks.
        candidates = " union all ".join(
            f"""select {sql_string(column)} as column_name, v
                from (select cast("{column}" as varchar) as v from "{catalog}"."{schema}"."{table}")
                where (regexp_matches(v, $1) and not regexp_full_match(v, '{_PSEUDONYMOUS_KEY}'))
                   or {is_known_name}"""
            for column in columns
        )
        per_kind = ", ".join(
            f"list(distinct v) filter (where regexp_matches(v, ${i + 2}))[1:{_CANDIDATES_PER_COLUMN}]"
            for i in range(len(kinds))
        )
        rows = con.execute(
            f"""with text_values as materialized ({candidates})
                select column_name, {per_kind},
                       list(distinct v) filter (where {is_known_name})[1:{_CANDIDATES_PER_COLUMN}]
                from text_values group by column_name order by column_name""",
            [any_pattern, *(PATTERNS[k] for k in kinds)],
        ).fetchall()
        for column, *hits_per_kind in rows:
            for kind, hits in zip([*kinds, _NAME], hits_per_kind):
                hits = hits or []
                if kind == _LUHN_CHECKED:
                    hits = [v for v in hits if any(luhn_valid(run) for run in _digit_runs(v, 13, 19))]
                if kind == _ID_CHECKED:
                    hits = [v for v in hits if any(resident_id_valid(run) for run in _id_candidates(v))]
                if hits:
                    findings.append(PiiFinding(schema, table, column, kind, len(hits), _mask(hits[0])))
    return findings


def clear_names_in_warehouse(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The clear personal names the warehouse received (CRM master; bank counterparties that
    staging classed as people): what ``find_clear_pii`` must never find in a served value.
    Empty when those tables do not exist (a warehouse built from other sources)."""
    names: set[str] = set()
    queries = (
        "select distinct trim(name) from raw.crm__customers where name is not null",
        """select distinct trim(raw."对方户名") from raw.bank__transactions raw
           join staging.stg_bank__transactions stg using (_source_file, _source_line)
           where stg.counterparty_class = 'person' and raw."对方户名" is not null""",
    )
    for sql in queries:
        try:
            names.update(n for (n,) in con.execute(sql).fetchall() if n)
        except duckdb.CatalogException:
            continue
    # A "name" that is also a city (a bank line whose 对方户名 is 沈阳, classed as a person) is
    # a place served on purpose as a quasi-identifier, not a person's name.
    try:
        names -= {c for (c,) in con.execute("select distinct trim(city) from raw.crm__customers").fetchall()}
    except (duckdb.CatalogException, duckdb.BinderException):  # no CRM master, or one without cities
        pass
    return sorted(names)


def _digit_runs(value: str, shortest: int, longest: int, check_char: str = "") -> list[str]:
    """Runs of ASCII digits of the given lengths (the last may be one of ``check_char``, as in an
    ID's X), leaving out fractions (a run after a '.') and runs inside an alphanumeric token (an
    ASCII letter on either side)."""
    runs, current, in_token, previous = [], "", False, ""
    for char in value + " ":
        if (char.isascii() and char.isdigit()) or (char in check_char and len(current) == longest - 1):
            if not current:
                in_token = previous == "." or (previous.isascii() and previous.isalpha())
            current += char
        else:
            if shortest <= len(current) <= longest and not in_token and not (char.isascii() and char.isalpha()):
                runs.append(current)
            current = ""
        previous = char
    return runs


def assert_no_clear_pii(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    schemas: tuple[str, ...],
    known_names: tuple[str, ...] | list[str] = (),
) -> None:
    findings = find_clear_pii(con, catalog, schemas, known_names)
    if findings:
        listed = "\n  ".join(str(f) for f in findings[:20])
        raise ClearPersonalDataError(
            f"refusing to publish: {len(findings)} column(s) hold what looks like clear personal data:\n  {listed}"
        )
