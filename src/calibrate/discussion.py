"""The discussion of a revealed kalibreersessie: per case, what the panel disagreed on.

Owns the spread measure of one item in one case, the order and grouping the facilitator's
discussion view shows (leeruitkomst → dimension → item, the most disputed first), the
names of the values (level and phase names), and the list of what is still open
(items without consensus, assessors who have not finished). Pure functions over score and
consensus tables (CONTRACTS §1) and a :class:`~calibrate.frameworks.Framework`: no store,
no widgets. :mod:`calibrate.facilitator` reads the store and calls in; the facilitator's
screen (:mod:`calibrate.widgets.facilitator`) only maps the result.

The spread
----------
For one item in one case, with ``n >= 2`` assessors who gave a value, the spread is the
mean distance over the ``n (n - 1) / 2`` pairs of assessors::

    spread = sum_{i<j} d(v_i, v_j) / (n (n - 1) / 2)

with ``d = 0`` for the same value and, for values that differ, ``d = 1`` on a nominal item
(indicator, verdict, decision; ``n.v.t.`` is a value of its own: "does this indicator
apply?" is a disagreement too) or ``d = |pos(a) - pos(b)| / (k - 1)`` on an ordered scale
of ``k`` values (rubric level, phase), so that "3 or 4" weighs less than "2 or 5".

Why this measure: it is the item's own share of what lowers agreement, read plainly. It
equals ``1 - p_o`` of that one case, ``p_o`` being the (linearly weighted) percent agreement
of :func:`calibrate.agreement.percent_agreement` (Gwet 2014, ch. 2), and its mean over the
cases, weighted by the number of values, is the observed disagreement
``D_o = sum_ck o_ck d_ck / n`` of Krippendorff's coincidence matrix with the same distance
(Krippendorff 2011; nominal items: exactly the ``D_o`` of nominal alpha). The tests check
both against the agreement module. So the items at the top of the list are the ones that
pull the session's agreement down most. 0 when everyone chose the same, 1 when every pair
differs as much as the scale allows; one assessor out of six on the other side of a yes/no
item gives 5/15 = 0.33, a 3-3 split 9/15 = 0.60. (1 minus the share agreeing with the mode
would rank "3 or 4" and "1 or 6" on a six-point scale alike; the variance of positions
has no meaning for nominal items.)

Order: items by spread, largest first, ties in kijkkader order (the order of the form);
dimensions and leeruitkomsten by their most disputed item, ties likewise. Items with fewer
than two values have no spread and come last. ``order="kijkkader"`` keeps the kijkkader's
own order throughout.

>>> from calibrate.frameworks import load_framework
>>> fw = load_framework("han-wpl2-2025")
>>> spread(fw.item("leerklimaat.klassenmanagement.1"), ["gezien"] * 5 + ["niet gezien"])
0.3333333333333333
>>> spread(fw.item("leerklimaat.niveau"), ["3", "4"])   # one step of five
0.2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.model import Framework, Item, Level

__all__ = [
    "CaseDiscussion",
    "CaseOpen",
    "DiscussionGroup",
    "DiscussionItem",
    "DiscussionSection",
    "ItemRef",
    "Note",
    "OpenPoints",
    "RaterOpen",
    "ValueCount",
    "build_case_discussion",
    "item_choices",
    "level_label",
    "open_points",
    "rater_label",
    "spread",
    "value_label",
]

ORDERED_KINDS = ("level", "phase")
ORDERS = ("spread", "kijkkader")


# ----------------------------------------------------------------------------- values
def level_label(level: Level) -> str:
    """How a rubric level is named on screen: ``4 bekwaam``; ``Niveau 2`` where the
    handbook gives no name."""
    return f"{level.code} {level.name}" if level.named_in_seed else f"Niveau {level.code}"


def item_choices(framework: Framework, item: Item) -> tuple[str, ...]:
    """The values offered for ``item``, in the order the scoring form shows them
    (indicators: ``gezien``, ``niet gezien``, ``n.v.t.``; verdicts and decisions: the
    positive value first; levels and phases lowest first)."""
    from calibrate.scoring import INDICATOR_CHOICES

    if item.kind == "indicator":
        return INDICATOR_CHOICES
    if item.kind in ("verdict", "decision"):
        return tuple(reversed(item.codes))
    return tuple(item.codes)


def value_label(framework: Framework, item: Item, code: str) -> str:
    """The name of value ``code`` of ``item``: the level's or phase's name, else the code
    itself (``gezien``, ``voldaan``, ``go``)."""
    if item.kind == "level" and framework.scale is not None:
        try:
            return level_label(framework.scale.level(code))
        except InputError:  # a value outside the scale is shown as it came
            return str(code)
    if item.kind == "phase" and framework.phase_table is not None:
        names = {p.code: p.name for p in framework.phase_table.phases}
        return names.get(code, str(code))
    return str(code)


def rater_label(rater: str, names: Mapping[str, str] | None = None) -> str:
    """``B01``, or ``Jeroen (B01)`` when the facilitator's own ``names`` mapping (kept in
    their kernel, never in the database) knows the assessor."""
    name = (names or {}).get(rater)
    return f"{name} ({rater})" if name else str(rater)


def _distance(item: Item, a: str, b: str) -> float:
    if a == b:
        return 0.0
    if item.kind in ORDERED_KINDS and a in item.codes and b in item.codes and len(item.codes) > 1:
        return abs(item.codes.index(a) - item.codes.index(b)) / (len(item.codes) - 1)
    return 1.0


def spread(item: Item, values: Sequence[str]) -> float | None:
    """The spread of ``values`` (one per assessor) on ``item``: the mean pairwise distance
    (module docstring), in [0, 1]; None with fewer than two values."""
    vals = [str(v) for v in values]
    if len(vals) < 2:
        return None
    pairs = list(combinations(vals, 2))
    return sum(_distance(item, a, b) for a, b in pairs) / len(pairs)


# ----------------------------------------------------------------------------- result types
@dataclass(frozen=True)
class ValueCount:
    """How many assessors chose ``value`` (named ``label``), and who."""

    value: str
    label: str
    n: int
    raters: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """An assessor's evidence note on an item, with the value they chose."""

    rater: str
    value: str | None
    value_label: str | None
    text: str


