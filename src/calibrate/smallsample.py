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
from scipy import linalg

from .inference import t_quantile

def _inv_sqrt_batch(M: np.ndarray) -> np.ndarray:
    """(I − H_gg)^(−1/2) for a stack of symmetric blocks, by the Moore–Penrose rule: a zero
    eigenvalue (a direction the case's own fixed effect absorbed) gets weight 0."""
    w, V = np.linalg.eigh(M)
    inv = np.where(w > 1e-10, 1.0 / np.sqrt(np.clip(w, 1e-10, None)), 0.0)
    return np.einsum("gij,gj,gkj->gik", V, inv, V)


def cr2_slope(X: np.ndarray, y: np.ndarray, cluster: np.ndarray, j: int = 1, *,
              absorbed: bool = False) -> tuple[float, float, float]:
    """(coefficient j, CR2 standard error, Bell–McCaffrey df) of the OLS fit y = X b.

    CR2: V = Σ_g (w_g' A_g e_g)², w = X B⁻¹ c the contrast's weights, B = X'X,
    A_g = (I − H_gg)^(−1/2) (Bell & McCaffrey 2002). df = (Σ λ)² / Σ λ², λ the eigenvalues
    of G'G = U'(I − H)U, U the n × clusters matrix of the A_g w_g (Imbens & Kolesár 2016,
    eq. 11, homoskedastic working model). G'G = diag(u_g'u_g) − M'B⁻¹M with M_g = X_g'u_g,
    so only k × k algebra is needed for its trace and Frobenius norm: any number of clusters.

    ``absorbed``: X and y were demeaned within clusters (cluster fixed effects absorbed,
    Frisch–Waugh–Lovell); the absorbed projection J/m_g is added to H_gg and to H.
    """
    n, k = X.shape
    B_inv = linalg.pinv(X.T @ X)
    b = B_inv @ (X.T @ y)
    e = y - X @ b
    c = np.zeros(k)
    c[j] = 1.0
    w = X @ (B_inv @ c)
    codes, uniq = pd.factorize(cluster)
    G_clusters = len(uniq)
    size = np.bincount(codes, minlength=G_clusters)
    XB = X @ B_inv
    u = np.empty(n)  # A_g w_g, stacked
    for m in np.unique(size):
        gs = np.flatnonzero(size == m)
        if m == 1:
            rows = np.flatnonzero(np.isin(codes, gs))
            h = np.einsum("ik,ik->i", XB[rows], X[rows])
            # a case seen once with its own fixed effect is absorbed whole: it carries no weight
            u[rows] = 0.0 if absorbed else w[rows] / np.sqrt(np.clip(1 - h, 1e-12, None))
            continue
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], gs)
        idx = order[starts[:, None] + np.arange(m)[None, :]]  # clusters × m row numbers
        H = np.einsum("gik,gjk->gij", XB[idx], X[idx])
        if absorbed:
            H = H + 1.0 / m
        A = _inv_sqrt_batch(np.eye(m)[None] - H)
        u[idx] = np.einsum("gij,gj->gi", A, w[idx])
    var = float(np.sum(np.bincount(codes, weights=u * e, minlength=G_clusters) ** 2))
    d = np.bincount(codes, weights=u * u, minlength=G_clusters)
    if absorbed:
        d = d - np.bincount(codes, weights=u, minlength=G_clusters) ** 2 / size
    M = np.stack([np.bincount(codes, weights=X[:, a] * u, minlength=G_clusters) for a in range(k)])  # k × G
    BM = B_inv @ M
    q = np.einsum("kg,kg->g", M, BM)  # diagonal of M'B⁻¹M
    BMM = BM @ M.T  # B⁻¹ M M'
    trace = d.sum() - np.trace(BMM)
    frob = np.sum(d * d) - 2 * np.sum(d * q) + np.sum(BMM * BMM.T)
    df = float(trace**2 / frob) if frob > 0 else float(G_clusters - 1)
    return float(b[j]), float(np.sqrt(max(var, 0.0))), df


