"""The ``calibrate`` command line (CONTRACTS §4).

Exit status 0 on success, 2 on bad input with a message that says what and where.
The store is the workspace's SQLite file unless ``--db URL`` / ``CALIBRATE_DB`` names
a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: Set for the command's process before NumPy is imported (NumPy reads them once, at
#: import). ``NUMPY_MADVISE_HUGEPAGE=0``: NumPy asks the kernel for transparent huge pages
#: for every array of 4 MB or more (numpy.org, "Global state"), and where the machine is a
#: virtual one every such page is zeroed and backed at its first touch: measured on this
#: project's 2-core VM, the 2.7 M report's arrays built 2–4× slower at their first use
#: (``drift`` 0.6–1.5 s against 0.3–0.4 s) and the report took 12.7–12.9 s against
#: 10.1–11.7 s without huge pages (``benchmarks/report.py``). A value the user set wins.
PROCESS_ENVIRONMENT = {"NUMPY_MADVISE_HUGEPAGE": "0"}
for _name, _value in PROCESS_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from .errors import CalibrateError, InputError  # noqa: E402
from .schema import DEFAULT_FRAMEWORK  # noqa: E402

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _store(args, *, create: bool = False):
    """The store the command names. Only ``create=True`` (imports, a new session) may make
    a new workspace; a mistyped ``--workspace`` for export or report is an error. The
    path or URL is checked first (:mod:`calibrate.paths`): a file given as workspace, an
    unrelated or damaged ``calibrate.sqlite`` and a ``--db`` that is not PostgreSQL are
    refused before anything is opened."""
    from .paths import check_db_url, check_workspace
    from .store import Store

    url = args.db or (None if args.workspace else os.environ.get("CALIBRATE_DB"))
    if url:
        check_db_url(url)
        return Store.open(db_url=url, create=create)
    workspace = args.workspace or os.environ.get("CALIBRATE_WORKSPACE")
    if workspace is None:
        return Store.from_env()  # says how to name a workspace
    check_workspace(workspace, must_exist=not create)
    return Store.open(workspace, create=create)


def _workspace_dir(store) -> Path | None:
    return Path(store.workspace) if store.workspace is not None else None


def _add_store_args(p: argparse.ArgumentParser, *, workspace_required: bool = False) -> None:
    p.add_argument("--workspace", "-w", help="workspace directory holding the SQLite database (default: CALIBRATE_WORKSPACE or ./workspace)")
    p.add_argument("--db", default=None, help="database URL, e.g. postgresql://user@host/db (default: CALIBRATE_DB)")


def cmd_demo(args) -> int:
    from .demo import build_demo

    ws = args.workspace or os.environ.get("CALIBRATE_WORKSPACE") or "demo-workspace"
    build_demo(ws, report=not args.no_report, force=args.force)
    return EXIT_OK


def cmd_import(args) -> int:
    from .tabular import read_table

    from . import privacy
    from .paths import check_input_file

    path = check_input_file(args.file)
    roster = privacy.load_roster(args.roster) if args.roster else None  # a bad roster: before the store is opened
    data = path if args.sheet is None else read_table(path, sheet=args.sheet)
    if args.what in ("scores", "consensus"):  # streamed from the file, chunk by chunk
        with _store(args, create=True) as store:
            if args.what == "scores":
                summary = store.import_scores(data, source=path.name, pseudonymise_raters=args.rater_names,
                                              roster=roster, new_items=args.new_items)
            else:
                summary = store.import_consensus(data, source=path.name, roster=roster, new_items=args.new_items)
        print(summary.message())
        return EXIT_OK
    df = read_table(path) if isinstance(data, Path) else data
    if args.what == "cases" and args.check:
        import secrets

        return _check_cases(df, privacy.Pseudonymiser(roster, key=secrets.token_bytes(32)), roster, path.name)
    with _store(args, create=True) as store:
        summary = store.import_cases(df, source=path.name, pseudonymiser=store.import_pseudonymiser(roster))
    print(summary.message())
    return EXIT_OK


def _check_cases(df, pseudo, roster, name) -> int:
    """Check mode: what would be replaced (counts only) and what suspects would remain."""
    import pandas as pd

    from . import privacy

    replaced: dict[str, int] = {}
    remaining = 0
    for idx, row in df.iterrows():
        for col in ("title", "text"):
            if col not in df.columns or pd.isna(row.get(col)):
                continue
            for s in pseudo.find_suspects(str(row[col])):
                if s.replaced:
                    replaced[s.kind] = replaced.get(s.kind, 0) + 1
                else:
                    remaining += 1
                    print(f"{name}, row {idx + 2}, column '{col}', line {s.line}, position {s.column}: {s.label} {s.preview}")
    print(f"Would be pseudonymised: {privacy.describe_counts(replaced)}.")
    print(f"{remaining} suspect(s) would remain; nothing was imported (check mode).")
    return EXIT_OK


def cmd_export(args) -> int:
    from .paths import check_output, write_atomically
    from .tabular import write_csv, write_xlsx

    with _store(args) as store:
        out = check_output(args.out, workspace=_workspace_dir(store), example=f"{args.what}.csv")
        if args.what == "scores":
            df = store.with_rater_names(store.scores(args.session))
        elif args.what == "consensus":
            df = store.consensus(args.session)
        else:
            df = store.cases(args.session)
        unrevealed = []
        if args.what == "scores":
            sessions = store.sessions()
            unrevealed = [s for s in sessions.loc[~sessions["revealed"], "session"] if s in set(df["session"])]
    from .tabular import write_parquet

    suffix = out.suffix.lower()
    writer = write_xlsx if suffix == ".xlsx" else write_parquet if suffix in (".parquet", ".pq") else write_csv
    write_atomically(out, lambda tmp: writer(df, tmp))
    if unrevealed:
        print(f"Note: session(s) {', '.join(unrevealed)} have not been revealed to the assessors yet.", file=sys.stderr)
    print(f"Wrote {len(df)} rows to {args.out}.")
    return EXIT_OK


def prepare_report_process() -> None:
    """What ``calibrate report`` does to its own process once the report's libraries are
    imported (``benchmarks/report.py`` does the same): the model sections may use a free
    core (:func:`calibrate.report.worker.use_worker`), and the imported libraries'
    objects, which live as long as the command, are kept out of the garbage collector's
    passes (``gc.freeze``) — they were walked again and again while the report made its
    tables (~0.5 s of the 2.7 M report in one process)."""
    import gc

    os.environ.setdefault("CALIBRATE_REPORT_WORKERS", "auto")
    gc.freeze()


def cmd_report(args) -> int:
    from .report import write_report

    prepare_report_process()

    from .paths import check_output

    with _store(args) as store:
        check_output(args.out, workspace=_workspace_dir(store), example="report.html")
        store.check_values_on_scale()
        out = write_report(store, args.out, session=args.session, progress=not args.quiet, kind=args.kind)
    print(f"{'Kalibratieverslag' if args.kind == 'verslag' else 'Report'} written to {out}.")
    return EXIT_OK


def cmd_session(args) -> int:
    if args.action in ("create", "reveal", "show-names", "hide-names") and not args.session:
        raise InputError(f"`calibrate session {args.action}` needs a session id.",
                         hint=f"Write e.g. calibrate session {args.action} K06-2026-09 --workspace W.")
    with _store(args, create=args.action == "create") as store:
        if args.action == "create":
            store.create_session(args.session, args.date, framework=args.framework, title=args.title,
                                 cases=args.cases or [], raters=args.raters or [])
            print(f"Session {args.session} created (blind until revealed).")
        elif args.action == "reveal":
            store.reveal(args.session)
            print(f"Session {args.session} revealed.")
        elif args.action in ("show-names", "hide-names"):
            store.show_rater_names(args.session, args.action == "show-names")
            print(f"Session {args.session}: assessors' names {'shown' if args.action == 'show-names' else 'hidden'} in exports and reports.")
        else:
            print(store.sessions().to_string(index=False))
    return EXIT_OK


def cmd_setting(args) -> int:
    """``calibrate setting student-numbers [FORMAT]``: show or set the workspace's format of
    bare student numbers (``7-8``, ``6``, ``re:[0-9]{6}``), which every import and the
    app's notes then recognise."""
    with _store(args) as store:
        if args.value is not None:
            store.set_student_number_format(args.value)
        print(f"student-numbers: {store.student_number_format()}")
    return EXIT_OK


