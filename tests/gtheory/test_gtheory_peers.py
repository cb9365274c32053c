"""Peers in the same run: GeneralizIT (balanced designs) and statsmodels' MixedLM (REML on
unbalanced data, the same random-effects model with one variance component per effect)."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from calibrate.gtheory import g_study
from calibrate.gtheory.dstudy import d_study
from calibrate.gtheory.observations import observations
from calibrate.gtheory.reml import reml

from gfixtures import read_fixture

generalizit = pytest.importorskip("generalizit")


def _generalizit(df: pd.DataFrame, design: str, response: str = "score"):
    from generalizit import GeneralizIT

    with contextlib.redirect_stdout(io.StringIO()):
        gt = GeneralizIT(df, design, response)
        gt.calculate_anova()
        gt.calculate_g_coefficients()
    return gt.design


def _simulated(seed: int, nc=8, nr=3, ni=4, missing=0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c, r, i = rng.normal(0, 1, nc), rng.normal(0, 0.5, nr), rng.normal(0, 0.7, ni)
    cr, ci, ri = rng.normal(0, 0.4, (nc, nr)), rng.normal(0, 0.5, (nc, ni)), rng.normal(0, 0.3, (nr, ni))
    rows = [(f"c{a}", f"r{b}", f"i{k}", c[a] + r[b] + i[k] + cr[a, b] + ci[a, k] + ri[b, k] + rng.normal(0, 0.6))
            for a in range(nc) for b in range(nr) for k in range(ni)]
    df = pd.DataFrame(rows, columns=["case", "rater", "item", "value"])
    return df.sample(frac=1 - missing, random_state=seed) if missing else df


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generalizit_c_x_r_x_i_balanced(seed):
    df = _simulated(seed)
    ours = g_study(df, "c x r x i")
    peer = _generalizit(df.rename(columns={"case": "c", "rater": "r", "item": "i"}), "c x r x i", "value")
    names = {"c": "c", "r": "r", "i": "i", "cr": "c x r", "ci": "c x i", "ri": "r x i", "cri": "c x r x i"}
    for label, theirs in names.items():
        # GeneralizIT rounds its variance column to 4 decimals
        assert ours[label].estimate == pytest.approx(peer.anova_table.loc[theirs, "Variance"], abs=6e-5)
    row = d_study(ours).iloc[0]
    assert row["Erho2"] == pytest.approx(peer.g_coeffs_table.loc["c", "rho^2"], abs=6e-5)
    assert row["Phi"] == pytest.approx(peer.g_coeffs_table.loc["c", "phi^2"], abs=6e-5)


def test_generalizit_p_x_r_nested_in_t(synthetic4):
    ours = g_study(synthetic4, "p x (r:t)", object="p", facets={"p": "p", "r": "r", "t": "t"}, value="score")
    peer = _generalizit(synthetic4.rename(columns={"p": "person"}), "person x (r:t)")
    for label, theirs in {"p": "person", "t": "t", "r:t": "r:t", "pt": "person x t", "pr:t": "person x (r:t)"}.items():
        assert ours[label].estimate == pytest.approx(peer.anova_table.loc[theirs, "Variance"], abs=6e-5)
        assert ours.details["facet_levels"]  # the door kept every facet


def test_generalizit_p_x_i_x_o(synthetic4):
    df = read_fixture("brennan_synthetic3_pxixo.csv").rename(columns={"p": "person"})
    ours = g_study(df, "person x i x o", object="person", facets={"person": "person", "i": "i", "o": "o"}, value="score")
    peer = _generalizit(df, "person x i x o")
    for c in ours.components:
        theirs = " x ".join(c.effect.primary)
        assert c.estimate == pytest.approx(peer.anova_table.loc[theirs, "Variance"], abs=6e-5)


def _mixedlm(df: pd.DataFrame, start=None):
    import statsmodels.formula.api as smf

    vc = {"c": "0 + C(case)", "ci": "0 + C(case):C(item)", "cr": "0 + C(case):C(rater)",
          "i": "0 + C(item)", "r": "0 + C(rater)", "ri": "0 + C(rater):C(item)"}
    data = df.assign(g=1)
    model = smf.mixedlm("value ~ 1", data, groups="g", re_formula="0", vc_formula=vc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {} if start is None else {"start_params": start}
        fit = model.fit(reml=True, method=["lbfgs"], **kw)
    names = list(model.exog_vc.names)
    comps = dict(zip(names, fit.vcomp))
    comps["cri"] = fit.scale
    return comps, fit


@pytest.mark.parametrize("seed", [4, 5])
def test_reml_against_statsmodels_mixedlm_unbalanced(seed):
    """c × r × i with 20 % of the cells missing: our REML likelihood at MixedLM's estimates
    equals MixedLM's own log-likelihood (the same model), our optimum is at least as high,
    and the components agree where both optimisers converge."""
    df = _simulated(seed, missing=0.2)
    obs = observations(df, "c x r x i")
    ours = g_study(df, "c x r x i")
    assert ours.method == "reml" and not ours.balanced
    labels = [c.label for c in ours.components]
    peer, fit = _mixedlm(df)
    at_peer = reml(obs, loglik_at=np.array([peer[k] for k in labels])).loglik
    assert at_peer == pytest.approx(fit.llf, abs=1e-6)
    own = reml(obs, loglik_at=np.array([c.estimate for c in ours.components])).loglik
    assert own >= fit.llf - 1e-7
    # MixedLM restarted at our solution stays there
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    e = ours["cri"].estimate
    names = ["c", "ci", "cr", "i", "r", "ri"]
    start = MixedLMParams.from_components(fe_params=np.array([ours.grand_mean]), cov_re=np.zeros((0, 0)),
                                          vcomp=np.array([max(ours[k].estimate, 1e-8) / e for k in names]))
    peer2, fit2 = _mixedlm(df, start=start)
    assert fit2.llf <= own + 1e-6
    for k in labels:
        assert ours[k].variance == pytest.approx(peer2[k], abs=2e-3)


def test_reml_equals_anova_on_balanced_data_with_positive_estimates(synthetic4):
    obs = observations(synthetic4, "p x (r:t)", facets={"p": "p", "r": "r", "t": "t"}, value="score")
    a = g_study(obs, object="p", method="anova")
    r = g_study(obs, object="p", method="reml")
    for x, y in zip(a.components, r.components):
        assert y.variance == pytest.approx(x.variance, rel=1e-5)


def test_generalizit_per_leeruitkomst_verdict_and_indicators():
    """A row of reliability_overview on balanced data is GeneralizIT's G-study of that
    scope's judgements alone (the verdict: c × r; the indicators, all random: c × r × i)."""
    from calibrate.devtools.simulate import SimulationConfig, simulate
    from calibrate.frameworks import load_framework
    from calibrate.gtheory.kijkkader import reliability_overview
    from calibrate.gtheory.observations import KIND_SCORES

    fw = load_framework("han-wpl2-2025")
    scores = simulate(fw, SimulationConfig(n_sessions=1, n_raters=4, cases_per_session=9, seed=11)).scores
    # keep the items every assessor judged on every case (n.v.t. is missing), so the
    # indicator scopes are balanced too
    full = scores[scores["value"] != "n.v.t."].groupby("item").size()
    scores = scores[scores["item"].isin(full.index[full == 9 * 4])]
    out = reliability_overview(scores, fw, by=("verdict", "indicator"), n_boot=0, items_fixed=False).set_index(["scope", "kind"])
    checked = []
    for (scope, kind), row in out.iterrows():
        sub = scores[scores["item"] == f"{scope}.oordeel"] if kind == "verdict" else \
            scores[(scores["kind"] == "indicator") & scores["item"].str.startswith(scope + ".")]
        sub = sub[sub["value"] != "n.v.t."]
        if sub.groupby(["case", "rater"]).size().nunique() != 1 or len(sub) != sub["case"].nunique() * sub["rater"].nunique() * sub["item"].nunique():
            continue  # GeneralizIT reads balanced data only
        frame = pd.DataFrame({"c": sub["case"], "r": sub["rater"], "i": sub["item"],
                              "value": sub["value"].map(KIND_SCORES[kind]).astype(float)})
        design = "c x r" if kind == "verdict" else "c x r x i"
        peer = _generalizit(frame if kind != "verdict" else frame.drop(columns="i"), design, "value")
        ours = g_study(frame.rename(columns={"c": "case", "r": "rater", "i": "item"}), design)
        for c in ours.components:  # GeneralizIT rounds its variance column to 4 decimals
            assert c.estimate == pytest.approx(peer.anova_table.loc[" x ".join(c.effect.primary), "Variance"], abs=6e-5)
        # ... and computes its coefficients from the rounded components
        assert row["Erho2"] == pytest.approx(peer.g_coeffs_table.loc["c", "rho^2"], abs=5e-4), (scope, kind)
        assert row["Phi"] == pytest.approx(peer.g_coeffs_table.loc["c", "phi^2"], abs=5e-4), (scope, kind)
        assert row["Erho2"] == pytest.approx(d_study(ours).iloc[0]["Erho2"], abs=1e-12)
        checked.append((scope, kind))
    assert {k for _, k in checked} == {"verdict", "indicator"}  # both kinds of scope met the peer


