"""Latent consensus: crowd-kit's DawidSkene in the same run, properties, the prior, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.raters import ConsensusPrior, latent_consensus
from crowdkit_peer import run_crowdkit, task_table

KINDS = ["indicator", "level", "phase", "verdict", "decision"]
# published data sets of shared/reference-data (sources in its README): complete, missing
# cells, ordinal, many raters
REFERENCE = [
    "fleiss1971_diagnoses", "gwet_distrib_6raters", "irr_anxiety_20subjects_3raters",
    "hayes_krippendorff2007_40units_5obs", "gwet_cac_raw4raters", "krippendorff2011_4obs_12units",
]


def _ours(scores: pd.DataFrame, kind: str, **kw):
    cats = sorted(scores.loc[(scores["kind"] == kind) & ~scores["value"].isin(["n.v.t.", ""]), "value"].unique())
    return latent_consensus(scores, kinds=[kind], prior=None, class_prior="kind", model="nominal", n_boot=0,
                            categories={kind: cats}, **kw)


def _posterior(res) -> pd.DataFrame:
    return res.posterior.assign(task=lambda d: d["session"] + "|" + d["case"] + "|" + d["item"])


def _max_diff(ours: pd.DataFrame, ck: dict) -> float:
    theirs = pd.DataFrame(ck["probas"], columns=["task", "category", "p_ck"])
    m = ours.merge(theirs, on=["task", "category"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), "crowd-kit and calibrate disagree on the tasks or labels"
    return float((m["p"] - m["p_ck"]).abs().max())


@pytest.fixture(scope="module")
def crowdkit(demo, reference_scores, tmp_path_factory):
    """crowd-kit on every data set of this module, in one process of its own venv."""
    jobs = {}
    for kind in KINDS:
        t = task_table(demo.scores[demo.scores["kind"] == kind])
        for n_iter in (1, 10):
            jobs[f"demo-{kind}-{n_iter}"] = (t, n_iter, -1.0, {})
        jobs[f"demo-{kind}-stop"] = (t, 100, 1e-5, {})
    for stem in REFERENCE:
        t = task_table(reference_scores(stem))
        jobs[f"ref-{stem}-60"] = (t, 60, -1.0, {})
        jobs[f"ref-{stem}-stop"] = (t, 100, 1e-5, {})
    jobs["demo-verdict-errors"] = (task_table(demo.scores[demo.scores["kind"] == "verdict"]), 20, -1.0, {"errors": True})
    return run_crowdkit(jobs, tmp_path_factory.mktemp("crowdkit"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_iter", [1, 10])
def test_same_posteriors_as_crowdkit_iteration_by_iteration(demo, kind, n_iter, crowdkit):
    """Without a prior, from majority-vote shares, one shared class prior: crowd-kit's EM
    step for step (its posteriors are clipped at 1e-10, hence the tolerance)."""
    ours = _posterior(_ours(demo.scores[demo.scores["kind"] == kind], kind, max_iter=n_iter, tol=-1.0))
    assert _max_diff(ours, crowdkit[f"demo-{kind}-{n_iter}"]) < 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_same_posteriors_as_crowdkit_with_its_stopping_rule(demo, kind, crowdkit):
    res = _ours(demo.scores[demo.scores["kind"] == kind], kind, max_iter=100, tol=1e-5, stop="crowdkit")
    ck = crowdkit[f"demo-{kind}-stop"]
    assert res.n_iter[kind] == ck["n_iter"]
    assert _max_diff(_posterior(res), ck) < 1e-6


@pytest.mark.parametrize("stem", REFERENCE)
def test_same_posteriors_as_crowdkit_on_published_data(reference_scores, stem, crowdkit):
    scores = reference_scores(stem)
    assert _max_diff(_posterior(_ours(scores, "ref", max_iter=60, tol=-1.0)), crowdkit[f"ref-{stem}-60"]) < 1e-6
    res = _ours(scores, "ref", max_iter=100, tol=1e-5, stop="crowdkit")
    assert res.n_iter["ref"] == crowdkit[f"ref-{stem}-stop"]["n_iter"]
    assert _max_diff(_posterior(res), crowdkit[f"ref-{stem}-stop"]) < 1e-6


def test_same_confusion_matrices_as_crowdkit(demo, crowdkit):
    scores = demo.scores[demo.scores["kind"] == "verdict"]
    res = _ours(scores, "verdict", max_iter=20, tol=-1.0)
    theirs = pd.DataFrame(crowdkit["demo-verdict-errors"]["errors"], columns=["rater", "observed", "true", "p_ck"])
    m = res.confusions.merge(theirs, on=["rater", "observed", "true"])
    assert len(m) == len(theirs) and np.allclose(m["p"], m["p_ck"], atol=1e-9)


# ------------------------------------------------------------------------ properties
@pytest.fixture(scope="module")
def fitted(demo):
    return latent_consensus(demo.scores, n_boot=20)


def test_posteriors_are_distributions_and_most_likely_is_their_mode(fitted):
    sums = fitted.posterior.groupby(["session", "case", "item"])["p"].sum()
    assert np.allclose(sums, 1.0)
    top = fitted.posterior.loc[fitted.posterior.groupby(["session", "case", "item"])["p"].idxmax()]
    m = fitted.most_likely.merge(top, on=["session", "case", "item"], suffixes=("", "_top"))
    assert (m["value"] == m["category"]).all() and np.allclose(m["p"], m["p_top"])
    assert set(fitted.models.items()) == {("indicator", "nominal"), ("level", "ordinal"), ("phase", "ordinal"),
                                          ("verdict", "nominal"), ("decision", "nominal")}
    assert all(fitted.converged.values())


def test_confusion_rows_sum_to_one_and_intervals_hold_the_estimate(fitted):
    conf = fitted.confusions
    rows = conf.groupby(["rater", "kind", "true"])["p"].sum()
    assert np.allclose(rows, 1.0)
    assert (conf["ci_low"] <= conf["p"] + 1e-9).mean() > 0.95 and (conf["p"] <= conf["ci_high"] + 1e-9).mean() > 0.95
    assert (conf["ci_low"] < conf["ci_high"]).any()
    b03 = fitted.confusion("B03", "verdict")
    assert set(b03["true"]) == {"niet voldaan", "voldaan"}
    with pytest.raises(InputError, match="Unknown rater"):
        fitted.confusion("B99")


def test_planted_lenient_assessor_has_a_positive_leniency(fitted):
    """B03 is planted +1.2 logits lenient: above the consensus on every kind, interval above 0."""
    r = fitted.raters[fitted.raters["rater"] == "B03"]
    assert (r["leniency"] > 0).all() and (r["leniency_ci_low"] > 0).all()


def test_rater_order_and_relabelling_invariance(demo):
    s = demo.scores[demo.scores["kind"] == "indicator"]
    base = latent_consensus(s, n_boot=0).posterior
    shuffled = s.sample(frac=1.0, random_state=1)
    renamed = shuffled.assign(rater=shuffled["rater"].map(lambda r: "Z" + r[::-1]))
    other = latent_consensus(renamed, n_boot=0).posterior
    m = base.merge(other, on=["session", "case", "item", "category"])
    assert len(m) == len(base) and np.allclose(m["p_x"], m["p_y"], atol=1e-9)


def test_unanimous_panel_gives_certain_posteriors():
    rows = [("S", f"C{c}", f"R{r}", "i1", "verdict", "voldaan" if c % 2 else "niet voldaan")
            for c in range(8) for r in range(4)]
    s = pd.DataFrame(rows, columns=["session", "case", "rater", "item", "kind", "value"])
    ml = latent_consensus(s, n_boot=0).most_likely
    assert (ml["value"] == ml["majority"]).all() and (ml["p"] > 0.99).all()


def test_the_prior_keeps_a_small_team_stable():
    """3 assessors, 4 cases: without a prior, confusion rows hit 0 and 1; with it, not."""
    rng = np.random.default_rng(3)
    rows = []
    for c in range(4):
        truth = rng.integers(0, 3)
        for r in range(3):
            v = int(np.clip(truth + rng.integers(-1, 2), 0, 2))
            rows.append(("S", f"C{c}", f"R{r}", "fase.x", "phase", ("begin", "groei", "vergevorderd")[v]))
    s = pd.DataFrame(rows, columns=["session", "case", "rater", "item", "kind", "value"])
    ml_fit = latent_consensus(s, prior=None, model="nominal", n_boot=0)
    map_fit = latent_consensus(s, n_boot=50)
    assert ((ml_fit.confusions["p"] < 1e-6) | (ml_fit.confusions["p"] > 1 - 1e-6)).any()
    assert map_fit.confusions["p"].between(1e-4, 1 - 1e-4).all()
    assert map_fit.raters["accuracy"].between(0.3, 1.0).all()
    prior = ConsensusPrior()
    a = prior.confusion(3)
    assert np.allclose(a.sum(axis=1), prior.diagonal + prior.off_diagonal) and a[0, 1] > a[0, 2]


def test_ordinal_confusions_are_threshold_shaped(fitted):
    """Ordinal model: each row's cumulative probabilities fall as the true category rises."""
    c = fitted.confusions[(fitted.confusions["kind"] == "level")]
    codes = ["1", "2", "3", "4", "5", "6"]
    for _, g in c.groupby("rater"):
        M = g.pivot(index="true", columns="observed", values="p").loc[codes, codes].to_numpy()
        cum = M.cumsum(axis=1)[:, :-1]
        assert (np.diff(cum, axis=0) <= 1e-12).all()


