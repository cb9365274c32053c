"""Small-sample cluster-robust trend tests: CR2 standard errors with Bell–McCaffrey
degrees of freedom.

Owns :func:`cr2_trends`, a drop-in for the CR1 trend fits of :mod:`calibrate.drift`
(same arguments, same result keys): per group the OLS slope of ``y`` on the session index
``t`` (adjusted for a covariate, within cases when cases recur), with the bias-reduced
linearisation variance CR2 (Bell & McCaffrey 2002) and its Satterthwaite degrees of freedom
in the form of Imbens & Kolesár (2016, eq. 11; Pustejovsky & Tipton 2018), computed under
a homoskedastic working model. CR1 with (clusters − 1) df is anti-conservative with a few
dozen clusters and a regressor that takes six values; CR2 + BM is the standard remedy
(R ``clubSandwich``). statsmodels has no CR2; the formulas are short, so they live here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, stats

#: Above this many clusters in a group the Bell–McCaffrey df are replaced by clusters − 1
#: (they are large then and the n × n algebra is not worth it); the SE stays CR2.
MAX_CLUSTERS_FOR_DF = 400


def _inv_sqrt(M: np.ndarray) -> np.ndarray:
    w, V = linalg.eigh(M)
    w = np.clip(w, 1e-12, None)
    return (V / np.sqrt(w)) @ V.T


def cr2_slope(X: np.ndarray, y: np.ndarray, cluster: np.ndarray, j: int = 1) -> tuple[float, float, float]:
    """(coefficient j, CR2 standard error, Bell–McCaffrey df) of the OLS fit y = X b.

    CR2: V = B⁻¹ [Σ_g X_g' A_g e_g e_g' A_g X_g] B⁻¹ with B = X'X and A_g = (I − H_gg)^(−1/2).
    df = (Σ λ)² / Σ λ², λ the eigenvalues of G'G, G_g = (I − H)_{·g} A_g X_g B⁻¹ c.
    """
    n, k = X.shape
    B_inv = linalg.pinv(X.T @ X)
    b = B_inv @ (X.T @ y)
    e = y - X @ b
    H = X @ B_inv @ X.T
    c = np.zeros(k)
    c[j] = 1.0
    codes, uniq = pd.factorize(cluster)
    G_clusters = len(uniq)
    meat_vec = np.zeros(k)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(G_clusters + 1))
    IH = np.eye(n) - H
    want_df = G_clusters <= MAX_CLUSTERS_FOR_DF
    Gmat = np.zeros((n, G_clusters)) if want_df else None
    for g in range(G_clusters):
        idx = order[bounds[g]:bounds[g + 1]]
        Hgg = H[np.ix_(idx, idx)]
        A = _inv_sqrt(np.eye(len(idx)) - Hgg) if len(idx) > 1 else np.array([[1.0 / np.sqrt(max(1 - Hgg[0, 0], 1e-12))]])
        u = X[idx].T @ (A @ e[idx])  # k-vector
        meat_vec_g = c @ B_inv @ u
        meat_vec[0] += meat_vec_g**2  # only the contrast is needed
        if want_df:
            Gmat[:, g] = IH[:, idx] @ (A @ (X[idx] @ (B_inv @ c)))
    var = meat_vec[0]
    se = float(np.sqrt(var))
    if want_df:
        GtG = Gmat.T @ Gmat
        df = float(np.trace(GtG) ** 2 / np.sum(GtG * GtG))
    else:
        df = float(G_clusters - 1)
    return float(b[j]), se, df


def cr2_trends(group: np.ndarray, t: np.ndarray, y: np.ndarray, cluster: np.ndarray, n_groups: int,
               covariate: np.ndarray | None = None) -> dict:
    """Per group: slope of ``y`` on ``t`` with CR2 SE over ``cluster`` and Bell–McCaffrey df.

    Same arguments and result keys as ``calibrate.drift._clustered_trends`` (slope, se, df,
    t, n, clusters, span, within) so that drift can call either. As there: a group whose
    occasions mostly belong to cases seen in more than one session (and ≥ 3 such cases) is
    fitted within cases (case dummies; cases seen once drop out), the covariate (the reference
    judgement) enters the design, and a group needs ≥ k + 1 rows, ≥ 3 clusters, variation in
    ``t`` and a span > 0.
    """
    ok = np.isfinite(y) if covariate is None else np.isfinite(y) & np.isfinite(covariate)
    out = {key: np.full(n_groups, np.nan) for key in ("slope", "se", "df", "t")}
    out.update(n=np.zeros(n_groups), clusters=np.zeros(n_groups), span=np.zeros(n_groups),
               within=np.zeros(n_groups, dtype=bool))
    g_all = group[ok].astype(np.int64)
    order = np.argsort(g_all, kind="stable")
    rows = np.flatnonzero(ok)[order]
    bounds = np.searchsorted(g_all[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        r = rows[bounds[g]:bounds[g + 1]]
        if len(r) == 0:
            continue
        tg, yg, cg = t[r].astype(float), y[r].astype(float), cluster[r]
        zg = None if covariate is None else covariate[r].astype(float)
        out["span"][g] = tg.max() - tg.min()
        codes, uniq = pd.factorize(cg)
        size = np.bincount(codes)
        rec = size[codes] >= 2
        within = rec.sum() >= 0.5 * len(r) and (size >= 2).sum() >= 3
        out["within"][g] = within
        if within:
            tg, yg, cg, codes = tg[rec], yg[rec], cg[rec], pd.factorize(cg[rec])[0]
            zg = None if zg is None else zg[rec]
            base = np.eye(codes.max() + 1)[codes]  # case dummies
        else:
            base = np.ones((len(tg), 1))
        cols = [base, tg[:, None]] + ([] if zg is None else [zg[:, None]])
        X = np.hstack(cols)
        j = base.shape[1]
        n = len(yg)
        G = len(np.unique(codes))
        out["n"][g], out["clusters"][g] = n, G
        k = 2.0 if zg is None else 3.0
        if zg is not None and np.var(zg) < 1e-12:
            X = np.hstack([base, tg[:, None]])  # a constant covariate adds nothing (as drift)
        if n < k + 1 or G < 3 or np.var(tg) < 1e-12 or out["span"][g] <= 0:
            continue
        slope, se, df = cr2_slope(X, yg, cg, j)
        out["slope"][g], out["se"][g], out["df"][g] = slope, se, max(df, 1.0)
        out["t"][g] = slope / se if se > 0 else (np.sign(slope) * np.inf if abs(slope) > 1e-12 else 0.0)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out


def p_two_sided(tstat: np.ndarray, df: np.ndarray) -> np.ndarray:
    return 2 * stats.t.sf(np.abs(tstat), df)


def p_less(tstat: np.ndarray, df: np.ndarray) -> np.ndarray:
    return stats.t.cdf(tstat, df)
