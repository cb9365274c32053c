"""Every reference data set in shared/reference-data against its published numbers.

Each expected value is compared at the precision it was printed with, and its source is
named beside it. "irrCAC README" is the R package's README (kgwet/irrCAC, README.md),
which prints R output; "irrCAC port tests" are afergadis/irrCAC test/unit/irrCAC/*, the
Python port's copies of R irrCAC results (digits=3).
"""

from __future__ import annotations

import numpy as np
import pytest

from calibrate.agreement import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)


def printed(ours, expected, decimals):
    """``ours`` matches a number printed with ``decimals`` decimals."""
    assert ours is not None
    assert abs(ours - expected) <= 0.5 * 10.0**-decimals + 1e-12, (ours, expected, decimals)


def printed_ci(ci, expected, decimals):
    printed(ci[0], expected[0], decimals)
    printed(ci[1], expected[1], decimals)


def sig(ours, expected, digits):
    """``ours`` matches ``expected`` printed with ``digits`` significant digits."""
    assert ours is not None
    mag = 10 ** (np.floor(np.log10(abs(expected))) - digits + 1)
    assert abs(ours - expected) <= 0.5 * mag + 1e-15, (ours, expected)


# ---------------------------------------------------------------- gwet_cac_raw4raters
# Source: kgwet/irrCAC README.md, R output of pa.coeff.raw, gwet.ac1.raw,
# fleiss.kappa.raw, krippen.alpha.raw, conger.kappa.raw, bp.coeff.raw (cac.raw4raters).
RAW4 = [
    # func, value (5 dp), se (5 dp), ci (3 dp), p-value (printed significant digits), pe
    (percent_agreement, 0.8181818, 0.12561, (0.542, 1), (4.345373e-05, 7), 0.0),
    (gwet_ac, 0.77544, 0.14295, (0.461, 1), (0.000208721, 6), 0.1903212),
    (fleiss_kappa, 0.76117, 0.15302, (0.424, 1), (0.000419173, 6), 0.2387153),
    (krippendorff_alpha, 0.74342, 0.14548, (0.423, 1), (0.0003386245, 7), 0.24),
    (conger_kappa, 0.76282, 0.14917, (0.435, 1), (0.0003367066, 7), 0.2334252),
    (brennan_prediger, 0.77273, 0.14472, (0.454, 1), (0.0002375609, 7), 0.2),
]


@pytest.mark.parametrize("func,value,se,ci,p,pe", RAW4, ids=[r[0].__name__ for r in RAW4])
def test_gwet_raw4raters_r_readme(ref, func, value, se, ci, p, pe):
    res = func(ref("gwet_cac_raw4raters"))
    printed(res.value, value, 5 if func is not percent_agreement else 7)
    printed(res.se, se, 5)
    printed_ci(res.ci, ci, 3)
    sig(res.p_value, *p)
    printed(res.p_e, pe, 7 if pe not in (0.24, 0.2, 0.0) else 2)
    printed(res.p_o, 0.805 if func is krippendorff_alpha else 0.8181818, 3 if func is krippendorff_alpha else 7)
    assert (res.n_units, res.n_raters) == (12, 4)


# Weighted versions. Source: irrCAC port tests test/unit/irrCAC/raw/test_{gwet,fleiss,
# conger,bp}.py (R irrCAC values, 3 dp): (pa, pe, value, se, ci_low); ci_high is 1 (capped).
RAW4_WEIGHTED = [
    (gwet_ac, "quadratic", (0.975, 0.714, 0.914, 0.104, 0.685)),
    (gwet_ac, "linear", (0.939, 0.571, 0.859, 0.117, 0.600)),
    (gwet_ac, "ordinal", (0.968, 0.685, 0.899, 0.107, 0.664)),
    (fleiss_kappa, "quadratic", (0.975, 0.818, 0.865, 0.146, 0.544)),
    (fleiss_kappa, "linear", (0.939, 0.667, 0.818, 0.149, 0.491)),
    (fleiss_kappa, "ordinal", (0.968, 0.788, 0.850, 0.147, 0.527)),
    (conger_kappa, "quadratic", (0.975, 0.827, 0.858, 0.144, 0.541)),
    (conger_kappa, "linear", (0.939, 0.675, 0.814, 0.145, 0.494)),
    (conger_kappa, "ordinal", (0.968, 0.796, 0.844, 0.144, 0.526)),
    (brennan_prediger, "quadratic", (0.975, 0.750, 0.902, 0.111, 0.657)),
    (brennan_prediger, "linear", (0.939, 0.600, 0.848, 0.123, 0.577)),
    (brennan_prediger, "ordinal", (0.968, 0.720, 0.886, 0.114, 0.636)),
]


