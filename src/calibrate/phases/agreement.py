"""Agreement on verdicts beside agreement on phases.

Owns :func:`agreement_summary` (via :mod:`calibrate.agreement`): a high phase agreement
beside a low verdict agreement means the team puts "voldaan" in different places.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from calibrate.errors import CalibrateError
from calibrate.frameworks.model import PHASE_PREFIX, VERDICT_CODES, Framework

from ._common import _check_values, _framework, _table, _verdict_rows
from .verdicts import classify_verdicts

def agreement_summary(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    profiles: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Agreement on verdicts beside agreement on phases (via :mod:`calibrate.agreement`).

    Units are (session, case). Rows, each with Gwet's AC1/AC2 and Krippendorff's alpha:

    * ``verdict`` — each ``<outcome>.oordeel`` and all verdicts pooled (units
      session × case × outcome); nominal (AC1, alpha nominal);
    * ``decision`` — the framework's decision item (``besluit``); nominal;
    * ``phase`` — each ``fase.<dimension>`` and all phases pooled; ordinal (AC2 with
      ordinal weights, alpha ordinal) over begin < groei < vergevorderd;
    * ``profile`` — whether the assessor's own phases meet the expected profile (per
      outcome profile; for tussenniveau one judgement per case): do assessors agree on
      where the bar lies, before the verdict?

    A high phase agreement beside a low verdict agreement means the team sees the same
    student but puts "voldaan" in different places: the cut-off, not the observation, is
    what to calibrate.

    Returns
    -------
    DataFrame
        Columns ``what``, ``item``, ``coefficient``, ``value``, ``se``, ``ci_low``,
        ``ci_high``, ``n_units``, ``n_raters``, ``note`` (why a value is missing).
    """
    from calibrate import agreement

    fw = _framework(framework)
    df = _table(scores, "agreement_summary")
    df = df.assign(unit=df["session"] + " / " + df["case"])
    rows = []

    def add(what, item, long, categories, ordinal):
        for name in ("gwet_ac", "krippendorff_alpha"):
            try:
                if name == "gwet_ac":
                    res = agreement.gwet_ac(long, weights="ordinal" if ordinal else None, categories=categories)
                else:
                    res = agreement.krippendorff_alpha(long, level="ordinal" if ordinal else "nominal", categories=categories)
                ci = res.ci or (math.nan, math.nan)
                rows.append((what, item, name, float(res.value), res.se if res.se is not None else math.nan,
                             ci[0], ci[1], res.n_units, res.n_raters, pd.NA))
            except CalibrateError as exc:
                rows.append((what, item, name, math.nan, math.nan, math.nan, math.nan,
                             long["unit"].nunique(), long["rater"].nunique(), str(exc)))

    ver = _verdict_rows(df)
    _check_values(ver, VERDICT_CODES, "verdict", "agreement_summary")
    for item in sorted(ver["item"].unique()):
        add("verdict", item, ver[ver["item"] == item], list(VERDICT_CODES), False)
    if len(ver):
        add("verdict", "(alle)", ver.assign(unit=ver["unit"] + " / " + ver["item"]), list(VERDICT_CODES), False)
    if fw.decision is not None:
        dec = df[df["item"] == fw.decision.item_id]
        if len(dec):
            add("decision", fw.decision.item_id, dec, list(fw.item(fw.decision.item_id).codes), False)
    codes = list(fw.phase_table.codes)
    ph = df[df["item"].str.startswith(f"{PHASE_PREFIX}.")]
    ph = ph[ph["item"].isin({d.item_id for d in fw.phase_table.dimensions})]
    for dim in fw.phase_table.dimensions:
        sub = ph[ph["item"] == dim.item_id]
        if len(sub):
            add("phase", dim.item_id, sub, codes, True)
    if len(ph):
        add("phase", "(alle)", ph.assign(unit=ph["unit"] + " / " + ph["item"]), codes, True)
    cl = classify_verdicts(scores, fw, profiles=profiles)
    if len(cl):
        meets = cl[cl["meets_profile"].notna()].drop_duplicates(["session", "case", "rater", "profile"])
        long = pd.DataFrame({
            "unit": meets["session"] + " / " + meets["case"] + " / " + meets["profile"],
            "rater": meets["rater"],
            "value": np.where(meets["meets_profile"].astype(bool), "meets", "falls_short"),
        })
        for prof_name in sorted(meets["profile"].unique()):
            add("profile", prof_name, long[meets["profile"].to_numpy() == prof_name], ["falls_short", "meets"], False)
    cols = ["what", "item", "coefficient", "value", "se", "ci_low", "ci_high", "n_units", "n_raters", "note"]
    return pd.DataFrame(rows, columns=cols)
