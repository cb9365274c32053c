"""The store's one rule for "current": the latest save per key of an append-only table.

Both :meth:`calibrate.store.Store.scores` and the report's fast reader
(``calibrate.report._load``) read the judgements in one pass and keep, per (session, case,
rater, item), the row with the highest id. They code the key columns as integers their own
way (strings for the contract table, categoricals for the report), then call
:func:`latest_rows`, so the rule itself lives in one place. (A save looks up only its own
key, in SQL, by the same rule: ``max(id)`` per item, or ``ORDER BY id DESC LIMIT 1``.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def latest_rows(ids: np.ndarray, key_codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Positions of the row with the highest id per key, in increasing id order.

    ``key_codes[k]`` holds the integer code (0 ≤ code < ``sizes[k]``) of key column ``k``
    for every row; ``ids`` are the rows' ids (unique, any order).
    """
    combined = np.zeros(len(ids), dtype=np.int64)
    for codes, size in zip(key_codes, sizes):
        combined = combined * max(int(size), 1) + np.asarray(codes, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    return order[~pd.Series(combined[order]).duplicated(keep="last").to_numpy()]
