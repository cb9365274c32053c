"""Verdicts against the complex-skills phases and the seeds' decision rules.

Owns the check of each verdict (voldaan / niet voldaan) against the expected phase profile
of its assessment level, each decision (go / no go, colour, high-stake) against the
framework's rule, and the team's cut-off: lenient/severe rates, phase predictors of the
verdict, verdict-by-pattern tables and verdict-versus-phase agreement. Methods: docs/phases.md.

The seeds judge in two languages at once. Seed 001, §5.1 ("Afstemmen en creëren 1"):
"Beoordeling is op basis van voldaan of niet voldaan. Voor deze cursus is een tussenniveau
geformuleerd", and the tussenniveau sentences match cells of bijlage 1, the tabel complexe
beroepsvaardigheden (``framework.profiles["tussenniveau"]``). A verdict that contradicts the
assessor's own phase ratings is what a kalibreersessie has to discuss.

Every function takes the long score table (CONTRACTS §1; at least ``session``, ``case``,
``rater``, ``item``, ``value``) and returns a documented DataFrame or a frozen result.
Classification codes are English (``consistent``, ``lenient``, ``severe``,
``insufficient``); :data:`DISPLAY_LABELS` gives the Dutch words for reports.

>>> from calibrate.frameworks import load_framework
>>> from calibrate.simulate import simulate
>>> fw = load_framework("han-wpl2-2025")
>>> table = classify_verdicts(simulate(fw).scores, fw)
>>> sorted(table["classification"].unique())
['consistent', 'lenient', 'severe']
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import CalibrateError, InputError
from calibrate.frameworks.model import (
    NOT_APPLICABLE,
    PHASE_PREFIX,
    VERDICT_CODES,
    VERDICT_SUFFIX,
    DecisionRule,
    Framework,
    PhaseProfile,
    ProfileCell,
)

__all__ = [
    "CLASSIFICATIONS",
    "DISPLAY_LABELS",
    "PATTERN_LABELS",
    "REFERENCES",
    "PhaseRegression",
    "agreement_summary",
    "classify_verdicts",
    "decision_consistency",
    "expected_phases",
    "level_verdict_consistency",
    "panel_phases",
    "phase_predictors",
    "phase_scores",
    "rater_rates",
    "verdict_by_pattern",
    "verdict_by_phase",
]

#: Classification codes, in display order.
CLASSIFICATIONS = ("consistent", "lenient", "severe", "insufficient")
#: Dutch display labels of the classification codes (reports and notebooks only).
DISPLAY_LABELS = {
    "consistent": "consistent",
    "lenient": "mild",
    "severe": "streng",
    "insufficient": "onvoldoende gegevens",
}
#: Pattern codes of :func:`verdict_by_pattern` (``pattern="count"``) and Dutch labels.
PATTERN_LABELS = {
    "meets": "voldoet aan profiel",
    "short_1": "1 dimensie te laag",
    "short_2": "2 dimensies te laag",
    "short_3plus": "3 of meer dimensies te laag",
    "insufficient": "onvoldoende gegevens",
}
#: Whose phases a verdict is compared with.
REFERENCES = ("own", "panel", "consensus")

_REQUIRED = ("session", "case", "rater", "item", "value")
_KEY = ["session", "case", "rater"]


# =========================================================================== input
def _framework(framework: Framework | str) -> Framework:
    if isinstance(framework, Framework):
        return framework
    if isinstance(framework, str):
        from calibrate.frameworks import load_framework

        return load_framework(framework)
    raise InputError(
        f"The 'framework' parameter must be a Framework or a framework id, got {type(framework).__name__}.",
        hint="Pass load_framework('han-wpl2-2025') or store.framework().",
    )


def _option(func: str, name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value in allowed:
        return value
    raise InputError(
        f"The {name!r} parameter of {func} must be one of {', '.join(repr(a) for a in allowed)}. "
        f"Got {value!r} instead."
    )


def _table(df: Any, func: str, *, with_rater: bool = True, name: str = "scores") -> pd.DataFrame:
    """The columns we need, as strings, with missing values (NA, '', n.v.t.) dropped."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The {name!r} parameter of {func} must be a DataFrame (the score table), got {type(df).__name__}.",
            hint="Pass store.scores() or a table with the columns of CONTRACTS §1.",
        )
    need = [c for c in _REQUIRED if with_rater or c != "rater"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(
            f"The {name!r} table given to {func} lacks the column(s) {', '.join(map(repr, missing))}.",
            hint=f"It needs at least {', '.join(need)} (CONTRACTS §1).",
        )
    out = df[need].astype("string")
    for col in need:
        out[col] = out[col].str.strip()
    keep = out["value"].notna() & (out["value"] != "") & (out["value"] != NOT_APPLICABLE)
    out = out[keep & out[need].notna().all(axis=1)]
    if not with_rater:
        out = out.assign(rater="__consensus__")
    return out.reset_index(drop=True)


def _verdict_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The verdict judgements (items ``<outcome>.oordeel``), with their ``outcome`` id."""
    suffix = f".{VERDICT_SUFFIX}"
    ver = df[df["item"].str.endswith(suffix)].copy()
    ver["outcome"] = ver["item"].str[: -len(suffix)]
    return ver


def _check_values(df: pd.DataFrame, codes: Sequence[str], what: str, func: str) -> None:
    bad = df.loc[~df["value"].isin(codes)]
    if len(bad):
        shown = "; ".join(
            f"{r.item} = {r.value!r} (session {r.session}, case {r.case}, rater {r.rater})"
            for r in bad.head(5).itertuples()
        )
        raise InputError(
            f"{func}: {len(bad)} {what} value(s) outside the scale: {shown}.",
            hint=f"Allowed: {', '.join(map(repr, codes))}; n.v.t. or empty counts as missing.",
        )


# =========================================================================== profiles
def _resolve_profiles(fw: Framework, profiles: Mapping[str, Any] | None) -> dict[str, PhaseProfile]:
    """Profile per outcome id: ``profiles`` keyed by outcome id or level name, else the
    framework's profile named after the outcome's ``level_name``."""
    table = fw.phase_table
    if table is None:
        raise InputError(
            f"Framework {fw.id!r} has no phase table (tabel complexe beroepsvaardigheden).",
            hint="Add phase_table and profiles to the framework file.",
        )
    given = dict(profiles or {})
    out: dict[str, PhaseProfile] = {}
    for outcome in fw.outcomes:
        if not outcome.summative:
            continue
        spec = given.get(outcome.id, given.get(outcome.level_name) if outcome.level_name else None)
        if spec is None and outcome.level_name in fw.profiles:
            spec = fw.profiles[outcome.level_name]
        if spec is None:
            continue
        out[outcome.id] = _as_profile(fw, spec, name=outcome.level_name or outcome.id)
    # outcomes unknown to the framework (a researcher's own verdict items) by id
    for key, spec in given.items():
        if key not in out and key not in {o.id for o in fw.outcomes} and key not in {
            o.level_name for o in fw.outcomes
        }:
            out[key] = _as_profile(fw, spec, name=key)
    return out


def _as_profile(fw: Framework, spec: Any, *, name: str) -> PhaseProfile:
    table = fw.phase_table
    if isinstance(spec, PhaseProfile):
        profile = spec
    elif isinstance(spec, str):
        if spec not in fw.profiles:
            raise InputError(
                f"Unknown profile {spec!r}.", hint=f"Profiles of {fw.id!r}: {', '.join(fw.profiles) or 'none'}."
            )
        profile = fw.profiles[spec]
    elif isinstance(spec, Mapping):
        cells = tuple(
            ProfileCell(dimension_id=str(d), phase=str(p), quote="(configured)") for d, p in spec.items()
        )
        profile = PhaseProfile(name=name, cells=cells, description="configured")
    else:
        raise InputError(
            f"A profile must be a PhaseProfile, a profile name or a mapping dimension → phase, got {type(spec).__name__}.",
            hint="E.g. profiles={'eindniveau': {'zelfstandigheid': 'groei', ...}}.",
        )
    dims = {d.id for d in table.dimensions}
    for cell in profile.cells:
        if cell.dimension_id not in dims:
            table.dimension(cell.dimension_id)  # raises with a did-you-mean
        if cell.phase not in table.codes:
            table.position(cell.phase)  # raises with the allowed codes
    return profile


def expected_phases(framework: Framework | str, profile: str | PhaseProfile = "tussenniveau") -> pd.DataFrame:
    """The expected phase profile as a table, one row per dimension of the phase table.

    Columns: ``dimension`` (id), ``name`` (row of the tabel complexe beroepsvaardigheden),
    ``expected`` (minimum phase code, or NA where the profile sets none), ``phase_name``
    (Beginfase …), ``descriptor`` (the table cell), ``quote`` and ``source`` (the seed
    sentence that justifies it), ``inferred`` (the cell is a judgement, not a near-literal
    match), ``reason`` (why no expectation, for dimensions without a cell).

    >>> from calibrate.frameworks import load_framework
    >>> t = expected_phases(load_framework("han-wpl2-2025"))
    >>> t.set_index("dimension").loc["zelfstandigheid", "expected"]
    'begin'
    """
    fw = _framework(framework)
    prof = _as_profile(fw, profile, name=str(profile))
    table = fw.phase_table
    names = {p.code: p.name for p in table.phases}
    cells = {c.dimension_id: c for c in prof.cells}
    gaps = {g.dimension_id: g.reason for g in prof.not_expected}
    rows = []
    for dim in table.dimensions:
        cell = cells.get(dim.id)
        rows.append(
            {
                "dimension": dim.id,
                "name": dim.name,
                "expected": cell.phase if cell else pd.NA,
                "phase_name": names[cell.phase] if cell else pd.NA,
                "descriptor": (cell.descriptor or dim.descriptors.get(cell.phase)) if cell else pd.NA,
                "quote": cell.quote if cell else pd.NA,
                "source": str(cell.source) if cell and cell.source else pd.NA,
                "inferred": bool(cell.inferred) if cell else pd.NA,
                "reason": gaps.get(dim.id, pd.NA),
            }
        )
    return pd.DataFrame(rows)


# =========================================================================== phases
def phase_scores(scores: pd.DataFrame, framework: Framework | str) -> pd.DataFrame:
    """Every phase judgement in long form with its ordinal score.

    Columns: ``session``, ``case``, ``rater``, ``dimension`` (id of the row of the phase
    table, from item ``fase.<dimension>``), ``phase`` (code), ``position`` (1 = begin,
    2 = groei, 3 = vergevorderd), ``score`` (position − 1: the 0/1/2 coding of the
    regression). Missing judgements (absent, empty, ``n.v.t.``) have no row.
    """
    fw = _framework(framework)
    return _phases(_table(scores, "phase_scores"), fw, "phase_scores")


def _phases(df: pd.DataFrame, fw: Framework, func: str) -> pd.DataFrame:
    table = fw.phase_table
    if table is None:
        raise InputError(f"Framework {fw.id!r} has no phase table.", hint="Add phase_table to the framework file.")
    dims = {d.item_id: d.id for d in table.dimensions}
    ph = df[df["item"].isin(dims)]
    _check_values(ph, table.codes, "phase", func)
    pos = {c: i + 1 for i, c in enumerate(table.codes)}
    out = pd.DataFrame(
        {
            "session": ph["session"].astype(str),
            "case": ph["case"].astype(str),
            "rater": ph["rater"].astype(str),
            "dimension": ph["item"].map(dims).astype(str),
            "phase": ph["value"].astype(str),
            "position": ph["value"].map(pos).astype(int),
        }
    )
    out["score"] = out["position"] - 1
    return out.reset_index(drop=True)


def panel_phases(scores: pd.DataFrame, framework: Framework | str) -> pd.DataFrame:
    """The panel's phase per (session, case, dimension): the lower median of the assessors.

    The panel phase is the highest phase that a strict majority of the assessors who rated
    the dimension gave at or above (the lower median of the ordinal positions: with
    3 × begin and 3 × groei it is begin). So "the panel places this case at least in the
    Groei-fase" means more than half of the assessors did; a tie is not enough. It is
    always a real phase, never "1.5".

    Columns: ``session``, ``case``, ``dimension``, ``phase``, ``position``, ``n_raters``,
    ``n_at_or_above`` (assessors at or above the panel phase), ``spread`` (highest minus
    lowest position: 0 means everyone agreed).
    """
    fw = _framework(framework)
    return _panel(_phases(_table(scores, "panel_phases"), fw, "panel_phases"), fw)


def _panel(ph: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    codes = fw.phase_table.codes
    rows = []
    for (session, case, dim), grp in ph.groupby(["session", "case", "dimension"], sort=True):
        pos = np.sort(grp["position"].to_numpy())
        med = int(pos[(len(pos) - 1) // 2])
        rows.append((session, case, dim, codes[med - 1], med, len(pos), int((pos >= med).sum()), int(pos[-1] - pos[0])))
    cols = ["session", "case", "dimension", "phase", "position", "n_raters", "n_at_or_above", "spread"]
    return pd.DataFrame(rows, columns=cols)


def _reference_phases(
    df: pd.DataFrame, fw: Framework, reference: str, consensus: pd.DataFrame | None, func: str
) -> tuple[dict, bool]:
    """Mapping key → {dimension: position}; key is (session, case, rater) for ``own``,
    (session, case) otherwise. Second value: whether the key includes the rater."""
    if reference == "own":
        ph = _phases(df, fw, func)
        out: dict = {}
        for r in ph.itertuples(index=False):
            out.setdefault((r.session, r.case, r.rater), {})[r.dimension] = r.position
        return out, True
    if reference == "panel":
        ph = _panel(_phases(df, fw, func), fw)
    else:
        if consensus is None:
            raise InputError(
                f"{func}: reference='consensus' needs the consensus table.",
                hint="Pass consensus=store.consensus().",
            )
        ph = _phases(_table(consensus, func, with_rater=False, name="consensus"), fw, func)
    out = {}
    for r in ph.itertuples(index=False):
        out.setdefault((r.session, r.case), {})[r.dimension] = r.position
    return out, False


def _compare(profile: PhaseProfile, phases: Mapping[str, int] | None, fw: Framework):
    """(meets: bool | None, falls_short, exceeds, missing) of one set of phases."""
    phases = phases or {}
    short, above, missing = [], [], []
    order = {d.id: i for i, d in enumerate(fw.phase_table.dimensions)}
    for cell in sorted(profile.cells, key=lambda c: order.get(c.dimension_id, len(order))):
        want = fw.phase_table.position(cell.phase)
        got = phases.get(cell.dimension_id)
        if got is None:
            missing.append(cell.dimension_id)
        elif got < want:
            short.append(cell.dimension_id)
        elif got > want:
            above.append(cell.dimension_id)
    meets = False if short else (None if missing else True)
    return meets, tuple(short), tuple(above), tuple(missing)


# =========================================================================== 1. verdicts
def classify_verdicts(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    reference: str = "own",
    profiles: Mapping[str, Any] | None = None,
    consensus: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Classify every verdict against the expected phase profile of its assessment level.

    For each (session, case, rater, leeruitkomst) with a verdict ``<outcome>.oordeel``:

    * **consistent** — voldaan and the phases meet the profile, or niet voldaan and they
      fall short;
    * **lenient** (mild) — voldaan although at least one dimension falls short;
    * **severe** (streng) — niet voldaan although every dimension of the profile is met;
    * **insufficient** (onvoldoende gegevens) — no dimension falls short but at least one
      is missing: we do not guess.

    A case *meets* the profile when every dimension listed in it is at or above the listed
    phase ("at least this phase"); a dimension *falls short* below it and *exceeds* above
    it; dimensions the profile does not list play no part. One known shortfall decides
    "falls short" even when other dimensions are missing.

    Parameters
    ----------
    scores
        The score table (CONTRACTS §1).
    framework
        A :class:`~calibrate.frameworks.Framework` or its id.
    reference
        Whose phases: ``"own"`` (the assessor's own phase ratings of the case),
        ``"panel"`` (the panel's lower-median phase per dimension, see
        :func:`panel_phases`) or ``"consensus"`` (the benchmark's phases; pass
        ``consensus=``).
    profiles
        Profile per outcome id or assessment level name: a
        :class:`~calibrate.frameworks.PhaseProfile`, the name of one of
        ``framework.profiles``, or a mapping ``{dimension_id: minimum phase code}``. By
        default each summative outcome takes the framework profile named after its
        ``level_name`` (``tussenniveau`` for the three outcomes of seed 001, §5.1);
        outcomes without a profile are left out.
    consensus
        The consensus table, for ``reference="consensus"``.

    Returns
    -------
    DataFrame
        One row per verdict, columns ``session``, ``case``, ``rater``, ``outcome``,
        ``verdict``, ``profile``, ``reference``, ``meets_profile`` (boolean, NA when
        undetermined), ``classification``, ``falls_short``, ``exceeds``, ``missing``
        (tuples of dimension ids, in the order of the phase table), ``n_short``, ``n_exceeds``,
        ``n_missing``.
    """
    func = "classify_verdicts"
    _option(func, "reference", reference, REFERENCES)
    fw = _framework(framework)
    df = _table(scores, func)
    prof = _resolve_profiles(fw, profiles)
    ver = _verdict_rows(df)
    ver = ver[ver["outcome"].isin(prof)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    ref, per_rater = _reference_phases(df, fw, reference, consensus, func)
    rows = []
    for r in ver.sort_values(_KEY + ["item"]).itertuples(index=False):
        key = (r.session, r.case, r.rater) if per_rater else (r.session, r.case)
        meets, short, above, missing = _compare(prof[r.outcome], ref.get(key), fw)
        if meets is None:
            cls = "insufficient"
        elif r.value == "voldaan":
            cls = "consistent" if meets else "lenient"
        else:
            cls = "severe" if meets else "consistent"
        rows.append(
            (r.session, r.case, r.rater, r.outcome, r.value, prof[r.outcome].name, reference, meets, cls,
             short, above, missing, len(short), len(above), len(missing))
        )
    cols = ["session", "case", "rater", "outcome", "verdict", "profile", "reference", "meets_profile",
            "classification", "falls_short", "exceeds", "missing", "n_short", "n_exceeds", "n_missing"]
    out = pd.DataFrame(rows, columns=cols)
    out["meets_profile"] = out["meets_profile"].astype("boolean")
    for c in ("n_short", "n_exceeds", "n_missing"):
        out[c] = out[c].astype(int)
    return out


# =========================================================================== 2. rules
def _rule(fw: Framework, rule: str | DecisionRule) -> DecisionRule:
    if isinstance(rule, DecisionRule):
        return rule
    if rule not in fw.rules:
        raise InputError(f"Unknown rule {rule!r}.", hint=f"Rules of {fw.id!r}: {', '.join(fw.rules)}.")
    return fw.rules[rule]


def _rank(value: str, results: tuple[str, ...], codes: tuple[str, ...] | None, what: str) -> int:
    """Position of a decision on the rule's result order (worst first): the rule's own word,
    else the item's code at the same position (``no go`` ↔ ``niet voldaan``, ``go`` ↔ ``voldaan``)."""
    if value in results:
        return results.index(value)
    if codes is not None and value in codes and len(codes) == len(results):
        return codes.index(value)
    raise InputError(
        f"{what} {value!r} is neither a result of the rule ({', '.join(map(repr, results))}) "
        f"nor a code at the same position{f' ({chr(44).join(map(repr, codes))})' if codes else ''}.",
        hint="Map the decision item's codes onto the rule's results, worst first.",
    )


def decision_consistency(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    rule: str | DecisionRule | None = None,
    decision_item: str | None = None,
    inputs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each assessor's decision against the rule applied to their own judgements.

    By default the framework's decision: ``besluit`` (go / no go) from ``assessmentles_go``
    over the verdicts of leerklimaat, afstemmen and leerstof — seed 000, "Indien een go":
    "Je mag maximaal één LER als niet voldaan scoren". Any other rule works the same way:
    ``rule="high_stake"`` with ``inputs`` the level items (002: every leeropbrengst at least
    bekwaam, no compensation), or ``rule="osr_voortgang"`` with the 14 colour items (003,
    bijlage 2).

    The decision is compared on the rule's result order, worst first: ``lenient`` when the
    assessor's decision is better than the rule gives (go where the rule says no go),
    ``severe`` when worse, ``insufficient`` when an input is missing. A decision item whose
    codes differ from the rule's words is matched by position (``no go``/``go`` ↔
    ``niet voldaan``/``voldaan``). For rules with ``max_items`` (OSR: an item may stay
    uncoloured) a missing input is simply not counted, as the rule itself says.

    Returns
    -------
    DataFrame
        One row per decision given, columns ``session``, ``case``, ``rater``, ``rule``,
        ``decision_item``, ``decision``, ``expected`` (the rule's result, NA when
        undetermined), ``classification``, ``reason`` (the rule's own explanation, with
        counts), ``inputs`` (dict item → value used), ``missing`` (tuple of input items
        without a value).
    """
    from calibrate.rules import evaluate_rule

    func = "decision_consistency"
    fw = _framework(framework)
    spec = fw.decision
    if rule is None or decision_item is None or inputs is None:
        if spec is None:
            raise InputError(
                f"Framework {fw.id!r} declares no decision; give rule=, decision_item= and inputs=.",
            )
    the_rule = _rule(fw, rule if rule is not None else spec.rule_id)
    item = decision_item if decision_item is not None else spec.item_id
    items = list(inputs) if inputs is not None else [f"{o}.{VERDICT_SUFFIX}" for o in spec.outcomes]
    try:
        codes = fw.item(item).codes
    except InputError:
        codes = None
    df = _table(scores, func)
    values = {k: dict(zip(g["item"], g["value"])) for k, g in df[df["item"].isin(items)].groupby(_KEY)}
    omit_missing = the_rule.max_items is not None and the_rule.n_items is None
    rows = []
    for r in df[df["item"] == item].sort_values(_KEY).itertuples(index=False):
        given = values.get((r.session, r.case, r.rater), {})
        used = {i: given[i] for i in items if i in given}
        missing = tuple(i for i in items if i not in given)
        obs = _rank(r.value, the_rule.results, codes, f"Decision {item} of rater {r.rater}, case {r.case}:")
        if missing and not omit_missing or not used:
            rows.append((r.session, r.case, r.rater, the_rule.id, item, r.value, pd.NA, "insufficient",
                         f"no value for {', '.join(missing)}", used, missing))
            continue
        res = evaluate_rule(the_rule, used, scale=fw.scale)
        exp = the_rule.results.index(res.value)
        cls = "consistent" if obs == exp else ("lenient" if obs > exp else "severe")
        rows.append((r.session, r.case, r.rater, the_rule.id, item, r.value, res.value, cls, res.reason, used, missing))
    cols = ["session", "case", "rater", "rule", "decision_item", "decision", "expected", "classification",
            "reason", "inputs", "missing"]
    return pd.DataFrame(rows, columns=cols)


def level_verdict_consistency(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    rule: str | DecisionRule = "high_stake",
    outcomes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each verdict against the rule applied to the same assessor's level of that outcome.

    With the default ``high_stake`` rule a leeruitkomst is ``voldaan`` when its level is at
    least bekwaam (002: "alle leeropbrengsten minimaal het niveau bekwaam"; 000: "In de
    assessmentles toon je de bijbehorende LERs op niveau 4 aan"). ``lenient``: voldaan with
    a level below the bar; ``severe``: niet voldaan at or above it; ``insufficient``: no
    level given.

    Returns
    -------
    DataFrame
        One row per verdict, columns ``session``, ``case``, ``rater``, ``outcome``,
        ``level``, ``verdict``, ``expected``, ``classification``, ``reason``.
    """
    from calibrate.rules import evaluate_rule

    func = "level_verdict_consistency"
    fw = _framework(framework)
    the_rule = _rule(fw, rule)
    if the_rule.kind != "threshold":
        raise InputError(f"Rule {the_rule.id!r} is not a threshold rule on levels.", hint="Use e.g. 'high_stake'.")
    chosen = list(outcomes) if outcomes is not None else [o.id for o in fw.outcomes if o.summative]
    df = _table(scores, func)
    verdict_items = {f"{o}.{VERDICT_SUFFIX}": o for o in chosen}
    ver = df[df["item"].isin(verdict_items)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    levels = {(r.session, r.case, r.rater, r.item): r.value for r in df.itertuples(index=False) if r.item.endswith(".niveau")}
    rows = []
    for r in ver.sort_values(_KEY + ["item"]).itertuples(index=False):
        outcome = verdict_items[r.item]
        level = levels.get((r.session, r.case, r.rater, f"{outcome}.niveau"))
        obs = _rank(r.value, the_rule.results, VERDICT_CODES, f"Verdict {r.item}")
        if level is None:
            rows.append((r.session, r.case, r.rater, outcome, pd.NA, r.value, pd.NA, "insufficient", "no level given"))
            continue
        res = evaluate_rule(the_rule, {f"{outcome}.niveau": level}, scale=fw.scale)
        exp = the_rule.results.index(res.value)
        cls = "consistent" if obs == exp else ("lenient" if obs > exp else "severe")
        rows.append((r.session, r.case, r.rater, outcome, level, r.value, res.value, cls, res.reason))
    cols = ["session", "case", "rater", "outcome", "level", "verdict", "expected", "classification", "reason"]
    return pd.DataFrame(rows, columns=cols)


# =========================================================================== 3. cut-off
def _clustered_rate(y: np.ndarray, clusters: np.ndarray | None, confidence: float, method: str):
    """Rate with a CI whose sample size is shrunk by the design effect of clustering.

    Ratio estimator p = sum y / n; its between-cluster variance
    V = k/(k-1) * sum_c (y_c - p m_c)^2 / n^2 (k clusters, m_c observations in cluster c);
    deff = max(1, V / (p(1-p)/n)); the Wilson (or Clopper–Pearson) interval is computed with
    n_eff = n / deff and x_eff = p * n_eff (Kish's effective sample size).
    """
    from statsmodels.stats.proportion import proportion_confint

    n = len(y)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    x = float(y.sum())
    p = x / n
    deff = 1.0
    if clusters is not None and 0 < p < 1:
        s = pd.DataFrame({"y": y, "c": clusters}).groupby("c")["y"].agg(["sum", "count"])
        k = len(s)
        if k > 1:
            v = k / (k - 1) * float(((s["sum"] - p * s["count"]) ** 2).sum()) / n**2
            deff = max(1.0, v / (p * (1 - p) / n))
    n_eff = n / deff
    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - confidence, method=method)
    low, high = float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1))
    low = 0.0 if p == 0 else low  # Wilson's lower end at x = 0 is 0; drop float dust
    high = 1.0 if p == 1 else high
    return p, low, high, deff


