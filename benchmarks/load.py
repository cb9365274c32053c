"""Load test: 30 assessors press `Opslaan` at once, on SQLite and on a real PostgreSQL.

Each simulated assessor is a separate process (like a JupyterHub kernel) with its own
store connection. All start together; each saves a fully scored case — every assessable
item of ``han-wpl2-2025`` (123) — ``--saves`` times, changing every value each time so
that every save appends a full set of rows. Afterwards the store's history is compared
with what the assessors were told was saved:

* **lost**: judgements of an acknowledged save that are not in the store;
* **duplicated**: judgement rows in the store beyond those saves;
* **partial**: saves stored with fewer or more rows than the case has items.

PostgreSQL runs in a throwaway cluster in a temporary directory on 127.0.0.1 (started and
removed by this script); by default with the server's durable defaults (fsync and
synchronous commit on), and the assessors connect through their own database roles with
row-level security (``calibrate.store.access``), as a team would. ``--pg-owner`` adds a
run where everyone connects as the owner.

Run:  uv run python benchmarks/load.py [--assessors 30] [--saves 20] [--think 0]
Exit status 1 when anything was lost, duplicated or partially saved.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from calibrate.devtools.pgserver import ThrowawayPostgres

SESSION = "K-LOAD"
CASES = ("C01", "C02")
FRAMEWORK = "han-wpl2-2025"

# realistic choices: most indicators are seen, levels around "bekwaam"
WEIGHTS = {
    "indicator": {"gezien": 0.62, "niet gezien": 0.33, "n.v.t.": 0.05},
    "level": {"2": 0.05, "3": 0.25, "4": 0.4, "5": 0.25, "6": 0.05},
    "phase": {"begin": 0.25, "groei": 0.55, "vergevorderd": 0.2},
    "verdict": {"niet voldaan": 0.3, "voldaan": 0.7},
    "decision": {"no go": 0.3, "go": 0.7},
}


# ----------------------------------------------------------------------- the plan
def assessable_items():
    from calibrate.frameworks import load_framework

    return [(i.id, i.kind) for i in load_framework(FRAMEWORK).items() if i.assessed]


def plan(rater: str, saves: int, items) -> list[dict[str, str]]:
    """The values ``rater`` saves each time: realistic, and every item changes every save."""
    rng = random.Random(f"{rater}-plan")
    out: list[dict[str, str]] = []
    prev: dict[str, str] = {}
    for _ in range(saves):
        vals = {}
        for item, kind in items:
            choices = {v: w for v, w in WEIGHTS[kind].items() if v != prev.get(item)}
            vals[item] = rng.choices(list(choices), weights=list(choices.values()))[0]
        out.append(vals)
        prev = vals
    return out


def rater_ids(n: int) -> list[str]:
    return [f"B{i:02d}" for i in range(1, n + 1)]


# ------------------------------------------------------------------------ workers
def _assessor(url, rater, case, saves, items, think, barrier, results):
    """One assessor's kernel: open the store, wait for the others, save ``saves`` times."""
    from calibrate.scoring import ScoringSession
    from calibrate.store import Store

    acks, errors = [], []
    try:
        store = Store.open(db_url=url)
        # what the app does before the first save: open the session and the case's form
        ScoringSession.open(store, rater, SESSION).form(case)
        values = plan(rater, saves, items)
        rng = random.Random(rater)
    except Exception as exc:  # report, don't hang the barrier
        barrier.abort()
        results.put((rater, [], [f"open: {type(exc).__name__}: {exc}"]))
        return
    try:
        barrier.wait(timeout=300)
    except Exception:
        results.put((rater, [], ["barrier broken"]))
        return
    for s in range(saves):
        t0 = time.perf_counter()
        try:
            n = store.save_judgements(SESSION, case, rater, values[s])
        except Exception as exc:
            errors.append(f"save {s}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        acks.append((s, n, time.perf_counter() - t0))
        if think:
            time.sleep(rng.uniform(0, think))
    store.close()
    results.put((rater, acks, errors))


def _lcs(a: list, b: list) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


@dataclass
class Result:
    backend: str
    assessors: int
    saves: int
    acknowledged: int
    failed: int
    rows: int
    lost: int
    duplicated: int
    partial: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    wall_s: float
    errors: list


def verify(store, acks_by_rater, plans, n_items) -> tuple[int, int, int, int]:
    """Compare the stored history with the acknowledged saves: (rows, lost, duplicated, partial)."""
    hist = store.scores(SESSION, history=True)
    rows = len(hist)
    lost = dup = 0
    for rater, acks in acks_by_rater.items():
        mine = hist[hist["rater"] == rater]
        acked = sorted(s for s, _, _ in acks)
        for item, grp in mine.groupby("item", sort=False):
            stored = list(grp["value"])
            expected = [plans[rater][s][item] for s in acked]
            common = _lcs(expected, stored)
            lost += len(expected) - common
            dup += len(stored) - common
        seen_items = set(mine["item"])
        for item in plans[rater][0]:
            if item not in seen_items:
                lost += len(acked)
    sizes = hist.groupby(["rater", "saved_at"]).size()
    partial = int((sizes != n_items).sum())
    return rows, lost, dup, partial


def quiesce(owner_url: str) -> None:
    """Start each back end's run from a quiet machine: write out what earlier runs left in
    the page cache and, on PostgreSQL, checkpoint, so that no run pays for the previous
    one's disk writes."""
    import sqlalchemy as sa

    from calibrate.store.engine import make_engine

    if owner_url.startswith("postgresql"):
        engine = make_engine(owner_url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("CHECKPOINT"))
        engine.dispose()
    os.sync()
    time.sleep(1)


def run_backend(backend: str, url: str, owner_url: str, args, items, assessor_urls=None) -> Result:
    from calibrate.store import Store

    raters = rater_ids(args.assessors)
    plans = {r: plan(r, args.saves, items) for r in raters}
    quiesce(owner_url)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.assessors + 1)
    results = ctx.Queue()
    procs = []
    for k, r in enumerate(raters):
        u = assessor_urls[r] if assessor_urls else url
        p = ctx.Process(target=_assessor, args=(u, r, CASES[k % len(CASES)], args.saves, items, args.think, barrier, results))
        p.start()
        procs.append(p)
    barrier.wait(timeout=300)
    t0 = time.perf_counter()
    collected = {}
    deadline = time.monotonic() + args.timeout
    while len(collected) < len(raters) and time.monotonic() < deadline:
        try:
            rater, acks, errors = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            break
        collected[rater] = (acks, errors)
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
            p.join()
    errors = [f"{r}: {e}" for r, (_, errs) in collected.items() for e in errs]
    missing = [r for r in raters if r not in collected]
    errors += [f"{r}: no report (timed out or crashed)" for r in missing]
    acks_by_rater = {r: collected.get(r, ([], []))[0] for r in raters}
    lat = sorted(dt for acks in acks_by_rater.values() for _, _, dt in acks)
    with Store.open(db_url=owner_url) as owner:
        rows, lost, dup, partial = verify(owner, acks_by_rater, plans, len(items))
    n_ack = len(lat)

    def pct(q):
        return 1000 * lat[min(len(lat) - 1, int(round(q * (len(lat) - 1))))] if lat else float("nan")

    return Result(backend, args.assessors, args.saves, n_ack, args.assessors * args.saves - n_ack, rows, lost, dup, partial,
                  pct(0.5), pct(0.95), 1000 * lat[-1] if lat else float("nan"), wall, errors)


