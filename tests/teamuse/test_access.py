"""Access on PostgreSQL: each assessor connects with their own database role; the database
itself keeps them blind until the reveal and lets them write only their own judgements."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from calibrate.errors import AccessError, InputError, StoreError
from calibrate.store import Store
from calibrate.store import access

pytestmark = pytest.mark.postgres


@pytest.fixture
def team(pg_url):
    """Owner store with session K1 (B01, B02: C01, C02), K2 (B03 only), and a login per assessor."""
    owner = Store.open(db_url=pg_url)
    owner.import_cases(pd.DataFrame({"case": ["C01", "C02", "C03"], "title": ["a", "b", "c"], "text": ["x", "y", "z"]}))
    owner.create_session("K1", "2026-01-19", cases=["C01", "C02"], raters=["B01", "B02"])
    owner.create_session("K2", "2026-02-02", cases=["C03"], raters=["B03"])
    tag = uuid.uuid4().hex[:6]
    access.enable_row_level_security(owner, group=f"g{tag}", role_prefix=f"t{tag}_")
    urls = {r: access.create_assessor(owner, r, f"geheim-{r}-'%;x") for r in ("B01", "B02", "B03")}
    stores = {r: Store.open(db_url=u) for r, u in urls.items()}
    yield owner, stores, urls
    for s in stores.values():
        s.close()
    owner.close()


def _raw(url):
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def test_identity_comes_from_the_login(team):
    owner, stores, urls = team
    assert access.connected_rater(owner) is None
    assert {r: access.connected_rater(s) for r, s in stores.items()} == {"B01": "B01", "B02": "B02", "B03": "B03"}
    assert access.row_level_security_enabled(owner)


def test_blind_until_reveal_with_separate_connections(team):
    owner, stores, urls = team
    stores["B01"].save_judgements("K1", "C01", "B01", {"besluit": "go", "leerklimaat.niveau": ("4", "sterk begin")})
    stores["B02"].save_judgements("K1", "C01", "B02", {"besluit": "no go"})
    owner.save_consensus("K1", "C01", {"besluit": ("go", "samen besproken")})

    for rater, n_own in (("B01", 2), ("B02", 1)):
        st = stores[rater]
        assert set(st.scores()["rater"]) == {rater} and len(st.scores()) == n_own
        assert len(st.consensus()) == 0
        with pytest.raises(AccessError, match="not been revealed"):
            st.rater_view(rater).scores("K1")
        with _raw(urls[rater]).connect() as c:  # plain SQL gets no further than the app
            assert {r[0] for r in c.execute(sa.text("SELECT DISTINCT rater_id FROM judgements"))} == {rater}
            assert c.execute(sa.text("SELECT count(*) FROM consensus")).scalar_one() == 0
    assert len(owner.scores()) == 3

    owner.reveal("K1")
    for rater in ("B01", "B02"):
        assert len(stores[rater].rater_view(rater).scores("K1")) == 3
        assert len(stores[rater].consensus("K1")) == 1
    # not a member of K1: sees neither the session nor its judgements, revealed or not
    assert len(stores["B03"].scores()) == 0 and list(stores["B03"].sessions()["session"]) == ["K2"]
    with pytest.raises(AccessError):
        stores["B03"].rater_view("B03").scores("K1")


def test_an_assessor_writes_only_their_own_judgements(team):
    owner, stores, urls = team
    b01 = stores["B01"]
    with pytest.raises(AccessError):
        b01.save_judgements("K1", "C01", "B02", {"besluit": "go"})
    # not in K1: refused; under row-level security B03 cannot even see that C01 belongs to K1
    with pytest.raises((AccessError, InputError), match="not part of session|not an assessor"):
        stores["B03"].save_judgements("K1", "C01", "B03", {"besluit": "go"})
    with _raw(urls["B01"]).connect() as c:
        for stmt, params in [
            ("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, scored_at, saved_at) "
             "VALUES (:s, :c, :r, 'besluit', 'go', 't', 't')", {"s": "K1", "c": "C01", "r": "B02"}),
            ("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, scored_at, saved_at) "
             "VALUES (:s, :c, :r, 'besluit', 'go', 't', 't')", {"s": "K2", "c": "C03", "r": "B01"}),
            ("UPDATE judgements SET value = 'no go'", {}),
            ("DELETE FROM judgements", {}),
            ("UPDATE sessions SET revealed = true", {}),
            ("INSERT INTO consensus (session_id, case_id, item_id, value, scored_at, saved_at) "
             "VALUES ('K1', 'C01', 'besluit', 'go', 't', 't')", {}),
            ("INSERT INTO session_raters (session_id, rater_id) VALUES ('K2', 'B01')", {}),
            ("UPDATE meta SET value = '99'", {}),
            ("CREATE TABLE stolen (x int)", {}),
        ]:
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security|permission denied"):
                with c.begin():
                    c.execute(sa.text(stmt), params)
        # own rater id, own session, but a case outside it: the table's key refuses the row
        with pytest.raises(sa.exc.IntegrityError, match="fk_judgements_session_case"):
            with c.begin():
                c.execute(sa.text("INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, scored_at, saved_at) "
                                  "VALUES ('K1', 'C03', 'B01', 'besluit', 'go', 't', 't')"))
        # SET ROLE to the group changes nothing: identity is the login (session_user)
        with c.begin():
            group = c.execute(sa.text("SELECT value FROM meta WHERE key = 'access.group'")).scalar_one()
            c.execute(sa.text("SELECT set_config('role', :g, true)"), {"g": group})
            assert c.execute(sa.text("SELECT count(*) FROM judgements WHERE rater_id <> 'B01'")).scalar_one() == 0
    with pytest.raises(AccessError, match="refused"):
        b01.reveal("K1")
    assert not owner.is_revealed("K1")
    # their own saves work, append-only, and values travel as parameters
    evil = "'); DROP TABLE judgements; --"
    assert b01.save_judgements("K1", "C01", "B01", {"besluit": ("go", evil)}) == 1
    assert b01.rater_view("B01").my_scores("K1")["note"].tolist() == [evil]
    assert owner.counts()["judgements"] == 1


def test_create_assessor_checks_names_and_leaves_other_roles_alone(team, pg_url):
    owner, stores, urls = team
    for bad in ['x"; DROP ROLE postgres; --', "", "a b", "ë01", "B01'", "x" * 64]:
        with pytest.raises(InputError):
            access.create_assessor(owner, bad, "lang-genoeg")
    with pytest.raises(InputError):
        access.create_assessor(owner, "B04", "kort")
    prefix = urls["B01"].split("//", 1)[1].split("_", 1)[0] + "_"
    with owner.engine.begin() as c:  # a role that happens to have an assessor's name
        c.execute(sa.text("SELECT 1"))
        from psycopg import sql

        cur = c.connection.cursor()
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(prefix + "B09")))
    with pytest.raises(AccessError, match="left unchanged"):
        access.create_assessor(owner, "B09", "lang-genoeg")
    # the password with quotes and a percent sign was stored as given (SCRAM hash present)
    with owner.engine.connect() as c:
        pw = c.execute(sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": prefix + "B01"}).scalar_one()
    assert pw.startswith("SCRAM-SHA-256$")
    # resetting a password is allowed; the URL works
    url = access.create_assessor(owner, "B01", "nieuw-wachtwoord")
    with Store.open(db_url=url) as again:
        assert access.connected_rater(again) == "B01"
    access.remove_assessor(owner, "B02")
    with pytest.raises(StoreError, match="cannot open"):
        Store.open(db_url=urls["B02"])
    assert owner.counts()["raters"] == 3  # the rater and their judgements stay


def test_access_needs_postgres(tmp_path):
    with Store.open(tmp_path / "ws") as st:
        with pytest.raises(StoreError, match="need PostgreSQL"):
            access.enable_row_level_security(st)
        assert access.connected_rater(st) is None


def test_no_sql_is_built_from_strings():
    """SQL goes through SQLAlchemy parameters: no f-string or %-formatted statement text."""
    src = Path(__file__).resolve().parents[2] / "src" / "calibrate"
    pattern = re.compile(r"""(text|exec_driver_sql|execute)\(\s*f["']|(text|exec_driver_sql)\([^)]*["']\s*%\s""")
    offenders = [f"{p.relative_to(src)}:{i}" for p in src.rglob("*.py")
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line) and "PRAGMA" not in line]
    assert offenders == []
