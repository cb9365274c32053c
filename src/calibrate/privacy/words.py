"""The detectors' vocabulary: what is replaced and its Dutch words, name particles, common
words that are also names, Dutch diminutives, the token shapes; and masking a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType


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


def _mask(s: str) -> str:
    return "".join("9" if c.isdigit() else ("X" if c.isupper() else "x") if c.isalpha() else c for c in s)
