"""Bootstrap over cases for variance components and everything computed from them.

Owns :func:`case_bootstrap` (resample the object of measurement with replacement, within
its nest when it is nested, and re-estimate; balanced designs are done for all resamples at
once from per-case sums) and :func:`interval` (percentile or BCa, Efron 1987, for many
statistics at once). Brennan (2001, §6.2.3) warns that resampling persons alone biases the
components of the other facets; the coefficients are what the intervals are for.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from calibrate.gtheory.moments import Cells, henderson_matrix
from calibrate.gtheory.observations import Observations

METHODS = ("percentile", "bca")


def _draws(rng: np.random.Generator, strata: np.ndarray, n_boot: int) -> np.ndarray:
    """Resample × object matrix of draw counts, resampling within each stratum."""
    n = len(strata)
    W = np.zeros((n_boot, n))
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        idx = members[rng.integers(0, len(members), size=(n_boot, len(members)))]
        for b in range(n_boot):
            W[b] += np.bincount(idx[b], minlength=n)
    return W


def _object_strata(obs: Observations, object_facets: frozenset, obj: str, cells: Cells) -> np.ndarray:
    code, n_obj = cells.codes(object_facets)
    nest = object_facets - {obj}
    if not nest:
        return np.zeros(n_obj, dtype=np.int64)
    ncode, _ = cells.codes(nest)
    out = np.zeros(n_obj, dtype=np.int64)
    out[code] = ncode
    return out


def balanced_T(obs: Observations, obj_set: frozenset, cells: Cells, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """T terms (resamples × effects) and T(μ) of the resampled balanced data, each drawn
    case counted as a new case."""
    code_o, n_obj = cells.codes(obj_set)
    effects = obs.design.effects
    out = np.empty((W.shape[0], len(effects)))
    for k, e in enumerate(effects):
        cu, su = cells.codes(e.index | obj_set)
        n_u = np.bincount(cu, minlength=su).astype(np.float64)
        s_u = np.bincount(cu, weights=obs.y, minlength=su)
        o_of_u = np.zeros(su, dtype=np.int64)
        o_of_u[cu] = code_o
        if obj_set <= e.index:  # each cell belongs to one case: per-case contributions
            per_case = np.bincount(o_of_u, weights=s_u**2 / n_u, minlength=n_obj)
            out[:, k] = W @ per_case
        else:  # cells pool cases: T = Σ_a (Σ_c w_c S[c, a])² / (Σ_c w_c n[c, a])
            ca, sa = cells.codes(e.index)
            a_of_u = np.zeros(su, dtype=np.int64)
            a_of_u[cu] = ca
            S = np.zeros((n_obj, sa))
            Nn = np.zeros((n_obj, sa))
            np.add.at(S, (o_of_u, a_of_u), s_u)
            np.add.at(Nn, (o_of_u, a_of_u), n_u)
            num = (W @ S) ** 2
            den = W @ Nn
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, k] = np.where(den > 0, num / den, 0.0).sum(axis=1)
    s_o = np.bincount(code_o, weights=obs.y, minlength=n_obj)
    n_o = np.bincount(code_o, minlength=n_obj).astype(np.float64)
    T0 = (W @ s_o) ** 2 / (W @ n_o)
    return out, T0


def _by_case(code_o: np.ndarray, n_obj: int, cell: np.ndarray, size: int, weights=None) -> np.ndarray:
    """Cases × cells matrix of counts (or of summed ``weights``)."""
    flat = np.bincount(code_o * size + cell, weights=weights, minlength=n_obj * size)
    return flat.reshape(n_obj, size).astype(np.float64, copy=False)


def weighted_henderson(obs: Observations, obj_set: frozenset, cells: Cells, W: np.ndarray) -> np.ndarray:
    """Henderson's Method 1 (:func:`~calibrate.gtheory.moments.henderson1`) of every
    resample at once (resamples × effects, raw), for any pattern of missing cells.

    A resample draws cases with the counts in ``W`` (resamples × cases), each drawn copy a
    new case. The T terms and the coefficients k(α, β) = Σ_u n_u² / n_(α-cell of u) of the
    resampled data are then sums over the original cases weighted by ``W``: a cell that
    holds one case only (its index contains the object) is repeated per copy, a cell that
    pools cases has the count Σ_c w_c n_(c, cell). So no resample is rebuilt or refitted;
    the result equals ``henderson1`` on each resampled table.
    """
    code_o, n_obj = cells.codes(obj_set)
    sets = [frozenset(), *[e.index for e in obs.design.effects]]
    m = len(sets)
    B = W.shape[0]
    n_case = np.bincount(code_o, minlength=n_obj).astype(np.float64)
    N = W @ n_case  # judgements per resample
    K = np.zeros((B, m, m))
    T = np.zeros((B, m))
    s_o = np.bincount(code_o, weights=obs.y, minlength=n_obj)
    T[:, 0] = (W @ s_o) ** 2 / N
    pooled: dict[frozenset, np.ndarray] = {}  # resamples × cells counts of cells that pool cases

    def pooled_counts(index: frozenset) -> np.ndarray:
        if index not in pooled:
            cu, su = cells.codes(index)
            pooled[index] = W @ _by_case(code_o, n_obj, cu, su)
        return pooled[index]

    for a, sa in enumerate(sets):
        ca, na_size = cells.codes(sa)
        a_has_obj = obj_set <= sa
        if a > 0:
            T[:, a] = balanced_T_one(obs, obj_set, cells, W, sa, code_o, n_obj)
        if a_has_obj:
            n_a = np.bincount(ca, minlength=na_size).astype(np.float64)
        else:
            n_a_w = pooled_counts(sa)  # resamples × α-cells
        K[:, a, 0] = N
        for b, sb in enumerate(sets[1:], start=1):
            u = sa | sb
            cu, su = cells.codes(u)
            a_of_u = np.zeros(su, dtype=np.int64)
            a_of_u[cu] = ca
            if obj_set <= u:  # u-cells hold one case each
                n_u = np.bincount(cu, minlength=su).astype(np.float64)
                o_of_u = np.zeros(su, dtype=np.int64)
                o_of_u[cu] = code_o
                ok = n_u > 0
                if a_has_obj:  # so do the α-cells: each copy adds the same amount
                    contrib = np.bincount(o_of_u[ok], weights=n_u[ok] ** 2 / n_a[a_of_u[ok]], minlength=n_obj)
                    K[:, a, b] = W @ contrib
                else:  # Σ_α-cells (Σ_c w_c Σ_(u in c, α-cell) n_u²) / (Σ_c w_c n_(c, α-cell))
                    num = W @ _by_case(o_of_u[ok], n_obj, a_of_u[ok], na_size, n_u[ok] ** 2)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        K[:, a, b] = np.where(n_a_w > 0, num / n_a_w, 0.0).sum(axis=1)
            else:  # u-cells pool cases: n_u(w) = Σ_c w_c n_(c, u)
                den = n_a_w[:, a_of_u]
                with np.errstate(invalid="ignore", divide="ignore"):
                    K[:, a, b] = np.where(den > 0, pooled_counts(u) ** 2 / den, 0.0).sum(axis=1)
    return np.linalg.solve(K, T[:, :, None])[:, 1:, 0]


def balanced_T_one(obs: Observations, obj_set: frozenset, cells: Cells, W: np.ndarray, index: frozenset,
                   code_o: np.ndarray, n_obj: int) -> np.ndarray:
    """T(α) of every resample (the weighted sums of :func:`balanced_T`, which hold for
    unbalanced data too)."""
    cu, su = cells.codes(index | obj_set)
    n_u = np.bincount(cu, minlength=su).astype(np.float64)
    s_u = np.bincount(cu, weights=obs.y, minlength=su)
    o_of_u = np.zeros(su, dtype=np.int64)
    o_of_u[cu] = code_o
    ok = n_u > 0
    if obj_set <= index:
        return W @ np.bincount(o_of_u[ok], weights=s_u[ok] ** 2 / n_u[ok], minlength=n_obj)
    ca, sa = cells.codes(index)
    a_of_u = np.zeros(su, dtype=np.int64)
    a_of_u[cu] = ca
    num = (W @ _by_case(o_of_u, n_obj, a_of_u, sa, s_u)) ** 2
    den = W @ _by_case(o_of_u, n_obj, a_of_u, sa, n_u)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0).sum(axis=1)


def case_bootstrap(
    obs: Observations,
    obj: str,
    object_facets: frozenset,
    estimator: Callable[[Observations], np.ndarray],
    *,
    n_boot: int,
    seed,
    balanced: bool,
    jackknife: bool = True,
    moments: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(resamples × effects, cases × effects) raw estimates: bootstrap and leave-one-out.

    ``moments``: the estimator is Henderson's Method 1, so unbalanced resamples are solved
    all at once by :func:`weighted_henderson` instead of refitted one by one."""
    cells = Cells(obs)
    rng = np.random.default_rng(seed)
    strata = _object_strata(obs, object_facets, obj, cells)
    W = _draws(rng, strata, n_boot)
    n_obj = len(strata)
    J = None
    if moments and not balanced:
        reps = weighted_henderson(obs, object_facets, cells, W)
        if jackknife:
            J = weighted_henderson(obs, object_facets, cells, np.ones((n_obj, n_obj)) - np.eye(n_obj))
        return reps, J
    if balanced:
        # balanced resamples keep the design: one Henderson matrix solves them all
        reps = _solve(henderson_matrix(obs, cells), *balanced_T(obs, object_facets, cells, W))
        if jackknife:
            Wj = np.ones((n_obj, n_obj)) - np.eye(n_obj)
            if len(np.unique(strata)) == 1:  # every leave-one-out set has the same design
                sub = _subset(obs, obj, object_facets, cells, Wj[0])
                J = _solve(henderson_matrix(sub, Cells(sub)), *balanced_T(obs, object_facets, cells, Wj))
            else:  # leaving a case out unbalances a nested object's strata: refit
                J = np.vstack([estimator(_subset(obs, obj, object_facets, cells, w)) for w in Wj])
        return reps, J
    reps = np.vstack([estimator(_subset(obs, obj, object_facets, cells, w)) for w in W])
    if jackknife:
        Wj = np.ones((n_obj, n_obj)) - np.eye(n_obj)
        J = np.vstack([estimator(_subset(obs, obj, object_facets, cells, w)) for w in Wj])
    return reps, J


