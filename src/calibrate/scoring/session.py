"""One assessor in one kalibreersessie: the cases, a form per case, save and load through
the store's blind RaterView, progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from calibrate.errors import InputError
from .form import CaseForm, CaseInfo, Progress, SaveResult, _now_hhmm

if TYPE_CHECKING:  # pragma: no cover
    from calibrate.store import RaterView, Store


class ScoringSession:
    """One assessor in one kalibreersessie: the cases, a form per case, save and progress.

    Everything goes through ``view`` (a :class:`~calibrate.store.RaterView`), so nothing
    here can return another assessor's judgements of an unrevealed session.
    """

    def __init__(self, view: "RaterView", session: str):
        self.view = view
        self.rater = view.rater
        self.session = session
        self._cases = view.cases(session)  # raises AccessError for a non-member
        self.framework = view.framework(session)
        self._assessable = {i.id for i in self.framework.assessable_items()}

    @classmethod
    def open(cls, store: "Store", rater: str, session: str | None = None) -> "ScoringSession":
        """Open ``rater``'s session ``session`` (default: their most recent session)."""
        view = store.rater_view(rater)
        if session is None:
            session = latest_session(view)
        return cls(view, session)

    # -- cases ---------------------------------------------------------------
    @property
    def case_ids(self) -> list[str]:
        return [str(c) for c in self._cases["case"]]

    def case(self, case_id: str) -> CaseInfo:
        rows = self._cases[self._cases["case"] == case_id]
        if rows.empty:
            raise InputError(
                f"case {case_id!r} is not part of session {self.session!r}.",
                hint=f"Cases: {', '.join(self.case_ids)}.",
            )
        r = rows.iloc[0]
        return CaseInfo(case_id, *(None if pd.isna(r[c]) else str(r[c]) for c in ("title", "text", "material")))

    @property
    def revealed(self) -> bool:
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        return bool(row["revealed"].iloc[0]) if len(row) else False

    @property
    def date(self) -> str | None:
        """The session's date (ISO), None when unknown."""
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        if not len(row) or pd.isna(row["session_date"].iloc[0]):
            return None
        return str(row["session_date"].iloc[0])[:10]

    @property
    def title(self) -> str | None:
        s = self.view.sessions()
        row = s[s["session"] == self.session]
        if not len(row) or pd.isna(row["title"].iloc[0]):
            return None
        return str(row["title"].iloc[0])

    # -- forms ---------------------------------------------------------------
    def form(self, case_id: str) -> CaseForm:
        """The form of ``case_id`` with this assessor's latest saved entries."""
        self.case(case_id)
        mine = self.view.my_scores(self.session, case_id)
        return CaseForm.from_scores(self.framework, mine, session=self.session, case=case_id, rater=self.rater)

    def save(self, form: CaseForm) -> SaveResult:
        """Store whatever is filled in (a half-scored case is kept); one transaction."""
        if form.session != self.session or form.rater != self.rater or form.case not in self.case_ids:
            raise InputError(
                f"this form belongs to case {form.case!r} of session {form.session!r} (assessor {form.rater!r}), "
                f"not to this scoring session ({self.session!r}, {self.rater!r}).",
                hint="Get the form from ScoringSession.form(case).",
            )
        # only what changed since the form was loaded or saved: the store skips unchanged
        # judgements anyway, and this way a second window of the same assessor is not overwritten
        appended = self.view.save(self.session, form.case, form.to_values(only_changed=True))
        form.mark_saved()
        return SaveResult(appended, form.complete, len(form.missing()), form.nudges(), _now_hhmm())

    # -- progress --------------------------------------------------------------
    def progress(self) -> Progress:
        """x of y cases complete (every assessable item has a value)."""
        mine = self.view.my_scores(self.session)
        filled = mine[mine["value"].notna() & mine["item"].isin(list(self._assessable))]
        counts = filled.groupby("case")["item"].nunique().to_dict() if len(filled) else {}
        per_case = {c: counts.get(c, 0) >= len(self._assessable) for c in self.case_ids}
        return Progress(sum(per_case.values()), len(per_case), per_case)

    def last_worked_on(self) -> str | None:
        """The case of this assessor's most recent save in the session (None before any)."""
        mine = self.view.my_scores(self.session)
        mine = mine[mine["case"].isin(self.case_ids) & mine["scored_at"].notna()]
        if mine.empty:
            return None
        return str(mine.loc[mine["scored_at"].astype(str).idxmax(), "case"])

    def start_case(self) -> str | None:
        """Where the app opens: the case last worked on while it is unfinished, else the
        first unfinished case (the first case when all are done; None without cases)."""
        last = self.last_worked_on()
        if last is not None and not self.progress().per_case.get(last, False):
            return last
        return self.first_unfinished()

    def first_unfinished(self) -> str | None:
        """The first case not yet complete; the first case when all are done (None without cases)."""
        if not self.case_ids:
            return None
        per_case = self.progress().per_case
        return next((c for c in self.case_ids if not per_case[c]), self.case_ids[0])


def latest_session(view: "RaterView") -> str:
    """The most recent session (by date) this assessor belongs to."""
    sessions = view.sessions()
    if sessions.empty:
        raise InputError(
            f"assessor {view.rater!r} is not an assessor of any kalibreersessie.",
            hint="Ask the facilitator to add you to a session.",
        )
    return str(sessions["session"].iloc[-1])


def sessions_for(view: "RaterView") -> list[str]:
    """This assessor's sessions, most recent first."""
    return [str(s) for s in reversed(list(view.sessions()["session"]))]
