"""The facilitator's functions (calibrate.facilitator): status, reveal, consensus, re-score round."""

from __future__ import annotations

import pytest

from calibrate import facilitator as fac
from calibrate.errors import AccessError, InputError
from calibrate.scoring import ScoringSession


def test_status_counts_without_values(st, upcoming, fill_all):
    s = ScoringSession.open(st, "B01")
    form = s.form("C01")
    fill_all(form)
    s.save(form)
    half = s.form("C02")
    half.set_value("leerklimaat.klassenmanagement.1", "gezien")
    s.save(half)
    status = fac.session_status(st, upcoming).set_index("rater")
    assert list(status.columns) == list(fac.STATUS_COLUMNS)[1:]
    assert status.loc["B01", "complete"] == 1 and status.loc["B01", "total"] == 3
    assert status.loc["B01", "filled"] == 124 and status.loc["B01", "assessable"] == 369
    assert not status.loc["B01", "finished"] and status.loc["B01", "last_saved"]
    assert status.loc["B02", "filled"] == 0 and status.loc["B02", "last_saved"] is None
    assert "value" not in status.columns


def test_reveal_notice_and_reveal(st, upcoming):
    notice = fac.reveal_notice(st, upcoming)
    assert notice and "nog niet onthuld" in notice and upcoming in notice
    past = st.sessions()["session"].iloc[0]
    assert fac.reveal_notice(st, past) is None  # imported history counts as revealed
    status = fac.reveal(st, upcoming)
    assert len(status) == 6
    assert fac.reveal_notice(st, upcoming) is None


def test_panel_and_consensus_only_after_reveal(st, upcoming):
    other = ScoringSession.open(st, "B02")
    f = other.form("C01")
    f.set_value("leerklimaat.klassenmanagement.1", "niet gezien")
    other.save(f)
    with pytest.raises(AccessError, match="nog niet onthuld"):
        fac.panel_distribution(st, upcoming, "C01")
    with pytest.raises(AccessError, match="not been revealed"):
        fac.record_consensus(st, upcoming, "C01", {"leerklimaat.klassenmanagement.1": ("gezien", "x")})
    fac.reveal(st, upcoming)
    dist = fac.panel_distribution(st, upcoming, "C01")
    assert dist.to_dict("records") == [
        {"item": "leerklimaat.klassenmanagement.1", "kind": "indicator", "value": "niet gezien", "n": 1, "raters": "B02"}
    ]
    n = fac.record_consensus(st, upcoming, "C01", {
        "leerklimaat.klassenmanagement.1": ("gezien", "Regels stonden op het bord en werden benoemd."),
        "leerklimaat.klassenmanagement.2": (None, "nog niet besproken"),  # no value: skipped
        "besluit": "go",
    })
    assert n == 2
    cons = st.consensus(upcoming).set_index("item")
    assert cons.loc["leerklimaat.klassenmanagement.1", "value"] == "gezien"
    assert cons.loc["leerklimaat.klassenmanagement.1", "note"].startswith("Regels")
    with pytest.raises(InputError, match="not part of session"):
        fac.record_consensus(st, upcoming, "C09", {"besluit": "go"})


def test_create_session_checks_its_input(st):
    with pytest.raises(InputError, match="no cases"):
        fac.create_session(st, "K09", "2026-10-01", cases=[], raters=["B01", "B02"])
    with pytest.raises(InputError, match="at least two"):
        fac.create_session(st, "K09", "2026-10-01", cases=["C01"], raters=["B01"])
    sid = fac.create_session(st, "K09", "2026-10-01", cases=["C02", "C01"], raters=["B01", "B03"], title="Extra")
    assert sid == "K09" and not st.is_revealed("K09")
    assert st.session_cases("K09") == ["C02", "C01"] and st.session_raters("K09") == ["B01", "B03"]
    # the assessor's app now opens on the newest session
    assert ScoringSession.open(st, "B01").session == "K09"


def test_open_rescore_round(st, upcoming):
    new = fac.open_rescore_round(st, upcoming, session_date="2026-09-14")
    assert new == f"{upcoming}-R2"
    row = st.sessions().set_index("session").loc[new]
    assert row["parent"] == upcoming and row["round"] == 2 and not row["revealed"]
    assert st.session_cases(new) == st.session_cases(upcoming)
    assert st.session_raters(new) == st.session_raters(upcoming)
    assert fac.suggest_session_id(st, new) == f"{upcoming}-R3"


def test_unknown_session(st):
    with pytest.raises(InputError, match="does not exist"):
        fac.session_status(st, "K77")


# ----------------------------------------------------------------------------- discussion over the store
IND = "leerklimaat.klassenmanagement.1"


def _score_c01(st, upcoming, fill_all):
    """Every assessor scores C01 (first choices); B02 says 'niet gezien' on IND, with a note."""
    for rater in st.session_raters(upcoming):
        s = ScoringSession.open(st, rater, upcoming)
        form = s.form("C01")
        fill_all(form)
        if rater == "B02":
            form.set_value(IND, "niet gezien")
            form.set_note(IND, "Twee leerlingen praatten door de instructie heen.")
        s.save(form)


