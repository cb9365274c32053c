"""Files as careless users hand them over (issue 14 points 8 and 9): UTF-16 with and
without a byte-order mark, an .xlsx with several sheets (refused, or read with an explicit
choice), a zip bomb refused from the archive's directory alone, a damaged archive, an
input folder."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from calibrate.errors import InputError
from calibrate.tabular import read_table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import HEADER, row, zip_bomb  # noqa: E402


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_read(tmp_path, encoding):
    path = tmp_path / "s.txt"
    path.write_bytes(f"{HEADER}\n{row(note='Één opmerking')}\n".replace(",", "\t").encode(encoding))
    df = read_table(path)
    assert list(df.columns) == HEADER.split(",")
    assert df.iloc[0]["note"] == "Één opmerking"


def _book(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for r in rows:
            ws.append(r)
    book.save(path)
    return path


def test_data_on_two_sheets_needs_a_choice(tmp_path):
    path = _book(tmp_path / "b.xlsx", {"Blad1": [["a"], ["1"]], "Sanne de Vries": [["b"], ["2"]], "Blad3": []})
    with pytest.raises(InputError, match=r"b.xlsx: the workbook has data on 2 sheets \(sheets 1, 2\)") as err:
        read_table(path)
    assert "Sanne" not in str(err.value)
    assert read_table(path, sheet=2).iloc[0]["b"] == "2"
    assert read_table(path, sheet="Blad1").iloc[0]["a"] == "1"
    with pytest.raises(InputError, match="no sheet"):
        read_table(path, sheet=7)


def test_empty_extra_sheets_are_no_problem(tmp_path):
    path = _book(tmp_path / "b.xlsx", {"Blad1": [["a"], ["1"]], "Blad2": [], "Blad3": []})
    assert read_table(path).iloc[0]["a"] == "1"


def test_zip_bomb_is_refused_from_the_archive_directory(tmp_path, monkeypatch):
    path = zip_bomb(tmp_path / "bomb.xlsx", unpacked_mb=40)
    assert path.stat().st_size < 1 << 20
    import openpyxl as opx

    def never(*a, **k):  # the sheet is never parsed
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(opx, "load_workbook", never)
    with pytest.raises(InputError, match=r"bomb.xlsx: this Excel file unpacks to 40 MB .* refused it unread"):
        read_table(path)


def test_a_damaged_archive_is_an_input_error(tmp_path):
    good = _book(tmp_path / "g.xlsx", {"Blad1": [["a"], ["1"]]})
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5: start + 25] = b"\x00" * 20  # the sheet's compressed bytes
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="bad.xlsx: could not read this Excel file"):
        read_table(bad)


def test_a_folder_is_not_an_input_file(tmp_path):
    with pytest.raises(InputError, match="this is a folder"):
        read_table(tmp_path)
