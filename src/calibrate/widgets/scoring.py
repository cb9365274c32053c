"""The assessor's scoring form: an anywidget view over :mod:`calibrate.scoring`.

:class:`ScoringForm` maps the model's state to one custom widget (:class:`ScoringWidget`,
ESM + CSS in ``static/``) and the widget's messages to handler methods (``on_value``,
``on_note``, ``on_motivation``, ``on_autosave``, ``on_save``, ``on_case``, ``on_hello``);
all rules live in the model. Tests call the handlers; no browser is needed for them.

What the browser side does (``static/scoring.js``): every choice is a radio group
(``role="radiogroup"``/``radio`` with ``aria-checked``, roving focus, Tab between groups),
the level and phase descriptors are the click targets, every collapsible part is a button
with ``aria-expanded``; each change is sent at once (notes while typing, throttled) and saved
by itself within 2 s; the page warns before it is closed with something unsaved.
"""

from __future__ import annotations

import os
from pathlib import Path

import anywidget
import traitlets

from calibrate.dutch import format_date
from calibrate.errors import CalibrateError
from calibrate.store.retry import WriteFailedError
from calibrate.scoring import INDICATOR_CHOICES, CaseForm, SaveResult, ScoringSession, sessions_for
from calibrate.widgets._common import dutch_error, esm, level_cells, message_widget, phase_cells, stylesheet

__all__ = ["RaterPicker", "ScoringForm", "ScoringWidget", "scoring_app", "TEXT"]

SAVE_LABEL = "Opslaan"
NOTE_PLACEHOLDER = "Bewijs (optioneel): wat zag je de student concreet doen?"

#: Every fixed Dutch text of the form, in one place (the browser side reads them from the spec).
TEXT = {
    "save": SAVE_LABEL,
    "saved": "Opgeslagen",
    "note_placeholder": NOTE_PLACEHOLDER,
    "prev_case": "Vorige casus",
    "next_case": "Volgende casus",
    "case": "Casus",
    "cases_nav": "Casussen",
    "sections_nav": "Onderdelen van deze casus",
    "material": "Opname / materiaal",
    "description": "Beschrijving van de leeruitkomst",
    "missing": "Nog niet ingevuld",
    "complete": "Deze casus is compleet.",
    "nudges": "Aandachtspunten",
    "nudges_hint": "Punten om na te kijken; opslaan gaat gewoon door.",
    "go_to": "Ga naar",
    "loading": "De casus wordt geladen…",
    "pending": "Wijzigingen nog niet bewaard — dat gebeurt zo vanzelf…",
    "saving": "Bezig met opslaan…",
    "unsaved_warning": "Er is nog iets niet opgeslagen.",
    "shortcuts": "Sneltoetsen",
    "shortcuts_legend": "Tab gaat naar de volgende vraag · pijltjes of spatie kiezen · "
                        "1, 2, 3 … kiest die optie en gaat door naar de volgende vraag · Ctrl+S slaat direct op.",
    "shortcuts_off": "Sneltoetsen staan uit: kies met Tab, pijltjes en spatie.",
    "autosave": "Alles wat je kiest en typt wordt vanzelf bewaard.",
    "no_cases": "Deze kalibreersessie heeft nog geen casussen.",
    "note_for": "Notitie bij",
    "level_note": "Toelichting bij het niveau (optioneel)",
    "verdict_note": "Motivering bij dit oordeel (optioneel)",
    "motivation": "Motivering",
    "motivation_placeholder": "Korte motivering: wat zag je concreet, en wat is de volgende ontwikkelstap?",
    "not_assessed": "deze indicatoren worden getoond ter oriëntatie en niet gescoord.",
    "formative": "Formatief: geen oordeel voldaan / niet voldaan. Je feedback staat in je notities bij de indicatoren.",
}


