"""The content of the kalibreersessie report, as plain JSON-ready data.

Owns :func:`report_content` — the tables in (the score table decoded once,
:class:`~calibrate.scores.CodedScores`, the consensus, the sessions, the framework), a
dict of numbers, lists and Dutch labels out: the session at a glance, agreement, drift,
the assessors, verdicts against phases, before/after the discussion and the agenda for the
next session (``AGENDA_SIZE``, ``DRIFT_BONUS``, ``SIGNAL_BONUS``). The names and Dutch
readings come from :mod:`.readings`, the bands over cases from :mod:`.bands`; reading the
tables from a store is :mod:`.build`'s. Rendering (HTML, PDF) and JSON output use this
dict only, so the three formats always say the same thing. A part that cannot be
computed says why in ``warnings`` (Dutch sentences), never silently.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import drift
from ..dutch import format_date
from ..errors import InputError
from ..schema import DEFAULT_FRAMEWORK, phase_item
from ..scores import NOT_APPLICABLE_POSITION, CodedScores
from ..wording import CLASSIFICATION_LABELS, KIND_LABELS, with_readings  # noqa: F401 (KIND_LABELS: re-exported)
from .bands import _per_case_occasions, _rater_bands, _trajectory_bands  # noqa: F401 (_per_case_occasions: re-exported)
from .numbers import _clean, _num, _rows
from .readings import _agenda_readings, _agreement_by_kind, _names, _readings, dutch_dates
from .sections import check_section
from .session import choose_session, completeness, session_stats

AGENDA_SIZE = 10
CASES_PER_AGENDA_ITEM = 3
DRIFT_BONUS = 0.30
SIGNAL_BONUS = 0.15


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
