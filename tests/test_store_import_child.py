"""The import's check stage in a child process (calibrate.store.checking).

Every check imports the same file twice in one run — its check stage in a forked child,
and inline — and compares summaries, stored rows and errors, so any difference shows.
"""

from __future__ import annotations

import multiprocessing
import os

import pandas as pd
import pytest

from calibrate.errors import InputError, StoreError
from calibrate.store import Store, checking, imports

from store_rows import _rows, table

NOTE = "Sanne de Vries reageerde direct; mail sanne@example.nl."


def _file(tmp_path, rows, name="scores.csv"):
    f = tmp_path / name
    table(rows).to_csv(f, index=False)
    return f


@pytest.fixture
def paths(monkeypatch):
    """Which path each import took (child True/False)."""
    seen = []
    real = imports.checked_chunks

    def spy(stage, *, child):
        seen.append(child)
        return real(stage, child=child)

    monkeypatch.setattr(imports, "checked_chunks", spy)
    return seen


def _store(path, *, child: bool, chunk_rows: int = 7) -> Store:
    st = Store.open(path)
    st.import_chunk_rows = chunk_rows
    st.import_child_bytes = 0 if child else 1 << 60
    return st


def test_the_child_imports_what_the_inline_path_imports(tmp_path, paths, monkeypatch):
    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", "5a" * 32)  # one key: the same pseudonyms in both stores
    roster = tmp_path / "roster.csv"
    roster.write_text("name,role\nSanne de Vries,student\n")
    rows = (_rows(6, note=NOTE) + _rows(4, session="K2", date="2026-03-01", value="no go")
            + _rows(1, note=NOTE))  # the last three rows: exact copies of the first three, in a later chunk
    rows = [{**r, "rater": {"B01": "Anna Smit", "B02": "Piet Jansen", "B03": "Els de Wit"}[r["rater"]]} for r in rows]
    f = _file(tmp_path, rows)
    out = {}
    for child in (True, False):
        st = _store(tmp_path / f"ws-{child}", child=child)
        summary = st.import_scores(f, roster=roster, pseudonymise_raters=True)
        again = st.import_scores(f, pseudonymise_raters=True)  # idempotent: nothing new
        out[child] = (summary, again, st.scores(), st.raters())
        st.close()
    assert paths == [True, True, False, False]
    (s1, a1, df1, r1), (s2, a2, df2, r2) = out[True], out[False]
    assert s1 == s2
    assert (s1.rows, s1.appended) == (30, 30)  # 33 rows, 3 exact copies left out
    assert s1.replaced and sum(s1.replaced.values()) > 0  # the notes were pseudonymised in the child
    assert a1 == a2 and a1.appended == 0
    pd.testing.assert_frame_equal(df1, df2)
    assert not df1["note"].dropna().str.contains("Sanne|sanne@", regex=True).any()
    assert not df1["rater"].isin(["Anna Smit", "Piet Jansen", "Els de Wit"]).any()
    pd.testing.assert_frame_equal(r1, r2)
    assert multiprocessing.active_children() == []


def test_bad_rows_found_in_the_child_are_the_inline_errors_and_nothing_is_written(tmp_path, paths):
    rows = _rows(8) + _rows(3, value="misschien") + _rows(2, kind="soort") + _rows(2, session="K2", date="2026-13-45")
    f = _file(tmp_path, rows)
    errors = {}
    for child in (True, False):
        st = _store(tmp_path / f"ws-{child}", child=child)
        st.import_scores(table(_rows(1, session="K0", date="2025-12-01")), source="first.csv")
        before = st.scores(history=True)
        with pytest.raises(InputError) as exc:
            st.import_scores(f)
        errors[child] = exc.value
        pd.testing.assert_frame_equal(st.scores(history=True), before)
        assert set(st.sessions()["session"]) == {"K0"}
        st.close()
    assert paths == [False, True, False, False]  # the DataFrame import is inline
    assert str(errors[True]) == str(errors[False])
    assert errors[True].location == errors[False].location == "scores.csv"
    assert "misschien" in str(errors[True]) and "soort" in str(errors[True]) and "2026-13-45" in str(errors[True])


