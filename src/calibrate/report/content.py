"""The content of the kalibreersessie report, as plain JSON-ready data.

Owns :func:`report_content` — the tables in (the score table decoded once,
:class:`~calibrate.scores.CodedScores`, the consensus, the sessions, the framework), a
dict of numbers, lists and Dutch labels out — and :func:`build_report_content`, which
reads those tables from a store once and calls it. Rendering (HTML, PDF) and JSON
output use this dict only, so the three formats always say the same thing. A part that
cannot be computed says why in ``warnings`` (Dutch sentences), never silently.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import drift
from ..errors import CalibrateError, InputError
from ..schema import DEFAULT_FRAMEWORK, phase_item
from ..scores import NOT_APPLICABLE_POSITION, CodedScores
from ..dutch import format_date
from ..wording import CLASSIFICATION_LABELS, KIND_LABELS, with_readings  # noqa: F401 (KIND_LABELS: re-exported)
from .sections import check_section
from .session import choose_session, completeness, session_stats
from .worker import background

AGENDA_SIZE = 10
CASES_PER_AGENDA_ITEM = 3
DRIFT_BONUS = 0.30
SIGNAL_BONUS = 0.15


def _num(v: Any, digits: int | None = None):
    """A JSON-safe number: NaN/inf become None; numpy scalars become Python ones."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    if not math.isfinite(f):
        return None
    return round(f, digits) if digits is not None else f


def _clean(rec: dict, digits: int = 4) -> dict:
    out = {}
    for k, v in rec.items():
        if isinstance(v, (str, list, dict)) or v is None:
            out[k] = v
        elif isinstance(v, (float, np.floating)) and not np.isfinite(v):
            out[k] = None
        elif v is pd.NA:
            out[k] = None
        else:
            out[k] = _num(v, digits)
    return out


def _rows(df: pd.DataFrame, digits: int = 4) -> list[dict]:
    return [_clean(r, digits) for r in df.to_dict("records")]


def _labels(framework) -> dict[str, dict]:
    """item id -> {label, outcome, outcome_name, dimension, dimension_name, kind}."""
    out: dict[str, dict] = {}
    if framework is None:
        return out
    names = {}
    for o in framework.outcomes:
        names[o.id] = o.name
        for d in getattr(o, "dimensions", ()):
            names[getattr(d, "id", "")] = getattr(d, "name", getattr(d, "id", ""))
    for dim in getattr(framework.phase_table, "dimensions", ()):
        names[phase_item(dim.id)] = dim.name
    for it in framework.items():
        out[it.id] = {
            "label": it.label, "kind": it.kind, "outcome": it.outcome_id, "outcome_name": names.get(it.outcome_id),
            "dimension": it.dimension_id, "dimension_name": names.get(it.dimension_id),
        }
    return out


def focus_session(sessions: pd.DataFrame, scores: CodedScores, session: str | None) -> pd.Series | None:
    """The row of ``sessions`` the report is about (:func:`.session.choose_session`)."""
    return choose_session(sessions, session_stats(scores), session)[0]


def build_report_content(store, *, session: str | None = None, progress: bool = False,
                         step: Callable[[str], None] | None = None, sections: list[dict] | None = None) -> dict:
    """Everything the report shows, as a JSON-ready dict (keys documented in docs/report.md).

    Reads the store once — the score table decoded once by the store's reader, the
    consensus, the sessions and the focus session's framework — and hands the tables to
    :func:`report_content`. ``session`` is the kalibreersessie the report is about
    (default: :func:`.session.choose_session`). ``sections`` are extra report sections
    (the shared section shape, docs/report.md). ``progress`` is accepted for symmetry
    with :func:`~calibrate.report.write_report`; progress is reported through ``step``.
    """
    content, finish = content_and_sections(store, session=session, step=step, sections=sections)
    finish()
    return content


def content_and_sections(store, *, session: str | None = None, step: Callable[[str], None] | None = None,
                         sections: list[dict] | None = None) -> tuple[dict, Callable[[], None]]:
    """:func:`build_report_content` in two steps: the content without the model sections,
    and a function that puts them in (waiting for the worker that computes them, see
    :func:`background`) — so the caller can draw the content's figures meanwhile."""
    say = step or (lambda _msg: None)
    # the model sections (seconds of EM and bootstrap on the focus session) need nothing the
    # rest of the report computes: where use_worker() says so a worker process computes
    # them meanwhile — started now, it imports the models' libraries while the store is
    # read, then gets the focus session's tables — and they are placed where they would
    # have been
    pending = background(_model_part, warm=_model_imports) if sections is None else None
    try:
        return _content(store, pending, session, say, step, sections)
    except BaseException:
        if pending is not None:
            pending.cancel()  # no worker outlives a report that failed
        raise


