"""The facilitator's screens for a kalibreersessie: an anywidget view over
:mod:`calibrate.facilitator` and :mod:`calibrate.discussion`.

Four screens in the order of a meeting: *Sessie opzetten* (cases by title with checkboxes
and a search box, assessors likewise, the date typed the Dutch way), *Voortgang* (per
assessor complete/total and when they last saved — counts only, so the blind round stays
blind — and *Onthullen*), *Bespreking* (per case the items ordered by disagreement, grouped
by leeruitkomst and dimension, each with the spread, the assessors' notes and the consensus
entered with the same controls as the scoring form, with a reason) and *Nog open* (items
and cases without consensus, assessors who have not finished, the re-score round). A
presentation mode shows one case at a time in large type without the editing controls.

Nothing changes the store until a button is pressed; what cannot be undone (creating a
session, revealing, adopting the unanimous judgements, a re-score round) first shows what it
will do (:class:`calibrate.facilitator.Plan`) and acts only on the confirmation. Names of
assessors, when the facilitator passes a ``names`` mapping (or ``CALIBRATE_RATER_NAMES``
names a CSV file with ``rater,name``), stay in this kernel: they label the screen and reach
nothing else.

:class:`FacilitatorPanel` maps state to one widget (:class:`FacilitatorWidget`, ESM + CSS in
``static/``) and the widget's messages to handler methods (``on_*``), which tests call.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Mapping

import anywidget
import pandas as pd
import traitlets

from calibrate import facilitator as fac
from calibrate.discussion import CaseDiscussion, DiscussionItem, item_choices, rater_label
from calibrate.dutch import format_date, format_datetime, format_time
from calibrate.errors import CalibrateError
from calibrate.widgets._common import dutch_error, esm, level_cells, message_widget, phase_cells, stylesheet

__all__ = ["FacilitatorPanel", "FacilitatorWidget", "SCREENS", "TEXT", "facilitator_app"]

#: The screens, in the order of a meeting.
SCREENS = ("setup", "progress", "discussion", "open")

#: Every fixed Dutch text of the screens, in one place (the browser side reads them from the spec).
TEXT = {
    "app_title": "Facilitator",
    "loading": "De facilitator-schermen worden geladen…",
    "session": "Kalibreersessie",
    "screens_nav": "Schermen",
    "screen_setup": "Sessie opzetten",
    "screen_progress": "Voortgang en onthullen",
    "screen_discussion": "Bespreking en consensus",
    "screen_open": "Nog open",
    "present": "Presentatie",
    "present_off": "Presentatie sluiten",
    "present_hint": "Presentatie: één casus tegelijk, grote letters, zonder invulvelden. "
                    "Volgende casus met → of Page Down, vorige met ← of Page Up.",
    "no_sessions": "Er is nog geen kalibreersessie. Zet er hieronder een op.",
    # set-up
    "setup_title": "Nieuwe kalibreersessie",
    "setup_intro": "Kies de casussen en de beoordelaars. Er verandert niets tot je op ‘Sessie aanmaken…’ drukt "
                   "en dat bevestigt.",
    "new_id": "Naam van de sessie",
    "new_id_hint": "Bijvoorbeeld K06-2026-11; voorgesteld is de eerstvolgende vrije naam.",
    "new_date": "Datum",
    "new_date_hint": "Dag-maand-jaar, bijvoorbeeld 2-11-2026 of 2 november 2026.",
    "new_title": "Titel (optioneel)",
    "cases": "Casussen",
    "raters": "Beoordelaars",
    "search_cases": "Zoek een casus op nummer of titel",
    "search_raters": "Zoek een beoordelaar",
    "select_shown": "Alle getoonde kiezen",
    "select_none": "Keuze wissen",
    "chosen": "gekozen",
    "none_found": "Niets gevonden met deze zoekterm.",
    "used_in": "al gebruikt in",
    "create": "Sessie aanmaken…",
    # progress
    "progress_title": "Voortgang",
    "progress_blind": "Blinde ronde: hier staan alleen aantallen, geen oordelen.",
    "col_rater": "Beoordelaar",
    "col_cases": "Casussen compleet",
    "col_items": "Onderdelen ingevuld",
    "col_state": "Status",
    "col_saved": "Laatst bewaard",
    "refresh": "Vernieuwen",
    "reveal": "Onthullen…",
    "to_discussion": "Naar de bespreking",
    "revealed_note": "Deze sessie is onthuld: de beoordelaars zien elkaars oordelen en notities.",
    # discussion
    "discussion_title": "Bespreking",
    "case": "Casus",
    "cases_nav": "Casussen",
    "prev_case": "Vorige casus",
    "next_case": "Volgende casus",
    "case_text": "Casusbeschrijving",
    "order": "Volgorde",
    "order_spread": "Meeste verschil eerst",
    "order_kijkkader": "Volgorde van het kijkkader",
    "show_unanimous": "Ook onderdelen tonen waarover iedereen het eens was",
    "spread_legend": "Verschil: hoe ver twee beoordelaars gemiddeld uit elkaar liggen — 0 als iedereen hetzelfde koos, "
                     "1 als elk tweetal zo ver uiteen ligt als de schaal toelaat. Bij niveaus en fasen telt één stap "
                     "minder dan twee stappen.",
    "distribution": "Verdeling",
    "notes": "Notities van de beoordelaars",
    "no_notes": "Geen notities bij dit onderdeel.",
    "consensus": "Consensus",
    "reason": "Reden: wat de groep afsprak en waarom",
    "reason_placeholder": "Bijvoorbeeld: de regels stonden op het bord en werden bij binnenkomst benoemd.",
    "record": "Consensus vastleggen",
    "recorded": "Vastgelegd",
    "no_reason": "zonder reden",
    "draft": "Nog niet vastgelegd.",
    "blind_discussion": "De bespreking begint na het onthullen: tot dan is de sessie blind.",
    "adopt": "Eensgezinde oordelen overnemen…",
    "unsaved_warning": "Er is een consensus nog niet vastgelegd.",
    # open
    "open_title": "Wat staat nog open",
    "open_blind": "Na het onthullen staat hier per casus welke onderdelen nog geen consensus hebben.",
    "unfinished": "Beoordelaars die nog niet klaar zijn",
    "unfinished_revealed": "Niet compleet in de blinde ronde",
    "all_finished": "Alle beoordelaars zijn klaar met de blinde ronde.",
    "go_to": "Ga naar",
    "rescore_title": "Herbeoordelingsronde",
    "rescore_intro": "Een nieuwe blinde ronde over (een deel van) dezelfde casussen, na de bespreking. "
                     "Kies welke casussen en beoordelaars meedoen.",
    "rescore": "Herbeoordelingsronde openen…",
    "rescore_blind": "Een herbeoordelingsronde open je na het onthullen en de bespreking.",
    "verslag_title": "Kalibratieverslag",
    "verslag_intro": "Het verslag van deze sessie voor de examencommissie: wie meedeed, de casussen, de "
                     "overeenstemming vóór en na de bespreking, de afgesproken lezingen met hun redenen en de "
                     "punten voor de volgende sessie. Maak het aan het eind van de bijeenkomst.",
    "verslag": "Kalibratieverslag maken",
    "verslag_open": "Kalibratieverslag openen",
    # confirmation
    "confirm_cancel": "Annuleren",
    "confirm_back": "Terug",
    "confirm_yes": {"create": "Ja, sessie aanmaken", "reveal": "Ja, onthullen", "rescore": "Ja, ronde openen",
                    "adopt": "Ja, overnemen"},
}

_STATE_WORDS = {"finished": "klaar", "busy": "bezig", "none": "nog niet begonnen"}


class FacilitatorWidget(anywidget.AnyWidget):
    """The screens in the browser: ``spec`` holds the fixed texts, ``state`` what changes."""

    _esm = esm("facilitator.js")
    _css = stylesheet("facilitator.css")
    spec = traitlets.Dict().tag(sync=True)
    state = traitlets.Dict().tag(sync=True)


def _num(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def spread_text(item: DiscussionItem) -> str:
    """``verschil 0,60``, ``iedereen eens``, or why there is no spread."""
    if item.spread is None:
        return "nog niet beoordeeld" if item.n_values == 0 else "maar één oordeel"
    return "iedereen eens" if item.spread == 0 else f"verschil {_num(item.spread)}"


class FacilitatorPanel:
    """The facilitator's screens over a whole store; ``.widget`` is what is displayed.

    ``names`` (rater id → name) labels the screens only; it is never stored.
    """

    def __init__(self, store, *, session: str | None = None, names: Mapping[str, str] | None = None):
        self.store = store
        self.names = dict(names or {})
        self.session: str | None = None
        self.screen = "setup"
        self.present = False
        self.case: str | None = None
        self.order = "spread"
        self.verslag: dict | None = None  # the kalibratieverslag made on the 'open' screen
        self.pending: fac.Plan | None = None
        self._pending_screen = "progress"
        self._token = 0
        self.messages: dict[str, dict] = {}
        self.item_status: dict[str, dict] = {}
        self.focus_item: str | None = None
        self._hellos = 0
        # read again on hello, Vernieuwen, another session or case; not on every consensus saved
        self._progress: tuple[str, dict] | None = None  # (session, state)
        self._scores: tuple[str, object] | None = None  # (session, score table)
        self._setup: dict | None = None
        self.discussion: CaseDiscussion | None = None
        self.widget = FacilitatorWidget(spec={"text": TEXT, "screens": list(SCREENS)})
        self.widget.on_msg(self._on_msg)
        sessions = list(store.sessions()["session"])
        self._open_session(session if session in sessions else (sessions[-1] if sessions else None))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def state(self) -> dict:
        return self.widget.state

    # ---------------------------------------------------------------- messages from the browser
    def _on_msg(self, _widget, content, _buffers=None) -> None:
        kind = content.get("type")
        handlers = {
            "hello": lambda: self.on_hello(),
            "session": lambda: self.on_session(content.get("session")),
            "screen": lambda: self.on_screen(content.get("screen")),
            "present": lambda: self.on_present(bool(content.get("on"))),
            "case": lambda: self.on_case(content.get("case")),
            "order": lambda: self.on_order(content.get("order")),
            "refresh": lambda: self.on_refresh(quiet=bool(content.get("quiet"))),
            "create": lambda: self.on_create(content.get("session", ""), content.get("date", ""),
                                             content.get("title", ""), content.get("cases") or [],
                                             content.get("raters") or []),
            "reveal": lambda: self.on_reveal(),
            "rescore": lambda: self.on_rescore(content.get("cases"), content.get("raters")),
            "adopt": lambda: self.on_adopt(content.get("case")),
            "confirm": lambda: self.on_confirm(content.get("action"), content.get("token")),
            "cancel": lambda: self.on_cancel(),
            "consensus": lambda: self.on_consensus(content.get("case"), content.get("item"), content.get("value"),
                                                   content.get("reason")),
            "goto": lambda: self.on_goto(content.get("case"), content.get("item")),
            "verslag": lambda: self.on_verslag(),
        }
        handler = handlers.get(kind)
        if handler is None:
            return
        try:
            handler()
        except CalibrateError as exc:  # e.g. the database went away: said on the screen, never a traceback
            self._say(self.screen, "error", dutch_error(exc))
            self.widget.state = {**self.widget.state, "hello": self._hellos, "screen": self.screen,
                                 "messages": dict(self.messages)}

    # ---------------------------------------------------------------- handlers: looking around
    def on_hello(self) -> None:
        """A browser view has connected: show the store as it is now (a preheated kernel ran
        the notebook earlier)."""
        self._hellos += 1
        self._forget()
        self._refresh()

    def on_session(self, session: str | None) -> None:
        """Another session was chosen."""
        if session == self.session or session not in set(self.store.sessions()["session"]):
            return
        self._open_session(session)

    def on_screen(self, screen: str | None) -> None:
        if screen in SCREENS:
            self.screen = screen
            self.pending = None
            if screen == "progress":
                self._progress = None
            self._refresh()

    def on_present(self, on: bool) -> None:
        """Presentation mode on or off (on: the discussion of one case in large type)."""
        self.present = on
        if on and self.session and self._revealed(self.session):
            self.screen = "discussion"
        self._refresh()

    def on_case(self, case: str | None) -> None:
        if self.session is None or case not in self.store.session_cases(self.session):
            return
        self.case = case
        self.item_status = {}
        self.focus_item = None
        self._scores = None
        self._refresh()

    def on_order(self, order: str | None) -> None:
        if order in ("spread", "kijkkader"):
            self.order = order
            self._refresh()

    def on_refresh(self, *, quiet: bool = False) -> None:
        """``Vernieuwen`` (and every 20 s while the progress screen shows a blind session):
        read the assessors' progress again."""
        if not quiet:
            self.messages.pop("progress", None)
        self._forget()
        self._refresh()

    def on_goto(self, case: str | None, item: str | None) -> None:
        """From the open list to the item in the discussion."""
        if self.session is None or case not in self.store.session_cases(self.session):
            return
        self.case, self.screen, self.focus_item = case, "discussion", item
        self.item_status = {}
        self._refresh()

    # ---------------------------------------------------------------- handlers: plans and confirmation
    def on_create(self, session: str, date: str, title: str, cases, raters) -> fac.Plan:
        """``Sessie aanmaken…``: check what was filled in and ask to confirm (nothing is stored yet)."""
        return self._ask(fac.session_plan(self.store, session, date, cases=cases, raters=raters, title=title), "setup")

    def on_reveal(self) -> fac.Plan | None:
        """``Onthullen…``: say what revealing does and who has not finished; ask to confirm."""
        if self.session is None:
            return None
        return self._ask(fac.reveal_plan(self.store, self.session), "progress")

    def on_rescore(self, cases=None, raters=None) -> fac.Plan | None:
        """``Herbeoordelingsronde openen…``: say which cases and assessors the new round gets; ask to confirm."""
        if self.session is None:
            return None
        return self._ask(fac.rescore_plan(self.store, self.session, cases=cases, raters=raters), "open")

    def on_adopt(self, case: str | None) -> fac.Plan | None:
        """``Eensgezinde oordelen overnemen…`` for ``case``; ask to confirm."""
        if self.session is None or case is None:
            return None
        try:
            plan = fac.adopt_plan(self.store, self.session, case)
        except CalibrateError as exc:
            self._say(self.screen, "error", dutch_error(exc))
            return None
        return self._ask(plan, self.screen)

    def _ask(self, plan: fac.Plan, screen: str) -> fac.Plan:
        self._token += 1
        self.pending = plan
        self._pending_screen = screen
        self.messages.pop(screen, None)
        self._refresh()
        return plan

    def on_cancel(self) -> None:
        self.pending = None
        self._refresh()

    def on_confirm(self, action: str | None, token: int | None = None):
        """The confirmation: carry out the pending plan if it is the one confirmed."""
        plan = self.pending
        if plan is None or action != plan.action or (token is not None and token != self._token) or not plan.ok:
            return None
        screen = self._pending_screen
        self.pending = None
        try:
            result = fac.carry_out(self.store, plan)
        except CalibrateError as exc:
            self._say(screen, "error", dutch_error(exc))
            return None
        at = format_time()
        self._forget()
        if plan.action == "create":
            self._open_session(result, refresh=False)
            self.screen = "progress"
            self._say("progress", "ok", f"Sessie {result} is aangemaakt om {at} (blind). De beoordelaars kunnen beginnen.")
        elif plan.action == "reveal":
            self._say("progress", "ok", f"Sessie {self.session} is onthuld om {at}. De bespreking kan beginnen.")
        elif plan.action == "rescore":
            self._say("open", "ok", f"Herbeoordelingsronde {result} is geopend om {at} (blind). Kies die bovenaan om "
                                    "de voortgang te volgen.")
        elif plan.action == "adopt":
            self._say(screen, "ok", f"{result} eensgezinde oordelen van {plan.args['case']} vastgelegd als consensus om {at}.")
        self._refresh()
        return result

    # ---------------------------------------------------------------- handlers: the consensus
    def on_verslag(self) -> str | None:
        """Write the kalibratieverslag of the open (revealed) session
        (:func:`calibrate.report.write_report` with ``kind="verslag"``) and offer it on the
        'open' screen as a page to open or download; the HTML is returned."""
        import base64
        import tempfile
        from pathlib import Path

        from ..report import write_report

        if self.session is None or not self._revealed(self.session):
            self._say("open", "error", "Een kalibratieverslag maak je na het onthullen en de bespreking.")
            self._refresh()
            return None
        with tempfile.TemporaryDirectory() as tmp:
            out = write_report(self.store, Path(tmp) / "verslag.html", session=self.session, kind="verslag")
            html = out.read_text(encoding="utf-8")
        name = f"kalibratieverslag-{self.session}.html"
        self.verslag = {"session": self.session, "name": name,
                        "href": "data:text/html;charset=utf-8;base64," + base64.b64encode(html.encode("utf-8")).decode("ascii")}
        self._say("open", "ok", f"Het kalibratieverslag van {self.session} is gemaakt: open of bewaar het met de "
                                f"knop ‘{TEXT['verslag_open']}’.")
        self._refresh()
        return html

    def on_consensus(self, case: str | None, item: str | None, value: str | None, reason: str | None) -> int | None:
        """``Consensus vastleggen`` for one item: store the value and the reason."""
        if self.session is None or case is None or item is None:
            return None
        if value is None:
            self.item_status[item] = {"kind": "error", "text": "Kies eerst de waarde waarover de groep het eens is."}
            self._refresh()
            return None
        try:
            n = fac.record_consensus(self.store, self.session, case, {item: (value, reason or None)})
        except CalibrateError as exc:
            self.item_status[item] = {"kind": "error", "text": dutch_error(exc, saving=True)}
            self._refresh()
            return None
        extra = "" if (reason or "").strip() else f" ({TEXT['no_reason']})"
        self.item_status[item] = {"kind": "saved", "text": f"{TEXT['recorded']} om {format_time()}{extra}."}
        self._refresh()
        return n

    # ---------------------------------------------------------------- state
    def _forget(self) -> None:
        """Read the store again at the next refresh (what the assessors and other screens change)."""
        self._progress = self._scores = self._setup = None

    def _open_session(self, session: str | None, *, refresh: bool = True) -> None:
        self.session = session
        self._progress = self._scores = None
        self.pending = None
        self.messages = {}
        self.item_status = {}
        self.focus_item = None
        cases = self.store.session_cases(session) if session else []
        self.case = cases[0] if cases else None
        self.screen = "setup" if session is None else ("discussion" if self._revealed(session) else "progress")
        if refresh:
            self._refresh()

    def _revealed(self, session: str) -> bool:
        return bool(self.store.is_revealed(session))

    def _say(self, screen: str, kind: str, text: str) -> None:
        self.messages[screen] = {"kind": kind, "text": text}

    def _rater(self, rater: str) -> str:
        return rater_label(rater, self.names)

    def _refresh(self) -> None:
        store = self.store
        sessions = store.sessions()
        state: dict = {
            "hello": self._hellos,
            "screen": self.screen,
            "present": self.present,
            "sessions": [self._session_option(r) for r in sessions.iloc[::-1].itertuples()],
            "session": self.session,
            "messages": dict(self.messages),
            "confirm": None,
            "setup": self._setup or self._setup_state(sessions),
        }
        self._setup = state["setup"]
        if self.pending is not None:
            p = self.pending
            state["confirm"] = {"action": p.action, "title": p.title, "lines": list(p.lines), "problems": list(p.problems),
                                "ok": p.ok, "token": self._token, "screen": self._pending_screen,
                                "yes": TEXT["confirm_yes"][p.action]}
        if self.session is not None:
            row = sessions[sessions["session"] == self.session].iloc[0]
            revealed = bool(row["revealed"])
            fw = store.session_framework(self.session)
            state["info"] = {
                "id": self.session, "title": None if pd.isna(row["title"]) else str(row["title"]),
                "date": format_date(row["session_date"]) if not pd.isna(row["session_date"]) else None,
                "revealed": revealed, "round": int(row["round"]),
                "parent": None if row["parent"] is None or pd.isna(row["parent"]) else str(row["parent"]),
                "framework": fw.title,
                "notice": fac.reveal_notice(store, self.session),
            }
            if self._progress is None or self._progress[0] != self.session:
                self._progress = (self.session, self._progress_state())
            state["progress"] = self._progress[1]
            state["discussion"] = self._discussion_state() if revealed else None
            state["open"] = self._open_state() if self.screen == "open" else None
        self.widget.state = state

    def _session_option(self, r) -> dict:
        """``K05-2026-08 · 31 augustus 2026 · blind — Komende kalibreersessie`` (what tells
        sessions apart first, so a narrow select cuts only the title)."""
        about = [str(r.session)]
        if not pd.isna(r.session_date):
            about.append(format_date(r.session_date))
        if int(r.round) > 1:
            about.append(f"ronde {r.round}")
        about.append("onthuld" if r.revealed else "blind")
        title = "" if r.title is None or pd.isna(r.title) else f" \u2014 {r.title}"
        return {"id": str(r.session), "label": " \u00b7 ".join(about) + title, "revealed": bool(r.revealed),
                "short": f"{r.session} \u00b7 {about[-1]}"}

    def _setup_state(self, sessions: pd.DataFrame) -> dict:
        store = self.store
        used: dict[str, list[str]] = {}
        for s in sessions["session"]:
            for c in store.session_cases(s):
                used.setdefault(c, []).append(str(s))
        cases = store.cases()
        raters = store.raters()
        today = _dt.date.today()
        return {
            "suggest_id": fac.suggest_session_id(store),
            "today": f"{today.day}-{today.month}-{today.year}",
            "cases": [{"id": str(c), "title": "" if pd.isna(t) else str(t), "used": used.get(str(c), [])}
                      for c, t in zip(cases["case"], cases["title"])],
            "raters": [{"id": str(r), "label": self._rater(str(r)), "role": "" if pd.isna(role) else str(role)}
                       for r, role in zip(raters["rater"], raters["role"])],
        }

    def _progress_state(self) -> dict:
        st = fac.session_status(self.store, self.session)
        rows = []
        for r in st.itertuples():
            word = "finished" if r.finished else ("busy" if r.filled else "none")
            rows.append({
                "rater": self._rater(r.rater), "complete": int(r.complete), "total": int(r.total),
                "filled": int(r.filled), "assessable": int(r.assessable), "state": _STATE_WORDS[word], "kind": word,
                "saved": format_datetime(r.last_saved) if r.last_saved else "—",
            })
        done = int(st["finished"].sum()) if len(st) else 0
        return {"rows": rows, "done": done, "n": len(rows),
                "summary": f"{done} van {len(rows)} beoordelaars klaar met de blinde ronde."}

    def _discussion_state(self) -> dict | None:
        store, session = self.store, self.session
        cases = store.session_cases(session)
        if not cases:
            self.discussion = None
            return {"case": None, "cases": []}
        if self.case not in cases:
            self.case = cases[0]
        cons = store.consensus(session)
        if self._scores is None or self._scores[0] != session:
            self._scores = (session, store.scores(session))
        d = fac.case_discussion(store, session, self.case, order=self.order, scores=self._scores[1], consensus=cons)
        self.discussion = d
        fw = store.session_framework(session)
        titles = fac.case_titles(store, session)
        assessable = {i.id for i in fw.assessable_items()}
        agreed = cons[cons["value"].notna() & cons["item"].isin(list(assessable))].groupby("case")["item"].nunique()
        n_items = len(assessable)
        case_rows = store.cases(session)
        text = case_rows.loc[case_rows["case"] == self.case, "text"]
        return {
            "case": d.case,
            "title": d.title,
            "text": None if text.empty or pd.isna(text.iloc[0]) else str(text.iloc[0]),
            "order": d.order,
            "raters": [self._rater(r) for r in d.raters],
            "cases": [{"id": c, "title": titles.get(c, ""), "open": n_items - int(agreed.get(c, 0))} for c in cases],
            "summary": (f"{d.n_disputed} van {len(d.items)} onderdelen met verschil · consensus vastgelegd voor "
                        f"{d.n_consensus} van {len(d.items)}"),
            "sections": [
                {"id": sec.id, "title": sec.title, "n_disputed": sec.n_disputed, "n_items": len(sec.items),
                 "groups": [{"id": g.id, "title": g.title, "kind": g.kind, "items": [self._item_state(fw, i) for i in g.items]}
                            for g in sec.groups]}
                for sec in d.sections
            ],
            "item_status": dict(self.item_status),
            "focus_item": self.focus_item,
        }

    def _item_state(self, fw, i: DiscussionItem) -> dict:
        item = fw.item(i.item)
        if i.kind == "level" and fw.scale is not None:
            control, choices = "cells", level_cells(fw.scale)
        elif i.kind == "phase" and fw.phase_table is not None:
            control, choices = "cells", phase_cells(fw.phase_table, fw.phase_table.dimension(item.dimension_id))
        else:
            control, choices = "options", [{"value": v, "name": v} for v in item_choices(fw, item)]
        quote = None
        if i.kind == "decision" and fw.decision is not None:
            quote = fw.rules[fw.decision.rule_id].quote
        most = max((c.n for c in i.counts), default=0)
        return {
            "item": i.item, "kind": i.kind, "label": i.label, "ref": i.ref, "number": i.number,
            "spread": i.spread, "spread_text": spread_text(i), "disputed": i.disputed, "unanimous": i.unanimous,
            "n_values": i.n_values,
            "counts": [{"value": c.value, "label": c.label, "n": c.n, "raters": [self._rater(r) for r in c.raters],
                        "share": (c.n / i.n_values) if i.n_values else 0, "most": bool(c.n) and c.n == most}
                       for c in i.counts],
            "notes": [{"rater": self._rater(n.rater), "value": n.value_label, "text": n.text} for n in i.notes],
            "consensus": i.consensus, "consensus_label": i.consensus_label, "reason": i.reason,
            "control": control, "choices": choices, "quote": quote,
        }

    def _open_state(self) -> dict:
        op = fac.session_open_points(self.store, self.session)
        unfinished = [{"rater": self._rater(r.rater), "text": f"{r.complete} van {r.total} casussen compleet, "
                                                                f"{r.filled} van {r.assessable} onderdelen ingevuld"}
                      for r in op.unfinished]
        out = {"revealed": op.revealed, "unfinished": unfinished}
        if not op.revealed:
            return out

        def refs(rs, limit=None):
            rs = rs if limit is None else rs[:limit]
            return [{"item": r.item, "ref": r.ref, "section": r.section,
                     "spread": f"verschil {_num(r.spread)}" if r.spread else None} for r in rs]

        cases = []
        for c in op.cases:
            cases.append({
                "case": c.case, "title": c.title, "n_items": c.n_items, "n_consensus": c.n_consensus, "n_open": c.n_open,
                "done": c.done, "disputed": refs(c.disputed), "n_unanimous": len(c.unanimous),
                "n_unjudged": len(c.unjudged), "no_reason": refs(c.no_reason, 12), "n_no_reason": len(c.no_reason),
            })
        n_cases_open = sum(1 for c in op.cases if c.n_open)
        n_no_reason = sum(len(c.no_reason) for c in op.cases)
        if op.n_open_items:
            summary = f"Nog {op.n_open_items} onderdelen zonder consensus, in {n_cases_open} van {len(op.cases)} casussen."
        else:
            summary = "Elke casus heeft voor elk onderdeel een consensus."
        if n_no_reason:
            summary += f" Bij {n_no_reason} vastgelegde onderdelen staat nog geen reden."
        out |= {
            "verslag": self.verslag if self.verslag and self.verslag["session"] == self.session else None,
            "cases": cases,
            "summary": summary,
            "rescore": {
                "suggest_id": fac.suggest_session_id(self.store, self.session),
                "cases": [{"id": c, "title": t} for c, t in fac.case_titles(self.store, self.session).items()],
                "raters": [{"id": r, "label": self._rater(r)} for r in self.store.session_raters(self.session)],
            },
        }
        return out


