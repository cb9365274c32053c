"""Frozen results of a G-study: one row per variance component, and the study itself.

Owns :class:`Component` and :class:`GStudy`. No wording, no rounding: the report layer
(:mod:`calibrate.gtheory.wording`) says it in Dutch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from calibrate.gtheory.design import Design, Effect


@dataclass(frozen=True)
class Component:
    """One estimated variance component.

    ``estimate`` is the estimator's raw value (a moment estimate can be negative);
    ``variance`` is the value to use and report: the estimate, or 0 when it was negative
    (Brennan 2001, §3.4.4). ``share`` is ``variance`` over the sum of all components.
    ``df``, ``ss``, ``ms`` exist for balanced ANOVA only. ``ci`` is the interval of
    ``ci_method`` (``"satterthwaite"`` or ``"bootstrap-percentile"``/``"bootstrap-bca"``),
    ``nu`` the Satterthwaite degrees of freedom.
    """

    effect: Effect
    estimate: float
    variance: float
    share: float
    df: float | None = None
    ss: float | None = None
    ms: float | None = None
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    nu: float | None = None

    @property
    def label(self) -> str:
        return self.effect.label


@dataclass(frozen=True)
class GStudy:
    """A G-study: the design, its variance components and how they were estimated.

    ``object`` is the facet of differentiation (``"c"``, the cases); ``sizes`` the levels
    per facet (per nest; means when unequal); ``method`` ``"anova"`` (balanced),
    ``"henderson1"`` (analogous ANOVA, unbalanced) or ``"reml"``; ``own_weights`` the
    factor per effect for the error variance of a case's mean in *this* data (used by a
    D-study at the G-study's own sample sizes); ``replicates`` the bootstrap-over-cases
    estimates (resamples × effects, raw) when asked for, ``jackknife`` the leave-one-case-out
    ones (for BCa).
    """

    design: Design
    object: str
    components: tuple[Component, ...]
    method: str
    sizes: Mapping[str, float]
    n_obs: int
    grand_mean: float
    balanced: bool
    own_weights: Mapping[str, float]
    notes: tuple[str, ...] = ()
    replicates: np.ndarray | None = None
    jackknife: np.ndarray | None = None
    confidence: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", MappingProxyType(dict(self.sizes)))
        object.__setattr__(self, "own_weights", MappingProxyType(dict(self.own_weights)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        for name in ("replicates", "jackknife"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.array(arr, dtype=np.float64)
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)

    @property
    def effects(self) -> tuple[Effect, ...]:
        return tuple(c.effect for c in self.components)

    @property
    def variances(self) -> np.ndarray:
        """The components to use (negative estimates set to 0), in design order."""
        return np.array([c.variance for c in self.components])

    def __getitem__(self, label: str) -> Component:
        for c in self.components:
            if c.label == label or c.label.replace("×", "") == label:
                return c
        raise KeyError(label)

    def to_frame(self) -> pd.DataFrame:
        """One row per component: effect, df, ss, ms, estimate, variance, share, ci_low,
        ci_high, ci_method, nu."""
        return pd.DataFrame(
            {
                "effect": [c.label for c in self.components],
                "df": [c.df for c in self.components],
                "ss": [c.ss for c in self.components],
                "ms": [c.ms for c in self.components],
                "estimate": [c.estimate for c in self.components],
                "variance": [c.variance for c in self.components],
                "share": [c.share for c in self.components],
                "ci_low": [np.nan if c.ci is None else c.ci[0] for c in self.components],
                "ci_high": [np.nan if c.ci is None else c.ci[1] for c in self.components],
                "ci_method": [c.ci_method for c in self.components],
                "nu": [c.nu for c in self.components],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN as None)."""
        frame = self.to_frame().astype(object).where(lambda f: pd.notna(f), None)
        return {
            "design": self.design.text,
            "object": self.object,
            "method": self.method,
            "balanced": self.balanced,
            "n_obs": self.n_obs,
            "grand_mean": self.grand_mean,
            "sizes": dict(self.sizes),
            "components": frame.to_dict("records"),
            "notes": list(self.notes),
        }
