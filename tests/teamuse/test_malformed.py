"""Malformed score files through the real command line: exit 2, a message naming the file
and the row/column, the store untouched. What a Dutch Excel writes is accepted."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate.cli import main
from calibrate.store import Store

HEADER = ["session", "session_date", "case", "rater", "item", "kind", "value", "note", "scored_at"]
ITEMS = [  # (item, kind, allowed values) from han-wpl2-2025
    ("leerklimaat.klassenmanagement.1", "indicator", ["gezien", "niet gezien", "n.v.t."]),
    ("leerklimaat.klassenmanagement.2", "indicator", ["gezien", "niet gezien"]),
    ("leerklimaat.niveau", "level", ["1", "2", "3", "4", "5", "6"]),
    ("leerklimaat.oordeel", "verdict", ["niet voldaan", "voldaan"]),
    ("besluit", "decision", ["no go", "go"]),
]
OUT_OF_SCALE = {"indicator": ["Gezien", "ja", "1"], "level": ["0", "7", "4.5", "vier"], "verdict": ["voldoende"], "decision": ["GO", "nogo"]}
BAD_DATES = ["19-01-2026", "2026-13-01", "2026-02-30", "gisteren", "2026/1/19x"]
MUTATIONS = ["missing_column", "extra_column", "unknown_kind", "out_of_scale", "bad_date", "bad_timestamp",
             "conflicting_duplicate", "empty", "header_only", "binary", "ragged", "empty_cell"]


# ----------------------------------------------------------------- building files
@st.composite
def valid_rows(draw):
    n = draw(st.integers(1, 6))
    rows = []
    seen = set()
    for _ in range(n):
        item, kind, values = draw(st.sampled_from(ITEMS))
        rater = draw(st.sampled_from(["B01", "B02", "B03"]))
        case = draw(st.sampled_from(["C01", "C02"]))
        if (case, rater, item) in seen:
            continue
        seen.add((case, rater, item))
        note = draw(st.sampled_from(["", "Zag een startopdracht; goed", 'Citaat: "rustig"', "Één opmerking, met komma"]))
        rows.append(["K-HYP", "2026-01-19", case, rater, item, kind, draw(st.sampled_from(values)), note, "2026-01-19T10:00:00"])
    return rows


@st.composite
def malformed(draw):
    """(mutation, header, rows or raw bytes)."""
    rows = draw(valid_rows())
    header = list(HEADER)
    kind = draw(st.sampled_from(MUTATIONS))
    i = draw(st.integers(0, len(rows) - 1))
    if kind == "missing_column":
        col = draw(st.sampled_from(["session", "session_date", "case", "rater", "item", "kind", "value"]))
        j = header.index(col)
        header.pop(j)
        rows = [r[:j] + r[j + 1:] for r in rows]
    elif kind == "extra_column":
        header.append(draw(st.sampled_from(["student", "opmerking", "Value", "session "])) + "x")
        rows = [r + ["?"] for r in rows]
    elif kind == "unknown_kind":
        rows[i][5] = draw(st.sampled_from(["indicatoren", "score", "Level", "x"]))
    elif kind == "out_of_scale":
        rows[i][6] = draw(st.sampled_from(OUT_OF_SCALE[rows[i][5]]))
    elif kind == "bad_date":
        for r in rows:
            r[1] = draw(st.sampled_from(BAD_DATES))
    elif kind == "bad_timestamp":
        rows[i][8] = draw(st.sampled_from(["morgen 10 uur", "2026-01-19T25:00", "19/01/2026 10:00:00x"]))
    elif kind == "conflicting_duplicate":
        item, k, values = next(x for x in ITEMS if x[0] == rows[i][4])
        other = [v for v in values if v != rows[i][6]][0]
        rows.append(rows[i][:6] + [other] + rows[i][7:])
    elif kind == "empty":
        return kind, None, draw(st.sampled_from([b"", b"\n\n", b"\r\n", b"   \n"]))
    elif kind == "header_only":
        rows = []
    elif kind == "binary":
        raw = draw(st.binary(min_size=1, max_size=300))
        return kind, None, draw(st.sampled_from([b"\x00\x01\x02", b"\x89PNG\r\n\x1a\n\x00", b"PK\x03\x04garbage"])) + raw
    elif kind == "ragged":
        rows[i] = rows[i] + ["extra"] if draw(st.booleans()) else rows[i][:-2]
    elif kind == "empty_cell":
        rows[i][draw(st.sampled_from([0, 2, 3, 4, 5, 6]))] = ""
    return kind, header, rows


def encode(header, rows, *, delimiter=",", bom=False, crlf=False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows([header] + rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


dialects = st.fixed_dictionaries({"delimiter": st.sampled_from([",", ";"]), "bom": st.booleans(), "crlf": st.booleans()})


def run_cli(*argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(list(map(str, argv)))
    return rc, err.getvalue()


def snapshot(db_args) -> tuple:
    url = db_args[1] if db_args[0] == "--db" else None
    with Store.open(db_args[1] if url is None else None, db_url=url, create=False) as s:
        return s.counts(), s.scores(history=True).to_csv()


# ---------------------------------------------------------------------- fixtures
SEED = [
    ["K-SEED", "2026-01-12", "C01", "B01", "besluit", "decision", "go", "", ""],
    ["K-SEED", "2026-01-12", "C01", "B02", "besluit", "decision", "no go", "twijfel", ""],
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A workspace holding a few judgements already; every bad file must leave it as it is."""
    d = tmp_path_factory.mktemp("malformed")
    ws = d / "ws"
    f = d / "seed.csv"
    f.write_bytes(encode(HEADER, SEED))
    assert run_cli("import", "scores", f, "--workspace", ws)[0] == 0
    return ("--workspace", ws)


