"""Where the score table is and which engine reads it: the one door from a source (a
DataFrame, Parquet/CSV files, a store, an Ibis table) to an Ibis table on an engine.

* ``duckdb``: in-process, out-of-core (it spills to a temporary directory beyond its
  memory limit); reads Parquet and CSV files directly.
* ``postgres``: the aggregate queries run inside the team store's PostgreSQL, logged in as
  the URL's role, so row-level security applies to them as to every other query; the
  current judgement is the latest id per (session, case, rater, item), the store's rule
  (:mod:`calibrate.store.latest`).
* ``spark``: the active SparkSession, or one from ``SparkSession.builder.getOrCreate()``
  (local mode, or the cluster of ``spark-submit``; ``SPARK_REMOTE`` for Spark Connect).
"""

from __future__ import annotations

import importlib
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from calibrate.errors import InputError

ENGINES = ("pandas", "duckdb", "postgres", "spark")
_EXTRA = {"duckdb": "scale", "ibis": "scale", "pyarrow": "scale", "psycopg": "scale", "pyspark": "spark"}
_PACKAGE = {"ibis": "ibis-framework", "pyspark": "pyspark"}


def need(module: str, engine: str, *, what: str | None = None):
    """Import ``module`` or raise an :class:`InputError` that names what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = _PACKAGE.get(module.split(".")[0], module.split(".")[0])
        extra = _EXTRA.get(module.split(".")[0], "scale")
        raise InputError(
            f"{what or f'the {engine} engine'} needs the Python package {pkg!r}, which is not installed ({exc}).",
            hint=f"Install it: pip install 'calibrate[{extra}]' (or: uv sync --extra {extra}).",
        ) from None


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    return engine


# ------------------------------------------------------------------------ files
def source_files(source: str | os.PathLike) -> tuple[str, list[str]]:
    """The format (``parquet`` / ``csv``) and files of a file or folder of parts."""
    text = str(source)
    if "://" in text:  # object storage or HDFS: only Spark reads it; trust the suffix
        return ("csv" if text.lower().rstrip("/").endswith(".csv") else "parquet"), [text]
    path = Path(source)
    if not path.exists():
        raise InputError("file or folder not found.", location=str(path), hint="Check the --source path.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
        parquet = [str(p) for p in files if p.suffix.lower() in (".parquet", ".pq")]
        csv = [str(p) for p in files if p.suffix.lower() == ".csv"]
        if parquet and not csv:
            return "parquet", parquet
        if csv and not parquet:
            return "csv", csv
        raise InputError(
            "the folder holds " + ("both Parquet and CSV files" if parquet else "no .parquet or .csv file") + ".",
            location=str(path), hint="Point --source at one file, or a folder of parts in one format.",
        )
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet", [str(path)]
    if suffix in (".csv", ".txt"):
        return "csv", [str(path)]
    raise InputError("--source reads .parquet or .csv files (or a folder of them).", location=str(path))


def _delimiter(path: str) -> str:
    """The CSV delimiter sniffed from the header line (comma, semicolon or tab)."""
    with open(path, "rb") as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def read_pandas(source) -> pd.DataFrame:
    """The score table of a Parquet/CSV file or folder, in memory."""
    fmt, files = source_files(source)
    if fmt == "parquet":
        need("pyarrow", "pandas")
        try:
            return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        except Exception as exc:  # pyarrow's errors name the file
            raise InputError(f"cannot read the Parquet file: {exc}.", location=str(source)) from None
    from calibrate.tabular import read_table

    return pd.concat([read_table(f) for f in files], ignore_index=True)


def _clean_names(t):
    """Drop a byte-order mark that a CSV reader left on the first column name."""
    ren = {c.lstrip("\ufeff"): c for c in t.columns if c.startswith("\ufeff")}
    return t.rename(ren) if ren else t


# ----------------------------------------------------------------- connections
@contextmanager
def _quiet():
    """Silence what Ibis 12 says about its own use of deprecated pandas / DuckDB APIs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*future.infer_string.*")
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")  # pyspark 4.0 on pandas 3
        yield


