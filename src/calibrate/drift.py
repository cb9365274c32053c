"""Drifting indicators and rater effects over kalibreersessies (CONTRACTS §3).

Owns the per-item drift tests (level drift, agreement drift), the per-assessor effects
(leniency, its change over sessions, central tendency, halo, accuracy on benchmark cases)
and the before/after comparison of a re-score round. Works on the long score table only;
knows nothing of the store, plotting or wording. Methods: ``docs/drift.md``.

Conventions used throughout
---------------------------
* Every judgement is put on one scale: its position in the item's ordered codes divided by
  the number of steps, so ``0`` is the lowest code and ``1`` the highest
  (``niet gezien`` = 0, ``gezien`` = 1; level ``1`` = 0 … ``6`` = 1). Differences are then
  *shares of the scale*: 0.10 on an indicator is ten percentage points more ``gezien``.
  ``n.v.t.`` and empty values are missing.
* Sessions are ordered by ``session_date`` (then id) and numbered 0, 1, …; trends are per
  session step, and reported *over the span* (slope × number of steps), so "drift 0.30"
  means the judgements moved 0.30 of the scale between the first and the last session.
* Judgements are clustered: all judgements of one case (by any assessor, in any session)
  form one cluster. Tests first average to one value per case and session (an *occasion*),
  then fit the trend with cluster-robust (CR1) standard errors over cases and a
  *t* distribution with (cases − 1) degrees of freedom. Ten assessors judging one case add
  precision to that case's mean, never ten independent observations.
* Many items (assessors) are tested at once: p-values are corrected with
  Benjamini–Hochberg across the family (``q_value``), and a flag also needs a *practical*
  effect of at least ``min_shift`` of the scale, so trivial shifts at large n stay unflagged.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError
from .options import Integer, Interval, validate_options
from .inference import cluster_bootstrap_mean, cluster_bootstrap_ratio, clustered_slopes, p_less, p_two_sided
from .schema import CODES
from .scores import OFF_SCALE, CodedScores

__all__ = [
    "ALPHA",
    "MIN_SHIFT",
    "RescoreResult",
    "case_disagreement",
    "discussion_effects",
    "drifting_indicators",
    "item_trajectories",
    "rater_effects",
    "rater_trajectories",
    "rescore_effect",
]

ALPHA = 0.05
"""False-discovery rate for the Benjamini–Hochberg correction."""

MIN_SHIFT = 0.10
"""Practical-significance floor, in shares of the scale (0.10 = ten percentage points)."""

_REQUIRED = ("session", "case", "rater", "item", "kind", "value")


# ----------------------------------------------------------------------------- preparation
@dataclass
class _Table:
    """The score table as integer-coded arrays (one entry per judgement with a value)."""

    item: np.ndarray        # item index
    rater: np.ndarray       # rater index
    case: np.ndarray        # case index (the cluster)
    session: np.ndarray     # session index in time order
    occ: np.ndarray         # occasion index (session x case)
    x: np.ndarray           # judgement on the 0..1 scale
    ref: np.ndarray         # reference on the 0..1 scale (consensus), NaN when none
    items: pd.Index
    kinds: np.ndarray       # kind per item
    steps: np.ndarray       # number of scale steps (K - 1) per item
    raters: pd.Index
    cases: pd.Index
    sessions: pd.Index      # in time order
    session_dates: list
    occ_session: np.ndarray
    occ_case: np.ndarray
    has_consensus: bool
    keep: np.ndarray = field(default=None)  # row positions of the input that were kept
    values: np.ndarray = field(default=None)  # the value codes of the kept rows (text)

    @property
    def n_items(self) -> int:
        return len(self.items)


def _check_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} lacks the column(s) {', '.join(map(repr, missing))} (found: {', '.join(map(str, df.columns))}).",
            hint="Pass the long score table of CONTRACTS §1 (store.scores()).",
        )


def _scales_from(framework) -> dict[str, tuple[str, ...]] | None:
    if framework is None:
        return None
    if isinstance(framework, Mapping):
        return {k: tuple(v) for k, v in framework.items()}
    return {i.id: tuple(i.codes) for i in framework.items()}


def _used(codes: np.ndarray, labels: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Drop the categories no row uses (order kept) and recode."""
    used = np.zeros(len(labels), dtype=bool)
    used[codes] = True
    remap = np.cumsum(used) - 1
    return remap[codes].astype(np.int64), pd.Index(np.asarray(labels, dtype=object)[used]).astype(str)