def _content(store, pending, session, say, step, sections):
    sessions = store.sessions()
    say("scores lezen")
    scores = store.coded_scores(notes=False, stamps=False)
    stats = session_stats(scores)  # counted once: the choice here and the content's
    focus = choose_session(sessions, stats, session)[0]
    framework, problems = None, []
    expected, people, titles = None, None, {}
    if focus is not None:
        fid = focus["framework"] or DEFAULT_FRAMEWORK
        try:
            framework = store.framework(fid)
        except CalibrateError as exc:  # a researcher's own items without a framework file
            problems.append(f"Het kader {fid} kon niet worden geladen ({exc}); de indeling naar leeruitkomst, "
                            "dimensie en fase ontbreekt daarom.")
    say("consensus lezen")
    fid_ = None if focus is None else str(focus["session"])
    # the reasons of the focus session only (the report quotes no other): the rest comes
    # from the workspace's snapshot
    consensus = store.coded_consensus(stamps=False, notes=[] if fid_ is None else [fid_])
    if pending is not None and (focus is None or framework is None):
        pending.cancel()
        pending = None
    elsewhere = None
    if pending is not None:  # the focus session's tables (the models read no notes)
        cons_ = consensus.of_sessions([fid_]) if consensus is not None and len(consensus) else consensus
        tables = None
        if pending.parallel:  # and the verdicts and phases so far, which the worker classifies too
            elsewhere = _Elsewhere()
            tables = phase_tables(scores, framework, history_sessions(sessions, set(stats["session"]), focus), fid_)
        pending.start(scores.of_sessions([fid_]), cons_, fid_, framework, tables, step=say, what="beoordelaarsmodellen")
    if focus is not None:
        scores = store.with_notes(scores, [fid_])
        expected = {"cases": store.session_cases(fid_), "raters": store.session_raters(fid_),
                    "assessable": [i.id for i in framework.assessable_items()] if framework is not None else None}
        people = participants(store, fid_, expected["raters"] or sorted(set(scores.of_sessions([fid_]).frame["rater"].astype(str))))
        cases = store.cases()
        titles = {str(c): (None if pd.isna(t) else str(t)) for c, t in zip(cases["case"], cases["title"])}
    if pending is not None and not pending.parallel:  # in order, in this process
        sections, said, _ = pending.result()
        problems, pending = problems + said, None
    # with a worker still computing, the model sections (None here) and the verdicts
    # against the phases are put in by finish()
    content = report_content(scores, consensus, sessions, framework=framework, session=session, expected=expected,
                             warnings=problems, step=step, sections=sections, participants=people,
                             case_titles=titles, stats=stats, phases_elsewhere=elsewhere)
    if pending is None:
        return content, _nothing
    at = len(problems)  # the model sections' warnings follow the reader's, as in the order above

    def finish() -> None:
        say("wachten op beoordelaarsmodellen en betrouwbaarheid")
        model, said, phases = pending.result()
        if elsewhere is not None:  # its warnings where report_content would have said them (after ``at``)
            content["phases"], phase_said = phases
            content["warnings"][elsewhere.at:elsewhere.at] = phase_said
        content["warnings"][at:at] = said
        content["sections"] = [check_section(s) for s in model]

    finish.cancel = pending.cancel
    finish.also = pending.also
    finish.idle = pending.idle
    finish.extra = pending.extra
    return content, finish


def _nothing() -> None:
    return None


_nothing.cancel = _nothing
_nothing.also = None  # no worker: nothing to hand over


def _model_part(step, scores, consensus, session: str, framework, tables=None):
    """The worker's job: the model sections and their warnings, then — given ``tables``
    (:func:`phase_tables`) — the verdicts-against-phases part with its warnings
    (:func:`phases_part`), else None."""
    said: list[str] = []
    sections = model_sections(scores, consensus, session, framework, said, step=step)
    return sections, said, (phases_part(*tables, framework) if tables is not None else None)


def phase_tables(scores: CodedScores, framework, history_ids: list[str], focus_id: str) -> tuple:
    """What :func:`phases_part` reads: the phase and verdict judgements of the focus
    session and of the history, with the framework's scales (a fifth of the table, sent
    to the worker instead of all of it)."""
    coded = scores.with_framework(framework)
    vp = coded.select(coded.frame["kind"].isin(["phase", "verdict"]).to_numpy())
    return vp.of_sessions([focus_id]), vp.of_sessions(history_ids)


def phases_part(focus: CodedScores, history: CodedScores, framework) -> tuple[dict, list[str]]:
    """The report's verdicts-against-phases part (``content["phases"]``) and its warnings."""
    said: list[str] = []
    return _phases(focus, history, framework, said), said


