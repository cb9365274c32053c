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

from ..schema import CODES, DEFAULT_FRAMEWORK, ItemSpec, TableValidator
from . import schema as t
from .base import utcnow
from .bulk import PostgresWriter, SQLiteWriter
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

    def message(self) -> str:
        parts = [f"{self.source}: {self.rows} rows read, {self.appended} saved, {self.unchanged} unchanged"]
        if self.new_sessions:
            parts.append(f"{len(self.new_sessions)} new session(s)")
        if self.new_cases:
            parts.append(f"{len(self.new_cases)} new case(s)")
        if self.new_raters:
            parts.append(f"{len(self.new_raters)} new rater(s)")
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

    def import_scores(self, data, *, source: str | None = None, pseudonymise_raters: bool = False) -> ImportSummary:
        """Import a score table (CONTRACTS §1) — a DataFrame or a CSV/``.xlsx`` path — all
        rows or none.

        Sessions, cases and raters that don't exist yet are created (imported sessions
        count as revealed); a row equal to the current judgement is skipped, so importing
        the same file twice changes nothing. With ``pseudonymise_raters=True`` the
        ``rater`` column holds real names: each is replaced by its keyed pseudonym
        (``beoordelaar-XXXXXX``) and the name is kept only in the store's rater table,
        shown only for sessions that opt in (:meth:`show_rater_names`).
        """
        return self._import(data, source=_source(data, source, "scores"), with_rater=True,
                            pseudonymise_raters=pseudonymise_raters)

    def import_consensus(self, data, *, source: str | None = None) -> ImportSummary:
        """Import consensus (benchmark) judgements, same rules as :meth:`import_scores`."""
        return self._import(data, source=_source(data, source, "consensus"), with_rater=False)

    def _import_specs(self, conn) -> dict[str, ItemSpec]:
        """Every item an import may meet: those of the frameworks in use, then the stored ones."""
        fw_ids = {r[0] for r in conn.execute(sa.select(t.sessions.c.framework_id).distinct()) if r[0]} | {DEFAULT_FRAMEWORK}
        specs: dict[str, ItemSpec] = {}
        for fid in fw_ids:
            for item in self.framework(fid).items():
                specs[item.id] = ItemSpec(item.id, item.kind, tuple(item.codes))
        for r in conn.execute(sa.select(t.items.c.id, t.items.c.kind)):
            if r.id not in specs:
                specs[r.id] = ItemSpec(r.id, r.kind, CODES[r.kind])
        return specs

    @retrying("the import")
    def _import(self, data, *, source: str, with_rater: bool, pseudonymise_raters: bool = False) -> ImportSummary:
        with self.engine.connect() as conn:
            specs = self._import_specs(conn)
        check = TableValidator(source=source, with_rater=with_rater, items=specs)
        header, chunks = _opener(data, self.import_chunk_rows)()
        check.check_header(header)
        table = t.judgements if with_rater else t.consensus
        names: dict[str, str] = {}
        replaced: dict[str, int] = {}
        rename = self._rater_pseudonyms(names) if pseudonymise_raters and "rater" in [h.strip() for h in header] else None
        now = utcnow()
        Writer = PostgresWriter if self.engine.dialect.name == "postgresql" else SQLiteWriter
        with self._write() as conn:
            fw = self.framework(DEFAULT_FRAMEWORK)
            self._ensure_framework(conn, fw)
            writer = Writer(self, conn, table, source=source[:255], now=now, framework_id=fw.id)
            n_rows = 0
            for chunk in chunks:
                if rename is not None:
                    chunk = rename(chunk)
                clean = check.chunk(chunk)
                if check.errors:
                    if len(check.errors) > check.max_errors:
                        break  # enough to show; nothing will be written
                    continue
                n_rows += len(clean)
                if "note" in clean.columns:
                    clean["note"] = self._pseudonymised_notes(clean["note"], replaced, conn)
                writer.write(clean)
            drop = check.finish()  # raises on any problem: the transaction rolls back
            n_rows -= len(drop)
            appended = writer.finish(drop)
            for rid, name in names.items():
                conn.execute(sa.update(t.raters).where(t.raters.c.id == rid).values(display_name=name))
        return ImportSummary(source, n_rows, appended, n_rows - appended, tuple(writer.new_sessions),
                             tuple(writer.new_cases), tuple(writer.new_raters), replaced)

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


def _source(data, source: str | None, default: str) -> str:
    if source is not None:
        return source
    if isinstance(data, (str, Path)):
        return Path(data).name
    return default
