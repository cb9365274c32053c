"""Every engine gives the in-memory numbers to 1e-10: on the published reference data
sets and on simulated archives, for every coefficient of CONTRACTS §2.

The in-memory path (``engine="pandas"``) is the CONTRACTS §2 functions themselves, run per
group; the first test checks that, the others compare DuckDB and PostgreSQL with it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibrate import agreement
from calibrate.engines import agreement_table
from calibrate.engines.spec import parse_spec

from engine_cases import ALL_SPECS, assert_same, categories_of, simulated_archive

ARCHIVE_SPECS = ["krippendorff_alpha:ordinal", "krippendorff_alpha:interval", "gwet_ac:quadratic", "gwet_ac",
                 "fleiss_kappa", "conger_kappa:linear", "cohen_kappa", "percent_agreement", "brennan_prediger",
                 "icc", "icc:twoway_random", "icc:twoway_mixed:average"]


def _union(refunion, engine, **kw):
    table, scales = refunion
    return agreement_table(table, engine=engine, by="dataset", kind="dataset", units="unit", categories=scales,
                           coefficients=ALL_SPECS, **kw)


@pytest.fixture(scope="module")
def ref_pandas(refunion):
    return _union(refunion, "pandas")


def test_the_in_memory_path_is_the_agreement_functions(refsets, ref_pandas):
    """Row by row, engine="pandas" is what the CONTRACTS §2 function returns on that data
    set with the observed categories."""
    checked = 0
    for name, df in refsets.items():
        cats = categories_of(df)
        rows = ref_pandas[ref_pandas["dataset"] == name].set_index("coefficient")
        n_raters = df.dropna(subset=["value"])["rater"].nunique()
        for text in ALL_SPECS:
            spec = parse_spec(text)
            row = rows.loc[text]
            if spec.name in ("cohen_kappa", "scott_pi") and n_raters != 2:
                assert math.isnan(row["value"])
                continue
            if spec.name == "icc":
                if not all(isinstance(c, (int, float, np.number)) for c in cats):
                    continue  # label scales enter the ICC as positions: not the function's input
                res = agreement.icc(df, **spec.kwargs())
            else:
                res = getattr(agreement, spec.name)(df, categories=cats, **spec.kwargs())
            assert row["value"] == pytest.approx(res.value, abs=1e-14, nan_ok=True), (name, text)
            assert row["se"] == pytest.approx(np.nan if res.se is None else res.se, abs=1e-14, nan_ok=True)
            if res.ci is not None:
                assert (row["ci_low"], row["ci_high"]) == pytest.approx(res.ci, abs=1e-14)
            assert (row["n_units"], row["n_raters"]) == (res.n_units, res.n_raters)
            checked += 1
    assert checked > 150


def test_duckdb_equals_in_memory_on_the_reference_sets(refunion, ref_pandas):
    assert_same(_union(refunion, "duckdb"), ref_pandas, ["dataset"])


@pytest.mark.parametrize("name", ["krippendorff2011_4obs_12units", "shrout_fleiss1979_6targets_4judges",
                                  "gwet_cac_raw4raters", "sas_kappa_3x3_n19"])
def test_duckdb_on_numeric_value_columns(refsets, name):
    """Numbers (with NaN for missing) as they come from pd.read_csv, not text."""
    df = refsets[name]
    kw = dict(by=None, units="unit", categories=categories_of(df), coefficients=ALL_SPECS)
    assert_same(agreement_table(df, engine="duckdb", **kw), agreement_table(df, **kw), [])


@pytest.mark.parametrize("by", ["session,item", "item", "kind"])
def test_duckdb_equals_in_memory_on_a_simulated_archive(archive, by):
    specs = ARCHIVE_SPECS if by != "kind" else ["krippendorff_alpha:ordinal", "gwet_ac:quadratic"]
    if by == "kind":  # one group per kind: cases are units only within one item
        archive = archive[archive["item"].isin(archive.groupby("kind")["item"].first())]
    ref = agreement_table(archive, by=by, coefficients=specs)
    assert_same(agreement_table(archive, engine="duckdb", by=by, coefficients=specs), ref, by.split(","))
    assert set(ref["n_raters"]) <= set(range(1, 6)) and (ref["n_units"] > 0).all()


def test_random_designs(tmp_path):
    """Random panels, missing ratings, units rated once, raters with few ratings."""
    rng = np.random.default_rng(3)
    for rep in range(4):
        n, r = int(rng.integers(5, 60)), int(rng.integers(2, 9))
        rows = [(f"u{i}", f"r{g}", str(int(rng.integers(1, 7))))
                for i in range(n) for g in range(r) if rng.random() < 0.7]
        df = pd.DataFrame(rows, columns=["case", "rater", "value"]).assign(item="x", kind="level")
        kw = dict(by="item", coefficients=ALL_SPECS)
        assert_same(agreement_table(df, engine="duckdb", **kw), agreement_table(df, **kw), ["item"])


def test_many_ratings_of_one_unit_fall_back_to_count_columns():
    """A unit with 2**10 ratings in one level overflows the packed key of a six-level
    scale: the engine notices and counts per category instead."""
    big = pd.DataFrame({"case": "seed", "rater": [f"m{k}" for k in range(1100)], "value": "3"})
    rng = np.random.default_rng(5)
    small = pd.DataFrame({"case": np.repeat([f"c{i}" for i in range(40)], 4),
                          "rater": np.tile([f"m{k}" for k in range(4)], 40),
                          "value": rng.integers(1, 7, 160).astype(str)})
    df = pd.concat([big, small], ignore_index=True).assign(item="x", kind="level")
    kw = dict(by="item", coefficients=["krippendorff_alpha:ordinal", "gwet_ac:quadratic", "icc", "icc:twoway_random"])
    ours = agreement_table(df, engine="duckdb", **kw)
    assert_same(ours, agreement_table(df, **kw), ["item"])
    assert ours["n_raters"].iloc[0] == 1100


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg_tables(pg_server, refunion):
    """A database holding the reference union and a simulated archive as plain tables."""
    import sqlalchemy as sa

    from calibrate.engines.backends import postgres_engine

    url = pg_server.createdb()
    eng = sa.create_engine(url)
    refunion[0].to_sql("reference", eng, index=False)
    simulated_archive().to_sql("archive", eng, index=False)
    eng.dispose()
    pe = postgres_engine(url)
    yield pe.con
    pe.close()


@pytest.mark.postgres
def test_postgres_equals_in_memory_on_the_reference_sets(pg_tables, refunion, ref_pandas):
    _, scales = refunion
    ours = agreement_table(pg_tables.table("reference"), engine="postgres", by="dataset", kind="dataset",
                           units="unit", categories=scales, coefficients=ALL_SPECS)
    assert_same(ours, ref_pandas, ["dataset"])


@pytest.mark.postgres
def test_postgres_equals_in_memory_on_a_simulated_archive(pg_tables, archive):
    ref = agreement_table(archive, coefficients=ARCHIVE_SPECS)
    ours = agreement_table(pg_tables.table("archive"), engine="postgres", coefficients=ARCHIVE_SPECS)
    assert_same(ours, ref, ["session", "item"])
