"""Pseudonymisation of case text, assessors' notes and rater names.

Owns the detectors (roster names, e-mail, Dutch phone numbers, student numbers,
postcodes, BSN, IBAN, street addresses, birth dates), the keyed pseudonyms that replace
them, the check of identifiers (rater, case and session ids, item ids, links) and the key
file. No database code: the store calls in. Nothing here logs, and no message carries the
original text.

How to read a pseudonym: ``[student-7F3A9C]`` is HMAC-SHA256(key, identity) cut to
24 bits, so the same person gets the same token in every case and every run with the
same key, and nobody without the key can tell who it is. See ``docs/privacy.md``.

>>> key = bytes(32)
>>> roster = load_roster([{"name": "Sanne de Vries", "role": "student"}])
>>> p = Pseudonymiser(roster, key=key)
>>> out = p.pseudonymise("Sanne de Vries (06-12345678) belt. Later zegt De Vries dat Sanne ziek is.")
>>> "Sanne" in out.text or "Vries" in out.text or "12345678" in out.text
False
>>> out.counts["name"], out.counts["phone"]
(3, 1)
>>> p.pseudonymise(out.text).text == out.text
True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from calibrate.errors import InputError

__all__ = [
    "COMMON_WORDS",
    "DUTCH_DIMINUTIVES",
    "KEY_ENV",
    "KEY_FILENAME",
    "LINK_FIELDS",
    "PARTICLES",
    "PATTERN_KINDS",
    "REPLACED_KINDS",
    "IdentifierFinding",
    "NameFingerprint",
    "PseudonymisedText",
    "Pseudonymiser",
    "Roster",
    "RosterEntry",
    "StudentNumberFormat",
    "Suspect",
    "bsn_is_valid",
    "check_identifier",
    "describe_counts",
    "find_suspects",
    "iban_is_valid",
    "key_id",
    "load_or_create_key",
    "load_roster",
    "merge_counts",
    "rater_pseudonym",
    "scan_text_for_personal_data",
]

# --------------------------------------------------------------------------- constants

KEY_ENV = "CALIBRATE_PSEUDONYM_KEY"
KEY_FILENAME = "pseudonym.key"
_MIN_KEY_BYTES = 16
_HEX_DIGITS = 6  # 24 bits: collision chance ~0.7 % for a roster of 500 people

#: what a pseudonymiser replaces, in the order of ``PseudonymisedText.counts``
REPLACED_KINDS = ("name", "email", "phone", "student_number", "postcode", "bsn", "iban", "address", "birth_date")
#: kinds found by patterns alone (no roster); what the repository scan looks for
PATTERN_KINDS = ("email", "phone", "student_number", "postcode", "bsn", "iban", "address", "birth_date")

_LABELS = {
    "name": ("naam", "namen"),
    "email": ("e-mailadres", "e-mailadressen"),
    "phone": ("telefoonnummer", "telefoonnummers"),
    "student_number": ("studentnummer", "studentnummers"),
    "postcode": ("postcode", "postcodes"),
    "bsn": ("burgerservicenummer", "burgerservicenummers"),
    "iban": ("rekeningnummer (IBAN)", "rekeningnummers (IBAN)"),
    "address": ("adres", "adressen"),
    "birth_date": ("geboortedatum", "geboortedata"),
    "possible_name": ("mogelijke naam", "mogelijke namen"),
    "possible_birth_date": ("mogelijke geboortedatum", "mogelijke geboortedata"),
    "number": ("lang getal", "lange getallen"),
}

# token prefixes of the pattern kinds; person prefixes come from the roster role
_PATTERN_PREFIX = {
    "email": "e-mail",
    "phone": "telefoon",
    "student_number": "studentnummer",
    "postcode": "postcode",
    "bsn": "bsn",
    "iban": "iban",
    "address": "adres",
    "birth_date": "geboortedatum",
}
_PERSON_KINDS = ("student", "persoon", "beoordelaar")
_TOKEN_PREFIXES = (*_PERSON_KINDS, "school", *_PATTERN_PREFIX.values())
_TOKEN_RE = re.compile(
    r"\[(?:" + "|".join(re.escape(p) for p in _TOKEN_PREFIXES) + r")-[0-9A-F]{%d}\]" % _HEX_DIGITS
)

_ROLE_KIND = {
    "student": "student", "studenten": "student", "lio": "student", "stagiair": "student",
    "leraar in opleiding": "student", "student-docent": "student",
    "school": "school", "stageschool": "school", "opleidingsschool": "school",
    "instelling": "school", "organisatie": "school",
    "beoordelaar": "beoordelaar", "assessor": "beoordelaar", "rater": "beoordelaar",
}

#: tussenvoegsels and name particles: part of a surname, never matched alone
PARTICLES = frozenset(
    "van de der den het t te ter ten op in aan uit bij onder over voor vd "
    "la le les du da di del della dos das do von zu zur el al ben bin ibn abu ait s d l y".split()
)

#: Dutch words that are also first names or surnames. A single-word name part on this
#: list is replaced only where it is written with a capital ("Groen", not "groen").
COMMON_WORDS = frozenset(
    """
    aan al alle als ben bij dan dat de deze die dit door een en er geen goed heel het hij hoe
    ik in is je jij kan maar mag met na naar niet nog nu of om ook op over te tot uit van
    veel voor waar wat wel wie wil zal ze zij zo
    les lessen klas klassen groep school leerling leerlingen student docent mentor uur dag
    week jaar tijd werk plan doel max min mark job lot lief hoop kans punt stap vak
    groen geel rood wit zwart bruin blauw grijs roos bloem fleur iris lelie jade
    jong oud klein groot lang kort vos wolf haan mees valk kok boer bakker smit visser
    koster kramer mulder schilder timmerman dekker molenaar hoek berg bos dam veld meer
    beek brink dijk kamp wal zand heuvel storm winter zomer lente zon maan ster sterre
    noor zuid oost west vrij vrede blij sterk snel
    bas ton lies els riet joke
    """.split()
)

#: Common Dutch short forms and diminutives of given names: formal name -> short forms.
#: Matching goes one step either way: "Bas" in a note finds "Sebastiaan" on the roster
#: and "Sebastiaan" finds a roster "Bas"; "Hans" does not find a roster "Jan" (both are
#: short for Johannes, but they are different people's names far more often than not).
#: Pass ``diminutives=`` to use another table (``{}`` switches this off).
DUTCH_DIMINUTIVES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "johannes": ("jan", "hans", "johan", "joop", "hannes", "jo"),
    "cornelis": ("kees", "cor", "corné", "corneel"),
    "maria": ("mies", "marie", "mieke", "ria", "marij", "marja", "maaike", "mia", "mien", "rie"),
    "sebastiaan": ("bas", "sebas", "bastiaan"),
    "jacobus": ("jaap", "koos", "co", "sjaak", "jacco", "coos"),
    "hendrik": ("henk", "rik", "hein", "henny"),
    "gerardus": ("gerard", "gerrit", "gert", "ger"),
    "theodorus": ("theo", "dorus"),
    "petrus": ("piet", "peter", "pieter"),
    "willem": ("wim", "pim"),
    "wilhelmus": ("willem", "wim", "pim"),
    "adrianus": ("arie", "adri", "ad"),
    "antonius": ("toon", "ton", "teun", "anton"),
    "johanna": ("jo", "hanna", "hanneke", "joke", "anneke"),
    "margaretha": ("margriet", "greet", "marga", "meta"),
    "abraham": ("bram",),
    "alexander": ("sander", "lex", "alex", "xander"),
    "maximiliaan": ("max",),
    "christiaan": ("chris", "stijn"),
    "frederik": ("frits", "freek", "fred"),
    "bartholomeus": ("bart", "mees"),
    "nicolaas": ("klaas", "niek", "nico"),
    "jozef": ("sjef", "jos", "joep"),
    "lodewijk": ("lou", "louis", "ludo"),
    "matthijs": ("thijs", "mats"),
    "elisabeth": ("els", "liesbeth", "lies", "betty", "bep", "lisa", "elise"),
    "catharina": ("karin", "tineke", "rina", "ineke", "cato", "tina", "kitty"),
    "geertruida": ("truus", "trudy", "geertje"),
    "hendrika": ("riek", "rika", "henny", "hennie"),
    "jacoba": ("coby", "co", "coba"),
    "petronella": ("nel", "nelleke", "nelly", "ella"),
    "cornelia": ("corrie", "cora", "lia", "nel", "neeltje"),
    "wilhelmina": ("willemien", "mien", "mina", "wilma", "wil"),
    "susanne": ("suus", "sanne", "suze", "suzan"),
    "susanna": ("suus", "sanne", "suze"),
    "benjamin": ("ben", "benji"),
    "samuel": ("sam",),
    "daniel": ("daan",),
    "thomas": ("tom", "thom"),
    "robertus": ("rob", "bert", "robert"),
    "robert": ("rob", "bert"),
    "albertus": ("bert", "ab", "albert"),
    "lambertus": ("bert", "lammert"),
    "hubertus": ("huub",),
    "marinus": ("rinus",),
    "martinus": ("tinus", "martin"),
    "leonardus": ("leo", "leon", "leendert"),
    "gijsbertus": ("gijs", "gijsbert"),
    "isabella": ("bella", "isa", "isabel"),
    "josephina": ("fien", "josje", "fiene"),
    "sophia": ("fie", "fiep", "sofie"),
    "mathilde": ("tilly",),
    "eduard": ("ed", "eddy"),
    "stefanus": ("stef", "stefan"),
    "everardus": ("evert",),
    "dirk": ("dick",),
    "mohammed": ("mo", "moha"),
    "alexandra": ("sandra", "alex"),
    "anna": ("anneke", "annie"),
    "helena": ("lena", "heleen", "lenie"),
    "francisca": ("cisca", "francien"),
    "franciscus": ("frans",),
    "gerarda": ("gerda",),
    "hermanus": ("herman", "manus", "harm"),
    "laurentius": ("laurens", "rens", "lau"),
    "michiel": ("chiel", "giel"),
    "rudolf": ("ruud", "rudi", "dolf"),
    "wouter": ("wout",),
})

_MAX_NAME_WORDS = 6
# --------------------------------------------------------------------------- keys


_KEY_HINT = "Write 64 hex digits (python -c 'import secrets; print(secrets.token_hex(32))')."


def _check_key(key: object, *, location: str | None = None) -> bytes:
    if not isinstance(key, (bytes, bytearray)):
        raise InputError(
            f"the pseudonym key must be bytes, got {type(key).__name__}.", location=location,
            hint=f"Use load_or_create_key(workspace) or set {KEY_ENV}.",
        )
    if len(key) < _MIN_KEY_BYTES:
        raise InputError(
            f"the pseudonym key has {len(key)} bytes; at least {_MIN_KEY_BYTES} are needed.",
            location=location, hint=_KEY_HINT,
        )
    return bytes(key)


def _parse_hex_key(text: str, *, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        # never echo the value
        raise InputError("the pseudonym key is not a hex string.", location=where, hint=_KEY_HINT) from None
    return _check_key(key, location=where)


def load_or_create_key(
    workspace: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """Return the pseudonym key: from ``CALIBRATE_PSEUDONYM_KEY`` (hex), else
    ``<workspace>/pseudonym.key``, created with mode 0600 when missing.

    The key lives outside the database file: whoever has the database alone cannot
    recompute or reverse a pseudonym. With PostgreSQL (no workspace directory) set the
    environment variable. The environment wins over the file so a deployment can keep the
    key in its secret store.
    """
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _parse_hex_key(env[KEY_ENV], where=f"environment variable {KEY_ENV}")
    if workspace is None:
        raise InputError(
            "no pseudonym key: neither a workspace nor the environment variable is set.",
            hint=f"Pass --workspace DIR (the key is kept in DIR/{KEY_FILENAME}) or set {KEY_ENV}.",
        )
    path = Path(workspace) / KEY_FILENAME
    if path.exists():
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings.warn(
                f"{path} can be read by other users; run 'chmod 600 {path}'.",
                stacklevel=2,
            )
        return _parse_hex_key(path.read_text(encoding="ascii", errors="replace"), where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # write a complete temporary file, then link it into place: a process racing us
    # either wins (and we read its key) or sees the whole file, never an empty one
    tmp = path.with_name(f".{KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _parse_hex_key(path.read_text(encoding="ascii", errors="replace"), where=str(path))
    finally:
        tmp.unlink(missing_ok=True)
    return key


def key_id(key: bytes) -> str:
    """A public 16-hex-digit id of ``key``: store it beside the fingerprints to notice a
    database opened with another key (its pseudonyms would not match)."""
    return hmac.new(_check_key(key), b"calibrate-key-id", hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, namespace: str, value: str) -> str:
    return hmac.new(key, f"{namespace}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _token(key: bytes, prefix: str, namespace: str, value: str) -> str:
    return f"[{prefix}-{_mac(key, namespace, value)[:_HEX_DIGITS].upper()}]"


def rater_pseudonym(name: str, *, key: bytes) -> str:
    """The pseudonymous rater id for an assessor's real name, e.g. ``beoordelaar-3F9A1C``.

    The same hash as the token ``[beoordelaar-3F9A1C]`` that a roster entry with role
    ``beoordelaar`` gets in text, so ids and notes agree. The store keeps the mapping."""
    return _token(_check_key(key), "beoordelaar", "person", _identity(name))[1:-1]

# --------------------------------------------------------------------------- normalising

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
# --------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterEntry:
    """One roster row. ``kind`` is the token prefix: student, persoon, beoordelaar or
    school. Optional e-mail, phone and student number map to the person's pseudonym;
    ``aliases`` are other given names the person goes by (a roepnaam or nickname)."""

    name: str
    role: str = ""
    kind: str = "persoon"
    email: str = ""
    phone: str = ""
    student_number: str = ""
    aliases: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show the name itself, not even in a traceback
        return f"RosterEntry(kind={self.kind!r}, name=<{len(self.name.split())} words>)"


class NameFingerprint(NamedTuple):
    """A keyed hash of one way of writing a name, and the token that replaces it.

    ``fingerprint`` is HMAC-SHA256 hex; ``pseudonym`` the token, e.g. ``[student-7F3A9C]``;
    ``kind`` the token's prefix. Safe to store: without the key it reveals nothing."""

    fingerprint: str
    pseudonym: str
    kind: str


