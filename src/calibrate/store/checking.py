"""The reading and checking half of an import, inline or in a process of its own.

An import has two halves: reading, checking and pseudonymising the rows
(:class:`CheckStage`: the file's chunks through :class:`calibrate.schema.TableValidator`,
the import's own doors and the note pseudonymiser) and writing them
(:mod:`calibrate.store.bulk`). Both are CPU work in Python, and one process runs one thread
of Python at a time: SQLite's ``executemany`` gives up the interpreter while it steps a row
but must take it back for every next one, so a writer thread next to a checking thread
waits for it row after row. For a large file the check stage therefore runs in a child
process (:func:`checked_chunks`, forked so that it starts at once with everything the parent
knows — the item specs, the pseudonymisers — and never touches the parent's database
connection) and sends the clean chunks through a pipe; the parent only writes.

Nothing changes for the caller: the same chunks in the same order, then the same outcome
(the row labels to leave out) or the same :class:`~calibrate.errors.InputError`, raised in
the parent, where the write transaction rolls back. Memory stays bounded by the chunk: the
pipe holds one chunk at a time and the child waits while it is full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from ..errors import StoreError
from ..forked import Child, Lost, may_fork

#: files smaller than this are checked inline: a child costs a fork and a pipe
CHILD_MIN_BYTES = 4 << 20
#: rows per chunk of an import checked in a child (at most): the writer waits for the first
#: chunk and the reader for the last insert, so both waits are as long as one chunk takes
CHILD_CHUNK_ROWS = 50_000


@dataclass
class Outcome:
    """What the check stage learnt besides the rows: the labels of later exact copies of
    earlier rows, rater pseudonym -> name, the counts of what notes had replaced, and the
    unknown item ids (first row label of each)."""

    drop: np.ndarray
    names: dict[str, str] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)


class CheckStage:
    """Chunks in, clean chunks out: rename raters, check the table and the doors,
    pseudonymise the notes. :meth:`run` yields the chunks to write while no problem has
    been found and returns the :class:`Outcome`; it raises the import's
    :class:`~calibrate.errors.InputError` when there was one."""

    def __init__(self, chunks: Iterable[pd.DataFrame], check, doors, *, rename: Callable | None,
                 notes: Callable[[pd.Series, dict], pd.Series], names: dict[str, str]):
        self.chunks, self.check, self.doors = chunks, check, doors
        self.rename, self.notes, self.names = rename, notes, names

    def run(self) -> Iterator[pd.DataFrame]:
        check, doors = self.check, self.doors
        replaced: dict[str, int] = {}
        for chunk in self.chunks:
            if self.rename is not None:
                chunk = self.rename(chunk)
            clean = check.chunk(chunk)
            doors.chunk(clean, check)
            if check.errors:
                if len(check.errors) > check.max_errors:
                    break  # enough to show; nothing will be written
                continue
            if "note" in clean.columns:
                clean["note"] = self.notes(clean["note"], replaced)
            yield clean
        doors.finish(check)
        drop = check.finish()  # raises on any problem: the caller's transaction rolls back
        return Outcome(drop, dict(self.names), replaced, dict(doors.unknown))


def use_child(data, *, min_bytes: int = CHILD_MIN_BYTES) -> bool:
    """Whether the check stage of an import of ``data`` runs in a child process: a file
    of at least ``min_bytes`` from a process that may fork (:func:`calibrate.forked.may_fork`)."""
    if not isinstance(data, (str, Path)) or not may_fork():
        return False
    try:
        return os.stat(data).st_size >= min_bytes
    except OSError:
        return False  # the reader names the problem


def checked_chunks(stage: CheckStage, *, child: bool) -> Iterator[pd.DataFrame]:
    """The clean chunks of ``stage``, run inline or in a forked child; returns (as a
    generator's value) the :class:`Outcome`."""
    if not child:
        return (yield from stage.run())
    proc = Child(_child, stage, last=("done",), name="calibrate-import-check", unportable=_failed)
    try:
        while True:
            try:
                kind, payload = proc.recv()
            except Lost as lost:
                raise StoreError(f"the import's reader stopped unexpectedly (exit code {lost.exitcode}); "
                                 "nothing was imported. Try again; if it happens again, import a smaller file.") from None
            if kind == "done":
                return payload
            yield payload  # "chunk"
    finally:
        proc.close()  # stopped unless it said its last word: the parent may stop early (an error of its own)


def _child(send, stage: CheckStage) -> None:
    """The child's work: run the stage, send each chunk, then the outcome (an error goes
    to the parent through :class:`calibrate.forked.Child`)."""
    run = stage.run()
    while True:
        try:
            clean = next(run)
        except StopIteration as end:
            send.send(("done", end.value))
            return
        send.send(("chunk", _categorical(clean)))


def _failed(text: str) -> StoreError:
    """An error of the child's that could not cross the pipe, as its traceback's text."""
    return StoreError(f"the import's reader failed; nothing was imported.\n{text}")


def _categorical(clean: pd.DataFrame) -> pd.DataFrame:
    """The chunk with every column categorical: the ids and codes repeat, so the pipe
    carries small integer codes and the few distinct labels, and the writer makes its
    Python values from those (one object per label, not per cell)."""
    out = {}
    for col in clean.columns:
        codes, labels = pd.factorize(clean[col], use_na_sentinel=True)
        out[col] = pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(labels, dtype=object), dtype=object))
    return pd.DataFrame(out, index=clean.index)
