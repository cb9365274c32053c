"""Side-by-side with the peers, in the same run: statsmodels, krippendorff, pingouin, irrCAC.

Where a peer implements the same formula the numbers agree to 1e-10; where it does not,
the test says so and pins the documented difference.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from calibrate.agreement import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
)

from peers.irrcac import run_irrcac
from peers.refdata import REF

REF_SETS = [
    "gwet_cac_raw4raters",
    "krippendorff2011_4obs_12units",
    "hayes_krippendorff2007_40units_5obs",
    "fleiss1971_diagnoses",
    "irr_anxiety_20subjects_3raters",
    "gwet_distrib_6raters",
]


def _reliability(df: pd.DataFrame, categories=None) -> np.ndarray:
    wide = df.pivot(index="unit", columns="rater", values="value")
    return wide.T.to_numpy(dtype=float)


@pytest.mark.parametrize("stem", REF_SETS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_package(ref, stem, level):
    krippendorff = pytest.importorskip("krippendorff")
    df = ref(stem)
    cats = sorted(df["value"].dropna().unique())
    coded = df
    if not pd.api.types.is_numeric_dtype(df["value"]):
        # labelled categories: the peer needs numbers; ours measures distances by position
        # in `categories` (1-based, which matters for the ratio metric), so the peer gets those
        coded = df.assign(value=df["value"].map({c: k for k, c in enumerate(cats, start=1)}))
    peer_cats = sorted(coded["value"].dropna().unique())
    theirs = krippendorff.alpha(_reliability(coded), level_of_measurement=level, value_domain=peer_cats)
    ours = krippendorff_alpha(df, level=level, categories=cats).value
    assert ours == pytest.approx(theirs, abs=1e-10)


def test_statsmodels_fleiss(ref):
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa as sm_fleiss

    for stem in ["fleiss1971_diagnoses", "gwet_distrib_6raters", "irr_anxiety_20subjects_3raters"]:
        df = ref(stem)
        wide = df.pivot(index="unit", columns="rater", values="value").to_numpy()
        table, _ = aggregate_raters(wide)
        assert fleiss_kappa(df).value == pytest.approx(sm_fleiss(table), abs=1e-12)
        assert brennan_prediger(df).value == pytest.approx(sm_fleiss(table, method="randolph"), abs=1e-12)


@pytest.mark.parametrize("weights,wt", [(None, None), ("linear", "linear"), ("quadratic", "quadratic")])
def test_statsmodels_cohen(ref, weights, wt):
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohen

    for stem, cats in [("sas_kappa_3x3_n19", [1, 2, 3]), ("cohen1960_200subjects_3cat", [1, 2, 3])]:
        df = ref(stem)
        wide = df.pivot(index="unit", columns="rater", values="value")
        table = pd.crosstab(wide.iloc[:, 0], wide.iloc[:, 1]).reindex(index=cats, columns=cats, fill_value=0)
        sm = sm_cohen(table.to_numpy(), wt=wt)
        ours = cohen_kappa(df, weights=weights, categories=cats)
        assert ours.value == pytest.approx(sm.kappa, abs=1e-12)
        assert ours.se == pytest.approx(sm.std_kappa, abs=1e-12)  # same ASE (FCE 1969)
        assert ours.details["se_h0"] == pytest.approx(sm.std_kappa0, abs=1e-12)


def test_anxiety_full_scale_equals_statsmodels_on_6x6(ref):
    """With categories=1..6 the unused level 5 keeps its place: as statsmodels' full table."""
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohen

    df = ref("irr_anxiety_20subjects_3raters")
    pair = df[df["rater"].isin(["rater2", "rater3"])]
    wide = pair.pivot(index="unit", columns="rater", values="value")
    cats = [1, 2, 3, 4, 5, 6]
    table = pd.crosstab(wide["rater2"], wide["rater3"]).reindex(index=cats, columns=cats, fill_value=0)
    sm = sm_cohen(table.to_numpy(), wt="linear")
    assert cohen_kappa(pair, weights="linear", categories=cats).value == pytest.approx(sm.kappa, abs=1e-12)


@pytest.mark.parametrize("model,kind,ptype", [
    ("oneway", "single", "ICC(1,1)"), ("twoway_random", "single", "ICC(A,1)"),
    ("twoway_mixed", "single", "ICC(C,1)"), ("oneway", "average", "ICC(1,k)"),
    ("twoway_random", "average", "ICC(A,k)"), ("twoway_mixed", "average", "ICC(C,k)"),
])
def test_pingouin_icc_balanced(ref, model, kind, ptype):
    pg = pytest.importorskip("pingouin")
    for stem in ["shrout_fleiss1979_6targets_4judges", "irr_anxiety_20subjects_3raters"]:
        df = ref(stem)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pg.intraclass_corr(df, targets="unit", raters="rater", ratings="value")
        row = table.set_index("Type").loc[ptype]
        ours = icc(df, model=model, kind=kind)
        assert ours.value == pytest.approx(row["ICC"], abs=1e-10)
        assert ours.F == pytest.approx(row["F"], abs=1e-10)
        assert ours.p_value == pytest.approx(row["pval"], abs=1e-10)
        assert np.allclose(ours.ci, np.asarray(row["CI95"], dtype=float), atol=0.0051)  # pingouin rounds to 2 dp


IRRCAC_CASES = [
    ("gwet_cac_raw4raters", "gwet", gwet_ac, "quadratic"),
    ("gwet_cac_raw4raters", "gwet", gwet_ac, "identity"),
    ("gwet_cac_raw4raters", "fleiss", fleiss_kappa, "linear"),
    ("gwet_cac_raw4raters", "conger", conger_kappa, "ordinal"),
    ("gwet_cac_raw4raters", "bp", brennan_prediger, "quadratic"),
    ("hayes_krippendorff2007_40units_5obs", "gwet", gwet_ac, "quadratic"),
    ("hayes_krippendorff2007_40units_5obs", "fleiss", fleiss_kappa, "identity"),
    ("hayes_krippendorff2007_40units_5obs", "conger", conger_kappa, "linear"),
    ("fleiss1971_diagnoses", "gwet", gwet_ac, "identity"),
]


@pytest.mark.parametrize("stem,method,func,weights", IRRCAC_CASES,
                         ids=[f"{s}-{m}-{w}" for s, m, _, w in IRRCAC_CASES])
def test_irrcac_port(stem, method, func, weights):
    path = REF / f"{stem}.csv"
    df = pd.read_csv(path)
    cats = sorted(df["value"].dropna().unique())
    theirs = run_irrcac(path, method, weights, categories=cats)
    ours = func(df, weights=None if weights == "identity" else weights, categories=cats)
    assert ours.value == pytest.approx(theirs["coefficient_value"], abs=1e-9)
    assert ours.se == pytest.approx(theirs["se"], abs=1e-9)
    assert ours.ci[0] == pytest.approx(theirs["confidence_interval"][0], abs=1e-9)


def test_irrcac_port_alpha_se_lags_r(ref):
    """The port's alpha SE uses p_a for p'_a (R fixed this); its value agrees with ours."""
    path = REF / "gwet_cac_raw4raters.csv"
    theirs = run_irrcac(path, "krippendorff")
    ours = krippendorff_alpha(pd.read_csv(path))
    assert ours.value == pytest.approx(theirs["coefficient_value"], abs=1e-9)
    assert round(theirs["se"], 3) == 0.146 and round(ours.se, 5) == 0.14548  # R README: 0.14548
