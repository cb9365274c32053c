"""Speed and memory of a G-study at research scale, beside statsmodels' MixedLM on a sample.

20 sessions x 100 cases x 30 assessors x 45 indicators = 2.7 million judgements, simulated
in memory with calibrate.devtools.simulate (2 % n.v.t., so the c x r x i design is unbalanced and
Henderson's Method 1 runs; ``--complete`` gives the balanced table and the ANOVA path).
Targets: < 30 s and < 2 GB for the G-study from the long table.

    uv run python benchmarks/gtheory.py [--complete] [--repeat 3] [--sample 8x4x6]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
import tracemalloc
import warnings

import numpy as np


def build(complete: bool):
    from calibrate.frameworks import load_framework
    from calibrate.devtools.simulate import SimulationConfig, simulate

    fw = load_framework("han-wpl2-2025")
    items = [i.id for i in fw.items() if i.kind == "indicator" and i.assessed][:45]
    cfg = SimulationConfig(items=items, n_sessions=20, n_raters=30, cases_per_session=100,
                           not_applicable_rate=0.0 if complete else 0.02, seed=2026)
    return simulate(fw, cfg).scores


def mixedlm_sample(scores, shape: tuple[int, int, int], seed: int = 0):
    """Ours (REML) and MixedLM (REML, one variance component per effect) on the same sample."""
    import pandas as pd
    import statsmodels.formula.api as smf

    from calibrate.gtheory import g_study

    rng = np.random.default_rng(seed)
    nc, nr, ni = shape
    cases = rng.choice(scores["case"].unique(), nc, replace=False)
    raters = rng.choice(scores["rater"].unique(), nr, replace=False)
    items = rng.choice(scores["item"].unique(), ni, replace=False)
    sub = scores[scores["case"].isin(cases) & scores["rater"].isin(raters) & scores["item"].isin(items)]
    t = time.perf_counter()
    ours = g_study(sub, "c x r x i", method="reml" if sub["value"].eq("n.v.t.").any() else "auto")
    t_ours = time.perf_counter() - t
    data = sub[sub["value"] != "n.v.t."].assign(y=lambda d: (d["value"] == "gezien").astype(float), g=1)
    vc = {"c": "0 + C(case)", "ci": "0 + C(case):C(item)", "cr": "0 + C(case):C(rater)",
          "i": "0 + C(item)", "r": "0 + C(rater)", "ri": "0 + C(rater):C(item)"}
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("y ~ 1", data, groups="g", re_formula="0", vc_formula=vc).fit(reml=True, method=["lbfgs"])
    t_sm = time.perf_counter() - t
    from calibrate.gtheory import observations
    from calibrate.gtheory.reml import reml

    obs = observations(sub, "c x r x i")
    ll = reml(obs, loglik_at=np.array([c.estimate for c in ours.components])).loglik
    ours = dataclasses.replace(ours, details={**ours.details, "loglik": ll})
    return len(data), t_ours, t_sm, ours, fit


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complete", action="store_true", help="no n.v.t.: the balanced ANOVA path")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", default="8x4x6", help="cases x raters x items of the MixedLM sample")
    args = ap.parse_args(argv)
    from calibrate.gtheory import g_study

    t = time.perf_counter()
    scores = build(args.complete)
    print(f"simulated {len(scores):,} judgements in {time.perf_counter() - t:.1f} s "
          f"({'complete' if args.complete else '2 % n.v.t.'})", flush=True)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from calibrate.gtheory import observations

    times, door = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        g = g_study(scores, "c x r x i")
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        observations(scores, "c x r x i")
        door.append(time.perf_counter() - t)
    tracemalloc.start()  # a separate run: tracing slows allocation down
    g_study(scores, "c x r x i")
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"G-study c x r x i, {g.method}, {g.n_obs:,} judgements: "
          f"{min(times):.1f} s (runs {', '.join(f'{x:.1f}' for x in times)}; target < 30 s), "
          f"of which the door (long table -> arrays) {min(door):.1f} s")
    print(f"  memory: {peak:,.0f} MB allocated at peak by the G-study (tracemalloc); "
          f"process peak RSS {rss:,.0f} MB with the table (RSS after building it {rss0:,.0f} MB; target < 2 GB)")
    print("  components: " + ", ".join(f"{c.label} {c.variance:.4f}" for c in g.components))
    shape = tuple(int(x) for x in args.sample.split("x"))
    n, t_ours, t_sm, ours, fit = mixedlm_sample(scores, shape)
    print(f"sample {args.sample} ({n} judgements), REML: ours {t_ours:.2f} s, statsmodels MixedLM {t_sm:.2f} s "
          f"(ratio {t_sm / t_ours:.0f}x); MixedLM on the full table is out of reach "
          f"(its one-group crossed model is dense in the judgements)")
    print(f"  REML log-likelihood at our estimates {ours.details['loglik']:.4f}, at MixedLM's {fit.llf:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