_PREPARED: "weakref.WeakKeyDictionary[CodedScores, tuple]" = weakref.WeakKeyDictionary()


def _prepare(scores, consensus=None, *, scales=None) -> _Table:
    """The score table as arrays — from :class:`~calibrate.scores.CodedScores`, coded once
    at the door when a plain DataFrame comes in — with the consensus value of each
    judgement attached. For a coded table (and consensus) the arrays are made once and
    kept with it: the report asks for items, trajectories and raters of the same table."""
    if isinstance(scores, CodedScores) and scales is None and (consensus is None or isinstance(consensus, CodedScores)):
        hit = _PREPARED.get(scores)
        if hit is not None and hit[0] is consensus:
            return hit[1]
        tb = _arrays(scores, consensus)
        _PREPARED[scores] = (consensus, tb)
        return tb
    return _arrays(scores, consensus, scales=scales)


def _arrays(scores, consensus=None, *, scales=None) -> _Table:
    if not isinstance(scores, CodedScores):
        _check_columns(scores, _REQUIRED, "scores")
    cs = CodedScores.code(scores, scales=_scales_from(scales))
    present = cs.has_value()
    keep = np.flatnonzero(present)
    if len(keep) == 0:
        raise InputError("the score table has no judgements with a value (all empty or n.v.t.).")
    s_idx, sessions = _used(cs.codes("session")[keep], cs.sessions)
    all_dates = dict(zip(cs.sessions, cs.session_dates))
    dates = [all_dates[s] for s in sessions]
    item_codes, items = _used(cs.codes("item")[keep], pd.Index(cs.items["item"]))
    rater_codes, raters = _used(cs.codes("rater")[keep], pd.Index(cs.frame["rater"].cat.categories))
    case_codes, cases = _used(cs.codes("case")[keep], pd.Index(cs.frame["case"].cat.categories))
    kind_labels = np.asarray(cs.frame["kind"].cat.categories, dtype=object)
    first = pd.Series(np.arange(len(keep))).groupby(item_codes).first().reindex(range(len(items))).to_numpy()
    kinds = kind_labels[cs.codes("kind")[keep][first]].astype(str)
    table_codes = dict(zip(cs.items["item"], cs.items["codes"]))
    item_scales = []
    for item, kind in zip(items, kinds):
        codes = table_codes[item]
        if not codes:
            raise InputError(f"item {item!r} has kind {kind!r}; allowed kinds: {', '.join(CODES)}.")
        item_scales.append(tuple(codes))
    steps = np.array([max(len(sc) - 1, 1) for sc in item_scales], dtype=float)
    pos = cs.position[keep]
    bad = pos == OFF_SCALE
    if bad.any():
        first_bad = int(np.flatnonzero(bad)[0])
        i, v = item_codes[first_bad], cs.frame["value"].iloc[keep[first_bad]]
        raise InputError(
            f"value {v!r} is outside the scale of item {items[i]!r} ({kinds[i]}); allowed: {', '.join(item_scales[i])}.",
            location=f"scores, row {int(keep[first_bad]) + 2}",
            hint="Fix the value or pass the item's ordered codes with scales=.",
        )
    x = pos.astype(float) / steps[item_codes]

    occ_key = s_idx.astype(np.int64) * len(cases) + case_codes
    occ_codes, occ_uni = pd.factorize(occ_key, sort=True)
    occ_uni = np.asarray(occ_uni)
    occ_session = occ_uni // len(cases)
    occ_case = occ_uni % len(cases)

    ref = np.full(len(x), np.nan)
    has_consensus = consensus is not None and len(consensus) > 0
    if has_consensus:
        if not isinstance(consensus, CodedScores):
            _check_columns(consensus, ("session", "case", "item", "value"), "consensus")
        cc_ = CodedScores.code(consensus, required=("session", "case", "item", "value"), what="consensus")
        c_keep = np.flatnonzero(cc_.has_value())
        ci = items.get_indexer(np.asarray(cc_.frame["item"].cat.categories, dtype=object))[cc_.codes("item")[c_keep]]
        cs_ = sessions.get_indexer(np.asarray(cc_.sessions, dtype=object))[cc_.codes("session")[c_keep]]
        cc = cases.get_indexer(np.asarray(cc_.frame["case"].cat.categories, dtype=object))[cc_.codes("case")[c_keep]]
        ok = (ci >= 0) & (cs_ >= 0) & (cc >= 0)
        c_keep, ci, cs_, cc = c_keep[ok], ci[ok], cs_[ok], cc[ok]
        vlabels = np.asarray(cc_.frame["value"].cat.categories, dtype=object)
        cval = vlabels[cc_.codes("value")[c_keep]]
        cx = np.full(len(c_keep), np.nan)
        for i in np.unique(ci):
            m = ci == i
            idx = {code: k / steps[i] for k, code in enumerate(item_scales[i])}
            cx[m] = [idx.get(v, np.nan) for v in cval[m]]
        if np.isnan(cx).any():
            first_bad = int(np.flatnonzero(np.isnan(cx))[0])
            raise InputError(
                f"consensus value {cval[first_bad]!r} is outside the scale of item {items[ci[first_bad]]!r}.",
                location="consensus", hint="Fix the consensus table.",
            )
        key_c = (cs_.astype(np.int64) * len(cases) + cc) * len(items) + ci
        key_s = occ_key * len(items) + item_codes
        lut = pd.Series(cx, index=key_c)
        lut = lut[~lut.index.duplicated(keep="last")]
        ref = lut.reindex(key_s).to_numpy(dtype=float)
    return _Table(
        item=item_codes.astype(np.int64), rater=rater_codes.astype(np.int64), case=case_codes.astype(np.int64),
        session=s_idx.astype(np.int64), occ=occ_codes.astype(np.int64), x=x, ref=ref, items=items, kinds=kinds,
        steps=steps, raters=raters, cases=cases, sessions=sessions, session_dates=dates,
        occ_session=occ_session, occ_case=occ_case, has_consensus=bool(has_consensus), keep=keep,
        values=cs.frame["value"].iloc[keep].astype(object).to_numpy(),
    )


