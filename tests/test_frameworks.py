"""Tests of calibrate.frameworks: the built-in data against the seeds, the model, the loader.

The verbatim checks read the seed documents (Dutch handbooks). They live outside the
repository; set CALIBRATE_SEEDS to their directory (default ../shared/seeds beside the repository, where CI has them).
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.errors import FrameworkError, InputError
from calibrate.frameworks import (
    INDICATOR_CODES,
    NOT_APPLICABLE,
    VERDICT_CODES,
    Framework,
    SeedSource,
    builtin_frameworks,
    load_framework,
)
from calibrate.frameworks.loader import DATA_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "frameworks"
SEEDS = Path(os.environ.get("CALIBRATE_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds"))
SEED_001 = SEEDS / "001_1b1854eb628a5607.txt"

if os.environ.get("CI") and not SEED_001.is_file():  # in CI the verbatim checks must run
    raise RuntimeError(f"seed documents not found in {SEEDS}; set CALIBRATE_SEEDS")
needs_seeds = pytest.mark.skipif(not SEED_001.is_file(), reason=f"seed documents not found in {SEEDS}")


def norm(text: str) -> str:
    """Collapse every run of whitespace (line and page breaks included) to one space.

    A word the seed hyphenates at a line break ("mede-\\n\\neigenaar") is joined back first:
    the data stores the word. Only a hyphen at the very end of a line, directly after a
    letter and before a lower-case letter, is joined this way.
    """
    text = re.sub(r"(?<=[^\W\d_])-\n\s*(?=[a-z])", "-", text)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def fw() -> Framework:
    return load_framework("han-wpl2-2025")


@pytest.fixture(scope="module")
def seed() -> str:
    return norm(SEED_001.read_text(encoding="utf-8"))


def seed_text(name: str) -> str:
    (path,) = SEEDS.glob(f"{name}_*.txt")
    return norm(path.read_text(encoding="utf-8"))


def between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i)]


# =========================================================================== ids & items
def test_builtin_ids():
    assert builtin_frameworks() == ["han-wpl2-2025"]


def test_outcome_ids_names_and_assessment(fw):
    got = [(o.id, o.name, o.assessment, o.level_name) for o in fw.outcomes]
    assert got == [
        ("leerklimaat", "Creëren van positief leerklimaat", "summatief", "tussenniveau"),
        ("afstemmen", "Afstemmen op de lerenden", "summatief", "tussenniveau"),
        ("leerstof", "Leerstof verwerken", "summatief", "tussenniveau"),
        ("ict", "Leren en lesgeven met ict", "formatief", None),
        ("ppi", "Ontwikkelen van professionele en persoonlijke identiteit", "formatief", "eindniveau"),
    ]
    assert fw.outcome("ppi").numbering_note  # the seed numbers it 5.4 and 5.5
    with pytest.raises(InputError, match="leerklimat"):
        fw.outcome("leerklimat")


# Bullets counted by hand in seed 001, chapter 5 (each "• Je ..." under the dimension
# heading, continuation lines and page breaks joined). 113 bullets in the chapter minus the
# 7 that are no indicators (2 course names and 2 tussenniveau bullets in 5.1, 3 werkwijze
# bullets of PPI) = 106.
INDICATOR_COUNTS = {
    "leerklimaat.klassenmanagement": 10,
    "leerklimaat.groeps_en_communicatieproces": 6,
    "leerklimaat.kansengelijkheid": 4,
    "leerklimaat.reflecteren": 3,
    "afstemmen.inventariseren_van_behoeften": 4,
    "afstemmen.didactisch_afstemmen": 7,
    "afstemmen.pedagogisch_afstemmen": 7,
    "afstemmen.inzicht_eigen_handelen": 6,
    "leerstof.toepassing_van_vakdidactiek": 6,
    "leerstof.activerend_lesgeven": 6,
    "leerstof.differentiatie": 6,
    "leerstof.evaluatie_van_eigen_handelen": 6,
    "ict.orientatie": 3,
    "ict.ontwerpen": 3,
    "ict.uitvoeren": 1,
    "ict.evalueren": 4,
    "ppi.zelfkennis_en_persoonlijke_invloed": 5,
    "ppi.reflectie_en_double_loop_learning": 6,
    "ppi.visie_op_onderwijs": 5,
    "ppi.professionele_groei_en_ontwikkeling": 5,
    "ppi.toekomstperspectief_en_beroepsbeeld": 3,
}


def test_dimension_ids_and_indicator_counts(fw):
    assert {d.id: len(d.indicators) for d in fw.dimensions()} == INDICATOR_COUNTS
    assert [d.id for d in fw.dimensions()] == list(INDICATOR_COUNTS)
    assert len(fw.indicators()) == 106
    per_outcome = {o.id: len(o.indicators) for o in fw.outcomes}
    assert per_outcome == {"leerklimaat": 23, "afstemmen": 24, "leerstof": 24, "ict": 11, "ppi": 24}


def test_indicator_ids_are_dimension_and_position(fw):
    for dim in fw.dimensions():
        assert [i.id for i in dim.indicators] == [f"{dim.id}.{n}" for n in range(1, len(dim.indicators) + 1)]
    assert fw.item("leerklimaat.klassenmanagement.1").label.startswith("Je kunt uitleggen welke regels")
    assert re.fullmatch(r"[a-z_]+\.[a-z_]+", fw.dimensions()[0].id)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", d.slug) for d in fw.dimensions())


def test_items_in_form_order(fw):
    items = fw.items()
    ids = [i.id for i in items]
    # per outcome: indicators, then niveau, then oordeel (summative only)
    leerklimaat = [i.id for i in fw.outcome("leerklimaat").indicators]
    assert ids[: len(leerklimaat) + 2] == leerklimaat + ["leerklimaat.niveau", "leerklimaat.oordeel"]
    assert ids.index("ict.niveau") + 1 == ids.index("ppi.zelfkennis_en_persoonlijke_invloed.1")
    assert "ict.oordeel" not in ids and "ppi.oordeel" not in ids
    assert ids[-15:-1] == [f"fase.{d.id}" for d in fw.phase_table.dimensions]
    assert ids[-1] == "besluit"
    assert len(ids) == len(set(ids)) == 106 + 5 + 3 + 14 + 1


def test_item_kinds_codes_and_labels(fw):
    by_kind = {}
    for item in fw.items():
        by_kind.setdefault(item.kind, set()).add(item.codes)
    assert by_kind == {
        "indicator": {INDICATOR_CODES},
        "level": {("1", "2", "3", "4", "5", "6")},
        "verdict": {VERDICT_CODES},
        "phase": {("begin", "groei", "vergevorderd")},
        "decision": {("no go", "go")},
    }
    assert INDICATOR_CODES == ("niet gezien", "gezien") and NOT_APPLICABLE == "n.v.t."
    assert NOT_APPLICABLE not in INDICATOR_CODES
    assert fw.item("leerklimaat.niveau").label == "Niveau — Creëren van positief leerklimaat"
    assert fw.item("afstemmen.oordeel").outcome_id == "afstemmen"
    phase = fw.item("fase.vertrouwen_van_collegas")
    assert (phase.kind, phase.dimension_id, phase.outcome_id) == ("phase", "vertrouwen_van_collegas", None)
    assert fw.item("leerstof.differentiatie.2").dimension_id == "leerstof.differentiatie"


def test_unknown_item_names_it_and_says_how_to_find_ids(fw):
    with pytest.raises(InputError) as exc:
        fw.item("leerklimaat.klasenmanagement.1")
    message = str(exc.value)
    assert "'leerklimaat.klasenmanagement.1'" in message
    assert "leerklimaat.klassenmanagement.1" in message  # the close match
    assert "items()" in message


def test_differentiatie_is_shown_but_not_assessable(fw):
    dim = next(d for d in fw.dimensions() if d.id == "leerstof.differentiatie")
    assert dim.assessed is False and dim.note == "indicatief (niet om te beoordelen)"
    assert dim.name == "Differentiatie"
    diff_items = [i for i in fw.items() if i.dimension_id == "leerstof.differentiatie"]
    assert len(diff_items) == 6 and not any(i.assessed for i in diff_items)
    assessable = {i.id for i in fw.assessable_items()}
    assert not assessable & {i.id for i in diff_items}
    assert len(assessable) == len(fw.items()) - 6
    # every other dimension is assessed
    assert [d.id for d in fw.dimensions() if not d.assessed] == ["leerstof.differentiatie"]


def test_decision_spec(fw):
    assert fw.decision.item_id == "besluit"
    assert fw.decision.rule_id == "assessmentles_go"
    assert fw.decision.outcomes == ("leerklimaat", "afstemmen", "leerstof")


def test_framework_is_frozen(fw):
    with pytest.raises(AttributeError):
        fw.id = "x"


# =========================================================================== verbatim
@needs_seeds
def test_every_indicator_verbatim_in_seed(fw, seed):
    missing = [ind.id for ind in fw.indicators() if f"• {ind.text}" not in seed]
    assert missing == []


@needs_seeds
def test_kijkkaders_reproduce_the_seed_in_order(fw, seed):
    """Each kijkkader, rebuilt as heading, bullets, heading, ..., is one run of the seed text.

    This catches a split, merged, truncated or reordered indicator, not only a changed one.
    """
    # what the seed has right after each kijkkader: nothing of the last indicator is lost
    next_text = {
        "leerklimaat": "Afstemmen op de lerenden Je stemt",
        "afstemmen": "5.2 LUK Leerstof verwerken",
        "leerstof": "5.3 LUK Leren en lesgeven met ICT",
        "ict": "5.4 LUK Ontwikkelen van professionele",
        "ppi": "Literatuur:",
    }
    for outcome in fw.outcomes:
        parts = []
        for dim in outcome.dimensions:
            heading = dim.name if dim.assessed else f"{dim.name} – {dim.note}"
            parts.append(heading)
            parts.extend(f"• {ind.text}" for ind in dim.indicators)
        assert " ".join(parts) + " " + next_text[outcome.id] in seed, outcome.id


@needs_seeds
def test_descriptions_verbatim(fw, seed):
    headings = {
        "leerklimaat": "Creëren van positief leerklimaat",
        "afstemmen": "Afstemmen op de lerenden",
        "leerstof": "5.2 LUK Leerstof verwerken",
        "ict": "5.3 LUK Leren en lesgeven met ICT",
        "ppi": "5.4 LUK Ontwikkelen van professionele en persoonlijke identiteit",
    }
    for outcome in fw.outcomes:
        after = "Werkwijze" if outcome.id == "ppi" else "Kijkkader"
        assert f"{headings[outcome.id]} {outcome.description} {after}" in seed, outcome.id
    # the seed's own slips are kept
    texts = " ".join(i.text for i in fw.indicators())
    assert "dagelijks lespraktijk" in texts and "de het recente" in texts
    assert fw.item("leerstof.activerend_lesgeven.4").label.endswith("korte opdrachten.")


@needs_seeds
def test_ppi_is_written_at_eindniveau_in_the_seed(fw, seed):
    assert "Onderstaande indicatoren (kijkkader) zijn geformuleerd op het eindniveau" in seed
    assert fw.outcome("ppi").level_name == "eindniveau"
    assert "Differentiatie – indicatief (niet om te beoordelen)" in seed


# =========================================================================== phase table
PHASE_DIMENSIONS = [
    "opbouw_van_routines",
    "overzien_van_taken",
    "overzien_van_leerroutes",
    "zelfstandigheid",
    "verantwoordelijkheden_buiten_het_klaslokaal",
    "vertrouwen_van_collegas",
    "verantwoordelijkheid_tonen_en_ervaren",
    "metacognitie",
    "onderliggende_kennisbasis",
    "voorspelbaarheid_van_context",
    "analytisch_vermogen",
    "evaluatief_vermogen",
    "samenwerking_en_communicatie",
    "professionele_identiteit_en_ethisch_handelen",
]


def test_phase_table_shape(fw):
    table = fw.phase_table
    assert [(p.code, p.name) for p in table.phases] == [
        ("begin", "Beginfase"),
        ("groei", "Groei-fase"),
        ("vergevorderd", "Vergevorderde fase"),
    ]
    assert [d.id for d in table.dimensions] == PHASE_DIMENSIONS
    assert table.dimension("overzien_van_leerroutes").name == "Overzien van leerroutes (van anderen)"
    assert table.dimension("vertrouwen_van_collegas").name == "Vertrouwen van collega’s"  # curly ’
    assert all(set(d.descriptors) == {"begin", "groei", "vergevorderd"} for d in table.dimensions)
    assert table.position("groei") == 2


@needs_seeds
def test_phase_table_reproduces_the_seed(fw, seed):
    """Row by row, name and three cells in order, the table is one run of the seed text."""
    rows = [
        " ".join([d.name, d.descriptors["begin"], d.descriptors["groei"], d.descriptors["vergevorderd"]])
        for d in fw.phase_table.dimensions
    ]
    assert "Dimensie Beginfase Groei-fase Vergevorderde fase " + " ".join(rows) + " 7 BIJLAGE 2" in seed
    for d in fw.phase_table.dimensions:
        for text in d.descriptors.values():
            assert text in seed


# =========================================================================== scale
def test_scale_order_names_and_thresholds(fw):
    scale = fw.scale
    assert scale.codes == ("1", "2", "3", "4", "5", "6")
    assert [lv.name for lv in scale.levels] == [
        "verkennend", "niveau 2", "niveau 3", "bekwaam", "vakkundig", "professional"
    ]
    assert [lv.named_in_seed for lv in scale.levels] == [True, False, False, True, True, True]
    assert scale.thresholds == {"bekwaam": "4", "vakkundig": "5"}
    assert scale.order_inferred is True and "Dreyfus" in scale.order_reasoning
    assert scale.at_least("4", "bekwaam") and not scale.at_least("4", "vakkundig")
    assert scale.level("vakkundig").position == 5


@needs_seeds
def test_scale_names_come_from_seed_002():
    text = seed_text("002")
    assert "zes niveaus van groei: van verkennend tot professional" in text
    assert "minimaal het niveau bekwaam" in text and "minimaal het niveau vakkundig" in text


def test_scale_override_swaps_thresholds_with_the_names():
    other = load_framework(FIXTURES / "voorbeeld-schaal-override.yaml")
    assert other.scale.thresholds == {"bekwaam": "5", "vakkundig": "4"}
    assert other.scale.order_inferred is False
    assert other.scale.level("2").name == "oriënterend"
    assert other.scale.id == "rubric-zes-niveaus"  # the referenced file


# =========================================================================== profile
EXPECTED_TUSSENNIVEAU = {
    "zelfstandigheid": "begin",
    "opbouw_van_routines": "groei",
    "voorspelbaarheid_van_context": "begin",
    "onderliggende_kennisbasis": "groei",
    "verantwoordelijkheid_tonen_en_ervaren": "groei",
    "analytisch_vermogen": "groei",
    "metacognitie": "groei",
    "evaluatief_vermogen": "groei",
}


def test_tussenniveau_profile_cells(fw):
    profile = fw.profiles["tussenniveau"]
    assert profile.meaning == "at_least"
    assert {c.dimension_id: c.phase for c in profile.cells} == EXPECTED_TUSSENNIVEAU
    assert profile.expected("zelfstandigheid") == "begin"
    assert profile.expected("overzien_van_taken") is None
    gaps = {g.dimension_id for g in profile.not_expected}
    assert gaps | set(EXPECTED_TUSSENNIVEAU) == set(PHASE_DIMENSIONS)
    assert not gaps & set(EXPECTED_TUSSENNIVEAU)
    assert [c.dimension_id for c in profile.cells if c.inferred] == ["voorspelbaarheid_van_context"]
    for cell in profile.cells:
        assert cell.descriptor == fw.phase_table.dimension(cell.dimension_id).descriptors[cell.phase]
        assert cell.source.file == "001_1b1854eb628a5607.txt"


@needs_seeds
def test_profile_quotes_occur_in_section_5_1_and_descriptors_in_the_table(fw, seed):
    section = between(seed, "5.1 Afstemmen en creëren 1 De leeruitkomsten", "Creëren van positief leerklimaat Je creëert")
    table = between(seed, "BIJLAGE 1: TABEL COMPLEXE BEROEPSVAARDIGHEDEN", "BIJLAGE 2")
    for cell in fw.profiles["tussenniveau"].cells:
        assert cell.quote in section, cell.dimension_id
        assert cell.descriptor in table, cell.dimension_id
    # the near-literal matches the docs rely on
    assert "Werkt routinematig in herkenbare situaties" in table
    assert "Routinematig, in herkenbare situaties" in section


# =========================================================================== rules data
def test_rules_present_with_quote_and_source(fw):
    assert set(fw.rules) == {"assessmentles_go", "high_stake", "high_stake_vroeg", "osr_voortgang"}
    expected_files = {
        "assessmentles_go": "000_7c882e0f577689a8.txt",
        "high_stake": "002_a7a295c5891a0803.txt",
        "high_stake_vroeg": "002_a7a295c5891a0803.txt",
        "osr_voortgang": "003_653514a0f6c8b0ba.txt",
    }
    for rule_id, rule in fw.rules.items():
        assert rule.source.file == expected_files[rule_id]
        assert rule.quote and rule.source.section
    assert fw.rules["assessmentles_go"].results == ("no go", "go")
    assert fw.rules["osr_voortgang"].max_items == 14


@needs_seeds
def test_rule_quotes_occur_in_their_seed(fw):
    for rule in fw.rules.values():
        text = seed_text(rule.source.file[:3])
        for part in rule.quote.split(" / "):
            assert part in text, rule.id


# =========================================================================== data files
def test_every_data_file_has_a_versioned_header():
    for path in DATA_DIR.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["schema_version"] == 1, path.name
        assert {"id", "version", "title", "source", "kind"} <= set(data), path.name
        assert isinstance(data["version"], str), path.name
        assert {"file", "section"} <= set(data["source"]), path.name


# =========================================================================== other institutes
def test_other_institute_framework_loads():
    other = load_framework(FIXTURES / "hogeschool-voorbeeld.yaml")
    assert other.id == "hogeschool-voorbeeld-2026"
    assert [o.id for o in other.outcomes] == ["lesgeven", "samenwerken"]
    assert [i.id for i in other.items()][:9] == [
        "lesgeven.instructie.1",
        "lesgeven.instructie.2",
        "lesgeven.klassenmanagement.1",
        "lesgeven.niveau",
        "lesgeven.oordeel",
        "samenwerken.overleg.1",
        "samenwerken.inspiratie.1",
        "samenwerken.niveau",
        "samenwerken.oordeel",
    ]
    assert other.item("lesgeven.niveau").codes == ("1", "2", "3", "4")
    assert other.scale.thresholds == {"bekwaam": "3"}
    assert other.item("eindoordeel").codes == ("niet voldaan", "voldaan")
    assert not other.item("samenwerken.inspiratie.1").assessed
    assert len(other.phase_table.dimensions) == 14  # reused from calibrate's data
    assert other.profiles == {}


def test_load_by_path_equals_load_by_id(fw):
    assert load_framework(DATA_DIR / "han-wpl2-2025.yaml") == fw
    assert load_framework(str(DATA_DIR / "han-wpl2-2025.yaml")).items() == fw.items()
    # ``source`` is the file read (the store reloads registered frameworks from it);
    # ``seed`` cites the document the texts come from
    assert fw.source == (DATA_DIR / "han-wpl2-2025.yaml").resolve()
    other = load_framework(FIXTURES / "hogeschool-voorbeeld.yaml")
    assert load_framework(other.source) == other
    assert str(fw.seed) == "001_1b1854eb628a5607.txt, 5 Leeruitkomsten, kijkkaders en specifieke werkwijzen per leeruitkomst"


def test_unknown_builtin_lists_the_builtins():
    with pytest.raises(FrameworkError) as exc:
        load_framework("han-wpl2-2024")
    assert "han-wpl2-2024" in str(exc.value) and "han-wpl2-2025" in str(exc.value)
    with pytest.raises(FrameworkError, match="file not found"):
        load_framework("does/not/exist.yaml")


# =========================================================================== malformed
MINIMAL = {
    "schema_version": 1,
    "kind": "framework",
    "id": "mini",
    "version": "1.0",
    "title": "Mini",
    "source": {"file": "x.pdf", "section": "1"},
    "phase_table": {
        "phases": [{"code": "begin", "name": "Beginfase"}, {"code": "groei", "name": "Groei-fase"}],
        "dimensions": [{"id": "zelfstandigheid", "name": "Zelfstandigheid", "descriptors": {"begin": "a", "groei": "b"}}],
    },
    "scale": {"levels": [{"name": "laag"}, {"name": "bekwaam"}, {"name": "hoog"}], "thresholds": ["bekwaam"]},
    "profiles": {
        "profiles": [{"name": "tussen", "cells": [{"dimension": "zelfstandigheid", "phase": "groei", "quote": "q"}]}]
    },
    "rules": {
        "rules": [
            {
                "id": "hs",
                "title": "HS",
                "kind": "threshold",
                "at_least": "bekwaam",
                "require": "all",
                "results": ["niet voldaan", "voldaan"],
                "quote": "q",
                "source": {"file": "x.pdf", "section": "1"},
            },
            {
                "id": "go",
                "title": "Go",
                "kind": "count_bands",
                "codes": ["niet voldaan", "voldaan"],
                "results": ["no go", "go"],
                "bands": [{"result": "go", "max": {"niet voldaan": 1}}],
                "otherwise": "no go",
                "quote": "q",
                "source": {"file": "x.pdf", "section": "1"},
            },
        ]
    },
    "decision": {"item": "besluit", "rule": "go", "outcomes": ["a"]},
    "outcomes": [
        {
            "id": "a",
            "name": "A",
            "description": "d",
            "assessment": "summatief",
            "dimensions": [{"id": "d1", "name": "D1", "indicators": ["Je doet een.", "Je doet twee."]}],
        },
        {
            "id": "b",
            "name": "B",
            "description": "d",
            "assessment": "formatief",
            "dimensions": [{"id": "d1", "name": "D1", "indicators": ["Je doet drie."]}],
        },
    ],
}


def _set(path: str, value):
    def mutate(doc):
        *parents, last = _steps(path)
        node = doc
        for step in parents:
            node = node[step]
        node[last] = value

    return mutate


def _delete(path: str):
    def mutate(doc):
        *parents, last = _steps(path)
        node = doc
        for step in parents:
            node = node[step]
        del node[last]

    return mutate


def _steps(path: str) -> list:
    return [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", path)]


def _append_outcome_copy(doc):
    doc["outcomes"].append(copy.deepcopy(doc["outcomes"][0]))


def _append_dimension_copy(doc):
    dims = doc["outcomes"][0]["dimensions"]
    dims.append({**copy.deepcopy(dims[0]), "name": "D1 nog eens"})


MALFORMED = [
    # (name, mutation, path named in the message, what the message says)
    ("missing key", _delete("outcomes[0].dimensions[0].indicators"), "outcomes[0].dimensions[0]", "missing key 'indicators'"),
    ("wrong type", _set("outcomes[1].dimensions[0].indicators", "Je doet drie."), "outcomes[1].dimensions[0].indicators", "expected a list"),
    ("indicator not text", _set("outcomes[0].dimensions[0].indicators[1]", 2), "outcomes[0].dimensions[0].indicators[1]", "expected a text"),
    ("duplicate outcome id", _append_outcome_copy, "outcomes[2].id", "duplicate outcome id 'a'"),
    ("unknown phase code", _set("phase_table.dimensions[0].descriptors.midden", "c"), "phase_table.dimensions[0].descriptors.midden", "unknown key 'midden'"),
    ("missing phase cell", _delete("phase_table.dimensions[0].descriptors.groei"), "phase_table.dimensions[0].descriptors", "missing the cell for phase 'groei'"),
    ("profile names unknown dimension", _set("profiles.profiles[0].cells[0].dimension", "lef"), "profiles.profiles[0].cells[0].dimension", "unknown dimension of the phase table 'lef'"),
    ("profile names unknown phase", _set("profiles.profiles[0].cells[0].phase", "vergevorderd"), "profiles.profiles[0].cells[0].phase", "unknown phase code 'vergevorderd'"),
    ("rule threshold names unknown level", _set("rules.rules[0].at_least", "vakkundig"), "rules.rules[0].at_least", "threshold 'vakkundig' names no level"),
    ("scale threshold names unknown level", _set("scale.thresholds[0]", "vakkundig"), "scale.thresholds[0]", "names no level"),
    ("schema too new", _set("schema_version", 2), "schema_version", "newer than this version of calibrate"),
    ("schema missing", _delete("schema_version"), "", "missing key 'schema_version'"),
    ("typo in key", _set("outcomes[0].dimensions[0].indicatoren", []), "outcomes[0].dimensions[0].indicatoren", "unknown key 'indicatoren'"),
    ("unknown assessment", _set("outcomes[0].assessment", "summative"), "outcomes[0].assessment", "unknown assessment 'summative'"),
    ("bad slug", _set("outcomes[0].dimensions[0].id", "Klassen Management"), "outcomes[0].dimensions[0].id", "not a valid id"),
    ("version as number", _set("version", 1.0), "version", "expected a text"),
    ("duplicate dimension id", _append_dimension_copy, "outcomes[0].dimensions[1].id", "duplicate dimension id 'd1'"),
    ("decision on formatief outcome", _set("decision.outcomes", ["a", "b"]), "decision.outcomes[1]", "formatief"),
    ("decision on unknown rule", _set("decision.rule", "gogo"), "decision.rule", "unknown rule 'gogo'"),
    ("band result not a result", _set("rules.rules[1].bands[0].result", "misschien"), "rules.rules[1].bands[0].result", "unknown result 'misschien'"),
    ("level code not its position", _set("scale.levels[1].code", "4"), "scale.levels[1].code", "expected '2'"),
    ("empty outcomes", _set("outcomes", []), "outcomes", "at least 1"),
]


@pytest.mark.parametrize("name, mutate, where, what", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_is_refused_with_file_path_and_reason(tmp_path, name, mutate, where, what):
    doc = copy.deepcopy(MINIMAL)
    mutate(doc)
    path = tmp_path / "kapot.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: {where}" if where else f"{path}:"), message
    assert what in message, message


def test_minimal_document_is_valid(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(MINIMAL, allow_unicode=True), encoding="utf-8")
    mini = load_framework(path)
    assert [i.id for i in mini.items()] == [
        "a.d1.1", "a.d1.2", "a.niveau", "a.oordeel", "b.d1.1", "b.niveau", "fase.zelfstandigheid", "besluit"
    ]


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("schema_version: 1\noutcomes:\n  - id: a\n   name: b\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"syntax\.yaml: line 4, column \d+: not valid YAML"):
        load_framework(path)


def test_duplicate_yaml_key_is_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("schema_version: 1\nid: a\nid: b\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"duplicate key 'id' \(first at line 2\)"):
        load_framework(path)


def test_error_inside_a_referenced_file_names_that_file(tmp_path):
    scale = {
        "schema_version": 1,
        "kind": "scale",
        "id": "s",
        "version": "1",
        "title": "S",
        "source": {"file": "x", "section": "y"},
        "levels": [{"name": "laag"}, {"naam": "hoog"}],
    }
    (tmp_path / "schaal.yaml").write_text(yaml.safe_dump(scale), encoding="utf-8")
    doc = copy.deepcopy(MINIMAL)
    doc["scale"] = {"ref": "schaal.yaml"}
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    assert str(exc.value).startswith(f"{tmp_path / 'schaal.yaml'}: levels[1].naam: unknown key 'naam'")


def test_ref_to_a_missing_file_or_wrong_kind(tmp_path):
    doc = copy.deepcopy(MINIMAL)
    doc["scale"] = {"ref": "nergens.yaml"}
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"fw\.yaml: scale\.ref: refers to 'nergens\.yaml'"):
        load_framework(path)
    doc["scale"] = {"ref": "builtin:beslisregels.yaml"}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"beslisregels\.yaml: kind: expected a file of kind 'scale', got 'rules'"):
        load_framework(path)


@pytest.mark.parametrize(
    "fixture, where, what",
    [
        ("malformed-schema-too-new.yaml", "schema_version", "schema_version 7, newer than"),
        ("malformed-indicator.yaml", "outcomes[1].dimensions[0].indicators[3]", "expected a text, got 4"),
    ],
)
def test_malformed_fixture_files(fixture, where, what):
    path = FIXTURES / fixture
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    assert str(exc.value).startswith(f"{path}: {where}: ")
    assert what in str(exc.value)


# =========================================================================== hostile and careless files
# Each ends in a FrameworkError naming the file (the CLI's exit 2), never another exception,
# and no message shows the content of a file that is not a framework file.
SECRET = "GEHEIM Jansen 0612345678"


def _write(path: Path, doc_or_text) -> Path:
    text = doc_or_text if isinstance(doc_or_text, str) else yaml.safe_dump(doc_or_text, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(path) -> str:
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    return str(exc.value)


def _with(**parts) -> dict:
    doc = copy.deepcopy(MINIMAL)
    doc.update(parts)
    return doc


@pytest.mark.parametrize(
    "value, shown",
    [('"2.1"', "'2.1' (str)"), ("2.1", "2.1 (float)"), ("1.0", "1.0 (float)"), ("'1'", "'1' (str)"),
     ("yes", "True (a yes/no value)"), ("0", "0 (int)"), ("[1]", "a list")],
)
def test_schema_version_that_is_no_whole_number_says_which_versions_are_read(tmp_path, value, shown):
    text = yaml.safe_dump(MINIMAL, sort_keys=False).replace("schema_version: 1\n", f"schema_version: {value}\n", 1)
    path = _write(tmp_path / "versie.yaml", text)
    message = _refusal(path)
    assert message.startswith(f"{path}: schema_version: expected a whole number of at least 1, got {shown}."), message
    assert "This version of calibrate reads schema_version 1" in message
    assert "Write 'schema_version: 1'" in message and "pip install -U calibrate" in message


@pytest.mark.parametrize("version", [2, 99, 10**20])
def test_newer_schema_version_names_the_versions_read_and_the_way_out(tmp_path, version):
    path = _write(tmp_path / "nieuw.yaml", _with(schema_version=version, nieuw_deel={"x": 1}))
    message = _refusal(path)
    assert message.startswith(f"{path}: schema_version: this file uses schema_version {version}, newer than this version")
    assert "(schema_version 1)" in message and "Upgrade calibrate (pip install -U calibrate)" in message


def test_missing_schema_version_in_a_referenced_file_names_that_file(tmp_path):
    _write(tmp_path / "schaal.yaml", "kind: scale\nlevels: [{name: a}, {name: b}]\n")
    path = _write(tmp_path / "fw.yaml", _with(scale={"ref": "schaal.yaml"}))
    message = _refusal(path)
    assert message.startswith(f"{tmp_path / 'schaal.yaml'}: missing key 'schema_version'. This version of calibrate reads")


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deep_nesting_is_refused_with_the_depth_limit(tmp_path, depth):
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + "note: " + "[" * depth + "]" * depth + "\n"
    path = _write(tmp_path / "diep.yaml", text)
    message = _refusal(path)
    assert re.match(rf"{re.escape(str(path))}: line \d+, column \d+: refused: nested more than 32 levels deep\.", message)
    assert "check the brackets and the indentation" in message


def test_deep_block_nesting_is_refused_too(tmp_path):
    text = "schema_version: 1\n" + "".join(f"{'  ' * i}a{i}:\n" for i in range(40)) + "  " * 40 + "x\n"
    assert "refused: nested more than 32 levels deep" in _refusal(_write(tmp_path / "diep.yaml", text))


_HEADER = yaml.safe_dump({k: MINIMAL[k] for k in ("schema_version", "kind", "id", "version", "title", "source")}, sort_keys=False)


def _laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level repeats the one below ``width`` times (9**9 values)."""
    lines = ["schema_version: 1", "kind: framework", "id: lol", "version: '1'", "title: t", "source: {file: a, section: b}",
             "lol0: &a0 [lol]"]
    lines += [f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines + [f"outcomes: *a{levels}"]) + "\n"


