"""The facilitator's panel: a thin ipywidgets view over :mod:`calibrate.facilitator`.

Overview (who has finished, reveal, re-score round), consensus (per item the panel's
values after the reveal, the agreed value and its reason) and a new session. Nothing
changes the store until a button is pressed; the handlers (``on_*``) are what tests call.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from pathlib import Path

import ipywidgets as w

from calibrate import facilitator as fac
from calibrate.dutch import format_date, format_datetime, parse_date
from calibrate.errors import CalibrateError
from calibrate.scoring import CaseForm
from calibrate.widgets._common import stylesheet

__all__ = ["FacilitatorPanel", "facilitator_app"]

_WIDE = w.Layout(width="100%")


def _e(text) -> str:
    return html.escape(str(text)) if text is not None else ""


def _ok(text: str) -> str:
    return f"<p style='color:#1b5e20'><b>{_e(text)}</b></p>"


def _err(text: str) -> str:
    return f"<p style='color:#b00020'>{_e(text)}</p>"


class FacilitatorPanel:
    """The facilitator's panel over a whole store; ``.widget`` is what is displayed."""

    def __init__(self, store, *, session: str | None = None):
        self.store = store
        self.consensus_form: CaseForm | None = None
        self.controls: dict[str, w.ToggleButtons] = {}
        self.reason_controls: dict[str, w.Text] = {}
        self._confirm_reveal = False
        self._syncing = False

        # overview
        self.session = w.Dropdown(description="Sessie", options=self._session_options(), layout=w.Layout(width="30em"))
        self.notice = w.HTML()
        self.status_table = w.HTML(layout=_WIDE)
        self.refresh_button = w.Button(description="Vernieuwen")
        self.reveal_button = w.Button(description="Onthullen", button_style="warning")
        self.rescore_button = w.Button(description="Herbeoordelingsronde openen", layout=w.Layout(width="auto"))
        self.message = w.HTML()
        overview = w.VBox([self.notice, self.status_table,
                           w.HBox([self.refresh_button, self.reveal_button, self.rescore_button]), self.message])
        # consensus
        self.case = w.Dropdown(description="Casus", options=[])
        self.part = w.Dropdown(description="Onderdeel", options=[])
        self.consensus_rows = w.VBox(layout=_WIDE)
        self.save_consensus_button = w.Button(description="Consensus opslaan", button_style="primary")
        self.consensus_message = w.HTML()
        consensus = w.VBox([w.HBox([self.case, self.part]), self.consensus_rows,
                            w.HBox([self.save_consensus_button, self.consensus_message])])
        # new session
        cases = [str(c) for c in store.cases()["case"]]
        raters = [str(r) for r in store.raters()["rater"]]
        self.new_id = w.Text(description="Id", value=fac.suggest_session_id(store))
        today = _dt.date.today()
        self.new_date = w.Text(description="Datum", value=f"{today.day}-{today.month}-{today.year}",
                               placeholder="dag-maand-jaar, bijv. 1-12-2026")
        self.new_title = w.Text(description="Titel", placeholder="Kalibreersessie …")
        self.new_cases = w.SelectMultiple(description="Casussen", options=cases, rows=min(8, max(3, len(cases))))
        self.new_raters = w.SelectMultiple(description="Beoordelaars", options=raters, rows=min(8, max(3, len(raters))))
        self.create_button = w.Button(description="Sessie aanmaken", button_style="primary")
        self.create_message = w.HTML()
        new = w.VBox([self.new_id, self.new_date, self.new_title, w.HBox([self.new_cases, self.new_raters]),
                      self.create_button, self.create_message])

        self.tabs = w.Tab(children=[overview, consensus, new], titles=("Overzicht", "Consensus", "Nieuwe sessie"))
        self.widget = w.VBox([w.HTML(f"<style>{stylesheet()}</style>"), self.session, self.tabs], layout=_WIDE)
        self.widget.add_class("calibrate-panel")

        self.session.observe(lambda ch: None if self._syncing else self.on_session(ch["new"]), "value")
        self.refresh_button.on_click(lambda _b: self.on_refresh())
        self.reveal_button.on_click(lambda _b: self.on_reveal())
        self.rescore_button.on_click(lambda _b: self.on_rescore())
        self.case.observe(lambda ch: self.on_case(ch["new"]), "value")
        self.part.observe(lambda ch: self.on_part(ch["new"]), "value")
        self.save_consensus_button.on_click(lambda _b: self.on_save_consensus())
        self.create_button.on_click(lambda _b: self.on_create())
        self.on_session(session or self.session.value)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- overview
    def _session_options(self):
        s = self.store.sessions()
        return [(f"{r.session} — {r.title or ''}{'' if r.revealed else ' (blind)'}", str(r.session))
                for r in s.iloc[::-1].itertuples()]

    def on_session(self, session: str | None) -> None:
        if session is None:
            self.notice.value = "<p>Nog geen kalibreersessies: maak er een aan onder ‘Nieuwe sessie’.</p>"
            return
        if self.session.value != session:
            self._syncing = True
            self.session.value = session
            self._syncing = False
        self._confirm_reveal = False
        self.reveal_button.description = "Onthullen"
        self.message.value = ""
        self.on_refresh()
        self._syncing = True
        self.case.options = self.store.session_cases(session)
        self.case.value = self.case.options[0] if self.case.options else None
        fw = self.store.session_framework(session)
        parts = [(o.name, o.id) for o in fw.outcomes]
        if fw.phase_table is not None:
            parts.append(("Fasen", "fase"))
        if fw.decision is not None:
            parts.append(("Besluit", "besluit"))
        self.part.options = parts
        self.part.value = parts[0][1] if parts else None
        self._syncing = False
        self.on_case(self.case.value)

    def on_refresh(self) -> None:
        session = self.session.value
        if session is None:
            return
        notice = fac.reveal_notice(self.store, session)
        self.notice.value = (f"<div style='border-left:4px solid #ef6c00;padding:0.2em 0.8em;background:#fff8e1'>{_e(notice)}</div>"
                             if notice else "<p>Deze sessie is onthuld: de beoordelaars zien elkaars scores.</p>")
        self.reveal_button.disabled = notice is None
        st = fac.session_status(self.store, session)
        rows = "".join(
            f"<tr><td>{_e(r.rater)}</td><td>{r.complete} van {r.total}</td><td>{r.filled} van {r.assessable}</td>"
            f"<td>{'klaar' if r.finished else 'bezig' if r.filled else 'nog niet begonnen'}</td>"
            f"<td>{_e(format_datetime(r.last_saved) if r.last_saved else '—')}</td></tr>"
            for r in st.itertuples()
        )
        done = int(st["finished"].sum()) if len(st) else 0
        self.status_table.value = (
            f"<p><b>{done} van {len(st)} beoordelaars klaar.</b></p><table cellpadding='4'><tr><th>Beoordelaar</th><th>Casussen compleet</th>"
            f"<th>Onderdelen ingevuld</th><th>Status</th><th>Laatst bewaard</th></tr>{rows}</table>"
        )

    def on_reveal(self) -> None:
        """First press asks to confirm, the second reveals."""
        session = self.session.value
        if session is None:
            return
        if not self._confirm_reveal:
            st = fac.session_status(self.store, session)
            open_ = [r for r, f in zip(st["rater"], st["finished"]) if not f]
            self._confirm_reveal = True
            self.reveal_button.description = "Bevestig: onthullen"
            self.message.value = _err(
                "Onthullen kan niet ongedaan worden. "
                + (f"Nog niet klaar: {', '.join(open_)}. " if open_ else "Iedereen is klaar. ")
                + "Druk nogmaals om te onthullen."
            )
            return
        try:
            fac.reveal(self.store, session)
        except CalibrateError as exc:
            self.message.value = _err(str(exc))
            return
        self._confirm_reveal = False
        self.reveal_button.description = "Onthullen"
        self.message.value = _ok(f"Sessie {session} is onthuld.")
        self._reload_sessions(session)

    def on_rescore(self) -> str | None:
        session = self.session.value
        if session is None:
            return None
        try:
            new = fac.open_rescore_round(self.store, session)
        except CalibrateError as exc:
            self.message.value = _err(str(exc))
            return None
        self._reload_sessions(session)
        self.message.value = _ok(f"Herbeoordelingsronde {new} geopend (blind), met dezelfde casussen en beoordelaars.")
        return new

    def _reload_sessions(self, keep: str) -> None:
        self._syncing = True
        self.session.options = self._session_options()
        self.session.value = keep
        self._syncing = False
        self.on_refresh()
        self.on_case(self.case.value)

    # ---------------------------------------------------------------- consensus
    def on_case(self, case: str | None) -> None:
        if self._syncing:
            return
        session = self.session.value
        self.controls.clear()
        self.reason_controls.clear()
        if session is None or case is None:
            self.consensus_form = None
            self.consensus_rows.children = (w.HTML("<p>Deze sessie heeft geen casussen.</p>"),)
            return
        if not self.store.is_revealed(session):
            self.consensus_form = None
            self.consensus_rows.children = (w.HTML(
                "<p>De consensus leg je vast na het onthullen en de bespreking; deze sessie is nog blind.</p>"),)
            self.save_consensus_button.disabled = True
            return
        self.save_consensus_button.disabled = False
        fw = self.store.session_framework(session)
        cons = self.store.consensus(session)
        cons = cons[cons["case"] == case]
        self.consensus_form = CaseForm.from_scores(fw, cons, session=session, case=case)
        self._distribution = fac.panel_distribution(self.store, session, case)
        self.consensus_message.value = ""
        self.on_part(self.part.value)

    def on_part(self, part: str | None) -> None:
        if self._syncing or self.consensus_form is None or part is None:
            return
        form = self.consensus_form
        if part == "fase":
            items = [i for i in form.assessable_items if i.kind == "phase"]
        elif part == "besluit":
            items = [i for i in form.assessable_items if i.kind == "decision"]
        else:
            items = [i for i in form.assessable_items if i.outcome_id == part]
        dist = self._distribution
        self.controls.clear()
        self.reason_controls.clear()
        rows = []
        self._syncing = True
        for item in items:
            d = dist[dist["item"] == item.id] if len(dist) else dist
            panel = " · ".join(f"{v} {n}" for v, n in zip(d["value"], d["n"])) or "geen scores"
            ctl = w.ToggleButtons(options=form.choices(item.id), value=form.value(item.id), style={"button_width": "auto"})
            ctl.observe(lambda ch, i=item.id: self.on_consensus_value(i, ch["new"]), "value")
            reason = w.Text(value=form.note(item.id) or "", placeholder="Reden (wat de groep afsprak en waarom)",
                            layout=w.Layout(flex="1 1 auto"))
            reason.observe(lambda ch, i=item.id: self.on_consensus_reason(i, ch["new"]), "value")
            self.controls[item.id], self.reason_controls[item.id] = ctl, reason
            rows.append(w.VBox([w.HTML(f"<div style='margin-top:0.4em'>{_e(item.label)}<br><small>Panel: {_e(panel)}</small></div>"),
                                w.HBox([ctl, reason], layout=_WIDE)]))
        self._syncing = False
        self.consensus_rows.children = tuple(rows)

    def on_consensus_value(self, item_id: str, value: str | None) -> None:
        if not self._syncing and self.consensus_form is not None:
            self.consensus_form.set_value(item_id, value)

    def on_consensus_reason(self, item_id: str, text: str) -> None:
        if not self._syncing and self.consensus_form is not None:
            self.consensus_form.set_note(item_id, text)

    def on_save_consensus(self) -> int | None:
        form = self.consensus_form
        if form is None:
            return None
        changed = [i for i in form.changed_items() if form.value(i) is not None]
        values = {i: (form.value(i), form.note(i)) for i in changed}
        try:
            n = fac.record_consensus(self.store, form.session, form.case, values)
        except CalibrateError as exc:
            self.consensus_message.value = _err(str(exc))
            return None
        form.mark_saved()
        no_reason = [i for i in changed if not form.note(i)]
        extra = f" {len(no_reason)} zonder reden." if no_reason else ""
        self.consensus_message.value = _ok(f"Consensus opgeslagen: {n} onderdelen.{extra}")
        return n

    # ---------------------------------------------------------------- new session
    def on_create(self) -> str | None:
        if not self.new_cases.value:
            self.create_message.value = _err("Kies minstens één casus.")
            return None
        if len(self.new_raters.value) < 2:
            self.create_message.value = _err("Kies minstens twee beoordelaars: kalibreren vergelijkt oordelen.")
            return None
        try:
            date = parse_date(self.new_date.value)
            sid = fac.create_session(
                self.store, self.new_id.value.strip(), date.isoformat(),
                cases=list(self.new_cases.value), raters=list(self.new_raters.value),
                title=self.new_title.value.strip() or None,
            )
        except CalibrateError as exc:
            self.create_message.value = _err(str(exc))
            return None
        self.create_message.value = _ok(f"Sessie {sid} van {format_date(date)} aangemaakt (blind).")
        self._syncing = True
        self.session.options = self._session_options()
        self._syncing = False
        self.new_id.value = fac.suggest_session_id(self.store)
        self.on_session(sid)
        return sid


def facilitator_app(store=None, *, session: str | None = None):
    """The facilitator's panel on the store named by ``CALIBRATE_WORKSPACE`` / ``CALIBRATE_DB``."""
    from calibrate.store import Store

    try:
        if store is None:
            if not (os.environ.get("CALIBRATE_DB") or os.environ.get("CALIBRATE_WORKSPACE")) and not Path("workspace").is_dir():
                return w.HTML("<p style='color:#b00020'>Geen werkruimte gevonden: zet CALIBRATE_WORKSPACE of CALIBRATE_DB.</p>")
            store = Store.open(create=False)
        return FacilitatorPanel(store, session=session or os.environ.get("CALIBRATE_SESSION") or None)
    except CalibrateError as exc:
        return w.HTML(f"<p style='color:#b00020'>{_e(exc)}</p>")
