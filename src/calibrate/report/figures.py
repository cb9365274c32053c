"""Figures of the report: matplotlib (Agg), returned as base64 PNG for embedding.

Owns the drawing only; every number comes from the report content dict.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..figure_text import plain_text_figures  # noqa: E402

plain_text_figures()  # ids and labels are data: "$" in a session id is no math text

_BLUE, _RED, _GREY, _ORANGE = "#1f5f99", "#b2182b", "#8c8c8c", "#d9822b"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def trajectory(entry: dict, *, reference: str = "consensus") -> str:
    """Panel − reference and pairwise agreement per session for one item."""
    tr = entry.get("trajectory") or []
    x = list(range(len(tr)))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.4, 2.0))
    a1.axhline(0, color=_GREY, lw=0.8)
    a1.plot(x, [r["diff"] if r["diff"] is not None else float("nan") for r in tr], "o-", color=_BLUE)
    a1.set_title("afwijking t.o.v. " + ("consensus" if reference == "consensus" else "panel"), fontsize=8)
    a1.set_ylim(-1, 1)
    a2.plot(x, [r["agreement"] if r["agreement"] is not None else float("nan") for r in tr], "o-", color=_ORANGE)
    a2.set_title("overeenstemming (paren)", fontsize=8)
    a2.set_ylim(0, 1.02)
    for a in (a1, a2):
        a.set_xticks(x)
        a.set_xticklabels([r["session"] for r in tr], rotation=45, ha="right", fontsize=6)
        a.tick_params(axis="y", labelsize=7)
        a.spines[["top", "right"]].set_visible(False)
    return _png(fig)


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
    ax.set_xlabel("mildheid (aandeel van de schaal; > 0 milder dan de referentie)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def rater_trends(raters: list[dict], highlight: list[str]) -> str | None:
    """Leniency per session for the assessors whose leniency changed (others in grey)."""
    if not raters or not any(r.get("trajectory") for r in raters):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 2.4))
    sessions: list[str] = []
    for r in raters:
        for p in r.get("trajectory") or []:
            if p["session"] not in sessions:
                sessions.append(p["session"])
    pos = {s: k for k, s in enumerate(sessions)}
    for r in raters:
        tr = r.get("trajectory") or []
        xs = [pos[p["session"]] for p in tr]
        ys = [p["leniency"] for p in tr]
        if r["rater"] in highlight:
            ax.plot(xs, ys, "o-", color=_RED, lw=1.5, ms=3, label=r["rater"])
        else:
            ax.plot(xs, ys, "-", color=_GREY, lw=0.6, alpha=0.6)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(sessions)))
    ax.set_xticklabels(sessions, rotation=45, ha="right", fontsize=6)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("mildheid", fontsize=7)
    if highlight:
        ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def agreement_bars(rows: list[dict]) -> str | None:
    """Krippendorff's alpha with CI per leeruitkomst/dimension (indicator items)."""
    rows = [r for r in rows if r.get("alpha") is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(rows) + 0.8))
    for k, r in enumerate(rows):
        lo = r["alpha_ci_low"] if r.get("alpha_ci_low") is not None else r["alpha"]
        hi = r["alpha_ci_high"] if r.get("alpha_ci_high") is not None else r["alpha"]
        ax.plot([lo, hi], [k, k], color=_BLUE, lw=1.5)
        ax.plot([r["alpha"]], [k], "o", color=_BLUE, ms=4)
    for v in (0.667, 0.8):
        ax.axvline(v, color=_GREY, lw=0.6, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['group']} ({r['kind']})" for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, 1)
    ax.set_xlabel("Krippendorffs alfa (95%-BI)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
