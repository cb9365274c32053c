"""Fixtures of the engine tests (the helpers are in engine_cases.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from engine_cases import REF, categories_of, simulated_archive


@pytest.fixture(scope="session")
def refsets() -> dict[str, pd.DataFrame]:
    """Every published data set in shared/reference-data (long: unit, rater, value)."""
    files = sorted(REF.glob("*.csv"))
    if len(files) < 11:
        pytest.fail(f"the reference data sets are missing from {REF} (shared/reference-data beside the repo)")
    return {f.stem: pd.read_csv(f) for f in files}


@pytest.fixture(scope="session")
def refunion(refsets):
    """All reference sets in one table, one group per data set, each with its own scale:
    columns dataset, unit, rater, value (text), and the scales as a mapping."""
    parts, scales = [], {}
    for name, df in refsets.items():
        cats = categories_of(df)
        scales[name] = [str(c) for c in cats]
        parts.append(pd.DataFrame({"dataset": name, "unit": df["unit"].astype(str), "rater": df["rater"].astype(str),
                                   "value": df["value"].map(lambda v: None if pd.isna(v) else str(v))}))
    return pd.concat(parts, ignore_index=True), scales



@pytest.fixture(scope="session")
def archive() -> pd.DataFrame:
    return simulated_archive()

