"""Reading the current judgements through the store's columnar snapshot.

``Store.coded_scores(notes=False)`` on a SQLite workspace, three ways, each in a fresh
process, interleaved, best of ``--repeat``:

* **cold** — no snapshot yet: the read goes to the database and writes the snapshot;
* **warm** — the next read: the snapshot plus the (empty) tail;
* **uncached** — ``read(..., snapshot=False)``, the database only (what cold costs
  without writing the snapshot);

against ``pyarrow.parquet.read_table`` of the same columns of the same rows (the floor of
``benchmarks/store.py``). Target (issue 19): ≥ 2 M rows/s, within 4× of Parquet. The
workspace is read, and its ``.cache`` snapshot replaced; nothing else in it changes. Run::

    uv run --no-sync python benchmarks/read_snapshot.py --workspace /tmp/bench-ws
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from store import _PARQUET, parquet_of, spread, timed_child  # noqa: E402  (the read floor of benchmarks/store.py)

_READ = """
import resource, sys, time
import pandas, pyarrow.compute, pyarrow.ipc  # imported before the clock starts, as in a running app
from calibrate.store import Store, reader, snapshot
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
mode = sys.argv[2]
with Store.open(sys.argv[1], create=False) as st:
    path = snapshot.path_for(st.engine, reader.t.judgements)
    if mode in ("cold", "uncached") and path.exists():
        path.unlink()
    if mode == "warm" and not path.exists():
        reader.read(st, notes=False)
    t0, c0 = time.perf_counter(), cpu()
    coded = reader.read(st, notes=False, snapshot=(mode != "uncached"))
    seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
    assert (mode == "uncached") != path.exists()
print("SECONDS", seconds, "ROWS", len(coded), "CPU", cpu_s)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, required=True, help="a SQLite workspace (its snapshot is replaced)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    ws = args.workspace
    with tempfile.TemporaryDirectory() as tmp:
        pq_path = Path(tmp) / "judgements.parquet"
        parquet_of(ws, pq_path)
        times: dict[str, list[float]] = {m: [] for m in ("cold", "warm", "uncached", "parquet")}
        rows = 0
        for _ in range(args.repeat):
            for mode in ("cold", "warm", "uncached"):
                s, rows, _cpu = timed_child(_READ, str(ws), mode)
                times[mode].append(s)
            s, pq_rows, _cpu = timed_child(_PARQUET, str(pq_path))
            times["parquet"].append(s)
    floor = pq_rows / min(times["parquet"])
    print(f"Reading the current judgements of {ws.name} ({rows:,} rows; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores)")
    for mode, label in (("cold", "cold (writes the snapshot)"), ("warm", "warm (snapshot + tail)"),
                        ("uncached", "uncached (snapshot=False)")):
        rate = rows / min(times[mode])
        print(f"  {label:28}: {rate:11,.0f} rows/s  ({spread(times[mode])})  {floor / rate:5.1f}x Parquet's time")
    print(f"  {'pyarrow.parquet.read_table':28}: {floor:11,.0f} rows/s  ({spread(times['parquet'])})")
    warm = rows / min(times["warm"])
    ok = warm >= 2_000_000 and floor / warm <= 4
    print(f"  target (warm >= 2 M rows/s, within 4x of Parquet): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
