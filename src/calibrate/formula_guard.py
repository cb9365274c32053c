"""Spreadsheet formulas in exported cells: neutralised on export, restored on import.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, CR or LF) is read as a
formula by Excel, LibreOffice Calc and Google Sheets when a CSV or ``.xlsx`` export is
opened: ``=HYPERLINK(...)`` or ``+cmd|...`` in an assessor's note would run on the
reader's machine. OWASP's CSV-injection guidance (https://owasp.org/www-community/attacks/CSV_Injection)
is to make sure no cell begins with one of those characters by prefixing a single quote,
which spreadsheets show as "this is text".

This module is that escape and its exact inverse, so that our own export read back by our
own import gives the original text, and export -> import -> export is byte-identical:

* :func:`neutralise_formula` prefixes ``'`` when the cell would start a formula (also
  after leading white space, which some importers trim, and for the fullwidth forms
  ``＝＋－＠``), **and when the cell already starts with ``'``** — so a note such as
  ``'s ochtends ...`` gets ``''s ochtends ...`` and survives the round trip;
* :func:`restore_formula` removes that one quote, and only when the rest is a cell
  :func:`neutralise_formula` would have escaped. A hand-made file's ``'s ochtends`` is
  therefore read as it is.

Both accept any value and leave non-strings (numbers, missing values) alone. Apply
:func:`neutralise_formula` exactly once, to every text cell, just before writing (CSV and
``.xlsx``: openpyxl stores a string that starts with ``=`` as a formula), and
:func:`restore_formula` to every text cell of an imported file. Quoting of separators and
double quotes inside a cell is the CSV writer's job (pandas quotes them).

>>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> restore_formula(neutralise_formula("=1+2")) == "=1+2"
True
>>> neutralise_formula("'t Is goed"), restore_formula("'t Is goed")
("''t Is goed", "'t Is goed")
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["FORMULA_TRIGGERS", "needs_neutralising", "neutralise_formula", "neutralise_frame",
           "restore_formula", "restore_frame"]

#: first characters that make a spreadsheet read a cell as a formula (OWASP), plus their
#: fullwidth forms, which some East Asian spreadsheet locales accept as well
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_QUOTE = "'"

T = TypeVar("T")


def needs_neutralising(cell: object) -> bool:
    """Whether :func:`neutralise_formula` would prefix a quote to ``cell``."""
    if not isinstance(cell, str) or not cell:
        return False
    first = cell[0]
    if first in FORMULA_TRIGGERS or first == _QUOTE:
        return True
    if first.isspace():
        rest = cell.lstrip()
        return bool(rest) and rest[0] in FORMULA_TRIGGERS
    return False


def neutralise_formula(cell: T) -> T:
    """``cell`` made safe to open in a spreadsheet: ``'`` + ``cell`` when it would start
    a formula or already starts with ``'``; anything else unchanged."""
    if needs_neutralising(cell):
        return _QUOTE + cell  # type: ignore[operator, return-value]
    return cell


def restore_formula(cell: T) -> T:
    """The exact inverse of :func:`neutralise_formula` on what it writes:
    ``restore_formula(neutralise_formula(x)) == x`` for every ``x``."""
    if isinstance(cell, str) and cell.startswith(_QUOTE) and needs_neutralising(cell[1:]):
        return cell[1:]  # type: ignore[return-value]
    return cell


#: a superset of the cells either function changes: those that start with something other
#: than a letter or a digit (every trigger, the quote and every kind of white space do);
#: only these few are looked at one by one
_CANDIDATE_RE = r"^[^\p{L}\p{N}]"


def _map_frame(df, func, columns):
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    out = df.copy()
    for col in (out.columns if columns is None else columns):
        series = out[col]
        if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
            continue
        try:
            arr = pa.array(series.astype("string").array)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # mixed objects: one by one
            out[col] = series.map(func, na_action="ignore").astype(series.dtype)
            continue
        candidates = pc.fill_null(pc.match_substring_regex(arr, _CANDIDATE_RE), False)
        where = np.flatnonzero(np.asarray(candidates.to_numpy(zero_copy_only=False), dtype=bool))
        if not len(where):
            continue
        values = series.to_numpy(dtype=object, copy=True)
        changed = False
        for i in where:
            new = func(values[i])
            if new is not values[i] and new != values[i]:
                values[i] = new
                changed = True
        if changed:
            out[col] = pd.Series(values, index=series.index, name=series.name).astype(series.dtype)
    return out


def neutralise_frame(df, columns=None):
    """A copy of DataFrame ``df`` with :func:`neutralise_formula` applied to every text
    cell (of ``columns``, default all) and the header; numbers and missing values kept."""
    out = _map_frame(df, neutralise_formula, columns)
    out.columns = [neutralise_formula(c) for c in out.columns]
    return out


def restore_frame(df, columns=None):
    """The inverse of :func:`neutralise_frame`, for a table read back from our export."""
    out = df.copy()
    out.columns = [restore_formula(c) for c in out.columns]
    return _map_frame(out, restore_formula, columns)
