"""The framework file format (``schema_version`` 1) as pydantic models.

One model per mapping a file may contain. Every model forbids unknown keys and validates
strictly (a number is no text, ``1`` is no ``true``), so a typo or a YAML surprise is
refused instead of guessed at. The invariants of one mapping (unique ids, phase cells per
phase, thresholds that name levels, the parts of a band) are checked here too, after its
fields validated; what spans parts (a profile's dimensions in the phase table, a decision's
rule and outcomes) is checked by :mod:`calibrate.frameworks.loader`, which also turns
every error into a :class:`~calibrate.errors.FrameworkError`.

Texts are kept verbatim (never stripped): the built-in data is checked word for word
against the seed documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from calibrate.frameworks.model import ASSESSMENT_MODES, PHASE_PREFIX

#: A text with at least one visible character, kept as written.
Text = Annotated[str, StringConstraints(pattern=r"\S")]
#: The id of an outcome, dimension, phase, rule or decision item.
SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
#: The id of a file (``han-wpl2-2025``).
FILE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
FileId = Annotated[str, StringConstraints(pattern=FILE_ID_PATTERN)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]

KINDS = ("framework", "phase_table", "scale", "profiles", "rules")


def fail(message: str, *at: str | int, hint: str | None = None, also: tuple = ()) -> PydanticCustomError:
    """An error of a model's own check; ``at`` is the path below the model (e.g. ``"outcomes", 2, "id"``),
    ``also`` another place the message refers to."""
    return PydanticCustomError("calibrate", "{message}", {"message": message, "at": at, "hint": hint, "also": also})


def unique(values: list[str], field: str, key: str | None = None, *, what: str) -> None:
    """Refuse the second occurrence of a value in list ``field`` (of entry key ``key``)."""
    seen: dict[str, int] = {}
    tail = (key,) if key else ()
    for i, value in enumerate(values):
        if value in seen:
            raise fail(
                f"duplicate {what} {value!r}", field, i, *tail,
                also=(field, seen[value], *tail), hint=f"Each {what} must be unique.",
            )
        seen[value] = i


class Doc(BaseModel):
    """A mapping in a framework file: unknown keys refused, types checked strictly."""

    # defer_build: a model's validator is built when it is first used on its own, so the
    # nested ones are built once, inside the few models the loader calls (see the loader).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True, defer_build=True)


class SourceDoc(Doc):
    file: Text
    section: Text


class HeaderDoc(Doc):
    """The header every file starts with (``schema_version`` and ``kind`` are checked first)."""

    schema_version: int
    kind: Literal[KINDS]
    id: FileId
    version: Text
    title: Text
    source: SourceDoc


class PartDoc(Doc):
    """A part written inline in the framework file may name its title and source."""

    title: Text | None = None
    source: SourceDoc | None = None


# --------------------------------------------------------------------------- kijkkader
class DimensionDoc(Doc):
    id: Slug
    name: Text
    indicators: list[Text] = Field(min_length=1)
    assessed: bool = True
    note: Text | None = None


class OutcomeDoc(Doc):
    id: Slug
    name: Text
    description: Text
    assessment: Literal[ASSESSMENT_MODES]
    dimensions: list[DimensionDoc] = Field(min_length=1)
    level_name: Text | None = None
    source: SourceDoc | None = None
    numbering_note: Text | None = None
    assessment_note: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> OutcomeDoc:
        if self.id == PHASE_PREFIX:
            raise fail(f"{self.id!r} is reserved for the phase items (fase.<dimension>).", "id", hint="Choose another id.")
        unique([d.id for d in self.dimensions], "dimensions", "id", what="dimension id")
        return self


# --------------------------------------------------------------------------- phase table
class PhaseDoc(Doc):
    code: Slug
    name: Text


class PhaseRowDoc(Doc):
    id: Slug
    name: Text
    descriptors: dict[str, Text]


class PhaseTableContent(PartDoc):
    phases: list[PhaseDoc] = Field(min_length=2)
    dimensions: list[PhaseRowDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        codes = [p.code for p in self.phases]
        unique(codes, "phases", "code", what="phase code")
        for i, row in enumerate(self.dimensions):
            for code in row.descriptors:
                if code not in codes:
                    raise fail(
                        f"unknown key {code!r}.", "dimensions", i, "descriptors", code,
                        hint=f"Phase codes: {', '.join(codes)}.",
                    )
            for code in codes:
                if code not in row.descriptors:
                    raise fail(
                        f"missing the cell for phase {code!r}.", "dimensions", i, "descriptors",
                        hint=f"Give one text per phase: {', '.join(codes)}.",
                    )
        unique([r.id for r in self.dimensions], "dimensions", "id", what="dimension id")
        return self


# --------------------------------------------------------------------------- scale
class LevelDoc(Doc):
    name: Text
    code: Text | None = None
    named_in_seed: bool = True
    note: Text | None = None
    descriptor: Text | None = None  # what an assessor reads to choose the level


class OrderDoc(Doc):
    inferred: bool
    reasoning: Text | None = None


class ScaleContent(PartDoc):
    levels: list[LevelDoc] = Field(min_length=2)
    order: OrderDoc | None = None
    thresholds: list[Text] = []

    @model_validator(mode="after")
    def _check(self):
        for i, level in enumerate(self.levels):
            if level.code is not None and level.code != str(i + 1):
                raise fail(
                    f"level codes are their positions on the scale, lowest first: expected {str(i + 1)!r}, got {level.code!r}.",
                    "levels", i, "code", hint="List the levels lowest first; to change the order, reorder the names.",
                )
        names = [lv.name for lv in self.levels]
        unique(names, "levels", "name", what="level name")
        for i, name in enumerate(self.thresholds):
            if name not in names:
                raise fail(
                    f"threshold {name!r} names no level of the scale.", "thresholds", i,
                    hint=f"Thresholds are level names: {', '.join(names)}.",
                )
        unique(self.thresholds, "thresholds", what="threshold")
        return self


# --------------------------------------------------------------------------- profiles
class CellDoc(Doc):
    dimension: Text
    phase: Text
    quote: Text
    descriptor: Text | None = None
    inferred: bool = False
    note: Text | None = None
    source: SourceDoc | None = None


class GapDoc(Doc):
    dimension: Text
    reason: Text


class ProfileDoc(Doc):
    name: Text
    cells: list[CellDoc] = Field(min_length=1)
    description: Text | None = None
    meaning: Literal["at_least"] = "at_least"
    not_expected: list[GapDoc] = []
    source: SourceDoc | None = None

    @model_validator(mode="after")
    def _check(self):
        unique([c.dimension for c in self.cells], "cells", "dimension", what="profile dimension")
        cells = {c.dimension for c in self.cells}
        for j, gap in enumerate(self.not_expected):
            if gap.dimension in cells:
                raise fail(
                    f"{gap.dimension!r} has a cell in this profile and cannot also be not_expected.",
                    "not_expected", j, "dimension",
                )
        return self


class ProfilesContent(PartDoc):
    profiles: list[ProfileDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        unique([p.name for p in self.profiles], "profiles", "name", what="profile name")
        return self


# --------------------------------------------------------------------------- rules
class BandDoc(Doc):
    result: Text
    min: dict[str, Count] = {}
    max: dict[str, Count] = {}


class RuleDoc(Doc):
    id: Slug
    title: Text
    results: list[Text] = Field(min_length=2)
    quote: Text
    source: SourceDoc
    note: Text | None = None
    n_items: Positive | None = None
    max_items: Positive | None = None

    @model_validator(mode="after")
    def _check(self):
        unique(self.results, "results", what="result")
        if self.n_items is not None and self.max_items is not None:
            raise fail("give n_items (exactly) or max_items (at most), not both.", "max_items")
        return self

    def known(self, value: str, allowed: list[str], what: str, *at: str | int) -> None:
        if value not in allowed:
            raise fail(f"unknown {what} {value!r}.", *at, hint=f"Known: {', '.join(allowed)}.")


class CountBandsRuleDoc(RuleDoc):
    """Counts the values per code; the first band whose limits hold gives the result."""

    kind: Literal["count_bands"]
    codes: list[Text] = Field(min_length=2)
    bands: list[BandDoc] = Field(min_length=1)
    otherwise: Text

    @model_validator(mode="after")
    def _check_bands(self):
        unique(self.codes, "codes", what="code")
        for j, band in enumerate(self.bands):
            if not band.min and not band.max:
                raise fail("a band needs 'min' or 'max' (or both).", "bands", j)
            for key in ("min", "max"):
                for code in getattr(band, key):
                    if code not in self.codes:
                        raise fail(
                            f"unknown key {code!r}.", "bands", j, key, code,
                            hint=f"Codes of this rule: {', '.join(self.codes)}.",
                        )
            self.known(band.result, self.results, "result", "bands", j, "result")
        self.known(self.otherwise, self.results, "result", "otherwise")
        return self


class ThresholdRuleDoc(RuleDoc):
    """Rubric levels at least ``at_least``, for ``all`` or ``more_than_half`` of them."""

    kind: Literal["threshold"]
    at_least: Text
    require: Literal["all", "more_than_half"]

    @model_validator(mode="after")
    def _check_results(self):
        if len(self.results) != 2:
            raise fail(f"a threshold rule has exactly two results (not met, met), got {len(self.results)}.", "results")
        return self


AnyRuleDoc = Annotated[Union[CountBandsRuleDoc, ThresholdRuleDoc], Field(discriminator="kind")]


class RulesContent(PartDoc):
    rules: list[AnyRuleDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        unique([r.id for r in self.rules], "rules", "id", what="rule id")
        return self


# --------------------------------------------------------------------------- framework
class DecisionDoc(Doc):
    item: Slug
    rule: Text
    outcomes: list[Text] = Field(min_length=1)
    note: Text | None = None


class RefDoc(Doc):
    """A part kept in another file: ``{ref: file.yaml}``; a scale also takes ``override``."""

    ref: Text
    override: dict[str, Any] | None = None


class FrameworkDoc(HeaderDoc):
    """A ``kind: framework`` file. Each part is a mapping, inline or ``{ref: ...}``."""

    outcomes: list[OutcomeDoc] = Field(min_length=1)
    phase_table: dict[str, Any] | None = None
    scale: dict[str, Any] | None = None
    profiles: dict[str, Any] | None = None
    rules: dict[str, Any] | None = None
    decision: DecisionDoc | None = None

    @model_validator(mode="after")
    def _check(self):
        unique([o.id for o in self.outcomes], "outcomes", "id", what="outcome id")
        return self


#: The content model of each part (inline in the framework file, or the part of its own
#: file below the header).
PARTS: dict[str, type[PartDoc]] = {
    "phase_table": PhaseTableContent,
    "scale": ScaleContent,
    "profiles": ProfilesContent,
    "rules": RulesContent,
}
