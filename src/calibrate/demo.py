"""The demo workspace: cases from ``data/``, simulated judgements with planted effects.

``calibrate demo`` imports the anonymised demo cases (pseudonymising the fictional names
in them with the demo roster), creates four past kalibreersessies with the simulator's
judgements and the consensus, one upcoming session for the scoring app, and the report.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import replace
from pathlib import Path

from .dutch import format_date
from .schema import DEFAULT_FRAMEWORK
from .store import Store
from .tabular import read_table

DEMO_MARKER = ".calibrate-demo"


def data_dir() -> Path:
    """Where the demo inputs live: the installed package data, else the repository's ``data/``."""
    packaged = Path(__file__).parent / "demo_data"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[2] / "data"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("the demo data folder (data/) was not found next to the package")


def _built_with(ws: Path) -> int | None:
    """How many judgements the demo build itself stored (written in the marker file)."""
    for line in (ws / DEMO_MARKER).read_text(encoding="utf-8").splitlines():
        if line.startswith("judgements:"):
            return int(line.split(":", 1)[1])
    return None


def keep_demo(ws: Path, *, quiet: bool = False) -> dict:
    """An earlier demo workspace is kept as it is; say how many judgements were saved in it
    since it was built and how to rebuild it."""
    with Store.open(ws, create=False) as store:
        now = store.counts()["judgements"]
    built = _built_with(ws)
    since = None if built is None else max(0, now - built)
    if not quiet:
        saved = ("" if since is None else
                 f" It holds {since} judgement{'s' if since != 1 else ''} saved since it was built." if since else
                 " Nothing was saved in it since it was built.")
        print(f"Demo workspace kept: {ws}.{saved} Nothing was changed.")
        print(f"To rebuild it from scratch (this deletes what was saved in it): calibrate demo --workspace {ws} --force")
        _next_steps(ws)
    return {"workspace": ws, "kept": True, "saved_since_build": since}


def _next_steps(ws: Path) -> None:
    print("Next: open the scoring app for an assessor, e.g.")
    print(f"  CALIBRATE_WORKSPACE={ws} CALIBRATE_RATER=B01 python3 -m uv run voila notebooks/01_scoren.ipynb")
    print(f"or explore the analyses: CALIBRATE_WORKSPACE={ws} python3 -m uv run jupyter lab notebooks/")


def build_demo(workspace: str | Path, *, report: bool = True, quiet: bool = False, force: bool = False) -> dict:
    """Build the demo workspace in ``workspace`` (new or empty) and return what was made.

    An earlier demo workspace is kept as it is, with the assessors' saved scores in it
    (:func:`keep_demo`); ``force=True`` rebuilds it from scratch. A folder that is not an
    earlier demo workspace is never touched.
    """
    from . import privacy
    from .frameworks import load_framework
    from .devtools.simulate import DEMO_CONFIG, simulate

    ws = Path(workspace).expanduser().resolve()
    if (ws / DEMO_MARKER).exists():
        if not force:
            return keep_demo(ws, quiet=quiet)
        shutil.rmtree(ws)  # an earlier demo, --force: rebuild it from scratch
    elif ws.exists() and any(ws.iterdir()):
        from .errors import InputError

        raise InputError(
            "the folder is not empty and is not an earlier demo workspace.", location=str(ws),
            hint="Give a new folder with --workspace, or remove this one first.",
        )
    ws.mkdir(parents=True, exist_ok=True)
    (ws / DEMO_MARKER).write_text("made by `calibrate demo`; running it again keeps this folder, "
                                  "`calibrate demo --force` rebuilds it\n")
    say = (lambda *_: None) if quiet else print
    src = data_dir()
    fw = load_framework(DEFAULT_FRAMEWORK)
    store = Store.open(ws)
    try:
        store.ensure_framework(fw)
        roster = privacy.load_roster(src / "roster.csv")
        key = privacy.load_or_create_key(ws)
        pseudo = privacy.Pseudonymiser(roster, key=key)
        summary = store.import_cases(read_table(src / "casussen.csv"), source="casussen.csv", pseudonymiser=pseudo)
        say(summary.message())
        raters = read_table(src / "beoordelaars.csv")
        store.add_raters(raters)
        case_ids = list(store.cases()["case"])
        per = DEMO_CONFIG.cases_per_session
        config = replace(  # each past session calibrates on its own new cases
            DEMO_CONFIG,
            rater_ids=list(raters["rater"]),
            session_cases={s: case_ids[s * per:(s + 1) * per] for s in range(DEMO_CONFIG.n_sessions)},
        )
        sim = simulate(fw, config)
        for sid, date in sim.scores[["session", "session_date"]].drop_duplicates().itertuples(index=False):
            cases = list(dict.fromkeys(sim.scores.loc[sim.scores["session"] == sid, "case"]))
            store.create_session(sid, date, framework=fw.id, title=f"Kalibreersessie {format_date(date)}", cases=cases,
                                 raters=list(raters["rater"]), revealed=True)
        s1 = store.import_scores(sim.scores, source="simulator")
        s2 = store.import_consensus(sim.consensus, source="simulator")
        say(s1.message())
        say(s2.message())
        last = _dt.date.fromisoformat(sim.scores["session_date"].max())
        upcoming_date = last + _dt.timedelta(days=56)
        upcoming = f"K{config.n_sessions + 1:02d}-{upcoming_date:%Y-%m}"
        store.create_session(upcoming, upcoming_date, framework=fw.id, title="Komende kalibreersessie",
                             cases=case_ids[:3], raters=list(raters["rater"]), revealed=False)
        made = {"workspace": ws, "sessions": list(store.sessions()["session"]), "planted": sim.planted}
        with (ws / DEMO_MARKER).open("a", encoding="utf-8") as fh:
            fh.write(f"judgements: {store.counts()['judgements']}\n")
        if report:
            from .report import write_report

            out = ws / "rapport.html"
            write_report(store, out)
            made["report"] = out
    finally:
        store.close()
    if not quiet:
        say("")
        say(f"Demo workspace ready: {ws}")
        if "report" in made:
            say(f"Report for the kalibreersessie: {made['report']}")
        _next_steps(ws)
    return made
