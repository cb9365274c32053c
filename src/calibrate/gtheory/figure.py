"""The D-study figure: a coefficient against the number of assessors, with Dutch labels.

Owns :func:`d_study_figure`, which returns a matplotlib Figure (headless-safe; the report
embeds it as PNG). Labels and ticks are Dutch (decimal comma), the code is not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.gtheory.dstudy import d_study
from calibrate.gtheory.result import GStudy

_LABELS = {"Phi": "Φ (absolute beslissing)", "Erho2": "Eρ² (rangorde)"}


def _komma(x: float, decimals: int = 2) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")


def d_study_figure(
    g: GStudy | pd.DataFrame,
    raters: Sequence[int] = (1, 2, 3, 4, 6),
    *,
    coefficients: Sequence[str] = ("Phi", "Erho2"),
    targets: Sequence[float] = (0.70, 0.80),
    title: str | None = None,
    items: int | None = None,
):
    """Eρ² and Φ "met 1 / 2 / 3 / 4 / 6 beoordelaars": one line per coefficient, the
    bootstrap interval as a band when the G-study has replicates, dashed lines at the
    ``targets``. ``g`` is a G-study or a :func:`~calibrate.gtheory.dstudy.d_study` table
    with an ``n_r`` column. Returns a ``matplotlib.figure.Figure``."""
    from matplotlib.figure import Figure

    table = d_study(g, raters=list(raters), items=items) if isinstance(g, GStudy) else g
    if "n_r" not in table.columns:
        raise InputError("The D-study table has no 'n_r' column (numbers of assessors).")
    for c in coefficients:
        if c not in _LABELS:
            raise InputError(f"Unknown coefficient {c!r}; choose from {', '.join(_LABELS)}.")
    x = table["n_r"].to_numpy(float)
    fig = Figure(figsize=(6.4, 4.0))  # fixed margins: one draw, no layout pass
    fig.subplots_adjust(left=0.11, right=0.93, bottom=0.13, top=0.91)
    ax = fig.add_subplot()
    for c, marker in zip(coefficients, ("o", "s")):
        ax.plot(x, table[c], marker=marker, label=_LABELS[c])
        if f"{c}_low" in table.columns:
            ax.fill_between(x, table[f"{c}_low"], table[f"{c}_high"], alpha=0.15, label=f"95%-interval {c.replace('Erho2', 'Eρ²').replace('Phi', 'Φ')}")
    for t in targets:
        ax.axhline(t, linestyle="--", linewidth=0.8, color="grey")
        ax.annotate(_komma(t), (x.max(), t), textcoords="offset points", xytext=(4, 2), fontsize=8, color="grey")
    ax.set_xticks(x)
    ax.set_xticklabels([str(int(v)) if float(v).is_integer() else _komma(v, 1) for v in x])
    ax.set_ylim(0, 1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([_komma(v, 1) for v in np.linspace(0, 1, 6)])
    ax.set_xlabel("aantal beoordelaars per casus")
    ax.set_ylabel("betrouwbaarheid")
    ax.set_title(title or "Betrouwbaarheid met " + " / ".join(str(int(v)) for v in x) + " beoordelaars")
    ax.legend(loc="lower right", fontsize=8)
    return fig
