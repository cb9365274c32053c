"""The pseudonymiser: finds roster names and patterns in a text and replaces them by keyed
pseudonyms; the results (counts, suspects) and the repository scan.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from calibrate.errors import InputError
from .words import (
    COMMON_WORDS, PARTICLES, REPLACED_KINDS, _LABELS, _MAX_NAME_WORDS, _PATTERN_PREFIX, _TOKEN_RE, _mask,
)
from .text import (
    _GAP_RE, _WORD_RE, _diminutive_stems, _expansions_for, _fold, _legacy_fold, _skeleton, _to_original,
)
from .keys import _check_key, _token
from .patterns import (
    StudentNumberFormat, _AFTER_NAME_RE, _DATE_RE, _DIGIT_RUN_RE, _LONG_DIGITS_RE, _LONG_NUMBER_RE,
    _date_norm, _date_value, _normalise_value, _patterns, _plausible_birth_year, _token_mask,
)
from .roster import NameFingerprint, Roster, _COVERED, _mode

if TYPE_CHECKING:
    from .identifiers import IdentifierFinding


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
        from .identifiers import _check_identifier  # that room builds on this one

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
