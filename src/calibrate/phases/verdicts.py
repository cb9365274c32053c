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
from calibrate.schema import VERDICT_SUFFIX
from calibrate.scores import CodedScores

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


def _dimension_tuples(masks: np.ndarray, dims: list[str]) -> np.ndarray:
    """Bit masks over the phase dimensions -> tuples of dimension ids (table order), one
    object per distinct mask, taken for every row at once."""
    weights = (1 << np.arange(len(dims), dtype=np.int64))
    bits = masks.astype(np.int64) @ weights if len(dims) else np.zeros(len(masks), dtype=np.int64)
    uniq, inv = np.unique(bits, return_inverse=True)
    names = np.empty(len(uniq), dtype=object)
    for j, b in enumerate(uniq):
        names[j] = tuple(d for k, d in enumerate(dims) if int(b) >> k & 1)
    return names[inv.reshape(-1)]


def _coded_own(coded: CodedScores, fw: Framework, outcomes: set[str]):
    """The verdicts and the assessors' own phases of a coded score table, on its integer
    codes (no text decoded but the output's): ``None`` when a verdict or phase value is
    off its scale (the text path then names the rows).

    Returns (verdict rows, in the text path's order: session, case, rater, item as text;
    their outcome ids; their values; each one's own phase positions per dimension)."""
    f = coded.frame
    keep = coded.has_value()
    for c in ("session", "case", "rater", "item"):
        keep &= coded.codes(c) >= 0
    item_lab = np.asarray(f["item"].cat.categories, dtype=object)
    val_lab = np.asarray(f["value"].cat.categories, dtype=object)
    ic, vc = coded.codes("item"), coded.codes("value")
    suffix = f".{VERDICT_SUFFIX}"
    # verdict items of outcomes with a profile; phase items -> dimension
    item_outcome = np.array([str(i)[: -len(suffix)] if str(i).endswith(suffix) else None for i in item_lab], dtype=object)
    is_verdict = np.array([o is not None and o in outcomes for o in item_outcome] + [False])
    dims = [d.id for d in fw.phase_table.dimensions]
    dim_of = {d.item_id: k for k, d in enumerate(fw.phase_table.dimensions)}
    item_dim = np.array([dim_of.get(str(i), -1) for i in item_lab] + [-1], dtype=np.int64)
    ic_ = np.where(ic >= 0, ic, len(item_lab))
    vrows = np.flatnonzero(keep & is_verdict[ic_])
    prows = np.flatnonzero(keep & (item_dim[ic_] >= 0))
    # values on their scales, else the text path reports them
    verdict_ok = np.isin(val_lab.astype(str), list(VERDICT_CODES)) if len(val_lab) else np.zeros(0, bool)
    phase_pos = np.array([fw.phase_table.codes.index(str(v)) + 1 if str(v) in fw.phase_table.codes else 0
                          for v in val_lab] + [0], dtype=np.int64)
    if not verdict_ok[vc[vrows]].all() or not (phase_pos[vc[prows]] > 0).all():
        return None
    sc, cc, rc = coded.codes("session"), coded.codes("case"), coded.codes("rater")
    n_c, n_r = len(f["case"].cat.categories), len(f["rater"].cat.categories)
    key = (sc.astype(np.int64) * n_c + cc) * n_r + rc
    # the own phases: per (session, case, rater) key a row of positions (a later row wins)
    pk, pinv = np.unique(key[prows], return_inverse=True)
    mat = np.zeros((len(pk), len(dims)), dtype=np.int64)
    mat[pinv.reshape(-1), item_dim[ic[prows]]] = phase_pos[vc[prows]]
    # verdicts in the order of the text table sorted by session, case, rater, item
    def rank(col: str) -> np.ndarray:
        lab = np.asarray(f[col].cat.categories, dtype=object).astype(str)
        r = np.empty(len(lab), dtype=np.int64)
        r[np.argsort(lab, kind="stable")] = np.arange(len(lab))
        return r[coded.codes(col)[vrows]]
    order = np.lexsort((rank("item"), rank("rater"), rank("case"), rank("session")))
    vrows = vrows[order]
    got = np.zeros((len(vrows), len(dims)), dtype=np.int64)
    where = np.searchsorted(pk, key[vrows])
    found = where < len(pk)
    found[found] = pk[where[found]] == key[vrows][found]
    got[found] = mat[where[found]]
    # the labels made text once (a few thousand), then taken for every row
    text = {c: np.asarray(f[c].cat.categories, dtype=object).astype(str).astype(object)[coded.codes(c)[vrows]]
            for c in ("session", "case", "rater")}
    return text, item_outcome[ic[vrows]], val_lab.astype(str).astype(object)[vc[vrows]], got


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
    # a coded table is read on its codes (its own phases); anything else as text, checked first
    coded_own = isinstance(scores, CodedScores) and reference == "own" and scores.with_rater
    df = None if coded_own else _table(scores, func)
    prof = _resolve_profiles(fw, profiles)
    dims = [d.id for d in fw.phase_table.dimensions]
    cols = ["session", "case", "rater", "outcome", "verdict", "profile", "reference", "meets_profile",
            "classification", "falls_short", "exceeds", "missing", "n_short", "n_exceeds", "n_missing"]
    fast = _coded_own(scores, fw, set(prof)) if coded_own else None
    if fast is not None:
        text, outcomes, verdicts, got = fast
    else:
        df = _table(scores, func) if df is None else df
        ver = _verdict_rows(df)
        ver = ver[ver["outcome"].isin(prof)]
        _check_values(ver, VERDICT_CODES, "verdict", func)
        key, index, mat = _reference_matrix(df, fw, reference, consensus, func)
        ver = ver.sort_values(_KEY + ["item"])
        # each verdict's reference phases (a row of zeros when there are none)
        vkeys = pd.MultiIndex.from_frame(ver[key].astype(str)) if len(ver) else None
        row = index.get_indexer(vkeys) if len(index) and len(ver) else np.full(len(ver), -1)
        got = np.zeros((len(ver), len(dims)), dtype=np.int64)
        got[row >= 0] = mat[row[row >= 0]]
        text = {c: ver[c].to_numpy(dtype=object) for c in ("session", "case", "rater")}
        outcomes = ver["outcome"].to_numpy(dtype=object)
        verdicts = ver["value"].to_numpy(dtype=object)
    if not len(outcomes):
        out = pd.DataFrame(columns=cols)
        out["meets_profile"] = out["meets_profile"].astype("boolean")
        for c in ("n_short", "n_exceeds", "n_missing"):
            out[c] = out[c].astype(int)
        return out
    # each verdict's profile as minimum positions per dimension (0 = not in the profile)
    position = {c: k + 1 for k, c in enumerate(fw.phase_table.codes)}
    o_code, o_uniq = pd.factorize(outcomes)
    want_of = np.zeros((len(o_uniq), len(dims)), dtype=np.int64)
    for j, outcome in enumerate(o_uniq):
        for cell in prof[outcome].cells:
            want_of[j, dims.index(cell.dimension_id)] = position[cell.phase]
    want = want_of[o_code]
    listed = want > 0
    short = listed & (got > 0) & (got < want)
    above = listed & (got > want)
    missing = listed & (got == 0)
    any_short, any_missing = short.any(axis=1), missing.any(axis=1)
    meets = pd.array(np.where(any_short, False, True), dtype="boolean")
    meets[~any_short & any_missing] = pd.NA
    voldaan = verdicts == "voldaan"
    cls = np.where(~any_short & any_missing, "insufficient",
                   np.where(voldaan, np.where(any_short, "lenient", "consistent"),
                            np.where(any_short, "consistent", "severe")))
    out = pd.DataFrame({
        "session": text["session"], "case": text["case"], "rater": text["rater"], "outcome": outcomes,
        "verdict": verdicts,
        "profile": np.array([prof[o].name for o in o_uniq], dtype=object)[o_code], "reference": reference,
        "meets_profile": meets,
        "classification": cls, "falls_short": _dimension_tuples(short, dims), "exceeds": _dimension_tuples(above, dims),
        "missing": _dimension_tuples(missing, dims), "n_short": short.sum(axis=1).astype(int),
        "n_exceeds": above.sum(axis=1).astype(int), "n_missing": missing.sum(axis=1).astype(int),
    }, columns=cols)
    return out.reset_index(drop=True)