def _role_kind(role: str) -> str:
    return _ROLE_KIND.get(" ".join(role.casefold().split()), "persoon")


def _split_name(name: str) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(given-name chunks, particle chunks, surname words) of a person's name."""
    chunks = _chunks(name)
    word_chunks = [w for w in (_words(c) for c in chunks) if w]
    if len(word_chunks) == 1:
        return [word_chunks[0]], [], []
    surname = word_chunks[-1]
    i = len(word_chunks) - 1
    while i > 1 and all(w in PARTICLES for w in word_chunks[i - 1]):
        i -= 1
    return word_chunks[:i], word_chunks[i:-1], surname


# other spellings of a name people write: German and Nordic letters spelled out, the
# Dutch ij written as y (Dijkstra/Dykstra)
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                              "ø": "oe", "Ø": "Oe", "å": "aa", "Å": "Aa"})


def _spellings(name: str) -> list[str]:
    clean = _skeleton(name)[0]
    out = [clean]
    spelled = unicodedata.normalize("NFC", name).translate(_SPELLED_OUT)
    if spelled != name:
        out.append(_skeleton(spelled)[0])
    for s in list(out):
        if "ij" in s.casefold():
            out.append(re.sub("ij", "y", re.sub("IJ", "Y", re.sub("Ij", "Y", s))))
    return list(dict.fromkeys(out))


def _person_variants(name: str, aliases: Iterable[str] = ()) -> list[tuple[str, bool]]:
    given, particles, surname = _split_name(name)
    flat_particles = [w for c in particles for w in c]
    out = [(" ".join([*(w for c in given for w in c), *flat_particles, *surname]), True)]
    if surname:
        out.append((" ".join([*flat_particles, *surname]), False))  # de vries
        out.append((" ".join(surname), False))  # vries / jansen bakker
        out.extend((w, False) for w in surname)  # jansen, bakker
        out.append((" ".join([*given[0], *surname]), False))  # sanne vries
        if flat_particles:
            out.append(("".join([*flat_particles, *surname]), False))  # devries (ids, mail names)
    if given:
        out.append((" ".join(w for c in given for w in c), False))  # anna maria
        out.extend((" ".join(c), False) for c in given)  # anna, maria
        out.extend((w, False) for c in given for w in c)
    for alias in aliases:
        alias_words = _words(_skeleton(alias)[0])
        if not alias_words:
            continue
        out.append((" ".join(alias_words), False))  # bas
        if surname:
            out.append((" ".join([*alias_words, *flat_particles, *surname]), False))  # bas de vries
            out.append((" ".join([*alias_words, *surname]), False))  # bas vries
    return out


