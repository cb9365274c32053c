"""Seeded bootstrap over units for any coefficient, and for a difference between sessions.

Owns :func:`bootstrap` and :func:`bootstrap_difference`. Units (cases, or case x item
pairs) are resampled with replacement; raters stay as they are. Resampling, intervals and
the p-value rule come from :mod:`calibrate.inference`. Coefficients whose
formula is a ratio of unit sums (percent agreement, Fleiss/Scott, AC1/AC2, BP,
Krippendorff's alpha at every level) are evaluated for all resamples at once as matrix
products of a resample x unit count matrix; the others (Cohen, Conger, ICC) are
recomputed per resample.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from calibrate.agreement import _core
from calibrate.agreement._reshape import Ratings, to_ratings
from calibrate.agreement._validate import check_option, check_positive_int, check_range
from calibrate.agreement._weights import category_values, weight_matrix
from calibrate.agreement.coefficients import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)
from calibrate.agreement.icc import icc
from calibrate.agreement.result import AgreementResult, DifferenceResult
from calibrate.errors import InputError
from calibrate.inference import (
    bca_interval,
    bootstrap_p_value,
    percentile_interval,
    resample_counts,
    resample_indices,
)

COEFFICIENTS: dict[str, Callable[..., AgreementResult]] = {
    "percent_agreement": percent_agreement,
    "cohen_kappa": cohen_kappa,
    "scott_pi": scott_pi,
    "conger_kappa": conger_kappa,
    "fleiss_kappa": fleiss_kappa,
    "brennan_prediger": brennan_prediger,
    "gwet_ac": gwet_ac,
    "krippendorff_alpha": krippendorff_alpha,
    "icc": icc,
}
_COUNTS_KIND = {
    "percent_agreement": "pa",
    "fleiss_kappa": "fleiss",
    "scott_pi": "fleiss",
    "gwet_ac": "ac",
    "brennan_prediger": "bp",
}
METHODS = ("percentile", "bca")


def _resolve(func: str, coefficient: Any) -> tuple[str, Callable[..., AgreementResult]]:
    if callable(coefficient):
        name = getattr(coefficient, "__name__", "")
        if name in COEFFICIENTS and COEFFICIENTS[name] is coefficient:
            return name, coefficient
        raise InputError(
            f"The 'coefficient' parameter of {func} must be one of "
            f"{', '.join(map(repr, COEFFICIENTS))} or that function. Got {coefficient!r} instead."
        )
    check_option(func, "coefficient", coefficient, tuple(COEFFICIENTS))
    return coefficient, COEFFICIENTS[coefficient]


def _counts_values(data: Ratings, kind: str, W: np.ndarray, Wt: np.ndarray) -> np.ndarray:
    """Vectorised counts-based coefficient for every row of unit weights ``Wt``."""
    C = data.counts
    r, m2, pa_i = _core.agreement_terms(C, W)
    n_b = Wt.sum(axis=1)
    n2_b = Wt @ m2.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa_b = (Wt @ pa_i) / n2_b
        pi_b = (Wt @ (C / r[:, None])) / n_b[:, None]
    q = C.shape[1]
    if kind == "pa":
        return pa_b
    if kind == "fleiss":
        pe_b = np.einsum("bk,kl,bl->b", pi_b, W, pi_b)
    elif kind == "ac":
        pe_b = (W.sum() / (q * (q - 1)) * np.sum(pi_b * (1 - pi_b), axis=1)) if q >= 2 else np.zeros(len(Wt))
    else:
        pe_b = np.full(len(Wt), W.sum() / q**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (pa_b - pe_b) / (1 - pe_b)
    out[~(pe_b < 1 - 1e-12)] = np.nan
    return out


def _alpha_values(data: Ratings, level: str, Wt: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha for every row of unit weights ``Wt`` (delta recomputed per
    resample at the ordinal level, whose metric depends on the marginals)."""
    from calibrate.agreement._weights import krippendorff_delta2

    C = data.counts
    m = C.sum(axis=1)
    keep = m >= 2
    C2 = C[keep]
    W2 = Wt[:, keep]
    q = C.shape[1]
    scaled = C2 / (m[keep] - 1.0)[:, None]
    O = np.einsum("uc,uk->uck", scaled, C2)
    O[:, np.arange(q), np.arange(q)] -= scaled
    o_b = (W2 @ O.reshape(len(C2), q * q)).reshape(len(Wt), q, q)
    n_c = W2 @ C2  # pairable marginals per resample
    n_tot = n_c.sum(axis=1)
    vals = category_values(data.categories, data.numeric_values)
    if level == "ordinal":
        cum = np.concatenate([np.zeros((len(Wt), 1)), np.cumsum(n_c, axis=1)], axis=1)
        idx = np.arange(q)
        lo = np.minimum.outer(idx, idx)
        hi = np.maximum.outer(idx, idx)
        d = cum[:, hi + 1] - cum[:, lo] - (n_c[:, lo] + n_c[:, hi]) / 2.0
        delta = d**2
        d_o = np.einsum("bck,bck->b", o_b, delta)
        d_e = np.einsum("bc,bck,bk->b", n_c, delta, n_c)
    else:
        delta = krippendorff_delta2(level, vals, np.ones(q))
        d_o = np.einsum("bck,ck->b", o_b, delta)
        d_e = np.einsum("bc,ck,bk->b", n_c, delta, n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (n_tot - 1.0) * d_o / d_e
    out[~(d_e > 0)] = np.nan
    return out


def _conger_values(data: Ratings, weights: Any, idx_rows: list[np.ndarray]) -> np.ndarray:
    W = weight_matrix(weights, data.n_categories, func="bootstrap")
    M = data.matrix
    out = np.empty(len(idx_rows))
    for b, idx in enumerate(idx_rows):
        Mb = M[idx]
        # a rater none of whose units was drawn is not a rater of this resample (as when
        # the coefficient is recomputed on it); otherwise their proportions are 0/0
        Mb = Mb[:, (Mb >= 0).any(axis=0)]
        out[b] = _core.conger_coefficient(Mb, data.n_categories, W).value if Mb.shape[1] >= 2 else np.nan
    return out


def _replicates(name: str, df, data: Ratings | None, options: dict, Wt: np.ndarray | None,
                idx_rows: list[np.ndarray] | None, cols: dict) -> np.ndarray:
    unit_col = cols["units"]
    if name in _COUNTS_KIND:
        W = weight_matrix(options.get("weights"), data.n_categories, func="bootstrap")
        return _counts_values(data, _COUNTS_KIND[name], W, Wt)
    if name == "krippendorff_alpha":
        return _alpha_values(data, options.get("level", "nominal"), Wt)
    if name in ("cohen_kappa", "conger_kappa"):
        return _conger_values(data, options.get("weights"), idx_rows)
    # ICC: recompute on resampled long tables
    groups = {u: g for u, g in df.groupby(unit_col, sort=False)}
    labels = list(groups)
    out = np.empty(len(idx_rows))
    for b, idx in enumerate(idx_rows):
        parts = []
        for j, i in enumerate(idx):
            g = groups[labels[i]].copy()
            g[unit_col] = j
            parts.append(g)
        out[b] = icc(pd.concat(parts, ignore_index=True), **cols, **options).value
    return out


def _run(func, df, coefficient, n_resamples, seed, confidence, method, units, raters, values, options):
    name, fn = _resolve(func, coefficient)
    n_resamples = check_positive_int(func, "n_resamples", n_resamples, minimum=2)
    confidence = check_range(func, "confidence", confidence, low=0.0, high=1.0)
    check_option(func, "method", method, METHODS)
    cols = {"units": units, "raters": raters, "values": values}
    point = fn(df, **cols, **options)
    if name == "icc":
        data = None
        n = point.n_units
        sub = df[df[values].notna()]
    else:
        data = to_ratings(df, func=func, units=units, raters=raters, values=values,
                          categories=options.get("categories"))
        n = data.n_units
        sub = df
    rng = np.random.default_rng(seed)
    vectorised = name in _COUNTS_KIND or name == "krippendorff_alpha"
    if vectorised:
        Wt = resample_counts(rng, n, n_resamples)
        reps = _replicates(name, sub, data, options, Wt, None, cols)
    else:
        idx_rows = resample_indices(rng, n, n_resamples)
        reps = _replicates(name, sub, data, options, None, idx_rows, cols)
    finite = reps[np.isfinite(reps)]
    if len(finite) < 2:
        ci = None
        se = None
    elif method == "percentile":
        ci = percentile_interval(finite, confidence)
        se = float(np.std(finite, ddof=1))
    else:
        if vectorised:
            J = np.ones((n, n)) - np.eye(n)
            jack = _replicates(name, sub, data, options, J, None, cols)
        else:
            jack_rows = [np.delete(np.arange(n), i) for i in range(n)]
            jack = _replicates(name, sub, data, options, None, jack_rows, cols)
        ci = bca_interval(point.value, finite, jack, confidence)
        se = float(np.std(finite, ddof=1))
    note = (
        f"Bootstrap over {n} units: {n_resamples} resamples (seed {seed!r}), "
        f"{method} {confidence:.0%} interval; SE = SD of the replicates; "
        f"{n_resamples - len(finite)} resamples had an undefined coefficient."
    )
    return name, point, reps, ci, se, note


def bootstrap(
    df,
    coefficient: str | Callable[..., AgreementResult] = "krippendorff_alpha",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    method: str = "percentile",
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    **options: Any,
) -> AgreementResult:
    """Bootstrap standard error and confidence interval of any coefficient, over units.

    ``coefficient`` names one of the agreement functions (or is that function);
    ``options`` are passed to it (``weights=``, ``level=``, ``categories=``, ``model=``, ...).
    Returns the coefficient's own result with ``se`` and ``ci`` replaced by the bootstrap
    ones (``method="percentile"`` or bias-corrected and accelerated ``"bca"``, Efron 1987)
    and the replicates in ``details["replicates"]``. Same ``seed``, same numbers.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                    "value": [1, 1, 2, 2, 3, 3, 1, 2]})
    >>> res = bootstrap(df, "krippendorff_alpha", n_resamples=200, seed=1)
    >>> res.ci[0] <= res.value <= res.ci[1]
    True
    """
    name, point, reps, ci, se, note = _run(
        "bootstrap", df, coefficient, n_resamples, seed, confidence, method, units, raters, values, options
    )
    details = dict(point.details)
    details.update(replicates=reps, analytic_se=point.se, analytic_ci=point.ci, method=method)
    # the coefficient's own result, with the bootstrap's uncertainty in place of the analytic one
    return dataclasses.replace(point, se=se, ci=ci, p_value=None, confidence=confidence,
                               notes=(*point.notes, note), details=details)


def bootstrap_difference(
    first,
    second,
    coefficient: str | Callable[..., AgreementResult] = "krippendorff_alpha",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    **options: Any,
) -> DifferenceResult:
    """Bootstrap CI for the difference ``coefficient(first) - coefficient(second)``.

    The two sessions' units are resampled independently (different cases per session);
    the percentile interval of the differences is returned with a two-sided bootstrap
    p-value of H0: no difference (:func:`calibrate.inference.bootstrap_p_value`, the rule
    of every bootstrap here). Pass the same ``categories`` for both sessions.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3, "value": [1, 1, 2, 2, 3, 3]})
    >>> b = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3, "value": [1, 2, 2, 3, 3, 3]})
    >>> d = bootstrap_difference(a, b, "percent_agreement", n_resamples=200, seed=3)
    >>> round(d.value, 3)
    0.667
    """
    ss = np.random.SeedSequence(seed)
    s1, s2 = (int(s.generate_state(1)[0]) for s in ss.spawn(2))
    _, p1, r1, _, _, _ = _run("bootstrap_difference", first, coefficient, n_resamples, s1,
                              confidence, "percentile", units, raters, values, options)
    _, p2, r2, _, _, _ = _run("bootstrap_difference", second, coefficient, n_resamples, s2,
                              confidence, "percentile", units, raters, values, options)
    diff = r1 - r2
    fin = diff[np.isfinite(diff)]
    if len(fin) < 2:
        ci, se, p = (float("nan"), float("nan")), float("nan"), float("nan")
    else:
        ci = percentile_interval(fin, confidence)
        se = float(np.std(fin, ddof=1))
        p = bootstrap_p_value(float(p1.value - p2.value), fin)
    return DifferenceResult(
        coefficient=p1.coefficient,
        value=float(p1.value - p2.value),
        se=se,
        ci=ci,
        p_value=p,
        first=p1,
        second=p2,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        notes=(
            f"Independent bootstrap of both sessions' units ({n_resamples} resamples each, "
            f"seed {seed!r}); percentile {confidence:.0%} interval of the differences.",
        ),
    )