def _loo_reference(tb: _Table) -> np.ndarray:
    """Leave-one-rater-out panel mean of the same case, session and item (NaN if alone)."""
    key = tb.occ * tb.n_items + tb.item
    n = np.bincount(key, minlength=key.max() + 1)
    s = np.bincount(key, weights=tb.x, minlength=key.max() + 1)
    cnt = n[key] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (s[key] - tb.x) / np.maximum(cnt, 1), np.nan)


def _reference(tb: _Table) -> tuple[np.ndarray, str]:
    if tb.has_consensus:
        return tb.ref, "consensus"
    return _loo_reference(tb), "panel"


# ----------------------------------------------------------------------------- statistics
def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN p-values stay NaN and do not count)."""
    from statsmodels.stats.multitest import multipletests

    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def _pair_agreement(group: np.ndarray, x: np.ndarray, steps: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean pairwise agreement ``1 − |x_i − x_j|`` among the judgements of each group.

    ``x`` is on the 0..1 scale, ``steps`` the number of scale steps per row. For an
    indicator this is the share of agreeing pairs; for a level it gives partial credit
    (linear weights). Returns (agreement, number of judgements) per group; NaN when fewer
    than two judgements.
    """
    kmax = int(steps.max()) + 1 if len(steps) else 2
    pos = np.rint(x * steps).astype(np.int64)
    counts = np.bincount(group * kmax + pos, minlength=n_groups * kmax).reshape(n_groups, kmax).astype(float)
    dist = np.abs(np.subtract.outer(np.arange(kmax), np.arange(kmax))).astype(float)
    pair_abs = 0.5 * np.einsum("gk,kl,gl->g", counts, dist, counts)
    n = counts.sum(1)
    gsteps = np.ones(n_groups)
    gsteps[group] = steps
    pairs = n * (n - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(pairs > 0, 1 - pair_abs / gsteps / pairs, np.nan)
    return agree, n


# ----------------------------------------------------------------------------- items
def _occasion_item_table(tb: _Table) -> pd.DataFrame:
    """One row per (occasion, item): panel mean, reference, mean difference, agreement."""
    n_cells = (tb.occ.max() + 1) * tb.n_items
    key = tb.occ * tb.n_items + tb.item
    n = np.bincount(key, minlength=n_cells).astype(float)
    sx = np.bincount(key, weights=tb.x, minlength=n_cells)
    has = np.isfinite(tb.ref)
    nref = np.bincount(key[has], minlength=n_cells).astype(float)
    sd = np.bincount(key[has], weights=(tb.x - tb.ref)[has], minlength=n_cells)
    sref = np.bincount(key[has], weights=tb.ref[has], minlength=n_cells)
    agree, _ = _pair_agreement(key, tb.x, tb.steps[tb.item], n_cells)
    cells = np.flatnonzero(n > 0)
    occ, item = cells // tb.n_items, cells % tb.n_items
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "occ": occ, "item": item, "session": tb.occ_session[occ], "case": tb.occ_case[occ],
            "n": n[cells], "mean": sx[cells] / n[cells],
            "ref": np.where(nref[cells] > 0, sref[cells] / np.maximum(nref[cells], 1), np.nan),
            "diff": np.where(nref[cells] > 0, sd[cells] / np.maximum(nref[cells], 1), np.nan),
            "agreement": agree[cells],
        })
    if not tb.has_consensus:
        # no benchmark: an item's panel mean relative to the panel's mean on the other
        # items of the same kind for the same case and session (the case's overall standing)
        kind_code = pd.factorize(pd.Series(tb.kinds))[0][out["item"].to_numpy()]
        gk = out["occ"].to_numpy() * (kind_code.max() + 1) + kind_code
        tot = np.bincount(gk, weights=out["mean"].to_numpy())
        cnt = np.bincount(gk).astype(float)
        others = cnt[gk] - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = np.where(others > 0, (tot[gk] - out["mean"].to_numpy()) / np.maximum(others, 1), np.nan)
        out["ref"] = ref
        out["diff"] = out["mean"] - ref
    return out