@pytest.mark.parametrize(
    "func,weights,exp", RAW4_WEIGHTED, ids=[f"{f.__name__}-{w}" for f, w, _ in RAW4_WEIGHTED]
)
def test_gwet_raw4raters_weighted_port_tests(ref, func, weights, exp):
    res = func(ref("gwet_cac_raw4raters"), weights=weights, categories=[1, 2, 3, 4, 5])
    pa, pe, value, se, lo = exp
    printed(res.p_o, pa, 3)
    printed(res.p_e, pe, 3)
    printed(res.value, value, 3)
    printed(res.se, se, 3)
    printed_ci(res.ci, (lo, 1.0), 3)


# Custom (asymmetric) weights. Source: irrCAC port tests raw/test_conger.py and test_bp.py
# ``*_custom_weights``: conger pa .886 pe .521 value .763 se .149 ci (.435, 1);
# bp pa .886 pe .500 value .773 se .145 ci (.454, 1).
CUSTOM = np.array(
    [
        [1.00, 0.75, 0.50, 0.25, 0.00],
        [0.00, 1.00, 0.75, 0.50, 0.25],
        [0.25, 0.00, 1.00, 0.75, 0.50],
        [0.50, 0.25, 0.00, 1.00, 0.75],
        [0.75, 0.50, 0.25, 0.00, 1.00],
    ]
)


@pytest.mark.parametrize(
    "func,exp",
    [(conger_kappa, (0.886, 0.521, 0.763, 0.149, 0.435)), (brennan_prediger, (0.886, 0.500, 0.773, 0.145, 0.454))],
)
def test_custom_weight_matrix(ref, func, exp):
    res = func(ref("gwet_cac_raw4raters"), weights=CUSTOM)
    for ours, e in zip((res.p_o, res.p_e, res.value, res.se, res.ci[0]), exp, strict=True):
        printed(ours, e, 3)
    assert res.weights == "custom"


# ---------------------------------------------------------------- cont3x3abstractors
# Source: kgwet/irrCAC README.md, R output of kappa2.table, scott2.table, gwet.ac1.table,
# bp2.table, krippen2.table, pa2.table on cont3x3abstractors (value, se, ci at 3 dp).
ABSTRACTORS = ["Ectopic", "AIU", "NIU"]
CONT3 = [
    (cohen_kappa, {}, 0.7964094, 0.05891072, (0.68, 0.913)),
    (scott_pi, {}, 0.7962397, 0.05905473, (0.679, 0.913)),
    (gwet_ac, {}, 0.8493305, 0.04321747, (0.764, 0.935)),
    (brennan_prediger, {}, 0.835, 0.04693346, (0.742, 0.928)),
    (krippendorff_alpha, {}, 0.7972585, 0.05905473, (0.68, 0.914)),
    (percent_agreement, {}, 0.89, 0.03128898, (0.828, 0.952)),
]


@pytest.mark.parametrize("func,kw,value,se,ci", CONT3, ids=[c[0].__name__ for c in CONT3])
def test_cont3x3abstractors_r_readme(ref, func, kw, value, se, ci):
    res = func(ref("gwet_cont3x3abstractors"), categories=ABSTRACTORS, **kw)
    printed(res.value, value, 7)
    printed(res.se, se, 8)
    printed_ci(res.ci, ci, 3)
    assert res.n_units == 100


