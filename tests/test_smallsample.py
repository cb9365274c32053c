"""CR2 + Bell–McCaffrey trend tests (calibrate.smallsample) against closed forms, statsmodels
and drift's CR1 fits (calibrate.inference.clustered_slopes)."""

import numpy as np
import pytest
import statsmodels.api as sm

from calibrate.inference import clustered_slopes
from calibrate.smallsample import cr2_slope, cr2_trends


def test_singleton_clusters_give_hc2_and_welch():
    """With one observation per cluster CR2 is HC2; for a binary regressor HC2 is Welch's SE
    and the Bell–McCaffrey df (homoskedastic working model) the closed form below."""
    rng = np.random.default_rng(0)
    n0, n1 = 7, 12
    x = np.r_[np.zeros(n0), np.ones(n1)]
    y = rng.normal(0, 1, n0 + n1) + x * rng.normal(0, 2, n0 + n1)
    X = np.column_stack([np.ones(n0 + n1), x])
    b, se, df = cr2_slope(X, y, np.arange(n0 + n1))
    fit = sm.OLS(y, X).fit(cov_type="HC2")
    assert b == pytest.approx(fit.params[1], abs=1e-12)
    assert se == pytest.approx(fit.bse[1], rel=1e-10)
    assert se == pytest.approx(np.sqrt(y[:n0].var(ddof=1) / n0 + y[n0:].var(ddof=1) / n1), rel=1e-10)
    assert df == pytest.approx((1 / n0 + 1 / n1) ** 2 / (1 / (n0**2 * (n0 - 1)) + 1 / (n1**2 * (n1 - 1))), rel=1e-10)


def test_clustered_cr2_is_larger_than_cr0_and_df_below_clusters():
    rng = np.random.default_rng(1)
    G, m = 9, 4
    cl = np.repeat(np.arange(G), m)
    t = np.tile(np.arange(m), G).astype(float)
    y = rng.normal(0, 1, G)[cl] + rng.normal(0, 1, G * m)
    X = np.column_stack([np.ones(G * m), t])
    b, se, df = cr2_slope(X, y, cl)
    cr0 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cl, "use_correction": False}).bse[1]
    assert se > cr0 and 1 <= df < G - 1 + 1e-9


@pytest.mark.parametrize("recurring", [False, True])
def test_same_slopes_as_drift_and_same_keys(recurring):
    rng = np.random.default_rng(2)
    n_groups, S, C = 3, 5, 8
    rows = []
    for g in range(n_groups):
        for s in range(S):
            for c in range(C):
                case = c if recurring else s * C + c
                rows.append((g, s, case, 0.1 * g * s + rng.normal(0, 0.3), rng.integers(0, 2)))
    a = np.array(rows, dtype=float)
    group, t, cluster, y, z = a[:, 0].astype(int), a[:, 1], a[:, 2].astype(int), a[:, 3], a[:, 4]
    ours = cr2_trends(group, t, y, cluster, n_groups, covariate=z)
    theirs = clustered_slopes(group, t, y, cluster, n_groups, covariate=z)
    assert set(theirs) <= set(ours)
    np.testing.assert_allclose(ours["slope"], theirs["slope"], atol=1e-10)
    np.testing.assert_array_equal(ours["within"], theirs["within"])
    np.testing.assert_allclose(ours["n"], theirs["n"])
    assert (ours["se"] > 0).all() and (ours["df"] >= 1).all()


