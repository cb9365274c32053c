"""The paths and URLs a command is given, checked before anything is opened or written.

Every check raises :class:`calibrate.errors.InputError` naming the path and the way out,
so the command line exits with status 2 and a message instead of a traceback:

* :func:`check_input_file` — an input is an existing file, not a folder;
* :func:`check_db_url` — ``--db`` names a database calibrate can use (PostgreSQL);
* :func:`check_workspace` — ``--workspace`` is a folder, and its ``calibrate.sqlite`` (when
  there is one) is an SQLite file made by calibrate: not a truncated copy, not another
  program's database (which calibrate would otherwise add its tables to);
* :func:`check_output` — ``--out`` is not a folder and never the workspace database;
* :func:`write_atomically` — an export is written beside its target and moved into place,
  so a full disk leaves the old file (or nothing) rather than half a table.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Callable

from .errors import InputError

SQLITE_MAGIC = b"SQLite format 3\x00"
#: the tables every calibrate workspace has (schema version 1 on)
CALIBRATE_TABLES = frozenset({"meta", "judgements", "sessions", "cases", "raters", "items"})
#: the database URL schemes calibrate talks to (SQLAlchemy spellings included)
DB_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "sqlite")


def check_input_file(path: str | Path, *, what: str = "input file") -> Path:
    """``path`` exists and is a regular file (or a readable special file such as a pipe)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} not found.", location=str(path), hint="Check the path.")
    if path.is_dir():
        raise InputError(f"this is a folder, not a file ({what} expected).", location=str(path),
                         hint="Give the path of a CSV or .xlsx file inside it.")
    if not os.access(path, os.R_OK):
        raise InputError(f"the {what} cannot be read (no permission).", location=str(path),
                         hint="Check the file's permissions.")
    return path


def check_db_url(url: str) -> str:
    """``url`` is a PostgreSQL (or SQLite) URL; anything else is refused before a driver
    is looked for. The message names the scheme only, never the password."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in DB_SCHEMES:
        shown = f"{scheme}://" if scheme else "this value"
        raise InputError(
            f"--db {shown}…: calibrate stores its data in PostgreSQL or in a workspace's SQLite file only.",
            location="--db / CALIBRATE_DB",
            hint="Give a URL such as postgresql://user@host/database, or use --workspace DIR.",
        )
    return url


def check_workspace(workspace: str | Path, *, must_exist: bool) -> Path:
    """The workspace folder: not a file; with ``must_exist`` it must hold a calibrate
    database (a mistyped path is an error, not a new empty workspace); a
    ``calibrate.sqlite`` it holds must be calibrate's."""
    from .store.engine import DB_FILENAME

    ws = Path(workspace).expanduser()
    if ws.exists() and not ws.is_dir():
        raise InputError("this is a file, not a workspace folder.", location=str(ws),
                         hint="A workspace is a folder holding calibrate.sqlite; give the folder, "
                              "e.g. --workspace demo-workspace.")
    db = ws / DB_FILENAME
    if must_exist and not db.exists():
        raise InputError(f"no calibrate workspace here (the folder holds no {DB_FILENAME}).", location=str(ws),
                         hint="Check the --workspace path; `calibrate import` or `calibrate demo` makes a workspace.")
    if db.exists():
        check_sqlite_database(db)
    return ws


def check_sqlite_database(db: Path) -> None:
    """``db`` is an intact SQLite file that is empty or holds calibrate's tables."""
    where = str(db)
    if db.is_dir():
        raise InputError("this is a folder where the workspace database should be.", location=where,
                         hint="Move it away or choose another workspace folder.")
    size = db.stat().st_size
    if size == 0:
        return  # an empty file: SQLite makes a new database in it
    with db.open("rb") as fh:
        head = fh.read(100)
    restore = "Restore calibrate.sqlite from a backup, or choose another workspace folder; nothing was changed."
    if not head.startswith(SQLITE_MAGIC):
        raise InputError("this is not an SQLite database (it is not a calibrate workspace database).",
                         location=where, hint=restore)
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    n_pages = int.from_bytes(head[28:32], "big")
    if len(head) < 100 or page < 512 or size < page or (n_pages and size < n_pages * page
                                                         and not Path(f"{db}-wal").exists()):
        raise InputError("the workspace database is truncated (shorter than its header says).", location=where,
                         hint=restore)
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"the workspace database cannot be read ({exc}).", location=where, hint=restore) from None
    if tables and not tables & {"meta", "judgements", "sessions"}:
        raise InputError(
            f"this SQLite database is not a calibrate workspace (it holds {len(tables)} other table(s)).",
            location=where,
            hint="calibrate adds nothing to another program's database: choose another workspace folder.",
        )


def check_output(out: str | Path, *, workspace: Path | None = None, example: str = "scores.csv") -> Path:
    """``--out`` may be written: not a folder, not inside a missing folder we'd guess at,
    and never the workspace database (or its journal files)."""
    from .store.engine import DB_FILENAME

    out = Path(out)
    if out.is_dir():
        raise InputError("this is a folder; --out needs a file name.", location=str(out),
                         hint=f"Write e.g. --out {out / example}.")
    target = out.resolve() if out.exists() or out.parent.exists() else out.absolute()
    dbs = []
    if workspace is not None:
        db = (workspace / DB_FILENAME).expanduser().resolve()
        dbs = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]
    if target.name.startswith(DB_FILENAME) or target in dbs or (out.exists() and any(_same_file(out, d) for d in dbs)):
        raise InputError("--out points at a workspace database; it is never overwritten.", location=str(out),
                         hint=f"Choose another file name, e.g. {example}.")
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``out`` and move it into place;
    on any failure (a full disk) the temporary file is removed and ``out`` is as it was.
    A special file (``/dev/stdout``) is written directly."""
    if out.exists() and not out.is_file():
        try:
            write(out)
        except OSError as exc:
            raise output_error(out, exc) from None
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
    except OSError as exc:
        raise output_error(out, exc) from None
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise output_error(out, exc) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def output_error(out: Path | str, exc: OSError) -> InputError:
    """An OSError while writing ``out`` as a message with the way out."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return InputError("the disk is full; nothing was written.", location=str(out),
                          hint="Free some space or write to another disk (--out).")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InputError("this file cannot be written (no permission or a read-only disk).", location=str(out),
                          hint="Choose another --out.")
    return InputError(f"could not write this file ({exc.strerror or type(exc).__name__}).", location=str(out),
                      hint="Choose another --out.")