# Weighted, categories in the table's order Ectopic < AIU < NIU. Source: irrCAC port tests
# test/unit/irrCAC/table/test_{cohen,gwet,scott,brennan_prediger,pa,krippendorff}.py (3 dp):
# (value, ci_low, ci_high, se or None). Krippendorff with quadratic weights = interval level.
CONT3_W = [
    (cohen_kappa, {"weights": "quadratic"}, (0.892, 0.822, 0.962, None)),
    (cohen_kappa, {"weights": "linear"}, (0.843, 0.748, 0.938, None)),
    (cohen_kappa, {"weights": "ordinal"}, (0.872, 0.791, 0.953, None)),
    (gwet_ac, {"weights": "quadratic"}, (0.940, 0.905, 0.976, None)),
    (gwet_ac, {"weights": "linear"}, (0.900, 0.842, 0.958, None)),
    (gwet_ac, {"weights": "ordinal"}, (0.925, 0.881, 0.969, None)),
    (scott_pi, {"weights": "quadratic"}, (0.892, 0.822, 0.962, 0.035)),
    (scott_pi, {"weights": "linear"}, (0.843, 0.748, 0.938, 0.048)),
    (scott_pi, {"weights": "ordinal"}, (0.872, 0.791, 0.953, 0.041)),
    (brennan_prediger, {"weights": "quadratic"}, (0.918, 0.871, 0.964, None)),
    (brennan_prediger, {"weights": "linear"}, (0.876, 0.806, 0.946, None)),
    (brennan_prediger, {"weights": "ordinal"}, (0.901, 0.845, 0.957, None)),
    (percent_agreement, {"weights": "quadratic"}, (0.972, 0.957, 0.988, 0.008)),
    (percent_agreement, {"weights": "linear"}, (0.945, 0.914, 0.976, None)),
    (percent_agreement, {"weights": "ordinal"}, (0.963, 0.943, 0.984, 0.010)),
    (krippendorff_alpha, {"level": "interval"}, (0.893, 0.822, 0.963, None)),
]


@pytest.mark.parametrize(
    "func,kw,exp", CONT3_W, ids=[f"{f.__name__}-{list(k.values())[0]}" for f, k, _ in CONT3_W]
)
def test_cont3x3abstractors_weighted_port_tests(ref, func, kw, exp):
    res = func(ref("gwet_cont3x3abstractors"), categories=ABSTRACTORS, **kw)
    value, lo, hi, se = exp
    printed(res.value, value, 3)
    printed_ci(res.ci, (lo, hi), 3)
    if se is not None:
        printed(res.se, se, 3)


# ---------------------------------------------------------------- distrib.6raters
# Source: kgwet/irrCAC README.md, R output of gwet.ac1.dist, fleiss.kappa.dist,
# krippen.alpha.dist, bp.coeff.dist on distrib.6raters (6 exchangeable raters, complete).
DIST6 = [
    (gwet_ac, 0.4448007, 0.08418757, (0.264, 0.625), (0.0001155927, 7), 0.5511111, 0.1914815),
    (fleiss_kappa, 0.4139265, 0.08119291, (0.24, 0.588), (0.0001622724, 7), 0.5511111, 0.2340741),
    (brennan_prediger, 0.4388889, 0.08312142, (0.261, 0.617), (0.0001163, 4), 0.5511111, 0.2),
]


@pytest.mark.parametrize("func,value,se,ci,p,pa,pe", DIST6, ids=[d[0].__name__ for d in DIST6])
def test_distrib_6raters_r_readme(ref, func, value, se, ci, p, pa, pe):
    res = func(ref("gwet_distrib_6raters"))
    printed(res.value, value, 7)
    printed(res.se, se, 8)
    printed_ci(res.ci, ci, 3)
    sig(res.p_value, *p)
    printed(res.p_o, pa, 7)
    printed(res.p_e, pe, 7)


def test_distrib_6raters_alpha_and_the_older_se_formula(ref):
    """alpha = 0.4204384, pa = 0.5560988, pe = 0.2340741 (irrCAC README, krippen.alpha.dist).

    The README's SE 0.08243228 comes from ``krippen.alpha.dist``, which still uses the
    3rd-edition linearisation (per-unit agreement shrunk by (1 - eps), factor 1 * (1 - alpha)
    on the chance term); the 4th-edition ``krippen.alpha.raw`` (factor 2 * (1 - alpha'),
    Gwet 2014) is what we implement, and it reproduces the raw4raters SE above. We show that
    the older formula, recomputed here, gives the README's number.
    """
    df = ref("gwet_distrib_6raters")
    res = krippendorff_alpha(df)
    printed(res.value, 0.4204384, 7)
    printed(res.p_o, 0.5560988, 7)
    printed(res.p_e, 0.2340741, 7)
    # recompute the 3rd-edition variance from the same pieces
    C = np.stack([(df.pivot(index="unit", columns="rater", values="value") == c).sum(axis=1) for c in res.categories], axis=1).astype(float)
    n, q = C.shape
    r = C.sum(axis=1)
    rbar = r.mean()
    eps = 1 / r.sum()
    sumq = (C * (C - 1)).sum(axis=1)
    pa = (1 - eps) * (sumq / (rbar * (r - 1))).sum() / n + eps
    pi = C.sum(axis=0) / (n * rbar)
    pe = float(pi @ pi)
    alpha = (pa - pe) / (1 - pe)
    raw_i = sumq / (rbar * (r - 1))
    pa_i = (1 - eps) * (raw_i - raw_i.mean() * (r - rbar) / rbar) + eps
    k_i = (pa_i - pe) / (1 - pe)
    pe_i = C @ pi / rbar - pe * (r - rbar) / rbar
    x = k_i - (1 - alpha) * (pe_i - pe) / (1 - pe)
    se_3rd = np.sqrt(np.sum((x - alpha) ** 2) / (n * (n - 1)))
    printed(se_3rd, 0.08243228, 8)
    assert res.se < se_3rd  # ours: the 4th-edition formula


