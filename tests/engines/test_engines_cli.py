"""``calibrate agreement`` (CONTRACTS §4): sources, engines, outputs, and exit status 2
with a message that says what and where."""

from __future__ import annotations

import re
import shutil
import sys

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.engines import COLUMNS

from engine_cases import assert_same


@pytest.fixture(scope="module")
def files(tmp_path_factory, archive):
    d = tmp_path_factory.mktemp("src")
    archive.to_parquet(d / "scores.parquet", index=False)
    parts = d / "parts"
    parts.mkdir()
    for k, (_, g) in enumerate(archive.groupby("session")):  # a folder of CSV parts as a Dutch Excel writes them
        (parts / f"part-{k}.csv").write_bytes(b"\xef\xbb\xbf" + g.to_csv(index=False, sep=";").encode())
    return d


def _run(*args) -> int:
    return main(["agreement", *map(str, args)])


def test_parquet_and_csv_parts_on_pandas_and_duckdb(files, tmp_path, capsys):
    out = {}
    for engine, src in (("pandas", files / "scores.parquet"), ("duckdb", files / "scores.parquet"),
                        ("duckdb", files / "parts"), ("pandas", files / "parts")):
        path = tmp_path / f"{engine}-{src.name}.csv"
        assert _run("--source", src, "--engine", engine, "--out", path,
                    "--coefficient", "krippendorff_alpha:ordinal,gwet_ac:quadratic,icc:twoway_mixed") == 0
        assert "Wrote" in capsys.readouterr().out
        out[path.name] = pd.read_csv(path, dtype={"session": str, "item": str})
    ref = out["pandas-scores.parquet.csv"]
    assert list(ref.columns) == ["session", "item", *COLUMNS]
    assert set(ref["coefficient"]) == {"krippendorff_alpha:ordinal", "gwet_ac:quadratic", "icc:twoway_mixed"}
    for name, df in out.items():
        assert_same(df, ref, ["session", "item"])


def test_workspace_and_parquet_output(demo_workspace, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    assert _run("--workspace", ws, "--by", "item", "--out", a) == 0
    assert _run("--workspace", ws, "--by", "item", "--engine", "duckdb", "--out", b) == 0
    pa, pb = pd.read_parquet(a), pd.read_csv(b, dtype={"item": str})
    assert list(pa.columns) == ["item", *COLUMNS] and len(pa) == 2 * pa["item"].nunique()
    assert_same(pb, pa, ["item"])


@pytest.mark.postgres
def test_db_in_place_on_postgres(pg_url, archive, tmp_path):
    from calibrate.store import Store

    with Store.open(db_url=pg_url) as st:
        st.import_scores(archive)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _run("--db", pg_url, "--engine", "postgres", "--out", a) == 0
    assert _run("--db", pg_url, "--out", b) == 0
    assert_same(pd.read_csv(a, dtype=str).astype({c: float for c in ("value", "se", "ci_low", "ci_high")})
                .astype({"n_units": int, "n_raters": int}),
                pd.read_csv(b, dtype=str).astype({c: float for c in ("value", "se", "ci_low", "ci_high")})
                .astype({"n_units": int, "n_raters": int}), ["session", "item"])


@pytest.mark.parametrize("args,message", [
    (["--coefficient", "kappa"], "unknown coefficient 'kappa'"),
    (["--coefficient", "krippendorff_alpha:ordinaal"], "unknown level 'ordinaal'"),
    (["--coefficient", "gwet_ac:cubic"], "unknown weights 'cubic'"),
    (["--coefficient", "icc:twoway"], "unknown ICC model 'twoway'"),
    (["--by", "session,cohort"], "lacks the column(s) ['cohort']"),
    (["--by", "session"], "judged the same case more than once|mixes kinds"),
])
@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_bad_requests_exit_2_with_the_reason(files, tmp_path, capsys, args, message, engine):
    _refused(files, tmp_path, capsys, ["--engine", engine, *args], message)


def test_postgres_engine_on_a_file_is_refused(files, tmp_path, capsys):
    _refused(files, tmp_path, capsys, ["--engine", "postgres"], "runs inside the store's PostgreSQL")


def _refused(files, tmp_path, capsys, args, message):
    rc = _run("--source", files / "scores.parquet", "--out", tmp_path / "x.csv", *args)
    assert rc == 2
    err = capsys.readouterr().err
    assert re.search(message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]"), err)
    assert "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_bad_values_name_the_column_and_the_values(archive, tmp_path, capsys, engine):
    bad = archive.copy()
    bad.loc[bad.index[bad["kind"] == "level"][3], "value"] = "misschien"
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    assert _run("--source", tmp_path / "bad.parquet", "--engine", engine, "--out", tmp_path / "x.csv") == 2
    err = capsys.readouterr().err
    assert "'value'" in err and "misschien" in err
    nokind = archive.drop(columns="kind")
    nokind.to_parquet(tmp_path / "nokind.parquet", index=False)
    assert _run("--source", tmp_path / "nokind.parquet", "--engine", engine, "--out", tmp_path / "x.csv") == 2
    assert "lacks the column(s) ['kind']" in capsys.readouterr().err


def test_missing_files_and_outputs(tmp_path, capsys, files, monkeypatch):
    assert _run("--source", tmp_path / "nope.parquet", "--out", tmp_path / "x.csv") == 2
    assert "nope.parquet" in capsys.readouterr().err
    assert _run("--source", files / "scores.parquet", "--out", tmp_path / "x.xlsx") == 2
    assert "--out must end in .csv or .parquet" in capsys.readouterr().err
    monkeypatch.delenv("CALIBRATE_WORKSPACE", raising=False)
    monkeypatch.delenv("CALIBRATE_DB", raising=False)
    assert _run("--out", tmp_path / "x.csv") == 2
    assert "say where the scores are" in capsys.readouterr().err


def test_out_is_checked_like_every_other_output(demo_workspace, tmp_path, capsys, files):
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    db = ws / "calibrate.sqlite"
    before = db.read_bytes()
    assert _run("--workspace", ws, "--out", db.with_suffix(".csv").with_name("calibrate.sqlite.csv")) == 2
    assert "workspace database" in capsys.readouterr().err
    assert _run("--source", files / "scores.parquet", "--out", tmp_path) == 2  # a folder
    err = capsys.readouterr().err
    assert "this is a folder" in err and "Traceback" not in err
    assert db.read_bytes() == before


@pytest.mark.parametrize("module,engine,package", [("duckdb", "duckdb", "duckdb"), ("pyspark", "spark", "pyspark"),
                                                   ("ibis", "duckdb", "ibis-framework")])
def test_an_engine_that_is_not_installed_names_the_package(files, tmp_path, capsys, monkeypatch, module, engine,
                                                           package):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    assert _run("--source", files / "scores.parquet", "--engine", engine, "--out", tmp_path / "x.csv") == 2
    err = capsys.readouterr().err
    assert f"'{package}'" in err and "pip install 'calibrate[" in err
