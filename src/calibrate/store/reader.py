"""The store's one reader of judgements: current (latest per key) or every save.

Both :meth:`calibrate.store.Store.scores` and the report read here. The append-only table
is read column by column into Arrow — through ADBC (``adbc-driver-sqlite`` on a workspace
file, in id ranges on parallel connections; ``adbc-driver-postgresql``, which uses
PostgreSQL's binary ``COPY``) — each text column is dictionary-encoded by Arrow, the
latest save per (session, case, rater, item) is kept by the store's rule
(:func:`calibrate.store.latest.latest_rows`) and the result is a
:class:`~calibrate.scores.CodedScores`: the one decoding of the table on its way from the
database to every analysis. No Python object is made per row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from ..errors import StoreError
from ..schema import KINDS
from ..scores import CodedScores, item_table, positions, session_time_order
from . import schema as t
from .engine import SQLITE_BUSY_TIMEOUT_S
from . import snapshot as snap
from .latest import combined_key, latest_in_key_order

#: Rows per partition when a SQLite file is read on several connections at once.
PARTITION_ROWS = 400_000
#: Below this many rows (by id range) a SQLite table is read with the store's own cursor.
SMALL_ROWS = 250_000
#: Columns whose values repeat (ids, codes, time stamps of an import): sent dictionary-encoded.
_REPEATED = ("session_id", "case_id", "rater_id", "item_id", "value", "scored_at", "saved_at", "source")


def _target(engine: sa.Engine) -> tuple[str, str] | None:
    """(driver, where) for a columnar read, or None when only the driver's cursor will do."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        return "sqlite", url.database
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def _compiled(query, dialect) -> tuple[str, list]:
    """The statement text and its parameters, made by SQLAlchemy's compiler for ADBC."""
    c = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return str(c), [c.params[name] for name in c.positiontup]


def _postgres_table(uri: str, query) -> pa.Table:
    """One query through ADBC's PostgreSQL driver (binary ``COPY``) into Arrow."""
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as adbc
    from sqlalchemy.dialects import postgresql

    text, params = _compiled(query, postgresql.dialect(paramstyle="numeric_dollar"))
    try:
        with adbc.connect(uri) as conn:
            with conn.cursor() as cur:
                cur.execute(text, params or None)
                return cur.fetch_arrow_table()
    except adbc_driver_manager.Error as exc:  # ADBC's errors do not cross process boundaries: ours do
        raise StoreError(f"reading the judgements failed: {' '.join(str(exc).split())[:200]}") from None


_CHILD = str(Path(__file__).with_name("arrow_child.py"))


