"""A seeded simulator of kalibreersessies with planted rater and indicator effects.

It produces a score table and the consensus (benchmark) table in the contract format
(CONTRACTS §1), plus the truth about what was planted, so analyses can be checked for
recovery: a lenient assessor, an assessor whose leniency drifts over sessions, and
indicators that the panel starts to read differently (level drift) or less
consistently (agreement drift).

The model (all on a logit / latent scale):

* each case ``c`` has a latent competence ``theta[c, o]`` per leeruitkomst ``o``
  (overall ``N(0, 1)`` plus an outcome deviation ``N(0, 0.5)``);
* each indicator ``j`` has a difficulty ``b[j] ~ N(0, 0.8)``; the consensus says
  ``gezien`` when ``theta - b > 0``;
* assessor ``r`` in session ``s`` sees ``gezien`` with probability
  ``logistic(discrimination * (theta - b + leniency[r] + rater_drift[r] * s + item_drift[j] * s) + noise)``;
  an agreement-drifting item gets extra noise that grows with the session index;
* rubric levels, phases and verdicts come from the same latent competence, shifted by the
  assessor's leniency, with thresholds fixed by the scale; the decision applies the
  framework's rule to the assessor's own verdicts.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..schema import CODES, CONSENSUS_COLUMNS, NOT_APPLICABLE, SCORE_COLUMNS


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate and which effects to plant.

    ``lenient_raters`` maps a rater id to a constant leniency shift (logits; > 0 more
    lenient). ``drifting_raters`` maps a rater id to a change of leniency per session.
    ``drifting_items`` maps an item id to a level shift per session (> 0: the panel
    judges it more leniently over time). ``noisy_items`` maps an item id to extra noise
    per session (agreement drift). ``item_difficulty`` fixes an indicator's difficulty
    (otherwise drawn from ``N(0, 0.8)``).

    ``verdict_lenient_raters`` maps a rater id to a shift (logits; > 0 more lenient) of
    that rater's verdicts only: their indicators, levels and phases stay as they were, so
    they say ``voldaan`` where their own phase ratings fall short of the profile (a lenient
    cut-off, recovered by :mod:`calibrate.phases`). It draws no random numbers: configs
    without it give exactly the tables they gave before.
    """

    n_sessions: int = 4
    n_raters: int = 6
    cases_per_session: int = 4
    case_ids: Sequence[str] | None = None
    session_cases: Mapping[int, Sequence[str]] | None = None
    rater_ids: Sequence[str] | None = None
    items: Sequence[str] | None = None
    first_date: _dt.date = _dt.date(2026, 1, 19)
    days_between: int = 56
    discrimination: float = 2.0
    rater_noise: float = 0.6
    not_applicable_rate: float = 0.02
    lenient_raters: Mapping[str, float] = field(default_factory=dict)
    drifting_raters: Mapping[str, float] = field(default_factory=dict)
    drifting_items: Mapping[str, float] = field(default_factory=dict)
    noisy_items: Mapping[str, float] = field(default_factory=dict)
    with_notes: bool = False
    item_difficulty: Mapping[str, float] = field(default_factory=dict)
    seed: int = 2026
    verdict_lenient_raters: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: the score table, the consensus table and the truth."""

    scores: pd.DataFrame
    consensus: pd.DataFrame
    planted: dict
    config: SimulationConfig


DEMO_CONFIG = SimulationConfig(
    n_sessions=4,
    n_raters=6,
    cases_per_session=8,
    lenient_raters={"B03": 1.2},
    drifting_raters={"B05": -0.6},
    verdict_lenient_raters={"B04": 1.5},
    drifting_items={"leerklimaat.klassenmanagement.2": 1.3, "leerstof.activerend_lesgeven.4": -1.3},
    noisy_items={"afstemmen.didactisch_afstemmen.3": 1.2},
    item_difficulty={
        "leerklimaat.klassenmanagement.2": 0.0,
        "leerstof.activerend_lesgeven.4": 0.0,
        "afstemmen.didactisch_afstemmen.3": 0.0,
    },
    with_notes=True,
    seed=20260119,
)
"""The planted effects of the demo workspace (``calibrate demo``):

* B03 is lenient throughout (+1.2 logits);
* B05 grows more severe by 0.6 logits per session (rater drift);
* B04 judges indicators, levels and phases like the others but says ``voldaan`` more
  easily (+1.5 logits on verdicts only): a lenient cut-off for :mod:`calibrate.phases`;
* ``leerklimaat.klassenmanagement.2`` ("Je past consequent routines toe …") drifts
  lenient (+1.3 per session) and ``leerstof.activerend_lesgeven.4`` (checking
  understanding) drifts severe (−1.3 per session): level drift;