class ScoringWidget(anywidget.AnyWidget):
    """The form in the browser. ``spec`` is the session's fixed structure (sections, items,
    choices, descriptors, texts); ``state`` is what changes (the case, values, notes,
    counts, what is missing, nudges, the save status)."""

    _esm = esm("scoring.js")
    _css = stylesheet("scoring.css")
    spec = traitlets.Dict().tag(sync=True)
    state = traitlets.Dict().tag(sync=True)


def build_spec(scoring: ScoringSession) -> dict:
    """The fixed structure of the form for this session's framework (what the browser renders)."""
    fw = scoring.framework
    labels: dict[str, str] = {}
    sections = []
    for outcome in fw.outcomes:
        blocks = []
        for dim in outcome.dimensions:
            if dim.assessed:
                inds = []
                for n, ind in enumerate(dim.indicators, 1):
                    labels[ind.id] = f"{dim.name}, indicator {n}"
                    inds.append({"item": ind.id, "n": n, "text": ind.text})
                blocks.append({"type": "dimension", "id": dim.id, "title": dim.name, "indicators": inds,
                               "items": [i["item"] for i in inds]})
            else:
                blocks.append({"type": "shown", "id": dim.id, "title": f"{dim.name} — {dim.note or 'niet beoordeeld'}",
                               "note": f"{(dim.note or 'Niet om te beoordelen').capitalize()}: {TEXT['not_assessed']}",
                               "texts": [i.text for i in dim.indicators]})
        if fw.scale is not None and outcome.level_item_id:
            labels[outcome.level_item_id] = f"Niveau {outcome.name}"
            blocks.append({"type": "rubric", "id": f"{outcome.id}-niveau",
                           "title": f"Niveau \u2014 {fw.scale.title}" if fw.scale.title else "Niveau (rubric)",
                           "intro": "Klik op het niveau dat past bij wat je zag.",
                           "rows": [{"item": outcome.level_item_id, "label": outcome.name, "cells": level_cells(fw.scale),
                                     "note_label": TEXT["level_note"]}]})
        if outcome.verdict_item_id:
            vid = outcome.verdict_item_id
            labels[vid] = f"Oordeel {outcome.name}"
            blocks.append({"type": "verdict", "item": vid, "title": f"Oordeel {outcome.name}",
                           "choices": list(_choices(fw, vid)), "note_label": TEXT["verdict_note"]})
        else:
            blocks.append({"type": "formative", "text": TEXT["formative"]})
        level = f" op {outcome.level_name}" if outcome.level_name else ""
        items = [i.id for i in fw.assessable_items() if i.outcome_id == outcome.id]
        sections.append({"id": outcome.id, "title": outcome.name, "subtitle": f"{outcome.assessment}{level}".capitalize(),
                         "description": outcome.description, "description_note": outcome.assessment_note,
                         "items": items, "blocks": blocks})
    table = fw.phase_table
    if table is not None:
        rows = []
        for dim in table.dimensions:
            labels[dim.item_id] = dim.name
            rows.append({"item": dim.item_id, "label": dim.name, "note_label": f"{TEXT['note_for']} {dim.name} (optioneel)",
                         "cells": phase_cells(table, dim)})
        sections.append({"id": "fasen", "title": "Fasen", "subtitle": table.title or "Tabel complexe beroepsvaardigheden",
                         "description": None, "description_note": None, "items": [r["item"] for r in rows],
                         "blocks": [{"type": "rubric", "id": "fasen-tabel",
                                     "title": table.title or "Tabel complexe beroepsvaardigheden",
                                     "intro": "Klik per dimensie op de beschrijving die past bij wat je in deze casus zag.",
                                     "rows": rows}]})
    blocks, items = [], []
    spec_d = fw.decision
    if spec_d is not None:
        rule = fw.rules[spec_d.rule_id]
        labels[spec_d.item_id] = "Besluit"
        items.append(spec_d.item_id)
        blocks.append({"type": "decision", "item": spec_d.item_id, "title": f"Besluit — {rule.title}", "quote": rule.quote,
                       "choices": list(_choices(fw, spec_d.item_id))})
    mid = CaseForm(fw).motivation_item_id
    if mid is not None:
        blocks.append({"type": "motivation", "item": mid})
    sections.append({"id": "besluit", "title": "Besluit en motivering" if spec_d else "Motivering",
                     "subtitle": None, "description": None, "description_note": None, "items": items, "blocks": blocks})
    s = scoring
    date = format_date(s.date) if s.date else None
    return {
        "session": {"id": s.session, "title": s.title or "Kalibreersessie", "date": date, "rater": s.rater,
                    "blind": ("Blind scoren: je ziet alleen je eigen scores, tot de facilitator de sessie onthult."
                              if not s.revealed else "Deze kalibreersessie is onthuld.")},
        "cases": [{"id": c, "title": s.case(c).title or ""} for c in s.case_ids],
        "indicator_choices": list(INDICATOR_CHOICES),
        "motivation_item": mid,
        "sections": sections,
        "labels": labels | ({mid: TEXT["motivation"]} if mid else {}),
        "text": TEXT,
    }


