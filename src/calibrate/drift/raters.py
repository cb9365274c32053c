"""Rater effects: leniency and its change, central tendency, halo, accuracy.

Owns :func:`rater_effects` and :func:`rater_trajectories`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inference import cluster_bootstrap_ratio, p_two_sided, t_quantile
from ..smallsample import cr2_trends
from ..options import Integer, Interval, validate_options
from ._table import ALPHA, MIN_SHIFT, _bh, _prepare, _reference, _Table


@validate_options(alpha=Interval(0, 1), min_shift=Interval(0, 1, closed=True), confidence=Interval(0, 1),
                  n_boot=Integer(1))
def rater_effects(
    scores: pd.DataFrame,
    consensus: pd.DataFrame | None = None,
    *,
    alpha: float = ALPHA,
    min_shift: float = MIN_SHIFT,
    confidence: float = 0.95,
    n_boot: int = 999,
    seed: int = 2026,
    scales=None,
) -> pd.DataFrame:
    """Per assessor: leniency with a case-cluster bootstrap CI, its change over sessions,
    central tendency, halo and accuracy on benchmark cases.

    * **leniency** — mean of (judgement − reference) over all the assessor's judgements on
      the 0..1 scale (> 0: above the reference, i.e. more lenient). The reference is the
      consensus; without one it is the mean of the *other* assessors on the same case,
      session and item (leave-one-out, so an assessor is never compared with themself).
      CI: percentile bootstrap over the assessor's cases (``n_boot`` resamples, seeded).
      ``flagged`` when the CI excludes 0, the BH-corrected bootstrap ``q_leniency ≤ alpha``
      and ``|leniency| ≥ min_shift``.
    * **leniency_change** — trend of the assessor's per-occasion mean difference over the
      session index (CR2 over cases, Bell–McCaffrey df), reported over the span; ``drift_flagged`` when its BH
      ``q_drift ≤ alpha`` and ``|leniency_change| ≥ min_shift``.
    * **spread_ratio** (central tendency) — the assessor's SD of judgements on the
      multi-step items (levels, phases) relative to the mean SD of the panel on the same
      items; < 1 is range restriction. ``central_tendency`` when ≤ 0.7 on ≥ 10 judgements.
    * **halo** — per case, the share of the assessor's indicator judgements equal to their
      own most frequent value there, minus the same share of the other assessors; averaged
      over cases (> 0: more uniform across a case's indicators than colleagues).
      ``halo_flagged`` when ≥ 0.10 and its 95% CI over cases excludes 0. A lenient assessor
      who ticks nearly everything ``gezien`` is also uniform: read halo beside leniency.
    * **accuracy** — with a consensus: the share of judgements equal to the consensus;
      ``accuracy_panel`` is the mean over the other assessors.

    Returns one row per rater with columns ``rater, n_judgements, n_cases, n_sessions,
    leniency, ci_low, ci_high, p_leniency, q_leniency, flagged, leniency_change,
    change_ci_low, change_ci_high, p_drift, q_drift, drift_flagged, spread_ratio,
    central_tendency, halo, halo_ci_low, halo_ci_high, halo_flagged, accuracy,
    accuracy_panel, reference``.
    """
    tb = _prepare(scores, consensus, scales=scales)
    ref, source = _reference(tb)
    d = tb.x - ref
    has = np.isfinite(d)
    R, C = len(tb.raters), len(tb.cases)
    rng = np.random.default_rng(seed)

    # leniency: per (rater, case) sums, then a cluster bootstrap per rater
    rc = tb.rater[has] * C + tb.case[has]
    s_rc = np.bincount(rc, weights=d[has], minlength=R * C).reshape(R, C)
    n_rc = np.bincount(rc, minlength=R * C).reshape(R, C).astype(float)
    leniency = np.full(R, np.nan)
    lo = np.full(R, np.nan)
    hi = np.full(R, np.nan)
    p_len = np.full(R, np.nan)
    for r in range(R):
        m = n_rc[r] > 0
        if not m.any():
            continue
        leniency[r] = s_rc[r, m].sum() / n_rc[r, m].sum()
        lo[r], hi[r], p_len[r] = cluster_bootstrap_ratio(s_rc[r, m], n_rc[r, m], rng, n_boot, confidence)
    q_len = _bh(p_len)
    flagged = (lo > 0) | (hi < 0)
    flagged = flagged & (q_len <= alpha) & (np.abs(leniency) >= min_shift)

    # change of leniency: per (rater, occasion) means, trend over sessions
    n_occ = int(tb.occ.max()) + 1
    ro = tb.rater[has] * n_occ + tb.occ[has]
    s_ro = np.bincount(ro, weights=d[has], minlength=R * n_occ)
    n_ro = np.bincount(ro, minlength=R * n_occ)
    cells = np.flatnonzero(n_ro > 0)
    rr, oo = cells // n_occ, cells % n_occ
    tr = cr2_trends(rr, tb.occ_session[oo], s_ro[cells] / n_ro[cells], tb.occ_case[oo], R)
    p_drift = p_two_sided(tr["t"], tr["df"])
    q_drift = _bh(p_drift)
    change = tr["slope"] * tr["span"]
    crit = t_quantile(0.5 + confidence / 2, tr["df"])
    drift_flagged = np.where(np.isnan(q_drift), False, (q_drift <= alpha) & (np.abs(change) >= min_shift))

    spread_ratio, n_spread = _spread_ratio(tb)
    halo, halo_lo, halo_hi = _halo(tb)
    if tb.has_consensus:
        ok = np.isfinite(tb.ref)
        x_, r_ = tb.x[ok], tb.ref[ok]  # np.isclose's test (both finite here), without its checks
        hit = (np.abs(x_ - r_) <= 1e-8 + 1e-5 * np.abs(r_)).astype(float)
        nr = np.bincount(tb.rater[ok], minlength=R).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = np.bincount(tb.rater[ok], weights=hit, minlength=R) / nr
        accuracy_panel = np.array([np.nanmean(np.delete(accuracy, r)) if R > 1 else np.nan for r in range(R)])
    else:
        accuracy = np.full(R, np.nan)
        accuracy_panel = np.full(R, np.nan)

    out = pd.DataFrame({
        "rater": tb.raters,
        "n_judgements": np.bincount(tb.rater, minlength=R),
        "n_cases": (n_rc > 0).sum(1),
        "n_sessions": _sessions_per_rater(tb, R),
        "leniency": leniency,
        "ci_low": lo,
        "ci_high": hi,
        "p_leniency": p_len,
        "q_leniency": q_len,
        "flagged": flagged.astype(bool),
        "leniency_change": change,
        "change_ci_low": (tr["slope"] - crit * tr["se"]) * tr["span"],
        "change_ci_high": (tr["slope"] + crit * tr["se"]) * tr["span"],
        "p_drift": p_drift,
        "q_drift": q_drift,
        "drift_flagged": drift_flagged.astype(bool),
        "spread_ratio": spread_ratio,
        "central_tendency": (spread_ratio <= 0.7) & (n_spread >= 10),
        "halo": halo,
        "halo_ci_low": halo_lo,
        "halo_ci_high": halo_hi,
        "halo_flagged": (halo >= 0.10) & (halo_lo > 0),
        "accuracy": accuracy,
        "accuracy_panel": accuracy_panel,
        "reference": source,
    })
    return out


def rater_trajectories(scores: pd.DataFrame, consensus: pd.DataFrame | None = None, *, scales=None) -> pd.DataFrame:
    """Per assessor and session: mean (judgement − reference) on the 0..1 scale.

    Columns ``rater, session, session_index, session_date, n_judgements, leniency``.
    """
    tb = _prepare(scores, consensus, scales=scales)
    ref, _ = _reference(tb)
    d = tb.x - ref
    ok = np.isfinite(d)
    # per (rater, session) cell, in rater then session order: counts and sums by bincount
    S = max(len(tb.sessions), 1)
    key = tb.rater[ok] * S + tb.session[ok]
    n = np.bincount(key, minlength=len(tb.raters) * S)
    total = np.bincount(key, weights=d[ok], minlength=len(tb.raters) * S)
    cells = np.flatnonzero(n)
    r, sess = cells // S, cells % S
    return pd.DataFrame({
        "rater": tb.raters[r], "session": tb.sessions[sess], "session_index": sess.astype(np.int64),
        "session_date": [tb.session_dates[k] for k in sess.tolist()],
        "n_judgements": n[cells].astype(np.int64), "leniency": total[cells] / n[cells],
    })


def _sessions_per_rater(tb: _Table, R: int) -> np.ndarray:
    """How many sessions each rater judged in (a presence table of rater x session)."""
    S = len(tb.sessions)
    seen = np.zeros(R * S, dtype=bool)
    seen[tb.rater.astype(np.int64) * S + tb.session] = True
    return seen.reshape(R, S).sum(axis=1)


def _spread_ratio(tb: _Table) -> tuple[np.ndarray, np.ndarray]:
    R = len(tb.raters)
    multi = (tb.steps >= 2)[tb.item]
    if not multi.any():
        return np.full(R, np.nan), np.zeros(R)
    df = pd.DataFrame({"r": tb.rater[multi], "i": tb.item[multi], "x": tb.x[multi]})
    var = df.groupby(["r", "i"])["x"].var(ddof=1).dropna()
    if var.empty:
        return np.full(R, np.nan), np.zeros(R)
    panel = var.groupby(level="i").mean()
    v = var.reset_index(name="v")
    v["panel"] = panel.reindex(v["i"]).to_numpy()
    agg = v.groupby("r")[["v", "panel"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sqrt(agg["v"] / agg["panel"])
    n = df.groupby("r").size()
    return ratio.reindex(range(R)).to_numpy(dtype=float), n.reindex(range(R)).fillna(0).to_numpy()


def _halo(tb: _Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    R = len(tb.raters)
    nan = np.full(R, np.nan)
    ind = (tb.kinds == "indicator")[tb.item]  # compare the few kinds, then spread to the rows
    if not ind.any():
        return nan, nan.copy(), nan.copy()
    n_occ = int(tb.occ.max()) + 1
    ro = tb.rater[ind] * n_occ + tb.occ[ind]
    n = np.bincount(ro, minlength=R * n_occ).astype(float)
    s = np.bincount(ro, weights=np.rint(tb.x[ind]), minlength=R * n_occ)
    cells = np.flatnonzero(n >= 2)
    p = s[cells] / n[cells]
    u = np.maximum(p, 1 - p)
    rr, oo = cells // n_occ, cells % n_occ
    # the other raters' mean uniformity on the same occasion
    tot = np.bincount(oo, weights=u, minlength=n_occ)
    cnt = np.bincount(oo, minlength=n_occ).astype(float)
    others = cnt[oo] - 1
    keep = others > 0
    h = u[keep] - (tot[oo][keep] - u[keep]) / others[keep]
    df = pd.DataFrame({"r": rr[keep], "case": tb.occ_case[oo[keep]], "h": h})
    per_case = df.groupby(["r", "case"])["h"].mean().reset_index()
    g = per_case.groupby("r")["h"]
    mean, sd, k = g.mean(), g.std(ddof=1), g.size()
    crit = t_quantile(0.975, np.maximum(k - 1, 1))
    half = crit * sd / np.sqrt(k)
    mean = mean.reindex(range(R)).to_numpy(dtype=float)
    half = pd.Series(half, index=g.mean().index).reindex(range(R)).to_numpy(dtype=float)
    return mean, mean - half, mean + half


