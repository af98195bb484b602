"""Exact money arithmetic on integer fen (hand-written: pandas has no decimal dtype, and
float rounding of half-fen ties is platform-dependent)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_half_away_from_zero(numerator: pd.Series, denominator: int | pd.Series) -> pd.Series:
    """numerator / denominator rounded to the nearest integer, ties away from zero (SQL ROUND
    on DECIMAL). Integers in, nullable Int64 out."""
    numerator = numerator.astype("Int64")
    denominator = pd.Series(denominator, index=numerator.index).astype("Int64")
    magnitude = (numerator.abs() * 2 + denominator) // (denominator * 2)
    return (magnitude * np.sign(numerator).astype("Int64")).astype("Int64")


def fen_to_yuan(fen: pd.Series) -> pd.Series:
    """Int64 fen -> float yuan (what the comparator reads from a DECIMAL(_,2) column)."""
    return fen.astype("Float64") / 100
