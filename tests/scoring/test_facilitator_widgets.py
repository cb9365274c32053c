"""The facilitator's screens (calibrate.widgets.facilitator), driven through their handlers:
no browser, no kernel. The widget's ``state`` is what the browser renders.

The first five tests are the facilitator-panel tests that lived in test_scoring_widgets.py,
with their assertions, on the new screens.
"""

from __future__ import annotations

import json
import re

import pytest

from calibrate.scoring import ScoringSession
from calibrate.widgets import FacilitatorPanel, facilitator_app
from calibrate.widgets._common import STATIC
from calibrate.widgets.facilitator import SCREENS, TEXT

IND = "leerklimaat.klassenmanagement.1"
NAMES = {"B01": "Jeroen Bakker", "B02": "Fatima El Amrani"}


@pytest.fixture
def env(ws, monkeypatch):
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    monkeypatch.setenv("CALIBRATE_WORKSPACE", str(ws))
    for var in ("CALIBRATE_RATER", "CALIBRATE_SESSION", "CALIBRATE_CASE", "CALIBRATE_RATER_NAMES"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _scored(st, upcoming, fill_all):
    for rater in st.session_raters(upcoming):
        s = ScoringSession.open(st, rater, upcoming)
        form = s.form("C01")
        fill_all(form)
        if rater == "B02":
            form.set_value(IND, "niet gezien")
            form.set_note(IND, "Twee leerlingen praatten door de instructie heen.")
        s.save(form)


def _item(panel, item_id):
    for sec in panel.state["discussion"]["sections"]:
        for g in sec["groups"]:
            for it in g["items"]:
                if it["item"] == item_id:
                    return it
    raise KeyError(item_id)


# ------------------------------------------------------------------------- moved from test_scoring_widgets.py
def test_panel_is_read_only_until_a_button_is_pressed(env, st, upcoming):
    before = st.counts()
    panel = facilitator_app()
    assert isinstance(panel, FacilitatorPanel)
    assert panel.session == upcoming and panel.state["session"] == upcoming
    assert "nog niet onthuld" in panel.state["info"]["notice"]
    assert "0 van 6 beoordelaars klaar" in panel.state["progress"]["summary"]
    assert panel.state["discussion"] is None  # blind: no discussion, no values
    for screen in ("setup", "progress", "discussion", "open"):
        panel.on_screen(screen)
    panel.on_case("C02")
    panel.on_present(True)
    panel.on_hello()
    assert st.counts() == before and not st.is_revealed(upcoming)


def test_panel_shows_when_each_assessor_last_saved_in_dutch(env, st, upcoming):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    form.set_value(IND, "gezien")
    s.save(form)
    panel = FacilitatorPanel(st)
    row = next(r for r in panel.state["progress"]["rows"] if r["rater"] == "B01")
    assert re.fullmatch(r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) "
                        r"\d{4} om \d\d:\d\d", row["saved"])
    assert "+00:00" not in row["saved"] and "T" not in row["saved"]
    assert row["state"] == "bezig" and row["complete"] == 0 and row["filled"] == 1
    assert next(r for r in panel.state["progress"]["rows"] if r["rater"] == "B02")["saved"] == "—"


def test_panel_reveal_needs_confirmation(env, st, upcoming):
    panel = FacilitatorPanel(st)
    plan = panel.on_reveal()
    assert not st.is_revealed(upcoming) and panel.state["confirm"]["action"] == "reveal"
    assert panel.state["confirm"]["yes"] == "Ja, onthullen" and "sluit de blinde ronde" in _text(panel.state["confirm"])
    assert panel.on_confirm("create", plan and panel.state["confirm"]["token"]) is None  # not what was asked
    assert panel.on_confirm("reveal", -1) is None  # a stale confirmation does nothing
    assert not st.is_revealed(upcoming)
    panel.on_confirm("reveal", panel.state["confirm"]["token"])
    assert st.is_revealed(upcoming) and "onthuld" in panel.state["messages"]["progress"]["text"]
    assert panel.state["confirm"] is None and panel.state["info"]["revealed"]
    again = panel.on_reveal()  # revealing twice: said, not done
    assert not again.ok and "al onthuld" in panel.state["confirm"]["problems"][0] and not panel.state["confirm"]["ok"]


