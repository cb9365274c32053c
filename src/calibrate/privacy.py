"""Pseudonymisation of case text, assessors' notes and rater names.

Owns the detectors (roster names, e-mail, Dutch phone numbers, student numbers,
postcodes), the keyed pseudonyms that replace them, and the key file. No database code:
the store calls in. Nothing here logs, and no message carries the original text.

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
    "KEY_ENV",
    "KEY_FILENAME",
    "PATTERN_KINDS",
    "REPLACED_KINDS",
    "NameFingerprint",
    "PseudonymisedText",
    "Pseudonymiser",
    "Roster",
    "RosterEntry",
    "Suspect",
    "describe_counts",
    "find_suspects",
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
REPLACED_KINDS = ("name", "email", "phone", "student_number", "postcode")
#: kinds found by patterns alone (no roster); what the repository scan looks for
PATTERN_KINDS = ("email", "phone", "student_number", "postcode")

_LABELS = {
    "name": ("naam", "namen"),
    "email": ("e-mailadres", "e-mailadressen"),
    "phone": ("telefoonnummer", "telefoonnummers"),
    "student_number": ("studentnummer", "studentnummers"),
    "postcode": ("postcode", "postcodes"),
    "possible_name": ("mogelijke naam", "mogelijke namen"),
    "number": ("lang getal", "lange getallen"),
}

# token prefixes of the pattern kinds; person prefixes come from the roster role
_PATTERN_PREFIX = {
    "email": "e-mail",
    "phone": "telefoon",
    "student_number": "studentnummer",
    "postcode": "postcode",
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
    """.split()
)

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
_GAP_RE = re.compile(r"[\s\-'’‘`´]{1,3}")


def _fold(word: str) -> str:
    """Case-fold and strip accents: ``Özdemir`` and ``ozdemir`` are one name."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str) -> list[str]:
    return [_fold(m.group()) for m in _WORD_RE.finditer(text)]


def _chunks(name: str) -> list[str]:
    """The whitespace-separated parts of a name in reading order: "Vries, Sanne de"
    becomes ["Sanne", "de", "Vries"]."""
    if "," not in name:
        return name.split()
    surname, _, rest = name.partition(",")
    rest_chunks = rest.split()
    particles = [c for c in rest_chunks if all(w in PARTICLES for w in _words(c))]
    given = [c for c in rest_chunks if c not in particles]
    return [*given, *particles, *surname.split()]


def _identity(name: str) -> str:
    """Normalised identity of a name; "Vries, Sanne de" and "Sanne de Vries" agree."""
    return " ".join(_words(" ".join(_chunks(name))))


# --------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterEntry:
    """One roster row. ``kind`` is the token prefix: student, persoon, beoordelaar or
    school. Optional e-mail, phone and student number map to the person's pseudonym."""

    name: str
    role: str = ""
    kind: str = "persoon"
    email: str = ""
    phone: str = ""
    student_number: str = ""

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


def _variants(entry: RosterEntry) -> list[tuple[str, bool]]:
    """(normalised variant, is_full_name) for every way a roster name is matched."""
    full = _identity(entry.name)
    out = [(full, True)]
    if entry.kind == "school":
        words = full.split()
        if len(words) > 1 and words[0] in {"het", "de", "t"}:
            out.append((" ".join(words[1:]), False))
        return out
    given, particles, surname = _split_name(entry.name)
    flat_particles = [w for c in particles for w in c]
    if surname:
        out.append((" ".join([*flat_particles, *surname]), False))  # de vries
        out.append((" ".join(surname), False))  # vries / jansen bakker
        out.extend((w, False) for w in surname)  # jansen, bakker
        out.append((" ".join([*given[0], *surname]), False))  # sanne vries
    if given:
        out.append((" ".join(w for c in given for w in c), False))  # anna maria
        out.extend((" ".join(c), False) for c in given)  # anna, maria
        out.extend((w, False) for c in given for w in c)
    return out


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
        for entry in self.entries:
            ident = _identity(entry.name)
            token = _token(key, entry.kind, "person", ident)
            for variant, is_full in _variants(entry):
                mode = _mode(variant) or ("c" if is_full else None)
                if mode is None:
                    continue
                slot = owners.setdefault((f"name:{mode}", variant), {})
                slot[ident] = (token, is_full or slot.get(ident, ("", False))[1])
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
        return sorted(rows)


