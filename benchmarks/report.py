"""Benchmark: the full kalibreersessie report at research scale.

20 sessions x 100 cases x 30 assessors x 45 items = 2.7 million judgements, simulated
with planted effects, stored in a SQLite workspace in a temporary directory. Building the
store is timed separately; then ``write_report`` runs in a child process whose wall time
and memory are compared with the targets: under 10 s and under 1 GB on a 2-core machine.
The memory is the peak of the PSS of the report's processes together (the report and the
worker it forks; ``/proc/PID/smaps_rollup`` sampled every 50 ms: a page the two share
counts once), printed beside the sum of their RSS peaks (``ru_maxrss``), an upper bound
that counts the shared pages twice. The child also prints the time of
each phase of the report (starting Python and importing, reading, each analysis, the
figures, the page), so a slow phase shows where it is, and the CPU time of its own process
and of the worker that computes the model sections beside it when
``CALIBRATE_REPORT_WORKERS=2`` (see docs/report.md). On a shared machine the wall time
follows the load; the CPU times less so.

Run::

    uv run --no-sync python benchmarks/report.py            # HTML report
    uv run --no-sync python benchmarks/report.py --format json --keep /tmp/bench-ws

``--keep DIR`` builds (or reuses) the workspace in DIR instead of a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 10.0
TARGET_BYTES = 1024**3

N_SESSIONS, N_CASES, N_RATERS, N_ITEMS = 20, 100, 30, 45


def benchmark_items(framework) -> list[str]:
    """45 items of the built-in framework: 30 indicators, 5 levels, 3 verdicts, 6 phases, the decision."""
    items = [i for i in framework.items() if i.assessed]
    by_kind = {k: [i.id for i in items if i.kind == k] for k in ("indicator", "level", "verdict", "phase", "decision")}
    chosen = by_kind["indicator"][:30] + by_kind["level"][:5] + by_kind["verdict"][:3] + by_kind["phase"][:6] + by_kind["decision"][:1]
    if len(chosen) != N_ITEMS:  # pragma: no cover - the framework is fixed
        raise SystemExit(f"expected {N_ITEMS} items, found {len(chosen)}")
    return chosen


def build_store(workspace: Path) -> dict:
    """Simulate the research-scale design and import it into a new workspace."""
    from calibrate.frameworks import load_framework
    from calibrate.devtools.simulate import SimulationConfig, simulate
    from calibrate.schema import DEFAULT_FRAMEWORK
    from calibrate.store import Store

    fw = load_framework(DEFAULT_FRAMEWORK)
    items = benchmark_items(fw)
    config = SimulationConfig(
        items=items, n_sessions=N_SESSIONS, n_raters=N_RATERS, cases_per_session=N_CASES,
        lenient_raters={"B03": 0.8}, drifting_raters={"B05": -0.08},
        drifting_items={items[1]: 0.15, items[7]: -0.15}, noisy_items={items[12]: 0.15},
        with_notes=True, seed=7,
    )
    t0 = time.perf_counter()
    sim = simulate(fw, config)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    store = Store.open(workspace)
    try:
        store.ensure_framework(fw)
        store.import_scores(sim.scores, source="benchmark")
        store.import_consensus(sim.consensus, source="benchmark")
    finally:
        store.close()
    t_import = time.perf_counter() - t0
    return {"judgements": len(sim.scores), "simulate_s": t_sim, "import_s": t_import, "planted": sim.planted}


_CHILD = """
import sys, time
t0 = float(sys.argv[3])  # when the parent started this process (time.time())
from calibrate.store import Store
from calibrate.report import write_report
from calibrate.cli import prepare_report_process
prepare_report_process()  # as `calibrate report` prepares its process
marks = [("starting Python and importing", t0), ("opening the store", time.time())]
with Store.open(sys.argv[1]) as store:
    write_report(store, sys.argv[2], step=lambda msg: marks.append((msg, time.time())))
marks.append(("end", time.time()))
for (name, a), (_, b) in zip(marks, marks[1:]):
    print(f"PHASE {b - a:7.2f} s  {name}", file=sys.stderr)
import resource
own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"CPU   {own.ru_utime + own.ru_stime:7.2f} s  this process (user + system); "
      f"{workers.ru_utime + workers.ru_stime:.2f} s in its worker processes", file=sys.stderr)
print(f"RSS {own.ru_maxrss} {workers.ru_maxrss}", file=sys.stderr)  # KiB: the report's process, its largest worker
print(f"WALL {time.time() - t0:.3f}", file=sys.stderr)
"""


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _pss_kib(pid: int) -> int:
    """Proportional set size of one process: its private pages plus its share of the
    pages it shares (a page shared by the report and its worker counts half in each)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class PssSampler:
    """The largest sum of PSS over a process and its descendants, sampled every
    ``interval`` seconds in a thread: what the report's processes hold together, shared
    pages once (the sum of their RSS peaks counts them in every process)."""

    def __init__(self, pid: int, interval: float = 0.05):
        import threading

        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_pss_kib(p) for p in _tree(self.pid)))
            self._stop.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak * 1024


