"""Many-facet Rasch measures against published output: Winsteps on the Knox Cube Test.

Data and source: tests/raters/data/README.md (Wright & Stone 1979; Winsteps 3.73 output as
shipped with R's rpf). The model is the dichotomous Rasch model: one assessor (the tester),
so the assessor facet is a constant and case × item is Winsteps' person × item.

Two checks. (1) With every child and item anchored at the published measures, our
standard errors, infit/outfit mean squares and ZStd and displacements equal Winsteps' to
the precision the 2-decimal measures allow. (2) Estimated freely, our JMLE is the exact
solution of the likelihood equations; Winsteps stopped at its convergence criterion (its
own displacements, up to 0.04 logits, say the next step would still move the measures):
ours lie where Winsteps' displacements point, in the same order, within 0.2 logits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.raters import rasch_measures

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def kct():
    resp = pd.read_csv(DATA / "kct_responses.csv", dtype=str)
    long = resp.melt(id_vars="child", var_name="item", value_name="value")
    scores = pd.DataFrame({"session": "BTD", "case": long["child"], "rater": "tester", "item": long["item"],
                           "kind": "tap", "value": long["value"]})
    published = pd.read_csv(DATA / "kct_winsteps.csv").set_index(["facet", "element"])
    return scores, published


def _fit(scores, **kw):
    return rasch_measures(scores, kinds=None, categories={"tap": ("0", "1")}, bias=False, **kw)


def test_statistics_at_the_published_measures_equal_winsteps(kct):
    scores, pub = kct
    res = _fit(scores, anchors=dict(pub["measure"].items()))
    got = res.facets.set_index(["facet", "element"]).loc[pub.index]
    assert got["anchored"].all() and np.allclose(got["measure"], pub["measure"])
    # the same elements are extreme: items 1-3 (all correct), 18 (none), and the child whose
    # only correct answers are on items 1-3
    assert ((got["status"] != "measured") == (pub["winsteps"] == "extreme")).all()
    m = pub["winsteps"] == "measured"
    # SE printed to 2 decimals: within half a unit (and rounding of the measures)
    assert np.abs(got["se"] - pub["se"]).max() <= 0.006
    # fit to 4 decimals, from measures rounded to 2: within 0.011
    for col in ("infit", "outfit", "infit_zstd", "outfit_zstd"):
        diff = np.abs(got.loc[m, col] - pub.loc[m, col])
        assert diff.max() <= 0.011, (col, diff.idxmax(), diff.max())
        assert diff.median() <= 0.005, col
    assert np.abs(got.loc[m, "displacement"] - pub.loc[m, "displacement"]).max() <= 0.011


def test_free_estimates_lie_where_winsteps_displacements_point(kct):
    scores, pub = kct
    res = _fit(scores, tol=1e-9)
    assert res.converged
    got = res.facets.set_index(["facet", "element"]).loc[pub.index]
    assert np.abs(got.loc[got["status"] == "measured", "displacement"]).max() < 1e-6  # a fixed point
    diff = got["measure"] - pub["measure"]
    assert np.abs(diff).max() < 0.2
    moved = pub["displacement"].abs() >= 0.02
    assert (np.sign(diff[moved]) == np.sign(pub.loc[moved, "displacement"])).all()
    for facet in ("case", "item"):  # the same order, ties (equal raw scores) included
        a, b = got.loc[facet, "measure"].round(6), pub.loc[facet, "measure"]
        assert a.rank(method="min").equals(b.rank(method="min")), facet
    # the mean of the measured items is 0 in both
    items = pub.loc["item"]
    assert abs(got.loc["item"].loc[items["winsteps"] == "measured", "measure"].mean()) < 1e-9
    assert abs(items.loc[items["winsteps"] == "measured", "measure"].mean()) < 0.01