@validate_options(alpha=Interval(0, 1), min_shift=Interval(0, 1, closed=True))
def drifting_indicators(
    scores: pd.DataFrame,
    consensus: pd.DataFrame | None = None,
    *,
    alpha: float = ALPHA,
    min_shift: float = MIN_SHIFT,
    scales=None,
) -> pd.DataFrame:
    """Which items the panel has started to read differently over the sessions.

    Two tests per item, each on one value per case and session (an *occasion*):

    * **level drift** — the panel's mean judgement minus the reference, regressed on the
      session index. The reference is the consensus (benchmark) judgement; without a
      consensus table it is the panel's mean on the *other* items of the same kind for the
      same case, so that an item moving against the rest of the kijkkader is found.
    * **agreement drift** — the mean pairwise agreement among the assessors
      (``1 − |x_i − x_j|`` on the 0..1 scale: the share of agreeing pairs for an indicator)
      regressed on the session index; only a *fall* counts (one-sided).

    Standard errors are cluster-robust over cases (CR1), p-values from *t* with
    (cases − 1) df. Both families are corrected together with Benjamini–Hochberg. An item is
    flagged when a test has ``q ≤ alpha`` *and* the change over the span of sessions is at
    least ``min_shift`` of the scale.

    Parameters
    ----------
    scores : DataFrame
        The score table (CONTRACTS §1); ``n.v.t.`` and empty values are ignored.
    consensus : DataFrame, optional
        The consensus table; judgements without a consensus value are left out of the
        level test when it is given.
    alpha : float
        False-discovery rate.
    min_shift : float
        Practical floor, share of the scale over the span (0.10 = ten percentage points).
    scales : Framework or mapping, optional
        Ordered codes per item (default: the contract codes of the item's kind).

    Returns
    -------
    DataFrame, one row per item, sorted by item, with columns ``item, kind, flagged,
    drift ("level" | "agreement" | None), direction (+1 more lenient, −1 more severe, 0),
    p_value, q_value`` (of the test that flagged the item, else the more significant one),
    ``level_shift`` (change of panel − reference over the span), ``level_ci_low``,
    ``level_ci_high``, ``p_level, q_level, level_flagged, agreement_change`` (change of
    pairwise agreement over the span), ``agreement_first`` / ``agreement_last`` (fitted at the
    first and last session), ``p_agreement, q_agreement, agreement_flagged, n_sessions,
    n_cases, n_occasions, n_judgements, reference ("consensus" | "panel")``.

    Examples
    --------
    >>> from calibrate.frameworks import load_framework
    >>> from calibrate.devtools.simulate import SimulationConfig, simulate
    >>> sim = simulate(load_framework("han-wpl2-2025"), SimulationConfig(n_sessions=5, n_raters=6,
    ...     cases_per_session=12, drifting_items={"leerklimaat.klassenmanagement.2": 1.0}, seed=1))
    >>> res = drifting_indicators(sim.scores, sim.consensus)
    >>> res.loc[res["flagged"], ["item", "drift", "direction"]].to_dict("records")
    [{'item': 'leerklimaat.klassenmanagement.2', 'drift': 'level', 'direction': 1}]
    """
    tb = _prepare(scores, consensus, scales=scales)
    cells = _occasion_item_table(tb)
    m = tb.n_items
    it, ts, cl = cells["item"].to_numpy(), cells["session"].to_numpy(), cells["case"].to_numpy()
    lev = clustered_slopes(it, ts, cells["mean"].to_numpy(), cl, m, covariate=cells["ref"].to_numpy())
    agr = clustered_slopes(it, ts, cells["agreement"].to_numpy(), cl, m)
    p_level = p_two_sided(lev["t"], lev["df"])
    p_agree = p_less(agr["t"], agr["df"])
    q_all = _bh(np.concatenate([p_level, p_agree]))
    q_level, q_agree = q_all[:m], q_all[m:]
    level_shift = lev["slope"] * lev["span"]
    crit = stats.t.ppf(0.975, lev["df"])
    agreement_change = agr["slope"] * agr["span"]
    level_flag = (q_level <= alpha) & (np.abs(level_shift) >= min_shift)
    agree_flag = (q_agree <= alpha) & (-agreement_change >= min_shift)
    level_flag = np.where(np.isnan(q_level), False, level_flag)
    agree_flag = np.where(np.isnan(q_agree), False, agree_flag)

    qa = np.where(np.isnan(q_agree), np.inf, q_agree)
    ql = np.where(np.isnan(q_level), np.inf, q_level)
    use_level = np.where(level_flag & agree_flag, ql <= qa, np.where(level_flag, True, np.where(agree_flag, False, ql <= qa)))
    drift = np.where(level_flag & use_level, "level", np.where(agree_flag & ~(level_flag & use_level), "agreement", None))
    direction = np.where(drift == "level", np.sign(level_shift), 0).astype(int)

    # agreement fitted at the first and last session of the item
    abar = cells.groupby("item")["agreement"].mean().reindex(range(m)).to_numpy()
    tbar = cells.loc[cells["agreement"].notna()].groupby("item")["session"].mean().reindex(range(m)).to_numpy()
    tmin = cells.groupby("item")["session"].min().reindex(range(m)).to_numpy()
    tmax = cells.groupby("item")["session"].max().reindex(range(m)).to_numpy()
    n_j = np.bincount(tb.item, minlength=m)
    out = pd.DataFrame({
        "item": tb.items,
        "kind": tb.kinds,
        "flagged": level_flag | agree_flag,
        "drift": pd.Series(drift, dtype=object).where(pd.notna(drift), None),
        "direction": direction,
        "p_value": np.where(use_level, p_level, p_agree),
        "q_value": np.where(use_level, q_level, q_agree),
        "level_shift": level_shift,
        "level_ci_low": (lev["slope"] - crit * lev["se"]) * lev["span"],
        "level_ci_high": (lev["slope"] + crit * lev["se"]) * lev["span"],
        "p_level": p_level,
        "q_level": q_level,
        "level_flagged": level_flag,
        "agreement_change": agreement_change,
        "agreement_first": abar + agr["slope"] * (tmin - tbar),
        "agreement_last": abar + agr["slope"] * (tmax - tbar),
        "p_agreement": p_agree,
        "q_agreement": q_agree,
        "agreement_flagged": agree_flag,
        "n_sessions": cells.groupby("item")["session"].nunique().reindex(range(m)).fillna(0).astype(int).to_numpy(),
        "n_cases": cells.groupby("item")["case"].nunique().reindex(range(m)).fillna(0).astype(int).to_numpy(),
        "n_occasions": lev["n"].astype(int),
        "n_judgements": n_j,
        "reference": "consensus" if tb.has_consensus else "panel",
    })
    out["flagged"] = out["flagged"].astype(bool)
    return out.reset_index(drop=True)


