"""What the app's screens share: the static folder (CSS and the browser-side code), the
rubric's descriptor cells, Dutch error sentences, a message box.

The scoring form and the facilitator's screens (both anywidgets) use the same colours,
focus ring, radio groups and selected-state marks: ``static/common.css`` and
``static/common.js``, put in front of each widget's own file by :func:`stylesheet` and
:func:`esm`.
"""

from __future__ import annotations

import html
from pathlib import Path

from calibrate.errors import AccessError, CalibrateError, InputError, SchemaVersionError, StoreError

STATIC = Path(__file__).parent / "static"


def stylesheet(*names: str) -> str:
    """The CSS of ``static/common.css`` followed by ``names`` (files in ``static/``)."""
    return "\n".join((STATIC / n).read_text(encoding="utf-8") for n in ("common.css", *names))


def esm(name: str) -> str:
    """The browser-side module of a widget: ``static/common.js`` followed by ``static/<name>``
    (one module, so the shared functions need no import)."""
    return "\n".join((STATIC / n).read_text(encoding="utf-8") for n in ("common.js", name))


#: Shown in a level's cell where the handbook gives the level no name and no descriptor.
UNNAMED_LEVEL = "naam niet vastgelegd in de handleiding"


def level_cells(scale) -> list[dict]:
    """The rubric levels as descriptor cells: ``{value, name, text, unnamed}`` per level,
    lowest first (name as :func:`calibrate.discussion.level_label`; the institute's
    descriptor, else plain Dutch where the handbook names no level)."""
    from calibrate.discussion import level_label

    return [
        {"value": lv.code, "name": level_label(lv),
         "text": lv.descriptor or ("" if lv.named_in_seed else UNNAMED_LEVEL),
         "unnamed": not lv.named_in_seed and not lv.descriptor}
        for lv in scale.levels
    ]


def phase_cells(table, dimension) -> list[dict]:
    """One row of the tabel complexe beroepsvaardigheden as descriptor cells."""
    return [{"value": p.code, "name": p.name, "text": dimension.descriptors.get(p.code, "")}
            for p in table.phases]


def dutch_error(exc: CalibrateError, *, saving: bool = False, html: bool = False) -> str:
    """One Dutch sentence for an error the app shows, with the way out; the library's own
    (English) message follows as the technical detail."""
    from calibrate.store.retry import DatabaseUnavailableError, WriteFailedError
    from calibrate.store.saves import RoundClosedError

    head = "Niet opgeslagen: " if saving else ""
    if isinstance(exc, RoundClosedError):
        # the closed round is the message itself, saving or not
        out = ("De blinde ronde is gesloten sinds de onthulling; je oordelen in deze sessie liggen vast en deze "
               "wijziging is niet opgeslagen. Een oordeel wijzigen kan alleen in een herbeoordelingsronde die de "
               "facilitator opent.")
        return _escape(out) if html else out
    if isinstance(exc, WriteFailedError):
        text = ("de database weigerde het opslaan. Wat je invulde staat nog op het scherm; probeer het opnieuw met "
                "Opslaan, en vraag de facilitator de database te controleren als het weer mislukt." if saving else
                "De database weigerde het opslaan. Probeer het opnieuw, of vraag de facilitator de database te controleren.")
    elif isinstance(exc, DatabaseUnavailableError):
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
