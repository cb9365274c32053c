"""The formulas, on coded data: Gwet's (2014) generalised multi-rater coefficients.

Every function here takes arrays (unit x category counts ``C`` or the unit x rater code
matrix) and returns a :class:`Estimate`: value, observed and chance agreement and the
linearisation variance of Gwet (2008; 2014, ch. 5). Units with one rating count in ``n``
(they inform the category propensities) but not in the observed agreement, exactly as in
R irrCAC. Nothing here knows about DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    value: float
    p_o: float
    p_e: float
    var: float | None  # None when fewer than two units
    n: int  # units entering the variance
    n_df: int  # units for the t degrees of freedom (df = n_df - 1)


def _nan(n: int) -> Estimate:
    return Estimate(float("nan"), float("nan"), float("nan"), None, n, n)


def _mult(w: np.ndarray | None, rows: int) -> np.ndarray:
    """Row multiplicities: ``w`` (rows of ``C`` are distinct count patterns, each standing
    for ``w`` units; see :attr:`Ratings.patterns`) or one unit per row."""
    return np.ones(rows) if w is None else np.asarray(w, dtype=np.float64)


def _count(x: np.ndarray) -> int:
    return int(round(float(x.sum())))


def _variance(
    x: np.ndarray, coef: float, n: int, f: float, two_rater_table: bool, w: np.ndarray
) -> float | None:
    """Gwet's variance (1-f)/(n(n-1)) * sum (x_i - coef)^2 (rows weighted by ``w``).

    With two raters who rated every unit Gwet's contingency-table formula applies,
    which equals this one times (n-1)/n (Fleiss, Cohen & Everitt 1969 for kappa).
    """
    if n < 2:
        return None
    v = (1.0 - f) / (n * (n - 1)) * float(np.sum(w * (x - coef) ** 2))
    if two_rater_table:
        v *= (n - 1) / n
    return v


def agreement_terms(C: np.ndarray, W: np.ndarray):
    """Per-unit pieces shared by the counts-based coefficients."""
    r = C.sum(axis=1)
    m2 = r >= 2
    sumq = np.einsum("ik,ik->i", C, C @ W.T - 1.0)
    den = np.where(m2, r * (r - 1.0), 1.0)
    pa_i = np.where(m2, sumq / den, 0.0)
    return r, m2, pa_i


def counts_coefficient(
    C: np.ndarray,
    W: np.ndarray,
    kind: str,
    *,
    f: float = 0.0,
    two_rater_table: bool = False,
    w: np.ndarray | None = None,
) -> Estimate:
    """Percent agreement (``pa``), Fleiss/Scott (``fleiss``), Gwet AC1/AC2 (``ac``) or
    Brennan-Prediger (``bp``) from the unit x category counts ``C`` (rows standing for
    ``w`` units each when given).

    p_o = mean over units with r_i >= 2 of sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)),
    with r*_ik = sum_l w_kl r_il. Chance agreement: Fleiss sum_kl w_kl pi_k pi_l;
    AC sum(w)/(q(q-1)) sum_k pi_k (1 - pi_k); BP sum(w)/q^2; pi_k = mean_i r_ik / r_i.
    """
    rows, q = C.shape
    w = _mult(w, rows)
    n = _count(w)
    r, m2, pa_i = agreement_terms(C, W)
    n2 = _count(w[m2])
    if n2 == 0:
        return _nan(n)
    pa = float((w * pa_i)[m2].sum() / n2)
    pi = (w[:, None] * (C / r[:, None])).sum(axis=0) / n
    tw = float(W.sum())
    if kind == "pa":
        x = (n / n2) * pa_i
        return Estimate(pa, pa, 0.0, _variance(x, pa, n, f, two_rater_table, w), n, n)
    if kind == "fleiss":
        pe = float(pi @ W @ pi)
        pe_i = C @ ((W @ pi + W.T @ pi) / 2.0) / r
    elif kind == "ac":
        if q < 2:
            pe = 0.0
            pe_i = np.zeros(rows)
        else:
            c = tw / (q * (q - 1))
            pe = float(c * np.sum(pi * (1 - pi)))
            pe_i = c * (C @ (1 - pi)) / r
    elif kind == "bp":
        pe = tw / q**2
        pe_i = None
    else:  # pragma: no cover - internal misuse
        raise ValueError(kind)
    if not pe < 1.0 - 1e-12:
        return Estimate(float("nan"), pa, pe, None, n, n)
    coef = (pa - pe) / (1.0 - pe)
    x = (n / n2) * (pa_i - pe * m2) / (1.0 - pe)
    if pe_i is not None:
        x = x - 2.0 * (1.0 - coef) * (pe_i - pe) / (1.0 - pe)
    return Estimate(float(coef), pa, pe, _variance(x, coef, n, f, two_rater_table, w), n, n)


def conger_coefficient(
    M: np.ndarray,
    q: int,
    W: np.ndarray,
    *,
    f: float = 0.0,
    two_rater_table: bool = False,
    w: np.ndarray | None = None,
) -> Estimate:
    """Conger's (1980) kappa from the unit x rater code matrix ``M`` (-1 = missing; rows
    standing for ``w`` units each when given: the distinct rating profiles).

    Chance agreement sum_kl w_kl (pbar_k pbar_l - s2_kl / r) with p_gk rater g's
    category proportions; variance per Gwet (2014, §5.4), vectorised.
    With two raters this is Cohen's (1960/1968) kappa.
    """
    rows, r = M.shape
    w = _mult(w, rows)
    n = _count(w)
    rated = M >= 0
    C = np.zeros((rows, q))
    uu, gg = np.nonzero(rated)
    np.add.at(C, (uu, M[uu, gg]), 1.0)
    rr, m2, pa_i = agreement_terms(C, W)
    n2 = _count(w[m2])
    if n2 == 0 or r < 2:
        return _nan(n)
    pa = float((w * pa_i)[m2].sum() / n2)
    classif = np.zeros((r, q))
    np.add.at(classif, (gg, M[uu, gg]), w[uu])
    ng = classif.sum(axis=1)
    pgk = classif / ng[:, None]
    pbar = pgk.mean(axis=0)
    s2 = (pgk.T @ pgk - r * np.outer(pbar, pbar)) / (r - 1)
    pe = float(np.sum(W * (np.outer(pbar, pbar) - s2 / r)))
    if not pe < 1.0 - 1e-12:
        return Estimate(float("nan"), pa, pe, None, n, n)
    coef = (pa - pe) / (1.0 - pe)
    B = (n / ng)[:, None] * (r * pbar[None, :] - pgk)  # r x q
    BW = B @ W  # r x q
    Cg = np.einsum("gk,gk->g", pgk @ W.T, B)  # r
    eps = rated.astype(np.float64)
    codes = np.where(rated, M, 0)
    term = eps * BW[np.arange(r)[None, :], codes] - (eps - (ng / n)[None, :]) * Cg[None, :]
    pe_i = term.sum(axis=1) / (r * (r - 1))
    x = (n / n2) * (pa_i - pe * m2) / (1.0 - pe)
    x = x - 2.0 * (1.0 - coef) * (pe_i - pe) / (1.0 - pe)
    return Estimate(float(coef), pa, pe, _variance(x, coef, n, f, two_rater_table, w), n, n)


def coincidences(C: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's coincidence matrix o_ck from pairable units (m_u >= 2)."""
    m = C.sum(axis=1)
    keep = m >= 2
    C2 = C[keep]
    scaled = C2 / (m[keep] - 1.0)[:, None]
    if w is not None:
        scaled = scaled * np.asarray(w, dtype=np.float64)[keep][:, None]
    o = scaled.T @ C2
    o[np.diag_indices_from(o)] -= scaled.sum(axis=0)
    return o