def _assert_rejected(kind, name, rc, err):
    assert rc == 2, f"{kind}: exit {rc}, stderr {err!r}"
    assert err.startswith("calibrate: error: "), err
    assert "Traceback" not in err
    assert name in err, f"{kind}: the message does not name the file: {err!r}"
    if kind not in {"empty", "binary", "header_only"}:
        assert re.search(r"\brows? \d+", err), f"{kind}: the message names no row: {err!r}"
    if kind in {"missing_column", "extra_column"}:
        assert "row 1" in err and "column" in err
    if kind in {"unknown_kind", "out_of_scale", "bad_date", "bad_timestamp", "empty_cell"}:
        assert re.search(r"row \d+, column '\w+'", err), err


# ------------------------------------------------------------------------- tests
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=malformed(), dialect=dialects, xlsx=st.booleans())
def test_malformed_score_files_exit_2_and_change_nothing(seeded, case, dialect, xlsx):
    kind, header, rows = case
    before = snapshot(seeded)
    with tempfile.TemporaryDirectory() as d:
        if header is None:
            path = Path(d) / "scores.csv"
            path.write_bytes(rows)
        elif xlsx and kind not in {"ragged"}:
            path = Path(d) / "scores.xlsx"
            pd.DataFrame(rows, columns=header, dtype="string").to_excel(path, index=False)
        else:
            path = Path(d) / "scores.csv"
            path.write_bytes(encode(header, rows, **dialect))
        rc, err = run_cli("import", "scores", path, *seeded)
    _assert_rejected(kind, path.name, rc, err)
    assert snapshot(seeded) == before


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_arbitrary_bytes_never_crash_and_change_nothing(seeded, raw):
    before = snapshot(seeded)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rommel.csv"
        path.write_bytes(raw)
        rc, err = run_cli("import", "scores", path, *seeded)
    assert rc == 2 and "Traceback" not in err and "rommel.csv" in err, err
    assert snapshot(seeded) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=valid_rows(), dialect=dialects, xlsx=st.booleans())
def test_what_dutch_excel_writes_is_accepted(rows, dialect, xlsx):
    with tempfile.TemporaryDirectory() as d:
        if xlsx:
            path = Path(d) / "scores.xlsx"
            pd.DataFrame(rows, columns=HEADER, dtype="string").to_excel(path, index=False)
        else:
            path = Path(d) / "scores.csv"
            path.write_bytes(encode(HEADER, rows, **dialect))
        rc, err = run_cli("import", "scores", path, "--workspace", Path(d) / "ws")
        assert rc == 0, err
        with Store.open(Path(d) / "ws") as s:
            got = s.scores()
    assert len(got) == len(rows)
    want = {(r[2], r[3], r[4]): (r[6], r[7] or None) for r in rows}
    have = {(c, r, i): (v, None if pd.isna(n) else n) for c, r, i, v, n in got[["case", "rater", "item", "value", "note"]].itertuples(index=False)}
    assert have == want


def _explicit(kind):
    rows = [["K-X", "2026-01-19", "C01", r, "besluit", "decision", "go", "", ""] for r in ("B01", "B02")]
    header = list(HEADER)
    if kind == "missing_column":
        return header[1:], [r[1:] for r in rows]
    if kind == "extra_column":
        return header + ["student"], [r + ["Jan"] for r in rows]
    if kind == "unknown_kind":
        rows[1][5] = "besluiten"
    if kind == "out_of_scale":
        rows[1][6] = "misschien"
    if kind == "bad_date":
        rows[0][1] = rows[1][1] = "19-01-2026"
    if kind == "bad_timestamp":
        rows[1][8] = "gisteren"
    if kind == "conflicting_duplicate":
        rows.append(rows[0][:6] + ["no go"] + rows[0][7:])
    if kind == "empty":
        return None, b""
    if kind == "header_only":
        return header, []
    if kind == "binary":
        return None, bytes(range(256)) * 4
    if kind == "ragged":
        rows[1] = rows[1][:5]
    if kind == "empty_cell":
        rows[1][3] = ""
    return header, rows


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("kind", MUTATIONS)
def test_each_kind_of_bad_file_on_each_back_end(kind, backend, tmp_path, request):
    db = ("--workspace", tmp_path / "ws") if backend == "sqlite" else ("--db", request.getfixturevalue("pg_url"))
    seed = tmp_path / "seed.csv"
    seed.write_bytes(encode(HEADER, SEED))
    assert run_cli("import", "scores", seed, *db)[0] == 0
    before = snapshot(db)
    header, rows = _explicit(kind)
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(rows if header is None else encode(header, rows, delimiter=";", bom=True, crlf=True))
    rc, err = run_cli("import", "scores", path, *db)
    _assert_rejected(kind, path.name, rc, err)
    assert snapshot(db) == before
