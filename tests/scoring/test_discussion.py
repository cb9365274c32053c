"""The discussion model (calibrate.discussion): spread, order, grouping, value names, what is open.

Plain pytest on hand-made score tables; the spread is checked against the agreement
module (percent agreement per case, Krippendorff's coincidence matrix over cases).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from calibrate.agreement import percent_agreement
from calibrate.agreement._core import coincidences
from calibrate.discussion import (
    build_case_discussion,
    item_choices,
    level_label,
    open_points,
    rater_label,
    spread,
    value_label,
)
from calibrate.errors import InputError
from calibrate.frameworks import load_framework

FW = load_framework("han-wpl2-2025")
KM = "leerklimaat.klassenmanagement"
RATERS = ("B01", "B02", "B03", "B04", "B05", "B06")


def _table(rows) -> pd.DataFrame:
    """Score rows (case, rater, item, value[, note]) as a score table (CONTRACTS §1)."""
    out = []
    for r in rows:
        case, rater, item, value, *note = r
        out.append({"session": "K1", "session_date": "2026-09-01", "case": case, "rater": rater, "item": item,
                    "kind": FW.item(item).kind, "value": value, "note": note[0] if note else None,
                    "scored_at": "2026-09-01T10:00:00+00:00"})
    return pd.DataFrame(out)


def _unanimous(case="C1", raters=RATERS):
    """Every assessable item its first choice, for every rater."""
    return [(case, r, i.id, item_choices(FW, i)[0]) for r in raters for i in FW.assessable_items()]


# ----------------------------------------------------------------------------- the spread
def test_spread_reads_plainly():
    ind = FW.item(f"{KM}.1")
    assert spread(ind, ["gezien"] * 6) == 0.0
    assert spread(ind, ["gezien"] * 5 + ["niet gezien"]) == pytest.approx(5 / 15)
    assert spread(ind, ["gezien"] * 3 + ["niet gezien"] * 3) == pytest.approx(9 / 15)
    assert spread(ind, ["gezien", "n.v.t."]) == 1.0  # "does it apply?" is a disagreement too
    assert spread(ind, ["gezien"]) is None and spread(ind, []) is None
    lvl = FW.item("leerklimaat.niveau")
    assert spread(lvl, ["3", "4"]) == pytest.approx(1 / 5)  # one step of five
    assert spread(lvl, ["1", "6"]) == 1.0
    assert spread(lvl, ["3", "4"]) < spread(lvl, ["2", "5"])  # distance counts on an ordered scale
    phase = FW.item("fase.zelfstandigheid")
    assert spread(phase, ["begin", "vergevorderd"]) == 1.0 and spread(phase, ["begin", "groei"]) == 0.5


@pytest.mark.parametrize("item_id, weights", [
    (f"{KM}.1", None), ("leerklimaat.oordeel", None), ("besluit", None),
    ("leerklimaat.niveau", "linear"), ("fase.opbouw_van_routines", "linear"),
])
def test_spread_is_one_minus_percent_agreement_of_the_case(item_id, weights):
    """Peer: calibrate.agreement.percent_agreement on the one case (Gwet 2014, ch. 2)."""
    item = FW.item(item_id)
    cats = list(item_choices(FW, item)) if weights is None else list(item.codes)
    code = {c: f"c{k}" for k, c in enumerate(cats)}  # neutral codes: the agreement module reads n.v.t. as missing
    rng = np.random.default_rng(7)
    for n in (2, 3, 6, 9):
        for _ in range(15):
            values = [str(v) for v in rng.choice(cats, size=n)]
            df = pd.DataFrame({"unit": 1, "rater": [f"r{k}" for k in range(n)], "value": [code[v] for v in values]})
            pa = percent_agreement(df, weights=weights, categories=list(code.values())).value
            assert spread(item, values) == pytest.approx(1 - pa, abs=1e-12), values


@pytest.mark.parametrize("item_id", ["leerklimaat.niveau", f"{KM}.2"])
def test_mean_spread_over_cases_is_krippendorffs_observed_disagreement(item_id):
    """Peer: the coincidence matrix of calibrate.agreement._core (Krippendorff 2011):
    D_o = sum o_ck d_ck / n equals the mean spread over cases weighted by their values."""
    item = FW.item(item_id)
    cats = list(item_choices(FW, item)) if item.kind == "indicator" else list(item.codes)
    k = len(cats)
    if item.kind == "level":
        d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    else:
        d = 1.0 - np.eye(k)
    rng = np.random.default_rng(3)
    cases = [[str(v) for v in rng.choice(cats, size=int(rng.integers(1, 7)))] for _ in range(40)]
    C = np.array([[vals.count(c) for c in cats] for vals in cases], dtype=float)
    o = coincidences(C)
    d_o = float((o * d).sum() / o.sum())
    spreads = [(len(v), spread(item, v)) for v in cases if len(v) >= 2]
    weighted = sum(m * s for m, s in spreads) / sum(m for m, _ in spreads)
    assert weighted == pytest.approx(d_o, abs=1e-12)


# ----------------------------------------------------------------------------- names
def test_value_names_are_level_and_phase_names():
    lvl = FW.item("leerklimaat.niveau")
    assert value_label(FW, lvl, "4") == "4 bekwaam" and value_label(FW, lvl, "2") == "Niveau 2"
    assert value_label(FW, FW.item("fase.zelfstandigheid"), "groei") == "Groei-fase"
    assert value_label(FW, FW.item(f"{KM}.1"), "n.v.t.") == "n.v.t."
    assert level_label(FW.scale.level("6")) == "6 professional"
    assert rater_label("B01") == "B01" and rater_label("B01", {"B01": "Jeroen"}) == "Jeroen (B01)"
    assert item_choices(FW, FW.item("leerklimaat.oordeel")) == ("voldaan", "niet voldaan")


# ----------------------------------------------------------------------------- order and grouping
def _disputed_case():
    rows = _unanimous()
    rows = [r for r in rows if not (r[1] in ("B02", "B05") and r[2] in (f"{KM}.3", "afstemmen.didactisch_afstemmen.2"))]
    rows += [("C1", "B02", f"{KM}.3", "niet gezien"), ("C1", "B05", f"{KM}.3", "niet gezien"),
             ("C1", "B02", "afstemmen.didactisch_afstemmen.2", "niet gezien"),
             ("C1", "B05", "afstemmen.didactisch_afstemmen.2", "gezien")]
    rows = [r for r in rows if not ((r[1] == "B02" and r[2] == f"{KM}.1") or (r[1] == "B04" and r[2] == f"{KM}.6"))]
    rows += [("C1", "B02", f"{KM}.1", "niet gezien", "Twee leerlingen praatten door."),
             ("C1", "B04", f"{KM}.6", "gezien", "Noemde de regels bij binnenkomst.")]
    return _table(rows)


def test_items_ordered_by_spread_grouped_by_leeruitkomst_and_dimension():
    d = build_case_discussion(FW, _disputed_case(), case="C1", raters=RATERS, title="Startopdracht")
    # leeruitkomsten: the one with the most disputed item first; ties in kijkkader order
    assert [s.id for s in d.sections][:2] == ["leerklimaat", "afstemmen"]
    assert [s.id for s in d.sections][2:] == ["leerstof", "ict", "ppi", "fasen", "besluit"]
    km = d.sections[0].groups[0]
    assert km.title == "Klassenmanagement" and km.kind == "dimension"
    # items: spread first (indicator 3: 4-2 split, 0.53; indicator 1: 5-1, 0.33), then kijkkader order
    assert [i.item for i in km.items][:3] == [f"{KM}.3", f"{KM}.1", f"{KM}.2"]
    assert [i.spread for i in km.items][:2] == [pytest.approx(8 / 15), pytest.approx(5 / 15)]
    assert [i.number for i in km.items] == [3, 1] + [n for n in range(2, len(km.items) + 1) if n != 3]
    # the judgement group of a leeruitkomst, the phase table, the decision
    assert [g.kind for g in d.sections[0].groups][-1] == "judgement"
    assert [i.label for i in d.sections[0].groups[-1].items] == ["Niveau", "Oordeel"]
    assert d.sections[-2].groups[0].kind == "phases" and len(d.sections[-2].items) == 14
    assert d.sections[-1].items[0].item == "besluit"
    assert d.n_disputed == 3 and len(d.items) == 123 and d.title == "Startopdracht"


def test_order_kijkkader_keeps_the_form_order():
    d = build_case_discussion(FW, _disputed_case(), case="C1", raters=RATERS, order="kijkkader")
    positions = [i.position for i in d.items]
    assert positions == sorted(positions)
    assert [i.item for i in d.items] == [i.id for i in FW.assessable_items()]
    with pytest.raises(InputError, match="order 'random'"):
        build_case_discussion(FW, _disputed_case(), case="C1", order="random")


def test_counts_name_every_value_and_notes_name_the_assessor():
    d = build_case_discussion(FW, _disputed_case(), case="C1", raters=RATERS)
    ind = d.item(f"{KM}.1")
    assert [(c.label, c.n, c.raters) for c in ind.counts] == [
        ("gezien", 5, ("B01", "B03", "B04", "B05", "B06")), ("niet gezien", 1, ("B02",)), ("n.v.t.", 0, ())]
    assert [(n.rater, n.value_label, n.text) for n in ind.notes] == [("B02", "niet gezien", "Twee leerlingen praatten door.")]
    lvl = d.item("leerklimaat.niveau")
    assert [c.label for c in lvl.counts] == ["1 verkennend", "Niveau 2", "Niveau 3", "4 bekwaam", "5 vakkundig",
                                            "6 professional"]
    assert lvl.unanimous and lvl.unanimous_value == "1"
    phase = d.item("fase.opbouw_van_routines")
    assert [c.label for c in phase.counts] == ["Beginfase", "Groei-fase", "Vergevorderde fase"]


def test_only_the_case_and_the_sessions_assessors_count():
    rows = _unanimous("C1") + _unanimous("C2", ("B01", "B02"))
    rows += [("C1", "X99", f"{KM}.1", "niet gezien")]  # not an assessor of the session
    d = build_case_discussion(FW, _table(rows), case="C1", raters=RATERS)
    assert d.item(f"{KM}.1").n_values == 6 and d.item(f"{KM}.1").unanimous
    assert d.raters == RATERS


def test_consensus_and_the_open_list():
    scores = _disputed_case()
    cons = pd.DataFrame([
        {"session": "K1", "session_date": "2026-09-01", "case": "C1", "item": f"{KM}.3", "kind": "indicator",
         "value": "gezien", "note": "Regels op het bord.", "scored_at": None},
        {"session": "K1", "session_date": "2026-09-01", "case": "C1", "item": f"{KM}.2", "kind": "indicator",
         "value": "gezien", "note": None, "scored_at": None},
    ])
    d = build_case_discussion(FW, scores, cons, case="C1", raters=RATERS)
    assert d.item(f"{KM}.3").consensus_label == "gezien" and d.item(f"{KM}.3").reason == "Regels op het bord."
    assert d.n_consensus == 2
    d2 = build_case_discussion(FW, scores.iloc[:0], cons.iloc[:0], case="C2", raters=RATERS)
    status = pd.DataFrame([
        {"rater": "B01", "complete": 1, "total": 2, "filled": 123, "assessable": 246, "finished": False, "last_saved": None},
        {"rater": "B02", "complete": 2, "total": 2, "filled": 246, "assessable": 246, "finished": True, "last_saved": None},
    ])
    op = open_points([d, d2], status)
    c1, c2 = op.cases
    assert [r.item for r in c1.disputed] == [f"{KM}.1", "afstemmen.didactisch_afstemmen.2"]  # most disputed first
    assert c1.disputed[0].ref == "Klassenmanagement, indicator 1" and c1.disputed[0].section == "Creëren van positief leerklimaat"
    assert len(c1.unanimous) == 123 - 3 - 1 and [r.item for r in c1.no_reason] == [f"{KM}.2"]
    assert c1.n_open == 121 and not c1.done
    assert len(c2.unjudged) == 123 and c2.n_consensus == 0 and op.cases_without_consensus == (c2,)
    assert [r.rater for r in op.unfinished] == ["B01"] and op.n_open_items == 121 + 123 and not op.done


def test_a_fully_agreed_session_is_done():
    scores = _table(_unanimous())
    cons = scores.drop(columns=["rater"]).drop_duplicates("item").assign(note="Zo afgesproken.")
    d = build_case_discussion(FW, scores, cons, case="C1", raters=RATERS)
    op = open_points([d], pd.DataFrame([{"rater": r, "complete": 1, "total": 1, "filled": 123, "assessable": 123,
                                         "finished": True, "last_saved": None} for r in RATERS]))
    assert op.done and op.n_open_items == 0 and op.cases[0].done


def test_every_pair_counts_once():
    """The spread over n values averages n(n-1)/2 pairs (a hand count for a 2-2-1 level split)."""
    lvl = FW.item("leerklimaat.niveau")
    vals = ["2", "2", "4", "4", "5"]
    by_hand = sum(abs(int(a) - int(b)) / 5 for a, b in itertools.combinations(vals, 2)) / 10
    assert spread(lvl, vals) == pytest.approx(by_hand) == pytest.approx((4 * 0.4 + 2 * 0.6 + 2 * 0.2) / 10)
