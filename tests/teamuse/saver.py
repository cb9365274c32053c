"""A scoring kernel for the kill test: saves fully scored cases in a loop and reports.

usage: python saver.py DB_URL RATER CASE START COUNT

Prints ``READY`` once the store is open, ``SAVING s`` before save ``s`` and ``ACK s n``
after it returned (n rows appended), flushing each line, so the parent knows exactly
which saves were acknowledged when it kills this process.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from teamuse_support import SESSION, plan  # noqa: E402

from calibrate.store import Store  # noqa: E402


def main() -> None:
    url, rater, case, start, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    values = plan(rater, start + count)
    store = Store.open(db_url=url)
    store.session_framework(SESSION)
    print("READY", flush=True)
    for s in range(start, start + count):
        print(f"SAVING {s}", flush=True)
        n = store.save_judgements(SESSION, case, rater, values[s])
        print(f"ACK {s} {n}", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