def cr2_trends(group: np.ndarray, t: np.ndarray, y: np.ndarray, cluster: np.ndarray, n_groups: int,
               covariate: np.ndarray | None = None) -> dict:
    """Per group: slope of ``y`` on ``t`` with CR2 SE over ``cluster`` and Bell–McCaffrey df.

    Same arguments and result keys as ``calibrate.inference.clustered_slopes`` (slope, se, df,
    t, n, clusters, span, within) so that drift can call either. As there: a group whose
    occasions mostly belong to cases seen in more than one session (and ≥ 3 such cases) is
    fitted within cases (case fixed effects, absorbed; cases seen once drop out), the
    covariate(s) — one column or an n × p array — enter the design, and a group needs a
    residual degree of freedom, ≥ 3 clusters, variation in ``t`` and a span > 0.
    """
    out = _empty(n_groups, ("slope", "se", "df", "t"))
    for g, spec in _groups(group, t, y, cluster, n_groups, covariate):
        if spec is None:
            continue
        r, X, j, _, codes, span, within = spec
        yg = y[r].astype(float)
        n, G = len(r), codes.max() + 1
        out["n"][g], out["clusters"][g], out["span"][g], out["within"][g] = n, G, span, within
        if within:  # absorb the case effects: demean within cases (Frisch–Waugh–Lovell)
            Z, yg = _within_cases(X[:, j:], codes), _within_cases(yg, codes)
            X, jj, k_all = Z, 0, G + Z.shape[1]
        else:
            jj, k_all = j, X.shape[1]
        if n < k_all + 1 or G < 3 or np.var(X[:, jj]) < 1e-12 or span <= 0:
            continue
        slope, se, df = cr2_slope(X, yg, codes, jj, absorbed=within)
        out["slope"][g], out["se"][g], out["df"][g] = slope, se, max(df, 1.0)
        out["t"][g] = slope / se if se > 0 else (np.sign(slope) * np.inf if abs(slope) > 1e-12 else 0.0)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out


def cr1_trends(group: np.ndarray, t: np.ndarray, y: np.ndarray, cluster: np.ndarray, n_groups: int,
               covariate: np.ndarray | None = None) -> dict:
    """The CR1 trend fits with (clusters − 1) df, for comparison with :func:`cr2_trends`:
    :func:`calibrate.inference.clustered_slopes` for at most one covariate, else per group
    statsmodels' ``OLS(...).fit(cov_type="cluster")`` on the same design as :func:`cr2_trends`
    (case dummies when fitted within cases)."""
    from calibrate.inference import clustered_slopes

    cov = None if covariate is None else np.asarray(covariate, dtype=float)
    if cov is None or cov.ndim == 1 or cov.shape[1] == 1:
        return clustered_slopes(group, t, y, cluster, n_groups, covariate=None if cov is None else cov.reshape(len(y)))
    import statsmodels.api as sm

    out = _empty(n_groups, ("slope", "se", "df", "t"))
    for g, spec in _groups(group, t, y, cluster, n_groups, cov):
        if spec is None:
            continue
        r, X, j, _, codes, span, within = spec
        n, G = len(r), codes.max() + 1
        out["n"][g], out["clusters"][g], out["span"][g], out["within"][g] = n, G, span, within
        if n < X.shape[1] + 1 or G < 3 or np.var(X[:, j]) < 1e-12 or span <= 0:
            continue
        fit = sm.OLS(y[r].astype(float), X).fit(cov_type="cluster", cov_kwds={"groups": codes})
        slope, se = float(fit.params[j]), float(fit.bse[j])
        out["slope"][g], out["se"][g], out["df"][g] = slope, se, float(G - 1)
        out["t"][g] = slope / se if se > 0 else (np.sign(slope) * np.inf if abs(slope) > 1e-12 else 0.0)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out