def test_a_stored_session_with_another_date_stops_the_child_and_writes_nothing(tmp_path, paths):
    st = _store(tmp_path / "ws", child=True, chunk_rows=6)
    st.import_scores(table(_rows(2)), source="first.csv")
    before = st.scores(history=True)
    # chunk 1 a new session (written), chunk 2 the stored K1 with another date (refused
    # by the writer, in the parent, while the child reads on)
    f = _file(tmp_path, _rows(2, session="K9", date="2026-05-01") + _rows(2, date="2026-02-02") + _rows(30, session="K8"))
    with pytest.raises(InputError, match="stored with date"):
        st.import_scores(f)
    assert paths[-1] is True
    pd.testing.assert_frame_equal(st.scores(history=True), before)
    assert "K9" not in set(st.sessions()["session"])
    assert multiprocessing.active_children() == []
    st.close()


def test_a_child_that_dies_is_an_error_and_nothing_is_written(tmp_path, monkeypatch, paths):
    real = checking.CheckStage.run

    def dies(self):
        run = real(self)
        yield next(run)
        os._exit(3)  # only ever in the child: the stage runs there

    monkeypatch.setattr(checking.CheckStage, "run", dies)
    st = _store(tmp_path / "ws", child=True, chunk_rows=3)
    with pytest.raises(StoreError, match=r"stopped unexpectedly \(exit code 3\); nothing was imported"):
        st.import_scores(_file(tmp_path, _rows(5)))
    assert paths == [True]
    assert st.counts()["judgements"] == 0 and st.sessions().empty
    st.close()


class _Odd(Exception):
    def __init__(self):
        super().__init__("odd")
        self.handle = lambda: None  # cannot be pickled


@pytest.mark.parametrize("error, expected", [(RuntimeError("a bug"), RuntimeError), (_Odd(), StoreError)])
def test_an_unexpected_error_in_the_child_reaches_the_parent(tmp_path, monkeypatch, error, expected):
    def fails(chunk):
        raise error

    st = _store(tmp_path / "ws", child=True, chunk_rows=3)
    monkeypatch.setattr(st, "_rater_pseudonyms", lambda names: fails)
    with pytest.raises(expected) as exc:
        st.import_scores(_file(tmp_path, _rows(5)), pseudonymise_raters=True)
    assert "a bug" in str(exc.value) if expected is RuntimeError else "_Odd: odd" in str(exc.value)
    assert st.counts()["judgements"] == 0
    st.close()


def test_small_files_frames_and_pool_workers_are_checked_inline(tmp_path):
    f = _file(tmp_path, _rows(2))
    assert checking.use_child(f, min_bytes=0)
    assert not checking.use_child(f)  # under CHILD_MIN_BYTES
    assert not checking.use_child(table(_rows(2)), min_bytes=0)
    assert not checking.use_child(tmp_path / "missing.csv", min_bytes=0)
    with multiprocessing.get_context("fork").Pool(1) as pool:  # a daemonic process may not have children
        assert pool.apply(checking.use_child, (f,), {"min_bytes": 0}) is False


@pytest.mark.postgres
def test_the_child_on_postgresql_imports_what_the_inline_path_imports(tmp_path, pg_server, paths, monkeypatch):
    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", "5a" * 32)
    rows = _rows(5, note=NOTE) + _rows(4, session="K2", date="2026-03-01", value="no go", note="Regel 1\r\nRegel 2")
    f = _file(tmp_path, rows + _rows(1, note=NOTE))  # three exact copies in a later chunk
    out = {}
    for child in (True, False):
        st = Store.open(db_url=pg_server.createdb())
        st.import_chunk_rows, st.import_child_bytes = 5, 0 if child else 1 << 60
        out[child] = (st.import_scores(f), st.import_scores(f), st.scores())
        st.close()
    assert paths == [True, True, False, False]
    assert out[True][:2] == out[False][:2] and out[True][0].appended == 27 and out[True][1].appended == 0
    pd.testing.assert_frame_equal(out[True][2], out[False][2])
    assert (out[True][2]["note"] == "Regel 1\r\nRegel 2").sum() == 12
