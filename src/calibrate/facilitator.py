"""The facilitator's side of a kalibreersessie: set it up, follow it, reveal it, discuss it,
record the consensus, open a re-score round.

Pure functions over a :class:`~calibrate.store.Store` (the facilitator's full view; the
assessors' app uses the blind :class:`~calibrate.store.RaterView` instead). Progress is
reported as counts only, so following a session never shows anyone's judgements; the
panel's values per item (:func:`panel_distribution`, :func:`case_discussion`) are
available only after the reveal. Whatever changes the store (:func:`create_session`,
:func:`reveal`, :func:`record_consensus`, :func:`adopt_unanimous`,
:func:`open_rescore_round`) is a separate call; the ``*_plan`` functions say beforehand,
in Dutch, what such a call would do, so a screen can ask for confirmation.
:mod:`calibrate.discussion` holds the discussion model; :mod:`calibrate.widgets` puts a
thin screen over both.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import pandas as pd

from calibrate.discussion import CaseDiscussion, OpenPoints, build_case_discussion, open_points
from calibrate.dutch import format_date, parse_date
from calibrate.errors import AccessError, InputError
from calibrate.scoring import clean_text

if TYPE_CHECKING:  # pragma: no cover
    from calibrate.store import Store

__all__ = [
    "STATUS_COLUMNS",
    "Plan",
    "adopt_plan",
    "adopt_unanimous",
    "carry_out",
    "case_discussion",
    "case_titles",
    "create_session",
    "load_rater_names",
    "open_rescore_round",
    "panel_distribution",
    "record_consensus",
    "rescore_plan",
    "reveal",
    "reveal_notice",
    "reveal_plan",
    "session_open_points",
    "session_plan",
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
        reason = clean_text(reason) if isinstance(reason, str) else None
        reason = reason.strip() if reason else None
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


# ----------------------------------------------------------------------------- the discussion
def case_titles(store: "Store", session: str | None = None) -> dict[str, str]:
    """Case id → title (the empty string where a case has none), those of ``session`` in
    session order when given."""
    cases = store.cases(session)
    return {str(c): ("" if t is None or pd.isna(t) else str(t)) for c, t in zip(cases["case"], cases["title"])}


def _require_revealed(store: "Store", session: str) -> None:
    _check_session(store, session)
    if not store.is_revealed(session):
        raise AccessError(reveal_notice(store, session))


def _discussions(store: "Store", session: str, cases: Iterable[str], order: str, *,
                 scores: pd.DataFrame | None = None, consensus: pd.DataFrame | None = None) -> list[CaseDiscussion]:
    fw = store.session_framework(session)
    scores = store.scores(session) if scores is None else scores
    cons = store.consensus(session) if consensus is None else consensus
    raters = store.session_raters(session)
    titles = case_titles(store, session)
    return [build_case_discussion(fw, scores, cons, case=c, title=titles.get(c) or None, raters=raters, order=order)
            for c in cases]


def case_discussion(store: "Store", session: str, case: str, *, order: str = "spread",
                    scores: pd.DataFrame | None = None, consensus: pd.DataFrame | None = None) -> CaseDiscussion:
    """The discussion of one case of a revealed session (:func:`calibrate.discussion.build_case_discussion`):
    every item with its spread, the assessors' notes and the consensus so far, the most
    disputed first. Raises :class:`~calibrate.errors.AccessError` before the reveal.

    ``scores`` / ``consensus``: the session's tables when the caller has read them already
    (``store.scores(session)``, ``store.consensus(session)``); read here otherwise.
    """
    _require_revealed(store, session)
    if case not in store.session_cases(session):
        raise InputError(f"case {case!r} is not part of session {session!r}.",
                         hint=f"Cases: {', '.join(store.session_cases(session))}.")
    return _discussions(store, session, [case], order, scores=scores, consensus=consensus)[0]


def session_open_points(store: "Store", session: str) -> OpenPoints:
    """What is still open in ``session``: the assessors who have not finished and, after the
    reveal, per case the items without consensus and the consensus without a reason. Before
    the reveal only the counts of the assessors (nothing of anyone's values)."""
    _check_session(store, session)
    status = session_status(store, session)
    if not store.is_revealed(session):
        return OpenPoints((), open_points((), status).unfinished, revealed=False)
    return open_points(_discussions(store, session, store.session_cases(session), "spread"), status)


def _unanimous_reason(n: int, label: str) -> str:
    return f"Eensgezind in de blinde ronde: alle {n} beoordelaars kozen \u2018{label}\u2019."


def adopt_unanimous(store: "Store", session: str, case: str) -> int:
    """Record, as the consensus, the value every assessor chose on the items of ``case``
    where they all agreed and no consensus is recorded yet; the reason says so. Items with
    any disagreement stay open for the discussion. Returns rows written."""
    d = case_discussion(store, session, case)
    values = {i.item: (i.unanimous_value, _unanimous_reason(i.n_values, next(c.label for c in i.counts if c.n)))
              for i in d.items if i.unanimous and not i.has_consensus}
    return record_consensus(store, session, case, values) if values else 0


# ----------------------------------------------------------------------------- plans: say it first
@dataclass(frozen=True)
class Plan:
    """What a call that changes the store would do, said beforehand (Dutch), so that a
    screen can ask for confirmation: ``title`` (a question), ``lines`` (what happens),
    ``problems`` (why it cannot be done as asked; empty when it can). :func:`carry_out`
    does it."""

    action: str  # "create" | "reveal" | "rescore" | "adopt"
    title: str
    lines: tuple[str, ...]
    problems: tuple[str, ...]
    args: Mapping

    @property
    def ok(self) -> bool:
        return not self.problems


def _case_list(titles: Mapping[str, str], cases: Iterable[str]) -> str:
    return "; ".join(f"{c} \u2014 {titles[c]}" if titles.get(c) else str(c) for c in cases)


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _personal_data_findings(store: "Store", **fields: str | None) -> dict:
    """The fields of a session (its name, its title) that hold personal data — a roster
    name known to the workspace, an e-mail address, a student number ... — with their
    :class:`~calibrate.privacy.IdentifierFinding`: the same check the store makes when the
    session is created, made before the facilitator confirms."""
    from calibrate import privacy

    guard = store.import_pseudonymiser()
    found = {field: privacy.check_identifier(value, field=field, pseudonymiser=guard) if value else None
             for field, value in fields.items()}
    return {field: f for field, f in found.items() if f is not None}


def _personal_data_problems(findings: dict) -> list[str]:
    """The Dutch problems for :func:`_personal_data_findings`, the values masked."""
    words = {"session": "De naam van de sessie", "title": "De titel van de sessie"}
    return [f"{words[field]} lijkt persoonsgegevens te bevatten ({found.labels}): {found.masked}. "
            "Kies een naam zonder namen, nummers of adressen van studenten." for field, found in findings.items()]


def session_plan(
    store: "Store",
    session: str,
    session_date: str,
    *,
    cases: Iterable[str],
    raters: Iterable[str],
    title: str | None = None,
) -> Plan:
    """Check a new session as typed on the set-up screen (the date the Dutch way, e.g.
    ``1-12-2026``) and say what creating it does. The framework is that of the most recent
    session (the default one in an empty workspace)."""
    cases, raters = [str(c) for c in cases], [str(r) for r in raters]
    session = str(session or "").strip()
    title = (title or "").strip() or None
    problems = []
    sessions = store.sessions()
    if not session:
        problems.append("Geef de sessie een naam (id), bijvoorbeeld K06-2026-11.")
    elif session in set(sessions["session"]):
        problems.append(f"Er is al een sessie {session}; kies een andere naam.")
    personal = _personal_data_findings(store, session=session, title=title)
    problems += _personal_data_problems(personal)
    # the plan's heading never repeats a name that holds personal data: it shows it masked
    shown = personal["session"].masked if "session" in personal else session
    date = None
    try:
        date = parse_date(session_date)
    except InputError as exc:
        problems.append(str(exc))
    titles = case_titles(store)
    unknown = [c for c in cases if c not in titles]
    if not cases:
        problems.append("Kies minstens één casus.")
    elif unknown:
        problems.append(f"Onbekende casus: {', '.join(unknown)}. Importeer die eerst (calibrate import cases).")
    known_raters = set(store.raters()["rater"].astype(str))
    if len(raters) < 2:
        problems.append("Kies minstens twee beoordelaars: kalibreren vergelijkt oordelen.")
    elif [r for r in raters if r not in known_raters]:
        problems.append(f"Onbekende beoordelaar: {', '.join(r for r in raters if r not in known_raters)}.")
    framework = str(sessions["framework"].iloc[-1]) if len(sessions) else None
    fw = store.framework(framework) if framework else None
    lines = (
        f"Datum: {format_date(date)}." if date else "Datum: nog niet goed ingevuld.",
        f"{_n(len(cases), 'casus', 'casussen')}: {_case_list(titles, cases)}." if cases else "Nog geen casussen gekozen.",
        f"{_n(len(raters), 'beoordelaar', 'beoordelaars')}: {', '.join(raters)}." if raters else "Nog geen beoordelaars gekozen.",
        *( [f"Kijkkader: {fw.title}."] if fw is not None else [] ),
        "De sessie begint blind: elke beoordelaar ziet alleen de eigen oordelen tot je de sessie onthult.",
    )
    return Plan("create", f"Sessie {shown or '(zonder naam)'} aanmaken?", lines, tuple(problems),
                {"session": session, "session_date": date.isoformat() if date else None, "cases": cases,
                 "raters": raters, "title": title, "framework": framework})


def reveal_plan(store: "Store", session: str) -> Plan:
    """Say what revealing ``session`` does, and who has not finished yet."""
    _check_session(store, session)
    problems = (f"Sessie {session} is al onthuld.",) if store.is_revealed(session) else ()
    st = session_status(store, session)
    unfinished = [f"{r.rater} ({r.complete} van {r.total} casussen compleet)" for r in st.itertuples() if not r.finished]
    lines = (
        "Onthullen sluit de blinde ronde: wat de beoordelaars tot nu toe opsloegen, is hun blinde oordeel.",
        "Daarna ziet iedere beoordelaar de oordelen en notities van het hele panel, en begint de bespreking.",
        "Een oordeel uit de blinde ronde wijzigen kan daarna alleen in een herbeoordelingsronde.",
        ("Nog niet klaar: " + "; ".join(unfinished) + ".") if unfinished else "Alle beoordelaars zijn klaar.",
        "Onthullen kan niet ongedaan worden gemaakt.",
    )
    return Plan("reveal", f"Sessie {session} onthullen?", lines, problems, {"session": session})


def rescore_plan(
    store: "Store",
    parent: str,
    *,
    cases: Iterable[str] | None = None,
    raters: Iterable[str] | None = None,
    session_date: str | _dt.date | None = None,
) -> Plan:
    """Say what opening a re-score round of ``parent`` does: its id, which cases and which
    assessors it gets (default: all of the parent's), and that the first round stays."""
    _check_session(store, parent)
    cases = store.session_cases(parent) if cases is None else [str(c) for c in cases]
    raters = store.session_raters(parent) if raters is None else [str(r) for r in raters]
    problems = []
    if not store.is_revealed(parent):
        problems.append(f"Sessie {parent} is nog blind: onthul en bespreek haar eerst.")
    own = set(store.session_cases(parent))
    if not cases:
        problems.append("Kies minstens één casus voor de nieuwe ronde.")
    elif [c for c in cases if c not in own]:
        problems.append(f"Niet in sessie {parent}: {', '.join(c for c in cases if c not in own)}.")
    if len(raters) < 2:
        problems.append("Kies minstens twee beoordelaars voor de nieuwe ronde.")
    date = None
    if session_date is None:
        date = _dt.date.today()
    else:
        try:
            date = session_date if isinstance(session_date, _dt.date) else parse_date(session_date)
        except InputError as exc:
            problems.append(str(exc))
    new = suggest_session_id(store, parent)
    titles = case_titles(store, parent)
    lines = (
        f"Een nieuwe, blinde ronde {new}" + (f" van {format_date(date)}" if date else "") + f", gekoppeld aan {parent}.",
        f"{_n(len(cases), 'casus', 'casussen')}: {_case_list(titles, cases)}." if cases else "Geen casussen gekozen.",
        f"{_n(len(raters), 'beoordelaar', 'beoordelaars')}: {', '.join(raters)}." if raters else "Geen beoordelaars gekozen.",
        "Zij scoren deze casussen opnieuw en zien elkaars nieuwe oordelen pas als je die ronde onthult.",
        f"De blinde ronde van {parent}, de bespreking en de consensus blijven zoals ze zijn.",
    )
    return Plan("rescore", f"Herbeoordelingsronde {new} openen?", lines, tuple(problems),
                {"parent": parent, "session": new, "session_date": date.isoformat() if date else None,
                 "cases": cases, "raters": raters})


def adopt_plan(store: "Store", session: str, case: str) -> Plan:
    """Say what :func:`adopt_unanimous` would record for ``case``."""
    d = case_discussion(store, session, case)
    todo = [i for i in d.items if i.unanimous and not i.has_consensus]
    problems = () if todo else ("Er zijn geen eensgezinde onderdelen zonder consensus in deze casus.",)
    lines = (
        f"{_n(len(todo), 'onderdeel', 'onderdelen')} waarover alle beoordelaars het eens waren, krijgen dat oordeel "
        "als consensus, met als reden \u2018Eensgezind in de blinde ronde\u2019.",
        f"De {_n(d.n_disputed, 'onderdeel', 'onderdelen')} met verschil blijven open voor de bespreking.",
    )
    title = f"Eensgezinde oordelen van {case} overnemen als consensus?"
    return Plan("adopt", title, lines, problems, {"session": session, "case": case})


def carry_out(store: "Store", plan: Plan):
    """Do what ``plan`` says (after the facilitator confirmed it); refuses a plan with problems."""
    if not plan.ok:
        raise InputError("this plan cannot be carried out: " + " ".join(plan.problems))
    a = dict(plan.args)
    if plan.action == "create":
        return create_session(store, a["session"], a["session_date"], cases=a["cases"], raters=a["raters"],
                              title=a["title"], framework=a["framework"])
    if plan.action == "reveal":
        return reveal(store, a["session"])
    if plan.action == "rescore":
        return open_rescore_round(store, a["parent"], session=a["session"], session_date=a["session_date"],
                                  cases=a["cases"], raters=a["raters"])
    if plan.action == "adopt":
        return adopt_unanimous(store, a["session"], a["case"])
    raise InputError(f"unknown action {plan.action!r}.")


# ----------------------------------------------------------------------------- names, kept local
def load_rater_names(path: str | Path) -> dict[str, str]:
    """The facilitator's own list of who is behind each pseudonym: a CSV (or ``.xlsx``) with
    columns ``rater`` and ``name``. Read into the kernel only, to label the screen; nothing
    of it is written to the database, a report or an export."""
    from calibrate.tabular import read_table

    df = read_table(path)
    missing = [c for c in ("rater", "name") if c not in df.columns]
    if missing:
        raise InputError(f"column(s) {', '.join(missing)} missing.", location=str(path),
                         hint="The file needs a header row with the columns rater,name.")
    out: dict[str, str] = {}
    for n, (rater, name) in enumerate(zip(df["rater"], df["name"]), start=2):
        if pd.isna(rater) or not str(rater).strip():
            raise InputError("empty rater id.", location=f"{path}, row {n}, column 'rater'",
                             hint="Give the pseudonym (e.g. B01) on every row.")
        if not pd.isna(name) and str(name).strip():
            out[str(rater).strip()] = str(name).strip()
    return out
