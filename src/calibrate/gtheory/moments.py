"""Moment estimators of variance components: balanced ANOVA and Henderson's Method 1.

Owns the T terms (uncorrected sums of squares per effect), Brennan's (2001, §3.4) ANOVA
algorithm for balanced designs (sums of squares, mean squares, expected mean squares,
Satterthwaite intervals) and Henderson's (1953) Method 1, the "analogous ANOVA" of
urGENOVA (Brennan 2001, ch. 7), for unbalanced designs and missing cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.gtheory.design import Design, Effect
from calibrate.gtheory.observations import Observations


class Cells:
    """Cell codes of every effect's index set (and unions of them), computed once."""

    def __init__(self, obs: Observations):
        self.obs = obs
        self._cache: dict[frozenset, tuple[np.ndarray, int]] = {frozenset(): (np.zeros(obs.n, np.int64), 1)}

    def codes(self, index: frozenset) -> tuple[np.ndarray, int]:
        if index not in self._cache:
            facets = [f for f in self.obs.design.facets if f in index]
            # the code of a nested facet already names its nest: drop facets it is nested in
            nest = set().union(*(self.obs.design.within(f) for f in facets))
            facets = [f for f in facets if f not in nest] or facets
            key = np.zeros(self.obs.n, dtype=np.int64)
            size = 1
            for f in facets:
                key = key * self.obs.n_levels(f) + self.obs.codes[f]
                size *= self.obs.n_levels(f)
            if len(facets) > 1 or size > 4 * self.obs.n:
                key, uniq = pd.factorize(key)
                size = len(uniq)
            self._cache[index] = (np.asarray(key, dtype=np.int64), int(size))
        return self._cache[index]

    def counts(self, index: frozenset) -> np.ndarray:
        code, size = self.codes(index)
        return np.bincount(code, minlength=size).astype(np.float64)

    def sums(self, index: frozenset, y: np.ndarray | None = None) -> np.ndarray:
        code, size = self.codes(index)
        return np.bincount(code, weights=self.obs.y if y is None else y, minlength=size)

    def T(self, index: frozenset) -> float:
        n = self.counts(index)
        s = self.sums(index)
        ok = n > 0
        return float(np.sum(s[ok] ** 2 / n[ok]))


def sizes(obs: Observations) -> dict[str, float]:
    """Levels per facet within one level of its nest (the mean when unequal)."""
    cells = Cells(obs)
    out = {}
    for f in obs.design.facets:
        within = obs.design.within(f)
        out[f] = obs.n_levels(f) / (cells.codes(within)[1] if within else 1)
    return out


def is_balanced(obs: Observations, cells: Cells | None = None) -> bool:
    """Every cell of the full design filled exactly once, every nest the same size."""
    cells = cells or Cells(obs)
    n = sizes(obs)
    if not all(float(v).is_integer() for v in n.values()):
        return False
    if not np.isclose(np.prod(list(n.values())), obs.n):
        return False
    for e in obs.design.effects:
        c = cells.counts(e.index)
        if c.min() != c.max():
            return False
    return cells.counts(obs.design.effects[-1].index).max() == 1


@dataclass(frozen=True)
class MomentFit:
    """Raw output of a moment estimator (one entry per effect, in design order)."""

    estimate: np.ndarray
    T: np.ndarray
    df: np.ndarray | None = None
    ss: np.ndarray | None = None
    ms: np.ndarray | None = None
    coef: np.ndarray | None = None  # sigma = coef @ ms (balanced)
    grand_mean: float = float("nan")
    loglik: float | None = None  # REML log-likelihood


def _pi(design: Design, n: dict, facets) -> float:
    return float(np.prod([n[f] for f in facets])) if facets else 1.0


def anova(obs: Observations, cells: Cells | None = None) -> MomentFit:
    """Brennan's (2001, §3.4) algorithm for a balanced design.

    T(α) = Σ over α's cells of (cell sum)² / (cell size); SS(α) = Σ (−1)^(|α|−|β|) T(β)
    over the β between α's nesting indices and α; df(α) = Π(n−1) over primary × Π n over
    nesting indices; E MS(α) = Σ_{β ⊇ α} π(β̄) σ²(β) solved from the residual upwards.
    Negative estimates are kept here (the caller zeroes them for reporting and D-studies
    and uses the raw values in the other equations, as Brennan 2001, §3.4.4, recommends).
    """
    cells = cells or Cells(obs)
    d = obs.design
    n = sizes(obs)
    effects = d.effects
    E = len(effects)
    T = np.array([cells.T(e.index) for e in effects])
    T0 = float(obs.y.sum() ** 2 / obs.n)
    Tmap = {frozenset(): T0, **{e.index: t for e, t in zip(effects, T)}}
    ss = np.empty(E)
    df = np.empty(E)
    for k, e in enumerate(effects):
        base = frozenset(e.nesting)
        free = [f for f in e.index if f not in base]
        total = 0.0
        for size in range(len(free) + 1):
            for drop in _combos(free, size):
                b = e.index - frozenset(drop)
                if b in Tmap:
                    total += (-1) ** size * Tmap[b]
        ss[k] = total
        df[k] = np.prod([n[f] - 1 for f in e.primary]) * np.prod([n[f] for f in e.nesting])
    ms = ss / df
    # expected mean squares: A[a, b] = pi(b-bar) when b ⊇ a
    A = np.zeros((E, E))
    for a, ea in enumerate(effects):
        for b, eb in enumerate(effects):
            if ea.index <= eb.index:
                A[a, b] = _pi(d, n, [f for f in d.facets if f not in eb.index])
    coef = np.linalg.inv(A)
    est = coef @ ms
    return MomentFit(estimate=est, T=T, df=df, ss=ss, ms=ms, coef=coef, grand_mean=float(obs.y.mean()))


