"""The workspace store: frameworks, sessions, cases, raters, judgements, consensus.

SQLite in a workspace directory by default, PostgreSQL by URL. Every write is one
transaction (all or nothing). Judgements are never overwritten in place: each save
is appended with its time and the latest per (session, case, rater, item) is current.

:class:`Store` is one object with a room per concern:

* :mod:`.base` — opening, the schema version, one write transaction at a time, frameworks;
* :mod:`.sessions` — kalibreersessies, their cases and assessors, reveal;
* :mod:`.cases` — the cases import and the pseudonym key;
* :mod:`.imports` (with :mod:`.bulk`) — score and consensus imports, streamed and in bulk;
* :mod:`.judgements` (with :mod:`.reader`) — reading the score table, decoded once;
* :mod:`.saves` — an assessor's save of one case, the consensus, :class:`RaterView`.
"""

from __future__ import annotations

from .base import StoreBase, utcnow
from .cases import CasesMixin
from .imports import ImportsMixin, ImportSummary
from .judgements import JudgementsMixin
from .saves import RaterView, SavesMixin
from .sessions import SessionsMixin

__all__ = ["ImportSummary", "RaterView", "Store", "utcnow"]


class Store(SavesMixin, JudgementsMixin, ImportsMixin, CasesMixin, SessionsMixin, StoreBase):
    """A workspace database. Open with :meth:`open` or :meth:`from_env`."""