def item_trajectories(scores: pd.DataFrame, consensus: pd.DataFrame | None = None, *, scales=None) -> pd.DataFrame:
    """Per item and session: the panel's mean judgement, the reference, their difference
    and the pairwise agreement (each first averaged per case, then over the cases).

    Columns: ``item, session, session_index, session_date, n_cases, n_judgements, mean,
    reference, diff, agreement`` (all on the 0..1 scale). This is what the drift tests fit.
    """
    tb = _prepare(scores, consensus, scales=scales)
    cells = _occasion_item_table(tb)
    g = cells.groupby(["item", "session"])
    out = g.agg(n_cases=("case", "nunique"), n_judgements=("n", "sum"), mean=("mean", "mean"),
                reference=("ref", "mean"), diff=("diff", "mean"), agreement=("agreement", "mean")).reset_index()
    out.insert(2, "session_date", [tb.session_dates[s] for s in out["session"]])
    out.insert(1, "session_index", out["session"].astype(int))
    out["session"] = tb.sessions[out["session"].to_numpy()]
    out["item"] = tb.items[out["item"].to_numpy()]
    out["n_judgements"] = out["n_judgements"].astype(int)
    return out[["item", "session", "session_index", "session_date", "n_cases", "n_judgements", "mean", "reference", "diff", "agreement"]]


