"""The coding fast paths give the same answers as the plain route.

``to_ratings`` codes columns by their dtype (categorical codes, integer bincount, string
hash table, float-to-int) and the counts-based coefficients run on distinct count
patterns weighted by frequency; the roll-up codes the score table once. These tests pin
that none of it changes a result, and that two judgements of one unit by one rater are
still refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.agreement import (
    brennan_prediger,
    fleiss_kappa,
    gwet_ac,
    kijkkader_rollup,
    krippendorff_alpha,
    percent_agreement,
)
from calibrate.agreement import _core
from calibrate.agreement._reshape import to_ratings
from calibrate.agreement._weights import weight_matrix
from calibrate.errors import InputError

LABELS = np.array(["een", "twee", "drie", "vier"], dtype=object)
CALLS = {
    "alpha_nominal": (krippendorff_alpha, {"level": "nominal"}),
    "alpha_ordinal": (krippendorff_alpha, {"level": "ordinal"}),
    "alpha_interval": (krippendorff_alpha, {"level": "interval"}),
    "fleiss": (fleiss_kappa, {}),
    "fleiss_quadratic": (fleiss_kappa, {"weights": "quadratic"}),
    "ac1": (gwet_ac, {}),
    "ac2": (gwet_ac, {"weights": "quadratic"}),
    "bp": (brennan_prediger, {}),
    "pa": (percent_agreement, {}),
}


def _long(n_units: int = 300, n_raters: int = 6, missing: float = 0.1, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, size=n_units)
    vals = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n_units, n_raters)), 0, 3)
    df = pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_raters),
        "rater": np.tile(np.array([f"r{i}" for i in range(n_raters)], dtype=object), n_units),
        "value": vals.ravel() + 1,
    })
    return df[rng.random(len(df)) >= missing].reset_index(drop=True)


def _same(a, b, tol=1e-12):
    assert a.n_units == b.n_units and a.n_raters == b.n_raters
    assert len(a.categories) == len(b.categories)  # labels differ between variants
    for x, y in ((a.value, b.value), (a.se, b.se), (a.p_o, b.p_o), (a.p_e, b.p_e)):
        assert (x is None and y is None) or x == pytest.approx(y, abs=tol, nan_ok=True)
    assert (a.ci is None) == (b.ci is None)
    if a.ci is not None:
        assert a.ci == pytest.approx(b.ci, abs=tol)


def _variants(df: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, list]]:
    """The same ratings in the dtypes a user's table can have."""
    cats = [1, 2, 3, 4]
    out = {"int values, str raters": (df, cats)}
    out["object raters"] = (df.assign(rater=df["rater"].astype(object)), cats)
    out["categorical raters"] = (df.assign(rater=df["rater"].astype("category")), cats)
    out["int raters"] = (df.assign(rater=df["rater"].str[1:].astype(int)), cats)
    out["string units"] = (df.assign(unit="u" + df["unit"].astype(str)), cats)
    # float values with the missing ratings present as NaN rows (as a wide->long reshape gives)
    full = pd.MultiIndex.from_product([df["unit"].unique(), df["rater"].unique()], names=["unit", "rater"])
    nan_rows = df.set_index(["unit", "rater"]).reindex(full).reset_index()
    out["float values with NaN"] = (nan_rows, cats)
    # text values with padding, n.v.t. and empty strings for the missing ones
    txt = nan_rows.assign(value=[" n.v.t. " if i % 2 else "" for i in range(len(nan_rows))])
    ok = nan_rows["value"].notna().to_numpy()
    txt.loc[ok, "value"] = [f" {v} " for v in LABELS[nan_rows.loc[ok, "value"].astype(int) - 1]]
    out["padded text with n.v.t."] = (txt, list(LABELS))
    out["categorical text"] = (txt.assign(value=txt["value"].astype("category")), list(LABELS))
    return out


@pytest.mark.parametrize("name", list(CALLS))
def test_dtypes_do_not_change_results(name):
    func, kw = CALLS[name]
    base = func(_long(), categories=[1, 2, 3, 4], **kw)
    for label, (df, cats) in _variants(_long()).items():
        res = func(df, categories=cats, **kw)
        try:
            _same(base, res)
        except AssertionError as exc:  # pragma: no cover - message only
            raise AssertionError(f"{label}: {exc}") from exc


def test_observed_categories_keep_their_python_type():
    df = _long()
    res = krippendorff_alpha(df.assign(value=df["value"].astype(float)))
    assert res.categories == (1.0, 2.0, 3.0, 4.0)
    assert all(type(c) is float for c in res.categories)


@pytest.mark.parametrize("kind", ["pa", "fleiss", "ac", "bp"])
@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_patterns_equal_per_unit(kind, weights):
    """Distinct count patterns weighted by frequency = the sum over every unit."""
    data = to_ratings(_long(2000, 7), func="t", categories=[1, 2, 3, 4])
    P, w = data.patterns
    assert len(P) < data.n_units and w.sum() == data.n_units
    W = weight_matrix(weights, 4, func="t")
    a = _core.counts_coefficient(data.counts, W, kind)
    b = _core.counts_coefficient(P, W, kind, w=w)
    assert (a.n, a.n_df) == (b.n, b.n_df)
    assert b.value == pytest.approx(a.value, abs=1e-13)
    assert b.var == pytest.approx(a.var, rel=1e-11)


