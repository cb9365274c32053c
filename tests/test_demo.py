"""`calibrate demo` never wipes saved scores: an earlier demo workspace is kept unless --force."""

from __future__ import annotations

import shutil

from calibrate.cli import main
from calibrate.scoring import ScoringSession
from calibrate.store import Store

IND = "leerklimaat.klassenmanagement.1"


def test_rerunning_demo_keeps_saved_scores_and_force_rebuilds(demo_workspace, tmp_path, capsys):
    ws = tmp_path / "demo"
    shutil.copytree(demo_workspace, ws)
    with Store.open(ws) as st:
        s = ScoringSession.open(st, "B01")
        form = s.form("C01")
        form.set_value(IND, "gezien")
        form.set_note(IND, "Begroette iedere leerling bij de deur.")
        assert s.save(form).appended == 1
        before = st.counts()["judgements"]

    assert main(["demo", "--workspace", str(ws), "--no-report"]) == 0   # the README's one-liner, run again
    out = capsys.readouterr().out
    assert "Demo workspace kept" in out and "1 judgement saved since it was built" in out and "--force" in out
    with Store.open(ws) as st:
        assert st.counts()["judgements"] == before
        assert st.rater_view("B01").my_scores(s.session, "C01").set_index("item").loc[IND, "value"] == "gezien"

    assert main(["demo", "--workspace", str(ws), "--no-report", "--force"]) == 0
    assert "Demo workspace ready" in capsys.readouterr().out
    with Store.open(ws) as st:
        assert st.counts()["judgements"] == before - 1
        assert st.rater_view("B01").my_scores(s.session, "C01").empty
    assert main(["demo", "--workspace", str(ws), "--no-report"]) == 0
    assert "Nothing was saved in it since it was built" in capsys.readouterr().out


def test_demo_never_touches_a_folder_that_is_not_a_demo(tmp_path, capsys):
    ws = tmp_path / "werk"
    ws.mkdir()
    (ws / "eigen-scores.csv").write_text("session,case\n")
    assert main(["demo", "--workspace", str(ws), "--force"]) == 2
    assert "not an earlier demo workspace" in capsys.readouterr().err
    assert (ws / "eigen-scores.csv").exists()
