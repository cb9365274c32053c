"""Upgrade steps between schema versions of the workspace database.

Each step takes a connection inside the upgrade transaction (run by ``calibrate upgrade``
or ``Store.open(..., upgrade=True)``) and moves the schema one version up; the transaction
also records the new version, so an upgrade happens completely or not at all. On
PostgreSQL run it as the owner of the tables (the facilitator).
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from . import schema as t


def _v1_to_v2(conn: sa.Connection) -> None:
    """Judgements reference their session's case and their session's assessor.

    Version 1 checked the session, the case and the rater of a judgement each on its own.
    Version 2 replaces those three keys by two composite ones, (session, case) →
    ``session_cases`` and (session, rater) → ``session_raters``. A judgement whose pair is
    not recorded yet (possible in version 1 only through hand-made SQL) makes the pair a
    membership first, so no judgement is lost.
    """
    j, sc, sr = t.judgements, t.session_cases, t.session_raters
    missing_cases = (
        sa.select(j.c.session_id, j.c.case_id, sa.literal(0)).distinct()
        .where(~sa.exists().where(sc.c.session_id == j.c.session_id, sc.c.case_id == j.c.case_id))
    )
    conn.execute(sa.insert(sc).from_select(["session_id", "case_id", "position"], missing_cases))
    missing_raters = (
        sa.select(j.c.session_id, j.c.rater_id).distinct()
        .where(~sa.exists().where(sr.c.session_id == j.c.session_id, sr.c.rater_id == j.c.rater_id))
    )
    conn.execute(sa.insert(sr).from_select(["session_id", "rater_id"], missing_raters))
    if conn.dialect.name == "postgresql":
        as_found = sa.Table("judgements", sa.MetaData(), autoload_with=conn)
        for fk in as_found.foreign_key_constraints:
            if fk.referred_table.name in ("sessions", "cases", "raters"):
                conn.execute(sa.schema.DropConstraint(fk))
        # added from copies: AddConstraint marks a constraint as "not inline", which would
        # drop it from every later CREATE TABLE of the shared table object in this process
        copies = sa.MetaData()
        for table in (t.sessions, t.cases, t.raters, t.items, t.session_cases, t.session_raters, j):
            table.to_metadata(copies)
        for fk in copies.tables["judgements"].foreign_key_constraints:
            if fk.name in (t.JUDGEMENT_CASE_FK, t.JUDGEMENT_RATER_FK):
                conn.execute(sa.schema.AddConstraint(fk))
        from .access import _recreate_policies_if_enabled

        _recreate_policies_if_enabled(conn)
    else:
        # SQLite cannot change a table's keys: build the new table and move the rows (ids kept)
        for index in j.indexes:
            conn.execute(sa.schema.DropIndex(index, if_exists=True))
        conn.exec_driver_sql("ALTER TABLE judgements RENAME TO judgements_v1")
        old = sa.Table("judgements_v1", sa.MetaData(), *[sa.Column(c.name, c.type) for c in j.columns])
        j.create(conn)
        names = [c.name for c in j.columns]
        conn.execute(sa.insert(j).from_select(names, sa.select(*[old.c[n] for n in names]).order_by(old.c.id)))
        old.drop(conn)


STEPS: dict[int, Callable[[sa.Connection], None]] = {1: _v1_to_v2}
"""``STEPS[v]`` upgrades a database from version ``v`` to ``v + 1``."""


def upgrade_steps(from_version: int, to_version: int) -> list[Callable]:
    """The steps that take a database from ``from_version`` to ``to_version`` (empty when
    there is no complete path)."""
    missing = [v for v in range(from_version, to_version) if v not in STEPS]
    if missing:
        return []
    return [STEPS[v] for v in range(from_version, to_version)]
