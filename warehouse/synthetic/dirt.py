"""Planted dirt: what goes wrong with delivered records, at what rate, and the truth of it.

Rates are fractions of the records a kind of dirt can apply to (see each field). Per record, the
field-level kinds (missing, outlier, full_width, malformed, currency_alias, unknown_currency) are
mutually exclusive, so their rates add up; a mixed date format and a re-exported duplicate are
drawn independently of them. Malformed lines are never duplicated, so for every table
``delivered rows = unique records + duplicates`` holds exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .textops import FULL_WIDTH_DIGITS, encode, to_python


@dataclass(frozen=True)
class DirtRates:
    """Per-kind rates of planted dirt (fractions of eligible records, 0..1)."""

    duplicate: float = 0.005
    """Re-exported exact copy of a delivered line, later in the same file or in the next file
    (next day's / next month's) of the same table. Money-movement tables only."""

    missing: float = 0.01
    """One non-key field left blank: bank 币种/对方户名/交易渠道, payments mcc/merchant/currency,
    e-commerce category/discount, card mcc/merchant. Only fields that had a value."""

    outlier: float = 0.001
    """Fat-finger amount: the delivered amount is the true one ×100 or ×1000 (bank 交易金额,
    payments amount_fen, e-commerce unit_price, card amount). The bank's 账户余额 stays true."""

    date_format: float = 0.08
    """Timestamp in a non-standard format: bank 交易时间 (``2025/1/3 10:22``,
    ``20250103102201``, ``2025年1月3日 10:22:01``) and payments created_at (ISO in UTC with
    ``Z``, epoch milliseconds as a JSON integer, ISO without offset). Split evenly."""

    full_width: float = 0.005
    """Digits written full-width (０-９) in bank 交易金额, e-commerce unit_price, or an
    e-commerce customer_ref that is a phone number."""

    malformed: float = 0.001
    """Broken line: a CSV line missing its last field or carrying an extra one; a JSONL line
    truncated mid-object. Money-movement tables only."""

    currency_alias: float = 0.003
    """CNY written as RMB, 人民币 or rmb (of records in CNY; bank, payments, cards)."""

    unknown_currency: float = 0.0005
    """Currency code replaced by one that is not ISO 4217 (XXX, US$, CNH, RMB￥)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"dirt rate {f.name} must be between 0 and 1, got {v!r}")
        exclusive = sum(getattr(self, k) for k in EXCLUSIVE_KINDS)
        if exclusive > 1.0:
            raise ValueError(f"field-level dirt rates add up to {exclusive:.3f} > 1")

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, float] | None = None) -> DirtRates:
        """Defaults with some rates replaced, e.g. ``{"duplicate": 0.02, "malformed": 0}``."""
        overrides = dict(overrides or {})
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown dirt kinds {sorted(unknown)}; known: {sorted(known)}")
        return replace(cls(), **{k: float(v) for k, v in overrides.items()})

    @classmethod
    def clean(cls) -> DirtRates:
        """No dirt at all (useful to test the happy path)."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


EXCLUSIVE_KINDS = ("missing", "outlier", "full_width", "malformed", "currency_alias", "unknown_currency")
CURRENCY_ALIASES = ("RMB", "人民币", "rmb")
UNKNOWN_CURRENCIES = ("XXX", "US$", "CNH", "RMB￥")


@dataclass
class Delivery:
    """One month of one raw table, formatted as text in the file's encoding, plus dirt hooks."""

    table: str
    columns: tuple[str, ...]
    encoding: str
    file_format: str  # csv | jsonl
    files: list[str]  # relative paths; rows are grouped by file in this order
    file_idx: np.ndarray  # per row (non-decreasing)
    record_id: pa.Array
    fields: dict[str, pa.Array]  # binary in ``encoding``; null = blank / JSON null
    json_raw: dict[str, np.ndarray] = field(default_factory=dict)  # JSONL: unquoted rows
    missing_cols: tuple[str, ...] = ()
    outlier_col: str | None = None
    outlier_value: np.ndarray | None = None  # true minor units (or integer fen)
    outlier_format: Callable[[np.ndarray], pa.Array] | None = None
    full_width: dict[str, np.ndarray] = field(default_factory=dict)  # column -> eligible rows
    currency_col: str | None = None
    cny_rows: np.ndarray | None = None
    date_col: str | None = None
    date_formats: dict[str, Callable[[np.ndarray], tuple[pa.Array, np.ndarray | None]]] = field(default_factory=dict)
    ts: np.ndarray | None = None
    money: bool = True  # duplicates and malformed lines apply

    def __len__(self) -> int:
        return len(self.record_id)


@dataclass
class Planted:
    """Field-level dirt already applied to a delivery; line-level dirt still to apply."""

    rows: list[np.ndarray]
    kinds: list[str]
    details: list[list[str]]
    malformed: np.ndarray  # bool per row
    duplicate: np.ndarray  # bool per row


def _set(arr: pa.Array, rows: np.ndarray, values: pa.Array | None) -> pa.Array:
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    if values is None:
        return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)
    return pc.replace_with_mask(arr, pa.array(mask), values.cast(arr.type))