def test_alpha_patterns_equal_per_unit():
    data = to_ratings(_long(2000, 7), func="t", categories=[1, 2, 3, 4])
    P, w = data.patterns
    delta2 = 1.0 - np.eye(4)
    assert _core.alpha_value(P, delta2, w) == pytest.approx(_core.alpha_value(data.counts, delta2), abs=1e-13)
    a = _core.alpha_gwet(data.counts, 1.0 - delta2)
    b = _core.alpha_gwet(P, 1.0 - delta2, w=w)
    assert (a.n, a.n_df) == (b.n, b.n_df)
    assert b.value == pytest.approx(a.value, abs=1e-13)
    assert b.var == pytest.approx(a.var, rel=1e-11)


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("rater_dtype", ["str", "object", "category"])
def test_duplicate_judgement_is_refused(name, rater_dtype):
    func, kw = CALLS[name]
    df = _long(100, 4, 0.0)
    df = pd.concat([df, df.iloc[[10]]], ignore_index=True)
    df["rater"] = df["rater"].astype(rater_dtype)
    unit, rater = df.iloc[10]["unit"], df.iloc[10]["rater"]
    with pytest.raises(InputError, match="judged the same unit more than once") as err:
        func(df, **kw)
    assert f"({unit}, '{rater}')" in str(err.value)


def test_duplicate_of_a_missing_rating_is_not_a_duplicate():
    df = _long(100, 4, 0.0)
    extra = df.iloc[[10]].assign(value=np.nan)
    res = fleiss_kappa(pd.concat([df, extra], ignore_index=True))
    _same(res, fleiss_kappa(df))


def _scores(seed: int = 3) -> pd.DataFrame:
    """A small score table: 2 sessions x 12 cases x (3 indicators + 1 level), 4 raters."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in ("S1", "S2"):
        for c in range(12):
            for item, kind, codes in (
                ("lo1.dim1.1", "indicator", ["niet gezien", "gezien", "n.v.t."]),
                ("lo1.dim1.2", "indicator", ["niet gezien", "gezien"]),
                ("lo1.dim2.1", "indicator", ["niet gezien", "gezien"]),
                ("lo1.niveau", "level", ["2", "3", "4"]),
            ):
                for r in ("A", "B", "C", "D"):
                    if rng.random() < 0.1:
                        continue
                    rows.append({"session": s, "case": f"c{c:02d}", "rater": r, "item": item,
                                 "kind": kind, "value": codes[rng.integers(len(codes))]})
    return pd.DataFrame(rows)


def test_rollup_equals_the_coefficient_functions():
    scores = _scores()
    roll = kijkkader_rollup(scores)
    assert set(roll["level"]) == {"item", "dimension", "outcome", "session", "overall"}
    for _, row in roll.iterrows():
        sel = {"item": scores["item"] == row["group"],
               "session": scores["session"] == row["group"],
               "outcome": scores["item"].str.split(".").str[0] == row["group"],
               "dimension": scores["item"].str.rsplit(".", n=1).str[0] == row["group"],
               "overall": pd.Series(True, index=scores.index)}[row["level"]]
        sub = scores[sel & (scores["kind"] == row["kind"])]
        long = pd.DataFrame({"unit": sub["session"] + "|" + sub["case"] + "|" + sub["item"],
                             "rater": sub["rater"], "value": sub["value"]})
        cats = {"indicator": ["niet gezien", "gezien"], "level": list("123456")}[row["kind"]]
        ordinal = row["kind"] == "level"
        a = krippendorff_alpha(long, level="ordinal" if ordinal else "nominal", categories=cats)
        g = gwet_ac(long, weights="quadratic" if ordinal else None, categories=cats)
        p = percent_agreement(long, categories=cats)
        assert row["alpha"] == pytest.approx(a.value, abs=1e-12, nan_ok=True)
        assert row["ac"] == pytest.approx(g.value, abs=1e-12, nan_ok=True)
        assert row["percent_agreement"] == pytest.approx(p.value, abs=1e-12, nan_ok=True)
        if a.ci is not None:
            assert (row["alpha_ci_low"], row["alpha_ci_high"]) == pytest.approx(a.ci, abs=1e-12)
        assert row["n_raters"] == a.n_raters
        valid = long["value"] != "n.v.t."
        assert row["n_ratings"] == int(valid.sum())
        assert row["n_units"] == int((long[valid].groupby("unit").size() >= 2).sum())


def test_rollup_refuses_duplicates_and_unknown_codes():
    scores = _scores()
    dup = pd.concat([scores, scores.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="more than once"):
        kijkkader_rollup(dup)
    bad = scores.copy()
    bad.loc[0, "value"] = "misschien"
    with pytest.raises(InputError, match="misschien"):
        kijkkader_rollup(bad)


def test_rollup_strips_text_and_treats_empty_as_missing():
    scores = _scores()
    padded = scores.assign(value=" " + scores["value"] + " ", rater=scores["rater"] + "  ")
    pd.testing.assert_frame_equal(kijkkader_rollup(padded), kijkkader_rollup(scores))


def test_conger_bootstrap_drops_raters_absent_from_a_resample():
    """Found by Hypothesis: a resample without any unit of rater r2 used to give 0/0."""
    from calibrate.agreement import bootstrap, conger_kappa

    df = pd.DataFrame({"unit": ["u0"] * 3 + ["u1"] * 3 + ["u2"] * 2 + ["u3"] * 2,
                       "rater": ["r0", "r1", "r2"] * 2 + ["r0", "r1"] * 2,
                       "value": list("aaaaaaaaab")})
    res = bootstrap(df, "conger_kappa", n_resamples=50, seed=7, categories=["a", "b"])
    rng = np.random.default_rng(7)
    units = ["u0", "u1", "u2", "u3"]
    for rep in res.details["replicates"]:
        idx = rng.integers(0, 4, size=4)
        parts = [df[df["unit"] == units[i]].assign(unit=f"s{j}") for j, i in enumerate(idx)]
        direct = conger_kappa(pd.concat(parts), categories=["a", "b"]).value
        assert rep == pytest.approx(direct, abs=1e-12, nan_ok=True)
