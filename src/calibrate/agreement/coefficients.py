"""The chance-corrected agreement coefficients of CONTRACTS §2 (everything but the ICC).

Each function takes the long ``unit, rater, value`` table, codes it once
(:mod:`._reshape`), applies one of Gwet's (2014) generalised formulas (:mod:`._core`) and
returns a frozen :class:`AgreementResult` with value, standard error, confidence interval
and p-value.

Conventions shared by every function (details in ``docs/agreement.md``):

* Missing ratings (NaN, empty, ``n.v.t.``) are left out; a unit counts when at least one
  rater rated it, and enters the observed agreement when at least two did (Gwet 2014).
* ``categories`` fixes the ordered scale. Without it the observed values, sorted, are the
  scale, so unused levels do not count (as R ``irr`` does). Weights are positional.
* SE: Gwet's linearisation variance; with two raters who rated every unit, his
  contingency-table variance (= Fleiss, Cohen & Everitt 1969 for kappa). ``n_population``
  applies the finite-population correction (1 - n/N).
* CI: value ± t(n-1) quantile × SE, upper end capped at 1 (``ci_method="z"``: normal).
  p-value: two-sided test of H0: coefficient = 0 on the same distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from calibrate.agreement import _core
from calibrate.agreement._inference import check_inference_options, interval
from calibrate.agreement._reshape import Ratings, to_ratings
from calibrate.agreement._validate import check_option, check_population
from calibrate.agreement._weights import (
    category_values,
    krippendorff_delta2,
    weight_matrix,
    weights_from_delta,
)
from calibrate.agreement.result import AgreementResult
from calibrate.errors import InputError

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _weights_label(weights: Any) -> str:
    if weights is None:
        return "identity"
    if isinstance(weights, str):
        return weights
    return "custom"


def _two_rater_table(data: Ratings) -> bool:
    return data.n_raters == 2 and bool(np.all(data.patterns[0].sum(axis=1) == 2))


def _finish(
    name: str,
    est: _core.Estimate,
    data: Ratings,
    *,
    confidence: float,
    ci_method: str,
    alternative: str,
    weights: str,
    notes: list[str],
    per_category: dict | None = None,
    details: dict | None = None,
    upper: float | None = 1.0,
    lower: float | None = None,
) -> AgreementResult:
    se = None if est.var is None or not np.isfinite(est.var) else float(np.sqrt(max(est.var, 0.0)))
    ci, p, note = interval(
        est.value,
        se,
        est.n_df - 1,
        confidence=confidence,
        ci_method=ci_method,
        alternative=alternative,
        upper=upper,
        lower=lower,
    )
    if note:
        notes.append(note)
    if ci is not None:  # how well this interval covers at session size (docs/coverage.md)
        from calibrate.smallsample import coverage_note

        small = coverage_note(name, weights, data.n_units, ci_method)
        if small:
            notes.append(small)
    if not np.isfinite(est.value):
        notes.append(
            "The coefficient is undefined here (no unit with two ratings, or no variation "
            "in the ratings so that chance agreement is 1)."
        )
    return AgreementResult(
        coefficient=name,
        value=float(est.value),
        se=se,
        ci=ci,
        n_units=data.n_units,
        n_raters=data.n_raters,
        p_o=None if not np.isfinite(est.p_o) else float(est.p_o),
        p_e=None if not np.isfinite(est.p_e) else float(est.p_e),
        per_category=per_category,
        p_value=p,
        confidence=confidence,
        weights=weights,
        categories=data.categories,
        notes=tuple(notes),
        details=details or {},
    )


def _prepare(func, df, units, raters, values, categories, confidence, ci_method, alternative, n_population):
    confidence = check_inference_options(func, confidence, ci_method, alternative)
    data = to_ratings(df, func=func, units=units, raters=raters, values=values, categories=categories)
    f = check_population(func, n_population, data.n_units)
    return data, confidence, f


def _variance_note(two: bool, f: float) -> str:
    base = (
        "SE: Gwet's contingency-table variance for two raters who rated every unit."
        if two
        else "SE: Gwet (2014) linearisation variance for multiple raters with missing ratings."
    )
    if f > 0:
        base += f" Finite-population correction applied (sampling fraction {f:.3g})."
    return base


def _per_category_counts(data: Ratings, kind: str) -> dict:
    C, w = data.patterns
    r = C.sum(axis=1)
    out = {}
    for k, cat in enumerate(data.categories):
        Ck = np.column_stack([C[:, k], r - C[:, k]])
        out[cat] = _core.counts_coefficient(Ck, np.eye(2), kind, w=w).value
    return out


def _counts_based(
    func: str,
    kind: str,
    df,
    *,
    weights,
    categories,
    units,
    raters,
    values,
    confidence,
    ci_method,
    alternative,
    n_population,
    exactly_two: bool = False,
    allowed=("identity", "linear", "quadratic", "ordinal"),
) -> AgreementResult:
    data, confidence, f = _prepare(
        func, df, units, raters, values, categories, confidence, ci_method, alternative, n_population
    )
    if exactly_two and data.n_raters != 2:
        raise InputError(
            f"{func} compares exactly two raters; the table has {data.n_raters} "
            f"({list(map(str, data.raters[:6]))}).",
            hint="Use fleiss_kappa or conger_kappa for more raters, or select two raters.",
        )
    W = weight_matrix(weights, data.n_categories, func=func, allowed=allowed)
    return _counts_result(
        func, kind, data, W, _weights_label(weights), f=f, confidence=confidence,
        ci_method=ci_method, alternative=alternative,
    )


def _counts_result(
    func: str,
    kind: str,
    data,
    W: np.ndarray,
    label: str,
    *,
    f: float,
    confidence: float,
    ci_method: str,
    alternative: str,
    per_category: bool = True,
) -> AgreementResult:
    """A counts-based coefficient from coded data (:class:`Ratings` or :class:`Counts`)."""
    two = _two_rater_table(data)
    C, w = data.patterns
    est = _core.counts_coefficient(C, W, kind, f=f, two_rater_table=two, w=w)
    per_cat = None
    if per_category and kind != "pa" and label == "identity" and data.n_categories >= 2:
        per_cat = _per_category_counts(data, kind)
    details: dict = {"weights_matrix": W}
    if func == "fleiss_kappa" and label == "identity":
        se0 = _core.fleiss_h0_se(C, w)
        if se0 and np.isfinite(est.value):
            from scipy import stats

            details.update(se_h0=se0, z_h0=est.value / se0, p_value_h0=float(2 * stats.norm.sf(abs(est.value / se0))))
    notes = [_variance_note(two, f)]
    return _finish(
        func,
        est,
        data,
        confidence=confidence,
        ci_method=ci_method,
        alternative=alternative,
        weights=label,
        notes=notes,
        per_category=per_cat,
        details=details,
        lower=0.0 if kind == "pa" else None,
    )


def percent_agreement(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """(Weighted) percent agreement among any number of raters.

    p_o = (1/n2) sum_{i: r_i >= 2} sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)), the share of
    agreeing rater pairs per unit averaged over units rated at least twice
    (r*_ik = sum_l w_kl r_il). Range [0, 1]; no chance correction, so read it beside a
    kappa/alpha/AC1 (Gwet 2014, ch. 2; R ``irrCAC::pa.coeff.raw``).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": ["a", "b"] * 2, "value": ["x", "x", "x", "y"]})
    >>> percent_agreement(df).value
    0.5
    """
    return _counts_based(
        "percent_agreement", "pa", df, weights=weights, categories=categories, units=units,
        raters=raters, values=values, confidence=confidence, ci_method=ci_method,
        alternative=alternative, n_population=n_population,
    )


def fleiss_kappa(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Fleiss' (1971) kappa, generalised to weights and missing ratings (Gwet 2014).

    kappa = (p_o - p_e) / (1 - p_e), p_e = sum_kl w_kl pi_k pi_l with pi_k the mean share of
    category k per unit. Raters are exchangeable (need not be the same people per unit).
    Range: at most 1; 0 = chance level. Read with Landis & Koch (1977) bands, and beside
    AC1 when one category dominates (the prevalence paradox).
    ``details`` holds ``se_h0``/``z_h0``/``p_value_h0``: the test under H0 of Fleiss, Nee &
    Landis (1979) that R ``irr::kappam.fleiss`` prints (unweighted, equal ratings per unit).
    Checked against Fleiss (1971) and R irrCAC ``fleiss.kappa.raw``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 1, 2, 2, 2], "rater": list("abc") * 2,
    ...                    "value": [1, 1, 1, 2, 2, 1]})
    >>> round(fleiss_kappa(df).value, 4)
    0.25
    """
    return _counts_based(
        "fleiss_kappa", "fleiss", df, weights=weights, categories=categories, units=units,
        raters=raters, values=values, confidence=confidence, ci_method=ci_method,
        alternative=alternative, n_population=n_population,
    )


