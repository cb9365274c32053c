"""The ipywidgets views, driven through their handlers (no browser, no kernel)."""

from __future__ import annotations

import pytest

from calibrate.scoring import INDICATOR_CHOICES
from calibrate.widgets import FacilitatorPanel, RaterPicker, ScoringForm, facilitator_app, scoring_app

IND = "leerklimaat.klassenmanagement.1"


@pytest.fixture
def env(ws, monkeypatch):
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    monkeypatch.setenv("CALIBRATE_WORKSPACE", str(ws))
    for var in ("CALIBRATE_RATER", "CALIBRATE_SESSION", "CALIBRATE_CASE"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_app_from_the_environment_opens_the_first_unfinished_case(env, upcoming):
    env.setenv("CALIBRATE_RATER", "B01")
    app = scoring_app()
    assert isinstance(app, ScoringForm)
    assert app.scoring.session == upcoming and app.form.case == "C01"
    assert app.save_button.description == "Opslaan"
    assert tuple(app.controls[IND].options) == INDICATOR_CHOICES == ("gezien", "niet gezien", "n.v.t.")
    assert app.controls[IND].value is None
    assert "0 van 3 casussen compleet" in app.header.value and "Blind scoren" in app.header.value


def test_app_honours_session_and_case(env, st):
    past = st.sessions()["session"].iloc[1]
    env.setenv("CALIBRATE_RATER", "B03")
    env.setenv("CALIBRATE_SESSION", past)
    env.setenv("CALIBRATE_CASE", st.session_cases(past)[1])
    app = scoring_app()
    assert app.scoring.session == past and app.form.case == st.session_cases(past)[1]
    assert app.controls[IND].value == app.form.value(IND) is not None  # the saved entry is shown


def test_score_save_and_read_back(env, st, upcoming):
    app = scoring_app(rater="B01")
    app.on_value(IND, "gezien")
    app.on_note(IND, "Stond bij de deur en begroette iedere leerling.")
    assert "nog niet bewaard" in app.status.value
    result = app.on_save()
    assert "Opgeslagen" in app.status.value and result.appended == 1
    mine = st.rater_view("B01").my_scores(upcoming, "C01").set_index("item")
    assert mine.loc[IND, "value"] == "gezien"
    assert mine.loc[IND, "note"] == "Stond bij de deur en begroette iedere leerling."


def test_control_events_reach_the_model(env):
    app = scoring_app(rater="B01")
    app.controls[IND].value = "niet gezien"  # what a click does
    app.note_controls[IND].value = "gaat wel goed"
    assert app.form.entry(IND).value == "niet gezien"
    assert "globale uitspraak" in app.nudge_box.value


def test_missing_and_nudges_are_shown_not_blocking(env):
    app = scoring_app(rater="B01")
    assert "Nog niet ingevuld" in app.missing_box.value
    app.build_all()
    app.on_value("besluit", "go")
    for o in ("leerklimaat", "afstemmen", "leerstof"):
        app.on_value(f"{o}.oordeel", "niet voldaan")
    assert "beslisregel" in app.nudge_box.value
    assert "no go" in app.decision_hint.value
    assert app.on_save() is not None and "Opgeslagen" in app.status.value


def test_reopening_shows_latest_entries_and_switching_case_keeps_typing(env, st, upcoming):
    app = scoring_app(rater="B01")
    app.on_value(IND, "n.v.t.")
    app.on_case("C02")  # not saved by hand: kept anyway
    assert app.form.case == "C02" and "Opgeslagen" in app.status.value
    app.on_case("C01")
    assert app.controls[IND].value == "n.v.t."
    fresh = scoring_app(rater="B01", case="C01")
    assert fresh.controls[IND].value == "n.v.t."


def test_a_complete_case_is_marked_and_progress_moves(env, fill_all):
    app = scoring_app(rater="B01")
    fill_all(app.form)
    app.on_save()
    assert "casus compleet" in app.status.value
    assert "1 van 3 casussen compleet" in app.header.value
    assert dict(app.case_picker.options)  # labels carry a tick for complete cases
    assert any("\u2713" in label for label, _ in app.case_picker.options)
    assert scoring_app(rater="B01").form.case == "C02"


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


def test_no_workspace_is_explained(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_WORKSPACE", raising=False)
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    out = scoring_app(rater="B01")
    assert "CALIBRATE_WORKSPACE" in out.value
    assert not (tmp_path / "workspace").exists()


# ------------------------------------------------------------------------- facilitator panel
def test_panel_is_read_only_until_a_button_is_pressed(env, st, upcoming):
    before = st.counts()
    panel = facilitator_app()
    assert isinstance(panel, FacilitatorPanel)
    assert panel.session.value == upcoming
    assert "nog niet onthuld" in panel.notice.value and "0 van 6 beoordelaars klaar" in panel.status_table.value
    assert "nog blind" in panel.consensus_rows.children[0].value
    assert st.counts() == before and not st.is_revealed(upcoming)


def test_panel_reveal_needs_confirmation(env, st, upcoming):
    panel = FacilitatorPanel(st)
    panel.on_reveal()
    assert not st.is_revealed(upcoming) and "Bevestig" in panel.reveal_button.description
    panel.on_reveal()
    assert st.is_revealed(upcoming) and "onthuld" in panel.message.value
    assert panel.reveal_button.disabled


def test_panel_consensus_after_reveal(env, st, upcoming):
    st.reveal(upcoming)
    panel = FacilitatorPanel(st, session=upcoming)
    assert IND in panel.controls
    panel.on_consensus_value(IND, "gezien")
    panel.on_consensus_reason(IND, "Regels en routines expliciet benoemd.")
    assert panel.on_save_consensus() == 1
    cons = st.consensus(upcoming)
    assert cons.loc[cons["item"] == IND, "note"].iloc[0] == "Regels en routines expliciet benoemd."
    panel.on_part("fase")
    assert set(panel.controls) == {f"fase.{d.id}" for d in st.session_framework(upcoming).phase_table.dimensions}


def test_panel_creates_a_session_and_a_rescore_round(env, st, upcoming):
    panel = FacilitatorPanel(st)
    panel.new_id.value = "K10-2026-11"
    panel.new_date.value = "2026-11-02"
    panel.new_cases.value = ("C01",)
    panel.new_raters.value = ("B01",)
    assert panel.on_create() is None and "at least two" in panel.create_message.value
    panel.new_raters.value = ("B01", "B02")
    assert panel.on_create() == "K10-2026-11" and panel.session.value == "K10-2026-11"
    new = panel.on_rescore()
    assert new == "K10-2026-11-R2" and st.sessions().set_index("session").loc[new, "parent"] == "K10-2026-11"
