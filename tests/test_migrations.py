"""Schema upgrades: a real version-1 database (tables from the frozen
``tests/fixtures/schema_v1.py``) is brought to the current version by ``calibrate upgrade``
on SQLite and on PostgreSQL, with every judgement kept."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from calibrate.cli import main
from calibrate.errors import AccessError, InputError, SchemaVersionError
from calibrate.store import Store
from calibrate.store import schema as t
from calibrate.store.engine import make_engine, workspace_url

_spec = importlib.util.spec_from_file_location("schema_v1", Path(__file__).parent / "fixtures" / "schema_v1.py")
v1 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(v1)

NOW = "2026-01-01T00:00:00+00:00"
JUDGEMENTS = [
    # (id, session, case, rater, item, value, note)
    (1, "K1", "C01", "B01", "besluit", "go", None),
    (2, "K1", "C01", "B02", "besluit", "no go", "twijfel"),
    (3, "K1", "C01", "B01", "besluit", "no go", "toch niet"),  # a later save of judgement 1
    # allowed by version 1 (hand-made SQL): a case and a rater the session never listed
    (4, "K1", "C02", "B03", "besluit", "go", None),
]


def make_v1(url: str) -> None:
    """A version-1 database as calibrate 0.1 left it, with one judgement outside the
    session's recorded cases and raters."""
    engine = make_engine(url)
    with engine.begin() as c:
        v1.metadata.create_all(c)
        c.execute(sa.insert(v1.meta), [{"key": "schema_version", "value": "1"}, {"key": "created_at", "value": NOW}])
        c.execute(sa.insert(v1.raters), [{"id": r, "created_at": NOW} for r in ("B01", "B02", "B03")])
        c.execute(sa.insert(v1.cases), [{"id": k, "created_at": NOW} for k in ("C01", "C02")])
        c.execute(sa.insert(v1.sessions), [{"id": "K1", "session_date": "2026-01-01", "revealed": True,
                                            "show_rater_names": False, "round": 1, "created_at": NOW}])
        c.execute(sa.insert(v1.session_cases), [{"session_id": "K1", "case_id": "C01", "position": 0}])
        c.execute(sa.insert(v1.session_raters), [{"session_id": "K1", "rater_id": r} for r in ("B01", "B02")])
        c.execute(sa.insert(v1.items), [{"id": "besluit", "kind": "decision"}])
        for i, s, k, r, it, v, n in JUDGEMENTS:  # ids from the table's own sequence, as calibrate made them
            c.execute(sa.insert(v1.judgements).values(session_id=s, case_id=k, rater_id=r, item_id=it, value=v, note=n,
                                                      scored_at=NOW, saved_at=NOW, source="v1"))
        assert [r[0] for r in c.execute(sa.select(v1.judgements.c.id).order_by(v1.judgements.c.id))] == [r[0] for r in JUDGEMENTS]
    engine.dispose()


def _rows(store: Store) -> list[tuple]:
    j = t.judgements
    with store.engine.connect() as c:
        return [tuple(r) for r in c.execute(
            sa.select(j.c.id, j.c.session_id, j.c.case_id, j.c.rater_id, j.c.item_id, j.c.value, j.c.note).order_by(j.c.id))]


def _foreign_keys(store: Store) -> set[tuple]:
    with store.engine.connect() as c:
        return {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in sa.inspect(c).get_foreign_keys("judgements")}


def _check_upgraded(store: Store) -> None:
    assert store.schema_version() == t.SCHEMA_VERSION == 4
    assert _rows(store) == [tuple(r) for r in JUDGEMENTS]  # every judgement, same id, same order
    assert _foreign_keys(store) == {
        (("item_id",), "items"), (("session_id", "case_id"), "session_cases"), (("session_id", "rater_id"), "session_raters"),
    }
    # the judgement outside the recorded membership made its case and rater members
    assert store.session_cases("K1") == ["C01", "C02"]
    assert store.session_raters("K1") == ["B01", "B02", "B03"]
    cur = store.scores("K1")
    assert sorted(zip(cur["case"], cur["rater"], cur["value"])) == [("C01", "B01", "no go"), ("C01", "B02", "no go"), ("C02", "B03", "go")]
    # the database now refuses a judgement by a non-member or on a case outside the session
    with store.engine.begin() as c:
        c.execute(sa.insert(t.cases).values(id="C09", created_at=NOW))
    for case, rater in (("C09", "B01"), ("C01", "B09")):
        with pytest.raises(sa.exc.IntegrityError):
            with store.engine.begin() as c:
                c.execute(sa.insert(t.judgements).values(session_id="K1", case_id=case, rater_id=rater, item_id="besluit",
                                                         value="go", scored_at=NOW, saved_at=NOW))
    assert len(_rows(store)) == len(JUDGEMENTS)
    # and the app keeps saving — into a blind session: K1 was revealed, and since version 3
    # the reveal closes a session's blind round
    with pytest.raises(AccessError, match="closed its blind round"):
        store.save_judgements("K1", "C01", "B02", {"besluit": "go"})
    store.create_session("K2", "2026-02-01", cases=["C01"], raters=["B02"])
    assert store.save_judgements("K2", "C01", "B02", {"besluit": "go"}) == 1


