"""Landing contracts of two public retail data sets: UCI Online Retail and CDNOW.

They are *adapter sources*: real-world formats a user points fundflow at (``FUNDFLOW_LANDING_DIR``
= a folder holding ``online_retail/`` and / or ``cdnow/``), not part of the demo delivery. They
are listed in ``ADAPTER_SOURCES`` (``specs.py``), apart from ``DEMO_SOURCES``: a demo warehouse
has no such files, so whatever expects every source to be delivered iterates ``DEMO_SOURCES``.
Their staging models read the raw tables through ``optional_source`` for the same reason.

Neither format is a plain CSV with a fixed header, so each spec brings its own record reader
(``read_records``, called by the landing loader instead of its CSV / JSON Lines reader). A
reader yields the same ``(line number, fields or reject)`` items as the built-in ones, so the
loader's accounting (data lines = raw rows + landing rejects), load log and incremental
loading apply unchanged. Whole-file problems (unknown columns, a truncated Parquet file, an
Excel file with no Excel reader installed) raise ``LandingContractError`` with the reason.

- **Online Retail** (``online_retail/*.parquet|*.csv``): accepts both releases' column names,
  ``InvoiceNo/UnitPrice/CustomerID`` (Online Retail, 2010-2011) and ``Invoice/Price/Customer ID``
  (Online Retail II, 2009-2011), in any column order. The raw table uses the first release's
  names. Parquet: ``_source_line`` is the 1-based row number; CSV: the physical line (header =
  line 1). Excel (``.xlsx``) is refused with a clear message: no Excel reader (openpyxl,
  python-calamine) is pinned in this environment; save the sheet as CSV or Parquet.
- **CDNOW** (``cdnow/CDNOW_*.txt``): whitespace-separated, CRLF. ``CDNOW_master.txt`` has a
  header and four columns (customer_id, date, number_of_cds, dollar_value);
  ``CDNOW_sample.txt`` has no header and five (master id, sample id, date, CDs, dollars). Both
  land in one table; ``sample_id`` is empty for master rows. A last line without its line
  break is a truncated delivery and is rejected even when it still splits into fields (a
  dollar value cut from 25.74 to 25.7 would otherwise load silently).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from warehouse.landing.specs import SourceSpec

# Reader signature shared with the loader's own readers: (spec, path relative to the landing
# folder, file content) -> (line number, delivered fields as text | loader._Reject).
RecordReader = Callable[["AdapterSpec", str, bytes], Iterator[tuple[int, object]]]


@dataclass(frozen=True)
class AdapterSpec(SourceSpec):
    read_records: RecordReader | None = field(default=None, compare=False)


ONLINE_RETAIL_COLUMNS = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)
# Online Retail II name -> raw column (the first release's name).
ONLINE_RETAIL_II_NAMES = {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
_ONLINE_RETAIL_II_BY_RAW = {raw: name for name, raw in ONLINE_RETAIL_II_NAMES.items()}

CDNOW_COLUMNS = ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value")
CDNOW_MASTER_HEADER = ("customer_id", "date", "number_of_cds", "dollar_value")


def _contract_error(message: str) -> Exception:
    # Imported here: the loader imports the specs, so a module-level import would be circular.
    from warehouse.landing.loader import LandingContractError

    return LandingContractError(message)


def _reject(line: int, text: str, reason: str) -> object:
    from warehouse.landing.loader import _Reject

    return _Reject(line, text, reason)


def _online_retail_columns(rel_path: str, names: list[str]) -> list[str]:
    """Raw column for each delivered column; refuses unknown or missing columns, naming both releases."""
    mapped = [ONLINE_RETAIL_II_NAMES.get(name.strip(), name.strip()) for name in names]
    unknown = [name for name, raw in zip(names, mapped) if raw not in ONLINE_RETAIL_COLUMNS]
    missing = [column for column in ONLINE_RETAIL_COLUMNS if column not in mapped]
    repeated = sorted({raw for raw in mapped if mapped.count(raw) > 1})
    if unknown or missing or repeated:
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if unknown:
            problems.append(f"unexpected columns {unknown}")
        if repeated:
            problems.append(f"columns given twice (both namings?) {repeated}")
        raise _contract_error(
            f"{rel_path}: not an Online Retail file: {'; '.join(problems)} (expected "
            f"{list(ONLINE_RETAIL_COLUMNS)} or the Online Retail II names "
            f"{[_ONLINE_RETAIL_II_BY_RAW.get(c, c) for c in ONLINE_RETAIL_COLUMNS]})"
        )
    return mapped


def read_online_retail(spec: AdapterSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, object]]:
    suffix = PurePosixPath(rel_path).suffix.lower()
    if suffix == ".parquet":
        yield from _online_retail_parquet(rel_path, data)
    elif suffix == ".csv":
        yield from _online_retail_csv(spec, rel_path, data)
    elif suffix in (".xlsx", ".xls"):
        raise _contract_error(
            f"{rel_path}: Excel files cannot be read here: no Excel reader (openpyxl or python-calamine) is "
            "installed in this environment; save the sheet as CSV (UTF-8) or Parquet in the same folder"
        )
    else:
        raise _contract_error(f"{rel_path}: unknown file type {suffix!r}; Online Retail is read from .parquet or .csv")


def _online_retail_parquet(rel_path: str, data: bytes) -> Iterator[tuple[int, object]]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise _contract_error(f"{rel_path}: not a readable Parquet file (truncated or corrupt?): {error}") from None
    mapped = _online_retail_columns(rel_path, table.column_names)
    by_raw_name = dict(zip(mapped, table.columns))
    # Every value as text, as delivered (raw keeps text; staging types it). A float customer id
    # (the UCI file stores 17850 as 17850.0) is written by Arrow as "17850".
    columns = [pc.cast(by_raw_name[name], pa.string()).to_pylist() for name in ONLINE_RETAIL_COLUMNS]
    for number, fields in enumerate(zip(*columns), start=1):
        yield number, list(fields)


def _online_retail_csv(spec: AdapterSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, object]]:
    text = data.decode(spec.encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        raise _contract_error(f"{rel_path}: empty file, expected a header {list(ONLINE_RETAIL_COLUMNS)}")
    mapped = _online_retail_columns(rel_path, next(csv.reader([lines[0]])))
    order = [mapped.index(column) for column in ONLINE_RETAIL_COLUMNS]
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "":
            yield number, _reject(number, line, "blank line")
            continue
        if "\ufffd" in line:
            yield number, _reject(number, line, f"not valid {spec.encoding}")
            continue
        fields = next(csv.reader([line]))
        if len(fields) != len(mapped):
            yield number, _reject(number, line, f"wrong field count: expected {len(mapped)}, got {len(fields)}")
            continue
        # An empty CSV field is a missing value, as a Parquet null is.
        yield number, [fields[i] if fields[i] != "" else None for i in order]


def read_cdnow(spec: AdapterSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, object]]:
    try:
        text = data.decode(spec.encoding)
    except UnicodeDecodeError as error:
        raise _contract_error(f"{rel_path}: not {spec.encoding} text ({error.reason} at byte {error.start})") from None
    ends_with_newline = text.endswith("\n")
    lines = text.splitlines()
    if not lines:
        raise _contract_error(f"{rel_path}: empty file, expected CDNOW purchases")
    first = tuple(lines[0].split())
    has_header = first == CDNOW_MASTER_HEADER
    width = 4 if has_header else 5
    if not has_header and (len(first) not in (4, 5) or not all(token.replace(".", "").isdigit() for token in first)):
        raise _contract_error(
            f"{rel_path}: neither CDNOW layout: expected a header {list(CDNOW_MASTER_HEADER)} (master) or "
            f"5 numbers per line (master id, sample id, YYYYMMDD, CDs, dollars; sample), got {lines[0]!r}"
        )
    if not has_header and len(first) == 4:
        raise _contract_error(f"{rel_path}: 4 columns but no header line {list(CDNOW_MASTER_HEADER)}")
    start = 2 if has_header else 1
    last = len(lines)  # physical number of the last line either way
    for number, line in enumerate(lines[start - 1:], start=start):
        tokens = line.split()
        if not tokens:
            yield number, _reject(number, line, "blank line")
        elif number == last and not ends_with_newline:
            yield number, _reject(number, line, "truncated file: last line has no line break")
        elif len(tokens) != width:
            yield number, _reject(number, line, f"wrong field count: expected {width}, got {len(tokens)}")
        elif has_header:
            customer, date, cds, dollars = tokens
            yield number, [customer, None, date, cds, dollars]
        else:
            yield number, tokens


RETAIL_SOURCES: tuple[AdapterSpec, ...] = (
    AdapterSpec(
        channel="online_retail",
        entity="invoice_lines",
        pattern="*.[cpx]*",  # .csv, .parquet, .xlsx / .xls (refused with the reason)
        file_format="parquet",  # or csv (by suffix); see read_online_retail
        columns=ONLINE_RETAIL_COLUMNS,
        description="UCI Online Retail (I or II) invoice lines of a UK online shop, GBP; a 'C' invoice is a "
        "cancellation. Parquet or CSV, either release's column names.",
        read_records=read_online_retail,
        currency="GBP",
        required=True,  # a folder of other files but no invoice lines is a partial delivery
        history_from="2009-12-01",  # Online Retail II starts 2009-12-01 (the first release 2010-12-01)
    ),
    AdapterSpec(
        channel="cdnow",
        entity="purchases",
        pattern="CDNOW_*.txt",
        file_format="txt",  # whitespace-separated; see read_cdnow
        encoding="ascii",
        columns=CDNOW_COLUMNS,
        description="CDNOW purchases (Fader, Hardie & Lee 2005), USD: the master file or its 1/10th sample.",
        read_records=read_cdnow,
        currency="USD",
        required=True,
        history_from="1997-01-01",  # the cohort's purchases run 1997-01-01 to 1998-06-30
    ),
)
