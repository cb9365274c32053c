"""Benchmark: the rater models at research scale, crowd-kit's time beside ours.

Data: 20 sessions x 100 cases x 30 assessors x 45 items = 2.7 million judgements, the
design of benchmarks/report.py (30 indicators, 5 levels, 3 verdicts, 6 phases, the
decision; B03 lenient, B05 drifting), generated in memory by ``calibrate.devtools.simulate`` and
handed to each measurement as a pickled DataFrame (the long score table of CONTRACTS §1).

Each measurement runs in a fresh child process: wall time of the call (from the long
table, the coding of the strings included) and the child's peak resident memory
(``ru_maxrss``), with the resident memory after loading the table beside it. Targets:
under 60 s and under 2 GB for ``latent_consensus`` and for ``rasch_measures``.

crowd-kit (``DawidSkene``, its own venv ``.peers/crowdkit``, ``CALIBRATE_CROWDKIT_PYTHON``)
runs on the same judgements, one kind at a time (its model has one label set), with its
defaults (100 rounds at most, tol 1e-5); ours runs once with crowd-kit's settings (no
prior, one class prior per kind, nominal, crowd-kit's stopping rule), which must give the
same posteriors (the largest difference is printed), and once with our defaults (prior,
ordinal levels and phases, a class prior per item). crowd-kit's time excludes its CSV read.

Run::

    uv run --no-sync python benchmarks/raters.py [--skip-crowdkit]

The machine is shared by parallel jobs; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3
REPO = Path(__file__).resolve().parents[1]
KINDS = ("indicator", "level", "phase", "verdict", "decision")


def build_table(path: Path) -> dict:
    from calibrate.frameworks import load_framework
    from calibrate.devtools.simulate import SimulationConfig, simulate

    fw = load_framework("han-wpl2-2025")
    items = [i for i in fw.items() if i.assessed]
    by_kind = {k: [i.id for i in items if i.kind == k] for k in KINDS}
    chosen = by_kind["indicator"][:30] + by_kind["level"][:5] + by_kind["verdict"][:3] + by_kind["phase"][:6] + by_kind["decision"][:1]
    config = SimulationConfig(
        items=chosen, n_sessions=20, n_raters=30, cases_per_session=100,
        lenient_raters={"B03": 0.8}, drifting_raters={"B05": -0.08}, seed=7,
    )
    t0 = time.perf_counter()
    sim = simulate(fw, config)
    t_sim = time.perf_counter() - t0
    sim.scores.to_pickle(path)
    return {"judgements": len(sim.scores), "simulate_s": t_sim}


_CHILD = r"""
import json, resource, sys, time
import pandas as pd
what, path = sys.argv[1], sys.argv[2]
scores = pd.read_pickle(path)
from calibrate.raters import latent_consensus, rasch_measures
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()
base = rss()
t0 = time.perf_counter()
out = {}
if what == "consensus":
    res = latent_consensus(scores, n_boot=0)
    out = {"n_iter": res.n_iter, "converged": res.converged}
elif what == "consensus_crowdkit_settings":
    res = {}
    for kind in sys.argv[3].split(","):
        cats = sorted(set(scores.loc[scores["kind"] == kind, "value"]) - {"n.v.t."})
        t1 = time.perf_counter()
        r = latent_consensus(scores, kinds=[kind], prior=None, class_prior="kind", model="nominal", n_boot=0,
                             max_iter=100, tol=1e-5, stop="crowdkit", categories={kind: cats})
        post = r.posterior
        post = post.assign(task=post["session"] + "|" + post["case"] + "|" + post["item"])
        post[["task", "category", "p"]].to_pickle(path + f".{kind}.posterior.pkl")
        res[kind] = {"seconds": time.perf_counter() - t1, "n_iter": r.n_iter[kind]}
    out = {"per_kind": res}
elif what == "rasch":
    res = rasch_measures(scores)
    out = {"n_iter": res.n_iter, "converged": res.converged, "n_observations": res.n_observations,
           "lowest": res.raters.sort_values("measure")["element"].iloc[0]}
