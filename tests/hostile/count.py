"""Count the hostile inputs of issue 14: tried, refused cleanly, leaked.

    uv run --no-sync python tests/hostile/count.py [--postgres]

Runs every case of :mod:`catalogue` (each in a fresh folder with a small workspace)
through the real command line in this process and prints one line per case that is not
clean, then the totals. With ``--postgres`` the cases that concern the store (the doors,
NUL bytes, long ids, rosters, outputs: those marked ``pg``) run a second time against a
throwaway PostgreSQL server (``calibrate.devtools.pgserver``), each on a fresh database.
Exit status 1 when any case leaked or was not refused cleanly.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import CASES, run  # noqa: E402


def _count(cases, tmp: Path, label: str, new_db=None) -> bool:
    import catalogue

    tried = clean = leaked = accepted = 0
    for k, case in enumerate(cases):
        catalogue.DB_URL = new_db() if new_db else None
        try:
            outcome = run(case, tmp / f"{label}-{k:02d}")
        finally:
            catalogue.DB_URL = None
        tried += 1
        leaked += bool(outcome.leaked)
        if outcome.clean:
            clean += not case.accept
            accepted += case.accept
        else:
            print(f"NOT CLEAN  ({label}) [{case.point}] {case.id}: exit {outcome.rc}, database unchanged: "
                  f"{outcome.db_unchanged}, leaked: {len(outcome.leaked)}; {outcome.err.strip()[:300]}")
    refusals = sum(not c.accept for c in cases)
    print(f"{label}: hostile inputs tried: {tried} ({refusals} to refuse, {tried - refusals} careless but valid)")
    print(f"{label}: refused cleanly (exit 2, message naming the file, database unchanged, no traceback): "
          f"{clean} of {refusals}")
    print(f"{label}: careless but valid inputs accepted: {accepted} of {tried - refusals}")
    print(f"{label}: leaked (a planted name, e-mail, phone, BSN or IBAN in the database, an output or a message): "
          f"{leaked}")
    return clean == refusals and accepted == tried - refusals and not leaked


def main(argv: list[str] | None = None) -> int:
    import os
    import secrets

    argv = sys.argv[1:] if argv is None else argv
    ok = True
    with tempfile.TemporaryDirectory(prefix="calibrate-hostile-") as tmp:
        ok &= _count(CASES, Path(tmp), "SQLite")
        if "--postgres" in argv:
            from calibrate.devtools.pgserver import ThrowawayPostgres

            # a key of its own: a database URL's key would otherwise live in ~/.config/calibrate
            os.environ.setdefault("CALIBRATE_PSEUDONYM_KEY", secrets.token_hex(32))
            server = ThrowawayPostgres().start()
            try:
                ok &= _count([c for c in CASES if c.pg], Path(tmp), "PostgreSQL", new_db=server.createdb)
            finally:
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
