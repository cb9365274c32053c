"""Many-facet Rasch measures: case × assessor × item, rating scale or partial credit, by JMLE.

Owns :func:`rasch_measures` and :class:`RaschMeasures`: measures with standard errors,
infit/outfit mean squares and standardised fit, fair averages, separation and reliability
per facet, category thresholds and the assessor × item bias table. Methods: docs/raters.md.

The model (Linacre 1989, *Many-Facet Rasch Measurement*)::

    log(P_nijk / P_nij(k-1)) = B_n - D_i - C_j - F_k        (rating scale: F per scale)
    log(P_nijk / P_nij(k-1)) = B_n - D_i - C_j - F_ik       (partial credit: F per item)

``B`` the case's ability, ``D`` the item's difficulty, ``C`` the assessor's severity
(higher = more severe), ``F`` the Rasch-Andrich thresholds. Estimated by joint maximum
likelihood (JMLE), as FACETS does: every element a parameter, Newton–Raphson steps for all
of them from the same expected values each round, assessors and items centred at 0.

>>> from calibrate.frameworks import load_framework
>>> from calibrate.devtools.simulate import simulate
>>> fw = load_framework("han-wpl2-2025")
>>> res = rasch_measures(simulate(fw).scores)
>>> res.raters.sort_values("measure")["element"].iloc[0]   # the most lenient assessor
'B03'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.raters._door import code_judgements

__all__ = ["RaschMeasures", "rasch_measures", "FACETS"]

#: The facets, in output order.
FACETS = ("case", "rater", "item")
#: Kinds analysed by default: the ratings themselves (verdicts and decisions are
#: conclusions drawn from them; their cut-off is :func:`calibrate.raters.implicit_cutoffs`).
DEFAULT_KINDS = ("indicator", "level", "phase")
#: Floor on a rating's model variance in the outfit's standardisation (Winsteps' convention:
#: a variance whose square is below 1e-5 counts as sqrt(1e-5)).
_V_FLOOR = float(np.sqrt(1e-5))


@dataclass(frozen=True, eq=False)
class RaschMeasures:
    """Result of :func:`rasch_measures`.

    Attributes
    ----------
    facets
        One row per element: ``facet`` (case, rater, item), ``element``, ``measure``
        (logits: case ability, rater severity, item difficulty), ``se`` (model standard
        error), ``infit``, ``infit_zstd``, ``outfit``, ``outfit_zstd``, ``n``,
        ``observed_average`` and ``fair_average`` (in scale positions, lowest = 1),
        ``status`` (``measured``, ``extreme_min``, ``extreme_max``), ``anchored``,
        ``displacement`` (FACETS/Winsteps: the change one more estimation step would make,
        (observed − expected score) / information in the element's direction; about 0 for
        a converged free element, informative for an anchored one).
    thresholds
        One row per (scale, category): ``scale`` (kind or item), ``category``,
        ``position`` (1-based on the item's codes), ``count``, ``threshold`` (Rasch-Andrich
        F_k; NA for the lowest category).
    summary
        One row per facet: ``facet, n, mean, sd, rmse, adj_sd, separation, strata,
        reliability`` (population SD, "Model, Populn" in FACETS), ``sample_sd,
        sample_separation, sample_reliability``, ``chi2, df, p`` (fixed: all the same).
    bias
        One row per (rater, item) cell: ``rater, item, n, observed, expected,
        obs_minus_exp`` (average score points), ``bias`` (logits; > 0: the rater gives
        this item higher ratings than their severity and its difficulty predict), ``se,
        t, df, p, status``.
    """

    facets: pd.DataFrame
    thresholds: pd.DataFrame
    summary: pd.DataFrame
    bias: pd.DataFrame
    model: str
    n_iter: int
    converged: bool
    log_likelihood: float
    n_observations: int

    @property
    def raters(self) -> pd.DataFrame:
        return self.facets[self.facets["facet"] == "rater"].reset_index(drop=True)

    @property
    def cases(self) -> pd.DataFrame:
        return self.facets[self.facets["facet"] == "case"].reset_index(drop=True)

    @property
    def items(self) -> pd.DataFrame:
        return self.facets[self.facets["facet"] == "item"].reset_index(drop=True)


# ============================================================================ the model
class _Design:
    """Coded observations of the model, sorted by scale group (each group one slice):
    element indices, scale group and score 0..m_g."""

    def __init__(self, case, rater, item, group, x, n_case, n_rater, n_item, m, item_group, pcm):
        self.case, self.rater, self.item, self.group, self.x = case, rater, item, group, x
        self.n = (n_case, n_rater, n_item)
        self.m = m  # highest score per group
        self.item_group = item_group  # group of each item
        self.pcm = pcm
        bounds = np.searchsorted(group, np.arange(len(m) + 1))
        if (np.diff(group) < 0).any():  # pragma: no cover - callers sort
            raise ValueError("observations must be sorted by group")
        self.slices = [slice(int(bounds[g]), int(bounds[g + 1])) for g in range(len(m))]
        self.off = np.concatenate([[0], np.cumsum(self.n)])  # element offsets: case, rater, item

    def element_index(self) -> list[np.ndarray]:
        return [self.case, self.off[1] + self.rater, self.off[2] + self.item]

    def take(self, mask: np.ndarray) -> "_Design":
        return _Design(self.case[mask], self.rater[mask], self.item[mask], self.group[mask], self.x[mask],
                       *self.n, self.m, self.item_group, self.pcm)


def _probs(eta: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Category probabilities (n x (m+1)) for logits ``eta`` (n) and thresholds ``F`` (m,):
    P_k ∝ exp(k eta - sum_{h<=k} F_h)."""
    m = F.shape[-1]
    k = np.arange(m + 1, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(F)])
    L = eta[:, None] * k[None, :] - cum[None, :]
    L -= L.max(axis=1, keepdims=True)
    np.exp(L, out=L)
    L /= L.sum(axis=1, keepdims=True)
    return L


