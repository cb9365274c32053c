"""Parquet export and import of the store's tables (CONTRACTS §1 columns, typed)."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from calibrate.cli import main
from calibrate.store import Store
from calibrate.tabular import read_parquet_chunks


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo_workspace):
    d = tmp_path_factory.mktemp("parquet")
    for what in ("scores", "consensus"):
        assert main(["export", what, "--workspace", str(demo_workspace), "--out", str(d / f"{what}.parquet")]) == 0
        assert main(["export", what, "--workspace", str(demo_workspace), "--out", str(d / f"{what}.csv")]) == 0
    return d


def test_export_is_typed_and_holds_what_the_csv_export_holds(exported):
    schema = pq.read_schema(exported / "scores.parquet")
    assert schema.names == ["session", "session_date", "case", "rater", "item", "kind", "value", "note", "scored_at"]
    assert schema.field("session_date").type == pa.date32()
    assert schema.field("scored_at").type == pa.timestamp("us", tz="UTC")
    assert all(schema.field(c).type == pa.string() for c in ("session", "case", "rater", "item", "kind", "value", "note"))
    # the peer: the CSV export of the same store, cell by cell
    csv = pd.read_csv(exported / "scores.csv", dtype=str, keep_default_na=False)
    pqt = pd.read_parquet(exported / "scores.parquet")
    assert len(pqt) == len(csv) > 1000
    assert pqt["note"].notna().sum() > 0
    for col in ("session", "case", "rater", "item", "kind", "value", "note"):
        assert pqt[col].fillna("").tolist() == csv[col].tolist(), col
    assert pqt["session_date"].astype(str).tolist() == csv["session_date"].tolist()
    pd.testing.assert_series_equal(pqt["scored_at"].dt.as_unit("us"),
                                   pd.to_datetime(csv["scored_at"], format="ISO8601", utc=True).dt.as_unit("us"),
                                   check_names=False)


@pytest.mark.parametrize("what", ["scores", "consensus"])
def test_round_trip_is_identical(tmp_path, exported, demo_workspace, what):
    ws = tmp_path / "empty"
    assert main(["import", what, str(exported / f"{what}.parquet"), "--workspace", str(ws)]) == 0
    again = tmp_path / "again.parquet"
    assert main(["export", what, "--workspace", str(ws), "--out", str(again)]) == 0
    assert pq.read_table(again).equals(pq.read_table(exported / f"{what}.parquet"))
    # the store's own table too (the rater names column apart, which an import cannot bring)
    with Store.open(demo_workspace) as a, Store.open(ws) as b:
        get = (lambda s: s.scores()) if what == "scores" else (lambda s: s.consensus())
        pd.testing.assert_frame_equal(get(b), get(a))
    # a second import of the same file changes nothing
    with Store.open(ws) as store:
        summary = store.import_scores(exported / f"{what}.parquet") if what == "scores" else \
            store.import_consensus(exported / f"{what}.parquet")
    assert summary.appended == 0 and summary.unchanged == summary.rows > 0


def test_the_export_is_an_agreement_source(exported, demo_workspace, tmp_path):
    """`calibrate agreement --source` reads the export (typed date and timestamp columns)
    and gives the workspace's numbers."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    spec = ["--by", "session,item", "--coefficient", "krippendorff_alpha:ordinal,gwet_ac:quadratic"]
    assert main(["agreement", "--workspace", str(demo_workspace), *spec, "--out", str(a)]) == 0
    assert main(["agreement", "--source", str(exported / "scores.parquet"), "--engine", "duckdb", *spec, "--out", str(b)]) == 0
    x, y = pd.read_csv(a), pd.read_csv(b)
    assert len(x) > 10
    pd.testing.assert_frame_equal(x, y, check_exact=False, atol=1e-10, rtol=0)


def _write(df: pd.DataFrame, path, schema=None):
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False), path)
    return path


