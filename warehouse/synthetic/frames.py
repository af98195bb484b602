"""Columnar event frames (numpy + Arrow) and the codes they carry.

Every channel builds its records for a month as ``Frame``s of one schema per raw table. The
columns shared by all money-movement tables are the truth of each record; the rest is what the
channel's writer needs to print the record.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from . import catalog
from .seasonality import DAY
from .textops import date_text, digits_text, encode, int_text, join

STR = "str"

COMMON = {
    "rid": STR,  # source_record_id
    "cust": np.int32,
    "ts": np.int64,  # local seconds
    "cents": np.int64,  # true amount in minor units of ``cur``
    "cur": np.int8,
    "dir": np.int8,  # 1 = in, 0 = out (customer's view)
    "cat": np.int16,
    "internal": np.bool_,
    "match": STR,  # other leg's record id or null
    "anom": np.int8,
    "status": np.int8,
}

SCHEMAS: dict[str, dict[str, object]] = {
    "bank__transactions": {
        **COMMON,
        "acct": np.int32,
        "summ": np.int16,
        "chan": np.int8,
        "cp": np.int32,  # counterparty registry index, -1 = none
        "order": np.int8,  # tie-break at equal ts: -1 before, 0 normal, 1/2 after
        "special": np.int8,  # balance-dependent amount, see bank.SPECIAL_*
        "bal": np.int64,  # running balance after the record (set when the month is settled)
    },
    "payments__trades": {
        **COMMON,
        "ttype": np.int8,
        "merch": np.int32,
        "fsrc": np.int8,
        "oref": STR,
        "cpu": np.int32,  # counterparty platform user (external pool index), -1 = none
    },
    "ecommerce__order_lines": {
        **COMMON,
        "order_id": STR,
        "line_no": np.int16,
        "ref_kind": np.int8,  # 0 phone, 1 e-mail
        "sku": np.int32,
        "ecat": np.int8,
        "qty": np.int16,
        "unit_cents": np.int64,
        "disc_cents": np.int64,
        "paym": np.int8,
    },
    "cards__transactions": {
        **COMMON,
        "card": np.int32,
        "post_day": np.int32,
        "ttype": np.int8,
        "merch": np.int32,
    },
    "cards__statements": {
        **COMMON,  # a paid statement is the card-side leg of a repayment
        "card": np.int32,
        "stmt_day": np.int32,
        "balance": np.int64,
        "min_due": np.int64,
        "due_day": np.int32,
        "paid_day": np.int32,  # -1 = not paid (yet)
    },
}

_DEFAULTS = {"cp": -1, "merch": -1, "fsrc": -1, "cpu": -1, "paid_day": -1, "status": 0}


class Frame:
    """A dict of equal-length columns: numpy arrays, or Arrow arrays for text."""

    __slots__ = ("table", "cols")

    def __init__(self, table: str, cols: dict[str, object]):
        self.table = table
        self.cols = cols

    @classmethod
    def build(cls, table: str, n: int, **given: object) -> Frame:
        schema = SCHEMAS[table]
        unknown = set(given) - set(schema)
        if unknown:
            raise KeyError(f"{table}: unknown columns {sorted(unknown)}")
        cols: dict[str, object] = {}
        for name, kind in schema.items():
            if name in given:
                v = given[name]
                if kind == STR:
                    cols[name] = v if isinstance(v, pa.Array) else pa.array(v, pa.binary())
                else:
                    arr = np.asarray(v, dtype=kind)
                    cols[name] = np.broadcast_to(arr, (n,)).copy() if arr.ndim == 0 else arr
            elif kind == STR:
                cols[name] = pa.nulls(n, pa.binary())
            else:
                cols[name] = np.full(n, _DEFAULTS.get(name, 0), dtype=kind)
        frame = cls(table, cols)
        for name, col in cols.items():
            if len(col) != n:
                raise ValueError(f"{table}.{name}: {len(col)} values, expected {n}")
        return frame

    def __len__(self) -> int:
        return len(self.cols["ts"])

    def __getitem__(self, name: str):
        return self.cols[name]

    def __setitem__(self, name: str, value) -> None:
        self.cols[name] = value

    def take(self, idx: np.ndarray) -> Frame:
        idx = np.asarray(idx, dtype=np.int64)
        pidx = pa.array(idx)
        return Frame(self.table, {
            k: (v.take(pidx) if isinstance(v, pa.Array) else v[idx]) for k, v in self.cols.items()
        })

    def mask(self, m: np.ndarray) -> Frame:
        return self.take(np.flatnonzero(m))

    @staticmethod
    def concat(table: str, frames: Iterable[Frame]) -> Frame:
        frames = [f for f in frames if f is not None]
        if not frames:
            return Frame.build(table, 0)
        cols = {}
        for k, kind in SCHEMAS[table].items():
            parts = [f.cols[k] for f in frames]
            if kind == STR:
                cols[k] = pa.concat_arrays([p.cast(pa.binary()) for p in parts])
            else:
                cols[k] = np.concatenate(parts)
        return Frame(table, cols)


def split_by_ts(frame: Frame, end_ts: int) -> tuple[Frame, Frame]:
    """Records before ``end_ts`` and the rest (carried to a later month)."""
    late = frame["ts"] >= end_ts
    if not late.any():
        return frame, Frame.build(frame.table, 0)
    return frame.mask(~late), frame.mask(late)


# --- codes ---------------------------------------------------------------------------------

CURRENCIES: tuple[str, ...] = ("CNY", "USD", "HKD", "EUR", "JPY", "GBP")
CNY, USD, HKD, EUR, JPY, GBP = range(6)

CONSUMPTION_GROUPS: tuple[str, ...] = tuple(sorted(
    set(catalog.MCC_GROUP.values()) | set(catalog.ECOMMERCE_CATEGORY_GROUP.values()) | {"utilities"}
))
CATEGORIES: tuple[str, ...] = (
    "salary", "transfer", "card_repayment", "loan_repayment", "investment", "cash", "fee",
    "interest", "refund", "other",
) + tuple(f"consumption:{g}" for g in CONSUMPTION_GROUPS)
CAT = {name: i for i, name in enumerate(CATEGORIES)}


def consumption(group: str) -> int:
    return CAT[f"consumption:{group}"]


ANOMALY_TYPES: tuple[str | None, ...] = (None, "rapid_pass_through", "structuring", "late_night_large", "spike")


class Merchants:
    """Every merchant the demo knows: domestic per MCC, plus overseas ones with their currency."""

    def __init__(self) -> None:
        names, mccs, curs = [], [], []
        for mcc, _group, _ticket, shops in catalog.MCC_TABLE:
            for shop in shops:
                names.append(shop)
                mccs.append(mcc)
                curs.append(CNY)
        self.n_domestic = len(names)  # overseas merchants follow, then the ATM
        for name, mcc, cur in catalog.FOREIGN_MERCHANTS:
            names.append(name)
            mccs.append(mcc)
            curs.append(CURRENCIES.index(cur))
        # The bank's own ATMs: where a credit-card cash advance happens (MCC 6011, not spending).
        self.atm = len(names)
        names.append(f"{catalog.BANK_NAME}ATM")
        mccs.append("6011")
        curs.append(CNY)
        self.names = names
        self.mcc = np.array(mccs)
        self.currency = np.array(curs, dtype=np.int8)
        self.category = np.array([consumption(catalog.MCC_GROUP[m]) if m in catalog.MCC_GROUP else CAT["cash"]
                                  for m in mccs], dtype=np.int16)
        self.ticket = np.array([catalog.MCC_TICKET.get(m, 1000.0) for m in mccs])
        self.by_mcc = {m: np.flatnonzero((self.mcc == m) & (np.arange(len(mccs)) < self.n_domestic))
                       for m in catalog.MCC_CODES}
        self.ecommerce = names.index(catalog.ECOMMERCE_MERCHANT)
        self.name_text = encode(names)
        self.mcc_text = encode(mccs)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_foreign(self) -> int:
        return len(catalog.FOREIGN_MERCHANTS)

    def pick(self, mcc_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A domestic merchant for each MCC (index into ``catalog.MCC_CODES``)."""
        out = np.empty(len(mcc_idx), dtype=np.int32)
        for k, code in enumerate(catalog.MCC_CODES):
            rows = np.flatnonzero(mcc_idx == k)
            if len(rows):
                pool = self.by_mcc[code]
                out[rows] = pool[rng.integers(0, len(pool), len(rows))]
        return out


