"""The expected phase profile and the phases a verdict is compared with.

Owns the profile per outcome (:func:`expected_phases`), each phase judgement on its
ordinal scale (:func:`phase_scores`), the panel's phase (:func:`panel_phases`) and the
reference phases of a verdict: the assessor's own, the panel's or the consensus.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.model import Framework, PhaseProfile, ProfileCell

from ._common import _check_values, _framework, _table

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


def _reference_frame(
    df: pd.DataFrame, fw: Framework, reference: str, consensus: pd.DataFrame | None, func: str
) -> pd.DataFrame:
    """The phases a verdict is compared with: the assessor's ``own`` (one row per session,
    case, rater, dimension), the ``panel``'s median or the ``consensus`` (per session,
    case, dimension)."""
    if reference == "own":
        return _phases(df, fw, func)
    if reference == "panel":
        return _panel(_phases(df, fw, func), fw)
    if consensus is None:
        raise InputError(
            f"{func}: reference='consensus' needs the consensus table.",
            hint="Pass consensus=store.consensus().",
        )
    return _phases(_table(consensus, func, with_rater=False, name="consensus"), fw, func)


def _reference_phases(
    df: pd.DataFrame, fw: Framework, reference: str, consensus: pd.DataFrame | None, func: str
) -> tuple[dict, bool]:
    """Mapping key → {dimension: position}; key is (session, case, rater) for ``own``,
    (session, case) otherwise. Second value: whether the key includes the rater."""
    ph = _reference_frame(df, fw, reference, consensus, func)
    if reference == "own":
        out: dict = {}
        for r in ph.itertuples(index=False):
            out.setdefault((r.session, r.case, r.rater), {})[r.dimension] = r.position
        return out, True
    out = {}
    for r in ph.itertuples(index=False):
        out.setdefault((r.session, r.case), {})[r.dimension] = r.position
    return out, False