def case_disagreement(scores, consensus=None, *, scales=None) -> pd.DataFrame:
    """Per session, case and item: how split the panel was.

    Columns: ``session, case, item, n_raters, agreement`` (mean pairwise agreement, 0..1),
    ``mean`` (panel mean on the 0..1 scale), ``spread`` (SD of the judgements on the 0..1
    scale), ``values`` (count per code, e.g. ``{"gezien": 4, "niet gezien": 2}``); with a
    ``consensus`` also ``reference`` (the consensus on the 0..1 scale, NaN where there is
    none) and ``deviation`` (|panel mean − reference|). Sorted from the most to the least
    divergent.
    """
    tb = _prepare(scores, consensus, scales=scales)
    cells = _occasion_item_table(tb)
    key = tb.occ * tb.n_items + tb.item
    ck = cells["occ"].to_numpy() * tb.n_items + cells["item"].to_numpy()
    sq = np.bincount(key, weights=tb.x * tb.x, minlength=ck.max() + 1)[ck]
    n = cells["n"].to_numpy()
    mean = cells["mean"].to_numpy()
    var = np.maximum(sq / n - mean * mean, 0) * n / np.maximum(n - 1, 1)
    vc = pd.Series(1, index=pd.MultiIndex.from_arrays([key, tb.values.astype(str)], names=["_k", "_v"])).groupby(level=[0, 1]).size()
    by_key: dict[int, dict[str, int]] = {}
    for (k, v), c in vc.items():
        by_key.setdefault(int(k), {})[v] = int(c)
    out = pd.DataFrame({
        "session": tb.sessions[cells["session"].to_numpy()],
        "case": tb.cases[cells["case"].to_numpy()],
        "item": tb.items[cells["item"].to_numpy()],
        "n_raters": n.astype(int),
        "agreement": cells["agreement"].to_numpy(),
        "mean": mean,
        "spread": np.sqrt(var),
        "values": [by_key.get(int(k), {}) for k in ck],
    })
    if tb.has_consensus:
        out["reference"] = cells["ref"].to_numpy()
        out["deviation"] = np.abs(out["mean"] - out["reference"])
    return out.sort_values(["agreement", "spread"], ascending=[True, False], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- raters
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
      session index (CR1 over cases), reported over the span; ``drift_flagged`` when its BH
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
    tr = clustered_slopes(rr, tb.occ_session[oo], s_ro[cells] / n_ro[cells], tb.occ_case[oo], R)
    p_drift = p_two_sided(tr["t"], tr["df"])
    q_drift = _bh(p_drift)
    change = tr["slope"] * tr["span"]
    crit = stats.t.ppf(0.5 + confidence / 2, tr["df"])
    drift_flagged = np.where(np.isnan(q_drift), False, (q_drift <= alpha) & (np.abs(change) >= min_shift))

    spread_ratio, n_spread = _spread_ratio(tb)
    halo, halo_lo, halo_hi = _halo(tb)
    if tb.has_consensus:
        ok = np.isfinite(tb.ref)
        hit = np.isclose(tb.x[ok], tb.ref[ok]).astype(float)
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
        "n_sessions": pd.Series(tb.session).groupby(tb.rater).nunique().reindex(range(R)).fillna(0).astype(int).to_numpy(),
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
    df = pd.DataFrame({"rater": tb.rater[ok], "session": tb.session[ok], "d": d[ok]})
    out = df.groupby(["rater", "session"]).agg(n_judgements=("d", "size"), leniency=("d", "mean")).reset_index()
    out.insert(2, "session_date", [tb.session_dates[s] for s in out["session"]])
    out.insert(2, "session_index", out["session"].astype(int))
    out["session"] = tb.sessions[out["session"].to_numpy()]
    out["rater"] = tb.raters[out["rater"].to_numpy()]
    return out


def _spread_ratio(tb: _Table) -> tuple[np.ndarray, np.ndarray]:
    R = len(tb.raters)
    multi = tb.steps[tb.item] >= 2
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
    ind = tb.kinds[tb.item] == "indicator"
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
    crit = stats.t.ppf(0.975, np.maximum(k - 1, 1))
    half = crit * sd / np.sqrt(k)
    mean = mean.reindex(range(R)).to_numpy(dtype=float)
    half = pd.Series(half, index=g.mean().index).reindex(range(R)).to_numpy(dtype=float)
    return mean, mean - half, mean + half


# ----------------------------------------------------------------------------- before / after
@dataclass(frozen=True)
class RescoreResult:
    """Change in agreement between a session and its re-score round on the same cases.

    ``before`` / ``after`` are the mean pairwise agreement (0..1) over the shared cases and
    items; ``change = after − before`` with a paired case-bootstrap CI.
    """

    before_session: str
    after_session: str
    before: float
    after: float
    change: float
    ci: tuple[float, float]
    n_cases: int
    n_items: int
    confidence: float = 0.95
    per_item: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"before_session": self.before_session, "after_session": self.after_session, "before": self.before,
                "after": self.after, "change": self.change, "ci": list(self.ci), "n_cases": self.n_cases,
                "n_items": self.n_items, "confidence": self.confidence}