def rater_rates(
    classified: pd.DataFrame,
    *,
    confidence: float = 0.95,
    method: str = "wilson",
    cluster: str | None = "case",
) -> pd.DataFrame:
    """Per assessor the rate of lenient and severe verdicts (or decisions), with CIs.

    Takes the output of :func:`classify_verdicts`, :func:`decision_consistency` or
    :func:`level_verdict_consistency`. Rates are shares of the *determinate* judgements
    (``insufficient`` ones are counted but left out of the denominator).

    The several verdicts of one assessor on one case share that case's phases, so they are
    not independent: with ``cluster="case"`` (default) the interval uses Kish's effective
    sample size n / deff, the design effect estimated from the between-case variance of
    the rate (floored at 1); ``cluster="session_case"`` treats a case discussed in two
    sessions as two clusters; ``None`` assumes independence. ``method`` is passed to
    ``statsmodels.stats.proportion.proportion_confint`` (``"wilson"`` or ``"beta"`` =
    Clopper–Pearson).

    A rate is flagged when its whole interval lies above the pooled rate of the *other*
    assessors — a screening signal for the kalibreersessie, not a test.

    Returns
    -------
    DataFrame
        One row per rater, columns ``rater``, ``n`` (determinate), ``n_insufficient``,
        ``n_consistent``, ``n_lenient``, ``n_severe``, ``n_cases``, then for ``lenient`` and
        ``severe`` each: ``<c>_rate``, ``<c>_ci_low``, ``<c>_ci_high``, ``<c>_deff``,
        ``<c>_others`` (pooled rate of the other raters), ``<c>_flagged``.
    """
    func = "rater_rates"
    _option(func, "method", method, ("wilson", "beta", "agresti_coull", "jeffreys", "normal"))
    _option(func, "cluster", cluster, ("case", "session_case", None))
    if not isinstance(classified, pd.DataFrame) or not {"rater", "classification", "case"} <= set(classified.columns):
        raise InputError(
            f"{func} takes the table of classify_verdicts / decision_consistency "
            "(columns rater, case, classification).",
        )
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of {func} must be in (0, 1). Got {confidence!r} instead.")
    det = classified[classified["classification"] != "insufficient"]
    if cluster == "case":
        clus = det["case"].astype(str)
    elif cluster == "session_case":
        clus = det["session"].astype(str) + "/" + det["case"].astype(str)
    else:
        clus = None
    rows = []
    for rater in sorted(classified["rater"].astype(str).unique()):
        mine = (det["rater"].astype(str) == rater).to_numpy()
        sub = det[mine]
        all_mine = classified[classified["rater"].astype(str) == rater]
        row = {
            "rater": rater,
            "n": len(sub),
            "n_insufficient": int((all_mine["classification"] == "insufficient").sum()),
            "n_consistent": int((sub["classification"] == "consistent").sum()),
            "n_lenient": int((sub["classification"] == "lenient").sum()),
            "n_severe": int((sub["classification"] == "severe").sum()),
            "n_cases": int(sub["case"].nunique()),
        }
        for c in ("lenient", "severe"):
            y = (sub["classification"] == c).to_numpy(dtype=float)
            p, lo, hi, deff = _clustered_rate(y, None if clus is None else clus[mine].to_numpy(), confidence, method)
            others = det[~mine]
            other_rate = float((others["classification"] == c).mean()) if len(others) else math.nan
            row.update({
                f"{c}_rate": p, f"{c}_ci_low": lo, f"{c}_ci_high": hi, f"{c}_deff": deff,
                f"{c}_others": other_rate, f"{c}_flagged": bool(len(sub) and lo > other_rate),
            })
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_by_pattern(classified: pd.DataFrame, *, pattern: str = "count") -> pd.DataFrame:
    """Cross-tab of verdicts by phase pattern (from :func:`classify_verdicts`).

    ``pattern="count"``: rows ``meets``, ``short_1``, ``short_2``, ``short_3plus``,
    ``insufficient`` (how many profile dimensions fall short; Dutch labels in
    :data:`PATTERN_LABELS`). ``pattern="dimensions"``: one row per set of dimensions that
    fall short (``"+"``-joined ids; ``meets`` when none, ``insufficient`` when undetermined).

    Returns
    -------
    DataFrame
        Columns ``pattern``, ``niet voldaan``, ``voldaan`` (counts), ``n``, ``share_voldaan``
        — the share that got voldaan; in the ``meets`` row 1 − share is the severe share,
        in the ``short_*`` rows the share itself is the lenient share.
    """
    _option("verdict_by_pattern", "pattern", pattern, ("count", "dimensions"))
    cl = classified
    if pattern == "count":
        pat = np.where(
            cl["classification"] == "insufficient", "insufficient",
            np.where(cl["n_short"] == 0, "meets",
                     np.where(cl["n_short"] == 1, "short_1", np.where(cl["n_short"] == 2, "short_2", "short_3plus"))),
        )
        order = list(PATTERN_LABELS)
    else:
        pat = [
            "insufficient" if c == "insufficient" else ("+".join(s) if s else "meets")
            for c, s in zip(cl["classification"], cl["falls_short"])
        ]
        counts = pd.Series(pat).value_counts()
        order = ["meets"] + [p for p in counts.index if p not in ("meets", "insufficient")] + ["insufficient"]
    tab = pd.crosstab(pd.Series(pat, name="pattern", index=cl.index), cl["verdict"])
    tab = tab.reindex(index=order, columns=list(VERDICT_CODES), fill_value=0)
    tab["n"] = tab.sum(axis=1)
    tab["share_voldaan"] = tab["voldaan"] / tab["n"].where(tab["n"] > 0)
    tab = tab[tab["n"] > 0] if pattern == "dimensions" else tab
    tab.columns.name = None
    return tab.reset_index()


