"""Rounds of a kalibreersessie: agreement before and after the discussion.

A session's judgements saved before the reveal are its **blind round** (round 0); the
reveal closes it (the store refuses later saves). After the discussion the facilitator may
open a **re-score round** (``calibrate.facilitator.open_rescore_round``): a session of its
own, linked to the first (``parent``), blind until it is revealed in turn — round 1, and a
re-score of that round 2, …  ``Store.scores(session, round=r)`` reads one round;
``Store.session_rounds()`` says which round every session is.

:func:`compare_rounds` compares a re-score round with the blind round on what both hold:
the same cases, the same items, the assessors who judged in both. Per kind of judgement it
gives Krippendorff's α before and after (ordinal for rubric levels and phases, nominal
otherwise; Krippendorff 2011) and the change with a paired bootstrap interval over cases —
the two rounds are the same cases judged twice, so their α's are correlated, and each
resampled case brings both of its rounds (the same resample for both). The point values
are exactly :func:`calibrate.agreement.krippendorff_alpha` on the same table. A last row
gives the mean pairwise agreement over every kind (:func:`calibrate.drift.rescore_effect`).

:func:`report_section` turns that into a report section (the shared shape of the report's
``sections``), "Overeenstemming vóór en na de bespreking".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .agreement._core import coincidences
from .agreement._weights import krippendorff_delta2
from .errors import InputError
from .inference import percentile_interval, resample_counts
from .schema import CODES, KINDS
from .wording import KIND_LABELS

#: α on this scale per kind (Krippendorff 2011): ordered codes are ordinal
LEVELS = {"indicator": "nominal", "level": "ordinal", "phase": "ordinal", "verdict": "nominal", "decision": "nominal"}
N_BOOT = 1999
SEED = 2026


@dataclass(frozen=True)
class KindChange:
    """One kind of judgement in both rounds: α before and after, the change and its CI."""

    kind: str
    level: str
    before: float
    after: float
    change: float
    ci: tuple[float, float]
    n_cases: int
    n_units: int
    n_raters: int


@dataclass(frozen=True)
class RoundComparison:
    """A re-score round against the blind round it follows (see :func:`compare_rounds`)."""

    before_session: str
    after_session: str
    round: int
    raters: tuple[str, ...]
    kinds: tuple[KindChange, ...]
    overall: object | None  # calibrate.drift.RescoreResult, or None when it cannot be computed
    confidence: float
    n_boot: int
    notes: tuple[str, ...] = field(default=())


def _table(scores: pd.DataFrame, session: str, raters: set[str]) -> pd.DataFrame:
    s = scores[(scores["session"].astype(str) == session) & scores["rater"].astype(str).isin(raters)]
    s = s[s["value"].notna()]
    return pd.DataFrame({"case": s["case"].astype(str).to_numpy(), "item": s["item"].astype(str).to_numpy(),
                         "rater": s["rater"].astype(str).to_numpy(), "kind": s["kind"].astype(str).to_numpy(),
                         "value": s["value"].astype(str).to_numpy()})


def _counts(df: pd.DataFrame, units: pd.MultiIndex, codes: tuple[str, ...]) -> np.ndarray:
    """Units × categories: how many assessors gave each code (``n.v.t.`` and unknown codes
    count as missing, as in every analysis of the score table)."""
    df = df[df["value"].isin(codes)]
    idx = units.get_indexer(pd.MultiIndex.from_arrays([df["case"], df["item"]]))
    cat = pd.Index(codes).get_indexer(df["value"])
    C = np.zeros((len(units), len(codes)))
    np.add.at(C, (idx[idx >= 0], cat[idx >= 0]), 1.0)
    return C


def _unit_terms(C: np.ndarray) -> np.ndarray:
    """Each unit's share of the coincidence matrix (units × k × k): ``coincidences`` of
    the whole table is their sum, of a weighted table their weighted sum."""
    k = C.shape[1]
    out = np.zeros((len(C), k, k))
    for u in range(len(C)):
        out[u] = coincidences(C[u:u + 1])
    return out


def _alpha_from(o: np.ndarray, level: str) -> np.ndarray:
    """α from coincidence matrices ``o`` (… × k × k): 1 − (n − 1) Σ o δ² / Σ n_c n_k δ²."""
    o = np.asarray(o, dtype=np.float64)
    flat = o.reshape(-1, o.shape[-2], o.shape[-1])
    out = np.full(len(flat), np.nan)
    values = np.arange(1, o.shape[-1] + 1, dtype=np.float64)
    for b, m in enumerate(flat):
        n_c = m.sum(axis=1)
        n = n_c.sum()
        d2 = krippendorff_delta2(level, values, n_c)
        d_e = float(n_c @ d2 @ n_c)
        if n > 1 and d_e > 0:
            out[b] = 1.0 - (n - 1.0) * float(np.sum(m * d2)) / d_e
    return out.reshape(o.shape[:-2])


def compare_rounds(scores: pd.DataFrame, before: str, after: str, *, round: int = 1, confidence: float = 0.95,
                   n_boot: int = N_BOOT, seed: int = SEED) -> RoundComparison:
    """The re-score round ``after`` against the blind round ``before`` (a score table with
    both sessions, CONTRACTS §1): per kind α before/after on the units (case × item) both
    rounds hold, by the assessors who judged in both, and the change with a paired
    case-bootstrap percentile interval (``n_boot`` resamples, seeded)."""
    if not 0 < confidence < 1:
        raise InputError(f"confidence must lie between 0 and 1, got {confidence!r}.")
    sess = scores["session"].astype(str)
    r_before = set(scores.loc[sess == before, "rater"].astype(str))
    r_after = set(scores.loc[sess == after, "rater"].astype(str))
    raters = r_before & r_after
    if len(raters) < 2:
        raise InputError(f"sessions {before!r} and {after!r} have fewer than two assessors in common; "
                         "agreement before and after cannot be compared.")
    tb, ta = _table(scores, before, raters), _table(scores, after, raters)
    rng = np.random.default_rng(seed)
    kinds = []
    for kind in KINDS:
        b, a = tb[tb["kind"] == kind], ta[ta["kind"] == kind]
        if b.empty or a.empty:
            continue
        codes = CODES[kind]
        ub = pd.MultiIndex.from_frame(b[["case", "item"]].drop_duplicates())
        ua = pd.MultiIndex.from_frame(a[["case", "item"]].drop_duplicates())
        units = ub.intersection(ua).sort_values()
        if not len(units):
            continue
        Cb, Ca = _counts(b, units, codes), _counts(a, units, codes)
        keep = (Cb.sum(1) >= 2) & (Ca.sum(1) >= 2)  # pairable in both rounds
        if not keep.any():
            continue
        units, Cb, Ca = units[keep], Cb[keep], Ca[keep]
        level = LEVELS[kind]
        Pb, Pa = _unit_terms(Cb), _unit_terms(Ca)
        cases = pd.Index(sorted(set(units.get_level_values(0))))
        case_of = cases.get_indexer(units.get_level_values(0))
        # per case, its units' coincidence terms summed: the bootstrap draws cases
        Qb = np.zeros((len(cases),) + Pb.shape[1:])
        Qa = np.zeros_like(Qb)
        np.add.at(Qb, case_of, Pb)
        np.add.at(Qa, case_of, Pa)
        est_b, est_a = float(_alpha_from(Qb.sum(0), level)), float(_alpha_from(Qa.sum(0), level))
        ci = (math.nan, math.nan)
        if len(cases) >= 2:
            w = resample_counts(rng, len(cases), n_boot)  # the same resample for both rounds
            rb = _alpha_from(np.tensordot(w, Qb, axes=1), level)
            ra = _alpha_from(np.tensordot(w, Qa, axes=1), level)
            d = ra - rb
            d = d[np.isfinite(d)]
            if len(d) >= 0.9 * n_boot:
                ci = percentile_interval(d, confidence)
        n_r = len(set(b["rater"]) | set(a["rater"]))
        kinds.append(KindChange(kind, level, est_b, est_a, est_a - est_b, (float(ci[0]), float(ci[1])),
                                len(cases), len(units), n_r))
    overall, notes = None, []
    try:
        from .drift import rescore_effect

        sub = scores[sess.isin([before, after]) & scores["rater"].astype(str).isin(raters)]
        overall = rescore_effect(sub, before, after, confidence=confidence, n_boot=n_boot, seed=seed)
    except InputError as exc:
        notes.append(str(exc))
    return RoundComparison(before, after, round, tuple(sorted(raters)), tuple(kinds), overall, confidence, n_boot,
                           tuple(notes))


def comparisons(store, session: str, **kwargs) -> list[RoundComparison]:
    """Every re-score round of ``session`` (its blind round found through the rounds'
    links) against that blind round, in round order."""
    rounds = store.session_rounds()
    row = rounds[rounds["session"] == session]
    if row.empty:
        raise InputError(f"session {session!r} does not exist.")
    first = str(row["first_round"].iloc[0])
    later = rounds[(rounds["first_round"] == first) & (rounds["round"] > 0)].sort_values("round")
    if later.empty:
        return []
    scores = store.scores([first, *later["session"]])
    out = []
    for sid, rnd in later[["session", "round"]].itertuples(index=False):
        try:
            out.append(compare_rounds(scores, first, str(sid), round=int(rnd), **kwargs))
        except InputError:
            continue
    return out


def _pct(confidence: float) -> str:
    return f"{confidence * 100:.0f}%"


def report_section(store, session: str, **kwargs) -> dict | None:
    """The report section "Overeenstemming vóór en na de bespreking" for ``session`` (the
    blind round or one of its re-score rounds), or None when it has no re-score round
    that can be compared. Numbers stay numbers; Dutch text; the report formats them."""
    found = comparisons(store, session, **kwargs)
    if not found:
        return None
    first = found[0]
    pct = _pct(first.confidence)
    columns = [["round", "Ronde"], ["kind", "Soort oordeel"], ["coefficient", "Maat"],
               ["before", "Vóór (blinde ronde)"], ["after", "Na de bespreking"], ["change", "Verschil"],
               ["ci_low", f"{pct}-interval verschil, van"], ["ci_high", "tot"], ["n_cases", "Casussen"],
               ["n_raters", "Beoordelaars"]]
    rows, notes = [], []
    for comp in found:
        label = f"{comp.after_session} (herbeoordeling {comp.round})"
        for k in comp.kinds:
            rows.append({"round": label, "kind": KIND_LABELS.get(k.kind, k.kind),
                         "coefficient": f"Krippendorffs α ({'ordinaal' if k.level == 'ordinal' else 'nominaal'})",
                         "before": _num(k.before), "after": _num(k.after), "change": _num(k.change),
                         "ci_low": _num(k.ci[0]), "ci_high": _num(k.ci[1]), "n_cases": k.n_cases,
                         "n_raters": k.n_raters})
        if comp.overall is not None:
            o = comp.overall
            rows.append({"round": label, "kind": "alle soorten samen",
                         "coefficient": "gemiddelde paarsgewijze overeenstemming", "before": _num(o.before),
                         "after": _num(o.after), "change": _num(o.change), "ci_low": _num(o.ci[0]),
                         "ci_high": _num(o.ci[1]), "n_cases": o.n_cases, "n_raters": len(comp.raters)})
        notes += [f"{comp.after_session}: {n}" for n in comp.notes]
    intro = [
        f"De blinde ronde van {first.before_session} is vergeleken met de herbeoordeling na de bespreking, op "
        "dezelfde casussen en onderdelen en met de beoordelaars die in beide rondes oordeelden. Een positief "
        "verschil betekent dat de beoordelaars het na de bespreking meer met elkaar eens waren.",
        f"Het {pct}-interval hoort bij het verschil: beide rondes gaan over dezelfde casussen, dus de casussen zijn "
        f"samen {first.n_boot} keer opnieuw getrokken (bootstrap over casussen, voor beide rondes dezelfde "
        "trekking). Ligt 0 in het interval, dan is niet aangetoond dat de overeenstemming veranderde.",
    ]
    notes.append("Krippendorffs α: 1 is volledige overeenstemming, 0 niet meer dan toeval (Krippendorff 2011); "
                 "‘n.v.t.’ telt als ontbrekend. Een interval ontbreekt bij minder dan twee casussen.")
    return {"id": "rondes", "title": "Overeenstemming vóór en na de bespreking", "intro": intro,
            "tables": [{"caption": "Overeenstemming per soort oordeel in de blinde ronde en na de bespreking",
                        "columns": columns, "rows": rows}],
            "figures": [], "notes": notes}


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)
