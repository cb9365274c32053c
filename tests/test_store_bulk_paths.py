"""The store's bulk paths: the columnar reader's child process and the import's write thread.

Each check compares the fast path with the store's plain path in the same run (the
reader's own-cursor read; the import with one chunk), so a difference in any value shows.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.store import Store, reader
from calibrate.store import bulk

from store_rows import ROW, _rows, table  # noqa: F401  (shared with the other store tests)


def test_child_reader_equals_the_own_cursor_read_with_an_all_null_partition(tmp_path, monkeypatch):
    st = Store.open(tmp_path / "ws")
    first = _rows(20)  # ids 1..60: no note at all
    second = _rows(20, session="K2", date="2026-03-01", value="no go", note="Vroeg door naar de leerlingen.")
    st.import_scores(table(first), source="a.csv")
    st.import_scores(table(second), source="b.csv")
    st.import_scores(table(second[:9]).assign(value="go"), source="c.csv")  # a later save of 9 keys
    # the own-cursor read (small tables) is the peer
    plain = st.coded_scores(history=False)
    plain_history = st.coded_scores(history=True)
    # now every read goes through the ADBC child, in id ranges of about 30 rows (several
    # partitions, the first with a note column that is all NULL)
    monkeypatch.setattr(reader, "SMALL_ROWS", 0)
    monkeypatch.setattr(reader, "PARTITION_ROWS", 30)
    calls = []
    real = reader._sqlite_tables
    monkeypatch.setattr(reader, "_sqlite_tables", lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    child = st.coded_scores(history=False)
    child_history = st.coded_scores(history=True)
    assert calls and min(calls) > 1  # the child path, on several partitions
    pd.testing.assert_frame_equal(child.to_frame(), plain.to_frame())
    pd.testing.assert_frame_equal(child_history.to_frame(list(child_history.frame.columns.drop(["kind", "position", "id"]))),
                                  plain_history.to_frame(list(plain_history.frame.columns.drop(["kind", "position", "id"]))))
    assert child.frame["id"].tolist() == plain.frame["id"].tolist()
    assert child.position.tolist() == plain.position.tolist()
    assert int((child.to_frame()["value"] == "go").sum()) == 60 + 9
    assert int(child.to_frame()["note"].notna().sum()) == 60
    st.close()


def test_chunked_import_on_the_write_thread_equals_one_chunk(tmp_path):
    rows = _rows(30) + _rows(10, session="K2", date="2026-03-01", value="no go")
    a, b = Store.open(tmp_path / "a"), Store.open(tmp_path / "b")
    a.import_chunk_rows = 7  # many chunks: each insert overlaps the next chunk's checks
    sa_ = a.import_scores(table(rows), source="s.csv")
    sb = b.import_scores(table(rows), source="s.csv")
    assert (sa_.rows, sa_.appended) == (sb.rows, sb.appended) == (120, 120)
    cols = ["session", "session_date", "case", "rater", "item", "kind", "value", "note", "scored_at"]
    pd.testing.assert_frame_equal(a.scores()[cols], b.scores()[cols])
    assert a.import_scores(table(rows), source="s.csv").appended == 0  # idempotent across chunks
    a.close(), b.close()


def test_a_refused_chunk_after_a_pending_insert_leaves_nothing_written(tmp_path):
    st = Store.open(tmp_path / "ws")
    st.import_scores(table(_rows(2)), source="first.csv")
    before = st.scores(history=True)
    st.import_chunk_rows = 6
    # chunk 1: a new session (inserted on the write thread); chunk 2: the stored session K1
    # with another date, refused while chunk 1 may still be being inserted
    bad = _rows(2, session="K9", date="2026-05-01") + _rows(2, date="2026-02-02")
    with pytest.raises(InputError, match="stored with date"):
        st.import_scores(table(bad), source="bad.csv")
    pd.testing.assert_frame_equal(st.scores(history=True), before)
    assert "K9" not in set(st.sessions()["session"])
    st.close()


def test_an_error_on_the_write_thread_rolls_the_import_back(tmp_path, monkeypatch):
    st = Store.open(tmp_path / "ws")
    st.import_scores(table(_rows(1)), source="first.csv")
    before = st.scores(history=True)
    st.import_chunk_rows = 3
    # the insert of the judgements of every chunk fails inside the database
    monkeypatch.setattr(bulk.SQLiteWriter, "__init__", _broken_insert(bulk.SQLiteWriter.__init__))
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        st.import_scores(table(_rows(4, session="K3", date="2026-04-01")), source="x.csv")
    pd.testing.assert_frame_equal(st.scores(history=True), before)
    assert "K3" not in set(st.sessions()["session"])
    st.close()


def _broken_insert(init):
    def patched(self, *a, **k):
        init(self, *a, **k)
        self.insert_sql = self.insert_sql.replace("INSERT INTO judgements", "INSERT INTO judgements_missing")
    return patched


def test_the_import_command_leaves_the_other_packages_unimported(tmp_path):
    """``calibrate import scores`` builds no parser of ``gstudy``/``agreement`` (whose
    packages bring scipy.stats); ``calibrate gstudy`` still finds its own."""
    import ast
    import subprocess
    import sys

    f = tmp_path / "s.csv"
    table(_rows(2)).to_csv(f, index=False)
    code = ("import sys\nfrom calibrate.cli import main\n"
            f"assert main(['import', 'scores', {str(f)!r}, '--workspace', {str(tmp_path / 'ws')!r}]) == 0\n"
            "print(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'calibrate.gtheory', 'calibrate.engines'))))\n"
            "from calibrate.cli import build_parser\n"
            "print(sorted(build_parser(['gstudy', '--help'])._subparsers._group_actions[0].choices))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[-2] == "[]"
    assert {"gstudy", "agreement", "import"} <= set(ast.literal_eval(out[-1]))


def _scale_triggers(path):
    con = sqlite3.connect(path / "calibrate.sqlite")
    rows = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%scale%' ORDER BY name").fetchall()
    con.close()
    return rows


def test_the_scale_is_checked_in_bulk_and_its_trigger_is_back_after_an_import(tmp_path):
    st = Store.open(tmp_path / "ws")
    triggers = _scale_triggers(tmp_path / "ws")
    assert "calibrate_judgements_scale_insert" in [n for n, _ in triggers]
    st.import_chunk_rows = 4
    st.import_scores(table(_rows(3)), source="a.csv")
    assert _scale_triggers(tmp_path / "ws") == triggers  # the same trigger, the same DDL
    con = sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="outside the scale"):  # raw SQL still meets it
        con.execute("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, scored_at, saved_at) "
                    "VALUES ('K1', 'C000', 'B01', 'besluit', 'misschien', 'x', 'x')")
    # a scale that lost a value past calibrate: the validator (which knows the framework's
    # scale) lets 'no go' through, the bulk check refuses it as the trigger would have
    con.execute("DELETE FROM item_values WHERE item_id = 'besluit' AND value = 'no go'")
    con.commit()
    con.close()
    before = st.scores(history=True)
    with pytest.raises(sqlite3.IntegrityError, match="outside the scale"):
        st.import_scores(table(_rows(3, session="K2", date="2026-03-01", value="no go")), source="b.csv")
    pd.testing.assert_frame_equal(st.scores(history=True), before)
    assert "K2" not in set(st.sessions()["session"])
    assert _scale_triggers(tmp_path / "ws") == triggers  # the rollback put it back
    st.close()