def time_report(workspace: Path, out: Path) -> tuple[float, int, int]:
    """Run write_report in a child process; return (wall seconds, peak memory bytes, exit
    code). The memory is the peak of the processes' PSS together where ``/proc`` has it
    (Linux), else the peak RSS (the report's process, plus its worker's when one ran: an
    upper bound, shared pages twice); both are printed."""
    t0 = time.perf_counter()
    # as `calibrate report` runs it: the environment the command sets before NumPy is
    # imported; the child then prepares its process as the command does (the model
    # sections in a worker where a core is free)
    from calibrate.cli import PROCESS_ENVIRONMENT

    env = {**PROCESS_ENVIRONMENT, **os.environ}
    print(f"CALIBRATE_REPORT_WORKERS={env.get('CALIBRATE_REPORT_WORKERS', 'auto')} "
          f"NUMPY_MADVISE_HUGEPAGE={env['NUMPY_MADVISE_HUGEPAGE']} (load average {os.getloadavg()[0]:.1f})")
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(workspace), str(out), repr(time.time())],
                            stderr=subprocess.PIPE, text=True, env=env)
    sampler = PssSampler(proc.pid) if os.path.exists(f"/proc/{proc.pid}/smaps_rollup") else None
    stderr = proc.communicate()[1]
    wall = time.perf_counter() - t0
    pss = sampler.stop() if sampler is not None else 0
    print("\n".join(ln for ln in stderr.splitlines() if ln.startswith(("PHASE", "CPU"))))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    rss = [ln.split()[1:] for ln in stderr.splitlines() if ln.startswith("RSS ")]
    if rss and int(rss[0][1]) > 0:  # a worker ran: count both peaks (an upper bound: shared pages twice)
        own, worker = (int(v) * 1024 for v in rss[0])
        print(f"peak RSS of the report's process {own / 1024**3:.2f} GB + its worker {worker / 1024**3:.2f} GB "
              f"= {(own + worker) / 1024**3:.2f} GB (an upper bound: the pages they share counted twice)")
        peak = own + worker
    if pss:
        print(f"peak PSS of the report's processes together: {pss / 1024**3:.2f} GB (sampled every 50 ms)")
        peak = pss
    return wall, peak, proc.returncode


def machine_speed(loops: int = 10_000_000) -> float:
    """Seconds one core takes for a fixed pure-Python loop, measured before the report: the
    shared machine's speed varies by half or more over a day, and this hints at which state
    the report's wall time was measured in (0.34–0.45 s on the 2-core machine of these notes
    in its fast periods; a short loop, so itself noisy)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=["html", "json", "pdf"], default="html")
    parser.add_argument("--keep", type=Path, default=None, help="build (or reuse) the workspace here")
    args = parser.parse_args(argv)

    tmp = None
    if args.keep is None:
        tmp = Path(tempfile.mkdtemp(prefix="calibrate-bench-"))
        ws = tmp / "ws"
    else:
        ws = args.keep
    try:
        if (ws / "calibrate.sqlite").exists():
            print(f"Reusing the workspace {ws}")
        else:
            print(f"Building {N_SESSIONS} sessions x {N_CASES} cases x {N_RATERS} assessors x {N_ITEMS} items ...", flush=True)
            info = build_store(ws)
            print(f"  {info['judgements']:,} judgements; simulate {info['simulate_s']:.1f} s, import into SQLite {info['import_s']:.1f} s")
        out = ws.parent / f"rapport-benchmark.{args.format}"
        print(f"machine speed: {machine_speed():.2f} s for the reference loop (0.34–0.45 s in the machine's fast periods)")
        wall, peak, rc = time_report(ws, out)
        if rc != 0:
            print(f"write_report failed with exit code {rc}")
            return 1
        size = out.stat().st_size
        print()
        print(f"report ({args.format}): {size / 1024:.0f} KiB")
        print(f"wall time : {wall:6.1f} s   (target < {TARGET_SECONDS:.0f} s)   {'OK' if wall < TARGET_SECONDS else 'TOO SLOW'}")
        print(f"memory    : {peak / 1024**3:6.2f} GB  (target < {TARGET_BYTES / 1024**3:.0f} GB)   {'OK' if peak < TARGET_BYTES else 'TOO MUCH'}")
        return 0 if (wall < TARGET_SECONDS and peak < TARGET_BYTES) else 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
