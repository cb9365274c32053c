"""Locate and call the crowd-kit peer venv (see crowdkit_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("crowdkit_runner.py")


def crowdkit_python() -> Path:
    return Path(os.environ.get("CALIBRATE_CROWDKIT_PYTHON", REPO / ".peers/crowdkit/bin/python"))


def require_crowdkit() -> Path:
    """The peer interpreter; in CI a missing venv is a failure, locally a skip."""
    py = crowdkit_python()
    if not py.exists():
        msg = (
            f"crowd-kit peer venv not found at {py}. Create it with: uv venv .peers/crowdkit "
            "--python 3.11 && VIRTUAL_ENV=.peers/crowdkit uv pip install crowd-kit==1.4.2 "
            "(or set CALIBRATE_CROWDKIT_PYTHON)."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return py


def run_crowdkit(table: pd.DataFrame, path: Path, n_iter: int, tol: float, *, timed: bool = False,
                 errors: bool = False, probas: bool = True, python: Path | None = None) -> dict:
    """Write ``table`` (task, worker, label) to ``path`` and run crowd-kit on it."""
    py = python or require_crowdkit()
    table[["task", "worker", "label"]].to_csv(path, index=False)
    cmd = [str(py), str(RUNNER), str(path), str(n_iter), repr(float(tol))]
    if timed:
        cmd.append("--time")
    if errors:
        cmd.append("--errors")
    if not probas:
        cmd.append("--no-probas")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])
