"""Null p-values and realised FDR of drift flags, before and after the small-sample
correction (CR2 + Bell–McCaffrey df, calibrate.smallsample.cr2_trends; the restricted wild
cluster bootstrap, wild_trends).

Two simulations of 6 sessions with new cases every session and 2 planted drifting
indicators among the rest:
* ``package``: calibrate.devtools.simulate, 12 cases x 8 assessors x 24 indicators, drift ±0.8 logit
  per session (the design of tests/drift/recovery.py without its noisy item);
* ``independent``: a generator written here, not by the simulator's author: a probit model
  with case ability, indicator difficulty, assessor leniency and an assessor x indicator
  reading, 10 cases x 6 assessors x 30 indicators, drift ±0.35 probit per session.
Each variant is ``drifting_indicators(..., trend_test=..., standing=...)``: ``cr1`` the
earlier test (CR1, no standing), ``cr2`` CR2 + Bell-McCaffrey df, ``cr2s`` CR2 with the
case's standing on the other items as a covariate, ``cr1s``, ``wilds``, and ``perm`` the
studentised Freedman–Lane permutation test (``trend_test="auto"``, the default now).
Also re-runs the recovery study of tests/drift/recovery.py per variant (``--recovery N``).
Run through ``benchmarks/coverage.py --drift`` or directly:

    uv run python benchmarks/drift_fdr.py [--reps 100] [--recovery 30] [--tests cr1 cr2 perm]
"""

from __future__ import annotations

import argparse
import functools
import datetime as dt
import time

import numpy as np
import pandas as pd
from scipy import stats

import calibrate.drift.items as drift_items


VARIANTS = {
    "perm": ("permutation, Freedman–Lane, studentised (default)", dict(trend_test="auto", standing=False)),
    "cr1": ("CR1, t(G-1) (before)", dict(trend_test="cr1", standing=False)),
    "cr2": ("CR2 + BM df", dict(trend_test="cr2", standing=False)),
    "cr2s": ("CR2 + BM df + case standing", dict(trend_test="cr2", standing=True)),
    "cr1s": ("CR1 + case standing", dict(trend_test="cr1", standing=True)),
    "wild": ("wild cluster bootstrap (B = 9999)", dict(trend_test="wild", standing=False)),
    "wilds": ("wild cluster bootstrap + case standing (B = 9999)", dict(trend_test="wild", standing=True)),
}


def package_sim(seed: int):
    from calibrate.frameworks import load_framework
    from calibrate.devtools.simulate import SimulationConfig, simulate

    fw = load_framework("han-wpl2-2025")
    items = [i.id for i in fw.items() if i.kind == "indicator" and i.assessed][:24]
    planted = {items[2]: 0.8, items[9]: -0.8}
    sim = simulate(fw, SimulationConfig(items=items + [i.id for i in fw.items() if i.kind == "verdict"],
                                        n_sessions=6, n_raters=8, cases_per_session=12,
                                        drifting_items=planted, seed=seed))
    scores = sim.scores[sim.scores["kind"] == "indicator"]
    cons = sim.consensus[sim.consensus["kind"] == "indicator"]
    return scores, cons, set(planted)


def independent_sim(seed: int, n_sessions=6, n_cases=10, n_raters=6, n_items=30, shift=0.35):
    rng = np.random.default_rng(seed)
    items = [f"uk.dim{k // 6}.{k % 6 + 1}" for k in range(n_items)]
    planted = {items[4]: shift, items[17]: -shift}
    b = rng.normal(0, 0.8, n_items)
    lam = rng.normal(0, 0.3, n_raters)
    ri = rng.normal(0, 0.3, (n_raters, n_items))
    rows, cons = [], []
    for s in range(n_sessions):
        date = (dt.date(2026, 1, 5) + dt.timedelta(days=42 * s)).isoformat()
        theta = rng.normal(0, 1, n_cases)
        for c in range(n_cases):
            case = f"S{s}C{c}"
            for k, it in enumerate(items):
                truth = theta[c] - b[k]
                cons.append((f"K{s}", date, case, it, "indicator", "gezien" if truth > 0 else "niet gezien"))
                eta = truth + lam + ri[:, k] + planted.get(it, 0.0) * s + rng.normal(0, 0.7, n_raters)
                for r in range(n_raters):
                    rows.append((f"K{s}", date, case, f"R{r}", it, "indicator", "gezien" if eta[r] > 0 else "niet gezien"))
    scores = pd.DataFrame(rows, columns=["session", "session_date", "case", "rater", "item", "kind", "value"])
    consensus = pd.DataFrame(cons, columns=["session", "session_date", "case", "item", "kind", "value"])
    return scores, consensus, set(planted)


