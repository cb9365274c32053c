"""Hostile and careless spellings of personal data (issue 14, item 3).

Every planted string below is replaced by the pseudonymiser (both routes: the roster and
the stored fingerprints), found by the check mode as "would be replaced" at the same
place, and replaced by the same token as its plain spelling where the kind links
spellings (names, numbers). A corpus of ordinary Dutch evidence notes must come through
untouched. Every person, number and address here is made up; e-mail domains are reserved
example domains; the BSNs and IBANs are the usual test numbers or computed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate import privacy
from calibrate.privacy import (
    NameFingerprint,
    Pseudonymiser,
    StudentNumberFormat,
    bsn_is_valid,
    find_suspects,
    iban_is_valid,
    load_roster,
    scan_text_for_personal_data,
)

KEY = bytes(range(32))
TOKEN = (r"\[(?:student|persoon|school|beoordelaar|e-mail|telefoon|studentnummer|postcode|bsn|iban|adres"
         r"|geboortedatum)-[0-9A-F]{6}\]")

ROSTER_ROWS = [
    {"name": "Sanne de Vries", "role": "student", "email": "s.devries@student.example.nl",
     "student_number": "345678"},
    {"name": "Mehmet Yılmazer", "role": "student"},
    {"name": "Emre Ozdemir", "role": "student"},
    {"name": "Zofia Kowałczyk", "role": "student"},
    {"name": "Søren Lindqvist", "role": "student"},
    {"name": "Jonas Müller", "role": "student"},
    {"name": "Lena Strauß", "role": "student"},
    {"name": "Sebastiaan Koster", "role": "student"},
    {"name": "Cornelis Prins", "role": "werkplekbegeleider"},
    {"name": "Maria Wijnands", "role": "student"},
    {"name": "Hans Verbeek", "role": "schoolopleider"},
    {"name": "Bram Hendriks", "role": "student"},
    {"name": "Jan Visser", "role": "student"},
    {"name": "Willem Bos", "role": "student"},
    {"name": "Daan Mulder", "role": "student"},
    {"name": "Tess Mulder-Haddou", "role": "student"},
    {"name": "Fleur Bakker-Jansen", "role": "schoolopleider"},
    {"name": "Wilhelmina de Graaf", "role": "student", "roepnaam": "Willie"},
    {"name": "Het Stedelijk Lyceum", "role": "school"},
]


@pytest.fixture(scope="module")
def roster():
    return load_roster(ROSTER_ROWS)


@pytest.fixture(scope="module")
def routes(roster):
    """The two ways the store builds a pseudonymiser: from the roster at import, and
    from the fingerprints it stored (every later save)."""
    return (Pseudonymiser(roster, key=KEY),
            Pseudonymiser.from_fingerprints(roster.fingerprints(KEY), key=KEY))


@dataclass(frozen=True)
class Plant:
    """``before + planted + after``; the planted part must leave nothing but tokens and
    punctuation, and ``kinds`` are the kinds it is counted as."""

    label: str
    planted: str
    kinds: tuple[str, ...]
    before: str = "In het nagesprek noemde de werkplekbegeleider "
    after: str = " als voorbeeld."
    same_as: str | None = None  # a plain spelling that must get the same token
    student_numbers: str | None = None  # the workspace's student-number format

    @property
    def text(self) -> str:
        return self.before + self.planted + self.after


def P(label, planted, *kinds, **kw):
    return Plant(label, planted, tuple(kinds) or ("name",), **kw)


PLANTED = [
    # ---- roster names, careless
    P("full name", "Sanne de Vries"),
    P("full name in capitals", "SANNE DE VRIES", same_as="Sanne de Vries"),
    P("full name in lower case", "sanne de vries", same_as="Sanne de Vries"),
    P("surname with tussenvoegsel", "De Vries", same_as="Sanne de Vries"),
    P("initials and surname", "S. de Vries", same_as="Sanne de Vries"),
    P("surname first", "Vries, Sanne", "name", "name"),
    P("possessive without apostrophe", "Sannes", same_as="Sanne"),
    P("possessive with apostrophe", "Sanne", after="'s portfolio.", same_as="Sanne"),
    P("double surname", "Bakker-Jansen", same_as="Fleur Bakker-Jansen"),
    P("part of a double surname", "Haddou", same_as="Tess Mulder-Haddou"),
    P("name in a URL", "sanne-de-vries", before="Zie https://video.example.nl/", after="/les3.",
      same_as="Sanne de Vries"),
    P("name written with underscores", "sanne_de_vries", same_as="Sanne de Vries"),
    P("school name", "Het Stedelijk Lyceum"),
    P("school name without article, lower case", "stedelijk lyceum", same_as="Het Stedelijk Lyceum"),
    # ---- diacritics and letters that do not decompose
    P("dotless i dropped", "Yilmazer", same_as="Yılmazer"),
    P("dotless i dropped, full name", "Mehmet Yilmazer", same_as="Mehmet Yılmazer"),
    P("diaeresis added", "Özdemir", same_as="Ozdemir"),
    P("Polish ł dropped", "Kowalczyk", same_as="Kowałczyk"),
    P("Nordic ø dropped", "Soren", same_as="Søren"),
    P("Nordic ø spelled oe", "Soeren Lindqvist", same_as="Søren Lindqvist"),
    P("German ü spelled ue", "Mueller", same_as="Müller"),
    P("German ß spelled ss", "Strauss", same_as="Strauß"),
    # ---- invisible characters inside a name
    P("zero-width space", "San\u200bne", same_as="Sanne"),
    P("zero-width non-joiner", "Sa\u200cnne de Vries", same_as="Sanne de Vries"),
    P("zero-width joiner", "Sann\u200de", same_as="Sanne"),
    P("word joiner", "S\u2060anne", same_as="Sanne"),
    P("soft hyphen", "Yılma\u00adzer", same_as="Yılmazer"),
    P("byte-order mark inside", "De Vr\ufeffies", same_as="Sanne de Vries"),
    P("left-to-right mark", "Kow\u200ealczyk", same_as="Kowałczyk"),
    # ---- look-alike letters
    P("Cyrillic look-alikes in a first name", "\u0405\u0430nn\u0435", same_as="Sanne"),
    P("Cyrillic look-alikes in a full name", "\u0405anne de Vr\u0456\u0435s", same_as="Sanne de Vries"),
    P("Greek look-alikes", "\u03a4ess \u039culder-Haddou", same_as="Tess Mulder-Haddou"),
    P("fullwidth letters", "\uff33\uff41\uff4e\uff4e\uff45", same_as="Sanne"),
    P("mathematical bold letters", "\U0001d412\U0001d41a\U0001d427\U0001d427\U0001d41e", same_as="Sanne"),
    P("everything at once", "\u0405A\u200bNN\u0415 DE VR\u00adIES", same_as="Sanne de Vries"),
    # ---- diminutives and short forms
    P("-tje of a roster first name", "Jantje", same_as="Jan"),
    P("-etje with a doubled consonant", "Sannetje", same_as="Sanne"),
    P("-pje", "Wimpje", same_as="Willem"),
    P("short form of a formal roster name", "Bas", same_as="Sebastiaan"),
    P("short form and surname", "Bas Koster", same_as="Sebastiaan Koster"),
    P("Kees for Cornelis", "Kees", same_as="Cornelis"),
    P("Mies for Maria", "Mies", same_as="Maria"),
    P("formal name for a roster short form", "Abraham", same_as="Bram"),
    P("roepnaam from the roster", "Willie", same_as="Wilhelmina"),
    P("diminutive of a short form", "Keesje", same_as="Cornelis"),
    # ---- e-mail
    P("e-mail", "s.devries@student.example.nl", "email"),
    P("e-mail in capitals", "S.DEVRIES@STUDENT.EXAMPLE.NL", "email", same_as="s.devries@student.example.nl"),
    P("mailto link", "wpb_2@example.org", "email", before="Stuur naar mailto:"),
    P("plus addressing", "jan.visser+stage@example.com", "email"),
    P("zero-width space in an e-mail", "s.devries\u200b@student.example.nl", "email",
      same_as="s.devries@student.example.nl"),
    # ---- phone
    P("mobile with hyphen", "06-12345678", "phone"),
    P("international with (0)", "+31 (0)6 1234 5678", "phone", same_as="06-12345678"),
    P("0031 prefix", "0031 6 12345678", "phone", same_as="06-12345678"),
    P("landline", "020 123 4567", "phone"),
    P("dotted pairs", "06.12.34.56.78", "phone", same_as="06-12345678"),
    P("Belgian number", "+32 470 12 34 56", "phone"),
    P("fullwidth digits", "\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "phone",
      same_as="06-12345678"),
    P("zero-width space in a phone number", "06\u200b12345678", "phone", same_as="06-12345678"),
    # ---- student numbers
    P("labelled", "1012345", "student_number", before="studentnummer: "),
    P("s-prefixed", "s1012345", "student_number", same_as="1012345"),
    P("bare 7 digits", "1012345", "student_number"),
    P("bare 8 digits", "10123456", "student_number"),
    P("bare 6 digits, workspace format 6-8", "234567", "student_number", student_numbers="6-8"),
    P("bare 9 digits, workspace format 9", "500123456", "student_number", student_numbers="9"),
    P("bare 6 digits on the roster, default format", "345678", "student_number", same_as="Sanne de Vries"),
    P("labelled short form", "345678", "student_number", before="stud.nr ", same_as="Sanne de Vries"),
    # ---- BSN (111222333 and 123456782 pass the elfproef)
    P("BSN unspaced", "111222333", "bsn"),
    P("BSN 4-2-3 with dots", "1112.22.333", "bsn", same_as="111222333"),
    P("BSN 3-3-3 with spaces", "111 222 333", "bsn", same_as="111222333"),
    P("BSN 3-3-3 with hyphens", "111-222-333", "bsn", same_as="111222333"),
    P("BSN 3-2-2-2", "111 22 23 33", "bsn", same_as="111222333"),
    P("labelled BSN", "123456782", "bsn", before="burgerservicenummer "),
    P("labelled BSN failing the elfproef", "123456789", "bsn", before="BSN: "),
    # ---- IBAN
    P("IBAN unspaced", "NL91ABNA0417164300", "iban"),
    P("IBAN spaced", "NL91 ABNA 0417 1643 00", "iban", same_as="NL91ABNA0417164300"),
    P("IBAN lower case", "nl91 abna 0417 1643 00", "iban", same_as="NL91ABNA0417164300"),
    P("German IBAN", "DE89 3704 0044 0532 0130 00", "iban"),
    P("Belgian IBAN", "BE68 5390 0754 7034", "iban"),
    # ---- street addresses
    P("street and number with addition", "Kerkstraat 12a", "address"),
    P("street type first, number range", "Laan van Meerdervoort 1-3", "address"),
    P("street of several words", "Burgemeester de Withstraat 12 bis", "address", before="Ze woont aan de "),
    P("street in lower case", "kerkstraat 12", "address", before="Ze woont op "),
    P("square", "Grote Markt 5", "address"),
    P("Roman floor number", "Oudegracht 120-II", "address"),
    # ---- postcodes
    P("postcode", "1234 AB", "postcode"),
    P("postcode unspaced", "1234AB", "postcode", same_as="1234 AB"),
    P("postcode in lower case", "1234ab", "postcode", same_as="1234 AB"),
    P("postcode in lower case with a space", "1234 ab", "postcode", same_as="1234 AB"),
    P("postcode mixed case before a place", "1234 Ab", "postcode", after=" Utrecht.", same_as="1234 AB"),
    P("address with postcode", "Kerkstraat 12a, 1234 ab", "address", "postcode", before="Adres: ",
      after=" Utrecht."),
    # ---- birth dates
    P("born on, numeric", "12-03-2004", "birth_date", before="De student is geboren op "),
    P("geb. with month name", "12 maart 2004", "birth_date", before="De student (geb. ", after=") kwam."),
    P("ISO date after geboortedatum", "2004-03-12", "birth_date", before="geboortedatum: "),
    P("two-digit year", "3/4/04", "birth_date", before="geb. "),
    P("date right after a name", "Sanne de Vries (12-03-2004)", "name", "birth_date"),
    P("birthday without a year", "5 mei", "birth_date", before="Ze is jarig op "),
]


def _residue(out: str, plant: Plant) -> str:
    """What the planted part became, or a marker when the context around it changed."""
    if not (out.startswith(plant.before) and out.endswith(plant.after)):
        return "<context changed>"
    return out[len(plant.before):len(out) - len(plant.after)]


def _tokens(text: str) -> list[str]:
    return re.findall(TOKEN, text)


def _pseudonymisers(plant: Plant, roster):
    return (Pseudonymiser(roster, key=KEY, student_numbers=plant.student_numbers),
            Pseudonymiser.from_fingerprints(roster.fingerprints(KEY), key=KEY,
                                            student_numbers=plant.student_numbers))


def test_corpus_has_every_kind_and_enough_spellings():
    assert len(PLANTED) >= 62
    kinds = {k for p in PLANTED for k in p.kinds}
    assert kinds == set(privacy.REPLACED_KINDS)
    assert len({p.label for p in PLANTED}) == len(PLANTED)


@pytest.mark.parametrize("plant", PLANTED, ids=[p.label for p in PLANTED])
def test_planted_string_is_replaced(plant, roster):
    by_roster, by_fingerprints = _pseudonymisers(plant, roster)
    out = by_roster.pseudonymise(plant.text)
    assert by_fingerprints.pseudonymise(plant.text) == out
    residue = _residue(out.text, plant)
    # only tokens and punctuation are left where the planted string was
    assert re.fullmatch(rf"(?:{TOKEN}|[^\w])+", residue), residue
    counted = sorted(k for k, n in out.counts.items() for _ in range(n))
    assert counted == sorted(plant.kinds)
    if plant.same_as is not None:
        plain = by_roster.pseudonymise(plant.same_as).text
        assert _tokens(residue)[0] == _tokens(plain)[0]


@pytest.mark.parametrize("plant", PLANTED, ids=[p.label for p in PLANTED])
def test_check_mode_finds_it_where_it_is_replaced(plant, roster):
    p = Pseudonymiser(roster, key=KEY, student_numbers=plant.student_numbers)
    text = plant.text
    suspects = p.find_suspects(text)
    replaced = [s for s in suspects if s.replaced]
    spans = [(s.start, s.end) for s in replaced]
    assert spans == [(start, end) for _, start, end, _ in p._spans(text)]
    assert sorted(s.kind for s in replaced) == sorted(plant.kinds)
    start = len(plant.before)
    for i, c in enumerate(plant.planted, start):
        if c.isalnum():
            assert any(s <= i < e for s, e in spans), f"character {i - start} of the planted string not covered"
    assert all(not re.search(r"[a-wyzA-WYZ0-8]", s.preview) for s in suspects)  # shapes only


PATTERN_PLANTS = [p for p in PLANTED if "name" not in p.kinds and "on the roster" not in p.label]


@pytest.mark.parametrize("plant", PATTERN_PLANTS, ids=[p.label for p in PATTERN_PLANTS])
def test_patterns_need_no_roster(plant):
    text = plant.text
    hits = scan_text_for_personal_data(text, student_numbers=plant.student_numbers)
    assert sorted(h.kind for h in hits) == sorted(plant.kinds)
    out = Pseudonymiser(key=KEY, student_numbers=plant.student_numbers).pseudonymise(text).text
    assert re.fullmatch(rf"(?:{TOKEN}|[^\w])+", _residue(out, plant))


# --------------------------------------------------------------------------- false positives

ORDINARY_NOTES = [
    "De student gaf 12 voorbeelden van breuken en liet 3 leerlingen voordoen op het bord.",
    "Les 3 van 12 op 12-03-2026 in lokaal 2.14, derde lesuur (10.45-11.35 uur).",
    "Op dinsdag 5 maart 2026 observeerde ik de les in 3 havo; de volgende les is op 12 maart.",
    "Kijkkader LU2: indicator 2.3 gezien, 2.4 niet gezien, 2.5 n.v.t.; leeruitkomst 4 op niveau 3.",
    "Zag dat 24 van de 28 leerlingen direct begonnen (86%), de rest na 2 minuten.",
    "Hoofdstuk 5, paragraaf 5.2, opdracht 12a t/m 12f, bladzijde 134-136 uit de methode.",
    "Toets op 2026-04-01 afgenomen: gemiddeld een 6,8 en 4 onvoldoendes op 27 leerlingen.",
    "Om 8.30 uur start de les, om 9.20 uur gaat de bel; 50 minuten netto lestijd.",
    "In groep 7 werkte de student met 6 tafelgroepjes van 4 leerlingen.",
    "Tijdens de pauze op het schoolplein 2 leerlingen aangesproken op hun gedrag.",
    "In de straat 3 jongens gezien die te laat de school binnenkwamen.",
    "Het gebouw aan de achterkant, vleugel B, lokaal B1.05, tweede verdieping.",
    "Versie 2.0 van het lesplan: 45 minuten, 3 fasen, 2 x 20 minuten zelfstandig werken.",
    "In 2025 en 2026 loopt de student stage; schooljaar 2025-2026, periode 3, week 12 t/m 14.",
    "Leerlingen rekenden met 1500 km fietsroute en 3000 kg zand als voorbeeld.",
    "De video is 1920px breed en 1080px hoog, 30 fps, 2 GB groot.",
    "Bij geschiedenis noemde de student 4 mei 1945 en 5 mei 1945 met een tijdlijn.",
    "Bij muziek speelde een leerling bas en de student gaf tips over ritme.",
    "Elk meisje en elk jongetje kreeg een kaartje met een stappenplan; het groepje ging aan de slag.",
    "Opdracht 3.2 uit Getal & Ruimte, 2 vwo, met 1 extra uitdaging.",
    "De student verwees naar Marzano en naar de zone van naaste ontwikkeling van Vygotsky.",
    "Score 4/5 op de rubric, 80% behaald, 7,5 als eindcijfer.",
    "Bestelnummer bij de reprografie 45-678, 300 kopieën op A3.",
    "Kerk en staat: de student besprak artikel 23 van de Grondwet met 2 bronnen.",
    "Cijfers 5.5, 6.0 en 7.25 gaven een gemiddelde van 6,25.",
    "Tijdstip 14:05, duur 00:45:00, opname 2026-03-12T10:45:00.",
    "Uitleg in blok 4 (LU3.2.1) met 2 werkvormen en 1 exit ticket.",
    "Ze gebruikte 1.250 euro budget voor 12 tablets en 3 laptops.",
    "Jarig zijn is in groep 3 een feest; de juf telde 12 kaarsjes.",
    "Geboren in de jaren negentig vindt de student een tablet vanzelfsprekend.",
    "Pedagogisch klimaat: veilig. Didactiek: activerend. Klassenmanagement: 3 regels op het bord.",
    "De klas werkte 2 x 15 minuten in tweetallen, daarna 10 minuten plenair.",
    "Nabespreking op 19 maart om 15.30 uur, daarna 2 weken tot de volgende observatie.",
    "Bij aardrijkskunde ging het over de haven van Rotterdam en 12 containerschepen.",
    "Leerlingnummers waren niet nodig: de student werkte met nummers 1 t/m 30.",
    "Het was een ton waard, zei de mentor over de 3 lessen in blok 2.",
    "Feedback: 'goed gedaan', daarna 2 tips en 1 top.",
    "De rubric heeft 5 niveaus; de student scoorde 3 op LU1 en 4 op LU2.",
    "Klas 2A, 3B en 4 havo; 25–30 EC; 40 – 50 lessen in 10 lesweken.",
    "Mail de opdracht via de ELO; inleveren vóór 28 mei 2026 23.59 uur.",
]


@pytest.mark.parametrize("note", ORDINARY_NOTES)
def test_ordinary_notes_stay_untouched(note, routes):
    for p in routes:
        out = p.pseudonymise(note)
        assert out.text == note and out.total == 0
        assert [s for s in p.find_suspects(note) if s.replaced] == []
    assert scan_text_for_personal_data(note) == []


def test_false_positive_corpus_size():
    assert len(ORDINARY_NOTES) >= 40


def test_a_history_date_is_only_a_check_mode_hint(routes):
    note = "Bij geschiedenis noemde de student 4 mei 1945 met een tijdlijn."
    suspects = routes[0].find_suspects(note)
    assert [(s.kind, s.replaced) for s in suspects] == [("possible_birth_date", False)]


# --------------------------------------------------------------------------- BSN, IBAN rules


def test_bsn_elfproef():
    assert bsn_is_valid("111222333") and bsn_is_valid("123456782") and bsn_is_valid("1112.22.333")
    assert bsn_is_valid("12345672")  # 8 digits: a leading zero dropped
    assert not bsn_is_valid("123456789") and not bsn_is_valid("000000000") and not bsn_is_valid("12345")


def test_nine_digits_failing_the_elfproef_are_left_but_flagged():
    text = "Ordernummer 123456789 bij de reprografie."
    assert Pseudonymiser(key=KEY).pseudonymise(text).text == text
    assert [(s.kind, s.replaced) for s in find_suspects(text)] == [("number", False)]
    spaced = "Code 123 456 789 in de ELO."
    assert [(s.kind, s.replaced) for s in find_suspects(spaced)] == [("number", False)]


def test_iban_check_digits_and_length():
    assert iban_is_valid("NL91ABNA0417164300") and iban_is_valid("nl91 abna 0417 1643 00")
    assert not iban_is_valid("NL91ABNA0417164301")  # check digits wrong
    assert not iban_is_valid("NL91ABNA041716430")  # one short
    assert not iban_is_valid("XX91ABNA0417164300")  # no such country
    text = "Kenmerk NL91ABNA0417164301 op de factuur."
    assert scan_text_for_personal_data(text) == []


def _with_check_digits(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@given(country=st.sampled_from(sorted(privacy._IBAN_LENGTHS)), data=st.data(),
       spaced=st.booleans(), lower=st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_valid_iban_is_caught(country, data, spaced, lower):
    n = privacy._IBAN_LENGTHS[country] - 4
    bban = data.draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=n, max_size=n))
    iban = _with_check_digits(country, bban)
    assert iban_is_valid(iban)
    written = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    written = written.lower() if lower else written
    text = f"Rekening {written} van de student."
    assert [(h.kind, text[h.start:h.end]) for h in scan_text_for_personal_data(text)] == [("iban", written)]


def _bsn_with_check_digit(head: int) -> str | None:
    digits = f"{head:08d}"
    rest = sum((9 - i) * int(d) for i, d in enumerate(digits)) % 11
    return digits + str(rest) if rest < 10 else None


def valid_bsn():
    return st.integers(1, 99_999_999).map(_bsn_with_check_digit).filter(lambda b: b is not None)


BSN_SPELLINGS = {  # unspaced, 4-2-3 with dots (as on a passport), 3-3-3, 3-2-2-2
    "plain": lambda b: b,
    "4-2-3": lambda b: f"{b[:4]}.{b[4:6]}.{b[6:]}",
    "3-3-3 spaces": lambda b: f"{b[:3]} {b[3:6]} {b[6:]}",
    "3-3-3 hyphens": lambda b: f"{b[:3]}-{b[3:6]}-{b[6:]}",
    "3-2-2-2": lambda b: f"{b[:3]} {b[3:5]} {b[5:7]} {b[7:]}",
}


@given(bsn=valid_bsn(), spelling=st.sampled_from(sorted(BSN_SPELLINGS)))
@settings(max_examples=300, deadline=None)
def test_any_bsn_spelling_is_caught(bsn, spelling):
    written = BSN_SPELLINGS[spelling](bsn)
    text = f"Het BSN van de student is bekend ({written})."
    hits = scan_text_for_personal_data(text)
    assert [(h.kind, text[h.start:h.end]) for h in hits] == [("bsn", written)]
    p = Pseudonymiser(key=KEY)
    assert p.pseudonymise(text).text == p.pseudonymise(f"Het BSN van de student is bekend ({bsn}).").text


@given(number=st.integers(1000, 9999), letters=st.text("ABCDEFGHIJKLMNOPQRTUVWXYZ", min_size=2, max_size=2),
       space=st.booleans(), case=st.sampled_from(["upper", "lower", "title"]))
@settings(max_examples=300, deadline=None)
def test_any_postcode_in_an_address_is_caught(number, letters, space, case):
    letters = {"upper": letters, "lower": letters.lower(), "title": letters.title()}[case]
    code = f"{number}{' ' if space else ''}{letters}"
    text = f"Adres: Dorpsstraat 7, {code} Utrecht."
    kinds = [(h.kind, text[h.start:h.end]) for h in scan_text_for_personal_data(text)]
    if letters.upper() in ("SA", "SD", "SS"):
        assert ("postcode", code) not in kinds
    else:
        assert kinds == [("address", "Dorpsstraat 7"), ("postcode", code)]


# --------------------------------------------------------------------------- names, randomly disguised

_INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff"]
_CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "x": "\u0445",
             "i": "\u0456", "s": "\u0455", "A": "\u0410", "E": "\u0415", "O": "\u041e", "S": "\u0405",
             "T": "\u0422", "M": "\u041c", "H": "\u041d", "K": "\u041a", "B": "\u0412", "P": "\u0420"}
_GREEK = {"A": "\u0391", "B": "\u0392", "E": "\u0395", "H": "\u0397", "I": "\u0399", "K": "\u039a",
          "M": "\u039c", "N": "\u039d", "O": "\u039f", "P": "\u03a1", "T": "\u03a4", "o": "\u03bf"}
_NAMES = ["Sanne de Vries", "Sanne", "De Vries", "Mehmet Yılmazer", "Yılmazer", "Zofia Kowałczyk",
          "Sebastiaan Koster", "Koster", "Tess Mulder-Haddou", "Het Stedelijk Lyceum", "Cornelis Prins"]


@st.composite
def disguised(draw):
    name = draw(st.sampled_from(_NAMES))
    out = []
    for c in name:
        r = draw(st.integers(0, 9))
        if r == 0 and c.isalpha():
            c = c.swapcase() if name != "Koster" else c  # "koster" alone is a word: keep its capital
        elif r == 1:
            c = _CYRILLIC.get(c, c)
        elif r == 2:
            c = _GREEK.get(c, c)
        out.append(c)
        if c.isalpha() and draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(_INVISIBLES)))
    disguised_name = "".join(out).rstrip("".join(_INVISIBLES))
    if name in ("Koster", "De Vries") and not disguised_name[:1].isupper():
        disguised_name = _CYRILLIC.get(name[0], name[0]) + disguised_name[1:]
    return name, disguised_name


@given(pair=disguised(), before=st.sampled_from(["Gisteren zei ", "Volgens ", "(", "- "]),
       after=st.sampled_from([" dat het goed ging.", ") kwam binnen.", ", en verder niets.", "."]))
@settings(max_examples=400, deadline=None)
def test_disguised_roster_names_are_always_caught(roster, pair, before, after):
    plain, written = pair
    p = Pseudonymiser(roster, key=KEY)
    out = p.pseudonymise(before + written + after).text
    assert out.startswith(before) and out.endswith(after)
    residue = out[len(before):len(out) - len(after)]
    assert re.fullmatch(TOKEN, residue), residue
    assert residue == p.pseudonymise(plain).text
    assert [s.kind for s in p.find_suspects(before + written + after) if s.replaced] == ["name"]


# --------------------------------------------------------------------------- compatibility

# Rows stored by calibrate before issue 14 (key bytes(range(32))) for the roster
# "Zofia Kowałczyk" (student) and "Het Stedelijk Lyceum" (school): old fold, no marker row.
LEGACY_ROWS = [
    ("39e51abea395112619c66a14a55774fdb30c7862b7806b34852055770fb0aca7", "[school-33CA9C]", "school"),
    ("4f1caa2ac1e3ac3ff865f84f3955d4c4848a9baf1089361b173ce507a30e682f", "[student-43458A]", "student"),
    ("5ea843be9d7de1649898b5dea2757347d491ae321a7f00d04836ad11c373abb0", "[student-43458A]", "student"),
    ("845b6df74edbe427cb790f76184c939a44047885e48a826104d313767aa4070e", "[student-43458A]", "student"),
    ("b32a5e3400041d0adaa7d876087d59814636c5b49d6cef99ff615f4035a831d2", "[school-33CA9C]", "school"),
]


def test_fingerprints_stored_by_the_previous_version_still_work():
    p = Pseudonymiser.from_fingerprints(LEGACY_ROWS, key=KEY)
    out = p.pseudonymise("Zofia Kowałczyk liep stage op Het Stedelijk Lyceum; Kowałczyk en het stedelijk lyceum.")
    assert out.text == ("[student-43458A] liep stage op [school-33CA9C]; [student-43458A] en [school-33CA9C].")


def test_pseudonyms_and_rater_ids_did_not_change():
    # the values the version before issue 14 gave for the same key and names
    assert privacy.rater_pseudonym("Jeroen Bakker", key=KEY) == "beoordelaar-15E207"
    assert privacy.rater_pseudonym("Mehmet Yılmazer", key=KEY) == "beoordelaar-CF2FD7"
    roster = load_roster([{"name": "Mehmet Yılmazer", "role": "student"}, {"name": "Zofia Kowałczyk", "role": "student"}])
    text = Pseudonymiser(roster, key=KEY).pseudonymise("Mehmet Yılmazer en Zofia Kowałczyk").text
    assert text == "[student-CF2FD7] en [student-43458A]"


def test_stored_and_new_rows_combine_and_stored_tokens_win():
    stored = load_roster([{"name": "Sanne de Vries", "role": "student"}]).fingerprints(KEY)
    # the same person imported again under another role: her stored token stays
    new = load_roster([{"name": "Sanne de Vries", "role": "werkplekbegeleider"},
                       {"name": "Daan Mulder", "role": "student"}]).fingerprints(KEY)
    p = Pseudonymiser.from_fingerprints([*stored, *new], key=KEY)
    old = Pseudonymiser.from_fingerprints(stored, key=KEY)
    assert p.pseudonymise("Sanne de Vries").text == old.pseudonymise("Sanne de Vries").text
    assert p.pseudonymise("Daan Mulder").text.startswith("[student-")
    assert len(p.fingerprint_rows()) == len({r.fingerprint for r in [*stored, *new]})


def test_new_fingerprints_carry_word_and_coverage_rows(roster):
    rows = roster.fingerprints(KEY)
    p = Pseudonymiser.from_fingerprints(rows, key=KEY)
    assert p._words and p._prefilter
    assert all(isinstance(r, NameFingerprint) for r in rows)
    # without the coverage rows (as if stored by the previous version) every word is looked
    # up and, with a school on the roster, every run of words is tried: the same output
    tokens = {r.pseudonym for r in rows}
    coverage = {privacy._mac(KEY, "fp:covered", t) for t in tokens}
    old_style = Pseudonymiser.from_fingerprints([r for r in rows if r.fingerprint not in coverage], key=KEY)
    assert not old_style._words and not old_style._prefilter
    for text in [p.text for p in PLANTED] + ORDINARY_NOTES:
        assert old_style.pseudonymise(text) == p.pseudonymise(text)


def test_rows_of_the_previous_version_mixed_with_new_ones_are_all_found():
    new = load_roster([{"name": "Daan Mulder", "role": "student"}]).fingerprints(KEY)
    p = Pseudonymiser.from_fingerprints([*LEGACY_ROWS, *new], key=KEY)
    assert not p._words  # the old tokens are not covered
    out = p.pseudonymise("Daan Mulder en Zofia Kowałczyk op Het Stedelijk Lyceum.").text
    assert out.count("[student-") == 2 and "[school-33CA9C]" in out


def test_diminutives_can_be_configured(roster):
    off = Pseudonymiser(roster, key=KEY, diminutives={})
    assert off.pseudonymise("Bas kwam").text == "Bas kwam"
    own = Pseudonymiser(load_roster(["Geertje Smit"]), key=KEY, diminutives={"geertje": ["gees"]})
    assert own.pseudonymise("Gees kwam").text == own.pseudonymise("Geertje kwam").text != "Gees kwam"


def test_student_number_format_spec():
    assert StudentNumberFormat.parse("6-8") == StudentNumberFormat(6, 8)
    assert StudentNumberFormat.parse(9) == StudentNumberFormat(9, 9)
    assert str(StudentNumberFormat.parse("re:s?[0-9]{6}")) == "re:s?[0-9]{6}"
    for bad in ("abc", "3", "9-7", "re:[0-9", "re:.*", "re:[a-z]+"):
        with pytest.raises(privacy.InputError):
            StudentNumberFormat.parse(bad)
    fmt = StudentNumberFormat(pattern=r"[A-Z][0-9]{6}")
    text = "Student F123456 kwam te laat."
    assert [h.kind for h in scan_text_for_personal_data(text, student_numbers=fmt)] == ["student_number"]
    assert scan_text_for_personal_data(text) == []


def test_module_doctests():
    import doctest
    import importlib
    import pkgutil

    rooms = [privacy] + [importlib.import_module(f"calibrate.privacy.{m.name}") for m in pkgutil.iter_modules(privacy.__path__)]
    results = [doctest.testmod(m) for m in rooms]
    assert sum(r.failed for r in results) == 0
    assert sum(r.attempted for r in results) >= 9  # the package's and its rooms' examples all ran
