"""Agreement benchmark: calibrate vs krippendorff, irrCAC and statsmodels on the same data.

Data: 100,000 units x 10 raters, ordinal values 1..5, 5% of the ratings missing, seed 0.
calibrate starts from the long table of CONTRACTS §2 (unit, rater, value); each peer gets
its own native input (a wide rater x unit array, a unit x rater DataFrame, a unit x
category table), so the peers' reshaping is *not* timed. Ratio = calibrate / peer
(<= 1.0: calibrate is as fast or faster). Peak memory by tracemalloc (Python heap).
irrCAC runs in its own venv (``CALIBRATE_IRRCAC_PYTHON``, default .peers/irrcac/bin/python).
Rater ids come as pandas' default string dtype (what ``read_csv`` gives: ``str``), as
plain ``object`` and as ``category``. Also: 1,000 bootstrap resamples of alpha on 5,000
units x 8 raters, and the kijkkader roll-up on a synthetic score table of ~1.2 million
judgements. Timings are best-of-``--repeat``; the load average is printed before and after.

ICC (``--only icc`` runs this part alone): first its accuracy, the two-way forms against
pingouin (R psych's formulas, CI rounding off) on complete data of 100 x 4 to 5,000 x 10
(``x = unit + 0.3 rater + noise``): residual df against (n-1)(k-1) and the largest
difference over the six forms' value, F, p and CI. Then its speed at 10^6 and 10^7
judgements (complete, 10 raters): ours from the long table with string rater ids, pingouin
from the same long table (its native input), and the floor: the balanced two-way ANOVA in
bare NumPy on the wide unit x rater array, reshaping untimed.

Run:  uv run --no-sync python benchmarks/agreement.py [--units N] [--repeat R] [--only icc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate.agreement import bootstrap, fleiss_kappa, gwet_ac, icc, kijkkader_rollup, krippendorff_alpha

REPO = Path(__file__).resolve().parents[1]
CATS = [1, 2, 3, 4, 5]


def make_long(n_units: int, n_raters: int, missing: float, seed: int = 0, rater_dtype: str = "str") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=n_units)
    vals = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n_units, n_raters)), 1, 5)
    rater = np.tile(np.array([f"r{i:02d}" for i in range(n_raters)], dtype=object), n_units)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_raters), "rater": rater, "value": vals.ravel()})
    df = df[rng.random(len(df)) >= missing].reset_index(drop=True)
    if rater_dtype != "str":
        df["rater"] = df["rater"].astype(rater_dtype)
    return df


def make_scores(n_sessions: int, n_cases: int = 12, n_raters: int = 8, seed: int = 0) -> pd.DataFrame:
    """A score table (CONTRACTS §1): per session and case 40 indicators, 4 levels, a verdict."""
    rng = np.random.default_rng(seed)
    items = ([(f"lo{o}.dim{d}.{i}", "indicator") for o in range(4) for d in range(2) for i in range(5)]
             + [(f"lo{o}.niveau", "level") for o in range(4)] + [("eind.oordeel", "verdict")])
    codes = {"indicator": np.array(["niet gezien", "gezien", "n.v.t."], dtype=object),
             "level": np.array(["2", "3", "4", "5"], dtype=object),
             "verdict": np.array(["niet voldaan", "voldaan"], dtype=object)}
    n_units = n_sessions * n_cases * len(items)
    s_idx = np.repeat(np.arange(n_sessions), n_cases * len(items) * n_raters)
    c_idx = np.tile(np.repeat(np.arange(n_cases), len(items) * n_raters), n_sessions)
    i_idx = np.tile(np.repeat(np.arange(len(items)), n_raters), n_sessions * n_cases)
    kinds = np.array([k for _, k in items], dtype=object)[i_idx]
    value = np.empty(len(s_idx), dtype=object)
    for k, c in codes.items():
        m = kinds == k
        truth = np.repeat(rng.integers(0, len(c), n_units), n_raters)[m]
        noisy = np.where(rng.random(m.sum()) < 0.25, rng.integers(0, len(c), m.sum()), truth)
        value[m] = c[noisy]
    return pd.DataFrame({
        "session": np.array([f"S{i:03d}" for i in range(n_sessions)], dtype=object)[s_idx],
        "case": np.array([f"C{i:02d}" for i in range(n_cases)], dtype=object)[c_idx],
        "rater": np.tile(np.array([f"B{i:02d}" for i in range(n_raters)], dtype=object), n_units),
        "item": np.array([i for i, _ in items], dtype=object)[i_idx],
        "kind": kinds,
        "value": value,
    })


def measure(fn, repeat: int):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, out


def irrcac_timing(df: pd.DataFrame, repeat: int):
    py = Path(os.environ.get("CALIBRATE_IRRCAC_PYTHON", REPO / ".peers/irrcac/bin/python"))
    runner = REPO / "tests/agreement/peers/irrcac_runner.py"
    if not py.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False)
        best, res = float("inf"), None
        for _ in range(repeat):
            out = subprocess.run(
                [str(py), str(runner), str(path), "gwet", "quadratic", "--categories", "1,2,3,4,5", "--time"],
                capture_output=True, text=True, check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if r["seconds"] < best:
                best, res = r["seconds"], r
    return best, res["peak_bytes"], res


ICC_FORMS = [
    ("oneway", "single", "ICC(1,1)"), ("twoway_random", "single", "ICC(A,1)"),
    ("twoway_mixed", "single", "ICC(C,1)"), ("oneway", "average", "ICC(1,k)"),
    ("twoway_random", "average", "ICC(A,k)"), ("twoway_mixed", "average", "ICC(C,k)"),
]


def make_continuous(n_units: int, n_raters: int, seed: int) -> pd.DataFrame:
    """Complete data ``x = unit + 0.3 rater + noise`` with string rater ids."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_raters)
    rater = np.tile(np.arange(n_raters), n_units)
    x = rng.normal(size=n_units)[unit] + 0.3 * rng.normal(size=n_raters)[rater] + rng.normal(size=unit.size)
    ids = np.array([f"r{j:02d}" for j in range(n_raters)], dtype=object)
    return pd.DataFrame({"unit": unit, "rater": ids[rater], "value": x})


