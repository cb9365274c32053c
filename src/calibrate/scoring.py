"""The scoring model: one assessor's blind judgements of the cases of one kalibreersessie.

Owns the state of a scoring form (value and evidence note per item, the motivation), what is
still missing, completeness and progress, the quality nudges of the Kwaliteitscriteria
(seed 001), and save/load through the store's blind :class:`~calibrate.store.RaterView`.
Pure Python: :mod:`calibrate.widgets` is a thin view over it and the tests need no widgets.

Conventions
-----------
- **Completeness.** A case is complete when every assessable item (``framework.assessable_items()``)
  has a value. For an indicator ``n.v.t.`` is a value here: the assessor has decided the
  indicator does not apply. (In the score table and the agreement analyses ``n.v.t.`` still
  counts as missing, CONTRACTS §1.) Indicators of a dimension marked not assessed
  (Differentiatie, "indicatief (niet om te beoordelen)") are shown, never scored.
- **Motivation.** The short motivation the Kwaliteitscriteria ask for is stored as the
  *note of the decision item* (``besluit``) — :func:`motivation_item_id`. A framework without
  a decision keeps it as the note of its last verdict item, else of its last level item.
  A note without a value is kept by the store, so a motivation written before the decision
  is chosen is not lost.
- **Nudges are pointed out, never blocking**: :meth:`CaseForm.nudges` lists them, saving
  never depends on them.

Example
-------
>>> from calibrate.frameworks import load_framework
>>> form = CaseForm(load_framework("han-wpl2-2025"))
>>> form.set_value("leerklimaat.klassenmanagement.1", "gezien")
>>> form.set_note("leerklimaat.klassenmanagement.1", "Gaat wel goed")
>>> form.progress_text()
'1 van 123 onderdelen ingevuld'
>>> [n.kind for n in form.nudges()]
['global_phrase']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from calibrate.dutch import format_time
from calibrate.errors import InputError
from calibrate.frameworks.model import Framework, Item, Outcome
from calibrate.schema import CODES, NOT_APPLICABLE, allowed_values, is_phase_item, is_verdict_item, phase_item, verdict_item

if TYPE_CHECKING:  # pragma: no cover
    from calibrate.rules import RuleResult
    from calibrate.store import RaterView, Store

__all__ = [
    "GLOBAL_PHRASES",
    "INDICATOR_CHOICES",
    "CaseForm",
    "CaseInfo",
    "Entry",
    "Nudge",
    "Progress",
    "SaveResult",
    "ScoringSession",
    "global_phrases_in",
    "is_global_statement",
    "motivation_item_id",
]

#: The three choices per indicator, in the order the form shows them (CONTRACTS §5).
NOT_SEEN, SEEN = CODES["indicator"]
FAIL, PASS = CODES["verdict"]
INDICATOR_CHOICES = (SEEN, NOT_SEEN, NOT_APPLICABLE)

#: Global phrases with no concrete behaviour (Kwaliteitscriteria, seed 001: "geen globale
#: uitspraken zoals 'gaat wel goed'"). Matched case-insensitively on word boundaries,
#: longest first; see :func:`is_global_statement` for when a note counts as global.
GLOBAL_PHRASES = (
    "gaat wel goed", "gaat goed", "ging goed", "ging wel goed", "goed gedaan", "helemaal goed",
    "prima", "netjes", "ziet er goed uit", "in orde", "niks op aan te merken",
    "niets op aan te merken", "zeer goed", "heel goed", "erg goed", "goed", "uitstekend",
    "voldoende", "top", "super", "mooi", "oké", "ok", "akkoord",
)
#: A note with a global phrase counts as concrete when at least this many content words
#: remain once the global phrases are taken out.
MIN_CONCRETE_WORDS = 4
_FILLER = frozenset(
    "de het een en of maar ook wel niet erg heel zeer echt gewoon best nog al dan dat die dit deze "
    "is was zijn waren gaat ging doet deed hij zij ze je jij hem haar zich er hier daar wat allemaal "
    "alles veel beetje toch hoor zo".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


# ----------------------------------------------------------------------------- values
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


# ----------------------------------------------------------------------------- helpers
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


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'")


_PHRASE_RES = [
    (p, re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)"))
    for p in sorted(GLOBAL_PHRASES, key=len, reverse=True)
]


def global_phrases_in(text: str | None) -> list[str]:
    """The global phrases (:data:`GLOBAL_PHRASES`) in ``text``, longest match first."""
    if not text:
        return []
    rest = _fold(text)
    found = []
    for phrase, rx in _PHRASE_RES:
        if rx.search(rest):
            found.append(phrase)
            rest = rx.sub(" ", rest)
    return found


def is_global_statement(text: str | None) -> bool:
    """True when ``text`` uses a global phrase and names no concrete behaviour.

    Heuristic: the note contains one of :data:`GLOBAL_PHRASES` and fewer than
    :data:`MIN_CONCRETE_WORDS` content words remain once those phrases (and filler words
    such as "wel", "erg", "het") are taken out.

    >>> is_global_statement("Gaat wel goed.")
    True
    >>> is_global_statement("Prima: wachtte tot het stil was en gaf toen de opdracht.")
    False
    >>> is_global_statement("Liep naar het groepje achterin.")  # no global phrase at all
    False
    """
    if not text:
        return False
    rest = _fold(text)
    found = False
    for _, rx in _PHRASE_RES:
        if rx.search(rest):
            found = True
            rest = rx.sub(" ", rest)
    if not found:
        return False
    words = [w for w in _WORD.findall(rest) if w not in _FILLER and len(w) > 1]
    return len(words) < MIN_CONCRETE_WORDS


#: characters no one can see or type on purpose (NUL, the other C0 controls but tab and the
#: line breaks, DEL): pasted from another program they are dropped from a note, which
#: PostgreSQL would otherwise refuse (NUL) and the report could not show
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text) -> str | None:
    """A note or reason as it is kept: without invisible control characters, ``None`` when
    nothing is left but white space (or for a missing value)."""
    if text is None:
        return None
    if not isinstance(text, str):
        if pd.isna(text):
            return None
        text = str(text)
    text = _INVISIBLE_RE.sub("", text)
    return text if text.strip() else None


_clean_note = clean_text


def _now_hhmm() -> str:
    return format_time()


# ----------------------------------------------------------------------------- the form
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
            entries[str(item)] = Entry(None if pd.isna(value) else str(value), _clean_note(note))
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
        entry = Entry(value, _clean_note(note))
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


# ----------------------------------------------------------------------------- a session
class ScoringSession:
    """One assessor in one kalibreersessie: the cases, a form per case, save and progress.

    Everything goes through ``view`` (a :class:`~calibrate.store.RaterView`), so nothing
    here can return another assessor's judgements of an unrevealed session.
    """

    def __init__(self, view: "RaterView", session: str):
        self.view = view
        self.rater = view.rater
        self.session = session
        self._cases = view.cases(session)  # raises AccessError for a non-member
        self.framework = view.framework(session)
        self._assessable = {i.id for i in self.framework.assessable_items()}

    @classmethod
    def open(cls, store: "Store", rater: str, session: str | None = None) -> "ScoringSession":
        """Open ``rater``'s session ``session`` (default: their most recent session)."""
        view = store.rater_view(rater)
        if session is None:
            session = latest_session(view)
        return cls(view, session)

    # -- cases ---------------------------------------------------------------
    @property
    def case_ids(self) -> list[str]:
        return [str(c) for c in self._cases["case"]]

    def case(self, case_id: str) -> CaseInfo:
        rows = self._cases[self._cases["case"] == case_id]
        if rows.empty:
            raise InputError(
                f"case {case_id!r} is not part of session {self.session!r}.",
                hint=f"Cases: {', '.join(self.case_ids)}.",
            )
        r = rows.iloc[0]
        return CaseInfo(case_id, *(None if pd.isna(r[c]) else str(r[c]) for c in ("title", "text", "material")))

    @property
    def revealed(self) -> bool:
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        return bool(row["revealed"].iloc[0]) if len(row) else False

    @property
    def date(self) -> str | None:
        """The session's date (ISO), None when unknown."""
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        if not len(row) or pd.isna(row["session_date"].iloc[0]):
            return None
        return str(row["session_date"].iloc[0])[:10]

    @property
    def title(self) -> str | None:
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        if not len(row) or pd.isna(row["title"].iloc[0]):
            return None
        return str(row["title"].iloc[0])

    # -- forms ---------------------------------------------------------------
    def form(self, case_id: str) -> CaseForm:
        """The form of ``case_id`` with this assessor's latest saved entries."""
        self.case(case_id)
        mine = self.view.my_scores(self.session, case_id)
        return CaseForm.from_scores(self.framework, mine, session=self.session, case=case_id, rater=self.rater)

    def save(self, form: CaseForm) -> SaveResult:
        """Store whatever is filled in (a half-scored case is kept); one transaction."""
        if form.session != self.session or form.rater != self.rater or form.case not in self.case_ids:
            raise InputError(
                f"this form belongs to case {form.case!r} of session {form.session!r} (assessor {form.rater!r}), "
                f"not to this scoring session ({self.session!r}, {self.rater!r}).",
                hint="Get the form from ScoringSession.form(case).",
            )
        # only what changed since the form was loaded or saved: the store skips unchanged
        # judgements anyway, and this way a second window of the same assessor is not overwritten
        appended = self.view.save(self.session, form.case, form.to_values(only_changed=True))
        form.mark_saved()
        return SaveResult(appended, form.complete, len(form.missing()), form.nudges(), _now_hhmm())

    # -- progress --------------------------------------------------------------
    def progress(self) -> Progress:
        """x of y cases complete (every assessable item has a value)."""
        mine = self.view.my_scores(self.session)
        filled = mine[mine["value"].notna() & mine["item"].isin(list(self._assessable))]
        counts = filled.groupby("case")["item"].nunique().to_dict() if len(filled) else {}
        per_case = {c: counts.get(c, 0) >= len(self._assessable) for c in self.case_ids}
        return Progress(sum(per_case.values()), len(per_case), per_case)

    def last_worked_on(self) -> str | None:
        """The case of this assessor's most recent save in the session (None before any)."""
        mine = self.view.my_scores(self.session)
        mine = mine[mine["case"].isin(self.case_ids) & mine["scored_at"].notna()]
        if mine.empty:
            return None
        return str(mine.loc[mine["scored_at"].astype(str).idxmax(), "case"])

    def start_case(self) -> str | None:
        """Where the app opens: the case last worked on while it is unfinished, else the
        first unfinished case (the first case when all are done; None without cases)."""
        last = self.last_worked_on()
        if last is not None and not self.progress().per_case.get(last, False):
            return last
        return self.first_unfinished()

    def first_unfinished(self) -> str | None:
        """The first case not yet complete; the first case when all are done (None without cases)."""
        if not self.case_ids:
            return None
        per_case = self.progress().per_case
        return next((c for c in self.case_ids if not per_case[c]), self.case_ids[0])


def latest_session(view: "RaterView") -> str:
    """The most recent session (by date) this assessor belongs to."""
    sessions = view.sessions()
    if sessions.empty:
        raise InputError(
            f"assessor {view.rater!r} is not an assessor of any kalibreersessie.",
            hint="Ask the facilitator to add you to a session.",
        )
    return str(sessions["session"].iloc[-1])


def sessions_for(view: "RaterView") -> list[str]:
    """This assessor's sessions, most recent first."""
    return [str(s) for s in reversed(list(view.sessions()["session"]))]