def _model_imports() -> None:
    """What the model sections import when they run (a worker imports it while waiting)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import sklearn.tree  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401

    from .. import gtheory, raters  # noqa: F401


def model_sections(scores: CodedScores, consensus: CodedScores | None, session: str, framework,
                   warnings: list[str], *, step: Callable[[str], None] | None = None) -> list[dict]:
    """The report's sections from the model rooms, on the focus ``session``: what each
    assessor does (:func:`calibrate.raters.report_section`: latent consensus, implicit
    cut-offs, many-facet Rasch) and how many assessors are enough
    (:func:`calibrate.gtheory.report_section`: G- and D-study). A section that cannot be
    computed for this session is left out and said once in ``warnings``."""
    from .. import gtheory, raters

    say = step or (lambda _msg: None)
    focus = scores.of_sessions([session])
    cons = consensus.of_sessions([session]) if consensus is not None and len(consensus) else None
    if cons is not None and not len(cons):
        cons = None
    out = []
    for name, title, make in (
        ("beoordelaarsmodellen", "Wat elke beoordelaar doet",
         lambda: raters.report_section(focus, framework, cons)),
        ("betrouwbaarheid", "Hoeveel beoordelaars zijn genoeg?",
         lambda: gtheory.report_section(focus, framework)),
    ):
        say(name)
        try:
            out.append(make())
        except CalibrateError as exc:
            warnings.append(f"Het onderdeel ‘{title}’ kon voor deze sessie niet worden berekend ({exc}).")
    return out


def participants(store, session: str, raters: list[str]) -> dict:
    """Who took part: pseudonyms, or names where the session opted in (``calibrate session
    show-names``) and the name is known — the rule of :meth:`Store.with_rater_names`."""
    frame = pd.DataFrame({"session": [session] * len(raters), "rater": list(raters)})
    shown = store.with_rater_names(frame)["rater"].astype(str).tolist()
    named = any(a != b for a, b in zip(shown, raters))
    return {"names": named, "raters": [{"rater": r, "shown": s} for r, s in zip(raters, shown)]}


def history_sessions(sessions: pd.DataFrame, scored: set, focus: pd.Series) -> list[str]:
    """The sessions drift and the assessor profiles use: every first round up to and
    including the ``focus`` session (a row of ``sessions``) with judgements (``scored``)."""
    focus_id, focus_date = str(focus["session"]), str(focus["session_date"])
    first_rounds = sessions[(sessions["parent"].isna()) & (sessions["session_date"].astype(str) <= focus_date)]
    ids = [s for s in first_rounds["session"] if s in scored]
    if focus_id not in ids and focus_id in scored:
        ids.append(focus_id)
    return ids


class _Elsewhere:
    """A part of the content computed elsewhere (the report's worker): where its warnings
    go once it arrives (filled by ``finish``, see :func:`content_and_sections`)."""

    def __init__(self) -> None:
        self.at: int | None = None


def report_content(scores, consensus, sessions: pd.DataFrame, *, framework=None, session: str | None = None,
                   expected: dict | None = None, warnings: list[str] | None = None,
                   step: Callable[[str], None] | None = None, sections: list[dict] | None = None,
                   participants: dict | None = None, case_titles: dict | None = None,
                   stats: pd.DataFrame | None = None, phases_elsewhere: _Elsewhere | None = None) -> dict:
    """The report's content from tables: ``scores`` and ``consensus`` (long tables of
    CONTRACTS §1 or :class:`~calibrate.scores.CodedScores`, coded once here if plain),
    ``sessions`` (as :meth:`calibrate.store.Store.sessions` gives them: session,
    session_date, framework, title, revealed, round, parent), the focus session's
    ``framework`` (None: the contract codes and the id grammar), ``expected`` set-up of
    the focus session (``cases``, ``raters``: lists; ``assessable``: item ids),
    ``sections`` (extra sections in the shared shape), ``participants`` (who took part,
    see :func:`participants`), ``case_titles`` (case id -> title) and ``stats`` (the
    :func:`.session.session_stats` of ``scores`` when already counted). Drift and assessor
    profiles use every first-round session up to and including the focus session
    (:func:`history_sessions`); re-score rounds are compared with their parent session.
    ``phases_elsewhere`` (for :func:`content_and_sections`): the verdicts-against-phases
    part is computed elsewhere (:func:`phases_part`) and put in later; ``phases`` is None
    until then.
    """
    say = step or (lambda _msg: None)
    import calibrate

    all_scores = CodedScores.code(scores).with_framework(framework)
    cons_all = CodedScores.code(consensus, required=("session", "case", "item", "value"), what="consensus",
                                framework=framework) if consensus is not None and len(consensus) else None
    stats = session_stats(all_scores) if stats is None else stats
    scored = set(stats["session"])
    focus, chosen = choose_session(sessions, stats, session)
    content: dict[str, Any] = {
        "title": "Kalibreersessierapport",
        "version": getattr(calibrate, "__version__", "0"),
        "warnings": list(warnings or []) + chosen,
        "sections": [check_section(s) for s in (sections or [])],
        "agreement_by_kind": [],
    }
    if focus is None:
        content.update(session=None, drifting_indicators=[], rater_effects=[], agenda=[], agreement={"available": False},
                       drift={"items": []}, phases={"available": False}, discussion=[], drift_signals=[])
        content["warnings"].append("Er zijn nog geen oordelen opgeslagen: er valt nog niets te rapporteren.")
        return content
    fid = focus["framework"] or DEFAULT_FRAMEWORK
    labels = _labels(framework)
    content["names"] = _names(framework)
    focus_id = str(focus["session"])
    focus_date = str(focus["session_date"])

    # the history the drift analysis uses: first rounds up to the focus session
    history_ids = history_sessions(sessions, scored, focus)
    history = all_scores.of_sessions(history_ids)
    focus_scores = all_scores.of_sessions([focus_id])
    consensus = cons_all.of_sessions(history_ids) if cons_all is not None else None
    has_consensus = consensus is not None and len(consensus) > 0
    if not has_consensus:
        consensus = None

    # ------------------------------------------------------------- the session at a glance
    ff = focus_scores.frame
    n_cases = int(ff["case"].nunique())
    n_raters = int(ff["rater"].nunique())
    exp = expected or {}
    done = completeness(focus_scores, cases=exp.get("cases"), raters=exp.get("raters"), assessable=exp.get("assessable"))
    title = None if pd.isna(focus["title"]) else dutch_dates(str(focus["title"]))
    focus_cases = list(exp.get("cases") or sorted(set(ff["case"].astype(str))))
    content["session"] = {
        "id": focus_id, "date": focus_date, "date_text": format_date(focus_date), "title": title,
        "framework": fid, "revealed": bool(focus["revealed"]), "round": int(focus["round"]),
        "parent": None if pd.isna(focus["parent"]) else str(focus["parent"]),
        "n_cases": n_cases, "n_raters": n_raters, "n_judgements": int(len(focus_scores)),
        "n_not_applicable": int((focus_scores.position == NOT_APPLICABLE_POSITION).sum()),
        "n_items": int(ff["item"].nunique()),
        "cases_expected": len(exp["cases"]) if exp.get("cases") else None,
        "raters_expected": len(exp["raters"]) if exp.get("raters") else None,
        "complete": done["complete"], "completeness": done,
        "cases": [{"case": c, "title": (case_titles or {}).get(c)} for c in focus_cases],
        "participants": participants or {"names": False, "raters": [{"rater": r, "shown": r} for r in sorted(set(ff["rater"].astype(str)))]},
        "history": history_ids, "n_sessions_history": len(history_ids), "consensus": has_consensus,
    }
    if not done["complete"] and len(focus_scores):
        todo = ", ".join(f"{o['rater']} op {o['case']}" for o in done["open"][:8]) + (f" en nog {len(done['open']) - 8}" if len(done["open"]) > 8 else "")
        content["warnings"].append(f"Sessie {focus_id} is niet compleet ({done['text']}); nog open: {todo}.")
    if not bool(focus["revealed"]):
        content["warnings"].append(
            f"Sessie {focus_id} is nog niet vrijgegeven: de beoordelaars zien elkaars oordelen nog niet. "
            "Dit rapport is alleen voor de gespreksleider.")
    unrevealed = [s for s in history_ids if s != focus_id and not bool(sessions.loc[sessions["session"] == s, "revealed"].iloc[0])]
    if unrevealed:
        content["warnings"].append(f"Nog niet vrijgegeven sessies in de trend: {', '.join(unrevealed)}.")
    if not has_consensus:
        content["warnings"].append(
            "Er is geen consensus (benchmark) vastgelegd: afwijkingen zijn gemeten ten opzichte van het panel zelf; "
            "in de agenda staat het waarschijnlijke oordeel volgens een model in plaats van een consensus.")
    if len(history_ids) < 3:
        content["warnings"].append(
            f"Pas {len(history_ids)} sessie(s) met oordelen: drift over sessies is vanaf drie sessies te toetsen.")

    # ------------------------------------------------------------- agreement (kijkkader)
    say("overeenstemming")
    content["agreement"] = _agreement(focus_scores, framework, content["warnings"], content["names"])
    content["agreement_by_kind"] = _agreement_by_kind(content["agreement"])

    # ------------------------------------------------------------- drift
    say("drift per indicator")
    try:
        items = drift.drifting_indicators(history, consensus)
        traj = drift.item_trajectories(history, consensus)
    except InputError as exc:  # a table the tests cannot read: say so, keep the rest
        content["warnings"].append(f"Drift per indicator kon niet worden berekend: {exc}")
        items, traj = pd.DataFrame(columns=["item", "flagged"]), pd.DataFrame()
    say("beoordelaars")
    try:
        raters = drift.rater_effects(history, consensus)
        rtraj = drift.rater_trajectories(history, consensus)
    except InputError as exc:
        content["warnings"].append(f"De beoordelaarsprofielen konden niet worden berekend: {exc}")
        raters, rtraj = pd.DataFrame(columns=["rater", "leniency", "flagged", "drift_flagged"]), pd.DataFrame()

    traj_by_item = {i: g for i, g in traj.groupby("item", sort=False)} if len(traj) else {}
    item_rows = []
    for rec in _rows(items):
        meta = labels.get(rec["item"], {})
        rec["label"] = meta.get("label")
        rec["outcome"] = meta.get("outcome")
        rec["dimension"] = meta.get("dimension")
        rec["signal"] = bool(not rec.get("flagged") and _signal(rec))
        rec["name"] = meta.get("label") or rec["item"]
        rec["outcome_name"] = meta.get("outcome_name")
        rec["dimension_name"] = meta.get("dimension_name")
        item_rows.append(rec)
    content["drift"] = {
        "reference": "consensus" if has_consensus else "panel",
        "alpha": drift.ALPHA, "min_shift": drift.MIN_SHIFT,
        "sessions": history_ids,
        "items": item_rows,
    }
    flagged = [r for r in item_rows if r.get("flagged")]
    flagged.sort(key=lambda r: (r["q_value"] if r["q_value"] is not None else 1.0))
    content["drifting_indicators"] = [
        {"item": r["item"], "label": r["label"], "name": r.get("name"), "drift": r["drift"], "direction": r["direction"], "q_value": r["q_value"],
         "p_value": r["p_value"], "level_shift": r["level_shift"], "agreement_change": r["agreement_change"],
         "trajectory": _rows(traj_by_item[r["item"]][["session", "session_date", "mean", "reference", "diff", "agreement"]])
         if r["item"] in traj_by_item else []}
        for r in flagged
    ]
    content["drift_signals"] = [
        {"item": r["item"], "label": r["label"], "name": r.get("name"), "p_level": r["p_level"], "level_shift": r["level_shift"],
         "p_agreement": r["p_agreement"], "agreement_change": r["agreement_change"],
         "trajectory": _rows(traj_by_item[r["item"]][["session", "session_date", "mean", "reference", "diff", "agreement"]])
         if r["item"] in traj_by_item else []}
        for r in sorted((r for r in item_rows if r["signal"]), key=lambda r: min(_p(r["p_level"]), _p(r["p_agreement"])))
    ]
    rtraj_by = {r: g for r, g in rtraj.groupby("rater", sort=False)} if len(rtraj) else {}
    rater_rows = []
    for rec in _rows(raters):
        rec["trajectory"] = _rows(rtraj_by[rec["rater"]][["session", "leniency", "n_judgements"]]) if rec["rater"] in rtraj_by else []
        rater_rows.append(rec)
    content["rater_effects"] = rater_rows

    # ------------------------------------------------------------- phases
    say("oordelen en fasen")
    if phases_elsewhere is None:
        content["phases"] = _phases(focus_scores, history, framework, content["warnings"])
    else:  # its place (and its warnings' place) kept for when it arrives
        content["phases"] = None
        phases_elsewhere.at = len(content["warnings"])

    # ------------------------------------------------------------- before / after
    say("voor en na de bespreking")
    content["discussion"] = _discussion(all_scores, sessions, focus_id)

    # ------------------------------------------------------------- agenda
    say("agenda")
    focus_consensus = consensus.of_sessions([focus_id]) if has_consensus else None
    content["agenda"] = _agenda(focus_scores, focus_consensus, item_rows, labels)
    _agenda_readings(content["agenda"], focus_scores, focus_consensus, framework, case_titles or {}, content["warnings"])
    _trajectory_bands(content["drifting_indicators"], history, consensus)
    _rater_bands(content["rater_effects"], history, consensus, framework)
    content["readings"] = _readings(focus_consensus, framework, content["names"], case_titles or {})
    content["summary"] = {
        "n_drifting": len(content["drifting_indicators"]),
        "n_signals": len(content["drift_signals"]),
        "raters_flagged": [r["rater"] for r in rater_rows if r.get("flagged")],
        "raters_drifting": [r["rater"] for r in rater_rows if r.get("drift_flagged")],
        "agreement": content["agreement"].get("overall"),
    }
    return content


def _p(v) -> float:
    return 1.0 if v is None else float(v)


def _signal(rec: dict) -> bool:
    """A drift *signal*: uncorrected p ≤ alpha and a practical shift (shown, not flagged)."""
    lvl = rec.get("p_level") is not None and rec["p_level"] <= drift.ALPHA and abs(rec.get("level_shift") or 0) >= drift.MIN_SHIFT
    agr = (rec.get("p_agreement") is not None and rec["p_agreement"] <= drift.ALPHA
           and -(rec.get("agreement_change") or 0) >= drift.MIN_SHIFT)
    return bool(lvl or agr)


def _agreement(focus: CodedScores, framework, warnings: list[str], names: dict | None = None) -> dict:
    """Agreement per leeruitkomst, dimension and indicator (kijkkader roll-up) for the session."""
    from ..agreement.rollup import kijkkader_rollup

    try:
        roll = with_readings(kijkkader_rollup(focus, framework=framework))
    except InputError as exc:
        warnings.append(f"De overeenstemming kon niet worden berekend: {exc}")
        return {"available": False, "message": "kon niet worden berekend"}
    cols = ["group", "kind", "n_units", "n_raters", "percent_agreement", "alpha", "alpha_ci_low", "alpha_ci_high",
            "ac", "ac_ci_low", "ac_ci_high", "band_landis_koch", "note"]
    out = {"available": True, "coefficient": "Krippendorffs alfa (met 95%-BI), Gwets AC1/AC2 en % overeenstemming"}
    names = names or {}
    for level, key in (("overall", "overall_rows"), ("outcome", "outcomes"), ("dimension", "dimensions"), ("item", "indicators")):
        out[key] = _rows(roll.loc[roll["level"] == level, cols + ["band_krippendorff"]])
        for r in out[key]:
            r["name"] = "Alle onderdelen" if level == "overall" else names.get(r["group"], r["group"])
            r["kind_label"] = KIND_LABELS.get(r["kind"], r["kind"])
    overall = [r for r in out["overall_rows"] if r["kind"] == "indicator"] or out["overall_rows"]
    out["overall"] = overall[0] if overall else None
    return out


def _phases(focus: CodedScores, history: CodedScores, framework, warnings: list[str]) -> dict:
    """Verdict–phase consistency: counts for the session, and each assessor's rate of
    lenient/severe verdicts over every session so far (more verdicts, narrower CIs)."""
    from .. import phases

    if framework is None or not getattr(framework, "profiles", None):
        return {"available": False, "message": "geen fasenprofiel in het kader"}
    def verdicts_and_phases(table: CodedScores) -> CodedScores:  # all the classification reads
        return table.select(table.frame["kind"].isin(["phase", "verdict"]).to_numpy())

    def present(table: CodedScores) -> set:
        return set(map(str, table.frame["session"].dropna().unique()))

    try:
        # one classification of every verdict so far; the session's verdicts are its rows
        # (each verdict is read against its own session's phases)
        every = phases.classify_verdicts(verdicts_and_phases(history), framework) if len(history) else None
        mine = present(focus)
        if every is not None and mine <= present(history):
            cls = every[every["session"].isin(mine)].reset_index(drop=True)
        else:
            cls = phases.classify_verdicts(verdicts_and_phases(focus), framework)
        rates = phases.rater_rates(every if every is not None else cls)
    except InputError as exc:
        warnings.append(f"De oordelen konden niet naast de fasen worden gelegd: {exc}")
        return {"available": False, "message": "kon niet worden berekend"}
    counts = cls["classification"].value_counts()
    by_outcome = cls.groupby(["outcome" if "outcome" in cls.columns else "item", "classification"]).size().unstack(fill_value=0) \
        if len(cls) else pd.DataFrame()
    return {
        "available": True,
        "n_verdicts": int(len(cls)),
        "counts": {str(k): int(v) for k, v in counts.items()},
        "labels": dict(CLASSIFICATION_LABELS),
        "by_outcome": [{"group": str(idx), **{str(c): int(v) for c, v in row.items()}} for idx, row in by_outcome.iterrows()],
        "raters": _rows(rates),
    }


def _discussion(scores: pd.DataFrame, sessions: pd.DataFrame, focus_id: str) -> list[dict]:
    """Before/after the discussion for re-score rounds of (or leading to) the focus session."""
    children = sessions[sessions["parent"].notna()]
    related = children[(children["parent"] == focus_id) | (children["session"] == focus_id)]
    if related.empty:
        return []
    need = set(related["session"]) | set(related["parent"])
    sub = scores.of_sessions(sorted(need))
    out = []
    for res in drift.discussion_effects(sub, related):
        d = res.to_dict()
        d["per_item"] = _rows(res.per_item.head(10)) if res.per_item is not None else []
        out.append(_clean(d) | {"ci": [_num(v, 4) for v in res.ci], "per_item": d["per_item"]})
    return out


def _agenda(focus: CodedScores, focus_consensus: CodedScores | None, item_rows: list[dict], labels: dict) -> list[dict]:
    """Items ranked for the next kalibreersessie; each with its most divergent cases and the
    assessors' (pseudonymised) evidence notes on them.

    priority = disagreement among the assessors in this session (1 − pairwise agreement)
    + |panel − consensus| in this session (0 without a consensus)
    + DRIFT_BONUS for drift after correction, SIGNAL_BONUS for an uncorrected drift signal.
    A case's divergence is its own (1 − agreement) + |panel − consensus|.
    """
    if not len(focus):
        return []
    div = drift.case_disagreement(focus, focus_consensus)
    div["deviation"] = div["deviation"].fillna(0.0) if "deviation" in div else 0.0
    div["divergence"] = (1 - div["agreement"].fillna(1)) + div["deviation"]
    div = div.sort_values(["divergence", "case"], ascending=[False, True], kind="stable")
    per_item = div.groupby("item").agg(agreement=("agreement", "mean"), deviation=("deviation", "mean"))
    by_item = {r["item"]: r for r in item_rows}
    rows = []
    for item, r in per_item.iterrows():
        if not np.isfinite(r["agreement"]):
            continue
        rec = by_item.get(item, {})
        disagreement = 1 - float(r["agreement"])
        deviation = float(r["deviation"])
        priority = disagreement + deviation + (DRIFT_BONUS if rec.get("flagged") else 0) + (SIGNAL_BONUS if rec.get("signal") else 0)
        reasons = []
        if rec.get("flagged"):
            reasons.append("drift: " + ("niveau" if rec.get("drift") == "level" else "overeenstemming daalt"))
        elif rec.get("signal"):
            reasons.append("driftsignaal (niet gecorrigeerd)")
        if disagreement >= 0.25:
            reasons.append("veel onenigheid in deze sessie")
        if deviation >= 0.25:
            reasons.append("panel wijkt af van de consensus")
        rows.append((priority, item, disagreement, deviation, rec, reasons))
    rows.sort(key=lambda r: (-r[0], r[1]))
    ff = focus.frame
    notes = ff[ff["note"].notna()] if "note" in ff else ff.iloc[0:0].assign(note=pd.Series(dtype="string"))
    agenda = []
    for rank, (priority, item, disagreement, deviation, rec, reasons) in enumerate(rows[:AGENDA_SIZE], start=1):
        cases = div[(div["item"] == item) & (div["divergence"] > 0)].head(CASES_PER_AGENDA_ITEM)
        case_list = []
        for case, c_agreement, c_deviation, values in zip(cases["case"].tolist(), cases["agreement"].tolist(),
                                                          cases["deviation"].tolist(), cases["values"].tolist()):
            ns = notes[(notes["case"] == case) & (notes["item"] == item)]
            case_list.append({
                "case": str(case), "agreement": _num(c_agreement, 3), "deviation": _num(c_deviation, 3),
                "values": {str(k): int(v) for k, v in values.items()},
                "notes": [{"rater": str(r), "value": str(v), "note": str(n)}
                          for r, v, n in zip(ns["rater"].tolist(), ns["value"].tolist(), ns["note"].tolist())],
            })
        meta = labels.get(item, {})
        agenda.append({
            "rank": rank, "item": item, "label": meta.get("label"), "outcome": meta.get("outcome_name") or meta.get("outcome"),
            "dimension": meta.get("dimension_name") or meta.get("dimension"),
            "priority": _num(priority, 3), "disagreement": _num(disagreement, 3), "deviation": _num(deviation, 3),
            "drift": rec.get("drift"), "direction": rec.get("direction"), "q_value": rec.get("q_value"),
            "signal": bool(rec.get("signal")), "reasons": reasons or ["onenigheid"], "cases": case_list,
        })
    return agenda


# ----------------------------------------------------------------------------- names and readings
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

#: The alpha coefficient per kind (kijkkader_rollup: nominal for indicators, verdicts and
#: decisions; ordinal for levels and phases).
ALPHA_SPEC = {"indicator": "krippendorff_alpha:nominal", "verdict": "krippendorff_alpha:nominal",
              "decision": "krippendorff_alpha:nominal", "level": "krippendorff_alpha:ordinal",
              "phase": "krippendorff_alpha:ordinal"}
KIND_ORDER = ("indicator", "level", "phase", "verdict", "decision")


def dutch_dates(text: str) -> str:
    """``Kalibreersessie 2026-07-06`` -> ``Kalibreersessie 6 juli 2026``."""
    return _ISO_DATE.sub(lambda m: format_date(m.group(0)), text)


def _names(framework) -> dict[str, str]:
    """Every group id of the report (leeruitkomst, dimension, item) -> its name in the kader."""
    out: dict[str, str] = {}
    if framework is None:
        return out
    for o in framework.outcomes:
        out[o.id] = o.name
        for d in getattr(o, "dimensions", ()):
            out[d.id] = d.name
    for it in framework.items():
        out[it.id] = it.label
    for dim in getattr(framework.phase_table, "dimensions", ()):
        out.setdefault(phase_item(dim.id), f"Fase — {dim.name}")
        out.setdefault(dim.id, dim.name)  # the roll-up's phase groups
    return out


def _value_label(framework, item_id: str, code) -> str:
    """The name of a value (level and phase names), else the code itself."""
    if framework is None or code is None:
        return "—" if code is None else str(code)
    from ..discussion import value_label

    try:
        return value_label(framework, framework.item(item_id), str(code))
    except (InputError, KeyError):
        return str(code)


def _agreement_by_kind(agreement: dict) -> list[dict]:
    """One row per kind present: kind, coefficient, value, ci_low, ci_high, n_units, n_raters
    (CONTRACTS §4), plus the Dutch kind, AC1/AC2, % agreement and Krippendorff's reading."""
    if not agreement.get("available"):
        return []
    rows = {r["kind"]: r for r in agreement.get("overall_rows", [])}
    out = []
    for kind in [k for k in KIND_ORDER if k in rows] + [k for k in rows if k not in KIND_ORDER]:
        r = rows[kind]
        out.append({
            "kind": kind, "kind_label": KIND_LABELS.get(kind, kind), "coefficient": ALPHA_SPEC.get(kind, "krippendorff_alpha"),
            "value": r.get("alpha"), "ci_low": r.get("alpha_ci_low"), "ci_high": r.get("alpha_ci_high"),
            "n_units": r.get("n_units"), "n_raters": r.get("n_raters"),
            "percent_agreement": r.get("percent_agreement"), "ac": r.get("ac"), "ac_ci_low": r.get("ac_ci_low"),
            "ac_ci_high": r.get("ac_ci_high"), "reading": r.get("band_krippendorff"),
        })
    return out


