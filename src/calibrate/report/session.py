"""Which kalibreersessie the report covers, and how complete it is — said out loud.

Owns the choice of the report's session (:func:`choose_session`), the per-session counts
it rests on (:func:`session_stats`) and the completeness of the chosen session
(:func:`completeness`). Every limitation becomes a Dutch sentence in the report's
``warnings``; nothing is chosen silently.

The default session is the most recent *revealed* first-round session in which at least
two assessors judged a common case (re-score rounds are reported with the session they
re-score). A newer session that is not revealed yet, or in which no case has two
assessors, is named in a warning, never reported on without saying so.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..dutch import format_date
from ..errors import InputError
from ..scores import NOT_APPLICABLE_POSITION, CodedScores

#: A session the report can cover by default needs a case judged by this many assessors.
MIN_RATERS_ON_A_CASE = 2

STAT_COLUMNS = ("session", "n_judgements", "n_cases", "n_raters", "max_raters_on_a_case")


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def _distinct(keys: np.ndarray, size: int) -> np.ndarray:
    """``np.unique(keys)`` of non-negative integer keys below ``size``: a presence table
    when it is not much larger than the keys (no sort), else the sort."""
    if size <= 4 * len(keys) + 1024 and (not len(keys) or keys.min() >= 0):
        seen = np.zeros(size, dtype=bool)
        seen[keys] = True
        return np.flatnonzero(seen)
    return np.unique(keys)


def session_stats(scores: CodedScores) -> pd.DataFrame:
    """Per session with judgements: ``n_judgements, n_cases, n_raters`` and
    ``max_raters_on_a_case`` (the most assessors that judged one and the same case)."""
    if not len(scores):
        return pd.DataFrame(columns=list(STAT_COLUMNS))
    s, c, r = scores.codes("session"), scores.codes("case"), scores.codes("rater")
    nc, nr = int(c.max()) + 1, int(r.max()) + 1
    n_sessions = len(scores.sessions)
    triples = _distinct((s * nc + c) * nr + r, n_sessions * nc * nr)
    pair = triples // nr  # (session, case)
    pairs, raters_per_case = np.unique(pair, return_counts=True)
    ses_of_pair = pairs // nc
    max_r = np.zeros(n_sessions, dtype=np.int64)
    np.maximum.at(max_r, ses_of_pair, raters_per_case)
    n_cases = np.bincount(ses_of_pair, minlength=n_sessions)
    n_raters = np.bincount(_distinct(s * nr + r, n_sessions * nr) // nr, minlength=n_sessions)
    n_judgements = np.bincount(s, minlength=n_sessions)
    out = pd.DataFrame({"session": list(scores.sessions), "n_judgements": n_judgements, "n_cases": n_cases,
                        "n_raters": n_raters, "max_raters_on_a_case": max_r})
    return out[out["n_judgements"] > 0].reset_index(drop=True)


def _why_not(row: pd.Series, stat: pd.Series | None) -> list[str]:
    """Why a session cannot be the report's default, in Dutch (empty: it can)."""
    why = []
    if not bool(row["revealed"]):
        why.append("nog niet vrijgegeven")
    if stat is None:
        why.append("nog geen oordelen")
    elif int(stat["max_raters_on_a_case"]) < MIN_RATERS_ON_A_CASE:
        why.append("geen casus is door twee of meer beoordelaars beoordeeld")
    return why


def describe(row: pd.Series, stat: pd.Series | None) -> str:
    """``K05-2026-08 (31 augustus 2026)`` with its counts: ``1 oordeel van 1 beoordelaar op 1 casus``."""
    name = f"{row['session']} ({format_date(str(row['session_date']))})"
    if stat is None:
        return name
    return (f"{name}, met {_n(int(stat['n_judgements']), 'oordeel', 'oordelen')} van "
            f"{_n(int(stat['n_raters']), 'beoordelaar', 'beoordelaars')} op {_n(int(stat['n_cases']), 'casus', 'casussen')}")


