"""``calibrate gstudy``: variance components and a D-study of a workspace's scores, per
scope (the go / no-go decision, each leeruitkomst). :func:`add_parser` adds the
subcommand; :func:`run` is its handler; :func:`gstudy_tables` does the work."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate.errors import InputError

HELP = "G-study and D-study: variance components, Φ and Eρ² for other numbers of assessors"
DECISION = "besluit"


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("gstudy", help=HELP, description=HELP + ". Per scope: the go/no-go decision "
                       "(cases × assessors) and each leeruitkomst (cases × assessors × indicators, indicators fixed).")
    p.add_argument("--workspace", "-w", help="workspace directory holding the SQLite database (default: CALIBRATE_WORKSPACE)")
    p.add_argument("--db", default=None, help="PostgreSQL URL of a team store (default: CALIBRATE_DB)")
    p.add_argument("--session", action="append", default=None, help="only this session (repeat for more)")
    p.add_argument("--scope", action="append", default=None,
                   help=f"'{DECISION}' or a leeruitkomst id (repeat for more; default: all)")
    p.add_argument("--raters", default="1,2,3,4,6", help="D-study numbers of assessors, comma-separated (default 1,2,3,4,6)")
    p.add_argument("--boot", type=int, default=0, help="bootstrap resamples of cases for intervals (default 0: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="FILE.csv (one long table) or FILE.json; without it a summary is printed")
    p.set_defaults(func=run)
    return p


def _raters(text: str) -> list[float]:
    try:
        vals = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        vals = []
    if not vals or any(not (v > 0) or not np.isfinite(v) for v in vals):
        raise InputError(f"--raters must be positive numbers separated by commas, e.g. 1,2,3,4,6; got {text!r}.")
    return vals


def gstudy_tables(scores: pd.DataFrame, *, scopes=None, raters=(1, 2, 3, 4, 6), n_boot: int = 0, seed=0) -> list[dict]:
    """Per scope a dict: ``scope, design, fixed, method, n_cases, n_raters, n_items,
    components`` (DataFrame: effect, estimate, variance, share, ci_low, ci_high),
    ``d_study`` (DataFrame of :func:`~calibrate.gtheory.dstudy.d_study`), ``raters_needed``
    ({0.7: …, 0.8: …}) and ``notes``."""
    from calibrate.gtheory.dstudy import d_study, raters_needed
    from calibrate.gtheory.kijkkader import _outcomes
    from calibrate.gtheory.observations import select_scores
    from calibrate.gtheory.study import g_study

    if scores is None or len(scores) == 0:
        raise InputError("the workspace has no scores (for these sessions).", hint="Import scores first: calibrate import scores FILE.")
    available = ([DECISION] if (scores["kind"] == "decision").any() else []) + _outcomes(scores)
    wanted = list(dict.fromkeys(scopes)) if scopes else available
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise InputError(f"no judgements for scope {', '.join(map(repr, unknown))}.",
                         hint=f"Scopes in these scores: {', '.join(available) or 'none'}.")
    out = []
    for scope in wanted:
        if scope == DECISION:
            sub, design, fixed = select_scores(scores, kind="decision"), "c x r", []
        else:
            sub, design, fixed = select_scores(scores, kind="indicator", outcome=scope), "c x r x i", ["i"]
        method = "auto" if scope == DECISION else "henderson1"
        g = g_study(sub, design, n_boot=n_boot, seed=seed, method=method, ci="auto" if n_boot or scope == DECISION else None)
        comp = g.to_frame()
        table = d_study(g, raters=list(raters), fixed=fixed)
        need = {t: raters_needed(g, t, fixed=fixed) for t in (0.70, 0.80)}
        out.append({"scope": scope, "design": design, "fixed": fixed, "method": g.method,
                    "n_cases": int(g.details["facet_levels"]["c"]), "n_raters": int(g.details["facet_levels"]["r"]),
                    "n_items": int(g.details["facet_levels"].get("i", 1)), "components": comp, "d_study": table,
                    "raters_needed": need, "notes": list(g.notes)})
    return out


def _long(results: list[dict]) -> pd.DataFrame:
    frames = []
    for r in results:
        head = {"scope": r["scope"], "design": r["design"], "method": r["method"]}
        c = r["components"].assign(table="variance", **head)
        d = r["d_study"].assign(table="d_study", **head)
        frames += [c, d]
    df = pd.concat(frames, ignore_index=True, sort=False)
    first = ["scope", "table", "design", "method"]
    return df[first + [c for c in df.columns if c not in first]]


def _json(results: list[dict]) -> dict:
    def records(df):
        return json.loads(df.to_json(orient="records"))

    return {"scopes": [{
        "scope": r["scope"], "design": r["design"], "fixed_facets": r["fixed"], "method": r["method"],
        "n_cases": r["n_cases"], "n_raters": r["n_raters"], "n_items": r["n_items"],
        "components": records(r["components"]), "d_study": records(r["d_study"]),
        "raters_needed": {f"phi_{round(t * 100)}": {"n": v.n, "value": v.value,
                                                     "ci": None if v.ci is None else [None if not np.isfinite(x) else x for x in v.ci]}
                          for t, v in r["raters_needed"].items()},
        "notes": r["notes"]} for r in results]}


def run(args) -> int:
    import os

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise InputError("--out must end in .csv or .json.", location=str(out))
    if args.boot < 0:
        raise InputError(f"--boot must be 0 or more; got {args.boot}.")
    raters = _raters(args.raters)
    db = args.db or (None if args.workspace else os.environ.get("CALIBRATE_DB"))
    ws = args.workspace or (None if db else os.environ.get("CALIBRATE_WORKSPACE"))
    if not (db or ws):
        raise InputError("say where the scores are: --workspace W or --db URL (or CALIBRATE_WORKSPACE / CALIBRATE_DB).")
    from calibrate.store import Store

    with Store.open(ws, db_url=db, create=False) as store:
        if args.session:
            known = set(store.sessions()["session"])
            missing = [s for s in args.session if s not in known]
            if missing:
                raise InputError(f"unknown session {', '.join(map(repr, missing))}.",
                                 hint=f"Sessions here: {', '.join(sorted(known)) or 'none'} (calibrate session list).")
        scores = store.scores(args.session)
    results = gstudy_tables(scores, scopes=args.scope, raters=raters, n_boot=args.boot, seed=args.seed)
    if out is None:
        for r in results:
            d = r["d_study"]
            phis = ", ".join(f"{int(n) if float(n).is_integer() else n}: {p:.2f}" for n, p in zip(d["n_r"], d["Phi"]))
            need = r["raters_needed"][0.80]
            print(f"{r['scope']} ({r['design']}, {r['n_cases']} cases, {r['n_raters']} assessors): Phi by assessors {phis}; "
                  f"Phi >= 0.80 needs {need.n if need.n is not None else 'more than 50'}"
                  + (f" (95% {need.ci[0]:g}-{need.ci[1]:g})" if need.ci else ""))
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        out.write_text(json.dumps(_json(results), ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        from calibrate.tabular import write_csv

        write_csv(_long(results), out)
    print(f"Wrote the G-study of {len(results)} scope(s) to {out}.", file=sys.stdout)
    return 0
