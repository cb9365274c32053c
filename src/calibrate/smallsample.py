"""Small-sample cluster-robust trend tests: CR2 standard errors with Bell–McCaffrey
degrees of freedom, and the restricted wild cluster bootstrap.

Owns :func:`cr2_trends` and :func:`wild_trends`, drop-ins for the CR1 trend fits of :mod:`calibrate.drift`
(same arguments, same result keys): per group the OLS slope of ``y`` on the session index
``t`` (adjusted for a covariate, within cases when cases recur), with the bias-reduced
linearisation variance CR2 (Bell & McCaffrey 2002) and its Satterthwaite degrees of freedom
in the form of Imbens & Kolesár (2016, eq. 11; Pustejovsky & Tipton 2018), computed under
a homoskedastic working model. CR1 with (clusters − 1) df is anti-conservative with a few
dozen clusters and a regressor that takes six values; CR2 + BM is the standard remedy
(R ``clubSandwich``). statsmodels has no CR2; the formulas are short, so they live here.

:func:`wild_trends` is the restricted wild cluster bootstrap (WCR; Cameron, Gelbach &
Miller 2008; Webb 2023): the model without the trend is fitted, its residuals are flipped
by a Rademacher sign per cluster, the full model is refitted and its CR1 t compared with the
observed one. It needs no normality and no large-sample df; the bootstrap p-value is
returned through an equivalent t (see the function).
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

    Same arguments and result keys as ``calibrate.inference.clustered_slopes`` (slope, se, df,
    t, n, clusters, span, within) so that drift can call either. As there: a group whose
    occasions mostly belong to cases seen in more than one session (and ≥ 3 such cases) is
    fitted within cases (case dummies; cases seen once drop out), the covariate (the reference
    judgement) enters the design, and a group needs ≥ k + 1 rows, ≥ 3 clusters, variation in
    ``t`` and a span > 0.
    """
    out = _empty(n_groups, ("slope", "se", "df", "t"))
    for g, spec in _groups(group, t, y, cluster, n_groups, covariate):
        if spec is None:
            continue
        r, X, j, _, codes, span, within = spec
        n, G = len(r), codes.max() + 1
        k = 2.0 if covariate is None else 3.0
        out["n"][g], out["clusters"][g], out["span"][g], out["within"][g] = n, G, span, within
        if n < k + 1 or G < 3 or np.var(X[:, j]) < 1e-12 or span <= 0:
            continue
        slope, se, df = cr2_slope(X, y[r].astype(float), codes, j)
        out["slope"][g], out["se"][g], out["df"][g] = slope, se, max(df, 1.0)
        out["t"][g] = slope / se if se > 0 else (np.sign(slope) * np.inf if abs(slope) > 1e-12 else 0.0)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out


def p_two_sided(tstat: np.ndarray, df: np.ndarray) -> np.ndarray:
    return 2 * stats.t.sf(np.abs(tstat), df)


def p_less(tstat: np.ndarray, df: np.ndarray) -> np.ndarray:
    return stats.t.cdf(tstat, df)


def _empty(n_groups: int, keys) -> dict:
    out = {key: np.full(n_groups, np.nan) for key in keys}
    out.update(n=np.zeros(n_groups), clusters=np.zeros(n_groups), span=np.zeros(n_groups),
               within=np.zeros(n_groups, dtype=bool))
    return out