def _choices(fw, item_id) -> tuple[str, ...]:
    return CaseForm(fw).choices(item_id)


class ScoringForm:
    """The scoring form of one assessor in one session; ``.widget`` is what is displayed."""

    def __init__(self, scoring: ScoringSession, case: str | None = None, *, store=None):
        self.scoring = scoring
        self.framework = scoring.framework
        self.form: CaseForm | None = None
        self.last_result: SaveResult | None = None
        self._fixed_case = case
        self._hellos = 0
        self._status = {"kind": "idle", "text": TEXT["autosave"]}
        self._progress = scoring.progress()
        self.widget = ScoringWidget(spec=build_spec(scoring))
        self.widget.on_msg(self._on_msg)
        if store is not None:
            self._hook_retries(store)
        self.open_case(case or scoring.start_case())

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def state(self) -> dict:
        return self.widget.state

    @property
    def status_text(self) -> str:
        return self._status["text"]

    # ---------------------------------------------------------------- messages from the browser
    def _on_msg(self, _widget, content, _buffers=None) -> None:
        kind = content.get("type")
        if kind == "value":
            self.on_value(content["item"], content.get("value"))
        elif kind == "note":
            self.on_note(content["item"], content.get("text") or "")
        elif kind == "autosave":
            self.on_autosave()
        elif kind == "save":
            self.on_save()
        elif kind == "case":
            self.on_case(content.get("case"))
        elif kind == "hello":
            self.on_hello()

    # ---------------------------------------------------------------- handlers
    def on_value(self, item_id: str, value: str | None) -> None:
        """A choice was made for ``item_id``."""
        if self.form is None:
            return
        self.form.set_value(item_id, value)
        self._pending()

    def on_note(self, item_id: str, text: str) -> None:
        """The evidence note (or the motivation) of ``item_id`` changed."""
        if self.form is None:
            return
        self.form.set_note(item_id, text)
        self._pending()

    def on_motivation(self, text: str) -> None:
        if self.form is None:
            return
        self.form.set_motivation(text)
        self._pending()

    def on_autosave(self) -> SaveResult | None:
        """Save what changed, if anything did (the browser asks within 2 s of a change)."""
        if self.form is None or not self.form.dirty:
            if self._status["kind"] == "pending":  # changed back to what was saved
                self._status = {"kind": "saved", "text": "Alles is opgeslagen."}
            self._refresh()
            return None
        return self._save()

    def on_save(self, _button=None) -> SaveResult | None:
        """``Opslaan``: store whatever is filled in now; show ``Opgeslagen om …`` or what went wrong."""
        if self.form is None:
            return None
        return self._save()

    def on_case(self, case_id: str | None) -> None:
        """Another case was chosen: what was typed is saved first, then the case opens."""
        if case_id is None or self.form is None or case_id == self.form.case:
            return
        if self.form.dirty and self._save() is None:
            return  # saving failed: stay on this case, the error is shown
        saved = self._status if self._status["kind"] == "saved" else None
        self.open_case(case_id)
        if saved is not None:
            self._status = saved
            self._refresh()

    def on_hello(self) -> None:
        """A browser view has connected: show the store's current state (a preheated kernel
        ran the notebook earlier) and, the first time, the case last worked on."""
        self._hellos += 1
        if self.form is not None and self.form.dirty:
            self._refresh()
            return
        self._progress = self.scoring.progress()
        first = self._hellos == 1 and self._fixed_case is None
        self.open_case(self.scoring.start_case() if first or self.form is None else self.form.case)

    # ---------------------------------------------------------------- opening and saving
    def open_case(self, case_id: str | None) -> None:
        """Show ``case_id`` with this assessor's latest saved entries."""
        if case_id is None:
            self.form = None
            self._status = {"kind": "idle", "text": TEXT["no_cases"]}
            self._refresh()
            return
        self.form = self.scoring.form(case_id)
        if self._status["kind"] != "error":
            self._status = {"kind": "idle", "text": TEXT["autosave"]}
        self._refresh(start_item=self.form.last_item)

    def _save(self) -> SaveResult | None:
        try:
            result = self.scoring.save(self.form)
        except CalibrateError as exc:
            self._status = {"kind": "error", "text": dutch_error(exc, saving=True)}
            self._refresh()
            return None
        except Exception as exc:  # noqa: BLE001 - whatever the database says, the assessor hears it
            self._status = {"kind": "error", "text": dutch_error(WriteFailedError(str(exc), cause=exc), saving=True)}
            self._refresh()
            return None
        self.last_result = result
        self._progress = self.scoring.progress()
        self._status = {"kind": "saved", "text": result.message()}
        self._refresh()
        return result

    def _pending(self) -> None:
        if self._status["kind"] != "error":
            self._status = {"kind": "pending", "text": TEXT["pending"]}
        self._refresh()

    def _hook_retries(self, store) -> None:
        before = store.on_retry

        def on_retry(attempt, delay, exc):
            self._status = {"kind": "retrying",
                            "text": f"Niet opgeslagen \u2014 opnieuw proberen\u2026 (poging {attempt + 1}, de database "
                                    "is even niet bereikbaar; wat je invulde blijft op het scherm)"}
            self._refresh()
            if before is not None:
                before(attempt, delay, exc)

        store.on_retry = on_retry

    # ---------------------------------------------------------------- state for the browser
    def _refresh(self, *, start_item: str | None = None) -> None:
        form = self.form
        spec = self.widget.spec
        done = dict(self._progress.per_case)
        state = {
            "status": dict(self._status),
            "progress": self._progress.text(),
            "done": done,
            "hello": self._hellos,
            "start_item": start_item,
        }
        if form is None:
            self.widget.state = state | {"case": None, "values": {}, "notes": {}, "counts": {}, "missing": [],
                                         "nudges": [], "dirty": False}
            return
        done[form.case] = form.complete
        info = self.scoring.case(form.case)
        counts = {sec["id"]: [form.filled(sec["items"]), len(sec["items"])] for sec in spec["sections"]}
        for sec in spec["sections"]:
            for block in sec["blocks"]:
                if block["type"] == "dimension":
                    counts[block["id"]] = [form.filled(block["items"]), len(block["items"])]
        hint = None
        if self.framework.decision is not None:
            res = form.suggested_decision()
            hint = ("Vul eerst de oordelen per leeruitkomst in; dan staat hier wat de beslisregel geeft."
                    if res is None else f"Volgens de beslisregel: {res.value}.")
        self.widget.state = state | {
            "case": form.case,
            "case_title": info.title,
            "case_text": info.text,
            "material": info.material,
            "values": form.values(),
            "notes": {i.id: form.note(i.id) for i in form.assessable_items if form.note(i.id)},
            "counts": counts,
            "case_progress": form.progress_text(),
            "missing": [[text, item] for text, item in form.missing_parts()],
            "nudges": [{"kind": n.kind, "text": n.message, "item": n.item_id, "related": list(n.related)}
                       for n in form.nudges()],
            "decision_hint": hint,
            "dirty": form.dirty,
            "done": done,
        }


