"""REML estimates of variance components for unbalanced and incomplete designs.

Owns :func:`reml`: restricted maximum likelihood for the random-effects model
y = μ + Σ_effects Z_k u_k + e (every effect but the residual is a random factor),
profiled over σ²_e and solved on the q × q mixed-model equations (q = number of random
levels), as lme4 does (Bates et al. 2015). Checked against statsmodels' MixedLM with one
variance component per effect (``vc_formula``) in ``tests/gtheory``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize, sparse

from calibrate.errors import InputError
from calibrate.gtheory.moments import Cells, MomentFit
from calibrate.gtheory.observations import Observations

MAX_LEVELS = 600
"""Largest number of random levels (all effects but the residual) :func:`reml` takes on;
beyond it ``g_study(method="auto")`` uses Henderson's Method 1 (one evaluation factors a dense
q × q matrix; at q = 1,100 that took 0.5 s on the shared 2-core machine, and a fit needs hundreds)."""


def n_random_levels(obs: Observations, cells: Cells | None = None) -> int:
    cells = cells or Cells(obs)
    return int(sum(cells.codes(e.index)[1] for e in obs.design.effects[:-1]))


def reml(obs: Observations, cells: Cells | None = None, start: np.ndarray | None = None,
         loglik_at: np.ndarray | None = None) -> MomentFit:
    """REML variance components (≥ 0 by construction) in design order, residual last.

    With ``loglik_at`` (components in design order) nothing is fitted: the REML
    log-likelihood at those values is returned in ``loglik`` (to compare with a peer's fit).
    """
    cells = cells or Cells(obs)
    effects = obs.design.effects
    blocks = [cells.codes(e.index) for e in effects[:-1]]
    q = sum(size for _, size in blocks)
    if q > MAX_LEVELS:
        raise InputError(f"REML here takes at most {MAX_LEVELS} random levels; this design has {q}.",
                         hint="Use method='henderson1' (analogous ANOVA) for a table this large.")
    N = obs.n
    cols = np.concatenate([code + off for (code, _), off in zip(blocks, np.cumsum([0, *[s for _, s in blocks[:-1]]]))]) if blocks else np.zeros(0, int)
    rows = np.tile(np.arange(N), len(blocks))
    Z = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(N, q))
    ZtZ = (Z.T @ Z).toarray()
    y = obs.y
    Zty = Z.T @ y
    Zt1 = np.asarray(Z.sum(axis=0)).ravel()
    yty, sy = float(y @ y), float(y.sum())
    block_of = np.repeat(np.arange(len(blocks)), [s for _, s in blocks])

    def parts(s):
        lam = s[block_of]
        M = lam[:, None] * ZtZ * lam[None, :]
        M[np.diag_indices_from(M)] += 1.0
        L = linalg.cho_factor(M, lower=True, check_finite=False)
        a, b = lam * Zty, lam * Zt1
        Ma, Mb = linalg.cho_solve(L, a, check_finite=False), linalg.cho_solve(L, b, check_finite=False)
        yHy = yty - a @ Ma
        oHy = sy - b @ Ma
        oHo = N - b @ Mb
        logdet = 2.0 * np.sum(np.log(np.diag(L[0])))
        rss = yHy - oHy**2 / oHo
        return rss, logdet, oHo, oHy

    def objective(s):
        rss, logdet, oHo, _ = parts(s)
        if not rss > 0:
            return np.inf
        return (N - 1) * np.log(rss / (N - 1)) + logdet + np.log(oHo)

    if loglik_at is not None:  # the REML log-likelihood at given components (residual last)
        comp = np.asarray(loglik_at, float)
        s_at = np.sqrt(np.maximum(comp[:-1], 0) / comp[-1])
        rss, logdet, oHo, _ = parts(s_at)
        # -2 l_R = (N-1) log(2 pi sigma2) + rss/sigma2 + log|H| + log(1'H^-1 1)
        val = (N - 1) * np.log(2 * np.pi * comp[-1]) + rss / comp[-1] + logdet + np.log(oHo)
        return MomentFit(estimate=comp, T=np.full(len(effects), np.nan), loglik=float(-0.5 * val))
    if start is None:
        start = np.full(len(blocks), 0.5)
    else:
        e = max(float(start[-1]), 1e-8)
        start = np.sqrt(np.clip(np.asarray(start[:-1], float) / e, 1e-4, 1e4))
    best = None
    for x0 in (start, np.full(len(blocks), 0.5)):
        res = optimize.minimize(objective, x0, method="L-BFGS-B", bounds=[(0.0, None)] * len(blocks),
                                options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    s = best.x
    rss, _, oHo, oHy = parts(s)
    sigma_e = rss / (N - 1)
    est = np.append(s**2 * sigma_e, sigma_e)
    loglik = -0.5 * ((N - 1) * np.log(2 * np.pi * sigma_e) + (N - 1) + parts(s)[1] + np.log(oHo))
    return MomentFit(estimate=est, T=np.full(len(effects), np.nan), grand_mean=float(oHy / oHo),
                     loglik=float(loglik))
