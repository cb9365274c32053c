"""The kalibreersessie report: HTML (self-contained, prints to A4), PDF or JSON.

Owns :func:`write_report` (format chosen by the file suffix) and re-exports
:func:`build_report_content`. The content is built once (:mod:`.build` reads the store,
:mod:`.content` assembles it), figures are drawn from it (:mod:`.figures`) and the Jinja2
template ``templates/rapport.html.j2`` renders it; JSON writes the same content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..wording import KIND_LABELS
from .build import Task, build_report_content, content_and_sections
from .content import DRIFT_BONUS, SIGNAL_BONUS

__all__ = ["KINDS", "build_report_content", "content_figures", "render_html", "render_verslag", "write_report"]

#: What ``calibrate report --kind`` writes: the full report or the kalibratieverslag.
KINDS = ("rapport", "verslag")

_STEPS = ("scores lezen", "consensus lezen", "beoordelaarsmodellen", "betrouwbaarheid", "overeenstemming", "drift per indicator", "beoordelaars",
          "oordelen en fasen", "voor en na de bespreking", "agenda", "figuren", "opmaken")


def _fmt(v, digits=2):
    """The report's one number format: decimal comma, thousands with a dot, — for unknown."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, int):
        return f"{v:,}".replace(",", ".") if abs(v) >= 10000 else str(v)
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:.{digits}f}".replace(".", ",").replace("-", "\u2212")
    return str(v)


def _pct(v):
    return "—" if v is None else f"{100 * v:.0f}%"


def _ci(lo, hi, digits=2):
    if lo is None or hi is None:
        return ""
    return f"[{_fmt(lo, digits)}; {_fmt(hi, digits)}]"


def _cipct(lo, hi):
    if lo is None or hi is None:
        return ""
    return f"[{100 * lo:.0f}; {100 * hi:.0f}%]"