* ``afstemmen.didactisch_afstemmen.3`` gets noisier each session: agreement drift.

The three planted items get difficulty 0 so that the consensus on them is mixed (a
drift towards a unanimous consensus could not show).
"""

_EVIDENCE = [
    "Zag dat de student bij binnenkomst de eerste opdracht op het bord had staan; leerlingen gingen direct aan de slag.",
    "Tijdens de uitleg stelde de student twee controlevragen en liet leerlingen op wisbordjes antwoorden.",
    "Bij onrust achterin benoemde de student het gewenste gedrag en liep naar het groepje toe.",
    "In het nagesprek koppelde de student de keuze voor samenwerkend leren aan de theorie van Ebbens.",
    "De student gaf een leerling die vastliep een extra voorbeeld en een stappenplan.",
    "Geen voorbeeld gezien in deze les; in het portfolio wel beschreven.",
    "De student liet de les evalueren met een exit ticket en paste de volgende les daarop aan.",
]


def _default_items(framework) -> list:
    return [i for i in framework.items() if getattr(i, "assessed", True)]


def simulate(framework, config: SimulationConfig = DEMO_CONFIG) -> Simulation:
    """Simulate judgements of ``framework``'s assessable items under ``config``.

    Returns a :class:`Simulation` whose ``scores`` and ``consensus`` follow the
    contract columns. The same config and seed give the same tables.

    >>> from calibrate.frameworks import load_framework
    >>> sim = simulate(load_framework("han-wpl2-2025"))
    >>> sorted(sim.scores["kind"].unique())
    ['decision', 'indicator', 'level', 'phase', 'verdict']
    """
    rng = np.random.default_rng(config.seed)
    items = _default_items(framework)
    if config.items is not None:
        wanted = set(config.items)
        items = [i for i in items if i.id in wanted]
    raters = list(config.rater_ids or [f"B{r + 1:02d}" for r in range(config.n_raters)])
    S = config.n_sessions
    if config.session_cases is not None:
        session_cases = {s: list(v) for s, v in config.session_cases.items()}
    else:
        ids = list(config.case_ids or [f"C{c + 1:03d}" for c in range(S * config.cases_per_session)])
        per = config.cases_per_session
        session_cases = {s: [ids[(s * per + k) % len(ids)] for k in range(per)] for s in range(S)}
    all_cases = list(dict.fromkeys(c for s in range(S) for c in session_cases[s]))
    outcomes = [o.id for o in framework.outcomes]
    C, R, O = len(all_cases), len(raters), len(outcomes)
    case_index = {c: k for k, c in enumerate(all_cases)}
    out_index = {o: k for k, o in enumerate(outcomes)}

    general = rng.normal(0.0, 1.0, C)
    theta = general[:, None] + rng.normal(0.0, 0.5, (C, O))  # case × outcome
    phase_dims = [i.id for i in items if i.kind == "phase"]
    theta_phase = general[:, None] + rng.normal(0.0, 0.5, (C, max(len(phase_dims), 1)))
    leniency = np.array([config.lenient_raters.get(r, 0.0) for r in raters]) + rng.normal(0.0, 0.15, R)
    rater_drift = np.array([config.drifting_raters.get(r, 0.0) for r in raters])
    verdict_shift = np.array([config.verdict_lenient_raters.get(r, 0.0) for r in raters])

    dates = [config.first_date + _dt.timedelta(days=config.days_between * s) for s in range(S)]
    session_ids = [f"K{s + 1:02d}-{dates[s]:%Y-%m}" for s in range(S)]
    score_rows: list[tuple] = []
    cons_rows: list[tuple] = []
    decision = getattr(framework, "decision", None)

    difficulty = {i.id: rng.normal(0.0, 0.8) for i in items if i.kind == "indicator"}
    difficulty.update({k: v for k, v in config.item_difficulty.items() if k in difficulty})
    for s in range(S):
        date = dates[s].isoformat()
        sid = session_ids[s]
        cases_s = session_cases[s]
        cidx = np.array([case_index[c] for c in cases_s])
        lam = leniency + rater_drift * s  # per rater, this session
        # per (case, rater) latent shift used for levels/phases/verdicts
        verdicts: dict[tuple[str, str], dict[str, str]] = {}
        for item in items:
            kind = item.kind
            if kind == "indicator":
                o = out_index[item.outcome_id]
                b = difficulty[item.id]
                true = theta[cidx, o] - b  # per case
                shift = config.drifting_items.get(item.id, 0.0) * s
                noise_sd = config.rater_noise + config.noisy_items.get(item.id, 0.0) * s
                eta = config.discrimination * (true[:, None] + lam[None, :] + shift) + rng.normal(0.0, noise_sd, (len(cases_s), R)) * config.discrimination
                seen = rng.random((len(cases_s), R)) < 1.0 / (1.0 + np.exp(-eta))
                nvt = rng.random((len(cases_s), R)) < config.not_applicable_rate
                unseen, seen_code = item.codes  # niet gezien, gezien
                vals = np.where(nvt, NOT_APPLICABLE, np.where(seen, seen_code, unseen))
                cons = np.where(true > 0, seen_code, unseen)
            elif kind == "level":
                o = out_index[item.outcome_id]
                true = 3.5 + 1.1 * theta[cidx, o]
                perceived = true[:, None] + 0.8 * lam[None, :] + rng.normal(0.0, 0.45, (len(cases_s), R))
                vals = np.clip(np.rint(perceived), 1, 6).astype(int).astype(str)
                cons = np.clip(np.rint(true), 1, 6).astype(int).astype(str)
            elif kind == "phase":
                d = phase_dims.index(item.id)
                true = theta_phase[cidx, d]
                perceived = true[:, None] + 0.8 * lam[None, :] + rng.normal(0.0, 0.4, (len(cases_s), R))
                codes = np.array(item.codes)
                vals = codes[np.digitize(perceived, [-0.7, 0.8])]
                cons = codes[np.digitize(true, [-0.7, 0.8])]
            elif kind == "verdict":
                o = out_index[item.outcome_id]
                true = theta[cidx, o] + 0.3
                perceived = true[:, None] + (lam + verdict_shift)[None, :] + rng.normal(0.0, 0.45, (len(cases_s), R))
                fail, passed = item.codes  # niet voldaan, voldaan
                vals = np.where(perceived > 0, passed, fail)
                cons = np.where(true > 0, passed, fail)
                for ci, c in enumerate(cases_s):
                    for ri, r in enumerate(raters):
                        verdicts.setdefault((c, r), {})[item.outcome_id] = vals[ci, ri]
                    verdicts.setdefault((c, "__consensus__"), {})[item.outcome_id] = cons[ci]
            elif kind == "decision":
                continue  # after the verdicts
            else:  # pragma: no cover - kinds are fixed by the schema
                continue
            for ci, c in enumerate(cases_s):
                cons_rows.append((sid, date, c, item.id, kind, str(cons[ci])))
                for ri, r in enumerate(raters):
                    score_rows.append((sid, date, c, r, item.id, kind, str(vals[ci, ri])))
        if decision is not None and any(i.id == decision.item_id for i in items) and verdicts:
            from ..rules import apply_decision

            for c in cases_s:
                cons_rows.append((sid, date, c, decision.item_id, "decision", apply_decision(framework, verdicts[(c, "__consensus__")]).value))
                for r in raters:
                    score_rows.append((sid, date, c, r, decision.item_id, "decision", apply_decision(framework, verdicts[(c, r)]).value))

    scores = pd.DataFrame(score_rows, columns=["session", "session_date", "case", "rater", "item", "kind", "value"])
    scores["note"] = pd.NA
    if config.with_notes:
        is_ind = (scores["kind"] == "indicator") & (scores["value"] == CODES["indicator"][1])
        pick = is_ind & (rng.random(len(scores)) < 0.04)
        scores.loc[pick, "note"] = rng.choice(_EVIDENCE, int(pick.sum()))
    base = _dt.datetime.combine(config.first_date, _dt.time(9, 0), tzinfo=_dt.timezone.utc)
    offsets = scores["session"].map({sid: s for s, sid in enumerate(session_ids)}) * config.days_between
    stamps = pd.to_datetime(base) + pd.to_timedelta(offsets, unit="D") + pd.to_timedelta(scores.groupby(["session", "rater"]).cumcount() * 5, unit="s")
    scores["scored_at"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    scores = scores[list(SCORE_COLUMNS)].astype("string")
    consensus = pd.DataFrame(cons_rows, columns=["session", "session_date", "case", "item", "kind", "value"])
    consensus["scored_at"] = pd.Series(
        pd.to_datetime(consensus["session_date"]).dt.strftime("%Y-%m-%dT16:00:00+00:00"), dtype="string"
    )
    consensus = consensus[list(CONSENSUS_COLUMNS)].astype("string")
    planted = {
        "lenient_raters": dict(config.lenient_raters),
        "drifting_raters": dict(config.drifting_raters),
        "drifting_items": dict(config.drifting_items),
        "noisy_items": dict(config.noisy_items),
        "sessions": session_ids,
        "leniency": dict(zip(raters, leniency.round(3).tolist())),
    }
    if config.verdict_lenient_raters:  # only when planted: older configs keep their exact output
        planted["verdict_lenient_raters"] = dict(config.verdict_lenient_raters)
    return Simulation(scores=scores, consensus=consensus, planted=planted, config=config)
