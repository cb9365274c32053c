"""Run the Python irrCAC port (0.4.4) on a long CSV and print JSON.

Runs in its own virtual environment (irrcac pins scipy 1.12 / pandas < 3), created with::

    uv venv .peers/irrcac --python 3.11
    VIRTUAL_ENV=.peers/irrcac uv pip install irrcac==0.4.4

Usage: python irrcac_runner.py FILE.csv METHOD [WEIGHTS] [--categories a,b,c] [--time]
METHOD is one of gwet, fleiss, krippendorff, conger, bp. Prints the ``est`` dict (and the
wall time of the call, excluding the CSV read and pivot, with --time).
"""

import argparse
import json
import time
import tracemalloc

import numpy as np
import pandas as pd
from irrCAC.raw import CAC


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("method")
    ap.add_argument("weights", nargs="?", default="identity")
    ap.add_argument("--categories", default=None)
    ap.add_argument("--time", action="store_true")
    a = ap.parse_args()
    df = pd.read_csv(a.csv)
    wide = df.pivot(index="unit", columns="rater", values="value")
    cats = None
    if a.categories:
        cats = [type(wide.stack().iloc[0])(c) if not isinstance(wide.stack().iloc[0], str) else c
                for c in a.categories.split(",")]
    if a.time:
        tracemalloc.start()
    t0 = time.perf_counter()
    cac = CAC(wide, weights=a.weights, categories=cats, digits=10)
    est = getattr(cac, a.method)()["est"]
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if a.time else 0
    out = {k: (float(np.ravel(v)[0]) if k not in ("coefficient_name", "confidence_interval") else v)
           for k, v in est.items()}
    out["confidence_interval"] = [float(np.ravel(x)[0]) for x in est["confidence_interval"]]
    if a.time:
        out["seconds"] = elapsed
        out["peak_bytes"] = peak
    print(json.dumps(out))


if __name__ == "__main__":
    main()
