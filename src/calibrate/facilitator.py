"""The facilitator's side of a kalibreersessie: set it up, follow it, reveal it, record the consensus.

Pure functions over a :class:`~calibrate.store.Store` (the facilitator's full view; the
assessors' app uses the blind :class:`~calibrate.store.RaterView` instead). Progress is
reported as counts only, so following a session never shows anyone's judgements; the
panel's values per item (:func:`panel_distribution`) are available only after the reveal.
:mod:`calibrate.widgets` puts a thin panel over these functions.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Iterable, Mapping

import pandas as pd

from calibrate.errors import AccessError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from calibrate.store import Store

__all__ = [
    "STATUS_COLUMNS",
    "create_session",
    "open_rescore_round",
    "panel_distribution",
    "record_consensus",
    "reveal",
    "reveal_notice",
    "session_status",
    "suggest_session_id",
]

#: Columns of :func:`session_status`.
STATUS_COLUMNS = ("rater", "complete", "total", "filled", "assessable", "finished", "last_saved")


def _check_session(store: "Store", session: str) -> None:
    known = list(store.sessions()["session"])
    if session not in known:
        raise InputError(
            f"session {session!r} does not exist.",
            hint=f"Sessions: {', '.join(known) or '(none yet)'}.",
        )


def session_status(store: "Store", session: str) -> pd.DataFrame:
    """Who has finished: one row per assessor of ``session``.

    Columns (:data:`STATUS_COLUMNS`): ``rater``; ``complete`` and ``total`` — cases with
    every assessable item filled, of the session's cases; ``filled`` and ``assessable`` —
    items with a value over all cases, of what the form asks; ``finished`` (all cases
    complete); ``last_saved`` (time of the latest save or None). Counts only, never values,
    so it is safe to show before the reveal.
    """
    _check_session(store, session)
    fw = store.session_framework(session)
    assessable = {i.id for i in fw.assessable_items()}
    cases = store.session_cases(session)
    raters = store.session_raters(session)
    scores = store.scores(session)
    filled = scores[scores["value"].notna() & scores["item"].isin(list(assessable)) & scores["case"].isin(cases)]
    per = filled.groupby(["rater", "case"])["item"].nunique()
    rows = []
    for rater in raters:
        mine = per[per.index.get_level_values("rater") == rater] if len(per) else per
        n_filled = int(mine.sum()) if len(mine) else 0
        complete = int((mine >= len(assessable)).sum()) if len(mine) else 0
        saved = scores.loc[scores["rater"] == rater, "scored_at"].dropna()
        rows.append({
            "rater": rater, "complete": complete, "total": len(cases), "filled": n_filled,
            "assessable": len(assessable) * len(cases), "finished": bool(cases) and complete == len(cases),
            "last_saved": str(saved.max()) if len(saved) else None,
        })
    df = pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
    df["last_saved"] = pd.Series([r["last_saved"] for r in rows], dtype=object, index=df.index)
    return df


def reveal_notice(store: "Store", session: str) -> str | None:
    """The sentence a facilitator tool (export, report, this panel) shows for an unrevealed
    session, or None once it is revealed (imported historical sessions count as revealed)."""
    if store.is_revealed(session):
        return None
    return (
        f"Kalibreersessie {session} is nog niet onthuld: de beoordelaars scoren nog blind. "
        "Onthul de sessie pas als iedereen klaar is; daarna zien de beoordelaars elkaars scores."
    )


def create_session(
    store: "Store",
    session: str,
    session_date: str | _dt.date,
    *,
    cases: Iterable[str],
    raters: Iterable[str],
    framework: str | None = None,
    title: str | None = None,
    parent: str | None = None,
) -> str:
    """Create a blind (unrevealed) kalibreersessie with its cases and assessors; return its id."""
    cases, raters = list(cases), list(raters)
    if not str(session).strip():
        raise InputError("the session id is empty.", hint="Use e.g. K06-2026-10.")
    if not cases:
        raise InputError(f"session {session!r} has no cases.", hint="Choose at least one case.")
    if len(raters) < 2:
        raise InputError(
            f"session {session!r} has {len(raters)} assessor(s); calibrating needs at least two.",
            hint="Choose two or more assessors.",
        )
    kwargs = {"framework": framework} if framework else {}
    store.create_session(session, session_date, title=title, cases=cases, raters=raters, revealed=False,
                         parent=parent, **kwargs)
    return session


def reveal(store: "Store", session: str) -> pd.DataFrame:
    """Reveal ``session``; return its status at that moment (who had finished)."""
    _check_session(store, session)
    status = session_status(store, session)
    store.reveal(session)
    return status


def panel_distribution(store: "Store", session: str, case: str) -> pd.DataFrame:
    """How the panel judged each item of one case: one row per item and value, with ``n``.

    Columns ``item``, ``kind``, ``value``, ``n``, ``raters`` (comma-separated). Raises
    :class:`~calibrate.errors.AccessError` before the reveal: the discussion (and the
    consensus) comes after the blind round.
    """
    _check_session(store, session)
    if not store.is_revealed(session):
        raise AccessError(reveal_notice(store, session))
    s = store.scores(session)
    s = s[(s["case"] == case) & s["value"].notna()]
    if s.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ("item", "kind", "value", "n", "raters")})
    g = s.groupby(["item", "kind", "value"])["rater"]
    out = pd.DataFrame({"n": g.size(), "raters": g.apply(lambda r: ", ".join(sorted(map(str, r))))}).reset_index()
    return out


def record_consensus(
    store: "Store",
    session: str,
    case: str,
    values: Mapping[str, tuple[str | None, str | None] | str],
) -> int:
    """Record the consensus (benchmark) judgement agreed in the discussion.

    ``values`` maps item id → ``(value, reason)`` (or just the value). Only after the reveal;
    the reason per item is what the group agreed on and why. Returns rows written.
    """
    _check_session(store, session)
    if not store.is_revealed(session):
        raise AccessError(
            f"session {session!r} has not been revealed yet; record the consensus after the discussion.",
        )
    if case not in store.session_cases(session):
        raise InputError(f"case {case!r} is not part of session {session!r}.")
    clean = {}
    for item, entry in values.items():
        value, reason = entry if isinstance(entry, tuple) else (entry, None)
        if value is None:
            continue
        reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
        clean[item] = (value, reason)
    return store.save_consensus(session, case, clean)


def suggest_session_id(store: "Store", parent: str | None = None, *, today: _dt.date | None = None) -> str:
    """A free session id: ``<parent>-R<round>`` for a re-score round, else ``K<nn>-<yyyy-mm>``."""
    sessions = store.sessions()
    known = set(sessions["session"])
    if parent is not None:
        row = sessions[sessions["session"] == parent]
        rnd = int(row["round"].iloc[0]) + 1 if len(row) else 2
        base = parent.split("-R")[0]
        cand = f"{base}-R{rnd}"
        while cand in known:
            rnd += 1
            cand = f"{base}-R{rnd}"
        return cand
    today = today or _dt.date.today()
    n = len(known) + 1
    cand = f"K{n:02d}-{today:%Y-%m}"
    while cand in known:
        n += 1
        cand = f"K{n:02d}-{today:%Y-%m}"
    return cand


def open_rescore_round(
    store: "Store",
    parent: str,
    *,
    session: str | None = None,
    session_date: str | _dt.date | None = None,
    cases: Iterable[str] | None = None,
    raters: Iterable[str] | None = None,
) -> str:
    """Open a re-score round of ``parent``: a new blind session linked to it (``round`` + 1).

    By default the same cases and assessors, dated today, with id ``<parent>-R<round>``.
    """
    _check_session(store, parent)
    sessions = store.sessions()
    fw = str(sessions.loc[sessions["session"] == parent, "framework"].iloc[0])
    new = session or suggest_session_id(store, parent)
    return create_session(
        store, new, session_date or _dt.date.today(),
        cases=store.session_cases(parent) if cases is None else cases,
        raters=store.session_raters(parent) if raters is None else raters,
        framework=fw, title=f"Herbeoordeling van {parent}", parent=parent,
    )
