"""The pure scoring model (calibrate.scoring): state, validation, nudges, save/load, blinding."""

from __future__ import annotations

import pytest

from calibrate.errors import AccessError, InputError
from calibrate.frameworks import load_framework
from calibrate.scoring import (
    INDICATOR_CHOICES,
    CaseForm,
    ScoringSession,
    global_phrases_in,
    is_global_statement,
    motivation_item_id,
)

IND = "leerklimaat.klassenmanagement.1"
DIFF = "leerstof.differentiatie.1"


# ------------------------------------------------------------------- the form as state
def test_choices_follow_the_contract(fw):
    form = CaseForm(fw)
    assert form.choices(IND) == ("gezien", "niet gezien", "n.v.t.") == INDICATOR_CHOICES
    assert form.choices("leerklimaat.oordeel") == ("voldaan", "niet voldaan")
    assert form.choices("besluit") == ("go", "no go")
    assert form.choices("leerklimaat.niveau") == ("1", "2", "3", "4", "5", "6")
    assert form.choices("fase.zelfstandigheid") == ("begin", "groei", "vergevorderd")


def test_new_form_is_empty_and_lists_everything_missing(fw):
    form = CaseForm(fw)
    assert len(form.assessable_items) == len(fw.assessable_items()) == 123
    assert len(form.missing()) == 123 and not form.complete
    lines = form.missing_summary()
    assert lines[0] == "Creëren van positief leerklimaat: 23 van 23 indicatoren, het niveau, het oordeel"
    assert "Fasen complexe beroepsvaardigheden: 14 van 14" in lines
    assert lines[-1] == "Het besluit"


def test_values_outside_the_scale_and_unknown_items_raise(fw):
    form = CaseForm(fw)
    with pytest.raises(InputError, match="outside the scale"):
        form.set_value(IND, "voldaan")
    with pytest.raises(InputError, match="outside the scale"):
        form.set_value("leerklimaat.niveau", "7")
    with pytest.raises(InputError, match="Unknown item"):
        form.set_value("leerklimaat.klasmanagement.1", "gezien")


def test_not_assessed_dimension_is_shown_not_scored(fw):
    form = CaseForm(fw)
    assert DIFF in {i.id for i in form.items}
    assert DIFF not in {i.id for i in form.assessable_items}
    with pytest.raises(InputError, match="not assessed"):
        form.set_value(DIFF, "gezien")


def test_nvt_counts_as_answered_for_completeness(fw, fill_all):
    form = CaseForm(fw)
    fill_all(form)
    form.set_value(IND, "n.v.t.")
    assert form.complete and form.missing_summary() == []
    form.set_value(IND, None)
    assert [i.id for i in form.missing()] == [IND]
    assert form.missing_summary() == ["Creëren van positief leerklimaat: 1 van 23 indicatoren"]


def test_dirty_tracking_and_values_to_save(fw):
    form = CaseForm(fw, entries={IND: ("gezien", "liep naar het groepje toe")})
    assert not form.dirty
    form.set_note(IND, "")
    assert form.dirty and form.changed_items() == [IND]
    # a cleared note is sent as "" so the store records it
    assert form.to_values() == {IND: ("gezien", "")}
    form.set_value("leerklimaat.niveau", "3")
    form.mark_saved()
    assert not form.dirty and form.to_values(only_changed=True) == {}
    form.set_value("leerklimaat.niveau", "4")
    assert form.to_values(only_changed=True) == {"leerklimaat.niveau": ("4", None)}


def test_half_filled_item_keeps_a_note_without_value(fw):
    form = CaseForm(fw)
    form.set_note(IND, "nog twijfel: alleen begin van de les gezien")
    assert form.to_values() == {IND: (None, "nog twijfel: alleen begin van de les gezien")}
    assert IND in {i.id for i in form.missing()}


