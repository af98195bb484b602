"""Comparator: a mart as built by dbt against the oracle's frame, joined on the mart's keys.

Rules per column kind:
- ``money`` (DECIMAL(_,2) in the warehouse): equal to the fen, |oracle - dbt| < 0.005;
- ``double`` (DOUBLE: ratios, shares, the revenue proxy): |oracle - dbt| <= 1e-9 x max(1, |oracle|,
  |dbt|), i.e. absolute 1e-9 for values up to 1 (every ratio and share) and relative 1e-9 above;
- ``exact`` (integers, dates, strings, booleans): equal.
In every kind NULL equals NULL only, and the key sets must be identical (no missing or extra row).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

MONEY_TOLERANCE = 0.005
DOUBLE_TOLERANCE = 1e-9
EXAMPLES_SHOWN = 5


@dataclasses.dataclass
class ColumnMismatch:
    column: str
    kind: str
    count: int
    examples: pd.DataFrame  # keys, oracle, dbt of the first differing rows

    def __str__(self) -> str:
        return (f"{self.column} ({self.kind}): {self.count} row(s) differ; first ones:\n"
                f"{self.examples.to_string(index=False)}")


@dataclasses.dataclass
class Comparison:
    mart: str
    keys: list[str]
    rows_compared: int
    columns_compared: list[str]
    missing_in_dbt: pd.DataFrame  # keys the oracle has and dbt lacks
    extra_in_dbt: pd.DataFrame  # keys dbt has and the oracle lacks
    duplicate_keys: pd.DataFrame
    mismatches: list[ColumnMismatch]

    @property
    def ok(self) -> bool:
        return not (len(self.missing_in_dbt) or len(self.extra_in_dbt) or len(self.duplicate_keys) or self.mismatches)

    def report(self) -> str:
        lines = [f"{self.mart}: {self.rows_compared} rows x {len(self.columns_compared)} columns compared"]
        for label, frame in (("rows missing in dbt", self.missing_in_dbt), ("rows only in dbt", self.extra_in_dbt),
                             ("duplicate keys", self.duplicate_keys)):
            if len(frame):
                lines.append(f"{label}: {len(frame)}\n{frame.head(EXAMPLES_SHOWN).to_string(index=False)}")
        lines.extend(str(mismatch) for mismatch in self.mismatches)
        return "\n".join(lines)


def _as_comparable(values: pd.Series) -> pd.Series:
    """One representation per logical type, so that e.g. Int64 1 equals int64 1, a DATE read by
    DuckDB equals a datetime64[s] computed by pandas, and every NULL spelling is None."""
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        values = values.astype("datetime64[ns]")
    elif values.dtype == object and values.dropna().map(lambda v: hasattr(v, "year")).all() and values.notna().any():
        values = pd.to_datetime(values).astype("datetime64[ns]")
    elif pd.api.types.is_bool_dtype(values):
        pass
    elif pd.api.types.is_numeric_dtype(values):
        values = values.astype("Float64")
    values = values.astype(object)
    return values.where(pd.notna(values), None)


def _differs(kind: str, oracle: pd.Series, dbt: pd.Series) -> pd.Series:
    oracle_null, dbt_null = oracle.isna(), dbt.isna()
    both = ~oracle_null & ~dbt_null
    differs = oracle_null != dbt_null
    if kind in ("money", "double"):
        a = pd.to_numeric(oracle[both]).astype("float64")
        b = pd.to_numeric(dbt[both]).astype("float64")
        gap = (a - b).abs()
        if kind == "money":
            bad = gap >= MONEY_TOLERANCE
        else:
            bad = gap > DOUBLE_TOLERANCE * np.maximum(1.0, np.maximum(a.abs(), b.abs()))
    elif kind == "exact":
        bad = _as_comparable(oracle[both]) != _as_comparable(dbt[both])
    else:
        raise ValueError(f"unknown column kind {kind!r} (money, double or exact)")
    differs.loc[bad.index] = differs.loc[bad.index] | bad
    return differs.astype(bool)


def compare_frames(mart: str, oracle: pd.DataFrame, dbt: pd.DataFrame, keys: list[str],
                   kinds: dict[str, str]) -> Comparison:
    """Join ``oracle`` and ``dbt`` on ``keys`` and compare each column of ``kinds``."""
    missing_columns = [c for c in [*keys, *kinds] if c not in oracle.columns or c not in dbt.columns]
    if missing_columns:
        raise KeyError(f"{mart}: columns absent from the oracle or the dbt frame: {missing_columns}")
    oracle = oracle[[*keys, *kinds]].copy()
    dbt = dbt[[*keys, *kinds]].copy()
    for frame in (oracle, dbt):
        for key in keys:
            frame[key] = _as_comparable(frame[key])
    duplicate_keys = pd.concat([
        oracle.loc[oracle.duplicated(keys, keep=False), keys].assign(side="oracle"),
        dbt.loc[dbt.duplicated(keys, keep=False), keys].assign(side="dbt"),
    ])
    joined = oracle.merge(dbt, on=keys, how="outer", suffixes=("_oracle", "_dbt"), indicator=True)
    missing = joined.loc[joined["_merge"] == "left_only", keys]
    extra = joined.loc[joined["_merge"] == "right_only", keys]
    both = joined[joined["_merge"] == "both"].reset_index(drop=True)
    mismatches = []
    for column, kind in kinds.items():
        differs = _differs(kind, both[f"{column}_oracle"], both[f"{column}_dbt"])
        if differs.any():
            examples = both.loc[differs, [*keys, f"{column}_oracle", f"{column}_dbt"]].head(EXAMPLES_SHOWN)
            mismatches.append(ColumnMismatch(column, kind, int(differs.sum()), examples))
    return Comparison(mart, keys, len(both), list(kinds), missing, extra, duplicate_keys, mismatches)
