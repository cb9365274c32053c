"""Saving judgements one case at a time, and the assessor's blind view.

Owns :class:`SavesMixin` of :class:`calibrate.store.Store` — an assessor's save of one
case (one transaction; on PostgreSQL one statement), the facilitator's consensus — and
:class:`RaterView`, all that the scoring app may call.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd
import sqlalchemy as sa

from ..errors import AccessError, InputError
from ..schema import SCORE_COLUMNS, allowed_values
from . import schema as t
from .base import utcnow
from .retry import retrying


class RoundClosedError(AccessError):
    """A save into a revealed session: the reveal closed its blind round (schema version 3).

    A judgement changes after the reveal only in a re-score round the facilitator opens —
    a session of its own, linked to this one, blind until it is revealed in turn."""

    def __init__(self, session: str):
        self.session = session
        super().__init__(
            f"session {session!r} has been revealed: the reveal closed its blind round, so its judgements can no "
            "longer change. Nothing was saved. A judgement changes after the reveal only in a re-score round the "
            "facilitator opens."
        )


class SavesMixin:
    """Saves of one case by one assessor (or the consensus)."""

    @retrying("saving the judgements")
    def save_judgements(
        self,
        session: str,
        case: str,
        rater: str,
        values: Mapping[str, tuple[str | None, str | None] | str | None],
        *,
        source: str = "app",
    ) -> int:
        """Save one assessor's judgements of one case (one transaction); return how many rows were appended.

        ``values`` maps item id → value or (value, note). A value of None with a note
        stores the note alone (a half-filled item is kept). Values are checked against
        the item's scale; unchanged items are not appended again. Notes are pseudonymised.
        """
        fw = self.session_framework(session)
        rows = []
        for item_id, entry in values.items():
            value, note = entry if isinstance(entry, tuple) else (entry, None)
            spec = _checked_item(fw, session, item_id, value)
            if not getattr(spec, "assessed", True):
                raise InputError(f"item {item_id!r} is shown but not assessed (indicatief, niet om te beoordelen).")
            if note is not None:
                # made on the first note only: a save without notes needs no key or roster
                note = self.note_pseudonymiser().pseudonymise(note).text
            if note is not None and not note.strip():
                note = None
            if value is None and note is None:
                continue
            rows.append((item_id, value, note))
        now = utcnow()
        if self.engine.dialect.name == "postgresql":
            return self._save_judgements_pg(session, case, rater, rows, now, source)
        with self._write() as conn:
            self._check_save_membership(conn, session, case, rater)
            _check_round_open(conn, session)
            cur = self._current_for(conn, session, case, rater)
            todo = [(i, v, n) for i, v, n in rows if cur.get(i) != (v, n)]
            if todo:
                conn.execute(sa.insert(t.judgements), [
                    {"session_id": session, "case_id": case, "rater_id": rater, "item_id": i, "value": v, "note": n,
                     "scored_at": now, "saved_at": now, "source": source}
                    for i, v, n in todo
                ])
        return len(todo)

    def _save_judgements_pg(self, session, case, rater, rows, now, source) -> int:
        """PostgreSQL: the whole save is one statement in its own transaction (autocommit).

        The membership checks, the skipping of unchanged items and the insert all happen in
        the server, in one round trip: when 30 assessors press ``Opslaan`` at once, every
        extra round trip (BEGIN, a check, COMMIT) is another wait for a busy server.
        """
        params = {
            "session": session, "case": case, "rater": rater, "now": now, "source": source,
            "items": [i for i, _, _ in rows], "vals": [v for _, v, _ in rows], "notes": [n for _, _, n in rows],
        }
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            appended = conn.execute(_PG_SAVE, params).rowcount
            if appended == 0:
                # nothing new, or not allowed: say which (as the SQLite path does)
                self._check_save_membership(conn, session, case, rater)
                if rows:
                    _check_round_open(conn, session)
        return appended

    def _check_save_membership(self, conn, session: str, case: str, rater: str) -> None:
        member = conn.execute(
            sa.select(t.session_cases.c.case_id).where(t.session_cases.c.session_id == session, t.session_cases.c.case_id == case)
        ).first()
        if member is None:
            raise InputError(f"case {case!r} is not part of session {session!r}.")
        _check_rater_member(conn, session, rater)

    def _current_for(self, conn, session: str, case: str, rater: str) -> dict[str, tuple[str | None, str | None]]:
        j = t.judgements
        latest = (
            sa.select(sa.func.max(j.c.id).label("id"))
            .where(j.c.session_id == session, j.c.case_id == case, j.c.rater_id == rater)
            .group_by(j.c.item_id)
            .subquery()
        )
        q = sa.select(j.c.item_id, j.c.value, j.c.note).join(latest, latest.c.id == j.c.id)
        return {r.item_id: (r.value, r.note) for r in conn.execute(q)}

    def save_consensus(self, session: str, case: str, values: Mapping[str, tuple[str | None, str | None] | str], *, source: str = "app") -> int:
        """Record the consensus judgement agreed in the discussion, with the reason per item."""
        fw = self.session_framework(session)
        now = utcnow()
        recs = []
        for item_id, entry in values.items():
            value, note = entry if isinstance(entry, tuple) else (entry, None)
            _checked_item(fw, session, item_id, value)
            if note is not None:
                note = self.note_pseudonymiser().pseudonymise(note).text
            recs.append({"session_id": session, "case_id": case, "item_id": item_id, "value": value, "note": note,
                         "scored_at": now, "saved_at": now, "source": source})
        if recs:
            with self._write() as conn:
                conn.execute(sa.insert(t.consensus), recs)
        return len(recs)

    def rater_view(self, rater: str) -> "RaterView":
        """The blind view the scoring app uses for assessor ``rater``."""
        return RaterView(self, rater)



class RaterView:
    """What one assessor's app may call: their own sessions, cases and judgements.

    Before a session is revealed nothing here returns another assessor's judgements;
    :meth:`scores` raises :class:`AccessError` instead of filtering silently when asked
    for the panel of an unrevealed session.
    """

    def __init__(self, store, rater: str):
        self._store = store
        self.rater = rater

    def sessions(self) -> pd.DataFrame:
        with self._store.engine.connect() as conn:
            ids = {r[0] for r in conn.execute(sa.select(t.session_raters.c.session_id).where(t.session_raters.c.rater_id == self.rater))}
        df = self._store.sessions()
        return df[df["session"].isin(ids)].reset_index(drop=True)

    def cases(self, session: str) -> pd.DataFrame:
        self._check_member(session)
        return self._store.cases(session)

    def framework(self, session: str):
        return self._store.session_framework(session)

    def my_scores(self, session: str, case: str | None = None) -> pd.DataFrame:
        """This assessor's current judgements in ``session`` (optionally one case)."""
        self._check_member(session)
        df = self._store.coded_scores(session, raters=[self.rater]).to_frame()
        if case is not None:
            df = df[df["case"] == case]
        return df[list(SCORE_COLUMNS)].reset_index(drop=True)

    def scores(self, session: str) -> pd.DataFrame:
        """Everyone's judgements of ``session`` — only once it is revealed."""
        self._check_member(session)
        if not self._store.is_revealed(session):
            raise AccessError(
                f"session {session!r} has not been revealed yet: an assessor sees only their own judgements "
                "until the facilitator reveals the session."
            )
        return self._store.scores(session)

    def save(self, session: str, case: str, values, *, source: str = "app") -> int:
        # save_judgements itself refuses a rater who is not an assessor of the session
        return self._store.save_judgements(session, case, self.rater, values, source=source)

    def _check_member(self, session: str) -> None:
        with self._store.engine.connect() as conn:
            _check_rater_member(conn, session, self.rater)