def load_roster(source) -> Roster:
    """Read a roster: a CSV/xlsx path, a DataFrame, or an iterable of dicts or names.

    Columns: ``name`` (required; ``naam`` also accepted), ``role`` (``rol``; student,
    werkplekbegeleider, school, beoordelaar, ...; empty means persoon) and optionally
    ``email``, ``phone`` (``telefoon``), ``student_number`` (``studentnummer``), which
    are then replaced by the person's own pseudonym. Errors name the row, never the name.
    """
    import pandas as pd

    where = "roster"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        where = str(path)
        if not path.exists():
            raise InputError("roster file not found.", location=where, hint="Check the --roster path.")
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            df = pd.read_excel(path, dtype=str).fillna("")
        else:
            with open(path, encoding="utf-8-sig", errors="replace") as fh:
                header = fh.readline()
            sep = max((",", ";", "\t"), key=header.count)
            try:
                df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str, keep_default_na=False)
            except (pd.errors.ParserError, UnicodeDecodeError):
                raise InputError(  # pandas' message may quote the row: not repeated here
                    "the roster is not a readable CSV file (ragged rows or not UTF-8).",
                    location=where,
                    hint="Save it as CSV UTF-8 with one name per row; quote names that contain the separator.",
                ) from None
        records = df.to_dict("records")
    elif isinstance(source, pd.DataFrame):
        records = source.astype(object).where(source.notna(), "").to_dict("records")
    elif isinstance(source, Roster):
        return source
    else:
        records = [{"name": r} if isinstance(r, str) else dict(r) for r in source]

    aliases = {"naam": "name", "rol": "role", "e-mail": "email", "telefoon": "phone",
               "studentnummer": "student_number"}
    entries = []
    for row_no, record in enumerate(records, start=2 if where != "roster" else 1):
        row = {aliases.get(str(k).strip().casefold(), str(k).strip().casefold()): ("" if v is None else str(v))
               for k, v in record.items()}
        if "name" not in row:
            raise InputError(
                f"no 'name' column (found: {', '.join(sorted(row)) or 'none'}).",
                location=where, hint="A roster needs a column 'name' and may have 'role'.",
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
        ))
    return Roster(entries)


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

_STUDENT_LABEL = (
    r"(?i:student(?:en)?[ \t-]?(?:nummer|nr\.?)|stud\.?[ \t]?nr\.?|leerling(?:en)?nummer"
    r"|s[ \t-]?nr\.?|student[ \t-]?id|student number)"
)
_STUDENT_RE = re.compile(
    rf"(?<![\w])(?:{_STUDENT_LABEL}[ \t]*[:#.]?[ \t]*(?P<labelled>[A-Za-z]?\d{{5,9}})"
    r"|(?<!-)(?P<prefixed>[sS]\d{6,8})"
    r"|(?<![-\d])(?<!\d[.,/:])(?P<bare>\d{7,8}))"
    r"(?![\w-])(?![.,/:]\d)"
)
_YYYYMMDD_RE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")

_POSTCODE_RE = re.compile(r"(?<![\w-])(?P<num>[1-9]\d{3})(?P<sp>[ \u00a0]?)(?!SA|SD|SS)[A-Z]{2}(?![\w-])")
_PLACE_AFTER_RE = re.compile(r"[ \t,]+[A-Z][a-z]")

_LONG_NUMBER_RE = re.compile(r"(?<![\w])\d{6,}(?![\w])")


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
        return re.sub(r"\D", "", raw)
    if kind == "postcode":
        return re.sub(r"\s", "", raw).upper()
    raise ValueError(kind)


