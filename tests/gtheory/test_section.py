"""The report section "Hoeveel beoordelaars zijn genoeg?" (calibrate.gtheory.report_section)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from calibrate.agreement import icc
from calibrate.errors import InputError
from calibrate.frameworks import load_framework
from calibrate.gtheory import report_section
from calibrate.devtools.simulate import SimulationConfig, simulate
from calibrate.scores import CodedScores

FW = load_framework("han-wpl2-2025")


@pytest.fixture(scope="module")
def demo():
    return simulate(FW, SimulationConfig(n_sessions=2, n_raters=5, cases_per_session=8, seed=21)).scores


@pytest.fixture(scope="module")
def section(demo):
    return report_section(demo, FW, n_boot=200, seed=1)


def test_shape_title_and_json(section):
    assert section["id"] == "betrouwbaarheid" and section["title"] == "Hoeveel beoordelaars zijn genoeg?"
    assert set(section) == {"id", "title", "intro", "tables", "figures", "notes"}
    json.dumps(section)  # JSON-able as it is
    for table in section["tables"]:
        keys = [k for k, _ in table["columns"]]
        assert all(set(row) == set(keys) for row in table["rows"])
    fig = section["figures"][0]
    assert base64.b64decode(fig["png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "beoordelaars" in fig["alt"] and "0,80" in fig["alt"]


def test_decision_phi_is_the_icc_of_the_panel(demo, section):
    """Φ of the whole panel on the decision = ICC(A,k) of calibrate.agreement (same data)."""
    dec = demo[demo["kind"] == "decision"].rename(columns={"case": "unit"})
    dec = dec.assign(value=(dec["value"] == "go").astype(float))
    k = dec["rater"].nunique()
    rows = {r["beoordelaars"]: r for r in section["tables"][0]["rows"]}
    assert rows[k]["phi"] == pytest.approx(icc(dec, model="twoway_random", kind="average").value, abs=1e-10)
    assert rows[1]["phi"] == pytest.approx(icc(dec, model="twoway_random").value, abs=1e-10)
    phis = [rows[n]["phi"] for n in sorted(rows)]
    assert np.all(np.diff(phis) > 0)
    assert all(r["phi_low"] <= r["phi"] <= r["phi_high"] for r in rows.values())
    assert f"Met {k} beoordelaars op" in section["intro"][0]
    assert f"{rows[k]['phi']:.2f}".replace(".", ",") in section["intro"][0]
    # the sentence on Φ ≥ 0.80 names the smallest count that reaches it
    need = min(n for n in range(1, 51) if n in rows and rows[n]["phi"] >= 0.80) if any(
        r["phi"] >= 0.80 for r in rows.values()) else None
    if need is not None:
        assert f"{need} beoordelaars nodig" in section["intro"][1]


def test_outcomes_by_their_framework_names(section):
    table = section["tables"][1]
    names = [r["leeruitkomst"] for r in table["rows"]]
    assert names == [o.name for o in FW.outcomes]
    assert all(0 < r["phi"] <= 1 and r["nodig_80"] >= r["nodig_70"] for r in table["rows"])


def test_coded_scores_give_the_same_section(demo, section):
    again = report_section(CodedScores.code(demo), FW, n_boot=200, seed=1)
    assert again["tables"] == section["tables"] and again["intro"] == section["intro"]


def test_no_decision_is_a_note_not_an_error(demo):
    out = report_section(demo[demo["kind"] != "decision"], FW, n_boot=0)
    assert not out["figures"] and any("go/no go-besluit" in n for n in out["notes"])
    assert out["tables"][0]["caption"].startswith("Betrouwbaarheid per leeruitkomst")


def test_bad_input_is_clear(demo):
    with pytest.raises(InputError, match="framework"):
        report_section(demo, None)
    with pytest.raises(InputError, match="rater"):
        report_section(demo.drop(columns="rater"), FW)
    with pytest.raises(InputError, match="score table"):
        report_section([1, 2], FW)


def test_verdicts_and_decision_table_is_the_overview(demo, section):
    """The table of verdicts per leeruitkomst and the decision: the framework's names, the
    numbers of reliability_overview (per leeruitkomst) and of the decision's own G-study
    (its Φ is the D-study table's Φ at the panel's size), intervals around the estimates."""
    from calibrate.gtheory.kijkkader import reliability_overview

    table = next(t for t in section["tables"] if t["caption"].startswith("Betrouwbaarheid van het oordeel"))
    rows = table["rows"]
    verdicts = [o for o in FW.outcomes if o.verdict_item_id in set(demo["item"])]
    assert [r["oordeel"] for r in rows] == [o.name for o in verdicts] + ["het go/no go-besluit (alle leeruitkomsten samen)"]
    over = reliability_overview(demo, FW, by=("verdict",), n_boot=200, seed=1).set_index("name")
    for r in rows[:-1]:
        o = over.loc[r["oordeel"]]
        assert (r["phi"], r["erho2"], r["phi_lambda"], r["phi_low"], r["phi_high"]) == pytest.approx(
            (o["Phi"], o["Erho2"], o["Phi_lambda"], o["Phi_low"], o["Phi_high"]), abs=1e-12)
        assert r["nodig_80"] == o["raters_80"] and r["nodig_70"] <= r["nodig_80"]
    dec = rows[-1]
    k = demo.loc[demo["kind"] == "decision", "rater"].nunique()
    dstudy = {r["beoordelaars"]: r for r in section["tables"][0]["rows"]}
    assert dec["phi"] == pytest.approx(dstudy[k]["phi"], abs=1e-12) and dec["beoordelaars"] == k
    assert f"{dec['nodig_80']} beoordelaars nodig" in section["intro"][1] or dec["nodig_80"] == 1
    for r in rows:
        assert r["phi_low"] <= r["phi"] <= r["phi_high"] and 0 < r["phi_lambda"] <= 1
        lo, _, hi = r["nodig_80_interval"].partition(" tot ") if " tot " in r["nodig_80_interval"] else (r["nodig_80_interval"],) * 3
        assert int(lo) <= r["nodig_80"] and (hi.startswith("meer dan") or r["nodig_80"] <= int(hi))


def test_indicator_table_has_intervals_from_the_overview(demo, section):
    from calibrate.gtheory.kijkkader import reliability_overview

    table = section["tables"][1]
    over = reliability_overview(demo, FW, by=("indicator",), n_boot=200, seed=1).set_index("name")
    for r in table["rows"]:
        o = over.loc[r["leeruitkomst"]]
        assert (r["phi"], r["phi_low"], r["phi_high"], r["erho2"]) == pytest.approx(
            (o["Phi"], o["Phi_low"], o["Phi_high"], o["Erho2"]), abs=1e-12)
        assert r["phi_low"] <= r["phi"] <= r["phi_high"] and r["nodig_70_interval"]
