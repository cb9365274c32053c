"""What a note says: the global phrases the Kwaliteitscriteria warn about ("goed",
"prima" without an observation) and the text kept of a note or a reason.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd


#: Global phrases with no concrete behaviour (Kwaliteitscriteria, seed 001: "geen globale
#: uitspraken zoals 'gaat wel goed'"). Matched case-insensitively on word boundaries,
#: longest first; see :func:`is_global_statement` for when a note counts as global.
GLOBAL_PHRASES = (
    "gaat wel goed", "gaat goed", "ging goed", "ging wel goed", "goed gedaan", "helemaal goed",
    "prima", "netjes", "ziet er goed uit", "in orde", "niks op aan te merken",
    "niets op aan te merken", "zeer goed", "heel goed", "erg goed", "goed", "uitstekend",
    "voldoende", "top", "super", "mooi", "oké", "ok", "akkoord",
)

#: A note with a global phrase counts as concrete when at least this many content words
#: remain once the global phrases are taken out.
MIN_CONCRETE_WORDS = 4

_FILLER = frozenset(
    "de het een en of maar ook wel niet erg heel zeer echt gewoon best nog al dan dat die dit deze "
    "is was zijn waren gaat ging doet deed hij zij ze je jij hem haar zich er hier daar wat allemaal "
    "alles veel beetje toch hoor zo".split()
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'")


_PHRASE_RES = [
    (p, re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)"))
    for p in sorted(GLOBAL_PHRASES, key=len, reverse=True)
]


def global_phrases_in(text: str | None) -> list[str]:
    """The global phrases (:data:`GLOBAL_PHRASES`) in ``text``, longest match first."""
    if not text:
        return []
    rest = _fold(text)
    found = []
    for phrase, rx in _PHRASE_RES:
        if rx.search(rest):
            found.append(phrase)
            rest = rx.sub(" ", rest)
    return found


def is_global_statement(text: str | None) -> bool:
    """True when ``text`` uses a global phrase and names no concrete behaviour.

    Heuristic: the note contains one of :data:`GLOBAL_PHRASES` and fewer than
    :data:`MIN_CONCRETE_WORDS` content words remain once those phrases (and filler words
    such as "wel", "erg", "het") are taken out.

    >>> is_global_statement("Gaat wel goed.")
    True
    >>> is_global_statement("Prima: wachtte tot het stil was en gaf toen de opdracht.")
    False
    >>> is_global_statement("Liep naar het groepje achterin.")  # no global phrase at all
    False
    """
    if not text:
        return False
    rest = _fold(text)
    found = False
    for _, rx in _PHRASE_RES:
        if rx.search(rest):
            found = True
            rest = rx.sub(" ", rest)
    if not found:
        return False
    words = [w for w in _WORD.findall(rest) if w not in _FILLER and len(w) > 1]
    return len(words) < MIN_CONCRETE_WORDS


#: characters no one can see or type on purpose (NUL, the other C0 controls but tab and the
#: line breaks, DEL): pasted from another program they are dropped from a note, which
#: PostgreSQL would otherwise refuse (NUL) and the report could not show
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text) -> str | None:
    """A note or reason as it is kept: without invisible control characters, ``None`` when
    nothing is left but white space (or for a missing value)."""
    if text is None:
        return None
    if not isinstance(text, str):
        if pd.isna(text):
            return None
        text = str(text)
    text = _INVISIBLE_RE.sub("", text)
    return text if text.strip() else None

