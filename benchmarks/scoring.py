"""Benchmark of the scoring app against the targets of issue 4 (not a timed test).

1. Building the form part for the largest built-in leeruitkomst (most indicators), measured
   inside a real Jupyter kernel (widgets open comms there) — target < 0.5 s.
2. Saving a fully scored case (every assessable item with a value and an evidence note) on
   SQLite, through the blind RaterView as the app does — target < 100 ms.

Run:  uv run --no-sync python benchmarks/scoring.py [--workspace DEMO_WS] [--repeat N]

Without --workspace a demo workspace is built in a temporary folder (about 10 s); the
benchmark always works on a copy, so the given workspace is never changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

FORM_TARGET_S = 0.5
SAVE_TARGET_S = 0.100

_KERNEL_CODE = r"""
import json, time, statistics
from calibrate.store import Store
from calibrate.scoring import ScoringSession
from calibrate.widgets.scoring import ScoringForm

st = Store.open({ws!r})
s = ScoringSession.open(st, "B01")
t0 = time.perf_counter(); app = ScoringForm(s); t_open = time.perf_counter() - t0
fw = s.framework
largest = max(fw.outcomes, key=lambda o: len(o.indicators))
times = []
for _ in range({repeat}):
    t0 = time.perf_counter()
    part = app._outcome_part(largest)
    times.append(time.perf_counter() - t0)
with open({out!r}, "w") as fh:
    json.dump({{"outcome": largest.id, "n_indicators": len(largest.indicators),
               "median": statistics.median(times), "max": max(times), "open": t_open}}, fh)
"""


def _demo(workspace: str | None, tmp: Path) -> Path:
    ws = tmp / "ws"
    if workspace:
        shutil.copytree(workspace, ws)
    else:
        from calibrate.demo import build_demo

        build_demo(ws, report=False, quiet=True)
    return ws


def form_build_in_kernel(ws: Path, repeat: int) -> dict:
    from jupyter_client.manager import start_new_kernel

    out = ws.parent / "form-build.json"
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.execute_interactive(
            _KERNEL_CODE.format(ws=str(ws), repeat=repeat, out=str(out)), output_hook=lambda _msg: None, timeout=300
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    content = reply["content"]
    if content["status"] != "ok" or not out.exists():
        raise RuntimeError(f"the benchmark failed in the kernel: {content.get('ename')}: {content.get('evalue')}")
    return json.loads(out.read_text())


def save_latency(ws: Path) -> dict:
    from calibrate.scoring import ScoringSession
    from calibrate.store import Store

    note = "De student liep naar het groepje achterin en benoemde het gewenste gedrag."
    times = []
    with Store.open(ws) as st:
        sessions = st.sessions()
        upcoming = str(sessions.loc[~sessions["revealed"], "session"].iloc[-1])
        for rater in st.session_raters(upcoming):
            s = ScoringSession.open(st, rater, upcoming)
            for case in s.case_ids:
                form = s.form(case)
                for item in form.assessable_items:
                    form.set_value(item.id, form.choices(item.id)[0])
                    form.set_note(item.id, f"{note} ({item.id})")
                t0 = time.perf_counter()
                res = s.save(form)
                times.append(time.perf_counter() - t0)
                assert res.complete and res.appended == len(form.assessable_items)
    return {"n_items": len(form.assessable_items), "first": times[0], "warm": times[1:],
            "median": statistics.median(times[1:]), "max": max(times[1:])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", help="a demo workspace to copy (default: build one)")
    ap.add_argument("--repeat", type=int, default=5, help="form builds to time (default 5)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="calibrate-bench-") as tmp:
        ws = _demo(args.workspace, Path(tmp))
        form = form_build_in_kernel(ws, args.repeat)
        save = save_latency(ws)
    ok_form = form["max"] < FORM_TARGET_S
    ok_save = save["median"] < SAVE_TARGET_S
    print(f"form build, largest leeruitkomst '{form['outcome']}' ({form['n_indicators']} indicators), in a kernel: "
          f"median {form['median'] * 1000:.0f} ms, max {form['max'] * 1000:.0f} ms "
          f"(target < {FORM_TARGET_S * 1000:.0f} ms) {'OK' if ok_form else 'MISSED'}")
    print(f"  (whole app opening on a case, first part included: {form['open'] * 1000:.0f} ms)")
    print(f"save of a fully scored case ({save['n_items']} items with notes), SQLite: "
          f"median {save['median'] * 1000:.1f} ms, max {save['max'] * 1000:.1f} ms over {len(save['warm'])} saves "
          f"(target < {SAVE_TARGET_S * 1000:.0f} ms) {'OK' if ok_save else 'MISSED'}")
    print(f"  (first save of the process, pseudonymiser set-up included: {save['first'] * 1000:.1f} ms)")
    return 0 if ok_form and ok_save else 1


if __name__ == "__main__":
    sys.exit(main())
