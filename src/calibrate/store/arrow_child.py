"""Read a SQLite workspace into Arrow through ADBC, in a process of its own.

``adbc-driver-sqlite`` brings its own copy of the SQLite library. Two copies of SQLite in
one process must not open the same database file: POSIX locks belong to the process, and
when one copy closes its file it drops the locks the other copy holds (SQLite, "How To
Corrupt An SQLite Database File", §2.2.1). So the store never loads ADBC's SQLite next to
Python's ``sqlite3``: its reader (:mod:`calibrate.store.reader`) starts this module as a
child process, which runs the queries (on parallel connections) and streams the result
back as Arrow IPC on its standard output.

Request on standard input (JSON): ``{"database": path, "queries": [[sql, [parameter, ...]], ...],
"busy_ms": n, "workers": n}`` — statements compiled by SQLAlchemy, values bound as parameters.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor


def _query(database: str, query: list, busy_ms: int):
    import adbc_driver_sqlite.dbapi as adbc

    text, params = query
    with adbc.connect(database) as conn:
        with conn.cursor() as cur:
            cur.execute("PRAGMA busy_timeout = %d" % int(busy_ms))
            cur.execute(text, params or None)
            return cur.fetch_arrow_table()


def _encoded(table, names: set):
    """The columns ``names`` dictionary-encoded (the ids repeat: the parent gets small
    integer codes and the few distinct ids instead of millions of strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = []
    for name, col in zip(table.column_names, table.columns):
        if name in names and pa.types.is_string(col.type) or name in names and pa.types.is_large_string(col.type):
            col = pc.dictionary_encode(col.combine_chunks())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def main() -> int:
    import pyarrow as pa

    req = json.load(sys.stdin)
    queries = req["queries"]
    try:
        with ThreadPoolExecutor(max(1, min(len(queries), int(req.get("workers", 2))))) as pool:
            tables = list(pool.map(lambda q: _query(req["database"], q, req.get("busy_ms", 60_000)), queries))
        full = [tb for tb in tables if tb.num_rows]  # SQLite gives an empty result no column types
        table = pa.concat_tables(full) if len(full) > 1 else (full or tables)[0]
        table = _encoded(table, set(req.get("dictionary", ())))
        with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as out:
            out.write_table(table)
    except Exception as exc:  # reported to the parent, which raises StoreError with it
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
