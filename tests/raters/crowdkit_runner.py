"""Run crowd-kit's DawidSkene on long CSVs (task, worker, label) and print JSON.

Runs in its own virtual environment: crowd-kit 1.4.2 needs pyarrow and transformers, and
pyarrow in our environment would change how pandas stores strings for the whole test suite.
Created by scripts/test.sh with::

    uv venv .peers/crowdkit --python 3.11
    VIRTUAL_ENV=.peers/crowdkit uv pip install crowd-kit==1.4.2

Usage: python crowdkit_runner.py JOBS.json
JOBS.json is a list of {"name", "csv", "n_iter", "tol", "errors": bool, "probas": bool}; one
process runs them all (importing crowd-kit takes seconds). Prints one JSON object: name ->
{"probas": [[task, label, p], ...], "priors", "errors", "n_iter", "seconds", "peak_bytes"}.
Only the fit is timed (not the CSV read); peak memory by tracemalloc.
"""

import json
import sys
import time
import tracemalloc

import pandas as pd
from crowdkit.aggregation import DawidSkene


def run(job: dict) -> dict:
    df = pd.read_csv(job["csv"], dtype=str, keep_default_na=False)[["task", "worker", "label"]]
    tracemalloc.start()
    t0 = time.perf_counter()
    ds = DawidSkene(n_iter=int(job["n_iter"]), tol=float(job["tol"])).fit(df)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out = {"n_iter": len(ds.loss_history_), "seconds": elapsed, "peak_bytes": peak}
    if job.get("probas", True):
        out["probas"] = [[str(t), str(lab), float(p)] for (t, lab), p in ds.probas_.stack().items()]
        out["priors"] = {str(k): float(v) for k, v in ds.priors_.items()}
    if job.get("errors"):
        out["errors"] = [[str(w), str(obs), str(true), float(p)]
                         for (w, obs), row in ds.errors_.iterrows() for true, p in row.items()]
    return out


def main() -> None:
    with open(sys.argv[1]) as fh:
        jobs = json.load(fh)
    print(json.dumps({job["name"]: run(job) for job in jobs}))


if __name__ == "__main__":
    main()
