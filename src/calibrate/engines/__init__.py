"""Agreement where the data lives: the same analysis in memory, in DuckDB, inside
PostgreSQL and on Apache Spark (``calibrate agreement``, CONTRACTS §4).

:func:`agreement_table` computes CONTRACTS §2 coefficients per group of a score table
(CONTRACTS §1): units are the table's cases within a group, raters its raters, and the
category order comes from each row's ``kind`` (or from ``categories``).

``engine="pandas"`` (the default) runs the :mod:`calibrate.agreement` functions on each
group in memory; it gives the reference numbers. The other engines run one set of
aggregate queries (:mod:`calibrate.engines.plan`, written once in Ibis) where the data is
and finish the coefficients from the aggregates with the library's own formulas
(:mod:`calibrate.engines.finish`): only a few thousand count patterns per analysis pass
through Python, however many judgements there are. Every engine gives the in-memory
numbers to 1e-10 (``tests/engines``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from calibrate.engines.backends import ENGINES, check_engine
from calibrate.engines.scales import scales_for
from calibrate.engines.spec import DEFAULT, parse_specs
from calibrate.errors import InputError

__all__ = ["COLUMNS", "DEFAULT", "ENGINES", "agreement_table"]

#: result columns after the group columns
COLUMNS = ("coefficient", "value", "se", "ci_low", "ci_high", "n_units", "n_raters")
STORE_BY = ("session", "session_date", "item", "kind")


def _by(by) -> tuple[str, ...]:
    if by is None:
        return ()
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",")]
    out = tuple(b for b in by if b)
    if len(set(out)) != len(out):
        raise InputError(f"--by names a column twice: {list(out)}.")
    return out


def agreement_table(
    source,
    *,
    engine: str = "pandas",
    by: Sequence[str] | str | None = ("session", "item"),
    coefficients: Sequence[str] | str | None = DEFAULT,
    categories: Sequence | None = None,
    units: str = "case",
    raters: str = "rater",
    values: str = "value",
    kind: str = "kind",
    confidence: float = 0.95,
    spark_session=None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """Agreement per group: one row per group and coefficient.

    ``source``: a score table (DataFrame), a Parquet or CSV file or a folder of parts
    (path, or for Spark also a URL such as ``s3a://bucket/archive/``), a
    :class:`calibrate.store.Store`, or an Ibis table on any of the engines.
    ``engine``: ``pandas`` | ``duckdb`` | ``postgres`` (a store on PostgreSQL, queried in
    place as the store's logged-in role) | ``spark``. ``by``: the group columns (none:
    the whole table is one group). ``coefficients``: specs such as
    ``"krippendorff_alpha:ordinal,gwet_ac:quadratic"`` (:mod:`calibrate.engines.spec`).
    ``categories``: one ordered scale (a list) for every row instead of the kinds of
    CONTRACTS §1, or a mapping from the values of the ``kind`` column to their scales.
    ``memory_limit``: DuckDB's (e.g. ``"3GB"``; it spills to disk beyond it).

    Returns a DataFrame with the group columns (as text), then ``coefficient`` (the spec
    as given), ``value, se, ci_low, ci_high, n_units, n_raters``.
    """
    check_engine(engine)
    by = _by(by)
    specs = parse_specs(coefficients)
    scales, by_kind = scales_for(categories)
    kind_col = kind if by_kind else None
    names = dict(by=by, units=units, raters=raters, values=values, kind=kind_col, scales=scales)
    store = _as_store(source)
    if engine == "pandas":
        from calibrate.engines.reference import reference_rows

        df = _frame(source, store)
        rows = reference_rows(df, specs=specs, confidence=confidence, **names)
        return _table(rows, by)
    from calibrate.engines.plan import Plan, collect

    table, eng, unique = _engine_table(source, store, engine, by, spark_session, memory_limit)
    try:
        plan = Plan(table, **names)
        groups = collect(plan, eng.run, need_profiles=any(s.family == "pairs" for s in specs),
                         need_icc2=any(s.name == "icc" and s.model != "oneway" for s in specs),
                         check_duplicates=not unique)
    finally:
        eng.close()
    from calibrate.engines.finish import finish

    rows = []
    for g in groups:
        for spec in specs:
            rows.append(dict(zip(by, g.key)) | {"coefficient": spec.text} | finish(spec, g.aggregates, confidence))
    return _table(rows, by)


def _engine_table(source, store, engine: str, by: tuple[str, ...], spark_session, memory_limit):
    """The source as an Ibis table on ``engine``: ``(table, engine, unique)``, ``unique``
    when the source guarantees one judgement per (case, rater) in every group (a store's
    current judgements grouped by session and item), so the duplicate check can be skipped."""
    from calibrate.engines import backends

    unique = store is not None and {"session", "item"} <= set(by)
    if engine == "postgres":
        if isinstance(source, (pd.DataFrame, str, os.PathLike)):
            raise InputError(
                "the postgres engine runs inside the store's PostgreSQL (--db URL, or a Store or Ibis table on "
                "PostgreSQL); for files use --engine duckdb or spark.")
        if store is None:
            return (*_ibis_table(source, "postgres"), False)
        if store.engine.dialect.name != "postgresql":
            raise InputError(
                "--engine postgres runs inside the store's PostgreSQL: open it with --db URL "
                "(this store is SQLite; use --engine pandas or duckdb).")
        wrong = [b for b in by if b not in STORE_BY]
        if wrong:
            raise InputError(f"a store can be grouped by {', '.join(STORE_BY)}; got {wrong}.")
        eng = backends.postgres_engine(store.url)
        return backends.current_judgements(eng, by), eng, unique
    if not (isinstance(source, (pd.DataFrame, str, os.PathLike)) or store is not None):
        return (*_ibis_table(source, engine), False)
    eng = (backends.duckdb_engine(memory_limit=memory_limit) if engine == "duckdb"
           else backends.spark_engine(spark_session))
    return eng.table(store.scores() if store is not None else source), eng, unique


def _as_store(source):
    from calibrate.store import Store

    return source if isinstance(source, Store) else None


def _frame(source, store) -> pd.DataFrame:
    if store is not None:
        return store.scores()
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, (str, os.PathLike)):
        from calibrate.engines.backends import read_pandas

        return read_pandas(source)
    try:  # an Ibis table: materialise it
        return source.to_pandas()
    except AttributeError:
        raise InputError(f"cannot read a score table from a {type(source).__name__}.") from None


def _ibis_table(source, engine: str):
    """An Ibis table given by the caller, on the engine it names."""
    from calibrate.engines.backends import Engine

    try:
        backend = source._find_backend()
    except Exception:
        raise InputError(
            f"the {engine} engine reads a DataFrame, Parquet/CSV files, a store or an Ibis table; "
            f"got a {type(source).__name__}.") from None
    name = {"duckdb": "duckdb", "postgres": "postgres", "pyspark": "spark"}.get(backend.name, backend.name)
    if name != engine:
        raise InputError(f"the table is on {backend.name}, not on the {engine} engine.")
    eng = Engine(engine, backend)
    eng.close = lambda: None  # the caller's connection stays open
    return source, eng


def _table(rows: list[dict], by: tuple[str, ...]) -> pd.DataFrame:
    cols = [*by, *COLUMNS]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object" if c in (*by, "coefficient") else "float64") for c in cols})
    df = pd.DataFrame(rows, columns=cols)
    for c in by:
        df[c] = df[c].astype(object).map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    df["coefficient"] = df["coefficient"].astype(object)
    for c in ("value", "se", "ci_low", "ci_high"):
        df[c] = df[c].astype("float64")
    for c in ("n_units", "n_raters"):
        df[c] = df[c].astype("int64")
    order = {s: i for i, s in enumerate(dict.fromkeys(df["coefficient"]))}
    df = df.assign(_o=df["coefficient"].map(order)).sort_values([*by, "_o"], kind="stable").drop(columns="_o")
    return df.reset_index(drop=True)

