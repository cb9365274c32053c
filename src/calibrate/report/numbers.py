"""The JSON-safe numbers of the report's content.

Owns the one conversion every part of the content dict goes through: NaN and infinity
become None, NumPy scalars become Python ones, rounded where asked (:func:`_num`), for a
record (:func:`_clean`) and a table's rows (:func:`_rows`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def _num(v: Any, digits: int | None = None):
    """A JSON-safe number: NaN/inf become None; numpy scalars become Python ones."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    if not math.isfinite(f):
        return None
    return round(f, digits) if digits is not None else f


def _clean(rec: dict, digits: int = 4) -> dict:
    out = {}
    for k, v in rec.items():
        if isinstance(v, (str, list, dict)) or v is None:
            out[k] = v
        elif isinstance(v, (float, np.floating)) and not np.isfinite(v):
            out[k] = None
        elif v is pd.NA:
            out[k] = None
        else:
            out[k] = _num(v, digits)
    return out


def _rows(df: pd.DataFrame, digits: int = 4) -> list[dict]:
    return [_clean(r, digits) for r in df.to_dict("records")]
