"""Shared fixtures for the agreement tests: the published reference data sets."""

from __future__ import annotations

import pandas as pd
import pytest

from peers.refdata import REF  # noqa: E402


@pytest.fixture(scope="session")
def ref():
    """Load a reference CSV by file stem."""

    def _load(stem: str) -> pd.DataFrame:
        path = REF / f"{stem}.csv"
        if not path.exists():
            pytest.fail(f"reference data set {path} is missing (shared/reference-data beside the repo)")
        return pd.read_csv(path)

    return _load