def _peak_bytes(fn) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_billion_laughs_is_refused_before_it_expands(tmp_path):
    path = _write(tmp_path / "lol.yaml", _laughs())
    peak = _peak_bytes(lambda: _refusal(path))
    message = _refusal(path)
    assert re.match(rf"{re.escape(str(path))}: line \d+, column \d+: refused: more than 200,000 values once its YAML aliases", message)
    assert peak < 20e6  # bounded memory, not the gigabytes the expansion would take (timings: benchmarks/frameworks.py)


def test_many_aliases_of_a_large_outcome_are_refused(tmp_path):
    # a valid outcome of ~2,000 values, repeated by 99 aliases: under the alias limit, over the values limit
    dims = [{"id": f"d{i}", "name": "D", "indicators": [f"Je doet {j}." for j in range(45)]} for i in range(40)]
    outcome = yaml.safe_dump({"id": "o", "name": "O", "description": "d", "assessment": "formatief", "dimensions": dims})
    text = _HEADER + "outcomes:\n- &o\n" + "".join(f"  {line}\n" for line in outcome.splitlines()) + "- *o\n" * 99
    assert "refused: more than 200,000 values once its YAML aliases are expanded" in _refusal(_write(tmp_path / "veel.yaml", text))


def test_more_than_100_aliases_are_refused(tmp_path):
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + "x: &k kort\nnotes: [" + ", ".join(["*k"] * 101) + "]\n"
    assert "refused: more than 100 YAML aliases (*name)." in _refusal(_write(tmp_path / "alias.yaml", text))


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + "lus: &lus [a, *lus]\n"
    assert "refused: a YAML alias inside its own anchor" in _refusal(_write(tmp_path / "lus.yaml", text))


