"""Text in figures is shown as written: no matplotlib math text.

matplotlib reads text between two ``$`` as TeX-like math, so a session id, an assessor's
id or an item label such as ``K$\\foo$`` makes drawing a figure fail (``ParseFatalException``)
or shows something else than the data. Figures in calibrate never use math text; the
figure code calls :func:`plain_text_figures` once before it makes its first figure, and
:func:`plain` escapes one string for code that must leave the setting alone.
"""

from __future__ import annotations


def plain_text_figures() -> None:
    """Turn matplotlib's math-text parsing off for every text made from now on."""
    import matplotlib

    matplotlib.rcParams["text.parse_math"] = False


def plain(text: object) -> str:
    """``text`` as a string matplotlib shows literally even with math text on."""
    return str(text).replace("$", r"\$")
