"""Careless rosters (issue 14, items 6 and 9): empty, header-only, header-less, corrupt,
a folder, Windows-1252 — a clear InputError naming the file, never a traceback, never a
name in the message; and the roepnaam column."""

from __future__ import annotations

import pytest

from calibrate.errors import InputError
from calibrate.privacy import Pseudonymiser, load_roster

KEY = bytes(range(32))


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n\n  \n", "the file is empty"),
    ("header.csv", b"name,role\n", "the roster has no names"),
    ("noheader.csv", b"Sanne de Vries,student\nDaan Visser,student\n", "no 'name' column"),
    ("bad.xlsx", b"PK\x03\x04 not really a zip archive", "could not read this Excel file"),
    ("ragged.csv", b"name,role\nSanne de Vries,student,extra\n", "row 2"),
])
def test_careless_rosters_are_clear_input_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_roster(path)
    text = str(err.value)
    assert message in text and name in text
    for secret in ("Sanne", "Vries", "Daan", "Visser"):
        assert secret not in text


def test_a_folder_is_not_a_roster(tmp_path):
    with pytest.raises(InputError, match="folder"):
        load_roster(tmp_path)


def test_windows_1252_roster_is_read(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("naam;rol\nJosé Muñoz;student\n".encode("cp1252"))
    p = Pseudonymiser(load_roster(path), key=KEY)
    assert p.pseudonymise("José Muñoz kwam, Munoz ook.").text.count("[student-") == 2


def test_roepnaam_column(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name,role,roepnaam\nWilhelmina de Graaf,student,Willie; Mien\n", encoding="utf-8")
    p = Pseudonymiser(load_roster(path), key=KEY)
    token = p.pseudonymise("Wilhelmina").text
    assert p.pseudonymise("Willie").text == p.pseudonymise("Mien").text == token
    assert p.pseudonymise("Willie de Graaf").text == token


def test_spreadsheet_row_numbers_survive_blank_lines(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name\nSanne de Vries\n\nAnna Maria Johanna Wilhelmina van der Berg Jansen\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 4"):
        load_roster(path)