@validate_options(confidence=Interval(0, 1), n_boot=Integer(1))
def rescore_effect(
    scores: pd.DataFrame,
    before: str,
    after: str,
    *,
    confidence: float = 0.95,
    n_boot: int = 1999,
    seed: int = 2026,
    scales=None,
) -> RescoreResult:
    """Agreement before and after the discussion: session ``before`` and its re-score
    round ``after`` on the cases and items judged in both.

    Per case, the mean pairwise agreement over the shared items is computed in each round;
    the change is the mean over cases of (after − before), with a percentile bootstrap over
    cases (the pairing is kept: a resampled case brings both of its rounds).
    ``per_item`` holds before/after/change per item.
    """
    if not isinstance(scores, CodedScores):
        _check_columns(scores, _REQUIRED, "scores")
    coded = CodedScores.code(scores, scales=_scales_from(scales))
    sub = coded.of_sessions([before, after])
    sess = sub.frame["session"]
    if not len(sub) or not (sess == before).any() or not (sess == after).any():
        raise InputError(f"sessions {before!r} and {after!r} both need judgements to compare them.")
    tb = _prepare(sub, None)
    cells = _occasion_item_table(tb)
    sb, sa = tb.sessions.get_loc(before), tb.sessions.get_loc(after)
    cells = cells[cells["agreement"].notna()]
    b = cells[cells["session"] == sb].set_index(["case", "item"])["agreement"]
    a = cells[cells["session"] == sa].set_index(["case", "item"])["agreement"]
    shared = b.index.intersection(a.index)
    if len(shared) == 0:
        raise InputError(f"sessions {before!r} and {after!r} share no case and item judged by two or more assessors.")
    pair = pd.DataFrame({"before": b.reindex(shared), "after": a.reindex(shared)}).reset_index()
    per_case = pair.groupby("case")[["before", "after"]].mean()
    diff = (per_case["after"] - per_case["before"]).to_numpy()
    G = len(diff)
    lo, hi, _ = cluster_bootstrap_mean(diff, np.random.default_rng(seed), n_boot, confidence)
    ci = (float(lo), float(hi))
    per_item = pair.groupby("item")[["before", "after"]].mean()
    per_item["change"] = per_item["after"] - per_item["before"]
    per_item.index = tb.items[per_item.index.to_numpy()]
    per_item.index.name = "item"
    return RescoreResult(
        before_session=before, after_session=after, before=float(per_case["before"].mean()),
        after=float(per_case["after"].mean()), change=float(diff.mean()), ci=ci, n_cases=G,
        n_items=int(pair["item"].nunique()), confidence=confidence,
        per_item=per_item.reset_index().sort_values("change", kind="stable").reset_index(drop=True),
    )


def discussion_effects(scores: pd.DataFrame, sessions: pd.DataFrame, **kwargs) -> list[RescoreResult]:
    """:func:`rescore_effect` for every re-score round in ``sessions`` (rows with a ``parent``)."""
    out = []
    if "parent" not in sessions.columns:
        return out
    coded = CodedScores.code(scores)
    have = {s for s, n in zip(coded.sessions, np.bincount(coded.codes("session"), minlength=len(coded.sessions))) if n}
    for child, parent in sessions[["session", "parent"]].dropna().itertuples(index=False):
        if child in have and parent in have:
            try:
                out.append(rescore_effect(coded, parent, child, **kwargs))
            except InputError:
                continue
    return out


# ----------------------------------------------------------------------------- helpers
def session_order(scores: pd.DataFrame) -> list[str]:
    """Session ids in time order (by ``session_date``, then id)."""
    sd = scores[["session", "session_date"]].drop_duplicates("session")
    sd = sd.assign(_d=pd.to_datetime(sd["session_date"], errors="coerce")).sort_values(["_d", "session"], kind="stable")
    return list(sd["session"].astype(str))
