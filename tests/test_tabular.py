"""Reading what users hand us: Dutch Excel CSV (semicolons, BOM, CRLF), .xlsx, and garbage."""

import csv
import io

import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.tabular import read_table, write_csv

ROWS = [
    ["session", "session_date", "case", "rater", "item", "kind", "value", "note"],
    ["K1", "2026-01-19", "C01", "B01", "x.1", "indicator", "gezien", "Zag een startopdracht; goed"],
    ["K1", "2026-01-19", "C01", "B02", "x.1", "indicator", "niet gezien", ""],
]


def test_dutch_excel_csv_semicolons_bom_crlf(tmp_path):
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(ROWS)  # as Excel (nl) saves it
    text = buf.getvalue()
    path = tmp_path / "scores.csv"
    path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    df = read_table(path)
    assert list(df.columns) == ROWS[0]
    assert df.loc[df.index[0], "note"] == "Zag een startopdracht; goed"
    assert pd.isna(df.loc[df.index[1], "note"])


def test_cp1252_is_accepted(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes("case;title\r\nC01;Creëren van positief leerklimaat\r\n".encode("cp1252"))
    assert read_table(path).iloc[0]["title"] == "Creëren van positief leerklimaat"


def test_xlsx(tmp_path):
    path = tmp_path / "scores.xlsx"
    pd.DataFrame(ROWS[1:], columns=ROWS[0]).to_excel(path, index=False)
    df = read_table(path)
    assert list(df.columns) == ROWS[0]
    assert df.iloc[1]["value"] == "niet gezien"


def test_ragged_row_names_the_row(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("a,b,c\n1,2,3\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"scores.csv, row 3.*2 cells but the header has 3"):
        read_table(path)


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"\x00\x01\x02binary\xff\xfe", "binary"), (b"PK\x03\x04garbage", "Excel")])
def test_empty_binary_and_broken_xlsx(tmp_path, content, match):
    path = tmp_path / "scores.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        read_table(path)


def test_write_csv_is_utf8_comma_lf(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(pd.DataFrame({"a": ["é"], "b": ["x,y"]}), path)
    assert path.read_bytes() == 'a,b\né,"x,y"\n'.encode("utf-8")