def verdict_by_phase(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    reference: str = "own",
    consensus: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of voldaan per dimension and phase: where does the team's "voldaan" begin?

    For every dimension of the phase table and every phase, the verdicts of the
    (session, case, rater) whose ``reference`` phase on that dimension is that phase.

    Returns
    -------
    DataFrame
        Columns ``dimension``, ``phase``, ``expected`` (the tussenniveau minimum of that
        dimension's outcome profile, NA when the profile sets none), ``n``, ``n_voldaan``,
        ``share_voldaan``, ``ci_low``, ``ci_high`` (Wilson, clustered on case as in
        :func:`rater_rates`).
    """
    func = "verdict_by_phase"
    _option(func, "reference", reference, REFERENCES)
    fw = _framework(framework)
    df = _table(scores, func)
    ver = _verdict_rows(df)
    _check_values(ver, VERDICT_CODES, "verdict", func)
    ref, per_rater = _reference_phases(df, fw, reference, consensus, func)
    prof = _resolve_profiles(fw, None)
    expected = {}
    for p in prof.values():
        for cell in p.cells:
            expected.setdefault(cell.dimension_id, cell.phase)
    rows = []
    recs = []
    for r in ver.itertuples(index=False):
        key = (r.session, r.case, r.rater) if per_rater else (r.session, r.case)
        for dim, pos in (ref.get(key) or {}).items():
            recs.append((dim, pos, r.case, r.value == "voldaan"))
    data = pd.DataFrame(recs, columns=["dimension", "position", "case", "voldaan"])
    codes = fw.phase_table.codes
    for dim in fw.phase_table.dimensions:
        for pos, code in enumerate(codes, start=1):
            sub = data[(data["dimension"] == dim.id) & (data["position"] == pos)]
            y = sub["voldaan"].to_numpy(dtype=float)
            p, lo, hi, _ = _clustered_rate(y, sub["case"].to_numpy(), confidence, "wilson")
            rows.append((dim.id, code, expected.get(dim.id, pd.NA), len(sub), int(y.sum()), p, lo, hi))
    return pd.DataFrame(rows, columns=["dimension", "phase", "expected", "n", "n_voldaan", "share_voldaan", "ci_low", "ci_high"])


# --------------------------------------------------------------------------- regression
@dataclass(frozen=True)
class PhaseRegression:
    """Logistic regression of the verdict (1 = voldaan) on phase scores (0/1/2).

    Attributes
    ----------
    coefficients : DataFrame
        One row per term (``const`` and each dimension id): ``term``, ``coef`` (log odds
        per phase step), ``se``, ``ci_low``, ``ci_high``, ``odds_ratio``, ``or_ci_low``,
        ``or_ci_high``, ``p_value``.
    method : str
        ``"logit"`` (maximum likelihood) or ``"firth"`` (penalised, used after separation).
    cov_type : str
        ``"cluster"`` (cluster-robust by case) or ``"nonrobust"``.
    n, n_events, n_clusters, n_predictors : int
        Observations, the rarer outcome's count, clusters (cases), predictors.
    epv : float
        Events per variable, ``n_events / n_predictors``.
    reliable : bool
        False when EPV < 10, separation occurred, the fit did not converge or there were
        too few clusters; ``warnings`` says which.
    warnings : tuple[str, ...]
        Plain-language reasons to distrust the numbers.
    dropped : tuple[str, ...]
        Dimensions left out because nobody varied on them.
    """

    coefficients: pd.DataFrame
    method: str
    cov_type: str
    n: int
    n_events: int
    n_clusters: int
    n_predictors: int
    epv: float
    reliable: bool
    warnings: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    confidence: float = 0.95
    details: Mapping[str, Any] = field(default_factory=dict)


def _firth(X: np.ndarray, y: np.ndarray, *, maxiter: int = 200, tol: float = 1e-8):
    """Firth's (1993) penalised logistic regression: maximise l(b) + ½ log det I(b).

    Newton steps on the modified score U* = X'(y − p + h(½ − p)), h the diagonal of the hat
    matrix W½X(X'WX)⁻¹X'W½ (Heinze & Schemper 2002), with step halving. Returns
    (coef, covariance = I(b)⁻¹, converged).
    """
    from scipy.special import expit

    def penalised(b):
        p = np.clip(expit(X @ b), 1e-12, 1 - 1e-12)
        info = X.T @ ((p * (1 - p))[:, None] * X)
        sign, logdet = np.linalg.slogdet(info)
        return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * logdet)

    b = np.zeros(X.shape[1])
    for _ in range(maxiter):
        p = expit(X @ b)
        w = p * (1 - p)
        info = X.T @ (w[:, None] * X)
        cov = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, cov, X)
        step = cov @ (X.T @ (y - p + h * (0.5 - p)))
        step = np.clip(step, -5, 5)
        base = penalised(b)
        for _half in range(30):
            if penalised(b + step) >= base - 1e-12:
                break
            step = step / 2
        b = b + step
        if np.max(np.abs(step)) < tol:
            p = expit(X @ b)
            info = X.T @ ((p * (1 - p))[:, None] * X)
            return b, np.linalg.pinv(info), True
    p = expit(X @ b)
    return b, np.linalg.pinv(X.T @ ((p * (1 - p))[:, None] * X)), False


def phase_predictors(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    reference: str = "own",
    dimensions: Sequence[str] | str | None = None,
    outcomes: Sequence[str] | None = None,
    method: str = "auto",
    min_clusters: int = 20,
    consensus: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> PhaseRegression:
    """Which phase dimensions predict the verdicts? Logistic regression with CIs.

    Model: logit P(voldaan) = b0 + sum_d b_d * score_d, score_d = 0/1/2 for
    begin/groei/vergevorderd on dimension d (the ``reference`` phases: the assessor's own
    by default). One observation per verdict; outcomes pooled unless ``outcomes`` picks
    some. ``exp(b_d)`` is the odds ratio of voldaan per phase step on d, the others held
    equal.

    Parameters
    ----------
    dimensions
        Predictors: ``None`` = the dimensions of the outcomes' profiles (tussenniveau: 8),
        ``"all"`` = every row of the phase table, or a list of dimension ids. Dimensions
        nobody varied on are dropped (``dropped``).
    method
        ``"logit"`` (statsmodels ``Logit``, maximum likelihood), ``"firth"`` (penalised,
        finite under separation) or ``"auto"``: logit, and firth when separation or
        non-convergence occurs.
    min_clusters
        Verdicts on one case are correlated, so standard errors are cluster-robust by case
        (statsmodels ``cov_type="cluster"``) — but only with at least this many cases; with
        fewer the model-based SEs are used, which are too small, and the result is marked
        unreliable (Cameron & Miller 2015 on few clusters).

    Returns
    -------
    PhaseRegression
        ``reliable`` is False and ``warnings`` explain why when events per variable < 10
        (Peduzzi et al. 1996), under separation, without convergence, or with too few cases.
    """
    import statsmodels.api as sm
    from scipy import stats

    func = "phase_predictors"
    _option(func, "reference", reference, REFERENCES)
    _option(func, "method", method, ("auto", "logit", "firth"))
    fw = _framework(framework)
    df = _table(scores, func)
    prof = _resolve_profiles(fw, None)
    ver = _verdict_rows(df)
    if outcomes is not None:
        unknown = [o for o in outcomes if o not in set(ver["outcome"])]
        if unknown:
            raise InputError(f"{func}: no verdicts for outcome(s) {', '.join(map(repr, unknown))}.")
        ver = ver[ver["outcome"].isin(outcomes)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    all_dims = [d.id for d in fw.phase_table.dimensions]
    if dimensions is None:
        chosen = set()
        for o in set(ver["outcome"]):
            if o in prof:
                chosen |= {c.dimension_id for c in prof[o].cells}
        dims = [d for d in all_dims if d in chosen] or all_dims
    elif dimensions == "all":
        dims = all_dims
    else:
        dims = list(dimensions)
        for d in dims:
            fw.phase_table.dimension(d)
    ref, per_rater = _reference_phases(df, fw, reference, consensus, func)
    recs = []
    for r in ver.itertuples(index=False):
        key = (r.session, r.case, r.rater) if per_rater else (r.session, r.case)
        ph = ref.get(key) or {}
        if all(d in ph for d in dims):
            recs.append([float(r.value == "voldaan"), r.case] + [ph[d] - 1 for d in dims])
    data = pd.DataFrame(recs, columns=["y", "case"] + dims)
    warn: list[str] = []
    n_dropped_rows = len(ver) - len(data)
    if n_dropped_rows:
        warn.append(f"{n_dropped_rows} verdict(s) left out: a phase of one of the predictors is missing.")
    dropped = tuple(d for d in dims if len(data) and data[d].nunique() < 2)
    if dropped:
        warn.append(f"Left out (nobody varied on them): {', '.join(dropped)}.")
    dims = [d for d in dims if d not in dropped]
    n = len(data)
    n_events = int(min(data["y"].sum(), n - data["y"].sum())) if n else 0
    k = len(dims)
    epv = n_events / k if k else math.nan
    n_clusters = int(data["case"].nunique()) if n else 0
    if n == 0 or k == 0 or n_events == 0:
        why = "no verdicts with complete phases" if n == 0 else (
            "no dimension varies" if k == 0 else "every verdict is the same")
        empty = pd.DataFrame(columns=["term", "coef", "se", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"])
        return PhaseRegression(empty, "none", "none", n, n_events, n_clusters, k, epv, False,
                               tuple(warn + [f"Nothing to fit: {why}."]), dropped, confidence)
    if epv < 10:
        warn.append(
            f"Too few data to say: {n_events} events for {k} predictors (EPV {epv:.1f} < 10); "
            "coefficients and their CIs are unstable (Peduzzi et al. 1996)."
        )
    X = sm.add_constant(data[dims].to_numpy(dtype=float), has_constant="add")
    y = data["y"].to_numpy()
    robust = n_clusters >= min_clusters
    if not robust:
        warn.append(
            f"Only {n_clusters} cases: too few for cluster-robust SEs (need {min_clusters}); the "
            "model-based SEs treat verdicts on the same case as independent and are too small."
        )
    separated = False
    fit_method = method
    coef = cov = None
    converged = True
    if method in ("auto", "logit"):
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

        try:
            PerfectSeparationError = __import__(
                "statsmodels.tools.sm_exceptions", fromlist=["PerfectSeparationError"]
            ).PerfectSeparationError
        except AttributeError:  # pragma: no cover - older statsmodels
            PerfectSeparationError = RuntimeError
        try:
            with _warnings.catch_warnings(record=True) as caught:
                _warnings.simplefilter("always")
                kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(data["case"])[0]}} if robust else {}
                res = sm.Logit(y, X).fit(disp=0, maxiter=200, **kw)
            separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
            converged = bool(res.mle_retvals.get("converged", True)) and not any(
                issubclass(w.category, ConvergenceWarning) for w in caught)
            coef, cov = np.asarray(res.params), np.asarray(res.cov_params())
            fitted = res.predict()
            if np.any(np.abs(coef) > 15) or np.mean((fitted < 1e-6) | (fitted > 1 - 1e-6)) > 0.05:
                separated = True
        except (PerfectSeparationError, np.linalg.LinAlgError):
            separated, converged = True, False
        if separated:
            warn.append("Separation: some phase pattern predicts the verdict perfectly, so maximum-likelihood "
                        "estimates run off to infinity.")
        if not converged and not separated:
            warn.append("The maximum-likelihood fit did not converge.")
        fit_method = "logit"
        if method == "auto" and (separated or not converged):
            fit_method = "firth"
    if fit_method == "firth":
        coef, cov, converged = _firth(X, y)
        robust = False
        if method == "auto":
            warn.append("Fitted with Firth's penalised likelihood instead (finite estimates; Wald CIs).")
        if not converged:
            warn.append("The Firth fit did not converge.")
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pval = 2 * stats.norm.sf(np.abs(coef / se))
        table = pd.DataFrame({
            "term": ["const"] + dims,
            "coef": coef, "se": se, "ci_low": coef - z * se, "ci_high": coef + z * se,
        })
        table["odds_ratio"] = np.exp(table["coef"])
        table["or_ci_low"] = np.exp(table["ci_low"])
        table["or_ci_high"] = np.exp(table["ci_high"])
    table["p_value"] = pval
    reliable = epv >= 10 and not separated and converged and robust
    return PhaseRegression(
        coefficients=table, method=fit_method, cov_type="cluster" if robust else "nonrobust",
        n=n, n_events=n_events, n_clusters=n_clusters, n_predictors=k, epv=float(epv),
        reliable=bool(reliable), warnings=tuple(warn), dropped=dropped, confidence=confidence,
        details={"reference": reference, "outcomes": tuple(sorted(set(ver["outcome"])))},
    )


# =========================================================================== 4. agreement
def agreement_summary(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    profiles: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Agreement on verdicts beside agreement on phases (via :mod:`calibrate.agreement`).

    Units are (session, case). Rows, each with Gwet's AC1/AC2 and Krippendorff's alpha:

    * ``verdict`` — each ``<outcome>.oordeel`` and all verdicts pooled (units
      session × case × outcome); nominal (AC1, alpha nominal);
    * ``decision`` — the framework's decision item (``besluit``); nominal;
    * ``phase`` — each ``fase.<dimension>`` and all phases pooled; ordinal (AC2 with
      ordinal weights, alpha ordinal) over begin < groei < vergevorderd;
    * ``profile`` — whether the assessor's own phases meet the expected profile (per
      outcome profile; for tussenniveau one judgement per case): do assessors agree on
      where the bar lies, before the verdict?

    A high phase agreement beside a low verdict agreement means the team sees the same
    student but puts "voldaan" in different places: the cut-off, not the observation, is
    what to calibrate.

    Returns
    -------
    DataFrame
        Columns ``what``, ``item``, ``coefficient``, ``value``, ``se``, ``ci_low``,
        ``ci_high``, ``n_units``, ``n_raters``, ``note`` (why a value is missing).
    """
    from calibrate import agreement

    fw = _framework(framework)
    df = _table(scores, "agreement_summary")
    df = df.assign(unit=df["session"] + " / " + df["case"])
    rows = []

    def add(what, item, long, categories, ordinal):
        for name in ("gwet_ac", "krippendorff_alpha"):
            try:
                if name == "gwet_ac":
                    res = agreement.gwet_ac(long, weights="ordinal" if ordinal else None, categories=categories)
                else:
                    res = agreement.krippendorff_alpha(long, level="ordinal" if ordinal else "nominal", categories=categories)
                ci = res.ci or (math.nan, math.nan)
                rows.append((what, item, name, float(res.value), res.se if res.se is not None else math.nan,
                             ci[0], ci[1], res.n_units, res.n_raters, pd.NA))
            except CalibrateError as exc:
                rows.append((what, item, name, math.nan, math.nan, math.nan, math.nan,
                             long["unit"].nunique(), long["rater"].nunique(), str(exc)))

    ver = _verdict_rows(df)
    _check_values(ver, VERDICT_CODES, "verdict", "agreement_summary")
    for item in sorted(ver["item"].unique()):
        add("verdict", item, ver[ver["item"] == item], list(VERDICT_CODES), False)
    if len(ver):
        add("verdict", "(alle)", ver.assign(unit=ver["unit"] + " / " + ver["item"]), list(VERDICT_CODES), False)
    if fw.decision is not None:
        dec = df[df["item"] == fw.decision.item_id]
        if len(dec):
            add("decision", fw.decision.item_id, dec, list(fw.item(fw.decision.item_id).codes), False)
    codes = list(fw.phase_table.codes)
    ph = df[df["item"].str.startswith(f"{PHASE_PREFIX}.")]
    ph = ph[ph["item"].isin({d.item_id for d in fw.phase_table.dimensions})]
    for dim in fw.phase_table.dimensions:
        sub = ph[ph["item"] == dim.item_id]
        if len(sub):
            add("phase", dim.item_id, sub, codes, True)
    if len(ph):
        add("phase", "(alle)", ph.assign(unit=ph["unit"] + " / " + ph["item"]), codes, True)
    cl = classify_verdicts(scores, fw, profiles=profiles)
    if len(cl):
        meets = cl[cl["meets_profile"].notna()].drop_duplicates(["session", "case", "rater", "profile"])
        long = pd.DataFrame({
            "unit": meets["session"] + " / " + meets["case"] + " / " + meets["profile"],
            "rater": meets["rater"],
            "value": np.where(meets["meets_profile"].astype(bool), "meets", "falls_short"),
        })
        for prof_name in sorted(meets["profile"].unique()):
            add("profile", prof_name, long[meets["profile"].to_numpy() == prof_name], ["falls_short", "meets"], False)
    cols = ["what", "item", "coefficient", "value", "se", "ci_low", "ci_high", "n_units", "n_raters", "note"]
    return pd.DataFrame(rows, columns=cols)
