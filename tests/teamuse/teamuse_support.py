"""Helpers shared by the team-use tests and their subprocess (saver.py): the case every
simulated assessor scores, deterministic values per save, and the history checks."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

SESSION = "K-TEAM"
CASES = ("C01", "C02")
FRAMEWORK = "han-wpl2-2025"
ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def load_benchmark():
    """benchmarks/load.py as a module (the tests run its own verification)."""
    spec = importlib.util.spec_from_file_location("calibrate_benchmark_load", ROOT / "benchmarks" / "load.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@lru_cache(maxsize=1)
def items() -> tuple[tuple[str, str], ...]:
    from calibrate.frameworks import load_framework

    return tuple((i.id, i.kind) for i in load_framework(FRAMEWORK).items() if i.assessed)


def plan(rater: str, saves: int) -> list[dict[str, str]]:
    """Values of each save: every assessable item, every one changed from the save before."""
    return load_benchmark().plan(rater, saves, items())


def seed(store, raters, cases=CASES, session=SESSION) -> None:
    store.import_cases(pd.DataFrame({"case": list(cases), "title": [f"Les {c}" for c in cases], "text": ["Lesverslag."] * len(cases)}))
    store.create_session(session, "2026-11-23", framework=FRAMEWORK, cases=list(cases), raters=list(raters))


def batches(store, rater: str, session=SESSION) -> list[dict[str, str]]:
    """The saves of ``rater`` as stored: one {item: value} per saved_at, oldest first."""
    hist = store.scores(session, history=True)
    mine = hist[hist["rater"] == rater]
    out = []
    for _, grp in mine.groupby("saved_at", sort=True):
        out.append(dict(zip(grp["item"], grp["value"])))
    return out


def check_saves(store, rater: str, acked: list[int], values: list[dict[str, str]], *, in_flight: int | None = None) -> None:
    """Every acknowledged save is stored whole, in order; nothing else is stored except,
    possibly, the one save that was in flight when the process died (whole as well)."""
    stored = batches(store, rater)
    n = len(items())
    for k, b in enumerate(stored):
        assert len(b) == n, f"{rater}: save #{k} stored {len(b)} of {n} items (a half-written case)"
    expected = [values[s] for s in sorted(acked)]
    assert stored[: len(expected)] == expected, f"{rater}: acknowledged saves missing or out of order"
    extra = stored[len(expected):]
    allowed = [values[in_flight]] if in_flight is not None and in_flight < len(values) else []
    assert extra in ([], allowed), f"{rater}: {len(extra)} unexpected save(s) stored"
