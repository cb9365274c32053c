"""Reading judgements: the score table and the consensus, current or with their history.

Owns :class:`JudgementsMixin` of :class:`calibrate.store.Store`. Every read goes through
the store's one reader (:mod:`calibrate.store.reader`), which returns
:class:`~calibrate.scores.CodedScores`; the plain contract tables are made from that.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd
import sqlalchemy as sa

from ..schema import CONSENSUS_COLUMNS, SCORE_COLUMNS
from ..scores import CodedScores
from . import reader
from . import schema as t


def _sessions(session: str | Iterable[str] | None) -> list[str] | None:
    return [session] if isinstance(session, str) else (list(session) if session is not None else None)


class JudgementsMixin:
    """The judgements and consensus of a store, as tables."""

    def coded_scores(self, session: str | Iterable[str] | None = None, *, history: bool = False,
                     notes: bool | Iterable[str] = True, stamps: bool = True, framework=None,
                     raters: Iterable[str] | None = None) -> CodedScores:
        """The score table decoded once (:class:`~calibrate.scores.CodedScores`): current
        judgements, or every save with ``history=True``; ``notes`` True, False or the
        sessions whose notes to read; ``stamps=False`` leaves out ``scored_at``;
        ``framework`` gives scales and hierarchy; ``raters`` keeps the judgements of these
        assessors only."""
        return reader.read(self, t.judgements, sessions=_sessions(session), history=history, notes=notes,
                           stamps=stamps, framework=framework, raters=raters)

    def coded_consensus(self, session: str | Iterable[str] | None = None, *, stamps: bool = True,
                        notes: bool | Iterable[str] = True, framework=None) -> CodedScores:
        """The current consensus (benchmark) judgements as :class:`~calibrate.scores.CodedScores`;
        ``notes`` (the reasons) True, False or the sessions whose notes to read — as for
        :meth:`coded_scores`, a read without every note can use the workspace's snapshot."""
        return reader.read(self, t.consensus, sessions=_sessions(session), stamps=stamps, notes=notes,
                           framework=framework)

    def with_notes(self, coded: CodedScores, sessions: Iterable[str]) -> CodedScores:
        """``coded`` (from :meth:`coded_scores`) with the notes of ``sessions`` filled in."""
        return reader.attach_notes(self, coded, sessions)

    def scores(self, session: str | Iterable[str] | None = None, *, history: bool = False,
               round: int | None = None, with_round: bool | None = None) -> pd.DataFrame:
        """The score table (contract columns) — the facilitator's view, all raters.

        ``history=True`` returns every save (oldest first, with ``saved_at`` and
        ``source``) instead of the current judgements.

        ``round`` picks a round: 0 is the blind round (the judgements saved before the
        reveal closed it), 1, 2, … the re-score rounds opened after it. With ``session``
        it means that session's round (``scores("K04", round=0)`` — K04's blind round;
        ``round=1`` — its first re-score round, a session of its own such as ``K04-R2``),
        without it that round of every session. ``with_round`` (on by default when a
        round is picked) adds the column ``round`` (int), which says which round each row
        comes from.
        """
        if round is not None:
            rounds = self.session_rounds()
            if session is not None:
                roots = set(rounds.loc[rounds["session"].isin(_sessions(session)), "first_round"])
                pick = rounds[rounds["first_round"].isin(roots) & (rounds["round"] == int(round))]
            else:
                pick = rounds[rounds["round"] == int(round)]
            session = list(pick["session"])
        coded = self.coded_scores(session, history=history)
        df = coded.to_frame(list(SCORE_COLUMNS) + (["saved_at", "source"] if history else []))
        if with_round or (with_round is None and round is not None):
            of = dict(zip(*self.session_rounds()[["session", "round"]].to_numpy().T))
            df["round"] = df["session"].astype(str).map(of).astype("int64")
        return df

    def consensus(self, session: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Current consensus (benchmark) judgements: contract consensus columns plus ``note`` (the reason)."""
        return self.coded_consensus(session).to_frame(list(CONSENSUS_COLUMNS) + ["note"])

    def history(self, session: str, case: str, rater: str, item: str) -> pd.DataFrame:
        """Every save of one judgement, oldest first (the audit trail)."""
        df = self.scores(session, history=True)
        return df[(df["case"] == case) & (df["rater"] == rater) & (df["item"] == item)].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """Row counts per table (for tests and status messages)."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one()
                for name, tbl in (("judgements", t.judgements), ("consensus", t.consensus), ("sessions", t.sessions),
                                  ("cases", t.cases), ("raters", t.raters), ("items", t.items))
            }
