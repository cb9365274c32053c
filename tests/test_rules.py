"""Tests of calibrate.rules: the seeds' decision rules at and around their boundaries."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest

from calibrate.errors import InputError
from calibrate.frameworks import load_framework
from calibrate.rules import RuleResult, apply_decision, evaluate_rule

FIXTURES = Path(__file__).parent / "fixtures" / "frameworks"


@pytest.fixture(scope="module")
def fw():
    return load_framework("han-wpl2-2025")


def verdicts(n_voldaan: int, n_niet: int) -> dict[str, str]:
    values = {f"LER {i}": "voldaan" for i in range(n_voldaan)}
    values.update({f"LER {n_voldaan + i}": "niet voldaan" for i in range(n_niet)})
    return values


def colours(groen: int, geel: int, rood: int) -> dict[str, str]:
    seq = ["groen"] * groen + ["geel"] * geel + ["rood"] * rood
    return {f"item {i + 1}": c for i, c in enumerate(seq)}


def levels(*codes: str) -> dict[str, str]:
    return {f"leeropbrengst {i + 1}": c for i, c in enumerate(codes)}


# =========================================================================== assessmentles
# Seed 000, "Indien een go": "Je mag maximaal één LER als niet voldaan scoren, die je dan
# alsnog in je portfolio en CGI moet aantonen." -> 0 or 1 niet voldaan: go; 2 or more: no go.
@pytest.mark.parametrize(
    "n_voldaan, n_niet, expected",
    [(5, 0, "go"), (4, 1, "go"), (3, 2, "no go"), (0, 5, "no go"), (0, 1, "go"), (1, 2, "no go")],
)
def test_assessmentles_go_boundaries(fw, n_voldaan, n_niet, expected):
    result = evaluate_rule(fw.rules["assessmentles_go"], verdicts(n_voldaan, n_niet))
    assert isinstance(result, RuleResult)
    assert result.value == expected
    assert result.counts == {"niet voldaan": n_niet, "voldaan": n_voldaan}
    assert result.rule_id == "assessmentles_go"
    assert expected in result.reason


# =========================================================================== high-stake
# Seed 002, "High-stake": "Twee beoordelaars bepalen of alle leeropbrengsten minimaal het
# niveau bekwaam hebben behaald. Elke leeropbrengst moet behaald zijn: er is geen
# compensatie." bekwaam = "4" on the default scale.
@pytest.mark.parametrize(
    "codes, expected",
    [
        (("4", "4", "4", "4"), "voldaan"),  # exactly bekwaam everywhere
        (("6", "6", "6", "3"), "niet voldaan"),  # no compensation: one below is enough to fail
        (("5", "4", "6"), "voldaan"),
        (("1",), "niet voldaan"),
        (("4",), "voldaan"),
    ],
)
def test_high_stake_no_compensation(fw, codes, expected):
    result = evaluate_rule(fw.rules["high_stake"], levels(*codes), scale=fw.scale)
    assert result.value == expected
    assert sum(result.counts.values()) == len(codes)
    assert list(result.counts) == ["1", "2", "3", "4", "5", "6"]


def test_high_stake_reason_names_the_failing_item(fw):
    result = evaluate_rule(fw.rules["high_stake"], levels("6", "3", "5"), scale=fw.scale)
    assert "leeropbrengst 2" in result.reason and "leeropbrengst 1" not in result.reason


# Seed 002, "Vroegtijdig starten met de high-stake": "Voorwaarde: meer dan de helft van de
# leeropbrengsten moet minimaal het niveau vakkundig hebben behaald." Strictly more than
# half; vakkundig = "5"; bekwaam ("4") does not count.
@pytest.mark.parametrize(
    "codes, expected",
    [
        (("5", "5", "4", "4"), "niet toegestaan"),  # exactly half is not more than half
        (("5", "5", "6", "1"), "toegestaan"),  # 3 of 4
        (("5", "6", "5", "4", "4"), "toegestaan"),  # 3 of 5
        (("5", "6", "4", "4", "4"), "niet toegestaan"),  # 2 of 5
        (("4", "4", "4"), "niet toegestaan"),  # all bekwaam, none vakkundig
        (("5",), "toegestaan"),
    ],
)
def test_high_stake_vroeg_more_than_half(fw, codes, expected):
    assert evaluate_rule(fw.rules["high_stake_vroeg"], levels(*codes), scale=fw.scale).value == expected


def test_threshold_follows_a_reordered_scale(fw):
    # The institute of the override fixture reads vakkundig (4) below bekwaam (5).
    other = load_framework(FIXTURES / "voorbeeld-schaal-override.yaml")
    values = levels("4", "4", "1")
    assert evaluate_rule(other.rules["high_stake_vroeg"], values, scale=other.scale).value == "toegestaan"
    assert evaluate_rule(fw.rules["high_stake_vroeg"], values, scale=fw.scale).value == "niet toegestaan"
    assert evaluate_rule(other.rules["high_stake"], levels("4", "5"), scale=other.scale).value == "niet voldaan"


def test_threshold_rule_needs_the_scale(fw):
    with pytest.raises(InputError, match="scale=framework.scale"):
        evaluate_rule(fw.rules["high_stake"], levels("4"))


def test_level_names_are_not_codes(fw):
    with pytest.raises(InputError, match=r"'leeropbrengst 1' has value 'bekwaam'.*level codes"):
        evaluate_rule(fw.rules["high_stake"], levels("bekwaam"), scale=fw.scale)


# =========================================================================== OSR voortgang
# Seed 003, bijlage 2, "Waardering voortgang":
#   "Groen: minimaal 10 keer groen, maximaal 4 keer geel
#    Geel: minder dan 10 keer groen, maximaal 4 keer geel, nul keer rood.
#    Rood: al het overige"
# Read to the letter: groen says nothing about rood; "minder dan 10" is at most 9.
@pytest.mark.parametrize(
    "groen, geel, rood, expected",
    [
        (14, 0, 0, "groen"),
        (10, 4, 0, "groen"),  # the boundary of groen
        (10, 3, 1, "groen"),  # letter of the rule: rood is not mentioned under groen
        (10, 0, 4, "groen"),  # same reading, four rood
        (9, 5, 0, "rood"),  # too few groen for groen, too many geel for geel
        (9, 4, 1, "rood"),  # geel needs nul keer rood
        (0, 0, 14, "rood"),
        # fewer than 14 values: items left uncoloured (the form: "vakje aankruisen wat van
        # toepassing is"); only then can geel occur
        (9, 4, 0, "geel"),
        (5, 4, 0, "geel"),
        (0, 4, 0, "geel"),
        (0, 5, 0, "rood"),
        (10, 0, 0, "groen"),
    ],
)
def test_osr_voortgang(fw, groen, geel, rood, expected):
    result = evaluate_rule(fw.rules["osr_voortgang"], colours(groen, geel, rood))
    assert result.value == expected
    assert result.counts == {"rood": rood, "geel": geel, "groen": groen}


def test_osr_geel_is_unreachable_with_all_14_items_coloured(fw):
    """With 14 coloured items, geel would need <= 9 groen + <= 4 geel + 0 rood = <= 13 items.

    So, to the letter, a fully coloured form is groen (>= 10 groen) or rood. Documented in
    the rule's note; checked here over every split of 14.
    """
    rule = fw.rules["osr_voortgang"]
    for groen, geel in product(range(15), repeat=2):
        rood = 14 - groen - geel
        if rood < 0:
            continue
        value = evaluate_rule(rule, colours(groen, geel, rood)).value
        assert value == ("groen" if groen >= 10 else "rood"), (groen, geel, rood)


def test_osr_takes_at_most_14_items(fw):
    with pytest.raises(InputError, match="at most 14 values, got 15"):
        evaluate_rule(fw.rules["osr_voortgang"], colours(15, 0, 0))


# =========================================================================== bad values
@pytest.mark.parametrize("bad", [None, "", "n.v.t.", float("nan")])
def test_missing_values_name_the_item(fw, bad):
    values = verdicts(2, 0)
    values["LER 7"] = bad
    with pytest.raises(InputError, match=r"Item 'LER 7' has no value"):
        evaluate_rule(fw.rules["assessmentles_go"], values)


def test_unknown_value_names_item_and_allowed_codes(fw):
    with pytest.raises(InputError) as exc:
        evaluate_rule(fw.rules["osr_voortgang"], {"item 3": "oranje"})
    message = str(exc.value)
    assert "'item 3'" in message and "'oranje'" in message and "'groen'" in message


def test_values_must_be_a_nonempty_mapping(fw):
    with pytest.raises(InputError, match="mapping"):
        evaluate_rule(fw.rules["assessmentles_go"], ["voldaan"])
    with pytest.raises(InputError, match="no values"):
        evaluate_rule(fw.rules["assessmentles_go"], {})
    with pytest.raises(InputError, match="DecisionRule"):
        evaluate_rule("assessmentles_go", verdicts(1, 0))


# =========================================================================== apply_decision
def test_apply_decision_gives_the_besluit(fw):
    result = apply_decision(fw, {"leerklimaat": "voldaan", "afstemmen": "niet voldaan", "leerstof": "voldaan"})
    assert result.value == "go" and result.value in fw.item("besluit").codes
    result = apply_decision(
        fw, {"leerklimaat.oordeel": "niet voldaan", "afstemmen": "niet voldaan", "leerstof": "voldaan"}
    )
    assert result.value == "no go"
    assert result.counts == {"niet voldaan": 2, "voldaan": 1}


def test_apply_decision_ignores_outcomes_outside_the_decision(fw):
    values = {"leerklimaat": "voldaan", "afstemmen": "voldaan", "leerstof": "voldaan", "ict": "niet voldaan"}
    assert apply_decision(fw, values).value == "go"


def test_apply_decision_names_the_missing_verdict(fw):
    with pytest.raises(InputError, match=r"needs a verdict for 'leerstof\.oordeel'"):
        apply_decision(fw, {"leerklimaat": "voldaan", "afstemmen": "voldaan"})


def test_apply_decision_refuses_unknown_outcomes(fw):
    with pytest.raises(InputError, match=r"Unknown outcome 'klimaat'"):
        apply_decision(fw, {"klimaat": "voldaan", "afstemmen": "voldaan", "leerstof": "voldaan"})


def test_apply_decision_names_a_bad_verdict(fw):
    with pytest.raises(InputError, match=r"'afstemmen\.oordeel' has value 'goed'"):
        apply_decision(fw, {"leerklimaat": "voldaan", "afstemmen": "goed", "leerstof": "voldaan"})


def test_apply_decision_without_a_decision():
    other = load_framework(FIXTURES / "voorbeeld-schaal-override.yaml")
    with pytest.raises(InputError, match="declares no decision"):
        apply_decision(other, {"lesgeven": "voldaan"})


def test_other_institute_rules(fw):
    other = load_framework(FIXTURES / "hogeschool-voorbeeld.yaml")
    assert apply_decision(other, {"lesgeven": "voldaan", "samenwerken": "voldaan"}).value == "voldaan"
    assert apply_decision(other, {"lesgeven": "voldaan", "samenwerken": "niet voldaan"}).value == "niet voldaan"
    # its own 4-level scale: bekwaam is "3"
    rule = other.rules["eindniveau"]
    assert evaluate_rule(rule, levels("3", "4"), scale=other.scale).value == "behaald"
    assert evaluate_rule(rule, levels("2", "4"), scale=other.scale).value == "niet behaald"
    with pytest.raises(InputError, match="'5'"):
        evaluate_rule(rule, levels("5"), scale=other.scale)