def _variants(entry: RosterEntry) -> list[tuple[str, bool]]:
    """(normalised variant, is_full_name) for every way a roster name is matched."""
    out: list[tuple[str, bool]] = []
    for spelling in _spellings(entry.name):
        full = " ".join(_words(" ".join(_chunks(spelling))))
        if entry.kind == "school":
            out.append((full, True))
            words = full.split()
            if len(words) > 1 and words[0] in {"het", "de", "t"}:
                out.append((" ".join(words[1:]), False))
            continue
        out.extend(_person_variants(spelling, entry.aliases))
    seen: dict[str, bool] = {}
    for variant, is_full in out:
        seen[variant] = seen.get(variant, False) or is_full
    return list(seen.items())


def _mode(variant: str) -> str | None:
    """'i' (any case), 'c' (only where written with capitals) or None (never alone)."""
    words = variant.split()
    core = [w for w in words if w not in PARTICLES]
    if not core:
        return None
    if len(words) == 1:
        w = words[0]
        if len(w) < 2:
            return None
        return "c" if len(w) == 2 or w in COMMON_WORDS else "i"
    return "c" if all(w in COMMON_WORDS or len(w) < 3 for w in core) else "i"


# Coverage rows: for every token of a roster import, a row "the words of this token's names
# have 'word' rows". With every token in a table covered, the matcher hashes each distinct
# word once against the 'word' rows and looks further only at words of roster names, and
# tries runs of words only from such words. Rows stored by older versions (or mixed with
# them) lack coverage; then it looks every word up, and with a school among them tries
# every run of words, as before.
_COVERED = "covered"


class Roster:
    """The people and schools whose names must not reach the database.

    Build with :func:`load_roster`. Holds real names in memory only; its repr shows
    counts, never names. Persist :meth:`fingerprints` instead of the names.
    """

    def __init__(self, entries: Iterable[RosterEntry] = ()):
        self.entries: tuple[RosterEntry, ...] = tuple(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        kinds = Counter(e.kind for e in self.entries)
        return f"Roster({len(self)} entries: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")"

    def fingerprints(self, key: bytes) -> list[NameFingerprint]:
        """One keyed fingerprint per way of writing each name (and per linked e-mail,
        phone and student number), with the token it becomes. Sorted by fingerprint, so
        the list says nothing about roster order.

        A variant shared by several people (two students called Sanne) gets one token of
        its own: it is replaced, but not attributed to either of them.
        """
        key = _check_key(key)
        owners: dict[tuple[str, str], dict[str, tuple[str, bool]]] = {}
        name_words: dict[str, str] = {}
        for entry in self.entries:
            ident = _identity(entry.name)
            token = _token(key, entry.kind, "person", ident)
            for variant, is_full in _variants(entry):
                mode = _mode(variant) or ("c" if is_full else None)
                if mode is None:
                    continue
                slot = owners.setdefault((f"name:{mode}", variant), {})
                slot[ident] = (token, is_full or slot.get(ident, ("", False))[1])
                for word in variant.split():
                    if word not in PARTICLES and len(word) > 1:
                        name_words.setdefault(word, token)
            for kind, raw in (("email", entry.email), ("phone", entry.phone),
                              ("student_number", entry.student_number)):
                value = _normalise_value(kind, raw) if raw.strip() else ""
                if value:
                    owners.setdefault((kind, value), {})[ident] = (token, True)
        kind_of = {_identity(e.name): e.kind for e in self.entries}
        rows = []
        for (namespace, value), slot in owners.items():
            full_owners = [i for i, (_, full) in slot.items() if full]
            if len(slot) == 1:
                token = next(iter(slot.values()))[0]
            elif len(full_owners) == 1:
                token = slot[full_owners[0]][0]
            else:
                kinds = {kind_of[i] for i in slot}
                prefix = kinds.pop() if len(kinds) == 1 else "persoon"
                token = _token(key, prefix, "ambiguous", f"{namespace}\x1f{value}")
            rows.append(NameFingerprint(_mac(key, "fp:" + namespace, value), token, token[1:].split("-")[0]))
        for word, token in name_words.items():
            rows.append(NameFingerprint(_mac(key, "fp:word", word), token, token[1:].split("-")[0]))
        for token in sorted({r.pseudonym for r in rows}):
            rows.append(NameFingerprint(_mac(key, "fp:" + _COVERED, token), token, token[1:].split("-")[0]))
        return sorted(rows)
def load_roster(source) -> Roster:
    """Read a roster: a CSV/xlsx path, a DataFrame, or an iterable of dicts or names.

    Columns: ``name`` (required; ``naam`` also accepted), ``role`` (``rol``; student,
    werkplekbegeleider, school, beoordelaar, ...; empty means persoon) and optionally
    ``email``, ``phone`` (``telefoon``), ``student_number`` (``studentnummer``), which
    are then replaced by the person's own pseudonym, and ``aliases`` (``roepnaam``,
    ``bijnaam``): other given names the person goes by, separated by ``;``. Errors name
    the row, never the name.
    """
    import pandas as pd

    where = "roster"
    if isinstance(source, (str, os.PathLike)):
        from calibrate.tabular import read_table

        path = Path(source)
        where = str(path)
        if not path.exists():
            raise InputError("roster file not found.", location=where, hint="Check the --roster path.")
        if path.is_dir():
            raise InputError("this is a folder, not a roster file.", location=where,
                             hint="Give the path of the roster's CSV or .xlsx file.")
        # the same reader as every other import: comma/semicolon/tab, BOM, cp1252, .xlsx,
        # and errors that name the row without quoting it
        df = read_table(path)
        records = df.astype(object).where(df.notna(), "").to_dict("records")
        row_numbers = [int(i) + 2 for i in df.index]
    elif isinstance(source, pd.DataFrame):
        records = source.astype(object).where(source.notna(), "").to_dict("records")
        row_numbers = list(range(1, len(records) + 1))
    elif isinstance(source, Roster):
        return source
    else:
        records = [{"name": r} if isinstance(r, str) else dict(r) for r in source]
        row_numbers = list(range(1, len(records) + 1))

    aliases = {"naam": "name", "rol": "role", "e-mail": "email", "telefoon": "phone", "roepnaam": "aliases",
               "bijnaam": "aliases", "alias": "aliases", "roepnamen": "aliases",
               "studentnummer": "student_number"}
    entries = []
    for row_no, record in zip(row_numbers, records, strict=True):
        row = {aliases.get(str(k).strip().casefold(), str(k).strip().casefold()): ("" if v is None else str(v))
               for k, v in record.items()}
        if "name" not in row:
            found = ", ".join(c if c in _ROSTER_COLUMNS else _mask(c) for c in sorted(row)) or "none"
            raise InputError(  # a header-less file's "header" is a person: only shapes are shown
                f"no 'name' column (found: {found}).",
                location=where, hint="A roster needs a header row with a column 'name' and may have 'role'.",
            )
        name = " ".join(row["name"].split())
        if not name:
            continue
        n_words = len(_identity(name).split())
        if n_words == 0 or n_words > _MAX_NAME_WORDS:
            raise InputError(
                f"a name with {n_words} words; names of 1 to {_MAX_NAME_WORDS} words are matched.",
                location=f"{where}, row {row_no}, column 'name'",
                hint="Split it into separate rows or shorten it.",
            )
        role = row.get("role", "").strip()
        entries.append(RosterEntry(
            name=name, role=role, kind=_role_kind(role),
            email=row.get("email", ""), phone=row.get("phone", ""),
            student_number=row.get("student_number", ""),
            aliases=tuple(a for a in (" ".join(x.split()) for x in re.split(r"[;|/]", row.get("aliases", ""))) if a),
        ))
    if not entries and where != "roster":
        raise InputError("the roster has no names.", location=where,
                         hint="Put one person or school per row under the header 'name'.")
    return Roster(entries)


_ROSTER_COLUMNS = frozenset({"name", "role", "email", "phone", "student_number", "aliases", "person", "persoon",
                             "voornaam", "achternaam", "first name", "last name", "id", "nummer"})


# --------------------------------------------------------------------------- patterns

_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")

