"""The data path of issue 19: streamed imports, the coded table, one inference rule, one option check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.inference import bootstrap_p_value
from calibrate.options import Interval, OneOf, validate_options
from calibrate.scores import CodedScores
from calibrate.store import Store

ROW = {"session": "K1", "session_date": "2026-01-19", "case": "C01", "rater": "B01", "item": "besluit",
       "kind": "decision", "value": "go", "note": None, "scored_at": "2026-01-19T10:00:00+00:00"}


def table(*changes) -> pd.DataFrame:
    return pd.DataFrame([{**ROW, **c} for c in changes], dtype="string")


def test_chunked_import_drops_exact_copies_across_chunks_and_refuses_conflicts(tmp_path):
    st = Store.open(tmp_path / "ws")
    st.import_chunk_rows = 2  # every two rows a chunk of their own
    rows = [{"rater": f"B0{r}"} for r in range(1, 5)] + [{"rater": "B01"}]  # row 6 copies row 2
    summary = st.import_scores(table(*rows), source="chunks.csv")
    assert (summary.rows, summary.appended) == (4, 4)
    assert st.counts()["judgements"] == 4
    before = st.scores(history=True)
    with pytest.raises(InputError, match=r"rows 2, 6 give different judgements"):
        st.import_scores(table(*rows[:4], {"rater": "B01", "value": "no go"}, {"rater": "B09"}), source="conflict.csv")
    pd.testing.assert_frame_equal(st.scores(history=True), before)  # nothing half-written
    st.close()


def test_streamed_file_import_equals_the_frame_import(tmp_path):
    from calibrate.devtools.simulate import SimulationConfig, simulate
    from calibrate.frameworks import load_framework

    sim = simulate(load_framework("han-wpl2-2025"), SimulationConfig(n_sessions=2, cases_per_session=3, with_notes=True, seed=5))
    path = tmp_path / "scores.csv"
    sim.scores.to_csv(path, index=False, sep=";")
    a, b = Store.open(tmp_path / "a"), Store.open(tmp_path / "b")
    a.import_chunk_rows = 500
    a.import_scores(path)
    b.import_scores(sim.scores, source="frame")
    pd.testing.assert_frame_equal(a.scores(), b.scores())
    # the coded table is the same table
    pd.testing.assert_frame_equal(a.coded_scores().to_frame(), a.scores())
    assert a.import_scores(path).appended == 0  # idempotent
    a.close(), b.close()


def test_coded_scores_door_strips_codes_and_keeps_order():
    df = pd.DataFrame({"session": ["S2", "S1", "S1"], "session_date": ["2026-02-01", "2026-01-01", "2026-01-01"],
                       "case": ["c", "c", "c"], "rater": ["r", "r", " r2 "], "item": ["x.a.1"] * 3,
                       "kind": ["indicator"] * 3, "value": [" gezien", "n.v.t.", "ja"]})
    coded = CodedScores.code(df)
    assert list(coded.sessions) == ["S1", "S2"]  # in time order
    assert coded.position.tolist() == [1, -2, -3]  # gezien, n.v.t., off its scale
    assert coded.items[["outcome", "dimension"]].iloc[0].tolist() == ["x", "x.a"]  # the id grammar
    assert coded.to_frame()["rater"].tolist() == ["r", "r", "r2"]


@pytest.mark.parametrize("estimate,reps,expected", [
    (0.5, [0.1, 0.2, -0.1, 0.3], 2 * (1 + 1) / 5),
    (-0.5, [-0.1, -0.2, 0.0, 0.3, -0.4, -0.5, -0.6, -0.7, -0.8], 2 * (1 + 2) / 10),  # 0 counts as beyond
    (0.5, [-0.1, -0.2, 0.3], 1.0),  # capped at 1
    (0.5, [0.1] * 9, 2 / 10),  # never 0 from finitely many resamples
    (0.0, [0.1, -0.1], 1.0),
])
def test_one_bootstrap_p_value_rule(estimate, reps, expected):
    assert bootstrap_p_value(estimate, np.array(reps)) == pytest.approx(expected)


def test_one_option_message():
    @validate_options(level=OneOf("a", "b"), share=Interval(0, 1))
    def f(df, level="a", *, share=0.5):
        return level, share

    assert f(None, "b", share=0.2) == ("b", 0.2)
    with pytest.raises(InputError, match=r"^The 'level' parameter of f must be one of 'a', 'b'\. Got 'c' instead\.$"):
        f(None, level="c")
    with pytest.raises(InputError, match=r"The 'share' parameter of f must be a number in \(0, 1\)\. Got 2 instead\."):
        f(None, share=2)