class RaterPicker:
    """Shown when no assessor is given: pick who you are and the session, then start."""

    def __init__(self, store, *, session: str | None = None, case: str | None = None):
        import ipywidgets as w

        self.store = store
        self._case = case
        self.form: ScoringForm | None = None
        raters = [str(r) for r in store.raters()["rater"]]
        self.rater = w.Dropdown(description="Beoordelaar", options=raters, value=None)
        self.session = w.Dropdown(description="Sessie", options=[], value=None)
        self.start = w.Button(description="Beginnen", button_style="primary", disabled=True)
        self.message = w.HTML()
        self._wanted_session = session
        self.widget = w.VBox([w.HTML("<h2>Scoren</h2><p>Kies wie je bent en de kalibreersessie.</p>"),
                              self.rater, self.session, self.start, self.message])
        self.rater.observe(lambda ch: self.on_rater(ch["new"]), "value")
        self.session.observe(lambda ch: self._enable(), "value")
        self.start.on_click(self.on_start)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _enable(self) -> None:
        self.start.disabled = not (self.rater.value and self.session.value)

    def on_rater(self, rater: str | None) -> None:
        sessions = sessions_for(self.store.rater_view(rater)) if rater else []
        self.session.options = sessions
        self.session.value = (self._wanted_session if self._wanted_session in sessions
                              else (sessions[0] if sessions else None))
        self.message.value = "" if sessions or not rater else "<p>Je bent (nog) geen beoordelaar in een sessie.</p>"
        self._enable()

    def on_start(self, _button=None) -> ScoringForm | None:
        try:
            scoring = ScoringSession(self.store.rater_view(self.rater.value), self.session.value)
            self.form = ScoringForm(scoring, case=self._case, store=self.store)
        except CalibrateError as exc:
            self.message.value = f"<p class='calibrate-error'>{dutch_error(exc, html=True)}</p>"
            return None
        self.widget.children = (self.form.widget,)
        return self.form


