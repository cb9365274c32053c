"""calibrate.drift on hand-built tables, and the recovery study over simulator seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.drift import (
    drifting_indicators,
    item_trajectories,
    rater_effects,
    rescore_effect,
)
from calibrate.errors import InputError


def _table(n_sessions=5, n_cases=10, n_raters=6, items=("a", "b", "c", "d"), p=None, seed=0, fresh=True):
    """Binary indicator judgements; ``p(session, case, rater, item)`` gives P(gezien)."""
    rng = np.random.default_rng(seed)
    rows, cons = [], []
    for s in range(n_sessions):
        date = f"2026-{s + 1:02d}-01"
        for c in range(n_cases):
            case = f"C{s}-{c}" if fresh else f"C{c}"
            truth = {i: rng.random() < 0.5 for i in items}
            for i in items:
                cons.append((f"S{s}", date, case, i, "indicator", "gezien" if truth[i] else "niet gezien"))
                for r in range(n_raters):
                    prob = p(s, c, r, i, truth[i]) if p else (0.85 if truth[i] else 0.15)
                    rows.append((f"S{s}", date, case, f"B{r + 1:02d}", i, "indicator", "gezien" if rng.random() < prob else "niet gezien"))
    scores = pd.DataFrame(rows, columns=["session", "session_date", "case", "rater", "item", "kind", "value"])
    consensus = pd.DataFrame(cons, columns=["session", "session_date", "case", "item", "kind", "value"])
    return scores, consensus


def test_contract_columns():
    scores, consensus = _table()
    items = drifting_indicators(scores, consensus)
    for col in ("item", "flagged", "p_value", "q_value", "drift", "direction"):
        assert col in items.columns
    assert len(items) == 4 and items["flagged"].dtype == bool
    raters = rater_effects(scores, consensus)
    for col in ("rater", "leniency", "ci_low", "ci_high", "flagged", "drift_flagged"):
        assert col in raters.columns
    assert len(raters) == 6


def test_planted_level_drift_is_found_and_null_is_not():
    def p(s, c, r, i, truth):
        base = 0.85 if truth else 0.15
        return min(1.0, base + 0.12 * s) if i == "a" else base

    scores, consensus = _table(p=p, seed=1)
    res = drifting_indicators(scores, consensus).set_index("item")
    assert res.loc["a", "flagged"] and res.loc["a", "drift"] == "level" and res.loc["a", "direction"] == 1
    assert res.loc["a", "level_shift"] > 0.2
    assert not res.loc[["b", "c", "d"], "flagged"].any()
    assert (res.loc[["b", "c", "d"], "direction"] == 0).all()


def test_severe_drift_has_negative_direction_and_trajectory_shows_it():
    def p(s, c, r, i, truth):
        base = 0.9 if truth else 0.1
        return max(0.0, base - 0.15 * s) if i == "b" else base

    scores, consensus = _table(p=p, seed=2)
    res = drifting_indicators(scores, consensus).set_index("item")
    assert res.loc["b", "flagged"] and res.loc["b", "direction"] == -1
    tr = item_trajectories(scores, consensus)
    b = tr[tr["item"] == "b"].sort_values("session_index")
    assert b["diff"].iloc[-1] < b["diff"].iloc[0]


def test_agreement_drift_is_found():
    def p(s, c, r, i, truth):
        if i == "c":
            noise = min(0.45, 0.1 * s)
            return (0.95 - noise) if truth else (0.05 + noise)
        return 0.9 if truth else 0.1

    scores, consensus = _table(p=p, seed=3, n_cases=14)
    res = drifting_indicators(scores, consensus).set_index("item")
    assert res.loc["c", "flagged"] and res.loc["c", "agreement_change"] < -0.2
    assert res.loc["c", "drift"] in ("agreement", "level")
    assert res.loc["c", "agreement_flagged"]


def test_duplicated_raters_on_the_same_case_do_not_make_a_tiny_effect_significant():
    """Ten copies of each judgement add no information about cases: the test must not move."""
    def p(s, c, r, i, truth):
        base = 0.85 if truth else 0.15
        return min(1.0, base + 0.01 * s) if i == "a" else base

    scores, consensus = _table(p=p, seed=4, n_raters=3)
    before = drifting_indicators(scores, consensus).set_index("item")
    copies = pd.concat([scores.assign(rater=scores["rater"] + f"x{k}") for k in range(10)], ignore_index=True)
    after = drifting_indicators(copies, consensus).set_index("item")
    assert not after.loc["a", "flagged"] and after.loc["a", "p_level"] > 0.05
    np.testing.assert_allclose(after["p_level"], before["p_level"], rtol=1e-9)
    np.testing.assert_allclose(after["p_agreement"], before["p_agreement"], rtol=1e-6)
    r_before = rater_effects(scores, consensus, n_boot=199)
    assert not r_before["flagged"].any()


def test_practical_floor_keeps_trivial_shifts_unflagged():
    """A tiny but consistent shift with huge n is significant, yet below the floor."""
    def p(s, c, r, i, truth):
        base = 0.85 if truth else 0.15
        return base + 0.01 * s if i == "a" else base

    scores, consensus = _table(p=p, seed=5, n_cases=200, n_raters=8, items=("a", "b"))
    res = drifting_indicators(scores, consensus).set_index("item")
    assert abs(res.loc["a", "level_shift"]) < 0.10
    assert not res.loc["a", "flagged"]


def test_lenient_and_drifting_rater():
    def p(s, c, r, i, truth):
        base = 0.8 if truth else 0.2
        if r == 1:
            base += 0.15  # B02 lenient
        if r == 3:
            base -= 0.12 * s  # B04 drifts severe
        return float(np.clip(base, 0, 1))

    scores, consensus = _table(p=p, seed=6, n_cases=16, items=tuple("abcdefghijkl"))
    res = rater_effects(scores, consensus, n_boot=499).set_index("rater")
    assert res.loc["B02", "flagged"] and res.loc["B02", "leniency"] > 0 and res.loc["B02", "ci_low"] > 0
    assert res.loc["B04", "drift_flagged"] and res.loc["B04", "leniency_change"] < 0
    others = [r for r in res.index if r not in ("B02", "B04")]
    assert not res.loc[others, "flagged"].any()
    assert not res.loc[others + ["B02"], "drift_flagged"].any()
    # without a consensus the leave-one-out panel serves as reference
    loo = rater_effects(scores, n_boot=199).set_index("rater")
    assert loo.loc["B02", "leniency"] > 0.1 and (loo["reference"] == "panel").all()


def test_accuracy_and_halo_are_reported():
    scores, consensus = _table(seed=7)
    res = rater_effects(scores, consensus, n_boot=99)
    assert res["accuracy"].between(0.7, 1).all()
    assert res["halo"].abs().max() < 0.1


def test_recurring_cases_use_the_within_case_trend():
    """Hard cases revisited in alternate sessions must not look like a trend."""
    def p(s, c, r, i, truth):
        # cases 0-4 are easy (panel agrees), 5-9 hard; sessions alternate between them
        return (0.95 if truth else 0.05) if c < 5 else 0.5

    scores, consensus = _table(p=p, seed=8, n_cases=10, fresh=False)
    keep = ((scores["session"].str[1:].astype(int) % 2 == 0) & (scores["case"].str[1:].astype(int) < 5)) | (
        (scores["session"].str[1:].astype(int) % 2 == 1) & (scores["case"].str[1:].astype(int) >= 5))
    res = drifting_indicators(scores[keep], consensus)
    assert not res["flagged"].any()


def test_rescore_effect():
    def p_before(s, c, r, i, truth):
        return 0.7 if truth else 0.3

    before, _ = _table(p=p_before, seed=9, n_sessions=1, fresh=False)
    after, _ = _table(p=lambda s, c, r, i, t: 0.97 if t else 0.03, seed=9, n_sessions=1, fresh=False)
    after = after.assign(session="S0b", session_date="2026-01-02")
    res = rescore_effect(pd.concat([before, after]), "S0", "S0b")
    assert res.after > res.before and res.ci[0] > 0
    assert res.n_cases == 10 and res.n_items == 4


def test_bad_input_says_what_and_where():
    scores, consensus = _table()
    scores.loc[3, "value"] = "misschien"
    with pytest.raises(InputError, match="misschien"):
        drifting_indicators(scores, consensus)
    with pytest.raises(InputError, match="alpha"):
        drifting_indicators(_table()[0], alpha=2)
    with pytest.raises(InputError, match="lacks the column"):
        rater_effects(scores.drop(columns="rater"))


def test_not_applicable_counts_as_missing():
    scores, consensus = _table()
    scores.loc[scores.index[:50], "value"] = "n.v.t."
    res = drifting_indicators(scores, consensus)
    assert res["n_judgements"].sum() == len(scores) - 50


@pytest.mark.slow
def test_recovery_study_over_30_seeds():
    """Planted drifting items and assessors are found; null ones are rarely flagged.

    Measured (tests/drift/recovery.py, 30 seeds, 6 sessions x 12 cases x 8 assessors x
    24 indicators): level drift 0.95, agreement drift 0.47, null items 0.02, lenient
    assessor 1.00, drifting assessor 1.00, null assessors 0.00 (leniency) / 0.00 (drift; 0.005 with
    the earlier CR1 trend test).
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("drift_recovery", Path(__file__).with_name("recovery.py"))
    recovery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recovery)
    study = recovery.study

    rates = study(30)
    assert rates["level_found"] >= 0.8
    assert rates["lenient_found"] >= 0.8
    assert rates["rater_drift_found"] >= 0.8
    assert rates["agreement_found"] >= 0.3  # agreement drift is harder to see at this size: see docs/drift.md
    assert rates["null_items_flagged"] <= 0.1
    assert rates["null_raters_flagged"] <= 0.1
    assert rates["null_raters_drift_flagged"] <= 0.1


