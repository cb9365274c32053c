"""Coverage of the 95 % intervals calibrate prints, at the size of a kalibreersessie.

Sessions of 4, 6, 8, 12 cases x 3, 5, 8 assessors drawn from a large simulated population
(calibrate.devtools.simulate, one session of 20,000 cases per panel size: the panel's leniencies are
drawn once and kept, so every interval is about sampling *cases*, as the Gwet SEs, the F
intervals and the case bootstrap all are). The true value of each coefficient is its value
on the whole population. Coefficients and data:

* level item ``leerklimaat.niveau`` (1..6): Krippendorff α ordinal, Gwet AC2 (quadratic),
  ICC(A,1), and the G-study c x r coefficients Φ and Eρ² at n'_r = the panel
  (= ICC(A,k), ICC(C,k));
* one indicator with difficulty 0 (gezien / niet gezien): α nominal, Fleiss κ, AC1;
* the 11 indicators of leeruitkomst ``ict``: G-study c x r x i, items fixed, Φ and Eρ².

Intervals: ``t`` (value ± t(n−1)·SE, the agreement functions' default, upper end capped at
1), ``z`` (normal), ``F`` (the ICC's F-based intervals), and the bootstrap over cases,
percentile and BCa (calibrate.agreement.bootstrap; the ICC and G coefficients through
calibrate.gtheory's case bootstrap). Coverage is over the replicates whose interval is
defined; ``defined`` says how many were.

    uv run python benchmarks/coverage.py --quick          # 2 cells, 100 replicates: ~1-2 min
    uv run python benchmarks/coverage.py --reps 1000 --boot 1000 --out docs/coverage_table.csv
    uv run python benchmarks/coverage.py --drift --reps 200 --recovery 30   # realised FDR of drift flags
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import special

from calibrate.agreement import bootstrap, fleiss_kappa, gwet_ac, icc, krippendorff_alpha
from calibrate.gtheory import g_study
from calibrate.gtheory.dstudy import d_study

LEVEL_ITEM = "leerklimaat.niveau"
INDICATOR = "leerklimaat.klassenmanagement.2"
OUTCOME = "ict"
LEVEL_CODES = ("1", "2", "3", "4", "5", "6")
IND_CODES = ("niet gezien", "gezien")
CASES = (4, 6, 8, 12)
RATERS = (3, 5, 8)


class Population:
    """One simulated panel of ``R`` assessors judging ``P`` cases (wide integer arrays)."""

    def __init__(self, R: int, P: int, seed: int):
        from calibrate.frameworks import load_framework
        from calibrate.devtools.simulate import SimulationConfig, simulate

        fw = load_framework("han-wpl2-2025")
        ict = [i.id for i in fw.items() if i.kind == "indicator" and i.assessed and i.outcome_id == OUTCOME]
        cfg = SimulationConfig(n_sessions=1, n_raters=R, cases_per_session=P, not_applicable_rate=0.0,
                               items=[LEVEL_ITEM, INDICATOR, *ict], item_difficulty={INDICATOR: 0.0}, seed=seed)
        sc = simulate(fw, cfg).scores
        self.R, self.P, self.ict = R, P, ict
        case = pd.factorize(sc["case"], sort=True)[0]
        rater = pd.factorize(sc["rater"], sort=True)[0]

        def wide(item, codes):
            m = (sc["item"] == item).to_numpy()
            M = np.full((P, R), -1)
            M[case[m], rater[m]] = pd.Categorical(sc.loc[m, "value"], categories=codes).codes
            return M

        self.level = wide(LEVEL_ITEM, LEVEL_CODES)
        self.ind = wide(INDICATOR, IND_CODES)
        self.outcome = np.stack([wide(i, IND_CODES) for i in ict], axis=2)  # P x R x I
        self.truth = self._coefficients(np.arange(P), truth=True)

    def long(self, M, idx, codes):
        n = len(idx)
        return pd.DataFrame({"unit": np.repeat(np.arange(n), self.R), "rater": np.tile(np.arange(self.R), n),
                             "value": np.asarray(codes, dtype=object)[M[idx].ravel()]})

    def outcome_long(self, idx):
        n, R, I = len(idx), self.R, len(self.ict)
        return pd.DataFrame({"unit": np.repeat(np.arange(n), R * I), "rater": np.tile(np.repeat(np.arange(R), I), n),
                             "item": np.tile(np.arange(I), n * R), "y": self.outcome[idx].ravel().astype(float)})

    def _coefficients(self, idx, truth=False, boot=0, seed=0):
        """{coefficient: value} or, with boot, {coefficient: {method: (lo, hi)}}."""
        lev = self.long(self.level, idx, LEVEL_CODES)
        ind = self.long(self.ind, idx, IND_CODES)
        out = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            specs = {
                "alpha_ordinal": (lev, "krippendorff_alpha", {"level": "ordinal", "categories": LEVEL_CODES}),
                "AC2_quadratic": (lev, "gwet_ac", {"weights": "quadratic", "categories": LEVEL_CODES}),
                "alpha_nominal": (ind, "krippendorff_alpha", {"level": "nominal", "categories": IND_CODES}),
                "fleiss_kappa": (ind, "fleiss_kappa", {"categories": IND_CODES}),
                "AC1": (ind, "gwet_ac", {"categories": IND_CODES}),
            }
            funcs = {"krippendorff_alpha": krippendorff_alpha, "gwet_ac": gwet_ac, "fleiss_kappa": fleiss_kappa}
            n = len(idx)
            for name, (df, fn, kw) in specs.items():
                res = funcs[fn](df, **kw)
                if truth:
                    out[name] = res.value
                    continue
                ints = {}
                if res.se is not None and np.isfinite(res.value):
                    for m, crit in (("t", special.stdtrit(n - 1, 0.975)), ("z", special.ndtri(0.975))):
                        ints[m] = (res.value - crit * res.se, min(res.value + crit * res.se, 1.0))
                if boot:
                    b = bootstrap(df, fn, n_resamples=boot, seed=seed, method="bca", **kw)
                    if b.ci is not None:
                        ints["bca"] = b.ci
                        reps = np.asarray(b.details["replicates"])
                        reps = reps[np.isfinite(reps)]
                        ints["percentile"] = tuple(np.quantile(reps, [0.025, 0.975]))
                out[name] = (res.value, ints)
            # ICC(A,1) and the c x r G coefficients on the level item
            levn = lev.assign(value=lev["value"].astype(float))
            ia1 = icc(levn, model="twoway_random")
            iak = icc(levn, model="twoway_random", kind="average")
            ick = icc(levn, model="twoway_mixed", kind="average")
            gcr = g_study(levn, "c x r", facets={"c": "unit", "r": "rater"}, n_boot=boot, seed=seed, ci=None)
            gcri = g_study(self.outcome_long(idx), "c x r x i", facets={"c": "unit", "r": "rater", "i": "item"},
                           value="y", n_boot=boot, seed=seed, ci=None)
        one = d_study(gcr, raters=[1]) if boot else None
        own = d_study(gcr, raters=[self.R])
        fixed = d_study(gcri, fixed=["i"])
        if truth:
            out.update({"ICC_A1": ia1.value, "G_cr_Phi": own["Phi"][0], "G_cr_Erho2": own["Erho2"][0],
                        "G_cri_Phi": fixed["Phi"][0], "G_cri_Erho2": fixed["Erho2"][0]})
            return out
        f_int = lambda r: {"F": r.ci} if r.ci is not None and np.all(np.isfinite(r.ci)) else {}  # noqa: E731
        entries = {"ICC_A1": (ia1.value, f_int(ia1), one, "Phi"), "G_cr_Phi": (own["Phi"][0], f_int(iak), own, "Phi"),
                   "G_cr_Erho2": (own["Erho2"][0], f_int(ick), own, "Erho2"),
                   "G_cri_Phi": (fixed["Phi"][0], {}, fixed, "Phi"), "G_cri_Erho2": (fixed["Erho2"][0], {}, fixed, "Erho2")}
        for name, (value, ints, table, col) in entries.items():
            ints = dict(ints)
            if boot:
                if name == "ICC_A1":
                    tb, tbca = d_study(gcr, raters=[1]), d_study(gcr, raters=[1], method="bca")
                elif name.startswith("G_cr_"):
                    tb, tbca = own, d_study(gcr, raters=[self.R], method="bca")
                else:
                    tb, tbca = fixed, d_study(gcri, fixed=["i"], method="bca")
                ints["percentile"] = (tb[f"{col}_low"][0], tb[f"{col}_high"][0])
                ints["bca"] = (tbca[f"{col}_low"][0], tbca[f"{col}_high"][0])
            out[name] = (value, ints)
        return out

    def sample(self, n: int, rng: np.random.Generator, boot: int, seed: int):
        idx = rng.choice(self.P, size=n, replace=False)
        return self._coefficients(idx, boot=boot, seed=seed)


METHODS = ("t", "z", "F", "percentile", "bca")


def run(cases, raters, reps, boot, population, seed=1) -> pd.DataFrame:
    rows = []
    for R in raters:
        t0 = time.perf_counter()
        pop = Population(R, population, seed=100 + R)
        print(f"population R={R}: {population} cases, truth " + ", ".join(f"{k} {v:.3f}" for k, v in pop.truth.items()),
              flush=True)
        for n in cases:
            rng = np.random.default_rng(seed * 1000 + 10 * R + n)
            hits: dict = {}
            for k in range(reps):
                res = pop.sample(n, rng, boot, seed=k)
                for coef, (value, ints) in res.items():
                    truth = pop.truth[coef]
                    for m in METHODS:
                        h = hits.setdefault((coef, m), [0, 0, 0])
                        h[2] += 1
                        if m in ints and np.all(np.isfinite(ints[m])):
                            lo, hi = ints[m]
                            h[1] += 1
                            h[0] += int(lo - 1e-12 <= truth <= hi + 1e-12)
            for (coef, m), (cov, defined, total) in hits.items():
                if defined == 0:
                    continue
                rows.append({"coefficient": coef, "method": m, "cases": n, "raters": R,
                             "coverage": cov / defined, "defined": defined / total, "truth": pop.truth[coef]})
            print(f"  R={R} n={n}: {reps} replicates, {time.perf_counter() - t0:.0f} s so far", flush=True)
    return pd.DataFrame(rows)


def recommend(table: pd.DataFrame, low=0.93, high=0.97) -> pd.DataFrame:
    """Per coefficient, the method with most cells inside [low, high] (ties: the smallest
    worst distance to 0.95)."""
    out = []
    for coef, g in table.groupby("coefficient", sort=False):
        best = None
        for m, gm in g.groupby("method"):
            inside = int(gm["coverage"].between(low, high).sum())
            worst = float((gm["coverage"] - 0.95).abs().max())
            key = (inside, -worst)
            if best is None or key > best[0]:
                best = (key, m, inside, len(gm), gm["coverage"].min(), gm["coverage"].max())
        out.append({"coefficient": coef, "recommended": best[1], "cells within 93-97 %": f"{best[2]} of {best[3]}",
                    "min coverage": best[4], "max coverage": best[5]})
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame) -> str:
    """Coverage (%) per coefficient and method, one row per session size; then the defined
    share where below 100 %, and the recommendations."""
    lines = []
    order = [m for m in METHODS if m in set(table["method"])]
    for coef, g in table.groupby("coefficient", sort=False):
        methods = [m for m in order if m in set(g["method"])]
        truths = g.groupby("raters")["truth"].first()
        lines += [f"**{coef}** (true value " + ", ".join(f"{v:.3f} with {r}" for r, v in truths.items())
                  + " assessors)", "",
                  "| cases × assessors | " + " | ".join(methods) + " | defined |",
                  "|---|" + "---|" * (len(methods) + 1)]
        for (n, R), cell in g.groupby(["cases", "raters"]):
            cov = {r["method"]: r["coverage"] for _, r in cell.iterrows()}
            defined = cell["defined"].min()
            lines.append(f"| {n} × {R} | " + " | ".join(f"{100 * cov[m]:.1f}" if m in cov else "–" for m in methods)
                         + f" | {100 * defined:.0f} % |")
        lines.append("")
    rec = recommend(table)
    lines += ["| coefficient | best method | cells within 93–97 % | coverage range |", "|---|---|---|---|"]
    for _, r in rec.iterrows():
        lines.append(f"| {r['coefficient']} | {r['recommended']} | {r['cells within 93-97 %']} | "
                     f"{100 * r['min coverage']:.1f}–{100 * r['max coverage']:.1f} % |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 cells, 100 replicates, 200 resamples")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--population", type=int, default=20000)
    ap.add_argument("--out", default=None, help="write the long coverage table (CSV)")
    ap.add_argument("--from-csv", default=None, help="print the tables of an earlier run's CSV (no simulation)")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables (for docs/coverage.md)")
    ap.add_argument("--drift", action="store_true",
                    help="the drift part of the study instead: null p-values and realised FDR of the drift flags "
                         "(benchmarks/drift_fdr.py; further options are passed on, e.g. --reps 200 --recovery 30)")
    args, rest = ap.parse_known_args(argv)
    if args.drift:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import drift_fdr

        return drift_fdr.main(rest)
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.from_csv:
        table = pd.read_csv(args.from_csv)
        if args.markdown:
            print(markdown(table))
            return 0
    elif args.quick:
        table = run((4, 12), (3, 8), reps=100, boot=200, population=5000)
    else:
        table = run(CASES, RATERS, reps=args.reps, boot=args.boot, population=args.population)
    if args.out and not args.from_csv:
        table.to_csv(args.out, index=False)
    wide = table.pivot_table(index=["coefficient", "cases", "raters"], columns="method", values="coverage", sort=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print((wide * 100).round(1).to_string())
        print(recommend(table).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
