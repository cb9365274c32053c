"""The command line, as outside checks call it (CONTRACTS §4)."""

import os
import subprocess
import sys
import multiprocessing

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.store import Store

FRESH = {k: v for k, v in os.environ.items() if k not in {"CALIBRATE_DB", "CALIBRATE_WORKSPACE"}}


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "calibrate.cli", *map(str, args)], capture_output=True, text=True,
                          env={**FRESH, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo_workspace):
    out = tmp_path_factory.mktemp("exp") / "scores.csv"
    assert main(["export", "scores", "--workspace", str(demo_workspace), "--out", str(out)]) == 0
    return out


def test_export_reimports_identically(tmp_path, exported):
    ws = tmp_path / "empty"
    r = run("import", "scores", exported, "--workspace", ws)
    assert r.returncode == 0, r.stderr
    again = tmp_path / "again.csv"
    assert main(["export", "scores", "--workspace", str(ws), "--out", str(again)]) == 0
    assert again.read_bytes() == exported.read_bytes()
    # and a second import of the same file changes nothing
    r = run("import", "scores", exported, "--workspace", ws)
    assert r.returncode == 0 and " 0 saved" in r.stdout


def test_one_bad_row_exits_2_and_leaves_workspace_as_it_was(tmp_path, exported):
    ws = tmp_path / "ws"
    good = pd.read_csv(exported, dtype=str, keep_default_na=False).head(200)
    good.to_csv(tmp_path / "good.csv", index=False)
    assert run("import", "scores", tmp_path / "good.csv", "--workspace", ws).returncode == 0
    before = Store.open(ws)
    snapshot, counts = before.scores(), before.counts()
    before.close()
    bad = pd.read_csv(exported, dtype=str, keep_default_na=False).iloc[200:300].copy()
    bad.iloc[41, bad.columns.get_loc("value")] = "misschien"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    r = run("import", "scores", tmp_path / "bad.csv", "--workspace", ws)
    assert r.returncode == 2
    assert "bad.csv" in r.stderr and "row 43, column 'value'" in r.stderr
    after = Store.open(ws)
    assert after.counts() == counts
    pd.testing.assert_frame_equal(after.scores(), snapshot)
    after.close()


def test_missing_file_and_bad_kind_exit_2(tmp_path):
    assert run("import", "scores", tmp_path / "nope.csv", "--workspace", tmp_path / "ws").returncode == 2
    f = tmp_path / "s.csv"
    f.write_text("session,session_date,case,rater,item,kind,value\nK1,2026-01-01,C1,B1,x,rubric,3\n")
    r = run("import", "scores", f, "--workspace", tmp_path / "ws")
    assert r.returncode == 2 and "row 2, column 'kind'" in r.stderr


def _import_in_child(args):
    path, ws = args
    return main(["import", "scores", path, "--workspace", ws])


def test_twenty_concurrent_imports_lose_nothing(tmp_path, exported):
    ws = tmp_path / "ws"
    df = pd.read_csv(exported, dtype=str, keep_default_na=False)
    df = df[df["session"] == df["session"].iloc[0]]
    parts = [df.iloc[i::20] for i in range(20)]
    files = []
    for k, part in enumerate(parts):
        f = tmp_path / f"part{k:02d}.csv"
        part.to_csv(f, index=False)
        files.append(f)
    # 20 separate processes (forked, so they start fast), each with its own connection
    with multiprocessing.get_context("fork").Pool(20) as pool:
        codes = pool.map(_import_in_child, [(str(f), str(ws)) for f in files])
    assert codes == [0] * 20
    st = Store.open(ws)
    got = st.scores()
    st.close()
    assert len(got) == len(df)
    key = ["session", "case", "rater", "item"]
    merged = got.merge(df.astype("string"), on=key, suffixes=("", "_in"))
    assert len(merged) == len(df) and (merged["value"] == merged["value_in"]).all()


def test_cases_roundtrip_and_pseudonymised(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text("case;title;text\r\nC1;Les van Sanne;Sanne de Vries geeft les. Mail: sanne.devries@student.han.nl, tel 06-12345678.\r\n",
                     encoding="utf-8-sig")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,role\nSanne de Vries,student\n")
    ws = tmp_path / "ws"
    r = run("import", "cases", cases, "--workspace", ws, "--roster", roster)
    assert r.returncode == 0, r.stderr
    assert "Sanne" not in r.stdout
    out = tmp_path / "out.csv"
    assert main(["export", "cases", "--workspace", str(ws), "--out", str(out)]) == 0
    text = out.read_text()
    db = b"".join(p.read_bytes() for p in ws.glob("calibrate.sqlite*")).decode("latin-1")
    for secret in ("Sanne", "Vries", "sanne.devries", "12345678"):
        assert secret not in text
        assert secret not in db


def test_demo_command(tmp_path):
    r = run("demo", "--workspace", tmp_path / "demo")
    assert r.returncode == 0, r.stderr
    assert "Demo workspace ready" in r.stdout
    assert (tmp_path / "demo" / "rapport.html").exists()
    st = Store.open(tmp_path / "demo")
    sessions = st.sessions()
    assert len(sessions) >= 4 and sessions["session_date"].nunique() >= 4
    assert len(st.cases()) >= 6 and len(st.raters()) >= 6
    assert set(st.scores()["kind"]) == {"indicator", "level", "phase", "verdict", "decision"}
    st.close()


def test_cases_check_mode_imports_nothing_and_shows_no_originals(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text('case,title,text\nC1,Les,"Sanne de Vries belt 06-12345678 en Piet Jansen kijkt mee."\n')
    roster = tmp_path / "roster.csv"
    roster.write_text("name\nSanne de Vries\n")
    r = run("import", "cases", cases, "--roster", roster, "--check", "--workspace", tmp_path / "ws")
    assert r.returncode == 0, r.stderr
    assert "1 telefoonnummer" in r.stdout and "1 suspect(s) would remain" in r.stdout
    for secret in ("Sanne", "Piet", "Jansen", "12345678"):
        assert secret not in r.stdout + r.stderr
    assert not (tmp_path / "ws").exists()
