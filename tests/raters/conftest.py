"""Shared fixtures of the rater-model tests: the demo simulation and reference data sets."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    """shared/reference-data beside the repo (or CALIBRATE_REFERENCE_DATA)."""
    env = os.environ.get("CALIBRATE_REFERENCE_DATA")
    for c in ([Path(env)] if env else []) + [REPO.parent / "shared" / "reference-data", REPO / "shared" / "reference-data"]:
        if c.is_dir():
            return c
    return REPO.parent / "shared" / "reference-data"


@pytest.fixture(scope="session")
def framework():
    from calibrate.frameworks import load_framework

    return load_framework("han-wpl2-2025")


@pytest.fixture(scope="session")
def demo(framework):
    from calibrate.devtools.simulate import simulate

    return simulate(framework)


@pytest.fixture(scope="session")
def reference_scores():
    """A published long table (unit, rater, value) as a score table of one item."""

    def load(stem: str) -> pd.DataFrame:
        path = reference_dir() / f"{stem}.csv"
        if not path.exists():
            pytest.fail(f"reference data set {path} is missing (shared/reference-data beside the repo)")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.DataFrame({
            "session": "S", "case": df["unit"], "rater": df["rater"], "item": stem, "kind": "ref",
            "value": df["value"],
        })

    return load