@dataclass(frozen=True)
class DiscussionItem:
    """One item of one case as the discussion shows it.

    ``label`` is what the item asks (the indicator's text, the phase dimension's name,
    "Niveau", "Oordeel", the decision rule's title); ``ref`` names it outside its group
    ("Klassenmanagement, indicator 2"). ``counts`` lists every value the item offers, in
    form order, with ``n = 0`` for values nobody chose. ``position`` is its place in the
    kijkkader (form order).
    """

    item: str
    kind: str
    label: str
    ref: str
    number: int | None
    position: int
    spread: float | None
    n_values: int
    counts: tuple[ValueCount, ...]
    notes: tuple[Note, ...]
    consensus: str | None = None
    consensus_label: str | None = None
    reason: str | None = None

    @property
    def disputed(self) -> bool:
        """The assessors did not all choose the same value."""
        return bool(self.spread)

    @property
    def unanimous(self) -> bool:
        """At least two assessors, all with the same value."""
        return self.spread == 0.0

    @property
    def unanimous_value(self) -> str | None:
        return next((c.value for c in self.counts if c.n), None) if self.unanimous else None

    @property
    def has_consensus(self) -> bool:
        return self.consensus is not None


@dataclass(frozen=True)
class DiscussionGroup:
    """Items under one heading: a kijkkader dimension, a leeruitkomst's level and verdict,
    the phase table, or the decision."""

    id: str
    title: str
    kind: str  # "dimension" | "judgement" | "phases" | "decision"
    items: tuple[DiscussionItem, ...]

    @property
    def max_spread(self) -> float | None:
        vals = [i.spread for i in self.items if i.spread is not None]
        return max(vals) if vals else None

    @property
    def n_disputed(self) -> int:
        return sum(i.disputed for i in self.items)


@dataclass(frozen=True)
class DiscussionSection:
    """A leeruitkomst (or the phases, or the decision) with its groups."""

    id: str
    title: str
    groups: tuple[DiscussionGroup, ...]

    @property
    def items(self) -> tuple[DiscussionItem, ...]:
        return tuple(i for g in self.groups for i in g.items)

    @property
    def max_spread(self) -> float | None:
        vals = [g.max_spread for g in self.groups if g.max_spread is not None]
        return max(vals) if vals else None

    @property
    def n_disputed(self) -> int:
        return sum(g.n_disputed for g in self.groups)


@dataclass(frozen=True)
class CaseDiscussion:
    """One case of a revealed session: sections in discussion order."""

    case: str
    title: str | None
    raters: tuple[str, ...]
    sections: tuple[DiscussionSection, ...]
    order: str = "spread"

    @property
    def items(self) -> tuple[DiscussionItem, ...]:
        return tuple(i for s in self.sections for i in s.items)

    def item(self, item_id: str) -> DiscussionItem:
        for i in self.items:
            if i.item == item_id:
                return i
        raise KeyError(item_id)

    @property
    def n_disputed(self) -> int:
        return sum(i.disputed for i in self.items)

    @property
    def n_consensus(self) -> int:
        return sum(i.has_consensus for i in self.items)

    def by_spread(self) -> tuple[DiscussionItem, ...]:
        """Every item, most disputed first, ties in kijkkader order."""
        return tuple(sorted(self.items, key=_item_key))


