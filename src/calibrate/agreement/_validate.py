"""Parameter checks shared by every agreement function.

One message format for every bad option: which parameter of which function, what is
allowed, what came.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calibrate.errors import InputError


def check_option(func: str, name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; raise :class:`InputError` otherwise."""
    allowed = tuple(allowed)
    if value in allowed:
        return value
    shown = ", ".join(repr(a) for a in allowed)
    raise InputError(
        f"The {name!r} parameter of {func} must be one of {shown}. Got {value!r} instead."
    )


def check_range(
    func: str, name: str, value: Any, *, low: float, high: float, inclusive: bool = False
) -> float:
    """Return ``value`` as float if it lies in (low, high) (or [low, high])."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = (low <= v <= high) if inclusive else (low < v < high)
    if not ok:
        br = ("[", "]") if inclusive else ("(", ")")
        raise InputError(
            f"The {name!r} parameter of {func} must be a number in "
            f"{br[0]}{low}, {high}{br[1]}. Got {value!r} instead."
        )
    return v


def check_positive_int(func: str, name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        hasattr(value, "__index__")
    ):
        raise InputError(
            f"The {name!r} parameter of {func} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )
    v = int(value)
    if v < minimum:
        raise InputError(
            f"The {name!r} parameter of {func} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )
    return v


def check_population(func: str, n_population: Any, n_units: int) -> float:
    """Validate ``n_population`` (finite-population size) and return the sampling fraction."""
    if n_population is None:
        return 0.0
    try:
        big_n = float(n_population)
    except (TypeError, ValueError):
        big_n = float("nan")
    if not big_n >= n_units:
        raise InputError(
            f"The 'n_population' parameter of {func} must be None or a number >= the "
            f"number of rated units ({n_units}). Got {n_population!r} instead."
        )
    return n_units / big_n
