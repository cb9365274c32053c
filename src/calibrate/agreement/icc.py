"""Intraclass correlation for balanced and unbalanced (missing-rating) designs.

Owns :func:`icc`. Variance components come from ANOVA moment estimators; for unbalanced
two-way data the fitting-constants method (Henderson's method III, Searle, Casella &
McCulloch 1992, §5.5), which reduces to Shrout & Fleiss (1979) / McGraw & Wong (1996) on
complete data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.agreement._validate import check_option, check_range
from calibrate.agreement.result import ICCResult
from calibrate.errors import InputError

MODELS = ("oneway", "twoway_random", "twoway_mixed")
KINDS = ("single", "average")


def _prepare(df, units, raters, values):
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
    y = pd.to_numeric(df[values].replace({"n.v.t.": np.nan, "": np.nan}), errors="coerce")
    bad = df[values].notna() & ~df[values].isin(["n.v.t.", ""]) & y.isna()
    if bad.any():
        raise InputError(
            f"icc needs numeric ratings; column {values!r} holds "
            f"{sorted(map(str, df.loc[bad, values].unique()))[:5]}.",
            hint="Map ordered category codes to numbers first (e.g. level '1'..'6').",
        )
    keep = y.notna().to_numpy()
    d = df.loc[keep]
    y = y[keep].to_numpy(dtype=np.float64)
    u, ulab = pd.factorize(d[units])
    r, rlab = pd.factorize(d[raters])
    nr = len(rlab)
    cell = np.bincount(u * nr + r, minlength=len(ulab) * nr)
    if len(cell) and cell.max() > 1:
        raise InputError(
            "icc: some raters rated the same unit more than once.",
            hint="Keep one rating per unit and rater.",
        )
    return y, u.astype(np.int64), r.astype(np.int64), len(ulab), nr


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
    alpha = 1 - confidence
    k_i = np.bincount(u, minlength=n).astype(np.float64)
    balanced = bool(np.all(k_i == nr))
    notes = []
    if n < 2 or N - n < 1:
        return ICCResult(
            coefficient="icc", value=float("nan"), n_units=n, n_raters=nr, model=model,
            kind=kind, confidence=confidence,
            notes=("ICC needs at least two units and a unit with two ratings.",),
        )
    ybar = y.mean()
    sum_i = np.bincount(u, weights=y, minlength=n)
    mean_i = sum_i / k_i
    ssb = np.float64(np.sum(k_i * (mean_i - ybar) ** 2))
    ssw = np.float64(np.sum((y - mean_i[u]) ** 2))

    if model == "oneway":
        df1, df2 = n - 1, N - n
        msb, msw = ssb / df1, ssw / df2
        k0 = np.float64((N - np.sum(k_i**2) / N) / (n - 1))
        s2u = (msb - msw) / k0
        comps = {"unit": s2u, "residual": msw}
        Fv = msb / msw if msw > 0 else np.inf
        single = (msb - msw) / (msb + (k0 - 1) * msw)
        average = (msb - msw) / msb if msb > 0 else float("nan")
        fl = Fv / stats.f.ppf(1 - alpha / 2, df1, df2)
        fu = Fv * stats.f.ppf(1 - alpha / 2, df2, df1)
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
        # additive two-way fit by absorbing unit effects (reduced normal equations)
        M = np.zeros((n, nr))
        M[u, r] = 1.0
        Nj = M.sum(axis=0)
        Cmat = np.diag(Nj) - (M / k_i[:, None]).T @ M
        sum_j = np.bincount(r, weights=y, minlength=nr)
        qv = sum_j - M.T @ mean_i
        b = np.linalg.pinv(Cmat) @ qv
        r_b_given_a = np.float64(b @ qv)
        rank_c = int(np.linalg.matrix_rank(Cmat))
        rank_full = n + rank_c
        sse = ssw - r_b_given_a
        dfe = N - rank_full
        if dfe < 1:
            return ICCResult(
                coefficient="icc", value=float("nan"), n_units=n, n_raters=nr, model=model,
                kind=kind, confidence=confidence,
                notes=("Too few ratings for a two-way model (no residual degrees of freedom).",),
            )
        mean_j = sum_j / Nj
        rss_b = np.float64(np.sum((y - mean_j[r]) ** 2))
        r_a_given_b = rss_b - sse
        df_a = rank_full - nr
        df_b = rank_full - n
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
        fl = Fv / stats.f.ppf(1 - alpha / 2, df1, df2)
        fu = Fv * stats.f.ppf(1 - alpha / 2, df2, df1)
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
            f2u = stats.f.ppf(1 - alpha / 2, df1, v)
            f2l = stats.f.ppf(1 - alpha / 2, v, df1)
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
    p = float(stats.f.sf(Fv, df1, df2)) if np.isfinite(Fv) or Fv == np.inf else float("nan")
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