def _not_computed(content: dict) -> list[str]:
    """What could not be computed, each said once with why (Dutch)."""
    out = []
    agr = content.get("agreement") or {}
    if agr.get("available"):
        for key, what in (("outcomes", "leeruitkomsten"), ("dimensions", "dimensies"), ("indicators", "indicatoren")):
            n = sum(1 for r in agr.get(key) or [] if r.get("alpha") is None)
            if n:
                out.append(f"Alfa van {n} {what} (— in de tabel): alle beoordelaars kozen daar op elke casus hetzelfde, "
                           "of er waren te weinig casussen met twee of meer oordelen; zonder spreiding is er geen "
                           "overeenstemming boven toeval te meten. Het % eens zegt daar meer.")
    present = {r["kind"] for r in content.get("agreement_by_kind") or []}
    absent = [KIND_LABELS[k] for k in ("indicator", "level", "phase", "verdict", "decision") if k not in present]
    if content.get("session") and present and absent:
        out.append(f"Geen overeenstemming voor: {', '.join(absent)} — in deze sessie zijn daar geen oordelen van "
                   "twee of meer beoordelaars op dezelfde casus.")
    if content.get("session") and any(r.get("accuracy") is None for r in content.get("rater_effects") or []) \
            and not (content.get("session") or {}).get("consensus"):
        out.append("‘Gelijk aan consensus’ ontbreekt: er is geen consensus vastgelegd.")
    return out


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("calibrate.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def _helpers() -> dict:
    return dict(fmt=_fmt, f2=lambda v: _fmt(v, 2), f3=lambda v: _fmt(v, 3), pct=_pct, ci=_ci, cipct=_cipct)


def render_html(content: dict, *, step=None, figs: dict | None = None) -> str:
    """The report as one self-contained HTML page (figures embedded as base64 PNG);
    ``figs`` are the content's figures when already drawn (:func:`content_figures`)."""
    from markupsafe import Markup

    if figs is None:
        figs = content_figures(content, step=step)
    (step or (lambda _m: None))("opmaken")
    env = _environment()

    def agreement_table(rows):
        head = ("<table class=\"wide\"><thead><tr><th>onderdeel</th><th>soort</th><th class=\"num\">eenheden</th><th class=\"num\">% eens</th>"
                "<th class=\"num\">alfa [95%-BI]</th><th class=\"num\">AC1/AC2 [95%-BI]</th><th>lezing (Krippendorff)</th></tr></thead>")
        body = []
        for r in rows:
            body.append(
                f"<tr><td>{Markup.escape(r.get('name') or r.get('group'))}</td><td>{Markup.escape(r.get('kind_label') or r.get('kind'))}</td>"
                f"<td class=\"num\">{_fmt(r.get('n_units'))}</td><td class=\"num\">{_pct(r.get('percent_agreement'))}</td>"
                f"<td class=\"num\">{_fmt(r.get('alpha'))} {_ci(r.get('alpha_ci_low'), r.get('alpha_ci_high'))}</td>"
                f"<td class=\"num\">{_fmt(r.get('ac'))} {_ci(r.get('ac_ci_low'), r.get('ac_ci_high'))}</td>"
                f"<td>{Markup.escape(r.get('band_krippendorff') or '')}</td></tr>")
        return Markup(head + "".join(body) + "</table>")

    tpl = env.get_template("rapport.html.j2")
    return tpl.render(c=content, figs=figs, agreement_table=agreement_table, bonus_drift=DRIFT_BONUS,
                      bonus_signal=SIGNAL_BONUS, not_computed=_not_computed(content), **_helpers())


def trajectory_figures(entries: list[dict], reference: str) -> dict[str, str]:
    """The trajectory figure (base64 PNG) of each drifting indicator with a trajectory, by item."""
    from . import figures

    return {d["item"]: figures.trajectory(d, reference=reference) for d in entries if d.get("trajectory")}


def figure_tasks(content: dict) -> list[Task]:
    """The figures of the report's own sections (leniency, agreement, the drift
    trajectories), each a :class:`~.build.Task` named ``("fig", key)`` or ``("traj", item)``,
    drawn from the content; the model sections carry their own."""
    from . import figures

    tasks = []
    raters = content.get("rater_effects") or []
    if raters:
        tasks.append(Task(("fig", "forest"), figures.leniency_forest, (raters,)))
        tasks.append(Task(("fig", "rater_trends"), figures.rater_trends,
                          (raters, [r["rater"] for r in raters if r.get("drift_flagged")])))
    agr = content.get("agreement") or {}
    if agr.get("available"):
        tasks.append(Task(("fig", "agreement"), figures.agreement_bars,
                          ([r for r in agr.get("outcomes", []) if r.get("kind") == "indicator"],)))
    ref = (content.get("drift") or {}).get("reference", "consensus")
    tasks += [Task(("traj", d["item"]), trajectory_figures, ([d], ref))
              for d in content.get("drifting_indicators", []) if d.get("trajectory")]
    return tasks


def _figures(tasks: list[Task], done: dict) -> dict:
    """The figures by key, the trajectories by item in the content's order (``done``:
    the tasks' values by name)."""
    figs = {"traj": {}}
    for t in tasks:
        kind, key = t.name
        if kind == "traj":
            figs["traj"].update(done[t.name])
        else:
            figs[key] = done[t.name]
    return figs


def content_figures(content: dict, *, step=None) -> dict:
    """The figures of the report's own sections as base64 PNG (:func:`figure_tasks`),
    drawn here: ``{"traj": {item: png}, "forest": png, ...}``."""
    (step or (lambda _m: None))("figuren")
    tasks = figure_tasks(content)
    return _figures(tasks, {t.name: t.fn(*t.args) for t in tasks})


def render_verslag(content: dict, *, rounds: dict | None = None) -> str:
    """The kalibratieverslag: one or two pages of minutes for the examencommissie.

    ``rounds`` is an optional section (the shared shape) with the agreement before and
    after the discussion of a re-score round; without it the verslag uses the re-score
    comparison in the content, or says plainly that no re-score round was held.
    """
    from .sections import check_section

    tpl = _environment().get_template("verslag.html.j2")
    return tpl.render(c=content, rounds=check_section(rounds) if rounds else None, **_helpers())


def _shared_figures(content: dict, finish, step=None) -> dict:
    """The report's figures and the content's work left (``finish.tasks``: the verdicts
    against the phases), as one pool shared with the worker when there is one
    (:meth:`.worker._Pending.share`). This process takes tasks from the front, the worker
    from the back once its model sections are done, so the two end together whichever
    finishes its own part first. The large task goes first (the longest-first rule of
    scheduling): this process starts on it at once, and the small figures at the back are
    what evens the two out. Puts the content's parts in (``finish``); returns the figures."""
    (step or (lambda _m: None))("figuren")
    figures = figure_tasks(content)
    finish.share(list(finish.tasks) + figures)
    done = {}
    while (task := finish.take()) is not None:
        done[task.name] = task.fn(*task.args)
    return _figures(figures, finish(done))


def write_report(store, out, *, session: str | None = None, progress: bool = False,
                 step: Callable[[str], None] | None = None, kind: str = "rapport",
                 sections: list[dict] | None = None, rounds: dict | None = None) -> Path:
    """Write the report for ``session`` to ``out`` (default session: the most recent
    revealed one in which two or more assessors judged a common case, see
    :func:`calibrate.report.session.choose_session`).

    ``kind`` is ``"rapport"`` (the full report) or ``"verslag"`` (the kalibratieverslag,
    :func:`render_verslag`; ``rounds`` is its optional before/after section).
    ``sections`` are extra sections in the shared shape (docs/report.md).

    The suffix chooses the format: ``.html`` (self-contained page), ``.pdf`` (via
    WeasyPrint, ``pip install calibrate[pdf]``) or ``.json`` (the content, see
    CONTRACTS §4). ``progress=True`` shows a progress bar on stderr; ``step`` is called
    with the name of each phase as it starts (what the benchmark times).
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if kind not in KINDS:
        raise InputError(f"unknown report kind {kind!r}.", location="--kind", hint=f"Choose one of: {', '.join(KINDS)}.")
    if suffix not in (".html", ".htm", ".pdf", ".json"):
        raise InputError(f"cannot tell the report format from {out.name!r}.", location="--out",
                         hint="End the file name in .html, .pdf or .json.")
    bar = None
    if progress:
        from tqdm import tqdm

        n = len(_STEPS) - (2 if suffix == ".json" else 0)
        bar = tqdm(total=n, desc="rapport", unit="stap", leave=True)

    outer = step

    def step(msg: str) -> None:
        if outer is not None:
            outer(msg)
        if bar is not None:
            if bar.n or bar.postfix:
                bar.update(1)
            bar.set_postfix_str(msg)

    try:
        content, finish = content_and_sections(store, session=session, step=step, sections=sections)
        # the rounds and the content's own figures while a worker may still compute the model sections
        try:
            if rounds is None and content.get("session"):
                from .. import rounds as _rounds

                rounds = _rounds.report_section(store, content["session"]["id"])
            figs = _shared_figures(content, finish, step) if suffix != ".json" and kind == "rapport" else None
        except BaseException:
            finish.cancel()
            raise
        if figs is None:
            finish()
        if rounds is not None:
            from .sections import check_section

            content["rounds"] = check_section(rounds)
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".json":
            out.write_text(json.dumps(content, ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
            return out
        html = render_html(content, step=step, figs=figs) if kind == "rapport" else render_verslag(content, rounds=rounds)
        if suffix == ".pdf":
            try:
                import weasyprint
            except ImportError as exc:
                raise InputError("writing a PDF needs WeasyPrint, which is not installed.", location="--out",
                                 hint="Install it with `pip install calibrate[pdf]` (Debian also needs libpango), "
                                      "or write .html and print that to PDF from a browser.") from exc
            weasyprint.HTML(string=html).write_pdf(str(out))
        else:
            out.write_text(html, encoding="utf-8")
        return out
    finally:
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()
