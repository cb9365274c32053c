"""Intraclass correlation for balanced and unbalanced (missing-rating) designs.

Owns :func:`icc`. Variance components come from ANOVA moment estimators; for unbalanced
two-way data the fitting-constants method (Henderson's method III, Searle, Casella &
McCulloch 1992, §5.5), which reduces to Shrout & Fleiss (1979) / McGraw & Wong (1996) on
complete data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

from calibrate.agreement._reshape import MISSING_CODES, _codes, code_units_and_raters
from calibrate.agreement._validate import check_option, check_range
from calibrate.agreement.result import ICCResult
from calibrate.errors import InputError
from calibrate.inference import f_quantile, f_sf

MODELS = ("oneway", "twoway_random", "twoway_mixed")
KINDS = ("single", "average")


def _prepare(df, units, raters, values):
    """Numeric ratings and integer unit/rater codes on the coding path the other
    coefficients share (:func:`calibrate.agreement._reshape._codes`): a categorical's own
    codes, integers by one ``bincount``, strings by one hash-table pass."""
    func = "icc"
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The 'df' parameter of {func} must be a pandas DataFrame in long format. "
            f"Got {type(df).__name__} instead."
        )
    for kw, col in (("units", units), ("raters", raters), ("values", values)):
        if col not in df.columns:
            raise InputError(
                f"{func} needs a column {col!r} (the {kw!r} keyword) but the table has "
                f"columns {list(map(str, df.columns))}.",
                hint=f"Pass {kw}='<your column name>'.",
            )
    y = _numeric_ratings(df[values])
    keep = ~np.isnan(y)
    if keep.all():
        keep = None
    else:
        y = y[keep]
    u, ulab, r, rlab = code_units_and_raters(df, units, raters, keep, func=func)
    return y, u, r, len(ulab), len(rlab)


def _numeric_ratings(s: pd.Series) -> np.ndarray:
    """The value column as float64, NaN where there is no rating (NaN, empty, ``n.v.t.``).

    Numeric columns are taken as they are; text columns are coded once and only their
    distinct values are parsed (level codes ``'1'``..``'6'`` are text in the score table).
    """
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    codes, uniques = _codes(s)
    text = pd.Series(uniques, dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = text.isin(MISSING_CODES).to_numpy()
    num = pd.to_numeric(text.mask(missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(num) & ~missing & text.notna().to_numpy()
    if bad.any():
        raise InputError(
            f"icc needs numeric ratings; column {s.name!r} holds "
            f"{sorted(map(str, uniques[bad]))[:5]}.",
            hint="Map ordered category codes to numbers first (e.g. level '1'..'6').",
        )
    lut = np.append(num, np.nan)  # code -1 (missing) reads the last entry
    return lut[codes]


def _additive_fit(y, u, r, n, nr, k_i, mean_i, ssw, balanced):
    """The two-way additive fit ``y = mu + a_unit + b_rater + e`` by fitting constants.

    Returns ``R(a|b), R(b|a), SSE`` and their degrees of freedom. The degrees of freedom
    come from the design itself, never from a numerical rank: with ``c`` connected
    components of the unit-rater graph (1 when every rater shares a unit with another),
    rank(X) = n + nr - c, so df(units|raters) = n - c, df(raters|units) = nr - c and
    df(error) = N - n - nr + c. Complete data use the closed forms of the balanced two-way
    ANOVA (SS_units = k sum (ybar_i - ybar)^2, SS_raters = n sum (ybar_j - ybar)^2).
    Otherwise the reduced normal equations ``C b = q`` for the rater effects after
    absorbing the units (Searle, Casella & McCulloch 1992, §5.5) are solved with one rater
    per component fixed at 0, which makes ``C`` positive definite.
    """
    N = len(y)
    sum_j = np.bincount(r, weights=y, minlength=nr)
    n_j = np.bincount(r, minlength=nr).astype(np.float64)
    mean_j = sum_j / n_j
    if balanced:
        ybar = y.mean()
        ss_units = np.float64(nr * np.sum((mean_i - ybar) ** 2))
        ss_raters = np.float64(n * np.sum((mean_j - ybar) ** 2))
        sse = np.float64(np.sum((y - mean_i[u] - mean_j[r] + ybar) ** 2))
        return ss_units, ss_raters, sse, n - 1, nr - 1, (n - 1) * (nr - 1)
    graph = sparse.coo_matrix((np.ones(N), (u, n + r)), shape=(n + nr, n + nr))
    n_comp, label = connected_components(graph, directed=False)
    m = sparse.csr_matrix((np.ones(N), (u, r)), shape=(n, nr))
    cmat = np.diag(n_j) - (m.T @ sparse.diags(1.0 / k_i) @ m).toarray()
    q = sum_j - m.T @ mean_i
    return reduced_fit(cmat, q, label[n:], n_comp, ssw, np.float64(np.sum((y - mean_j[r]) ** 2)), N, n)


def reduced_fit(cmat, q, rater_comp, n_comp, ssw, ss_raters, N, n):
    """Solve the reduced normal equations ``cmat b = q`` for the rater effects (one rater
    per connected component fixed at 0) and return ``R(a|b), R(b|a), SSE`` with their
    degrees of freedom. ``ss_raters`` = sum (y - rater mean)^2, ``ssw`` = sum (y - unit
    mean)^2, ``rater_comp`` the component of each rater."""
    nr = len(q)
    free = np.ones(nr, dtype=bool)
    free[np.unique(rater_comp, return_index=True)[1]] = False  # first rater of each component
    b = np.zeros(nr)
    if free.any():
        b[free] = linalg.solve(cmat[np.ix_(free, free)], q[free], assume_a="pos")
    r_b_given_a = np.float64(b @ q)
    sse = ssw - r_b_given_a
    r_a_given_b = np.float64(ss_raters) - sse
    return r_a_given_b, r_b_given_a, sse, n - n_comp, nr - n_comp, N - n - nr + n_comp


def icc(
    df,
    model: str = "oneway",
    kind: str = "single",
    *,
    units: str = "unit",
    raters: str = "rater",
    values: str = "value",
    confidence: float = 0.95,
) -> ICCResult:
    """Intraclass correlation coefficient (Shrout & Fleiss 1979; McGraw & Wong 1996).

    ``model``: ``"oneway"`` (ICC(1): each unit rated by its own raters),
    ``"twoway_random"`` (ICC(2) = ICC(A,·), absolute agreement, raters a random sample) or
    ``"twoway_mixed"`` (ICC(3) = ICC(C,·), consistency, these raters only).
    ``kind``: ``"single"`` rating or ``"average"`` of the raters' ratings.

    With variance components s2_u (units), s2_r (raters), s2_e (residual):
    ICC(1) = s2_u / (s2_u + s2_w); ICC(A,1) = s2_u / (s2_u + s2_r + s2_e);
    ICC(C,1) = s2_u / (s2_u + s2_e); the average versions divide the error part by k.
    Range: [-1/(k-1), 1] on balanced data; .75+ is usually called good (Koo & Li 2016).

    Unbalanced data / missing ratings: units with any number of ratings are kept. One-way:
    unbalanced ANOVA with the effective group size k0 = (N - sum k_i^2 / N) / (n - 1).
    Two-way: fitting constants (Henderson III): SS(units | raters) and SS(raters | units)
    from the additive least-squares fit, with E[SS(units|raters)] = df s2_e + (N - r) s2_u;
    ``kind="average"`` uses k = N / n. F = MS(units) / MS(error); the CI is exact on
    complete data (Shrout & Fleiss 1979; McGraw & Wong 1996 for ICC(A,·)) and the same
    formulas with k0 / (N - r)/(n - 1) in place of k otherwise (an approximation; use
    :func:`calibrate.agreement.bootstrap` for a distribution-free interval).
    Checked against Shrout & Fleiss (1979, Table 2), R ``psych::ICC`` and pingouin.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3,
    ...                    "value": [1, 2, 3, 4, 5, 5]})
    >>> round(icc(df, model="twoway_mixed").value, 3)
    0.947
    """
    check_option("icc", "model", model, MODELS)
    check_option("icc", "kind", kind, KINDS)
    confidence = check_range("icc", "confidence", confidence, low=0.0, high=1.0)
    y, u, r, n, nr = _prepare(df, units, raters, values)
    with np.errstate(all="ignore"):
        return _icc(y, u, r, n, nr, model=model, kind=kind, confidence=confidence)


def _icc(y, u, r, n, nr, *, model, kind, confidence) -> ICCResult:
    N = len(y)
    k_i = np.bincount(u, minlength=n).astype(np.float64)
    balanced = bool(np.all(k_i == nr))
    ssb = ssw = np.float64(np.nan)
    fit = None
    if n >= 2 and N - n >= 1:
        ybar = y.mean()
        sum_i = np.bincount(u, weights=y, minlength=n)
        mean_i = sum_i / k_i
        ssb = np.float64(np.sum(k_i * (mean_i - ybar) ** 2))
        ssw = np.float64(np.sum((y - mean_i[u]) ** 2))

        def fit():
            return _additive_fit(y, u, r, n, nr, k_i, mean_i, ssw, balanced)

    return icc_from_sums(N, n, nr, float(np.sum(k_i**2)), balanced, ssb, ssw, fit,
                         model=model, kind=kind, confidence=confidence)


def icc_from_sums(N, n, nr, sum_k2, balanced, ssb, ssw, fit, *, model, kind, confidence) -> ICCResult:
    """The ICC from the design's sums: ``N`` ratings of ``n`` units by ``nr`` raters,
    ``sum_k2`` = sum of squared ratings-per-unit, the between- and within-unit sums of
    squares, and ``fit()`` returning :func:`_additive_fit`'s tuple (two-way models only).
    :func:`icc` computes these from the ratings; ``calibrate.engines`` aggregates them
    inside a database."""
    alpha = 1 - confidence
    notes = []
    if n < 2 or N - n < 1:
        return ICCResult(
            coefficient="icc", value=float("nan"), n_units=n, n_raters=nr, model=model,
            kind=kind, confidence=confidence,
            notes=("ICC needs at least two units and a unit with two ratings.",),
        )
    if model == "oneway":
        df1, df2 = n - 1, N - n
        msb, msw = ssb / df1, ssw / df2
        k0 = np.float64((N - sum_k2 / N) / (n - 1))
        s2u = (msb - msw) / k0
        comps = {"unit": s2u, "residual": msw}
        Fv = msb / msw if msw > 0 else np.inf
        single = (msb - msw) / (msb + (k0 - 1) * msw)
        average = (msb - msw) / msb if msb > 0 else float("nan")
        fl = Fv / f_quantile(1 - alpha / 2, df1, df2)
        fu = Fv * f_quantile(1 - alpha / 2, df2, df1)
        if kind == "single":
            value, ci = single, ((fl - 1) / (fl + k0 - 1), (fu - 1) / (fu + k0 - 1))
        else:
            value, ci = average, (1 - 1 / fl, 1 - 1 / fu)
        notes.append(
            "One-way random-effects ANOVA"
            + ("." if balanced else f" for unbalanced data, effective k0 = {k0:.4g}.")
        )
        keff = k0
    else:
        r_a_given_b, r_b_given_a, sse, df_a, df_b, dfe = fit()
        if dfe < 1:
            return ICCResult(
                coefficient="icc", value=float("nan"), n_units=n, n_raters=nr, model=model,
                kind=kind, confidence=confidence,
                notes=("Too few ratings for a two-way model (no residual degrees of freedom).",),
            )
        mse = sse / dfe
        msa = r_a_given_b / df_a
        msr = r_b_given_a / df_b if df_b > 0 else 0.0
        h_a = np.float64(N - nr)
        h_b = np.float64(N - n)
        s2u = (r_a_given_b - df_a * mse) / h_a
        s2r = (r_b_given_a - df_b * mse) / h_b if h_b > 0 else 0.0
        comps = {"unit": s2u, "rater": s2r, "residual": mse}
        k = np.float64(N) / n
        keff = h_a / df_a
        df1, df2 = df_a, dfe
        Fv = msa / mse if mse > 0 else np.inf
        fl = Fv / f_quantile(1 - alpha / 2, df1, df2)
        fu = Fv * f_quantile(1 - alpha / 2, df2, df1)
        if model == "twoway_mixed":
            single = s2u / (s2u + mse)
            average = s2u / (s2u + mse / k)
            if kind == "single":
                value, ci = single, ((fl - 1) / (fl + keff - 1), (fu - 1) / (fu + keff - 1))
            else:
                value, ci = average, (1 - 1 / fl, 1 - 1 / fu)
        else:
            single = s2u / (s2u + s2r + mse)
            average = s2u / (s2u + (s2r + mse) / k)
            kk, nn = keff, n
            fj = msr / mse if mse > 0 else np.inf
            icc2 = (msa - mse) / (msa + (kk - 1) * mse + kk * (msr - mse) / nn)
            vn = dfe * (kk * icc2 * fj + nn * (1 + (kk - 1) * icc2) - kk * icc2) ** 2
            vd = df1 * kk**2 * icc2**2 * fj**2 + (nn * (1 + (kk - 1) * icc2) - kk * icc2) ** 2
            v = vn / vd if vd > 0 else float(dfe)
            f2u = f_quantile(1 - alpha / 2, df1, v)
            f2l = f_quantile(1 - alpha / 2, v, df1)
            denom_term = kk * msr + (kk * nn - kk - nn) * mse
            lo = nn * (msa - f2u * mse) / (f2u * denom_term + nn * msa)
            hi = nn * (f2l * msa - mse) / (denom_term + nn * f2l * msa)
            if kind == "single":
                value, ci = single, (lo, hi)
            else:
                value, ci = average, (lo * kk / (1 + lo * (kk - 1)), hi * kk / (1 + hi * (kk - 1)))
        notes.append(
            "Two-way ANOVA"
            + ("." if balanced else " for unbalanced data by fitting constants (Henderson III); "
               f"CI approximate with k = {keff:.4g}.")
        )
    if not np.isfinite(Fv):
        ci = (value, value) if np.isfinite(value) else (np.nan, np.nan)
    p = float(f_sf(Fv, df1, df2)) if np.isfinite(Fv) or Fv == np.inf else float("nan")
    notes.append(
        f"F test of H0: ICC = 0 with df ({df1:g}, {df2:g}), one-sided; "
        f"{confidence:.0%} CI from the F distribution."
    )
    name = {"oneway": "ICC(1", "twoway_random": "ICC(A", "twoway_mixed": "ICC(C"}[model]
    name += ",1)" if kind == "single" else ",k)"
    return ICCResult(
        coefficient=name,
        value=float(value),
        se=None,
        ci=(float(ci[0]), float(ci[1])),
        n_units=n,
        n_raters=nr,
        p_value=p,
        confidence=confidence,
        weights="interval",
        notes=tuple(notes),
        details={"balanced": balanced, "k_effective": float(keff), "k_average": N / n},
        F=float(Fv),
        df1=float(df1),
        df2=float(df2),
        model=model,
        kind=kind,
        variance_components={k_: float(v_) for k_, v_ in comps.items()},
    )