def test_wild_bootstrap_same_slopes_and_its_p_through_the_equivalent_t():
    from scipy import stats

    from calibrate.smallsample import wild_trends

    rng = np.random.default_rng(3)
    S, C = 6, 10
    t = np.repeat(np.arange(S), C).astype(float)
    cluster = np.arange(S * C)
    y = np.r_[rng.normal(0, 1, S * C), 0.5 * t + rng.normal(0, 1, S * C)]
    group = np.r_[np.zeros(S * C, int), np.ones(S * C, int)]
    tt, cl = np.r_[t, t], np.r_[cluster, cluster]
    ours = wild_trends(group, tt, y, cl, 2, n_boot=999, seed=1)
    theirs = clustered_slopes(group, tt, y, cl, 2)
    np.testing.assert_allclose(ours["slope"], theirs["slope"], atol=1e-10)
    np.testing.assert_allclose(ours["se"], theirs["se"], rtol=1e-10)  # the observed t is CR1's
    np.testing.assert_allclose(stats.t.cdf(ours["t"], ours["df"]), np.minimum(ours["p_lower"], 1 - 0.5 / 1000), rtol=1e-8)
    assert ours["p_lower"][1] > 0.99  # the planted upward trend: t* almost never as large
    assert np.isfinite(ours["p_lower"]).all()


def test_coverage_figures_match_the_published_table():
    """The note's figures are those of docs/coverage_table.csv (the coverage study's output)."""
    from pathlib import Path

    import pandas as pd

    from calibrate.smallsample import COVERAGE_T

    table = pd.read_csv(Path(__file__).resolve().parents[1] / "docs" / "coverage_table.csv")
    t = table[table["method"] == "t"]
    for coef, rows in COVERAGE_T.items():
        for n, (lo, hi) in rows.items():
            cell = t[(t["coefficient"] == coef) & (t["cases"] == n)]["coverage"] * 100
            assert (round(cell.min(), 1), round(cell.max(), 1)) == (lo, hi), (coef, n)


def test_small_sample_notes_on_agreement_results():
    import pandas as pd

    from calibrate.agreement import fleiss_kappa, gwet_ac, krippendorff_alpha

    rng = np.random.default_rng(0)

    def table(n):
        return pd.DataFrame({"unit": np.repeat(range(n), 4), "rater": np.tile(range(4), n),
                             "value": rng.choice(["a", "b"], 4 * n)})

    def note(res):
        return [x for x in res.notes if "coverage study" in x]

    six = table(6)
    (n1,) = note(fleiss_kappa(six))
    assert "6 cases" in n1 and "83–90 %" in n1
    assert "84–90 %" in note(krippendorff_alpha(six, level="nominal"))[0]
    assert "86–90 %" in note(gwet_ac(six, weights="quadratic", categories=["a", "b"]))[0]
    # large enough, another interval, or a coefficient the study did not measure: no note
    assert not note(fleiss_kappa(table(40)))
    assert not note(fleiss_kappa(six, ci_method="z"))
    assert not note(krippendorff_alpha(six, level="interval"))
    levels = pd.DataFrame({"unit": np.repeat(range(12), 3), "rater": np.tile(range(3), 12),
                           "value": rng.choice(["1", "2", "3", "4"], 36)})
    assert not note(krippendorff_alpha(levels, level="ordinal", categories=["1", "2", "3", "4"]))  # 96–97 %


def _studentised_slope(y, t, groups=None):
    """The slope of y on t over its cluster-robust CR0 standard error, by statsmodels (with
    case dummies when ``groups`` is given: the within-case fit)."""
    if groups is None:
        X, cl = sm.add_constant(t), np.arange(len(y))
    else:
        X, cl = np.column_stack([np.eye(groups.max() + 1)[groups], t]), groups
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cl, "use_correction": False})
    return fit.tvalues[-1]


