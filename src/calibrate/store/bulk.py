"""The bulk paths of an import, one per engine, inside the import's one write transaction.

* :class:`SQLiteWriter` — per chunk, the new sessions, cases, raters, memberships and
  items, then the judgements with one ``executemany`` on the driver's connection (no
  parameter building per row in Python beyond the tuple). Rows equal to the current
  judgement of a session that existed before are left out (idempotent re-import). The
  ``executemany`` of a chunk runs on a thread of its own while the import reads and checks
  the next chunk (SQLite releases the GIL while it inserts): the next use of the
  connection — the next chunk, any statement through SQLAlchemy, the commit or the
  rollback — first waits for it. The per-row scale trigger of the table is dropped for
  the import and put back at its end, after one check of the distinct (item, value) pairs
  written against ``item_values`` (the same rule, checked once per pair instead of once
  per row; all inside the transaction, so a rollback restores the trigger too).
* :class:`PostgresWriter` — per chunk a ``COPY`` into a temporary staging table; at the
  end one ``INSERT … SELECT`` per table, the keys checked by the database in bulk.

Both write rows in file order and leave the deciding to the validator: a writer never
sees a chunk with a problem in it, and any exception rolls the transaction back.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import repeat

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import InputError
from ..scores import CodedScores
from . import reader
from . import schema as t
from .latest import combined_key


def _objects(col: pd.Series, na=None) -> list:
    """A column as a list of Python values, ``na`` for NA (a categorical one: one object
    per label, picked by code)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        labels = np.append(np.asarray(col.array.categories, dtype=object), na)
        return labels[col.array.codes].tolist()  # code -1 (NA): ``na``, at the end
    out = col.to_numpy(dtype=object, na_value=None).tolist()
    return out if na is None else [na if v is None else v for v in out]


