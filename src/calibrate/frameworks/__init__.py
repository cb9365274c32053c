"""Assessment frameworks: kijkkaders, the tabel complexe beroepsvaardigheden, the rubric
scale, expected phase profiles and the seeds' decision rules, read from versioned YAML.

>>> from calibrate.frameworks import load_framework
>>> fw = load_framework("han-wpl2-2025")
>>> [o.id for o in fw.outcomes]
['leerklimaat', 'afstemmen', 'leerstof', 'ict', 'ppi']
"""

from calibrate.frameworks.loader import DATA_DIR, SCHEMA_VERSION, builtin_frameworks, load_framework
from calibrate.frameworks.model import (
    ASSESSMENT_MODES,
    INDICATOR_CODES,
    ITEM_KINDS,
    NOT_APPLICABLE,
    VERDICT_CODES,
    CountBand,
    DecisionRule,
    DecisionSpec,
    Dimension,
    Framework,
    Indicator,
    Item,
    Level,
    Outcome,
    Phase,
    PhaseDimension,
    PhaseProfile,
    PhaseTable,
    ProfileCell,
    ProfileGap,
    RubricScale,
    SeedSource,
)

__all__ = [
    "ASSESSMENT_MODES",
    "DATA_DIR",
    "INDICATOR_CODES",
    "ITEM_KINDS",
    "NOT_APPLICABLE",
    "SCHEMA_VERSION",
    "VERDICT_CODES",
    "CountBand",
    "DecisionRule",
    "DecisionSpec",
    "Dimension",
    "Framework",
    "Indicator",
    "Item",
    "Level",
    "Outcome",
    "Phase",
    "PhaseDimension",
    "PhaseProfile",
    "PhaseTable",
    "ProfileCell",
    "ProfileGap",
    "RubricScale",
    "SeedSource",
    "builtin_frameworks",
    "load_framework",
]