def test_motivation_is_the_note_of_the_decision_item(fw):
    assert motivation_item_id(fw) == "besluit"
    form = CaseForm(fw)
    form.set_motivation("De student benoemde het gewenste gedrag en paste de instructie aan.")
    assert form.note("besluit") == form.motivation
    assert form.value("besluit") is None  # the motivation needs no decision yet


def test_motivation_item_without_a_decision():
    from pathlib import Path

    fw = load_framework(Path(__file__).parents[1] / "fixtures" / "frameworks" / "hogeschool-voorbeeld.yaml")
    mid = motivation_item_id(fw)
    assert mid is not None and fw.item(mid).kind in ("decision", "verdict", "level")


# ------------------------------------------------------------------------ quality nudges
@pytest.mark.parametrize(
    "text, flagged",
    [
        ("Gaat wel goed", True),
        ("gaat wel goed.", True),
        ("Prima!", True),
        ("Goed gedaan, netjes.", True),
        ("Helemaal goed hoor", True),
        ("Netjes", True),
        ("Prima: wachtte tot het stil was en gaf toen de opdracht.", False),
        ("Liep naar het groepje achterin en benoemde het gewenste gedrag.", False),
        ("De student gaf een goed voorbeeld bij klimaatzones uit de eigen omgeving.", False),
        ("", False),
        (None, False),
    ],
)
def test_global_statements(text, flagged):
    assert is_global_statement(text) is flagged


def test_global_phrase_is_named():
    assert global_phrases_in("Gaat wel goed, prima") == ["gaat wel goed", "prima"]


def _kinds(form):
    return [n.kind for n in form.nudges()]


def test_global_phrase_in_a_note_and_in_the_motivation(fw):
    form = CaseForm(fw)
    form.set_value(IND, "gezien")
    form.set_note(IND, "gaat wel goed")
    form.set_motivation("Prima les.")
    nudges = [n for n in form.nudges() if n.kind == "global_phrase"]
    assert [n.item_id for n in nudges] == [IND, "besluit"]
    assert "\u201cgaat wel goed\u201d" in nudges[0].message and "Klassenmanagement, indicator 1" in nudges[0].message
    assert "motivering" in nudges[1].message


def test_missing_motivation_is_pointed_out_once_there_is_a_verdict(fw):
    form = CaseForm(fw)
    assert "motivation" not in _kinds(form)
    form.set_value("leerklimaat.oordeel", "voldaan")
    assert "motivation" in _kinds(form)
    form.set_motivation("Zag dat de student de startopdracht klaar had staan; volgende stap: differentiëren.")
    assert "motivation" not in _kinds(form)


def _outcome_indicators(fw, outcome):
    return [i.id for i in fw.outcome(outcome).indicators if i.assessed]


def test_verdict_voldaan_against_mostly_niet_gezien(fw):
    form = CaseForm(fw)
    ids = _outcome_indicators(fw, "leerklimaat")
    for i in ids[:15]:
        form.set_value(i, "niet gezien")
    for i in ids[15:]:
        form.set_value(i, "gezien")
    form.set_value("leerklimaat.oordeel", "voldaan")
    (n,) = [n for n in form.nudges() if n.kind == "verdict_indicators"]
    assert n.item_id == "leerklimaat.oordeel" and "15 van de 23" in n.message
    form.set_value("leerklimaat.oordeel", "niet voldaan")
    assert "verdict_indicators" not in _kinds(form)


def test_verdict_niet_voldaan_against_all_gezien(fw):
    form = CaseForm(fw)
    for i in _outcome_indicators(fw, "afstemmen")[:5]:
        form.set_value(i, "gezien")
    form.set_value("afstemmen.oordeel", "niet voldaan")
    (n,) = [n for n in form.nudges() if n.kind == "verdict_indicators"]
    assert "alle 5" in n.message


