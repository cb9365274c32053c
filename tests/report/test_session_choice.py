"""Which session the report covers: never silently an unrevealed or one-assessor one (issue 13.1)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.errors import InputError
from calibrate.report.session import choose_session, completeness, session_stats
from calibrate.scores import CodedScores
from calibrate.store import Store


@pytest.fixture(scope="module")
def one_judgement_newer(demo_workspace, tmp_path_factory):
    """The demo workspace after one assessor saved one item in the upcoming session."""
    ws = tmp_path_factory.mktemp("newer") / "ws"
    shutil.copytree(demo_workspace, ws)
    with Store.open(ws) as store:
        sessions = store.sessions()
        upcoming = sessions.loc[~sessions["revealed"], "session"].iloc[0]
        store.save_judgements(upcoming, store.session_cases(upcoming)[0], "B01", {"leerklimaat.klassenmanagement.1": "gezien"})
    return ws, upcoming


def test_default_report_stays_on_the_last_complete_revealed_session(one_judgement_newer, tmp_path):
    ws, upcoming = one_judgement_newer
    out = tmp_path / "r.json"
    assert main(["report", "--workspace", str(ws), "--out", str(out), "--quiet"]) == 0
    c = json.loads(out.read_text(encoding="utf-8"))
    s = c["session"]
    assert (s["id"], s["date"], s["revealed"], s["n_cases"], s["n_raters"], s["complete"]) == \
        ("K04-2026-07", "2026-07-06", True, 8, 6, True)
    assert s["completeness"]["text"] == "6 van 6 beoordelaars, 8 van 8 casussen compleet"
    newer = [w for w in c["warnings"] if upcoming in w]
    assert len(newer) == 1, c["warnings"]
    assert "niet in dit rapport opgenomen" in newer[0] and "nog niet vrijgegeven" in newer[0]
    assert "1 oordeel van 1 beoordelaar op 1 casus" in newer[0]
    assert len(c["agreement_by_kind"]) == 5 and c["agenda"], "the report covers a real session"


def test_html_says_which_session_and_shows_the_warning(one_judgement_newer, tmp_path):
    ws, upcoming = one_judgement_newer
    out = tmp_path / "r.html"
    assert main(["report", "--workspace", str(ws), "--out", str(out), "--quiet"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Beperkingen van dit rapport" in html and upcoming in html
    assert "6 juli 2026" in html and "6 van 6 beoordelaars, 8 van 8 casussen compleet" in html


def test_explicit_session_is_reported_with_its_limits(one_judgement_newer, tmp_path):
    ws, upcoming = one_judgement_newer
    out = tmp_path / "r.json"
    assert main(["report", "--workspace", str(ws), "--session", upcoming, "--out", str(out), "--quiet"]) == 0
    c = json.loads(out.read_text(encoding="utf-8"))
    assert c["session"]["id"] == upcoming and c["session"]["complete"] is False
    assert any("twee of meer beoordelaars" in w for w in c["warnings"])
    assert any("niet compleet" in w and "0 van 6 beoordelaars" in w for w in c["warnings"])
    assert main(["report", "--workspace", str(ws), "--session", "K99", "--out", str(out), "--quiet"]) == 2


def _scores(rows):
    return CodedScores.code(pd.DataFrame(rows, columns=["session", "session_date", "case", "rater", "item", "kind", "value"]))


def _sessions(rows):
    return pd.DataFrame(rows, columns=["session", "session_date", "framework", "title", "revealed", "round", "parent"])


def test_choice_rules_on_small_tables():
    i = "leerklimaat.klassenmanagement.1"
    scores = _scores([
        ("S1", "2026-01-01", "C1", "B1", i, "indicator", "gezien"),
        ("S1", "2026-01-01", "C1", "B2", i, "indicator", "niet gezien"),
        # S2 is revealed, but its two assessors judged different cases: no common case
        ("S2", "2026-02-01", "C2", "B1", i, "indicator", "gezien"),
        ("S2", "2026-02-01", "C3", "B2", i, "indicator", "gezien"),
        ("S3", "2026-03-01", "C4", "B1", i, "indicator", "gezien"),
        ("S3", "2026-03-01", "C4", "B2", i, "indicator", "gezien"),
    ])
    sessions = _sessions([
        ("S1", "2026-01-01", "f", None, True, 1, None),
        ("S2", "2026-02-01", "f", None, True, 1, None),
        ("S3", "2026-03-01", "f", None, False, 1, None),  # complete but not revealed
        ("S4", "2026-04-01", "f", None, False, 1, None),  # planned, no judgements
    ])
    stats = session_stats(scores).set_index("session")
    assert stats.loc["S2", "max_raters_on_a_case"] == 1 and stats.loc["S1", "max_raters_on_a_case"] == 2
    focus, warnings = choose_session(sessions, session_stats(scores))
    assert focus["session"] == "S1"
    assert len(warnings) == 2 and "S2" in warnings[0] and "S3" in warnings[1]
    assert "twee of meer beoordelaars" in warnings[0] and "nog niet vrijgegeven" in warnings[1]
    focus, warnings = choose_session(sessions, session_stats(scores), "S2")
    assert focus["session"] == "S2" and any("twee of meer" in w for w in warnings)
    with pytest.raises(InputError, match="S9"):
        choose_session(sessions, session_stats(scores), "S9")
    # nothing revealed with a common case: the latest with judgements, said so
    focus, warnings = choose_session(sessions.assign(revealed=False), session_stats(scores))
    assert focus["session"] == "S3" and "nog geen vrijgegeven sessie" in warnings[0]


def test_completeness_counts_assessors_and_cases():
    a, b = "leerklimaat.klassenmanagement.1", "leerklimaat.klassenmanagement.2"
    scores = _scores([
        ("S1", "2026-01-01", "C1", "B1", a, "indicator", "gezien"),
        ("S1", "2026-01-01", "C1", "B1", b, "indicator", "n.v.t."),  # n.v.t. counts as filled
        ("S1", "2026-01-01", "C1", "B2", a, "indicator", "gezien"),
        ("S1", "2026-01-01", "C2", "B1", a, "indicator", "gezien"),
        ("S1", "2026-01-01", "C2", "B1", b, "indicator", "gezien"),
    ])
    done = completeness(scores, cases=["C1", "C2"], raters=["B1", "B2"], assessable=[a, b])
    assert done["text"] == "1 van 2 beoordelaars, 0 van 2 casussen compleet"
    assert not done["complete"] and {"rater": "B2", "case": "C2"} in done["open"]
    done = completeness(scores.select(scores.frame["rater"].eq("B1").to_numpy()), cases=["C1", "C2"], raters=["B1"],
                        assessable=[a, b])
    assert done["complete"] and done["text"] == "1 van 1 beoordelaars, 2 van 2 casussen compleet"