def test_shavelson_webb_table_1_1_p_x_i():
    """Shavelson & Webb (1991), Table 1.1 (20 persons x 8 science items, 0/1; transcribed by
    the R package hemp, fixture header). The book's printed components were not available
    here, so the check is GeneralizIT in the same run and an identity: Eρ² of a p x i design
    is Cronbach's α (KR-20 on 0/1 items; Brennan 2001, §2.3.3) of the persons x items table."""
    df = read_fixture("shavelson_webb_table1_1_pxi.csv")
    assert df.shape == (160, 3) and set(df["score"]) == {0, 1}
    ours = g_study(df, "p x i", object="p", facets={"p": "person", "i": "item"}, value="score")
    peer = _generalizit(df.rename(columns={"person": "p", "item": "i"}), "p x i", "score")
    for label, theirs in {"p": "p", "i": "i", "pi": "p x i"}.items():
        assert ours[label].estimate == pytest.approx(peer.anova_table.loc[theirs, "Variance"], abs=6e-5)
    X = df.pivot(index="person", columns="item", values="score").to_numpy(float)
    k = X.shape[1]
    kr20 = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / X.sum(axis=1).var(ddof=1))
    assert d_study(ours).iloc[0]["Erho2"] == pytest.approx(kr20, abs=1e-12)
    assert sum(c.ss for c in ours.components) == pytest.approx(((X - X.mean()) ** 2).sum(), abs=1e-12)
