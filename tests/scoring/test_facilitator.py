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
