"""Many assessors saving at once lose and duplicate nothing (benchmarks/load.py, small)."""

from __future__ import annotations

import argparse

import pytest

from teamuse_support import load_benchmark


def _args(**kw):
    base = dict(assessors=10, saves=3, think=0.0, timeout=180)
    base.update(kw)
    return argparse.Namespace(**base)


def _run(url, *, assessor_urls=None, **kw):
    load = load_benchmark()
    args = _args(**kw)
    items = load.assessable_items()
    load.prepare(url, load.rater_ids(args.assessors))
    if assessor_urls is not None:
        assessor_urls = assessor_urls(load.rater_ids(args.assessors))
    return load.run_backend("test", url, url, args, items, assessor_urls=assessor_urls)


def _assert_clean(res, assessors=10, saves=3):
    assert res.errors == []
    assert res.acknowledged == assessors * saves and res.failed == 0
    assert (res.lost, res.duplicated, res.partial) == (0, 0, 0)
    assert res.rows == assessors * saves * 123


def test_load_sqlite(tmp_path):
    from calibrate.store.engine import workspace_url

    _assert_clean(_run(workspace_url(tmp_path / "ws")))


@pytest.mark.postgres
def test_load_postgresql_as_owner(pg_url):
    _assert_clean(_run(pg_url))


@pytest.mark.postgres
def test_load_postgresql_with_assessor_roles(pg_url):
    import uuid

    from calibrate.store import Store
    from calibrate.store.access import create_assessor, enable_row_level_security

    def urls(raters):
        tag = uuid.uuid4().hex[:6]
        with Store.open(db_url=pg_url) as owner:
            enable_row_level_security(owner, group=f"g{tag}", role_prefix=f"l{tag}_")
            return {r: create_assessor(owner, r, "wachtwoord-1") for r in raters}

    _assert_clean(_run(pg_url, assessor_urls=urls))


def test_verification_counts_what_is_missing_or_doubled(tmp_path):
    """The benchmark's own check notices a lost and a duplicated judgement."""
    import sqlalchemy as sa

    from calibrate.store import Store
    from calibrate.store import schema as t
    from calibrate.store.engine import workspace_url

    url = workspace_url(tmp_path / "ws")
    res = _run(url, assessors=2, saves=2)
    _assert_clean(res, 2, 2)
    load = load_benchmark()
    items = load.assessable_items()
    plans = {r: load.plan(r, 2, items) for r in load.rater_ids(2)}
    acks = {r: [(0, 123, 0.0), (1, 123, 0.0)] for r in load.rater_ids(2)}
    with Store.open(db_url=url) as st:
        with st.engine.begin() as conn:
            first = conn.execute(sa.select(sa.func.min(t.judgements.c.id)).where(t.judgements.c.rater_id == "B01")).scalar_one()
            row = conn.execute(sa.select(t.judgements).where(t.judgements.c.id == first)).mappings().one()
            conn.execute(sa.delete(t.judgements).where(t.judgements.c.id == first))
            dup = {k: v for k, v in row.items() if k != "id"}
            dup["saved_at"] = "2099-01-01T00:00:00.000000+00:00"
            conn.execute(sa.insert(t.judgements).values(**dup))
        rows, lost, duplicated, partial = load.verify(st, acks, plans, len(items))
    assert (lost, duplicated) == (1, 1) and partial == 2
