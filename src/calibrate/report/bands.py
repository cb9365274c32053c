"""The 95 % bands over cases on the report's trajectories.

Owns the intervals the trajectories of the content carry: per session a t interval over
the cases (:func:`_t_interval`) of each drifting item's agreement and panel − consensus
(:func:`_trajectory_bands`) and of each drifting assessor's leniency
(:func:`_rater_bands`, with each session × case its own occasion: :func:`_per_case_occasions`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import drift
from ..errors import InputError
from ..inference import t_quantile
from ..scores import CodedScores
from .numbers import _num


def _t_interval(x: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Mean and 95% t interval over cases (None where fewer than two cases)."""
    x = x[np.isfinite(x)]
    if not len(x):
        return None, None, None
    m = float(x.mean())
    if len(x) < 2:
        return m, None, None
    h = float(t_quantile(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
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
