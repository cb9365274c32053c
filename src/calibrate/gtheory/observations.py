"""The door from a long score table to the arrays a G-study works on.

Owns :class:`Observations` and :func:`observations` (the ONE function that reads a table:
it will switch to the decoded ``CodedScores`` table later) plus :func:`select_scores`,
which picks the judgements of one kind, leeruitkomst or session before they go in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory.design import Design, parse_design
from calibrate.schema import CODES, NOT_APPLICABLE

#: Numbers for the value codes of each kind (CONTRACTS §1 order, lowest first).
KIND_SCORES: Mapping[str, Mapping[str, float]] = {
    "indicator": {"niet gezien": 0.0, "gezien": 1.0},
    "level": {c: float(k + 1) for k, c in enumerate(CODES["level"])},
    "phase": {"begin": 1.0, "groei": 2.0, "vergevorderd": 3.0},
    "verdict": {"niet voldaan": 0.0, "voldaan": 1.0},
    "decision": {"no go": 0.0, "go": 1.0},
}

#: Default facet -> column of the score table. ``o`` (leeruitkomst) and ``d`` (dimension)
#: come from indicator ids ``<outcome>.<dimension>.<n>``.
DEFAULT_FACETS = {"c": "case", "r": "rater", "i": "item", "s": "session", "o": "item", "d": "item"}


@dataclass(frozen=True)
class Observations:
    """One number per judgement and, per facet, its integer level code.

    A nested facet's levels are coded within their nest (rater ``B01`` in session 1 and in
    session 2 are two levels of ``r`` in ``c x (r:s)``). ``labels[f]`` gives the level
    names (tuples for nested facets).
    """

    design: Design
    y: np.ndarray
    codes: Mapping[str, np.ndarray]
    labels: Mapping[str, pd.Index]

    @property
    def n(self) -> int:
        return len(self.y)

    def n_levels(self, facet: str) -> int:
        return len(self.labels[facet])


def _numbers(values: pd.Series, kinds: pd.Series | None) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if kinds is None:
        raise InputError(
            "The value column holds text but the table has no 'kind' column to read it by.",
            hint="Give numbers, or the score table of CONTRACTS §1 with its 'kind' column.",
        )
    present = kinds.dropna().unique()
    if len(present) != 1:
        raise InputError(
            f"A G-study needs judgements on one scale; the table mixes the kinds {sorted(map(str, present))}.",
            hint="Select one kind first: select_scores(scores, kind='level').",
        )
    kind = str(present[0])
    if kind not in KIND_SCORES:
        raise InputError(f"Unknown kind {kind!r}; allowed kinds: {', '.join(KIND_SCORES)}.")
    text = values.astype("string").str.strip()
    lut = dict(KIND_SCORES[kind])
    bad = ~text.isna() & ~text.isin(list(lut) + [NOT_APPLICABLE, ""])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"row {row}: value {str(text.iloc[row])!r} is not a code of kind {kind!r}.",
            hint=f"Codes of {kind!r}: {', '.join(lut)} (n.v.t. and empty count as missing).",
        )
    return text.map(lut).astype("float64").to_numpy(na_value=np.nan)


def observations(
    table: pd.DataFrame,
    design: str | Design,
    *,
    facets: Mapping[str, str] | None = None,
    value: str = "value",
) -> Observations:
    """The long table as :class:`Observations` for ``design``.

    ``facets`` maps each facet of the design to a column (defaults: ``c`` case, ``r``
    rater, ``i`` item, ``s`` session; ``o`` and ``d`` the leeruitkomst and dimension
    parts of the item id). Text values are scored by the kind's order (level 1..6, phase
    begin/groei/vergevorderd = 1..3, indicator, verdict and decision 0/1); ``n.v.t.``,
    empty and NaN are missing and left out. Two judgements of one cell are refused.
    """
    design = parse_design(design)
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"A G-study reads a pandas DataFrame in long format, got {type(table).__name__}.")
    cols = {f: (facets or {}).get(f, DEFAULT_FACETS.get(f, f)) for f in design.facets}
    missing = sorted({c for c in [*cols.values(), value] if c not in table.columns})
    if missing:
        raise InputError(
            f"The table lacks the column(s) {', '.join(map(repr, missing))} for the design {design.text!r} "
            f"(columns: {', '.join(map(str, table.columns))}).",
            hint="Map each facet to a column with facets={'c': 'case', 'r': 'rater', ...}.",
        )
    y = _numbers(table[value], table["kind"] if "kind" in table.columns else None)
    keep = np.isfinite(y)
    y = y[keep]
    sub = table.loc[keep]
    raw = {}
    for f, col in cols.items():
        s = sub[col].astype("string") if not pd.api.types.is_numeric_dtype(sub[col].dtype) else sub[col]
        if f in ("o", "d") and col == "item" and f not in (facets or {}):
            parts = s.str.split(".", n=2, regex=False)
            s = parts.str[0] if f == "o" else parts.str[0] + "." + parts.str[1]
        raw[f] = s.to_numpy()
    codes, labels = {}, {}
    for f in design.facets:
        keyed = [f, *sorted(design.within(f), key=design.facets.index)]
        frame = pd.DataFrame({g: raw[g] for g in keyed})
        if len(keyed) == 1:
            c, u = pd.factorize(frame[f], sort=True)
        else:
            mi = pd.MultiIndex.from_frame(frame)
            c, u = pd.factorize(mi, sort=True)
        if (c < 0).any():
            row = int(np.flatnonzero(c < 0)[0])
            raise InputError(f"row {row}: the {cols[f]!r} column is empty (facet {f!r}).")
        codes[f] = c.astype(np.int64)
        labels[f] = pd.Index(u)
    obs = Observations(design=design, y=y.astype(np.float64), codes=codes, labels=labels)
    _refuse_duplicates(obs, sub, cols)
    return obs


def _refuse_duplicates(obs: Observations, sub: pd.DataFrame, cols: Mapping[str, str]) -> None:
    key = np.zeros(obs.n, dtype=np.int64)
    for f in obs.design.facets:
        key = key * obs.n_levels(f) + obs.codes[f]
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        row = sub.iloc[int(first[np.argmax(counts > 1)])]
        where = ", ".join(f"{c}={row[c]!r}" for c in dict.fromkeys(cols.values()))
        raise InputError(
            f"Two judgements of one cell ({where}); a G-study takes one per cell.",
            hint="Use the current judgements only (Store.scores()), or add the facet that tells them apart.",
        )


def select_scores(
    scores: pd.DataFrame,
    *,
    kind: str | None = None,
    items: Sequence[str] | None = None,
    outcome: str | None = None,
    session: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows of one kind, set of items, leeruitkomst (item ids ``<outcome>.…``) or session(s)."""
    mask = pd.Series(True, index=scores.index)
    if kind is not None:
        if kind not in KIND_SCORES:
            raise InputError(f"Unknown kind {kind!r}; allowed kinds: {', '.join(KIND_SCORES)}.")
        mask &= scores["kind"] == kind
    if items is not None:
        mask &= scores["item"].isin(list(items))
    if outcome is not None:
        mask &= scores["item"].astype("string").str.startswith(outcome + ".")
    if session is not None:
        mask &= scores["session"].isin([session] if isinstance(session, str) else list(session))
    out = scores.loc[mask.fillna(False).astype(bool)]
    if out.empty:
        raise InputError(
            "No judgements match the selection "
            f"(kind={kind!r}, outcome={outcome!r}, session={session!r}, {0 if items is None else len(items)} items).",
            hint="Check the ids against the score table's 'item', 'kind' and 'session' columns.",
        )
    return out