# ---------------------------------------------------------------------- helpers
def _check_rater_member(conn, session: str, rater: str) -> None:
    """Raise :class:`AccessError` unless ``rater`` is an assessor of ``session``."""
    member = conn.execute(
        sa.select(t.session_raters.c.rater_id).where(t.session_raters.c.session_id == session, t.session_raters.c.rater_id == rater)
    ).first()
    if member is None:
        raise AccessError(f"assessor {rater!r} is not an assessor of session {session!r}.")


def _check_round_open(conn, session: str) -> None:
    """Raise :class:`RoundClosedError` when ``session`` has been revealed."""
    if conn.execute(sa.select(t.sessions.c.revealed).where(t.sessions.c.id == session)).scalar():
        raise RoundClosedError(session)


def _checked_item(fw, session: str, item_id: str, value: str | None):
    """The framework's item ``item_id`` (looked up in the framework's own index), with
    ``value`` checked against its scale; errors name the item and what is allowed."""
    try:
        spec = fw.item(item_id)
    except InputError:
        raise InputError(f"item {item_id!r} is not part of framework {fw.id!r} of session {session!r}.") from None
    allowed = allowed_values(spec.kind, spec.codes)
    if value is not None and value not in allowed:
        raise InputError(f"{value!r} is outside the scale of item {item_id!r}; allowed: {', '.join(allowed)}.")
    return spec


_PG_SAVE = sa.text(
    "INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, note, scored_at, saved_at, source) "
    "SELECT CAST(:session AS text), CAST(:case AS text), CAST(:rater AS text), u.item, u.val, u.note, CAST(:now AS text), CAST(:now AS text), CAST(:source AS text) "
    "FROM unnest(CAST(:items AS text[]), CAST(:vals AS text[]), CAST(:notes AS text[])) "
    "WITH ORDINALITY AS u(item, val, note, ord) "
    "WHERE EXISTS (SELECT 1 FROM session_cases sc WHERE sc.session_id = CAST(:session AS text) AND sc.case_id = CAST(:case AS text)) "
    "AND EXISTS (SELECT 1 FROM session_raters sr WHERE sr.session_id = CAST(:session AS text) AND sr.rater_id = CAST(:rater AS text)) "
    "AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = CAST(:session AS text) AND s.revealed) "
    "AND NOT EXISTS (SELECT 1 FROM (SELECT j.value, j.note FROM judgements j WHERE j.session_id = CAST(:session AS text) "
    "AND j.case_id = CAST(:case AS text) AND j.rater_id = CAST(:rater AS text) AND j.item_id = u.item ORDER BY j.id DESC LIMIT 1) AS last "
    "WHERE last.value IS NOT DISTINCT FROM u.val AND last.note IS NOT DISTINCT FROM u.note) "
    "ORDER BY u.ord"
)
"""An assessor's save on PostgreSQL as one statement (parameters bound, never formatted)."""