def _agenda_readings(agenda: list[dict], focus: CodedScores, focus_consensus: CodedScores | None, framework,
                     titles: dict, warnings: list[str]) -> None:
    """Beside each agenda case's spread: the consensus (value and reason) where one was
    recorded, else the most likely judgement of the latent-consensus model
    (:func:`calibrate.raters.latent_consensus`), marked as a model estimate."""
    if not agenda:
        return
    cons = {}
    if focus_consensus is not None and len(focus_consensus):
        cf = focus_consensus.to_frame(["case", "item", "value", "note"]) if "note" in focus_consensus.frame else \
            focus_consensus.to_frame(["case", "item", "value"]).assign(note=None)
        cons = {(str(c), str(i)): (v, n) for c, i, v, n in zip(cf["case"], cf["item"], cf["value"], cf["note"])}
    missing = [(c["case"], a["item"]) for a in agenda for c in a["cases"] if (c["case"], a["item"]) not in cons]
    model = {}
    if missing:
        items = sorted({i for _, i in missing})
        sub = focus.select(focus.frame["item"].isin(items).to_numpy())
        try:
            from ..raters import latent_consensus

            fit = latent_consensus(sub.to_frame(["session", "case", "rater", "item", "kind", "value"]), framework=framework,
                                   n_boot=0)
            ml = fit.most_likely
            model = {(str(c), str(i)): (v, p) for c, i, v, p in zip(ml["case"], ml["item"], ml["value"], ml["p"])}
        except (InputError, ValueError) as exc:
            warnings.append(f"Het waarschijnlijke oordeel (model) kon niet worden geschat: {exc}")
    for a in agenda:
        for c in a["cases"]:
            key = (c["case"], a["item"])
            c["title"] = titles.get(c["case"])
            c["value_labels"] = {k: _value_label(framework, a["item"], k) for k in c["values"]}
            if key in cons:
                v, n = cons[key]
                c["consensus"] = {"value": None if v is None else str(v), "label": _value_label(framework, a["item"], v),
                                  "reason": None if n is None or pd.isna(n) else str(n)}
                c["model"] = None
            else:
                c["consensus"] = None
                if key in model:
                    v, p = model[key]
                    c["model"] = {"value": str(v), "label": _value_label(framework, a["item"], v), "p": _num(p, 3)}
                else:
                    c["model"] = None


