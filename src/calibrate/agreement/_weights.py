"""Agreement weights and Krippendorff distance metrics.

Weights are positional: category ``k`` is the k-th entry of the ordered ``categories``
list (0-based), so a category nobody used still takes its place on the scale when
``categories`` is given. Krippendorff's metrics are returned as squared distances
``delta2``; :func:`weights_from_delta` rescales them to weights ``1 - delta2/max``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calibrate.errors import InputError

WEIGHT_NAMES = ("identity", "linear", "quadratic", "ordinal")


def weight_matrix(weights: Any, q: int, *, func: str, allowed: tuple = WEIGHT_NAMES) -> np.ndarray:
    """The q x q agreement weight matrix ``w_kl`` (1 on the diagonal).

    ``identity``: w = 1 if k == l else 0. ``linear``: 1 - |k-l|/(q-1).
    ``quadratic``: 1 - (k-l)^2/(q-1)^2. ``ordinal`` (Gwet 2014, §3.5): with
    m = |k-l|+1, w = 1 - C(m,2)/C(q,2). A q x q array is used as given (custom weights:
    values in [0, 1], ones on the diagonal).
    """
    if weights is None:
        weights = "identity"
    if isinstance(weights, str):
        if weights not in allowed:
            shown = ", ".join(repr(a) for a in (None, *allowed, "a q x q array"))
            raise InputError(
                f"The 'weights' parameter of {func} must be one of {shown}. "
                f"Got {weights!r} instead."
            )
        k = np.arange(q, dtype=np.float64)
        d = np.abs(k[:, None] - k[None, :])
        if weights == "identity" or q == 1:
            return np.eye(q)
        if weights == "linear":
            return 1.0 - d / (q - 1)
        if weights == "quadratic":
            return 1.0 - (d / (q - 1)) ** 2
        m = d + 1
        nkl = m * (m - 1) / 2
        return 1.0 - nkl / nkl.max()
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (q, q):
        raise InputError(
            f"The 'weights' parameter of {func} must be a {q} x {q} matrix "
            f"(one row and column per category). Got shape {w.shape} instead."
        )
    if not np.all(np.isfinite(w)) or (w < 0).any() or (w > 1).any():
        raise InputError(
            f"The 'weights' parameter of {func} must hold weights in [0, 1]. "
            "Got values outside that range instead."
        )
    if not np.allclose(np.diag(w), 1.0):
        raise InputError(
            f"The 'weights' parameter of {func} must have ones on the diagonal "
            "(full credit for identical ratings). Got "
            f"{np.diag(w).tolist()} instead."
        )
    return w


def category_values(categories: tuple, numeric: np.ndarray | None) -> np.ndarray:
    """Numeric value of each category: the number itself, or its 1-based position."""
    if numeric is not None:
        return numeric
    return np.arange(1, len(categories) + 1, dtype=np.float64)


def krippendorff_delta2(level: str, values: np.ndarray, marginals: np.ndarray) -> np.ndarray:
    """Squared difference function delta^2_ck of Krippendorff (2011, §E).

    ``values``: numeric category values (interval, ratio); ``marginals``: ``n_c``, how
    often each category occurs among pairable values (ordinal).
    """
    q = len(values)
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(marginals)])
        lo = np.minimum.outer(np.arange(q), np.arange(q))
        hi = np.maximum.outer(np.arange(q), np.arange(q))
        # sum_{g=lo}^{hi} n_g - (n_lo + n_hi)/2
        s = cum[hi + 1] - cum[lo] - (marginals[lo] + marginals[hi]) / 2.0
        return s**2
    v = np.asarray(values, dtype=np.float64)
    diff = v[:, None] - v[None, :]
    if level == "interval":
        return diff**2
    tot = v[:, None] + v[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(tot == 0, 0.0, diff / np.where(tot == 0, 1.0, tot))
    return r**2


def weights_from_delta(delta2: np.ndarray) -> np.ndarray:
    m = float(delta2.max()) if delta2.size else 0.0
    if m <= 0:
        return np.eye(delta2.shape[0])
    return 1.0 - delta2 / m