def test_panel_consensus_after_reveal(env, st, upcoming):
    st.reveal(upcoming)
    panel = FacilitatorPanel(st, session=upcoming)
    assert panel.screen == "discussion" and _item(panel, IND)["choices"][0] == {"value": "gezien", "name": "gezien"}
    assert panel.on_consensus("C01", IND, "gezien", "Regels en routines expliciet benoemd.") == 1
    cons = st.consensus(upcoming)
    assert cons.loc[cons["item"] == IND, "note"].iloc[0] == "Regels en routines expliciet benoemd."
    assert panel.state["discussion"]["item_status"][IND]["text"].startswith("Vastgelegd om")
    assert _item(panel, IND)["consensus_label"] == "gezien"
    phases = {it["item"] for sec in panel.state["discussion"]["sections"] if sec["id"] == "fasen"
              for g in sec["groups"] for it in g["items"]}
    assert phases == {f"fase.{d.id}" for d in st.session_framework(upcoming).phase_table.dimensions}


def test_panel_creates_a_session_and_a_rescore_round(env, st, upcoming):
    panel = FacilitatorPanel(st)
    plan = panel.on_create("K10-2026-11", "2026-11-02", "", ["C01"], ["B01"])
    assert not plan.ok and any("minstens twee beoordelaars" in p for p in panel.state["confirm"]["problems"])
    plan = panel.on_create("K10-2026-11", "2026-11-02", "", [], ["B01", "B02"])
    assert any("minstens één casus" in p for p in plan.problems)
    plan = panel.on_create("K10-2026-11", "31-2-2026", "", ["C01"], ["B01", "B02"])
    assert any("niet herkend" in p for p in plan.problems)
    plan = panel.on_create("K10-2026-11", "2-11-2026", "", ["C01"], ["B01", "B02"])  # Dutch spelling: day first
    assert plan.ok and "K10-2026-11" not in set(st.sessions()["session"])  # asked, not done
    assert "Datum: 2 november 2026." in panel.state["confirm"]["lines"]
    assert panel.on_confirm("create", panel.state["confirm"]["token"]) == "K10-2026-11"
    assert panel.session == "K10-2026-11" and panel.state["session"] == "K10-2026-11" and panel.screen == "progress"
    assert "aangemaakt" in panel.state["messages"]["progress"]["text"]
    assert str(st.sessions().set_index("session").loc["K10-2026-11", "session_date"])[:10] == "2026-11-02"
    st.reveal("K10-2026-11")
    panel.on_screen("open")
    plan = panel.on_rescore(None, None)
    assert plan.ok and "1 casus: C01 \u2014 Startopdracht in 2 havo." in panel.state["confirm"]["lines"]
    assert "2 beoordelaars: B01, B02." in panel.state["confirm"]["lines"]
    new = panel.on_confirm("rescore", panel.state["confirm"]["token"])
    assert new == "K10-2026-11-R2" and st.sessions().set_index("session").loc[new, "parent"] == "K10-2026-11"


# ------------------------------------------------------------------------- the screens
def test_setup_lists_cases_with_titles_and_where_they_were_used(env, st):
    panel = FacilitatorPanel(st)
    setup = panel.state["setup"]
    c01 = next(c for c in setup["cases"] if c["id"] == "C01")
    assert c01["title"] == "Startopdracht in 2 havo" and c01["used"][0].startswith("K01")
    assert len(setup["cases"]) == 32 and all(c["title"] for c in setup["cases"])
    assert [r["id"] for r in setup["raters"]] == ["B01", "B02", "B03", "B04", "B05", "B06"]
    assert re.fullmatch(r"\d{1,2}-\d{1,2}-\d{4}", setup["today"]) and setup["suggest_id"].startswith("K06-")


