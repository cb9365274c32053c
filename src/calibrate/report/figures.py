"""Figures of the report: matplotlib (Agg), returned as base64 PNG for embedding.

Owns the drawing only; every number comes from the report content dict.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from matplotlib.ticker import FuncFormatter  # noqa: E402
from ..figure_text import plain_text_figures, png  # noqa: E402

plain_text_figures()  # ids and labels are data: "$" in a session id is no math text

_BLUE, _RED, _GREY, _ORANGE = "#1f5f99", "#b2182b", "#8c8c8c", "#d9822b"
#: Tick labels with a decimal comma and a real minus sign.
_COMMA = FuncFormatter(lambda v, _pos: f"{v:.2f}".rstrip("0").rstrip(".").replace(".", ",").replace("-", "\u2212"))


def _comma(ax) -> None:
    """Decimal comma on the value axis (the report's one number format)."""
    ax.yaxis.set_major_formatter(_COMMA)


def _short(text: str, n: int = 70) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _nan(v):
    return float("nan") if v is None else v


def trajectory(entry: dict, *, reference: str = "consensus") -> str:
    """Panel − reference and pairwise agreement per session for one item, each with its
    95% interval over the session's cases as a band; labelled lines."""
    tr = entry.get("trajectory") or []
    x = list(range(len(tr)))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.8, 2.3))
    a1.axhline(0, color=_GREY, lw=0.8, label="geen verschil")
    ref = "consensus" if reference == "consensus" else "rest van het panel"
    a1.plot(x, [_nan(r["diff"]) for r in tr], "o-", color=_BLUE, label=f"panel − {ref}")
    if any(r.get("diff_ci_low") is not None for r in tr):
        a1.fill_between(x, [_nan(r.get("diff_ci_low")) for r in tr], [_nan(r.get("diff_ci_high")) for r in tr],
                        color=_BLUE, alpha=0.18, lw=0, label="95%-interval")
    a1.set_title(f"afwijking t.o.v. {ref}", fontsize=8)
    a1.set_ylim(-1, 1)
    a2.plot(x, [_nan(r["agreement"]) for r in tr], "o-", color=_ORANGE, label="overeenstemming (paren)")
    if any(r.get("agreement_ci_low") is not None for r in tr):
        a2.fill_between(x, [_nan(r.get("agreement_ci_low")) for r in tr], [_nan(r.get("agreement_ci_high")) for r in tr],
                        color=_ORANGE, alpha=0.18, lw=0, label="95%-interval")
    a2.set_title("overeenstemming tussen paren beoordelaars", fontsize=8)
    a2.set_ylim(0, 1.02)
    for a in (a1, a2):
        a.set_xticks(x)
        a.set_xticklabels([r["session"] for r in tr], rotation=45, ha="right", fontsize=6)
        a.tick_params(axis="y", labelsize=7)
        a.spines[["top", "right"]].set_visible(False)
        a.legend(fontsize=6, frameon=False, loc="best")
        _comma(a)
    fig.suptitle(_short(entry.get("name") or entry.get("label") or entry["item"], 95), fontsize=8, y=1.06)
    return png(fig)


def leniency_forest(raters: list[dict]) -> str:
    """Leniency per assessor with its CI; flagged assessors in red."""
    rows = [r for r in raters if r.get("leniency") is not None]
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(rows) + 0.9))
    for k, r in enumerate(rows):
        col = _RED if r.get("flagged") else (_ORANGE if r.get("drift_flagged") else _BLUE)
        lo = r["ci_low"] if r.get("ci_low") is not None else r["leniency"]
        hi = r["ci_high"] if r.get("ci_high") is not None else r["leniency"]
        ax.plot([lo, hi], [k, k], color=col, lw=1.5)
        ax.plot([r["leniency"]], [k], "o", color=col, ms=4)
    ax.axvline(0, color=_GREY, lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["rater"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("mildheid met 95%-interval (aandeel van de schaal; > 0 milder dan de referentie)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.xaxis.set_major_formatter(_COMMA)
    return png(fig)


def rater_trends(raters: list[dict], highlight: list[str]) -> str | None:
    """Leniency per session: the assessors whose leniency changed in colour, each with its
    95% band over cases and a label; the others in grey (one legend entry)."""
    if not raters or not any(r.get("trajectory") for r in raters):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    sessions: list[str] = []
    for r in raters:
        for p in r.get("trajectory") or []:
            if p["session"] not in sessions:
                sessions.append(p["session"])
    pos = {s: k for k, s in enumerate(sessions)}
    colours = [_RED, _ORANGE, "#5e3c99", "#1b7837"]
    grey_done = False
    k = 0
    for r in raters:
        tr = r.get("trajectory") or []
        xs = [pos[p["session"]] for p in tr]
        ys = [_nan(p["leniency"]) for p in tr]
        if r["rater"] in highlight:
            col = colours[k % len(colours)]
            k += 1
            ax.plot(xs, ys, "o-", color=col, lw=1.5, ms=3, label=f"{r['rater']} (verschuift)")
            if any(p.get("ci_low") is not None for p in tr):
                ax.fill_between(xs, [_nan(p.get("ci_low")) for p in tr], [_nan(p.get("ci_high")) for p in tr],
                                color=col, alpha=0.15, lw=0, label=f"{r['rater']}: 95%-interval")
        else:
            ax.plot(xs, ys, "-", color=_GREY, lw=0.6, alpha=0.6, label=None if grey_done else "overige beoordelaars")
            grey_done = True
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(sessions)))
    ax.set_xticklabels(sessions, rotation=45, ha="right", fontsize=6)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("mildheid", fontsize=7)
    ax.legend(fontsize=6, frameon=False, loc="best")
    ax.yaxis.set_major_formatter(_COMMA)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def agreement_bars(rows: list[dict]) -> str | None:
    """Krippendorff's alpha with its 95% CI per group, labelled with the kader's names;
    dashed lines at Krippendorff's (2004) 0,667 and 0,800."""
    rows = [r for r in rows if r.get("alpha") is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(rows) + 0.9))
    for k, r in enumerate(rows):
        lo = r["alpha_ci_low"] if r.get("alpha_ci_low") is not None else r["alpha"]
        hi = r["alpha_ci_high"] if r.get("alpha_ci_high") is not None else r["alpha"]
        ax.plot([lo, hi], [k, k], color=_BLUE, lw=1.5)
        ax.plot([r["alpha"]], [k], "o", color=_BLUE, ms=4)
    for v in (0.667, 0.8):
        ax.axvline(v, color=_GREY, lw=0.6, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_short(f"{r.get('name') or r['group']} ({r.get('kind_label') or r['kind']})", 60) for r in rows],
                       fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, 1)
    ax.set_xlabel("Krippendorffs alfa met 95%-interval; stippellijnen bij 0,667 en 0,800", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.xaxis.set_major_formatter(_COMMA)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)
