"""The assessor's scoring form: a thin ipywidgets view over :mod:`calibrate.scoring`.

Maps the model's state to controls and the controls' events to handler methods
(``on_value``, ``on_note``, ``on_motivation``, ``on_case``, ``on_save``); all rules live
in the model. Tests call the handlers; no browser is needed for them. The part of the
form per leeruitkomst is built when its tab is first opened, so opening a case stays fast.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Callable

import ipywidgets as w

from calibrate.errors import CalibrateError
from calibrate.scoring import CaseForm, SaveResult, ScoringSession, sessions_for

__all__ = ["RaterPicker", "ScoringForm", "scoring_app"]

SAVE_LABEL = "Opslaan"
NOTE_PLACEHOLDER = "Bewijs (optioneel): wat zag je de student concreet doen?"
_WIDE = w.Layout(width="100%")
_NOTE_LAYOUT = w.Layout(flex="1 1 auto", min_width="16em")
_TOGGLE_STYLE = {"button_width": "auto"}


def _e(text) -> str:
    return html.escape(str(text)) if text is not None else ""


class ScoringForm:
    """The scoring form of one assessor in one session; ``.widget`` is what is displayed."""

    def __init__(self, scoring: ScoringSession, case: str | None = None):
        self.scoring = scoring
        self.framework = scoring.framework
        self.form: CaseForm | None = None
        self.last_result: SaveResult | None = None
        self.controls: dict[str, w.ToggleButtons] = {}
        self.note_controls: dict[str, w.Text | w.Textarea] = {}
        self._progress = scoring.progress()
        self._built: set[int] = set()
        self._parts = self._part_builders()
        self._syncing = False

        self.header = w.HTML()
        self.case_picker = w.Dropdown(description="Casus", options=self._case_options(), layout=w.Layout(width="28em"))
        self.material = w.HTML(layout=_WIDE)
        self.tabs = w.Tab(children=[w.VBox() for _ in self._parts], titles=tuple(t for t, _ in self._parts), layout=_WIDE)
        self.missing_box = w.HTML(layout=_WIDE)
        self.nudge_box = w.HTML(layout=_WIDE)
        self.save_button = w.Button(description=SAVE_LABEL, button_style="primary",
                                    tooltip="Bewaart wat je hebt ingevuld; je kunt later verder.")
        self.status = w.HTML()
        self.widget = w.VBox(
            [self.header, self.case_picker, self.material, self.tabs, self.missing_box, self.nudge_box,
             w.HBox([self.save_button, self.status], layout=w.Layout(align_items="center"))],
            layout=_WIDE,
        )
        self.widget.add_class("calibrate-scoring")
        self.save_button.on_click(self.on_save)
        self.case_picker.observe(lambda ch: self.on_case(ch["new"]), "value")
        self.tabs.observe(lambda ch: self.on_tab(ch["new"]), "selected_index")
        self.open_case(case or scoring.first_unfinished())

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- handlers
    def on_value(self, item_id: str, value: str | None) -> None:
        """A choice was made (toggle button) for ``item_id``."""
        if self._syncing or self.form is None:
            return
        self.form.set_value(item_id, value)
        self._refresh()

    def on_note(self, item_id: str, text: str) -> None:
        """The evidence note of ``item_id`` changed."""
        if self._syncing or self.form is None:
            return
        self.form.set_note(item_id, text)
        self._refresh()

    def on_motivation(self, text: str) -> None:
        if self._syncing or self.form is None:
            return
        self.form.set_motivation(text)
        self._refresh()

    def on_save(self, _button=None) -> SaveResult | None:
        """Store whatever is filled in; show ``Opgeslagen …`` or what went wrong."""
        if self.form is None:
            return None
        try:
            result = self.scoring.save(self.form)
        except CalibrateError as exc:
            self.status.value = f"<span style='color:#b00020'>Opslaan mislukt: {_e(exc)}</span>"
            return None
        self.last_result = result
        self._progress = self.scoring.progress()
        self._sync_case_options()
        self._refresh()
        self.status.value = f"<b style='color:#1b5e20'>{_e(result.message())}</b>"
        return result

    def on_case(self, case_id: str | None) -> None:
        """Another case was picked: keep what was typed (saved first), then open it."""
        if self._syncing or case_id is None or (self.form is not None and case_id == self.form.case):
            return
        auto = None
        if self.form is not None and self.form.dirty:
            auto = self.on_save()
            if auto is None:  # saving failed: stay on this case, the error is shown
                self._syncing = True
                self.case_picker.value = self.form.case
                self._syncing = False
                return
        self.open_case(case_id)
        if auto is not None:
            self.status.value = f"<b style='color:#1b5e20'>{_e(auto.message())} (bij wisselen van casus)</b>"

    def on_tab(self, index: int | None) -> None:
        if index is not None:
            self._build_part(index)

    # ---------------------------------------------------------------- opening
    def open_case(self, case_id: str | None) -> None:
        """Show ``case_id`` with this assessor's latest saved entries."""
        if case_id is None:
            self.material.value = "<p>Deze kalibreersessie heeft nog geen casussen.</p>"
            return
        self.form = self.scoring.form(case_id)
        self.controls.clear()
        self.note_controls.clear()
        self._built.clear()
        for box in self.tabs.children:
            box.children = ()
        self._syncing = True
        self.case_picker.value = case_id
        self._syncing = False
        info = self.scoring.case(case_id)
        link = (f"<p>Opname / materiaal: <a href='{_e(info.material)}' target='_blank' rel='noopener'>{_e(info.material)}</a></p>"
                if info.material else "")
        self.material.value = (
            f"<div style='border-left:4px solid #1565c0;padding:0.3em 0.8em;background:#f5f8fc'>"
            f"<h3 style='margin:0.2em 0'>{_e(info.case)} — {_e(info.title)}</h3>"
            f"<p style='white-space:pre-wrap'>{_e(info.text)}</p>{link}</div>"
        )
        self.status.value = ""
        self._build_part(self.tabs.selected_index or 0)
        self._refresh()

    # ---------------------------------------------------------------- building
    def _part_builders(self) -> list[tuple[str, Callable[[], w.Widget]]]:
        parts = [(o.name, (lambda o=o: self._outcome_part(o))) for o in self.framework.outcomes]
        if self.framework.phase_table is not None:
            parts.append(("Fasen", self._phase_part))
        parts.append(("Besluit en motivering" if self.framework.decision else "Motivering", self._decision_part))
        return parts

    def _build_part(self, index: int) -> None:
        if index in self._built or self.form is None:
            return
        self._syncing = True
        try:
            self.tabs.children[index].children = (self._parts[index][1](),)
        finally:
            self._syncing = False
        self._built.add(index)

    def build_all(self) -> None:
        """Build every part now (tests, benchmarks)."""
        for i in range(len(self._parts)):
            self._build_part(i)

    def _toggle(self, item_id: str, options) -> w.ToggleButtons:
        ctl = w.ToggleButtons(options=options, value=self.form.value(item_id), style=_TOGGLE_STYLE)
        ctl.observe(lambda ch, i=item_id: self.on_value(i, ch["new"]), "value")
        self.controls[item_id] = ctl
        return ctl

    def _note(self, item_id: str, placeholder: str = NOTE_PLACEHOLDER) -> w.Text:
        ctl = w.Text(value=self.form.note(item_id) or "", placeholder=placeholder, layout=_NOTE_LAYOUT)
        ctl.observe(lambda ch, i=item_id: self.on_note(i, ch["new"]), "value")
        self.note_controls[item_id] = ctl
        return ctl

    def _outcome_part(self, outcome) -> w.Widget:
        head = (f"<p><b>{_e(outcome.name)}</b> — {_e(outcome.assessment)}"
                f"{' op ' + _e(outcome.level_name) if outcome.level_name else ''}.</p>"
                f"<details><summary>Beschrijving van de leeruitkomst</summary><p>{_e(outcome.description)}</p>"
                f"{'<p><em>' + _e(outcome.assessment_note) + '</em></p>' if outcome.assessment_note else ''}</details>")
        dims, titles = [], []
        for dim in outcome.dimensions:
            if dim.assessed:
                rows = []
                for n, ind in enumerate(dim.indicators, 1):
                    rows.append(w.VBox([
                        w.HTML(f"<div style='margin-top:0.4em'>{n}. {_e(ind.text)}</div>"),
                        w.HBox([self._toggle(ind.id, self.form.choices(ind.id)), self._note(ind.id)], layout=_WIDE),
                    ]))
                dims.append(w.VBox(rows, layout=_WIDE))
                titles.append(dim.name)
            else:
                items = "".join(f"<li>{_e(i.text)}</li>" for i in dim.indicators)
                dims.append(w.HTML(f"<p><em>{_e(dim.note or 'niet om te beoordelen')}: deze indicatoren worden "
                                   f"getoond ter oriëntatie en niet gescoord.</em></p><ul>{items}</ul>"))
                titles.append(f"{dim.name} — {dim.note or 'niet beoordeeld'}")
        acc = w.Accordion(children=dims, titles=tuple(titles), selected_index=0, layout=_WIDE)
        children = [w.HTML(head), acc, self._level_block(outcome)]
        if outcome.verdict_item_id:
            vid = outcome.verdict_item_id
            children.append(w.VBox([
                w.HTML(f"<b>Oordeel {_e(outcome.name)}</b>"),
                w.HBox([self._toggle(vid, self.form.choices(vid)),
                        self._note(vid, "Motivering bij dit oordeel (optioneel)")], layout=_WIDE),
            ]))
        else:
            children.append(w.HTML("<p><em>Formatief: geen oordeel voldaan / niet voldaan. Je feedback staat in je "
                                   "notities bij de indicatoren.</em></p>"))
        return w.VBox(children, layout=_WIDE)

    def _level_block(self, outcome) -> w.Widget:
        scale = self.framework.scale
        if scale is None:
            return w.HTML("")
        rows = "".join(
            f"<tr><td style='padding:0 0.6em'><b>{_e(lv.code)}</b></td><td style='padding:0 0.6em'>{_e(lv.name)}"
            f"{'' if lv.named_in_seed else ' <em>(naam niet in de bron)</em>'}</td>"
            f"<td style='padding:0 0.6em'>{_e(lv.note or '')}</td></tr>"
            for lv in scale.levels
        )
        marks = ", ".join(f"{_e(name)} = niveau {_e(code)}" for name, code in scale.thresholds.items())
        order = f"<p><em>{_e(scale.order_reasoning)}</em></p>" if scale.order_inferred and scale.order_reasoning else ""
        desc = w.HTML(f"<details open><summary><b>Niveau (rubric) — {_e(scale.title or '')}</b></summary>"
                      f"<table>{rows}</table><p>Drempels: {marks}.</p>{order}</details>")
        item_id = outcome.level_item_id
        options = [(f"{lv.code} {lv.name}", lv.code) for lv in scale.levels]
        return w.VBox([desc, w.HBox([self._toggle(item_id, options), self._note(item_id, "Toelichting (optioneel)")],
                                    layout=_WIDE)])

    def _phase_part(self) -> w.Widget:
        table = self.framework.phase_table
        names = [(p.name, p.code) for p in table.phases]
        rows = [w.HTML(f"<p><b>{_e(table.title or 'Tabel complexe beroepsvaardigheden')}</b>: kies per dimensie de fase "
                       "die past bij wat je in deze casus zag.</p>")]
        for dim in table.dimensions:
            cells = "".join(
                f"<td style='vertical-align:top;padding:0.2em 0.6em;width:33%'><b>{_e(p.name)}</b><br>"
                f"{_e(dim.descriptors.get(p.code, ''))}</td>" for p in table.phases
            )
            rows.append(w.VBox([
                w.HTML(f"<div style='margin-top:0.6em'><b>{_e(dim.name)}</b></div><table style='width:100%'><tr>{cells}</tr></table>"),
                w.HBox([self._toggle(dim.item_id, names), self._note(dim.item_id)], layout=_WIDE),
            ]))
        return w.VBox(rows, layout=_WIDE)

    def _decision_part(self) -> w.Widget:
        children = []
        spec = self.framework.decision
        self.decision_hint = w.HTML()
        if spec is not None:
            rule = self.framework.rules[spec.rule_id]
            children += [
                w.HTML(f"<p><b>Besluit — {_e(rule.title)}</b><br><em>\u201c{_e(rule.quote)}\u201d</em></p>"),
                self.decision_hint,
                self._toggle(spec.item_id, self.form.choices(spec.item_id)),
            ]
        mid = self.form.motivation_item_id
        if mid is not None:
            self.motivation = w.Textarea(
                value=self.form.motivation or "", layout=w.Layout(width="100%", height="7em"),
                placeholder="Korte motivering: wat zag je concreet, en wat is de volgende ontwikkelstap?",
            )
            self.motivation.observe(lambda ch: self.on_motivation(ch["new"]), "value")
            self.note_controls[mid] = self.motivation
            children += [w.HTML("<b>Motivering</b>"), self.motivation]
        self._refresh_decision_hint()
        return w.VBox(children, layout=_WIDE)

    # ---------------------------------------------------------------- refreshing
    def _case_options(self) -> list[tuple[str, str]]:
        out = []
        for c in self.scoring.case_ids:
            info = self.scoring.case(c)
            done = " \u2713" if self._progress.per_case.get(c) else ""
            out.append((f"{c} — {info.title or ''}{done}", c))
        return out

    def _sync_case_options(self) -> None:
        current = self.case_picker.value
        self._syncing = True
        try:
            self.case_picker.options = self._case_options()
            self.case_picker.value = current
        finally:
            self._syncing = False

    def _refresh_decision_hint(self) -> None:
        hint = getattr(self, "decision_hint", None)
        if hint is None or self.form is None:
            return
        res = self.form.suggested_decision()
        hint.value = ("<p>Vul eerst de oordelen per leeruitkomst in; dan staat hier wat de beslisregel geeft.</p>"
                      if res is None else f"<p>Volgens de beslisregel: <b>{_e(res.value)}</b>.</p>")

    def _refresh(self) -> None:
        form = self.form
        if form is None:
            return
        s = self.scoring
        blind = ("Blind scoren: je ziet alleen je eigen scores, tot de facilitator de sessie onthult."
                 if not s.revealed else "Deze kalibreersessie is onthuld.")
        self.header.value = (
            f"<h2 style='margin:0.2em 0'>{_e(s.title or 'Kalibreersessie')} ({_e(s.session)})</h2>"
            f"<p>Beoordelaar <b>{_e(s.rater)}</b> · Voortgang: <b>{_e(self._progress.text())}</b> · "
            f"deze casus: {_e(form.progress_text())}<br><em>{_e(blind)}</em></p>"
        )
        lines = form.missing_summary()
        self.missing_box.value = (
            "<p style='color:#1b5e20'><b>Deze casus is compleet.</b></p>" if not lines else
            "<details><summary><b>Nog niet ingevuld</b> ({})</summary><ul>{}</ul></details>".format(
                _e(form.progress_text()), "".join(f"<li>{_e(x)}</li>" for x in lines))
        )
        nudges = form.nudges()
        self.nudge_box.value = "" if not nudges else (
            "<div style='border-left:4px solid #ef6c00;padding:0.2em 0.8em;background:#fff8e1'>"
            "<b>Aandachtspunten</b> (je kunt gewoon opslaan)<ul>"
            + "".join(f"<li>{_e(n.message)}</li>" for n in nudges) + "</ul></div>"
        )
        if form.dirty:
            self.status.value = "<span style='color:#6d4c41'>Wijzigingen nog niet bewaard.</span>"
        self._refresh_decision_hint()


