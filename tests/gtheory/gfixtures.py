"""Reading the G-theory fixtures (tests/fixtures/gtheory/*.csv, sources in their headers)."""

from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gtheory"


def read_fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, comment="#")
