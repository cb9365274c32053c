"""Report sections from other packages, in one shared shape, checked and rendered generically.

A section is a JSON-able dict (docs/report.md)::

    {"id": "beoordelaars", "title": "Wat elke beoordelaar doet",
     "intro": ["Dutch paragraph", ...],
     "tables": [{"caption": "...", "columns": [["key", "Dutch header"], ...], "rows": [{key: value}, ...]}],
     "figures": [{"png": "<base64 PNG>", "alt": "Dutch alt text", "caption": "..."}],
     "notes": ["Dutch footnote", ...]}

Numbers stay numbers (None for unknown); the report formats them. Owns
:func:`check_section` (a clear error naming the section and the field when the shape is
wrong); the templates render every checked section the same way.
"""

from __future__ import annotations

import math

from ..errors import InputError

__all__ = ["check_section"]


def _fail(sec, what: str) -> None:
    raise InputError(f"report section {sec.get('id', '?')!r}: {what}.", location="sections",
                     hint="A section is {id, title, intro, tables, figures, notes}; see docs/report.md.")


def _json_safe(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        return _json_safe(v.item())
    return v


def check_section(sec: dict) -> dict:
    """``sec`` in the shared shape, with lists defaulted and non-finite numbers as None."""
    if not isinstance(sec, dict):
        raise InputError("a report section must be a dict.", location="sections", hint="See docs/report.md.")
    for key in ("id", "title"):
        if not isinstance(sec.get(key), str) or not sec[key].strip():
            _fail(sec, f"'{key}' must be a non-empty text")
    out = {"id": sec["id"], "title": sec["title"]}
    for key in ("intro", "notes"):
        vals = sec.get(key) or []
        if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals):
            _fail(sec, f"'{key}' must be a list of texts")
        out[key] = list(vals)
    tables = []
    for k, t in enumerate(sec.get("tables") or []):
        cols = t.get("columns") if isinstance(t, dict) else None
        if not cols or not all(isinstance(c, (list, tuple)) and len(c) == 2 for c in cols):
            _fail(sec, f"table {k + 1} needs 'columns' as [key, header] pairs")
        rows = t.get("rows") or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            _fail(sec, f"table {k + 1} needs 'rows' as a list of dicts")
        tables.append({"caption": t.get("caption") or "", "columns": [[str(a), str(b)] for a, b in cols],
                       "rows": [{str(kk): _json_safe(vv) for kk, vv in r.items()} for r in rows]})
    out["tables"] = tables
    figures = []
    for k, f in enumerate(sec.get("figures") or []):
        if not isinstance(f, dict) or not f.get("png") or not f.get("alt"):
            _fail(sec, f"figure {k + 1} needs 'png' (base64) and 'alt' (Dutch alt text)")
        figures.append({"png": f["png"], "alt": f["alt"], "caption": f.get("caption") or ""})
    out["figures"] = figures
    return out
