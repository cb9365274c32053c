"""Generalizability theory: how dependable is a verdict, and how many assessors are enough?

G-studies (:func:`g_study`) estimate the variance components of a design; D-studies
(:func:`d_study`, :func:`phi_lambda`, :func:`raters_needed`) project the relative (Eρ²)
and absolute (Φ) coefficients for other numbers of assessors and items. Methods notes in
``docs/gtheory.md``; Dutch wording for the report in :mod:`calibrate.gtheory.wording`; the report section
"Hoeveel beoordelaars zijn genoeg?" is :func:`report_section`.
"""

from calibrate.gtheory.design import Design, Effect, parse_design
from calibrate.gtheory.observations import KIND_SCORES, Observations, observations, select_scores
from calibrate.gtheory.result import Component, GStudy
from calibrate.gtheory.section import report_section
from calibrate.gtheory.study import g_study

__all__ = [
    "KIND_SCORES",
    "Component",
    "Design",
    "Effect",
    "GStudy",
    "Observations",
    "g_study",
    "observations",
    "parse_design",
    "report_section",
    "select_scores",
]
