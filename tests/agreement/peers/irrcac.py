"""Locate and call the irrCAC peer venv (see irrcac_runner.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
RUNNER = Path(__file__).with_name("irrcac_runner.py")


def irrcac_python() -> Path:
    return Path(os.environ.get("CALIBRATE_IRRCAC_PYTHON", REPO / ".peers/irrcac/bin/python"))


def require_irrcac() -> Path:
    """The peer interpreter; in CI a missing venv is a failure, locally a skip."""
    py = irrcac_python()
    if not py.exists():
        msg = (
            f"irrCAC peer venv not found at {py}. Create it with: uv venv .peers/irrcac "
            "--python 3.11 && VIRTUAL_ENV=.peers/irrcac uv pip install irrcac==0.4.4 "
            "(or set CALIBRATE_IRRCAC_PYTHON)."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return py


def run_irrcac(csv: Path, method: str, weights: str = "identity", categories=None, timed: bool = False) -> dict:
    py = require_irrcac()
    cmd = [str(py), str(RUNNER), str(csv), method, weights]
    if categories is not None:
        cmd += ["--categories", ",".join(map(str, categories))]
    if timed:
        cmd.append("--time")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])