def scoring_app(store=None, *, rater: str | None = None, session: str | None = None, case: str | None = None):
    """The scoring app (CONTRACTS §5): the form for an assessor, or a picker without one.

    Reads ``CALIBRATE_WORKSPACE`` / ``CALIBRATE_DB``, ``CALIBRATE_RATER``,
    ``CALIBRATE_SESSION`` and ``CALIBRATE_CASE`` for whatever is not passed. With an assessor
    it opens on the case they last worked on while it is unfinished, else on their first
    unfinished case of their most recent session (the first case when all are done).
    Returns a displayable object (:class:`ScoringForm`, :class:`RaterPicker`, or a message
    widget when it cannot start).
    """
    from calibrate.store import Store

    rater = rater or os.environ.get("CALIBRATE_RATER") or None
    session = session or os.environ.get("CALIBRATE_SESSION") or None
    case = case or os.environ.get("CALIBRATE_CASE") or None
    try:
        if store is None:
            if not (os.environ.get("CALIBRATE_DB") or os.environ.get("CALIBRATE_WORKSPACE")) and not Path("workspace").is_dir():
                return message_widget("De scoor-app kan niet starten.",
                                      "Geen werkruimte gevonden: zet CALIBRATE_WORKSPACE (een map) of CALIBRATE_DB "
                                      "(een database-URL), bijvoorbeeld op de demo: calibrate demo --workspace demo-workspace.")
            store = Store.open(create=False)
        if rater is None:
            return RaterPicker(store, session=session, case=case)
        if session is None and not sessions_for(store.rater_view(rater)):
            return message_widget("De scoor-app kan niet starten.",
                                  f"Beoordelaar {rater} is (nog) geen beoordelaar in een kalibreersessie. "
                                  "Vraag de facilitator om je aan een sessie toe te voegen.")
        return ScoringForm(ScoringSession.open(store, rater, session), case=case, store=store)
    except CalibrateError as exc:
        return message_widget("De scoor-app kan niet starten.", dutch_error(exc))

