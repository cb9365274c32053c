"""D-studies: Eρ² and Φ for other numbers of assessors and items, Φ(λ), and how many
assessors a target needs.

Owns :func:`error_variances` (Brennan's rules for τ, δ and Δ with random and fixed facets),
:func:`d_study`, :func:`phi_lambda` and :func:`raters_needed`. Intervals come from the
G-study's bootstrap-over-cases replicates (``g_study(..., n_boot=1000)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory import bootstrap as _boot
from calibrate.gtheory.result import GStudy

COEFFICIENTS = ("phi", "erho2")
_ALIASES = {"raters": "r", "items": "i", "sessions": "s"}


def _object_set(g: GStudy) -> frozenset:
    return frozenset({g.object}) | g.design.within(g.object)


def error_variances(g: GStudy, sizes: Mapping[str, float] | None = None, fixed: Iterable[str] = (),
                    variances: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """σ²(τ), σ²(δ), σ²(Δ) for D-study sample sizes ``sizes`` (facet → n'), with ``fixed``
    facets (Brennan 2001, §4.4–4.5). ``sizes=None`` is the G-study's own design, with
    the weights of unbalanced data (:func:`~calibrate.gtheory.moments.own_weights`).

    With O the object of measurement and the facets it is nested in, an effect α
    * with all its facets in O adds σ²(α) to τ;
    * with no random facet outside O: if it contains the object, σ²(α) / π'(fixed facets of
      α) to τ; otherwise it drops out;
    * else σ²(α) / π'(α \\ O) to Δ, and to δ as well when it contains the object.
    ``variances`` may be resamples × effects (one row per bootstrap replicate).
    """
    v = np.atleast_2d(g.variances if variances is None else np.asarray(variances, float))
    coef = _error_coefficients(g, sizes, fixed)[0]  # 3 × effects
    return v @ coef[0], v @ coef[1], v @ coef[2]


def _error_coefficients(g: GStudy, sizes: Mapping[str, float | np.ndarray] | None, fixed: Iterable[str]) -> np.ndarray:
    """The rules of :func:`error_variances` as coefficients (sizes × 3 × effects: τ, δ, Δ
    per unit of each component). A size may be an array (one D-study per value)."""
    O = _object_set(g)
    fixed = set(fixed)
    for f in fixed:
        g.design.check_facet(f, "The fixed facet")
        if f in O:
            raise InputError(f"The object of measurement (or a facet it is nested in) {f!r} cannot be fixed.")
    n = dict(g.sizes)
    if sizes is not None:
        n.update(sizes)
    K = max([np.size(x) for x in n.values()] or [1])
    coef = np.zeros((K, 3, len(g.effects)))
    for k, e in enumerate(g.effects):
        outside = [f for f in e.index if f not in O]
        random_out = [f for f in outside if f not in fixed]
        if not outside:
            coef[:, 0, k] = 1.0
            continue
        if sizes is None and not fixed:
            div = 1.0 / g.own_weights[e.label]
        else:
            div = np.ones(K)
            for f in outside:
                div = div * np.asarray(n[f], float)
        if not random_out:
            if g.object in e.index:
                coef[:, 0, k] = 1.0 / div
            continue
        coef[:, 2, k] = 1.0 / div
        if g.object in e.index:
            coef[:, 1, k] = 1.0 / div
    return coef


def _coefficients(tau, delta, Delta):
    with np.errstate(invalid="ignore", divide="ignore"):
        return tau / (tau + delta), tau / (tau + Delta)


def _resolve_sizes(g: GStudy, sizes: Mapping[str, Sequence[float] | float] | None, named: Mapping) -> dict:
    out = {}
    for k, vals in {**(sizes or {}), **{_ALIASES[k]: v for k, v in named.items() if v is not None}}.items():
        g.design.check_facet(k, "The D-study facet")
        if k in _object_set(g):
            raise InputError(f"{k!r} is the object of measurement (or contains it); its D-study size is not a choice here.")
        vals = [vals] if np.isscalar(vals) else list(vals)
        if not vals or any(not (float(x) > 0) for x in vals):
            raise InputError(f"D-study sizes for {k!r} must be positive numbers; got {vals!r}.")
        out[k] = [float(x) for x in vals]
    return out


def d_study(
    g: GStudy,
    raters: Sequence[int] | int | None = None,
    items: Sequence[int] | int | None = None,
    *,
    sizes: Mapping[str, Sequence[float] | float] | None = None,
    fixed: Iterable[str] = (),
    lam: float | None = None,
    confidence: float | None = None,
    method: str = "percentile",
) -> pd.DataFrame:
    """A D-study table: one row per combination of sample sizes.

    ``raters`` / ``items`` (or ``sizes={"r": [...], "i": [...]}``) are the numbers to try;
    facets not given keep the G-study's sizes. Columns: ``n_<facet>`` for every facet
    outside the object, ``tau, delta, Delta, sem_rel, sem_abs, Erho2, Phi`` and, with
    ``lam``, ``Phi_lambda`` (:func:`phi_lambda`). When the G-study has bootstrap
    replicates, ``<coef>_low`` / ``<coef>_high`` give the ``confidence`` interval
    (default the G-study's; ``method`` ``"percentile"`` or ``"bca"``).

    Eρ² = τ / (τ + δ), Φ = τ / (τ + Δ) (Brennan 2001, eqs. 4.7, 4.8).
    """
    if method not in _boot.METHODS:
        raise InputError(f"method must be one of {', '.join(_boot.METHODS)}; got {method!r}.")
    wanted = _resolve_sizes(g, sizes, {"raters": raters, "items": items})
    O = _object_set(g)
    free = [f for f in g.design.facets if f not in O]
    grid_facets = [f for f in free if f in wanted]
    combos = list(itertools.product(*[wanted[f] for f in grid_facets])) or [()]
    confidence = g.confidence if confidence is None else confidence
    rows = []
    for combo in combos:
        sz = dict(zip(grid_facets, combo))
        own = not sz and not set(fixed)
        tau, de, De = error_variances(g, None if own else {**dict(g.sizes), **sz}, fixed)
        e2, ph = _coefficients(tau, de, De)
        row = {f"n_{f}": sz.get(f, g.sizes[f]) for f in free}
        row.update(tau=tau[0], delta=de[0], Delta=De[0], sem_rel=np.sqrt(de[0]), sem_abs=np.sqrt(De[0]),
                   Erho2=e2[0], Phi=ph[0])
        stats = {"Erho2": e2, "Phi": ph}
        if lam is not None:
            pl = phi_lambda(g, lam, sizes=None if own else {**dict(g.sizes), **sz}, fixed=fixed)
            row["Phi_lambda"] = pl
        if g.replicates is not None:
            t_b, d_b, D_b = error_variances(g, None if own else {**dict(g.sizes), **sz}, fixed, np.maximum(g.replicates, 0))
            e2_b, ph_b = _coefficients(t_b, d_b, D_b)
            jack = None
            if g.jackknife is not None:
                t_j, d_j, D_j = error_variances(g, None if own else {**dict(g.sizes), **sz}, fixed, np.maximum(g.jackknife, 0))
                jack = np.column_stack(_coefficients(t_j, d_j, D_j))
            lo, hi = _boot.interval(np.array([e2[0], ph[0]]), np.column_stack([e2_b, ph_b]), jack, confidence, method)
            row.update(Erho2_low=lo[0], Erho2_high=hi[0], Phi_low=lo[1], Phi_high=hi[1])
        rows.append(row)
    return pd.DataFrame(rows)


def phi_lambda(g: GStudy, lam: float, *, sizes: Mapping[str, float] | None = None, fixed: Iterable[str] = ()) -> float:
    """Φ(λ), the dependability of pass/fail decisions at the cut-off ``lam`` on the score
    scale (Brennan 2001, eq. 4.12 with the unbiased estimator of (μ − λ)²):

    Φ(λ) = [σ²(τ) + (X̄ − λ)² − σ²(X̄)] / [σ²(τ) + (X̄ − λ)² − σ²(X̄) + σ²(Δ)],

    σ²(X̄) = Σ_α σ²(α) / π(α), the variance of the grand mean over the G-study's sample
    sizes (all facets, the cases included). Scores are on the kind's numbers (level 1..6,
    indicator/verdict/decision 0/1), so ``lam=0.5`` is the go / no-go cut-off of a decision.
    """
    if not np.isfinite(lam):
        raise InputError(f"The cut-off must be a number on the score scale; got {lam!r}.")
    tau, _, Delta = error_variances(g, sizes, fixed)
    n = dict(g.sizes)
    var_mean = sum(c.variance / float(np.prod([n[f] for f in c.effect.index])) for c in g.components)
    num = tau[0] + (g.grand_mean - lam) ** 2 - var_mean
    return float(num / (num + Delta[0])) if num + Delta[0] > 0 else float("nan")


@dataclass(frozen=True)
class RatersNeeded:
    """The smallest number of assessors whose coefficient reaches ``target``.

    ``n`` is None when even ``max_raters`` fall short; ``ci`` the interval of the same
    number over the bootstrap replicates (``inf`` where a replicate never reaches the
    target within ``max_raters``); ``value`` the coefficient at ``n`` and ``curve`` the
    coefficient for 1 … ``max_raters``.
    """

    target: float
    coefficient: str
    n: int | None
    value: float | None
    ci: tuple[float, float] | None
    confidence: float
    curve: tuple[float, ...]
    sizes: Mapping[str, float]
    notes: tuple[str, ...] = ()


def raters_needed(
    g: GStudy,
    target: float = 0.80,
    *,
    coefficient: str = "phi",
    items: float | None = None,
    facet: str = "r",
    max_raters: int = 50,
    fixed: Iterable[str] = (),
    confidence: float | None = None,
) -> RatersNeeded:
    """How many assessors (levels of ``facet``) for ``coefficient`` (``"phi"`` or
    ``"erho2"``) ≥ ``target``, other facets at the G-study's sizes (``items=`` sets the
    number of items). The interval is the percentile interval of the same count over the
    bootstrap replicates of the G-study (none without them)."""
    if coefficient not in COEFFICIENTS:
        raise InputError(f"coefficient must be 'phi' or 'erho2'; got {coefficient!r}.")
    if not (0 < target < 1):
        raise InputError(f"target must lie between 0 and 1; got {target!r}.")
    g.design.check_facet(facet, "The facet to count")
    base = dict(g.sizes)
    if items is not None:
        base["i"] = float(items)
    ks = np.arange(1, int(max_raters) + 1, dtype=float)
    # τ, δ, Δ are linear in the components: one coefficient vector per number of assessors
    # (error_variances of the unit vectors) turns every resample's curve into a product
    coef = _error_coefficients(g, {**base, facet: ks}, fixed)  # K × 3 × E
    tau, de, De = (g.variances @ coef[:, j].T for j in range(3))
    e2, ph = _coefficients(tau, de, De)
    curve_pt = ph if coefficient == "phi" else e2
    curve_b = []
    if g.replicates is not None:
        V = np.maximum(g.replicates, 0)
        e2_b, ph_b = _coefficients(*(V @ coef[:, j].T for j in range(3)))  # resamples × K
        curve_b = (ph_b if coefficient == "phi" else e2_b).T
    hit = np.flatnonzero(curve_pt >= target)
    n = int(ks[hit[0]]) if len(hit) else None
    confidence = g.confidence if confidence is None else confidence
    ci = None
    notes = []
    if len(curve_b):
        C = np.asarray(curve_b)  # raters × resamples
        reached = C >= target
        first = np.where(reached.any(axis=0), ks[np.argmax(reached, axis=0)], np.inf)
        a = 1 - confidence
        lo, hi = np.quantile(first, [a / 2, 1 - a / 2], method="inverted_cdf")
        ci = (float(lo), float(hi))
        never = float(np.mean(~np.isfinite(first)))
        if never:
            notes.append(f"In {never:.0%} of the resamples even {max_raters} assessors fall short of {target:g}.")
    return RatersNeeded(target=float(target), coefficient=coefficient, n=n,
                        value=None if n is None else float(curve_pt[n - 1]), ci=ci, confidence=confidence,
                        curve=tuple(float(x) for x in curve_pt), sizes={k: v for k, v in base.items() if k != facet},
                        notes=tuple(notes))
