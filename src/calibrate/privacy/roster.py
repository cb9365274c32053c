"""The roster of people whose names are replaced, loaded from a file or rows, and the keyed
fingerprints of their names that a workspace keeps instead of the names.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from calibrate.errors import InputError
from .words import COMMON_WORDS, PARTICLES, _MAX_NAME_WORDS, _ROLE_KIND, _mask
from .text import _chunks, _identity, _skeleton, _words
from .keys import _check_key, _mac, _token
from .patterns import _normalise_value


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
