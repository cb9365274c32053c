"""The G-theory API on calibrate's own tables: the door, designs, estimators agreeing with
each other and with closed forms, the bootstrap, D-studies, the figure and the wording."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.agreement import icc
from calibrate.errors import InputError
from calibrate.frameworks import load_framework
from calibrate.gtheory import g_study, observations, parse_design, select_scores
from calibrate.gtheory.dstudy import d_study, phi_lambda, raters_needed
from calibrate.gtheory.figure import d_study_figure
from calibrate.gtheory.kijkkader import reliability_overview
from calibrate.gtheory.wording import raters_needed_sentence
from calibrate.devtools.simulate import SimulationConfig, simulate

FW = load_framework("han-wpl2-2025")


@pytest.fixture(scope="module")
def session():
    cfg = SimulationConfig(n_sessions=1, n_raters=5, cases_per_session=10, not_applicable_rate=0.0, seed=11)
    return simulate(FW, cfg).scores


def test_design_notation_and_errors():
    assert [e.label for e in parse_design("c x r x (i:o)").effects] == [
        "c", "r", "o", "cr", "co", "ro", "i:o", "cro", "ci:o", "ri:o", "cri:o"]
    assert [e.label for e in parse_design("(c x r):s").effects] == ["s", "c:s", "r:s", "cr:s"]
    for bad in ("c x", "c x c", "c x (r:s", "c + r", ""):
        with pytest.raises(InputError):
            parse_design(bad)


def test_door_scores_kinds_by_their_order(session):
    lev = observations(select_scores(session, kind="level"), "c x r x i")
    assert set(np.unique(lev.y)) <= set(range(1, 7))
    ind = observations(select_scores(session, kind="indicator", outcome="leerklimaat"), "c x r x (i:d)")
    assert set(np.unique(ind.y)) <= {0.0, 1.0}
    assert ind.n_levels("d") == len({i.dimension_id for i in FW.items() if i.outcome_id == "leerklimaat" and i.kind == "indicator"})
    with pytest.raises(InputError, match="mixes the kinds"):
        observations(session, "c x r x i")
    dup = pd.concat([session.iloc[:3], session.iloc[:1]])
    with pytest.raises(InputError, match="Two judgements of one cell"):
        observations(select_scores(dup, kind=dup["kind"].iloc[0]), "c x r x i")
    with pytest.raises(InputError, match="lacks the column"):
        observations(session.drop(columns="rater"), "c x r")
    with pytest.raises(InputError, match="No judgements match"):
        select_scores(session, outcome="bestaat_niet")


def test_nvt_is_missing_and_makes_the_design_unbalanced(session):
    sub = select_scores(session, kind="indicator", outcome="ict").copy()
    sub.loc[sub.index[:7], "value"] = "n.v.t."
    obs = observations(sub, "c x r x i")
    assert obs.n == len(sub) - 7
    g = g_study(sub, "c x r x i")
    assert not g.balanced and g.method == "reml"


def test_c_x_r_equals_icc_closed_forms(session):
    """c × r with one rater: Φ = ICC(A,1), Eρ² = ICC(C,1); with all k raters ICC(A,k), ICC(C,k)."""
    lev = select_scores(session, kind="level", items=["afstemmen.niveau"])
    g = g_study(lev, "c x r")
    assert min(c.estimate for c in g.components) > 0  # ICC keeps negative estimates, we zero them
    long = lev.rename(columns={"case": "unit"})
    one = d_study(g, raters=[1, 5]).set_index("n_r")
    assert one.loc[1, "Phi"] == pytest.approx(icc(long, model="twoway_random").value, abs=1e-10)
    assert one.loc[1, "Erho2"] == pytest.approx(icc(long, model="twoway_mixed").value, abs=1e-10)
    assert one.loc[5, "Phi"] == pytest.approx(icc(long, model="twoway_random", kind="average").value, abs=1e-10)
    assert one.loc[5, "Erho2"] == pytest.approx(icc(long, model="twoway_mixed", kind="average").value, abs=1e-10)


def test_henderson_equals_anova_and_bootstrap_paths_agree(session):
    sub = select_scores(session, kind="indicator", outcome="leerklimaat")
    a = g_study(sub, "c x r x i", n_boot=40, seed=3)
    h = g_study(sub, "c x r x i", method="henderson1", n_boot=40, seed=3)
    assert a.method == "anova"
    np.testing.assert_allclose([c.estimate for c in a.components], [c.estimate for c in h.components], atol=1e-12)
    # vectorised balanced bootstrap == refitting each resample (same draws)
    np.testing.assert_allclose(a.replicates, h.replicates, atol=1e-10)
    np.testing.assert_allclose(a.jackknife, h.jackknife, atol=1e-10)


def test_negative_estimate_set_to_zero_with_note():
    df = pd.DataFrame({"case": np.repeat(["a", "b", "c", "d"], 2), "rater": ["x", "y"] * 4,
                       "value": [1, 2, 2, 1, 1, 2, 2, 1]})
    g = g_study(df, "c x r")
    assert g["c"].estimate < 0 and g["c"].variance == 0
    assert any("set to 0" in n for n in g.notes)


def test_satterthwaite_residual_has_its_own_df(session):
    g = g_study(select_scores(session, kind="level"), "c x r x i")
    res = g["cri"]
    assert res.nu == pytest.approx(res.df)
    from scipy import stats

    assert res.ci[0] == pytest.approx(res.df * res.ms / stats.chi2.ppf(0.975, res.df))


def test_nested_raters_in_sessions_and_stratified_bootstrap():
    cfg = SimulationConfig(n_sessions=3, n_raters=4, cases_per_session=6, not_applicable_rate=0.0, seed=5,
                           session_cases={s: [f"C{k}" for k in range(6)] for s in range(3)})
    sc = simulate(FW, cfg).scores
    sub = select_scores(sc, kind="level", items=["leerklimaat.niveau"])
    g = g_study(sub, "c x (r:s)", n_boot=30, seed=1)
    assert [c.label for c in g.components] == ["c", "s", "cs", "r:s", "cr:s"]
    assert g.balanced and g.replicates.shape == (30, 5)
    table = d_study(g, sizes={"r": [1, 2], "s": [1, 3]})
    assert len(table) == 4 and (np.diff(table.sort_values(["n_s", "n_r"])["Phi"]) != 0).all()


def test_d_study_monotone_phi_lambda_and_raters_needed(session):
    dec = select_scores(session, kind="level")
    g = g_study(dec, "c x r x i", n_boot=200, seed=2)
    t = d_study(g, raters=[1, 2, 3, 4, 6])
    assert t["Phi"].is_monotonic_increasing and (t["Erho2"] >= t["Phi"]).all()
    assert (t["Phi_low"] <= t["Phi"]).all() and (t["Phi"] <= t["Phi_high"]).all()
    # Φ(λ) ≥ Φ away from the mean (Brennan 2001, §2.5.1) and at λ = mean it is smallest
    assert phi_lambda(g, g.grand_mean + 3) > phi_lambda(g, g.grand_mean)
    need = raters_needed(g, 0.8)
    assert need.n is None or need.curve[need.n - 1] >= 0.8 > (need.curve[need.n - 2] if need.n > 1 else 0)
    assert need.ci is not None and need.ci[0] <= (need.n or np.inf) <= need.ci[1]


def test_figure_and_dutch_sentence(session):
    g = g_study(select_scores(session, kind="level"), "c x r x i", n_boot=100)
    fig = d_study_figure(g)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "aantal beoordelaars per casus"
    assert "met 1 / 2 / 3 / 4 / 6 beoordelaars" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()][1] == "0,2"
    s = raters_needed_sentence(raters_needed(g, 0.8))
    assert "beoordelaars" in s and "0,80" in s and "interval" in s


def test_reliability_overview_per_outcome_and_decision():
    sim = simulate(FW, SimulationConfig(n_sessions=1, n_raters=4, cases_per_session=8, seed=3))
    out = reliability_overview(sim.scores, n_boot=50)
    assert list(out["scope"]) == ["leerklimaat", "afstemmen", "leerstof", "ict", "ppi", "besluit"]
    assert out["Phi"].between(0, 1).all() and out.loc[out["scope"] == "besluit", "Phi_lambda"].notna().all()
    assert {"raters_80", "raters_80_low", "raters_80_high"} <= set(out.columns)


def test_bad_options_are_clear(session):
    lev = select_scores(session, kind="level")
    for kw in ({"method": "ml"}, {"ci": "wald"}, {"confidence": 2}, {"n_boot": -1}, {"object": "x"}):
        with pytest.raises(InputError):
            g_study(lev, "c x r x i", **kw)
    g = g_study(lev, "c x r x i")
    with pytest.raises(InputError):
        d_study(g, raters=[0])
    with pytest.raises(InputError):
        raters_needed(g, 1.5)
    with pytest.raises(InputError, match="bootstrap"):
        g_study(lev, "c x r x i", ci="bca")


def test_henderson_resamples_at_once_equal_refits():
    """The bootstrap of an unbalanced Method-1 G-study solves all resamples at once; each
    equals henderson1 refitted on that resample's table (drawn cases as new cases)."""
    from calibrate.gtheory import bootstrap as boot
    from calibrate.gtheory.moments import Cells, henderson1

    rng = np.random.default_rng(3)
    rows = [(c, r, i, rng.normal() + 0.3 * c + 0.1 * r) for c in range(9) for r in range(4) for i in range(5)
            if rng.random() > 0.2]
    df = pd.DataFrame(rows, columns=["case", "rater", "item", "value"])
    for design, table in (("c x r x i", df), ("c x r", df.drop_duplicates(["case", "rater"]).iloc[:-3])):
        obs = observations(table, design)
        cells = Cells(obs)
        strata = boot._object_strata(obs, frozenset({"c"}), "c", cells)
        W = boot._draws(np.random.default_rng(5), strata, 40)
        at_once = boot.weighted_henderson(obs, frozenset({"c"}), cells, W)
        one_by_one = np.vstack([henderson1(s := boot._subset(obs, "c", frozenset({"c"}), cells, w), Cells(s)).estimate
                                for w in W])
        np.testing.assert_allclose(at_once, one_by_one, rtol=1e-9, atol=1e-12)
        # and the G-study uses it: its replicates are those of the refits
        g = g_study(table, design, method="henderson1", n_boot=40, seed=5)
        assert not g.balanced
        np.testing.assert_allclose(g.replicates, one_by_one, rtol=1e-9, atol=1e-12)