def _first_rows(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Positions of the first row of each distinct combination of ``cols``, in row order
    (on the integer codes when the columns are categorical)."""
    if all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in cols):
        cats = [df[c].array for c in cols]  # code -1 (NA) becomes 0: NA is a value of its own
        key = combined_key([cat.codes.astype(np.int64) + 1 for cat in cats], [len(cat.categories) + 1 for cat in cats])
        return np.flatnonzero(~pd.Series(key).duplicated().to_numpy())
    return np.flatnonzero(~df.duplicated(cols).to_numpy())


def _distinct(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """The distinct combinations of ``cols`` (NA as None), in order of first appearance."""
    first = df.iloc[_first_rows(df, cols)]
    return list(zip(*[_objects(first[c]) for c in cols]))


def _sqlite_insert(table: sa.Table, columns: list[str], *, ignore: bool = False) -> str:
    """The text of ``INSERT [OR IGNORE] INTO table (columns) VALUES (?, …)``, made by
    SQLAlchemy's SQLite compiler, for the driver's ``executemany``."""
    from sqlalchemy.dialects import sqlite

    stmt = sa.insert(table).values({c: sa.bindparam(c) for c in columns})
    if ignore:
        stmt = stmt.prefix_with("OR IGNORE")
    return str(stmt.compile(dialect=sqlite.dialect(paramstyle="qmark")))


class _Current:
    """The current value (and note) per key of some stored sessions, to tell which
    imported rows change nothing."""

    def __init__(self, coded: CodedScores, keys: list[str], with_note: bool):
        self.keys = keys
        self.cats = {k: pd.Index(coded.frame[k].cat.categories) for k in keys}
        self.sizes = [len(self.cats[k]) for k in keys]
        self.index = pd.Index(combined_key([coded.codes(k) for k in keys], self.sizes))
        vc = coded.codes("value")
        labels = np.append(np.asarray(coded.frame["value"].cat.categories, dtype=object), None)
        self.value = labels[np.where(vc >= 0, vc, len(labels) - 1)]
        self.note = _objects(coded.frame["note"]) if with_note and "note" in coded.frame else None
        if self.note is not None:
            self.note = np.asarray(self.note, dtype=object)

    def same(self, chunk: pd.DataFrame) -> np.ndarray:
        codes = [self.cats[k].get_indexer(chunk[k].astype(object)) for k in self.keys]
        known = np.logical_and.reduce([c >= 0 for c in codes])
        key = combined_key([np.where(known, c, 0) for c in codes], self.sizes)
        pos = np.where(known, self.index.get_indexer(key), -1)
        hit = pos >= 0
        out = np.zeros(len(chunk), dtype=bool)
        if not hit.any():
            return out
        p = pos[hit]
        same = _equal(self.value[p], np.asarray(_objects(chunk["value"]), dtype=object)[hit])
        if self.note is not None:
            same &= _equal(self.note[p], np.asarray(_objects(chunk["note"]), dtype=object)[hit])
        out[hit] = same
        return out


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise equality of two object arrays, None equal to None."""
    return np.fromiter((x == y for x, y in zip(a, b)), dtype=bool, count=len(a))


class _Writer:
    def __init__(self, store, conn, table: sa.Table, *, source: str, now: str, framework_id: str):
        self.store, self.conn, self.table = store, conn, table
        self.with_rater = "rater_id" in table.c
        self.source, self.now, self.framework_id = source, now, framework_id
        self.new_sessions: list[str] = []
        self.new_cases: list[str] = []
        self.new_raters: list[str] = []


#: the per-row scale trigger of each table (:func:`calibrate.store.schema.scale_triggers`)
#: and the statement that drops it
_SCALE_INSERT_TRIGGERS = {
    "judgements": ("calibrate_judgements_scale_insert", 'DROP TRIGGER "calibrate_judgements_scale_insert"'),
    "consensus": ("calibrate_consensus_scale_insert", 'DROP TRIGGER "calibrate_consensus_scale_insert"'),
}


class SQLiteWriter(_Writer):
    """Chunk by chunk into SQLite: the driver's ``executemany`` in the import's transaction."""

    def __init__(self, store, conn, table, **kw):
        super().__init__(store, conn, table, **kw)
        self.db = conn.connection.driver_connection
        self.sessions = {r.id: r.session_date for r in conn.execute(sa.select(t.sessions.c.id, t.sessions.c.session_date))}
        self.existing = set(self.sessions)  # sessions stored before this import
        self.cases = {r[0] for r in conn.execute(sa.select(t.cases.c.id))}
        self.raters = {r[0] for r in conn.execute(sa.select(t.raters.c.id))}
        self.items = {r[0] for r in conn.execute(sa.select(t.items.c.id))}
        self.start_id = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        self.current: list[_Current] = []
        self.loaded: set[str] = set()
        self.inserted: list[np.ndarray] = []
        self.n_inserted = 0
        names = ["session_id", "case_id"] + (["rater_id"] if self.with_rater else []) + \
            ["item_id", "value", "note", "scored_at", "saved_at", "source"]
        self.insert_sql = _sqlite_insert(table, names)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="calibrate-import")
        self._pending: Future | None = None
        self.pairs: set[tuple[str, str]] = set()  # the (item, value) pairs inserted
        self._scale_trigger = self._drop_scale_trigger()
        # nothing else touches the connection while a chunk is being inserted
        sa.event.listen(conn, "before_cursor_execute", self._before_statement)
        sa.event.listen(conn, "commit", self._before_commit)
        sa.event.listen(conn, "rollback", self._before_rollback)

    # -------------------------------------------------------------- the write thread
    def _wait(self) -> None:
        """Wait for the chunk being inserted; its error, if any, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _before_statement(self, *_args) -> None:
        self._wait()

    def _before_commit(self, _conn) -> None:
        self._wait()
        self._pool.shutdown(wait=False)
        self._restore_scale_trigger()  # never commit without it (finish has put it back already)

    # -------------------------------------------------------------- the scale, checked in bulk
    def _drop_scale_trigger(self) -> str | None:
        """Drop the table's per-row scale trigger for the import (it costs a third of the
        insert's time); return its DDL, which :meth:`finish` runs again after checking the
        inserted (item, value) pairs against ``item_values`` at once. Both inside the
        import's transaction: a rollback puts the trigger back too."""
        name, drop = _SCALE_INSERT_TRIGGERS[self.table.name]
        row = self.db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
        if row is None:
            return None
        self.db.execute(drop)
        return row[0]

    def _check_scale(self) -> None:
        """What the trigger checks row by row, for the distinct (item, value) pairs written:
        each is one of its item's ``item_values``."""
        allowed = set(self.db.execute("SELECT item_id, value FROM item_values").fetchall())  # items x codes: small
        if any(p not in allowed for p in self.pairs):
            raise sqlite3.IntegrityError(t.SCALE_MESSAGE)  # what the trigger raises

    def _restore_scale_trigger(self) -> None:
        ddl, self._scale_trigger = self._scale_trigger, None
        if ddl is not None:
            self._check_scale()
            self.db.execute(ddl)

    def _before_rollback(self, _conn) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            self.db.interrupt()  # the import stops: no need to finish the insert
        if pending is not None:
            try:
                pending.result()
            except Exception:  # noqa: BLE001 - the rollback undoes it; the first error is the one raised
                pass
        self._pool.shutdown(wait=False)

    def write(self, clean: pd.DataFrame) -> None:
        # everything that needs no connection first, while the previous chunk is inserted
        db, now = self.db, self.now
        sess = clean.groupby("session", sort=False, observed=True)["session_date"].first()
        for s, d in sess.items():
            if s in self.sessions and self.sessions[s] != d:
                row = int(clean.index[(clean["session"] == s).to_numpy()][0]) + 2
                raise InputError(
                    f"session {s!r} is stored with date {self.sessions[s]}, the file says {d}; nothing was imported.",
                    location=f"{self.source}, row {row}, column 'session_date'",
                    hint="Use the stored date or another session id.",
                )
        new = [s for s in sess.index if s not in self.sessions]
        self.sessions.update({s: sess[s] for s in new})
        self.new_sessions += new
        cases = [c for (c,) in _distinct(clean, ["case"]) if c is not None and c not in self.cases]
        self.cases.update(cases)
        self.new_cases += cases
        session_cases = _distinct(clean, ["session", "case"])
        raters, session_raters = [], []
        if self.with_rater:
            raters = [r for (r,) in _distinct(clean, ["rater"]) if r is not None and r not in self.raters]
            self.raters.update(raters)
            self.new_raters += raters
            session_raters = _distinct(clean, ["session", "rater"])
        first = clean.iloc[_first_rows(clean, ["item"])]
        items = [(i, k) for i, k in zip(_objects(first["item"]), _objects(first["kind"])) if i not in self.items]
        self.items.update(i for i, _ in items)
        old = clean["session"].isin(self.existing).to_numpy()
        if not old.any():  # no stored session, so no row equals a current judgement
            rows = self._rows(clean)
            self._wait()
        else:  # reading the current judgements uses the store: after the pending insert
            self._wait()
            rows = self._rows(clean[~self._unchanged(clean, old)])
        if new:
            db.executemany(
                _sqlite_insert(t.sessions, ["id", "session_date", "framework_id", "title", "revealed", "show_rater_names",
                                            "parent_id", "round", "created_at"], ignore=True),
                [(s, sess[s], self.framework_id, None, True, False, None, 1, now) for s in new])
        if cases:
            db.executemany(_sqlite_insert(t.cases, ["id", "created_at"], ignore=True), [(c, now) for c in cases])
        db.executemany(_sqlite_insert(t.session_cases, ["session_id", "case_id", "position"], ignore=True),
                       [(s, c, 0) for s, c in session_cases])
        if raters:
            db.executemany(_sqlite_insert(t.raters, ["id", "created_at"], ignore=True), [(r, now) for r in raters])
        if self.with_rater:
            db.executemany(_sqlite_insert(t.session_raters, ["session_id", "rater_id"], ignore=True), session_raters)
        if items:
            db.executemany(_sqlite_insert(t.items, ["id", "kind"], ignore=True), items)
        if rows is not None:
            self._pending = self._pool.submit(db.executemany, self.insert_sql, rows)

    def _rows(self, todo: pd.DataFrame):
        """The judgement rows of ``todo`` for ``executemany`` (an iterator of tuples, made
        from one Python list per column), or None when there are none."""
        if not len(todo):
            return None
        now = self.now
        cols = [_objects(todo["session"]), _objects(todo["case"])]
        if self.with_rater:
            cols.append(_objects(todo["rater"]))
        cols += [_objects(todo["item"]), _objects(todo["value"]),
                 _objects(todo["note"]) if "note" in todo else repeat(None),
                 _objects(todo["scored_at"], na=now)]
        if self._scale_trigger is not None:
            self.pairs.update(p for p in _distinct(todo, ["item", "value"]) if p[1] is not None)
        self.inserted.append(np.asarray(todo.index, dtype=np.int64))
        self.n_inserted += len(todo)
        return zip(*cols, repeat(now), repeat(self.source))

    def _unchanged(self, clean: pd.DataFrame, old: np.ndarray) -> np.ndarray:
        """Rows equal to the current judgement (only the rows ``old`` of sessions stored
        before can have one)."""
        want = sorted(set(clean.loc[old, "session"]) - self.loaded)
        if want:
            coded = reader.read(self.store, self.table, sessions=want, notes=self.with_rater)
            keys = ["session", "case"] + (["rater"] if self.with_rater else []) + ["item"]
            self.current.append(_Current(coded, keys, self.with_rater))
            self.loaded.update(want)
        same = np.zeros(len(clean), dtype=bool)
        for cur in self.current:
            same |= cur.same(clean)
        return same

    def finish(self, drop: np.ndarray) -> int:
        """Remove later exact copies of earlier rows (found across chunks); return the
        number of rows appended."""
        self._wait()
        if len(drop) and self.inserted:
            labels = pd.Index(np.concatenate(self.inserted))
            pos = labels.get_indexer(drop)
            ids = (self.start_id + 1 + pos[pos >= 0]).tolist()
            for i in range(0, len(ids), 500):
                self.conn.execute(sa.delete(self.table).where(self.table.c.id.in_(ids[i:i + 500])))
            self.n_inserted -= len(ids)
        self._restore_scale_trigger()
        return self.n_inserted