def plant(d: Delivery, rates: DirtRates, rng: np.random.Generator) -> Planted:
    n = len(d)
    rows_out: list[np.ndarray] = []
    kinds_out: list[str] = []
    details_out: list[list[str]] = []

    def record(rows: np.ndarray, kind: str, details: list[str]) -> None:
        if len(rows):
            rows_out.append(rows)
            kinds_out.append(kind)
            details_out.append(details)

    u = rng.random(n)
    applicable = {
        "missing": bool(d.missing_cols),
        "outlier": d.outlier_col is not None,
        "full_width": bool(d.full_width),
        "malformed": d.money,
        "currency_alias": d.currency_col is not None,
        "unknown_currency": d.currency_col is not None,
    }
    kind_of = np.full(n, -1)
    lo = 0.0
    for k, name in enumerate(EXCLUSIVE_KINDS):
        if not applicable[name]:
            continue
        hi = lo + getattr(rates, name)
        kind_of[(u >= lo) & (u < hi)] = k
        lo = hi
    picks = {name: np.flatnonzero(kind_of == k) for k, name in enumerate(EXCLUSIVE_KINDS)}
    enc = d.encoding

    # missing: one non-empty field among the table's candidates
    rows = picks["missing"]
    if len(rows):
        present = np.stack([d.fields[c].take(pa.array(rows)).is_valid().to_numpy(zero_copy_only=False)
                            for c in d.missing_cols], axis=1)
        score = rng.random(present.shape) * present
        choice = score.argmax(axis=1)
        ok = present[np.arange(len(rows)), choice]
        for k, col in enumerate(d.missing_cols):
            sel = rows[(choice == k) & ok]
            if len(sel):
                original = to_python(d.fields[col].take(pa.array(sel)), enc)
                d.fields[col] = _set(d.fields[col], sel, None)
                record(sel, f"missing:{col}", [str(v) for v in original])

    rows = picks["outlier"]
    if len(rows):
        col = d.outlier_col
        factor = np.where(rng.random(len(rows)) < 0.5, 100, 1000)
        original = to_python(d.fields[col].take(pa.array(rows)), enc)
        d.fields[col] = _set(d.fields[col], rows, d.outlier_format(d.outlier_value[rows] * factor))
        record(rows, "outlier", [f"{col}={v} x{f}" for v, f in zip(original, factor)])

    rows = picks["full_width"]
    if len(rows):
        cols = list(d.full_width)
        eligible = np.stack([d.full_width[c][rows] for c in cols], axis=1)
        choice = (rng.random(eligible.shape) * eligible).argmax(axis=1)
        ok = eligible[np.arange(len(rows)), choice]
        for k, col in enumerate(cols):
            sel = rows[(choice == k) & ok]
            if len(sel):
                original = to_python(d.fields[col].take(pa.array(sel)), enc)
                wide = [v.translate(FULL_WIDTH_DIGITS) for v in original]
                d.fields[col] = _set(d.fields[col], sel, encode(wide, enc))
                record(sel, "full_width", [f"{col}={v}" for v in original])

    if d.currency_col is not None:
        col = d.currency_col
        rows = picks["currency_alias"]
        rows = rows[d.cny_rows[rows]]
        if len(rows):
            alias = rng.integers(0, len(CURRENCY_ALIASES), len(rows))
            d.fields[col] = _set(d.fields[col], rows, encode([CURRENCY_ALIASES[a] for a in alias], enc))
            record(rows, "currency_alias", [f"{col}=CNY"] * len(rows))
        rows = picks["unknown_currency"]
        rows = rows[d.fields[col].take(pa.array(rows)).is_valid().to_numpy(zero_copy_only=False)] if len(rows) else rows
        if len(rows):
            original = to_python(d.fields[col].take(pa.array(rows)), enc)
            code = rng.integers(0, len(UNKNOWN_CURRENCIES), len(rows))
            d.fields[col] = _set(d.fields[col], rows, encode([UNKNOWN_CURRENCIES[a] for a in code], enc))
            record(rows, "unknown_currency", [f"{col}={v}" for v in original])

    if d.date_col is not None and d.date_formats and rates.date_format > 0:
        rows = np.flatnonzero(rng.random(n) < rates.date_format)
        names = sorted(d.date_formats)
        which = rng.integers(0, len(names), len(rows))
        original = to_python(d.fields[d.date_col].take(pa.array(rows)), enc) if len(rows) else []
        for k, name in enumerate(names):
            sel_pos = np.flatnonzero(which == k)
            sel = rows[sel_pos]
            if not len(sel):
                continue
            text, raw = d.date_formats[name](d.ts[sel])
            d.fields[d.date_col] = _set(d.fields[d.date_col], sel, text)
            if raw is not None:
                flags = d.json_raw.setdefault(d.date_col, np.zeros(n, dtype=bool))
                flags[sel] = raw
            record(sel, f"date_format:{name}", [original[i] for i in sel_pos])

    malformed = np.zeros(n, dtype=bool)
    malformed[picks["malformed"]] = True
    duplicate = np.zeros(n, dtype=bool)
    if d.money and rates.duplicate > 0:
        duplicate = (rng.random(n) < rates.duplicate) & ~malformed
    return Planted(rows_out, kinds_out, details_out, malformed, duplicate)
