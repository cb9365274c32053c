"""From a store to the report's content, with the parts a worker computes meanwhile.

Owns :func:`build_report_content` and :func:`content_and_sections`: the store read once
(the score table decoded once by the store's reader, the consensus, the sessions, the
focus session's framework, who took part: :func:`participants`) and handed to
:func:`.content.report_content`; the worker's job (:func:`_model_part`): the model
sections (:func:`model_sections`), started through :func:`.worker.background`; and the
work either process may do (:class:`Task`): the verdicts against the phases
(:func:`phase_tables`, :func:`phases_part`) and, added by the caller, the figures — in a
pool this process takes from the front and the worker, once free, from the back. Each
part is put in where it would have been.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import pandas as pd

from ..errors import CalibrateError
from ..schema import DEFAULT_FRAMEWORK
from ..scores import CodedScores
from .content import _Elsewhere, _phases, history_sessions, report_content
from .sections import check_section
from .session import choose_session, session_stats
from .worker import background


class Task(NamedTuple):
    """Work either process may do: ``fn(*args)``, known by ``name``."""

    name: Any
    fn: Callable
    args: tuple


def focus_session(sessions: pd.DataFrame, scores: CodedScores, session: str | None) -> pd.Series | None:
    """The row of ``sessions`` the report is about (:func:`.session.choose_session`)."""
    return choose_session(sessions, session_stats(scores), session)[0]


def build_report_content(store, *, session: str | None = None, progress: bool = False,
                         step: Callable[[str], None] | None = None, sections: list[dict] | None = None) -> dict:
    """Everything the report shows, as a JSON-ready dict (keys documented in docs/report.md).

    Reads the store once — the score table decoded once by the store's reader, the
    consensus, the sessions and the focus session's framework — and hands the tables to
    :func:`report_content`. ``session`` is the kalibreersessie the report is about
    (default: :func:`.session.choose_session`). ``sections`` are extra report sections
    (the shared section shape, docs/report.md). ``progress`` is accepted for symmetry
    with :func:`~calibrate.report.write_report`; progress is reported through ``step``.
    """
    content, finish = content_and_sections(store, session=session, step=step, sections=sections)
    finish()
    return content


def content_and_sections(store, *, session: str | None = None, step: Callable[[str], None] | None = None,
                         sections: list[dict] | None = None) -> tuple[dict, Callable[[], None]]:
    """:func:`build_report_content` in two steps: the content without the parts a worker
    computes meanwhile (see :func:`background`), and ``finish``, which puts them in — so
    the caller can draw the content's figures meanwhile.

    ``finish.tasks`` (with a worker; else empty) is work either process may do. The
    caller may put it, with tasks of its own, in a pool shared with the worker
    (``finish.share(pool)``, once) and take its tasks from the pool's front
    (``finish.take()`` until None; the worker takes from the back once its job is done);
    ``finish(done)``, given the values of the tasks the caller did by name, does here
    those of ``finish.tasks`` that are neither done nor in the pool, waits for the worker,
    puts everything in and returns every task's value by name (a figure the worker drew
    comes back so)."""
    say = step or (lambda _msg: None)
    # the model sections (seconds of EM and bootstrap on the focus session) need nothing the
    # rest of the report computes: where use_worker() says so a worker process computes
    # them meanwhile — started now, it imports the models' libraries while the store is
    # read, then gets the focus session's tables — and they are placed where they would
    # have been
    pending = background(_model_part, warm=_model_imports, shared=_shared_imports) if sections is None else None
    try:
        return _content(store, pending, session, say, step, sections)
    except BaseException:
        if pending is not None:
            pending.cancel()  # no worker outlives a report that failed
        raise


def _content(store, pending, session, say, step, sections):
    sessions = store.sessions()
    say("scores lezen")
    scores = store.coded_scores(notes=False, stamps=False)
    stats = session_stats(scores)  # counted once: the choice here and the content's
    focus = choose_session(sessions, stats, session)[0]
    framework, problems = None, []
    expected, people, titles = None, None, {}
    if focus is not None:
        fid = focus["framework"] or DEFAULT_FRAMEWORK
        try:
            framework = store.framework(fid)
        except CalibrateError as exc:  # a researcher's own items without a framework file
            problems.append(f"Het kader {fid} kon niet worden geladen ({exc}); de indeling naar leeruitkomst, "
                            "dimensie en fase ontbreekt daarom.")
    say("consensus lezen")
    fid_ = None if focus is None else str(focus["session"])
    # the reasons of the focus session only (the report quotes no other): the rest comes
    # from the workspace's snapshot
    consensus = store.coded_consensus(stamps=False, notes=[] if fid_ is None else [fid_])
    if pending is not None and (focus is None or framework is None):
        pending.cancel()
        pending = None
    elsewhere = None
    tasks: list[Task] = []
    if pending is not None:  # the focus session's tables (the models read no notes)
        cons_ = consensus.of_sessions([fid_]) if consensus is not None and len(consensus) else consensus
        pending.start(scores.of_sessions([fid_]), cons_, fid_, framework, step=say, what="beoordelaarsmodellen")
        if pending.parallel:  # the verdicts and phases so far: done later, here or in the worker once it is free
            elsewhere = _Elsewhere()
            tables = phase_tables(scores, framework, history_sessions(sessions, set(stats["session"]), focus), fid_)
            tasks.append(Task("phases", phases_part, (*tables, framework)))
    if focus is not None:
        scores = store.with_notes(scores, [fid_])
        expected = {"cases": store.session_cases(fid_), "raters": store.session_raters(fid_),
                    "assessable": [i.id for i in framework.assessable_items()] if framework is not None else None}
        people = participants(store, fid_, expected["raters"] or sorted(set(scores.of_sessions([fid_]).frame["rater"].astype(str))))
        cases = store.cases()
        titles = {str(c): (None if pd.isna(t) else str(t)) for c, t in zip(cases["case"], cases["title"])}
    if pending is not None and not pending.parallel:  # in order, in this process
        sections, said = pending.result()
        problems, pending = problems + said, None
    # with a worker still computing, the model sections (None here) and the verdicts
    # against the phases are put in by finish()
    content = report_content(scores, consensus, sessions, framework=framework, session=session, expected=expected,
                             warnings=problems, step=step, sections=sections, participants=people,
                             case_titles=titles, stats=stats, phases_elsewhere=elsewhere)
    if pending is None:
        return content, _Nothing()
    at = len(problems)  # the model sections' warnings follow the reader's, as in the order above
    shared: set = set()  # the names of the tasks in the pool shared with the worker

    def finish(done: dict | None = None) -> dict:
        done = dict(done or {})
        for t in tasks:  # not in the pool, not done by the caller: here, while the worker computes
            if t.name not in done and t.name not in shared:
                done[t.name] = t.fn(*t.args)
        say("wachten op beoordelaarsmodellen en betrouwbaarheid")
        model, said = pending.result()
        done.update(pending.extra() or {})
        if elsewhere is not None:  # its warnings where report_content would have said them (after ``at``)
            content["phases"], phase_said = done["phases"]
            content["warnings"][elsewhere.at:elsewhere.at] = phase_said
        content["warnings"][at:at] = said
        content["sections"] = [check_section(s) for s in model]
        return done

    def share(pool: list[Task]) -> None:
        shared.update(t.name for t in pool)
        pending.share(pool)

    finish.tasks = tasks
    finish.cancel = pending.cancel
    finish.share = share
    finish.take = pending.take
    return content, finish


class _Nothing:
    """``finish`` where no worker computes anything: a pool is done here, task by task."""

    tasks: list = []

    def __init__(self) -> None:
        self._pool: list = []

    def __call__(self, done: dict | None = None) -> dict:
        return dict(done or {})

    def cancel(self) -> None:
        return None

    def share(self, pool: list) -> None:
        self._pool = list(pool)

    def take(self):
        return self._pool.pop(0) if self._pool else None


def _model_part(step, scores, consensus, session: str, framework):
    """The worker's job: the model sections and their warnings."""
    said: list[str] = []
    return model_sections(scores, consensus, session, framework, said, step=step), said


