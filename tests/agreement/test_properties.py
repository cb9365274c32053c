"""Property tests over every coefficient from one registry (Hypothesis).

Each coefficient is tagged with the properties it must have; one test per property runs
them all: invariance to unit order and rater order, to relabelling (nominal scales), 1 for
perfect agreement, documented bounds, identity weights = unweighted, and the long-format
route = the contingency-table route.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate.agreement import (
    bootstrap,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    table_to_long,
)

# name -> (function, keyword options, two raters only, nominal (relabel-invariant), lower bound)
REGISTRY = {
    "percent_agreement": (percent_agreement, {}, False, True, 0.0),
    "cohen_kappa": (cohen_kappa, {}, True, True, -1.0),
    "cohen_kappa_quadratic": (cohen_kappa, {"weights": "quadratic"}, True, False, -1.0),
    "scott_pi": (scott_pi, {}, True, True, -1.0),
    "fleiss_kappa": (fleiss_kappa, {}, False, True, -1.0),
    "fleiss_kappa_linear": (fleiss_kappa, {"weights": "linear"}, False, False, -np.inf),
    "conger_kappa": (conger_kappa, {}, False, True, -np.inf),
    "conger_kappa_ordinal": (conger_kappa, {"weights": "ordinal"}, False, False, -np.inf),
    "gwet_ac1": (gwet_ac, {}, False, True, -1.0),
    "gwet_ac2": (gwet_ac, {"weights": "quadratic"}, False, False, -np.inf),
    "brennan_prediger": (brennan_prediger, {}, False, True, -np.inf),
    "alpha_nominal": (krippendorff_alpha, {"level": "nominal"}, False, True, -np.inf),
    "alpha_ordinal": (krippendorff_alpha, {"level": "ordinal"}, False, False, -np.inf),
    "alpha_interval": (krippendorff_alpha, {"level": "interval"}, False, False, -np.inf),
    "alpha_ratio": (krippendorff_alpha, {"level": "ratio"}, False, False, -np.inf),
}
IDS = list(REGISTRY)
CATS = ["a", "b", "c", "d"]
PROFILE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ratings(draw, two: bool = False, complete: bool = False):
    n = draw(st.integers(4, 12))
    r = 2 if two else draw(st.integers(2, 4))
    q = draw(st.integers(2, 4))
    cells = draw(
        st.lists(st.lists(st.integers(-1 if not complete else 0, q - 1), min_size=r, max_size=r),
                 min_size=n, max_size=n)
    )
    m = np.array(cells)
    m[:, :2] = np.where(m[:, :2] < 0, 0, m[:, :2])  # every unit pairable
    rows = [(f"u{i}", f"r{j}", CATS[m[i, j]]) for i in range(n) for j in range(r) if m[i, j] >= 0]
    return pd.DataFrame(rows, columns=["unit", "rater", "value"]), CATS[:q]


def _value(name, df, cats):
    func, kw, _, _, _ = REGISTRY[name]
    return func(df, categories=cats, **kw)


def _same(a, b):
    if np.isnan(a.value):
        assert np.isnan(b.value)
        return
    assert a.value == pytest.approx(b.value, abs=1e-10)
    if a.se is not None:
        assert b.se == pytest.approx(a.se, abs=1e-10)


@pytest.mark.parametrize("name", IDS)
@PROFILE
@given(data=st.data())
def test_unit_and_rater_order(name, data):
    df, cats = data.draw(ratings(two=REGISTRY[name][2]))
    base = _value(name, df, cats)
    shuffled = df.sample(frac=1.0, random_state=data.draw(st.integers(0, 10_000)))
    _same(base, _value(name, shuffled, cats))
    ren = df.assign(rater=df["rater"].map(lambda s: f"z{9 - int(s[1:])}"),
                    unit=df["unit"].map(lambda s: f"v{99 - int(s[1:])}"))
    _same(base, _value(name, ren, cats))


@pytest.mark.parametrize("name", [n for n in IDS if REGISTRY[n][3]])
@PROFILE
@given(data=st.data())
def test_relabelling_nominal(name, data):
    df, cats = data.draw(ratings(two=REGISTRY[name][2]))
    perm = data.draw(st.permutations(cats))
    mapping = dict(zip(cats, [c.upper() for c in perm], strict=True))
    relabelled = df.assign(value=df["value"].map(mapping))
    a = _value(name, df, cats)
    b = _value(name, relabelled, [mapping[c] for c in cats])
    _same(a, b)


@pytest.mark.parametrize("name", IDS)
@PROFILE
@given(data=st.data())
def test_perfect_agreement_is_one(name, data):
    df, cats = data.draw(ratings(two=REGISTRY[name][2]))
    first = df.groupby("unit")["value"].transform("first")
    perfect = df.assign(value=first)
    if perfect["value"].nunique() < 2:
        perfect.loc[perfect["unit"] == perfect["unit"].iloc[0], "value"] = (
            cats[1] if perfect["value"].iloc[0] == cats[0] else cats[0]
        )
    res = _value(name, perfect, cats)
    assert res.value == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", IDS)
@PROFILE
@given(data=st.data())
def test_bounds(name, data):
    df, cats = data.draw(ratings(two=REGISTRY[name][2]))
    res = _value(name, df, cats)
    lo = REGISTRY[name][4]
    if np.isnan(res.value):
        return
    assert lo - 1e-12 <= res.value <= 1 + 1e-12
    if res.ci is not None:
        assert res.ci[1] <= 1.0
        assert res.ci[0] <= res.value <= res.ci[1] + 1e-12
    if res.p_o is not None:
        assert -1e-12 <= res.p_o <= 1 + 1e-12


@pytest.mark.parametrize("func", [percent_agreement, fleiss_kappa, conger_kappa, gwet_ac, brennan_prediger])
@PROFILE
@given(data=st.data())
def test_identity_weights_equal_unweighted(func, data):
    df, cats = data.draw(ratings())
    q = len(cats)
    _same(func(df, categories=cats), func(df, categories=cats, weights="identity"))
    _same(func(df, categories=cats), func(df, categories=cats, weights=np.eye(q)))


def _cohen_from_table(t: np.ndarray, w: np.ndarray):
    """Closed-form kappa and its Fleiss-Cohen-Everitt (1969) ASE, straight from the table."""
    n = t.sum()
    p = t / n
    pr, pc = p.sum(1), p.sum(0)
    po = float(np.sum(w * p))
    pe = float(pr @ w @ pc)
    k = (po - pe) / (1 - pe)
    wr, wc = w @ pc, pr @ w
    s = float(np.sum(p * (w - (wr[:, None] + wc[None, :]) * (1 - k)) ** 2))
    var = (s - (k - pe * (1 - k)) ** 2) / (n * (1 - pe) ** 2)
    return k, np.sqrt(var)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@PROFILE
@given(table=st.lists(st.lists(st.integers(0, 6), min_size=3, max_size=3), min_size=3, max_size=3))
def test_long_route_equals_table_route(weights, table):
    t = np.array(table)
    t[np.diag_indices(3)] += 1
    t[0, 1] += 1
    long = table_to_long(t, categories=["x", "y", "z"])
    res = cohen_kappa(long, categories=["x", "y", "z"], weights=weights)
    w = {None: np.eye(3), "linear": 1 - np.abs(np.subtract.outer(range(3), range(3))) / 2,
         "quadratic": 1 - np.subtract.outer(range(3), range(3)) ** 2 / 4}[weights]
    k, se = _cohen_from_table(t, w)
    if not np.isfinite(k):
        return
    assert res.value == pytest.approx(k, abs=1e-12)
    assert res.se == pytest.approx(se, abs=1e-12)
    assert conger_kappa(long, categories=["x", "y", "z"], weights=weights).value == pytest.approx(k, abs=1e-12)


@PROFILE
@given(data=st.data())
def test_icc_order_invariance_and_perfect(data):
    n, r = data.draw(st.integers(3, 8)), data.draw(st.integers(2, 4))
    vals = np.array(data.draw(st.lists(st.integers(1, 6), min_size=n * r, max_size=n * r))).reshape(n, r)
    df = pd.DataFrame([(f"u{i}", f"r{j}", vals[i, j]) for i in range(n) for j in range(r)],
                      columns=["unit", "rater", "value"])
    for model in ("oneway", "twoway_random", "twoway_mixed"):
        a = icc(df, model=model)
        b = icc(df.sample(frac=1, random_state=1), model=model)
        if np.isfinite(a.value):
            assert a.value == pytest.approx(b.value, abs=1e-10)
    base = np.arange(n, dtype=float)
    perfect = pd.DataFrame([(i, j, base[i]) for i in range(n) for j in range(r)], columns=["unit", "rater", "value"])
    for model in ("oneway", "twoway_random", "twoway_mixed"):
        assert icc(perfect, model=model).value == pytest.approx(1.0)


@pytest.mark.parametrize(
    "name,kw",
    [("krippendorff_alpha", {"level": "ordinal"}), ("krippendorff_alpha", {"level": "nominal"}),
     ("gwet_ac", {"weights": "quadratic"}), ("fleiss_kappa", {}), ("percent_agreement", {}),
     ("brennan_prediger", {}), ("conger_kappa", {})],
)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_bootstrap_replicates_equal_direct_recomputation(name, kw, data):
    """The vectorised resampling gives exactly what recomputing on the resample gives."""
    df, cats = data.draw(ratings())
    res = bootstrap(df, name, n_resamples=5, seed=7, categories=cats, **kw)
    rng = np.random.default_rng(7)
    units = pd.Index(pd.factorize(df["unit"])[1])
    n = len(units)
    func = REGISTRY[{"krippendorff_alpha": "alpha_" + kw.get("level", "nominal"),
                     "gwet_ac": "gwet_ac2" if kw else "gwet_ac1"}.get(name, name)][0]
    for b in range(5):
        idx = rng.integers(0, n, size=n)
        parts = [df[df["unit"] == units[i]].assign(unit=f"s{j}") for j, i in enumerate(idx)]
        direct = func(pd.concat(parts), categories=cats, **kw).value
        rep = res.details["replicates"][b]
        if np.isnan(direct):
            assert np.isnan(rep)
        else:
            assert rep == pytest.approx(direct, abs=1e-10)


def test_contract_parameters_may_also_be_given_by_position():
    """CONTRACTS §2 lists the scale options right after the data; outside checks may pass
    them by position, so they must mean the same as the keywords."""
    import pandas as pd

    from calibrate import agreement as ag

    df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "rater": list("abababab"), "value": [1, 1, 2, 3, 3, 3, 1, 2]})
    assert ag.krippendorff_alpha(df, "ordinal", [1, 2, 3]).value == ag.krippendorff_alpha(df, level="ordinal", categories=[1, 2, 3]).value
    assert ag.cohen_kappa(df, "linear").value == ag.cohen_kappa(df, weights="linear").value
    assert ag.icc(df, "twoway_random", "average").value == ag.icc(df, model="twoway_random", kind="average").value