def _upgrade_cli(args, capsys) -> str:
    assert main(["upgrade", *args]) == 0
    return capsys.readouterr().out


def test_upgrade_v1_sqlite(tmp_path, capsys):
    url = workspace_url(tmp_path / "ws")
    make_v1(url)
    with pytest.raises(SchemaVersionError, match=f"schema version 1, older.*calibrate upgrade.*{t.SCHEMA_VERSION - 1} upgrade step"):
        Store.open(tmp_path / "ws")
    assert f"from schema version 1 to {t.SCHEMA_VERSION}" in _upgrade_cli(["--workspace", str(tmp_path / "ws")], capsys)
    with Store.open(tmp_path / "ws") as st:
        _check_upgraded(st)
    with make_engine(url).connect() as c:  # the rebuilt table kept its index and left no copy behind
        assert c.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        names = {r[0] for r in c.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert "ix_judgements_key" in names and "judgements_v1" not in names
    assert "nothing to upgrade" in _upgrade_cli(["--workspace", str(tmp_path / "ws")], capsys)


@pytest.mark.postgres
def test_upgrade_v1_postgres(pg_url, capsys, tmp_path):
    make_v1(pg_url)
    assert f"from schema version 1 to {t.SCHEMA_VERSION}" in _upgrade_cli(["--db", pg_url], capsys)
    with Store.open(db_url=pg_url) as st:
        _check_upgraded(st)
    assert "nothing to upgrade" in _upgrade_cli(["--db", pg_url], capsys)
    # the upgrade left the shared table definitions alone: a new workspace still gets both keys
    with Store.open(tmp_path / "new") as fresh:
        assert (("session_id", "case_id"), "session_cases") in _foreign_keys(fresh)


def _v1_with_row_level_security(pg_url: str, tag: str):
    """A version-1 store on which row-level security was enabled (its group and a fresh
    role prefix recorded, the group role present): (engine, prefix)."""
    from calibrate.store import access

    make_v1(pg_url)
    prefix = f"{tag}{uuid.uuid4().hex[:6]}_"
    engine = make_engine(pg_url)
    with engine.begin() as c:
        c.execute(sa.insert(v1.meta), [{"key": "access.group", "value": access.ASSESSOR_GROUP},
                                       {"key": "access.role_prefix", "value": prefix}])
        if not c.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": access.ASSESSOR_GROUP}).first():
            c.execute(sa.text("CREATE ROLE calibrate_assessor NOLOGIN"))
    return engine, prefix


@pytest.mark.postgres
def test_upgrade_rewrites_row_level_security_policies(pg_url):
    """A version-1 store with row-level security gets the version-2 policies: the insert
    check no longer looks up the session's cases row by row (the foreign key does that)."""
    from calibrate.store import access

    engine, prefix = _v1_with_row_level_security(pg_url, "mg")
    with engine.begin() as c:
        # K1 still blind, so that its assessors may save in it after the upgrade
        c.execute(sa.update(v1.sessions).values(revealed=False))
        # the version-1 insert policy, as calibrate 0.1 wrote it
        c.execute(sa.text("ALTER TABLE judgements ENABLE ROW LEVEL SECURITY"))
        c.execute(sa.text(
            "CREATE POLICY calibrate_write ON judgements FOR INSERT TO calibrate_assessor WITH CHECK "
            "(EXISTS (SELECT 1 FROM session_cases sc WHERE sc.session_id = judgements.session_id "
            "AND sc.case_id = judgements.case_id))"))
    engine.dispose()
    with Store.open(db_url=pg_url, upgrade=True) as owner:
        assert owner.upgraded_from == 1
        with owner.engine.connect() as c:
            check = c.execute(sa.text("SELECT with_check FROM pg_policies WHERE tablename = 'judgements' "
                                      "AND policyname = 'calibrate_write'")).scalar_one()
        assert "session_cases" not in check and "session_raters" in check and "SESSION_USER" in check.upper()
        # the upgraded store works for assessors end to end
        access.enable_row_level_security(owner, role_prefix=prefix)
        b01 = access.create_assessor(owner, "B01", "lang-genoeg-1")
        b03 = access.create_assessor(owner, "B03", "lang-genoeg-3")
        b04 = access.create_assessor(owner, "B04", "lang-genoeg-4")
        with Store.open(db_url=b01) as st:
            assert st.save_judgements("K1", "C01", "B01", {"besluit": "go"}) == 1
        with Store.open(db_url=b03) as st:  # a member since the upgrade (judgement 4)
            assert st.save_judgements("K1", "C02", "B03", {"besluit": "no go"}) == 1
        with Store.open(db_url=b04) as st:  # a registered assessor, but not of K1
            with pytest.raises((AccessError, InputError), match="not an assessor|not part of session"):
                st.save_judgements("K1", "C01", "B04", {"besluit": "go"})
        for role in ("B01", "B03", "B04"):
            access.remove_assessor(owner, role)


@pytest.mark.postgres
def test_upgrade_renews_row_level_security_by_itself(pg_url, capsys):
    """`calibrate upgrade` of a team store with row-level security installs the new
    version's pseudonymising functions and takes name_fingerprints from the assessors: the
    owner no longer has to remember to run enable_row_level_security again."""
    engine, _ = _v1_with_row_level_security(pg_url, "mr")
    with engine.begin() as c:
        c.execute(sa.text("GRANT SELECT ON name_fingerprints TO calibrate_assessor"))  # as version 1 left it
    engine.dispose()
    out = _upgrade_cli(["--db", pg_url], capsys)
    assert f"to {t.SCHEMA_VERSION}" in out and "Renewed row-level security (group calibrate_assessor)" in out
    engine = make_engine(pg_url)
    with engine.connect() as c:
        functions = set(c.execute(sa.text("SELECT proname FROM pg_proc WHERE proname LIKE 'calibrate_pseudonym%'")).scalars())
        may_read = c.execute(sa.text("SELECT has_table_privilege('calibrate_assessor', 'name_fingerprints', 'SELECT')")).scalar()
        policies = set(c.execute(sa.text("SELECT policyname FROM pg_policies WHERE tablename = 'judgements'")).scalars())
    engine.dispose()
    assert {"calibrate_pseudonym_lookup", "calibrate_pseudonym_tokens"} <= functions
    assert may_read is False and policies
    assert "nothing to upgrade" in _upgrade_cli(["--db", pg_url], capsys)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_failed_upgrade_changes_nothing(backend, tmp_path, request, monkeypatch):
    """The steps and the new version are one transaction: a step that fails half-way
    leaves the version-1 database exactly as it was."""
    from calibrate.store import migrations

    url = workspace_url(tmp_path / "ws") if backend == "sqlite" else request.getfixturevalue("pg_url")
    make_v1(url)
    real = migrations.STEPS[1]

    def half_way(conn):
        real(conn)
        raise RuntimeError("disk full")

    monkeypatch.setitem(migrations.STEPS, 1, half_way)
    with pytest.raises(RuntimeError, match="disk full"):
        Store.open(db_url=url, upgrade=True)
    engine = make_engine(url)
    with engine.connect() as c:
        assert c.execute(sa.select(v1.meta.c.value).where(v1.meta.c.key == "schema_version")).scalar_one() == "1"
        fks = {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in sa.inspect(c).get_foreign_keys("judgements")}
        assert (("session_id",), "sessions") in fks and (("session_id", "case_id"), "session_cases") not in fks
        assert c.execute(sa.select(sa.func.count()).select_from(v1.session_raters)).scalar_one() == 2
        assert len(c.execute(sa.select(v1.judgements)).fetchall()) == len(JUDGEMENTS)
    engine.dispose()
    monkeypatch.setitem(migrations.STEPS, 1, real)
    with Store.open(db_url=url, upgrade=True) as st:  # and it can then be upgraded
        _check_upgraded(st)


@pytest.mark.postgres
def test_upgrade_by_another_role_is_refused_cleanly(pg_url):
    """Only the owner of the tables can change them: another login gets a message that says
    so, and the database stays at version 1."""
    from calibrate.errors import StoreError

    make_v1(pg_url)
    role = f"mg{uuid.uuid4().hex[:8]}"
    engine = make_engine(pg_url)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE ROLE {role} LOGIN"))  # noqa: S608 — a test-made name
        c.execute(sa.text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    other = sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="refused.*as the owner of the tables.*nothing was changed"):
        Store.open(db_url=other, upgrade=True)
    with engine.connect() as c:
        assert c.execute(sa.select(v1.meta.c.value).where(v1.meta.c.key == "schema_version")).scalar_one() == "1"
    with engine.begin() as c:
        c.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
        c.execute(sa.text(f"DROP ROLE {role}"))
    engine.dispose()


def test_upgrade_of_a_missing_workspace_creates_nothing(tmp_path, capsys):
    """A mistyped path is an error (exit 2) and leaves no empty database behind."""
    missing = tmp_path / "typo"
    assert main(["upgrade", "--workspace", str(missing)]) == 2
    assert "no calibrate workspace" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_to_v3_keeps_out_of_scale_rows_aside_and_defends_from_then_on(backend, tmp_path, request, capsys):
    """Version 3: a value outside its item's scale that hand-made SQL wrote in version 1 is
    moved aside unchanged (and said), every other judgement stays with its id; afterwards no
    such value can be written, and on PostgreSQL the ids continue as an identity column."""
    url = workspace_url(tmp_path / "ws") if backend == "sqlite" else request.getfixturevalue("pg_url")
    make_v1(url)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(sa.insert(v1.judgements).values(session_id="K1", case_id="C01", rater_id="B02", item_id="besluit",
                                                  value="misschien", note="raw", scored_at=NOW, saved_at=NOW, source="sql"))
    engine.dispose()
    out = _upgrade_cli(["--db", url], capsys)
    assert f"to {t.SCHEMA_VERSION}" in out and "1 judgements row(s) held a value outside" in out
    with Store.open(db_url=url) as st:
        assert _rows(st) == [tuple(r) for r in JUDGEMENTS]
        with st.engine.connect() as c:
            aside = c.execute(sa.text("SELECT id, value, note FROM judgements_outside_scale")).all()
        assert [tuple(r) for r in aside] == [(len(JUDGEMENTS) + 1, "misschien", "raw")]
        with pytest.raises(sa.exc.DBAPIError, match="outside the scale"):
            with st.engine.begin() as c:
                c.execute(sa.insert(t.judgements).values(session_id="K1", case_id="C01", rater_id="B01",
                                                         item_id="besluit", value="misschien", scored_at=NOW, saved_at=NOW))
        st.create_session("K2", "2026-02-01", cases=["C01"], raters=["B01"])
        st.save_judgements("K2", "C01", "B01", {"besluit": "go"})
        assert len(_rows(st)) == len(JUDGEMENTS) + 1
        if backend == "postgresql":
            assert max(r[0] for r in _rows(st)) > len(JUDGEMENTS) + 1  # the identity continues after the highest id
            with st.engine.connect() as c:
                assert c.execute(sa.text(
                    "SELECT is_identity, identity_generation FROM information_schema.columns "
                    "WHERE table_name = 'judgements' AND column_name = 'id'")).one() == ("YES", "ALWAYS")
        assert "revealed" in st.sessions().columns


def test_upgrade_v3_to_v4_adds_the_change_counter_of_the_snapshot(tmp_path, capsys):
    """Version 4 (SQLite): a version-3 store — as calibrate 0.3 made it, without the counter
    and its triggers — gets both; every judgement stays; an UPDATE or DELETE of a judgement
    then changes the counter, and the snapshot read equals the database's."""
    from calibrate.store import reader

    with Store.open(tmp_path / "ws") as st:
        import pandas as pd

        st.import_scores(pd.DataFrame(
            [{"session": "K1", "session_date": "2026-01-01", "case": "C01", "rater": r, "item": "besluit",
              "kind": "decision", "value": v, "note": None, "scored_at": NOW} for r, v in (("B01", "go"), ("B02", "no go"))],
            dtype="string"), source="a.csv")
        with st.engine.begin() as c:  # back to version 3
            for name in [r[0] for r in c.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%generation%'")]:
                c.exec_driver_sql(f"DROP TRIGGER {name}")
            c.execute(sa.delete(t.meta).where(t.meta.c.key == t.GENERATION_KEY))
            c.execute(sa.update(t.meta).where(t.meta.c.key == "schema_version").values(value="3"))
        rows = _rows(st)
    assert "from schema version 3 to 4" in _upgrade_cli(["--workspace", str(tmp_path / "ws")], capsys)
    with Store.open(tmp_path / "ws") as st:
        assert st.schema_version() == 4 and _rows(st) == rows
        with st.engine.connect() as c:
            triggers = {r[0] for r in c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {f"calibrate_{tb}_generation_{ev}" for tb in ("judgements", "consensus")
                for ev in ("update", "delete")} <= triggers
        assert len(reader.read(st, notes=False)) == 2  # builds the snapshot
        with st.engine.begin() as c:
            c.execute(sa.update(t.judgements).where(t.judgements.c.rater_id == "B02").values(value="go"))
            assert c.execute(sa.select(t.meta.c.value).where(t.meta.c.key == t.GENERATION_KEY)).scalar().startswith("1-")
        assert reader.read(st, notes=False).to_frame()["value"].tolist() == ["go", "go"]