def _groups(group, t, y, cluster, n_groups, covariate):
    """Per group the design of drift's trend model: (rows, X_full, j, X_null, clusters, span, within)."""
    ok = np.isfinite(y) if covariate is None else np.isfinite(y) & np.isfinite(covariate)
    g_all = group[ok].astype(np.int64)
    order = np.argsort(g_all, kind="stable")
    rows = np.flatnonzero(ok)[order]
    bounds = np.searchsorted(g_all[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        r = rows[bounds[g]:bounds[g + 1]]
        if len(r) == 0:
            yield g, None
            continue
        tg, cg = t[r].astype(float), cluster[r]
        zg = None if covariate is None else covariate[r].astype(float)
        span = tg.max() - tg.min()
        codes = pd.factorize(cg)[0]
        size = np.bincount(codes)
        rec = size[codes] >= 2
        within = rec.sum() >= 0.5 * len(r) and (size >= 2).sum() >= 3
        if within:
            r, tg, cg = r[rec], tg[rec], cg[rec]
            zg = None if zg is None else zg[rec]
            codes = pd.factorize(cg)[0]
            base = np.eye(codes.max() + 1)[codes]
        else:
            base = np.ones((len(tg), 1))
        extra = [] if zg is None or np.var(zg) < 1e-12 else [zg[:, None]]
        yield g, (r, np.hstack([base, tg[:, None], *extra]), base.shape[1], np.hstack([base, *extra]), codes, span, within)


def wild_trends(group: np.ndarray, t: np.ndarray, y: np.ndarray, cluster: np.ndarray, n_groups: int,
                covariate: np.ndarray | None = None, *, n_boot: int = 999, seed=0) -> dict:
    """Per group the slope of ``y`` on ``t`` (drift's model, as :func:`cr2_trends`) tested by
    the restricted wild cluster bootstrap with Rademacher weights (``n_boot`` resamples).

    Result keys as :func:`cr2_trends`, plus ``p_lower`` = (1 + #{t* ≤ t}) / (1 + B). The
    returned ``t`` is the *equivalent* statistic t_df⁻¹(p_lower) with ``df`` = clusters − 1,
    so that drift's ``t.cdf(t, df)`` gives the one-sided bootstrap p-value and
    ``2 t.sf(|t|, df)`` the equal-tailed two-sided one, unchanged in drift (p_lower is capped
    at 1 − 0.5/(B + 1) there, so that neither p falls below 1/(B + 1)). The floor matters
    under Benjamini–Hochberg: with m tests a flag needs p ≤ α/m at best, so B must be well
    above m/α (B = 999 cannot flag anything among 60 tests at 5 %).
    """
    rng = np.random.default_rng(seed)
    out = _empty(n_groups, ("slope", "se", "df", "t", "p_lower"))
    for g, spec in _groups(group, t, y, cluster, n_groups, covariate):
        if spec is None:
            continue
        r, X, j, X0, codes, span, within = spec
        yg = y[r].astype(float)
        n, k = X.shape
        G = codes.max() + 1
        out["n"][g], out["clusters"][g], out["span"][g], out["within"][g] = n, G, span, within
        if n < k + 1 or G < 3 or span <= 0 or np.var(X[:, j]) < 1e-12:
            continue
        B_inv = linalg.pinv(X.T @ X)
        P = B_inv @ X.T  # k x n
        fit0 = X0 @ (linalg.pinv(X0.T @ X0) @ (X0.T @ yg))
        e0 = yg - fit0
        M = np.zeros((G, n))
        M[codes, np.arange(n)] = 1.0  # cluster membership
        corr = (G / (G - 1)) * ((n - 1) / (n - k))

        def tstats(Y):  # Y: n x m, CR1 t of coefficient j for every column
            b = P @ Y
            E = Y - X @ b
            w = P[j]  # the contrast's weights per observation
            score = M @ (w[:, None] * E)  # G x m
            se = np.sqrt(corr * np.sum(score**2, axis=0))
            return b[j], se, np.where(se > 0, b[j] / np.where(se > 0, se, 1), 0.0)

        b_obs, se_obs, t_obs = tstats(yg[:, None])
        V = rng.choice([-1.0, 1.0], size=(G, n_boot))[codes]  # n x B, one sign per cluster
        _, _, t_star = tstats(fit0[:, None] + e0[:, None] * V)
        p_lower = (1 + np.sum(t_star <= t_obs[0] + 1e-12)) / (1 + n_boot)
        df = float(G - 1)
        out["slope"][g], out["se"][g], out["df"][g], out["p_lower"][g] = b_obs[0], se_obs[0], df, p_lower
        out["t"][g] = stats.t.ppf(min(p_lower, 1 - 0.5 / (1 + n_boot)), df)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out
