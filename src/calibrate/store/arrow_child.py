"""Read a SQLite workspace into Arrow through ADBC, in a process of its own.

``adbc-driver-sqlite`` brings its own copy of the SQLite library. Two copies of SQLite in
one process must not open the same database file: POSIX locks belong to the process, and
when one copy closes its file it drops the locks the other copy holds (SQLite, "How To
Corrupt An SQLite Database File", §2.2.1). So the store never loads ADBC's SQLite next to
Python's ``sqlite3``: its reader (:mod:`calibrate.store.reader`) starts this file as a
child process, which runs the queries (on parallel connections) and streams the result
back as Arrow IPC on its standard output.

The child is started as a script in isolated mode (``python -I .../arrow_child.py``), so it
imports only ``pyarrow`` and the ADBC driver — not ``calibrate`` and with it pandas and
SQLAlchemy, which would cost more than the read of a small workspace. Keep it that way:
this file imports nothing from the package.

Request on standard input (JSON): ``{"database": path, "queries": [[sql, [parameter, ...]], ...],
"busy_ms": n, "workers": n, "text": [column, ...], "dictionary": [column, ...]}`` — statements
compiled by SQLAlchemy, values bound as parameters; every ``text`` column comes back as
Arrow ``string`` (also where a partition holds only NULLs), the ``dictionary`` columns are sent
dictionary-encoded (each partition encoded by its own worker; the parent unifies the
dictionaries).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

#: Rows per Arrow batch that ADBC's SQLite driver builds (its default, 1,024, costs a
#: quarter more time per row on a large read).
BATCH_ROWS = 65_536


def _query(database: str, query: list, busy_ms: int, text: set, dictionary: set):
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa
    import pyarrow.compute as pc

    sql, params = query
    with adbc.connect(database) as conn:
        with conn.cursor() as cur:
            cur.execute("PRAGMA busy_timeout = %d" % int(busy_ms))
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
            cur.execute(sql, params or None)
            table = cur.fetch_arrow_table()
    cols = []
    for name, col in zip(table.column_names, table.columns):
        # a partition without rows, or whose column is all NULL, comes back otherwise typed
        if name in text and not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        elif name not in text and pa.types.is_null(col.type):
            col = col.cast(pa.int64())
        if name in dictionary:
            # the ids repeat: the parent gets small integer codes and the few distinct ids
            # instead of millions of strings
            col = pc.dictionary_encode(col)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def main() -> int:
    import pyarrow as pa

    req = json.load(sys.stdin)
    queries = req["queries"]
    dictionary = set(req.get("dictionary", ()))
    text = set(req.get("text", ()))
    busy_ms = req.get("busy_ms", 60_000)
    try:
        with ThreadPoolExecutor(max(1, min(len(queries), int(req.get("workers", 2))))) as pool:
            # each partition is sent as soon as it (and those before it) are read, then freed
            out = None
            for tb in pool.map(lambda q: _query(req["database"], q, busy_ms, text, dictionary), queries):
                out = out or pa.ipc.new_stream(sys.stdout.buffer, tb.schema)
                out.write_table(tb)
                del tb
            out.close()
    except Exception as exc:  # reported to the parent, which raises StoreError with it
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