def prepare(url: str, raters: list[str]):
    import pandas as pd

    from calibrate.store import Store

    with Store.open(db_url=url) as st:
        # the facilitator's set-up makes the pseudonym key once, before the assessors start
        # (privacy.load_or_create_key is not safe when many kernels create it at once)
        st.note_pseudonymiser()
        st.import_cases(pd.DataFrame({"case": list(CASES), "title": ["Les 1", "Les 2"], "text": ["Lesverslag.", "Lesverslag."]}))
        st.create_session(SESSION, "2026-11-23", framework=FRAMEWORK, cases=list(CASES), raters=raters, title="Belastingtest")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assessors", type=int, default=30)
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--think", type=float, default=0.0, help="max seconds an assessor pauses between saves (uniform); 0 = back to back")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-owner", action="store_true", help="also run PostgreSQL with everyone connected as the owner (no RLS)")
    ap.add_argument("--pg-fast", action="store_true", help="PostgreSQL with fsync/synchronous_commit off (as the tests run it)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a back end's run is abandoned")
    args = ap.parse_args(argv)
    if not (1 <= args.assessors <= 150 and 1 <= args.saves <= 1000):
        ap.error("--assessors must be 1..150 and --saves 1..1000")

    os.environ.setdefault("CALIBRATE_PSEUDONYM_KEY", uuid.uuid4().hex + uuid.uuid4().hex)
    items = assessable_items()
    raters = rater_ids(args.assessors)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"{args.assessors} assessors x {args.saves} saves of a fully scored case ({len(items)} items of {FRAMEWORK}), "
          f"think time 0..{args.think:g} s, {os.cpu_count()} CPU(s)", flush=True)
    results: list[Result] = []
    tmp = Path(tempfile.mkdtemp(prefix="calibrate-load-"))
    server = None
    try:
        if "sqlite" in backends:
            from calibrate.store.engine import workspace_url

            url = workspace_url(tmp / "ws")
            prepare(url, raters)
            results.append(run_backend("sqlite", url, url, args, items))
            print(_row(results[-1]), flush=True)
        if "postgresql" in backends:
            from calibrate.store import Store
            from calibrate.store.access import create_assessor, enable_row_level_security

            server = ThrowawayPostgres(fast=args.pg_fast, prefix="calibrate-load-pg-").start()
            if args.pg_owner:
                url = server.createdb()
                prepare(url, raters)
                results.append(run_backend("postgresql (owner)", url, url, args, items))
                print(_row(results[-1]), flush=True)
            url = server.createdb()
            prepare(url, raters)
            with Store.open(db_url=url) as owner:
                enable_row_level_security(owner)
                urls = {r: create_assessor(owner, r, f"pw-{uuid.uuid4().hex}") for r in raters}
            results.append(run_backend("postgresql (roles+RLS)", url, url, args, items, assessor_urls=urls))
            print(_row(results[-1]), flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(_table(results))
    bad = [r for r in results if r.lost or r.duplicated or r.partial]
    for r in results:
        for e in r.errors[:10]:
            print(f"  {r.backend}: {e}", file=sys.stderr)
    if any("postgresql" in r.backend and r.p95_ms >= 200 for r in results):
        print("note: PostgreSQL p95 is above the 200 ms target.")
    return 1 if bad or any(r.failed for r in results) else 0


HEADER = ("back end", "assessors", "saves", "acked", "failed", "rows", "lost", "duplicated", "partial", "p50 ms", "p95 ms", "max ms", "wall s")


def _cells(r: Result):
    return (r.backend, r.assessors, r.assessors * r.saves, r.acknowledged, r.failed, r.rows, r.lost, r.duplicated, r.partial,
            f"{r.p50_ms:.0f}", f"{r.p95_ms:.0f}", f"{r.max_ms:.0f}", f"{r.wall_s:.1f}")


def _row(r: Result) -> str:
    return "  ".join(f"{h}={v}" for h, v in zip(HEADER, _cells(r)))


def _table(results) -> str:
    rows = [HEADER] + [tuple(str(c) for c in _cells(r)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
