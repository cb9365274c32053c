"""Many-facet Rasch measures: a second route to the same estimates, the fit formulas
recomputed observation by observation, planted effects, extremes and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from calibrate.errors import InputError
from calibrate.raters import rasch_measures

CODES = ("1", "2", "3", "4")


def _simulate_rsm(seed: int, n_case=18, n_rater=4, n_item=5, severity=None, bias_cell=None) -> pd.DataFrame:
    """A small complete case x rater x item design on a 4-category rating scale."""
    rng = np.random.default_rng(seed)
    B = rng.normal(0, 1.2, n_case)
    C = np.array(severity if severity is not None else rng.normal(0, 0.5, n_rater))
    D = rng.normal(0, 0.6, n_item)
    F = np.array([-1.2, 0.1, 1.1])
    rows = []
    for n in range(n_case):
        for j in range(n_rater):
            for i in range(n_item):
                eta = B[n] - D[i] - C[j] + (2.0 if bias_cell == (j, i) else 0.0)
                logits = np.concatenate([[0], np.cumsum(eta - F)])
                p = np.exp(logits - logits.max())
                x = rng.choice(4, p=p / p.sum())
                rows.append(("S", f"N{n:02d}", f"R{j}", f"I{i}", "score", CODES[x]))
    return pd.DataFrame(rows, columns=["session", "case", "rater", "item", "kind", "value"])


def _joint_ml(df: pd.DataFrame, pcm: bool) -> dict:
    """The same model maximised directly: the joint log-likelihood over all parameters
    (raters and items summing to 0, thresholds summing to 0 per scale) by BFGS."""
    cases, raters, items = (sorted(df[c].unique()) for c in ("case", "rater", "item"))
    n, j, i = (df[c].map({v: k for k, v in enumerate(lst)}).to_numpy() for c, lst in
               (("case", cases), ("rater", raters), ("item", items)))
    x = df["value"].map({c: k for k, c in enumerate(CODES)}).to_numpy()
    N, R, I, m = len(cases), len(raters), len(items), 3
    G = I if pcm else 1

    def unpack(p):
        B = p[:N]
        C = np.append(p[N:N + R - 1], -p[N:N + R - 1].sum())
        D = np.append(p[N + R - 1:N + R + I - 2], -p[N + R - 1:N + R + I - 2].sum())
        f = p[N + R + I - 2:].reshape(G, m - 1)
        F = np.concatenate([f, -f.sum(axis=1, keepdims=True)], axis=1)
        return B, C, D, F

    def nll(p):
        B, C, D, F = unpack(p)
        eta = B[n] - D[i] - C[j]
        Fo = F[i] if pcm else F[np.zeros_like(i)]
        L = np.concatenate([np.zeros((eta.size, 1)), np.cumsum(eta[:, None] - Fo, axis=1)], axis=1)
        mx = L.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(L - mx).sum(axis=1))
        return -(L[np.arange(eta.size), x] - lse).sum()

    p0 = np.zeros(N + R + I - 2 + G * (m - 1))
    res = optimize.minimize(nll, p0, method="BFGS", options={"gtol": 1e-9, "maxiter": 10_000})
    B, C, D, F = unpack(res.x)
    return {"case": dict(zip(cases, B)), "rater": dict(zip(raters, C)), "item": dict(zip(items, D)), "F": F, "nll": res.fun}


@pytest.mark.parametrize("model", ["rating_scale", "partial_credit"])
def test_jmle_equals_direct_joint_maximum_likelihood(model):
    df = _simulate_rsm(11)
    ours = rasch_measures(df, model=model, kinds=None, categories={"score": CODES}, tol=1e-10)
    ref = _joint_ml(df, pcm=model == "partial_credit")
    assert ours.converged
    for facet in ("case", "rater", "item"):
        got = ours.facets[ours.facets["facet"] == facet].set_index("element")["measure"]
        want = pd.Series(ref[facet])
        assert np.allclose(got.loc[want.index], want, atol=1e-5), facet
    assert ours.log_likelihood == pytest.approx(-ref["nll"], abs=1e-6)
    th = ours.thresholds.dropna(subset=["threshold"])
    if model == "rating_scale":
        assert np.allclose(th["threshold"], ref["F"][0], atol=1e-5)


def test_fit_statistics_recomputed_observation_by_observation():
    """SE, infit/outfit MnSq and ZStd (Wright & Masters 1982) from a plain loop."""
    df = _simulate_rsm(5)
    res = rasch_measures(df, kinds=None, categories={"score": CODES}, tol=1e-10)
    f = res.facets.set_index(["facet", "element"])["measure"]
    F = res.thresholds.dropna(subset=["threshold"])["threshold"].to_numpy()
    k = np.arange(4)
    acc: dict = {}
    for r in df.itertuples():
        eta = f[("case", r.case)] - f[("item", r.item)] - f[("rater", r.rater)]
        logits = np.concatenate([[0], np.cumsum(eta - F)])
        p = np.exp(logits) / np.exp(logits).sum()
        E = (k * p).sum()
        W = ((k - E) ** 2 * p).sum()
        C4 = ((k - E) ** 4 * p).sum()
        x = CODES.index(r.value)
        for key in (("case", r.case), ("rater", r.rater), ("item", r.item)):
            a = acc.setdefault(key, {"y2": 0.0, "W": 0.0, "z2": 0.0, "C_W2": 0.0, "C_W2b": 0.0, "n": 0})
            a["y2"] += (x - E) ** 2
            a["W"] += W
            a["z2"] += (x - E) ** 2 / W
            a["C_W2"] += C4 / W**2
            a["C_W2b"] += C4 - W**2
            a["n"] += 1
    got = res.facets.set_index(["facet", "element"])
    for key, a in acc.items():
        infit, outfit = a["y2"] / a["W"], a["z2"] / a["n"]
        q_out = np.sqrt(a["C_W2"] / a["n"] ** 2 - 1 / a["n"])
        q_in = np.sqrt(a["C_W2b"] / a["W"] ** 2)
        row = got.loc[key]
        assert row["se"] == pytest.approx(1 / np.sqrt(a["W"]), rel=1e-9)
        assert row["infit"] == pytest.approx(infit, rel=1e-9)
        assert row["outfit"] == pytest.approx(outfit, rel=1e-9)
        assert row["infit_zstd"] == pytest.approx((infit ** (1 / 3) - 1) * 3 / q_in + q_in / 3, rel=1e-7)
        assert row["outfit_zstd"] == pytest.approx((outfit ** (1 / 3) - 1) * 3 / q_out + q_out / 3, rel=1e-7)


def test_fair_average_and_separation_follow_their_definitions():
    df = _simulate_rsm(7)
    res = rasch_measures(df, kinds=None, categories={"score": CODES})
    F = res.thresholds.dropna(subset=["threshold"])["threshold"].to_numpy()
    cases = res.cases
    k = np.arange(4)
    for r in res.raters.itertuples():
        logits = np.concatenate([[0], np.cumsum(cases["measure"].mean() - 0.0 - r.measure - F)])
        p = np.exp(logits) / np.exp(logits).sum()
        assert r.fair_average == pytest.approx((p * (k + 1)).sum(), rel=1e-9)
    s = res.summary.set_index("facet").loc["case"]
    sd, rmse = cases["measure"].std(ddof=0), np.sqrt((cases["se"] ** 2).mean())
    assert s["rmse"] == pytest.approx(rmse) and s["reliability"] == pytest.approx((sd**2 - rmse**2) / sd**2)
    assert s["separation"] == pytest.approx(np.sqrt(sd**2 - rmse**2) / rmse)


def test_severity_and_bias_are_recovered():
    df = _simulate_rsm(3, n_case=40, n_rater=5, n_item=6, severity=[-1.0, 0.0, 0.0, 0.0, 1.0], bias_cell=(2, 3))
    res = rasch_measures(df, kinds=None, categories={"score": CODES})
    sev = res.raters.set_index("element")["measure"]
    assert sev.idxmin() == "R0" and sev.idxmax() == "R4"
    top = res.bias.sort_values("t").iloc[-1]
    assert (top["rater"], top["item"]) == ("R2", "I3") and top["bias"] > 0 and top["p"] < 0.01


def test_demo_planted_lenient_assessor(demo):
    res = rasch_measures(demo.scores)
    r = res.raters.set_index("element")
    assert r["measure"].idxmin() == "B03" and r.loc["B03", "measure"] + 1.96 * r.loc["B03", "se"] < 0
    assert r["measure"].idxmax() == "B05"  # drifting towards severe
    assert set(res.summary["facet"]) == {"case", "rater", "item"}
    assert np.isclose(r["measure"].mean(), 0.0, atol=1e-9)


def test_extreme_elements_get_a_finite_measure_and_a_status():
    df = _simulate_rsm(9)
    df.loc[df["case"] == "N00", "value"] = "4"
    res = rasch_measures(df, kinds=None, categories={"score": CODES})
    c = res.cases.set_index("element")
    assert c.loc["N00", "status"] == "extreme_max" and np.isfinite(c.loc["N00", "measure"])
    assert c.loc["N00", "measure"] > c.loc[c.index != "N00", "measure"].max()
    assert res.summary.set_index("facet").loc["case", "n"] == len(c) - 1


def test_errors():
    df = _simulate_rsm(1)
    with pytest.raises(InputError, match="'model' parameter"):
        rasch_measures(df, model="graded", kinds=None, categories={"score": CODES})
    with pytest.raises(InputError, match="the same category"):
        rasch_measures(df.assign(value="2"), kinds=None, categories={"score": CODES})


def test_anchors_hold_and_bad_anchors_are_named():
    df = _simulate_rsm(4)
    free = rasch_measures(df, kinds=None, categories={"score": CODES}, tol=1e-10)
    r = free.raters.set_index("element")["measure"]
    anchored = rasch_measures(df, kinds=None, categories={"score": CODES}, tol=1e-10,
                              anchors={("rater", "R0"): float(r["R0"]) + 0.5, ("rater", "R1"): float(r["R1"])})
    a = anchored.raters.set_index("element")
    assert a.loc["R0", "measure"] == pytest.approx(r["R0"] + 0.5) and a.loc["R0", "anchored"]
    assert a.loc["R0", "displacement"] < -0.1  # the data pull the too-severe anchor back
    assert np.abs(a.loc[["R2", "R3"], "displacement"]).max() < 1e-6 and not a.loc["R2", "anchored"]
    assert np.abs(free.facets["displacement"].dropna()).max() < 1e-6
    with pytest.raises(InputError, match="anchor facet 'judge'"):
        rasch_measures(df, kinds=None, categories={"score": CODES}, anchors={("judge", "R0"): 0.0})
    with pytest.raises(InputError, match="anchored rater 'R9' has no ratings"):
        rasch_measures(df, kinds=None, categories={"score": CODES}, anchors={("rater", "R9"): 0.0})
