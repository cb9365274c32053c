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

from .errors import CalibrateError
from .schema import DEFAULT_FRAMEWORK

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _store(args):
    from .store import Store

    return Store.open(args.workspace, db_url=args.db) if (args.workspace or args.db) else Store.from_env()


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

    path = Path(args.file)
    if args.what in ("scores", "consensus"):  # streamed from the file, chunk by chunk
        with _store(args) as store:
            if args.what == "scores":
                summary = store.import_scores(path, source=path.name, pseudonymise_raters=args.rater_names)
            else:
                summary = store.import_consensus(path, source=path.name)
        print(summary.message())
        return EXIT_OK
    df = read_table(path)
    if args.what == "cases" and args.check:
        import secrets

        from . import privacy

        roster = privacy.load_roster(args.roster) if args.roster else None
        return _check_cases(df, privacy.Pseudonymiser(roster, key=secrets.token_bytes(32)), roster, path.name)
    with _store(args) as store:
        from . import privacy

        roster = privacy.load_roster(args.roster) if args.roster else None
        key = privacy.load_or_create_key(store.workspace)
        pseudo = privacy.Pseudonymiser(roster, key=key)
        summary = store.import_cases(df, source=path.name, pseudonymiser=pseudo)
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
    from .tabular import write_csv

    with _store(args) as store:
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

    (write_parquet if Path(args.out).suffix.lower() in (".parquet", ".pq") else write_csv)(df, args.out)
    if unrevealed:
        print(f"Note: session(s) {', '.join(unrevealed)} have not been revealed to the assessors yet.", file=sys.stderr)
    print(f"Wrote {len(df)} rows to {args.out}.")
    return EXIT_OK


def cmd_report(args) -> int:
    from .report import write_report

    with _store(args) as store:
        out = write_report(store, args.out, session=args.session, progress=not args.quiet, kind=args.kind)
    print(f"{'Kalibratieverslag' if args.kind == 'verslag' else 'Report'} written to {out}.")
    return EXIT_OK


def cmd_session(args) -> int:
    with _store(args) as store:
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
    except SchemaVersionError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
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

    p = sub.add_parser("upgrade", help="check or upgrade the workspace database schema")
    _add_store_args(p)
    p.set_defaults(func=cmd_upgrade)

    from .engines.cli import add_parser as add_agreement  # calibrate agreement (CONTRACTS §4)

    add_agreement(sub)

    from .gtheory.cli import add_parser as add_gstudy  # calibrate gstudy (variance components, D-study)

    add_gstudy(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CalibrateError as exc:
        print(f"calibrate: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"calibrate: error: {exc.filename or exc}: file not found.", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