def _ws_with_scores(tmp_path, exported, n=200):
    ws = tmp_path / "ws"
    good = pd.read_parquet(exported / "scores.parquet").head(n)
    assert main(["import", "scores", str(_write(good, tmp_path / "good.parquet")), "--workspace", str(ws)]) == 0
    return ws


def _unchanged(ws, action):
    with Store.open(ws) as s:
        before, counts = s.scores(), s.counts()
    assert action() == 2
    with Store.open(ws) as s:
        assert s.counts() == counts
        pd.testing.assert_frame_equal(s.scores(), before)


def test_bad_value_names_record_and_column_and_imports_nothing(tmp_path, exported, capsys):
    ws = _ws_with_scores(tmp_path, exported)
    bad = pd.read_parquet(exported / "scores.parquet").iloc[200:300].copy()
    bad.iloc[42, bad.columns.get_loc("value")] = "misschien"  # the 43rd record of the file
    path = _write(bad, tmp_path / "bad.parquet")
    capsys.readouterr()
    _unchanged(ws, lambda: main(["import", "scores", str(path), "--workspace", str(ws)]))
    err = capsys.readouterr().err
    assert "bad.parquet" in err and "row 43, column 'value'" in err and "misschien" in err
    assert "Traceback" not in err


def test_not_parquet_and_damaged_files_exit_2_naming_the_file(tmp_path, exported, capsys):
    ws = _ws_with_scores(tmp_path, exported)
    text = tmp_path / "text.parquet"
    text.write_text("session,case\nK1,C1\n")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes((exported / "scores.parquet").read_bytes()[:5000])
    for path in (text, cut):
        capsys.readouterr()
        _unchanged(ws, lambda: main(["import", "scores", str(path), "--workspace", str(ws)]))
        err = capsys.readouterr().err
        assert path.name in err and "Parquet" in err and "Traceback" not in err, err


def test_wrong_column_types_and_missing_columns_name_the_column(tmp_path, exported, capsys):
    ws = _ws_with_scores(tmp_path, exported)
    base = pd.read_parquet(exported / "scores.parquet").iloc[200:210].reset_index(drop=True)
    lists = base.assign(value=[["gezien"]] * len(base))
    fraction = base.assign(value=[1.5] * len(base))
    missing = base.drop(columns=["kind"])
    for name, df, needle in (("lists", lists, "column 'value' holds list"),
                             ("fraction", fraction, "column 'value' holds numbers with a fraction"),
                             ("missing", missing, "kind")):
        path = _write(df, tmp_path / f"{name}.parquet")
        capsys.readouterr()
        _unchanged(ws, lambda: main(["import", "scores", str(path), "--workspace", str(ws)]))
        err = capsys.readouterr().err
        assert path.name in err and needle in err and "Traceback" not in err, err


def test_integer_codes_and_naive_timestamps_are_read_as_the_contract_says(tmp_path):
    df = pd.DataFrame({"session": ["S1", "S1"], "session_date": pd.to_datetime(["2026-01-19"] * 2).date,
                       "case": ["C1", "C1"], "rater": ["B1", "B2"], "item": ["lvl", "lvl"],
                       "kind": ["level", "level"], "value": pd.array([3, None], dtype="Int64"),
                       "scored_at": pd.to_datetime(["2026-01-19 09:00:00", None])})
    header, chunks = read_parquet_chunks(_write(df, tmp_path / "x.parquet"), chunk_rows=1)
    parts = list(chunks)
    assert header == list(df.columns) and [len(p) for p in parts] == [1, 1]
    got = pd.concat(parts)
    assert got.index.tolist() == [-1, 0]  # the spreadsheet convention: record 1 is "row 1"
    assert got["value"].tolist()[0] == "3" and pd.isna(got["value"].tolist()[1])
    assert got["session_date"].tolist() == ["2026-01-19"] * 2
    assert got["scored_at"].tolist()[0].startswith("2026-01-19T09:00:00") and got["scored_at"].tolist()[0].endswith("+0000")
