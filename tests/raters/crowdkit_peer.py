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


def task_table(scores: pd.DataFrame) -> pd.DataFrame:
    """crowd-kit's input from a score table: task = session|case|item, worker, label."""
    s = scores[~scores["value"].isin(["n.v.t.", ""])]
    return pd.DataFrame({"task": s["session"] + "|" + s["case"] + "|" + s["item"], "worker": s["rater"],
                         "label": s["value"]})


def run_crowdkit(jobs: dict, folder: Path, *, python: Path | None = None, timeout: int = 3600) -> dict:
    """Run crowd-kit once on every job: name -> (table, n_iter, tol, options dict)."""
    py = python or require_crowdkit()
    spec = []
    for name, (table, n_iter, tol, opts) in jobs.items():
        path = folder / f"{len(spec)}.csv"
        table[["task", "worker", "label"]].to_csv(path, index=False)
        spec.append({"name": name, "csv": str(path), "n_iter": int(n_iter), "tol": float(tol), **opts})
    manifest = folder / "jobs.json"
    manifest.write_text(json.dumps(spec))
    out = subprocess.run([str(py), str(RUNNER), str(manifest)], capture_output=True, text=True, check=True,
                         timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])