def test_permutation_p_equals_scipys_exact_permutation_test_within_monte_carlo_error():
    """New cases every session (one row per case): the permutation p of a skewed, coarse
    outcome against scipy.stats.permutation_test enumerating all 8! pairings of the same
    studentised statistic (slope over its HC0 = CR0 standard error, checked against
    statsmodels on the observed data)."""
    from scipy import stats

    from calibrate.smallsample import permutation_trends

    rng = np.random.default_rng(4)
    t = np.repeat(np.arange(4), 2).astype(float)
    y = np.array([1.0, 1.0, 2 / 3, 1.0, 0.4, 2 / 3, 1.0, 0.4]) + rng.normal(0, 1e-3, 8)

    def studentised(yy, axis=-1):  # vectorised over permutations of y
        tc = t - t.mean()
        yc = yy - yy.mean(axis=axis, keepdims=True)
        b = np.sum(tc * yc, axis=axis) / np.sum(tc * tc)
        e = yc - b[..., None] * tc
        return b / np.sqrt(np.sum(tc * tc * e * e, axis=axis) / np.sum(tc * tc) ** 2)

    assert studentised(y) == pytest.approx(_studentised_slope(y, t), rel=1e-10)
    group, cluster = np.zeros(8, int), np.arange(8)
    for alt in ("two-sided", "less"):  # two-sided as |t*| >= |t|: scipy's "greater" on |t|
        stat = studentised if alt == "less" else (lambda yy, axis=-1: np.abs(studentised(yy, axis)))
        exact = stats.permutation_test((y,), stat, permutation_type="pairings", n_resamples=np.inf, vectorized=True,
                                       alternative="less" if alt == "less" else "greater").pvalue
        ours = permutation_trends(group, t, y, cluster, 1, alternative=alt, n_perm=20000, stop_after=10**6, seed=5)
        assert ours["method"][0] == "permutation"
        assert ours["p"][0] == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4)
    # the slope, its CR2 SE and df are cr2_trends' own
    np.testing.assert_allclose(ours["se"], cr2_trends(group, t, y, cluster, 1)["se"], rtol=1e-12)


def test_within_cases_the_permutations_stay_within_each_case():
    """Cases seen in every session: the exact within-case permutation distribution
    (all 3!⁴ reorderings, enumerated here with statsmodels' case-dummy fit)."""
    import itertools

    from calibrate.smallsample import permutation_trends

    rng = np.random.default_rng(6)
    C, S = 4, 3
    case = np.repeat(np.arange(C), S)
    t = np.tile(np.arange(S), C).astype(float)
    y = rng.normal(0, 1, C)[case] + 0.4 * t + rng.normal(0, 0.5, C * S)
    t_obs = _studentised_slope(y, t, case)
    perms = list(itertools.permutations(range(S)))
    count = total = 0
    for choice in itertools.product(perms, repeat=C):
        idx = np.concatenate([c * S + np.array(p) for c, p in enumerate(choice)])
        count += abs(_studentised_slope(y[idx], t, case)) >= abs(t_obs) - 1e-9
        total += 1
    exact = count / total
    ours = permutation_trends(np.zeros(C * S, int), t, y, case, 1, n_perm=20000, stop_after=10**6, seed=7)
    assert ours["within"][0]
    assert ours["p"][0] == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4)


def test_sequential_permutations_stop_early_for_a_clear_null_and_respect_the_floor():
    """Besag–Clifford: a null group stops after stop_after extreme statistics (p = h / drawn);
    a strong trend runs to the end and gets the floor 1/(1 + n_perm); a group with more
    cases than max_clusters keeps the CR2 p-value."""
    from scipy import stats

    from calibrate.smallsample import permutation_trends

    rng = np.random.default_rng(8)
    S, C = 6, 10
    t = np.repeat(np.arange(S), C).astype(float)
    y = np.r_[rng.normal(0, 1, S * C), 2.0 * t + rng.normal(0, 1, S * C)]
    group, tt, cl = np.r_[np.zeros(S * C, int), np.ones(S * C, int)], np.r_[t, t], np.r_[np.arange(S * C), np.arange(S * C)]
    ours = permutation_trends(group, tt, y, cl, 2, n_perm=999, stop_after=20, seed=9)
    assert ours["p"][1] == pytest.approx(1 / 1000)
    assert 20 / 999 < ours["p"][0] <= 1 and (20 / ours["p"][0]) == pytest.approx(round(20 / ours["p"][0]))
    capped = permutation_trends(group, tt, y, cl, 2, max_clusters=50, seed=9)
    assert list(capped["method"]) == ["cr2", "cr2"]
    np.testing.assert_allclose(capped["p"], 2 * stats.t.sf(np.abs(capped["t"]), capped["df"]))
