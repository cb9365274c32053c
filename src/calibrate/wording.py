"""Dutch words for readers: interpretation bands, labels of codes, notes.

The analyses return numbers and English codes; reports and notebooks put them into
words here (docs/design.md: wording lives outside the analysis). Nothing in
:mod:`calibrate.agreement`, :mod:`calibrate.drift` or :mod:`calibrate.phases` builds a
Dutch sentence.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

#: Landis & Koch (1977) bands, upper bound and Dutch label.
LANDIS_KOCH = (
    (0.0, "slecht"),
    (0.20, "gering"),
    (0.40, "redelijk"),
    (0.60, "matig"),
    (0.80, "substantieel"),
    (1.0, "(bijna) perfect"),
)

#: Dutch labels of the verdict classifications of :mod:`calibrate.phases`.
CLASSIFICATION_LABELS = {
    "consistent": "consistent",
    "lenient": "mild",
    "severe": "streng",
    "insufficient": "onvoldoende gegevens",
}

#: Dutch labels of the phase patterns of :func:`calibrate.phases.verdict_by_pattern`.
PATTERN_LABELS = {
    "meets": "voldoet aan profiel",
    "short_1": "1 dimensie te laag",
    "short_2": "2 dimensies te laag",
    "short_3plus": "3 of meer dimensies te laag",
    "insufficient": "onvoldoende gegevens",
}

#: Dutch names of the kinds of judgement (CONTRACTS §1).
KIND_LABELS = {"indicator": "indicator", "level": "niveau", "phase": "fase", "verdict": "oordeel", "decision": "besluit"}


def landis_koch_band(value: float) -> str:
    """Dutch Landis & Koch (1977) band: < 0 slecht, ≤ .20 gering, ≤ .40 redelijk,
    ≤ .60 matig, ≤ .80 substantieel, above (bijna) perfect.

    >>> landis_koch_band(0.65)
    'substantieel'
    """
    if value is None or not np.isfinite(value):
        return "niet te bepalen"
    if value < 0:
        return "slecht"
    for upper, label in LANDIS_KOCH[1:]:
        if value <= upper:
            return label
    return "(bijna) perfect"


def krippendorff_band(value: float) -> str:
    """Dutch reading of Krippendorff's (2004) thresholds .800 and .667.

    >>> krippendorff_band(0.7)
    'voorlopig: alleen voorzichtige conclusies'
    """
    if value is None or not np.isfinite(value):
        return "niet te bepalen"
    if value >= 0.800:
        return "betrouwbaar"
    if value >= 0.667:
        return "voorlopig: alleen voorzichtige conclusies"
    return "onvoldoende betrouwbaar"


def paradox_note(pa: float | None, alpha: float, ac: float) -> str:
    """The prevalence paradox in words: high raw agreement beside a low alpha."""
    if pa is None or not np.isfinite(pa) or pa < 0.8:
        return ""
    if np.isfinite(alpha) and alpha >= 0.6:
        return ""
    a = "niet te bepalen" if not np.isfinite(alpha) else f"{alpha:.2f}"
    ac_s = "niet te bepalen" if not np.isfinite(ac) else f"{ac:.2f}"
    return (
        f"Hoge ruwe overeenstemming ({pa:.0%}) maar lage alpha ({a}): bijna iedereen koos "
        "dezelfde score, waardoor de kansovereenstemming hoog is (prevalentieparadox). "
        f"AC1 ({ac_s}) en de verdeling van de scores geven hier een eerlijker beeld."
    )


def interpretation(value: float) -> Mapping[str, str]:
    """Both Dutch bands for one coefficient value."""
    return {"landis_koch": landis_koch_band(value), "krippendorff": krippendorff_band(value)}


def with_readings(rollup: pd.DataFrame) -> pd.DataFrame:
    """A :func:`calibrate.agreement.kijkkader_rollup` table with its Dutch reading added:
    ``band_landis_koch``, ``band_krippendorff`` (of alpha) and ``note`` (the prevalence
    paradox, where it applies)."""
    out = rollup.copy()
    out["band_landis_koch"] = [landis_koch_band(v) for v in out["alpha"]]
    out["band_krippendorff"] = [krippendorff_band(v) for v in out["alpha"]]
    out["note"] = [paradox_note(pa, al, ac) for pa, al, ac in zip(out["percent_agreement"], out["alpha"], out["ac"], strict=True)]
    return out