class Engine:
    """An Ibis connection and how to run an expression on it."""

    def __init__(self, name: str, con):
        self.name = name
        self.con = con

    def run(self, expr) -> pd.DataFrame:
        with _quiet():
            return self.con.to_pandas(expr)

    def table(self, source):
        """An Ibis table of ``source`` (DataFrame or files) on this engine."""
        with _quiet():
            return self._table(source)

    def _table(self, source):
        ibis = need("ibis", self.name)
        if isinstance(source, pd.DataFrame):
            return ibis.memtable(_plain(source))
        fmt, files = source_files(source)
        if self.name == "duckdb":
            if fmt == "parquet":
                return self.con.read_parquet(files)
            return _clean_names(self.con.read_csv(files, all_varchar=True, header=True, delim=_delimiter(files[0])))
        if self.name == "spark":
            session = self.con._session
            reader = session.read
            name = ibis.util.gen_name("calibrate_source")
            paths = [str(source)] if "://" in str(source) or Path(source).is_dir() else files
            if fmt == "parquet":
                sdf = reader.parquet(*paths)
            else:
                sdf = reader.csv(paths, header=True, inferSchema=False, sep=_delimiter(files[0]) if "://" not in files[0] else ",",
                                 encoding="UTF-8")
            sdf.createOrReplaceTempView(name)
            return _clean_names(self.con.table(name))
        raise InputError(
            "the postgres engine runs inside the store's PostgreSQL (--db URL); for files use --engine duckdb or spark.",
        )

    def close(self) -> None:
        if self.name == "postgres":
            self.con.disconnect()


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Columns an engine can take: extension dtypes (pandas strings, Arrow) become objects."""
    out = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)) or s.dtype == object:
            out[c] = s.astype(object).where(s.notna(), None)
        else:
            out[c] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


#: DuckDB's memory limit unless told otherwise (``--memory-limit``, ``CALIBRATE_DUCKDB_MEMORY``):
#: beyond it DuckDB spills to a temporary directory, so an archive larger than memory still
#: runs, and a shared machine keeps its memory
DUCKDB_MEMORY = "3GB"


def duckdb_engine(*, memory_limit: str | None = None, threads: int | None = None) -> Engine:
    need("duckdb", "duckdb")
    ibis = need("ibis", "duckdb")
    config = {"temp_directory": os.path.join(tempfile.gettempdir(), f"calibrate-duckdb-{os.getpid()}"),
              "memory_limit": memory_limit or os.environ.get("CALIBRATE_DUCKDB_MEMORY") or DUCKDB_MEMORY}
    if threads:
        config["threads"] = int(threads)
    try:
        return Engine("duckdb", ibis.duckdb.connect(**config))
    except Exception as exc:  # a malformed memory limit
        raise InputError(f"DuckDB refused its settings: {exc}.", hint="Write the memory limit as e.g. 3GB.") from None


def postgres_engine(url: str) -> Engine:
    """Connect Ibis to PostgreSQL as the URL's role (``postgresql[+psycopg]://…``)."""
    psycopg = need("psycopg", "postgres")
    ibis = need("ibis", "postgres")
    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise InputError(f"--engine postgres needs a PostgreSQL URL (--db); got a {u.drivername} database.")
    params = {"host": u.host, "port": u.port, "user": u.username, "password": u.password, "dbname": u.database,
              **{k: v for k, v in u.query.items() if isinstance(v, str)}}
    conn = psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True)
    # Analysis queries over whole tables: PostgreSQL underestimates how many rows survive
    # the current-judgement rule (``id = max(id) over (...)``, 0.5 %) and would then join
    # them in a nested loop and group them by sorting text; hash joins and hash aggregates
    # are right here. Session settings any role may change, for this connection only.
    conn.execute("SET enable_nestloop = off")
    conn.execute("SET enable_sort = off")
    return Engine("postgres", ibis.postgres.from_connection(conn))


def spark_engine(session=None) -> Engine:
    need("pyspark", "spark")
    ibis = need("ibis", "spark")
    if session is None:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession() or SparkSession.builder.appName("calibrate-agreement").getOrCreate()
    return Engine("spark", ibis.pyspark.connect(session))


def current_judgements(engine: Engine, by: tuple[str, ...]):
    """The store's current judgements as an Ibis table with the score table's columns:
    per (session, case, rater, item) the row with the highest id, as ``Store.scores``.
    Runs inside PostgreSQL as the connected role (row-level security applies)."""
    con = engine.con
    j = con.table("judgements")
    m = j.mutate(cal_latest=j.id.max().over(group_by=[j.session_id, j.case_id, j.rater_id, j.item_id]))
    cur = m.filter(m.id == m.cal_latest)
    items = con.table("items")
    it = items.select(cal_item=items.id, kind=items.kind)
    cur = cur.join(it, cur.item_id == it.cal_item)
    if "session_date" in by:
        s = con.table("sessions")
        s = s.select(cal_session=s.id, session_date=s.session_date)
        cur = cur.join(s, cur.session_id == s.cal_session)
    cols = {"session": cur.session_id, "case": cur.case_id, "rater": cur.rater_id, "item": cur.item_id,
            "kind": cur.kind, "value": cur.value}
    if "session_date" in by:
        cols["session_date"] = cur.session_date
    return cur.select(**cols)
