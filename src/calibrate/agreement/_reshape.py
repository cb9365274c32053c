"""Long score table -> the shapes the formulas want.

Owns :class:`Ratings`, the coded form of a long ``unit, rater, value`` table: integer codes
for units, raters and categories, from which the unit x category count matrix (one
``bincount``) and the unit x rater matrix are derived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from calibrate.errors import InputError

#: Value codes that mean "no rating": not applicable counts as missing (CONTRACTS §1).
MISSING_CODES = ("", "n.v.t.")


@dataclass(frozen=True, eq=False)
class Ratings:
    """Coded ratings: one entry per non-missing judgement.

    ``unit``, ``rater`` and ``value`` are integer codes into ``units``, ``raters`` and
    ``categories``. Units and raters without any non-missing rating are dropped.
    """

    unit: np.ndarray
    rater: np.ndarray
    value: np.ndarray
    units: pd.Index
    raters: pd.Index
    categories: tuple
    numeric_values: np.ndarray | None = field(default=None)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_raters(self) -> int:
        return len(self.raters)

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    @cached_property
    def counts(self) -> np.ndarray:
        """Unit x category count matrix ``r_ik`` (float64)."""
        q = self.n_categories
        flat = np.bincount(self.unit * q + self.value, minlength=self.n_units * q)
        return flat.reshape(self.n_units, q).astype(np.float64)

    @cached_property
    def matrix(self) -> np.ndarray:
        """Unit x rater matrix of category codes, ``-1`` where the rating is missing."""
        m = np.full((self.n_units, self.n_raters), -1, dtype=np.int64)
        m[self.unit, self.rater] = self.value
        return m

    def subset_units(self, idx: np.ndarray) -> Ratings:
        """Ratings of the units ``idx`` (with repeats: a bootstrap resample)."""
        idx = np.asarray(idx)
        mat = self.matrix[idx]
        u, r = np.nonzero(mat >= 0)
        return Ratings(
            unit=u,
            rater=r,
            value=mat[u, r],
            units=pd.RangeIndex(len(idx)),
            raters=self.raters,
            categories=self.categories,
            numeric_values=self.numeric_values,
        )


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and uniques of a column, fast paths first: a categorical's own codes,
    integers by one ``bincount`` (sorted uniques), else ``pd.factorize`` (first appearance)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        used = np.bincount(codes[codes >= 0], minlength=len(s.cat.categories)) > 0
        remap = np.cumsum(used) - 1
        return np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), np.asarray(s.cat.categories)[used]
    if pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
        a = s.to_numpy()
        if len(a):
            lo, hi = int(a.min()), int(a.max())
            if hi - lo <= 4 * len(a) + 1024:
                off = a - lo
                present = np.bincount(off, minlength=hi - lo + 1) > 0
                remap = np.cumsum(present) - 1
                return remap[off].astype(np.int64), np.flatnonzero(present) + lo
    codes, uniques = pd.factorize(s, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


def _is_missing(values: pd.Series) -> np.ndarray:
    miss = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        s = values.astype("string").str.strip()
        miss |= s.isin(MISSING_CODES).fillna(True).to_numpy(dtype=bool)
    return miss


def _numeric_or_none(cats: Sequence[Any]) -> np.ndarray | None:
    try:
        arr = np.asarray([float(c) for c in cats], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(arr)):
        return None
    return arr


def _sort_observed(uniques: np.ndarray) -> list:
    vals = list(uniques)
    try:
        return sorted(vals, key=float)
    except (TypeError, ValueError):
        return sorted(vals, key=str)


def to_ratings(
    df: Any,
    *,
    func: str,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    categories: Sequence[Any] | None = None,
) -> Ratings:
    """Code a long table for the formulas.

    Raises :class:`InputError` for a missing column, a value outside ``categories``,
    or two ratings by the same rater of the same unit.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The 'df' parameter of {func} must be a pandas DataFrame in long format "
            f"(one row per judgement). Got {type(df).__name__} instead."
        )
    for kw, col in (("units", units), ("raters", raters), ("values", values)):
        if col not in df.columns:
            raise InputError(
                f"{func} needs a column {col!r} (the {kw!r} keyword) but the table has "
                f"columns {list(map(str, df.columns))}.",
                hint=f"Pass {kw}='<your column name>'.",
            )
    vals = df[values]
    keep = ~_is_missing(vals)
    if not keep.all():
        df = df.loc[keep]
        vals = df[values]

    if categories is not None:
        categories = list(categories)
        if len(categories) < 1:
            raise InputError(
                f"The 'categories' parameter of {func} must list at least one category. "
                "Got an empty list instead."
            )
        if len(set(map(_key, categories))) != len(categories):
            raise InputError(
                f"The 'categories' parameter of {func} must not repeat a category. "
                f"Got {categories!r} instead."
            )
        vcode = _code_values(vals, categories, func=func, column=values)
        cats = tuple(categories)
    else:
        codes, uniques = _codes(vals)
        order = _sort_observed(np.asarray(uniques, dtype=object))
        pos = {_key(v): i for i, v in enumerate(order)}
        remap = np.array([pos[_key(u)] for u in uniques], dtype=np.int64)
        vcode = remap[codes] if len(codes) else codes.astype(np.int64)
        cats = tuple(order)

    ucode, ulabels = _codes(df[units])
    rcode, rlabels = _codes(df[raters])
    if (ucode < 0).any() or (rcode < 0).any():
        col = units if (ucode < 0).any() else raters
        rows = df.index[(ucode < 0) | (rcode < 0)][:5].tolist()
        raise InputError(
            f"{func}: column {col!r} is empty in rows {rows}.",
            hint="Every judgement needs a unit and a rater id.",
        )
    ucode = ucode.astype(np.int64, copy=False)
    rcode = rcode.astype(np.int64, copy=False)
    nr = len(rlabels)
    cell = ucode * nr + rcode
    dup = np.bincount(cell, minlength=len(ulabels) * nr)
    if len(dup) and dup.max() > 1:
        bad = np.flatnonzero(dup > 1)[:5]
        pairs = [(ulabels[b // nr], rlabels[b % nr]) for b in bad]
        raise InputError(
            f"{func}: some raters judged the same unit more than once, e.g. "
            f"(unit, rater) = {pairs}.",
            hint="Keep one judgement per unit and rater (e.g. the latest save).",
        )
    return Ratings(
        unit=ucode,
        rater=rcode,
        value=np.asarray(vcode, dtype=np.int64),
        units=pd.Index(ulabels),
        raters=pd.Index(rlabels),
        categories=cats,
        numeric_values=_numeric_or_none(cats),
    )


def _key(v: Any) -> Any:
    """Hashable comparison key: numbers compare by value, everything else by text."""
    if isinstance(v, (bool, np.bool_)):
        return ("s", str(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return ("n", float(v))
    s = str(v).strip()
    try:
        return ("n", float(s))
    except ValueError:
        return ("s", s)


def _code_values(vals: pd.Series, categories: list, *, func: str, column: str) -> np.ndarray:
    codes, uniques = _codes(vals)
    pos = {_key(c): i for i, c in enumerate(categories)}
    remap = np.empty(len(uniques), dtype=np.int64)
    unknown = []
    for j, u in enumerate(uniques):
        k = pos.get(_key(u))
        if k is None:
            unknown.append(u)
            remap[j] = -1
        else:
            remap[j] = k
    if unknown:
        raise InputError(
            f"{func}: column {column!r} holds values outside 'categories' "
            f"{list(categories)!r}: {sorted(map(str, unknown))[:10]}.",
            hint="Add them to 'categories' or correct the data.",
        )
    return remap[codes] if len(codes) else codes.astype(np.int64)


def table_to_long(table: Any, categories: Sequence[Any] | None = None) -> pd.DataFrame:
    """Expand a two-rater contingency table into the long ``unit, rater, value`` format.

    Rows are rater ``"A"``'s categories, columns rater ``"B"``'s; each counted pair
    becomes one unit.

    >>> table_to_long([[2, 1], [0, 1]], categories=["no", "yes"]).shape
    (8, 3)
    """
    t = np.asarray(table)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise InputError(
            "The 'table' parameter of table_to_long must be a square q x q table of "
            f"counts. Got shape {t.shape} instead."
        )
    q = t.shape[0]
    cats = list(range(1, q + 1)) if categories is None else list(categories)
    if len(cats) != q:
        raise InputError(
            f"The 'categories' parameter of table_to_long must have {q} entries. "
            f"Got {len(cats)} instead."
        )
    if (t < 0).any() or not np.allclose(t, np.round(t)):
        raise InputError("The 'table' parameter of table_to_long must hold counts >= 0.")
    t = np.round(t).astype(np.int64)
    a, b = np.nonzero(t)
    reps = t[a, b]
    a = np.repeat(a, reps)
    b = np.repeat(b, reps)
    n = len(a)
    cats_arr = np.asarray(cats, dtype=object)
    unit = np.repeat(np.arange(1, n + 1), 2)
    rater = np.tile(np.array(["A", "B"], dtype=object), n)
    value = np.empty(2 * n, dtype=object)
    value[0::2] = cats_arr[a]
    value[1::2] = cats_arr[b]
    return pd.DataFrame({"unit": unit, "rater": rater, "value": value})