def choose_session(sessions: pd.DataFrame, stats: pd.DataFrame, session: str | None = None
                   ) -> tuple[pd.Series | None, list[str]]:
    """The row of ``sessions`` the report covers and the warnings that choice brings.

    ``session`` given: that session (an error naming the known ones when it does not
    exist), with a warning for each reason it would not have been the default. Otherwise
    the most recent revealed first-round session in which two or more assessors judged a
    common case; failing that, the most recent session with judgements, said so. Every
    newer session with judgements that the report leaves out is named in a warning.
    """
    by_id = {str(r["session"]): r for _, r in sessions.iterrows()}
    stat_of = {str(r["session"]): r for _, r in stats.iterrows()}
    warnings: list[str] = []
    if session is not None:
        if session not in by_id:
            raise InputError(f"session {session!r} does not exist.", location="--session",
                             hint=f"Known sessions: {', '.join(by_id) or '(none yet)'}.")
        focus = by_id[session]
        why = [w for w in _why_not(focus, stat_of.get(session)) if w != "nog niet vrijgegeven"]  # said by the report
        if why:
            warnings.append(f"Gekozen sessie {describe(focus, stat_of.get(session))}: {' en '.join(why)}; "
                            "de overeenstemming en de agenda ontbreken daarom of zijn voorlopig.")
    else:
        ordered = [by_id[s] for s in sessions["session"].astype(str)]
        eligible = [r for r in ordered if not _why_not(r, stat_of.get(str(r["session"])))]
        first_rounds = [r for r in eligible if pd.isna(r["parent"])]
        pick = (first_rounds or eligible)
        if pick:
            focus = pick[-1]
        else:
            scored = [r for r in ordered if str(r["session"]) in stat_of]
            if not scored:
                return None, warnings
            focus = scored[-1]
            warnings.append(
                "Er is nog geen vrijgegeven sessie waarin twee of meer beoordelaars dezelfde casus beoordeelden; "
                f"dit rapport gaat daarom over {describe(focus, stat_of.get(str(focus['session'])))}.")
    fid = str(focus["session"])
    order = list(sessions["session"].astype(str))
    for sid in order[order.index(fid) + 1:]:
        row = by_id[sid]
        if sid not in stat_of or (not pd.isna(row["parent"]) and str(row["parent"]) == fid):
            continue  # planned without judgements, or a re-score round of this session (reported with it)
        why = _why_not(row, stat_of.get(sid)) or ["u koos een andere sessie"]
        warnings.append(f"Nieuwere sessie {describe(row, stat_of[sid])}, is niet in dit rapport opgenomen: "
                        f"{' en '.join(why)}.")
    return focus, warnings


def completeness(focus: CodedScores, *, cases: Sequence[str] | None = None, raters: Sequence[str] | None = None,
                 assessable: Iterable[str] | None = None) -> dict:
    """How complete the session is: an assessor is complete with a value (``n.v.t.``
    counts) on every assessable item of every case of the session; a case is complete
    when every assessor of the session is complete on it.

    ``cases``, ``raters``: the session's set-up (default: those with judgements);
    ``assessable``: the item ids the form asks (default: the items judged on the case).
    """
    ff = focus.frame
    filled = focus.has_value() | (focus.position == NOT_APPLICABLE_POSITION)
    sub = ff.loc[filled, ["case", "rater", "item"]].astype(str)
    cases = [str(c) for c in (cases if cases else sorted(set(sub["case"])))]
    raters = [str(r) for r in (raters if raters else sorted(set(sub["rater"])))]
    per = sub.drop_duplicates().groupby(["case", "rater"]).size()
    if assessable is not None:
        need = {c: len(set(assessable)) for c in cases}
    else:
        need = sub.groupby("case")["item"].nunique().to_dict()
    done = {(c, r) for (c, r), k in per.items() if k >= need.get(c, np.inf)}
    raters_done = [r for r in raters if all((c, r) in done for c in cases)]
    cases_done = [c for c in cases if all((c, r) in done for r in raters)]
    open_pairs = [(r, c) for r in raters for c in cases if (c, r) not in done]
    text = (f"{len(raters_done)} van {len(raters)} beoordelaars, "
            f"{len(cases_done)} van {len(cases)} casussen compleet")
    return {
        "complete": bool(cases) and bool(raters) and not open_pairs,
        "raters_complete": len(raters_done), "raters_expected": len(raters),
        "cases_complete": len(cases_done), "cases_expected": len(cases),
        "text": text, "open": [{"rater": r, "case": c} for r, c in open_pairs],
    }
