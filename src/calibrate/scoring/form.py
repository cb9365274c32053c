"""One assessor's scoring form for one case: value and evidence note per item, the
motivation, what is missing, completeness, and the quality nudges (pointed out, never
blocking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from calibrate.dutch import format_time
from calibrate.errors import InputError
from calibrate.frameworks.model import Framework, Item, Outcome
from calibrate.schema import CODES, NOT_APPLICABLE, allowed_values, is_phase_item, is_verdict_item, phase_item, verdict_item
from .notes import clean_text, global_phrases_in, is_global_statement

if TYPE_CHECKING:  # pragma: no cover
    from calibrate.rules import RuleResult


#: The three choices per indicator, in the order the form shows them (CONTRACTS §5).
NOT_SEEN, SEEN = CODES["indicator"]

FAIL, PASS = CODES["verdict"]

INDICATOR_CHOICES = (SEEN, NOT_SEEN, NOT_APPLICABLE)


@dataclass(frozen=True)
class Entry:
    """One item on the form: the chosen value (or None) and the evidence note (or None)."""

    value: str | None = None
    note: str | None = None

    @property
    def empty(self) -> bool:
        return self.value is None and self.note is None


@dataclass(frozen=True)
class Nudge:
    """A quality point to look at before saving — pointed out, never blocking.

    ``kind`` is one of ``"global_phrase"`` (a note with a global phrase and no concrete
    behaviour), ``"motivation"`` (no motivation yet), ``"verdict_indicators"`` (a verdict
    against the assessor's own indicator entries), ``"verdict_phases"`` (a verdict against
    the assessor's own phase entries and the expected profile) and ``"decision_rule"``
    (a decision the framework's decision rule does not give). ``message`` is Dutch, for
    the assessor.
    """

    kind: str
    item_id: str | None
    message: str
    #: further items the nudge is about (e.g. the phases a verdict is compared with)
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class SaveResult:
    """What :meth:`ScoringSession.save` did."""

    appended: int
    complete: bool
    n_missing: int
    nudges: tuple[Nudge, ...]
    saved_at: str

    def message(self) -> str:
        """The status line the form shows (Dutch; always starts with ``Opgeslagen``)."""
        what = "geen wijzigingen" if self.appended == 0 else f"{self.appended} wijziging{'en' if self.appended != 1 else ''}"
        rest = "casus compleet" if self.complete else f"nog {self.n_missing} onderdel{'en' if self.n_missing != 1 else ''} open"
        tail = f"; {len(self.nudges)} aandachtspunt{'en' if len(self.nudges) != 1 else ''}" if self.nudges else ""
        return f"Opgeslagen om {self.saved_at} ({what}; {rest}{tail})."


@dataclass(frozen=True)
class Progress:
    """How many of the session's cases this assessor has completed."""

    complete: int
    total: int
    per_case: Mapping[str, bool]

    def text(self) -> str:
        return f"{self.complete} van {self.total} casussen compleet"


@dataclass(frozen=True)
class CaseInfo:
    """The anonymised case material the assessor sees."""

    case: str
    title: str | None
    text: str | None
    material: str | None


def motivation_item_id(framework: Framework) -> str | None:
    """The item whose note holds the overall motivation (module docstring, "Motivation")."""
    if framework.decision is not None:
        return framework.decision.item_id
    items = framework.assessable_items()
    for kind in ("verdict", "level"):
        found = [i.id for i in items if i.kind == kind]
        if found:
            return found[-1]
    return None


def _now_hhmm() -> str:
    return format_time()


class CaseForm:
    """One assessor's form for one case: entries per item, what is missing, the nudges.

    Plain state, no I/O: :class:`ScoringSession` loads and saves it. Unknown items and
    values outside an item's scale raise :class:`~calibrate.errors.InputError` at once.
    """

    def __init__(
        self,
        framework: Framework,
        *,
        session: str | None = None,
        case: str | None = None,
        rater: str | None = None,
        entries: Mapping[str, Entry | tuple | str | None] | None = None,
    ):
        self.framework = framework
        self.session = session
        self.case = case
        self.rater = rater
        self._items = {item.id: item for item in framework.items()}
        self._assessable = tuple(item for item in framework.items() if item.assessed)
        self.motivation_item_id = motivation_item_id(framework)
        self._entries: dict[str, Entry] = {}
        self._saved: dict[str, Entry] = {}
        self._phase_cache: tuple | None = None
        #: the item saved most recently (from the store's ``scored_at``), where to pick up again
        self.last_item: str | None = None
        for item_id, entry in (entries or {}).items():
            value, note = _split(entry)
            self._put(item_id, value, note)
        self.mark_saved()

    @classmethod
    def from_scores(cls, framework: Framework, scores: pd.DataFrame, **where) -> "CaseForm":
        """A form filled from score-table rows (one assessor, one case; e.g. ``RaterView.my_scores``)."""
        entries = {}
        for item, value, note in scores[["item", "value", "note"]].itertuples(index=False):
            entries[str(item)] = Entry(None if pd.isna(value) else str(value), clean_text(note))
        form = cls(framework, entries=entries, **where)
        if "scored_at" in scores.columns and scores["scored_at"].notna().any():
            form.last_item = str(scores.loc[scores["scored_at"].astype(str).idxmax(), "item"])
        return form

    # -- items -------------------------------------------------------------------
    @property
    def items(self) -> tuple[Item, ...]:
        """Every item of the form in form order, the shown-only ones included."""
        return tuple(self._items.values())

    @property
    def assessable_items(self) -> tuple[Item, ...]:
        return self._assessable

    def item(self, item_id: str) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            return self.framework.item(item_id)  # raises InputError with a did-you-mean

    def choices(self, item_id: str) -> tuple[str, ...]:
        """The values the form offers for an item, in display order."""
        item = self.item(item_id)
        if item.kind == "indicator":
            return INDICATOR_CHOICES
        if item.kind in ("verdict", "decision"):
            return tuple(reversed(item.codes))  # voldaan / go first
        return tuple(item.codes)

    # -- reading -----------------------------------------------------------------
    def entry(self, item_id: str) -> Entry:
        self.item(item_id)
        return self._entries.get(item_id, Entry())

    def value(self, item_id: str) -> str | None:
        return self.entry(item_id).value

    def note(self, item_id: str) -> str | None:
        return self.entry(item_id).note

    @property
    def motivation(self) -> str | None:
        return self.note(self.motivation_item_id) if self.motivation_item_id else None

    def values(self) -> dict[str, str]:
        """Item id → chosen value, for the items that have one."""
        return {k: e.value for k, e in self._entries.items() if e.value is not None}

    # -- writing -----------------------------------------------------------------
    def set_value(self, item_id: str, value: str | None) -> None:
        """Choose ``value`` for an item (None clears it on the form)."""
        self._put(item_id, value, self.entry(item_id).note)

    def set_note(self, item_id: str, note: str | None) -> None:
        """Set the evidence note of an item (empty text clears it)."""
        self._put(item_id, self.entry(item_id).value, note)

    def set_motivation(self, text: str | None) -> None:
        if self.motivation_item_id is None:
            raise InputError(f"framework {self.framework.id!r} has no item to hold a motivation.")
        self.set_note(self.motivation_item_id, text)

    def _put(self, item_id: str, value, note) -> None:
        item = self.item(item_id)
        if not item.assessed:
            raise InputError(
                f"item {item_id!r} is shown but not assessed (indicatief, niet om te beoordelen).",
                hint="Leave it unscored.",
            )
        if value is not None:
            value = str(value)
            allowed = allowed_values(item.kind, item.codes)
            if value not in allowed:
                raise InputError(
                    f"{value!r} is outside the scale of item {item_id!r}.",
                    hint=f"Allowed: {', '.join(repr(v) for v in allowed)}.",
                )
        entry = Entry(value, clean_text(note))
        if entry.empty:
            self._entries.pop(item_id, None)
        else:
            self._entries[item_id] = entry

    # -- save bookkeeping ---------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when the form differs from what was last loaded or saved."""
        return self._entries != self._saved

    def changed_items(self) -> list[str]:
        keys = set(self._entries) | set(self._saved)
        return [i for i in self._items if i in keys and self._entries.get(i) != self._saved.get(i)]

    def mark_saved(self) -> None:
        self._saved = dict(self._entries)

    def to_values(self, *, only_changed: bool = False) -> dict[str, tuple[str | None, str | None]]:
        """What to hand to ``RaterView.save``: item → (value, note) for every filled item
        (``only_changed=True``: only those changed since the last load or save).

        Notes cleared on the form are sent as ``""`` for items that keep a value, so the
        store records the cleared note.
        """
        keep = set(self.changed_items()) if only_changed else None
        out = {i: (e.value, e.note) for i, e in self._entries.items() if keep is None or i in keep}
        for item_id, old in self._saved.items():
            if item_id not in out and old.value is not None:
                # the assessor emptied a saved item on the form; the store keeps judgements
                # append-only and cannot record "no value", so the saved value stays.
                continue
            if item_id in out and old.note is not None and out[item_id][1] is None:
                out[item_id] = (out[item_id][0], "")
        return out

    # -- completeness ---------------------------------------------------------------
    def missing(self) -> tuple[Item, ...]:
        """Assessable items without a value, in form order (``n.v.t.`` is a value here)."""
        return tuple(item for item in self._assessable if self._entries.get(item.id, Entry()).value is None)

    @property
    def complete(self) -> bool:
        return not self.missing()

    @property
    def n_filled(self) -> int:
        return len(self._assessable) - len(self.missing())

    def progress_text(self) -> str:
        return f"{self.n_filled} van {len(self._assessable)} onderdelen ingevuld"

    def filled(self, item_ids) -> int:
        """How many of ``item_ids`` have a value (``n.v.t.`` counts)."""
        return sum(self._entries.get(i, Entry()).value is not None for i in item_ids)

    def missing_summary(self) -> list[str]:
        """What is still missing, one Dutch line per part of the form (empty when complete)."""
        return [text for text, _ in self.missing_parts()]

    def missing_parts(self) -> list[tuple[str, str]]:
        """Like :meth:`missing_summary`, each line with the first missing item of that part
        (where the form jumps to)."""
        missing = self.missing()
        if not missing:
            return []
        lines = []
        for outcome in self.framework.outcomes:
            mine = [m for m in missing if m.outcome_id == outcome.id]
            if not mine:
                continue
            parts = []
            n_ind = sum(m.kind == "indicator" for m in mine)
            if n_ind:
                n_all = sum(i.kind == "indicator" and i.outcome_id == outcome.id for i in self._assessable)
                parts.append(f"{n_ind} van {n_all} indicatoren")
            if any(m.kind == "level" for m in mine):
                parts.append("het niveau")
            if any(m.kind == "verdict" for m in mine):
                parts.append("het oordeel")
            lines.append((f"{outcome.name}: {', '.join(parts)}", mine[0].id))
        phases = [m for m in missing if m.kind == "phase"]
        if phases:
            n_all = sum(i.kind == "phase" for i in self._assessable)
            lines.append((f"Fasen complexe beroepsvaardigheden: {len(phases)} van {n_all}", phases[0].id))
        decision = [m for m in missing if m.kind == "decision"]
        if decision:
            lines.append(("Het besluit", decision[0].id))
        return lines

    # -- nudges -------------------------------------------------------------------------
    def suggested_decision(self) -> "RuleResult | None":
        """What the framework's decision rule gives for this form's verdicts (None until all are set)."""
        spec = self.framework.decision
        if spec is None:
            return None
        verdicts = {o: self.value(verdict_item(o)) for o in spec.outcomes}
        if any(v is None for v in verdicts.values()):
            return None
        from calibrate.rules import apply_decision

        return apply_decision(self.framework, verdicts)

    def nudges(self) -> tuple[Nudge, ...]:
        """Quality points from the Kwaliteitscriteria (seed 001), in form order: one short
        line per problem, each naming the item to go to."""
        out: list[Nudge] = []
        for item_id, entry in self._entries.items():
            if is_global_statement(entry.note):
                where = "de motivering" if item_id == self.motivation_item_id else f"de notitie bij {self._short(item_id)}"
                phrase = global_phrases_in(entry.note)[0]
                out.append(Nudge(
                    "global_phrase", item_id,
                    f"Globale uitspraak (\u201c{phrase}\u201d) in {where}: beschrijf wat je de student zag doen.",
                ))
        judged = any(self.value(i.id) is not None for i in self._assessable if i.kind in ("verdict", "decision"))
        if self.motivation_item_id is not None and judged and not self.motivation:
            out.append(Nudge(
                "motivation", self.motivation_item_id,
                "Nog geen motivering: licht je oordeel kort toe met wat je zag.",
            ))
        for outcome in self.framework.outcomes:
            verdict = self.value(outcome.verdict_item_id) if outcome.verdict_item_id else None
            if verdict is not None:
                out.extend(self._verdict_vs_indicators(outcome, verdict))
        out.extend(self._verdicts_vs_phases())
        out.extend(self._decision_vs_rule())
        return tuple(out)

    def _verdicts_vs_phases(self) -> list[Nudge]:
        """Verdicts against the assessor's own phases and the expected profile of the
        outcome's level, classified by :func:`calibrate.phases.classify_verdicts` (lenient:
        voldaan while a dimension falls short; severe: niet voldaan while all are met).
        Outcomes with the same finding share one nudge, so each dimension is named once."""
        verdicts = {o.id: self.value(o.verdict_item_id) for o in self.framework.outcomes
                    if o.verdict_item_id and self.value(o.verdict_item_id) is not None}
        if not verdicts or self.framework.phase_table is None:
            return []
        from calibrate.phases import classify_verdicts  # imported at the first verdict, not at start-up
        rows = [
            {"session": "form", "case": "form", "rater": "form", "item": item_id, "value": entry.value}
            for item_id, entry in sorted(self._entries.items())
            if entry.value is not None and (is_phase_item(item_id) or is_verdict_item(item_id))
        ]
        key = tuple((r["item"], r["value"]) for r in rows)
        if self._phase_cache is not None and self._phase_cache[0] == key:
            return self._phase_cache[1]
        result = self._phase_nudges(self._classify(rows, classify_verdicts))
        self._phase_cache = (key, result)
        return result

    def _classify(self, rows, classify_verdicts) -> list[tuple]:
        """(outcome, classification, profile name, dimensions falling short) per flagged verdict."""
        table = classify_verdicts(pd.DataFrame(rows), self.framework)
        table = table[table["classification"].isin(["lenient", "severe"])]
        order = {o.id: n for n, o in enumerate(self.framework.outcomes)}
        return sorted(
            ((self.framework.outcome(r.outcome), r.classification, r.profile,
              tuple(r.falls_short) if r.classification == "lenient" else ())
             for r in table.itertuples(index=False)),
            key=lambda f: order[f[0].id],
        )

    def _phase_nudges(self, findings: list[tuple]) -> list[Nudge]:
        ptable = self.framework.phase_table
        names = {p.code: p.name for p in ptable.phases}
        groups: dict[tuple, list[Outcome]] = {}
        for outcome, classification, profile_name, dims in findings:
            groups.setdefault((classification, profile_name, dims), []).append(outcome)
        out = []
        for (classification, profile_name, dims), outcomes in groups.items():
            who = _join([o.name for o in outcomes])
            first = outcomes[0].verdict_item_id
            related = tuple(o.verdict_item_id for o in outcomes[1:]) + tuple(phase_item(d) for d in dims)
            if classification == "lenient":
                profile = self.framework.profiles.get(profile_name)
                below = []
                for dim_id in dims:
                    cell = next((c for c in profile.cells if c.dimension_id == dim_id), None) if profile else None
                    own = self.value(phase_item(dim_id))
                    want = f" (verwacht minstens {names[cell.phase]})" if cell else ""
                    below.append(f"{ptable.dimension(dim_id).name}: {names.get(own, own)}{want}")
                msg = (f"{who}: oordeel \u2018voldaan\u2019 op {profile_name}, maar je fasen liggen daar onder \u2014 "
                       + "; ".join(below) + ".")
            else:
                msg = (f"{who}: oordeel \u2018niet voldaan\u2019, terwijl al je fasen minstens op het "
                       f"{profile_name} liggen. Wat ontbrak er?")
            out.append(Nudge("verdict_phases", first, msg, related))
        return out

    def _short(self, item_id: str) -> str:
        item = self.item(item_id)
        if item.kind == "indicator":
            dim = next(d for d in self.framework.dimensions() if d.id == item.dimension_id)
            n = item_id.rsplit(".", 1)[1]
            return f"{dim.name}, indicator {n}"
        return item.label

    def _verdict_vs_indicators(self, outcome: Outcome, verdict: str) -> list[Nudge]:
        vals = [self.value(i.id) for i in outcome.indicators if i.assessed]
        seen = sum(v == SEEN for v in vals)
        not_seen = sum(v == NOT_SEEN for v in vals)
        if verdict == PASS and not_seen > seen:
            return [Nudge(
                "verdict_indicators", outcome.verdict_item_id,
                f"{outcome.name}: oordeel \u2018voldaan\u2019, maar je zag {not_seen} van de {seen + not_seen} "
                "gescoorde indicatoren niet. Past je oordeel bij wat je zag?",
            )]
        if verdict == FAIL and seen > 0 and not_seen == 0:
            return [Nudge(
                "verdict_indicators", outcome.verdict_item_id,
                f"{outcome.name}: oordeel \u2018niet voldaan\u2019, terwijl je alle {seen} gescoorde indicatoren "
                "\u2018gezien\u2019 hebt. Wat ontbrak er?",
            )]
        return []

    def _decision_vs_rule(self) -> list[Nudge]:
        spec = self.framework.decision
        if spec is None:
            return []
        chosen = self.value(spec.item_id)
        result = self.suggested_decision()
        if chosen is None or result is None or result.value == chosen:
            return []
        rule = self.framework.rules[spec.rule_id]
        tally = ", ".join(f"{n}\u00d7 {code}" for code, n in result.counts.items())
        return [Nudge(
            "decision_rule", spec.item_id,
            f"Besluit \u2018{chosen}\u2019, maar de beslisregel geeft bij {tally} \u2018{result.value}\u2019: "
            f"\u201c{rule.quote}\u201d",
        )]


def _join(names: list[str]) -> str:
    """``a``, ``a en b``, ``a, b en c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def _split(entry) -> tuple[str | None, str | None]:
    if isinstance(entry, Entry):
        return entry.value, entry.note
    if isinstance(entry, tuple):
        value, note = entry
        return value, note
    return entry, None