def _poly_moments(eta: np.ndarray, F: np.ndarray, want_ge: bool, E: np.ndarray, V: np.ndarray):
    """Expected score and variance (written into ``E`` and ``V``) and, with ``want_ge``,
    the sums over the ratings of P(X >= k) and of its variance, for logits ``eta`` and
    thresholds ``F``, without the n x (m+1) probability table: the categories are the
    rows of one (m+1) x n array, so every sum over the categories runs along whole rows."""
    m = F.shape[-1]
    cum = np.concatenate([[0.0], np.cumsum(F)])
    L = np.empty((m + 1, eta.size))
    for k in range(m + 1):
        np.multiply(eta, float(k), out=L[k])
        L[k] -= cum[k]
    L -= L.max(axis=0)
    np.exp(L, out=L)
    S = L.sum(axis=0)
    k = np.arange(m + 1, dtype=float)
    np.divide(k @ L, S, out=E)
    np.divide((k * k) @ L, S, out=V)
    V -= E * E
    if not want_ge:
        return None, None
    ge_sum, ge_var = np.empty(m), np.empty(m)
    tail = L[m].copy()  # sum of the unnormalised probabilities of categories >= k
    for c in range(m, 0, -1):
        if c < m:
            tail += L[c]
        p = tail / S
        ge_sum[c - 1] = p.sum()
        p *= 1.0 - p
        ge_var[c - 1] = p.sum()
    return ge_sum, ge_var