def test_verdict_voldaan_against_phases_below_the_tussenniveau_profile(fw):
    form = CaseForm(fw)
    form.set_value("leerstof.oordeel", "voldaan")
    form.set_value("fase.opbouw_van_routines", "begin")  # profile: at least groei
    (n,) = [n for n in form.nudges() if n.kind == "verdict_phases"]
    assert n.item_id == "leerstof.oordeel"
    assert "Opbouw van routines: Beginfase (verwacht minstens Groei-fase" in n.message
    form.set_value("fase.opbouw_van_routines", "groei")
    assert "verdict_phases" not in _kinds(form)
    # a phase with no expectation in the profile never nudges
    form.set_value("fase.samenwerking_en_communicatie", "begin")
    assert "verdict_phases" not in _kinds(form)


def test_verdict_niet_voldaan_while_all_phases_meet_the_profile(fw):
    form = CaseForm(fw)
    for dim in fw.phase_table.dimensions:
        form.set_value(dim.item_id, "groei")
    form.set_value("afstemmen.oordeel", "niet voldaan")
    (n,) = [n for n in form.nudges() if n.kind == "verdict_phases"]
    assert n.item_id == "afstemmen.oordeel" and "al je fasen" in n.message
    form.set_value("fase.evaluatief_vermogen", None)  # a missing phase: undetermined, no nudge
    assert "verdict_phases" not in _kinds(form)


def test_phase_nudge_names_the_dimension_below_the_profile(fw):
    # (was: the same message from a fallback copy of calibrate.phases; issue 19 removed the
    # copy, so the nudge always comes from calibrate.phases.classify_verdicts)
    form = CaseForm(fw)
    form.set_value("leerstof.oordeel", "voldaan")
    form.set_value("fase.opbouw_van_routines", "begin")
    (n,) = [n for n in form.nudges() if n.kind == "verdict_phases"]
    assert "Opbouw van routines: Beginfase (verwacht minstens Groei-fase" in n.message


def test_formative_outcomes_have_no_verdict_to_check(fw):
    form = CaseForm(fw)
    for i in _outcome_indicators(fw, "ppi"):
        form.set_value(i, "niet gezien")
    assert not {"verdict_indicators", "verdict_phases"} & set(_kinds(form))


def test_decision_against_the_rule(fw):
    form = CaseForm(fw)
    form.set_value("besluit", "go")
    assert form.suggested_decision() is None
    for o, v in (("leerklimaat", "niet voldaan"), ("afstemmen", "niet voldaan"), ("leerstof", "voldaan")):
        form.set_value(f"{o}.oordeel", v)
    assert form.suggested_decision().value == "no go"
    (n,) = [n for n in form.nudges() if n.kind == "decision_rule"]
    assert n.item_id == "besluit" and "\u2018no go\u2019" in n.message and "maximaal één LER" in n.message
    form.set_value("besluit", "no go")
    assert "decision_rule" not in _kinds(form)


def test_nudges_never_block_saving(st, upcoming):
    s = ScoringSession.open(st, "B01")
    form = s.form(s.case_ids[0])
    form.set_value("besluit", "go")
    form.set_note("besluit", "gaat wel goed")
    form.set_value("leerklimaat.oordeel", "niet voldaan")
    form.set_value("afstemmen.oordeel", "niet voldaan")
    form.set_value("leerstof.oordeel", "niet voldaan")
    assert {"global_phrase", "decision_rule"} <= set(_kinds(form))
    res = s.save(form)
    assert res.appended == 4 and res.nudges
    assert res.message().startswith("Opgeslagen")


# ------------------------------------------------------------------ session: save and load
def test_opens_the_most_recent_session_on_the_first_unfinished_case(st, upcoming):
    s = ScoringSession.open(st, "B01")
    assert s.session == upcoming and not s.revealed
    assert s.case_ids == ["C01", "C02", "C03"]
    assert s.first_unfinished() == "C01"
    assert s.progress().text() == "0 van 3 casussen compleet"


