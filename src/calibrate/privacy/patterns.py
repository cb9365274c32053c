"""The pattern detectors: e-mail addresses, Dutch phone numbers, student numbers (in the
institution's format), BSN (elfproef), IBAN (check digits), postcodes, street addresses,
birth dates.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from calibrate.errors import InputError
from .words import _TOKEN_RE


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
