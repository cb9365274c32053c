"""Benchmark of reading framework files (not a timed test).

1. **Start-up**: a fresh process that imports ``calibrate.frameworks`` and loads the built-in
   ``han-wpl2-2025`` (as the app does at every start), against the floor measured in the same
   run: a fresh process that only parses the same five YAML files with libyaml
   (``yaml.CSafeLoader``). Medians of ``--repeat`` interleaved runs.
2. **Reload** in a warm process: ``load_framework("han-wpl2-2025")`` against
   ``yaml.CSafeLoader`` on the same files.
3. **Hostile files**, generated in a temporary folder and loaded in the warm process: the
   time to the ``FrameworkError`` and the peak memory Python allocated on the way
   (tracemalloc). Target for each: refused, in < 0.5 s, with < 20 MB. The largest shape that
   is accepted (a valid file just under the 1 MB limit) is shown against its libyaml parse.

Run:  uv run --no-sync python benchmarks/frameworks.py [--repeat 9]
Exit status 1 when a hostile file is not refused or misses its target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

from calibrate.errors import FrameworkError
from calibrate.frameworks import load_framework
from calibrate.frameworks.loader import DATA_DIR

REFUSE_TARGET_S = 0.5
REFUSE_TARGET_BYTES = 20e6

_HEADER = "schema_version: 1\nkind: framework\nid: x\nversion: '1'\ntitle: t\nsource: {file: a, section: b}\n"
_OUTCOME = "{id: o, name: O, description: d, assessment: formatief, dimensions: [{id: d, name: D, indicators: [a, b, c]}]}"

_OURS = "import calibrate.frameworks as f; f.load_framework('han-wpl2-2025')"
_FLOOR = (
    "import yaml, pathlib; "
    f"[yaml.load(p.read_text(encoding='utf-8'), Loader=yaml.CSafeLoader) for p in pathlib.Path({str(DATA_DIR)!r}).glob('*.yaml')]"
)


def _hostile(folder: Path) -> dict[str, Path]:
    """Files shaped like the attacks of issue 14, and the largest valid file."""
    laughs = [f"l0: &a0 [lol]"] + [f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    dims = "".join(
        f"      - id: d{d}\n        name: D\n        indicators: [{', '.join(repr(f'Je doet {i}.') for i in range(45))}]\n"
        for d in range(40)
    )
    texts = {
        "billion laughs (9 levels x 9 aliases, 536 bytes)": _HEADER + "\n".join(laughs) + "\noutcomes: *a9\n",
        "1.6 MB of aliases of one outcome (took 52 s before)": _HEADER + f"outcomes:\n- &o {_OUTCOME}\n" + "- *o\n" * 330_000,
        "99 aliases of a 1,900-value outcome (30 kB)": _HEADER
        + "outcomes:\n  - &o\n    id: o\n    name: O\n    description: d\n    assessment: formatief\n    dimensions:\n"
        + dims
        + "  - *o\n" * 99,
        "nesting 100,000 deep (RecursionError before)": _HEADER + "outcomes: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "20 MB of one comment line": _HEADER + "# " + "x" * 20_000_000 + "\n",
    }
    valid = [_HEADER, "outcomes:\n"]
    size, o = len(_HEADER), 0
    while size < 950_000:
        part = f"  - id: o{o}\n    name: O\n    description: d\n    assessment: formatief\n    dimensions:\n" + "".join(
            f"      - id: d{d}\n        name: D\n        indicators:\n" + "".join(f"          - Je doet {i}.\n" for i in range(20))
            for d in range(20)
        )
        valid.append(part)
        size, o = size + len(part), o + 1
    texts["valid file of 0.95 MB (accepted)"] = "".join(valid)
    paths = {}
    for i, (name, text) in enumerate(texts.items()):
        paths[name] = folder / f"hostile-{i}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def _fresh(code: str) -> float:
    # with bytecode, as an installed package runs (the first, discarded run writes it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def _load(path: Path) -> str:
    try:
        load_framework(path)
    except FrameworkError as exc:
        return "refused: " + str(exc).split(": ", 1)[1][:60]
    return "accepted"


def _measure(path: Path) -> tuple[str, float, float]:
    """(outcome, seconds, peak bytes); timed without tracemalloc, which slows allocation."""
    t0 = time.perf_counter()
    outcome = _load(path)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    _load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, elapsed, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()

    print("1. start-up, fresh process (median of interleaved runs)")
    runs: dict[str, list[float]] = {"python -c pass": [], "floor: libyaml parse of the 5 files": [], "import + load_framework": []}
    codes = ["pass", _FLOOR, _OURS]
    for _ in range(args.repeat + 1):
        for (name, times), code in zip(runs.items(), codes):
            times.append(_fresh(code))
    med = {name: statistics.median(times[1:]) for name, times in runs.items()}  # the first run warms the caches
    for name, times in runs.items():
        print(f"   {name:38s} {med[name] * 1e3:7.1f} ms  (range {min(times[1:]) * 1e3:.0f}-{max(times[1:]) * 1e3:.0f})")
    base = med["python -c pass"]
    ratio = (med["import + load_framework"] - base) / (med["floor: libyaml parse of the 5 files"] - base)
    print(f"   beyond interpreter start: ours / floor = {ratio:.1f}x "
          f"(+{(med['import + load_framework'] - med['floor: libyaml parse of the 5 files']) * 1e3:.0f} ms)")

    print("2. reload in a warm process (median; the built-in files are parsed once per process)")
    load_framework("han-wpl2-2025")
    texts = [p.read_text(encoding="utf-8") for p in DATA_DIR.glob("*.yaml")]
    ours, floor = [], []
    for _ in range(args.repeat * 3):
        t0 = time.perf_counter()
        load_framework("han-wpl2-2025")
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for text in texts:
            yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - the safe C loader
        floor.append(time.perf_counter() - t0)
    print(f"   load_framework {statistics.median(ours) * 1e3:.1f} ms, libyaml parse {statistics.median(floor) * 1e3:.1f} ms, "
          f"ratio {statistics.median(ours) / statistics.median(floor):.1f}x")

    print(f"3. hostile files (targets: refused, < {REFUSE_TARGET_S} s, < {REFUSE_TARGET_BYTES / 1e6:.0f} MB traced)")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _hostile(Path(tmp)).items():
            outcome, elapsed, peak = _measure(path)
            size = path.stat().st_size
            line = f"   {name:52s} {size / 1e6:6.2f} MB  {elapsed:6.3f} s  {peak / 1e6:6.1f} MB  {outcome}"
            if name.endswith("(accepted)"):
                t0 = time.perf_counter()
                yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)  # noqa: S506
                line += f"  (libyaml parse alone {time.perf_counter() - t0:.3f} s)"
            elif not outcome.startswith("refused") or elapsed > REFUSE_TARGET_S or peak > REFUSE_TARGET_BYTES:
                failed += 1
                line += "  <- MISSED"
            print(line)
    print("All hostile files refused within target." if not failed else f"{failed} hostile file(s) missed the target.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