def scott_pi(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Scott's (1955) pi for exactly two raters: Fleiss' kappa with two raters.

    p_e = sum_kl w_kl pi_k pi_l with pi_k the raters' pooled share of category k.
    Checked against R irrCAC ``scott2.table`` (Gwet 2014).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3,
    ...                    "value": [1, 1, 2, 2, 1, 2]})
    >>> round(scott_pi(df).value, 4)
    0.3333
    """
    return _counts_based(
        "scott_pi", "fleiss", df, weights=weights, categories=categories, units=units,
        raters=raters, values=values, confidence=confidence, ci_method=ci_method,
        alternative=alternative, n_population=n_population, exactly_two=True,
    )


def gwet_ac(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Gwet's AC1 (unweighted) or AC2 (weighted) agreement coefficient (Gwet 2008, 2014).

    p_e = sum(w) / (q (q-1)) * sum_k pi_k (1 - pi_k): chance agreement is the propensity to
    agree on hard-to-rate units, which stays small when one category dominates. So AC1
    stays high where kappa and alpha collapse despite near-perfect raw agreement (the
    prevalence paradox). Range: at most 1. Checked against R irrCAC ``gwet.ac1.raw``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3,
    ...                    "value": ["gezien"] * 5 + ["niet gezien"]})
    >>> round(gwet_ac(df).value, 4)
    0.5385
    """
    return _counts_based(
        "gwet_ac", "ac", df, weights=weights, categories=categories, units=units,
        raters=raters, values=values, confidence=confidence, ci_method=ci_method,
        alternative=alternative, n_population=n_population,
    )


