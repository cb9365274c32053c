"""Result objects of the agreement functions.

Owns :class:`AgreementResult` (every coefficient), :class:`ICCResult` (adds the F test)
and :class:`DifferenceResult` (a bootstrap comparison of two sessions). All are frozen:
the same numbers every time, no rounding, no wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


def _freeze(m: Mapping | None) -> Mapping:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True)
class AgreementResult:
    """One agreement coefficient with its uncertainty.

    Attributes
    ----------
    coefficient : str
        Name, e.g. ``"cohen_kappa"``.
    value : float
        The coefficient (``nan`` when it is undefined, e.g. no unit with two ratings).
    se : float or None
        Standard error (Gwet 2014 linearisation variance unless ``notes`` say otherwise).
    ci : (float, float) or None
        Confidence interval at ``confidence``; the upper end is capped at 1.
    n_units, n_raters : int
        Units and raters with at least one rating.
    p_o, p_e : float or None
        Observed and chance agreement, where the method defines them.
    per_category : Mapping or None
        Category -> coefficient of that category against all others (kappa family).
    p_value : float or None
        Test of H0: coefficient = 0, see ``notes`` for distribution and sidedness.
    confidence : float
        Confidence level of ``ci``.
    weights : str
        Weighting scheme or level of measurement used.
    categories : tuple
        The ordered categories the coefficient was computed over.
    notes : tuple[str, ...]
        Method notes (variance formula, CI convention, how missing data were handled).
    details : Mapping
        Extra statistics (e.g. ``se_h0``, ``z_h0`` for tests under the null).
    """

    coefficient: str
    value: float
    se: float | None = None
    ci: tuple[float, float] | None = None
    n_units: int = 0
    n_raters: int = 0
    p_o: float | None = None
    p_e: float | None = None
    per_category: Mapping[Any, float] | None = None
    p_value: float | None = None
    confidence: float = 0.95
    weights: str = "identity"
    categories: tuple = ()
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", _freeze(self.details))
        if self.per_category is not None:
            object.__setattr__(self, "per_category", _freeze(self.per_category))

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON friendly apart from NaN)."""
        return {
            "coefficient": self.coefficient,
            "value": self.value,
            "se": self.se,
            "ci_low": None if self.ci is None else self.ci[0],
            "ci_high": None if self.ci is None else self.ci[1],
            "n_units": self.n_units,
            "n_raters": self.n_raters,
            "p_o": self.p_o,
            "p_e": self.p_e,
            "p_value": self.p_value,
            "confidence": self.confidence,
            "weights": self.weights,
        }


@dataclass(frozen=True)
class ICCResult(AgreementResult):
    """An intraclass correlation with its F test.

    ``F`` = MS(units) / MS(error) with ``df1``, ``df2`` degrees of freedom and
    ``p_value`` = P(F(df1, df2) > F) (one-sided, H0: ICC = 0). ``variance_components``
    holds the estimated variances (``unit``, ``rater``, ``residual``).
    """

    F: float = float("nan")
    df1: float = float("nan")
    df2: float = float("nan")
    model: str = "oneway"
    kind: str = "single"
    variance_components: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "variance_components", _freeze(self.variance_components))


@dataclass(frozen=True)
class DifferenceResult:
    """Bootstrap comparison of one coefficient between two sessions (first - second).

    ``ci`` is the percentile interval of the bootstrap differences, ``se`` their standard
    deviation and ``p_value`` the two-sided bootstrap p-value of H0: no difference
    (twice the smaller tail share of differences at or beyond 0).
    """

    coefficient: str
    value: float
    se: float
    ci: tuple[float, float]
    p_value: float
    first: AgreementResult
    second: AgreementResult
    n_resamples: int
    confidence: float = 0.95
    seed: int | None = None
    notes: tuple[str, ...] = ()

    def __float__(self) -> float:
        return float(self.value)


def nan_result(name: str, *, n_units: int, n_raters: int, note: str, **kw: Any) -> AgreementResult:
    return AgreementResult(
        coefficient=name,
        value=float("nan"),
        n_units=n_units,
        n_raters=n_raters,
        notes=(note,),
        **kw,
    )


def finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None
