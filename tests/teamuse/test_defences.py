"""The store defends itself (issue 14 items 1 and 3, issue 13 item 2), tried over raw SQL:

* judgement ids are the database's: an assessor cannot insert with a chosen id (not even
  with ``OVERRIDING SYSTEM VALUE``), so nobody can block the others' saves;
* no judgement or consensus value outside its item's scale can exist (SQLite and PostgreSQL);
* the reveal closes the blind round: no judgement joins a revealed session;
* assessors see no activity statistics and cannot call ``nextval``;
* assessors' notes are pseudonymised by the database, with a key and fingerprints the
  assessor cannot read.
"""

from __future__ import annotations

import secrets
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from calibrate import privacy
from calibrate.errors import AccessError
from calibrate.store import Store
from calibrate.store import access, pseudonyms
from calibrate.store.retry import WriteFailedError
from calibrate.store.saves import RoundClosedError
from calibrate.widgets._common import dutch_error

LEVEL = "leerklimaat.niveau"
NOW = "2026-01-19T10:00:00+00:00"
ROSTER = pd.DataFrame({"name": ["Sanne de Vries", "Mehmet Yılmazer", "Het Baken"],
                       "role": ["student", "student", "school"],
                       "email": ["s.devries@example.nl", "", ""]})
NOTE = ("Sanne kwam te laat; Yılmazer (en Yilmazer zonder puntje) hielp haar. Mail s.devries@example.nl "
        "of bel 06-12345678. Bas zat op Het Baken.")


def _insert(override: bool = False, **values) -> sa.TextClause:
    """A raw INSERT of one judgement (the test's own fixed column names, values bound)."""
    cols = {"session_id": "K1", "case_id": "C01", "rater_id": "B01", "item_id": "besluit", "value": "go",
            "scored_at": NOW, "saved_at": NOW, **values}
    names = ", ".join(cols)
    how = " OVERRIDING SYSTEM VALUE" if override else ""
    return sa.text(f"INSERT INTO judgements ({names}){how} VALUES ({', '.join(':' + c for c in cols)})").bindparams(**cols)