def _combos(items, size):
    import itertools

    return itertools.combinations(items, size)


def henderson1(obs: Observations, cells: Cells | None = None) -> MomentFit:
    """Henderson's (1953) Method 1 ("analogous ANOVA", Brennan 2001, §7.1; urGENOVA).

    E T(α) = N μ² + Σ_β k(α, β) σ²(β) with k(α, β) = Σ over the cells u of α ∪ β of
    n_u² / n_(α-cell of u); the T equations (and the one for the grand mean) are solved
    for μ² and the components. Equals the ANOVA estimates on balanced data.
    """
    cells = cells or Cells(obs)
    K = henderson_matrix(obs, cells)
    sets = [e.index for e in obs.design.effects]
    T = np.array([obs.y.sum() ** 2 / obs.n, *[cells.T(s) for s in sets]])
    sol = np.linalg.solve(K, T)
    return MomentFit(estimate=sol[1:], T=T[1:], grand_mean=float(obs.y.mean()))


def henderson_matrix(obs: Observations, cells: Cells) -> np.ndarray:
    """The coefficients of E T = K (μ², σ²...) (rows and columns: grand mean, then effects)."""
    sets = [frozenset(), *[e.index for e in obs.design.effects]]
    m = len(sets)
    K = np.zeros((m, m))
    for a, sa in enumerate(sets):
        ca, _ = cells.codes(sa)
        na = cells.counts(sa)
        for b, sb in enumerate(sets):
            if b == 0:
                K[a, b] = obs.n
                continue
            cu, su = cells.codes(sa | sb)
            nu = np.bincount(cu, minlength=su).astype(np.float64)
            a_of_u = np.zeros(su, dtype=np.int64)
            a_of_u[cu] = ca
            ok = nu > 0
            K[a, b] = float(np.sum(nu[ok] ** 2 / na[a_of_u[ok]]))
    return K


def satterthwaite(fit: MomentFit, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Satterthwaite (1946) intervals for balanced ANOVA estimates (Brennan 2001, §6.1.2).

    σ̂²(α) = Σ a_β MS(β) with effective df ν = (Σ a_β MS_β)² / Σ (a_β MS_β)² / df_β; the
    interval is [ν σ̂² / χ²_{ν, 1−α/2}, ν σ̂² / χ²_{ν, α/2}]. Undefined (NaN) for an
    estimate ≤ 0.
    """
    terms = fit.coef * fit.ms[None, :]
    est = terms.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = est**2 / np.sum(terms**2 / fit.df[None, :], axis=1)
        a = 1 - confidence
        lo = nu * est / stats.chi2.ppf(1 - a / 2, nu)
        hi = nu * est / stats.chi2.ppf(a / 2, nu)
    bad = ~(est > 0)
    lo[bad] = np.nan
    hi[bad] = np.nan
    nu[bad] = np.nan
    return lo, hi, nu


def own_weights(obs: Observations, object_facets: frozenset, cells: Cells | None = None) -> np.ndarray:
    """Per effect, the factor c(α) by which σ²(α) enters the error variance of a case's mean
    over its own judgements in this data: the mean over objects of Σ_a w_a², w_a the share
    of the object's judgements at level a of α (1/π'(α) on balanced data; Brennan 2001,
    §7.2, for unbalanced designs)."""
    cells = cells or Cells(obs)
    obj_code, n_obj = cells.codes(object_facets)
    n_o = cells.counts(object_facets)
    out = np.empty(len(obs.design.effects))
    for k, e in enumerate(obs.design.effects):
        u = e.index | object_facets
        cu, su = cells.codes(u)
        nu = np.bincount(cu, minlength=su).astype(np.float64)
        o_of_u = np.zeros(su, dtype=np.int64)
        o_of_u[cu] = obj_code
        ok = nu > 0
        w = nu[ok] / n_o[o_of_u[ok]]
        out[k] = float(np.sum(w**2) / n_obj)
    return out
