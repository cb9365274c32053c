"""Implicit cut-offs: scikit-learn's objective, a known rule recovered, the planted
verdict-lenient assessor of the demo, Dutch sentences, too few cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.raters import cutoff_features, describe_cutoff, implicit_cutoffs
from calibrate.raters.cutoffs import _logistic_1d, _p50

OUTCOMES = ("leerklimaat", "afstemmen", "leerstof")


def test_batched_logistic_is_scikit_learns_l2_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.integers(0, 9, 120).astype(float)
    y = (rng.random(120) < 1 / (1 + np.exp(-(x - 5)))).astype(float)
    w = rng.integers(0, 3, (3, 120)).astype(float)
    b0, b1 = _logistic_1d(x, y, w, C=1.0)
    for row in range(3):
        rep = np.repeat(np.arange(120), w[row].astype(int))
        m = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(x[rep, None], y[rep])
        assert b0[row] == pytest.approx(m.intercept_[0], abs=1e-5)
        assert b1[row] == pytest.approx(m.coef_[0, 0], abs=1e-5)
    assert np.isnan(_p50(*_logistic_1d(x, np.ones_like(x), w[:1], C=1.0))[0])


def _rule_table(framework, thresholds: dict[str, int], n_cases: int = 30, seed: int = 0) -> pd.DataFrame:
    """Assessors who follow a known rule: voldaan iff at least t profile dimensions are met."""
    profile = framework.profiles["tussenniveau"]
    groei = [c.dimension_id for c in profile.cells if c.phase == "groei"]
    begin = [c.dimension_id for c in profile.cells if c.phase == "begin"]
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_cases):
        n_groei = int(rng.integers(0, len(groei) + 1))
        at_groei = set(rng.choice(groei, n_groei, replace=False))  # which ones varies by case
        for r, t in thresholds.items():
            for d in groei:
                rows.append(("S1", f"C{c:02d}", r, f"fase.{d}", "phase", "groei" if d in at_groei else "begin"))
            for d in begin:
                rows.append(("S1", f"C{c:02d}", r, f"fase.{d}", "phase", "begin"))
            verdict = "voldaan" if len(begin) + n_groei >= t else "niet voldaan"
            for o in OUTCOMES:
                rows.append(("S1", f"C{c:02d}", r, f"{o}.oordeel", "verdict", verdict))
    return pd.DataFrame(rows, columns=["session", "case", "rater", "item", "kind", "value"])


def test_a_known_rule_is_recovered(framework):
    table = _rule_table(framework, {"R1": 5, "R2": 7, "R3": 6}, n_cases=40)
    cut = implicit_cutoffs(table, framework, n_boot=100).set_index("rater")
    assert cut.loc["R1", "cutoff"] == 5 and cut.loc["R2", "cutoff"] == 7 and cut.loc["R3", "cutoff"] == 6
    assert (cut["framework_cutoff"] == 8).all() and (cut["status"] == "ok").all()
    assert cut.loc["R1", "classification"] == "lenient" and cut.loc["R2", "classification"] == "severe"
    assert (cut["accuracy_tree"] > 0.9).all() and "n_meeting" in cut.loc["R1", "tree_rule"]
    assert describe_cutoff(cut.reset_index().iloc[0]) == (
        "R1 geeft voldaan vanaf 5 van de 8 dimensies op het verwachte fase-niveau; "
        f"de handleiding vraagt 8, het team gemiddeld {int(cut.loc['R1', 'team_cutoff'])}."
    )


def test_demo_verdict_lenient_assessor_is_found(demo, framework):
    cut = implicit_cutoffs(demo.scores, framework, n_boot=200).set_index("rater")
    assert cut.loc["B04", "classification"] == "lenient"
    assert cut.loc["B04", "cutoff"] < cut.loc["B04", "team_cutoff"]
    others = cut.drop(index="B04")
    assert (others["accuracy_logistic"] > others["accuracy_baseline"] - 0.05).all()
    text = describe_cutoff(cut.reset_index().set_index("rater").loc["B04"].to_dict() | {"rater": "B04"})
    assert text.startswith("B04 ") and "de handleiding vraagt 8" in text


def test_too_few_cases_is_said_honestly(demo, framework):
    few = demo.scores[demo.scores["case"].isin(["C001", "C002", "C003"])]
    cut = implicit_cutoffs(few, framework, n_boot=20)
    assert (cut["status"] == "too_few_cases").all() and cut["cutoff"].isna().all()
    assert describe_cutoff(cut.iloc[0]) == f"{cut.iloc[0]['rater']}: te weinig casussen om een grens te schatten (3 casussen, minimaal 6 nodig)."


def test_features_count_the_assessors_own_phases(demo, framework):
    f = cutoff_features(demo.scores, framework)
    assert f["n_meeting"].between(0, 8).all() and (f["n_dimensions"] == 8).all()
    one = f.iloc[0]
    own = demo.scores[(demo.scores["session"] == one["session"]) & (demo.scores["case"] == one["case"])
                      & (demo.scores["rater"] == one["rater"]) & (demo.scores["kind"] == "phase")]
    profile = framework.profiles["tussenniveau"]
    order = framework.phase_table.codes
    met = sum(order.index(own.loc[own["item"] == f"fase.{c.dimension_id}", "value"].item()) >= order.index(c.phase)
              for c in profile.cells)
    assert one["n_meeting"] == met


def test_errors(demo, framework):
    with pytest.raises(InputError, match="min_cases"):
        implicit_cutoffs(demo.scores, framework, min_cases=1)
    with pytest.raises(InputError, match="no verdicts"):
        implicit_cutoffs(demo.scores[demo.scores["kind"] == "phase"], framework)
    with pytest.raises(InputError, match="'framework' parameter"):
        implicit_cutoffs(demo.scores, 42)


def test_verdicts_without_all_their_phases_give_an_empty_table_not_a_crash(demo, framework):
    # the research-scale benchmark scores six of the phases only: no verdict has its whole
    # profile rated, so there is nothing to learn from (it crashed with KeyError 'cutoff')
    keep = [f"fase.{d.id}" for d in framework.phase_table.dimensions][:2]
    part = demo.scores[(demo.scores["kind"] != "phase") | demo.scores["item"].isin(keep)]
    cut = implicit_cutoffs(part, framework, n_boot=20)
    assert cut.empty and {"rater", "cutoff", "team_cutoff", "classification"} <= set(cut.columns)
    from calibrate.raters import report_section

    section = report_section(part, framework)
    assert section["title"] == "Wat elke beoordelaar doet"
