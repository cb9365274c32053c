"""Shared pieces of the engine tests: the reference data sets' folder, the simulated
archives, and the check that two result tables agree to 1e-10."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("refdata", HERE.parent / "agreement" / "peers" / "refdata.py")
_refdata = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_refdata)
REF = _refdata.REF

TOL = 1e-10
#: every coefficient family and option of CONTRACTS §2
ALL_SPECS = [
    "percent_agreement", "percent_agreement:quadratic",
    "fleiss_kappa", "fleiss_kappa:linear", "scott_pi",
    "gwet_ac", "gwet_ac:quadratic", "gwet_ac:ordinal",
    "brennan_prediger", "brennan_prediger:linear",
    "conger_kappa", "conger_kappa:quadratic", "cohen_kappa", "cohen_kappa:linear",
    "krippendorff_alpha", "krippendorff_alpha:ordinal", "krippendorff_alpha:interval", "krippendorff_alpha:ratio",
    "icc", "icc:oneway:average", "icc:twoway_random", "icc:twoway_mixed",
    "icc:twoway_random:average", "icc:twoway_mixed:average",
]
NUMBERS = ("value", "se", "ci_low", "ci_high")


def categories_of(df: pd.DataFrame) -> list:
    """The observed values, sorted (numbers as numbers): the scale the agreement
    functions use when none is given."""
    vals = df["value"].dropna().unique().tolist()
    try:
        return sorted(vals, key=float)
    except (TypeError, ValueError):
        return sorted(vals, key=str)


def simulated_archive(seed: int = 7, drop: float = 0.15) -> pd.DataFrame:
    """A simulated score table of every kind (n.v.t. as missing), with ``drop`` of the
    judgements removed at random (unbalanced designs, units rated once)."""
    from calibrate.frameworks import load_framework
    from calibrate.devtools.simulate import SimulationConfig, simulate

    fw = load_framework("han-wpl2-2025")
    items = [i for i in fw.items() if getattr(i, "assessed", True)]
    indicators = [i.id for i in items if i.kind == "indicator"]
    pick = indicators[::5] + [i.id for i in items if i.kind != "indicator"]
    cfg = SimulationConfig(n_sessions=3, n_raters=5, cases_per_session=7, items=pick, not_applicable_rate=0.08,
                           seed=seed)
    df = simulate(fw, cfg).scores
    rng = np.random.default_rng(seed)
    return df[rng.random(len(df)) >= drop].reset_index(drop=True)


def assert_same(ours: pd.DataFrame, ref: pd.DataFrame, keys) -> None:
    """Same groups and coefficients, same counts, every number within 1e-10 (NaN where
    the reference has NaN)."""
    keys = list(keys) + ["coefficient"]
    assert len(ref) > 0
    a = ours.sort_values(keys).reset_index(drop=True)
    b = ref.sort_values(keys).reset_index(drop=True)
    assert a[keys].astype(str).equals(b[keys].astype(str)), "different groups or coefficients"
    assert (a["n_units"].to_numpy() == b["n_units"].to_numpy()).all()
    assert (a["n_raters"].to_numpy() == b["n_raters"].to_numpy()).all()
    for c in NUMBERS:
        x, y = a[c].to_numpy(dtype=float), b[c].to_numpy(dtype=float)
        bad = ~((np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= TOL))
        assert not bad.any(), (c, pd.concat([a.loc[bad, keys + [c]], b.loc[bad, [c]]], axis=1).head())
