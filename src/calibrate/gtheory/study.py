"""The G-study entry point: a long score table in, a frozen :class:`GStudy` out.

Owns :func:`g_study`: the door (:func:`~calibrate.gtheory.observations.observations`),
the choice of estimator (balanced ANOVA, REML, Henderson's Method 1), negative estimates,
intervals for the components (Satterthwaite or bootstrap over cases) and the bootstrap
replicates a D-study turns into intervals for its coefficients.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory import bootstrap as _boot
from calibrate.gtheory.design import Design, parse_design
from calibrate.gtheory.moments import Cells, anova, henderson1, is_balanced, own_weights, satterthwaite, sizes
from calibrate.gtheory.observations import Observations, observations
from calibrate.gtheory.reml import MAX_LEVELS, n_random_levels, reml
from calibrate.gtheory.result import Component, GStudy

METHODS = ("auto", "anova", "henderson1", "reml")
CI_METHODS = ("auto", "satterthwaite", "percentile", "bca", None)


def g_study(
    scores: pd.DataFrame | Observations,
    design: str | Design = "c x r",
    *,
    object: str = "c",
    facets: Mapping[str, str] | None = None,
    value: str = "value",
    method: str = "auto",
    n_boot: int = 0,
    seed=0,
    confidence: float = 0.95,
    ci: str | None = "auto",
    jackknife: bool = True,
) -> GStudy:
    """Estimate the variance components of ``design`` from a long table.

    ``scores`` is the score table of CONTRACTS §1 (select one kind first with
    :func:`~calibrate.gtheory.observations.select_scores`) or any long table with one
    column per facet (``facets=``) and a numeric ``value`` column. ``design`` in Brennan's
    notation: ``"c x r"`` (cases × assessors), ``"c x r x i"`` (× items), ``"c x r x (i:o)"``
    (items nested in leeruitkomsten), ``"c x (r:s)"`` (assessors nested in sessions).

    ``method``: ``"anova"`` (Brennan's algorithm; balanced data only), ``"reml"``
    (unbalanced or missing cells, up to ``reml.MAX_LEVELS`` random levels),
    ``"henderson1"`` (analogous ANOVA as urGENOVA, any size) or ``"auto"``: ANOVA when
    balanced, else REML when small enough, else Henderson's Method 1.

    Negative moment estimates are set to 0 in ``variance`` (kept raw in ``estimate`` and in
    the other equations; Brennan 2001, §3.4.4) with a note. ``ci``: ``"satterthwaite"``
    (balanced ANOVA), ``"percentile"`` / ``"bca"`` (bootstrap over cases; needs
    ``n_boot``), ``None``, or ``"auto"`` (Satterthwaite when balanced, else the bootstrap
    percentile interval when ``n_boot`` > 0). With ``n_boot`` > 0 the bootstrap replicates
    are kept so that :func:`~calibrate.gtheory.dstudy.d_study` and
    :func:`~calibrate.gtheory.dstudy.raters_needed` give intervals; with them the
    leave-one-case-out estimates that BCa needs, unless ``jackknife=False``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"case": list("aabbcc"), "rater": list("xyxyxy"), "value": [1, 2, 3, 3, 5, 6]})
    >>> g = g_study(df, "c x r")
    >>> [(c.label, round(c.variance, 3)) for c in g.components]
    [('c', 3.917), ('r', 0.25), ('cr', 0.083)]
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    if ci not in CI_METHODS:
        raise InputError(f"ci must be one of {', '.join(map(str, CI_METHODS))}; got {ci!r}.")
    if not (0 < confidence < 1):
        raise InputError(f"confidence must lie between 0 and 1; got {confidence!r}.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"n_boot must be a whole number ≥ 0; got {n_boot!r}.")
    obs = scores if isinstance(scores, Observations) else observations(scores, design, facets=facets, value=value)
    d = obs.design
    d.check_facet(object, "The object of measurement")
    if obs.n < 2:
        raise InputError("A G-study needs at least two judgements with a value.")
    cells = Cells(obs)
    balanced = is_balanced(obs, cells)
    if method == "anova" and not balanced:
        raise InputError("method='anova' needs a balanced design (every cell filled once).",
                         hint="Use method='reml' or 'henderson1' for unbalanced or incomplete data.")
    if method == "auto":
        method = "anova" if balanced else ("reml" if n_random_levels(obs, cells) <= MAX_LEVELS else "henderson1")
    notes: list[str] = []
    if method == "anova":
        fit = anova(obs, cells)
        notes.append(f"Balanced {d.text} design: ANOVA estimates (Brennan 2001, §3.4).")
    elif method == "henderson1":
        fit = henderson1(obs, cells)
        notes.append(f"{d.text} design with {'un' if not balanced else ''}balanced data: Henderson's Method 1 "
                     "(analogous ANOVA, Brennan 2001, §7.1; as urGENOVA).")
        if not balanced and n_random_levels(obs, cells) > MAX_LEVELS:
            notes.append(f"More than {MAX_LEVELS} random levels: moment estimates instead of REML.")
    else:
        start = henderson1(obs, cells).estimate
        fit = reml(obs, cells, start=start)
        notes.append(f"{d.text} design with unbalanced data: REML estimates (never negative).")
    est = np.asarray(fit.estimate, float)
    var = np.maximum(est, 0.0)
    neg = [e.label for e, v in zip(d.effects, est) if v < 0]
    if neg:
        notes.append(
            f"Negative estimate(s) for {', '.join(neg)} set to 0 (sampling error around a small "
            "component); the raw values were used for the other components (Brennan 2001, §3.4.4)."
        )
    total = var.sum()
    share = var / total if total > 0 else np.full(len(var), np.nan)

    object_facets = frozenset({object}) | d.within(object)
    weights = own_weights(obs, object_facets, cells)

    reps = jack = None
    if n_boot:
        def refit(o: Observations) -> np.ndarray:
            c = Cells(o)
            if method == "reml":
                return reml(o, c, start=est).estimate
            return henderson1(o, c).estimate

        reps, jack = _boot.case_bootstrap(obs, object, object_facets, refit, n_boot=int(n_boot), seed=seed,
                                          balanced=balanced and method in ("anova", "henderson1"),
                                          moments=method == "henderson1", jackknife=jackknife or ci == "bca")
        notes.append(f"Bootstrap over {len(_boot._object_strata(obs, object_facets, object, cells))} "
                     f"'{object}' levels: {n_boot} resamples (seed {seed!r})"
                     + (", within their nest" if len(object_facets) > 1 else "") + ".")

    if ci == "auto":
        ci = "satterthwaite" if method == "anova" else ("percentile" if n_boot else None)
    lo = hi = nu = None
    if ci == "satterthwaite":
        if method != "anova":
            raise InputError("Satterthwaite intervals need balanced ANOVA estimates.",
                             hint="Use ci='percentile' or 'bca' with n_boot=1000.")
        lo, hi, nu = satterthwaite(fit, confidence)
        notes.append(f"{confidence:.0%} intervals: Satterthwaite (Brennan 2001, §6.1.2); none for estimates ≤ 0.")
    elif ci in ("percentile", "bca"):
        if reps is None:
            raise InputError(f"ci={ci!r} needs bootstrap replicates.", hint="Pass n_boot=1000.")
        lo, hi = _boot.interval(var, np.maximum(reps, 0.0), None if jack is None else np.maximum(jack, 0.0), confidence, ci)
        notes.append(f"{confidence:.0%} intervals: bootstrap over cases, {ci}; Brennan (2001, §6.2.3) warns "
                     "that this biases the components of the other facets.")
    comps = []
    for k, e in enumerate(d.effects):
        comps.append(Component(
            effect=e, estimate=float(est[k]), variance=float(var[k]), share=float(share[k]),
            df=None if fit.df is None else float(fit.df[k]),
            ss=None if fit.ss is None else float(fit.ss[k]),
            ms=None if fit.ms is None else float(fit.ms[k]),
            ci=None if lo is None or not np.isfinite(lo[k]) else (float(lo[k]), float(hi[k])),
            ci_method=None if lo is None else (ci if ci == "satterthwaite" else f"bootstrap-{ci}"),
            nu=None if nu is None or not np.isfinite(nu[k]) else float(nu[k]),
        ))
    return GStudy(
        design=d, object=object, components=tuple(comps), method=method, sizes=sizes(obs),
        n_obs=obs.n, grand_mean=float(obs.y.mean()), balanced=balanced,
        own_weights={e.label: float(w) for e, w in zip(d.effects, weights)},
        notes=tuple(notes), replicates=reps, jackknife=jack, confidence=confidence,
        details={"facet_levels": {f: obs.n_levels(f) for f in d.facets},
                 **({} if fit.loglik is None else {"reml_loglik": fit.loglik})},
    )
