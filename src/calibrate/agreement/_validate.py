"""Parameter checks shared by every agreement function.

The checks of :mod:`calibrate.options` (one message format for every bad option: which
parameter of which function, what is allowed, what came), as functions for the code
that checks inside a function rather than at its door.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calibrate.errors import InputError
from calibrate.options import Integer, Interval, OneOf, check


def check_option(func: str, name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; raise :class:`InputError` otherwise."""
    return check(func, name, value, OneOf(*allowed))


def check_range(
    func: str, name: str, value: Any, *, low: float, high: float, inclusive: bool = False
) -> float:
    """Return ``value`` as float if it lies in (low, high) (or [low, high])."""
    return float(check(func, name, value, Interval(low, high, closed=inclusive)))


def check_positive_int(func: str, name: str, value: Any, *, minimum: int = 1) -> int:
    return int(check(func, name, value, Integer(minimum)))


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
