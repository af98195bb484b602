"""Vectorised text building on Arrow arrays: numbers, amounts, dates, IDs, without row loops.

Columns that go into files are Arrow ``binary`` arrays already in the file's encoding (GBK for the
bank, UTF-8 elsewhere), so a line is a byte join and a file is one slice of the joined buffer.
Digits and ASCII punctuation are the same bytes in both encodings; Chinese text comes from small
vocabularies encoded once (``encode``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .seasonality import DAY, from_day

Text = pa.Array  # binary or string


def encode(values: Sequence[str | None], encoding: str = "utf-8") -> pa.BinaryArray:
    return pa.array([None if v is None else v.encode(encoding) for v in values], pa.binary())


def as_binary(arr: pa.Array) -> pa.Array:
    return arr if pa.types.is_binary(arr.type) else arr.cast(pa.binary())


def join(*parts: pa.Array | bytes | str) -> pa.Array:
    """Concatenate element-wise; bytes/str parts are literals. A null part makes the row null."""
    args = [pa.scalar(p if isinstance(p, bytes) else p.encode(), pa.binary())
            if isinstance(p, (bytes, str)) else as_binary(p) for p in parts]
    out = pc.binary_join_element_wise(*args, pa.scalar(b"", pa.binary()))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def take(table: pa.Array, idx: np.ndarray) -> pa.Array:
    return table.take(pa.array(np.asarray(idx, dtype=np.int64)))


def int_text(values: np.ndarray) -> pa.Array:
    return as_binary(pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string()))


@lru_cache(maxsize=8)
def _padded(width: int) -> pa.Array:
    return encode([str(i).zfill(width) for i in range(10**width)])


def zero_pad(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers left-padded with zeros to ``width`` digits."""
    v = np.asarray(values, dtype=np.int64)
    if width <= 4:
        return take(_padded(width), v)
    return as_binary(pc.utf8_lpad(pc.cast(pa.array(v), pa.string()), width, "0"))


def digits_text(values: np.ndarray, width: int) -> pa.Array:
    """Integers of up to 18 digits as exactly ``width`` digits (leading zeros kept)."""
    return zero_pad(values, width)


def amount_text(cents: np.ndarray, thousands: bool = False) -> pa.Array:
    """Minor units as ``1234.56`` (or ``1,234.56``); negative values get a leading minus."""
    c = np.asarray(cents, dtype=np.int64)
    neg = c < 0
    a = np.abs(c)
    whole, frac = a // 100, a % 100
    whole_txt = grouped_int_text(whole) if thousands else int_text(whole)
    out = join(whole_txt, b".", take(_padded(2), frac))
    if neg.any():
        out = pc.if_else(pa.array(neg), join(b"-", out), out)
    return out


def grouped_int_text(values: np.ndarray) -> pa.Array:
    """Non-negative integers with thousands separators: 1234567 -> ``1,234,567``."""
    v = np.asarray(values, dtype=np.int64)
    groups = np.zeros(len(v), dtype=np.int64)
    for k in range(1, 6):
        groups += v >= 1000**k
    pieces: list[pa.Array] = []
    order: list[np.ndarray] = []
    pad3 = _padded(3)
    for g in range(int(groups.max(initial=0)) + 1):
        rows = np.flatnonzero(groups == g)
        if not len(rows):
            continue
        sub = v[rows]
        parts: list[pa.Array | bytes] = [int_text(sub // 1000**g)]
        for k in range(g - 1, -1, -1):
            parts += [b",", take(pad3, (sub // 1000**k) % 1000)]
        pieces.append(join(*parts) if len(parts) > 1 else parts[0])
        order.append(rows)
    if len(pieces) == 1:
        return pieces[0]
    inv = np.empty(len(v), dtype=np.int64)
    inv[np.concatenate(order)] = np.arange(len(v))
    return pa.concat_arrays(pieces).take(pa.array(inv))


def by_unique(keys: np.ndarray, fmt: Callable[[int], str | None], encoding: str = "utf-8",
              cache: bool = False) -> pa.Array:
    """Format each distinct integer key once in Python and spread the results (dates, codes).

    ``cache`` keeps the formatted range for the next call (only for module-level ``fmt``s)."""
    keys = np.asarray(keys, dtype=np.int64)
    if not len(keys):
        return pa.array([], pa.binary())
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo <= max(4 * len(keys), 4096):  # dense: a lookup table over the range, no sort
        if cache:
            return take(_formatted_range(fmt, lo, hi, encoding), keys - lo)
        return take(encode([fmt(k) for k in range(lo, hi + 1)], encoding), keys - lo)
    uniq, inv = np.unique(keys, return_inverse=True)
    return take(encode([fmt(int(k)) for k in uniq], encoding), inv)


def _formatted_range(fmt: Callable[[int], str | None], lo: int, hi: int, encoding: str) -> pa.Array:
    cache = _RANGE_CACHE.setdefault((fmt, encoding), {})
    got = cache.get("table")
    if got is None or got[0] > lo or got[1] < hi:
        # Grow by a year each side so a month-by-month run rebuilds the table only rarely.
        lo2, hi2 = (lo, hi) if got is None else (min(lo, got[0]), max(hi, got[1]))
        lo2, hi2 = lo2 - 366, hi2 + 366
        cache["table"] = (lo2, hi2, encode([fmt(k) for k in range(lo2, hi2 + 1)], encoding))
        got = cache["table"]
    return got[2].slice(lo - got[0], hi - lo + 1)


_RANGE_CACHE: dict = {}


def _iso_day(d: int) -> str:
    return from_day(d).isoformat()


def _compact_day(d: int) -> str:
    return from_day(d).strftime("%Y%m%d")


def _month_of_day(d: int) -> str:
    return from_day(d).strftime("%Y-%m")


_DATE_STYLES = {"iso": _iso_day, "compact": _compact_day, "month": _month_of_day}


def date_text(days: np.ndarray, style: str = "iso") -> pa.Array:
    return by_unique(days, _DATE_STYLES[style], cache=True)


@lru_cache(maxsize=2)
def _clock(seconds: bool) -> pa.Array:
    if seconds:
        vals = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    else:
        vals = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
    return encode(vals)


def clock_text(ts: np.ndarray, seconds: bool = True) -> pa.Array:
    sod = np.asarray(ts, dtype=np.int64) % DAY
    return take(_clock(True), sod) if seconds else take(_clock(False), sod // 60)


def datetime_text(ts: np.ndarray, sep: str = " ") -> pa.Array:
    """Local seconds as ``YYYY-MM-DD HH:MM:SS`` (``sep`` between date and time)."""
    ts = np.asarray(ts, dtype=np.int64)
    return join(date_text(ts // DAY), sep, clock_text(ts))


def customer_text(prefix: str, index: np.ndarray, width: int = 8) -> pa.Array:
    return join(prefix, zero_pad(np.asarray(index) + 1, width))


def day_of(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def to_python(arr: pa.Array, encoding: str) -> list[str | None]:
    return [None if b is None else b.decode(encoding) for b in arr.to_pylist()]
