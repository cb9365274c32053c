"""G-study designs: which facets there are, which is nested in which, and their effects.

Owns :class:`Design` and :func:`parse_design` (Brennan's notation: ``"c x r x i"``,
``"c x r x (i:o)"``, ``"c x (r:s)"``, ``"(c x r):s"``) and the effect list every estimator
and D-study works on. Knows nothing of data.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from calibrate.errors import InputError

_TOKEN = re.compile(r"\s*(?:(\()|(\))|(:)|([x×*])(?![A-Za-z0-9_])|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Effect:
    """One source of variance: a set of facets (``index``) closed under nesting.

    ``primary`` are the facets not nesting any other facet of the effect, ``nesting`` the
    facets some member is nested in (Brennan 2001, §3.1: ``pr:t`` has primary ``p, r`` and
    nesting ``t``). ``label`` is Brennan's notation.
    """

    index: frozenset
    primary: tuple[str, ...]
    nesting: tuple[str, ...]

    @property
    def label(self) -> str:
        sep = "" if all(len(f) == 1 for f in self.index) else "×"
        text = sep.join(self.primary)
        return text + (":" + sep.join(self.nesting) if self.nesting else "")

    def __contains__(self, facet: str) -> bool:
        return facet in self.index


@dataclass(frozen=True)
class Design:
    """Facets in notation order and, per facet, the facets it is nested in.

    >>> d = parse_design("c x (r:s)")
    >>> [e.label for e in d.effects]
    ['c', 's', 'cs', 'r:s', 'cr:s']
    """

    text: str
    facets: tuple[str, ...]
    nested_in: tuple[tuple[str, frozenset], ...]

    def within(self, facet: str) -> frozenset:
        """The facets ``facet`` is nested in (transitively)."""
        return dict(self.nested_in)[facet]

    @cached_property
    def effects(self) -> tuple[Effect, ...]:
        """Every effect of the design, smallest first; the last one is the residual."""
        out = []
        nest = dict(self.nested_in)
        for size in range(1, len(self.facets) + 1):
            for combo in itertools.combinations(self.facets, size):
                s = frozenset(combo)
                if any(not nest[f] <= s for f in s):
                    continue  # a nested facet without the facets it is nested in
                nesting = frozenset().union(*(nest[f] for f in s)) & s
                primary = tuple(f for f in self.facets if f in s and f not in nesting)
                out.append(Effect(s, primary, tuple(f for f in self.facets if f in nesting)))
        return tuple(out)

    def effect(self, label: str) -> Effect:
        for e in self.effects:
            if e.label == label or e.label.replace("×", "") == label:
                return e
        raise InputError(
            f"The design {self.text!r} has no effect {label!r}.",
            hint=f"Its effects are {', '.join(e.label for e in self.effects)}.",
        )

    def check_facet(self, facet: str, what: str) -> str:
        if facet not in self.facets:
            raise InputError(
                f"{what} {facet!r} is not a facet of the design {self.text!r}.",
                hint=f"Its facets are {', '.join(self.facets)}.",
            )
        return facet


def parse_design(text: str | Design) -> Design:
    """Read a design in Brennan's notation: facets joined by ``x`` (crossed) and ``:``
    (nested in), with parentheses, e.g. ``"c x r x (i:o)"`` (items nested in leeruitkomsten)
    or ``"c x (r:s)"`` (assessors nested in sessions). Facet names are identifiers;
    one-letter names give Brennan's labels (``pr:t``)."""
    if isinstance(text, Design):
        return text
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"A design must be a text such as 'c x r x i'; got {text!r}.")
    tokens = []
    pos = 0
    src = text.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise InputError(f"Cannot read the design {text!r} at {src[pos:]!r}.",
                             hint="Write facets joined by ' x ' and ':', e.g. 'c x r x (i:o)'.")
        kind = next(i for i, g in enumerate(m.groups()) if g is not None)
        tokens.append(("(", ")", ":", "x", "name")[kind] if kind < 4 else ("name", m.group(5)))
        pos = m.end()
        while pos < len(src) and src[pos].isspace():
            pos += 1
    order: list[str] = []
    nest: dict[str, set] = {}

    def expr(i):  # expr := term ('x' term)*
        names, i = term(i)
        while i < len(tokens) and tokens[i] == "x":
            more, i = term(i + 1)
            names += more
        return names, i

    def term(i):  # term := factor (':' factor)*   (left nested in everything to its right)
        names, i = factor(i)
        while i < len(tokens) and tokens[i] == ":":
            outer, i = factor(i + 1)
            for f in names:
                nest[f].update(outer)
            names = names + outer
        return names, i

    def factor(i):
        if i >= len(tokens):
            raise InputError(f"The design {text!r} ends too early.")
        tok = tokens[i]
        if tok == "(":
            names, i = expr(i + 1)
            if i >= len(tokens) or tokens[i] != ")":
                raise InputError(f"The design {text!r} has an unclosed parenthesis.")
            return names, i + 1
        if isinstance(tok, tuple):
            name = tok[1]
            if name in nest:
                raise InputError(f"The facet {name!r} appears twice in the design {text!r}.")
            nest[name] = set()
            order.append(name)
            return [name], i + 1
        raise InputError(f"Unexpected {tok!r} in the design {text!r}.")

    names, i = expr(0)
    if i != len(tokens):
        raise InputError(f"Cannot read the design {text!r}: something follows a complete design.")
    # transitive closure of nesting
    changed = True
    while changed:
        changed = False
        for f in order:
            extra = set().union(*(nest[g] for g in nest[f])) - nest[f] if nest[f] else set()
            if extra:
                nest[f] |= extra
                changed = True
    return Design(text=text.strip(), facets=tuple(order),
                  nested_in=tuple((f, frozenset(nest[f])) for f in order))