class _Moments:
    """Expected score ``E``, variance ``V`` (and on request the fourth central moment ``K4``,
    the category probabilities ``P`` and, per group, the sums of P(X >= k) and of their
    variances) of every observation under the current measures."""

    def __init__(self, d: _Design, B, C, D, F: list[np.ndarray], eta_shift=None, want=("E", "V")):
        n = d.x.size
        eta = B[d.case]
        eta -= D[d.item]
        eta -= C[d.rater]
        if eta_shift is not None:
            eta += eta_shift
        self.E = np.empty(n)
        self.V = np.empty(n)
        self.K4 = np.empty(n) if "K4" in want else None
        self.ge_sum = [None] * len(d.m)
        self.ge_var = [None] * len(d.m)
        self.P = [None] * len(d.m)
        for g, sl in enumerate(d.slices):
            if sl.stop == sl.start:
                continue
            if d.m[g] == 1 and "P" not in want:  # dichotomy: P(1) = logistic(eta - F)
                t = self.E[sl]
                np.subtract(F[g][0], eta[sl], out=t)
                np.exp(t, out=t)
                t += 1.0
                np.reciprocal(t, out=t)
                v = self.V[sl]
                np.subtract(1.0, t, out=v)
                v *= t
                if self.K4 is not None:
                    self.K4[sl] = v * (1.0 - 3.0 * v)
                if "ge" in want:
                    self.ge_sum[g] = np.array([t.sum()])
                    self.ge_var[g] = np.array([v.sum()])
                continue
            if "P" not in want and "K4" not in want:  # the estimation rounds: moments only
                self.ge_sum[g], self.ge_var[g] = _poly_moments(eta[sl], F[g], "ge" in want, self.E[sl], self.V[sl])
                continue
            P = _probs(eta[sl], F[g])
            k = np.arange(P.shape[1], dtype=float)
            E = P @ k
            self.E[sl] = E
            self.V[sl] = P @ (k * k) - E * E
            if self.K4 is not None:
                self.K4[sl] = ((k[None, :] - E[:, None]) ** 4 * P).sum(axis=1)
            if "ge" in want:
                ge = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]
                self.ge_sum[g] = ge.sum(axis=0)
                self.ge_var[g] = (ge * (1.0 - ge)).sum(axis=0)
            if "P" in want:
                self.P[g] = P


def _extremes(d: _Design, active: np.ndarray) -> np.ndarray:
    """Elements (over the three facets' offset index) whose active observations are all at
    the bottom or all at the top of their scales; -1 bottom, +1 top, 0 otherwise."""
    tot = int(d.off[-1])
    mx = d.m[d.group]
    status = np.zeros(tot, dtype=np.int64)
    for idx in d.element_index():
        e = idx[active]
        cnt = np.bincount(e, minlength=tot)
        at_min = np.bincount(e, weights=(d.x[active] == 0).astype(float), minlength=tot)
        at_max = np.bincount(e, weights=(d.x[active] == mx[active]).astype(float), minlength=tot)
        has = cnt > 0
        status[has & (at_min == cnt)] = -1
        status[has & (at_max == cnt)] = 1
    return status


