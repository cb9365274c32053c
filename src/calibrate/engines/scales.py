"""The ordered category scale of each row: its ``kind`` (CONTRACTS §1) or a given list.

A :class:`Scale` knows its categories (lowest first), their numeric values (interval and
ratio alpha, ICC: the number itself, else the 1-based position, as in
:mod:`calibrate.agreement`), which texts count as each category, and how many bits one
category's count takes in the packed count key of a unit (see
:mod:`calibrate.engines.plan`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from calibrate.schema import CODES, KINDS, NOT_APPLICABLE

#: texts that mean "no rating" (besides NULL / NaN), after stripping
MISSING = ("", NOT_APPLICABLE)
#: a unit's counts are packed into one 62-bit integer: ``bits`` per category
KEY_BITS = 62


def _number(c) -> float | None:
    try:
        x = float(str(c).strip())
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Scale:
    code: int
    name: str  # the kind, or "" for a scale given as ``categories``
    categories: tuple

    @property
    def q(self) -> int:
        return len(self.categories)

    @property
    def bits(self) -> int:
        """Bits per category in the packed key (0: too many categories to pack)."""
        return KEY_BITS // self.q if self.q <= KEY_BITS else 0

    @cached_property
    def numeric(self) -> np.ndarray | None:
        """The categories as numbers, or None when one is not a number."""
        xs = [_number(c) for c in self.categories]
        return None if any(x is None for x in xs) else np.asarray(xs, dtype=np.float64)

    @cached_property
    def values(self) -> np.ndarray:
        """Numeric value per category: the number itself, else its 1-based position
        (:func:`calibrate.agreement._weights.category_values`)."""
        return self.numeric if self.numeric is not None else np.arange(1, self.q + 1, dtype=np.float64)

    def forms(self, k: int) -> list[str]:
        """Texts that mean category ``k``: its text, and for a number also its integer and
        float spellings (``3`` and ``3.0``), as the agreement functions compare numbers by
        value."""
        c = self.categories[k]
        out = [str(c).strip()]
        x = _number(c)
        if x is not None:
            if x.is_integer():
                out.append(str(int(x)))
            out.append(repr(x))
        return list(dict.fromkeys(out))

    def label_of(self, text) -> int | None:
        """Position of a (stripped) text on this scale, or None."""
        s = str(text).strip()
        for k in range(self.q):
            if s in self.forms(k):
                return k
        return None


def kind_scales() -> list[Scale]:
    """One scale per kind of CONTRACTS §1, in the order of :data:`calibrate.schema.KINDS`."""
    return [Scale(i, kind, tuple(CODES[kind])) for i, kind in enumerate(KINDS)]


def given_scale(categories, code: int = 0, name: str = "") -> Scale:
    from calibrate.errors import InputError

    cats = tuple(categories)
    if not cats:
        raise InputError(f"'categories'{f' of {name!r}' if name else ''} must list at least one category.")
    keys = [str(c).strip() for c in cats]
    if len(set(keys)) != len(keys):
        raise InputError(f"'categories' must not repeat a category. Got {list(cats)!r}.")
    return Scale(code, name, cats)


def scales_for(categories) -> tuple[list[Scale], bool]:
    """The scales of an analysis and whether they are read from the kind column:
    ``None`` -> the kinds of CONTRACTS §1; a list -> that one scale for every row; a
    mapping -> one scale per value of the kind column (a researcher's own scales)."""
    if categories is None:
        return kind_scales(), True
    if isinstance(categories, Mapping):
        return [given_scale(c, i, str(k)) for i, (k, c) in enumerate(categories.items())], True
    if isinstance(categories, (str, bytes)):
        from calibrate.errors import InputError

        raise InputError(f"'categories' must be a list of categories (or a mapping kind -> list); got {categories!r}.")
    return [given_scale(categories)], False