@pytest.fixture
def team(pg_url, tmp_path, monkeypatch):
    """Owner with the key, a roster imported, row-level security on; two assessor logins
    whose apps have no key."""
    key = secrets.token_bytes(32)
    monkeypatch.setenv(privacy.KEY_ENV, key.hex())
    owner = Store.open(db_url=pg_url)
    roster = privacy.load_roster(ROSTER)
    owner.import_cases(pd.DataFrame({"case": ["C01", "C02"], "title": ["Les", "Les 2"],
                                     "text": ["Sanne de Vries en Mehmet Yılmazer van Het Baken.", "x"]}),
                       pseudonymiser=privacy.Pseudonymiser(roster, key=key))
    owner.create_session("K1", "2026-01-19", cases=["C01", "C02"], raters=["B01", "B02"])
    tag = uuid.uuid4().hex[:6]
    access.enable_row_level_security(owner, group=f"d{tag}", role_prefix=f"d{tag}_")
    urls = {r: access.create_assessor(owner, r, f"geheim-{r}-123") for r in ("B01", "B02")}
    # the assessors' apps hold no key, and cannot make one
    monkeypatch.delenv(privacy.KEY_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    stores = {r: Store.open(db_url=u) for r, u in urls.items()}
    yield owner, stores, urls, key
    for s in stores.values():
        s.close()
    owner.close()


def _raw(url):
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


# ------------------------------------------------------------------ ids are the database's
@pytest.mark.postgres
def test_an_assessor_cannot_choose_a_judgement_id(team):
    owner, stores, urls, _ = team
    assert stores["B02"].save_judgements("K1", "C01", "B02", {"besluit": "go"}) == 1
    with owner.engine.connect() as c:
        top = c.execute(sa.text("SELECT max(id) FROM judgements")).scalar_one()
    with _raw(urls["B01"]).connect() as c:
        for stmt in (_insert(id=top + 1), _insert(override=True, id=top + 1)):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied|non-DEFAULT"):
                with c.begin():
                    c.execute(stmt)
        # ids ahead of the sequence are what blocked others before; the sequence is out of reach too
        for probe in ("SELECT nextval(pg_get_serial_sequence('judgements', 'id'))",
                      "SELECT setval(pg_get_serial_sequence('judgements', 'id'), 1000000)"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with c.begin():
                    c.execute(sa.text(probe))
        with c.begin():  # without an id the row goes in, numbered by the database
            c.execute(_insert())
    # and every other assessor's save keeps working
    for i in range(3):
        assert stores["B02"].save_judgements("K1", "C02", "B02", {"besluit": ["go", "no go"][i % 2]}) == 1
    assert len(owner.scores("K1", history=True)) == 5


@pytest.mark.postgres
def test_assessors_see_no_activity_statistics(team):
    owner, stores, urls, _ = team
    stores["B02"].save_judgements("K1", "C01", "B02", {"besluit": "go"})
    assert access.activity_statistics_hidden(owner)
    with _raw(urls["B01"]).connect() as c:
        for probe in ("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'judgements'",
                      "SELECT n_tup_ins FROM pg_stat_all_tables WHERE relname = 'judgements'",
                      "SELECT * FROM pg_stat_xact_user_tables",
                      "SELECT * FROM pg_statio_user_tables",
                      "SELECT usename, state FROM pg_stat_activity",
                      "SELECT * FROM pg_locks",
                      "SELECT pg_stat_get_tuples_inserted(CAST('judgements' AS regclass))",
                      "SELECT pg_stat_get_live_tuples(CAST('judgements' AS regclass))",
                      "SELECT pg_relation_size('judgements')",
                      "SELECT pg_total_relation_size('judgements')"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with c.begin():
                    c.execute(sa.text(probe))
    # the owner (a superuser here) still sees them
    with owner.engine.connect() as c:
        assert c.execute(sa.text("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'judgements'")).scalar() >= 0


# ------------------------------------------------------------------ values within the scale
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_no_value_outside_its_items_scale_can_be_written(backend, tmp_path, request):
    url = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    st = Store.open(tmp_path / "ws") if url is None else Store.open(db_url=url)
    st.import_cases(pd.DataFrame({"case": ["C01"], "title": ["a"], "text": ["x"]}))
    st.create_session("K1", "2026-01-19", cases=["C01"], raters=["B01"])
    assert st.save_judgements("K1", "C01", "B01", {"besluit": "go", LEVEL: "4"}) == 2
    bad = [{"item_id": "besluit", "value": "misschien"}, {"item_id": LEVEL, "value": "7"}, {"item_id": LEVEL, "value": ""},
           {"item_id": "leerklimaat.klassenmanagement.1", "value": "1"}]
    for values in bad:
        with pytest.raises(sa.exc.DBAPIError, match="outside the scale"):
            with st.engine.begin() as c:
                c.execute(_insert(**values))
        with pytest.raises(sa.exc.DBAPIError, match="outside the scale"):
            with st.engine.begin() as c:
                c.execute(sa.text("INSERT INTO consensus (session_id, case_id, item_id, value, scored_at, saved_at) "
                                  "VALUES ('K1', 'C01', :i, :v, :t, :t)"), {"i": values["item_id"], "v": values["value"], "t": NOW})
    with pytest.raises(sa.exc.DBAPIError, match="outside the scale"):  # nor changed into one
        with st.engine.begin() as c:
            c.execute(sa.text("UPDATE judgements SET value = '9' WHERE item_id = :i"), {"i": LEVEL})
    with st.engine.begin() as c:  # a note alone, and n.v.t. on an indicator, are within the scale
        c.execute(_insert(item_id="besluit", value=None))
        c.execute(_insert(item_id="leerklimaat.klassenmanagement.1", value="n.v.t."))
    # a researcher's own item (no framework) gets the contract's codes of its kind
    st.import_scores(pd.DataFrame({"session": ["K9"], "session_date": ["2026-02-01"], "case": ["C01"], "rater": ["B01"],
                                   "item": ["eigen.item"], "kind": ["verdict"], "value": ["voldaan"]}))
    with pytest.raises(sa.exc.DBAPIError, match="outside the scale"):
        with st.engine.begin() as c:
            c.execute(_insert(session_id="K9", item_id="eigen.item", value="go"))
    assert set(st.scores()["value"].dropna().astype(str)) <= {"go", "4", "n.v.t.", "voldaan"}
    st.close()


def test_a_database_refusal_in_a_save_is_a_message_not_silence(tmp_path):
    """A save the database refuses (here: a trigger the store does not know) becomes a
    WriteFailedError that says nothing was saved, and the app's Dutch message asks to retry."""
    st = Store.open(tmp_path / "ws")
    st.import_cases(pd.DataFrame({"case": ["C01"], "title": ["a"], "text": ["x"]}))
    st.create_session("K1", "2026-01-19", cases=["C01"], raters=["B01"])
    with st.engine.begin() as c:
        c.exec_driver_sql("CREATE TRIGGER full BEFORE INSERT ON judgements BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(WriteFailedError, match="disk is full.*nothing of it was saved") as info:
        st.save_judgements("K1", "C01", "B01", {"besluit": "go"})
    text = dutch_error(info.value, saving=True)
    assert text.startswith("Niet opgeslagen: de database weigerde het opslaan.") and "opnieuw met Opslaan" in text
    with st.engine.begin() as c:
        c.exec_driver_sql("DROP TRIGGER full")
    assert st.save_judgements("K1", "C01", "B01", {"besluit": "go"}) == 1  # the retry goes in
    st.close()


# ------------------------------------------------------------------ the reveal closes the round
@pytest.mark.postgres
def test_after_the_reveal_no_assessor_can_add_a_judgement(team):
    owner, stores, urls, _ = team
    assert stores["B01"].save_judgements("K1", "C01", "B01", {"besluit": "go"}) == 1
    owner.reveal("K1")
    with pytest.raises(RoundClosedError, match="closed its blind round"):
        stores["B01"].save_judgements("K1", "C01", "B01", {"besluit": "no go"})
    with _raw(urls["B01"]).connect() as c:  # raw SQL gets no further: the insert policy refuses
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with c.begin():
                c.execute(_insert(value="no go"))
    assert list(owner.scores("K1")["value"].astype(str)) == ["go"]
    assert owner.sessions().set_index("session").loc["K1", "revealed"]


# ------------------------------------------------------------------ pseudonyms inside the database
@pytest.mark.postgres
def test_notes_are_pseudonymised_by_the_database_without_the_key(team, tmp_path):
    owner, stores, urls, key = team
    b01 = stores["B01"]
    assert isinstance(b01.note_pseudonymiser(), pseudonyms.ServerPseudonymiser)
    assert not (tmp_path / "home" / ".config" / "calibrate").exists()  # no key file made for the assessor
    b01.save_judgements("K1", "C01", "B01", {"besluit": ("go", NOTE)})
    stored = owner.scores("K1").set_index("rater").loc["B01", "note"]
    # the peer: the same text pseudonymised where key and fingerprints are at hand
    local = privacy.Pseudonymiser.from_fingerprints(owner.name_fingerprints(), key=key).pseudonymise(NOTE).text
    assert stored == local
    for planted in ("Sanne", "Yılmazer", "Yilmazer", "s.devries", "06-12345678", "Baken"):
        assert planted not in stored
    text = owner.cases("K1").set_index("case").loc["C01", "text"]
    assert stored.split(" kwam")[0] in text  # the same token as in the case text
    assert {c["role"] for c in pseudonyms.calls(owner)} == {access.assessor_url(owner, "B01").split("//")[1].split("@")[0]}


@pytest.mark.postgres
def test_an_assessor_cannot_read_the_key_or_test_names_freely(team):
    owner, stores, urls, key = team
    with _raw(urls["B01"]).connect() as c:
        for probe in ("SELECT * FROM name_fingerprints", "SELECT * FROM calibrate_secret",
                      "SELECT * FROM calibrate_pseudonym_calls", "DELETE FROM calibrate_pseudonym_calls",
                      "UPDATE calibrate_secret SET pseudonym_key = '\\x00'"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with c.begin():
                    c.execute(sa.text(probe))
        # the token of a person is not something the functions make: no shortcut past the table
        ident = privacy._identity("Sanne de Vries")
        for args in ({"p": ["student"], "ns": ["person"], "v": [ident]},
                     {"p": ["student"], "ns": ["ambiguous"], "v": ["name:i\x1fsanne"]}):
            with pytest.raises(sa.exc.ProgrammingError, match="not a token the pseudonymiser makes"):
                with c.begin():
                    c.execute(sa.text("SELECT calibrate_pseudonym_tokens(:p, :ns, :v)"), args)
        with pytest.raises(sa.exc.ProgrammingError, match="not a look-up"):
            with c.begin():
                c.execute(sa.text("SELECT calibrate_pseudonym_lookup(:ns, :v)"), {"ns": ["covered"], "v": ["x"]})
        with pytest.raises(sa.exc.DBAPIError, match="at most"):
            with c.begin():
                c.execute(sa.text("SELECT calibrate_pseudonym_lookup(:ns, :v)"),
                          {"ns": ["word"] * (pseudonyms.MAX_VALUES + 1), "v": ["x"] * (pseudonyms.MAX_VALUES + 1)})
        # what the function gives is exactly what a note would show; every call is logged
        with c.begin():
            got = c.execute(sa.text("SELECT calibrate_pseudonym_lookup(:ns, :v)"),
                            {"ns": ["word", "word"], "v": ["sanne", "tafel"]}).scalar_one()
    assert got[0] == privacy.Pseudonymiser(privacy.load_roster(ROSTER), key=key).pseudonymise("Sanne").text
    assert got[1] is None
    assert [c["n_values"] for c in pseudonyms.calls(owner)][-1] == 2
    # the owner's own app still uses its key
    assert not isinstance(owner.note_pseudonymiser(), pseudonyms.ServerPseudonymiser)
    with pytest.raises(AccessError):
        stores["B01"].save_judgements("K1", "C01", "B02", {"besluit": "go"})
