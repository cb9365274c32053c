"""The G-studies a kalibreersessie asks for: per leeruitkomst (its indicators) and for the
overall go / no-go decision.

Owns :func:`reliability_overview`, one row per scope with Eρ², Φ at the observed numbers and
how many assessors Φ ≥ 0.70 and ≥ 0.80 need (with bootstrap intervals), so the report and
the CLI stay thin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory.dstudy import d_study, phi_lambda, raters_needed
from calibrate.gtheory.observations import select_scores
from calibrate.gtheory.study import g_study


def _outcomes(scores: pd.DataFrame) -> list[str]:
    ind = scores.loc[scores["kind"] == "indicator", "item"].astype("string")
    return list(dict.fromkeys(ind.str.split(".", n=1, regex=False).str[0].dropna()))


def reliability_overview(
    scores: pd.DataFrame,
    *,
    targets: Sequence[float] = (0.70, 0.80),
    n_boot: int = 1000,
    seed=0,
    items_fixed: bool = True,
    max_raters: int = 50,
    method: str = "henderson1",
) -> pd.DataFrame:
    """Per leeruitkomst (``c x r x i`` on its indicators, gezien = 1) and for the decision
    (``c x r`` on go = 1): columns ``scope, kind, design, method, n_cases, n_raters, n_items,
    Erho2, Phi, Phi_lambda`` (decision: at the go / no-go cut-off 0.5) and per target
    ``raters_<t>, raters_<t>_low, raters_<t>_high`` (t as 70, 80) for Φ.

    ``items_fixed``: the kijkkader's indicators are the same every time, so by default they
    are a fixed facet (Brennan 2001, §4.5); pass False to generalise over indicators too.
    ``method`` defaults to Henderson's Method 1 (equal to ANOVA on complete data; fast enough
    to refit for every bootstrap resample of an incomplete table, which REML is not).
    """
    if "kind" not in scores.columns:
        raise InputError("reliability_overview needs the score table of CONTRACTS §1 (with a 'kind' column).")
    rows = []
    scopes = [(o, "indicator") for o in _outcomes(scores)]
    if (scores["kind"] == "decision").any():
        scopes.append(("besluit", "decision"))
    for scope, kind in scopes:
        if kind == "decision":
            sub = select_scores(scores, kind="decision")
            design, fixed, lam = "c x r", (), 0.5
        else:
            sub = select_scores(scores, kind="indicator", outcome=scope)
            design, fixed, lam = "c x r x i", (("i",) if items_fixed else ()), None
        g = g_study(sub, design, n_boot=n_boot, seed=seed, method=method)
        own = d_study(g, fixed=fixed).iloc[0]
        row = {"scope": scope, "kind": kind, "design": design, "method": g.method,
               "n_cases": g.details["facet_levels"]["c"], "n_raters": g.details["facet_levels"]["r"],
               "n_items": g.details["facet_levels"].get("i", 1), "Erho2": own["Erho2"], "Phi": own["Phi"],
               "Phi_lambda": np.nan if lam is None else phi_lambda(g, lam)}
        for t in targets:
            need = raters_needed(g, t, fixed=fixed, max_raters=max_raters)
            key = f"raters_{round(t * 100)}"
            row[key] = np.nan if need.n is None else need.n
            row[f"{key}_low"], row[f"{key}_high"] = need.ci if need.ci else (np.nan, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)