def test_a_few_aliases_are_fine(tmp_path):
    text = yaml.safe_dump(MINIMAL, sort_keys=False).replace(
        "source:\n  file: x.pdf\n  section: '1'\n", "source: &bron\n  file: x.pdf\n  section: '1'\n", 1
    )
    text = text.replace("    source:\n      file: x.pdf\n      section: '1'\n", "    source: *bron\n")
    assert text.count("*bron") == 2
    assert load_framework(_write(tmp_path / "alias.yaml", text)).rules["go"].source == SeedSource("x.pdf", "1")


def test_a_file_over_1_mb_is_refused_before_it_is_parsed(tmp_path):
    # the shape of the file that took 53 s and 1.4 GB before: 1.6 MB of aliases of one outcome
    outcome = "{id: o, name: O, description: d, assessment: formatief, dimensions: [{id: d, name: D, indicators: [a, b, c]}]}"
    text = _HEADER + f"outcomes:\n- &o {outcome}\n" + "- *o\n" * 330_000
    path = _write(tmp_path / "groot.yaml", text)
    assert path.stat().st_size > 1_600_000
    peak = _peak_bytes(lambda: _refusal(path))
    message = _refusal(path)
    assert message.startswith(f"{path}: larger than 1 MB, the most a framework file may have.")
    assert "split it with ref: parts" in message
    assert peak < 5e6  # read up to the limit, never parsed


