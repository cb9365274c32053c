"""Run crowd-kit's DawidSkene on a long CSV (task, worker, label) and print JSON.

Runs in its own virtual environment: crowd-kit 1.4.2 needs pyarrow and transformers, and
pyarrow in our environment would change how pandas stores strings for the whole test suite.
Created by scripts/test.sh with::

    uv venv .peers/crowdkit --python 3.11
    VIRTUAL_ENV=.peers/crowdkit uv pip install crowd-kit==1.4.2

Usage: python crowdkit_runner.py FILE.csv N_ITER TOL [--time] [--errors]
Prints {"probas": [[task, label, p], ...], "priors": {...}, "n_iter": ..., "seconds": ...}.
With --time only the fit is timed (the CSV read is not).
"""

import argparse
import json
import time
import tracemalloc

import pandas as pd
from crowdkit.aggregation import DawidSkene


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("n_iter", type=int)
    ap.add_argument("tol", type=float)
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--no-probas", action="store_true")
    a = ap.parse_args()
    df = pd.read_csv(a.csv, dtype=str, keep_default_na=False)
    if a.time:
        tracemalloc.start()
    t0 = time.perf_counter()
    ds = DawidSkene(n_iter=a.n_iter, tol=a.tol).fit(df[["task", "worker", "label"]])
    elapsed = time.perf_counter() - t0
    out = {"n_iter": len(ds.loss_history_), "seconds": elapsed}
    if a.time:
        out["peak_bytes"] = tracemalloc.get_traced_memory()[1]
    if not a.no_probas:
        probas = ds.probas_.stack()
        out["probas"] = [[str(t), str(lab), float(p)] for (t, lab), p in probas.items()]
        out["priors"] = {str(k): float(v) for k, v in ds.priors_.items()}
    if a.errors:
        out["errors"] = [[str(w), str(obs), str(true), float(p)] for (w, obs), row in ds.errors_.iterrows() for true, p in row.items()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
