"""Importing score and consensus tables: streamed, checked, written in bulk, all or nothing.

Owns :class:`ImportsMixin` of :class:`calibrate.store.Store` and :class:`ImportSummary`.
A table (a DataFrame or a CSV/``.xlsx`` file, read in chunks by
:func:`calibrate.tabular.read_chunks`) goes through the contract's validator
(:class:`calibrate.schema.TableValidator`) chunk by chunk and, while no problem has been
found, into the database inside one write transaction with the engine's bulk path
(:mod:`calibrate.store.bulk`): SQLite ``executemany``, PostgreSQL ``COPY`` into a staging
table and one ``INSERT … SELECT`` per table. Any problem — a bad row, a stored session
with another date — rolls the whole transaction back, so nothing is half-written; memory
is bounded by the chunk, not the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..schema import CODES, DEFAULT_FRAMEWORK, ItemSpec, TableValidator, allowed_values
from . import schema as t
from .base import utcnow
from .bulk import PostgresWriter, SQLiteWriter
from .checking import CHILD_CHUNK_ROWS, CHILD_MIN_BYTES, CheckStage, checked_chunks, use_child
from .pseudonyms import ServerPseudonymiser
from .retry import retrying


@dataclass(frozen=True)
class ImportSummary:
    """What an import did. Counts only — never the imported text."""

    source: str
    rows: int
    appended: int
    unchanged: int
    new_sessions: tuple[str, ...] = ()
    new_cases: tuple[str, ...] = ()
    new_raters: tuple[str, ...] = ()
    replaced: Mapping[str, int] = field(default_factory=dict)
    new_items: tuple[str, ...] = ()

    def message(self) -> str:
        parts = [f"{self.source}: {self.rows} rows read, {self.appended} saved, {self.unchanged} unchanged"]
        if self.new_sessions:
            parts.append(f"{len(self.new_sessions)} new session(s)")
        if self.new_cases:
            parts.append(f"{len(self.new_cases)} new case(s)")
        if self.new_raters:
            parts.append(f"{len(self.new_raters)} new rater(s)")
        if self.new_items:
            parts.append(f"{len(self.new_items)} new custom item(s) not in a framework")
        if self.replaced:
            parts.append("pseudonymised: " + (", ".join(f"{k} {v}" for k, v in sorted(self.replaced.items()) if v) or "nothing found"))
        return "; ".join(parts) + "."


def _opener(data, chunk_rows: int) -> Callable[[], tuple[list[str], Iterator[pd.DataFrame]]]:
    """A way to (re)start reading ``data`` — a DataFrame or a file path — in chunks; an
    import that is retried reads its input again from the start."""
    if isinstance(data, (str, Path)):
        from ..tabular import read_chunks

        return lambda: read_chunks(data, chunk_rows=chunk_rows)
    if not isinstance(data, pd.DataFrame):
        from ..errors import InputError

        raise InputError(f"an import takes a DataFrame or the path of a CSV/.xlsx file, got {type(data).__name__}.")

    def frame_chunks():
        return list(data.columns), (data.iloc[i:i + chunk_rows] for i in range(0, max(len(data), 1), chunk_rows))

    return frame_chunks


class ImportsMixin:
    """Imports of score and consensus tables into a store."""

    #: rows per chunk of an import (memory is bounded by this, not by the file)
    import_chunk_rows = 200_000
    #: files of at least this size are read and checked in a child process while this one
    #: writes (:mod:`calibrate.store.checking`); smaller ones inline
    import_child_bytes = CHILD_MIN_BYTES

    def import_scores(self, data, *, source: str | None = None, pseudonymise_raters: bool = False,
                      roster=None, new_items: bool = False) -> ImportSummary:
        """Import a score table (CONTRACTS §1) — a DataFrame or a CSV/``.xlsx`` path — all
        rows or none.

        Sessions, cases and raters that don't exist yet are created (imported sessions
        count as revealed); a row equal to the current judgement is skipped, so importing
        the same file twice changes nothing. With ``pseudonymise_raters=True`` the
        ``rater`` column holds real names: each is replaced by its keyed pseudonym
        (``beoordelaar-XXXXXX``) and the name is kept only in the store's rater table,
        shown only for sessions that opt in (:meth:`show_rater_names`).

        Every id (session, case, rater, item) is checked for personal data against the
        names this workspace knows (its stored fingerprints, plus ``roster``'s, which are
        then stored too) and the patterns (e-mail, phone, student number in the
        workspace's format, BSN, IBAN ...): such a row is refused, its value masked in the
        message. Notes are pseudonymised. An item id that is not in a framework but looks
        like a mistyped framework item is refused unless ``new_items=True``.
        """
        return self._import(data, source=_source(data, source, "scores"), with_rater=True,
                            pseudonymise_raters=pseudonymise_raters, roster=roster, new_items=new_items)

    def import_consensus(self, data, *, source: str | None = None, roster=None, new_items: bool = False) -> ImportSummary:
        """Import consensus (benchmark) judgements, same rules as :meth:`import_scores`."""
        return self._import(data, source=_source(data, source, "consensus"), with_rater=False, roster=roster,
                            new_items=new_items)

    def _import_specs(self, conn, framework_items: set[str] | None = None) -> dict[str, ItemSpec]:
        """Every item an import may meet: those of the frameworks in use, then the stored
        ones (``framework_items``, when given, receives the ids the frameworks define)."""
        fw_ids = {r[0] for r in conn.execute(sa.select(t.sessions.c.framework_id).distinct()) if r[0]} | {DEFAULT_FRAMEWORK}
        specs: dict[str, ItemSpec] = {}
        for fid in fw_ids:
            for item in self.framework(fid).items():
                specs[item.id] = ItemSpec(item.id, item.kind, tuple(item.codes))
        if framework_items is not None:
            framework_items.update(specs)
        for r in conn.execute(sa.select(t.items.c.id, t.items.c.kind)):
            if r.id not in specs:
                specs[r.id] = ItemSpec(r.id, r.kind, CODES[r.kind])
        return specs

    def check_values_on_scale(self) -> None:
        """Refuse (an :class:`InputError` naming session, case and item, and the way out)
        when the database holds a judgement or consensus value outside its item's kind's
        codes — written past calibrate over raw SQL — rather than let a report count it
        as missing or fail half-way. One aggregate query per table."""
        from ..errors import InputError

        with self.engine.connect() as conn:
            for table, what in ((t.judgements, "judgement"), (t.consensus, "consensus value")):
                off = sa.or_(*[sa.and_(t.items.c.kind == kind, table.c.value.notin_(list(allowed_values(kind))))
                               for kind in CODES])
                q = (sa.select(sa.func.count(), sa.func.min(table.c.session_id), sa.func.min(table.c.item_id))
                     .select_from(table.join(t.items, table.c.item_id == t.items.c.id))
                     .where(table.c.value.isnot(None), off))
                n, session, item = conn.execute(q).one()
                if n:
                    raise InputError(
                        f"the database holds {n} {what}(s) outside their item's scale (first: session {session!r}, "
                        f"item {item!r}); they were not written by calibrate, which checks every value.",
                        location=self.where,
                        hint="Correct or delete them in the database (or re-import the scores with calibrate); "
                             "no report was written.",
                    )

    @retrying("the import")
    def _import(self, data, *, source: str, with_rater: bool, pseudonymise_raters: bool = False,
                roster=None, new_items: bool = False) -> ImportSummary:
        framework_items: set[str] = set()
        with self.engine.connect() as conn:
            specs = self._import_specs(conn, framework_items)
        check = TableValidator(source=source, with_rater=with_rater, items=specs)
        guard = self.import_pseudonymiser(roster)
        doors = _Doors(guard, specs, framework_items, new_items=new_items)
        child = use_child(data, min_bytes=self.import_child_bytes)
        # a child's chunks are smaller: the writer starts sooner and ends sooner after the reader
        header, chunks = _opener(data, min(self.import_chunk_rows, CHILD_CHUNK_ROWS) if child else self.import_chunk_rows)()
        header = check.check_header(header)
        table = t.judgements if with_rater else t.consensus
        names: dict[str, str] = {}
        rename = self._rater_pseudonyms(names) if pseudonymise_raters and "rater" in header else None
        now = utcnow()
        Writer = PostgresWriter if self.engine.dialect.name == "postgresql" else SQLiteWriter
        with self._write() as conn:
            if roster is not None:  # the roster's names are known from now on, also to the notes
                self._check_key(conn, guard._key)
                self._store_fingerprints(conn, guard)
                self._pseudonymiser = None
            fw = self.framework(DEFAULT_FRAMEWORK)
            self._ensure_framework(conn, fw)
            if child and "note" in header:
                # made here, where the transaction is: the child only uses it
                child = not isinstance(self.note_pseudonymiser(conn), ServerPseudonymiser)
            stage = CheckStage(chunks, check, doors, rename=rename, names=names,
                               notes=lambda notes, replaced: self._pseudonymised_notes(notes, replaced, conn))
            writer = Writer(self, conn, table, source=source[:255], now=now, framework_id=fw.id)
            n_rows = 0
            run = checked_chunks(stage, child=child)
            try:
                while True:
                    try:
                        clean = next(run)
                    except StopIteration as end:
                        outcome = end.value
                        break
                    n_rows += len(clean)
                    writer.write(clean)
            finally:
                run.close()  # a child still reading stops now, not when the generator is collected
            n_rows -= len(outcome.drop)
            appended = writer.finish(outcome.drop)
            for rid, name in outcome.names.items():
                conn.execute(sa.update(t.raters).where(t.raters.c.id == rid).values(display_name=name))
        if roster is not None:
            self._pseudonymiser = None
        return ImportSummary(source, n_rows, appended, n_rows - appended, tuple(writer.new_sessions),
                             tuple(writer.new_cases), tuple(writer.new_raters), outcome.replaced,
                             tuple(outcome.unknown))

    def _rater_pseudonyms(self, names: dict[str, str]):
        """A chunk -> chunk function that replaces rater names by their keyed pseudonyms
        (each distinct name once), remembering pseudonym -> name in ``names``."""
        from .. import privacy

        key = privacy.load_or_create_key(self.key_dir())

        def rename(chunk: pd.DataFrame) -> pd.DataFrame:
            chunk = chunk.copy()
            chunk.columns = [str(c).strip() for c in chunk.columns]
            raw = chunk["rater"].astype("string").str.strip()
            codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
            pseudo = []
            for name in uniques:
                pid = privacy.rater_pseudonym(str(name), key=key)
                names[pid] = str(name)
                pseudo.append(pid)
            chunk["rater"] = pd.array(np.append(np.asarray(pseudo, dtype=object), None)[codes], dtype="string")
            return chunk

        return rename

    def _pseudonymised_notes(self, notes: pd.Series, replaced: dict[str, int], conn) -> pd.Series:
        """Notes through the store's pseudonymiser, each distinct note once; the counts of
        what was replaced are added to ``replaced`` (per row, as if each were done alone)."""
        have = notes.notna().to_numpy()
        if not have.any():
            return notes
        codes, uniques = pd.factorize(notes[have])
        uniques = np.asarray(uniques, dtype=object)
        freq = np.bincount(codes, minlength=len(uniques))
        pseudo = self.note_pseudonymiser(conn)
        texts = []
        for note, n in zip(uniques, freq):
            res = pseudo.pseudonymise(str(note))
            for k, v in res.counts.items():
                replaced[k] = replaced.get(k, 0) + v * int(n)
            texts.append(res.text)
        if all(t == str(u) for t, u in zip(texts, uniques)):
            return notes  # nothing to replace: the column as it came
        out = notes.to_numpy(dtype=object, na_value=None)
        out[have] = np.asarray(texts, dtype=object)[codes]
        return pd.Series(pd.array(out, dtype="string"), index=notes.index)


#: session dates outside these years are a typo (1066, 20226), not a kalibreersessie
SESSION_YEARS = (1950, 2100)


class _Doors:
    """What an import checks beside the table's contract (:class:`TableValidator`), chunk
    by chunk, each distinct value once: personal data in an id (the value masked), a NUL
    character or an id too long to store (PostgreSQL refuses both; SQLite would keep them),
    a session year that cannot be right, and a new item id that looks like a mistyped
    framework item. Problems go into the validator's list, so the import refuses them
    all at once and writes nothing."""

    ID_COLUMNS = ("session", "case", "rater", "item")

    def __init__(self, guard, specs: Mapping[str, ItemSpec], framework_items: set[str], *, new_items: bool):
        self.guard = guard
        self.specs = specs
        self.framework_items = sorted(framework_items)
        self._folded = {_fold_id(i): i for i in self.framework_items}
        self.new_items = new_items
        self.seen: dict[str, set] = {c: set() for c in self.ID_COLUMNS}
        self.unknown: dict[str, int] = {}
        self.years_seen: set[str] = set()

    def chunk(self, clean: pd.DataFrame, check: TableValidator) -> None:
        from .cases import identifier_problems

        for col in self.ID_COLUMNS:
            if col not in clean.columns:
                continue
            first = clean[col].dropna().drop_duplicates()
            for idx, value in zip(first.index, first.to_numpy(dtype=object)):
                if value in self.seen[col]:
                    continue
                self.seen[col].add(value)
                for problem in identifier_problems(self.guard, {col: value}):
                    if check._room():
                        check._err(idx, col, problem)
                if col == "item" and value not in self.specs and value not in self.unknown:
                    self.unknown[value] = idx
        if "note" in clean.columns:
            notes = clean["note"]
            nul = notes.notna() & notes.str.contains("\x00", regex=False).fillna(False)
            for idx in clean.index[nul.to_numpy(dtype=bool)][: check._room()]:
                check._err(idx, "note", "holds a NUL character, which cannot be stored; remove it.")
        dates = clean["session_date"].dropna().drop_duplicates()
        for idx, date in zip(dates.index, dates.to_numpy(dtype=object)):
            if date in self.years_seen:
                continue
            self.years_seen.add(date)
            year = int(str(date)[:4])
            if not SESSION_YEARS[0] <= year <= SESSION_YEARS[1] and check._room():
                check._err(idx, "session_date", f"{date} lies in the year {year}; a session date lies between "
                                                f"{SESSION_YEARS[0]} and {SESSION_YEARS[1]}. Check the year.")

    def finish(self, check: TableValidator) -> None:
        """Unknown item ids that look like a framework item (the same but for case or
        separators, or nearly the same) are refused with the likely meant id, unless the
        import was told they are new (``new_items``)."""
        if self.new_items or not self.framework_items:
            return
        import difflib

        for item, idx in self.unknown.items():
            meant = self._folded.get(_fold_id(item))
            if meant is None:
                close = difflib.get_close_matches(item, self.framework_items, n=1, cutoff=0.9)
                meant = close[0] if close else None
            if meant is not None and check._room():
                check._err(idx, "item", f"unknown item {item!r}; did you mean {meant!r}? A mistyped item id would "
                                        "become a new item of its own. Correct it, or import with --new-items "
                                        "if it really is a new item.")


def _fold_id(item: str) -> str:
    import re

    return re.sub(r"[\s._\-]+", ".", item.casefold()).strip(".")


def _source(data, source: str | None, default: str) -> str:
    if source is not None:
        return source
    if isinstance(data, (str, Path)):
        return Path(data).name
    return default
