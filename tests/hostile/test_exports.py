"""Safe exports (issue 14 item 4): cells that would start a spreadsheet formula are
neutralised in CSV and .xlsx exports, our import restores them, and export -> import ->
export is byte-identical, also for notes with a lone CR, CRLF, quotes and separators."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate.cli import main
from calibrate.store import Store
from calibrate.tabular import read_table, write_csv

ITEM = "leerklimaat.klassenmanagement.1"
NASTY = ["=HYPERLINK(\"http://x.example\",\"klik\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTab vooraan",
         "'s ochtends", "''dubbel", " =spatie eerst", "regel 1\rregel 2", "regel 1\r\nregel 2", "regel 1\nregel 2",
         "\r", "a;b,c\"d\"", "＝fullwidth", "gewoon"]


def _scores(notes):
    return pd.DataFrame({
        "session": "K1", "session_date": "2026-01-19", "case": [f"C{i:02d}" for i in range(len(notes))],
        "rater": "B01", "item": ITEM, "kind": "indicator", "value": "gezien", "note": notes,
        "scored_at": "2026-01-19T10:00:00",
    })


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    assert rc == 0, err.getvalue()


def _notes(st) -> list:
    return sorted(st.scores()["note"].fillna("<NA>").tolist())


def _round_trip(notes, folder: Path, suffix=".csv") -> tuple[bytes, bytes, list, list]:
    with Store.open(folder / "a") as st:
        st.import_scores(_scores(notes))
        stored = _notes(st)
    first = folder / f"first{suffix}"
    _cli("export", "scores", "--workspace", str(folder / "a"), "--out", str(first))
    _cli("import", "scores", str(first), "--workspace", str(folder / "b"))
    second = folder / f"second{suffix}"
    _cli("export", "scores", "--workspace", str(folder / "b"), "--out", str(second))
    with Store.open(folder / "b") as st:
        back = _notes(st)
    return first.read_bytes(), second.read_bytes(), stored, back


def test_formulas_are_neutralised_and_the_round_trip_is_byte_identical(tmp_path):
    first, second, stored, back = _round_trip(NASTY, tmp_path)
    assert first == second
    assert back == stored  # every note read back as it was stored
    assert "=HYPERLINK(\"http://x.example\",\"klik\")" in back and "regel 1\rregel 2" in back
    assert "regel 1\r\nregel 2" in back and "'s ochtends" in back
    cells = read_table_raw(tmp_path / "first.csv")
    for cell in cells:
        assert cell[:1] not in set("=+-@\t\r\uff1d") and not cell.lstrip()[:1] in set("=+-@"), repr(cell)


def read_table_raw(path: Path) -> list[str]:
    """The note cells as a spreadsheet would see them (no restoring)."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("note")
    return [r[col] for r in rows[1:]]


def test_xlsx_export_has_no_formula_cells_and_reads_back(tmp_path):
    first, second, stored, back = _round_trip(NASTY, tmp_path, suffix=".xlsx")
    book = openpyxl.load_workbook(tmp_path / "first.xlsx")
    cells = [c for row in book.active.iter_rows() for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    assert all(not str(c.value or "").startswith(("=", "+", "@")) for c in cells)
    assert back == stored


def test_write_csv_quotes_a_lone_cr(tmp_path):
    path = tmp_path / "o.csv"
    write_csv(pd.DataFrame({"a": ["x\ry", "p"]}), path)
    assert read_table(path)["a"].tolist() == ["x\ry", "p"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n ;,\"ab1é")), min_size=1, max_size=8)
                .filter(lambda s: s.strip()), min_size=1, max_size=5))
def test_round_trip_of_any_note_is_byte_identical(notes):
    with tempfile.TemporaryDirectory() as tmp:
        first, second, stored, back = _round_trip(notes, Path(tmp))
    assert first == second
    assert back == stored


@pytest.mark.postgres
def test_round_trip_on_postgresql(pg_url, tmp_path):
    with Store.open(db_url=pg_url) as st:
        st.import_scores(_scores(NASTY))
    first = tmp_path / "first.csv"
    _cli("export", "scores", "--db", pg_url, "--out", str(first))
    _cli("import", "scores", str(first), "--workspace", str(tmp_path / "b"))
    second = tmp_path / "second.csv"
    _cli("export", "scores", "--workspace", str(tmp_path / "b"), "--out", str(second))
    assert first.read_bytes() == second.read_bytes()
