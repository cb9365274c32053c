"""The G-studies a kalibreersessie asks for: per leeruitkomst (its verdict and its
indicators), per dimension (its indicators) and for the overall go / no-go decision.

Owns :func:`reliability_overview`: one row per scope with Eρ², Φ (each with its bootstrap
interval) at the observed numbers, Φ(λ) at the pass / fail cut-off of a verdict or the
decision, and how many assessors Φ ≥ 0.70 and ≥ 0.80 need (with bootstrap intervals), so
that the report section and the CLI stay thin. Each row is the overall machinery
(:func:`~calibrate.gtheory.study.g_study`, :func:`~calibrate.gtheory.dstudy.d_study`,
:func:`~calibrate.gtheory.dstudy.phi_lambda`, :func:`~calibrate.gtheory.dstudy.raters_needed`)
applied to the scope's judgements; nothing is estimated differently per scope.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory.dstudy import d_study, phi_lambda, raters_needed
from calibrate.gtheory.observations import select_scores
from calibrate.gtheory.study import g_study
from calibrate.schema import VERDICT_SUFFIX

#: What each kind of scope is: the judgements' kind, the design and the fixed facets
#: (the kijkkader's indicators are the same every time: fixed, Brennan 2001, §4.5).
SCOPE_KINDS = ("decision", "verdict", "indicator", "dimension")
DECISION_SCOPE = "besluit"
#: The cut-off of a 0/1 verdict or decision on the score scale (voldaan / go = 1).
CUT_OFF = 0.5
#: The least data a scope needs: cases, assessors, and indicators for the c × r × i scopes.
MIN_CASES, MIN_RATERS, MIN_ITEMS = 3, 2, 2


def _outcomes(scores: pd.DataFrame) -> list[str]:
    ind = scores.loc[scores["kind"] == "indicator", "item"].astype("string")
    return list(dict.fromkeys(ind.str.split(".", n=1, regex=False).str[0].dropna()))


def _dimensions(scores: pd.DataFrame) -> list[str]:
    ind = scores.loc[scores["kind"] == "indicator", "item"].astype("string")
    parts = ind.str.split(".", n=2, regex=False)
    return list(dict.fromkeys((parts.str[0] + "." + parts.str[1]).dropna()))


def _scopes(scores: pd.DataFrame, framework, by: Sequence[str]) -> list[tuple[str, str, str]]:
    """(scope id, kind of scope, name) in the framework's order (else the table's)."""
    out: list[tuple[str, str, str]] = []
    kinds = set(scores["kind"].astype("string").dropna().unique())
    items = set(scores["item"].astype("string").dropna().unique())
    if framework is not None:
        for o in framework.outcomes:
            if "verdict" in by and o.verdict_item_id in items:
                out.append((o.id, "verdict", o.name))
            if "indicator" in by and "indicator" in kinds:
                out.append((o.id, "indicator", o.name))
            if "dimension" in by:
                out.extend((d.id, "dimension", d.name) for d in o.dimensions)
    else:
        outcomes = _outcomes(scores)
        verdicts = sorted(i[: -len(VERDICT_SUFFIX) - 1] for i in items if i.endswith("." + VERDICT_SUFFIX))
        for o in dict.fromkeys([*outcomes, *verdicts]):
            if "verdict" in by and f"{o}.{VERDICT_SUFFIX}" in items:
                out.append((o, "verdict", o))
            if "indicator" in by and o in outcomes:
                out.append((o, "indicator", o))
        if "dimension" in by:
            out.extend((d, "dimension", d) for d in _dimensions(scores))
    if "decision" in by and "decision" in kinds:
        name = DECISION_SCOPE
        if framework is not None and framework.decision is not None:
            item = next((i for i in framework.items() if i.id == framework.decision.item_id), None)
            name = item.label if item is not None and item.label else name
        out.append((DECISION_SCOPE, "decision", name))
    return out


def _scope_scores(scores: pd.DataFrame, scope: str, kind: str, framework) -> pd.DataFrame:
    if kind == "decision":
        item = framework.decision.item_id if framework is not None and framework.decision is not None else None
        sub = scores[scores["kind"] == "decision"]
        return sub if item is None else sub[sub["item"] == item]
    if kind == "verdict":
        return scores[scores["item"] == f"{scope}.{VERDICT_SUFFIX}"]
    sub = scores[scores["kind"] == "indicator"]
    return sub[sub["item"].astype("string").str.startswith(scope + ".").fillna(False).to_numpy()]


def scope_numbers(g, *, fixed: Sequence[str] = (), cut_off: float | None = None,
                  targets: Sequence[float] = (0.70, 0.80), max_raters: int = 50) -> dict:
    """The numbers of one row of :func:`reliability_overview` from a G-study ``g``:
    ``method, n_cases, n_raters, n_items``, Eρ² and Φ at the G-study's own numbers with
    their intervals (when ``g`` has bootstrap replicates), Φ(λ) at ``cut_off`` and per
    target the assessors Φ needs with the interval (``raters_<t>``, ``_low``, ``_high``)."""
    own = d_study(g, fixed=fixed).iloc[0]
    row = {"method": g.method, "n_cases": int(g.details["facet_levels"]["c"]),
           "n_raters": int(g.details["facet_levels"]["r"]), "n_items": int(g.details["facet_levels"].get("i", 1))}
    for coef in ("Erho2", "Phi"):
        row[coef] = float(own[coef])
        row[f"{coef}_low"] = float(own.get(f"{coef}_low", np.nan))
        row[f"{coef}_high"] = float(own.get(f"{coef}_high", np.nan))
    row["Phi_lambda"] = np.nan if cut_off is None else phi_lambda(g, cut_off, fixed=fixed)
    for t in targets:
        need = raters_needed(g, t, fixed=fixed, max_raters=max_raters)
        key = f"raters_{round(t * 100)}"
        row[key] = np.nan if need.n is None else need.n
        row[f"{key}_low"], row[f"{key}_high"] = need.ci if need.ci else (np.nan, np.nan)
    return row


def reliability_overview(
    scores: pd.DataFrame,
    framework=None,
    *,
    by: Sequence[str] = ("indicator", "decision"),
    targets: Sequence[float] = (0.70, 0.80),
    n_boot: int = 1000,
    seed=0,
    items_fixed: bool = True,
    max_raters: int = 50,
    method: str = "henderson1",
) -> pd.DataFrame:
    """How dependable each part of the kijkkader is, and how many assessors it needs.

    One row per scope of the kinds in ``by``, in the framework's order (per leeruitkomst
    its verdict, its indicators, its dimensions; the decision last):

    * ``verdict`` — the leeruitkomst's verdict (voldaan = 1), cases × assessors;
    * ``indicator`` — the leeruitkomst's indicators (gezien = 1), cases × assessors ×
      indicators, the indicators fixed unless ``items_fixed=False``;
    * ``dimension`` — likewise for the indicators of one dimension (ask with ``by=``);
    * ``decision`` — the go / no-go decision (go = 1), cases × assessors.

    Columns: ``scope, kind, name`` (the framework's name), ``design, method, n_cases,
    n_raters, n_items, Erho2, Erho2_low, Erho2_high, Phi, Phi_low, Phi_high, Phi_lambda``
    (at the cut-off 0.5 between voldaan / niet voldaan or go / no go; NaN for indicator
    scopes, which have no cut-off of their own) and per target ``raters_<t>,
    raters_<t>_low, raters_<t>_high`` (t as 70, 80; ``inf`` where a resample does not reach
    the target with ``max_raters``; NaN for ``raters_<t>`` when the estimate does not),
    ``note`` (why a scope has no numbers: too few cases, assessors or indicators).
    Intervals are bootstrap percentile intervals over cases (``n_boot`` resamples; none
    with ``n_boot=0``); docs/coverage.md measures how well they cover at small n.

    ``method`` is used for every scope; the default, Henderson's Method 1, equals ANOVA on
    complete data, and its resamples of an incomplete table are solved all at once, which
    REML's are not. ``"auto"`` is :func:`~calibrate.gtheory.study.g_study`'s choice for the
    cases × assessors scopes (ANOVA when balanced, else REML) and Method 1 for the scopes
    with indicators.
    """
    if "kind" not in scores.columns:
        raise InputError("reliability_overview needs the score table of CONTRACTS §1 (with a 'kind' column).")
    unknown = [b for b in by if b not in SCOPE_KINDS]
    if unknown:
        raise InputError(f"Unknown scope kind(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(SCOPE_KINDS)}.")
    rows = []
    for scope, kind, name in _scopes(scores, framework, by):
        sub = _scope_scores(scores, scope, kind, framework)
        sub = sub[sub["value"].notna() & (sub["value"].astype("string") != "n.v.t.").to_numpy()]
        if not len(sub):
            continue
        crossed = kind in ("verdict", "decision")
        design = "c x r" if crossed else "c x r x i"
        fixed = () if crossed or not items_fixed else ("i",)
        row = {"scope": scope, "kind": kind, "name": name, "design": design, "method": None,
               "n_cases": int(sub["case"].nunique()), "n_raters": int(sub["rater"].nunique()),
               "n_items": int(sub["item"].nunique()), "note": None}
        short = [what for what, n, least in (("cases", row["n_cases"], MIN_CASES), ("assessors", row["n_raters"], MIN_RATERS),
                                             ("indicators", row["n_items"], 1 if crossed else MIN_ITEMS)) if n < least]
        if short:
            row["note"] = f"Too few {' and '.join(short)} for a G-study."
            rows.append(row)
            continue
        how = ("auto" if crossed else "henderson1") if method == "auto" else method
        g = g_study(select_scores(sub, kind=kind if kind != "dimension" else "indicator"), design,
                    n_boot=n_boot, seed=seed, method=how, ci=None, jackknife=False)
        row.update(scope_numbers(g, fixed=fixed, cut_off=CUT_OFF if crossed else None, targets=targets,
                                 max_raters=max_raters))
        rows.append(row)
    cols = ["scope", "kind", "name", "design", "method", "n_cases", "n_raters", "n_items", "Erho2", "Erho2_low",
            "Erho2_high", "Phi", "Phi_low", "Phi_high", "Phi_lambda"]
    for t in targets:
        key = f"raters_{round(t * 100)}"
        cols += [key, f"{key}_low", f"{key}_high"]
    return pd.DataFrame(rows, columns=[*cols, "note"])
