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


def _v2_to_v3(conn: sa.Connection) -> list[str]:
    """The store defends itself; the reveal's time is kept.

    * ``kind_values`` and ``item_values`` hold every item's scale (a framework item gets its
      framework's codes, any other item the contract's codes of its kind), and triggers
      refuse a judgement or consensus value outside it from now on. A row already outside
      (only hand-made SQL could write one) is moved, unchanged, to
      ``judgements_outside_scale`` / ``consensus_outside_scale``: nothing is lost, and the
      analyses no longer stumble on it; the upgrade says how many.
    * ``sessions.revealed_at`` (unknown for sessions revealed before this version).
    * PostgreSQL: ``judgements.id`` becomes an identity column ``GENERATED ALWAYS``, continuing
      after the highest id; with row-level security on, the assessors' privileges are
      renewed (INSERT without the id column, no sequence) and the insert policy refuses a
      revealed session.
    """
    from ..schema import allowed_values
    from .base import install_scale_checks, set_item_scales

    notes: list[str] = []
    pg = conn.dialect.name == "postgresql"
    t.kind_values.create(conn, checkfirst=True)
    t.item_values.create(conn, checkfirst=True)
    install_scale_checks(conn)
    scales = {}
    for fid, source in conn.execute(sa.select(t.frameworks.c.id, t.frameworks.c.source)).all():
        fw = _framework(fid, source)
        if fw is not None:
            scales.update({item.id: allowed_values(item.kind, item.codes) for item in fw.items()})
    items = conn.execute(sa.select(t.items.c.id, t.items.c.kind, t.items.c.framework_id)).all()
    kind_rows = [{"item_id": i, "value": v} for i, k, f in items if i not in scales for v in allowed_values(k)]
    if kind_rows:
        conn.execute(sa.insert(t.item_values), kind_rows)
    set_item_scales(conn, {i: scales[i] for i, _, _ in items if i in scales})
    for table in (t.judgements, t.consensus):
        outside = sa.and_(table.c.value.is_not(None), ~sa.exists().where(
            t.item_values.c.item_id == table.c.item_id, t.item_values.c.value == table.c.value))
        n = conn.execute(sa.select(sa.func.count()).select_from(table).where(outside)).scalar_one()
        if n:
            keep = sa.Table(f"{table.name}_outside_scale", sa.MetaData(), *[sa.Column(c.name, c.type) for c in table.columns])
            keep.create(conn)
            names = [c.name for c in table.columns]
            conn.execute(sa.insert(keep).from_select(names, sa.select(*[table.c[c] for c in names]).where(outside)))
            conn.execute(sa.delete(table).where(outside))
            notes.append(f"{n} {table.name} row(s) held a value outside their item's scale; they were moved, unchanged, "
                         f"to the table {keep.name}.")
    conn.exec_driver_sql("ALTER TABLE sessions ADD COLUMN revealed_at VARCHAR(40)")
    if pg:
        from psycopg import sql

        from .access import _ddl

        identity = conn.execute(sa.text(
            "SELECT is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'judgements' AND column_name = 'id'")).scalar()
        if identity != "YES":
            seq = conn.execute(sa.text(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.oid = CAST(pg_get_serial_sequence('judgements', 'id') AS regclass)")).first()
            conn.exec_driver_sql("ALTER TABLE judgements ALTER COLUMN id DROP DEFAULT")
            if seq is not None:
                _ddl(conn, "DROP SEQUENCE {s}", s=sql.Identifier(*seq))
            start = conn.execute(sa.text("SELECT coalesce(max(id), 0) + 1 FROM judgements")).scalar_one()
            _ddl(conn, "ALTER TABLE judgements ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH {n})",
                 n=sql.Literal(int(start)))
        from .access import _recreate_policies_if_enabled

        _recreate_policies_if_enabled(conn, grants=True)
    return notes


def _v3_to_v4(conn: sa.Connection) -> None:
    """SQLite: a change counter in ``meta`` that triggers raise after every UPDATE or DELETE
    of a judgement or consensus row, so the columnar snapshot of the current judgements
    knows when it no longer holds (:mod:`calibrate.store.snapshot`). PostgreSQL: nothing
    changes but the version."""
    from .base import install_generation_triggers

    install_generation_triggers(conn)


def _framework(framework_id: str, source):
    """The framework ``framework_id`` (its file when it still exists, else built in), or None."""
    from pathlib import Path

    from ..errors import InputError
    from ..frameworks import load_framework

    try:
        return load_framework(source if source and Path(source).exists() else framework_id)
    except (InputError, OSError):
        return None


STEPS: dict[int, Callable[[sa.Connection], list[str] | None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
"""``STEPS[v]`` upgrades a database from version ``v`` to ``v + 1`` (and may return notes
on what it did that the user should know)."""


def upgrade_steps(from_version: int, to_version: int) -> list[Callable]:
    """The steps that take a database from ``from_version`` to ``to_version`` (empty when
    there is no complete path)."""
    missing = [v for v in range(from_version, to_version) if v not in STEPS]
    if missing:
        return []
    return [STEPS[v] for v in range(from_version, to_version)]