_S = r"(?:[ \t\u00a0]?[-./][ \t\u00a0]?|[ \t\u00a0]|\)[ \t\u00a0]?)"  # one separator
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+|00)31{_S}?(?:\(0\){_S}?)?[1-9](?:{_S}?\d){{8}}"  # +31 6 12345678, 0031 20 ...
    rf"|\(?0[1-9](?:{_S}?\d){{8}}"  # 06-12345678, (010) 123 4567
    rf"|\+(?!31)[1-9]\d{{0,2}}{_S}?\d(?:{_S}?\d){{6,11}}"  # other countries
    r")(?!\d)(?![-./:]\d)"
)
_DATE_IN_RE = re.compile(r"(?<!\d)\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d\d(?!\d)")
_TIME_RANGE_IN_RE = re.compile(r"(?<!\d)[0-2]?\d[.:][0-5]\d\s?[-–]\s?[0-2]?\d[.:][0-5]\d(?!\d)")

# ---- student numbers
_STUDENT_LABEL = (
    r"(?i:student(?:en)?[ \t-]?(?:nummer|nr\.?)|stud\.?[ \t]?nr\.?|leerling(?:en)?nummer"
    r"|s[ \t-]?nr\.?|student[ \t-]?id|student number)"
)
_YYYYMMDD_RE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_NUMBER_END = r"(?![\w-])(?![.,/:]\d)"


@dataclass(frozen=True)
class StudentNumberFormat:
    """How the institution writes student numbers that stand alone, without a label.

    By default a bare number of 7 or 8 digits is a student number (most Dutch
    universities of applied sciences). Hanze-style 6-digit or HvA-style 9-digit numbers
    need ``StudentNumberFormat(6, 8)`` / ``StudentNumberFormat(9, 9)``, or a ``pattern``
    (a regular expression a whole stand-alone token must match, e.g. ``r"[0-9]{6}"``).
    Labelled numbers (``studentnummer 12345``) and ``s1234567`` are found whatever the
    format; numbers on the roster are found in any format. Parse a workspace setting
    with :meth:`parse`.
    """

    min_digits: int = 7
    max_digits: int = 8
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise InputError(f"the student-number pattern is not a regular expression ({exc}).",
                                 hint="Write e.g. [0-9]{6} or s?[0-9]{7}.") from None
            if compiled.fullmatch("") or not re.search(r"\d|\\d|0-9", self.pattern):
                raise InputError("the student-number pattern must match numbers, not empty text.",
                                 hint="Write e.g. [0-9]{6} or s?[0-9]{7}.")
        elif not (4 <= self.min_digits <= self.max_digits <= 12):
            raise InputError(
                f"student numbers of {self.min_digits} to {self.max_digits} digits: 4 <= min <= max <= 12 is needed.",
                hint="Write e.g. 7-8, 6 or 9.",
            )

    @classmethod
    def parse(cls, spec: str | int | StudentNumberFormat | None) -> StudentNumberFormat:
        """``"7-8"``, ``"6"``, ``9`` or ``"re:[0-9]{9}"`` (``None``: the default)."""
        if spec is None:
            return cls()
        if isinstance(spec, StudentNumberFormat):
            return spec
        text = str(spec).strip()
        if text.startswith(("re:", "regex:")):
            return cls(pattern=text.split(":", 1)[1])
        m = re.fullmatch(r"(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?", text)
        if not m:
            raise InputError(f"{text!r} is not a student-number format.",
                             hint="Write a digit count (6), a range (7-8) or re:<regular expression>.")
        low = int(m.group(1))
        return cls(low, int(m.group(2) or low))

    def __str__(self) -> str:
        if self.pattern is not None:
            return f"re:{self.pattern}"
        return str(self.min_digits) if self.min_digits == self.max_digits else f"{self.min_digits}-{self.max_digits}"


# ---- BSN (burgerservicenummer)
_BSN_LABEL = (
    r"(?i:\bbsn\b|burger[ -]?service[ -]?nummer|burgerservicenr\b\.?|sofi[ -]?nummer|sofi[ -]?nr\b\.?"
    r"|citizen service number)"
)
def _bsn_spelled() -> str:
    """9 digits in the usual groupings, one separator throughout: 3-3-3, 4-2-3, 3-2-2-2."""
    return (r"\d{3}(?P<sa>[ .\-])\d{3}(?P=sa)\d{3}"
            r"|\d{4}(?P<sb>[ .\-])\d{2}(?P=sb)\d{3}"
            r"|\d{3}(?P<sc>[ .\-])\d{2}(?P=sc)\d{2}(?P=sc)\d{2}")


_BSN_LABELLED_RE = re.compile(
    rf"{_BSN_LABEL}[ \t]*(?:nr\b\.?|nummer)?[ \t]*[:#.]?[ \t]*(?P<num>\d{{8,9}}|{_bsn_spelled()})" + _NUMBER_END
)
_BSN_BARE_RE = re.compile(rf"(?<![\w.,/:+-])(?P<num>\d{{9}}|{_bsn_spelled()})" + _NUMBER_END)


def bsn_is_valid(number: str) -> bool:
    """The elfproef of a BSN: 9 digits (8 with a leading zero dropped) d1..d9 with
    9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11, and not all zeros. About one random
    9-digit number in eleven passes it."""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or not digits.strip("0"):
        return False
    total = sum((9 - i) * int(d) for i, d in enumerate(digits[:8])) - int(digits[8])
    return total % 11 == 0


# ---- IBAN: total length per country (SWIFT IBAN registry)
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \u00a0-]?[A-Za-z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])"
)


def iban_is_valid(iban: str) -> bool:
    """An IBAN of a known country with its length and its mod-97 check digits right
    (ISO 13616); spaces and case do not matter."""
    compact = re.sub(r"[\s\-]", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact) or _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban_length(candidate: str) -> int | None:
    """How much of ``candidate`` (an _IBAN_RE match, which may run on into the next
    word) is a valid IBAN: its country's length in letters and digits, ending where a
    group ends."""
    wanted = _IBAN_LENGTHS.get(candidate[:2].upper())
    if wanted is None:
        return None
    seen = 0
    for i, c in enumerate(candidate):
        if c.isalnum():
            seen += 1
            if seen == wanted:
                end = i + 1
                if end < len(candidate) and candidate[end].isalnum():
                    return None  # glued to more letters or digits
                return end if iban_is_valid(candidate[:end]) else None
    return None


# ---- postcodes
_POSTCODE_RE = re.compile(r"(?<![\w-])(?P<num>[1-9]\d{3})(?P<sp>[ \u00a0]?)(?P<let>[A-Za-z]{2})(?![\w-])")
_PLACE_AFTER_RE = re.compile(r"[ \t,]+[A-Z][a-z]")
_POSTCODE_LABEL_RE = re.compile(r"(?i:postcode|pc)[ \t]*[:.]?[ \t]*$")
_UNITS = frozenset("px pt em ex ch vh vw cm mm km dm kg mg gr gb mb kb tb hz ms ml cl dl ha kw mw st".split())
_SHORT_WORDS = frozenset(
    "en op in is om of te na al ik je we ze er nu zo ja uw ga la ma pa ok oh eh de da du u "
    "an am as at be by do go he if it me my no on or so to up us".split()
)

# ---- street addresses
_STREET_STRONG = ("straatweg", "straatje", "straat", "laantje", "laan", "gracht", "pleintje", "plein", "kade",
                  "singel", "dreef", "steegje", "steeg", "plantsoen", "boulevard", "allee")
_STREET_WEAK = ("burgwal", "weg", "dijk", "hofje", "hof", "markt", "wal", "haven", "kanaal", "vliet", "kaai",
                "promenade", "passage", "weide", "hoven", "gaarde", "park")
_HOUSE = (
    r"(?P<num>[1-9]\d{0,4})"
    r"(?P<add>[ ]?-[ ]?\d{1,4}(?!\d)|[ -]?[A-Za-z](?![\w'’])|[ -](?:hs|bis|bg|huis|boven|beneden|rd|zw|I{1,3}|IV)(?![\w]))?"
)
_STREET_SUFFIXES = _STREET_STRONG + _STREET_WEAK
_WORD_NUMBER_RE = re.compile(
    r"(?<![\w-])(?P<word>[^\W\d_][\w'’\-]*)[ \u00a0]+" + _HOUSE + r"(?![\w])(?![.,:/]\d)"
)
_STREET_TYPE_FIRST_RE = re.compile(
    r"(?<![\w-])(?P<word>(?:Laan|Plein|Kade|Weg|Dreef|Singel|Hof|Gracht|Markt|Dijk|Haven|Park|Straatweg|Burgwal|Wal)"
    r"(?:[ ](?:van|de|der|den|het|'t|ter|ten|te|op|aan|in|bij|achter|voor|over|onder|tot|la|le))*"
    r"(?:[ ][A-Z][\w'’\-]+){1,3})[ \u00a0]+" + _HOUSE + r"(?![\w])(?![.,:/]\d)"
)
_STREET_PREFIX_WORDS = frozenset(
    "Korte Lange Oude Nieuwe Grote Kleine Hoge Lage Eerste Tweede Derde Burgemeester Prins Prinses Koning "
    "Koningin Graaf Sint St Dokter Dr Professor Prof Generaal Admiraal Kapitein Pastoor Noord Zuid Oost West "
    "Binnen Buiten Achter Van Ten Ter De Den Der Het".split()
)
_ARTICLE_BEFORE_RE = re.compile(r"(?i:\b(?:de|het|een|'t|dit|dat|deze|die|ons|onze|hun|zijn|haar)[ \t]+)$")
_ADDRESS_PARTICLES = frozenset("van de der den het 't ter ten te op aan in bij la le".split())
_WORD_BEFORE_RE = re.compile(r"(?P<w>[^\W\d_][\w'’.\-]*)[ ]+$")

