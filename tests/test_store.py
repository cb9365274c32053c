"""The workspace store on SQLite and on a real PostgreSQL server."""

import pandas as pd
import pytest
import sqlalchemy as sa

from calibrate.errors import AccessError, InputError, SchemaVersionError
from calibrate.frameworks import load_framework
from calibrate.schema import SCORE_COLUMNS
from calibrate.store import Store
from calibrate.store import schema as t

FW = load_framework("han-wpl2-2025")
IND = next(i.id for i in FW.items() if i.kind == "indicator" and i.assessed)
IND2 = [i.id for i in FW.items() if i.kind == "indicator" and i.assessed][1]
LEVEL = next(i.id for i in FW.items() if i.kind == "level")


def scores(*rows):
    base = {"session": "K1", "session_date": "2026-01-19", "case": "C01", "rater": "B01", "item": IND,
            "kind": "indicator", "value": "gezien", "note": None, "scored_at": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_wal_and_foreign_keys_on_sqlite(tmp_path):
    st = Store.open(tmp_path / "ws")
    with st.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    st.close()


def test_import_creates_sessions_cases_raters_and_is_idempotent(store):
    df = scores({}, {"rater": "B02", "value": "niet gezien"}, {"case": "C02", "item": LEVEL, "kind": "level", "value": "4"})
    s1 = store.import_scores(df, source="a.csv")
    assert (s1.rows, s1.appended, s1.unchanged) == (3, 3, 0)
    assert set(s1.new_raters) == {"B01", "B02"} and set(s1.new_cases) == {"C01", "C02"}
    before = store.counts()
    s2 = store.import_scores(df, source="a.csv")
    assert (s2.appended, s2.unchanged) == (0, 3)
    assert store.counts() == before
    out = store.scores()
    assert list(out.columns) == list(SCORE_COLUMNS)
    assert len(out) == 3
    assert store.is_revealed("K1")  # imported historical sessions count as revealed


def test_saves_are_appended_and_latest_is_current(store):
    store.import_scores(scores({"value": "niet gezien", "scored_at": "2026-01-19T10:00:00+00:00"}), source="a.csv")
    store.import_scores(scores({"value": "gezien", "scored_at": "2026-01-19T11:00:00+00:00", "note": "tweede blik"}), source="b.csv")
    cur = store.scores()
    assert cur["value"].tolist() == ["gezien"]
    assert cur["note"].tolist() == ["tweede blik"]
    hist = store.history("K1", "C01", "B01", IND)
    assert hist["value"].tolist() == ["niet gezien", "gezien"]
    assert hist["source"].tolist() == ["a.csv", "b.csv"]


def test_bad_row_changes_nothing(store):
    store.import_scores(scores({}), source="a.csv")
    before = (store.counts(), store.scores())
    bad = scores({"case": "C09"}, {"case": "C10", "value": "misschien"})
    with pytest.raises(InputError, match=r"row 3, column 'value'"):
        store.import_scores(bad, source="bad.csv")
    assert store.counts() == before[0]
    pd.testing.assert_frame_equal(store.scores(), before[1])


def test_session_date_conflict_with_stored_session(store):
    store.import_scores(scores({}), source="a.csv")
    with pytest.raises(InputError, match=r"row 2, column 'session_date'.*stored with date 2026-01-19"):
        store.import_scores(scores({"session_date": "2026-02-02", "case": "C05"}), source="b.csv")
    assert "C05" not in set(store.cases()["case"])


def test_item_kind_is_fixed_once_stored(store):
    store.import_scores(scores({"item": "eigen.a", "kind": "indicator"}), source="a.csv")
    with pytest.raises(InputError, match="row 2, column 'kind'"):
        store.import_scores(scores({"item": "eigen.a", "kind": "level", "value": "3", "rater": "B02"}), source="b.csv")


def test_blind_until_reveal(store):
    store.import_cases(pd.DataFrame({"case": ["C01", "C02"], "title": ["a", "b"], "text": ["x", "y"]}), source="c.csv")
    store.create_session("K9", "2026-05-01", cases=["C01", "C02"], raters=["B01", "B02"])
    a, b = store.rater_view("B01"), store.rater_view("B02")
    assert a.save("K9", "C01", {IND: ("gezien", "zag een startopdracht"), LEVEL: "4"}) == 2
    assert b.save("K9", "C01", {IND: "niet gezien"}) == 1
    assert set(b.my_scores("K9")["rater"]) == {"B02"}
    with pytest.raises(AccessError, match="not been revealed"):
        b.scores("K9")
    with pytest.raises(AccessError):
        store.rater_view("B07").my_scores("K9")
    store.reveal("K9")
    assert set(b.scores("K9")["rater"]) == {"B01", "B02"}


def test_app_save_is_append_only_and_skips_unchanged(store):
    store.import_cases(pd.DataFrame({"case": ["C01"], "title": ["a"], "text": ["x"]}), source="c.csv")
    store.create_session("K9", "2026-05-01", cases=["C01"], raters=["B01"])
    assert store.save_judgements("K9", "C01", "B01", {IND: "gezien", IND2: (None, "nog twijfel")}) == 2
    assert store.save_judgements("K9", "C01", "B01", {IND: "gezien"}) == 0
    assert store.save_judgements("K9", "C01", "B01", {IND: "niet gezien"}) == 1
    hist = store.history("K9", "C01", "B01", IND)
    assert hist["value"].tolist() == ["gezien", "niet gezien"]
    with pytest.raises(InputError, match="outside the scale"):
        store.save_judgements("K9", "C01", "B01", {IND: "super"})
    not_assessed = next(i.id for i in FW.items() if not i.assessed)
    with pytest.raises(InputError, match="not assessed"):
        store.save_judgements("K9", "C01", "B01", {not_assessed: "gezien"})


def test_consensus_import_and_current(store):
    cons = scores({}).drop(columns=["rater", "note"])
    store.import_consensus(cons, source="c.csv")
    store.import_consensus(cons.assign(value="niet gezien"), source="c2.csv")
    cur = store.consensus()
    assert cur["value"].tolist() == ["niet gezien"]


def _set_version(store, version):
    with store.engine.begin() as c:
        c.execute(sa.update(t.meta).where(t.meta.c.key == "schema_version").values(value=str(version)))


@pytest.mark.parametrize("version,pattern", [(t.SCHEMA_VERSION - 1, "older than this calibrate.*calibrate upgrade.*1 upgrade step"),
                                             (0, "cannot upgrade.*export"), (99, "newer than this calibrate.*Upgrade calibrate")])
def test_schema_version_checked_on_open(tmp_path, version, pattern):
    st = Store.open(tmp_path / "ws")
    _set_version(st, version)
    st.close()
    with pytest.raises(SchemaVersionError, match=pattern):
        Store.open(tmp_path / "ws")


@pytest.mark.postgres
def test_schema_version_checked_on_postgres(pg_url):
    st = Store.open(db_url=pg_url)
    _set_version(st, 99)
    st.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        Store.open(db_url=pg_url)


def test_rater_names_are_pseudonymised_and_shown_only_on_opt_in(store):
    df = scores({"rater": "Jeroen Bakker"}, {"rater": "Fatima El Amrani", "value": "niet gezien"})
    store.import_scores(df, source="a.csv", pseudonymise_raters=True)
    cur = store.scores()
    assert all(r.startswith("beoordelaar-") for r in cur["rater"])
    assert "Jeroen Bakker" not in set(store.with_rater_names(cur)["rater"])
    store.show_rater_names("K1")
    assert set(store.with_rater_names(cur)["rater"]) == {"Jeroen Bakker", "Fatima El Amrani"}
    store.show_rater_names("K1", False)
    assert set(store.with_rater_names(cur)["rater"]) == set(cur["rater"])


def test_another_pseudonym_key_is_refused(tmp_path, monkeypatch):
    from calibrate.errors import StoreError

    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    st = Store.open(tmp_path / "ws")
    st.note_pseudonymiser()  # records the key id
    st.close()
    (tmp_path / "ws" / "pseudonym.key").unlink()
    st = Store.open(tmp_path / "ws")
    with pytest.raises(StoreError, match="not the key"):
        st.note_pseudonymiser()
    st.close()