@pytest.mark.parametrize(
    "ref",
    ["{outside}", "/etc/passwd", "../buiten.yaml", "delen/../../buiten.yaml", "geheim.txt", "geheim",
     "builtin:../../../../etc/passwd", "builtin:geheim.yaml", "C:\\Windows\\win.ini", "\\\\server\\share\\x.yaml"],
)
def test_ref_to_a_file_outside_the_framework_folder_is_refused_without_its_content(tmp_path, ref):
    folder = tmp_path / "kader"
    folder.mkdir()
    (tmp_path / "buiten.yaml").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "geheim.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "geheim").write_text(f"{SECRET}\n", encoding="utf-8")
    path = _write(folder / "fw.yaml", _with(scale={"ref": ref.format(outside=tmp_path / "buiten.yaml")}))
    message = _refusal(path)
    assert message.startswith(f"{path}: scale.ref: refers to "), message
    assert SECRET not in message and "Jansen" not in message
    assert "A ref names a scale file (kind: scale, ending in .yaml) in the folder of fw.yaml" in message
    assert "builtin:rubric-zes-niveaus.yaml" in message  # the way out: the built-in file of that kind


def test_ref_through_a_link_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "kader"
    folder.mkdir()
    (tmp_path / "buiten.yaml").write_text(f"{SECRET}\n", encoding="utf-8")
    try:
        (folder / "schaal.yaml").symlink_to(tmp_path / "buiten.yaml")
    except OSError:
        pytest.skip("symbolic links not available")
    message = _refusal(_write(folder / "fw.yaml", _with(scale={"ref": "schaal.yaml"})))
    assert "scale.ref: refers to 'schaal.yaml', a link that leads out of the framework's folder." in message
    assert SECRET not in message


