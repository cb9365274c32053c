"""Drifting indicators: which items the panel has started to read differently.

Owns :func:`drifting_indicators` (level drift and agreement drift per item),
:func:`item_trajectories` and :func:`case_disagreement`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inference import t_quantile
from ..options import Interval, OneOf, validate_options
from ._table import ALPHA, MIN_SHIFT, TREND_TESTS, _bh, _occasion_item_table, _prepare, _trends


@validate_options(alpha=Interval(0, 1), min_shift=Interval(0, 1, closed=True), trend_test=OneOf(*TREND_TESTS))
def drifting_indicators(
    scores: pd.DataFrame,
    consensus: pd.DataFrame | None = None,
    *,
    alpha: float = ALPHA,
    min_shift: float = MIN_SHIFT,
    scales=None,
    trend_test: str = "auto",
    standing: bool = False,
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

    The slope's standard error is cluster-robust over cases with the small-sample correction
    CR2 and Bell–McCaffrey degrees of freedom (:mod:`calibrate.smallsample`; it gives
    ``level_ci_low``/``level_ci_high``). Its p-value comes from a studentised Freedman–Lane
    permutation test (``trend_test="auto"``, the default; up to 9,999 permutations of the
    cases over the sessions, drawn sequentially, seed fixed): exact with new cases every
    session, however coarse and skewed a pairwise-agreement share is. Items seen in more
    than 200 cases take the CR2 t reference instead (``"permutation"`` permutes always,
    ``"cr2"`` never; ``"cr1"`` is the first test, CR1 with cases − 1 df, ``"wild"`` the
    restricted wild cluster bootstrap). Both families are corrected together with
    Benjamini–Hochberg. An item is flagged when a test has ``q ≤ alpha`` *and* the change
    over the span of sessions is at least ``min_shift`` of the scale. The realised
    false-discovery rate of these flags is measured in ``docs/coverage.md``.

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
    trend_test : {"auto", "permutation", "cr2", "cr1", "wild"}
        The trend test (see above).
    standing : bool
        Also adjust for the case's standing on the other items of the same kind (the panel's
        mean, and for the agreement test their mean agreement) when a consensus is given.

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
    trends = _trends(trend_test)
    # optionally the case's standing on the other items as a further covariate (measured in
    # docs/coverage.md: it does not lower the null rejections, and a drift of other items
    # leaks into it, so it is off by default)
    with_consensus = standing and tb.has_consensus
    lev_cov = cells[["ref", "standing"]] if with_consensus else cells[["ref"]]
    lev = trends(it, ts, cells["mean"].to_numpy(), cl, m, covariate=lev_cov.to_numpy(), alternative="two-sided")
    agr = trends(it, ts, cells["agreement"].to_numpy(), cl, m,
                 covariate=cells["standing_agreement"].to_numpy() if standing else None, alternative="less")
    p_level, p_agree = lev["p"], agr["p"]
    q_all = _bh(np.concatenate([p_level, p_agree]))
    q_level, q_agree = q_all[:m], q_all[m:]
    level_shift = lev["slope"] * lev["span"]
    crit = t_quantile(0.975, lev["df"])
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
    # the count of each value per cell, from the value codes (no text per judgement): the
    # codes renumbered in the labels' sorted order, so each cell's dict lists its values
    # sorted by label, as a groupby over the labels did
    labels = np.asarray(tb.value_labels, dtype=object).astype(str)
    order = np.argsort(labels, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    pair, counts = np.unique(key * len(labels) + rank[tb.value_codes], return_counts=True)
    by_key: dict[int, dict[str, int]] = {}
    cell, code = np.divmod(pair, len(labels))
    for k, v, c in zip(cell.tolist(), labels[order][code].tolist(), counts.tolist()):
        by_key.setdefault(k, {})[v] = c
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


