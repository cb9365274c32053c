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

from calibrate.errors import FrameworkError, InputError
from calibrate.frameworks import (
    INDICATOR_CODES,
    NOT_APPLICABLE,
    VERDICT_CODES,
    Framework,
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
