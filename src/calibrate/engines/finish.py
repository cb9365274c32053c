"""The coefficients finished from a group's aggregates, by the agreement library's own
formula code (:mod:`calibrate.agreement._core`, ``icc_from_sums``).

What an engine hands over per group (:class:`Aggregates`) is small and exact (integer
counts): the distinct unit x category count patterns with how many units share each
``(P, w)``; the number of raters; for Conger's kappa the distinct rating profiles; for the
two-way ICC the rater x category table, the rater x (category, pattern) table and the
rater x rater table of units rated by both. Every coefficient of CONTRACTS §2 is a function of these:

* percent agreement, Fleiss / Scott, Gwet AC1/AC2, Brennan-Prediger and Krippendorff's
  alpha (value and Gwet's linearised variance) take ``(P, w)`` as they are
  (``counts_coefficient``, ``alpha_gwet``, ``alpha_value``);
* Conger's kappa (and Cohen's) needs which rater gave which rating: it takes the distinct
  rows of the unit x rater matrix with their multiplicities (``conger_coefficient``'s
  ``w``), as many as there are different rating profiles, at most the number of units;
* ICC: the one-way sums of squares come from the patterns (ratings are the categories'
  values); the two-way fit by fitting constants needs per rater the count and sum of
  ratings, the sum of the means of the units the rater rated, and per rater pair
  sum 1/k_i over the units both rated (the reduced normal equations, Searle, Casella &
  McCulloch 1992, §5.5), plus the connected components of the raters.

Results differ from the in-memory functions only by summation order (about 1e-15).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from calibrate.agreement import _core
from calibrate.agreement._inference import interval
from calibrate.agreement._weights import krippendorff_delta2, weight_matrix, weights_from_delta
from calibrate.agreement.icc import icc_from_sums, reduced_fit
from calibrate.engines.scales import Scale
from calibrate.engines.spec import COUNTS_KIND, EXACTLY_TWO, Spec


@dataclass
class Aggregates:
    """One group's aggregates (see the module docstring). Rater tables index raters
    ``0 .. n_raters - 1`` and patterns ``0 .. len(P) - 1``."""

    scale: Scale
    P: np.ndarray  # patterns x q, float64 counts
    w: np.ndarray  # units per pattern
    n_raters: int
    profiles: tuple | None = None  # (distinct unit x rater code rows, -1 = not rated; units each)
    classif: np.ndarray | None = None  # raters x q
    rater_pattern: tuple | None = None  # (g, k, p, count) arrays
    pairs_k: tuple | None = None  # (g, h, ratings on the unit, count) arrays

    @property
    def n_units(self) -> int:
        return int(round(float(self.w.sum())))

    @property
    def two_rater_table(self) -> bool:
        return self.n_raters == 2 and bool(np.all(self.P.sum(axis=1) == 2))


def _row(value, se, ci, n_units, n_raters) -> dict:
    lo, hi = (math.nan, math.nan) if ci is None else (float(ci[0]), float(ci[1]))
    return {"value": float(value), "se": math.nan if se is None else float(se), "ci_low": lo, "ci_high": hi,
            "n_units": int(n_units), "n_raters": int(n_raters)}


def _finish(est: _core.Estimate, agg: Aggregates, confidence: float, lower=None) -> dict:
    """SE and CI as :mod:`calibrate.agreement` reports them: t(n - 1), capped at 1."""
    se = None if est.var is None or not np.isfinite(est.var) else float(np.sqrt(max(est.var, 0.0)))
    ci, _, _ = interval(est.value, se, est.n_df - 1, confidence=confidence, ci_method="t",
                        alternative="two-sided", upper=1.0, lower=lower)
    return _row(est.value, se, ci, agg.n_units, agg.n_raters)


def _nan(agg: Aggregates) -> dict:
    return _row(math.nan, None, None, agg.n_units, agg.n_raters)


def finish(spec: Spec, agg: Aggregates, confidence: float = 0.95) -> dict:
    """``value, se, ci_low, ci_high, n_units, n_raters`` of ``spec`` on one group."""
    if spec.name in EXACTLY_TWO and agg.n_raters != 2:
        return _nan(agg)
    if spec.family == "alpha":
        return _alpha(agg, spec.level, confidence)
    if spec.family == "counts":
        kind = COUNTS_KIND[spec.name]
        W = weight_matrix(spec.weights, agg.scale.q, func=spec.name)
        est = _core.counts_coefficient(agg.P, W, kind, two_rater_table=agg.two_rater_table, w=agg.w)
        return _finish(est, agg, confidence, lower=0.0 if kind == "pa" else None)
    if spec.family == "pairs":
        if agg.n_raters < 2:
            return _nan(agg)
        W = weight_matrix(spec.weights, agg.scale.q, func=spec.name)
        M, pw = agg.profiles
        est = _core.conger_coefficient(M, agg.scale.q, W, two_rater_table=agg.two_rater_table, w=pw)
        return _finish(est, agg, confidence)
    return _icc(agg, spec, confidence)


def _alpha(agg: Aggregates, level: str, confidence: float) -> dict:
    C, w = agg.P, agg.w
    pairable = (w[:, None] * C)[C.sum(axis=1) >= 2].sum(axis=0)
    if level == "ratio" and (agg.scale.values < 0).any():
        from calibrate.errors import InputError

        raise InputError(
            "krippendorff_alpha: the ratio level needs non-negative numeric categories. "
            f"Got {list(agg.scale.categories)!r}."
        )
    delta2 = krippendorff_delta2(level, agg.scale.values, pairable)
    W = weights_from_delta(delta2)
    est = _core.alpha_gwet(C, W, two_rater_table=agg.two_rater_table, w=w)
    value = _core.alpha_value(C, delta2, w)
    est = _core.Estimate(value, est.p_o, est.p_e, est.var if np.isfinite(value) else None, est.n, est.n_df)
    return _finish(est, agg, confidence)


def _icc(agg: Aggregates, spec: Spec, confidence: float) -> dict:
    P, w, nr = agg.P, agg.w, agg.n_raters
    vals = agg.scale.values
    k = P.sum(axis=1)
    S = P @ vals
    N = float(np.sum(w * k))
    n = agg.n_units
    ybar = float(np.sum(w * S)) / N if N > 0 else math.nan
    mean = S / np.where(k > 0, k, 1.0)
    ssb = np.float64(np.sum(w * k * (mean - ybar) ** 2))
    ssw = np.float64(np.sum(w * np.sum(P * (vals[None, :] - mean[:, None]) ** 2, axis=1)))
    balanced = bool(np.all(k == nr))

    def fit():
        return _additive_fit(agg, mean, n, ssw, balanced, ybar)

    with np.errstate(all="ignore"):
        res = icc_from_sums(int(round(N)), n, nr, float(np.sum(w * k * k)), balanced, ssb, ssw, fit,
                            model=spec.model, kind=spec.icc_kind, confidence=confidence)
    return _row(res.value, None, res.ci, n, nr)


def _additive_fit(agg: Aggregates, unit_mean: np.ndarray, n: int, ssw, balanced: bool, ybar: float):
    """``_additive_fit`` of :mod:`calibrate.agreement.icc` from the aggregates."""
    vals = agg.scale.values
    nr = agg.n_raters
    C = agg.classif  # raters x q
    n_j = C.sum(axis=1)
    sum_j = C @ vals
    mean_j = sum_j / n_j
    N = float(n_j.sum())
    ss_j = float(np.sum(C * (vals[None, :] - mean_j[:, None]) ** 2))  # sum (y - mean_j[r])^2
    if balanced:
        ss_units = np.float64(nr * np.sum(agg.w * (unit_mean - ybar) ** 2))
        ss_raters = np.float64(n * np.sum((mean_j - ybar) ** 2))
        sse = np.float64(ssw - ss_raters)  # complete two-way layout: SS within = SS raters + SSE
        return ss_units, ss_raters, sse, n - 1, nr - 1, (n - 1) * (nr - 1)
    g1, g2, kk, cnt = agg.pairs_k
    A = np.zeros((nr, nr))
    np.add.at(A, (g1, g2), cnt / kk)
    g, _, p, c = agg.rater_pattern
    B = np.bincount(g, weights=c * unit_mean[p], minlength=nr)  # sum of unit means per rater
    cmat = np.diag(n_j) - A
    q = sum_j - B
    link = g1 != g2
    graph = sparse.coo_matrix((np.ones(int(link.sum())), (g1[link], g2[link])), shape=(nr, nr))
    n_comp, label = connected_components(graph, directed=False)
    return reduced_fit(cmat, q, label, n_comp, ssw, ss_j, int(round(N)), n)
