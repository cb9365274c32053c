"""One check for every option of every public function, with one message format.

In the spirit of scikit-learn's ``validate_params``: a function declares what each option
may be, and :func:`validate_options` checks the call before the body runs. A bad option
is an :class:`~calibrate.errors.InputError` that says which parameter of which function,
what is allowed and what came::

    The 'alpha' parameter of drifting_indicators must be a number in (0, 1). Got 2 instead.

>>> @validate_options(level=OneOf("nominal", "ordinal"))
... def f(df, level="nominal"):
...     return level
>>> f(None, level="ratio")
Traceback (most recent call last):
...
calibrate.errors.InputError: The 'level' parameter of f must be one of 'nominal', 'ordinal'. Got 'ratio' instead.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any, Callable

from .errors import InputError


class Constraint:
    """What an option may be: :meth:`holds` tests a value, :meth:`describe` says it."""

    def holds(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class OneOf(Constraint):
    """One of the listed values."""

    def __init__(self, *allowed: Any):
        self.allowed = tuple(allowed)

    def holds(self, value: Any) -> bool:
        try:
            return value in self.allowed
        except TypeError:  # an unhashable or uncomparable value is simply not allowed
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(a) for a in self.allowed)


class Interval(Constraint):
    """A real number between ``low`` and ``high``, ends included when ``closed``."""

    def __init__(self, low: float, high: float, *, closed: bool = False):
        self.low, self.high, self.closed = low, high, closed

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        if math.isnan(v):
            return False
        return self.low <= v <= self.high if self.closed else self.low < v < self.high

    def describe(self) -> str:
        left, right = ("[", "]") if self.closed else ("(", ")")
        return f"a number in {left}{self.low}, {self.high}{right}"


class Integer(Constraint):
    """A whole number of at least ``minimum``."""

    def __init__(self, minimum: int = 1):
        self.minimum = minimum

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool) or not (isinstance(value, int) or hasattr(value, "__index__")):
            return False
        return int(value) >= self.minimum

    def describe(self) -> str:
        return f"an integer >= {self.minimum}"


class Each(Constraint):
    """A sequence whose every element meets ``inner``."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def holds(self, value: Any) -> bool:
        if isinstance(value, str):
            return False
        try:
            return all(self.inner.holds(v) for v in value)
        except TypeError:
            return False

    def describe(self) -> str:
        return f"a list of {self.inner.describe().replace('one of', 'values out of')}"


def message(func: str, name: str, constraint: Constraint, value: Any) -> str:
    """The one message format of a bad option."""
    return f"The {name!r} parameter of {func} must be {constraint.describe()}. Got {value!r} instead."


def check(func: str, name: str, value: Any, constraint: Constraint) -> Any:
    """Return ``value`` when it meets ``constraint``; raise :class:`InputError` otherwise."""
    if not constraint.holds(value):
        raise InputError(message(func, name, constraint, value))
    return value


def validate_options(**constraints: Constraint) -> Callable:
    """Decorate a function so that its options are checked, by name, before it runs."""

    def deco(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:  # pragma: no cover - a mistake in the decorated function
            raise TypeError(f"{fn.__name__} has no parameter(s) {sorted(unknown)}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            for name, constraint in constraints.items():
                if name in bound.arguments:
                    check(fn.__name__, name, bound.arguments[name], constraint)
                elif sig.parameters[name].default is not inspect.Parameter.empty:
                    pass  # the default is allowed by construction
            return fn(*args, **kwargs)

        wrapper.__signature__ = sig
        return wrapper

    return deco
