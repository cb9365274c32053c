"""Where the published reference data sets live: shared/reference-data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def reference_dir() -> Path:
    env = os.environ.get("CALIBRATE_REFERENCE_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "reference-data", REPO / "shared" / "reference-data"]
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


REF = reference_dir()