def replicate(sim, seed: int, key: str) -> dict:
    scores, cons, planted = sim(seed)
    res = drift_items.drifting_indicators(scores, cons, **VARIANTS[key][1])
    null = ~res["item"].isin(planted)
    flagged = res["flagged"].to_numpy()
    V = int((flagged & null).sum())
    R = int(flagged.sum())
    return {"V": V, "S": R - V, "fdp": V / max(R, 1), "p_level": res.loc[null, "p_level"].to_numpy(),
            "p_agreement": res.loc[null, "p_agreement"].to_numpy(),
            "planted_found": int((res["flagged"] & res["drift"].eq("level") & ~null).sum())}


def summarise(name: str, reps: list[dict], n_planted: int) -> dict:
    pl = np.concatenate([r["p_level"] for r in reps])
    pa = np.concatenate([r["p_agreement"] for r in reps])
    pl, pa = pl[np.isfinite(pl)], pa[np.isfinite(pa)]
    return {
        "simulation": name,
        "null flags / replicate": np.mean([r["V"] for r in reps]),
        "planted found / replicate": np.mean([r["planted_found"] for r in reps]),
        "of planted": n_planted,
        "realised FDR": np.mean([r["fdp"] for r in reps]),
        "FDR s.e.": np.std([r["fdp"] for r in reps], ddof=1) / np.sqrt(len(reps)),
        "null p_level < .05": np.mean(pl < 0.05),
        "null p_level < .01": np.mean(pl < 0.01),
        "KS p (level uniform)": stats.kstest(pl, "uniform").pvalue,
        "null p_agreement < .05": np.mean(pa < 0.05),
        "null p_agreement < .01": np.mean(pa < 0.01),
        # the tests of one replicate share its cases: the standard error is over replicates
        "s.e. (p_agreement < .05)": np.std([np.mean(r["p_agreement"][np.isfinite(r["p_agreement"])] < 0.05) for r in reps], ddof=1) / np.sqrt(len(reps)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--recovery", type=int, default=0, help="seeds of tests/drift/recovery.py to re-run")
    ap.add_argument("--tests", nargs="+", default=["cr1", "cr2", "perm"], choices=list(VARIANTS))
    ap.add_argument("--sims", nargs="+", default=["package", "independent"], choices=["package", "independent"])
    args = ap.parse_args(argv)
    rows = []
    sims = {"package": package_sim, "independent": independent_sim}
    for name in args.sims:
        sim, n_planted = sims[name], 2
        for on in args.tests:
            t = time.perf_counter()
            reps = [replicate(sim, 7000 + k, on) for k in range(args.reps)]
            row = summarise(name, reps, n_planted)
            row["trend test"] = VARIANTS[on][0]
            row["seconds"] = time.perf_counter() - t
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    table = pd.DataFrame(rows).set_index(["simulation", "trend test"])
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.round(3).to_string())
    if args.recovery:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "drift"))
        import recovery

        for on in args.tests:
            recovery.drifting_indicators = functools.partial(drift_items.drifting_indicators, **VARIANTS[on][1])
            rates = recovery.study(args.recovery)
            print(f"recovery ({args.recovery} seeds), {VARIANTS[on][0]}: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
