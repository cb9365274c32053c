"""Personal data planted in every text field never reaches the database file, an export,
a report, a message or a log (issue 7).

Fields: case title and text (import cases with a roster), rater names (import scores
with --rater-names), evidence notes (import and app save), consensus reasons (import and
facilitator save).
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.frameworks import load_framework
from calibrate.store import Store

STUDENT = ("Sanne", "Vries", "sanne.devries", "12345678", "1012345", "6525")
ASSESSORS = ("Jeroen", "Bakker", "Fatima", "Amrani")  # allowed only as the store's rater-name mapping
SECRETS = STUDENT + ASSESSORS
PLANTED = ("Sanne de Vries (studentnummer 1012345, sanne.devries@student.han.nl, 06-12345678, "
           "6525 AB Nijmegen) werd begeleid door Jeroen Bakker; Fatima El Amrani keek mee.")

FW = load_framework("han-wpl2-2025")
ITEMS = [i.id for i in FW.items() if i.kind == "indicator" and i.assessed][:4]


def _scores_csv(path):
    rows = []
    for case in ("C1", "C2", "C3"):
        for rater in ("Jeroen Bakker", "Fatima El Amrani", "B03"):
            for k, item in enumerate(ITEMS):
                rows.append({"session": "K1", "session_date": "2026-03-02", "case": case, "rater": rater, "item": item,
                             "kind": "indicator", "value": "gezien" if (k + len(rater)) % 2 else "niet gezien",
                             "note": f"Sanne deed het goed. {PLANTED}" if k == 0 else ""})
    pd.DataFrame(rows).to_csv(path, index=False)


@pytest.fixture
def planted_workspace(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    caplog.set_level(logging.DEBUG, logger="calibrate")
    ws = tmp_path / "ws"
    (tmp_path / "roster.csv").write_text(
        "name,role\nSanne de Vries,student\nJeroen Bakker,werkplekbegeleider\nFatima El Amrani,werkplekbegeleider\n",
        encoding="utf-8")
    (tmp_path / "cases.csv").write_text(
        "case;title;text\r\n"
        f"C1;Les van Sanne de Vries;\"{PLANTED}\"\r\n"
        f"C2;Groepswerk;\"Jeroen zag dat Sanne de klas stil kreeg. Bel 0612345678.\"\r\n"
        f"C3;Nagesprek;\"Mail Fatima via sanne.devries@student.han.nl of +31 6 12345678.\"\r\n",
        encoding="utf-8-sig")
    _scores_csv(tmp_path / "scores.csv")
    cons = pd.read_csv(tmp_path / "scores.csv", dtype=str, keep_default_na=False)
    cons = cons[cons["rater"] == "B03"].drop(columns=["rater"])
    cons.to_csv(tmp_path / "consensus.csv", index=False)

    w = ["--workspace", str(ws)]
    assert main(["import", "cases", str(tmp_path / "cases.csv"), "--roster", str(tmp_path / "roster.csv"), *w]) == 0
    assert main(["import", "scores", str(tmp_path / "scores.csv"), "--rater-names", *w]) == 0
    assert main(["import", "consensus", str(tmp_path / "consensus.csv"), *w]) == 0
    with Store.open(ws) as store:
        store.create_session("K2", "2026-05-04", cases=["C1", "C2"], raters=["B03", "B04"])
        store.rater_view("B03").save("K2", "C1", {ITEMS[0]: ("gezien", f"Gezien bij {PLANTED}")})
        store.reveal("K2")
        store.save_consensus("K2", "C1", {ITEMS[0]: ("gezien", "Sanne de Vries liet dit zien, zegt Jeroen Bakker.")})
    outputs = {}
    for what in ("scores", "cases", "consensus"):
        out = tmp_path / f"export-{what}.csv"
        assert main(["export", what, "--out", str(out), *w]) == 0
        outputs[out.name] = out.read_text(encoding="utf-8")
    for suffix in ("html", "json"):
        out = tmp_path / f"rapport.{suffix}"
        assert main(["report", "--out", str(out), "--quiet", *w]) == 0
        outputs[out.name] = out.read_text(encoding="utf-8")
    captured = capsys.readouterr()
    outputs["stdout"] = captured.out
    outputs["stderr"] = captured.err
    outputs["log"] = "\n".join(r.getMessage() for r in caplog.records)
    raw = b"".join(p.read_bytes() for p in sorted(ws.glob("calibrate.sqlite*"))).decode("latin-1")
    outputs["database file"] = raw
    outputs["database without the rater-name mapping"] = _dump_without_mapping(ws)
    return outputs


def _dump_without_mapping(ws) -> str:
    """Every cell of every table, except raters.display_name (the pseudonym → name mapping
    that issue 7 keeps in the store for sessions that opt in to names)."""
    import sqlalchemy as sa

    with Store.open(ws) as store, store.engine.connect() as conn:
        parts = []
        for table in sa.inspect(conn).get_table_names():
            rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).mappings().all()
            for row in rows:
                parts.extend(str(v) for k, v in row.items() if not (table == "raters" and k == "display_name"))
    return "\n".join(parts)


def test_no_planted_personal_data_anywhere(planted_workspace):
    for where, text in planted_workspace.items():
        secrets = STUDENT if where == "database file" else SECRETS
        for secret in secrets:
            assert secret not in text, f"{secret[:2]}… found in {where}"


def test_pseudonyms_are_there_instead(planted_workspace):
    db = planted_workspace["database file"]
    assert "[student-" in db and "[e-mail-" in db and "[telefoon-" in db and "[studentnummer-" in db
    scores = planted_workspace["export-scores.csv"]
    assert "beoordelaar-" in scores  # rater names became keyed pseudonyms
    report = json.loads(planted_workspace["rapport.json"])
    assert {r["rater"] for r in report["rater_effects"]} <= {r for r in report_raters(scores)}


def report_raters(scores_csv: str) -> set[str]:
    from io import StringIO

    return set(pd.read_csv(StringIO(scores_csv), dtype=str)["rater"])
