"""Verdicts against the complex-skills phases and the seeds' decision rules.

Owns the check of each verdict (voldaan / niet voldaan) against the expected phase profile
of its assessment level, each decision (go / no go, colour, high-stake) against the
framework's rule, and the team's cut-off: lenient/severe rates, phase predictors of the
verdict, verdict-by-pattern tables and verdict-versus-phase agreement. Methods: docs/phases.md.

The seeds judge in two languages at once. Seed 001, §5.1 ("Afstemmen en creëren 1"):
"Beoordeling is op basis van voldaan of niet voldaan. Voor deze cursus is een tussenniveau
geformuleerd", and the tussenniveau sentences match cells of bijlage 1, the tabel complexe
beroepsvaardigheden (``framework.profiles["tussenniveau"]``). A verdict that contradicts the
assessor's own phase ratings is what a kalibreersessie has to discuss.

Every function takes the long score table (CONTRACTS §1; at least ``session``, ``case``,
``rater``, ``item``, ``value``) and returns a documented DataFrame or a frozen result.
Classification codes are English (``consistent``, ``lenient``, ``severe``,
``insufficient``); the Dutch words for reports live in :mod:`calibrate.wording`
(:data:`DISPLAY_LABELS`, :data:`PATTERN_LABELS` here are those).

Rooms: :mod:`.profiles` (expected profiles, phase scores, the panel's and the reference
phases), :mod:`.verdicts` (:func:`classify_verdicts`), :mod:`.decisions` (decision rules),
:mod:`.rates` (the cut-off per assessor), :mod:`.regression` (phase predictors),
:mod:`.agreement` (agreement on verdicts beside phases).

>>> from calibrate.frameworks import load_framework
>>> from calibrate.devtools.simulate import simulate
>>> fw = load_framework("han-wpl2-2025")
>>> table = classify_verdicts(simulate(fw).scores, fw)
>>> sorted(table["classification"].unique())
['consistent', 'lenient', 'severe']
"""

from __future__ import annotations

import importlib

from calibrate.wording import CLASSIFICATION_LABELS as DISPLAY_LABELS
from calibrate.wording import PATTERN_LABELS

from ._common import CLASSIFICATIONS, REFERENCES

# The rooms load on first use: the assessor's app needs only classify_verdicts, and
# .rates/.regression bring SciPy and statsmodels (seconds of import on a busy machine).
_ROOMS = {
    "agreement_summary": ".agreement",
    "decision_consistency": ".decisions",
    "level_verdict_consistency": ".decisions",
    "expected_phases": ".profiles",
    "panel_phases": ".profiles",
    "phase_scores": ".profiles",
    "rater_rates": ".rates",
    "verdict_by_pattern": ".rates",
    "verdict_by_phase": ".rates",
    "PhaseRegression": ".regression",
    "_firth": ".regression",  # its test
    "phase_predictors": ".regression",
    "classify_verdicts": ".verdicts",
}


def __getattr__(name: str):
    room = _ROOMS.get(name)
    if room is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(room, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_ROOMS))


__all__ = [
    "CLASSIFICATIONS",
    "DISPLAY_LABELS",
    "PATTERN_LABELS",
    "REFERENCES",
    "PhaseRegression",
    "agreement_summary",
    "classify_verdicts",
    "decision_consistency",
    "expected_phases",
    "level_verdict_consistency",
    "panel_phases",
    "phase_predictors",
    "phase_scores",
    "rater_rates",
    "verdict_by_pattern",
    "verdict_by_phase",
]