def test_discussion_state_is_ordered_with_notes_and_named_values(env, st, upcoming, fill_all):
    _scored(st, upcoming, fill_all)
    st.reveal(upcoming)
    panel = FacilitatorPanel(st, session=upcoming)
    d = panel.state["discussion"]
    assert d["case"] == "C01" and d["title"] == "Startopdracht in 2 havo" and d["order"] == "spread"
    first = d["sections"][0]["groups"][0]["items"][0]
    assert first["item"] == IND and first["disputed"] and first["spread_text"] == "verschil 0,33"
    assert d["sections"][0]["title"] == "Creëren van positief leerklimaat" and d["sections"][0]["groups"][0]["title"] == "Klassenmanagement"
    assert first["notes"] == [{"rater": "B02", "value": "niet gezien", "text": "Twee leerlingen praatten door de instructie heen."}]
    assert [(c["label"], c["n"]) for c in first["counts"]] == [("gezien", 5), ("niet gezien", 1), ("n.v.t.", 0)]
    level = _item(panel, "leerklimaat.niveau")
    assert level["control"] == "cells" and [c["name"] for c in level["choices"]][3] == "4 bekwaam"
    assert level["choices"][1]["text"] == "naam niet vastgelegd in de handleiding"
    phase = _item(panel, "fase.zelfstandigheid")
    assert [c["name"] for c in phase["choices"]] == ["Beginfase", "Groei-fase", "Vergevorderde fase"]
    assert all(c["text"] for c in phase["choices"])  # the phase descriptors
    assert _item(panel, "besluit")["quote"]  # the decision rule, quoted
    assert d["cases"][0] == {"id": "C01", "title": "Startopdracht in 2 havo", "open": 123}
    panel.on_order("kijkkader")
    assert panel.state["discussion"]["sections"][0]["groups"][0]["items"][0]["item"] == IND  # first in the kijkkader too
    assert panel.state["discussion"]["sections"][-1]["id"] == "besluit"
    panel.on_case("C02")
    assert panel.state["discussion"]["case"] == "C02" and _item(panel, IND)["spread_text"] == "nog niet beoordeeld"
    panel.on_case("C99")  # not in the session: ignored
    assert panel.state["discussion"]["case"] == "C02"


def test_consensus_without_a_value_is_refused_and_said(env, st, upcoming):
    st.reveal(upcoming)
    panel = FacilitatorPanel(st, session=upcoming)
    before = st.counts()["consensus"]
    assert panel.on_consensus("C01", IND, None, "Reden zonder waarde") is None
    assert "Kies eerst de waarde" in panel.state["discussion"]["item_status"][IND]["text"]
    assert panel.on_consensus("C01", IND, "misschien", "") is None  # outside the scale
    assert panel.state["discussion"]["item_status"][IND]["kind"] == "error"
    assert "Niet opgeslagen" in panel.state["discussion"]["item_status"][IND]["text"]
    assert st.counts()["consensus"] == before
    assert panel.on_consensus("C01", IND, "gezien", "") == 1
    assert "zonder reden" in panel.state["discussion"]["item_status"][IND]["text"]


def test_open_list_adopt_and_goto(env, st, upcoming, fill_all):
    _scored(st, upcoming, fill_all)
    panel = FacilitatorPanel(st, session=upcoming)
    panel.on_screen("open")
    o = panel.state["open"]
    assert not o["revealed"] and len(o["unfinished"]) == 6 and "cases" not in o  # before the reveal: counts only
    st.reveal(upcoming)
    panel.on_screen("open")
    o = panel.state["open"]
    c01 = o["cases"][0]
    assert c01["disputed"][0]["item"] == IND and c01["n_unanimous"] == 122 and o["cases"][1]["n_unjudged"] == 123
    assert o["summary"].startswith("Nog 369 onderdelen zonder consensus, in 3 van 3 casussen.")
    assert [c["id"] for c in o["rescore"]["cases"]] == ["C01", "C02", "C03"]
    plan = panel.on_adopt("C01")
    assert plan.ok and panel.state["confirm"]["screen"] == "open" and st.consensus(upcoming).empty
    panel.on_cancel()
    assert panel.state["confirm"] is None and st.consensus(upcoming).empty
    panel.on_adopt("C01")
    assert panel.on_confirm("adopt", panel.state["confirm"]["token"]) == 122
    assert "122 eensgezinde oordelen van C01" in panel.state["messages"]["open"]["text"]
    assert panel.state["open"]["cases"][0]["n_open"] == 1
    panel.on_goto("C01", IND)
    assert panel.screen == "discussion" and panel.state["discussion"]["focus_item"] == IND