# ----------------------------------------------------------------------------- building
def _item_key(item: DiscussionItem):
    return (-(item.spread if item.spread is not None else -1.0), item.position)


def _group_key(group):
    first = min(i.position for i in group.items)
    top = group.max_spread
    return (-(top if top is not None else -1.0), first)


def _clean(text) -> str | None:
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    text = str(text)
    return text if text.strip() else None


def build_case_discussion(
    framework: Framework,
    scores: pd.DataFrame,
    consensus: pd.DataFrame | None = None,
    *,
    case: str,
    title: str | None = None,
    raters: Iterable[str] | None = None,
    order: str = "spread",
) -> CaseDiscussion:
    """The discussion of ``case``: every assessable item with its spread, the assessors'
    notes, the consensus so far, grouped and ordered (module docstring).

    ``scores`` is a score table (CONTRACTS §1; other cases and sessions are ignored when
    ``case`` does not match), ``consensus`` a consensus table with ``note`` as the reason.
    ``raters`` limits the panel to the session's assessors (default: whoever scored).
    """
    if order not in ORDERS:
        raise InputError(f"order {order!r} is not known.", hint=f"Use one of {', '.join(map(repr, ORDERS))}.")
    s = scores[scores["case"].astype(str) == str(case)]
    if raters is not None:
        keep = [str(r) for r in raters]
        s = s[s["rater"].astype(str).isin(keep)]
    panel = tuple(sorted({str(r) for r in s["rater"]} | (set(map(str, raters)) if raters is not None else set())))
    by_item: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for rater, item, value, note in s[["rater", "item", "value", "note"]].itertuples(index=False):
        value = None if value is None or pd.isna(value) else str(value)
        by_item.setdefault(str(item), []).append((str(rater), value, _clean(note)))
    cons: dict[str, tuple[str | None, str | None]] = {}
    if consensus is not None and len(consensus):
        c = consensus[consensus["case"].astype(str) == str(case)]
        for item, value, note in c[["item", "value", "note"]].itertuples(index=False):
            cons[str(item)] = (None if value is None or pd.isna(value) else str(value), _clean(note))

    position = {it.id: n for n, it in enumerate(framework.assessable_items())}

    def make(item: Item, label: str, ref: str, number: int | None = None) -> DiscussionItem:
        # one judgement per assessor (the last row where a table repeats one), by rater id
        rows = sorted({r: (r, v, n) for r, v, n in by_item.get(item.id, [])}.values(), key=lambda x: x[0])
        chosen = [(r, v) for r, v, _ in rows if v is not None]
        counts = []
        for code in item_choices(framework, item):
            who = tuple(r for r, v in chosen if v == code)
            counts.append(ValueCount(code, value_label(framework, item, code), len(who), who))
        for code in sorted({v for _, v in chosen} - set(item_choices(framework, item))):
            who = tuple(r for r, v in chosen if v == code)  # outside the form's choices: shown as it came
            counts.append(ValueCount(code, str(code), len(who), who))
        notes = tuple(Note(r, v, value_label(framework, item, v) if v is not None else None, n)
                      for r, v, n in rows if n is not None)
        cvalue, reason = cons.get(item.id, (None, None))
        return DiscussionItem(
            item=item.id, kind=item.kind, label=label, ref=ref, number=number, position=position[item.id],
            spread=spread(item, [v for _, v in chosen]), n_values=len(chosen), counts=tuple(counts), notes=notes,
            consensus=cvalue, consensus_label=value_label(framework, item, cvalue) if cvalue is not None else None,
            reason=reason,
        )

    sections: list[DiscussionSection] = []
    for outcome in framework.outcomes:
        groups = []
        for dim in outcome.dimensions:
            if not dim.assessed:
                continue
            items = tuple(
                make(framework.item(ind.id), ind.text, f"{dim.name}, indicator {n}", n)
                for n, ind in enumerate(dim.indicators, 1) if ind.assessed
            )
            if items:
                groups.append(DiscussionGroup(dim.id, dim.name, "dimension", items))
        judged = []
        if framework.scale is not None and outcome.level_item_id in position:
            judged.append(make(framework.item(outcome.level_item_id), "Niveau", f"Niveau — {outcome.name}"))
        if outcome.verdict_item_id and outcome.verdict_item_id in position:
            judged.append(make(framework.item(outcome.verdict_item_id), "Oordeel", f"Oordeel — {outcome.name}"))
        if judged:
            groups.append(DiscussionGroup(f"{outcome.id}.oordeel-en-niveau", "Niveau en oordeel", "judgement",
                                          tuple(judged)))
        if groups:
            sections.append(DiscussionSection(outcome.id, outcome.name, tuple(groups)))
    table = framework.phase_table
    if table is not None:
        items = tuple(make(framework.item(d.item_id), d.name, f"Fase — {d.name}") for d in table.dimensions)
        title_ = table.title or "Tabel complexe beroepsvaardigheden"
        sections.append(DiscussionSection("fasen", "Fasen", (DiscussionGroup("fasen", title_, "phases", items),)))
    if framework.decision is not None:
        rule = framework.rules[framework.decision.rule_id]
        item = make(framework.item(framework.decision.item_id), rule.title, f"Besluit — {rule.title}")
        sections.append(DiscussionSection("besluit", "Besluit", (DiscussionGroup("besluit", "Besluit", "decision", (item,)),)))

    if order == "spread":
        sections = [
            DiscussionSection(sec.id, sec.title, tuple(sorted(
                (DiscussionGroup(g.id, g.title, g.kind, tuple(sorted(g.items, key=_item_key))) for g in sec.groups),
                key=_group_key)))
            for sec in sections
        ]
        sections.sort(key=_group_key)
    return CaseDiscussion(str(case), title, panel, tuple(sections), order)