class RaterPicker:
    """Shown when no assessor is given: pick who you are and the session, then start."""

    def __init__(self, store, *, session: str | None = None, case: str | None = None):
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
            self.form = ScoringForm(scoring, case=self._case)
        except CalibrateError as exc:
            self.message.value = f"<p style='color:#b00020'>{_e(exc)}</p>"
            return None
        self.widget.children = (self.form.widget,)
        return self.form


def _message(text: str) -> w.HTML:
    return w.HTML(f"<p style='color:#b00020'><b>De scoor-app kan niet starten.</b> {_e(text)}</p>")


def scoring_app(store=None, *, rater: str | None = None, session: str | None = None, case: str | None = None):
    """The scoring app (CONTRACTS §5): the form for an assessor, or a picker without one.

    Reads ``CALIBRATE_WORKSPACE`` / ``CALIBRATE_DB``, ``CALIBRATE_RATER``,
    ``CALIBRATE_SESSION`` and ``CALIBRATE_CASE`` for whatever is not passed. With an assessor
    it opens on their first unfinished case of their most recent session (the first case
    when all are done). Returns a displayable object (:class:`ScoringForm`,
    :class:`RaterPicker`, or a message widget when it cannot start).
    """
    from calibrate.store import Store

    rater = rater or os.environ.get("CALIBRATE_RATER") or None
    session = session or os.environ.get("CALIBRATE_SESSION") or None
    case = case or os.environ.get("CALIBRATE_CASE") or None
    try:
        if store is None:
            if not (os.environ.get("CALIBRATE_DB") or os.environ.get("CALIBRATE_WORKSPACE")) and not Path("workspace").is_dir():
                return _message("Geen werkruimte gevonden: zet CALIBRATE_WORKSPACE (een map) of CALIBRATE_DB "
                                "(een database-URL), bijvoorbeeld op de demo: calibrate demo --workspace demo-workspace.")
            store = Store.open(create=False)
        if rater is None:
            return RaterPicker(store, session=session, case=case)
        return ScoringForm(ScoringSession.open(store, rater, session), case=case)
    except CalibrateError as exc:
        return _message(str(exc))