def test_ref_into_a_subfolder_and_yml_suffix_load(tmp_path):
    (tmp_path / "delen").mkdir()
    scale = {"schema_version": 1, "kind": "scale", "id": "s", "version": "1", "title": "S",
             "source": {"file": "x", "section": "y"}, "levels": [{"name": "laag"}, {"name": "bekwaam"}],
             "thresholds": ["bekwaam"]}
    _write(tmp_path / "delen" / "schaal.yml", scale)
    fw = load_framework(_write(tmp_path / "fw.yaml", _with(scale={"ref": "delen/schaal.yml"})))
    assert fw.scale.thresholds == {"bekwaam": "2"} and fw.scale.id == "s"


def test_a_referenced_file_that_is_not_yaml_mapping_is_named_by_kind_not_content(tmp_path):
    (tmp_path / "schaal.yaml").write_text(f"{SECRET}\nnog een regel\n", encoding="utf-8")
    message = _refusal(_write(tmp_path / "fw.yaml", _with(scale={"ref": "schaal.yaml"})))
    assert message.startswith(f"{tmp_path / 'schaal.yaml'}: not a scale file: its top level is a text, not a mapping")
    assert SECRET not in message


def test_a_framework_path_that_is_not_yaml_or_holds_no_mapping_shows_no_content(tmp_path):
    message = _refusal("/etc/passwd")
    assert message.startswith("/etc/passwd: not a framework file: a framework file is YAML text ending in .yaml")
    assert "root" not in message
    for text, what in ((f"{SECRET}\n", "a text"), (f"- {SECRET}\n", "a list"), ("", "empty")):
        message = _refusal(_write(tmp_path / "tekst.yaml", text))
        assert message.startswith(f"{tmp_path / 'tekst.yaml'}: not a framework file: its top level is {what}"), message
        assert SECRET not in message