def _option(func: str, name: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value in allowed:
        return value
    raise InputError(
        f"The {name!r} parameter of {func} must be one of {', '.join(map(repr, allowed))}. Got {value!r} instead."
    )


def rasch_measures(
    scores: pd.DataFrame,
    *,
    model: str = "rating_scale",
    kinds: Iterable[str] | None = DEFAULT_KINDS,
    items: Iterable[str] | None = None,
    framework: Any = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
    extreme: float = 0.3,
    bias: bool = True,
    anchors: Mapping[tuple[str, str], float] | None = None,
) -> RaschMeasures:
    """Many-facet Rasch measures of cases, assessors and items from the score table.

    Parameters
    ----------
    scores
        The score table (CONTRACTS §1); a case is its ``case`` id (the same case in two
        sessions is one element), an item its ``item`` id.
    model
        ``"rating_scale"`` (Andrich: one set of thresholds per kind, shared by its items)
        or ``"partial_credit"`` (Masters: thresholds per item).
    kinds, items, framework, categories
        Which judgements, and where each item's ordered codes come from (as in
        :func:`calibrate.raters.latent_consensus`). Default kinds: indicator, level, phase.
        Categories nobody used are left out of the scale and the others renumbered in
        order (FACETS' ordinal treatment); averages are reported on the codes' positions.
    max_iter, tol
        JMLE stops when no measure or threshold moves more than ``tol`` logits.
    extreme
        Elements with all their ratings at the bottom (top) of the scale have no finite
        estimate; they are estimated after the others from their score moved ``extreme``
        score points inwards (FACETS' and Winsteps' 0.3), and marked in ``status``.
    bias
        Also estimate the assessor × item bias table.
    anchors
        Measures held fixed (FACETS' and Winsteps' anchor values): ``{(facet, element):
        logits}`` with facet ``"case"``, ``"rater"`` or ``"item"``. A facet with an anchored
        element is not centred. With every element anchored the result is the statistics
        (SE, fit, displacement) of those measures on these data.

    Returns
    -------
    RaschMeasures

    Notes
    -----
    **Estimation.** JMLE (joint maximum likelihood), as FACETS: the natural choice for
    reproducing FACETS output and for a design with few, fixed assessors, where MML's
    normal population for cases adds an assumption a kalibreersessie (few cases, chosen
    on purpose) does not meet. Each round computes the expected score ``E`` and variance
    ``V`` of every rating from the current measures, then moves every element by
    (observed − expected score) / information (at most 1 logit), and every threshold by
    the Newton step on its category count. Assessors and items are centred at 0, cases
    float, thresholds sum to 0 per scale. JMLE estimates are known to be somewhat too
    spread out with few ratings per element (Wright & Douglas 1977); we report them
    uncorrected, as FACETS does.

    **Standard errors and fit** (Wright & Masters 1982): ``se = 1 / sqrt(sum V)``;
    standardised residual ``z = (x - E) / sqrt(V)``; outfit = mean of ``z²``, infit =
    ``sum (x - E)² / sum V``; ZStd by the Wilson–Hilferty cube root with the model variance
    of the mean square (``sum (K4 / V²) / n² - 1 / n`` for outfit, ``sum (K4 - V²) /
    (sum V)²`` for infit, ``K4`` the fourth central moment), its square root ``q`` capped at
    √2 (at least one degree of freedom) and ``V`` floored at √1e-5 in the outfit's, as
    Winsteps; checked against its published Knox Cube output. The SE and fit of a measured
    element use the ratings used in estimation; an extreme element is measured from its
    ratings shared with measured elements.

    **Fair average** (FACETS "Fair-M"): the expected rating of an element when every
    other facet is at its mean measure, averaged over the element's own scales; on the
    scale's positions (lowest = 1).

    **Separation and reliability**: ``RMSE = sqrt(mean se²)``, ``adj_sd = sqrt(sd² -
    RMSE²)``, separation ``adj_sd / RMSE``, strata ``(4 G + 1) / 3``, reliability
    ``adj_sd² / sd²``; the fixed chi-square tests "all elements the same" with weights
    ``1 / se²``. Extreme elements are left out of these summaries.

    **Bias** (FACETS Table 13): per (assessor, item) cell, the logit shift that makes the
    cell's expected score equal its observed score, everything else held at its estimate;
    ``t = bias / se`` on ``n - 1`` degrees of freedom.
    """
    func = "rasch_measures"
    _option(func, "model", model, ("rating_scale", "partial_credit"))
    if not (0 < float(extreme) < 1):
        raise InputError(f"The 'extreme' parameter of {func} must be between 0 and 1. Got {extreme!r} instead.")
    J = code_judgements(scores, func=func, kinds=kinds, items=items, framework=framework, categories=categories)
    pcm = model == "partial_credit"
    items_df = J.items
    # scale groups: kind (rating scale) or item (partial credit); observed categories renumbered
    if pcm:
        group_of_item = np.arange(len(items_df))
        group_names = list(items_df["item"])
    else:
        kinds_u = sorted(set(zip(items_df["kind"], items_df["codes"].map(tuple))))
        key = list(zip(items_df["kind"], items_df["codes"].map(tuple)))
        group_of_item = np.array([kinds_u.index(k) for k in key])
        names_kind = [k for k, _ in kinds_u]
        group_names = [k if names_kind.count(k) == 1 else f"{k}:{'/'.join(c)}" for k, c in kinds_u]
    G = len(group_names)
    group = group_of_item[J.item]
    # observed positions per group, renumbered 0..m_g
    x = np.empty(J.n, dtype=np.int64)
    orig_pos: list[np.ndarray] = []
    m = np.zeros(G, dtype=np.int64)
    for g in range(G):
        idx = np.flatnonzero(group == g)
        used = np.unique(J.value[idx])
        if used.size < 2:
            what = group_names[g]
            raise InputError(
                f"{func}: every rating of {what!r} is the same category ({used.size} category used); "
                "a Rasch scale needs at least two.",
                hint="Leave this kind or item out (kinds=, items=) or collect more varied ratings.",
            )
        x[idx] = np.searchsorted(used, J.value[idx])
        orig_pos.append(used + 1)
        m[g] = used.size - 1
    order = np.argsort(group, kind="stable")  # each scale group one contiguous slice
    d = _Design(J.case[order], J.rater[order], J.item[order], group[order], x[order],
                len(J.cases), len(J.raters), len(items_df), m, group_of_item, pcm)
    nC, nR, nI = d.n
    labels = [J.cases.to_numpy(), J.raters.to_numpy(), items_df["item"].to_numpy()]
    anchored = [np.zeros(n_, bool) for n_ in d.n]
    anchor_val = [np.zeros(n_) for n_ in d.n]
    for (facet_name, element), value in (anchors or {}).items():
        if facet_name not in FACETS:
            raise InputError(f"{func}: anchor facet {facet_name!r} is not one of {', '.join(FACETS)}.",
                             hint="Anchors are {(facet, element): logits}, e.g. {('rater', 'B03'): -0.5}.")
        f_ = FACETS.index(facet_name)
        where = np.flatnonzero(labels[f_].astype(str) == str(element))
        if where.size == 0:
            raise InputError(f"{func}: anchored {facet_name} {element!r} has no ratings in the score table.",
                             hint="Anchor only elements that occur in the judgements analysed (kinds=, items=).")
        if not np.isfinite(float(value)):
            raise InputError(f"{func}: the anchor of {facet_name} {element!r} must be a finite number of logits, got {value!r}.")
        anchored[f_][where] = True
        anchor_val[f_][where] = float(value)

    # ------------------------------------------------------------ extremes, then JMLE
    active = np.ones(J.n, bool)
    status = np.zeros(int(d.off[-1]), dtype=np.int64)
    for _ in range(50):
        st = _extremes(d, active)
        new = (st != 0) & (status == 0)
        if not new.any():
            break
        status[new] = st[new]
        for idx in d.element_index():
            active &= status[idx] == 0
    if not active.any():
        raise InputError(f"{func}: every case, assessor or item has an extreme score; nothing to estimate.",
                         hint="The ratings need variation within cases and within assessors.")
    da = d.take(active)
    B, C, D = (np.where(anchored[f_], anchor_val[f_], 0.0) for f_ in range(3))
    F = []
    for g in range(G):
        cnt = np.bincount(da.x[da.group == g], minlength=m[g] + 1).astype(float) + 0.5
        f = np.log(cnt[:-1] / cnt[1:])
        F.append(f - f.mean())
    meas_c = status[: nC] == 0
    meas_r = status[nC: nC + nR] == 0
    meas_i = status[nC + nR:] == 0
    n_iter, converged = 0, False
    xa = da.x.astype(float)
    # observed counts of X >= k per group: constant through the iterations
    n_ge = [(np.bincount(da.x[sl], minlength=m[g] + 1)[::-1].cumsum()[::-1][1:]).astype(float)
            for g, sl in enumerate(da.slices)]
    for n_iter in range(1, int(max_iter) + 1):
        mo = _Moments(da, B, C, D, F, want=("E", "V", "ge"))
        res = xa - mo.E
        rc = np.bincount(da.case, weights=res, minlength=nC)
        ic = np.bincount(da.case, weights=mo.V, minlength=nC)
        rr = np.bincount(da.rater, weights=res, minlength=nR)
        ir = np.bincount(da.rater, weights=mo.V, minlength=nR)
        ri = np.bincount(da.item, weights=res, minlength=nI)
        ii = np.bincount(da.item, weights=mo.V, minlength=nI)
        with np.errstate(invalid="ignore", divide="ignore"):
            dB = np.clip(np.where(ic > 0, rc / ic, 0.0), -1, 1)
            dC = np.clip(np.where(ir > 0, -rr / ir, 0.0), -1, 1)
            dD = np.clip(np.where(ii > 0, -ri / ii, 0.0), -1, 1)
        dB[anchored[0]] = 0.0
        dC[anchored[1]] = 0.0
        dD[anchored[2]] = 0.0
        B += dB
        C += dC
        D += dD
        if not anchored[1].any():
            C[meas_r] -= C[meas_r].mean()
        if not anchored[2].any():
            D[meas_i] -= D[meas_i].mean()
        big = max(np.abs(dB).max(initial=0), np.abs(dC).max(initial=0), np.abs(dD).max(initial=0))
        for g in range(G):
            num = mo.ge_sum[g] - n_ge[g]
            step = np.clip(num / np.maximum(mo.ge_var[g], 1e-300), -1, 1)
            F[g] = F[g] + step
            F[g] -= F[g].mean()
            big = max(big, float(np.abs(step).max()))
        if big < tol:
            converged = True
            break

    # ------------------------------------------------------------ extreme elements
    def solve_one(facet: int, el: int, target_shift: float):
        """Measure of one extreme element from its score moved inwards, others fixed."""
        idx = d.element_index()
        sel = idx[facet] == d.off[facet] + el
        # against the measured elements only (Winsteps): ratings shared with another extreme
        # element carry no information on this one's place among the measured ones
        with_measured = sel & np.logical_and.reduce([status[idx[o]] == 0 for o in range(3) if o != facet])
        sub = d.take(with_measured if with_measured.any() else sel)
        target = float(sub.x.sum()) + target_shift
        val = 0.0
        sign = 1.0 if facet == 0 else -1.0  # case: ability; rater/item: severity/difficulty
        vec = [B, C, D][facet]
        for _ in range(200):
            vec[el] = val
            mo = _Moments(sub, B, C, D, F)
            r = target - mo.E.sum()
            info = mo.V.sum()
            step = float(np.clip(sign * r / max(info, 1e-12), -1, 1))
            val += step
            if abs(step) < tol:
                break
        vec[el] = val

    for e in np.flatnonzero(status != 0):
        facet = int(np.searchsorted(d.off, e, side="right") - 1)
        el = int(e - d.off[facet])
        if anchored[facet][el]:
            continue
        solve_one(facet, el, -extreme if status[e] > 0 else extreme)

    # ------------------------------------------------------------ statistics
    mo = _Moments(d, B, C, D, F, want=("E", "V", "K4", "P"))
    xf = d.x.astype(float)
    resid = xf - mo.E
    ll = 0.0
    for g, sl in enumerate(d.slices):
        if sl.stop > sl.start:
            ll += float(np.log(np.maximum(mo.P[g][np.arange(sl.stop - sl.start), d.x[sl]], 1e-300))[active[sl]].sum())
    mean_B = float(B[meas_c].mean()) if meas_c.any() else 0.0
    mean_C = float(C[meas_r].mean()) if meas_r.any() else 0.0
    mean_D = float(D[meas_i].mean()) if meas_i.any() else 0.0
    pos_val = [orig_pos[g].astype(float) for g in range(G)]
    obs_val = np.empty(J.n)
    for g, sl in enumerate(d.slices):
        obs_val[sl] = pos_val[g][d.x[sl]]

    def fair(facet: int) -> np.ndarray:
        """Expected rating at the element's measure, the other facets at their means,
        averaged over the element's own ratings' scales: per (element, scale), not per rating."""
        others = {0: mean_B, 1: mean_C, 2: mean_D}
        own = [B, C, D][facet]
        base = others[0] * (facet != 0) - others[2] * (facet != 2) - others[1] * (facet != 1)
        sign = 1.0 if facet == 0 else -1.0
        eta_el = base + sign * own  # per element
        el = d.element_index()[facet] - d.off[facet]
        n_el = d.n[facet]
        cnt = np.bincount(el * G + d.group, minlength=n_el * G).reshape(n_el, G).astype(float)
        ev = np.zeros((n_el, G))
        for g in range(G):
            ev[:, g] = _probs(eta_el, F[g]) @ pos_val[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (cnt * ev).sum(axis=1) / cnt.sum(axis=1)

    rows = []
    V, K4 = mo.V, mo.K4
    z2 = resid**2 / np.maximum(V, 1e-300)
    fit_ok = active  # fit on the observations used in estimation
    err = np.seterr(invalid="ignore", divide="ignore")  # elements without fit observations give NaN
    for facet, name in enumerate(FACETS):
        el = d.element_index()[facet] - d.off[facet]
        n_el = d.n[facet]
        cnt = np.bincount(el, minlength=n_el)
        st = status[d.off[facet]: d.off[facet + 1]]
        measured = st == 0
        # information of the ratings shared with measured elements of the other facets: those
        # used in estimation (for an extreme element: those its measure was solved from)
        idx = d.element_index()
        shared = np.logical_and.reduce([status[idx[o]] == 0 for o in range(3) if o != facet])
        info = np.bincount(el[shared], weights=V[shared], minlength=n_el)
        info = np.where(info > 0, info, np.bincount(el, weights=V, minlength=n_el))
        se = 1.0 / np.sqrt(np.maximum(info, 1e-300))
        e_fit, w_fit = el[fit_ok], fit_ok
        nf = np.bincount(e_fit, minlength=n_el).astype(float)
        out_ms = np.bincount(e_fit, weights=z2[w_fit], minlength=n_el) / np.maximum(nf, 1)
        sumV = np.bincount(e_fit, weights=V[w_fit], minlength=n_el)
        in_ms = np.bincount(e_fit, weights=(resid**2)[w_fit], minlength=n_el) / np.maximum(sumV, 1e-300)
        # the outfit's dispersion with the model variance floored at sqrt(1e-5), as Winsteps
        # (its published Knox Cube output; tests/raters/test_rasch_published.py)
        q_out2 = np.bincount(e_fit, weights=(K4 / np.maximum(V, _V_FLOOR) ** 2)[w_fit], minlength=n_el) / np.maximum(nf, 1) ** 2 - 1 / np.maximum(nf, 1)
        q_in2 = np.bincount(e_fit, weights=(K4 - V**2)[w_fit], minlength=n_el) / np.maximum(sumV, 1e-300) ** 2
        # at least 1 degree of freedom (2 / q²): q <= sqrt(2), as Winsteps and FACETS
        q_out = np.minimum(np.sqrt(np.maximum(q_out2, 1e-300)), np.sqrt(2.0))
        q_in = np.minimum(np.sqrt(np.maximum(q_in2, 1e-300)), np.sqrt(2.0))
        sign = 1.0 if facet == 0 else -1.0
        disp = sign * np.bincount(e_fit, weights=resid[w_fit], minlength=n_el) / np.maximum(sumV, 1e-300)
        out_z = (np.cbrt(out_ms) - 1) * (3 / q_out) + q_out / 3
        in_z = (np.cbrt(in_ms) - 1) * (3 / q_in) + q_in / 3
        obs_avg = np.bincount(el, weights=obs_val, minlength=n_el) / np.maximum(cnt, 1)
        frame = pd.DataFrame({
            "facet": name, "element": labels[facet], "measure": [B, C, D][facet], "se": se,
            "infit": np.where(measured, in_ms, np.nan), "infit_zstd": np.where(measured, in_z, np.nan),
            "outfit": np.where(measured, out_ms, np.nan), "outfit_zstd": np.where(measured, out_z, np.nan),
            "n": cnt, "observed_average": obs_avg, "fair_average": fair(facet),
            "status": np.where(st == 0, "measured", np.where(st > 0, "extreme_max", "extreme_min")),
            "anchored": anchored[facet], "displacement": np.where(measured, disp, np.nan),
        })
        rows.append(frame)
    np.seterr(**err)
    facets = pd.concat(rows, ignore_index=True)

    # summary per facet (measured elements)
    from scipy import stats

    summ = []
    for name in FACETS:
        f = facets[(facets["facet"] == name) & (facets["status"] == "measured")]
        n = len(f)
        meas, se = f["measure"].to_numpy(), f["se"].to_numpy()
        sd = float(meas.std(ddof=0)) if n else np.nan
        ssd = float(meas.std(ddof=1)) if n > 1 else np.nan
        rmse = float(np.sqrt(np.mean(se**2))) if n else np.nan

        def sep(s):
            adj = np.sqrt(max(s**2 - rmse**2, 0.0)) if np.isfinite(s) else np.nan
            g = adj / rmse if rmse > 0 else np.nan
            rel = adj**2 / s**2 if s > 0 else np.nan
            return adj, g, rel

        adj, g_, rel = sep(sd)
        sadj, sg, srel = sep(ssd)
        w = 1 / se**2
        chi2 = float((w * (meas - (w * meas).sum() / w.sum()) ** 2).sum()) if n > 1 else np.nan
        summ.append({
            "facet": name, "n": n, "mean": float(meas.mean()) if n else np.nan, "sd": sd, "rmse": rmse,
            "adj_sd": adj, "separation": g_, "strata": (4 * g_ + 1) / 3, "reliability": rel,
            "sample_sd": ssd, "sample_separation": sg, "sample_reliability": srel,
            "chi2": chi2, "df": n - 1, "p": float(stats.chi2.sf(chi2, n - 1)) if n > 1 else np.nan,
        })
    summary = pd.DataFrame(summ)

    # thresholds
    trows = []
    for g in range(G):
        cnt = np.bincount(d.x[d.slices[g]], minlength=m[g] + 1)
        codes = items_df["codes"].iloc[int(np.flatnonzero(group_of_item == g)[0])]
        for k in range(m[g] + 1):
            trows.append({
                "scale": group_names[g], "category": codes[orig_pos[g][k] - 1], "position": int(orig_pos[g][k]),
                "count": int(cnt[k]), "threshold": float(F[g][k - 1]) if k > 0 else np.nan,
            })
    thresholds = pd.DataFrame(trows)

    bias_table = _bias_table(d, B, C, D, F, xf, J, items_df, extreme, tol) if bias else pd.DataFrame(
        columns=["rater", "item", "n", "observed", "expected", "obs_minus_exp", "bias", "se", "t", "df", "p", "status"])
    return RaschMeasures(
        facets=facets, thresholds=thresholds, summary=summary, bias=bias_table, model=model,
        n_iter=n_iter, converged=converged, log_likelihood=ll, n_observations=int(J.n),
    )


def _bias_table(d: _Design, B, C, D, F, xf, J, items_df, extreme: float, tol: float) -> pd.DataFrame:
    """Assessor × item bias: per cell the logit shift matching expected to observed score."""
    from scipy import stats

    nR, nI = d.n[1], d.n[2]
    cell = d.rater * nI + d.item
    n_cell = nR * nI
    cnt = np.bincount(cell, minlength=n_cell)
    obs = np.bincount(cell, weights=xf, minlength=n_cell)
    mx = d.m[d.group].astype(float)
    top = np.bincount(cell, weights=mx, minlength=n_cell)
    base = _Moments(d, B, C, D, F)
    exp0 = np.bincount(cell, weights=base.E, minlength=n_cell)
    status = np.where(obs <= 0, "extreme_min", np.where(obs >= top, "extreme_max", "measured"))
    target = np.where(obs <= 0, extreme, np.where(obs >= top, top - extreme, obs))
    b = np.zeros(n_cell)
    for _ in range(200):
        mo = _Moments(d, B, C, D, F, eta_shift=b[cell])
        e = np.bincount(cell, weights=mo.E, minlength=n_cell)
        v = np.bincount(cell, weights=mo.V, minlength=n_cell)
        step = np.clip(np.where(v > 0, (target - e) / np.maximum(v, 1e-300), 0.0), -1, 1)
        b += step
        if np.abs(step[cnt > 0]).max(initial=0) < max(tol, 1e-8):
            break
    mo = _Moments(d, B, C, D, F, eta_shift=b[cell])
    v = np.bincount(cell, weights=mo.V, minlength=n_cell)
    se = 1 / np.sqrt(np.maximum(v, 1e-300))
    keep = np.flatnonzero(cnt > 0)
    df = cnt[keep] - 1
    t = b[keep] / se[keep]
    with np.errstate(invalid="ignore"):
        p = np.where(df > 0, 2 * stats.t.sf(np.abs(t), np.maximum(df, 1)), np.nan)
    out = pd.DataFrame({
        "rater": J.raters.to_numpy()[keep // nI], "item": items_df["item"].to_numpy()[keep % nI], "n": cnt[keep],
        "observed": obs[keep] / cnt[keep], "expected": exp0[keep] / cnt[keep],
        "obs_minus_exp": (obs[keep] - exp0[keep]) / cnt[keep], "bias": b[keep], "se": se[keep], "t": t,
        "df": df, "p": p, "status": status[keep],
    })
    return out.sort_values(["rater", "item"]).reset_index(drop=True)