def alpha_value(C: np.ndarray, delta2: np.ndarray, w: np.ndarray | None = None) -> float:
    """alpha = 1 - (n.. - 1) sum o_ck d_ck / sum n_c n_k d_ck (Krippendorff 2011)."""
    o = coincidences(C, w)
    n_c = o.sum(axis=1)
    n_tot = n_c.sum()
    d_e = float(n_c @ delta2 @ n_c)
    if n_tot <= 1 or d_e <= 0:
        return float("nan")
    return float(1.0 - (n_tot - 1.0) * float(np.sum(o * delta2)) / d_e)


def alpha_gwet(
    C: np.ndarray,
    W: np.ndarray,
    *,
    f: float = 0.0,
    two_rater_table: bool = False,
    w: np.ndarray | None = None,
) -> Estimate:
    """Krippendorff's alpha in Gwet's (2014, §5.5) form with its variance (R irrCAC
    ``krippen.alpha.raw``): p_a = (1-eps) p'_a + eps, eps = 1/sum r_i over pairable units."""
    w = _mult(w, C.shape[0])
    n0 = _count(w)
    r_all = C.sum(axis=1)
    keep = r_all >= 2
    C2 = C[keep]
    wk = w[keep]
    n = _count(wk)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), None, n, n0)
    r = r_all[keep]
    wr = float((wk * r).sum())
    rbar = wr / n
    eps = 1.0 / wr
    sumq = np.einsum("ik,ik->i", C2, C2 @ W.T - 1.0)
    pa_p = float(np.sum(wk * (sumq / (rbar * (r - 1.0)))) / n)
    pa = (1.0 - eps) * pa_p + eps
    pi = (wk[:, None] * C2).sum(axis=0) / (n * rbar)
    pe = float(pi @ W @ pi)
    if not pe < 1.0 - 1e-12:
        return Estimate(float("nan"), pa, pe, None, n, n0)
    coef = (pa - pe) / (1.0 - pe)
    coef_p = (pa_p - pe) / (1.0 - pe)
    pa_i = sumq / (rbar * (r - 1.0)) - pa_p * (r - rbar) / rbar
    k_i = (pa_i - pe) / (1.0 - pe)
    piw = (W @ pi + W.T @ pi) / 2.0
    pe_i = (C2 @ piw) / rbar - pe * (r - rbar) / rbar
    x = k_i - 2.0 * (1.0 - coef_p) * (pe_i - pe) / (1.0 - pe)
    var = _variance(x, coef_p, n, f, two_rater_table, wk)
    return Estimate(float(coef), pa, pe, var, n, n0)


