"""ICC at every size: degrees of freedom from the design, values equal to pingouin and to
the closed forms at 1e-10 (issue 18).

Two references, both computed in the same run:
- pingouin's ``intraclass_corr`` (R psych's formulas; validated by its authors against
  ``psych::ICC``) on complete data, with its CI rounding switched off;
- the closed forms written out here from the textbooks: the balanced two-way ANOVA on the
  wide unit x rater matrix (Shrout & Fleiss 1979; McGraw & Wong 1996) and, for incomplete
  data, the fitting-constants sums of squares (Henderson III; Searle, Casella & McCulloch
  1992, §5.5) from the *full* normal equations solved by a sparse direct solver — another
  route than the library's (it absorbs the units and solves the small rater system).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

from calibrate.agreement import icc

FORMS = [
    ("oneway", "single", "ICC(1,1)"), ("twoway_random", "single", "ICC(A,1)"),
    ("twoway_mixed", "single", "ICC(C,1)"), ("oneway", "average", "ICC(1,k)"),
    ("twoway_random", "average", "ICC(A,k)"), ("twoway_mixed", "average", "ICC(C,k)"),
]
SIZES = [(20, 3), (100, 4), (200, 6), (300, 6), (400, 6), (800, 3), (1000, 10), (5000, 10)]
TOL = 1e-10


def _simulate(n: int, k: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """``x = unit + 0.3 rater + noise`` (the issue's data), optionally with ratings dropped."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), k)
    rater = np.tile(np.arange(k), n)
    x = rng.normal(size=n)[unit] + 0.3 * rng.normal(size=k)[rater] + rng.normal(size=n * k)
    df = pd.DataFrame({"unit": [f"u{i}" for i in unit], "rater": [f"r{j}" for j in rater], "value": x})
    if missing:
        df = df[rng.random(len(df)) >= missing].reset_index(drop=True)
    return df


@contextmanager
def _pingouin_unrounded():
    pg = pytest.importorskip("pingouin")
    saved = dict(pg.options)
    pg.options.clear()
    pg.options["round"] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield pg
    finally:
        pg.options.clear()
        pg.options.update(saved)


def _close(a: float, b: float) -> bool:
    """Equal at 1e-10, relative to the size of the number (F runs into the hundreds)."""
    return abs(a - b) <= TOL * max(1.0, abs(b))


def _icc_from_mean_squares(form, msb, msw, msj, mse, n, df_b, df_w, df_e, keff, kbar, s2r):
    """The ICC formulas of Shrout & Fleiss (1979) / McGraw & Wong (1996) from the mean
    squares: value, F, df1, df2, p and the 95 % CI. ``keff`` replaces k in the CI of
    incomplete designs (k0 one-way, (N - r)/df_units two-way), ``kbar`` = N / n in the
    average forms (as documented in :func:`calibrate.agreement.icc`); ``s2r`` is the
    rater variance component."""
    model, kind = form
    a = 0.05
    if model == "oneway":
        F, d2 = msb / msw, df_w
        value = (msb - msw) / (msb + (keff - 1) * msw) if kind == "single" else (msb - msw) / msb
        fl = F / stats.f.ppf(1 - a / 2, df_b, d2)
        fu = F * stats.f.ppf(1 - a / 2, d2, df_b)
        ci = ((fl - 1) / (fl + keff - 1), (fu - 1) / (fu + keff - 1)) if kind == "single" else (1 - 1 / fl, 1 - 1 / fu)
        return value, F, df_b, d2, stats.f.sf(F, df_b, d2), ci
    F, d2 = msb / mse, df_e
    s2u = (msb - mse) / keff
    fl = F / stats.f.ppf(1 - a / 2, df_b, d2)
    fu = F * stats.f.ppf(1 - a / 2, d2, df_b)
    if model == "twoway_mixed":
        if kind == "single":
            value, ci = s2u / (s2u + mse), ((fl - 1) / (fl + keff - 1), (fu - 1) / (fu + keff - 1))
        else:
            value, ci = s2u / (s2u + mse / kbar), (1 - 1 / fl, 1 - 1 / fu)
        return value, F, df_b, d2, stats.f.sf(F, df_b, d2), ci
    single = s2u / (s2u + s2r + mse)
    value = single if kind == "single" else s2u / (s2u + (s2r + mse) / kbar)
    kk, nn = keff, n
    icc2 = (msb - mse) / (msb + (kk - 1) * mse + kk * (msj - mse) / nn)
    fj = msj / mse
    vn = d2 * (kk * icc2 * fj + nn * (1 + (kk - 1) * icc2) - kk * icc2) ** 2
    vd = df_b * kk**2 * icc2**2 * fj**2 + (nn * (1 + (kk - 1) * icc2) - kk * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(1 - a / 2, df_b, v)
    f2l = stats.f.ppf(1 - a / 2, v, df_b)
    t = kk * msj + (kk * nn - kk - nn) * mse
    lo = nn * (msb - f2u * mse) / (f2u * t + nn * msb)
    hi = nn * (f2l * msb - mse) / (t + nn * f2l * msb)
    if kind == "average":
        lo, hi = lo * kk / (1 + lo * (kk - 1)), hi * kk / (1 + hi * (kk - 1))
    return value, F, df_b, d2, stats.f.sf(F, df_b, d2), (lo, hi)


def _balanced_reference(df: pd.DataFrame):
    """Textbook two-way ANOVA on the wide matrix (complete data)."""
    wide = df.pivot(index="unit", columns="rater", values="value").to_numpy()
    n, k = wide.shape
    g = wide.mean()
    ss_b = k * ((wide.mean(axis=1) - g) ** 2).sum()
    ss_j = n * ((wide.mean(axis=0) - g) ** 2).sum()
    ss_t = ((wide - g) ** 2).sum()
    ss_w = ss_t - ss_b
    ss_e = ss_t - ss_b - ss_j
    df_b, df_j, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    return dict(msb=ss_b / df_b, msw=ss_w / df_w, msj=ss_j / df_j, mse=ss_e / df_e, n=n, k=k,
                df_b=df_b, df_w=df_w, df_e=df_e, keff=k, kbar=k, h_j=n * (k - 1), df_j=df_j)


def _henderson_reference(df: pd.DataFrame):
    """Henderson III sums of squares from the full normal equations (sparse direct solve)."""
    u, _ = pd.factorize(df["unit"])
    r, _ = pd.factorize(df["rater"])
    y = df["value"].to_numpy(dtype=float)
    N, n, k = len(y), u.max() + 1, r.max() + 1
    X = sparse.hstack([
        sparse.csr_matrix((np.ones(N), (np.arange(N), u)), shape=(N, n)),
        sparse.csr_matrix((np.ones(N), (np.arange(N), r)), shape=(N, k))[:, 1:],  # rater 0 = reference
    ]).tocsc()
    beta = spsolve((X.T @ X).tocsc(), X.T @ y)
    sse = float(((y - X @ beta) ** 2).sum())
    k_i = np.bincount(u)
    mean_i = np.bincount(u, weights=y) / k_i
    mean_j = np.bincount(r, weights=y) / np.bincount(r)
    ssw = float(((y - mean_i[u]) ** 2).sum())
    ss_b = float(((y - mean_j[r]) ** 2).sum()) - sse   # R(units | raters)
    ss_j = ssw - sse                                   # R(raters | units)
    g = y.mean()
    ss_b1 = float((k_i * (mean_i - g) ** 2).sum())     # one-way between units
    df_b, df_j, df_e, df_w = n - 1, k - 1, N - n - k + 1, N - n
    return dict(msb=ss_b / df_b, msb1=ss_b1 / df_b, msw=ssw / df_w, msj=ss_j / df_j, mse=sse / df_e,
                n=n, k=k, df_b=df_b, df_w=df_w, df_e=df_e, keff=(N - k) / df_b,
                k0=(N - (k_i**2).sum() / N) / (n - 1), kbar=N / n, h_j=N - n, df_j=df_j)


def _reference(ref: dict, model: str, kind: str):
    s2r = (ref["msj"] - ref["mse"]) * ref["df_j"] / ref["h_j"]  # E[R(raters|units)] = df_j s2e + h_j s2r
    if model == "oneway":
        msb = ref.get("msb1", ref["msb"])
        keff = ref.get("k0", ref["keff"])
    else:
        msb, keff = ref["msb"], ref["keff"]
    return _icc_from_mean_squares((model, kind), msb, ref["msw"], ref["msj"], ref["mse"], ref["n"],
                                  ref["df_b"], ref["df_w"], ref["df_e"], keff, ref["kbar"], s2r)


def _check(ours, want, label):
    value, F, df1, df2, p, ci = want
    assert ours.df1 == df1 and ours.df2 == df2, f"{label}: df ({ours.df1}, {ours.df2}) != ({df1}, {df2})"
    for name, a, b in [("value", ours.value, value), ("F", ours.F, F), ("p", ours.p_value, p),
                       ("ci_low", ours.ci[0], ci[0]), ("ci_high", ours.ci[1], ci[1])]:
        assert _close(a, float(b)), f"{label}: {name} {a!r} != {float(b)!r}"


@pytest.mark.parametrize("n,k", SIZES, ids=[f"{n}x{k}" for n, k in SIZES])
def test_balanced_equals_pingouin_and_closed_form(n, k):
    df = _simulate(n, k, seed=n + k)
    ref = _balanced_reference(df)
    with _pingouin_unrounded() as pg:
        table = pg.intraclass_corr(df, targets="unit", raters="rater", ratings="value").set_index("Type")
    for model, kind, ptype in FORMS:
        ours = icc(df, model=model, kind=kind)
        row = table.loc[ptype]
        peer = (row["ICC"], row["F"], row["df1"], row["df2"], row["pval"], tuple(np.asarray(row["CI95"], float)))
        _check(ours, peer, f"{n}x{k} {ptype} vs pingouin")
        _check(ours, _reference(ref, model, kind), f"{n}x{k} {ptype} vs closed form")
        assert ours.df2 == (n * (k - 1) if model == "oneway" else (n - 1) * (k - 1))


@pytest.mark.parametrize("n,k", SIZES, ids=[f"{n}x{k}" for n, k in SIZES])
def test_five_percent_missing_equals_henderson_iii(n, k):
    df = _simulate(n, k, seed=7 * n + k, missing=0.05)
    ref = _henderson_reference(df)
    for model, kind, ptype in FORMS:
        ours = icc(df, model=model, kind=kind)
        _check(ours, _reference(ref, model, kind), f"{n}x{k} 5% missing {ptype}")
        assert ours.details["balanced"] is False


def test_small_unbalanced_sums_of_squares_equal_statsmodels_anova():
    """A third route for the fitting-constants sums of squares: statsmodels' sequential
    (type I) ANOVA of the additive model, fitted in both orders."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    df = _simulate(60, 5, seed=3, missing=0.1)
    ref = _henderson_reference(df)
    a = anova_lm(smf.ols("value ~ C(rater) + C(unit)", df).fit())     # SS(unit | rater)
    b = anova_lm(smf.ols("value ~ C(unit) + C(rater)", df).fit())     # SS(rater | unit)
    assert a.loc["C(unit)", "df"] == ref["df_b"] and b.loc["C(rater)", "df"] == ref["df_j"]
    assert a.loc["Residual", "df"] == ref["df_e"]
    assert a.loc["C(unit)", "mean_sq"] == pytest.approx(ref["msb"], rel=1e-10)
    assert b.loc["C(rater)", "mean_sq"] == pytest.approx(ref["msj"], rel=1e-10)
    assert a.loc["Residual", "mean_sq"] == pytest.approx(ref["mse"], rel=1e-10)
    ours = icc(df, model="twoway_mixed")
    assert ours.F == pytest.approx(ref["msb"] / ref["mse"], rel=1e-10)


def test_disconnected_design_counts_each_component():
    """Two rater teams that never share a unit: rank = n + r - 2, so df(units) = n - 2 and
    df(error) = N - n - r + 2, as statsmodels' OLS of the additive model has them."""
    import statsmodels.formula.api as smf

    a = _simulate(30, 3, seed=1)
    b = _simulate(25, 4, seed=2)
    b = b.assign(unit="v" + b["unit"], rater="s" + b["rater"])
    df = pd.concat([a, b], ignore_index=True)
    with warnings.catch_warnings():  # statsmodels warns that this design is rank-deficient: it is
        warnings.simplefilter("ignore")
        fit = smf.ols("value ~ C(unit) + C(rater)", df).fit()
    ours = icc(df, model="twoway_mixed")
    assert ours.df1 == 55 - 2
    assert ours.df2 == fit.df_resid == len(df) - 55 - 7 + 2
    sse = float(fit.ssr)
    assert ours.variance_components["residual"] == pytest.approx(sse / fit.df_resid, rel=1e-10)


def test_level_codes_as_text_equal_numbers():
    df = _simulate(50, 4, seed=5)
    df["value"] = np.clip(np.round(df["value"] + 3.5), 1, 6)
    text = df.assign(value=df["value"].astype(int).astype(str))
    text.loc[::17, "value"] = "n.v.t."
    num = df.assign(value=df["value"].where(text["value"] != "n.v.t."))
    for model, kind, _ in FORMS:
        a, b = icc(text, model=model, kind=kind), icc(num, model=model, kind=kind)
        assert a.value == b.value and a.F == b.F and a.df2 == b.df2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 400), k=st.integers(2, 8), missing=st.sampled_from([0.0, 0.05, 0.2]),
       seed=st.integers(0, 2**32 - 1))
def test_invariant_to_unit_and_rater_order(n, k, missing, seed):
    """Relabelling and reordering units and raters (and the rows) changes nothing."""
    df = _simulate(n, k, seed=seed % 10_000, missing=missing)
    rng = np.random.default_rng(seed)
    uperm = dict(zip(df["unit"].unique(), rng.permutation(df["unit"].nunique()).astype(str)))
    rperm = dict(zip(df["rater"].unique(), rng.permutation(df["rater"].nunique()).astype(str)))
    other = df.assign(unit="x" + df["unit"].map(uperm), rater="y" + df["rater"].map(rperm))
    other = other.sample(frac=1.0, random_state=seed % 2**31).reset_index(drop=True)
    for model, kind, _ in FORMS:
        a, b = icc(df, model=model, kind=kind), icc(other, model=model, kind=kind)
        assert (a.df1, a.df2) == (b.df1, b.df2)
        if np.isfinite(a.value):
            assert a.value == pytest.approx(b.value, rel=1e-9, abs=1e-12)
            assert a.F == pytest.approx(b.F, rel=1e-9)
        else:
            assert not np.isfinite(b.value)
