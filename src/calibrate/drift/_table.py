"""The score table as arrays for the drift tests, and the statistics they share.

Owns :class:`_Table` (one entry per judgement with a value: codes, the 0..1 scale, the
reference), made once per coded table (:func:`_prepare`), the panel reference, the
Benjamini–Hochberg correction, pairwise agreement and the occasion x item table.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inference import bh_adjusted
from ..schema import CODES
from ..scores import OFF_SCALE, CodedScores

ALPHA = 0.05
"""False-discovery rate for the Benjamini–Hochberg correction."""

MIN_SHIFT = 0.10
"""Practical-significance floor, in shares of the scale (0.10 = ten percentage points)."""

TREND_TESTS = ("auto", "permutation", "cr2", "cr1", "wild")
"""Trend tests of the drift flags: ``"auto"`` (the default: ``"permutation"`` for an item
seen in at most :data:`PERMUTATION_MAX_CASES` cases, ``"cr2"`` beyond), ``"permutation"``
(CR2 fit, p-value of a studentised Freedman–Lane permutation test with up to 9,999
permutations, drawn sequentially), ``"cr2"`` (CR2 standard errors with Bell–McCaffrey
degrees of freedom, the default until 0.4), ``"cr1"`` (statsmodels' CR1 with clusters − 1
df, the first default), ``"wild"`` (restricted wild cluster bootstrap, 9,999 resamples per
test)."""

PERMUTATION_RESAMPLES = 9999

PERMUTATION_MAX_CASES = 200
"""Beyond this many cases per item ``"auto"`` takes the CR2 p-value: the permutation test
is there for session-sized data (docs/coverage.md), where the t reference is rough."""

WILD_RESAMPLES = 9999

_REQUIRED = ("session", "case", "rater", "item", "kind", "value")


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
    value_codes: np.ndarray = field(default=None)  # categorical codes of the kept rows' values
    value_labels: np.ndarray = field(default=None)  # ... and their labels
    _cells: pd.DataFrame | None = field(default=None, repr=False)  # the occasion x item table, made once

    @property
    def values(self) -> np.ndarray:
        """The value codes of the kept rows (text), decoded when asked for."""
        return self.value_labels[self.value_codes]

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
    return remap[codes], pd.Index(np.asarray(labels, dtype=object)[used]).astype(str)


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

    occ_key = s_idx * len(cases) + case_codes
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
        vcode = cc_.codes("value")[c_keep]
        cval = vlabels[vcode]
        # item x value label -> position on the item's 0..1 scale (NaN: not on its scale)
        lut = np.full((len(items), len(vlabels) + 1), np.nan)
        for i in np.unique(ci):
            idx = {code: k / steps[i] for k, code in enumerate(item_scales[i])}
            lut[i, :-1] = [idx.get(v, np.nan) for v in vlabels]
        cx = lut[ci, vcode]
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
        item=item_codes.astype(np.int64, copy=False), rater=rater_codes.astype(np.int64, copy=False),
        case=case_codes.astype(np.int64, copy=False), session=s_idx.astype(np.int64, copy=False),
        occ=occ_codes.astype(np.int64, copy=False), x=x, ref=ref, items=items, kinds=kinds,
        steps=steps, raters=raters, cases=cases, sessions=sessions, session_dates=dates,
        occ_session=occ_session, occ_case=occ_case, has_consensus=bool(has_consensus), keep=keep,
        value_codes=cs.frame["value"].cat.codes.to_numpy()[keep],
        value_labels=np.asarray(cs.frame["value"].cat.categories, dtype=object),
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
    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = bh_adjusted(p[ok])
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


def _occasion_item_table(tb: _Table) -> pd.DataFrame:
    """One row per (occasion, item): panel mean, reference, mean difference, agreement.
    Made once per table (the report asks for the tests and the trajectories); callers
    read it and never change it."""
    if tb._cells is None:
        tb._cells = _make_occasion_item_table(tb)
    return tb._cells


def _make_occasion_item_table(tb: _Table) -> pd.DataFrame:
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
    # the case's overall standing: the panel's mean on the *other* items of the same kind for
    # the same case and session, and likewise their mean pairwise agreement
    kind_code = pd.factorize(pd.Series(tb.kinds))[0][out["item"].to_numpy()]
    gk = out["occ"].to_numpy() * (kind_code.max() + 1) + kind_code
    out["standing"] = _leave_one_out_mean(gk, out["mean"].to_numpy())
    out["standing_agreement"] = _leave_one_out_mean(gk, out["agreement"].to_numpy())
    if not tb.has_consensus:
        # no benchmark: an item's panel mean relative to the case's standing
        out["ref"] = out["standing"]
        out["diff"] = out["mean"] - out["ref"]
    return out


def _leave_one_out_mean(group: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, the mean of ``x`` over the other rows of its group (NaN values and rows
    alone in their group give NaN)."""
    has = np.isfinite(x)
    tot = np.bincount(group[has], weights=x[has], minlength=group.max() + 1)
    cnt = np.bincount(group[has], minlength=group.max() + 1).astype(float)
    others = cnt[group] - has
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(others > 0, (tot[group] - np.where(has, x, 0.0)) / np.maximum(others, 1), np.nan)




def _trends(test: str):
    """The trend fit of ``test`` (:data:`TREND_TESTS`): a function of the arguments of
    :func:`calibrate.inference.clustered_slopes` and ``alternative`` ("two-sided" or
    "less") that returns its keys and ``p``, the p-value of the slope."""
    from ..inference import p_less, p_two_sided
    from ..smallsample import cr1_trends, cr2_trends, permutation_trends, wild_trends

    if test in ("auto", "permutation"):
        cap = PERMUTATION_MAX_CASES if test == "auto" else None

        def fit(*a, alternative, **k):
            return permutation_trends(*a, alternative=alternative, n_perm=PERMUTATION_RESAMPLES,
                                      max_clusters=cap, seed=0, **k)
        return fit
    fits = {"cr1": cr1_trends, "cr2": cr2_trends,
            "wild": lambda *a, **k: wild_trends(*a, n_boot=WILD_RESAMPLES, seed=0, **k)}

    def fit(*a, alternative, **k):
        out = fits[test](*a, **k)
        out["p"] = (p_two_sided if alternative == "two-sided" else p_less)(out["t"], out["df"])
        return out
    return fit