# ---- dates (birth dates)
_MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "febr": 2, "mrt": 3, "maa": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "nov": 11, "dec": 12,
    "january": 1, "february": 2, "march": 3, "mar": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10, "oct": 10,
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"0?[1-9]|[12]\d|3[01]"
_DATE_RE = re.compile(
    r"(?<![\w.,/-])(?:"
    rf"(?P<d1>{_DAY})(?P<s1>[-./])(?P<m1>0?[1-9]|1[0-2])(?P=s1)(?P<y1>(?:19|20)\d\d|\d\d)"
    r"|(?P<y3>(?:19|20)\d\d)-(?P<m3>0[1-9]|1[0-2])-(?P<d3>0[1-9]|[12]\d|3[01])"
    rf"|(?P<d2>{_DAY})(?:e|ste|de)?[ \u00a0](?P<m2>(?i:{_MONTH_ALT}))\.?(?:[ \u00a0](?P<y2>(?:19|20)\d\d|'\d\d))?"
    r")(?![\w])(?![.,/-]\d)"
)
_BIRTH_CONTEXT_RE = re.compile(
    r"(?i:\b(?:geboren|geboortedatum|geboorte[ -]datum|geboortedag|geb\b\.?[ ]?datum|geb\b\.?|verjaardag|jarig"
    r"|date[ ]of[ ]birth|birth[ ]?date|born|d\.o\.b\.|dob\b)[^.!?\n\d]{0,24}|°[ \t]?)$"
)
_AFTER_NAME_RE = re.compile(r"[ \t]*(?:[,(–—-][ \t]*)?(?:(?i:geb(?:oren)?)\b\.?[ \t]*)?")
_BIRTH_MIN_AGE = 10  # a full date at least this many years ago next to a name is a birth date
_BIRTH_MAX_AGE = 100


