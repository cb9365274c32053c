"""The columnar snapshot of the current judgements (``calibrate.store.snapshot``) is never stale.

Every check compares a read through the snapshot with the uncached read of the same
database in the same run (``read(..., snapshot=False)``), after the changes that could make
a snapshot lie: rows saved after it, a hand-made UPDATE or DELETE, a session's date moved,
the database file replaced by an older copy, the snapshot file damaged.
"""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest

from calibrate.store import Store, reader, snapshot
from calibrate.store import schema as t

from store_rows import ROW, _rows, table  # noqa: F401  (shared with the other store tests)


def same(st: Store, tbl=None, **kw) -> pd.DataFrame:
    """Read through the snapshot and without it; assert both are equal; the frame."""
    cached = reader.read(st, tbl, **kw)
    plain = reader.read(st, tbl, snapshot=False, **kw)
    pd.testing.assert_frame_equal(cached.frame, plain.frame)
    assert cached.session_dates == plain.session_dates
    pd.testing.assert_frame_equal(cached.items, plain.items)
    return cached.to_frame()


def snap_file(st: Store, tbl=t.judgements):
    return snapshot.path_for(st.engine, tbl)


def last_id(st: Store) -> int:
    import pyarrow.ipc as ipc

    with ipc.open_file(str(snap_file(st))) as f:
        return int(f.schema.metadata[b"calibrate.last_id"])


@pytest.fixture
def st(tmp_path):
    store = Store.open(tmp_path / "ws")
    store.import_scores(table(_rows(30)), source="a.csv")
    store.import_scores(table(_rows(20, session="K2", date="2026-03-01", value="no go")), source="b.csv")
    yield store
    store.close()


def test_the_demo_workspace_read_through_its_snapshot_equals_the_database(demo_workspace, tmp_path):
    shutil.copytree(demo_workspace, tmp_path / "demo", ignore=shutil.ignore_patterns(".cache"))
    with Store.open(tmp_path / "demo", create=False) as demo:
        assert not snap_file(demo).exists()
        first = same(demo, notes=False)
        assert snap_file(demo).exists()  # built by the first full read
        for kw in ({"notes": False}, {"notes": False, "stamps": False}, {"notes": sorted(set(first["session"]))[:1]}):
            same(demo, **kw)
        assert len(same(demo, t.consensus, notes=False, stamps=False)) > 0
        assert snap_file(demo, t.consensus).exists()
        same(demo, t.consensus, notes=False)
        assert len(first) == len(demo.scores())  # notes=True (the uncached path) gives the same rows


def test_the_second_read_comes_from_the_snapshot_and_the_tail(st, monkeypatch):
    same(st, notes=False)
    n = last_id(st)
    calls = []
    real = reader.fetch
    monkeypatch.setattr(reader, "fetch", lambda *a, **k: calls.append(k.get("after")) or real(*a, **k))
    reader.read(st, notes=False)
    assert calls == [n]  # only the rows saved after the snapshot were read from the database


def test_saves_after_the_snapshot_are_read_as_its_tail(st, monkeypatch):
    monkeypatch.setattr(snapshot, "TAIL_SHARE", 1.0)
    same(st, notes=False)
    n = last_id(st)
    st.import_scores(table(_rows(4)).assign(value="no go"), source="c.csv")  # later saves of 12 keys
    st.import_scores(table(_rows(2, session="K3", date="2026-02-01")), source="d.csv")  # new keys
    df = same(st, notes=False)
    assert int(((df["session"] == "K1") & (df["value"] == "no go")).sum()) == 12
    assert (df["session"] == "K3").sum() == 6
    assert last_id(st) == n  # a short tail leaves the snapshot as it was …
    monkeypatch.setattr(snapshot, "TAIL_ROWS", 0)
    same(st, notes=False)
    assert last_id(st) > n  # … a long one has it written again
    same(st, notes=False, stamps=False)


