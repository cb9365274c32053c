"""Normalising text and names for matching: invisible characters, look-alike letters,
diacritics, the folds, a name's identity and its diminutive stems.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from .words import DUTCH_DIMINUTIVES, PARTICLES


_WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f])*")


_GAP_RE = re.compile(r"[\s\-'’‘`´_]{1,3}")


#: characters that show nothing (zero-width space/joiners, word joiner, soft hyphen, BOM,
#: bidi controls, variation selectors, tags, Hangul fillers): removed before matching, so
#: "San\u200bne" and "San\u00adne" are "Sanne"
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f"
)


_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


#: Letters that do not decompose under NFKD (ı ł ø æ ß đ ...) and the Cyrillic, Greek and
#: Armenian letters that look like Latin ones (the single-letter Latin prototypes of Unicode
#: TR39's confusables.txt for those scripts). Case is kept, so a capital stays a capital.
_LOOKALIKE = {
    # letters without a decomposition (Turkish, Polish, Nordic, German, Croatian, Maltese)
    "ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "ß": "ss", "ẞ": "SS", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
    "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ĸ": "k", "ŀ": "l", "Ŀ": "L", "ŋ": "n", "Ŋ": "N",
    "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ɗ": "d",
    # Cyrillic look-alikes
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    "Ӏ": "l", "а": "a", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "о": "o", "р": "p",
    "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "ӏ": "l", "ԁ": "d",
    # Greek look-alikes
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "ϲ": "c", "ϳ": "j",
    "ο": "o", "α": "a", "ν": "v", "ι": "i", "ρ": "p", "κ": "k",
    # Armenian look-alikes
    "օ": "o", "ս": "u", "ո": "n", "հ": "h",
}


# what sends a text down the slow path of _skeleton: invisible characters, the letters
# above, whole Cyrillic/Greek/Armenian blocks (their accented letters decompose onto the
# look-alikes), fullwidth forms, mathematical and enclosed alphanumerics, letterlike
# symbols and combining marks outside U+0300-036F
_SPECIAL_RE = re.compile(
    f"[{_INVISIBLE}{''.join(_LOOKALIKE)}\u0370-\u03ff\u0400-\u052f\u0530-\u058f\u1f00-\u1fff"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\u2100-\u214f\u2460-\u24ff\ufe20-\ufe2f"
    "\uff01-\uff5e\U0001d400-\U0001d7ff]"
)


_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})


_SKELETON_CHARS: dict[str, str] = {}


def _char_skeleton(c: str) -> str:
    if c in _LOOKALIKE:
        return _LOOKALIKE[c]
    if _INVISIBLE_RE.match(c):
        return ""
    decomposed = unicodedata.normalize("NFKD", c)
    return "".join(_LOOKALIKE.get(d, d) for d in decomposed if unicodedata.category(d) not in _DROP_CATEGORIES)


def _skeleton(text: str) -> tuple[str, list[int] | None]:
    """``text`` as it is matched: invisible characters removed, look-alike letters,
    fullwidth and mathematical letters and digits mapped to Latin ones. Returns the text
    and, when it differs, the index in ``text`` of every character of the result (plus
    one past the end), so that spans can be mapped back. Most texts take the fast path."""
    if text.isascii() or not _SPECIAL_RE.search(text):
        return text, None
    parts: list[str] = []
    origin: list[int] = []
    cache = _SKELETON_CHARS
    for i, c in enumerate(text):
        r = cache.get(c)
        if r is None:
            r = _char_skeleton(c) if _SPECIAL_RE.match(c) else c
            if len(cache) < 65_536:
                cache[c] = r
        parts.append(r)
        origin.extend([i] * len(r))
    origin.append(len(text))
    return "".join(parts), origin


def _to_original(origin: list[int] | None, start: int, end: int) -> tuple[int, int]:
    if origin is None:
        return start, end
    return origin[start], origin[end - 1] + 1


def _fold(word: str) -> str:
    """Case-fold, strip accents, drop invisible characters and map look-alike letters:
    ``Özdemir``/``ozdemir``, ``Yılmazer``/``Yilmazer`` and a Cyrillic ``Ѕаnnе``/``Sanne``
    are one name."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(
        _LOOKALIKE.get(c, c) for c in decomposed
        if not unicodedata.combining(c) and unicodedata.category(c) not in _DROP_CATEGORIES
    ).casefold()


def _legacy_fold(word: str) -> str:
    """The fold of calibrate before issue 14 (accents and case only). Pseudonyms are
    still computed from it, so a person keeps the token and a rater the id they had; and
    fingerprints stored by that version are still found."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str, fold=_fold) -> list[str]:
    return [fold(m.group()) for m in _WORD_RE.finditer(text)]


def _chunks(name: str, fold=_fold) -> list[str]:
    """The whitespace-separated parts of a name in reading order: "Vries, Sanne de"
    becomes ["Sanne", "de", "Vries"]."""
    if "," not in name:
        return name.split()
    surname, _, rest = name.partition(",")
    rest_chunks = rest.split()
    particles = [c for c in rest_chunks if all(w in PARTICLES for w in _words(c, fold))]
    given = [c for c in rest_chunks if c not in particles]
    return [*given, *particles, *surname.split()]


def _identity(name: str) -> str:
    """Normalised identity of a name; "Vries, Sanne de" and "Sanne de Vries" agree. Kept
    on the old fold so pseudonyms and rater ids do not change between versions."""
    return " ".join(_words(" ".join(_chunks(name, _legacy_fold)), _legacy_fold))


_DIMINUTIVE_SUFFIXES = ("etje", "tje", "pje", "je")


def _diminutive_stems(norm: str) -> list[str]:
    """Given names a Dutch diminutive may come from: "jantje" -> "jan", "sannetje" ->
    "sanne", "wimpje" -> "wim", "tommetje" -> "tom", "keesje" -> "kees"."""
    if len(norm) < 5 or not norm.endswith("je"):
        return []
    stems = []
    for suffix in _DIMINUTIVE_SUFFIXES:
        if norm.endswith(suffix):
            stem = norm[: -len(suffix)]
            if len(stem) >= 2:
                stems.append(stem)
                if suffix == "etje" and len(stem) > 2 and stem[-1] == stem[-2]:
                    stems.append(stem[:-1])  # tomm-etje -> tom
                if suffix == "tje" and len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "aou":
                    stems.append(stem[:-1])  # annaa-tje -> anna
    return list(dict.fromkeys(stems))


def _expansion_table(diminutives: Mapping[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    """Both directions of a formal -> short forms table, folded: one step either way."""
    table = DUTCH_DIMINUTIVES if diminutives is None else diminutives
    out: dict[str, list[str]] = {}
    for formal, shorts in table.items():
        f = _fold(str(formal).strip())
        if isinstance(shorts, str):
            shorts = [shorts]
        for short in shorts:
            s = _fold(str(short).strip())
            if f and s and f != s:
                out.setdefault(f, []).append(s)
                out.setdefault(s, []).append(f)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


_DEFAULT_EXPANSIONS: dict[str, tuple[str, ...]] | None = None


def _expansions_for(diminutives) -> dict[str, tuple[str, ...]]:
    global _DEFAULT_EXPANSIONS
    if diminutives is None:
        if _DEFAULT_EXPANSIONS is None:
            _DEFAULT_EXPANSIONS = _expansion_table(None)
        return _DEFAULT_EXPANSIONS
    return _expansion_table(diminutives)
