"""Count the hostile inputs of issue 14: tried, refused cleanly, leaked.

    uv run --no-sync python tests/hostile/count.py

Runs every case of :mod:`catalogue` (each in a fresh folder with a small workspace)
through the real command line in this process and prints one line per case that is not
clean, then the totals. Exit status 1 when any case leaked or was not refused cleanly.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import CASES, run  # noqa: E402


def main() -> int:
    tried = clean = leaked = accepted = 0
    with tempfile.TemporaryDirectory(prefix="calibrate-hostile-") as tmp:
        for k, case in enumerate(CASES):
            outcome = run(case, Path(tmp) / f"case{k:02d}")
            tried += 1
            leaked += bool(outcome.leaked)
            if outcome.clean:
                clean += not case.accept
                accepted += case.accept
            else:
                print(f"NOT CLEAN  [{case.point}] {case.id}: exit {outcome.rc}, database unchanged: "
                      f"{outcome.db_unchanged}, leaked: {len(outcome.leaked)}; {outcome.err.strip()[:300]}")
    refusals = sum(not c.accept for c in CASES)
    print(f"hostile inputs tried: {tried} ({refusals} to refuse, {tried - refusals} careless but valid)")
    print(f"refused cleanly (exit 2, message naming the file, database unchanged, no traceback): {clean} of {refusals}")
    print(f"careless but valid inputs accepted: {accepted} of {tried - refusals}")
    print(f"leaked (a planted name, e-mail, phone, BSN or IBAN in the database, an output or a message): {leaked}")
    return 0 if clean == refusals and accepted == tried - refusals and not leaked else 1


if __name__ == "__main__":
    sys.exit(main())
