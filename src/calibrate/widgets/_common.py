"""What the app's screens share: the stylesheet folder, Dutch error sentences, a message box.

The scoring form (an anywidget) and the facilitator's panel (ipywidgets) use the same
colours, focus ring and selected-state marks from ``static/common.css``.
"""

from __future__ import annotations

import html
from pathlib import Path

from calibrate.errors import AccessError, CalibrateError, InputError, SchemaVersionError, StoreError

STATIC = Path(__file__).parent / "static"


def stylesheet(*names: str) -> str:
    """The CSS of ``static/common.css`` followed by ``names`` (files in ``static/``)."""
    return "\n".join((STATIC / n).read_text(encoding="utf-8") for n in ("common.css", *names))


def dutch_error(exc: CalibrateError, *, saving: bool = False, html: bool = False) -> str:
    """One Dutch sentence for an error the app shows, with the way out; the library's own
    (English) message follows as the technical detail."""
    from calibrate.store.retry import DatabaseUnavailableError

    head = "Niet opgeslagen: " if saving else ""
    if isinstance(exc, DatabaseUnavailableError):
        text = ("de database is niet bereikbaar. Wat je invulde staat nog op het scherm en wordt vanzelf opnieuw "
                "opgeslagen zodra de database terug is." if saving else
                "De database is niet bereikbaar. Probeer het zo opnieuw, of vraag de facilitator de server te controleren.")
    elif isinstance(exc, SchemaVersionError):
        text = ("de database hoort bij een andere versie van calibrate. Vraag de facilitator om "
                "\u2018calibrate upgrade\u2019 uit te voeren.")
    elif isinstance(exc, AccessError):
        text = "dat mag je als beoordelaar niet (blind scoren tot de facilitator de sessie onthult, of je bent geen beoordelaar van deze sessie)."
    elif isinstance(exc, StoreError):
        text = "de werkruimte kon niet worden geopend. Controleer CALIBRATE_WORKSPACE of CALIBRATE_DB."
    elif isinstance(exc, InputError):
        text = "de invoer klopt niet."
    else:
        text = "er ging iets mis."
    if not head:
        text = text[0].upper() + text[1:]
    out = f"{head}{text} (technisch: {exc})"
    return _escape(out) if html else out


def _escape(text) -> str:
    return html.escape(str(text)) if text is not None else ""


def message_widget(title: str, text: str):
    """A short Dutch message instead of the app (never a traceback)."""
    import ipywidgets as w

    box = w.HTML(f"<div class='calibrate-message' role='alert'><p><b>{_escape(title)}</b> {_escape(text)}</p></div>")
    return box