def test_trend_tests_share_the_slope():
    """CR2, CR1 (the earlier test) and the wild bootstrap fit the same slope; CR2's
    p-values are at least CR1's on fresh cases here (HC2 leverage correction, BM df ≤ G − 1)."""
    def p(s, c, r, i, truth):
        base = 0.85 if truth else 0.15
        return min(1.0, base + 0.08 * s) if i == "a" else base

    scores, consensus = _table(p=p, seed=12)
    cr2 = drifting_indicators(scores, consensus, trend_test="cr2").set_index("item")
    cr1 = drifting_indicators(scores, consensus, trend_test="cr1").set_index("item")
    wild = drifting_indicators(scores, consensus, trend_test="wild").set_index("item")
    np.testing.assert_allclose(cr2["level_shift"], cr1["level_shift"], atol=1e-10)
    np.testing.assert_allclose(wild["level_shift"], cr1["level_shift"], atol=1e-10)
    assert (cr2["p_level"] >= cr1["p_level"] - 1e-12).all()
    assert cr2.loc["a", "flagged"] and wild.loc["a", "p_level"] < 0.01
    with pytest.raises(InputError, match="trend_test"):
        drifting_indicators(scores, consensus, trend_test="cr3")


def test_the_default_permutes_at_session_size_and_takes_cr2_beyond_200_cases():
    """trend_test="auto": items seen in ≤ 200 cases get the permutation p-value (not CR2's t
    reference), larger items CR2's; the slope, its CI and the shift are CR2's either way."""
    from calibrate.drift._table import PERMUTATION_MAX_CASES

    def p(s, c, r, i, truth):
        base = 0.85 if truth else 0.15
        return min(1.0, base + 0.05 * s) if i == "a" else base

    small = _table(p=p, seed=3)
    auto = drifting_indicators(*small).set_index("item")
    perm = drifting_indicators(*small, trend_test="permutation").set_index("item")
    cr2 = drifting_indicators(*small, trend_test="cr2").set_index("item")
    pd.testing.assert_frame_equal(auto, perm)
    assert not np.allclose(auto["p_level"], cr2["p_level"])
    np.testing.assert_allclose(auto["level_ci_low"], cr2["level_ci_low"], atol=1e-12)
    assert 1 / 10000 <= auto["p_level"].min() and auto["p_agreement"].max() <= 1
    big = _table(n_sessions=5, n_cases=PERMUTATION_MAX_CASES // 5 + 1, n_raters=3, items=("a", "b"), p=p, seed=4)
    pd.testing.assert_frame_equal(drifting_indicators(*big).set_index("item"),
                                  drifting_indicators(*big, trend_test="cr2").set_index("item"))
