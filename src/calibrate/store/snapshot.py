"""A columnar snapshot of the current judgements of a SQLite workspace, true to the database.

Judgements and consensus are append-only: a save adds a row, and the latest id per
(session, case, rater, item) is current. So the current rows as of id ``N`` stay what
they are while rows are only added. The store's reader (:func:`calibrate.store.reader.read`)
keeps them as an Arrow IPC file (LZ4-compressed, one dictionary per text column: read
back without decoding) in the workspace folder (``.cache/<database>.<table>-current.arrow``,
written to a temporary file and moved into place) and on a full current read takes the
snapshot plus the rows saved after it (``id > N``), applying the store's rule
(:func:`calibrate.store.latest.latest_in_key_order`) to the two together.

The snapshot is used only while all of these hold, else it is ignored (and replaced after
the read):

1. the database's change counter (``meta`` key
   :data:`calibrate.store.schema.GENERATION_KEY`, raised by triggers after every UPDATE or
   DELETE of a judgement or consensus row; schema version 4) has the value recorded;
2. row ``N`` still exists with the ``saved_at`` recorded (an older copy of the file put
   back, or another file, fails here);
3. the schema version is the one recorded, and the file reads whole.

The snapshot holds ids, the four keys, the value and ``scored_at`` — never a note — all of
which the database holds too (pseudonymised). ``CALIBRATE_NO_SNAPSHOT=1`` (or
``read(..., snapshot=False)``) switches it off. PostgreSQL and in-memory databases have
none.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from . import schema as t

#: Rewrite the snapshot after a read whose tail (rows saved after it) exceeds this many rows …
TAIL_ROWS = 50_000
#: … or this share of the snapshot's rows.
TAIL_SHARE = 0.05
FORMAT = "1"


def enabled() -> bool:
    return os.environ.get("CALIBRATE_NO_SNAPSHOT", "").strip().lower() not in ("1", "true", "yes", "on")


def path_for(engine: sa.Engine, table: sa.Table) -> Path | None:
    """Where the snapshot of ``table`` lives, or None (not a SQLite file)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    db = Path(url.database)
    return db.parent / ".cache" / f"{db.name}.{table.name}-current.arrow"


@dataclass(frozen=True)
class State:
    """What the database says now, read before the rows are."""

    generation: str | None
    version: str | None
    max_id: int | None


def db_state(conn: sa.Connection, table: sa.Table) -> State:
    rows = dict(conn.execute(sa.select(t.meta.c.key, t.meta.c.value).where(
        t.meta.c.key.in_([t.GENERATION_KEY, "schema_version"]))).all())
    max_id = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
    return State(rows.get(t.GENERATION_KEY), rows.get("schema_version"), max_id)


def _meta(table: sa.Table, state: State) -> dict[bytes, bytes]:
    return {b"calibrate.format": FORMAT.encode(), b"calibrate.table": table.name.encode(),
            b"calibrate.generation": (state.generation or "").encode(),
            b"calibrate.schema_version": (state.version or "").encode()}


def load(path: Path, conn: sa.Connection, table: sa.Table, state: State, columns: list[str]):
    """(snapshot rows, N) when the snapshot at ``path`` holds for the database as ``state``
    describes it, else None (missing, stale, from another file, unreadable)."""
    import pyarrow.ipc as ipc

    if state.generation is None or state.max_id is None:
        return None
    try:
        source = pa.OSFile(str(path), "rb")
    except OSError:
        return None
    try:
        reader = ipc.open_file(source)
        md = reader.schema.metadata or {}
        expect = _meta(table, state)
        if any(md.get(k) != v for k, v in expect.items()):
            return None
        n, saved_at, rows = int(md[b"calibrate.last_id"]), md[b"calibrate.last_saved_at"].decode(), int(md[b"calibrate.rows"])
        if n > state.max_id:
            return None
        if conn.execute(sa.select(table.c.saved_at).where(table.c.id == n)).scalar() != saved_at:
            return None
        if reader.schema.names != columns:
            return None
        tb = reader.read_all()
        tb.validate(full=True)  # every dictionary index within its dictionary, text valid UTF-8
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None  # truncated, damaged or not ours: read from the database (and write it again)
    finally:
        source.close()
    if tb.num_rows != rows:
        return None
    return tb.replace_schema_metadata(None), n


def save(path: Path, engine: sa.Engine, table: sa.Table, state: State, rows: pa.Table) -> bool:
    """Write ``rows`` (the current rows, in key order) as the snapshot of the database in
    ``state`` (read before ``rows`` were). False, and nothing left behind, when it cannot be
    written (a read-only folder): the next read goes to the database again."""
    import pyarrow.ipc as ipc

    if rows.num_rows == 0 or state.generation is None:
        return False
    ids = rows.column("id")
    n = int(pa.compute.max(ids).as_py())
    with engine.connect() as conn:
        saved_at = conn.execute(sa.select(table.c.saved_at).where(table.c.id == n)).scalar()
    if saved_at is None:
        return False
    md = {**_meta(table, state), b"calibrate.last_id": str(n).encode(), b"calibrate.last_saved_at": saved_at.encode(),
          b"calibrate.rows": str(rows.num_rows).encode()}
    tmp = None
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        rows = rows.replace_schema_metadata(md)
        with pa.OSFile(tmp, "wb") as sink, ipc.new_file(sink, rows.schema,
                                                       options=ipc.IpcWriteOptions(compression="lz4")) as writer:
            writer.write_table(rows)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False


def due(snapshot_rows: int, tail_rows: int) -> bool:
    """Whether a snapshot with ``tail_rows`` saved after it should be written again."""
    return tail_rows > TAIL_ROWS or tail_rows > TAIL_SHARE * snapshot_rows


__all__ = ["TAIL_ROWS", "State", "db_state", "due", "enabled", "load", "path_for", "save"]