def cmd_upgrade(args) -> int:
    from .errors import SchemaVersionError
    from .store import Store

    try:
        with Store.open(args.workspace, db_url=args.db, create=False, upgrade=True) as store:
            if store.upgraded_from is None:
                print(f"The database is at schema version {store.schema_version()}; nothing to upgrade.")
            else:
                print(f"Upgraded the database from schema version {store.upgraded_from} to {store.schema_version()}.")
                for note in store.upgrade_notes:
                    print(note)
                _renew_access(store)
    except SchemaVersionError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _renew_access(store) -> None:
    """A team store with row-level security gets the new version's policies, grants and
    pseudonymising functions at once (the upgrade itself is already committed)."""
    from .errors import CalibrateError
    from .store.access import renew_after_upgrade

    try:
        renewed = renew_after_upgrade(store)
    except CalibrateError as exc:
        print(f"The upgrade is done, but row-level security could not be renewed: {exc} "
              "Run enable_row_level_security(owner) once more with the store's pseudonym key "
              "(CALIBRATE_PSEUDONYM_KEY), see docs/team.md.", file=sys.stderr)
        return
    if renewed is not None:
        print(f"Renewed row-level security (group {renewed[0]}): policies, grants and the pseudonymising functions.")


#: Commands whose parsers live in their own packages (imported only when they may be needed:
#: ``calibrate.gtheory`` brings scipy.stats, seconds an ``import scores`` need not pay).
_PACKAGE_COMMANDS = ("agreement", "gstudy")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser; with ``argv`` naming one of this module's own commands, the
    commands of other packages (``agreement``, ``gstudy``) are left out."""
    parser = argparse.ArgumentParser(prog="calibrate", description="Assessor calibration: kijkkaders, scores, agreement, drift and reports.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build a demo workspace and its report")
    _add_store_args(p)
    p.add_argument("--no-report", action="store_true", help="skip the report")
    p.add_argument("--force", action="store_true",
                   help="rebuild an earlier demo workspace from scratch (deletes what was saved in it; "
                        "without --force it is kept as it is)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import scores, consensus or cases (all rows or none)")
    p.add_argument("what", choices=["scores", "consensus", "cases"])
    p.add_argument("file", help="CSV (comma or semicolon), .xlsx or .parquet file")
    p.add_argument("--roster", help="CSV with a 'name' column (optional 'role'): names to pseudonymise in case texts")
    p.add_argument("--check", action="store_true", help="cases only: list remaining personal-data suspects, import nothing")
    p.add_argument("--sheet", default=None,
                   help=".xlsx only: the sheet to read (number from 1, or name) when more than one holds data")
    p.add_argument("--new-items", action="store_true",
                   help="scores/consensus: accept item ids that look like a mistyped known item as new custom items")
    p.add_argument("--rater-names", action="store_true",
                   help="scores only: the rater column holds real names; store keyed pseudonyms instead (names stay in the store)")
    _add_store_args(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export scores, consensus or cases as UTF-8 CSV (or Parquet)")
    p.add_argument("what", choices=["scores", "consensus", "cases"])
    p.add_argument("--out", required=True, help="FILE.csv, or FILE.parquet for Parquet")
    p.add_argument("--session", default=None)
    _add_store_args(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="write the kalibreersessie report (.html, .pdf or .json)")
    p.add_argument("--out", required=True)
    p.add_argument("--session", default=None,
                   help="the session to cover (default: the most recent revealed session in which two or more "
                        "assessors judged a common case)")
    p.add_argument("--kind", choices=["rapport", "verslag"], default="rapport",
                   help="rapport: the full report; verslag: the one- or two-page kalibratieverslag for the examencommissie")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_store_args(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("session", help="create, reveal or list kalibreersessies")
    p.add_argument("action", choices=["create", "reveal", "list", "show-names", "hide-names"])
    p.add_argument("session", nargs="?")
    p.add_argument("--date")
    p.add_argument("--framework", default=DEFAULT_FRAMEWORK)
    p.add_argument("--title")
    p.add_argument("--cases", nargs="*")
    p.add_argument("--raters", nargs="*")
    _add_store_args(p)
    p.set_defaults(func=cmd_session)

    p = sub.add_parser("setting", help="show or set a workspace setting (student-numbers: the format of bare student numbers)")
    p.add_argument("name", choices=["student-numbers"])
    p.add_argument("value", nargs="?", default=None, help="e.g. 7-8 (the default), 6, 9 or re:[0-9]{6}")
    _add_store_args(p)
    p.set_defaults(func=cmd_setting)

    p = sub.add_parser("upgrade", help="check or upgrade the workspace database schema")
    _add_store_args(p)
    p.set_defaults(func=cmd_upgrade)

    command = next((a for a in (argv or ()) if not a.startswith("-")), None)
    if command is not None and command in sub.choices and command not in _PACKAGE_COMMANDS:
        return parser
    from .engines.cli import add_parser as add_agreement  # calibrate agreement (CONTRACTS §4)

    add_agreement(sub)

    from .gtheory.cli import add_parser as add_gstudy  # calibrate gstudy (variance components, D-study)

    add_gstudy(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CalibrateError as exc:
        return _fail(str(exc))
    except FileNotFoundError as exc:
        return _fail(f"{exc.filename or exc}: file not found.")
    except OSError as exc:  # a folder, a full disk, no permission: name the file, not its contents
        from .paths import output_error

        return _fail(str(output_error(exc.filename or "a file", exc)) if exc.filename else
                     f"{exc.strerror or type(exc).__name__}; nothing was written.")
    except RecursionError:
        return _fail("the input is nested too deeply to read; nothing was imported.")
    except MemoryError:
        return _fail("the input is too large for the memory of this machine; nothing was imported. "
                     "Split it into smaller files.")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("CALIBRATE_DEBUG"):
            raise
        database = _database_error(exc)
        if database is not None:
            return _fail(database)
        print(f"calibrate: internal error ({type(exc).__name__}); nothing more was done. "
              "Please report it; CALIBRATE_DEBUG=1 shows the details.", file=sys.stderr)
        return 1


def _fail(message: str) -> int:
    print(f"calibrate: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _database_error(exc: Exception) -> str | None:
    """A database error as a message without SQL or parameters (they may hold data):
    what happened and the way out. ``None`` for anything else."""
    import sqlite3

    import sqlalchemy as sa

    if isinstance(exc, sa.exc.DBAPIError):
        orig = exc.orig
    elif isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg"):
        orig = exc  # raised by a bulk path that talks to the driver directly
    else:
        return None
    lines = str(orig).strip().splitlines() if orig is not None else []
    first = lines[0][:200] if lines else type(exc).__name__
    low = first.lower()
    if "full" in low or "no space" in low:
        return ("the disk holding the database is full; the transaction was rolled back, nothing was saved. "
                "Free some space and run the command again.")
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        return ("the workspace database is damaged or not a calibrate database (" + first + "). "
                "Restore calibrate.sqlite from a backup; nothing was changed.")
    if "nul" in low or "0x00" in low:
        return "a value holds a NUL character, which the database does not store; nothing was saved."
    if "too long" in low:
        return "a value is longer than the database allows (ids: 255 characters); nothing was saved."
    return f"the database refused the request ({first}); nothing was saved."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
