"""calibrate.phases: verdicts against the complex-skills phases and the seeds' decision rules.

Hand-built cases, one per classification and per rule, each citing the seed passage it
rests on; then the cut-off statistics; then recovery of a lenient assessor planted by the
simulator.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from calibrate import phases as P
from calibrate.errors import InputError
from calibrate.frameworks import load_framework
from calibrate.devtools.simulate import SimulationConfig, simulate


@pytest.fixture(scope="module")
def fw():
    return load_framework("han-wpl2-2025")


# Seed 001, §5.1 "Afstemmen en creëren 1" matched against bijlage 1 (tabel complexe
# beroepsvaardigheden): the tussenniveau profile, "at least this phase".
TUSSENNIVEAU = {
    "zelfstandigheid": "begin",  # "Onder begeleiding" — "Handelt onder begeleiding of na instructie"
    "opbouw_van_routines": "groei",  # "Routinematig, in herkenbare situaties"
    "voorspelbaarheid_van_context": "begin",  # idem, inferred: standaard- of oefensituaties
    "onderliggende_kennisbasis": "groei",  # "Handelingen kan verantwoorden met ... theorie en modellen"
    "verantwoordelijkheid_tonen_en_ervaren": "groei",  # "Verantwoordelijkheid neemt binnen afgesproken kaders"
    "analytisch_vermogen": "groei",  # "Oorzaken en gevolgen analyseert van diens handelen"
    "metacognitie": "groei",  # idem
    "evaluatief_vermogen": "groei",  # "Opties afweegt op basis van ervaring en kennis"
}
SUMMATIVE = ("leerklimaat", "afstemmen", "leerstof")


def judgement(case="C1", rater="R1", *, phases=None, verdicts=None, levels=None, decision=None, session="S1",
              extra=None):
    """Score-table rows of one assessor on one case."""
    rows = []

    def add(item, kind, value):
        rows.append({"session": session, "session_date": "2026-01-19", "case": case, "rater": rater,
                     "item": item, "kind": kind, "value": value, "note": pd.NA, "scored_at": pd.NA})

    for dim, phase in (phases or {}).items():
        add(f"fase.{dim}", "phase", phase)
    for outcome, verdict in (verdicts or {}).items():
        add(f"{outcome}.oordeel", "verdict", verdict)
    for outcome, level in (levels or {}).items():
        add(f"{outcome}.niveau", "level", level)
    if decision is not None:
        add("besluit", "decision", decision)
    for item, value in (extra or {}).items():
        add(item, "decision", value)
    return rows


def table(*groups):
    return pd.DataFrame([row for group in groups for row in group])


def phases_with(**changes):
    out = dict(TUSSENNIVEAU)
    out.update(changes)
    return out


def one(cl, outcome="leerklimaat", rater="R1"):
    return cl[(cl["outcome"] == outcome) & (cl["rater"] == rater)].iloc[0]


# =========================================================================== the profile
def test_profile_is_the_tussenniveau_of_001_5_1(fw):
    t = P.expected_phases(fw).set_index("dimension")
    assert {d: t.at[d, "expected"] for d in TUSSENNIVEAU} == TUSSENNIVEAU
    # "Onder begeleiding" (001, §5.1) — Zelfstandigheid / Beginfase in bijlage 1
    assert t.at["zelfstandigheid", "quote"] == "Onder begeleiding"
    assert t.at["zelfstandigheid", "descriptor"] == "Handelt onder begeleiding of na instructie"
    assert t.at["voorspelbaarheid_van_context", "inferred"] is True
    # dimensions §5.1 says nothing about carry no expectation, with the reason
    assert pd.isna(t.at["samenwerking_en_communicatie", "expected"])
    assert "samenwerking" in t.at["samenwerking_en_communicatie", "reason"]
    assert len(t) == 14


# =========================================================================== classifications
def test_consistent_voldaan_at_exactly_the_profile(fw):
    # 001 §5.1: "onder begeleiding; routinematig, in herkenbare situaties" — a student
    # whose phases are exactly the tussenniveau cells meets it, so voldaan is consistent.
    df = table(judgement(phases=TUSSENNIVEAU, verdicts={"leerklimaat": "voldaan"}))
    row = one(P.classify_verdicts(df, fw))
    assert row["classification"] == "consistent"
    assert bool(row["meets_profile"]) is True
    assert row["falls_short"] == () and row["exceeds"] == () and row["missing"] == ()


def test_consistent_niet_voldaan_when_phases_fall_short(fw):
    # Opbouw van routines in the Beginfase ("Ontwikkelt incidentele routines met hulp van
    # externe sturing") is below "Werkt routinematig in herkenbare situaties" (Groei-fase).
    df = table(judgement(phases=phases_with(opbouw_van_routines="begin"), verdicts={"afstemmen": "niet voldaan"}))
    row = one(P.classify_verdicts(df, fw), "afstemmen")
    assert row["classification"] == "consistent"
    assert row["falls_short"] == ("opbouw_van_routines",)


def test_lenient_voldaan_although_a_dimension_falls_short(fw):
    # 001 §5.1 asks that the student "Oorzaken en gevolgen analyseert van diens handelen"
    # (Analytisch vermogen / Groei-fase: "Analyseert samenhang en oorzaken"); rated Beginfase
    # ("Herkent fouten of verschillen in de uitvoering") the verdict voldaan is lenient.
    df = table(judgement(
        phases=phases_with(analytisch_vermogen="begin", metacognitie="begin", zelfstandigheid="groei"),
        verdicts={"leerklimaat": "voldaan"},
    ))
    row = one(P.classify_verdicts(df, fw))
    assert row["classification"] == "lenient"
    assert row["falls_short"] == ("metacognitie", "analytisch_vermogen")  # phase-table order
    assert row["exceeds"] == ("zelfstandigheid",)
    assert bool(row["meets_profile"]) is False
    assert (row["n_short"], row["n_exceeds"]) == (2, 1)


def test_severe_niet_voldaan_although_the_profile_is_met(fw):
    # Every tussenniveau cell met, several exceeded (Zelfstandigheid Groei-fase: "Werkt
    # zelfstandig en stemt af wanneer nodig", which §5.1 expects only "op termijn"), yet
    # niet voldaan: severe.
    df = table(judgement(
        phases=phases_with(zelfstandigheid="groei", evaluatief_vermogen="vergevorderd"),
        verdicts={"leerstof": "niet voldaan"},
    ))
    row = one(P.classify_verdicts(df, fw), "leerstof")
    assert row["classification"] == "severe"
    assert row["falls_short"] == ()
    assert row["exceeds"] == ("zelfstandigheid", "evaluatief_vermogen")


def test_dimensions_outside_the_profile_do_not_count(fw):
    # §5.1 says nothing about Samenwerking en communicatie: Beginfase there is no shortfall.
    ph = phases_with(samenwerking_en_communicatie="begin", overzien_van_taken="begin")
    df = table(judgement(phases=ph, verdicts={"leerklimaat": "voldaan"}))
    assert one(P.classify_verdicts(df, fw))["classification"] == "consistent"


def test_missing_phase_gives_onvoldoende_gegevens_not_a_guess(fw):
    ph = dict(TUSSENNIVEAU)
    del ph["metacognitie"]
    ph_nvt = phases_with(analytisch_vermogen="n.v.t.")
    df = table(
        judgement(rater="R1", phases=ph, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R2", phases=ph_nvt, verdicts={"leerklimaat": "niet voldaan"}),
    )
    cl = P.classify_verdicts(df, fw)
    r1, r2 = one(cl, rater="R1"), one(cl, rater="R2")
    assert r1["classification"] == "insufficient" and r1["missing"] == ("metacognitie",)
    assert pd.isna(r1["meets_profile"])
    assert r2["classification"] == "insufficient" and r2["missing"] == ("analytisch_vermogen",)
    assert P.DISPLAY_LABELS["insufficient"] == "onvoldoende gegevens"


def test_a_known_shortfall_decides_even_with_missing_phases(fw):
    ph = phases_with(opbouw_van_routines="begin")
    del ph["metacognitie"]
    df = table(judgement(phases=ph, verdicts={"leerklimaat": "voldaan"}))
    row = one(P.classify_verdicts(df, fw))
    assert row["classification"] == "lenient"
    assert row["missing"] == ("metacognitie",)


def test_every_summative_outcome_is_classified_formative_ones_are_not(fw):
    df = table(judgement(phases=TUSSENNIVEAU, verdicts=dict.fromkeys(SUMMATIVE, "voldaan")))
    cl = P.classify_verdicts(df, fw)
    assert sorted(cl["outcome"]) == sorted(SUMMATIVE)
    assert set(cl["profile"]) == {"tussenniveau"}
    assert list(cl.columns) == [
        "session", "case", "rater", "outcome", "verdict", "profile", "reference", "meets_profile",
        "classification", "falls_short", "exceeds", "missing", "n_short", "n_exceeds", "n_missing",
    ]


def test_other_levels_are_configurable(fw):
    # A stricter profile (e.g. an eindniveau where zelfstandig handelen is expected)
    df = table(judgement(phases=TUSSENNIVEAU, verdicts={"leerklimaat": "voldaan"}))
    strict = {"zelfstandigheid": "groei", "opbouw_van_routines": "groei"}
    row = one(P.classify_verdicts(df, fw, profiles={"tussenniveau": strict}))
    assert row["classification"] == "lenient" and row["falls_short"] == ("zelfstandigheid",)
    # keyed by outcome id, only that outcome changes
    df2 = table(judgement(phases=TUSSENNIVEAU, verdicts=dict.fromkeys(SUMMATIVE, "voldaan")))
    cl = P.classify_verdicts(df2, fw, profiles={"leerstof": strict})
    assert dict(zip(cl["outcome"], cl["classification"])) == {
        "afstemmen": "consistent", "leerklimaat": "consistent", "leerstof": "lenient"}


# --------------------------------------------------------------------------- the panel
def test_panel_phase_is_the_lower_median(fw):
    df = table(
        judgement(rater="R1", phases={"metacognitie": "begin"}),
        judgement(rater="R2", phases={"metacognitie": "groei"}),
        judgement(rater="R3", phases={"metacognitie": "begin"}),
        judgement(rater="R4", phases={"metacognitie": "groei"}),
        judgement(case="C2", rater="R1", phases={"metacognitie": "begin"}),
        judgement(case="C2", rater="R2", phases={"metacognitie": "groei"}),
        judgement(case="C2", rater="R3", phases={"metacognitie": "vergevorderd"}),
    )
    panel = P.panel_phases(df, fw).set_index("case")
    # a 2-2 tie is not a majority for groei: the panel says begin
    assert panel.at["C1", "phase"] == "begin" and panel.at["C1", "n_at_or_above"] == 4
    assert panel.at["C2", "phase"] == "groei" and panel.at["C2", "spread"] == 2


def test_against_the_panel_not_only_the_own_phases(fw):
    # R1 rates their own phases at the profile and says voldaan (consistent with themself);
    # the two others place Opbouw van routines in the Beginfase: against the panel R1 is lenient.
    low = phases_with(opbouw_van_routines="begin")
    df = table(
        judgement(rater="R1", phases=TUSSENNIVEAU, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R2", phases=low, verdicts={"leerklimaat": "niet voldaan"}),
        judgement(rater="R3", phases=low, verdicts={"leerklimaat": "niet voldaan"}),
    )
    own = P.classify_verdicts(df, fw, reference="own")
    panel = P.classify_verdicts(df, fw, reference="panel")
    assert one(own)["classification"] == "consistent"
    assert one(panel)["classification"] == "lenient"
    assert one(panel)["falls_short"] == ("opbouw_van_routines",)
    assert set(panel["reference"]) == {"panel"}


def test_against_the_consensus(fw):
    df = table(judgement(phases=TUSSENNIVEAU, verdicts={"leerklimaat": "niet voldaan"}))
    cons = pd.DataFrame(judgement(phases=phases_with(metacognitie="begin"))).drop(columns=["rater", "note"])
    row = one(P.classify_verdicts(df, fw, reference="consensus", consensus=cons))
    assert row["classification"] == "consistent"
    assert one(P.classify_verdicts(df, fw))["classification"] == "severe"
    with pytest.raises(InputError, match="consensus"):
        P.classify_verdicts(df, fw, reference="consensus")


def test_bad_input_says_what_and_where(fw):
    df = table(judgement(phases={"metacognitie": "gevorderd"}, verdicts={"leerklimaat": "voldaan"}))
    with pytest.raises(InputError, match=r"'gevorderd'.*case C1.*Allowed: 'begin', 'groei', 'vergevorderd'"):
        P.classify_verdicts(df, fw)
    with pytest.raises(InputError, match="'reference' parameter of classify_verdicts"):
        P.classify_verdicts(table(judgement()), fw, reference="team")
    with pytest.raises(InputError, match="lacks the column"):
        P.classify_verdicts(pd.DataFrame({"case": ["C1"]}), fw)


# =========================================================================== decision rules
def test_assessmentles_go_at_most_one_ler_niet_voldaan(fw):
    # 000, "Indien een go": "Je mag maximaal één LER als niet voldaan scoren".
    v1 = {"leerklimaat": "voldaan", "afstemmen": "niet voldaan", "leerstof": "voldaan"}
    v2 = {"leerklimaat": "voldaan", "afstemmen": "niet voldaan", "leerstof": "niet voldaan"}
    v0 = dict.fromkeys(SUMMATIVE, "voldaan")
    df = table(
        judgement(rater="R1", verdicts=v1, decision="go"),  # 1× niet voldaan → go: consistent
        judgement(rater="R2", verdicts=v2, decision="go"),  # 2× niet voldaan → no go: lenient
        judgement(rater="R3", verdicts=v0, decision="no go"),  # 0× niet voldaan → go: severe
        judgement(rater="R4", verdicts=v2, decision="no go"),  # consistent
        judgement(rater="R5", verdicts={"leerklimaat": "voldaan", "afstemmen": "voldaan"}, decision="go"),
    )
    d = P.decision_consistency(df, fw).set_index("rater")
    assert d["classification"].to_dict() == {
        "R1": "consistent", "R2": "lenient", "R3": "severe", "R4": "consistent", "R5": "insufficient"}
    assert d.at["R2", "expected"] == "no go" and d.at["R2", "rule"] == "assessmentles_go"
    assert "2× niet voldaan" in d.at["R2", "reason"]
    assert d.at["R5", "missing"] == ("leerstof.oordeel",)


def test_high_stake_no_compensation(fw):
    # 002, High-stake: "alle leeropbrengsten minimaal het niveau bekwaam ... er is geen
    # compensatie". Levels 6, 6, 3: one below bekwaam (4) → niet voldaan, whatever the others.
    levels = {"leerklimaat": "6", "afstemmen": "6", "leerstof": "3"}
    inputs = [f"{o}.niveau" for o in SUMMATIVE]
    df = table(
        judgement(rater="R1", levels=levels, extra={"high_stake": "voldaan"}),
        judgement(rater="R2", levels=levels, extra={"high_stake": "niet voldaan"}),
        judgement(rater="R3", levels=dict.fromkeys(SUMMATIVE, "4"), extra={"high_stake": "niet voldaan"}),
    )
    d = P.decision_consistency(df, fw, rule="high_stake", decision_item="high_stake", inputs=inputs).set_index("rater")
    assert d["classification"].to_dict() == {"R1": "lenient", "R2": "consistent", "R3": "severe"}
    assert "below: leerstof.niveau" in d.at["R1", "reason"]


def test_a_decision_coded_go_no_go_is_matched_by_position(fw):
    # the besluit item's codes (no go < go) against the high-stake rule's words
    df = table(judgement(levels={"leerklimaat": "3"}, decision="go"))
    d = P.decision_consistency(df, fw, rule="high_stake", inputs=["leerklimaat.niveau"])
    assert d.iloc[0]["classification"] == "lenient" and d.iloc[0]["expected"] == "niet voldaan"


def test_osr_colour_rule(fw):
    # 003, bijlage 2: "Groen: minimaal 10 keer groen, maximaal 4 keer geel / Geel: minder dan
    # 10 keer groen, maximaal 4 keer geel, nul keer rood. / Rood: al het overige".
    items = [f"osr.{k}" for k in range(1, 15)]

    def colours(groen, geel, rood):
        vals = ["groen"] * groen + ["geel"] * geel + ["rood"] * rood
        return dict(zip(items, vals))  # the rest stays uncoloured

    df = table(
        judgement(rater="R1", extra={**colours(10, 4, 0), "osr": "groen"}),  # groen: consistent
        judgement(rater="R2", extra={**colours(9, 4, 0), "osr": "groen"}),  # geel (13 coloured): lenient
        judgement(rater="R3", extra={**colours(10, 3, 1), "osr": "rood"}),  # groen by the letter: severe
        judgement(rater="R4", extra={**colours(8, 4, 2), "osr": "rood"}),  # rood: consistent
    )
    d = P.decision_consistency(df, fw, rule="osr_voortgang", decision_item="osr", inputs=items).set_index("rater")
    assert d["expected"].to_dict() == {"R1": "groen", "R2": "geel", "R3": "groen", "R4": "rood"}
    assert d["classification"].to_dict() == {"R1": "consistent", "R2": "lenient", "R3": "severe", "R4": "consistent"}


def test_verdict_against_level_niveau_4(fw):
    # 000: "In de assessmentles toon je de bijbehorende LERs op niveau 4 aan"; 002: at least
    # bekwaam (4). Voldaan at level 3 is lenient, niet voldaan at 5 severe.
    df = table(
        judgement(rater="R1", levels={"leerklimaat": "3"}, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R2", levels={"leerklimaat": "5"}, verdicts={"leerklimaat": "niet voldaan"}),
        judgement(rater="R3", levels={"leerklimaat": "4"}, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R4", verdicts={"leerklimaat": "voldaan"}),
    )
    d = P.level_verdict_consistency(df, fw).set_index("rater")
    assert d["classification"].to_dict() == {"R1": "lenient", "R2": "severe", "R3": "consistent", "R4": "insufficient"}


# =========================================================================== cut-off
def _classified(rater, classes, cases):
    return pd.DataFrame({"session": "S1", "case": cases, "rater": rater, "classification": classes})


def test_rater_rates_wilson_without_clustering():
    cl = pd.concat([
        _classified("A", ["lenient"] * 3 + ["consistent"] * 7, [f"C{i}" for i in range(10)]),
        _classified("B", ["consistent"] * 9 + ["insufficient"], [f"C{i}" for i in range(10)]),
    ])
    rr = P.rater_rates(cl, cluster=None).set_index("rater")
    lo, hi = proportion_confint(3, 10, method="wilson")
    assert rr.at["A", "lenient_rate"] == pytest.approx(0.3)
    assert (rr.at["A", "lenient_ci_low"], rr.at["A", "lenient_ci_high"]) == pytest.approx((lo, hi))
    assert rr.at["B", "n"] == 9 and rr.at["B", "n_insufficient"] == 1
    assert rr.at["B", "lenient_ci_low"] == 0.0
    assert rr.at["A", "lenient_others"] == 0.0 and bool(rr.at["A", "lenient_flagged"])


def test_rater_rates_widen_when_verdicts_cluster_in_cases():
    # 3 verdicts per case, all lenient in 2 cases and none in 8: strongly clustered
    cases = [f"C{i}" for i in range(10) for _ in range(3)]
    classes = ["lenient"] * 6 + ["consistent"] * 24
    cl = _classified("A", classes, cases)
    naive = P.rater_rates(cl, cluster=None).iloc[0]
    clustered = P.rater_rates(cl).iloc[0]
    assert clustered["lenient_rate"] == naive["lenient_rate"] == pytest.approx(0.2)
    assert clustered["lenient_deff"] > 2
    assert clustered["lenient_ci_high"] - clustered["lenient_ci_low"] > naive["lenient_ci_high"] - naive["lenient_ci_low"]


def test_verdict_by_pattern(fw):
    df = table(
        judgement(rater="R1", phases=TUSSENNIVEAU, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R2", phases=phases_with(metacognitie="begin"), verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R3", phases=phases_with(metacognitie="begin", analytisch_vermogen="begin",
                                                 evaluatief_vermogen="begin"), verdicts={"leerklimaat": "niet voldaan"}),
    )
    cl = P.classify_verdicts(df, fw)
    tab = P.verdict_by_pattern(cl).set_index("pattern")
    assert list(tab.index) == list(P.PATTERN_LABELS)
    assert tab.loc["meets", ["niet voldaan", "voldaan", "n"]].tolist() == [0, 1, 1]
    assert tab.loc["short_1", "share_voldaan"] == 1.0
    assert tab.loc["short_3plus", "niet voldaan"] == 1
    dims = P.verdict_by_pattern(cl, pattern="dimensions").set_index("pattern")
    assert dims.loc["metacognitie", "voldaan"] == 1
    assert "metacognitie+analytisch_vermogen+evaluatief_vermogen" in dims.index


def test_verdict_by_phase(fw):
    df = table(
        judgement(rater="R1", phases={"metacognitie": "groei"}, verdicts={"leerklimaat": "voldaan"}),
        judgement(rater="R2", phases={"metacognitie": "begin"}, verdicts={"leerklimaat": "niet voldaan"}),
        judgement(rater="R3", phases={"metacognitie": "begin"}, verdicts={"leerklimaat": "voldaan"}),
    )
    t = P.verdict_by_phase(df, fw).set_index(["dimension", "phase"])
    assert t.loc[("metacognitie", "begin"), ["n", "n_voldaan"]].tolist() == [2, 1]
    assert t.loc[("metacognitie", "groei"), "share_voldaan"] == 1.0
    assert t.loc[("metacognitie", "groei"), "expected"] == "groei"
    assert t.loc[("metacognitie", "vergevorderd"), "n"] == 0


# --------------------------------------------------------------------------- regression
def test_firth_matches_the_closed_form_for_one_binary_predictor():
    # With one binary covariate Firth's estimate equals the log odds ratio of the 2x2 table
    # with 0.5 added to each cell (Firth 1993; Heinze & Schemper 2002) — finite under
    # separation, where ML diverges.
    x = np.array([0] * 10 + [1] * 10, dtype=float)
    y = np.array([0] * 7 + [1] * 3 + [1] * 10, dtype=float)  # every x = 1 is a 1: separation
    X = np.column_stack([np.ones_like(x), x])
    coef, cov, converged = P._firth(X, y)
    a, b, c, d = 10 + 0.5, 0 + 0.5, 3 + 0.5, 7 + 0.5  # x=1: y1, y0; x=0: y1, y0
    assert converged
    assert coef[1] == pytest.approx(math.log(a * d / (b * c)), abs=1e-6)
    assert coef[0] == pytest.approx(math.log(c / d), abs=1e-6)


def test_too_few_data_and_separation_are_said(fw):
    rows = []
    for k in range(6):  # Metacognitie decides the verdict perfectly: separation
        good = k % 2 == 0
        ph = phases_with(metacognitie="groei" if good else "begin")
        rows.append(judgement(case=f"C{k}", phases=ph, verdicts={"leerklimaat": "voldaan" if good else "niet voldaan"}))
    res = P.phase_predictors(table(*rows), fw, dimensions=["metacognitie", "opbouw_van_routines"])
    assert not res.reliable
    assert res.method == "firth"
    assert any("Separation" in w for w in res.warnings)
    assert any("EPV" in w for w in res.warnings)
    assert any("Only 6 cases" in w for w in res.warnings)
    assert res.dropped == ("opbouw_van_routines",)
    coefs = res.coefficients.set_index("term")
    assert np.isfinite(coefs.loc["metacognitie", "coef"]) and coefs.loc["metacognitie", "coef"] > 0


def test_enough_data_gives_a_reliable_cluster_robust_fit(fw):
    items = [i.id for i in fw.items() if i.kind != "indicator"]
    sim = simulate(fw, SimulationConfig(n_sessions=6, cases_per_session=6, n_raters=4, items=items, seed=7))
    res = P.phase_predictors(sim.scores, fw)
    assert res.reliable, res.warnings
    assert res.cov_type == "cluster" and res.method == "logit"
    assert res.n_predictors == 8 and res.epv >= 10
    t = res.coefficients.set_index("term")
    assert list(t.columns) == ["coef", "se", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"]
    assert (t["ci_low"] <= t["coef"]).all() and (t["coef"] <= t["ci_high"]).all()
    # the simulator draws phases and verdicts from the same competence: higher phases, more voldaan
    assert t.drop("const")["coef"].sum() > 0


# --------------------------------------------------------------------------- agreement
def test_agreement_on_phases_beside_verdicts(fw):
    # The team sees the same phases but puts "voldaan" in different places.
    rows = []
    for k in range(6):
        ph = phases_with(metacognitie="begin") if k % 2 else dict(TUSSENNIVEAU)
        for r, v in (("R1", "voldaan"), ("R2", "niet voldaan" if k % 2 else "voldaan"), ("R3", "voldaan" if k < 3 else "niet voldaan")):
            rows.append(judgement(case=f"C{k}", rater=r, phases=ph, verdicts={"leerklimaat": v}))
    ag = P.agreement_summary(table(*rows), fw)
    ac = ag[ag["coefficient"] == "gwet_ac"].set_index(["what", "item"])
    assert ac.loc[("phase", "(alle)"), "value"] == pytest.approx(1.0)
    assert ac.loc[("verdict", "leerklimaat.oordeel"), "value"] < 0.5
    assert ac.loc[("profile", "tussenniveau"), "value"] == pytest.approx(1.0)
    assert list(ag.columns) == ["what", "item", "coefficient", "value", "se", "ci_low", "ci_high", "n_units", "n_raters", "note"]


# =========================================================================== simulator
def test_verdict_lenient_raters_changes_only_that_raters_verdicts(fw):
    base = SimulationConfig(n_sessions=2, cases_per_session=4, seed=3)
    plain = simulate(fw, base).scores
    planted = simulate(fw, SimulationConfig(n_sessions=2, cases_per_session=4, seed=3,
                                            verdict_lenient_raters={"B02": 2.0})).scores
    same = ~planted["kind"].isin(["verdict", "decision"]) | (planted["rater"] != "B02")
    pd.testing.assert_frame_equal(plain[same], planted[same])
    v = planted["kind"] == "verdict"
    assert (planted.loc[v & (planted["rater"] == "B02"), "value"] == "voldaan").sum() >= (
        plain.loc[v & (plain["rater"] == "B02"), "value"] == "voldaan").sum()
    assert simulate(fw, base).planted == simulate(fw, base).planted
    assert "verdict_lenient_raters" not in simulate(fw, base).planted


@pytest.mark.parametrize("reference", ["own", "panel"])
def test_recovers_a_lenient_assessor_planted_by_the_simulator(fw, reference):
    # B04 says voldaan 2 logits too easily while their phase ratings are like everyone else's.
    items = [i.id for i in fw.items() if i.kind != "indicator"]
    sim = simulate(fw, SimulationConfig(n_sessions=3, cases_per_session=8, items=items, seed=2,
                                        verdict_lenient_raters={"B04": 2.0}))
    rr = P.rater_rates(P.classify_verdicts(sim.scores, fw, reference=reference)).set_index("rater")
    assert rr["lenient_rate"].idxmax() == "B04"
    assert bool(rr.at["B04", "lenient_flagged"])
    assert not rr.drop("B04")["lenient_flagged"].any()
    assert rr.at["B04", "lenient_ci_low"] > rr.at["B04", "lenient_others"]


def test_the_demo_decisions_follow_the_rule(fw):
    # the simulator applies assessmentles_go to each assessor's own verdicts
    sim = simulate(fw)
    d = P.decision_consistency(sim.scores, fw)
    assert len(d) == sim.scores["item"].eq("besluit").sum()
    assert set(d["classification"]) == {"consistent"}
