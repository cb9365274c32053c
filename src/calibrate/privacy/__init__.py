"""Pseudonymisation of case text, assessors' notes and rater names.

Owns the detectors (roster names, e-mail, Dutch phone numbers, student numbers,
postcodes, BSN, IBAN, street addresses, birth dates), the keyed pseudonyms that replace
them, the check of identifiers (rater, case and session ids, item ids, links) and the key
file. No database code: the store calls in. Nothing here logs, and no message carries the
original text.

The package's rooms, each one concept: :mod:`.words` (what is replaced, and the Dutch words
for it), :mod:`.text` (normalising names and text for matching), :mod:`.keys` (the key and
the keyed tokens), :mod:`.patterns` (e-mail, phone, student number, BSN, IBAN, postcode,
address, birth date), :mod:`.roster` (the people and their name fingerprints),
:mod:`.pseudonymiser` (finding and replacing; the repository scan) and :mod:`.identifiers`
(what personal data an id holds). Everything public is imported here: use
``calibrate.privacy``.

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

from calibrate.errors import InputError  # the error every check here raises
from .words import (
    COMMON_WORDS, DUTCH_DIMINUTIVES, KEY_ENV, KEY_FILENAME, PARTICLES, PATTERN_KINDS,
    REPLACED_KINDS, _HEX_DIGITS, _LABELS, _PATTERN_PREFIX, _mask,
)
from .text import (
    _expansions_for, _identity, _skeleton,
)
from .keys import (
    _check_key, _mac, key_id, load_or_create_key, rater_pseudonym,
)
from .patterns import (
    StudentNumberFormat, _IBAN_LENGTHS, _patterns, bsn_is_valid, iban_is_valid,
)
from .roster import (
    NameFingerprint, Roster, RosterEntry, _COVERED, load_roster,
)
from .pseudonymiser import (
    PseudonymisedText, Pseudonymiser, Suspect, _CACHE_LIMIT, describe_counts, find_suspects,
    merge_counts, scan_text_for_personal_data,
)
from .identifiers import (
    IdentifierFinding, LINK_FIELDS, check_identifier,
)

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
