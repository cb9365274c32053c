"""Before and after the discussion: a session against its re-score round.

Owns :class:`RescoreResult`, :func:`rescore_effect` and :func:`discussion_effects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inference import cluster_bootstrap_mean
from ..options import Integer, Interval, validate_options
from ..scores import CodedScores
from ._table import _REQUIRED, _check_columns, _occasion_item_table, _prepare, _scales_from


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



def session_order(scores: pd.DataFrame) -> list[str]:
    """Session ids in time order (by ``session_date``, then id)."""
    sd = scores[["session", "session_date"]].drop_duplicates("session")
    sd = sd.assign(_d=pd.to_datetime(sd["session_date"], errors="coerce")).sort_values(["_d", "session"], kind="stable")
    return list(sd["session"].astype(str))