def _pattern_spans(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every pattern hit, earlier kinds first, no overlaps."""
    found: list[tuple[str, int, int]] = []
    taken = _token_mask(text)

    def claim(kind: str, start: int, end: int) -> None:
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            found.append((kind, start, end))

    for m in _EMAIL_RE.finditer(text):
        claim("email", m.start(), m.end())
    for m in _PHONE_RE.finditer(text):
        s = m.group()
        if not (_DATE_IN_RE.search(s) or _TIME_RANGE_IN_RE.search(s)):
            # "(010) 123 4567" keeps its "(", "zie (06-12345678)" does not
            open_paren = s.startswith("(") and ")" not in s
            claim("phone", m.start() + open_paren, m.end())
    for m in _STUDENT_RE.finditer(text):
        group = next(g for g in ("labelled", "prefixed", "bare") if m.group(g))
        if group == "bare" and len(m.group(group)) == 8 and _YYYYMMDD_RE.fullmatch(m.group(group)):
            continue  # 20250528 is a date
        claim("student_number", m.start(group), m.end(group))
    for m in _POSTCODE_RE.finditer(text):
        year_like = 1900 <= int(m.group("num")) <= 2099
        if year_like and m.group("sp") and not _PLACE_AFTER_RE.match(text, m.end()):
            continue  # "in 2025 HR en HAN" is a year and an acronym
        claim("postcode", m.start(), m.end())
    return sorted(found, key=lambda f: f[1])


def _token_mask(text: str) -> bytearray:
    mask = bytearray(len(text))
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


class _Word(NamedTuple):
    start: int
    end: int
    norm: str
    capital: bool


class Pseudonymiser:
    """Replaces roster names and pattern hits by stable keyed pseudonyms.

    ``Pseudonymiser(roster, key=key)`` with the real roster, or
    ``Pseudonymiser.from_fingerprints(rows, key=key)`` with only the stored fingerprints:
    both give the same output. Names are found by hashing each run of 1 to 6 words of the
    text and looking the hash up, so the plain names are not needed after import.
    """

    def __init__(self, roster: Roster | None = None, *, key: bytes):
        key = _check_key(key)
        rows = roster.fingerprints(key) if roster is not None else []
        self._init(rows, key)

    @classmethod
    def from_fingerprints(cls, rows: Iterable, *, key: bytes) -> Pseudonymiser:
        """Rebuild from stored ``(fingerprint, pseudonym, kind)`` rows (tuples,
        :class:`NameFingerprint` or mappings with those keys)."""
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
        self._init(checked, _check_key(key))
        return self

    def _init(self, rows: Iterable[NameFingerprint], key: bytes) -> None:
        self._key = key
        self._rows = tuple(sorted(rows))
        self._table = {r.fingerprint: r.pseudonym for r in self._rows}
        self._cache: dict[tuple[str, str], str | None] = {}

    def fingerprint_rows(self) -> list[NameFingerprint]:
        """The fingerprint rows this pseudonymiser recognises names by: what the store
        persists at import so that :meth:`from_fingerprints` can rebuild it later."""
        return list(self._rows)

    def __repr__(self) -> str:
        return f"Pseudonymiser({len(self._table)} fingerprints)"

    # -- lookups
    def _lookup(self, namespace: str, value: str) -> str | None:
        if not self._table:
            return None
        hit = self._cache.get((namespace, value), "")
        if hit == "":
            hit = self._table.get(_mac(self._key, "fp:" + namespace, value))
            if len(self._cache) < 100_000:
                self._cache[(namespace, value)] = hit
        return hit

    def _name(self, norm: str, capital: bool) -> str | None:
        return self._lookup("name:i", norm) or (self._lookup("name:c", norm) if capital else None)

    # -- detection
    def _spans(self, text: str) -> list[tuple[str, int, int, str]]:
        """(kind, start, end, token) of every replacement, in text order."""
        spans = []
        taken = _token_mask(text)
        for kind, start, end in _pattern_spans(text):
            value = _normalise_value(kind, text[start:end])
            token = self._lookup(kind, value) or _token(self._key, _PATTERN_PREFIX[kind], kind, value)
            spans.append((kind, start, end, token))
            taken[start:end] = b"\x01" * (end - start)
        if self._table:
            spans.extend(self._name_spans(text, taken))
        return sorted(spans, key=lambda s: s[1])

    def _name_spans(self, text: str, taken: bytearray) -> list[tuple[str, int, int, str]]:
        words = [
            _Word(m.start(), m.end(), _fold(m.group()), m.group()[0].isupper())
            for m in _WORD_RE.finditer(text)
            if not any(taken[m.start():m.end()])
        ]
        out = []
        i = 0
        while i < len(words):
            # the longest run of words joined only by spaces, hyphens or apostrophes
            run = 1
            while (run < _MAX_NAME_WORDS and i + run < len(words)
                   and _GAP_RE.fullmatch(text, words[i + run - 1].end, words[i + run].start)):
                run += 1
            for n in range(run, 0, -1):
                seq = words[i:i + n]
                norm = " ".join(w.norm for w in seq)
                capital = all(w.capital for w in seq if w.norm not in PARTICLES)
                token = self._name(norm, capital)
                if token:
                    break
            else:
                w = words[i]  # Dutch possessive without apostrophe: "Sannes les"
                n = 1
                token = self._name(w.norm[:-1], w.capital) if len(w.norm) > 3 and w.norm.endswith("s") else None
            if token:
                start, end = words[i].start, words[i + n - 1].end
                initials = _INITIALS_BEFORE_RE.search(text, max(0, start - 12), start)
                if initials and not any(taken[initials.start():start]):
                    start = initials.start()
                out.append(("name", start, end, token))
                i += n
            else:
                i += 1
        return out

    # -- public
    def pseudonymise(self, text: str) -> PseudonymisedText:
        """Replace every roster name, e-mail address, phone number, student number and
        postcode in ``text`` by its pseudonym. Idempotent: tokens already in the text are
        left alone. ``counts`` says how many of each kind were replaced."""
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

        ``replaced=True``: what :meth:`pseudonymise` would replace (roster names and
        patterns). ``replaced=False``: what it leaves but a human should look at —
        ``possible_name`` (a capitalised word mid-sentence that is not a known Dutch or
        domain word) and ``number`` (6 or more digits in a row). Previews keep the shape
        only; positions refer to ``text``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        spans = self._spans(text)
        taken = _token_mask(text)
        for _, start, end, _ in spans:
            taken[start:end] = b"\x01" * (end - start)
        found = [_suspect(text, kind, s, e, True) for kind, s, e, _ in spans]
        for m in _LONG_NUMBER_RE.finditer(text):
            if not any(taken[m.start():m.end()]):
                found.append(_suspect(text, "number", m.start(), m.end(), False))
        for start, end in _possible_names(text, taken):
            found.append(_suspect(text, "possible_name", start, end, False))
        return sorted(found, key=lambda s: s.start)


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


def find_suspects(text: str, roster: Roster | None = None) -> list[Suspect]:
    """:meth:`Pseudonymiser.find_suspects` with a throw-away key: for a check mode that
    imports nothing and needs no workspace."""
    return Pseudonymiser(roster, key=secrets.token_bytes(32)).find_suspects(text)


def scan_text_for_personal_data(text: str) -> list[Suspect]:
    """E-mail addresses, phone numbers, student numbers and postcodes in ``text`` (no
    roster needed). Tokens such as ``[telefoon-1A2B3C]`` do not count. Used by the test
    that keeps personal data out of ``notebooks/`` and ``data/``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return [_suspect(text, kind, s, e, False) for kind, s, e in _pattern_spans(text)]