def _within_cases(A: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``A`` (a vector or the columns of a matrix) minus its mean within each case."""
    size = np.bincount(codes).astype(float)
    if A.ndim == 1:
        return A - (np.bincount(codes, weights=A) / size)[codes]
    if A.shape[1] == 0:
        return A
    means = np.stack([np.bincount(codes, weights=A[:, a]) for a in range(A.shape[1])], axis=1)
    return A - (means / size[:, None])[codes]


def _empty(n_groups: int, keys) -> dict:
    out = {key: np.full(n_groups, np.nan) for key in keys}
    out.update(n=np.zeros(n_groups), clusters=np.zeros(n_groups), span=np.zeros(n_groups),
               within=np.zeros(n_groups, dtype=bool))
    return out


def _groups(group, t, y, cluster, n_groups, covariate):
    """Per group the design of drift's trend model: (rows, X_full, j, X_null, clusters, span, within)."""
    if covariate is not None:
        covariate = np.asarray(covariate, dtype=float)
        covariate = covariate[:, None] if covariate.ndim == 1 else covariate
    ok = np.isfinite(y) if covariate is None else np.isfinite(y) & np.isfinite(covariate).all(axis=1)
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
        zg = None if covariate is None else covariate[r]
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
        extra = [] if zg is None else [zg[:, a:a + 1] for a in range(zg.shape[1]) if np.var(zg[:, a]) >= 1e-12]
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
        out["t"][g] = t_quantile(min(p_lower, 1 - 0.5 / (1 + n_boot)), df)
    out["df"] = np.where(np.isfinite(out["df"]), out["df"], 1.0)
    return out


def permutation_trends(group: np.ndarray, t: np.ndarray, y: np.ndarray, cluster: np.ndarray, n_groups: int,
                       covariate: np.ndarray | None = None, *, alternative: str = "two-sided",
                       n_perm: int = 9999, stop_after: int = 50, max_clusters: int | None = None,
                       seed=0) -> dict:
    """Per group the CR2 fit of :func:`cr2_trends` with the p-value of a studentised
    Freedman–Lane permutation test of the slope (``p``; ``alternative`` "two-sided" or
    "less").

    The model without the trend is fitted, its residuals are permuted over the cases (within
    cases when the group is fitted within cases) and added back, the full model is refitted,
    and its slope over a cluster-robust (CR0) standard error is compared with the observed
    one (Freedman & Lane 1983; Winkler et al. 2014). With new cases every session this is an
    exact test when the cases are exchangeable under "no drift", whatever the shape of the
    outcome — a coarse, skewed agreement share included — and the studentised statistic
    keeps it valid in large samples when they are only uncorrelated with the session
    (DiCiccio & Romano 2017).

    The permutations are drawn sequentially (Besag & Clifford 1991): a group stops as soon
    as ``stop_after`` permuted statistics are at least as extreme as the observed one, with
    p = stop_after / permutations drawn; otherwise it runs to ``n_perm`` with
    p = (1 + extreme) / (1 + n_perm). Both are valid p-values; a clearly null item costs a
    few hundred permutations, an item near the flag the full ``n_perm``. The floor
    1/(1 + n_perm) matters under Benjamini–Hochberg (see :func:`wild_trends`).

    ``max_clusters``: groups with more cases than this keep the CR2 + Bell–McCaffrey
    p-value (at that size the t reference is accurate and the permutations would cost the
    report its time); ``None`` permutes every group. ``method`` per group says which was
    used ("permutation" or "cr2").
    """
    if alternative not in ("two-sided", "less"):
        raise ValueError(f"alternative must be 'two-sided' or 'less', got {alternative!r}")
    from calibrate.inference import p_less, p_two_sided

    out = cr2_trends(group, t, y, cluster, n_groups, covariate)
    out["p"] = (p_two_sided if alternative == "two-sided" else p_less)(out["t"], out["df"])
    out["method"] = np.full(n_groups, "cr2", dtype=object)
    due = np.isfinite(out["t"]) & (out["clusters"] <= (np.inf if max_clusters is None else max_clusters))
    if not due.any():  # every group keeps its CR2 p-value: no second pass over the groups
        return out
    rng = np.random.default_rng(seed)
    for g, spec in _groups(group, t, y, cluster, n_groups, covariate):
        if spec is None or not due[g]:
            continue
        r, X, j, X0, codes, span, within = spec
        yg = y[r].astype(float)
        order = np.argsort(codes, kind="stable")  # rows grouped by case: blocks are contiguous
        codes, yg, X, X0 = codes[order], yg[order], X[order], X0[order]
        if within:  # absorb the case effects as cr2_trends does; permute within cases
            X, X0, yg = _within_cases(X[:, j:], codes), _within_cases(X0[:, j:], codes), _within_cases(yg, codes)
            j, blocks = 0, codes.astype(float)
        else:
            blocks = np.zeros(len(yg))
        e0 = yg - (X0 @ (linalg.pinv(X0.T @ X0) @ (X0.T @ yg)) if X0.shape[1] else 0.0)
        XB = X @ linalg.pinv(X.T @ X)
        w = XB[:, j]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        singletons = len(starts) == len(codes)

        def tstat(E):  # E: batch x n residual vectors of the model without the trend
            b = E @ w
            R = E - (E @ XB) @ X.T
            S = R * w if singletons else np.add.reduceat(R * w, starts, axis=1)
            se = np.sqrt(np.sum(S * S, axis=1))
            return np.where(se > 0, b / np.where(se > 0, se, 1.0), 0.0)

        t_obs = float(tstat(e0[None, :])[0])
        tol = 1e-10 * max(1.0, abs(t_obs))
        drawn = extreme = 0
        batch = 200
        while drawn < n_perm:
            size_b = min(batch, n_perm - drawn)
            perm = np.argsort(blocks[None, :] + rng.random((size_b, len(yg))), axis=1)
            ts = tstat(e0[perm])
            hit = (np.abs(ts) >= abs(t_obs) - tol) if alternative == "two-sided" else (ts <= t_obs + tol)
            cum = extreme + np.cumsum(hit)
            if cum[-1] >= stop_after:
                ell = drawn + int(np.argmax(cum >= stop_after)) + 1
                p = stop_after / ell
                break
            extreme, drawn = int(cum[-1]), drawn + size_b
            batch = min(2 * batch, 4000)
        else:
            p = (1 + extreme) / (1 + n_perm)
        out["p"][g], out["method"][g] = p, "permutation"
    return out


# ----------------------------------------------------------------------- coverage notes
#: Coverage (%) of the 95 % t interval (value ± t(n−1)·SE) of the agreement coefficients
#: in calibrate's coverage study — ``benchmarks/coverage.py --reps 500``, published in
#: docs/coverage.md and docs/coverage_table.csv (tests/test_smallsample.py keeps the two in
#: step): per number of cases, the lowest and highest coverage over panels of 3, 5 and 8.
COVERAGE_T = {
    "alpha_ordinal": {4: (91.2, 93.6), 6: (93.2, 94.8), 8: (94.6, 95.8), 12: (96.0, 96.8)},
    "alpha_nominal": {4: (77.7, 85.2), 6: (84.2, 90.2), 8: (88.4, 91.8), 12: (91.6, 93.8)},
    "fleiss_kappa": {4: (77.7, 84.0), 6: (82.6, 90.2), 8: (87.8, 91.2), 12: (91.4, 93.8)},
    "AC1": {4: (86.6, 93.6), 6: (91.8, 94.6), 8: (91.8, 96.2), 12: (94.6, 96.6)},
    "AC2_quadratic": {4: (83.8, 88.2), 6: (86.0, 90.0), 8: (86.8, 90.0), 12: (88.2, 89.4)},
}
_STUDIED = {"fleiss_kappa": "Fleiss κ", "alpha_nominal": "Krippendorff α (nominal)",
            "alpha_ordinal": "Krippendorff α (ordinal)", "AC1": "Gwet AC1", "AC2_quadratic": "Gwet AC2 (quadratic weights)"}
#: Beyond this many cases the study's largest sessions (12) are no guide: no note.
MAX_CASES_FOR_NOTE = 16


def _studied(coefficient: str, weights: str | None) -> str | None:
    """The coefficient of the coverage study that stands for ``coefficient`` with ``weights``."""
    w = (weights or "identity").lower()
    if coefficient == "krippendorff_alpha":
        return {"nominal": "alpha_nominal", "ordinal": "alpha_ordinal"}.get(w)
    if coefficient == "gwet_ac":
        return "AC1" if w in ("identity", "nominal", "unweighted") else "AC2_quadratic"
    if coefficient in ("fleiss_kappa", "scott_pi", "cohen_kappa", "conger_kappa"):
        return "fleiss_kappa" if w in ("identity", "nominal", "unweighted") else None
    return None


def coverage_note(coefficient: str, weights: str | None, n_units: int, ci_method: str = "t") -> str | None:
    """The small-sample note of an agreement result: when the study measured the coverage of
    this coefficient's t interval at the nearest session size (4, 6, 8 or 12 cases) below
    93 %, a sentence saying how low, else None. Only for ``ci_method="t"`` (the default; z
    covers less still, see docs/coverage.md) and at most :data:`MAX_CASES_FOR_NOTE` cases."""
    key = _studied(coefficient, weights)
    if key is None or ci_method != "t" or not (2 <= n_units <= MAX_CASES_FOR_NOTE):
        return None
    rows = COVERAGE_T[key]
    nearest = min(rows, key=lambda n: (abs(n - n_units), n))
    lo, hi = rows[nearest]
    if lo >= 93.0:
        return None
    exact = coefficient in ("krippendorff_alpha", "fleiss_kappa") or (
        coefficient == "gwet_ac" and (key == "AC1" or (weights or "").lower() == "quadratic"))
    kin = "" if exact else f" (measured for {_STUDIED[key]})"
    return (f"With {n_units} cases the 95 % t interval of this coefficient covered only {lo:.0f}–{hi:.0f} % "
            f"in calibrate's coverage study at {nearest} cases{kin} (docs/coverage.md); read it as a rough range.")