def _date_value(m: re.Match) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a _DATE_RE match when it is a real date."""
    g = m.groupdict()
    if g["d1"]:
        d, mo, y = int(g["d1"]), int(g["m1"]), g["y1"]
    elif g["y3"]:
        d, mo, y = int(g["d3"]), int(g["m3"]), g["y3"]
    else:
        d, mo, y = int(g["d2"]), _MONTHS[g["m2"].casefold()], g["y2"]
    year = None
    if y:
        y = y.lstrip("'")
        year = int(y)
        if len(y) == 2:
            this = _dt.date.today().year
            year = 2000 + year if 2000 + year <= this else 1900 + year
    try:
        _dt.date(year or 2000, mo, d)  # 2000: a leap year, so "29 februari" without a year is a date
    except ValueError:
        return None
    return year, mo, d


def _date_norm(value: tuple[int | None, int, int]) -> str:
    year, month, day = value
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _plausible_birth_year(year: int | None) -> bool:
    this = _dt.date.today().year
    return year is not None and this - _BIRTH_MAX_AGE <= year <= this - _BIRTH_MIN_AGE


_DIGITS_RE = re.compile(r"\d+")
_LONG_DIGITS_RE = re.compile(r"\d{4}")
_BIRTH_WORDS = ("geb", "jarig", "verjaardag", "born", "birth", "dob", "d.o.b", "°")
_DIGIT_RUN_RE = re.compile(r"(?<![\w.,/-])\d{4,12}" + _NUMBER_END)
_LONG_NUMBER_RE = re.compile(
    r"(?<![\w])(?:\d{6,}|\d{3}([ .])\d{3}\1\d{3}|\d{4}([ .])\d{2}\2\d{3}|\d{3}([ .])\d{2}\3\d{2}\3\d{2})(?![\w])"
)


def _normalise_value(kind: str, raw: str) -> str:
    if kind == "email":
        return raw.strip().casefold()
    if kind == "phone":
        text = raw.replace("(0)", "")
        digits = re.sub(r"\D", "", text)
        if text.lstrip().startswith("+"):
            return "0" + digits[2:] if digits.startswith("31") else "+" + digits
        return "0" + digits[4:] if digits.startswith("0031") else digits
    if kind == "student_number":
        return re.sub(r"\D", "", raw) or raw.strip().casefold()
    if kind == "postcode":
        return re.sub(r"\s", "", raw).upper()
    if kind == "bsn":
        digits = re.sub(r"\D", "", raw)
        return digits.zfill(9)
    if kind == "iban":
        return re.sub(r"[\s\-]", "", raw).upper()
    if kind == "address":
        return " ".join(re.sub(r"[\s\-]+", " ", raw).casefold().split())
    if kind == "birth_date":
        m = _DATE_RE.search(raw)
        value = _date_value(m) if m else None
        return _date_norm(value) if value else raw.strip().casefold()
    raise ValueError(kind)


class _Patterns:
    """The pattern detectors for one student-number format (cached per format)."""

    def __init__(self, fmt: StudentNumberFormat):
        self.format = fmt
        labelled_max = max(9, fmt.max_digits if fmt.pattern is None else 9)
        self.labelled = re.compile(
            rf"(?<![\w]){_STUDENT_LABEL}[ \t]*[:#.]?[ \t]*(?P<num>[A-Za-z]?\d{{5,{labelled_max}}})" + _NUMBER_END
        )
        low = 6 if fmt.pattern is not None else min(6, fmt.min_digits)
        high = 8 if fmt.pattern is not None else max(8, fmt.max_digits)
        self.prefixed = re.compile(rf"(?<![\w-])(?P<num>[sS]\d{{{low},{high}}})" + _NUMBER_END)
        if fmt.pattern is not None:
            body = f"(?:{fmt.pattern})"
        else:
            body = rf"\d{{{fmt.min_digits},{fmt.max_digits}}}"
        self.bare = re.compile(rf"(?<![\w-])(?<!\d[.,/:])(?P<num>{body})" + _NUMBER_END)
        # the shortest run of digits each can match (a custom pattern: any)
        self.prefixed_digits = low
        self.bare_digits = 1 if fmt.pattern is not None else fmt.min_digits

    def spans(self, text: str, *, bare_numbers: bool = True, phones: bool = True) -> list[tuple[str, int, int]]:
        """(kind, start, end) of every pattern hit, in text order, no overlaps. Earlier
        kinds win: e-mail, phone, IBAN, labelled BSN, labelled student number, BSN
        (elfproef), student number, birth date (by context), address, postcode."""
        found: list[tuple[str, int, int]] = []
        taken = _token_mask(text)

        def claim(kind: str, start: int, end: int) -> bool:
            if any(taken[start:end]):
                return False
            taken[start:end] = b"\x01" * (end - start)
            found.append((kind, start, end))
            return True

        if "@" in text:
            for m in _EMAIL_RE.finditer(text):
                claim("email", m.start(), m.end())
        runs = [len(r) for r in _DIGITS_RE.findall(text)]
        if not runs:
            return found
        # cheap gates: a pattern is tried only where the digits and words it needs are there
        total, longest, low = sum(runs), max(runs), text.casefold()
        if total >= 2:  # the check digits; a BBAN may be letters only
            for m in _IBAN_RE.finditer(text):  # before phones: "NL91 ABNA 0417 1643 00" holds a 10-digit run
                length = _iban_length(m.group())
                if length:
                    claim("iban", m.start(), m.start() + length)
        if phones and total >= 8:
            for m in _PHONE_RE.finditer(text):
                s = m.group()
                if not (_DATE_IN_RE.search(s) or _TIME_RANGE_IN_RE.search(s)):
                    # "(010) 123 4567" keeps its "(", "zie (06-12345678)" does not
                    open_paren = s.startswith("(") and ")" not in s
                    claim("phone", m.start() + open_paren, m.end())
        if total >= 8 and any(w in low for w in ("bsn", "burger", "sofi", "citizen")):
            for m in _BSN_LABELLED_RE.finditer(text):
                claim("bsn", m.start("num"), m.end("num"))
        if longest >= 5 and any(w in low for w in ("stud", "leerling", "nr", "number")):
            for m in self.labelled.finditer(text):
                claim("student_number", m.start("num"), m.end("num"))
        if bare_numbers and total >= 9:
            for m in _BSN_BARE_RE.finditer(text):
                if bsn_is_valid(m.group("num")):
                    claim("bsn", m.start("num"), m.end("num"))
        if longest >= self.prefixed_digits:
            for m in self.prefixed.finditer(text):
                claim("student_number", m.start("num"), m.end("num"))
        if bare_numbers and longest >= self.bare_digits:
            for m in self.bare.finditer(text):
                number = m.group("num")
                if len(number) == 8 and _YYYYMMDD_RE.fullmatch(number):
                    continue  # 20250528 is a date
                claim("student_number", m.start("num"), m.end("num"))
        if any(w in low for w in _BIRTH_WORDS):
            for m in _DATE_RE.finditer(text):
                if _date_value(m) and _BIRTH_CONTEXT_RE.search(text, max(0, m.start() - 40), m.start()):
                    claim("birth_date", m.start(), m.end())
        addresses = self._addresses(text) if any(s in low for s in _STREET_SUFFIXES) else []
        for start, end in addresses:
            claim("address", start, end)
        if 4 in runs:
            for m in _POSTCODE_RE.finditer(text):
                if self._is_postcode(text, m, addresses):
                    claim("postcode", m.start(), m.end())
        return sorted(found, key=lambda f: f[1])

    @staticmethod
    def _addresses(text: str) -> list[tuple[int, int]]:
        out = []
        for m in _WORD_NUMBER_RE.finditer(text):
            word = m.group("word")
            folded = word.casefold()
            if not folded.endswith(_STREET_SUFFIXES):
                continue
            suffix = next(s for s in _STREET_SUFFIXES if folded.endswith(s))
            capital = word[0].isupper()
            if not capital and (suffix in _STREET_WEAK or folded == suffix
                                or _ARTICLE_BEFORE_RE.search(text, max(0, m.start() - 8), m.start())):
                continue  # "de straat 3", "het schoolplein 2 leerlingen": a capital is needed there
            if _year_like_house(text, m):
                continue
            out.append((_street_start(text, m.start("word")), m.end()))
        for m in _STREET_TYPE_FIRST_RE.finditer(text):
            if not _year_like_house(text, m):
                out.append((m.start(), m.end()))
        return out

    @staticmethod
    def _is_postcode(text: str, m: re.Match, addresses: list[tuple[int, int]]) -> bool:
        letters, spaced = m.group("let"), bool(m.group("sp"))
        if letters.upper() in ("SA", "SD", "SS"):
            return False
        year_like = 1900 <= int(m.group("num")) <= 2099
        context = (
            bool(_PLACE_AFTER_RE.match(text, m.end()))
            or bool(_POSTCODE_LABEL_RE.search(text, max(0, m.start() - 12), m.start()))
            or any(0 <= m.start() - end <= 3 for _, end in addresses)
        )
        if letters.isupper():
            # "in 2025 HR en HAN" is a year and an acronym
            return context or not (year_like and spaced)
        if context:
            return True
        low = letters.casefold()
        if not spaced:
            return low not in _UNITS  # 1234ab, but not 1920px
        return not year_like and low not in _SHORT_WORDS and low not in _UNITS


def _year_like_house(text: str, m: re.Match) -> bool:
    """A house number that reads as a year ("Arbeidsmarkt 2025") is not an address
    unless a postcode follows."""
    if m.group("add") or not (1900 <= int(m.group("num")) <= 2099):
        return False
    return not re.match(r"[ ,]+[1-9]\d{3}[ ]?[A-Za-z]{2}\b", text[m.end():m.end() + 12])


def _street_start(text: str, start: int) -> int:
    """Extend a street name back over the words of the name before its last word:
    "Burgemeester de Withstraat", "Jan van Galenstraat", "Korte Nieuwstraat"."""
    best = start
    pos = start
    for _ in range(4):
        m = _WORD_BEFORE_RE.search(text, max(0, pos - 40), pos)
        if not m:
            break
        word = m.group("w")
        before = text[:m.start()].rstrip(" \t")
        sentence_start = not before or before[-1] in ".!?:;\n\r•*-–—(\"'“‘>#|"
        if word in _STREET_PREFIX_WORDS or (word[0].isupper() and not sentence_start):
            best = pos = m.start()
        elif word.casefold() in _ADDRESS_PARTICLES:
            pos = m.start()  # kept only if a capitalised word comes before it
        else:
            break
        if sentence_start:
            break
    return best


_PATTERNS: dict[StudentNumberFormat, _Patterns] = {}


def _patterns(fmt: StudentNumberFormat | str | int | None) -> _Patterns:
    fmt = StudentNumberFormat.parse(fmt)
    found = _PATTERNS.get(fmt)
    if found is None:
        found = _PATTERNS[fmt] = _Patterns(fmt)
    return found


def _token_mask(text: str) -> bytearray:
    mask = bytearray(len(text))
    if "[" in text:
        for m in _TOKEN_RE.finditer(text):
            mask[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return mask
# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PseudonymisedText:
    """The pseudonymised ``text`` and ``counts``: kind -> number of replacements, for
    every kind in :data:`REPLACED_KINDS` (zeros included). Never holds originals."""

    text: str
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Suspect:
    """Something in a text that looks like personal data: its ``kind``, where it is
    (``start``/``end`` offsets, 1-based ``line`` and ``column``) and a ``preview`` that
    keeps only its shape (``Xxxxx xx Xxxxx``, ``99-99999999``). ``replaced`` says whether
    the pseudonymiser replaces it (True) or it is left for a human to look at (False)."""

    kind: str
    start: int
    end: int
    line: int
    column: int
    preview: str
    replaced: bool = True

    @property
    def label(self) -> str:
        return _LABELS.get(self.kind, (self.kind,))[0]


def _mask(s: str) -> str:
    return "".join("9" if c.isdigit() else ("X" if c.isupper() else "x") if c.isalpha() else c for c in s)


def _suspect(text: str, kind: str, start: int, end: int, replaced: bool) -> Suspect:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Suspect(kind, start, end, line, column, _mask(text[start:end]), replaced)


def merge_counts(*counts: Mapping[str, int]) -> dict[str, int]:
    """Sum several ``counts`` (e.g. over all cases of an import)."""
    total: Counter[str] = Counter({k: 0 for k in REPLACED_KINDS})
    for c in counts:
        total.update(c)
    return dict(total)


def describe_counts(counts: Mapping[str, int]) -> str:
    """Dutch summary for an import report: ``"3 namen, 1 e-mailadres"``."""
    parts = [f"{n} {_LABELS.get(k, (k, k))[n != 1]}" for k, n in counts.items() if n]
    return ", ".join(parts) if parts else "niets vervangen"


# --------------------------------------------------------------------------- the engine

_INITIALS_BEFORE_RE = re.compile(r"(?<![\w.])(?:[A-Z]\.[ \t]?){1,4}$")
_CACHE_LIMIT = 100_000  # per cache; bounds a long-running kernel's memory


class _WordInfo(NamedTuple):
    """What the matcher knows about one word as written (cached per pseudonymiser)."""

    norm: str  # folded
    legacy: str  # folded as before issue 14 (equal to norm for most words)
    capital: bool
    token: str | None  # its token on its own, after the possessive/diminutive/short-form steps
    known: bool  # part of some roster name: a run of words may go on here
    link: bool  # may stand inside a run: known, a particle or a single letter
    alts: tuple[str, ...]  # short forms / formal names of it (DUTCH_DIMINUTIVES)


_Span = tuple[str, int, int, str]


class Pseudonymiser:
    """Replaces roster names and pattern hits by stable keyed pseudonyms.

    ``Pseudonymiser(roster, key=key)`` with the real roster, or
    ``Pseudonymiser.from_fingerprints(rows, key=key)`` with only the stored fingerprints:
    both give the same output. Names are found by hashing words and runs of up to 6 words
    of the text and looking the hash up, so the plain names are not needed after import.

    ``student_numbers`` is the institution's format of bare student numbers
    (:class:`StudentNumberFormat` or a spec such as ``"6-8"``; default 7-8 digits);
    ``diminutives`` the table of short forms of given names (default
    :data:`DUTCH_DIMINUTIVES`, ``{}`` for none). Give the same values on both routes.
    """

    def __init__(self, roster: Roster | None = None, *, key: bytes,
                 student_numbers: StudentNumberFormat | str | int | None = None,
                 diminutives: Mapping[str, Iterable[str]] | None = None):
        key = _check_key(key)
        rows = roster.fingerprints(key) if roster is not None else []
        self._init(rows, key, student_numbers, diminutives)

    @classmethod
    def from_fingerprints(cls, rows: Iterable, *, key: bytes,
                          student_numbers: StudentNumberFormat | str | int | None = None,
                          diminutives: Mapping[str, Iterable[str]] | None = None) -> Pseudonymiser:
        """Rebuild from stored ``(fingerprint, pseudonym, kind)`` rows (tuples,
        :class:`NameFingerprint` or mappings with those keys).

        To import with a roster into a workspace that already knows names, pass both:
        ``from_fingerprints([*store.name_fingerprints(), *roster.fingerprints(key)], key=key)``
        — names known to either are replaced, and a fingerprint in both keeps its stored
        token."""
        self = cls.__new__(cls)
        checked = []
        for i, row in enumerate(rows, start=1):
            fp, token, kind = (row["fingerprint"], row["pseudonym"], row["kind"]) if isinstance(row, Mapping) else row
            if not (isinstance(fp, str) and re.fullmatch(r"[0-9a-f]{64}", fp) and isinstance(token, str)
                    and _TOKEN_RE.fullmatch(token)):
                raise InputError(
                    "not a fingerprint row (64 lower-case hex digits, a token like [student-7F3A9C], a kind).",
                    location=f"fingerprint row {i}",
                    hint="Pass the rows Roster.fingerprints(key) returned, unchanged.",
                )
            checked.append(NameFingerprint(fp, token, kind))
        self._init(checked, _check_key(key), student_numbers, diminutives)
        return self

    def _init(self, rows: Iterable[NameFingerprint], key: bytes, student_numbers, diminutives) -> None:
        self._key = key
        first: dict[str, NameFingerprint] = {}
        for r in rows:  # a fingerprint given twice keeps its first token: stored rows before new ones
            first.setdefault(r.fingerprint, r)
        self._rows = tuple(sorted(first.values()))
        self._table = {r.fingerprint: r.pseudonym for r in self._rows}
        self._patterns = _patterns(student_numbers)
        self._expansions = _expansions_for(diminutives)
        self._mac_base = hmac.new(key, digestmod=hashlib.sha256)
        self._cache: dict[tuple[str, str], str | None] = {}
        self._word_cache: dict[str, _WordInfo] = {}
        tokens = set(self._table.values())
        # every token covered: the 'word' rows name every word of every roster name
        self._words = bool(tokens) and all(self._fp(_COVERED, t) in self._table for t in tokens)
        # Without coverage (rows of an older version) school names may consist of words
        # that are not names on their own: then every run of words is tried, as before.
        self._prefilter = self._words or not any(r.kind == "school" for r in self._rows)

    def fingerprint_rows(self) -> list[NameFingerprint]:
        """The fingerprint rows this pseudonymiser recognises names by: what the store
        persists at import so that :meth:`from_fingerprints` can rebuild it later."""
        return list(self._rows)

    @property
    def student_numbers(self) -> StudentNumberFormat:
        """The student-number format in use."""
        return self._patterns.format

    def __repr__(self) -> str:
        return f"Pseudonymiser({len(self._table)} fingerprints)"

    # -- lookups
    def _keyed_token(self, prefix: str, namespace: str, value: str) -> str:
        """The token of a pattern hit or an ambiguous short form (keyed; a pseudonymiser
        without the key, :class:`calibrate.store.pseudonyms.ServerPseudonymiser`, asks
        the database instead)."""
        return _token(self._key, prefix, namespace, value)

    def _fp(self, namespace: str, value: str) -> str:
        h = self._mac_base.copy()
        h.update(f"fp:{namespace}\x1f{value}".encode())
        return h.hexdigest()

    def _lookup(self, namespace: str, value: str) -> str | None:
        if not self._table:
            return None
        hit = self._cache.get((namespace, value), "")
        if hit == "":
            hit = self._table.get(self._fp(namespace, value))
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[(namespace, value)] = hit
        return hit

    def _name(self, norm: str, capital: bool) -> str | None:
        return self._lookup("name:i", norm) or (self._lookup("name:c", norm) if capital else None)

    def _info(self, raw: str) -> _WordInfo:
        info = self._word_cache.get(raw)
        if info is None:
            info = self._make_info(raw)
            if len(self._word_cache) < _CACHE_LIMIT:
                self._word_cache[raw] = info
        return info

    def _is_word(self, norm: str) -> bool:
        """Whether ``norm`` may be a word of a roster name: always without coverage."""
        return not self._words or self._lookup("word", norm) is not None

    def _make_info(self, raw: str) -> _WordInfo:
        norm = _fold(raw)
        legacy = norm if raw.isascii() else _legacy_fold(raw)
        capital = raw[:1].isupper()
        if norm in PARTICLES or len(norm) < 2:
            return _WordInfo(norm, legacy, capital, None, False, True, ())
        forms = (norm,) if legacy == norm else (norm, legacy)
        tok_i = tok_c = None
        if any(self._is_word(f) for f in forms):  # one hash for most words
            tok_i = next((t for t in (self._lookup("name:i", f) for f in forms) if t), None)
            tok_c = next((t for t in (self._lookup("name:c", f) for f in forms) if t), None)
            known = self._words or bool(tok_i or tok_c)
        else:
            known = False
        alts = self._expansions.get(norm, ())
        alt_ok = capital or _mode(norm) == "i"  # "bas" (a word) needs its capital to be "Bas"
        alt_token = self._alt_token(norm, alts) if alts else None
        known = known or bool(alt_token)
        token = tok_i or (tok_c if capital else None)
        if token is None and len(norm) > 3 and norm.endswith("s") and self._is_word(norm[:-1]):
            token = self._name(norm[:-1], capital)  # Dutch possessive without apostrophe: "Sannes les"
        if token is None:
            for stem in _diminutive_stems(norm):  # "Jantje", "Sannetje", "Wimpje"
                if self._is_word(stem):
                    token = self._name(stem, capital)
                if token is None and (capital or _mode(stem) == "i"):
                    token = self._alt_token(stem, self._expansions.get(stem, ()))
                if token:
                    break
        if token is None and alt_ok:
            token = alt_token  # "Bas" for a roster "Sebastiaan", "Sebastiaan" for a roster "Bas"
        if not self._prefilter:
            known = True
        return _WordInfo(norm, legacy, capital, token, known, known, alts)

    def _alt_token(self, norm: str, alts: Iterable[str]) -> str | None:
        """The token a short form or formal name of ``norm`` has on the roster. When the
        forms point at different people ("Johannes" with a Jan and a Hans on the roster)
        the word gets a token of its own, attributed to neither, as shared name parts do."""
        hits = {t for t in (self._lookup("name:i", a) or self._lookup("name:c", a)
                            for a in alts if self._is_word(a)) if t}
        if len(hits) <= 1:
            return next(iter(hits), None)
        prefixes = {t[1:].rsplit("-", 1)[0] for t in hits}
        prefix = prefixes.pop() if len(prefixes) == 1 else "persoon"
        return self._keyed_token(prefix, "ambiguous", f"alt\x1f{norm}")

    def _run_token(self, seq: list[tuple[int, int, _WordInfo]]) -> str | None:
        infos = [w for _, _, w in seq]
        norm = " ".join(w.norm for w in infos)
        capital = all(w.capital for w in infos if w.norm not in PARTICLES)
        token = self._name(norm, capital)
        if token:
            return token
        legacy = " ".join(w.legacy for w in infos)
        if legacy != norm:
            token = self._name(legacy, capital)
            if token:
                return token
        rest = [w.norm for w in infos[1:]]
        for alt in infos[0].alts:  # "Bas de Vries" for a roster "Sebastiaan de Vries"
            token = self._name(" ".join([alt, *rest]), capital)
            if token:
                return token
        return None

    # -- detection
    def _clean_spans(self, clean: str, text: str, origin: list[int] | None, *,
                     bare_numbers: bool = True, phones: bool = True) -> list[_Span]:
        """(kind, start, end, token) of every replacement in the skeleton ``clean`` of
        ``text``, in text order."""
        spans: list[_Span] = []
        taken = _token_mask(clean)
        for kind, start, end in self._patterns.spans(clean, bare_numbers=bare_numbers, phones=phones):
            value = _normalise_value(kind, clean[start:end])
            token = self._lookup(kind, value) or self._keyed_token(_PATTERN_PREFIX[kind], kind, value)
            spans.append((kind, start, end, token))
            taken[start:end] = b"\x01" * (end - start)
        if self._table:
            for m in _DIGIT_RUN_RE.finditer(clean) if _LONG_DIGITS_RE.search(clean) else ():
                # numbers on the roster, whatever their format
                if not any(taken[m.start():m.end()]):
                    token = self._lookup("student_number", m.group())
                    if token:
                        spans.append(("student_number", m.start(), m.end(), token))
                        taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            names = self._name_spans(clean, text, origin, taken)
            spans.extend(names)
            for _, _, end, _ in names:
                taken_end = end
                after = _AFTER_NAME_RE.match(clean, taken_end)
                d = _DATE_RE.match(clean, after.end())
                if d and not any(taken[d.start():d.end()]):
                    value = _date_value(d)
                    if value and _plausible_birth_year(value[0]):  # "Sanne de Vries (12-03-2004)"
                        spans.append(("birth_date", d.start(), d.end(),
                                      self._keyed_token("geboortedatum", "birth_date", _date_norm(value))))
                        taken[d.start():d.end()] = b"\x01" * (d.end() - d.start())
        return sorted(spans, key=lambda s: s[1])

    def _spans(self, text: str) -> list[_Span]:
        """(kind, start, end, token) of every replacement in ``text``, in text order."""
        clean, origin = _skeleton(text)
        return [(k, *_to_original(origin, s, e), t) for k, s, e, t in self._clean_spans(clean, text, origin)]

    def _name_spans(self, text: str, orig: str, origin: list[int] | None, taken: bytearray) -> list[_Span]:
        if origin is None:
            # most texts mention nobody on the roster: look the words up first, and find
            # their positions only when one of them is a name part
            info = self._info
            if not any(w.known or w.token for w in map(info, _WORD_RE.findall(text))):
                return []
        any_taken = taken.find(1) >= 0
        words = []
        for m in _WORD_RE.finditer(text):
            s, e = m.start(), m.end()
            if any_taken and any(taken[s:e]):
                continue
            raw = m.group() if origin is None else orig[origin[s]:origin[e - 1] + 1]
            words.append((s, e, self._info(raw)))
        out: list[_Span] = []
        i, n_words = 0, len(words)
        while i < n_words:
            w0 = words[i][2]
            token, n = None, 1
            if w0.link and i + 1 < n_words:
                # the longest run of name parts joined only by spaces, hyphens or apostrophes
                run = 1
                while (run < _MAX_NAME_WORDS and i + run < n_words and words[i + run][2].link
                       and _GAP_RE.fullmatch(text, words[i + run - 1][1], words[i + run][0])):
                    run += 1
                for n in range(run, 1, -1):
                    if words[i + n - 1][2].known:
                        token = self._run_token(words[i:i + n])
                        if token:
                            break
                else:
                    n = 1
            if token is None:
                n = 1
                token = w0.token
            if token:
                start, end = words[i][0], words[i + n - 1][1]
                initials = _INITIALS_BEFORE_RE.search(text, max(0, start - 12), start)
                if initials and not any(taken[initials.start():start]):
                    start = initials.start()
                out.append(("name", start, end, token))
                taken[start:end] = b"\x01" * (end - start)
                i += n
            else:
                i += 1
        return out

    # -- public
    def pseudonymise(self, text: str) -> PseudonymisedText:
        """Replace every roster name, e-mail address, phone number, student number,
        postcode, BSN, IBAN, street address and birth date in ``text`` by its pseudonym.
        Idempotent: tokens already in the text are left alone. ``counts`` says how many
        of each kind were replaced."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        counts = dict.fromkeys(REPLACED_KINDS, 0)
        parts, pos = [], 0
        for kind, start, end, token in self._spans(text):
            parts += [text[pos:start], token]
            pos = end
            counts[kind] += 1
        parts.append(text[pos:])
        return PseudonymisedText("".join(parts), MappingProxyType(counts))

    def find_suspects(self, text: str) -> list[Suspect]:
        """Everything in ``text`` that looks personal, for a check before importing.

        ``replaced=True``: what :meth:`pseudonymise` would replace (the same spans).
        ``replaced=False``: what it leaves but a human should look at —
        ``possible_name`` (a capitalised word mid-sentence that is not a known Dutch or
        domain word), ``number`` (6 or more digits in a row, or 9 in BSN groups, that
        are not a student number or BSN) and ``possible_birth_date`` (a full date 10 to
        100 years ago without a birth context). Previews keep the shape only; positions
        refer to ``text``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        clean, origin = _skeleton(text)
        spans = self._clean_spans(clean, text, origin)
        taken = _token_mask(clean)
        for _, start, end, _ in spans:
            taken[start:end] = b"\x01" * (end - start)
        found = [(kind, s, e, True) for kind, s, e, _ in spans]
        for m in _LONG_NUMBER_RE.finditer(clean):
            if not any(taken[m.start():m.end()]):
                found.append(("number", m.start(), m.end(), False))
        for m in _DATE_RE.finditer(clean):
            if not any(taken[m.start():m.end()]):
                value = _date_value(m)
                if value and _plausible_birth_year(value[0]):
                    found.append(("possible_birth_date", m.start(), m.end(), False))
                    taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
        for start, end in _possible_names(clean, taken):
            found.append(("possible_name", start, end, False))
        out = [_suspect(text, kind, *_to_original(origin, s, e), replaced) for kind, s, e, replaced in found]
        return sorted(out, key=lambda s: s.start)

    def check_identifier(self, value: str, *, field: str = "id") -> IdentifierFinding | None:
        """What personal data an identifier holds, if any: see :func:`check_identifier`."""
        return _check_identifier(self, value, field)
# words that are written with a capital mid-sentence without being a person's name
_CAPITALISED_WORDS = frozenset(
    """
    nederlands engels duits frans spaans latijn grieks arabisch turks fries chinees
    nederland belgie europa europees europese nederlandse engelse duitse franse
    god islam christelijk christelijke joods joodse
    havo vwo vmbo mbo hbo wo vo po lo mavo atheneum gymnasium lyceum
    wpb so io lio ict ppi osr cgi ec ab pabo alo han hr hva
    pdf word excel teams canvas magister somtoday onenote powerpoint kahoot padlet
    """.split()
)


def _possible_names(text: str, taken: bytearray) -> list[tuple[int, int]]:
    """Runs of capitalised words mid-sentence that are not known words."""
    out: list[tuple[int, int]] = []
    for m in _WORD_RE.finditer(text):
        word = m.group()
        if any(taken[m.start():m.end()]) or not word[0].isupper() or word.isupper() or len(word) < 2:
            continue
        folded = _fold(word)
        if folded in COMMON_WORDS or folded in _CAPITALISED_WORDS or folded in PARTICLES:
            continue
        j = m.start() - 1
        while j >= 0 and text[j] in " \t\u00a0":
            j -= 1
        if j < 0 or text[j] in ".!?:;\n\r•*-–—(\"'“‘>#|":
            continue  # sentence or list item starts here
        if out and _GAP_RE.fullmatch(text, out[-1][1], m.start()):
            out[-1] = (out[-1][0], m.end())
        else:
            out.append((m.start(), m.end()))
    return out




def find_suspects(text: str, roster: Roster | None = None, *,
                  student_numbers: StudentNumberFormat | str | int | None = None) -> list[Suspect]:
    """:meth:`Pseudonymiser.find_suspects` with a throw-away key: for a check mode that
    imports nothing and needs no workspace."""
    return Pseudonymiser(roster, key=secrets.token_bytes(32), student_numbers=student_numbers).find_suspects(text)


def scan_text_for_personal_data(text: str, *,
                                student_numbers: StudentNumberFormat | str | int | None = None) -> list[Suspect]:
    """E-mail addresses, phone numbers, student numbers, postcodes, BSNs, IBANs, street
    addresses and birth dates in ``text`` (no roster needed): exactly what a pseudonymiser
    without a roster replaces. Tokens such as ``[telefoon-1A2B3C]`` do not count. Used by
    the test that keeps personal data out of ``notebooks/`` and ``data/``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    clean, origin = _skeleton(text)
    return [_suspect(text, kind, *_to_original(origin, s, e), False)
            for kind, s, e in _patterns(student_numbers).spans(clean)]


# --------------------------------------------------------------------------- identifiers

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
