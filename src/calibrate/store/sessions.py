"""Sessions and the people in them: kalibreersessies, their cases and assessors, reveal.

Owns :class:`SessionsMixin` of :class:`calibrate.store.Store`: creating a session with
its cases and assessors (blind until revealed), revealing it, listing sessions, cases and
raters, and the opt-in that shows assessors' names for a session.
"""

from __future__ import annotations

import datetime as _dt
from typing import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa

from ..errors import InputError
from ..schema import DEFAULT_FRAMEWORK
from . import schema as t
from .base import _insert_ignore, utcnow
from .retry import retrying


class SessionsMixin:
    """Sessions, cases and raters of a store."""

    def create_session(
        self,
        session: str,
        session_date: str | _dt.date,
        *,
        framework: str = DEFAULT_FRAMEWORK,
        title: str | None = None,
        cases: Iterable[str] = (),
        raters: Iterable[str] = (),
        revealed: bool = False,
        parent: str | None = None,
    ) -> None:
        """Create a kalibreersessie with its cases and assessors (blind: not revealed)."""
        self.guard_identifiers({"session": session, "title": title, "case": list(cases := list(cases)),
                                "rater": list(raters := list(raters))}, location="the new session")
        date = _parse_date(session_date, f"session {session!r}")
        fw = self.framework(framework)
        with self._write() as conn:
            self._ensure_framework(conn, fw)
            if conn.execute(sa.select(t.sessions.c.id).where(t.sessions.c.id == session)).scalar():
                raise InputError(f"session {session!r} already exists.", hint="Choose another session id.")
            rnd = 1
            if parent:
                prow = conn.execute(sa.select(t.sessions.c.round).where(t.sessions.c.id == parent)).first()
                if prow is None:
                    raise InputError(f"parent session {parent!r} does not exist.")
                rnd = prow.round + 1
            conn.execute(
                sa.insert(t.sessions).values(
                    id=session, session_date=date, framework_id=fw.id, title=title, revealed=revealed,
                    show_rater_names=False, parent_id=parent, round=rnd, created_at=utcnow(),
                    revealed_at=utcnow() if revealed else None,
                )
            )
            case_list = list(cases)
            known_cases = {r[0] for r in conn.execute(sa.select(t.cases.c.id))}
            unknown = [c for c in case_list if c not in known_cases]
            if unknown:
                raise InputError(f"unknown case(s) {', '.join(map(repr, unknown))}.", hint="Import them first with `calibrate import cases`.")
            if case_list:
                conn.execute(sa.insert(t.session_cases), [{"session_id": session, "case_id": c, "position": i} for i, c in enumerate(case_list)])
            rater_list = list(raters)
            self._ensure_raters(conn, rater_list)
            if rater_list:
                conn.execute(sa.insert(t.session_raters), [{"session_id": session, "rater_id": r} for r in rater_list])

    def add_raters(self, raters: Iterable[str] | pd.DataFrame) -> None:
        """Register pseudonymous raters (ids, optionally with a ``role`` column)."""
        self.guard_identifiers({"rater": list(raters["rater"] if isinstance(raters, pd.DataFrame) else raters)},
                               location="the assessors")
        with self._write() as conn:
            if isinstance(raters, pd.DataFrame):
                self._ensure_raters(conn, list(raters["rater"]), roles=dict(zip(raters["rater"], raters.get("role", [None] * len(raters)))))
            else:
                self._ensure_raters(conn, list(raters))

    def _ensure_raters(self, conn, rater_ids: list[str], roles: Mapping[str, str] | None = None) -> list[str]:
        known = {r[0] for r in conn.execute(sa.select(t.raters.c.id))}
        new = [r for r in dict.fromkeys(rater_ids) if r not in known]
        if new:
            now = utcnow()
            conn.execute(
                _insert_ignore(conn, t.raters),
                [{"id": r, "role": (roles or {}).get(r), "display_name": None, "created_at": now} for r in new],
            )
        return new

    @retrying("revealing the session")
    def reveal(self, session: str) -> None:
        """Reveal a session: from now on every assessor may see the others' judgements, and
        the session takes no more judgements (the reveal closes its blind round; a
        judgement changes afterwards only in a re-score round, ``open_rescore_round``).
        Revealing again changes nothing (the first reveal's time stays)."""
        with self._write() as conn:
            n = conn.execute(sa.update(t.sessions).where(t.sessions.c.id == session, t.sessions.c.revealed.is_(False))
                             .values(revealed=True, revealed_at=utcnow())).rowcount
            if not n and conn.execute(sa.select(t.sessions.c.id).where(t.sessions.c.id == session)).scalar() is None:
                raise InputError(f"session {session!r} does not exist.")

    def is_revealed(self, session: str) -> bool:
        with self.engine.connect() as conn:
            val = conn.execute(sa.select(t.sessions.c.revealed).where(t.sessions.c.id == session)).scalar()
        if val is None:
            raise InputError(f"session {session!r} does not exist.")
        return bool(val)

    def sessions(self) -> pd.DataFrame:
        """Sessions ordered by date: session, session_date, framework, title, revealed, round, parent."""
        q = sa.select(
            t.sessions.c.id.label("session"), t.sessions.c.session_date, t.sessions.c.framework_id.label("framework"),
            t.sessions.c.title, t.sessions.c.revealed, t.sessions.c.round, t.sessions.c.parent_id.label("parent"),
        ).order_by(t.sessions.c.session_date, t.sessions.c.id)
        with self.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).mappings().all(), columns=["session", "session_date", "framework", "title", "revealed", "round", "parent"])
        df["revealed"] = df["revealed"].astype(bool)
        return df

    def session_rounds(self) -> pd.DataFrame:
        """Which round every session is: ``session``, ``round`` (0 = a blind first round,
        1, 2, … the re-score rounds that followed its reveal) and ``first_round`` (the
        session whose blind round it re-scores; itself for a first round)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.sessions.c.id, t.sessions.c.parent_id)).all()
        parent = dict(rows)
        out = []
        for sid, _ in rows:
            chain, cur = [sid], parent.get(sid)
            while cur is not None and cur not in chain:  # a parent loop (hand-made SQL) stops here
                chain.append(cur)
                cur = parent.get(cur)
            out.append({"session": sid, "round": len(chain) - 1, "first_round": chain[-1]})
        return pd.DataFrame(out, columns=["session", "round", "first_round"])

    def session_cases(self, session: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(
                sa.select(t.session_cases.c.case_id).where(t.session_cases.c.session_id == session).order_by(t.session_cases.c.position, t.session_cases.c.case_id)
            )]

    def session_raters(self, session: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(
                sa.select(t.session_raters.c.rater_id).where(t.session_raters.c.session_id == session).order_by(t.session_raters.c.rater_id)
            )]

    def session_framework(self, session: str):
        """The framework a session is scored on (a session's framework never changes, so
        the lookup is cached per store)."""
        fid = self._session_framework_ids.get(session)
        if fid is None:
            with self.engine.connect() as conn:
                fid = conn.execute(sa.select(t.sessions.c.framework_id).where(t.sessions.c.id == session)).scalar()
            if fid is not None:
                self._session_framework_ids[session] = fid
        return self.framework(fid or DEFAULT_FRAMEWORK)

    def cases(self, session: str | None = None) -> pd.DataFrame:
        """Cases (case, title, text, material), those of ``session`` in session order when given."""
        if session is None:
            q = sa.select(t.cases.c.id.label("case"), t.cases.c.title, t.cases.c.text, t.cases.c.material).order_by(t.cases.c.id)
        else:
            q = (
                sa.select(t.cases.c.id.label("case"), t.cases.c.title, t.cases.c.text, t.cases.c.material)
                .join(t.session_cases, t.session_cases.c.case_id == t.cases.c.id)
                .where(t.session_cases.c.session_id == session)
                .order_by(t.session_cases.c.position, t.cases.c.id)
            )
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(q).mappings().all(), columns=["case", "title", "text", "material"])

    def raters(self) -> pd.DataFrame:
        """Raters under their pseudonyms: rater, role."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.raters.c.id.label("rater"), t.raters.c.role).order_by(t.raters.c.id)).mappings().all()
        return pd.DataFrame(rows, columns=["rater", "role"])

    def show_rater_names(self, session: str, show: bool = True) -> None:
        """Opt a session in (or out) of showing assessors' names in exports and reports."""
        with self._write() as conn:
            n = conn.execute(sa.update(t.sessions).where(t.sessions.c.id == session).values(show_rater_names=show)).rowcount
        if not n:
            raise InputError(f"session {session!r} does not exist.")

    def with_rater_names(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` (a score table) with pseudonyms replaced by names, but only for sessions
        that opted in with :meth:`show_rater_names` and raters whose name is known."""
        with self.engine.connect() as conn:
            opted = {r[0] for r in conn.execute(sa.select(t.sessions.c.id).where(t.sessions.c.show_rater_names.is_(True)))}
            names = {r.id: r.display_name for r in conn.execute(sa.select(t.raters.c.id, t.raters.c.display_name).where(t.raters.c.display_name.is_not(None)))}
        if not opted or not names or "rater" not in df.columns:
            return df
        df = df.copy()
        mask = df["session"].isin(opted) & df["rater"].isin(names.keys())
        df.loc[mask, "rater"] = df.loc[mask, "rater"].map(names)
        return df


def _parse_date(value, where: str) -> str:
    from .imports import SESSION_YEARS

    if isinstance(value, _dt.date):
        date = value
    else:
        try:
            date = _dt.date.fromisoformat(str(value))
        except ValueError:
            raise InputError(f"{value!r} is not a date; write it as YYYY-MM-DD.", location=where) from None
    if not SESSION_YEARS[0] <= date.year <= SESSION_YEARS[1]:
        raise InputError(f"{date.isoformat()} lies in the year {date.year}; a session date lies between "
                         f"{SESSION_YEARS[0]} and {SESSION_YEARS[1]}.", location=where, hint="Check the year.")
    return date.isoformat()


