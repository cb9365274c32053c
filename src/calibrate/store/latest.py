"""The store's one rule for "current": the latest save per key of an append-only table.

The store's reader (:mod:`calibrate.store.reader`), which serves :meth:`Store.scores`, the
report and the imports' check for unchanged rows, reads a table in one pass, codes the key
columns as integers and keeps, per (session, case, rater, item), the row with the highest
id — here. (A save looks up only its own key, in SQL, by the same rule: ``max(id)`` per
item, or ``ORDER BY id DESC LIMIT 1``.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def combined_key(key_codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """One int64 per row for several integer key columns (mixed radix, so the order of the
    combined key is the order of the columns); re-coded when the radix could overflow."""
    n = len(key_codes[0]) if len(key_codes) else 0
    combined = np.zeros(n, dtype=np.int64)
    span = 1
    for codes, size in zip(key_codes, sizes):
        size = max(int(size), 1)
        if span * size >= 2**62:  # keep the order, shrink the radix
            uniq, combined = np.unique(combined, return_inverse=True)
            span = len(uniq)
        combined *= size  # in place: no temporary of the table's length per column
        combined += codes
        span *= size
    return combined


def latest_in_key_order(ids: np.ndarray, key_codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Positions of the row with the highest id per key, ordered by key (the key columns'
    codes, first column first)."""
    ids = np.asarray(ids)
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    by_id = np.argsort(ids, kind="stable") if np.any(ids[1:] < ids[:-1]) else np.arange(len(ids))
    key = combined_key(key_codes, sizes)[by_id]
    order = np.argsort(key, kind="stable")  # equal keys stay in id order
    k = key[order]
    last = np.ones(len(k), dtype=bool)
    last[:-1] = k[1:] != k[:-1]
    return by_id[order[last]]


def latest_rows(ids: np.ndarray, key_codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Positions of the row with the highest id per key, in increasing id order.

    ``key_codes[k]`` holds the integer code (0 ≤ code < ``sizes[k]``) of key column ``k``
    for every row; ``ids`` are the rows' ids (unique, any order).
    """
    keep = latest_in_key_order(ids, key_codes, sizes)
    return keep[np.argsort(np.asarray(ids)[keep], kind="stable")] if len(keep) else keep


__all__ = ["combined_key", "latest_in_key_order", "latest_rows"]
