"""Drifting indicators and rater effects over kalibreersessies (CONTRACTS §3).

Owns the per-item drift tests (level drift, agreement drift), the per-assessor effects
(leniency, its change over sessions, central tendency, halo, accuracy on benchmark cases)
and the before/after comparison of a re-score round. Works on the long score table only;
knows nothing of the store, plotting or wording. Methods: ``docs/drift.md``. Rooms:
:mod:`._table` (the coded arrays and shared statistics), :mod:`.items`, :mod:`.raters`,
:mod:`.rescore`.

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
  then fit the trend with cluster-robust standard errors over cases, small-sample corrected
  (CR2 with Bell–McCaffrey degrees of freedom, :mod:`calibrate.smallsample`). Ten assessors judging one case add
  precision to that case's mean, never ten independent observations.
* Many items (assessors) are tested at once: p-values are corrected with
  Benjamini–Hochberg across the family (``q_value``), and a flag also needs a *practical*
  effect of at least ``min_shift`` of the scale, so trivial shifts at large n stay unflagged.
"""

from __future__ import annotations
from __future__ import annotations

from ._table import ALPHA, MIN_SHIFT
from .items import case_disagreement, drifting_indicators, item_trajectories
from .raters import rater_effects, rater_trajectories
from .rescore import RescoreResult, discussion_effects, rescore_effect, session_order

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
    "session_order",
]

