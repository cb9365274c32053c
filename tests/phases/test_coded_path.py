"""The coded path of the verdict classification and the rates gives the text path's table.

``classify_verdicts`` reads a :class:`~calibrate.scores.CodedScores` on its integer codes
(reference ``"own"``) and a plain table as text; both must give the same table, row for
row and type for type, including missing phases, ``n.v.t.``, duplicate phase rows and
sessions whose ids do not sort in time order. Values off the scale still raise the text
path's error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate import phases as P
from calibrate.devtools.simulate import SimulationConfig, simulate
from calibrate.errors import InputError
from calibrate.frameworks import load_framework
from calibrate.scores import CodedScores


@pytest.fixture(scope="module")
def fw():
    return load_framework("han-wpl2-2025")


@pytest.fixture(scope="module")
def messy(fw):
    """A simulated table with holes: phases dropped, n.v.t. and empty values, session ids
    out of time order, and a repeated phase row (a later row wins)."""
    sim = simulate(fw, SimulationConfig(n_sessions=3, n_raters=6, cases_per_session=8, seed=11)).scores.copy()
    rng = np.random.default_rng(3)
    phase = sim["kind"] == "phase"
    drop = phase & (rng.random(len(sim)) < 0.15)
    sim = sim[~drop].reset_index(drop=True)
    nvt = (sim["kind"] == "phase") & (rng.random(len(sim)) < 0.05)
    sim.loc[nvt, "value"] = "n.v.t."
    empty = (sim["kind"] == "verdict") & (rng.random(len(sim)) < 0.05)
    sim.loc[empty, "value"] = ""
    first = sorted(sim["session"].unique())[0]
    sim.loc[sim["session"] == first, "session"] = "Z-" + first  # sorts last, happens first
    again = sim[sim["kind"] == "phase"].head(5).copy()
    again["value"] = "vergevorderd"
    return pd.concat([sim, again], ignore_index=True)


def test_coded_and_text_tables_classify_the_same(messy, fw):
    text = P.classify_verdicts(messy, fw)
    coded = P.classify_verdicts(CodedScores.code(messy, framework=fw), fw)
    assert len(text) > 100 and set(text["classification"]) >= {"consistent", "insufficient"}
    pd.testing.assert_frame_equal(coded, text, check_exact=True)
    pd.testing.assert_frame_equal(P.rater_rates(coded), P.rater_rates(text), check_exact=True)


def test_the_rates_are_the_rates_of_each_raters_own_rows(messy, fw):
    cl = P.classify_verdicts(messy, fw)
    rates = P.rater_rates(cl).set_index("rater")
    for rater, mine in cl.groupby("rater"):
        det = mine[mine["classification"] != "insufficient"]
        assert rates.loc[rater, "n"] == len(det)
        assert rates.loc[rater, "n_cases"] == det["case"].nunique()
        assert rates.loc[rater, "lenient_rate"] == pytest.approx((det["classification"] == "lenient").mean())


def test_a_phase_off_the_scale_raises_the_same_error_on_both_paths(messy, fw):
    bad = messy.copy()
    row = bad.index[bad["kind"] == "phase"][3]
    bad.loc[row, "value"] = "halverwege"
    with pytest.raises(InputError, match="halverwege") as text:
        P.classify_verdicts(bad, fw)
    with pytest.raises(InputError, match="halverwege") as coded:
        P.classify_verdicts(CodedScores.code(bad, framework=fw), fw)
    assert str(coded.value) == str(text.value)


def test_a_coded_consensus_table_is_refused_as_the_text_path_refuses_it(messy, fw):
    cons = CodedScores.code(messy.drop(columns=["rater"]), framework=fw)
    with pytest.raises(InputError, match="rater"):
        P.classify_verdicts(cons, fw)