def test_discussion_only_after_the_reveal(st, upcoming, fill_all):
    _score_c01(st, upcoming, fill_all)
    with pytest.raises(AccessError, match="nog niet onthuld"):
        fac.case_discussion(st, upcoming, "C01")
    before = fac.session_open_points(st, upcoming)
    assert not before.revealed and before.cases == () and len(before.unfinished) == 6  # counts only
    fac.reveal(st, upcoming)
    d = fac.case_discussion(st, upcoming, "C01")
    assert d.by_spread()[0].item == IND and d.n_disputed == 1 and d.title == "Startopdracht in 2 havo"
    assert [n.text for n in d.item(IND).notes] == ["Twee leerlingen praatten door de instructie heen."]
    with pytest.raises(InputError, match="not part of session"):
        fac.case_discussion(st, upcoming, "C09")


def test_open_points_and_adopting_the_unanimous_judgements(st, upcoming, fill_all):
    _score_c01(st, upcoming, fill_all)
    fac.reveal(st, upcoming)
    op = fac.session_open_points(st, upcoming)
    c01 = op.cases[0]
    assert [r.item for r in c01.disputed] == [IND] and len(c01.unanimous) == 122 and c01.n_consensus == 0
    assert len(op.cases[1].unjudged) == 123  # C02: nobody scored it
    plan = fac.adopt_plan(st, upcoming, "C01")
    assert plan.ok and "122 onderdelen" in plan.lines[0] and "1 onderdeel met verschil" in plan.lines[1]
    before = st.counts()["consensus"]
    assert fac.carry_out(st, plan) == 122
    assert st.counts()["consensus"] == before + 122
    cons = st.consensus(upcoming).set_index("item")
    assert IND not in cons.index  # the disputed item stays open for the discussion
    assert cons.loc["leerklimaat.klassenmanagement.2", "note"].startswith("Eensgezind in de blinde ronde: alle 6")
    assert not fac.adopt_plan(st, upcoming, "C01").ok  # nothing left to adopt
    assert fac.adopt_unanimous(st, upcoming, "C01") == 0
    op = fac.session_open_points(st, upcoming)
    assert op.cases[0].n_open == 1 and op.cases[0].unanimous == ()


def test_plans_say_what_happens_and_change_nothing(st, upcoming):
    before = st.counts()
    p = fac.session_plan(st, "K09-2026-11", "2-11-2026", cases=["C03", "C01"], raters=["B01", "B04"], title=" Extra ")
    assert p.ok and p.action == "create" and p.title == "Sessie K09-2026-11 aanmaken?"
    assert "Datum: 2 november 2026." in p.lines and "2 casussen: C03 \u2014 Uitleg breuken in 1 vwo; C01 \u2014 Startopdracht in 2 havo." in p.lines
    bad = fac.session_plan(st, upcoming, "31-2-2026", cases=[], raters=["B01"])
    assert not bad.ok and len(bad.problems) == 4
    assert any("al een sessie" in x for x in bad.problems) and any("niet herkend" in x for x in bad.problems)
    assert any("minstens één casus" in x for x in bad.problems) and any("minstens twee" in x for x in bad.problems)
    with pytest.raises(InputError, match="cannot be carried out"):
        fac.carry_out(st, bad)
    r = fac.reveal_plan(st, upcoming)
    assert r.ok and any("sluit de blinde ronde" in x for x in r.lines) and any("Nog niet klaar: B01" in x for x in r.lines)
    rs = fac.rescore_plan(st, upcoming)
    assert not rs.ok and "nog blind" in rs.problems[0]
    assert st.counts() == before and not st.is_revealed(upcoming) and "K09-2026-11" not in set(st.sessions()["session"])
    assert fac.carry_out(st, p) == "K09-2026-11"
    assert st.sessions().set_index("session").loc["K09-2026-11", "title"] == "Extra"
    assert fac.carry_out(st, r) is not None and st.is_revealed(upcoming)
    assert not fac.reveal_plan(st, upcoming).ok


def test_rescore_plan_names_its_cases_and_assessors(st, upcoming):
    fac.reveal(st, upcoming)
    p = fac.rescore_plan(st, upcoming, cases=["C01", "C03"], raters=["B01", "B02", "B05"], session_date="14-9-2026")
    assert p.ok and p.title == f"Herbeoordelingsronde {upcoming}-R2 openen?"
    assert p.lines[1] == "2 casussen: C01 \u2014 Startopdracht in 2 havo; C03 \u2014 Uitleg breuken in 1 vwo."
    assert p.lines[2] == "3 beoordelaars: B01, B02, B05." and "14 september 2026" in p.lines[0]
    assert not fac.rescore_plan(st, upcoming, cases=["C09"]).ok
    assert not fac.rescore_plan(st, upcoming, raters=["B01"]).ok
    new = fac.carry_out(st, p)
    assert new == f"{upcoming}-R2" and st.session_cases(new) == ["C01", "C03"] and st.session_raters(new) == ["B01", "B02", "B05"]
    assert str(st.sessions().set_index("session").loc[new, "session_date"])[:10] == "2026-09-14"


def test_rater_names_are_read_locally_and_checked(tmp_path):
    f = tmp_path / "namen.csv"
    f.write_text("rater;name\nB01;Jeroen Bakker\nB02;\n", encoding="utf-8-sig")
    assert fac.load_rater_names(f) == {"B01": "Jeroen Bakker"}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,naam\nB01,Jeroen\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv: column\(s\) rater, name missing"):
        fac.load_rater_names(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("rater,name\n,Jeroen\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'rater'"):
        fac.load_rater_names(empty)