def test_reliability_overview_rows_are_the_overall_functions_on_the_subset():
    """Each scope's row is g_study / d_study / phi_lambda / raters_needed on that scope's
    judgements alone: a verdict (c × r), a leeruitkomst's and a dimension's indicators
    (c × r × i, indicators fixed), the decision."""
    sim = simulate(FW, SimulationConfig(n_sessions=1, n_raters=4, cases_per_session=8, seed=3))
    s = sim.scores
    out = reliability_overview(s, FW, by=("verdict", "indicator", "dimension", "decision"), n_boot=60, seed=2)
    assert list(out.loc[out["kind"] == "verdict", "name"]) == [o.name for o in FW.outcomes if o.verdict_item_id in set(s["item"])]
    assert list(out.loc[out["kind"] == "indicator", "name"]) == [o.name for o in FW.outcomes]
    dims = out[out["kind"] == "dimension"]
    assert set(dims["name"]) <= {d.name for o in FW.outcomes for d in o.dimensions}
    assert out["kind"].iloc[-1] == "decision"
    checks = {
        "verdict": (select_scores(s, items=["afstemmen.oordeel"]), "c x r", (), "afstemmen"),
        "indicator": (select_scores(s, kind="indicator", outcome="leerstof"), "c x r x i", ("i",), "leerstof"),
        "dimension": (select_scores(s, kind="indicator", outcome="leerklimaat.klassenmanagement"), "c x r x i", ("i",),
                      "leerklimaat.klassenmanagement"),
        "decision": (select_scores(s, kind="decision"), "c x r", (), "besluit"),
    }
    for kind, (sub, design, fixed, scope) in checks.items():
        sub = sub[sub["value"] != "n.v.t."]
        row = out[(out["kind"] == kind) & (out["scope"] == scope)].iloc[0]
        g = g_study(sub, design, n_boot=60, seed=2, method="henderson1", ci=None)
        own = d_study(g, fixed=fixed).iloc[0]
        for coef in ("Erho2", "Phi", "Phi_low", "Phi_high", "Erho2_low", "Erho2_high"):
            assert row[coef] == pytest.approx(own[coef], abs=1e-12), (kind, coef)
        assert row["n_cases"] == sub["case"].nunique() and row["n_raters"] == sub["rater"].nunique()
        if design == "c x r":
            assert row["Phi_lambda"] == pytest.approx(phi_lambda(g, 0.5), abs=1e-12)
        else:
            assert np.isnan(row["Phi_lambda"])
        for t in (0.7, 0.8):
            need = raters_needed(g, t, fixed=fixed)
            key = f"raters_{round(t * 100)}"
            assert (np.isnan(row[key]) and need.n is None) or row[key] == need.n
            assert (row[f"{key}_low"], row[f"{key}_high"]) == need.ci
            assert row[f"{key}_low"] <= (need.n or np.inf) <= row[f"{key}_high"]
        assert row["Phi_low"] <= row["Phi"] <= row["Phi_high"]


def test_reliability_overview_says_which_scopes_lack_data():
    sim = simulate(FW, SimulationConfig(n_sessions=1, n_raters=4, cases_per_session=8, seed=3))
    two_cases = sim.scores[sim.scores["case"].isin(sorted(sim.scores["case"].unique())[:2])]
    out = reliability_overview(two_cases, FW, by=("verdict", "decision"), n_boot=0)
    assert out["note"].str.contains("Too few cases").all() and out["Phi"].isna().all()
    with pytest.raises(InputError, match="scope kind"):
        reliability_overview(sim.scores, FW, by=("outcome",))