def test_differences_lists_judgements_against_the_model(fitted):
    d = fitted.differences("B03", min_p=0.9)
    assert len(d) and (d["value"] != d["most_likely"]).all() and (d["p"] >= 0.9).all() and (d["rater"] == "B03").all()


# ------------------------------------------------------------------------ errors
def test_errors_name_the_problem(demo):
    s = demo.scores.copy()
    bad = s.copy()
    bad.loc[bad.index[5], "value"] = "misschien"
    with pytest.raises(InputError, match="outside their item's scale.*misschien.*row 7,"):
        latent_consensus(bad, n_boot=0)
    pos = int(np.flatnonzero((bad["kind"] == "verdict").to_numpy())[2])
    bad.loc[bad.index[pos], "value"] = "misschien"
    with pytest.raises(InputError, match=f"misschien' \\(row {pos + 2},"):
        latent_consensus(bad, kinds=["verdict"], n_boot=0)
    dup = pd.concat([s.head(3), s.head(1).assign(value="gezien" if s.iloc[0]["value"] != "gezien" else "niet gezien")])
    with pytest.raises(InputError, match="judged more than once"):
        latent_consensus(dup, n_boot=0)
    with pytest.raises(InputError, match="'confusion_by' parameter"):
        latent_consensus(s, confusion_by="session")
    with pytest.raises(InputError, match="lacks the column"):
        latent_consensus(s.drop(columns=["kind"]))
    with pytest.raises(InputError, match="no judgements"):
        latent_consensus(s, kinds=["nothing"])