def brennan_prediger(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Brennan & Prediger's (1981) coefficient: chance agreement sum(w)/q^2 (uniform).

    The result depends on q, so pass ``categories`` to count unused levels.
    Checked against R irrCAC ``bp.coeff.raw``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": ["a", "b"] * 2, "value": [1, 1, 2, 2]})
    >>> brennan_prediger(df, categories=[1, 2, 3, 4]).value
    1.0
    """
    return _counts_based(
        "brennan_prediger", "bp", df, weights=weights, categories=categories, units=units,
        raters=raters, values=values, confidence=confidence, ci_method=ci_method,
        alternative=alternative, n_population=n_population,
    )


def _conger_like(func: str, df, *, weights, categories, units, raters, values, confidence,
                 ci_method, alternative, n_population, exactly_two: bool) -> AgreementResult:
    data, confidence, f = _prepare(
        func, df, units, raters, values, categories, confidence, ci_method, alternative, n_population
    )
    if exactly_two and data.n_raters != 2:
        raise InputError(
            f"{func} compares exactly two raters; the table has {data.n_raters} "
            f"({list(map(str, data.raters[:6]))}).",
            hint="Use conger_kappa (or fleiss_kappa) for more raters, or select two raters.",
        )
    if data.n_raters < 2:
        raise InputError(f"{func} needs at least two raters; the table has {data.n_raters}.")
    q = data.n_categories
    W = weight_matrix(weights, q, func=func)
    two = _two_rater_table(data)
    M = data.matrix
    est = _core.conger_coefficient(M, q, W, f=f, two_rater_table=two)
    label = _weights_label(weights)
    per_cat = None
    if label == "identity" and q >= 2:
        per_cat = {}
        for k, cat in enumerate(data.categories):
            Mk = np.where(M < 0, -1, (M != k).astype(np.int64))
            per_cat[cat] = _core.conger_coefficient(Mk, 2, np.eye(2)).value
    details: dict = {"weights_matrix": W}
    if two:
        table = np.zeros((q, q))
        np.add.at(table, (M[:, 0], M[:, 1]), 1.0)
        details["table"] = table
        se0 = _core.cohen_h0_se(table, W)
        if se0 and np.isfinite(est.value):
            from scipy import stats

            z0 = est.value / se0
            details.update(se_h0=se0, z_h0=z0, p_value_h0=float(2 * stats.norm.sf(abs(z0))))
    notes = [_variance_note(two, f)]
    return _finish(func, est, data, confidence=confidence, ci_method=ci_method,
                   alternative=alternative, weights=label, notes=notes,
                   per_category=per_cat, details=details)


def cohen_kappa(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Cohen's (1960) kappa, weighted (Cohen 1968), for exactly two raters.

    kappa = (p_o - p_e)/(1 - p_e), p_e = sum_kl w_kl p_k. p_.l from each rater's own
    marginals. With missing ratings Gwet's (2014) two-rater generalisation (Conger's
    formula with r = 2) is used: p_o over units both rated, marginals over all ratings.
    SE: Fleiss, Cohen & Everitt (1969) when both raters rated every unit (identical to
    SAS PROC FREQ's ASE), else Gwet's variance. ``details`` holds the SE under H0
    (``se_h0``) and its z test (``z_h0``, ``p_value_h0``) as printed by SAS and R ``irr``.
    Checked against SAS (statsmodels test suite), Cohen (1960), R irrCAC ``kappa2.table``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                    "value": [1, 1, 2, 2, 1, 2, 2, 2]})
    >>> cohen_kappa(df).value
    0.5
    """
    return _conger_like(
        "cohen_kappa", df, weights=weights, categories=categories, units=units, raters=raters,
        values=values, confidence=confidence, ci_method=ci_method, alternative=alternative,
        n_population=n_population, exactly_two=True,
    )


def conger_kappa(
    df,
    weights: str | np.ndarray | None = None,
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Conger's (1980) kappa: Cohen's kappa generalised to r raters (not exchangeable).

    p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / r) where pbar_k is the mean over raters of
    their category-k proportions and s2_kl their covariance. Checked against R irrCAC
    ``conger.kappa.raw``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "rater": ["a", "b"] * 4,
    ...                    "value": [1, 1, 2, 2, 1, 2, 2, 2]})
    >>> conger_kappa(df).value
    0.5
    """
    return _conger_like(
        "conger_kappa", df, weights=weights, categories=categories, units=units, raters=raters,
        values=values, confidence=confidence, ci_method=ci_method, alternative=alternative,
        n_population=n_population, exactly_two=False,
    )


def _alpha_parts(data: Ratings, level: str):
    C, w = data.patterns
    pairable = (w[:, None] * C)[C.sum(axis=1) >= 2].sum(axis=0)
    vals = category_values(data.categories, data.numeric_values)
    if level == "ratio" and (vals < 0).any():
        raise InputError(
            "krippendorff_alpha: the ratio level needs non-negative numeric categories. "
            f"Got {list(data.categories)!r}."
        )
    delta2 = krippendorff_delta2(level, vals, pairable)
    return C, w, delta2


def krippendorff_alpha(
    df,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
    ci_method: str = "t",
    alternative: str = "two-sided",
    n_population: float | None = None,
) -> AgreementResult:
    """Krippendorff's alpha at the nominal, ordinal, interval or ratio level.

    alpha = 1 - D_o / D_e = 1 - (n.. - 1) sum_ck o_ck delta2_ck / sum_ck n_c n_k delta2_ck,
    from the coincidence matrix o of pairable values (units with two or more ratings;
    Krippendorff 2011). delta2: nominal 1[c != k]; ordinal (sum_{g=c..k} n_g -
    (n_c + n_k)/2)^2 over the ``categories`` order; interval (c - k)^2 and ratio
    ((c - k)/(c + k))^2 on the categories' numeric values (their 1-based position when not
    numeric). Range: at most 1; Krippendorff accepts >= .800, tentative conclusions from
    .667. SE: Gwet's (2014) variance with weights 1 - delta2/max(delta2), as R irrCAC
    ``krippen.alpha.raw``; df = units with a rating - 1. Krippendorff himself prefers a
    bootstrap: see :func:`calibrate.agreement.bootstrap`.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3,
    ...                    "value": [1, 1, 2, 2, 3, 1]})
    >>> round(krippendorff_alpha(df, level="interval").value, 4)
    0.0
    """
    func = "krippendorff_alpha"
    check_option(func, "level", level, LEVELS)
    data, confidence, f = _prepare(
        func, df, units, raters, values, categories, confidence, ci_method, alternative, n_population
    )
    return _alpha_result(data, level, f=f, confidence=confidence, ci_method=ci_method,
                         alternative=alternative)


def _alpha_result(
    data,
    level: str,
    *,
    f: float,
    confidence: float,
    ci_method: str,
    alternative: str,
    per_category: bool = True,
) -> AgreementResult:
    """Krippendorff's alpha from coded data (:class:`Ratings` or :class:`Counts`)."""
    func = "krippendorff_alpha"
    C, w, delta2 = _alpha_parts(data, level)
    W = weights_from_delta(delta2)
    two = _two_rater_table(data)
    est = _core.alpha_gwet(C, W, f=f, two_rater_table=two, w=w)
    value = _core.alpha_value(C, delta2, w)
    est = _core.Estimate(value, est.p_o, est.p_e, est.var if np.isfinite(value) else None, est.n, est.n_df)
    per_cat = None
    if per_category and level == "nominal" and data.n_categories >= 2:
        r = C.sum(axis=1)
        per_cat = {
            cat: _core.alpha_value(np.column_stack([C[:, k], r - C[:, k]]), 1.0 - np.eye(2), w)
            for k, cat in enumerate(data.categories)
        }
    notes = [
        f"Level of measurement: {level}; value from the coincidence matrix (Krippendorff 2011).",
        _variance_note(two, f).replace("SE:", "SE (Gwet 2014 form of alpha):"),
    ]
    return _finish(func, est, data, confidence=confidence, ci_method=ci_method,
                   alternative=alternative, weights=level, notes=notes,
                   per_category=per_cat, details={"delta2": delta2})
