"""The closed forms behind the models' speed, checked against what they replace.

The ordinal Dawid–Skene M-step uses the gradient and Hessian of the expected
log-likelihood in closed form; they must match finite differences of the
log-likelihood itself. The Rasch estimation rounds compute the moments of a polytomous
scale without the probability table; they must match the moments of that table.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibrate.raters.consensus import _ordinal_derivs, _ordinal_loglik
from calibrate.raters.rasch import _poly_moments, _probs


@pytest.mark.parametrize("K", [3, 4, 6])
def test_ordinal_gradient_and_hessian_match_finite_differences(K):
    rng = np.random.default_rng(K)
    P = 7
    params = np.concatenate([np.sort(rng.normal(size=(P, K - 1)), axis=1) * 1.5, rng.uniform(0.3, 2.0, (P, 1))], axis=1)
    N = rng.gamma(1.0, 10.0, size=(P, K, K))
    g, H = _ordinal_derivs(params, N, K)
    h = 1e-5
    for i in range(K):
        e = np.zeros(K)
        e[i] = h
        up, down = _ordinal_loglik(params + e, N, K), _ordinal_loglik(params - e, N, K)
        np.testing.assert_allclose(g[:, i], (up - down) / (2 * h), rtol=1e-6, atol=1e-6)
        gu, _ = _ordinal_derivs(params + e, N, K)
        gd, _ = _ordinal_derivs(params - e, N, K)
        np.testing.assert_allclose(H[:, :, i], (gu - gd) / (2 * h), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_polytomous_moments_without_the_table_match_the_table(m):
    rng = np.random.default_rng(m)
    eta = rng.normal(0.0, 3.0, size=500)
    eta[:3] = [40.0, -40.0, 0.0]  # far out on both sides
    F = rng.normal(size=m)
    F -= F.mean()
    Pt = _probs(eta, F)
    k = np.arange(m + 1, dtype=float)
    E_ref = Pt @ k
    V_ref = Pt @ (k * k) - E_ref**2
    ge = np.cumsum(Pt[:, ::-1], axis=1)[:, ::-1][:, 1:]
    E, V = np.empty_like(eta), np.empty_like(eta)
    ge_sum, ge_var = _poly_moments(eta, F, True, E, V)
    np.testing.assert_allclose(E, E_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(V, V_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ge_sum, ge.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ge_var, (ge * (1 - ge)).sum(axis=0), rtol=1e-10)
