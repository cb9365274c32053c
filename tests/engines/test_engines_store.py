"""The store as a source: the SQLite workspace through Store.scores, and a team store on
PostgreSQL queried in place, as the logged-in role, with the store's rule for the current
judgement (the latest id per session, case, rater and item)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from calibrate.engines import agreement_table
from calibrate.store import Store, access

from engine_cases import assert_same, simulated_archive

SPECS = ["krippendorff_alpha:ordinal", "gwet_ac:quadratic", "conger_kappa", "fleiss_kappa", "icc:twoway_random"]


def test_a_workspace_through_store_scores(tmp_path):
    scores = simulated_archive(seed=11, drop=0.0)
    with Store.open(tmp_path / "ws") as st:
        st.import_scores(scores)
        ref = agreement_table(st, coefficients=SPECS)
        assert_same(agreement_table(st, engine="duckdb", coefficients=SPECS), ref, ["session", "item"])
        assert_same(agreement_table(st.scores(), coefficients=SPECS), ref, ["session", "item"])


@pytest.fixture
def team(pg_url):
    """A PostgreSQL store: imported sessions (revealed) with later re-saves, and an
    unrevealed session KX scored by B01 and B02 under their own logins."""
    owner = Store.open(db_url=pg_url)
    scores = simulated_archive(seed=5, drop=0.1)
    owner.import_scores(scores)
    # history: change some current judgements (the latest save counts)
    # (an import: revealed sessions take no more saves from the app since schema version 3)
    first = scores[(scores["kind"] == "level")].head(6).copy()
    first["value"] = ["6" if v != "6" else "1" for v in first["value"]]
    owner.import_scores(first, source="re-saves")
    cases = sorted(scores["case"].unique())[:6]
    owner.create_session("KX", "2026-11-02", cases=cases, raters=["B01", "B02"])
    tag = uuid.uuid4().hex[:6]
    access.enable_row_level_security(owner, group=f"g{tag}", role_prefix=f"t{tag}_")
    urls = {r: access.create_assessor(owner, r, f"wachtwoord-{r}") for r in ("B01", "B02")}
    stores = {r: Store.open(db_url=u) for r, u in urls.items()}
    items = sorted(scores.loc[scores["kind"].isin(["level", "phase"]), "item"].unique())[:3]
    for k, c in enumerate(cases):
        for rater, st in stores.items():
            st.save_judgements("KX", c, rater, {it: str(1 + (k + j + (rater == "B02")) % 6) if it.endswith("niveau")
                                                else ("begin", "groei", "vergevorderd")[(k + j) % 3]
                                                for j, it in enumerate(items)})
    stores["B01"].save_judgements("KX", cases[0], "B01", {items[0]: "2" if items[0].endswith("niveau") else "groei"})
    yield owner, stores
    for s in stores.values():
        s.close()
    owner.close()


@pytest.mark.postgres
def test_postgres_in_place_equals_store_scores(team):
    owner, stores = team
    ref = agreement_table(owner, coefficients=SPECS)
    ours = agreement_table(owner, engine="postgres", coefficients=SPECS)
    assert_same(ours, ref, ["session", "item"])
    kx = ours[ours["session"] == "KX"]
    assert len(kx) and (kx["n_raters"] == 2).all()
    # the session's date comes from the sessions table
    by_date = agreement_table(owner, engine="postgres", by="session_date,item", coefficients=["gwet_ac:quadratic"])
    assert_same(by_date, agreement_table(owner, by="session_date,item", coefficients=["gwet_ac:quadratic"]),
                ["session_date", "item"])


@pytest.mark.postgres
def test_an_assessor_sees_what_row_level_security_lets_them_see(team):
    owner, stores = team
    b01 = stores["B01"]
    ref = agreement_table(b01, coefficients=SPECS)  # Store.scores as B01's role
    ours = agreement_table(b01, engine="postgres", coefficients=SPECS)
    assert_same(ours, ref, ["session", "item"])
    kx = ours[ours["session"] == "KX"]
    assert len(kx) and (kx["n_raters"] == 1).all()  # blind: only their own judgements
    assert set(ours["session"]) == set(owner.scores()["session"])  # revealed sessions are readable
