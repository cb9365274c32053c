"""Apache Spark in local mode (Debian's headless OpenJDK) gives the in-memory numbers to
1e-10: the reference sets, a simulated archive read from Parquet and from CSV parts, and
the command line. One SparkSession for the module; in CI these tests must run."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.engines import agreement_table

from engine_cases import ALL_SPECS, assert_same, categories_of

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
#: counts-based only (4 queries): the reference-set test runs every other query
SPECS = ["krippendorff_alpha:ordinal", "gwet_ac:quadratic", "fleiss_kappa", "percent_agreement", "icc"]
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession

        session = (SparkSession.builder.master("local[2]").appName("calibrate-tests")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "1").config("spark.default.parallelism", "2")
                   # tiny data: the JVM's warm-up (JIT), planning and code generation are the cost, not
                   # the execution: the quick C1 compiler only, one GC thread, no adaptive re-planning
                   .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
                   .config("spark.sql.adaptive.enabled", "false").config("spark.sql.codegen.wholeStage", "false")
                   .config("spark.driver.memory", "1g").getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # no pyspark, no Java
        if IN_CI:
            pytest.fail(f"Spark is required in CI but could not start: {exc}")
        pytest.skip(f"Spark not available: {exc}")
    yield session
    session.stop()


def test_reference_sets_on_spark(spark, refunion):
    """Every coefficient, so every query of the plan, runs on Spark once."""
    table, scales = refunion
    kw = dict(by="dataset", kind="dataset", units="unit", categories=scales, coefficients=ALL_SPECS)
    assert_same(agreement_table(table, engine="spark", spark_session=spark, **kw), agreement_table(table, **kw),
                ["dataset"])


def test_numeric_values_with_nan_on_spark(spark, refsets):
    df = refsets["krippendorff2011_4obs_12units"]  # floats, NaN for missing
    kw = dict(by=None, units="unit", categories=categories_of(df), coefficients=SPECS)
    assert_same(agreement_table(df, engine="spark", spark_session=spark, **kw), agreement_table(df, **kw), [])


def test_an_archive_from_parquet_and_csv_parts(spark, archive, tmp_path):
    archive.to_parquet(tmp_path / "a.parquet", index=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k, (_, g) in enumerate(archive.groupby("session")):
        g.to_csv(parts / f"p{k}.csv", index=False, sep=";")
    ref = agreement_table(archive, coefficients=SPECS)
    for src in (tmp_path / "a.parquet", parts):
        assert_same(agreement_table(src, engine="spark", spark_session=spark, coefficients=SPECS), ref,
                    ["session", "item"])


def test_the_command_line_on_spark(spark, archive, tmp_path):
    archive.to_parquet(tmp_path / "a.parquet", index=False)
    out = tmp_path / "out.parquet"
    assert main(["agreement", "--source", str(tmp_path / "a.parquet"), "--engine", "spark", "--by", "item",
                 "--out", str(out)]) == 0  # uses the active SparkSession
    assert_same(pd.read_parquet(out), agreement_table(archive, by="item"), ["item"])