def _solve(K: np.ndarray, T: np.ndarray, T0: np.ndarray) -> np.ndarray:
    return np.linalg.solve(K, np.column_stack([T0, T]).T).T[:, 1:]


def _subset(obs: Observations, obj: str, object_facets: frozenset, cells: Cells, w: np.ndarray) -> Observations:
    """The data of a resample: each drawn case repeated as a new case."""
    code_o, _ = cells.codes(object_facets)
    counts = w.astype(np.int64)[code_o]
    rows = np.repeat(np.arange(obs.n), counts)
    # copy number of each repeated row: 0, 1, ... within the row
    start = np.repeat(np.cumsum(counts) - counts, counts)
    copy = np.arange(len(rows)) - start
    new_codes = {}
    n_copies = int(max(w.max(), 1))
    for f in obs.design.facets:
        c = obs.codes[f][rows]
        if f == obj or obj in obs.design.within(f):  # the case and what is nested in it
            c = c * n_copies + copy
        new_codes[f] = c
    labels = {}
    for f in obs.design.facets:
        uniq, inv = np.unique(new_codes[f], return_inverse=True)
        new_codes[f] = inv.astype(np.int64)
        labels[f] = uniq
    import pandas as pd

    return Observations(design=obs.design, y=obs.y[rows], codes=new_codes,
                        labels={f: pd.Index(v) for f, v in labels.items()})