def test_a_handmade_update_or_delete_is_seen(st, tmp_path):
    before = same(st, notes=False)
    with sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite") as con:
        con.execute("UPDATE judgements SET value = 'no go' WHERE session_id = 'K1' AND case_id = 'C000'")
    after = same(st, notes=False)
    assert not after["value"].equals(before["value"])
    with sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite") as con:
        con.execute("DELETE FROM judgements WHERE session_id = 'K2' AND case_id = 'C001'")
    assert len(same(st, notes=False)) == len(before) - 3
    with sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite") as con:
        generation = con.execute("SELECT value FROM meta WHERE key = ?", (t.GENERATION_KEY,)).fetchone()[0]
        assert int(generation.split("-")[0]) == 6  # one step per row updated (3) or deleted (3)
        con.execute("INSERT INTO consensus (session_id, case_id, item_id, value, scored_at, saved_at) "
                    "VALUES ('K1', 'C000', 'besluit', 'go', 'x', 'x')")
    assert same(st, t.consensus, notes=False)["value"].tolist() == ["go"]
    with sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite") as con:
        con.execute("UPDATE consensus SET value = 'no go'")  # the consensus table steps the same counter
        assert con.execute("SELECT value FROM meta WHERE key = ?", (t.GENERATION_KEY,)).fetchone()[0] != generation
    assert same(st, t.consensus, notes=False)["value"].tolist() == ["no go"]


def test_a_moved_session_date_changes_the_order(st, tmp_path):
    before = same(st, notes=False)
    assert list(dict.fromkeys(before["session"])) == ["K1", "K2"]
    with sqlite3.connect(tmp_path / "ws" / "calibrate.sqlite") as con:
        con.execute("UPDATE sessions SET session_date = '2025-12-01' WHERE id = 'K2'")
    after = same(st, notes=False)
    assert list(dict.fromkeys(after["session"])) == ["K2", "K1"]
    import pyarrow.ipc as ipc

    with ipc.open_file(str(snap_file(st))) as f:  # written again in the new order
        assert list(dict.fromkeys(f.read_all().column("session_id").to_pylist())) == ["K2", "K1"]


def test_an_older_copy_of_the_database_put_back_is_not_served_the_newer_snapshot(st, tmp_path, monkeypatch):
    db = tmp_path / "ws" / "calibrate.sqlite"
    shutil.copy(db, tmp_path / "old.sqlite")
    st.import_scores(table(_rows(5)).assign(value="no go"), source="c.csv")
    monkeypatch.setattr(snapshot, "TAIL_ROWS", 0)
    newer = same(st, notes=False)  # the snapshot now holds the newer rows
    st.engine.dispose()
    shutil.copy(tmp_path / "old.sqlite", db)
    older = same(st, notes=False)
    assert not older["value"].equals(newer["value"])
    assert int((older["value"] == "no go").sum()) == 60


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_snapshot_is_ignored_and_written_again(st, damage):
    same(st, notes=False)
    path = snap_file(st)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": data[:200] + b"\x00\xff" * 500 + data[1200:],
                      "empty": b""}[damage])
    same(st, notes=False)
    assert snapshot.load(path, st.engine.connect(), t.judgements,
                         snapshot.db_state(st.engine.connect(), t.judgements),
                         ["id", "session_id", "case_id", "rater_id", "item_id", "value", "scored_at"]) is not None


def test_an_empty_store_and_a_switched_off_snapshot(tmp_path, monkeypatch):
    with Store.open(tmp_path / "empty") as empty:
        assert len(same(empty, notes=False)) == 0
        assert not snap_file(empty).exists()
    with Store.open(tmp_path / "off") as off:
        off.import_scores(table(_rows(3)), source="a.csv")
        monkeypatch.setenv("CALIBRATE_NO_SNAPSHOT", "1")
        off.coded_scores(notes=False)
        assert not snap_file(off).exists()


def test_the_child_reader_builds_and_extends_the_snapshot(st, monkeypatch):
    monkeypatch.setattr(reader, "SMALL_ROWS", 0)
    monkeypatch.setattr(reader, "PARTITION_ROWS", 40)
    same(st, notes=False)
    st.import_scores(table(_rows(10)).assign(value="no go", note="later"), source="c.csv")
    same(st, notes=False)
    same(st, notes=False, stamps=False)
