"""The framework model: kijkkader, phase table, rubric scale, profiles, rules, items.

Frozen dataclasses built by :mod:`calibrate.frameworks.loader` from validated YAML; this
module owns the item-id scheme (docs/design.md "Item ids") and the form order of items.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Mapping

from calibrate.errors import InputError
from calibrate.schema import (  # noqa: F401  (NOT_APPLICABLE and the suffixes are re-exported)
    CODES,
    KINDS,
    LEVEL_SUFFIX,
    NOT_APPLICABLE,
    PHASE_PREFIX,
    VERDICT_SUFFIX,
    level_item,
    phase_item,
    verdict_item,
)

#: Item kinds, as in the score-table contract (:mod:`calibrate.schema`, CONTRACTS §1).
ITEM_KINDS = KINDS
#: Codes of indicator items, lowest first (``n.v.t.`` is separate: :data:`NOT_APPLICABLE`).
INDICATOR_CODES = CODES["indicator"]
#: Codes of verdict items (``<outcome>.oordeel``), lowest first.
VERDICT_CODES = CODES["verdict"]
#: Assessment modes of a leeruitkomst.
ASSESSMENT_MODES = ("summatief", "formatief")


@dataclass(frozen=True)
class SeedSource:
    """Where a text comes from: a seed file and a section in it."""

    file: str
    section: str

    def __str__(self) -> str:
        return f"{self.file}, {self.section}"


# --------------------------------------------------------------------------- kijkkader
@dataclass(frozen=True)
class Indicator:
    """One observable indicator ("Je ...") of a kijkkader dimension.

    ``id`` is ``<outcome>.<dimension>.<n>`` with ``n`` its 1-based position.
    ``assessed`` is False for indicators of a dimension that is shown but never scored.
    """

    id: str
    text: str
    outcome_id: str
    dimension_id: str
    assessed: bool = True


@dataclass(frozen=True)
class Dimension:
    """A named group of indicators in a kijkkader (e.g. Klassenmanagement).

    ``id`` is ``<outcome>.<slug>``. ``assessed=False`` marks a dimension the seed shows
    for orientation only (Differentiatie: "indicatief (niet om te beoordelen)").
    """

    id: str
    name: str
    indicators: tuple[Indicator, ...]
    assessed: bool = True
    note: str | None = None

    @property
    def slug(self) -> str:
        """The part of the id after the outcome id."""
        return self.id.split(".", 1)[1]


@dataclass(frozen=True)
class Outcome:
    """A leeruitkomst with its kijkkader.

    ``assessment`` is ``"summatief"`` (a verdict item ``<id>.oordeel`` exists) or
    ``"formatief"``; ``level_name`` is the level the indicators are written at
    (``"tussenniveau"``, ``"eindniveau"``) or None when the source states none.
    """

    id: str
    name: str
    description: str
    assessment: str
    level_name: str | None
    dimensions: tuple[Dimension, ...]
    source: SeedSource | None = None
    numbering_note: str | None = None
    assessment_note: str | None = None

    @property
    def summative(self) -> bool:
        """True when the outcome gets a verdict (voldaan / niet voldaan)."""
        return self.assessment == "summatief"

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """All indicators in form order, the not-assessed ones included."""
        return tuple(ind for dim in self.dimensions for ind in dim.indicators)

    @property
    def level_item_id(self) -> str:
        return level_item(self.id)

    @property
    def verdict_item_id(self) -> str | None:
        return verdict_item(self.id) if self.summative else None


# --------------------------------------------------------------------------- phase table
@dataclass(frozen=True)
class Phase:
    """A column of the tabel complexe beroepsvaardigheden (code ``begin``, name Beginfase)."""

    code: str
    name: str


@dataclass(frozen=True)
class PhaseDimension:
    """A row of the tabel complexe beroepsvaardigheden; ``descriptors`` maps phase code to cell text."""

    id: str
    name: str
    descriptors: Mapping[str, str]

    @property
    def item_id(self) -> str:
        return phase_item(self.id)


@dataclass(frozen=True)
class PhaseTable:
    """The tabel complexe beroepsvaardigheden: ordered phases (lowest first) × dimensions."""

    phases: tuple[Phase, ...]
    dimensions: tuple[PhaseDimension, ...]
    id: str | None = None
    version: str | None = None
    title: str | None = None
    source: SeedSource | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Phase codes, lowest first."""
        return tuple(p.code for p in self.phases)

    def position(self, code: str) -> int:
        """1-based position of a phase code (``begin`` → 1)."""
        try:
            return self.codes.index(code) + 1
        except ValueError:
            raise InputError(
                f"Unknown phase code {code!r}.", hint=f"Phase codes are {_quoted(self.codes)}."
            ) from None

    def dimension(self, dimension_id: str) -> PhaseDimension:
        """The row with this id (e.g. ``"zelfstandigheid"``)."""
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise InputError(
            f"Unknown dimension {dimension_id!r} of the tabel complexe beroepsvaardigheden.",
            hint=_did_you_mean(dimension_id, [d.id for d in self.dimensions]),
        )