def facilitator_app(store=None, *, session: str | None = None, names: Mapping[str, str] | str | Path | None = None):
    """The facilitator's screens on the store named by ``CALIBRATE_WORKSPACE`` / ``CALIBRATE_DB``.

    ``names`` is a mapping rater id → name, or the path of a CSV file with columns
    ``rater,name`` (default: ``CALIBRATE_RATER_NAMES``); it labels the screen only, in this
    kernel, and is never written anywhere. Returns a displayable object (a message widget
    when it cannot start, never a traceback).
    """
    from calibrate.store import Store

    try:
        names = names if names is not None else (os.environ.get("CALIBRATE_RATER_NAMES") or None)
        if isinstance(names, (str, Path)):
            names = fac.load_rater_names(names)
        if store is None:
            if not (os.environ.get("CALIBRATE_DB") or os.environ.get("CALIBRATE_WORKSPACE")) and not Path("workspace").is_dir():
                return message_widget("De facilitator-schermen kunnen niet starten.",
                                      "Geen werkruimte gevonden: zet CALIBRATE_WORKSPACE (een map) of CALIBRATE_DB "
                                      "(een database-URL).")
            store = Store.open(create=False)
        return FacilitatorPanel(store, session=session or os.environ.get("CALIBRATE_SESSION") or None, names=names)
    except CalibrateError as exc:
        return message_widget("De facilitator-schermen kunnen niet starten.", dutch_error(exc))
