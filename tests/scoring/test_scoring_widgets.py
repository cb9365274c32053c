"""The ipywidgets views, driven through their handlers (no browser, no kernel)."""

from __future__ import annotations

import re

import pytest

from calibrate.scoring import INDICATOR_CHOICES, ScoringSession
from calibrate.widgets import RaterPicker, ScoringForm, scoring_app

IND = "leerklimaat.klassenmanagement.1"


@pytest.fixture
def env(ws, monkeypatch):
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    monkeypatch.setenv("CALIBRATE_WORKSPACE", str(ws))
    for var in ("CALIBRATE_RATER", "CALIBRATE_SESSION", "CALIBRATE_CASE"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _choices_of(app, item_id):
    """The options the form offers for ``item_id`` (from the widget's spec)."""
    spec = app.widget.spec
    for sec in spec["sections"]:
        for block in sec["blocks"]:
            if block["type"] == "dimension" and item_id in block["items"]:
                return tuple(spec["indicator_choices"])
            if block["type"] == "rubric":
                for row in block["rows"]:
                    if row["item"] == item_id:
                        return tuple(c["value"] for c in row["cells"])
            if block.get("item") == item_id and "choices" in block:
                return tuple(block["choices"])
    raise KeyError(item_id)


def _nudges(app) -> str:
    return " ".join(n["text"] for n in app.state["nudges"])


def test_app_from_the_environment_opens_the_first_unfinished_case(env, upcoming):
    env.setenv("CALIBRATE_RATER", "B01")
    app = scoring_app()
    assert isinstance(app, ScoringForm)
    assert app.scoring.session == upcoming and app.form.case == "C01"
    assert app.widget.spec["text"]["save"] == "Opslaan"
    assert _choices_of(app, IND) == INDICATOR_CHOICES == ("gezien", "niet gezien", "n.v.t.")
    assert IND not in app.state["values"]
    assert "0 van 3 casussen compleet" in app.state["progress"] and "Blind scoren" in app.widget.spec["session"]["blind"]


def test_app_honours_session_and_case(env, st):
    past = st.sessions()["session"].iloc[1]
    env.setenv("CALIBRATE_RATER", "B03")
    env.setenv("CALIBRATE_SESSION", past)
    env.setenv("CALIBRATE_CASE", st.session_cases(past)[1])
    app = scoring_app()
    assert app.scoring.session == past and app.form.case == st.session_cases(past)[1]
    assert app.state["values"][IND] == app.form.value(IND) is not None  # the saved entry is shown
    app.on_hello()  # a browser connects: the given case stays open
    assert app.form.case == st.session_cases(past)[1]


def test_score_save_and_read_back(env, st, upcoming):
    app = scoring_app(rater="B01")
    app.on_value(IND, "gezien")
    app.on_note(IND, "Stond bij de deur en begroette iedere leerling.")
    assert "nog niet bewaard" in app.status_text and app.state["dirty"]
    result = app.on_save()
    assert "Opgeslagen" in app.status_text and result.appended == 1
    mine = st.rater_view("B01").my_scores(upcoming, "C01").set_index("item")
    assert mine.loc[IND, "value"] == "gezien"
    assert mine.loc[IND, "note"] == "Stond bij de deur en begroette iedere leerling."


def test_autosave_saves_changes_and_adds_no_row_for_unchanged_values(env, st, upcoming):
    app = scoring_app(rater="B01")
    before = st.counts()["judgements"]
    app._on_msg(app.widget, {"type": "value", "item": IND, "value": "gezien"})   # what a click sends
    app._on_msg(app.widget, {"type": "note", "item": IND, "text": "Begroette iedere leerling."})
    app._on_msg(app.widget, {"type": "autosave"})
    assert re.fullmatch(r"Opgeslagen om \d\d:\d\d \(1 wijziging; nog 122 onderdelen open\)\.", app.status_text)
    assert st.counts()["judgements"] == before + 1 and not app.state["dirty"]
    app._on_msg(app.widget, {"type": "value", "item": IND, "value": "gezien"})   # the same value again
    app._on_msg(app.widget, {"type": "autosave"})
    app.on_save()                                                                # and Opslaan
    assert st.counts()["judgements"] == before + 1
    assert "geen wijzigingen" in app.status_text


def test_a_failed_save_is_said_and_kept_for_the_next_try(env, st, upcoming, monkeypatch):
    from calibrate.store.retry import DatabaseUnavailableError

    app = ScoringForm(ScoringSession.open(st, "B01"), store=st)
    real_save = app.scoring.view.save

    def down(*_a, **_k):
        raise DatabaseUnavailableError("the database is not reachable", attempts=10, elapsed=30.0)

    monkeypatch.setattr(app.scoring.view, "save", down)
    app.on_value(IND, "gezien")
    assert app.on_autosave() is None
    assert app.state["status"]["kind"] == "error" and app.status_text.startswith("Niet opgeslagen: de database is niet bereikbaar")
    assert app.state["dirty"]  # the browser warns before closing and tries again
    st.on_retry(1, 0.5, RuntimeError("connection lost"))  # the store retries: said at once
    assert app.status_text.startswith("Niet opgeslagen \u2014 opnieuw proberen\u2026")
    monkeypatch.setattr(app.scoring.view, "save", real_save)
    assert app.on_autosave().appended == 1 and "Opgeslagen om" in app.status_text


def test_control_events_reach_the_model(env):
    app = scoring_app(rater="B01")
    app._on_msg(app.widget, {"type": "value", "item": IND, "value": "niet gezien"})
    app._on_msg(app.widget, {"type": "note", "item": IND, "text": "gaat wel goed"})
    assert app.form.entry(IND).value == "niet gezien"
    assert "globale uitspraak" in _nudges(app).lower()
    nudge = next(n for n in app.state["nudges"] if n["kind"] == "global_phrase")
    assert nudge["item"] == IND  # the nudge leads to the item


def test_missing_and_nudges_are_shown_not_blocking(env):
    app = scoring_app(rater="B01")
    assert app.widget.spec["text"]["missing"] == "Nog niet ingevuld" and app.state["missing"]
    assert all(item in app.widget.spec["labels"] for _, item in app.state["missing"])  # each line jumps to an item
    app.on_value("besluit", "go")
    for o in ("leerklimaat", "afstemmen", "leerstof"):
        app.on_value(f"{o}.oordeel", "niet voldaan")
    assert "beslisregel" in _nudges(app)
    assert "no go" in app.state["decision_hint"]
    assert app.on_save() is not None and "Opgeslagen" in app.status_text


def test_the_verdict_vs_phases_nudge_names_the_dimensions_once(env):
    app = scoring_app(rater="B01")
    for o in ("leerklimaat", "afstemmen", "leerstof"):
        app.on_value(f"{o}.oordeel", "voldaan")
    app.on_value("fase.opbouw_van_routines", "begin")
    phase = [n for n in app.state["nudges"] if n["kind"] == "verdict_phases"]
    assert len(phase) == 1 and _nudges(app).count("Opbouw van routines") == 1
    assert "fase.opbouw_van_routines" in phase[0]["related"]
    assert len(phase[0]["text"]) < 300  # one short line, no repeated paragraph


def test_reopening_shows_latest_entries_and_switching_case_keeps_typing(env, st, upcoming):
    app = scoring_app(rater="B01")
    app.on_value(IND, "n.v.t.")
    app.on_case("C02")  # not saved by hand: kept anyway
    assert app.form.case == "C02" and "Opgeslagen" in app.status_text
    app.on_case("C01")
    assert app.state["values"][IND] == "n.v.t."
    fresh = scoring_app(rater="B01", case="C01")
    assert fresh.state["values"][IND] == "n.v.t."


def test_reopening_returns_to_the_case_last_worked_on(env, st, upcoming):
    app = scoring_app(rater="B01")
    assert app.form.case == "C01"  # nothing saved yet: the first unfinished case
    app.on_case("C03")
    app.on_value(IND, "gezien")
    app.on_autosave()
    again = scoring_app(rater="B01")
    assert again.form.case == "C03" and again.state["start_item"] == IND
    again.on_hello()  # a preheated kernel: the browser's hello reads the store again
    assert again.form.case == "C03"


def test_hello_shows_what_was_saved_after_the_kernel_ran_the_notebook(env, st, upcoming):
    app = scoring_app(rater="B01")  # e.g. a preheated Voilà kernel, run before the page was asked for
    other = ScoringSession.open(st, "B01")
    form = other.form("C01")
    form.set_value(IND, "niet gezien")
    other.save(form)
    assert IND not in app.state["values"]
    app.on_hello()
    assert app.state["values"][IND] == "niet gezien" and app.state["hello"] == 1


def test_a_complete_case_is_marked_and_progress_moves(env, fill_all):
    app = scoring_app(rater="B01")
    fill_all(app.form)
    app.on_save()
    assert "casus compleet" in app.status_text
    assert "1 van 3 casussen compleet" in app.state["progress"]
    assert app.state["done"] == {"C01": True, "C02": False, "C03": False}  # the case list marks it with a tick
    assert all(c == [n, n] for c in app.state["counts"].values() for n in [c[1]])
    assert scoring_app(rater="B01").form.case == "C02"


def test_rubric_cells_show_descriptors_never_data_file_notes(env, fw):
    app = scoring_app(rater="B01")
    spec = app.widget.spec
    rubric = next(b for b in spec["sections"][0]["blocks"] if b["type"] == "rubric")
    cells = rubric["rows"][0]["cells"]
    assert [c["name"] for c in cells] == ["1 verkennend", "Niveau 2", "Niveau 3", "4 bekwaam", "5 vakkundig", "6 professional"]
    assert cells[1]["text"] == cells[2]["text"] == "naam niet vastgelegd in de handleiding"
    assert "bekwaam-niveau" in cells[3]["text"]  # seed 002, quoted in the scale file
    text = str(spec)
    for lv in fw.scale.levels:
        assert lv.note not in text  # "Niet benoemd in het seed; plaatsvervangende naam" etc.
    assert "Dreyfus" not in text
    phases = next(s for s in spec["sections"] if s["id"] == "fasen")["blocks"][0]["rows"]
    assert phases[0]["cells"][1] == {"value": "groei", "name": "Groei-fase", "text": "Werkt routinematig in herkenbare situaties"}


def test_an_institutes_own_level_descriptors_appear_in_their_place(env, st, tmp_path):
    from importlib.resources import files

    import yaml

    from calibrate.frameworks import load_framework
    from calibrate.widgets.scoring import build_spec

    src = yaml.safe_load((files("calibrate.frameworks") / "data" / "han-wpl2-2025.yaml").read_text(encoding="utf-8"))
    for part in ("phase_table", "scale", "profiles", "rules"):
        if isinstance(src.get(part), dict) and "ref" in src[part]:
            src[part]["ref"] = "builtin:" + src[part]["ref"]
    src["scale"]["override"] = {"levels": [
        {"name": name, "descriptor": f"Eigen beschrijving {n}"} for n, name in
        enumerate(("beginnend", "ontwikkelend", "op weg", "bekwaam", "vakkundig", "professional"), 1)]}
    path = tmp_path / "instituut.yaml"
    path.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    scoring = ScoringSession.open(st, "B01")
    scoring.framework = load_framework(path)
    cells = next(b for b in build_spec(scoring)["sections"][0]["blocks"] if b["type"] == "rubric")["rows"][0]["cells"]
    assert [c["text"] for c in cells] == [f"Eigen beschrijving {n}" for n in range(1, 7)]
    assert cells[1]["name"] == "2 ontwikkelend"


def test_picker_without_a_rater(env, upcoming):
    app = scoring_app()
    assert isinstance(app, RaterPicker) and app.start.disabled
    app.rater.value = "B04"
    assert app.session.value == upcoming and not app.start.disabled
    form = app.on_start()
    assert isinstance(form, ScoringForm) and form.scoring.rater == "B04"


def test_message_instead_of_a_traceback(env, st):
    st.add_raters(["B99"])
    out = scoring_app(rater="B99")
    assert "kan niet starten" in out.value and "B99" in out.value
    assert "Vraag de facilitator" in out.value  # Dutch, with the way out


def test_no_workspace_is_explained(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_WORKSPACE", raising=False)
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    out = scoring_app(rater="B01")
    assert "CALIBRATE_WORKSPACE" in out.value
    assert not (tmp_path / "workspace").exists()