def interval(point: np.ndarray, reps: np.ndarray, jack: np.ndarray | None, confidence: float,
             method: str) -> tuple[np.ndarray, np.ndarray]:
    """Percentile or BCa interval for each column of ``reps`` (resamples × statistics).

    BCa: bias correction z0 from the share of replicates below the estimate, acceleration
    from the jackknife's skewness (Efron 1987; Efron & Tibshirani 1993, §14.3)."""
    reps = np.atleast_2d(np.asarray(reps, float))
    point = np.atleast_1d(np.asarray(point, float))
    a = 1 - confidence
    lo = np.full(reps.shape[1], np.nan)
    hi = np.full(reps.shape[1], np.nan)
    for k in range(reps.shape[1]):
        r = reps[:, k]
        r = r[np.isfinite(r)]
        if len(r) < 2 or not np.isfinite(point[k]):
            continue
        if method == "percentile" or jack is None:
            lo[k], hi[k] = np.quantile(r, [a / 2, 1 - a / 2])
            continue
        prop = np.mean(r < point[k]) + 0.5 * np.mean(r == point[k])
        prop = min(max(prop, 1.0 / (len(r) + 1)), 1 - 1.0 / (len(r) + 1))
        z0 = special.ndtri(prop)
        j = jack[:, k]
        j = j[np.isfinite(j)]
        d = j.mean() - j if len(j) else np.zeros(1)
        den = 6.0 * np.sum(d**2) ** 1.5
        acc = float(np.sum(d**3) / den) if den > 0 else 0.0
        z = special.ndtri(np.array([a / 2, 1 - a / 2]))
        adj = special.ndtr(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        lo[k], hi[k] = np.quantile(r, adj)
    return lo, hi
