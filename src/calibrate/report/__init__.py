"""The kalibreersessie report: HTML (self-contained, prints to A4), PDF or JSON.

Owns :func:`write_report` (format chosen by the file suffix) and re-exports
:func:`build_report_content`. The content is built once (:mod:`.content`), figures are
drawn from it (:mod:`.figures`) and the Jinja2 template ``templates/rapport.html.j2``
renders it; JSON writes the same content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..errors import InputError
from .content import DRIFT_BONUS, SIGNAL_BONUS, build_report_content

__all__ = ["build_report_content", "render_html", "write_report"]

_STEPS = ("scores lezen", "consensus lezen", "overeenstemming", "drift per indicator", "beoordelaars",
          "oordelen en fasen", "voor en na de bespreking", "agenda", "figuren", "opmaken")


def _fmt(v, digits=2):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, (int, float)):
        return f"{v:.{digits}f}".replace(".", ",") if isinstance(v, float) else str(v)
    return str(v)


def _pct(v):
    return "—" if v is None else f"{100 * v:.0f}%"


def render_html(content: dict, *, step=None) -> str:
    """The report as one self-contained HTML page (figures embedded as base64 PNG)."""
    import jinja2
    from markupsafe import Markup

    from . import figures

    (step or (lambda _m: None))("figuren")
    figs = {"traj": {}}
    ref = (content.get("drift") or {}).get("reference", "consensus")
    for d in content.get("drifting_indicators", []):
        if d.get("trajectory"):
            figs["traj"][d["item"]] = figures.trajectory(d, reference=ref)
    raters = content.get("rater_effects") or []
    if raters:
        figs["forest"] = figures.leniency_forest(raters)
        figs["rater_trends"] = figures.rater_trends(raters, [r["rater"] for r in raters if r.get("drift_flagged")])
    agr = content.get("agreement") or {}
    if agr.get("available"):
        figs["agreement"] = figures.agreement_bars([r for r in agr.get("outcomes", []) if r.get("kind") == "indicator"])
    (step or (lambda _m: None))("opmaken")
    env = jinja2.Environment(loader=jinja2.PackageLoader("calibrate.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)

    def agreement_table(rows):
        head = ("<table><tr><th>groep</th><th>soort</th><th class=\"num\">eenheden</th><th class=\"num\">% eens</th>"
                "<th class=\"num\">alfa [95%-BI]</th><th class=\"num\">AC</th><th>lezing</th></tr>")
        body = []
        for r in rows:
            body.append(
                f"<tr><td>{Markup.escape(r.get('group'))}</td><td>{Markup.escape(r.get('kind'))}</td><td class=\"num\">{_fmt(r.get('n_units'))}</td>"
                f"<td class=\"num\">{_pct(r.get('percent_agreement'))}</td><td class=\"num\">{_fmt(r.get('alpha'))} "
                f"[{_fmt(r.get('alpha_ci_low'))}; {_fmt(r.get('alpha_ci_high'))}]</td><td class=\"num\">{_fmt(r.get('ac'))}</td>"
                f"<td>{Markup.escape(r.get('band_landis_koch') or '')}</td></tr>")
        return Markup(head + "".join(body) + "</table>")

    phase_rows = (content.get("phases") or {}).get("raters") or []
    wanted = ("n", "lenient_rate", "lenient_flagged", "severe_rate", "severe_flagged")
    phase_cols = [k for k in wanted if phase_rows and k in phase_rows[0]]
    tpl = env.get_template("rapport.html.j2")
    return tpl.render(c=content, figs=figs, f2=lambda v: _fmt(v, 2), f3=lambda v: _fmt(v, 3), pct=_pct, fmt=_fmt,
                      agreement_table=agreement_table, bonus_drift=DRIFT_BONUS, bonus_signal=SIGNAL_BONUS,
                      phase_cols=phase_cols)


def write_report(store, out, *, session: str | None = None, progress: bool = False,
                 step: Callable[[str], None] | None = None) -> Path:
    """Write the report for ``session`` (default: the latest with judgements) to ``out``.

    The suffix chooses the format: ``.html`` (self-contained page), ``.pdf`` (via
    WeasyPrint, ``pip install calibrate[pdf]``) or ``.json`` (the content, see
    CONTRACTS §4). ``progress=True`` shows a progress bar on stderr; ``step`` is called
    with the name of each phase as it starts (what the benchmark times).
    """
    out = Path(out)
    suffix = out.suffix.lower()
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
        content = build_report_content(store, session=session, step=step)
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".json":
            out.write_text(json.dumps(content, ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
            return out
        html = render_html(content, step=step)
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