def test_folders_pipes_and_devices_are_refused_without_reading(tmp_path):
    (tmp_path / "map.yaml").mkdir()
    assert _refusal(tmp_path / "map.yaml").endswith("map.yaml: is a folder, not a framework file. Pass the path of a .yaml file.")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pijp.yaml")  # opening it would wait for a writer forever
        assert "pijp.yaml: is not a regular file." in _refusal(tmp_path / "pijp.yaml")


def test_encodings(tmp_path):
    text = yaml.safe_dump(MINIMAL, allow_unicode=True, sort_keys=False).replace("Mini", "Miniëm")
    (tmp_path / "utf16.yaml").write_text(text, encoding="utf-16")
    assert _refusal(tmp_path / "utf16.yaml").endswith("utf16.yaml: UTF-16 text. Save the file as UTF-8.")
    (tmp_path / "latin1.yaml").write_text(text, encoding="latin-1")
    assert re.search(r"latin1\.yaml: not UTF-8 text \(invalid .* at byte \d+\)\. Save the file as UTF-8\.", _refusal(tmp_path / "latin1.yaml"))
    (tmp_path / "bom.yaml").write_text(text, encoding="utf-8-sig")  # Windows editors write a BOM
    assert load_framework(tmp_path / "bom.yaml").title == "Miniëm"


