"""check_identifier: rater, case and session ids, session titles, item ids and links that
hold personal data are recognised (issue 14, item 2), also from the workspace's stored
fingerprints alone, and the message shows only the value's shape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.privacy import (
    REPLACED_KINDS,
    IdentifierFinding,
    Pseudonymiser,
    check_identifier,
    load_roster,
)

KEY = bytes(range(32))
ROSTER = [
    {"name": "Sanne de Vries", "role": "student"},
    {"name": "Jeroen Smit", "role": "werkplekbegeleider"},
    {"name": "Anna Groen", "role": "student"},
    {"name": "Het Stedelijk Lyceum", "role": "school"},
]


@pytest.fixture(scope="module")
def known():
    """A pseudonymiser as a later import without --roster has it: stored fingerprints only."""
    return Pseudonymiser.from_fingerprints(load_roster(ROSTER).fingerprints(KEY), key=KEY)


@pytest.mark.parametrize("field, value, kinds", [
    ("rater", "Jeroen Smit", ("name",)),
    ("rater", "jeroen.smit", ("name",)),
    ("rater", "j.smit", ("name",)),
    ("rater", "JeroenSmit", ("name",)),
    ("rater", "sanne_de_vries", ("name",)),
    ("rater", "s.devries", ("name",)),
    ("rater", "\u0405\u0430nn\u0435", ("name",)),
    ("rater", "San\u200bne de Vries", ("name",)),
    ("rater", "jan@example.nl", ("email",)),
    ("rater", "06-12345678", ("phone",)),
    ("rater", "+31 6 12345678", ("phone",)),
    ("case", "1012345", ("student_number",)),
    ("case", "C_1012345", ("student_number",)),
    ("case", "s1012345", ("student_number",)),
    ("case", "111222333", ("bsn",)),
    ("case", "NL91ABNA0417164300", ("iban",)),
    ("case", "C-Kerkstraat 12", ("address",)),
    ("session", "Sessie met Sanne", ("name",)),
    ("session", "Stedelijk Lyceum ronde 2", ("name",)),
    ("item", "groen", ("name",)),  # in an id case says nothing: "groen" is Anna Groen here
    ("material", "https://video.example.nl/sanne-de-vries/les3.mp4", ("name",)),
    ("material", "https://example.nl/x?student=1012345", ("student_number",)),
    ("material", "https://example.nl/dossier?bsn=111222333", ("bsn",)),
    ("material", "mailto:docent@example.nl", ("email",)),
    ("material", "tel:0612345678", ("phone",)),
])
def test_personal_data_in_identifiers_is_recognised(known, field, value, kinds):
    finding = known.check_identifier(value, field=field)
    assert isinstance(finding, IdentifierFinding)
    assert finding.kinds == kinds and finding.kind == kinds[0] and finding.field == field
    message = finding.message()
    assert message.startswith(f"{field} '") and "looks like personal data" in message
    for part in ("Sanne", "Vries", "Jeroen", "Smit", "1012345", "111222333", "example", "12345678", "Kerkstraat"):
        assert part.casefold() not in message.casefold()


@pytest.mark.parametrize("field, value", [
    ("rater", "B03"), ("rater", "beoordelaar-3F9A1C"), ("rater", "WPB-2"), ("case", "C01"), ("case", "C012"),
    ("case", "casus-3a"), ("session", "K1"), ("session", "2026-03-02"), ("session", "Kalibratie 12 maart 2026"),
    ("session", "Ronde 2 LU3"), ("item", "LU3.2.1"), ("item", "han-wpl2-2025/LU1"), ("item", "eigen-indicator-4"),
    ("material", "https://vimeo.com/123456782"),
    ("material", "https://www.example.nl/contentassets/d36d9b8a26104b3b8688a567c04622e0/23-24/handleiding-232415.pdf"),
    ("material", "https://youtu.be/dQw4w9WgXcQ?t=42"),
    ("material", "lessen/les-3-breuken.mp4"),
])
def test_ordinary_identifiers_pass(known, field, value):
    assert known.check_identifier(value, field=field) is None
    assert check_identifier(value, field=field) is None


def test_without_fingerprints_only_patterns_count():
    assert check_identifier("Jeroen Smit", field="rater") is None  # no roster known: a name is not recognisable
    assert check_identifier("jeroen.smit@example.nl", field="rater").kind == "email"
    assert check_identifier("1012345", field="case").kind == "student_number"
    assert check_identifier("234567", field="case") is None
    assert check_identifier("234567", field="case", student_numbers="6-8").kind == "student_number"


def test_links_do_not_count_bare_numbers(known):
    assert known.check_identifier("https://example.nl/video/1012345", field="material") is None
    assert known.check_identifier("1012345", field="case").kind == "student_number"


def test_several_kinds_are_listed_in_order(known):
    finding = known.check_identifier("Sanne 06-12345678", field="rater")
    assert finding.kinds == ("name", "phone")
    assert finding.message() == "rater 'Xxxxx 99-99999999' looks like personal data (naam, telefoonnummer)"


def test_long_values_are_cut_in_the_message(known):
    finding = known.check_identifier("x" * 60 + " Sanne", field="session")
    assert finding.kind == "name" and len(finding.masked) == 40 and finding.masked.endswith("…")


def test_a_non_string_is_a_type_error(known):
    with pytest.raises(TypeError):
        known.check_identifier(12345, field="case")


@given(value=st.from_regex(r"[BCKLU]{1,2}[0-9]{1,3}(?:[-_.][0-9]{1,2}){0,2}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_short_codes_are_never_personal_data(known, value):
    # codes such as B03, K1.2, LU3-1, C012_2 hold nothing personal
    assert known.check_identifier(value, field="case") is None
    assert known.check_identifier(value, field="rater") is None


def test_kinds_are_replaced_kinds():
    finding = check_identifier("s1012345 NL91ABNA0417164300", field="case")
    assert set(finding.kinds) <= set(REPLACED_KINDS)