def _sqlite_tables(database: str, queries: list, text: Sequence[str], dictionary: Sequence[str] = ()) -> pa.Table:
    """The queries through ADBC's SQLite driver, in a child process (:mod:`.arrow_child`,
    started as a script in isolated mode: it imports pyarrow and ADBC, not this package),
    the ``text`` columns as strings, the ``dictionary`` columns dictionary-encoded there."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect(paramstyle="qmark")
    request = json.dumps({"database": database, "queries": [_compiled(q, dialect) for q in queries],
                          "busy_ms": SQLITE_BUSY_TIMEOUT_S * 1000, "workers": min(os.cpu_count() or 1, 4),
                          "text": list(text), "dictionary": list(dictionary)})
    proc = subprocess.Popen([sys.executable, "-I", _CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(request.encode())
    proc.stdin.close()
    try:
        table = pa.ipc.open_stream(proc.stdout).read_all()
    except pa.ArrowInvalid:
        table = None
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0 or table is None:
        raise StoreError(f"reading the judgements of {database} failed: {err.strip()[:300] or 'the reader stopped'}.")
    return table


def _dbapi_table(engine: sa.Engine, query, names: Sequence[str]) -> pa.Table:
    """Small reads and other databases: the store's own connection, fetched in chunks
    into Arrow arrays."""
    parts: list[pa.Table] = []
    with engine.connect() as conn:
        res = conn.execute(query)
        while True:
            rows = res.fetchmany(200_000)
            if not rows:
                break
            cols = list(zip(*rows))
            parts.append(pa.table({n: pa.array(list(c), type=pa.int64() if n == "id" else pa.string())
                                   for n, c in zip(names, cols)}))
    if not parts:
        return pa.table({n: pa.array([], type=pa.int64() if n == "id" else pa.string()) for n in names})
    return pa.concat_tables(parts)


def fetch(engine: sa.Engine, table: sa.Table, columns: Sequence[str], *, sessions: Sequence[str] | None = None,
          raters: Sequence[str] | None = None, parallel: bool = True, after: int | None = None) -> pa.Table:
    """The columns of ``table`` (rows of ``sessions`` / ``raters`` when given) as Arrow.

    One assessor's rows, a small table and an in-memory database are read with the
    store's own connection; a large SQLite table with ADBC in a child process, in id
    ranges on parallel connections; PostgreSQL with ADBC (binary ``COPY``). Statements
    are SQLAlchemy's, values bound as parameters. ``after``: only rows with a higher id."""
    query = sa.select(*[table.c[c] for c in columns])
    if after is not None:
        query = query.where(table.c.id > int(after))
    if sessions is not None:
        query = query.where(table.c.session_id.in_(list(sessions)))
    if raters is not None:
        query = query.where(table.c.rater_id.in_(list(raters)))
    target = _target(engine)
    if target is None or raters is not None:
        return _dbapi_table(engine, query, columns)
    driver, where = target
    if driver == "postgresql":
        return _postgres_table(where, query)
    with engine.connect() as conn:  # two scalar subqueries: SQLite answers each from the index end
        low = sa.select(sa.func.min(table.c.id))
        lo, hi = conn.execute(sa.select((low if after is None else low.where(table.c.id > int(after))).scalar_subquery(),
                                        sa.select(sa.func.max(table.c.id)).scalar_subquery())).one()
    if lo is None or hi - lo < SMALL_ROWS:
        return _dbapi_table(engine, query, columns)
    k = max(1, min(8, (hi - lo + 1) // PARTITION_ROWS)) if parallel else 1
    edges = np.linspace(lo - 1, hi, k + 1).astype(np.int64)
    parts = [query.where(table.c.id > int(a), table.c.id <= int(b)) for a, b in zip(edges[:-1], edges[1:])]
    return _sqlite_tables(where, parts, text=[c for c in columns if c != "id"],
                          dictionary=[c for c in columns if c in _REPEATED])


def _dictionary(col: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Integer codes (-1 = null) and labels of a text column, by Arrow's hash table (or as
    the reader's child encoded it)."""
    if len(col) == 0:
        return np.zeros(0, dtype=np.int32), []
    if pa.types.is_dictionary(col.type):
        enc = col.unify_dictionaries().combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    else:
        enc = pc.dictionary_encode(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
    codes = enc.indices.fill_null(-1).to_numpy() if enc.indices.null_count else enc.indices.to_numpy()
    return codes.astype(np.int32, copy=False), enc.dictionary.to_pylist()


def read(store, table: sa.Table | None = None, *, sessions: Iterable[str] | None = None,
         raters: Iterable[str] | None = None, history: bool = False, notes: bool | Iterable[str] = True,
         stamps: bool = True, framework=None, parallel: bool = True, snapshot: bool = True) -> CodedScores:
    """Judgements of ``table`` (default ``judgements``; ``consensus`` works the same) as
    :class:`~calibrate.scores.CodedScores`.

    Current judgements (the latest save per key) in contract order — session date,
    session, case, rater, item — or with ``history=True`` every save in the order saved,
    with ``saved_at`` and ``source``. ``notes`` is True (every note), False (none) or the
    sessions whose notes to read; ``stamps=False`` leaves out ``scored_at`` (an analysis
    needs no time stamps). ``framework`` gives the items' scales and hierarchy; without it
    the contract codes of each item's stored kind are used.

    A full current read of a SQLite workspace file (all sessions and raters, ``notes`` not
    True) takes the columnar snapshot of :mod:`calibrate.store.snapshot` plus the rows saved
    after it, when the snapshot still holds for the database, and writes it again when it
    does not (or lags far behind); ``snapshot=False`` (or ``CALIBRATE_NO_SNAPSHOT=1``) reads
    the database only. Both give the same result.
    """
    table = t.judgements if table is None else table
    engine = store.engine
    with_rater = "rater_id" in table.c
    key = ["session_id", "case_id"] + (["rater_id"] if with_rater else []) + ["item_id"]
    sessions = None if sessions is None else list(sessions)
    raters = None if raters is None else list(raters)
    cols = ["id", *key, "value"] + (["scored_at"] if stamps or history else [])
    read_notes = notes is True
    if read_notes:
        cols.append("note")
    if history:
        cols += ["saved_at", "source"]
    cache = (snap.path_for(engine, table) if snapshot and not history and sessions is None and raters is None
             and notes is not True and snap.enabled() else None)
    base = tail = state = None
    if cache is None:
        arrow = fetch(engine, table, cols, sessions=sessions, raters=raters if with_rater else None, parallel=parallel)
    else:  # the snapshot's columns, whatever this read needs of them
        snap_cols = ["id", *key, "value", "scored_at"]
        with engine.connect() as conn:
            state = snap.db_state(conn, table)  # before the rows: a change during the read makes it stale
            loaded = snap.load(cache, conn, table, state, snap_cols)
        if loaded is None:
            arrow = fetch(engine, table, snap_cols, parallel=parallel)
        else:
            base, last = loaded
            tail = _like(fetch(engine, table, snap_cols, parallel=parallel, after=last), base.schema)
            arrow = pa.concat_tables([base, tail]) if tail.num_rows else base
    if arrow.num_rows == 0:  # an empty result carries no column types
        arrow = pa.table({c: pa.array([], type=pa.int64() if c == "id" else pa.string()) for c in cols})
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.select(t.items.c.id, t.items.c.kind)).all())
        dates = dict(conn.execute(sa.select(t.sessions.c.id, t.sessions.c.session_date)).all())
    ids = arrow.column("id").to_numpy()
    names = {"session_id": "session", "case_id": "case", "rater_id": "rater", "item_id": "item"}
    out_codes: dict[str, np.ndarray] = {}
    out_labels: dict[str, list] = {}
    for c in key:  # categories: sessions in time order; cases, raters, items sorted
        codes, labels = _dictionary(arrow.column(c))
        if c == "session_id":
            order = session_time_order(labels, [dates.get(x) for x in labels]) if labels else np.zeros(0, np.int64)
        else:
            order = np.argsort(np.array(labels, dtype=object), kind="stable") if labels else np.zeros(0, np.int64)
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        out_codes[names[c]] = rank[codes] if len(labels) else codes
        out_labels[names[c]] = [labels[i] for i in order]
    sizes = [len(out_labels[names[c]]) for c in key]
    whole = False  # every row, in the order read: nothing to gather
    if history:
        keep = np.argsort(ids, kind="stable")
    elif base is not None and tail.num_rows == 0 and _strictly_increasing(
            combined_key([out_codes[names[c]] for c in key], sizes)):
        keep, whole = np.arange(len(ids)), True  # the snapshot alone, still in key order (dates unchanged)
    else:  # the latest save per key, in key order: session (in time), case, rater, item
        keep = latest_in_key_order(ids, [out_codes[names[c]] for c in key], sizes)
    if not whole:
        out_codes = {n: c[keep] for n, c in out_codes.items()}
    slabels = out_labels["session"]
    vcodes, vlabels = _dictionary(arrow.column("value"))
    vcodes = vcodes if whole else vcodes[keep]
    item_labels = out_labels["item"]
    item_kinds = [kinds.get(i) for i in item_labels]
    items = item_table(item_labels, item_kinds, framework=framework)
    frame = {n: pd.Categorical.from_codes(out_codes[n], categories=pd.Index(out_labels[n], dtype=object),
                                          ordered=(n == "session"))
             for n in ("session", "case", "rater", "item") if n in out_codes}
    kind_cats = list(KINDS) + sorted({k for k in item_kinds if k is not None} - set(KINDS))
    per_item = np.array([kind_cats.index(k) if k is not None else -1 for k in item_kinds] + [-1], dtype=np.int64)
    icodes = out_codes["item"]
    frame["kind"] = pd.Categorical.from_codes(per_item[np.where(icodes >= 0, icodes, len(item_kinds))],
                                              categories=pd.Index(kind_cats, dtype=object))
    frame["value"] = pd.Categorical.from_codes(vcodes, categories=pd.Index(vlabels, dtype=object))
    df = pd.DataFrame(frame)
    df["position"] = positions(icodes, vcodes, vlabels, items)
    df["id"] = ids if whole else ids[keep]
    take = pa.array(keep)

    def column(name):
        return arrow.column(name) if whole else arrow.column(name).take(take)

    if read_notes:
        df["note"] = _strings(column("note"))
    if "scored_at" in cols:
        df["scored_at"] = _strings(column("scored_at"))
    if history:
        df["saved_at"] = _strings(column("saved_at"))
        df["source"] = _strings(column("source"))
    session_dates = tuple(dates.get(s) for s in slabels)
    moved = base is not None and not tail.num_rows and not whole  # a session's date moved: re-sorted
    if cache is not None and len(keep) and (base is None or moved or snap.due(base.num_rows, tail.num_rows)):
        snap.save(cache, engine, table, state, _snapshot_rows(key, names, out_codes, out_labels, vcodes, vlabels,
                                                              df["id"].to_numpy(), column("scored_at")))
    coded = CodedScores(df, items, session_dates)
    if not isinstance(notes, bool):
        coded = attach_notes(store, coded, notes, table)
    return coded


def _strictly_increasing(a: np.ndarray) -> bool:
    return bool(np.all(a[1:] > a[:-1]))


def _like(tail: pa.Table, schema: pa.Schema) -> pa.Table:
    """``tail`` (rows read from the database) with the column types of the snapshot."""
    cols = []
    for field in schema:
        col = tail.column(field.name)
        if pa.types.is_dictionary(field.type) and not pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col.cast(field.type.value_type))
        cols.append(col.cast(field.type))
    return pa.table(cols, schema=schema.remove_metadata())


def _snapshot_rows(key, names, codes, labels, vcodes, vlabels, ids, scored_at) -> pa.Table:
    """The current rows, in key order, as the snapshot keeps them (dictionary-encoded)."""
    def enc(c, lab):
        return pa.DictionaryArray.from_arrays(pa.array(c, type=pa.int32(), mask=c < 0),
                                              pa.array(lab, type=pa.string()))

    cols = {"id": pa.array(ids, type=pa.int64())}
    cols.update({c: enc(codes[names[c]], labels[names[c]]) for c in key})
    cols["value"] = enc(vcodes, vlabels)
    scored_at = scored_at.cast(scored_at.type.value_type) if pa.types.is_dictionary(scored_at.type) else scored_at
    cols["scored_at"] = pc.dictionary_encode(scored_at.combine_chunks().cast(pa.string()))
    return pa.table(cols)


def _strings(col: pa.ChunkedArray) -> pd.Series:
    """A text column as pandas ``string`` (Arrow-backed: no Python object per row)."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    col = col.cast(pa.large_string()) if not pa.types.is_large_string(col.type) else col
    return pd.Series(pd.arrays.ArrowStringArray(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)))


def attach_notes(store, coded: CodedScores, sessions: Iterable[str], table: sa.Table | None = None) -> CodedScores:
    """``coded`` (read by :func:`read`, which keeps each row's ``id``) with the notes of
    ``sessions`` filled in (NA elsewhere): the report quotes the notes of one session only."""
    table = t.judgements if table is None else table
    sessions = list(sessions)
    q = sa.select(table.c.id, table.c.note).where(table.c.session_id.in_(sessions), table.c.note.is_not(None))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    frame = coded.frame.copy(deep=False)  # a new column on the same arrays
    # the few notes as text, spread to their rows by position (-1: no note), without a
    # Python object per row
    where = np.full(len(frame), -1, dtype=np.int64)
    if rows:  # the rows of those sessions only are searched (a note's id is one of theirs)
        cats = frame["session"].cat.categories
        mine = np.flatnonzero(np.isin(frame["session"].cat.codes.to_numpy(),
                                      [cats.get_loc(s) for s in set(sessions) if s in cats]))
        local = pd.Index(frame["id"].to_numpy()[mine]).get_indexer([r[0] for r in rows])
        pos = np.where(local >= 0, mine[local], -1)
        hit = np.flatnonzero(pos >= 0)
        where[pos[hit]] = hit
    text = pd.array(np.asarray([r[1] for r in rows] + [None], dtype=object), dtype="string")
    frame["note"] = text.take(where, allow_fill=True)
    return CodedScores(frame, coded.items, coded.session_dates)