def pingouin_icc(df: pd.DataFrame) -> pd.DataFrame:
    import warnings

    import pingouin as pg

    saved = dict(pg.options)
    pg.options.clear()
    pg.options["round"] = None  # the CI is rounded to 2 decimals by default
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pg.intraclass_corr(df, targets="unit", raters="rater", ratings="value").set_index("Type")
    finally:
        pg.options.clear()
        pg.options.update(saved)


def icc_floor(wide: np.ndarray) -> float:
    """ICC(A,1) by the balanced two-way ANOVA in bare NumPy: the least work any
    implementation must do once the data are a complete unit x rater array."""
    n, k = wide.shape
    g = wide.mean()
    ri, cj = wide.mean(axis=1), wide.mean(axis=0)
    msb = k * ((ri - g) ** 2).sum() / (n - 1)
    msj = n * ((cj - g) ** 2).sum() / (k - 1)
    mse = ((wide - ri[:, None] - cj[None, :] + g) ** 2).sum() / ((n - 1) * (k - 1))
    return (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)


def icc_section(repeat: int) -> None:
    print("ICC accuracy against pingouin (complete data, six forms):")
    print(f"{'units x raters':>15s} {'our df2':>8s} {'(n-1)(k-1)':>11s} {'ICC(A,1) ours-pg':>17s} {'max |diff|':>11s}")
    for n, k in [(100, 4), (200, 6), (300, 6), (400, 6), (800, 3), (1000, 10), (5000, 10)]:
        df = make_continuous(n, k, seed=12)
        table = pingouin_icc(df)
        worst, ours_a = 0.0, None
        for model, kind, ptype in ICC_FORMS:
            r = icc(df, model=model, kind=kind)
            row = table.loc[ptype]
            diffs = [r.value - row["ICC"], (r.F - row["F"]) / max(1.0, abs(row["F"])), r.p_value - row["pval"],
                     *(np.asarray(r.ci) - np.asarray(row["CI95"], dtype=float))]
            worst = max(worst, float(np.max(np.abs(diffs))))
            if ptype == "ICC(A,1)":
                ours_a = r
        print(f"{f'{n} x {k}':>15s} {ours_a.df2:8.0f} {(n - 1) * (k - 1):11d} "
              f"{ours_a.value - table.loc['ICC(A,1)', 'ICC']:+17.1e} {worst:11.1e}")
    print(f"{'judgements':>11s} {'ours s':>8s} {'pingouin s':>11s} {'floor s':>8s} {'ours/pg':>8s} "
          f"{'ours/floor':>11s} {'ours MB':>8s} {'pg MB':>8s}")
    for n in (100_000, 1_000_000):
        df = make_continuous(n, 10, seed=0)
        wide = df["value"].to_numpy().reshape(n, 10)
        t_o, m_o, r_o = measure(lambda: icc(df, model="twoway_random"), repeat)
        t_p, m_p, tab = measure(lambda: pingouin_icc(df), max(1, repeat // 3))
        t_f, _, v_f = measure(lambda: icc_floor(wide), repeat)
        assert abs(r_o.value - tab.loc["ICC(A,1)", "ICC"]) < 1e-10 and abs(r_o.value - v_f) < 1e-10
        print(f"{len(df):11,d} {t_o:8.3f} {t_p:11.3f} {t_f:8.3f} {t_o / t_p:8.3f} {t_o / t_f:11.1f} "
              f"{m_o / 2**20:8.0f} {m_p / 2**20:8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--raters", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", choices=["icc"], default=None, help="run only this section")
    a = ap.parse_args()
    if a.only == "icc":
        icc_section(a.repeat)
        return
    import krippendorff
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    print(f"# agreement benchmark: {a.units:,} units x {a.raters} raters, 5% missing "
          f"(python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f})")
    rows = []
    for rater_dtype in ("str", "object", "category"):
        df = make_long(a.units, a.raters, 0.05, rater_dtype=rater_dtype)
        wide = df.pivot(index="unit", columns="rater", values="value")
        rel = wide.T.to_numpy(dtype=float)

        t_k, m_k, v_k = measure(lambda: krippendorff.alpha(rel, level_of_measurement="ordinal", value_domain=CATS), a.repeat)
        t_o, m_o, r_o = measure(lambda: krippendorff_alpha(df, level="ordinal", categories=CATS), a.repeat)
        assert abs(r_o.value - v_k) < 1e-9
        rows.append(("alpha ordinal", "krippendorff", rater_dtype, t_o, t_k, m_o, m_k))

        complete = wide.dropna()  # statsmodels needs complete rows
        arr = complete.to_numpy()
        long_c = complete.stack().rename("value").reset_index()
        t_s, m_s, v_s = measure(lambda: sm_fleiss(aggregate_raters(arr)[0]), a.repeat)
        t_f, m_f, r_f = measure(lambda: fleiss_kappa(long_c, categories=CATS), a.repeat)
        assert abs(r_f.value - v_s) < 1e-9
        rows.append(("Fleiss kappa (+SE)", "statsmodels (agg+k)", rater_dtype, t_f, t_s, m_f, m_s))

        ir = irrcac_timing(df, max(1, a.repeat // 2))
        t_g, m_g, r_g = measure(lambda: gwet_ac(df, weights="quadratic", categories=CATS), a.repeat)
        if ir is not None:
            assert abs(r_g.value - ir[2]["coefficient_value"]) < 1e-8
            assert abs(r_g.se - ir[2]["se"]) < 1e-8
            rows.append(("AC2 quadratic + SE", "irrcac 0.4.4", rater_dtype, t_g, ir[0], m_g, ir[1]))
        else:
            print("# irrCAC peer venv missing: see tests/agreement/peers/irrcac_runner.py")

    print(f"{'coefficient':22s} {'peer':20s} {'raters':8s} {'ours s':>8s} {'peer s':>8s} "
          f"{'ratio':>6s} {'ours MB':>8s} {'peer MB':>8s}")
    for name, peer, rd, to, tp, mo, mp in rows:
        print(f"{name:22s} {peer:20s} {rd:8s} {to:8.4f} {tp:8.4f} {to / tp:6.2f} "
              f"{mo / 2**20:8.1f} {mp / 2**20:8.1f}")

    small = make_long(5_000, 8, 0.05, seed=1)
    t0 = time.perf_counter()
    res = bootstrap(small, "krippendorff_alpha", level="ordinal", categories=CATS, n_resamples=1000, seed=0)
    tb = time.perf_counter() - t0
    print(f"bootstrap alpha ordinal, 5,000 units x 8 raters, 1,000 resamples: {tb:.3f} s "
          f"(target < 5 s); alpha = {res.value:.4f}, 95% CI = ({res.ci[0]:.4f}, {res.ci[1]:.4f})")

    scores = make_scores(300)
    tr = float("inf")
    for _ in range(max(1, a.repeat // 2)):
        t0 = time.perf_counter()
        roll = kijkkader_rollup(scores)
        tr = min(tr, time.perf_counter() - t0)
    print(f"kijkkader_rollup, {len(scores):,} judgements, {len(roll):,} rows out: {tr:.2f} s")
    icc_section(a.repeat)
    print(f"# load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