# ----------------------------------------------------------------------------- what is open
@dataclass(frozen=True)
class ItemRef:
    """An item of a case, named for a list (``ref``), with its spread."""

    case: str
    item: str
    ref: str
    section: str
    spread: float | None


@dataclass(frozen=True)
class CaseOpen:
    """What is open in one case: disputed items without consensus (most disputed first),
    unanimous items without consensus, items nobody (or one assessor) judged, consensus
    recorded without a reason."""

    case: str
    title: str | None
    n_items: int
    n_consensus: int
    disputed: tuple[ItemRef, ...]
    unanimous: tuple[ItemRef, ...]
    unjudged: tuple[ItemRef, ...]
    no_reason: tuple[ItemRef, ...]

    @property
    def n_open(self) -> int:
        return self.n_items - self.n_consensus

    @property
    def done(self) -> bool:
        return self.n_open == 0 and not self.no_reason


@dataclass(frozen=True)
class RaterOpen:
    """An assessor who has not finished the blind round."""

    rater: str
    complete: int
    total: int
    filled: int
    assessable: int


@dataclass(frozen=True)
class OpenPoints:
    """Everything still open in a session (:func:`open_points`)."""

    cases: tuple[CaseOpen, ...]
    unfinished: tuple[RaterOpen, ...] = field(default_factory=tuple)
    #: False before the reveal: then only the assessors' counts are known here
    revealed: bool = True

    @property
    def n_open_items(self) -> int:
        return sum(c.n_open for c in self.cases)

    @property
    def cases_without_consensus(self) -> tuple[CaseOpen, ...]:
        return tuple(c for c in self.cases if c.n_consensus == 0)

    @property
    def done(self) -> bool:
        return all(c.done for c in self.cases) and not self.unfinished


def open_points(discussions: Iterable[CaseDiscussion], status: pd.DataFrame | None = None) -> OpenPoints:
    """What is still open: per case the items without consensus and the consensus without a
    reason; the assessors who have not finished (from a
    :func:`calibrate.facilitator.session_status` table)."""
    cases = []
    for d in discussions:
        sec_of = {i.item: s.title for s in d.sections for i in s.items}

        def ref(i: DiscussionItem) -> ItemRef:
            return ItemRef(d.case, i.item, i.ref, sec_of[i.item], i.spread)

        ordered = d.by_spread()
        cases.append(CaseOpen(
            case=d.case, title=d.title, n_items=len(ordered), n_consensus=d.n_consensus,
            disputed=tuple(ref(i) for i in ordered if not i.has_consensus and i.disputed),
            unanimous=tuple(ref(i) for i in ordered if not i.has_consensus and i.unanimous),
            unjudged=tuple(ref(i) for i in ordered if not i.has_consensus and i.spread is None),
            no_reason=tuple(ref(i) for i in ordered if i.has_consensus and not i.reason),
        ))
    unfinished = ()
    if status is not None and len(status):
        unfinished = tuple(
            RaterOpen(str(r.rater), int(r.complete), int(r.total), int(r.filled), int(r.assessable))
            for r in status.itertuples(index=False) if not r.finished
        )
    return OpenPoints(tuple(cases), unfinished)