# ------------------------------------------------------------------------ the bootstrap
def _resampled(scores: pd.DataFrame, session_cases: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """The score table of one bootstrap resample, written out: each (session, case) as many
    times as the resample draws it, each copy a case of its own."""
    copies = []
    for (session, case), w in zip(session_cases[["session", "case"]].itertuples(index=False), weights):
        rows = scores[(scores["session"] == session) & (scores["case"] == case)]
        copies += [rows.assign(case=f"{case}~{k}") for k in range(int(w))]
    return pd.concat(copies, ignore_index=True)


def test_warm_started_batched_bootstrap_equals_refitting_every_resample_from_scratch(framework):
    """The bootstrap fits all resamples at once, each warm-started at the full fit and
    leaving the batch when it converges. Peer: every resample written out as a table (a
    case drawn twice is there twice) and fitted from scratch — majority start, EM run to
    1e-10 — then the same percentile intervals. Nominal (verdicts) and ordinal (levels).
    (With far fewer cases a resample's likelihood can have a second maximum; the warm
    start keeps the full fit's, a cold start may find the other — hence 40 cases.)"""
    from calibrate.devtools.simulate import SimulationConfig, simulate
    from calibrate.raters._door import code_judgements

    items = [i.id for i in framework.items() if i.kind == "verdict"][:2] + \
        [i.id for i in framework.items() if i.kind == "level"][:2]
    sim = simulate(framework, SimulationConfig(items=items, n_sessions=1, n_raters=6, cases_per_session=40,
                                               lenient_raters={"B03": 0.8}, seed=11))
    s = sim.scores
    n_boot, seed = 20, 5
    fit = latent_consensus(s, framework=framework, n_boot=n_boot, random_state=seed)

    # the same resamples as the bootstrap draws them: multinomial over the session-cases
    sc = code_judgements(s, func="test", framework=framework).session_cases
    rng = np.random.default_rng(seed)
    draws = [rng.multinomial(len(sc), np.full(len(sc), 1.0 / len(sc))) for _ in range(n_boot)]
    key = ["rater", "kind", "true", "observed"]
    conf, summ = [], []
    for w in draws:
        ref = latent_consensus(_resampled(s, sc, w), framework=framework, n_boot=0, tol=1e-10, max_iter=20000)
        assert all(ref.converged.values())
        conf.append(ref.confusions.set_index(key)["p"])
        summ.append(ref.raters.set_index(["rater", "kind"])[["accuracy", "leniency"]])
    conf = pd.concat(conf, axis=1)
    got = fit.confusions.set_index(key)
    assert set(conf.index) == set(got.index)
    conf = conf.loc[got.index].to_numpy()
    assert np.allclose(got["ci_low"], np.quantile(conf, 0.025, axis=1), atol=1e-3)
    assert np.allclose(got["ci_high"], np.quantile(conf, 0.975, axis=1), atol=1e-3)
    assert (got["ci_high"] - got["ci_low"]).max() > 0.05  # intervals that say something
    r = fit.raters.set_index(["rater", "kind"])
    for col in ("accuracy", "leniency"):
        per = np.stack([t.loc[r.index, col].to_numpy() for t in summ], axis=1)
        assert np.allclose(r[f"{col}_ci_low"], np.quantile(per, 0.025, axis=1), atol=1e-3)
        assert np.allclose(r[f"{col}_ci_high"], np.quantile(per, 0.975, axis=1), atol=1e-3)
