"""Recovery study of calibrate.raters over seeds of the package's simulator.

The demo design (``calibrate.devtools.simulate.DEMO_CONFIG``: 4 sessions x 8 cases, 6 assessors, all
items of han-wpl2-2025) with its planted effects — B03 lenient (+1.2 logits), B04
verdict-lenient (+1.5 on verdicts only), B05 drifting severe — under other seeds. Per seed:

* Rasch: B03 has the lowest severity of the team and its 95% interval lies below 0;
* implicit cut-offs: B04 is classified ``lenient`` against the team;
* latent consensus: the share of (session, case, item) whose most likely category equals
  the simulator's planted truth, beside the share for the panel's majority vote.

Run directly for the rates in docs/raters.md::

    uv run --no-sync python tests/raters/recovery.py [n_seeds]
"""

from __future__ import annotations

import dataclasses
import sys

from calibrate.frameworks import load_framework
from calibrate.raters import implicit_cutoffs, latent_consensus, rasch_measures
from calibrate.devtools.simulate import DEMO_CONFIG, simulate

FW = load_framework("han-wpl2-2025")


def one_seed(seed: int, *, consensus: bool = True) -> dict:
    sim = simulate(FW, dataclasses.replace(DEMO_CONFIG, seed=seed))
    raters = rasch_measures(sim.scores, bias=False).raters.set_index("element")
    lenient = raters["measure"].idxmin() == "B03" and raters.loc["B03", "measure"] + 1.96 * raters.loc["B03", "se"] < 0
    cut = implicit_cutoffs(sim.scores, FW, n_boot=200, random_state=seed).set_index("rater")
    out = {"rasch_lenient_found": bool(lenient), "cutoff_verdict_lenient_found": bool(cut.loc["B04", "classification"] == "lenient")}
    if consensus:
        ml = latent_consensus(sim.scores, n_boot=0).most_likely.merge(
            sim.consensus[["session", "case", "item", "value"]], on=["session", "case", "item"], suffixes=("", "_truth"))
        for kind, g in ml.groupby("kind"):
            out[f"truth_{kind}_model"] = float((g["value"] == g["value_truth"]).mean())
            out[f"truth_{kind}_majority"] = float((g["majority"] == g["value_truth"]).mean())
    return out


def study(n_seeds: int = 10, first_seed: int = 2000, *, consensus: bool = True) -> dict[str, float]:
    pooled: dict[str, list[float]] = {}
    for seed in range(first_seed, first_seed + n_seeds):
        for k, v in one_seed(seed, consensus=consensus).items():
            pooled.setdefault(k, []).append(float(v))
    return {k: sum(v) / len(v) for k, v in pooled.items()}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for k, v in study(n).items():
        print(f"{k:40s} {v:.3f}")