def _t_interval(x: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Mean and 95% t interval over cases (None where fewer than two cases)."""
    from scipy import stats

    x = x[np.isfinite(x)]
    if not len(x):
        return None, None, None
    m = float(x.mean())
    if len(x) < 2:
        return m, None, None
    h = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - h, m + h


def _trajectory_bands(entries: list[dict], history: CodedScores, consensus: CodedScores | None) -> None:
    """95% intervals over the cases of each session for the drifting items' trajectories:
    ``diff_ci_low/high`` (panel − consensus; only with a consensus) and ``agreement_ci_low/high``."""
    if not entries:
        return
    items = [e["item"] for e in entries]
    sub = history.select(history.frame["item"].isin(items).to_numpy())
    csub = consensus.select(consensus.frame["item"].isin(items).to_numpy()) if consensus is not None else None
    try:
        per_case = drift.case_disagreement(sub, csub)
    except InputError:
        return
    if "reference" in per_case:
        per_case["diff"] = per_case["mean"] - per_case["reference"]
    groups = {k: g for k, g in per_case.groupby(["item", "session"], sort=False)}
    for e in entries:
        for point in e.get("trajectory") or []:
            g = groups.get((e["item"], point["session"]))
            if g is None:
                continue
            _, lo, hi = _t_interval(g["agreement"].to_numpy(dtype=float))
            point["agreement_ci_low"], point["agreement_ci_high"] = _num(lo, 4), _num(hi, 4)
            if "diff" in g:
                _, lo, hi = _t_interval(g["diff"].to_numpy(dtype=float))
                point["diff_ci_low"], point["diff_ci_high"] = _num(lo, 4), _num(hi, 4)


def _per_case_occasions(table: CodedScores, columns: list[str]) -> pd.DataFrame:
    """``table`` as the long table of ``columns`` with each (session, case) its own session
    ``"<session>\x1f<case>"``: the id columns stay categorical (only the labels of the
    pairs present are joined as text), the rest is decoded; :meth:`CodedScores.code`
    codes it as it codes the same table in text."""
    f = table.frame
    s, c = table.codes("session"), table.codes("case")
    if (s < 0).any() or (c < 0).any():  # a row without session or case: the text path says what it is
        frame = table.to_frame(columns)
        return frame.assign(session=frame["session"].astype(str) + "\x1f" + frame["case"].astype(str))
    out = table.to_frame([col for col in columns if col not in ("session", "case", "rater", "item")])
    uniq, pair = np.unique(s * len(f["case"].cat.categories) + c, return_inverse=True)
    pair = pair.reshape(-1)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[pair[::-1]] = np.arange(len(pair))[::-1]  # a row of each pair
    s_lab = np.asarray(f["session"].cat.categories, dtype=object)[s[first]]
    c_lab = np.asarray(f["case"].cat.categories, dtype=object)[c[first]]
    cols: dict = {"session": pd.Categorical.from_codes(
        pair, categories=pd.Index([f"{a}\x1f{b}" for a, b in zip(s_lab, c_lab)], dtype=object))}
    for col in columns:
        if col in ("case", "rater", "item"):
            cols[col] = f[col].cat.remove_unused_categories().array
        elif col != "session":
            cols[col] = out[col].array
    return pd.DataFrame({k: cols[k] for k in columns})


def _rater_bands(raters: list[dict], history: CodedScores, consensus: CodedScores | None, framework=None) -> None:
    """Per session a 95% interval over cases of the leniency of each assessor whose leniency
    changed (``drift_flagged``): the per-case leniency (each session × case its own
    occasion for :func:`calibrate.drift.rater_trajectories`), then a t interval."""
    flagged = [r for r in raters if r.get("drift_flagged")]
    if not flagged:
        return
    if consensus is not None:  # with a benchmark only the flagged assessors' rows are needed
        history = history.select(history.frame["rater"].isin([r["rater"] for r in flagged]).to_numpy())
    frame = _per_case_occasions(history, ["session", "session_date", "case", "rater", "item", "kind", "value"])
    cons = None
    if consensus is not None:
        cons = _per_case_occasions(consensus, ["session", "session_date", "case", "item", "kind", "value"])
    try:
        coded = CodedScores.code(frame).with_framework(framework)
        ccoded = CodedScores.code(cons, required=("session", "case", "item", "value"), what="consensus",
                                  framework=framework) if cons is not None else None
        tr = drift.rater_trajectories(coded, ccoded)
    except InputError:
        return
    tr = tr.assign(base=tr["session"].str.split("\x1f").str[0])
    for r in flagged:
        mine = tr[tr["rater"] == r["rater"]]
        by = {s: g["leniency"].to_numpy(dtype=float) for s, g in mine.groupby("base", sort=False)}
        for point in r.get("trajectory") or []:
            x = by.get(point["session"])
            if x is None:
                continue
            _, lo, hi = _t_interval(x)
            point["ci_low"], point["ci_high"] = _num(lo, 4), _num(hi, 4)


def _readings(focus_consensus: CodedScores | None, framework, names: dict, titles: dict) -> list[dict]:
    """The agreed readings of the kijkkader: every consensus of the session that carries a
    reason, per case (title) and item (name), in kader order."""
    if focus_consensus is None or not len(focus_consensus) or "note" not in focus_consensus.frame:
        return []
    cf = focus_consensus.to_frame(["case", "item", "value", "note"])
    cf = cf[cf["note"].notna() & (cf["note"].astype(str).str.strip() != "")]
    order = {it.id: k for k, it in enumerate(framework.items())} if framework is not None else {}
    rows = [{"case": str(c), "title": titles.get(str(c)), "item": str(i), "name": names.get(str(i), str(i)),
             "value": str(v), "label": _value_label(framework, str(i), v), "reason": str(n)}
            for c, i, v, n in zip(cf["case"], cf["item"], cf["value"], cf["note"])]
    rows.sort(key=lambda r: (r["case"], order.get(r["item"], 10**6), r["item"]))
    return rows