def phase_tables(scores: CodedScores, framework, history_ids: list[str], focus_id: str) -> tuple:
    """What :func:`phases_part` reads: the phase and verdict judgements of the focus
    session and of the history, with the framework's scales (a fifth of the table, sent
    to the worker, when it takes them, instead of all of it)."""
    coded = scores.with_framework(framework)
    vp = coded.select(coded.frame["kind"].isin(["phase", "verdict"]).to_numpy())
    return vp.of_sessions([focus_id]), vp.of_sessions(history_ids)


def phases_part(focus: CodedScores, history: CodedScores, framework) -> tuple[dict, list[str]]:
    """The report's verdicts-against-phases part (``content["phases"]``) and its warnings."""
    said: list[str] = []
    return _phases(focus, history, framework, said), said


def _shared_imports() -> None:
    """What both processes load: matplotlib, which the report's figures and the model
    sections both draw with, and the frameworks package (its pydantic file schema), which
    this process reads the focus session's framework with and the models import —
    imported before the worker is forked, once for both (0.66 s and 0.28 s at 2.7 M that
    the worker no longer spends; their pages counted once)."""
    from .. import frameworks  # noqa: F401
    from . import figures  # noqa: F401


def _model_imports() -> None:
    """What the model sections import when they run (a worker imports it while waiting;
    matplotlib it has from :func:`_shared_imports`, run before every fork)."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import sklearn.tree  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401

    from .. import gtheory, raters  # noqa: F401


def model_sections(scores: CodedScores, consensus: CodedScores | None, session: str, framework,
                   warnings: list[str], *, step: Callable[[str], None] | None = None) -> list[dict]:
    """The report's sections from the model rooms, on the focus ``session``: what each
    assessor does (:func:`calibrate.raters.report_section`: latent consensus, implicit
    cut-offs, many-facet Rasch) and how many assessors are enough
    (:func:`calibrate.gtheory.report_section`: G- and D-study). A section that cannot be
    computed for this session is left out and said once in ``warnings``."""
    from .. import gtheory, raters

    say = step or (lambda _msg: None)
    focus = scores.of_sessions([session])
    cons = consensus.of_sessions([session]) if consensus is not None and len(consensus) else None
    if cons is not None and not len(cons):
        cons = None
    out = []
    for name, title, make in (
        ("beoordelaarsmodellen", "Wat elke beoordelaar doet",
         lambda: raters.report_section(focus, framework, cons)),
        ("betrouwbaarheid", "Hoeveel beoordelaars zijn genoeg?",
         lambda: gtheory.report_section(focus, framework)),
    ):
        say(name)
        try:
            out.append(make())
        except CalibrateError as exc:
            warnings.append(f"Het onderdeel ‘{title}’ kon voor deze sessie niet worden berekend ({exc}).")
    return out


def participants(store, session: str, raters: list[str]) -> dict:
    """Who took part: pseudonyms, or names where the session opted in (``calibrate session
    show-names``) and the name is known — the rule of :meth:`Store.with_rater_names`."""
    frame = pd.DataFrame({"session": [session] * len(raters), "rater": list(raters)})
    shown = store.with_rater_names(frame)["rater"].astype(str).tolist()
    named = any(a != b for a, b in zip(shown, raters))
    return {"names": named, "raters": [{"rater": r, "shown": s} for r, s in zip(raters, shown)]}
