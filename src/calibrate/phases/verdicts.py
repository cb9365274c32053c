"""Each verdict against the expected phase profile of its assessment level.

Owns :func:`classify_verdicts`. The phases of every (session, case, rater) — or of every
(session, case) for the panel and the consensus — become one row of a position matrix
(0 = missing), every profile one vector of minimum positions; a verdict's shortfalls,
excesses and gaps are then comparisons of two rows, for all verdicts at once.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from calibrate.frameworks.model import VERDICT_CODES, Framework

from calibrate.options import OneOf, validate_options

from ._common import _KEY, REFERENCES, _check_values, _framework, _table, _verdict_rows
from .profiles import _reference_frame, _resolve_profiles


def _reference_matrix(df: pd.DataFrame, fw: Framework, reference: str, consensus, func: str):
    """(key columns, key -> row, position matrix keys x phase dimensions; 0 = missing)."""
    dims = [d.id for d in fw.phase_table.dimensions]
    ph = _reference_frame(df, fw, reference, consensus, func)
    key = ["session", "case", "rater"] if reference == "own" else ["session", "case"]
    if not len(ph):
        return key, pd.Index([]), np.zeros((0, len(dims)), dtype=np.int64)
    keys = pd.MultiIndex.from_frame(ph[key].astype(str))
    codes, uniq = pd.factorize(keys)
    col = pd.Index(dims).get_indexer(ph["dimension"].astype(str))
    mat = np.zeros((len(uniq), len(dims)), dtype=np.int64)
    ok = col >= 0
    mat[codes[ok], col[ok]] = ph["position"].to_numpy()[ok]  # a later row of the same key wins, as in a dict
    return key, pd.Index(uniq), mat


def _dimension_tuples(masks: np.ndarray, dims: list[str]) -> list[tuple[str, ...]]:
    """Bit masks over the phase dimensions -> tuples of dimension ids (table order)."""
    weights = (1 << np.arange(len(dims), dtype=np.int64))
    bits = masks.astype(np.int64) @ weights if len(dims) else np.zeros(len(masks), dtype=np.int64)
    names = {}
    for b in np.unique(bits):
        names[int(b)] = tuple(d for k, d in enumerate(dims) if int(b) >> k & 1)
    return [names[int(b)] for b in bits]


@validate_options(reference=OneOf(*REFERENCES))
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
        The score table (CONTRACTS §1), plain or coded (:class:`~calibrate.scores.CodedScores`).
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
    fw = _framework(framework)
    df = _table(scores, func)
    prof = _resolve_profiles(fw, profiles)
    ver = _verdict_rows(df)
    ver = ver[ver["outcome"].isin(prof)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    key, index, mat = _reference_matrix(df, fw, reference, consensus, func)
    ver = ver.sort_values(_KEY + ["item"])
    dims = [d.id for d in fw.phase_table.dimensions]
    cols = ["session", "case", "rater", "outcome", "verdict", "profile", "reference", "meets_profile",
            "classification", "falls_short", "exceeds", "missing", "n_short", "n_exceeds", "n_missing"]
    if not len(ver):
        out = pd.DataFrame(columns=cols)
        out["meets_profile"] = out["meets_profile"].astype("boolean")
        for c in ("n_short", "n_exceeds", "n_missing"):
            out[c] = out[c].astype(int)
        return out
    # each verdict's reference phases (a row of zeros when there are none)
    vkeys = pd.MultiIndex.from_frame(ver[key].astype(str))
    row = index.get_indexer(vkeys) if len(index) else np.full(len(ver), -1)
    got = np.zeros((len(ver), len(dims)), dtype=np.int64)
    got[row >= 0] = mat[row[row >= 0]]
    # each verdict's profile as minimum positions per dimension (0 = not in the profile)
    position = {c: k + 1 for k, c in enumerate(fw.phase_table.codes)}
    want_of = {}
    for outcome, p in prof.items():
        w = np.zeros(len(dims), dtype=np.int64)
        for cell in p.cells:
            w[dims.index(cell.dimension_id)] = position[cell.phase]
        want_of[outcome] = w
    outcomes = ver["outcome"].to_numpy(dtype=object)
    want = np.vstack([want_of[o] for o in outcomes])
    listed = want > 0
    short = listed & (got > 0) & (got < want)
    above = listed & (got > want)
    missing = listed & (got == 0)
    any_short, any_missing = short.any(axis=1), missing.any(axis=1)
    meets = pd.array(np.where(any_short, False, True), dtype="boolean")
    meets[~any_short & any_missing] = pd.NA
    voldaan = ver["value"].to_numpy(dtype=object) == "voldaan"
    cls = np.where(~any_short & any_missing, "insufficient",
                   np.where(voldaan, np.where(any_short, "lenient", "consistent"),
                            np.where(any_short, "consistent", "severe")))
    out = pd.DataFrame({
        "session": ver["session"].to_numpy(dtype=object), "case": ver["case"].to_numpy(dtype=object),
        "rater": ver["rater"].to_numpy(dtype=object), "outcome": outcomes,
        "verdict": ver["value"].to_numpy(dtype=object),
        "profile": [prof[o].name for o in outcomes], "reference": reference, "meets_profile": meets,
        "classification": cls, "falls_short": _dimension_tuples(short, dims), "exceeds": _dimension_tuples(above, dims),
        "missing": _dimension_tuples(missing, dims), "n_short": short.sum(axis=1).astype(int),
        "n_exceeds": above.sum(axis=1).astype(int), "n_missing": missing.sum(axis=1).astype(int),
    }, columns=cols)
    return out.reset_index(drop=True)
