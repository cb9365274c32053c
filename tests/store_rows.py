"""Small score tables for the store tests (bulk paths, snapshot): one row of the contract
and a design of cases × three assessors."""

from __future__ import annotations

import pandas as pd

ROW = {"session": "K1", "session_date": "2026-01-19", "case": "C01", "rater": "B01", "item": "besluit",
       "kind": "decision", "value": "go", "note": None, "scored_at": "2026-01-19T10:00:00+00:00"}


def table(rows) -> pd.DataFrame:
    """A score table of ``rows``, each the contract row :data:`ROW` with some columns changed."""
    return pd.DataFrame([{**ROW, **r} for r in rows], dtype="string")


def _rows(n_cases: int, session: str = "K1", date: str = "2026-01-19", **extra) -> list[dict]:
    """Rows of ``n_cases`` cases, each judged by B01, B02 and B03."""
    return [{"session": session, "session_date": date, "case": f"C{c:03d}", "rater": f"B0{r}", **extra}
            for c in range(n_cases) for r in range(1, 4)]
