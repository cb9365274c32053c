"""Benchmark: the store's bulk paths against the floor of the same engine, in one run.

* **SQLite import** — ``calibrate import scores FILE.csv`` (read, validate, pseudonymise,
  write; in a child process) against the floor: the same rows, already parsed, inserted
  with one ``executemany`` in one transaction into the same schema (sessions, cases,
  raters and memberships made beforehand, untimed), with its keys, index and per-row
  scale trigger as they are. Target: ≥ 0.7× the floor's rows/s. (The import itself checks
  the scale once per distinct (item, value) pair instead of by the trigger, which it drops
  and puts back inside its transaction — ``calibrate.store.bulk``; the floor keeps the
  trigger.) Its time, memory and CPU count the import's own check-stage child.
* **PostgreSQL import** (``--pg``, a throwaway server on loopback) — the same command
  with ``--db`` against ``COPY`` of the same CSV into a staging table and one
  ``INSERT … SELECT`` into ``judgements``. Target: within 2× of the floor's time.
* **Reading the current judgements** — ``Store.coded_scores(notes=False, stamps=False)`` (the
  store's one reader, as the report calls it) against ``pyarrow.parquet.read_table`` of the
  same rows and columns. Targets: ≥ 2 M rows/s, within
  4× of Parquet. ``--read-workspace DIR`` reads a workspace made elsewhere (e.g. the
  2.7-million-judgement one of ``benchmarks/report.py --keep DIR``). ``--int-keys`` also reads
  an integer-key copy of that workspace's judgements (the schema-4 prototype: session, case,
  rater and item as integer keys, packed into one integer by SQLite) and checks that it gives
  the same table as the text ids.
* **Peak memory of a large import** (``--big N``, e.g. 5000000) — peak resident memory of
  the import command on an N-row file. Target: < 1 GB.

Runs are interleaved (ours, floor, ours, floor, …); the best of ``--repeat`` is compared
and the spread is printed. Run::

    uv run --no-sync python benchmarks/store.py --rows 1000000 --repeat 3 --pg
    uv run --no-sync python benchmarks/store.py --rows 200000 --big 5000000 --read-workspace /tmp/bench-ws
    uv run --no-sync python benchmarks/store.py --read-workspace /tmp/bench-ws --read-only --int-keys
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SQLITE_RATIO = 0.7
PG_FACTOR = 2.0
READ_ROWS_PER_S = 2_000_000
READ_PARQUET_FACTOR = 4.0
PEAK_BYTES = 1024**3

N_SESSIONS, N_RATERS = 20, 30
NOTES = ["Zag een startopdracht op het bord; leerlingen gingen direct aan de slag.",
         "Stelde twee controlevragen en liet leerlingen op wisbordjes antwoorden.",
         "Benoemde het gewenste gedrag bij onrust achterin."]


# ------------------------------------------------------------------------- the file
def make_scores(n_rows: int, seed: int = 7) -> pd.DataFrame:
    """A valid score table of about ``n_rows`` judgements of the built-in framework: 20
    sessions x 30 assessors x 45 items x as many cases as it takes."""
    from calibrate.frameworks import load_framework
    from calibrate.schema import DEFAULT_FRAMEWORK, NOT_APPLICABLE

    fw = load_framework(DEFAULT_FRAMEWORK)
    items = [i for i in fw.items() if i.assessed]
    by_kind = {k: [i for i in items if i.kind == k] for k in ("indicator", "level", "verdict", "phase", "decision")}
    chosen = by_kind["indicator"][:30] + by_kind["level"][:5] + by_kind["verdict"][:3] + by_kind["phase"][:6] + by_kind["decision"][:1]
    cases = max(1, math.ceil(n_rows / (N_SESSIONS * N_RATERS * len(chosen))))
    rng = np.random.default_rng(seed)
    s, c, r, i = np.meshgrid(np.arange(N_SESSIONS), np.arange(cases), np.arange(N_RATERS), np.arange(len(chosen)), indexing="ij")
    s, c, r, i = (a.ravel()[:n_rows] for a in (s, c, r, i))
    n = len(s)
    value = np.empty(n, dtype=object)
    for k, item in enumerate(chosen):
        m = i == k
        codes = list(item.codes) + ([NOT_APPLICABLE] if item.kind == "indicator" else [])
        p = None if item.kind != "indicator" else [0.33, 0.65, 0.02]
        value[m] = rng.choice(np.array(codes, dtype=object), int(m.sum()), p=p)
    dates = pd.date_range("2026-01-19", periods=N_SESSIONS, freq="56D").strftime("%Y-%m-%d").to_numpy()
    session_ids = np.array([f"K{k + 1:02d}-{d[:7]}" for k, d in enumerate(dates)], dtype=object)
    note = np.full(n, None, dtype=object)
    pick = rng.random(n) < 0.04
    note[pick] = rng.choice(np.array(NOTES, dtype=object), int(pick.sum()))
    return pd.DataFrame({
        "session": session_ids[s], "session_date": dates[s], "case": np.char.add("C", (s * cases + c).astype(str).astype("U7")),
        "rater": np.char.add("B", (r + 1).astype(str)), "item": np.array([it.id for it in chosen], dtype=object)[i],
        "kind": np.array([it.kind for it in chosen], dtype=object)[i], "value": value, "note": note,
        "scored_at": np.char.add(dates[s].astype("U10"), "T10:00:00+00:00"),
    })


def write_csv(df: pd.DataFrame, path: Path) -> None:
    for k in range(0, len(df), 500_000):
        df.iloc[k:k + 500_000].to_csv(path, mode="w" if k == 0 else "a", header=k == 0, index=False)


# ------------------------------------------------------------------------- children
# the peak is VmHWM of the child's own address space (ru_maxrss would carry over the
# parent's resident size at the fork) plus the largest peak of the processes it started
# itself (the import's check stage; ru_maxrss of those counts the pages they share with
# the import, so the sum is an upper bound); the CPU time counts both
_IMPORT = """
import resource, sys, time
from calibrate.cli import main
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
t0, c0 = time.perf_counter(), cpu()
rc = main(["import", "scores", sys.argv[1], *sys.argv[2:]])
seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] * 1024
hwm += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print("SECONDS", seconds, "PEAK", hwm, "CPU", cpu_s, "RC", rc)
"""


def run_import(csv: Path, target: list[str]) -> tuple[float, int, float]:
    """``calibrate import scores`` in a child process: (seconds of the import itself, peak
    RSS bytes with its own child's, CPU seconds with its own child's)."""
    out = subprocess.run([sys.executable, "-c", _IMPORT, str(csv), *target], capture_output=True, text=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("SECONDS")]
    if out.returncode != 0 or not line or not line[0].endswith("RC 0"):
        raise SystemExit(f"the import failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    parts = line[0].split()
    return float(parts[1]), int(parts[3]), float(parts[5])


def prepare_sqlite_floor(ws: Path, df: pd.DataFrame) -> tuple[str, list[tuple]]:
    """A workspace with the schema and every session, case, rater and membership of ``df``
    (untimed), and the judgement rows as tuples ready for ``executemany``."""
    from calibrate.store import Store

    head = df.drop_duplicates(["session", "case", "rater"]).copy()
    head["item"], head["kind"], head["value"], head["note"] = "besluit", "decision", "go", None
    with Store.open(ws) as st:
        st.import_scores(head.drop_duplicates(["session", "case", "rater"]), source="setup")
    db = str(ws / "calibrate.sqlite")
    con = sqlite3.connect(db)
    con.execute("DELETE FROM judgements")
    con.commit()
    con.close()
    rows = list(zip(df["session"], df["case"], df["rater"], df["item"], df["value"], df["note"], df["scored_at"],
                    ["2026-12-01T00:00:00+00:00"] * len(df), ["floor"] * len(df)))
    return db, rows


def sqlite_floor(db: str, rows: list[tuple]) -> tuple[float, float]:
    """One transaction, one executemany, into the same tables with the store's pragmas:
    (seconds, CPU seconds)."""
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("DELETE FROM judgements")
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, note, scored_at, saved_at, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    con.execute("DELETE FROM judgements")
    con.close()
    return seconds, cpu_s


def pg_floor(url: str, csv: Path) -> float:
    """``COPY`` the CSV into a staging table, then one ``INSERT … SELECT`` (keys checked by
    the database) — into a database where the sessions, cases and raters exist."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        con.execute("DELETE FROM judgements")
        con.commit()
        t0 = time.perf_counter()
        with con.transaction():
            con.execute("CREATE TEMP TABLE staging (session text, session_date text, \"case\" text, rater text, item text, "
                        "kind text, value text, note text, scored_at text) ON COMMIT DROP")
            with con.cursor() as cur, cur.copy("COPY staging FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with open(csv, "rb") as fh:
                    while block := fh.read(1 << 20):
                        copy.write(block)
            con.execute("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, note, scored_at, saved_at, source) "
                        "SELECT session, \"case\", rater, item, value, note, scored_at, '2026-12-01', 'floor' FROM staging")
        seconds = time.perf_counter() - t0
        con.execute("DELETE FROM judgements")
        con.commit()
    return seconds


# ------------------------------------------------------------------------- reading
# each child reads twice and reports the second read: the first pays for lazy imports
_READ = """
import resource, sys, time
from calibrate.store import Store
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
with Store.open(sys.argv[1], create=False) as st:
    for _ in range(2):
        t0, c0 = time.perf_counter(), cpu()
        coded = st.coded_scores(notes=False, stamps=False)  # what the report reads
        seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
    print("SECONDS", seconds, "ROWS", len(coded), "CPU", cpu_s)
"""

_PARQUET = """
import resource, sys, time
import pyarrow.parquet as pq
def cpu():
    a = resource.getrusage(resource.RUSAGE_SELF)
    return a.ru_utime + a.ru_stime
for _ in range(2):
    t0, c0 = time.perf_counter(), cpu()
    tb = pq.read_table(sys.argv[1])
    seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
print("SECONDS", seconds, "ROWS", tb.num_rows, "CPU", cpu_s)
"""


def timed_child(code: str, *args: str) -> tuple[float, int, float]:
    """(wall seconds, rows, CPU seconds of the process and its children) of a read."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("SECONDS")]
    if out.returncode != 0 or not line:
        raise SystemExit(f"the read failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    parts = line[0].split()
    return float(parts[1]), int(parts[3]), float(parts[5])


def parquet_of(ws: Path, path: Path) -> None:
    """The same columns the reader reads, of the same rows, as Parquet (untimed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    con = sqlite3.connect(str(ws / "calibrate.sqlite"))
    cur = con.execute("SELECT id, session_id, case_id, rater_id, item_id, value FROM judgements")
    names = [d[0] for d in cur.description]
    writer = None
    while rows := cur.fetchmany(500_000):
        cols = list(zip(*rows))
        tb = pa.table({n: pa.array(list(c)) for n, c in zip(names, cols)})
        writer = writer or pq.ParquetWriter(path, tb.schema)
        writer.write_table(tb)
    writer.close()
    con.close()


def spread(values: list[float]) -> str:
    return f"best {min(values):.2f} s, all {', '.join(f'{v:.2f}' for v in values)}"


# ------------------------------------------------------------------------- integer keys (a prototype)
# The measured next step for the read (schema version 4, not built yet): judgements holding
# integer keys of sessions, cases, raters and items instead of their text ids. This builds
# such a copy of a workspace's table (untimed) and reads it the way a version-4 reader would —
# the four keys packed into one integer by SQLite, the value as text (dictionary-encoded in
# the reader's child) — into the same CodedScores, which must equal the version-3 reader's.
_INT_KEYS_TABLE = """
CREATE TABLE judgements_int (id INTEGER PRIMARY KEY, session_key INTEGER NOT NULL, case_key INTEGER NOT NULL,
  rater_key INTEGER NOT NULL, item_key INTEGER NOT NULL, value VARCHAR(64), note TEXT, scored_at VARCHAR(40) NOT NULL,
  saved_at VARCHAR(40) NOT NULL, source VARCHAR(255));
INSERT INTO judgements_int SELECT j.id, s.rowid, c.rowid, r.rowid, i.rowid, j.value, j.note, j.scored_at, j.saved_at, j.source
  FROM judgements j JOIN sessions s ON s.id = j.session_id JOIN cases c ON c.id = j.case_id
  JOIN raters r ON r.id = j.rater_id JOIN items i ON i.id = j.item_id ORDER BY j.id;
CREATE INDEX ix_judgements_int_key ON judgements_int (session_key, case_key, rater_key, item_key, id);
"""

_READ_INT_KEYS = """
import json, resource, subprocess, sys, time
import numpy as np, pandas as pd, pyarrow as pa
from calibrate.schema import KINDS
from calibrate.scores import CodedScores, item_table, positions, session_time_order
from calibrate.store import Store, reader
from calibrate.store.latest import latest_in_key_order
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
DIMS = (("session", "sessions", "session_date"), ("case", "cases", None), ("rater", "raters", None), ("item", "items", "kind"))
def read_int_keys(st, db):
    with st.engine.connect() as conn:
        dims = {n: conn.exec_driver_sql(f"SELECT rowid, id{', ' + x if x else ''} FROM {tb}").all() for n, tb, x in DIMS}
        lo, hi = conn.exec_driver_sql("SELECT (SELECT min(id) FROM judgements_int), (SELECT max(id) FROM judgements_int)").one()
    span = {n: max(r[0] for r in rows) + 1 for n, rows in dims.items()}
    packed = f"(((session_key * {span['case']} + case_key) * {span['rater']} + rater_key) * {span['item']} + item_key)"
    edges = np.linspace(lo - 1, hi, max(1, min(8, (hi - lo + 1) // reader.PARTITION_ROWS)) + 1).astype(np.int64)
    queries = [[f"SELECT id, {packed} AS k, value FROM judgements_int WHERE id > ? AND id <= ?", [int(a), int(b)]]
               for a, b in zip(edges[:-1], edges[1:])]
    proc = subprocess.Popen([sys.executable, "-I", reader._CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write(json.dumps({"database": db, "queries": queries, "busy_ms": 60000, "workers": 2,
                                 "text": ["value"], "dictionary": ["value"]}).encode())
    proc.stdin.close()
    arrow = pa.ipc.open_stream(proc.stdout).read_all()
    assert proc.wait() == 0
    ids, k = arrow.column("id").to_numpy(), arrow.column("k").to_numpy()
    codes, labels = {}, {}
    for n in ("item", "rater", "case", "session"):
        k, codes[n] = np.divmod(k, span[n])
    for n, _, _ in DIMS:
        rows = dims[n]
        names = [r[1] for r in rows]
        order = (session_time_order(names, [r[2] for r in rows]) if n == "session"
                 else np.argsort(np.array(names, dtype=object), kind="stable"))
        rank = np.full(span[n], -1, dtype=np.int32)
        rank[np.array([rows[i][0] for i in order])] = np.arange(len(order), dtype=np.int32)
        c, lab = rank[codes[n]], [names[i] for i in order]
        used = np.bincount(c, minlength=len(lab)) > 0  # categories: the ids the table holds
        codes[n], labels[n] = (np.cumsum(used) - 1)[c].astype(np.int32), [x for x, u in zip(lab, used) if u]
    key = ("session", "case", "rater", "item")
    keep = latest_in_key_order(ids, [codes[n] for n in key], [len(labels[n]) for n in key])
    vcodes, vlabels = reader._dictionary(arrow.column("value"))
    vcodes = vcodes[keep]
    kinds = {r[1]: r[2] for r in dims["item"]}
    item_kinds = [kinds.get(i) for i in labels["item"]]
    items = item_table(labels["item"], item_kinds)
    frame = {n: pd.Categorical.from_codes(codes[n][keep], categories=pd.Index(labels[n], dtype=object),
                                          ordered=(n == "session")) for n in key}
    kind_cats = list(KINDS) + sorted({x for x in item_kinds if x is not None} - set(KINDS))
    icodes = codes["item"][keep]
    frame["kind"] = pd.Categorical.from_codes(np.array([kind_cats.index(x) for x in item_kinds])[icodes],
                                              categories=pd.Index(kind_cats, dtype=object))
    frame["value"] = pd.Categorical.from_codes(vcodes, categories=pd.Index(vlabels, dtype=object))
    df = pd.DataFrame(frame)
    df["position"] = positions(icodes, vcodes, vlabels, items)
    df["id"] = ids[keep]
    dates = {r[1]: r[2] for r in dims["session"]}
    return CodedScores(df, items, tuple(dates.get(x) for x in labels["session"]))
with Store.open(sys.argv[1], create=False) as st:
    db = str(st.engine.url.database)
    for _ in range(2):
        t0, c0 = time.perf_counter(), cpu()
        coded = read_int_keys(st, db) if sys.argv[2] == "int" else st.coded_scores(notes=False, stamps=False)
        seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
    if sys.argv[2] == "int":  # the same table as the version-3 reader's
        v3 = st.coded_scores(notes=False, stamps=False).frame
        assert list(coded.frame.columns) == list(v3.columns)
        for c in v3.columns:
            assert coded.frame[c].equals(v3[c]), c
    print("SECONDS", seconds, "ROWS", len(coded), "CPU", cpu_s)
"""


def compare_int_keys(read_ws: Path, tmp: Path, repeat: int) -> None:
    """The version-3 reader against the integer-key prototype on a copy of ``read_ws``,
    interleaved (figures only: no target is claimed for a table the store does not have)."""
    copy = tmp / "int-keys-ws"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(read_ws, copy)
    con = sqlite3.connect(str(copy / "calibrate.sqlite"))
    con.executescript(_INT_KEYS_TABLE)
    con.close()
    v3, v3_cpu, ik, ik_cpu = [], [], [], []
    rows = 0
    for _ in range(repeat):
        s, rows, c = timed_child(_READ_INT_KEYS, str(copy), "v3")
        v3.append(s)
        v3_cpu.append(c)
        s, _, c = timed_child(_READ_INT_KEYS, str(copy), "int")
        ik.append(s)
        ik_cpu.append(c)
    print(f"\nReading {rows:,} current judgements (notes=False, stamps=False): text ids (schema 3) vs integer keys "
          "(prototype, same CodedScores)")
    print(f"  text ids    : {rows / min(v3):11,.0f} rows/s  ({spread(v3)}; CPU best {min(v3_cpu):.2f} s)")
    print(f"  integer keys: {rows / min(ik):11,.0f} rows/s  ({spread(ik)}; CPU best {min(ik_cpu):.2f} s)")
    print(f"  (load average now {os.getloadavg()[0]:.1f})")


def compare_reads(read_ws: Path, tmp: Path, repeat: int) -> bool:
    """``Store.coded_scores()`` against Parquet of the same rows, interleaved; True when
    both read targets are met."""
    pq_path = tmp / "judgements.parquet"
    parquet_of(read_ws, pq_path)
    ours_r, pq_r, ours_cpu, pq_cpu = [], [], [], []
    rows_read = 0
    for _ in range(repeat):
        s, rows_read, c = timed_child(_READ, str(read_ws))
        ours_r.append(s)
        ours_cpu.append(c)
        s, _, c = timed_child(_PARQUET, str(pq_path))
        pq_r.append(s)
        pq_cpu.append(c)
    rate = rows_read / min(ours_r)
    factor = min(ours_r) / min(pq_r)
    print(f"\nReading the current judgements of {read_ws.name} ({rows_read:,} rows)")
    print(f"  Store.coded_scores()      : {rate:11,.0f} rows/s  ({spread(ours_r)})")
    print(f"  pyarrow.parquet.read_table: {rows_read / min(pq_r):11,.0f} rows/s  ({spread(pq_r)})")
    print(f"  {rate / 1e6:.2f} M rows/s (target >= {READ_ROWS_PER_S / 1e6:.0f} M): {'OK' if rate >= READ_ROWS_PER_S else 'BELOW TARGET'}; "
          f"{factor:.1f}x Parquet's time (target <= {READ_PARQUET_FACTOR:.0f}x): {'OK' if factor <= READ_PARQUET_FACTOR else 'ABOVE TARGET'}")
    print(f"  CPU time (user + system, with the reader's child; less sensitive to load): ours {min(ours_cpu):.2f} s, "
          f"Parquet {min(pq_cpu):.2f} s")
    print(f"  (load average now {os.getloadavg()[0]:.1f})")
    return rate >= READ_ROWS_PER_S and factor <= READ_PARQUET_FACTOR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the import file (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL (a throwaway server on loopback)")
    parser.add_argument("--big", type=int, default=0, help="rows of the large-import memory check (e.g. 5000000)")
    parser.add_argument("--read-workspace", type=Path, default=None, help="read this workspace instead of the imported one")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument("--read-only", action="store_true",
                        help="with --read-workspace: only the read comparison (no import runs)")
    parser.add_argument("--int-keys", action="store_true",
                        help="with --read-workspace: also read an integer-key copy of its judgements (the schema-4 "
                             "prototype) against the text ids, and check both give the same table")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} (timings on a shared machine vary)")
    tmp = Path(tempfile.mkdtemp(prefix="calibrate-store-bench-")) if args.keep is None else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    ok = True
    if args.read_only and args.read_workspace is None:
        parser.error("--read-only needs --read-workspace")
    try:
        if args.int_keys and args.read_workspace is not None:
            compare_int_keys(args.read_workspace, tmp, args.repeat)
        if args.read_only:
            return 0 if compare_reads(args.read_workspace, tmp, args.repeat) else 1
        df = make_scores(args.rows)
        csv = tmp / "scores.csv"
        write_csv(df, csv)
        n = len(df)
        print(f"\nfile: {n:,} judgements, {csv.stat().st_size / 1e6:.0f} MB")

        # ---------------------------------------------------------------- SQLite
        floor_ws = tmp / "floor-ws"
        db, rows = prepare_sqlite_floor(floor_ws, df)
        ours, floor, ours_cpu, floor_cpu = [], [], [], []
        for k in range(args.repeat):
            ws = tmp / f"ws{k}"
            shutil.rmtree(ws, ignore_errors=True)
            seconds, _, cpu_s = run_import(csv, ["--workspace", str(ws)])
            ours.append(seconds)
            ours_cpu.append(cpu_s)
            seconds, cpu_s = sqlite_floor(db, rows)
            floor.append(seconds)
            floor_cpu.append(cpu_s)
        del rows
        ratio = (n / min(ours)) / (n / min(floor))
        print("\nSQLite import")
        print(f"  calibrate import scores   : {n / min(ours):9,.0f} rows/s  ({spread(ours)})")
        print(f"  executemany, one transaction: {n / min(floor):7,.0f} rows/s  ({spread(floor)})")
        print(f"  ratio {ratio:.2f}x   (target >= {SQLITE_RATIO})   {'OK' if ratio >= SQLITE_RATIO else 'BELOW TARGET'}")
        print(f"  CPU time: ours {min(ours_cpu):.1f} s, floor {min(floor_cpu):.1f} s (the import reads and checks in a "
              f"child process while it inserts: its wall time gains only where a core is free)")
        ok &= ratio >= SQLITE_RATIO

        # ---------------------------------------------------------------- PostgreSQL
        if args.pg:
            from calibrate.devtools.pgserver import ThrowawayPostgres
            from calibrate.store import Store

            server = ThrowawayPostgres(fast=False)
            server.start()
            try:
                ours_pg, floor_pg = [], []
                floor_url = server.createdb("floor_")
                with Store.open(db_url=floor_url) as st:
                    head = df.drop_duplicates(["session", "case", "rater"]).assign(item="besluit", kind="decision", value="go", note=None)
                    st.import_scores(head, source="setup")
                for k in range(args.repeat):
                    url = server.createdb(f"ours{k}_")
                    ours_pg.append(run_import(csv, ["--db", url])[0])
                    floor_pg.append(pg_floor(floor_url, csv))
                factor = min(ours_pg) / min(floor_pg)
                print("\nPostgreSQL import")
                print(f"  calibrate import scores --db      : {n / min(ours_pg):9,.0f} rows/s  ({spread(ours_pg)})")
                print(f"  COPY + one INSERT ... SELECT      : {n / min(floor_pg):9,.0f} rows/s  ({spread(floor_pg)})")
                print(f"  time {factor:.2f}x the floor   (target <= {PG_FACTOR})   {'OK' if factor <= PG_FACTOR else 'ABOVE TARGET'}")
                ok &= factor <= PG_FACTOR
            finally:
                server.stop()

        # ---------------------------------------------------------------- reading
        ok &= compare_reads(args.read_workspace or (tmp / "ws0"), tmp, args.repeat)

        # ---------------------------------------------------------------- a big file
        if args.big:
            big = tmp / "big.csv"
            write_csv(make_scores(args.big, seed=11), big)
            seconds, peak, _ = run_import(big, ["--workspace", str(tmp / "big-ws")])
            print(f"\nLarge import: {args.big:,} rows in {seconds:.0f} s ({args.big / seconds:,.0f} rows/s), "
                  f"peak {peak / 1024**3:.2f} GB with its check stage's (target < 1 GB): {'OK' if peak < PEAK_BYTES else 'TOO MUCH'}")
            ok &= peak < PEAK_BYTES
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
