"""Recovery study of calibrate.drift over many seeds of the package's simulator.

Run directly for the rates stated in the README and docs/drift.md::

    uv run --no-sync python tests/drift/recovery.py [n_seeds]
"""

from __future__ import annotations

import sys

from calibrate.drift import drifting_indicators, rater_effects
from calibrate.frameworks import load_framework
from calibrate.devtools.simulate import SimulationConfig, simulate

FW = load_framework("han-wpl2-2025")
ITEMS = [i.id for i in FW.items() if i.kind == "indicator" and i.assessed][:24]
# the simulator always derives the decision from the verdicts, so the verdict items come along
ITEMS_SIMULATED = ITEMS + [i.id for i in FW.items() if i.kind == "verdict"]
DRIFTING = {ITEMS[2]: 0.8, ITEMS[9]: -0.8}
NOISY = {ITEMS[15]: 1.0}
LENIENT = {"B02": 0.8}
DRIFTING_RATERS = {"B04": -0.3}
DESIGN = dict(n_sessions=6, n_raters=8, cases_per_session=12)


def one_seed(seed: int) -> dict:
    # items: planted item drift only (a drifting assessor would move every item a little)
    sim = simulate(FW, SimulationConfig(items=ITEMS_SIMULATED, drifting_items=DRIFTING, noisy_items=NOISY, seed=seed, **DESIGN))
    items = drifting_indicators(sim.scores, sim.consensus).set_index("item")
    # assessors: planted rater effects only
    sim = simulate(FW, SimulationConfig(items=ITEMS_SIMULATED, lenient_raters=LENIENT, drifting_raters=DRIFTING_RATERS,
                                        seed=seed + 50_000, **DESIGN))
    raters = rater_effects(sim.scores, sim.consensus, n_boot=499, seed=seed).set_index("rater")
    planted_items = set(DRIFTING) | set(NOISY)
    return {
        "level_found": [bool(items.loc[i, "flagged"] and items.loc[i, "drift"] == "level"
                             and items.loc[i, "direction"] == (1 if s > 0 else -1)) for i, s in DRIFTING.items()],
        "agreement_found": [bool(items.loc[i, "flagged"] and items.loc[i, "drift"] == "agreement") for i in NOISY],
        "null_items_flagged": [bool(items.loc[i, "flagged"]) for i in items.index if i not in planted_items],
        "lenient_found": [bool(raters.loc[r, "flagged"] and raters.loc[r, "leniency"] > 0) for r in LENIENT],
        "rater_drift_found": [bool(raters.loc[r, "drift_flagged"] and raters.loc[r, "leniency_change"] < 0) for r in DRIFTING_RATERS],
        "null_raters_flagged": [bool(raters.loc[r, "flagged"]) for r in raters.index if r not in LENIENT and r not in DRIFTING_RATERS],
        "null_raters_drift_flagged": [bool(raters.loc[r, "drift_flagged"]) for r in raters.index if r not in DRIFTING_RATERS],
    }


def study(n_seeds: int = 30, first_seed: int = 1000) -> dict[str, float]:
    pooled: dict[str, list[bool]] = {}
    for seed in range(first_seed, first_seed + n_seeds):
        for k, v in one_seed(seed).items():
            pooled.setdefault(k, []).extend(v)
    return {k: sum(v) / len(v) for k, v in pooled.items()}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    for k, v in study(n).items():
        print(f"{k:28s} {v:.3f}")