def test_python_tags_are_not_executed(tmp_path):
    marker = tmp_path / "uitgevoerd"
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + f"x: !!python/object/apply:os.system ['touch {marker}']\n"
    message = _refusal(_write(tmp_path / "tag.yaml", text))
    assert "not valid YAML: could not determine a constructor for the tag" in message
    assert not marker.exists()


def test_unhashable_key_and_long_values_are_reported_briefly(tmp_path):
    text = yaml.safe_dump(MINIMAL, sort_keys=False) + "? [a, b]\n: c\n"
    assert "not valid YAML: found unhashable key." in _refusal(_write(tmp_path / "sleutel.yaml", text))
    long_key = "x" * 5_000
    message = _refusal(_write(tmp_path / "lang.yaml", _with(**{long_key: 1})))
    assert message.startswith(f"{tmp_path / 'lang.yaml'}: {'x' * 59}…: unknown key '{'x' * 59}…'.")
    assert len(message) < 400


def test_more_problems_are_counted_and_a_typo_is_named_before_the_missing_key(tmp_path):
    doc = copy.deepcopy(MINIMAL)
    dim = doc["outcomes"][0]["dimensions"][0]
    dim["naam"] = dim.pop("name")  # shows as 'name' missing and 'naam' unknown: the typo is named
    dim["indicators"][0] = 7
    message = _refusal(_write(tmp_path / "twee.yaml", doc))
    assert message.startswith(f"{tmp_path / 'twee.yaml'}: outcomes[0].dimensions[0].naam: unknown key 'naam'. Did you mean 'name'?")
    assert message.endswith("(2 more problems in this part.)")
    dim["name"] = dim.pop("naam")
    message = _refusal(_write(tmp_path / "twee.yaml", doc))
    assert message.startswith(f"{tmp_path / 'twee.yaml'}: outcomes[0].dimensions[0].indicators[0]: expected a text, got 7 (int).")
    assert "more problem" not in message


