"""The check of identifiers (rater, case and session ids, item ids, links): what personal
data an id holds, its value masked.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .words import REPLACED_KINDS, _LABELS, _mask
from .text import _skeleton
from .patterns import StudentNumberFormat
from .pseudonymiser import Pseudonymiser


#: fields holding a link (``material``): numbers in a URL path are ids far more often than
#: student numbers or BSNs, so there only labelled numbers, ``tel:`` numbers, e-mail
#: addresses, IBANs and names count
LINK_FIELDS = frozenset({"material", "link", "url"})


@dataclass(frozen=True)
class IdentifierFinding:
    """Personal data found in an identifier: ``kind`` (the first found; ``kinds`` all of
    them, in :data:`REPLACED_KINDS` order), the ``field`` it was in and ``masked``, the
    value cut to its shape (``Xxxxx xx Xxxxx``) for a message."""

    field: str
    kind: str
    kinds: tuple[str, ...]
    masked: str

    @property
    def label(self) -> str:
        return _LABELS.get(self.kind, (self.kind,))[0]

    @property
    def labels(self) -> str:
        """The Dutch words for what was found, e.g. ``naam, e-mailadres``."""
        return ", ".join(_LABELS.get(k, (k,))[0] for k in self.kinds)

    def message(self) -> str:
        """E.g. ``rater 'Xxxxx xx Xxxxx' looks like personal data (naam)``."""
        return f"{self.field} {self.masked!r} looks like personal data ({self.labels})"


_CAMEL_RE = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])")


_ID_SEPARATORS_RE = re.compile(r"[_./\\?&=#:%~|,;()\[\]{}<>\"]+")


_GLUED_PARTICLE_RE = re.compile(r"\b(van(?:de[nr]?|der|den)?|de|ter|ten|el|al)(?=[a-z]{3,}\b)")


_TEL_RE = re.compile(r"(?i:tel:)\+?[\d\-. ()]{7,20}")


# a number in a link's query or path after a name that says what it is: ?student=1012345
_LINK_NUMBER_RE = re.compile(
    r"(?i)[?&;/](?P<name>student(?:nummer|nr|number|_?id)?|stud(?:nr)?|sid|leerling(?:nummer|nr)?|bsn"
    r"|burgerservicenummer)[=/:](?P<num>[a-z]?\d{5,10})(?![\w])"
)


def _identifier_spellings(value: str) -> list[str]:
    """The ways an identifier may hide a name: "SanneDeVries", "sanne_de_vries",
    "s.devries", "https://x.example/sanne-de-vries?id=3". Every word gets a capital:
    in an identifier case says nothing, so "j.smit" is "J Smit"."""
    spread = _ID_SEPARATORS_RE.sub(" ", _CAMEL_RE.sub(" ", value))
    out = [spread]
    unglued = _GLUED_PARTICLE_RE.sub(r"\1 ", spread)
    if unglued != spread:
        out.append(unglued)
    return [_WORD_START_RE.sub(lambda m: m.group().upper(), s) for s in out]


_WORD_START_RE = re.compile(r"(?<![^\W\d_])[^\W\d_]")


def _check_identifier(p: Pseudonymiser, value: str, field: str) -> IdentifierFinding | None:
    if not isinstance(value, str):
        raise TypeError(f"an identifier must be str, got {type(value).__name__}")
    link = field in LINK_FIELDS
    clean = _skeleton(value)[0]
    kinds: set[str] = set()
    for i, spelling in enumerate([clean, *_identifier_spellings(clean)]):
        for kind, _, _, _ in p._clean_spans(spelling, spelling, None, bare_numbers=not link, phones=not link):
            if not (i and kind == "email"):  # the spread spellings break e-mail addresses up
                kinds.add(kind)
    if link:
        if _TEL_RE.search(clean):
            kinds.add("phone")
        for m in _LINK_NUMBER_RE.finditer(clean):
            kinds.add("bsn" if m.group("name").casefold() in ("bsn", "burgerservicenummer") else "student_number")
    if not kinds:
        return None
    ordered = tuple(k for k in REPLACED_KINDS if k in kinds)
    masked = _mask(value if len(value) <= 40 else value[:39] + "…")
    return IdentifierFinding(field, ordered[0], ordered, masked)


def check_identifier(value: str, *, field: str = "id", pseudonymiser: Pseudonymiser | None = None,
                     student_numbers: StudentNumberFormat | str | int | None = None) -> IdentifierFinding | None:
    """What personal data an identifier holds, or ``None``: a roster name (known to
    ``pseudonymiser``, e.g. one built with :meth:`Pseudonymiser.from_fingerprints` from a
    workspace's stored fingerprints, so no roster is needed), an e-mail address, a phone
    number, a BSN, an IBAN, a student number, a postcode, a street address or a birth date.

    ``field`` names the identifier in the finding's message (``rater``, ``case``,
    ``session``, ``item``, ``material``...); for link fields (:data:`LINK_FIELDS`) numbers
    count only when labelled. Names are also found written together or with separators
    (``SanneDeVries``, ``sanne_de_vries``, ``s.devries``). Without ``pseudonymiser`` only
    the patterns are checked. An id that *is* a pseudonym (``beoordelaar-3F9A1C``) is fine.

    >>> check_identifier("B03") is None
    True
    >>> check_identifier("jan@example.nl", field="rater").message()
    "rater 'xxx@xxxxxxx.xx' looks like personal data (e-mailadres)"
    """
    if pseudonymiser is None:
        pseudonymiser = Pseudonymiser(key=secrets.token_bytes(32), student_numbers=student_numbers)
    return _check_identifier(pseudonymiser, value, field)