def cohen_h0_se(table: np.ndarray, W: np.ndarray) -> float | None:
    """SE of (weighted) kappa under H0: kappa = 0 (Fleiss, Cohen & Everitt 1969)."""
    n = table.sum()
    if n <= 0:
        return None
    p = table / n
    pr, pc = p.sum(axis=1), p.sum(axis=0)
    pe = float(pr @ W @ pc)
    if not pe < 1:
        return None
    wr = W @ pc  # wbar_i.
    wc = pr @ W  # wbar_.j
    inner = np.outer(pr, pc) * (W - (wr[:, None] + wc[None, :])) ** 2
    v = (float(inner.sum()) - pe**2) / (n * (1 - pe) ** 2)
    return float(np.sqrt(v)) if v >= 0 else None


def fleiss_h0_se(C: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """SE of Fleiss' kappa under H0 for m ratings per unit (Fleiss, Nee & Landis 1979)."""
    m = C.sum(axis=1)
    if len(m) == 0 or not np.all(m == m[0]) or m[0] < 2:
        return None
    w = _mult(w, len(m))
    n, mm = _count(w), float(m[0])
    p = (w[:, None] * C).sum(axis=0) / (n * mm)
    pq = p * (1 - p)
    s = float(pq.sum())
    if s <= 0:
        return None
    v = 2.0 / (n * mm * (mm - 1)) * (s**2 - float(np.sum(pq * (1 - 2 * p)))) / s**2
    return float(np.sqrt(v)) if v >= 0 else None