def test_half_scored_case_is_kept_and_reopens_with_latest_entries(st, upcoming):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    form.set_value(IND, "niet gezien")
    form.set_note(IND, "Twee leerlingen achterin bleven praten.")
    assert s.save(form).appended == 1
    form.set_value(IND, "gezien")  # changed mind: latest entry wins
    res = s.save(form)
    assert res.appended == 1 and not res.complete and res.n_missing == 122
    again = ScoringSession.open(st, "B01").form("C01")
    assert again.entry(IND).value == "gezien"
    assert again.note(IND) == "Twee leerlingen achterin bleven praten."
    assert not again.dirty
    assert len(st.history(upcoming, "C01", "B01", IND)) == 2  # append-only audit trail


def test_saving_unchanged_form_appends_nothing(st, upcoming):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    form.set_value(IND, "gezien")
    s.save(form)
    assert s.save(form).appended == 0


def test_two_windows_of_one_assessor_do_not_overwrite_each_other(st, upcoming):
    s = ScoringSession.open(st, "B01")
    first, second = s.form("C01"), s.form("C01")
    first.set_value(IND, "gezien")
    s.save(first)
    second.set_value("leerklimaat.niveau", "4")
    s.save(second)  # sends only what changed in this window
    again = s.form("C01")
    assert again.value(IND) == "gezien" and again.value("leerklimaat.niveau") == "4"


def test_progress_counts_complete_cases(st, upcoming, fill_all):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    fill_all(form, note="De student liep naar het groepje achterin en benoemde het gedrag.")
    res = s.save(form)
    assert res.complete and res.appended == 123
    assert s.progress().text() == "1 van 3 casussen compleet"
    assert s.first_unfinished() == "C02"
    for case in ("C02", "C03"):
        f = s.form(case)
        fill_all(f)
        s.save(f)
    assert s.progress().complete == 3
    assert s.first_unfinished() == "C01"  # all done: the first case


def test_notes_are_pseudonymised_by_the_store(st, upcoming):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    form.set_value(IND, "gezien")
    form.set_note(IND, "Sanne de Vries legde de regels uit.")
    s.save(form)
    note = s.form("C01").note(IND)
    assert "Sanne" not in note and "Vries" not in note


def test_a_form_of_another_session_is_refused(st, upcoming, fw):
    s = ScoringSession.open(st, "B01")
    with pytest.raises(InputError, match="belongs to"):
        s.save(CaseForm(fw, session="K01-2026-01", case="C01", rater="B01"))


def test_explicit_session_and_unknown_case(st):
    past = st.sessions()["session"].iloc[0]
    s = ScoringSession.open(st, "B01", past)
    assert s.revealed
    with pytest.raises(InputError, match="not part of session"):
        s.form("C99")


def test_a_non_member_is_refused(st, upcoming):
    st.add_raters(["B99"])
    with pytest.raises(InputError, match="not an assessor of any"):
        ScoringSession.open(st, "B99")
    with pytest.raises(AccessError):
        ScoringSession.open(st, "B99", upcoming)


# ------------------------------------------------------------------------ blind until reveal
def test_an_assessor_never_sees_another_assessors_judgements_before_reveal(st, upcoming, fill_all):
    other = ScoringSession.open(st, "B02")
    form = other.form("C01")
    fill_all(form, note="GEHEIM-B02: de student stond met de rug naar de klas.")
    other.save(form)

    me = ScoringSession.open(st, "B01")
    mine = me.form("C01")
    assert mine.values() == {} and all(mine.note(i.id) is None for i in mine.items if i.assessed)
    assert me.progress().complete == 0  # B02's complete case is not B01's
    assert me.view.my_scores(upcoming).empty
    with pytest.raises(AccessError, match="not been revealed"):
        me.view.scores(upcoming)

    st.reveal(upcoming)
    panel = me.view.scores(upcoming)
    assert set(panel["rater"]) == {"B02"}
    assert me.form("C01").values() == {}  # the form stays this assessor's own


def test_imported_historical_sessions_count_as_revealed(st):
    s = st.sessions()
    past = [x for x in s["session"] if not x.startswith("K05")]
    assert all(st.is_revealed(x) for x in past)
    panel = st.rater_view("B01").scores(past[0])
    assert panel["rater"].nunique() == 6
