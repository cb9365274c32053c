"""``calibrate gstudy``: variance components and the D-study table as CSV / JSON, the same
numbers as the library, and exit status 2 with a message on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.gtheory import g_study, select_scores
from calibrate.gtheory.dstudy import d_study
from calibrate.store import Store


def _run(*args) -> int:
    return main(["gstudy", *map(str, args)])


@pytest.fixture(scope="module")
def scores(demo_workspace):
    with Store.open(demo_workspace, create=False) as store:
        return store.scores()


def test_csv_has_components_and_d_study_equal_to_the_library(demo_workspace, scores, tmp_path, capsys):
    out = tmp_path / "g.csv"
    assert _run("--workspace", demo_workspace, "--scope", "besluit", "--scope", "ict", "--out", out) == 0
    assert "2 scope(s)" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert set(table["scope"]) == {"besluit", "ict"} and set(table["table"]) == {"variance", "d_study"}
    g = g_study(select_scores(scores, kind="decision"), "c x r")
    comp = table[(table["scope"] == "besluit") & (table["table"] == "variance")].set_index("effect")
    for c in g.components:
        assert comp.loc[c.label, "variance"] == pytest.approx(c.variance, rel=1e-9)
    ds = table[(table["scope"] == "besluit") & (table["table"] == "d_study")].set_index("n_r")
    ref = d_study(g, raters=[1, 2, 3, 4, 6]).set_index("n_r")
    pd.testing.assert_series_equal(ds["Phi"], ref["Phi"], check_names=False, rtol=1e-9)
    gi = g_study(select_scores(scores, kind="indicator", outcome="ict"), "c x r x i", method="henderson1")
    di = table[(table["scope"] == "ict") & (table["table"] == "d_study")]
    assert di["Phi"].to_numpy() == pytest.approx(d_study(gi, raters=[1, 2, 3, 4, 6], fixed=["i"])["Phi"].to_numpy())


def test_json_with_bootstrap_interval_and_raters_needed(demo_workspace, tmp_path):
    out = tmp_path / "g.json"
    assert _run("--workspace", demo_workspace, "--scope", "besluit", "--raters", "2,6,12", "--boot", "200",
                "--out", out) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    (s,) = doc["scopes"]
    assert s["scope"] == "besluit" and s["design"] == "c x r"
    assert [row["n_r"] for row in s["d_study"]] == [2, 6, 12]
    assert all(row["Phi_low"] <= row["Phi"] <= row["Phi_high"] for row in s["d_study"])
    need = s["raters_needed"]["phi_80"]
    phi12 = s["d_study"][2]["Phi"]
    assert (need["n"] <= 12) == (phi12 >= 0.80)
    assert need["ci"][0] <= need["n"] <= need["ci"][1]


def test_summary_without_out(demo_workspace, capsys):
    assert _run("--workspace", demo_workspace, "--scope", "besluit") == 0
    assert "Phi >= 0.80 needs" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--scope", "nergens"], "nergens"),
    (["--raters", "2,zes"], "--raters"),
    (["--raters", "0"], "--raters"),
    (["--out", "g.txt"], ".csv or .json"),
    (["--session", "K99"], "K99"),
    (["--boot", "-1"], "--boot"),
])
def test_bad_input_exits_2_with_a_message(demo_workspace, tmp_path, capsys, args, message):
    if "--out" in args:
        args = ["--out", tmp_path / args[1]]
    assert _run("--workspace", demo_workspace, *args) == 2
    err = capsys.readouterr().err
    assert "calibrate: error:" in err and message in err and "Traceback" not in err


def test_missing_workspace_exits_2(tmp_path, capsys):
    assert _run("--workspace", tmp_path / "niets") == 2
    assert "calibrate: error:" in capsys.readouterr().err