# ---------------------------------------------------------------- Krippendorff examples
# Source: Krippendorff (2011) "Computing Krippendorff's alpha-reliability", and the same
# values in pln-fing-udelar/fast-krippendorff tests/test_krippendorff.py (3 dp).
@pytest.mark.parametrize(
    "level,expected", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011(ref, level, expected):
    res = krippendorff_alpha(ref("krippendorff2011_4obs_12units"), level=level)
    printed(res.value, expected, 3)
    assert res.n_units == 12  # unit 12 (one value) counts as a unit, not as pairable


# Source: English Wikipedia "Krippendorff's alpha", A computational example; the same data
# in fast-krippendorff tests/test_krippendorff.py: nominal 0.691358, interval 0.810845.
@pytest.mark.parametrize("level,expected", [("nominal", 0.691358), ("interval", 0.810845)])
def test_krippendorff_wikipedia(ref, level, expected):
    printed(krippendorff_alpha(ref("krippendorff_wikipedia_3coders_15units"), level=level).value, expected, 6)


def test_hayes_krippendorff_2007(ref):
    # Source: Hayes & Krippendorff (2007, p. 84): ordinal alpha = .7598; dkpro-statistics
    # HayesKrippendorff2007Test.java asserts 0.7598 (delta 1e-4).
    printed(krippendorff_alpha(ref("hayes_krippendorff2007_40units_5obs"), level="ordinal").value, 0.7598, 4)


# ---------------------------------------------------------------- Fleiss (1971)
def test_fleiss_1971(ref):
    res = fleiss_kappa(ref("fleiss1971_diagnoses"))
    # R irr::kappam.fleiss(diagnoses): Kappa = 0.4302445, z = 17.65183 (statsmodels
    # stats/tests/test_inter_rater.py, test_fleiss_kappa_irr). Fleiss (1971): kappa = .430.
    printed(res.value, 0.4302445, 7)
    printed(res.details["z_h0"], 17.65183, 5)
    # Fleiss (1971): P-bar = .556, P-bar_e = .220; per-category kappas .245 (depression),
    # .245 (personality disorder), .520 (schizophrenia), .471 (neurosis), .566 (other).
    printed(res.p_o, 0.556, 3)
    printed(res.p_e, 0.220, 3)
    for cat, k in zip([1, 2, 3, 4, 5], [0.245, 0.245, 0.520, 0.471, 0.566], strict=True):
        printed(res.per_category[cat], k, 3)


# ---------------------------------------------------------------- Cohen (1960)
def test_cohen_1960(ref):
    # Cohen (1960, p. 45): p_o = .70, p_c = .41, kappa = .492.
    res = cohen_kappa(ref("cohen1960_200subjects_3cat"))
    printed(res.p_o, 0.70, 2)
    printed(res.p_e, 0.41, 2)
    printed(res.value, 0.492, 3)


# ---------------------------------------------------------------- SAS PROC FREQ AGREE
def test_sas_simple_kappa(ref):
    # SAS output in statsmodels stats/tests/test_inter_rater.py, TestUnweightedCohens:
    # Kappa 0.4842, ASE 0.1380, 95% limits 0.2137-0.7547 (normal), ASE under H0 0.1484,
    # Z 3.2626, one-sided Pr > Z 0.0006, two-sided Pr > |Z| 0.0011.
    res = cohen_kappa(ref("sas_kappa_3x3_n19"), ci_method="z")
    printed(res.value, 0.4842, 4)
    printed(res.se, 0.1380, 4)
    printed_ci(res.ci, (0.2137, 0.7547), 4)
    printed(res.details["se_h0"], 0.1484, 4)
    printed(res.details["z_h0"], 3.2626, 4)
    printed(res.details["p_value_h0"], 0.0011, 4)
    printed(res.details["p_value_h0"] / 2, 0.0006, 4)


def test_sas_weighted_kappa(ref):
    # SAS weighted kappa (Cicchetti-Allison = linear weights) in statsmodels
    # TestWeightedCohens: 0.4701, ASE 0.1457, 0.1845-0.7558, ASE0 0.1426, Z 3.2971, p 0.0010.
    res = cohen_kappa(ref("sas_kappa_3x3_n19"), weights="linear", ci_method="z", categories=[1, 2, 3])
    printed(res.value, 0.4701, 4)
    printed(res.se, 0.1457, 4)
    printed_ci(res.ci, (0.1845, 0.7558), 4)
    printed(res.details["se_h0"], 0.1426, 4)
    printed(res.details["z_h0"], 3.2971, 4)
    printed(res.details["p_value_h0"], 0.0010, 4)


# ---------------------------------------------------------------- irr anxiety
# R irr::kappa2 on anxiety[, 2:3] (statsmodels test_inter_rater.py, test_cohens_kappa_irr).
# irr ranks the *observed* levels (1, 2, 3, 4, 6: nobody used 5 in these two columns), which
# is what categories=None does here. With the full scale 1..6 the weighted values differ.
@pytest.mark.parametrize(
    "weights,value,z,p",
    [(None, -0.006289308, -0.0604067, 0.9518317), ("linear", 0.1459075, 1.282472, 0.1996772),
     ("quadratic", 0.2520325, 1.437451, 0.1505898)],
)
def test_anxiety_irr_kappa2(ref, weights, value, z, p):
    df = ref("irr_anxiety_20subjects_3raters")
    pair = df[df["rater"].isin(["rater2", "rater3"])]
    res = cohen_kappa(pair, weights=weights)
    printed(res.value, value, 7)
    sig(res.details["z_h0"], z, 6)
    sig(res.details["p_value_h0"], p, 6)
    if weights is not None:
        full = cohen_kappa(pair, weights=weights, categories=[1, 2, 3, 4, 5, 6])
        assert abs(full.value - res.value) > 1e-3  # the documented choice matters


def test_anxiety_icc_irr(ref):
    # R irr::icc(anxiety, model="twoway", type="agreement", unit="single"):
    # ICC(A,1) = 0.198, F = 1.83, 95% CI -0.039 < ICC < 0.494 (printed R output).
    # irr's F test uses Satterthwaite df2 = 39.7 (p = .0543); ours uses (n-1)(k-1) = 38.
    res = icc(ref("irr_anxiety_20subjects_3raters"), model="twoway_random")
    printed(res.value, 0.198, 3)
    printed(res.F, 1.83, 2)
    printed_ci(res.ci, (-0.039, 0.494), 3)
    assert (res.df1, res.df2) == (19, 38)


# ---------------------------------------------------------------- Shrout & Fleiss (1979)
# Shrout & Fleiss (1979, Table 4): .17 .29 .71 .44 .62 .91; R psych::ICC via pingouin
# tests/test_reliability.py::test_intraclass_corr: F 1.8 / 11.0, df2 18 / 15,
# p .16472 / .00013, CI lower [-0.13, 0.02, 0.34, -0.88, 0.07, 0.68],
# upper [0.72, 0.76, 0.95, 0.91, 0.93, 0.99].
SF = [
    ("oneway", "single", 0.17, 1.8, 18, 0.16472, (-0.13, 0.72)),
    ("twoway_random", "single", 0.29, 11.0, 15, 0.00013, (0.02, 0.76)),
    ("twoway_mixed", "single", 0.71, 11.0, 15, 0.00013, (0.34, 0.95)),
    ("oneway", "average", 0.44, 1.8, 18, 0.16472, (-0.88, 0.91)),
    ("twoway_random", "average", 0.62, 11.0, 15, 0.00013, (0.07, 0.93)),
    ("twoway_mixed", "average", 0.91, 11.0, 15, 0.00013, (0.68, 0.99)),
]


@pytest.mark.parametrize("model,kind,value,F,df2,p,ci", SF, ids=[f"{m}-{k}" for m, k, *_ in SF])
def test_shrout_fleiss_1979(ref, model, kind, value, F, df2, p, ci):
    res = icc(ref("shrout_fleiss1979_6targets_4judges"), model=model, kind=kind)
    printed(res.value, value, 2)
    printed(res.F, F, 1)
    assert (res.df1, res.df2) == (5, df2)
    printed(res.p_value, p, 4)
    printed_ci(res.ci, ci, 2)
