"""Rounds (issue 13 item 2): the reveal closes the blind round, a re-score round is opened by
the facilitator, every row says its round, and agreement before and after the discussion
comes with a paired case-bootstrap interval — checked against calibrate.agreement's own
Krippendorff's α on the same tables, resample by resample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate import facilitator as fac
from calibrate import rounds
from calibrate.agreement import krippendorff_alpha
from calibrate.inference import percentile_interval
from calibrate.schema import CODES
from calibrate.scoring import ScoringSession
from calibrate.store import Store
from calibrate.store.saves import RoundClosedError
from calibrate.widgets import ScoringForm
from calibrate.widgets._common import dutch_error

CASES = [f"C{i:02d}" for i in range(1, 7)]
RATERS = ["B01", "B02", "B03", "B04"]
LEVELS = ["leerklimaat.niveau", "afstemmen.niveau", "leerstof.niveau"]
VERDICTS = ["leerklimaat.oordeel", "afstemmen.oordeel"]


def _blind_and_rescore(st: Store, rng: np.random.Generator) -> str:
    """K1 scored blind (levels spread widely, verdicts at random), revealed; the re-score
    round K1-R2 scored closer together, revealed."""
    st.import_cases(pd.DataFrame({"case": CASES, "title": [f"Les {c}" for c in CASES], "text": ["x"] * len(CASES)}))
    st.create_session("K1", "2026-03-02", cases=CASES, raters=RATERS)
    truth = {(c, i): int(rng.integers(2, 6)) for c in CASES for i in LEVELS}
    for r in RATERS:
        for c in CASES:
            vals = {i: str(int(np.clip(truth[c, i] + rng.integers(-2, 3), 1, 6))) for i in LEVELS}
            vals.update({v: str(rng.choice(["voldaan", "niet voldaan"])) for v in VERDICTS})
            st.save_judgements("K1", c, r, vals)
    fac.reveal(st, "K1")
    new = fac.open_rescore_round(st, "K1", session_date="2026-03-09")
    for r in RATERS:
        for c in CASES:
            vals = {i: str(int(np.clip(truth[c, i] + rng.integers(0, 2), 1, 6))) for i in LEVELS}
            agreed = truth[c, LEVELS[0]] >= 4
            vals.update({v: "voldaan" if agreed != (rng.random() < 0.2) else "niet voldaan" for v in VERDICTS})
            st.save_judgements(new, c, r, vals)
    fac.reveal(st, new)
    return new


@pytest.fixture
def two_rounds(tmp_path):
    st = Store.open(tmp_path / "ws")
    new = _blind_and_rescore(st, np.random.default_rng(7))
    yield st, new
    st.close()


def test_the_reveal_closes_the_blind_round_and_the_app_says_so(two_rounds):
    st, new = two_rounds
    before = st.counts()["judgements"]
    with pytest.raises(RoundClosedError, match="closed its blind round"):
        st.save_judgements("K1", "C01", "B01", {"leerklimaat.niveau": "6"})
    assert st.counts()["judgements"] == before
    # the assessor's app: the save is refused with the Dutch message, the edit stays on screen
    app = ScoringForm(ScoringSession.open(st, "B01", "K1"), store=st)
    app.on_value("leerklimaat.niveau", "6")
    assert app.on_save() is None
    assert app.state["status"]["kind"] == "error" and app.state["dirty"]
    assert app.status_text.startswith("De blinde ronde is gesloten sinds de onthulling;")
    assert "herbeoordelingsronde" in app.status_text and st.counts()["judgements"] == before
    assert dutch_error(RoundClosedError("K1"), saving=True) == app.status_text
    # the revealed time is kept, once
    revealed_at = st.sessions().set_index("session").loc["K1", "revealed"]
    assert revealed_at


def test_scores_pick_a_round_and_say_which(two_rounds):
    st, new = two_rounds
    assert st.session_rounds().set_index("session").loc[new, "round"] == 1
    blind = st.scores("K1", round=0)
    again = st.scores("K1", round=1)
    assert set(blind["session"].astype(str)) == {"K1"} and set(blind["round"]) == {0}
    assert set(again["session"].astype(str)) == {new} and set(again["round"]) == {1}
    assert len(blind) == len(again) == len(CASES) * len(RATERS) * (len(LEVELS) + len(VERDICTS))
    # from the re-score round's id the same rounds are found; without a session, every session's
    assert st.scores(new, round=0).equals(blind)
    assert set(st.scores(round=1)["session"].astype(str)) == {new}
    # the default is unchanged: the contract's columns, the latest judgement
    assert "round" not in st.scores("K1").columns and st.scores("K1").equals(blind.drop(columns="round"))
    assert list(st.scores(with_round=True)["round"].drop_duplicates()) == [0, 1]


def _alpha(df: pd.DataFrame, level: str, codes) -> float:
    return krippendorff_alpha(df.rename(columns={"unit": "unit"}), level=level, categories=list(codes)).value


def _long(scores: pd.DataFrame, session: str, kind: str) -> pd.DataFrame:
    s = scores[(scores["session"].astype(str) == session) & (scores["kind"] == kind)]
    return pd.DataFrame({"unit": s["case"].astype(str) + "|" + s["item"].astype(str), "case": s["case"].astype(str),
                         "rater": s["rater"].astype(str), "value": s["value"].astype(str)})


def test_before_and_after_agree_with_krippendorff_alpha_resample_by_resample(two_rounds):
    st, new = two_rounds
    scores = st.scores(["K1", new])
    comp = rounds.compare_rounds(scores, "K1", new, n_boot=200, seed=11)
    by_kind = {k.kind: k for k in comp.kinds}
    assert set(by_kind) == {"level", "verdict"}
    for kind, level in (("level", "ordinal"), ("verdict", "nominal")):
        k = by_kind[kind]
        b = _alpha(_long(scores, "K1", kind), level, CODES[kind])
        a = _alpha(_long(scores, new, kind), level, CODES[kind])
        assert k.before == pytest.approx(b, abs=1e-12) and k.after == pytest.approx(a, abs=1e-12)
        assert k.change == pytest.approx(a - b, abs=1e-12)
        assert k.n_cases == len(CASES) and k.n_raters == len(RATERS)
    assert by_kind["level"].after > by_kind["level"].before
    # the interval: the same resamples of cases drawn by hand, α of each by calibrate.agreement
    rng = np.random.default_rng(11)
    for kind, level in (("level", "ordinal"), ("verdict", "nominal")):  # kinds in CONTRACTS order, as compared
        draws = rng.integers(0, len(CASES), size=(200, len(CASES)))
        diffs = []
        for row in draws:
            parts = {}
            for sess in ("K1", new):
                df = _long(scores, sess, kind)
                picked = [df[df["case"] == CASES[c]].assign(unit=lambda d, j=j: d["unit"] + f"#{j}")
                          for j, c in enumerate(row)]
                parts[sess] = _alpha(pd.concat(picked), level, CODES[kind])
            diffs.append(parts[new] - parts["K1"])
        diffs = np.asarray(diffs)
        assert np.isfinite(diffs).mean() >= 0.9  # else compare_rounds gives no interval
        lo, hi = percentile_interval(diffs[np.isfinite(diffs)], 0.95)
        assert by_kind[kind].ci == pytest.approx((lo, hi), abs=1e-12)
    assert comp.overall is not None and comp.overall.after > comp.overall.before


def test_report_section_has_the_shared_shape(two_rounds):
    st, new = two_rounds
    sec = rounds.report_section(st, "K1", n_boot=200)
    assert sec["id"] == "rondes" and sec["title"] == "Overeenstemming vóór en na de bespreking"
    assert set(sec) == {"id", "title", "intro", "tables", "figures", "notes"}
    (table,) = sec["tables"]
    keys = [k for k, _ in table["columns"]]
    assert all(set(row) == set(keys) for row in table["rows"])
    kinds = [row["kind"] for row in table["rows"]]
    assert kinds == ["niveau", "oordeel", "alle soorten samen"]  # Dutch names, never raw kinds
    for row in table["rows"]:
        for key in ("before", "after", "change", "ci_low", "ci_high"):
            assert row[key] is None or isinstance(row[key], float)
        assert row["ci_low"] is not None and row["ci_low"] <= row["change"] <= row["ci_high"]
    assert all("herbeoordeling 1" in row["round"] for row in table["rows"])
    # a session without a re-score round has no such section
    st.create_session("K5", "2026-05-01", cases=CASES[:2], raters=RATERS[:2])
    assert rounds.report_section(st, "K5") is None


def test_a_rescore_round_needs_two_common_assessors(two_rounds):
    st, new = two_rounds
    scores = st.scores(["K1", new])
    few = scores[~((scores["session"].astype(str) == new) & scores["rater"].isin(RATERS[1:]))]
    with pytest.raises(Exception, match="fewer than two assessors"):
        rounds.compare_rounds(few, "K1", new)
