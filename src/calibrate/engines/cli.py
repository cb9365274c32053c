"""``calibrate agreement``: agreement per group of a score table, on the engine of choice
(CONTRACTS §4). :func:`add_parser` adds the subcommand; :func:`run` is its handler."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from calibrate.errors import InputError

HELP = "agreement per group (e.g. per session and item) in memory, DuckDB, PostgreSQL or Spark"


def add_parser(sub) -> argparse.ArgumentParser:
    from calibrate.engines.backends import ENGINES
    from calibrate.engines.spec import DEFAULT

    p = sub.add_parser("agreement", help=HELP, description=HELP + ". Writes one row per group and coefficient.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--workspace", "-w", help="workspace directory holding the SQLite database")
    src.add_argument("--db", default=None, help="PostgreSQL URL of a team store (default: CALIBRATE_DB)")
    src.add_argument("--source", help="the score table as Parquet or CSV: one file, or a folder of parts "
                                      "(with --engine spark also a URL such as s3a://bucket/archive/)")
    p.add_argument("--engine", choices=ENGINES, default="pandas",
                   help="pandas (in memory, the default), duckdb (out-of-core), postgres (inside the --db "
                        "store, as its logged-in role), spark (local or the cluster of spark-submit)")
    p.add_argument("--by", default="session,item", help="group columns, comma-separated (default: session,item; "
                                                        "'' for one group)")
    p.add_argument("--coefficient", default=DEFAULT,
                   help=f"coefficients, comma-separated, each name[:option] (default: {DEFAULT})")
    p.add_argument("--memory-limit", default=None, help="DuckDB's memory limit (default 3GB, or CALIBRATE_DUCKDB_MEMORY); it spills to disk beyond")
    p.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import os

    from calibrate.paths import check_output, write_atomically

    db = args.db or (None if (args.workspace or args.source) else os.environ.get("CALIBRATE_DB"))
    ws = args.workspace or (None if (db or args.source) else os.environ.get("CALIBRATE_WORKSPACE"))
    # not a folder, never the workspace database, written whole or not at all
    out = check_output(args.out, workspace=Path(ws) if ws else None, example="agreement.csv")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError("--out must end in .csv or .parquet.", location=str(out))
    from calibrate.engines import agreement_table

    if args.source:
        table = agreement_table(args.source, engine=args.engine, by=args.by, coefficients=args.coefficient,
                                memory_limit=args.memory_limit)
    elif db or ws:
        from calibrate.store import Store

        with Store.open(ws, db_url=db, create=False) as store:
            table = agreement_table(store, engine=args.engine, by=args.by, coefficients=args.coefficient,
                                    memory_limit=args.memory_limit)
    else:
        raise InputError("say where the scores are: --source FILE, --workspace W or --db URL (or CALIBRATE_DB).")
    if out.suffix.lower() == ".parquet":
        from calibrate.engines.backends import need

        need("pyarrow", "", what="writing Parquet")
        write_atomically(out, lambda tmp: table.to_parquet(tmp, index=False))
    else:
        from calibrate.tabular import write_csv

        write_atomically(out, lambda tmp: write_csv(table, tmp))
    groups = table[[c for c in table.columns if c not in ("coefficient", "value", "se", "ci_low", "ci_high",
                                                          "n_units", "n_raters")]].drop_duplicates()
    print(f"Wrote {len(table)} rows ({len(groups)} group(s)) to {out}.", file=sys.stdout)
    return 0