out["seconds"] = time.perf_counter() - t0
out["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out["table_bytes"] = base
print(json.dumps(out))
"""


def child(what: str, path: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, what, str(path), *extra], capture_output=True, text=True,
                         check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def crowdkit(path: Path, folder: Path) -> dict | None:
    py = Path(os.environ.get("CALIBRATE_CROWDKIT_PYTHON", REPO / ".peers/crowdkit/bin/python"))
    if not py.exists():
        print(f"crowd-kit peer venv not found at {py}: skipped (scripts/test.sh creates it)")
        return None
    import pandas as pd

    scores = pd.read_pickle(path)
    jobs = []
    for kind in KINDS:
        s = scores[(scores["kind"] == kind) & (scores["value"] != "n.v.t.")]
        table = pd.DataFrame({"task": s["session"] + "|" + s["case"] + "|" + s["item"], "worker": s["rater"], "label": s["value"]})
        csv = folder / f"ck-{kind}.csv"
        table.to_csv(csv, index=False)
        jobs.append({"name": kind, "csv": str(csv), "n_iter": 100, "tol": 1e-5, "probas": True})
    del scores
    manifest = folder / "jobs.json"
    manifest.write_text(json.dumps(jobs))
    runner = REPO / "tests" / "raters" / "crowdkit_runner.py"
    out = subprocess.run([str(py), str(runner), str(manifest)], capture_output=True, text=True, check=True, timeout=7200)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-crowdkit", action="store_true")
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "scores.pkl"
        info = build_table(path)
        print(f"table: {info['judgements']:,} judgements, simulated in {info['simulate_s']:.1f} s")
        rows = []
        for what in ("consensus", "rasch"):
            r = child(what, path)
            rows.append((what, r))
            ok = r["seconds"] < TARGET_SECONDS and r["peak_bytes"] < TARGET_BYTES
            print(f"{what:10s} {r['seconds']:7.1f} s  peak {r['peak_bytes'] / 2**20:7.0f} MB "
                  f"(table alone {r['table_bytes'] / 2**20:.0f} MB)  rounds {r['n_iter']}  converged {r['converged']}  "
                  f"{'meets' if ok else 'MISSES'} the targets (60 s, 2 GB)")
        if not a.skip_crowdkit:
            ck = crowdkit(path, folder)
            if ck is not None:
                ours = child("consensus_crowdkit_settings", path, ",".join(KINDS))["per_kind"]
                import pandas as pd

                print("\nDawid–Skene per kind, crowd-kit's settings (no prior, one class prior, its stopping rule):")
                print(f"{'kind':10s} {'tasks':>11s} {'crowd-kit':>10s} {'ours':>8s} {'ratio':>6s} {'rounds':>11s} {'max |dp|':>9s}")
                tot_ck = tot_us = 0.0
                for kind in KINDS:
                    c, o = ck[kind], ours[kind]
                    mine = pd.read_pickle(str(path) + f".{kind}.posterior.pkl")
                    theirs = pd.DataFrame(c["probas"], columns=["task", "category", "p_ck"])
                    m = mine.merge(theirs, on=["task", "category"])
                    diff = float((m["p"] - m["p_ck"]).abs().max())
                    n = len(theirs) // max(1, theirs["category"].nunique())
                    tot_ck += c["seconds"]
                    tot_us += o["seconds"]
                    print(f"{kind:10s} {n:>11,d} {c['seconds']:9.1f}s {o['seconds']:7.1f}s {o['seconds'] / c['seconds']:6.2f} "
                          f"{c['n_iter']:>5d}/{o['n_iter']:<5d} {diff:9.1e}")
                print(f"{'all':10s} {'':>11s} {tot_ck:9.1f}s {tot_us:7.1f}s {tot_us / tot_ck:6.2f}   (ratio = ours / crowd-kit)")
                print(f"(ours with defaults: {rows[0][1]['seconds']:.1f} s "
                      f"for all kinds, prior and ordinal model included)")
                rasch_s = rows[1][1]["seconds"]
                print(f"rasch_measures (no peer in crowd-kit; its Dawid–Skene on the same judgements for scale): "
                      f"{rasch_s:.1f} s beside crowd-kit's {tot_ck:.1f} s (ratio {rasch_s / tot_ck:.2f})")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
