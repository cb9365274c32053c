"""The team's cut-off: how often each assessor's verdicts are lenient or severe.

Owns :func:`rater_rates` (rates with case-clustered intervals: Kish's design effect, from
:mod:`calibrate.inference`), :func:`verdict_by_pattern` and :func:`verdict_by_phase`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.model import VERDICT_CODES, Framework
from calibrate.inference import clustered_proportion
from calibrate.wording import PATTERN_LABELS

from calibrate.options import Interval, OneOf, validate_options

from ._common import REFERENCES, _check_values, _framework, _table, _verdict_rows
from .profiles import _reference_phases, _resolve_profiles

def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of text, by hashing then sorting only
    the distinct labels (the same labels and codes, faster on many rows)."""
    codes, uniq = pd.factorize(values)
    uniq = np.asarray(uniq, dtype=object)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return uniq[order], rank[codes]


@validate_options(confidence=Interval(0, 1), method=OneOf("wilson", "beta", "agresti_coull", "jeffreys", "normal"),
                  cluster=OneOf("case", "session_case", None))
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
    if not isinstance(classified, pd.DataFrame) or not {"rater", "classification", "case"} <= set(classified.columns):
        raise InputError(
            f"{func} takes the table of classify_verdicts / decision_consistency "
            "(columns rater, case, classification).",
        )
    # integer codes once; per rater its rows (the clusters keep their labels' sorted order,
    # so every sum below runs in the order it did on the labels)
    cls_code = pd.Categorical(classified["classification"].to_numpy(dtype=object),
                              categories=["consistent", "lenient", "severe", "insufficient"]).codes
    det = cls_code != 3
    if cluster == "case":
        clus = classified["case"].astype(str).to_numpy(dtype=object)
    elif cluster == "session_case":
        clus = (classified["session"].astype(str) + "/" + classified["case"].astype(str)).to_numpy(dtype=object)
    else:
        clus = None
    if clus is not None:
        clus = _sorted_codes(clus)[1]
    labels, rcode = _sorted_codes(classified["rater"].astype(str).to_numpy(dtype=object))
    case_code = pd.factorize(classified["case"].to_numpy(dtype=object))[0]
    n_det = int(det.sum())
    total = {c: int(((cls_code == k) & det).sum()) for k, c in ((1, "lenient"), (2, "severe"))}
    by_rater = np.split(np.argsort(rcode, kind="stable"), np.cumsum(np.bincount(rcode, minlength=len(labels)))[:-1])
    rows = []
    for rater, idx in zip(labels, by_rater):
        d_ = det[idx]
        mine = idx[d_]
        c_mine = cls_code[mine]
        n = int(mine.size)
        row = {
            "rater": rater,
            "n": n,
            "n_insufficient": int((~d_).sum()),
            "n_consistent": int((c_mine == 0).sum()),
            "n_lenient": int((c_mine == 1).sum()),
            "n_severe": int((c_mine == 2).sum()),
            "n_cases": int(np.unique(case_code[mine]).size),
        }
        for k, c in ((1, "lenient"), (2, "severe")):
            y = (c_mine == k).astype(float)
            p, lo, hi, deff = clustered_proportion(y, None if clus is None else clus[mine], confidence, method)
            n_others = n_det - n
            other_rate = (total[c] - row[f"n_{c}"]) / n_others if n_others else math.nan
            row.update({
                f"{c}_rate": p, f"{c}_ci_low": lo, f"{c}_ci_high": hi, f"{c}_deff": deff,
                f"{c}_others": other_rate, f"{c}_flagged": bool(n and lo > other_rate),
            })
        rows.append(row)
    return pd.DataFrame(rows)


@validate_options(pattern=OneOf("count", "dimensions"))
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


@validate_options(reference=OneOf(*REFERENCES), confidence=Interval(0, 1))
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
            p, lo, hi, _ = clustered_proportion(y, sub["case"].to_numpy(), confidence, "wilson")
            rows.append((dim.id, code, expected.get(dim.id, pd.NA), len(sub), int(y.sum()), p, lo, hi))
    return pd.DataFrame(rows, columns=["dimension", "phase", "expected", "n", "n_voldaan", "share_voldaan", "ci_low", "ci_high"])