class RecordIds:
    """Per-table running counters; ids embed the record's local date where channels do that."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def _next(self, key: str, n: int) -> np.ndarray:
        start = self.counters.get(key, 0)
        self.counters[key] = start + n
        return np.arange(start + 1, start + n + 1, dtype=np.int64)

    def bank(self, ts: np.ndarray) -> pa.Array:
        seq = self._next("bank", len(ts))
        return join(date_text(np.asarray(ts) // DAY, "compact"), digits_text(seq, 10))

    def trade(self, ts: np.ndarray) -> pa.Array:
        seq = self._next("trade", len(ts))
        return join(date_text(np.asarray(ts) // DAY, "compact"), b"22001", digits_text(seq, 11))

    def order(self, ts: np.ndarray) -> pa.Array:
        seq = self._next("order", len(ts))
        return join(b"E", date_text(np.asarray(ts) // DAY, "compact"), digits_text(seq, 8))

    def card_txn(self, ts: np.ndarray) -> pa.Array:
        seq = self._next("card", len(ts))
        return join(b"CT", date_text(np.asarray(ts) // DAY, "compact"), digits_text(seq, 10))


def statement_id(pans: pa.Array, stmt_day: np.ndarray) -> pa.Array:
    """``<pan>-<YYYYMMDD>``: a paid statement's record id (the card leg of a repayment)."""
    return join(pans, b"-", date_text(stmt_day, "compact"))


def order_line_id(order_id: pa.Array, line_no: np.ndarray) -> pa.Array:
    return join(order_id, b"-", int_text(line_no))
