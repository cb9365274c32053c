"""calibrate.inference: the distribution functions and the Benjamini–Hochberg q-values,
checked against their peers in the same run (scipy.stats, statsmodels): the report's
process uses these instead of importing scipy.stats, so they must give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from calibrate import inference

DF = np.array([0.0, -1.0, np.nan, 0.5, 1.0, 2.0, 3.7, 29.0, 1e6, np.inf])
X = np.array([0.0, 1.0, -2.0, np.inf, -np.inf, np.nan, 3.0, 40.0, 1.96, -1.96])


@pytest.mark.parametrize("q", [0.975, 0.5, 0.0, 1.0, 1e-12, 0.999999])
def test_t_quantile_is_scipy_stats_t_ppf_to_the_bit(q):
    assert np.array_equal(inference.t_quantile(q, DF), stats.t.ppf(q, DF), equal_nan=True)


def test_t_quantile_of_arrays_and_scalars():
    q = np.array([0.0, 0.025, 0.5, 0.975, 1.0])
    assert np.array_equal(inference.t_quantile(q, 4.0), stats.t.ppf(q, 4.0), equal_nan=True)
    assert inference.t_quantile(0.975, 29) == stats.t.ppf(0.975, 29)  # the drift bands' critical value
    assert inference.t_quantile(0.0, 3) == -np.inf


def test_t_tails_are_scipy_stats_t_to_the_bit():
    assert np.array_equal(inference.t_sf(X, DF), stats.t.sf(X, DF), equal_nan=True)
    assert np.array_equal(inference.t_cdf(X, DF), stats.t.cdf(X, DF), equal_nan=True)
    assert np.array_equal(inference.p_two_sided(X, DF), 2 * stats.t.sf(np.abs(X), DF), equal_nan=True)


def test_normal_functions_are_scipy_stats_norm_to_the_bit():
    p = np.array([0.0, 1e-9, 0.025, 0.5, 0.975, 1.0, np.nan])
    z = np.array([-np.inf, -3.0, 0.0, 1.96, np.inf, np.nan])
    assert np.array_equal(inference.normal_quantile(p), stats.norm.ppf(p), equal_nan=True)
    assert np.array_equal(inference.normal_cdf(z), stats.norm.cdf(z), equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_bh_adjusted_is_statsmodels_fdr_bh_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 80))
    p = np.concatenate([rng.uniform(size=m), rng.uniform(0, 1e-4, size=m // 3)])
    p[rng.integers(0, len(p), size=len(p) // 4)] = p[0]  # ties
    if seed % 2:
        p[: len(p) // 5] = 1.0
    rng.shuffle(p)
    assert np.array_equal(inference.bh_adjusted(p), multipletests(p, method="fdr_bh")[1])


def test_bh_adjusted_small_cases():
    assert inference.bh_adjusted(np.array([])).shape == (0,)
    assert np.array_equal(inference.bh_adjusted(np.array([0.03])), [0.03])
    # Benjamini & Hochberg's rule by hand: 0.01·3/1, 0.02·3/2, 0.04·3/3 → running minimum from the top
    assert np.allclose(inference.bh_adjusted(np.array([0.04, 0.01, 0.02])), [0.04, 0.03, 0.03])


def test_the_report_process_imports_no_scipy_stats_for_drift():
    """drift's levels, trends, rater effects and their q-values, and the phases' Wilson
    rates need none of scipy.stats."""
    import subprocess
    import sys

    code = ("import sys\nimport numpy as np\n"
            "import calibrate.drift, calibrate.agreement, calibrate.phases, calibrate.report.build, calibrate.smallsample\n"
            "from calibrate.inference import clustered_proportion\n"
            "clustered_proportion(np.array([1.0, 0.0, 1.0]), np.array([0, 0, 1]), 0.95, 'wilson')  # the phases' rates\n"
            "print('scipy.stats' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


_D = np.array([0.0, -1.0, np.nan, 0.5, 1.0, 2.0, 3.7, 29.0, 1e6, np.inf])


@pytest.mark.parametrize("q", [0.975, 0.5, 0.0, 1.0, 1e-12, np.nan])
def test_f_quantile_is_scipy_stats_f_ppf_to_the_bit(q):
    d1, d2 = np.meshgrid(_D, _D)
    assert np.array_equal(inference.f_quantile(q, d1, d2), stats.f.ppf(q, d1, d2), equal_nan=True)


@pytest.mark.parametrize("x", [-1.0, 0.0, 0.5, 1.0, 3.2, np.inf, np.nan])
def test_f_sf_is_scipy_stats_f_sf_to_the_bit(x):
    d1, d2 = np.meshgrid(_D, _D)
    assert np.array_equal(inference.f_sf(x, d1, d2), stats.f.sf(x, d1, d2), equal_nan=True)
    assert inference.f_sf(2.5, 4, 35) == stats.f.sf(2.5, 4, 35)  # a scalar stays a scalar


def test_wilson_interval_is_statsmodels_proportion_confint_to_the_bit():
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(3)
    cases = [(0, 10), (10, 10), (3, 7), (0.0, 2.5), (2.5, 2.5), (1.7, 3.2), (40, 1000), (999, 1000)]
    cases += [(float(x), float(n)) for n in rng.uniform(0.5, 300, 40) for x in (0.0, rng.uniform(0, n), n)]
    for count, nobs in cases:
        for confidence in (0.95, 0.9, 0.99, 0.5):
            ours = inference.wilson_interval(count, nobs, confidence)
            theirs = proportion_confint(count, nobs, alpha=1 - confidence, method="wilson")
            assert ours == tuple(float(v) for v in theirs), (count, nobs, confidence)


def test_clustered_proportion_keeps_statsmodels_for_the_other_methods():
    from statsmodels.stats.proportion import proportion_confint

    y = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 0], dtype=float)
    clusters = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    for method in ("wilson", "beta", "agresti_coull", "jeffreys"):
        p, lo, hi, deff = inference.clustered_proportion(y, clusters, 0.95, method)
        n_eff = len(y) / deff
        want = proportion_confint(p * n_eff, n_eff, alpha=0.05, method=method)
        assert (lo, hi) == pytest.approx((float(want[0]), float(want[1])), abs=1e-15, rel=1e-12)
