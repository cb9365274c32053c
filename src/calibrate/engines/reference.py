"""The in-memory path: the CONTRACTS §2 functions of :mod:`calibrate.agreement` on each
group's rows. The default for data that fits in memory, and the reference every engine
is checked against."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate import agreement
from calibrate.engines.scales import MISSING, Scale
from calibrate.engines.spec import EXACTLY_TWO, Spec
from calibrate.errors import InputError


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def _missing(values: pd.Series) -> np.ndarray:
    return (values.isna() | _text(values).isin(MISSING)).to_numpy(dtype=bool)


def _scale_codes(df: pd.DataFrame, kind: str | None, scales: list[Scale]) -> np.ndarray:
    if kind is None:
        return np.zeros(len(df), dtype=np.int64)
    names = {s.name: s.code for s in scales}
    k = _text(df[kind])
    codes = k.map(names)
    if codes.isna().any():
        unknown = sorted(map(str, k[codes.isna()].fillna("<empty>").unique()))[:10]
        raise InputError(
            f"column {kind!r} holds unknown kind(s) {unknown}; allowed are {list(names)}.",
            hint="See CONTRACTS §1 for the kinds and their codes.",
        )
    return codes.to_numpy(dtype=np.int64)


def _numeric_ratings(values: pd.Series, scale: Scale, missing: np.ndarray) -> pd.Series:
    """The category values (:attr:`Scale.values`) of the ratings, NaN where missing."""
    lut = {}
    for k in range(scale.q):
        for f in scale.forms(k):
            lut[f] = scale.values[k]
    if pd.api.types.is_numeric_dtype(values.dtype) and scale.numeric is not None:
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isin(x, scale.numeric) | missing
        y = np.where(missing, np.nan, x)
        y = pd.Series(np.where(ok, y, np.nan), index=values.index)
        bad = ~ok
    else:
        y = _text(values).map(lut).astype("float64")
        bad = y.isna().to_numpy() & ~missing
        y = y.where(~pd.Series(missing, index=values.index))
    if bad.any():
        raise InputError(
            f"column {values.name!r} holds values outside the scale {list(scale.categories)!r}: "
            f"{sorted(map(str, values[bad].unique()))[:10]}.",
        )
    return y


def reference_rows(df: pd.DataFrame, *, by, units, raters, values, kind, scales, specs: list[Spec],
                   confidence: float = 0.95) -> list[dict]:
    """One dict per group and spec (the group's --by values as strings, then the spec's
    ``coefficient, value, se, ci_low, ci_high, n_units, n_raters``)."""
    need = [*by, units, raters, values, *([kind] if kind else [])]
    lacking = [c for c in need if c not in df.columns]
    if lacking:
        raise InputError(
            f"the score table lacks the column(s) {lacking}; it has {list(map(str, df.columns))}.",
            hint="See CONTRACTS §1: session, case, rater, item, kind, value (and the --by columns).",
        )
    scale_of = {s.code: s for s in scales}
    df = df.reset_index(drop=True)
    missing = _missing(df[values])
    sc = _scale_codes(df, kind, scales)
    keys = [_text(df[c]) for c in by]
    rated = ~missing
    for c, k in zip(by, keys):
        if (k.isna().to_numpy() & rated).any():
            raise InputError(f"ratings without a value in column {c!r}.",
                             hint="Every judgement needs a value in each --by column.")
    frame = pd.DataFrame({f"g{i}": k for i, k in enumerate(keys)} | {"scale": sc, "rated": rated})
    gcols = [f"g{i}" for i in range(len(by))]
    out = []
    if gcols:
        mixed = frame[rated].groupby(gcols, sort=False)["scale"].nunique()
        if (mixed > 1).any():
            bad = mixed[mixed > 1].index[0]
            bad = bad if isinstance(bad, tuple) else (bad,)
            raise InputError(f"the group {dict(zip(by, bad))} mixes kinds: each group needs one scale.",
                             hint="Add item (or kind) to --by.")
    grouped = frame.groupby(gcols + ["scale"], sort=True).indices if len(frame) else {}
    for gkey, idx in grouped.items():
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        if not rated[idx].any():
            continue
        scale = scale_of[int(gkey[-1])]
        sub = df.iloc[idx]
        n_raters = sub.loc[rated[idx], raters].nunique()
        for spec in specs:
            row = {c: v for c, v in zip(by, gkey[:-1])} | {"coefficient": spec.text}
            row.update(_one(sub, spec, scale, units, raters, values, missing[idx], n_raters, confidence))
            out.append(row)
    return out


def _one(sub, spec: Spec, scale: Scale, units, raters, values, missing, n_raters, confidence) -> dict:
    func = getattr(agreement, spec.name)
    if (spec.name in EXACTLY_TWO and n_raters != 2) or (spec.name == "conger_kappa" and n_raters < 2):
        n_units = sub.loc[~missing, units].nunique()
        return {"value": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "n_units": int(n_units), "n_raters": int(n_raters)}
    if spec.name == "icc":
        data = pd.DataFrame({"unit": sub[units].to_numpy(), "rater": sub[raters].to_numpy(),
                             "value": _numeric_ratings(sub[values], scale, missing).to_numpy()})
        res = func(data, confidence=confidence, **spec.kwargs())
    else:
        res = func(sub, categories=list(scale.categories), units=units, raters=raters, values=values,
                   confidence=confidence, **spec.kwargs())
    lo, hi = (math.nan, math.nan) if res.ci is None else res.ci
    return {"value": float(res.value), "se": math.nan if res.se is None else float(res.se),
            "ci_low": float(lo), "ci_high": float(hi), "n_units": int(res.n_units), "n_raters": int(res.n_raters)}