def test_rule_keys_follow_the_rule_kind(tmp_path):
    doc = copy.deepcopy(MINIMAL)
    doc["rules"]["rules"][0]["codes"] = ["a", "b"]  # a threshold rule takes no codes
    message = _refusal(_write(tmp_path / "regel.yaml", doc))
    assert message.startswith(f"{tmp_path / 'regel.yaml'}: rules.rules[0].codes: unknown key 'codes' (for a rule of kind threshold).")
    assert "at_least, require" in message
    doc["rules"]["rules"][0] = {**MINIMAL["rules"]["rules"][0], "kind": "drempel"}
    message = _refusal(_write(tmp_path / "regel.yaml", doc))
    assert message.startswith(f"{tmp_path / 'regel.yaml'}: rules.rules[0].kind: unknown kind 'drempel'. Allowed: count_bands, threshold.")


def test_the_bounded_loader_reads_the_data_files_as_pyyaml_does():
    from calibrate.frameworks.loader import _BoundedLoader

    for path in sorted(DATA_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=_BoundedLoader) == yaml.load(text, Loader=yaml.SafeLoader), path.name  # noqa: S506


@pytest.mark.parametrize("hostile", ["diep", "lol", "versie", "ref"])
def test_cli_refuses_a_hostile_framework_with_exit_2(tmp_path, capsys, hostile):
    from calibrate.cli import main

    texts = {
        "diep": yaml.safe_dump(MINIMAL) + "x: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "lol": _laughs(),
        "versie": yaml.safe_dump(MINIMAL, sort_keys=False).replace("schema_version: 1", "schema_version: '2.1'"),
        "ref": yaml.safe_dump(_with(scale={"ref": "/etc/passwd"})),
    }
    path = _write(tmp_path / f"{hostile}.yaml", texts[hostile])
    code = main(["session", "create", "K1", "--date", "2025-03-01", "--framework", str(path), "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"calibrate: error: {path}: ") and "Traceback" not in err and "root:" not in err


# --------------------------------------------------------------------------- random mutations
_WORDS = ["", " ", "x", "a", "Klassen Management", "begin", "groei", "voldaan", "niet voldaan", "bekwaam", "summatief",
          "formatief", "threshold", "count_bands", "all", "ref", "builtin:rubric-zes-niveaus.yaml", "../x.yaml", "*"]
_KEYS = ["id", "name", "ref", "override", "min", "max", "kind", "levels", "cells", "note", "indicators", "x"]
_LEAVES = (st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False, width=32)
           | st.sampled_from(_WORDS) | st.text(max_size=6) | st.dates())
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS) | st.integers(0, 3), inner, max_size=3),
    max_leaves=6,
)
_NOISE = ["", ":", "- ", "&a ", "*a", "\t", "{", "]", "'", '"', "!!set ", "? ", "<<: ", "\n  ", "#", "%YAML 1.1\n"]


def _paths(node, prefix=()):
    if prefix:
        yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


@pytest.fixture(scope="module")
def mutation_file(tmp_path_factory):
    return tmp_path_factory.mktemp("mutations") / "mutant.yaml"


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_mutations_give_a_framework_or_a_framework_error(mutation_file, data):
    """Whatever one changes in a valid file, loading ends in a Framework or a FrameworkError
    naming a file: never another exception (a traceback in the CLI)."""
    doc = copy.deepcopy(MINIMAL)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        paths = list(_paths(doc))
        *parents, last = data.draw(st.sampled_from(paths), label="where")
        node = doc
        for step in parents:
            node = node[step]
        how = data.draw(st.sampled_from(["delete", "replace", "add"]), label="how")
        if how == "delete":
            del node[last]
        elif how == "replace":
            node[last] = data.draw(_VALUES, label="value")
        elif isinstance(node, dict):
            node[data.draw(st.sampled_from(_KEYS), label="key")] = data.draw(_VALUES, label="value")
        else:
            node.append(data.draw(_VALUES, label="value"))
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    if data.draw(st.booleans(), label="garble the text"):
        at = data.draw(st.integers(0, len(text)), label="at")
        text = text[:at] + data.draw(st.sampled_from(_NOISE), label="noise") + text[at + data.draw(st.integers(0, 3)):]
    mutation_file.write_text(text, encoding="utf-8")
    try:
        fw = load_framework(mutation_file)
    except FrameworkError as exc:
        assert str(exc).startswith((str(mutation_file), str(DATA_DIR))), str(exc)
    else:
        assert isinstance(fw, Framework) and len(fw.items()) == len({i.id for i in fw.items()})
