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
from calibrate.schema import NOT_APPLICABLE

try:  # the hash table behind pd.factorize for string arrays (private, hence guarded)
    from pandas._libs.hashtable import StringHashTable as _StringHashTable
except ImportError:  # pragma: no cover
    _StringHashTable = None

#: Value codes that mean "no rating": not applicable counts as missing (CONTRACTS §1).
MISSING_CODES = ("", NOT_APPLICABLE)


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
    def patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct rows of :attr:`counts` and how many units share each: ``(P, w)``.

        Every counts-based coefficient (alpha, Fleiss, AC1/AC2, BP, percent agreement)
        is a function of per-unit count vectors summed over units, so it can run on the
        few hundred distinct count patterns weighted by their frequency instead of on
        every unit. Patterns are keyed by reading a unit's counts as digits in base
        (max ratings per unit + 1); when that key could overflow, every unit is its own
        pattern. Sums then run in another order than over units, so results can differ
        from the per-unit computation in the last bits (~1e-16 relative).
        """
        n, q = self.n_units, self.n_categories
        flat = np.bincount(self.unit * q + self.value, minlength=n * q).reshape(n, q)
        return compress_counts(flat)

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


def compress_counts(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an integer unit x category count matrix and their multiplicities
    ``(P, w)``, P as float64 (see :attr:`Ratings.patterns`)."""
    n, q = flat.shape
    base = int(flat.sum(axis=1).max()) + 1 if n else 1
    if n < 64 or q * np.log2(base) >= 62:
        return flat.astype(np.float64), np.ones(n)
    powers = base ** np.arange(q, dtype=np.int64)
    key = flat.astype(np.int64, copy=False) @ powers
    inv, uniq = pd.factorize(key, sort=False)
    mult = np.bincount(inv, minlength=len(uniq)).astype(np.float64)
    digits = (uniq[:, None] // powers[None, :]) % base
    return digits.astype(np.float64), mult


@dataclass(frozen=True, eq=False)
class Counts:
    """Unit x category counts without the individual ratings: all the counts-based
    coefficients need (the roll-up builds these directly from its coded table).
    Units are rows with at least one rating."""

    counts_int: np.ndarray
    n_raters: int
    categories: tuple
    numeric_values: np.ndarray | None = field(default=None)

    @property
    def n_units(self) -> int:
        return len(self.counts_int)

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    @cached_property
    def patterns(self) -> tuple[np.ndarray, np.ndarray]:
        return compress_counts(self.counts_int)


def _array(s: pd.Series) -> np.ndarray | None:
    """The column as a NumPy array without a copy, or None for extension types that
    have no cheap NumPy form (categoricals, Arrow-backed strings)."""
    dt = s.dtype
    if isinstance(dt, pd.StringDtype):
        # Python-backed strings keep an object ndarray: factorizing that directly skips
        # the extension-array machinery (about twice as fast).
        return np.asarray(s.array) if dt.storage == "python" else None
    if isinstance(dt, pd.api.extensions.ExtensionDtype):
        return None
    return s.to_numpy(copy=False)


def _int_codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes of an integer array by one ``bincount`` (uniques sorted), if the range is small."""
    if not len(a):
        return None
    lo, hi = int(a.min()), int(a.max())
    if hi - lo > 4 * len(a) + 1024:
        return None
    off = (a - lo).astype(np.int64, copy=False)
    present = np.bincount(off, minlength=hi - lo + 1) > 0
    if present.all():  # no gaps (ids 0..n-1, values 1..q): the offsets are the codes
        return off, np.arange(lo, hi + 1, dtype=np.int64)
    remap = np.cumsum(present) - 1
    return remap[off], np.flatnonzero(present) + lo


def _codes(s: pd.Series, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and uniques of a column, restricted to the rows ``keep``.

    Fast paths first: a categorical's own codes, integers by one ``bincount`` (sorted
    uniques), else ``pd.factorize`` on the underlying array (first appearance)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        if keep is not None:
            codes = codes[keep]
        used = np.bincount(codes[codes >= 0], minlength=len(s.cat.categories)) > 0
        remap = np.cumsum(used) - 1
        return np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), np.asarray(s.cat.categories)[used]
    a = _array(s)
    if a is None:
        a = s if keep is None else s[keep]
    elif keep is not None:
        a = a[keep]
    if isinstance(a, np.ndarray) and (a.dtype.kind == "i" or (a.dtype.kind == "u" and a.dtype.itemsize < 8)):
        out = _int_codes(a)
        if out is not None:
            return out
    if _StringHashTable is not None and isinstance(s.dtype, pd.StringDtype) and isinstance(a, np.ndarray):
        try:  # every entry is a str or NA: skip pd.factorize's scan that checks this
            uniques, codes = _StringHashTable(len(a) // 8 + 16).factorize(a, na_sentinel=-1)
            return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)
        except (TypeError, ValueError):  # pragma: no cover - pandas internals changed: the public path below
            pass
    # size_hint: pandas otherwise sizes the hash table for one unique per row (~60 MB per
    # million rows); ids repeat (raters ~10x per unit, units ~10x per rater), and the
    # table grows when needed.
    codes, uniques = pd.factorize(a, sort=False, size_hint=len(a) // 8 + 16)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


def _value_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and uniques of the value column; -1 for NaN. Integral floats (a column with
    NaN read from a CSV) take the integer fast path with their uniques kept as floats."""
    a = _array(s)
    if a is not None and a.dtype.kind == "f" and len(a):
        nan = np.isnan(a)
        fin = a if not nan.any() else a[~nan]
        if len(fin) and np.isfinite(fin).all():
            lo, hi = float(fin.min()), float(fin.max())
            if hi - lo <= 4 * len(a) + 1024:
                ia = fin.astype(np.int64)
                if np.array_equal(ia, fin):
                    out = _int_codes(ia)
                    if out is not None:
                        codes, uniq = out
                        if nan.any():
                            full = np.full(len(a), -1, dtype=np.int64)
                            full[~nan] = codes
                            codes = full
                        return codes, uniq.astype(a.dtype).astype(object)
    return _codes(s)


def _missing_uniques(values: pd.Series, uniques: np.ndarray) -> np.ndarray:
    """Which uniques of the value column mean "no rating" (empty, ``n.v.t.``)."""
    dt = values.dtype
    if dt == object or pd.api.types.is_string_dtype(dt) or isinstance(dt, pd.CategoricalDtype):
        return np.array([str(u).strip() in MISSING_CODES for u in uniques], dtype=bool)
    return np.zeros(len(uniques), dtype=bool)


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
    # Code the values once; missing ratings (NaN, empty, n.v.t.) get code -1.
    vcodes, vuniques = _value_codes(vals)
    miss_u = _missing_uniques(vals, vuniques)
    present = np.flatnonzero(~miss_u)
    uniques = vuniques[present]

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
        pos = {_key(c): i for i, c in enumerate(categories)}
        unknown = [u for u in uniques if _key(u) not in pos]
        if unknown:
            raise InputError(
                f"{func}: column {values!r} holds values outside 'categories' "
                f"{list(categories)!r}: {sorted(map(str, unknown))[:10]}.",
                hint="Add them to 'categories' or correct the data.",
            )
        cats = tuple(categories)
    else:
        order = _sort_observed(np.asarray(uniques, dtype=object))
        pos = {_key(v): i for i, v in enumerate(order)}
        cats = tuple(order)
    # lookup: value code -> category position (-1 = missing), shifted by one for NaN
    lut = np.full(len(vuniques) + 1, -1, dtype=np.int64)
    lut[present + 1] = [pos[_key(u)] for u in uniques]
    vcode = lut[vcodes + 1]
    keep = vcode >= 0
    if keep.all():
        keep = None
    else:
        vcode = vcode[keep]

    ucode, ulabels, rcode, rlabels = code_units_and_raters(df, units, raters, keep, func=func)
    return Ratings(
        unit=ucode,
        rater=rcode,
        value=vcode,
        units=pd.Index(ulabels),
        raters=pd.Index(rlabels),
        categories=cats,
        numeric_values=_numeric_or_none(cats),
    )


def code_units_and_raters(df: pd.DataFrame, units: str, raters: str, keep: np.ndarray | None, *, func: str):
    """Integer codes and labels of the unit and rater columns (rows ``keep``): ``(u, unit
    labels, r, rater labels)``. Refuses an empty id and two judgements of one unit by one
    rater."""
    ucode, ulabels = _codes(df[units], keep)
    rcode, rlabels = _codes(df[raters], keep)
    if (ucode < 0).any() or (rcode < 0).any():
        col = units if (ucode < 0).any() else raters
        idx = df.index if keep is None else df.index[keep]
        rows = idx[(ucode < 0) | (rcode < 0)][:5].tolist()
        raise InputError(
            f"{func}: column {col!r} is empty in rows {rows}.",
            hint="Every judgement needs a unit and a rater id.",
        )
    _check_duplicates(func, ucode, rcode, ulabels, rlabels)
    return ucode, ulabels, rcode, rlabels


def _check_duplicates(func: str, ucode: np.ndarray, rcode: np.ndarray, ulabels, rlabels) -> None:
    """Refuse two judgements of the same unit by the same rater.

    ``ulabels`` is the unit labels (indexable) or a function from unit code to label."""
    nr = len(rlabels)
    n_units = int(ucode.max()) + 1 if len(ucode) else 0
    cell = ucode * nr + rcode
    ncell = n_units * nr
    if ncell <= 8 * len(cell) + 4096:
        dup = np.bincount(cell, minlength=ncell)
        bad = np.flatnonzero(dup > 1) if len(dup) and dup.max() > 1 else None
    else:  # very many raters: hash the cells instead of a dense unit x rater table
        d = pd.Series(cell).duplicated().to_numpy()
        bad = np.unique(cell[d]) if d.any() else None
    if bad is not None:
        label = ulabels if callable(ulabels) else ulabels.__getitem__
        def py(x):  # numpy scalars print as np.int64(3): show plain values
            return x.item() if isinstance(x, np.generic) else x

        pairs = [(py(label(int(b // nr))), py(rlabels[b % nr])) for b in bad[:5]]
        raise InputError(
            f"{func}: some raters judged the same unit more than once, e.g. "
            f"(unit, rater) = {pairs}.",
            hint="Keep one judgement per unit and rater (e.g. the latest save).",
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