class PostgresWriter(_Writer):
    """``COPY`` every chunk into a staging table; at the end one ``INSERT … SELECT`` per table."""

    def __init__(self, store, conn, table, **kw):
        super().__init__(store, conn, table, **kw)
        self.raw = conn.connection.driver_connection
        self.columns = ["row", "session", "session_date", "case"] + (["rater"] if self.with_rater else []) + \
            ["item", "kind", "value", "note", "scored_at"]
        self.staging = sa.Table(
            "calibrate_import", sa.MetaData(),
            *[sa.Column(c, sa.BigInteger if c == "row" else sa.Text) for c in self.columns],
            prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
        )
        self.staging.create(conn)

    def write(self, clean: pd.DataFrame) -> None:
        from psycopg import sql

        frame = clean.assign(row=np.asarray(clean.index, dtype=np.int64))
        if "note" not in frame:
            frame["note"] = pd.NA
        buf = io.StringIO()
        # pandas leaves a lone CR unquoted, which COPY refuses: then every cell is quoted
        # and a quoted empty cell is still NULL (FORCE_NULL)
        texts = [c for c in self.columns if c != "row"]
        cr = any(frame[c].astype("string").str.contains("\r", regex=False).any() for c in texts)
        frame[self.columns].to_csv(buf, header=False, index=False, lineterminator="\n",
                                   quoting=csv.QUOTE_ALL if cr else csv.QUOTE_MINIMAL)
        options = sql.SQL(", FORCE_NULL ({})").format(sql.SQL(", ").join(map(sql.Identifier, texts))) if cr else sql.SQL("")
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv{})").format(
            sql.Identifier(self.staging.name), sql.SQL(", ").join(map(sql.Identifier, self.columns)), options)
        with self.raw.cursor() as cur:
            with cur.copy(copy_sql) as copy:
                copy.write(buf.getvalue())

    def _new(self, col: str, table: sa.Table) -> list[str]:
        """Ids in the staging table's ``col`` that ``table`` does not hold yet, in file order."""
        i = self.staging.c
        q = (sa.select(i[col]).where(~sa.exists().where(table.c.id == i[col]))
             .group_by(i[col]).order_by(sa.func.min(i.row)))
        return [r[0] for r in self.conn.execute(q)]

    def finish(self, drop: np.ndarray) -> int:
        from sqlalchemy.dialects.postgresql import insert

        conn, i, now = self.conn, self.staging.c, self.now
        if len(drop):
            conn.execute(sa.delete(self.staging).where(i.row.in_([int(x) for x in drop])))
        s = t.sessions
        bad = conn.execute(
            sa.select(i.session, sa.func.min(i.row), s.c.session_date, sa.func.min(i.session_date))
            .join(s, s.c.id == i.session).where(s.c.session_date != i.session_date)
            .group_by(i.session, s.c.session_date).order_by(sa.func.min(i.row)).limit(1)).first()
        if bad is not None:
            raise InputError(
                f"session {bad[0]!r} is stored with date {bad[2]}, the file says {bad[3]}; nothing was imported.",
                location=f"{self.source}, row {int(bad[1]) + 2}, column 'session_date'",
                hint="Use the stored date or another session id.",
            )
        old_sessions = [r[0] for r in conn.execute(sa.select(i.session).distinct().join(s, s.c.id == i.session))]
        self.new_sessions = self._new("session", s)
        lit = sa.literal
        conn.execute(insert(s).from_select(
            ["id", "session_date", "framework_id", "title", "revealed", "show_rater_names", "parent_id", "round", "created_at"],
            sa.select(i.session, sa.func.min(i.session_date), lit(self.framework_id), sa.null(), sa.true(), sa.false(),
                      sa.null(), lit(1), lit(now)).group_by(i.session)).on_conflict_do_nothing())
        self.new_cases = self._new("case", t.cases)
        conn.execute(insert(t.cases).from_select(
            ["id", "created_at"], sa.select(i.case, lit(now)).distinct()).on_conflict_do_nothing())
        conn.execute(insert(t.session_cases).from_select(
            ["session_id", "case_id", "position"], sa.select(i.session, i.case, lit(0)).distinct()).on_conflict_do_nothing())
        if self.with_rater:
            self.new_raters = self._new("rater", t.raters)
            conn.execute(insert(t.raters).from_select(
                ["id", "created_at"], sa.select(i.rater, lit(now)).distinct()).on_conflict_do_nothing())
            conn.execute(insert(t.session_raters).from_select(
                ["session_id", "rater_id"], sa.select(i.session, i.rater).distinct()).on_conflict_do_nothing())
        conn.execute(insert(t.items).from_select(
            ["id", "kind"], sa.select(i.item, sa.func.min(i.kind)).group_by(i.item)).on_conflict_do_nothing())
        j = self.table
        key = [("session_id", "session"), ("case_id", "case")] + ([("rater_id", "rater")] if self.with_rater else []) + \
            [("item_id", "item")]
        source_cols = [i[c] for _, c in key] + [i.value, i.note, sa.func.coalesce(i.scored_at, lit(now)), lit(now),
                                               lit(self.source)]
        select = sa.select(*source_cols)
        if old_sessions:
            last = (sa.select(j.c.value, j.c.note).where(*[j.c[k] == i[c] for k, c in key])
                    .order_by(j.c.id.desc()).limit(1).correlate(self.staging).subquery("last"))
            same = last.c.value.is_not_distinct_from(i.value)
            if self.with_rater:
                same = same & last.c.note.is_not_distinct_from(i.note)
            unchanged = sa.exists(sa.select(sa.literal(1)).select_from(last).where(same))
            select = select.where(~(i.session.in_(old_sessions) & unchanged))
        select = select.order_by(i.row)
        cols = [k for k, _ in key] + ["value", "note", "scored_at", "saved_at", "source"]
        inserted = sa.insert(j).from_select(cols, select).returning(j.c.id).cte("inserted")
        return int(conn.execute(sa.select(sa.func.count()).select_from(inserted)).scalar_one())
