"""Many-facet Rasch measures against a peer in the same run: statsmodels.

The published check (test_rasch_published.py, Winsteps on the Knox Cube Test) has a single
assessor; no published FACETS or mfrmr output for a rater data set could be found (docs/raters.md
"Published values" lists what was searched). So the assessor facet is checked against a second,
independent implementation of the same joint likelihood. A many-facet Rasch model fitted by
joint maximum likelihood (JMLE, as FACETS) is a fixed-effects logit model:

* dichotomous ratings: ``logit P(x = 1) = B_n - D_i - C_j``, an ordinary logistic
  regression on dummies of case, item and assessor (``statsmodels.api.Logit``);
* rating scale: ``log P(x = k) / P(x = 0) = k (B_n - D_i - C_j) - sum_{h <= k} F_h``, a
  conditional (McFadden) logit over the categories of each rating, one group per rating
  (``statsmodels.discrete.conditional_models.ConditionalLogit``).

statsmodels fits them with one reference level dropped per facet; its estimates are then
moved to our frame of reference (assessors, items and thresholds centred on 0, cases
floating), which leaves the likelihood unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.discrete.conditional_models import ConditionalLogit

from calibrate.raters import rasch_measures


def _simulate(seed: int, n_cat: int, n_case=30, n_rater=4, n_item=5) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """A complete case x assessor x item design without extreme elements."""
    codes = tuple(str(k + 1) for k in range(n_cat))
    rng = np.random.default_rng(seed)
    while True:
        B = rng.normal(0, 1.0, n_case)
        C = rng.normal(0, 0.5, n_rater)
        D = rng.normal(0, 0.5, n_item)
        F = np.linspace(-1.0, 1.0, n_cat - 1)
        rows = []
        for n in range(n_case):
            for j in range(n_rater):
                for i in range(n_item):
                    eta = B[n] - D[i] - C[j]
                    logits = np.concatenate([[0.0], np.cumsum(eta - F)])
                    p = np.exp(logits - logits.max())
                    rows.append(("S", f"N{n:02d}", f"R{j}", f"I{i}", "score", codes[rng.choice(n_cat, p=p / p.sum())]))
        df = pd.DataFrame(rows, columns=["session", "case", "rater", "item", "kind", "value"])
        x = df["value"].astype(int) - 1
        extreme = any(
            ((x.groupby(df[c]).min() == x.groupby(df[c]).max()) & x.groupby(df[c]).min().isin([0, n_cat - 1])).any()
            for c in ("case", "rater", "item")
        )
        used_all = x.nunique() == n_cat
        if not extreme and used_all:
            return df, codes


def _dummies(values: pd.Series, drop_first: bool) -> tuple[np.ndarray, list[str]]:
    levels = sorted(values.unique())
    cols = levels[1:] if drop_first else levels
    return np.column_stack([(values == v).to_numpy(float) for v in cols]), levels


def _to_our_frame(B, C, D, F=None):
    """Reference coding (first assessor, item, threshold at 0) -> our centring."""
    mC, mD = C.mean(), D.mean()
    mF = 0.0 if F is None else F.mean()
    out = {"case": B - mC - mD - mF, "rater": C - mC, "item": D - mD}
    if F is not None:
        out["F"] = F - mF
    return out


def _measures(res, facet: str) -> pd.Series:
    return res.facets[res.facets["facet"] == facet].set_index("element")["measure"]


def test_dichotomous_jmle_equals_statsmodels_fixed_effects_logit():
    df, codes = _simulate(21, 2)
    ours = rasch_measures(df, kinds=None, categories={"score": codes}, tol=1e-10, bias=False)
    y = (df["value"] == codes[1]).to_numpy(float)
    Xb, cases = _dummies(df["case"], drop_first=False)  # all cases: they carry the intercept
    Xc, raters = _dummies(df["rater"], drop_first=True)
    Xd, items = _dummies(df["item"], drop_first=True)
    fit = sm.Logit(y, np.hstack([Xb, -Xc, -Xd])).fit(method="newton", tol=1e-12, maxiter=100, disp=False)
    p = fit.params
    nb, nc = Xb.shape[1], Xc.shape[1]
    ref = _to_our_frame(p[:nb], np.append(0.0, p[nb:nb + nc]), np.append(0.0, p[nb + nc:]))
    assert ours.converged
    for facet, labels in (("case", cases), ("rater", raters), ("item", items)):
        got = _measures(ours, facet).loc[labels].to_numpy()
        assert np.allclose(got, ref[facet], atol=1e-6), (facet, np.abs(got - ref[facet]).max())
    assert ours.log_likelihood == pytest.approx(fit.llf, abs=1e-6)


def test_rating_scale_jmle_equals_statsmodels_conditional_logit():
    n_cat = 4
    df, codes = _simulate(22, n_cat)
    ours = rasch_measures(df, kinds=None, categories={"score": codes}, tol=1e-10, bias=False)
    x = df["value"].astype(int).to_numpy() - 1
    m = len(df)
    k = np.tile(np.arange(n_cat), m)  # one row per (rating, category)
    obs = np.repeat(np.arange(m), n_cat)
    Xb, cases = _dummies(df["case"], drop_first=False)
    Xc, raters = _dummies(df["rater"], drop_first=True)
    Xd, items = _dummies(df["item"], drop_first=True)
    steps = (k[:, None] >= np.arange(2, n_cat)[None, :]).astype(float)  # F_1 is the reference
    exog = np.hstack([k[:, None] * Xb[obs], -k[:, None] * Xc[obs], -k[:, None] * Xd[obs], -steps])
    endog = (k == x[obs]).astype(float)
    fit = ConditionalLogit(endog, exog, groups=obs).fit(method="newton", maxiter=100, tol=1e-12, disp=False)
    p = fit.params
    nb, nc, nd = Xb.shape[1], Xc.shape[1], Xd.shape[1]
    ref = _to_our_frame(p[:nb], np.append(0.0, p[nb:nb + nc]), np.append(0.0, p[nb + nc:nb + nc + nd]),
                        np.append(0.0, p[nb + nc + nd:]))
    assert ours.converged
    for facet, labels in (("case", cases), ("rater", raters), ("item", items)):
        got = _measures(ours, facet).loc[labels].to_numpy()
        assert np.allclose(got, ref[facet], atol=1e-6), (facet, np.abs(got - ref[facet]).max())
    th = ours.thresholds.dropna(subset=["threshold"])["threshold"].to_numpy()
    assert np.allclose(th, ref["F"], atol=1e-6)
    assert ours.log_likelihood == pytest.approx(fit.llf, abs=1e-6)
