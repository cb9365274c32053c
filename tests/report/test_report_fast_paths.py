"""Report helpers that count and recode on the integer codes give the text-path answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.devtools.simulate import SimulationConfig, simulate
from calibrate.frameworks import load_framework
from calibrate.report.bands import _per_case_occasions
from calibrate.report.session import _distinct, session_stats
from calibrate.scores import CodedScores


def test_distinct_keys_are_numpy_unique():
    rng = np.random.default_rng(0)
    for size, n in ((50, 1000), (10**7, 30), (1, 0)):
        keys = rng.integers(0, size, n)
        np.testing.assert_array_equal(_distinct(keys, size), np.unique(keys))


def test_session_stats_count_cases_raters_and_judgements():
    fw = load_framework("han-wpl2-2025")
    sim = simulate(fw, SimulationConfig(n_sessions=2, n_raters=4, cases_per_session=5, seed=2)).scores
    sim = sim[~((sim["rater"] == "B02") & (sim["case"] == sim["case"].iloc[0]))]
    st = session_stats(CodedScores.code(sim)).set_index("session")
    for s, g in sim.groupby("session"):
        assert st.loc[s, "n_judgements"] == len(g)
        assert st.loc[s, "n_cases"] == g["case"].nunique()
        assert st.loc[s, "n_raters"] == g["rater"].nunique()
        assert st.loc[s, "max_raters_on_a_case"] == g.groupby("case")["rater"].nunique().max()


def test_per_case_occasions_code_like_the_text_table():
    fw = load_framework("han-wpl2-2025")
    sim = simulate(fw, SimulationConfig(n_sessions=3, n_raters=4, cases_per_session=5, seed=5)).scores
    coded = CodedScores.code(sim, framework=fw)
    sub = coded.select(coded.frame["rater"].isin(["B01", "B03"]).to_numpy())
    cols = ["session", "session_date", "case", "rater", "item", "kind", "value"]
    text = sub.to_frame(cols)
    text = text.assign(session=text["session"].astype(str) + "\x1f" + text["case"].astype(str))
    a = CodedScores.code(text).with_framework(fw)
    b = CodedScores.code(_per_case_occasions(sub, cols)).with_framework(fw)
    pd.testing.assert_frame_equal(b.frame, a.frame, check_exact=True)
    pd.testing.assert_frame_equal(b.items, a.items)
    assert b.session_dates == a.session_dates
    for c in ("session", "case", "rater", "item", "value"):
        assert list(b.frame[c].cat.categories) == list(a.frame[c].cat.categories)