# --------------------------------------------------------------------------- rubric scale
@dataclass(frozen=True)
class Level:
    """A level of the rubric scale; ``code`` is its position as text (``"1"`` lowest).

    ``descriptor`` is what an assessor reads to choose the level (an institute's own words,
    or the source's); ``note`` is about the data (where it came from), not for the form.
    """

    code: str
    position: int
    name: str
    named_in_seed: bool = True
    note: str | None = None
    descriptor: str | None = None


@dataclass(frozen=True)
class RubricScale:
    """The ordered rubric levels and named thresholds (e.g. ``{"bekwaam": "4"}``).

    ``order_inferred`` says the order of some named levels is an assumption (see
    ``order_reasoning``), not a statement of the source.
    """

    levels: tuple[Level, ...]
    thresholds: Mapping[str, str]
    order_inferred: bool = False
    order_reasoning: str | None = None
    id: str | None = None
    version: str | None = None
    title: str | None = None
    source: SeedSource | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Level codes, lowest first."""
        return tuple(level.code for level in self.levels)

    def level(self, code_or_name: str) -> Level:
        """The level with this code (``"4"``) or name (``"bekwaam"``)."""
        for level in self.levels:
            if code_or_name in (level.code, level.name):
                return level
        raise InputError(
            f"Unknown rubric level {code_or_name!r}.",
            hint=f"Levels are {_quoted(self.codes)} "
            f"({', '.join(f'{lv.code} {lv.name}' for lv in self.levels)}).",
        )

    def threshold(self, name: str) -> str:
        """Code of a named threshold or level name (``"bekwaam"`` → ``"4"``)."""
        if name in self.thresholds:
            return self.thresholds[name]
        return self.level(name).code

    def at_least(self, code: str, threshold: str) -> bool:
        """True when level ``code`` is at or above the named threshold."""
        return self.level(code).position >= self.level(self.threshold(threshold)).position


# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class ProfileCell:
    """Expected minimum phase of one dimension, with the seed sentence that justifies it.

    ``quote`` is verbatim from ``source``; ``descriptor`` is the table cell it matches;
    ``inferred`` marks a cell that is a judgement rather than a near-literal match.
    """

    dimension_id: str
    phase: str
    quote: str
    source: SeedSource | None = None
    descriptor: str | None = None
    inferred: bool = False
    note: str | None = None


@dataclass(frozen=True)
class ProfileGap:
    """A dimension a profile sets no expectation for, and why."""

    dimension_id: str
    reason: str


@dataclass(frozen=True)
class PhaseProfile:
    """Expected phases at an assessment level (e.g. tussenniveau).

    Each cell means "at least this phase" (``meaning == "at_least"``); dimensions without
    a cell have no expectation (``not_expected`` says why, where the file says so).
    """

    name: str
    cells: tuple[ProfileCell, ...]
    description: str | None = None
    meaning: str = "at_least"
    not_expected: tuple[ProfileGap, ...] = ()
    source: SeedSource | None = None

    def expected(self, dimension_id: str) -> str | None:
        """The minimum expected phase code for a dimension, or None when none is set."""
        for cell in self.cells:
            if cell.dimension_id == dimension_id:
                return cell.phase
        return None


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class CountBand:
    """One band of a ``count_bands`` rule: ``result`` when every limit holds.

    ``minimum``/``maximum`` map a code to the least/most number of times it may occur.
    """

    result: str
    minimum: Mapping[str, int] = field(default_factory=dict)
    maximum: Mapping[str, int] = field(default_factory=dict)

    def holds(self, counts: Mapping[str, int]) -> bool:
        return all(counts.get(c, 0) >= n for c, n in self.minimum.items()) and all(
            counts.get(c, 0) <= n for c, n in self.maximum.items()
        )


@dataclass(frozen=True)
class DecisionRule:
    """A decision rule stated in a seed, as data (evaluated by :mod:`calibrate.rules`).

    ``kind`` is ``"count_bands"`` (count values per code; first band that holds wins, else
    ``otherwise``) or ``"threshold"`` (rubric levels at least ``at_least``; ``require`` is
    ``"all"`` or ``"more_than_half"``). ``results`` lists the outcomes, worst first.
    """

    id: str
    title: str
    kind: str
    results: tuple[str, ...]
    quote: str
    source: SeedSource
    note: str | None = None
    codes: tuple[str, ...] = ()
    bands: tuple[CountBand, ...] = ()
    otherwise: str | None = None
    n_items: int | None = None
    max_items: int | None = None
    at_least: str | None = None
    require: str | None = None


@dataclass(frozen=True)
class DecisionSpec:
    """The framework's overall decision: item ``item_id`` from rule ``rule_id`` over the
    verdicts of ``outcomes``."""

    item_id: str
    rule_id: str
    outcomes: tuple[str, ...]
    note: str | None = None


# --------------------------------------------------------------------------- items
@dataclass(frozen=True)
class Item:
    """One thing a rater judges, as it appears in the score table's ``item`` column.

    ``codes`` are the allowed values, lowest first (``n.v.t.`` excluded). ``assessed`` is
    False for items shown on the form but never scored.
    """

    id: str
    kind: str
    label: str
    codes: tuple[str, ...]
    outcome_id: str | None = None
    dimension_id: str | None = None
    assessed: bool = True


# --------------------------------------------------------------------------- framework
@dataclass(frozen=True)
class Framework:
    """A loaded, validated assessment framework (see docs/design.md "Framework API").

    Build it with :func:`calibrate.frameworks.load_framework`. ``source`` is the path of the
    YAML file it was read from (``load_framework(fw.source)`` reads it again); ``seed``
    cites the document its texts were taken from.
    """

    id: str
    version: str
    title: str
    outcomes: tuple[Outcome, ...]
    phase_table: PhaseTable | None = None
    scale: RubricScale | None = None
    profiles: Mapping[str, PhaseProfile] = field(default_factory=dict)
    rules: Mapping[str, DecisionRule] = field(default_factory=dict)
    decision: DecisionSpec | None = None
    seed: SeedSource | None = None
    source: Path | None = field(default=None, compare=False)

    def __hash__(self) -> int:  # the mapping fields are not hashable; id + version name it
        return hash((self.id, self.version))

    def outcome(self, outcome_id: str) -> Outcome:
        """The leeruitkomst with this id (e.g. ``"leerklimaat"``)."""
        for outcome in self.outcomes:
            if outcome.id == outcome_id:
                return outcome
        raise InputError(
            f"Unknown outcome {outcome_id!r} in framework {self.id!r}.",
            hint=f"Outcome ids are {_quoted([o.id for o in self.outcomes])}."
            + _did_you_mean(outcome_id, [o.id for o in self.outcomes], lead=" "),
        )

    def dimensions(self) -> tuple[Dimension, ...]:
        """All kijkkader dimensions in form order (outcome by outcome)."""
        return tuple(dim for outcome in self.outcomes for dim in outcome.dimensions)

    def indicators(self) -> tuple[Indicator, ...]:
        """All indicators in form order, the not-assessed ones included."""
        return tuple(ind for outcome in self.outcomes for ind in outcome.indicators)

    def items(self) -> list[Item]:
        """Every item in form order.

        Per outcome: its indicators (kind ``indicator``, not-assessed ones included with
        ``assessed=False``), ``<outcome>.niveau`` (kind ``level``) and, for summative
        outcomes, ``<outcome>.oordeel`` (kind ``verdict``); then one ``fase.<dimension>``
        item per row of the phase table (kind ``phase``); then the decision item (kind
        ``decision``) when the framework declares one.
        """
        return list(self._items)

    def assessable_items(self) -> list[Item]:
        """The items a rater scores: :meth:`items` without the ``assessed=False`` ones."""
        return [item for item in self._items if item.assessed]

    def item(self, item_id: str) -> Item:
        """The item with this id; unknown ids raise :class:`~calibrate.errors.InputError`."""
        try:
            return self._item_index[item_id]
        except (KeyError, TypeError):
            pass
        raise InputError(
            f"Unknown item {item_id!r} in framework {self.id!r}.",
            hint=" ".join(
                part
                for part in (
                    _did_you_mean(item_id, list(self._item_index)),
                    "List the item ids with [item.id for item in framework.items()]; "
                    "the id scheme is in docs/design.md ('Item ids').",
                )
                if part
            ),
        )

    # -- derived, computed once per instance -------------------------------------------
    @cached_property
    def _items(self) -> tuple[Item, ...]:
        return tuple(build_items(self))

    @cached_property
    def _item_index(self) -> dict[str, Item]:
        return {item.id: item for item in self._items}


def build_items(framework: Framework) -> list[Item]:
    """The items of a framework in form order (see :meth:`Framework.items`)."""
    items: list[Item] = []
    level_codes = framework.scale.codes if framework.scale is not None else ()
    for outcome in framework.outcomes:
        for dim in outcome.dimensions:
            for ind in dim.indicators:
                items.append(
                    Item(
                        id=ind.id,
                        kind="indicator",
                        label=ind.text,
                        codes=INDICATOR_CODES,
                        outcome_id=outcome.id,
                        dimension_id=dim.id,
                        assessed=ind.assessed,
                    )
                )
        if level_codes:
            items.append(
                Item(
                    id=outcome.level_item_id,
                    kind="level",
                    label=f"Niveau — {outcome.name}",
                    codes=level_codes,
                    outcome_id=outcome.id,
                )
            )
        if outcome.summative:
            items.append(
                Item(
                    id=verdict_item(outcome.id),
                    kind="verdict",
                    label=f"Oordeel — {outcome.name}",
                    codes=VERDICT_CODES,
                    outcome_id=outcome.id,
                )
            )
    if framework.phase_table is not None:
        for row in framework.phase_table.dimensions:
            items.append(
                Item(
                    id=row.item_id,
                    kind="phase",
                    label=f"Fase — {row.name}",
                    codes=framework.phase_table.codes,
                    dimension_id=row.id,
                )
            )
    if framework.decision is not None:
        rule = framework.rules[framework.decision.rule_id]
        items.append(
            Item(
                id=framework.decision.item_id,
                kind="decision",
                label=f"Besluit — {rule.title}",
                codes=rule.results,
            )
        )
    return items


def _quoted(values) -> str:
    return ", ".join(repr(v) for v in values)


def _did_you_mean(value: str, candidates: list[str], *, lead: str = "") -> str:
    close = difflib.get_close_matches(str(value), candidates, n=3, cutoff=0.6)
    return f"{lead}Did you mean {_quoted(close)}?" if close else ""