def test_names_label_the_screen_and_reach_nothing_else(env, st, upcoming, fill_all, tmp_path):
    _scored(st, upcoming, fill_all)
    names_file = tmp_path / "namen.csv"
    names_file.write_text("rater,name\nB01,Jeroen Bakker\nB02,Fatima El Amrani\n", encoding="utf-8")
    env.setenv("CALIBRATE_RATER_NAMES", str(names_file))
    panel = facilitator_app()
    assert panel.names == NAMES
    assert "Fatima El Amrani (B02)" in [r["rater"] for r in panel.state["progress"]["rows"]]
    st.reveal(upcoming)
    panel.on_hello()
    assert _item(panel, IND)["notes"][0]["rater"] == "Fatima El Amrani (B02)"
    panel.on_consensus("C01", IND, "gezien", "Afgesproken in de bespreking.")
    panel.on_screen("open")
    # nothing of the names in the database
    raw = b"".join(p.read_bytes() for p in st_path(st).parent.glob("calibrate.sqlite*"))
    for name in ("Jeroen", "Bakker", "Fatima", "Amrani"):
        assert name.encode() not in raw
    plain = FacilitatorPanel(st, session=upcoming)  # without the mapping: pseudonyms only
    assert "Fatima" not in _text(plain.state)


def st_path(st):
    from pathlib import Path

    return Path(st.engine.url.database)


def test_presentation_and_hello(env, st, upcoming):
    st.reveal(upcoming)
    panel = FacilitatorPanel(st, session=upcoming)
    panel.on_screen("progress")
    panel.on_present(True)
    assert panel.state["present"] and panel.screen == "discussion"
    hello = panel.state["hello"]
    panel.on_hello()
    assert panel.state["hello"] == hello + 1
    panel.on_present(False)
    assert not panel.state["present"]


def test_messages_from_the_browser_reach_the_handlers(env, st, upcoming):
    panel = FacilitatorPanel(st)
    panel._on_msg(panel.widget, {"type": "screen", "screen": "setup"})
    assert panel.screen == "setup"
    panel._on_msg(panel.widget, {"type": "create", "session": "K11", "date": "3-11-2026", "title": "",
                                 "cases": ["C02"], "raters": ["B01", "B03"]})
    token = panel.state["confirm"]["token"]
    panel._on_msg(panel.widget, {"type": "confirm", "action": "create", "token": token})
    assert "K11" in set(st.sessions()["session"])
    panel._on_msg(panel.widget, {"type": "session", "session": upcoming})
    panel._on_msg(panel.widget, {"type": "refresh", "quiet": True})
    panel._on_msg(panel.widget, {"type": "nonsense"})
    panel._on_msg(panel.widget, {"type": "session", "session": "K77"})  # unknown: ignored
    assert panel.session == upcoming


def test_the_verslag_is_made_on_the_open_screen_after_the_reveal(env, st, upcoming, fill_all):
    import base64

    _scored(st, upcoming, fill_all)
    panel = FacilitatorPanel(st, session=upcoming)
    panel.on_screen("open")
    assert panel.on_verslag() is None  # blind: no minutes yet, and it says so
    assert "na het onthullen" in panel.state["messages"]["open"]["text"]
    assert panel.state["open"].get("verslag") is None
    st.reveal(upcoming)
    html = panel.on_verslag()
    assert "Kalibratieverslag" in html and upcoming in html
    v = panel.state["open"]["verslag"]
    assert v["name"] == f"kalibratieverslag-{upcoming}.html"
    assert base64.b64decode(v["href"].split(",", 1)[1]).decode("utf-8") == html
    assert "is gemaakt" in panel.state["messages"]["open"]["text"]
    panel._on_msg(None, {"type": "verslag"})  # the browser's button reaches the handler
    assert panel.state["open"]["verslag"]["name"] == v["name"]


def test_the_fixed_texts_are_dutch_and_complete():
    assert TEXT["record"] == "Consensus vastleggen" and TEXT["reveal"] == "Onthullen…"
    assert set(TEXT["confirm_yes"]) == {"create", "reveal", "rescore", "adopt"}
    js = (STATIC / "facilitator.js").read_text(encoding="utf-8")
    used = set(re.findall(r"\bT\.([a-z_]+)", js)) | {f"screen_{s}" for s in SCREENS}
    assert used - set(TEXT) == set()


def test_a_store_error_is_said_on_the_screen(env, st, upcoming, monkeypatch):
    from calibrate.store.retry import DatabaseUnavailableError

    panel = FacilitatorPanel(st)

    def down(*_a, **_k):
        raise DatabaseUnavailableError("the database is unreachable.", attempts=3, elapsed=1.0)

    monkeypatch.setattr(st, "sessions", down)
    panel._on_msg(panel.widget, {"type": "screen", "screen": "open"})
    assert "database is niet bereikbaar" in panel.state["messages"]["open"]["text"]
