"""Who may read and write what in a shared PostgreSQL store: one database role per assessor.

The database enforces blind scoring itself, so a notebook that talks SQL directly gets no
further than the app: with row-level security an assessor's role reads only its own
judgements until the facilitator reveals the session, inserts judgements only under its
own rater id in its own sessions, and can change or delete nothing (the judgements table
is append-only).

Roles
-----
*Facilitator (owner)* — the role in the URL the workspace was created with. It owns the
tables, so row-level security does not apply to it: it imports, creates and reveals
sessions, records consensus, writes reports. It needs ``CREATEROLE`` to make assessor
roles (or a DBA runs :func:`create_assessor` for it).

*Assessor* — one ``LOGIN`` role per rater, named ``role_prefix + rater id`` and member of
the group role (``calibrate_assessor`` unless told otherwise). The group holds the grants:

==================  ===================================================================
table               an assessor may
==================  ===================================================================
judgements          SELECT own rows; everyone's rows of a revealed session they are in;
                    INSERT own rows in their sessions while the session is blind (the
                    reveal closes the round; the table's foreign key admits only the
                    session's cases), every column but ``id`` (an identity column the
                    database fills); no UPDATE / DELETE
consensus           SELECT only of a revealed session they are in
sessions            SELECT the sessions they are in (``revealed`` cannot be changed)
session_raters      SELECT their own memberships
session_cases,      SELECT those of their sessions
cases
raters              SELECT their own row
meta, frameworks,   SELECT (the scales and items)
items, item_values,
kind_values
name_fingerprints   nothing: notes are pseudonymised by the database's own functions
                    (:mod:`calibrate.store.pseudonyms`), whose key and table the
                    assessor cannot read
sequences           nothing (no ``nextval``: an identity column needs no grant)
statistics          nothing: ``pg_stat_*``, ``pg_locks`` and the size functions are
                    revoked from PUBLIC when the owner is a superuser
                    (:func:`hide_activity_statistics`)
==================  ===================================================================

SQLite has no roles: a SQLite workspace is one person's (or one trusted machine's) file,
and there :meth:`calibrate.store.Store.rater_view` is the guard.

All values travel as bound parameters; DDL cannot take parameters, so role names and the
password are quoted by psycopg (``psycopg.sql.Identifier`` / ``Literal``) after the rater
id has been checked against :data:`RATER_ID_PATTERN`.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..errors import AccessError, InputError, StoreError
from . import schema as t
from .engine import describe_url

ASSESSOR_GROUP = "calibrate_assessor"
"""Default name of the group role that holds the assessors' grants."""

RATER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}")
"""Rater ids that may become role names: letters, digits, ``_ . -``, at most 63 characters."""

_PREFIX_PATTERN = re.compile(r"[a-z0-9_]{0,20}")
_GROUP_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
_META_GROUP = "access.group"
_META_PREFIX = "access.role_prefix"
_LOCK_ID = 20261122


# ------------------------------------------------------------------------ checks
def validate_rater_id(rater: str, *, role_prefix: str = "", group: str = ASSESSOR_GROUP) -> str:
    """Return the database role name for ``rater`` or raise :class:`InputError`."""
    if not isinstance(rater, str) or not RATER_ID_PATTERN.fullmatch(rater):
        raise InputError(
            f"{rater!r} cannot be an assessor's database role: a rater id is 1–63 letters, digits, '_', '.' "
            "or '-', starting with a letter or digit.",
            hint="Use the pseudonymous rater id, e.g. B07.",
        )
    role = role_prefix + rater
    if len(role.encode()) > 63:
        raise InputError(f"the role name {role!r} is longer than PostgreSQL's 63 bytes.", hint="Use a shorter rater id or prefix.")
    if role.lower().startswith("pg_") or role.lower() in {"postgres", "public", group.lower()}:
        raise InputError(f"{rater!r} is reserved and cannot be an assessor's role name.", hint="Use another rater id.")
    return role


def _require_postgres(store) -> None:
    if store.engine.dialect.name != "postgresql":
        raise StoreError(
            f"per-assessor roles need PostgreSQL; {describe_url(store.url)} is {store.engine.dialect.name}. "
            "A SQLite workspace belongs to one machine: run the scoring app against a PostgreSQL store "
            "(--db / CALIBRATE_DB) for a team."
        )


def _ident(name: str):
    from psycopg import sql

    return sql.Identifier(name)


def _literal(value: str):
    from psycopg import sql

    return sql.Literal(value)


def _ddl(conn: sa.Connection, template: str, **parts) -> None:
    """Run one DDL statement whose names and literals are quoted by psycopg.

    Goes through the DB-API cursor of ``conn`` (same transaction) because SQLAlchemy's
    ``exec_driver_sql`` would read a ``%`` in a quoted password as a placeholder.
    """
    from psycopg import sql

    cur = conn.connection.cursor()
    try:
        cur.execute(sql.SQL(template).format(**parts))
    finally:
        cur.close()


def _settings(conn) -> tuple[str, str] | None:
    rows = dict(conn.execute(sa.select(t.meta.c.key, t.meta.c.value).where(t.meta.c.key.in_([_META_GROUP, _META_PREFIX]))).all())
    if _META_GROUP not in rows:
        return None
    return rows[_META_GROUP], rows.get(_META_PREFIX, "")


def _role_exists(conn, role: str) -> dict | None:
    row = conn.execute(
        sa.text("SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).mappings().first()
    return dict(row) if row else None


def _is_member(conn, role: str, group: str) -> bool:
    return bool(conn.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = :g AND r.rolname = :r)"
        ),
        {"g": group, "r": role},
    ).scalar())


# ---------------------------------------------------------------- row-level security
def enable_row_level_security(store, *, group: str = ASSESSOR_GROUP, role_prefix: str = "") -> None:
    """Turn on blind scoring in the database itself (PostgreSQL; run as the owner).

    Creates the group role ``group`` (NOLOGIN) if needed, gives it the grants in the table of
    the module docstring, enables row-level security with the ``calibrate_*`` policies, and
    closes the database to roles outside the group (``CONNECT`` revoked from ``PUBLIC``; the
    owner and superusers keep it). ``role_prefix`` is put before every rater id to make the
    role name; use a different group and prefix per workspace when one server holds several.
    It also records the id of the pseudonym key in use (the assessors' apps must use the same
    key, e.g. through ``CALIBRATE_PSEUDONYM_KEY``). Idempotent: running it again re-creates
    the policies.
    """
    _require_postgres(store)
    if not _GROUP_PATTERN.fullmatch(group):
        raise InputError(f"{group!r} is not a usable group role name (lower-case letters, digits, '_').")
    if not _PREFIX_PATTERN.fullmatch(role_prefix):
        raise InputError(f"{role_prefix!r} is not a usable role prefix (at most 20 lower-case letters, digits, '_').")
    # the owner records the pseudonym key's id now: assessors cannot write ``meta`` later,
    # and their apps must run with the same key (CALIBRATE_PSEUDONYM_KEY)
    store.note_pseudonymiser()
    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        prior = _settings(conn)
        if prior is not None and prior != (group, role_prefix):
            raise StoreError(
                f"row-level security is already enabled with group {prior[0]!r} and role prefix {prior[1]!r}; "
                "assessor roles depend on them, so they cannot change."
            )
        if _role_exists(conn, group) is None:
            _ddl(conn, "CREATE ROLE {g} NOLOGIN", g=_ident(group))
        dbname = conn.execute(sa.text("SELECT current_database()")).scalar_one()
        _ddl(conn, "REVOKE CONNECT, TEMPORARY ON DATABASE {d} FROM PUBLIC", d=_ident(dbname))
        _ddl(conn, "GRANT CONNECT ON DATABASE {d} TO {g}", d=_ident(dbname), g=_ident(group))
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        _ddl(conn, "REVOKE CREATE ON SCHEMA {s} FROM PUBLIC", s=_ident(schema))
        _ddl(conn, "GRANT USAGE ON SCHEMA {s} TO {g}", s=_ident(schema), g=_ident(group))
        _grant(conn, group)
        _create_policies(conn, group, role_prefix)
        if prior is None:
            conn.execute(sa.insert(t.meta), [{"key": _META_GROUP, "value": group}, {"key": _META_PREFIX, "value": role_prefix}])
        hidden = hide_activity_statistics(conn)
        _set_meta(conn, _META_STATISTICS, "hidden" if hidden else "visible")
        from . import pseudonyms

        pseudonyms.install(conn, store.note_pseudonymiser()._key, group)


_INSERT_COLUMNS = ("session_id", "case_id", "rater_id", "item_id", "value", "note", "scored_at", "saved_at", "source")
"""The columns of ``judgements`` an assessor may fill: every one but ``id``, which the
database assigns (an identity column; with the column left out of the privilege, not
even ``OVERRIDING SYSTEM VALUE`` lets an assessor choose one)."""


def _grant(conn, group: str) -> None:
    """The group's privileges: SELECT on the tables (except the fingerprints once the
    database pseudonymises, see :mod:`calibrate.store.pseudonyms`), INSERT on the judgements' own columns, nothing on
    any sequence (an identity column needs none, so ``nextval`` stays out of reach)."""
    from . import pseudonyms

    server_pseudonyms = pseudonyms.enabled(conn)
    for table in t.metadata.sorted_tables:
        _ddl(conn, "REVOKE ALL ON TABLE {t} FROM PUBLIC, {g}", t=_ident(table.name), g=_ident(group))
        if table.name != "name_fingerprints" or not server_pseudonyms:
            _ddl(conn, "GRANT SELECT ON TABLE {t} TO {g}", t=_ident(table.name), g=_ident(group))
    from psycopg import sql

    _ddl(conn, "GRANT INSERT ({c}) ON TABLE {t} TO {g}", t=_ident("judgements"), g=_ident(group),
         c=sql.SQL(", ").join(_ident(c) for c in _INSERT_COLUMNS))
    for seq_schema, seq_name in conn.execute(sa.text(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()")).all():
        _ddl(conn, "REVOKE ALL ON SEQUENCE {s} FROM PUBLIC, {g}", s=_qualified(seq_schema, seq_name), g=_ident(group))


_META_STATISTICS = "access.statistics"
#: what other roles' activity would show: the statistics views, the functions behind them
#: (callable on their own), lock and size functions. Revoked from PUBLIC in this database by
#: one server-side block; the server quotes every name it puts in a statement (%I, regprocedure).
HIDE_STATISTICS_SQL = """DO $calibrate$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'pg_catalog' AND c.relkind = 'v'
             AND (c.relname LIKE 'pg\\_stat%' OR c.relname = 'pg_locks')
             AND has_table_privilege('public', c.oid, 'SELECT') LOOP
    EXECUTE format('REVOKE SELECT ON pg_catalog.%I FROM PUBLIC', r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'pg_catalog'
             AND (p.proname LIKE 'pg\\_stat\\_get\\_%' OR p.proname IN ('pg_lock_status', 'pg_relation_size',
                  'pg_total_relation_size', 'pg_table_size', 'pg_indexes_size', 'pg_sequence_last_value'))
             AND has_function_privilege('public', p.oid, 'EXECUTE') LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', r.fn);
  END LOOP;
END
$calibrate$"""


def hide_activity_statistics(conn) -> bool:
    """Take the statistics views and functions away from every role but superusers in this
    database (``REVOKE ... FROM PUBLIC``): an assessor could otherwise watch others' saves
    through ``pg_stat_user_tables`` (rows inserted into ``judgements``), ``pg_stat_activity``,
    ``pg_locks`` or table sizes. Needs a superuser (the views belong to the bootstrap
    superuser); returns False, and changes nothing, when the owner is not one — then a DBA
    runs :data:`HIDE_STATISTICS_SQL` in this database. Idempotent."""
    if not conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        import logging

        logging.getLogger("calibrate.store").warning(
            "the activity statistics (pg_stat_*) stay readable for assessors: only a superuser can revoke them; "
            "ask a DBA to run calibrate.store.access.HIDE_STATISTICS_SQL in this database.")
        return False
    _run(conn, HIDE_STATISTICS_SQL)
    return True


def _run(conn: sa.Connection, statement: str) -> None:
    """One fixed statement of this package's own text (no parameters, so ``%`` is plain
    text), on the DB-API cursor of ``conn`` (same transaction)."""
    cur = conn.connection.cursor()
    try:
        cur.execute(statement)
    finally:
        cur.close()


def activity_statistics_hidden(store) -> bool:
    """Whether :func:`enable_row_level_security` could hide the activity statistics."""
    if store.engine.dialect.name != "postgresql":
        return False
    with store.engine.connect() as conn:
        return conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == _META_STATISTICS)).scalar() == "hidden"


def _set_meta(conn, key: str, value: str) -> None:
    from sqlalchemy.dialects.postgresql import insert

    conn.execute(insert(t.meta).values(key=key, value=value).on_conflict_do_update(
        index_elements=[t.meta.c.key], set_={"value": value}))


def _create_policies(conn, group: str, role_prefix: str) -> None:
    """(Re-)create the ``calibrate_*`` row-level security policies for ``group``.

    Membership tests are written as ``column IN (uncorrelated subquery)``: PostgreSQL runs
    such a subquery once per statement and looks each row up in a hash, where a correlated
    ``EXISTS`` would run once per row (123 times for a fully scored case). A judgement's
    case must belong to its session by the table's own foreign key (schema version 2), so
    the insert policy only checks who the row is by and that they are in the session.
    """
    me = _me_expr(role_prefix)
    my_sessions = _sql("(SELECT sr.session_id FROM session_raters sr WHERE {me_sr})", me_sr=me("sr.rater_id"))
    member = lambda col: _sql("{col} IN {mine}", col=_raw(col), mine=my_sessions)  # noqa: E731
    revealed = lambda col: _sql("{col} IN (SELECT s.id FROM sessions s WHERE s.revealed)", col=_raw(col))  # noqa: E731
    policies = {
        "judgements": [
            ("calibrate_read", "SELECT", "USING", _sql("{own} OR ({member} AND {revealed})", own=me("rater_id"),
             member=member("judgements.session_id"), revealed=revealed("judgements.session_id"))),
            # the reveal closes the blind round: no judgement joins a revealed session (a
            # re-score round is a session of its own, blind until it is revealed in turn)
            ("calibrate_write", "INSERT", "WITH CHECK", _sql("{own} AND {member} AND NOT {revealed}", own=me("rater_id"),
             member=member("judgements.session_id"), revealed=revealed("judgements.session_id"))),
        ],
        "consensus": [("calibrate_read", "SELECT", "USING", _sql("{member} AND {revealed}",
                       member=member("consensus.session_id"), revealed=revealed("consensus.session_id")))],
        "sessions": [("calibrate_read", "SELECT", "USING", member("sessions.id"))],
        "session_raters": [("calibrate_read", "SELECT", "USING", me("rater_id"))],
        "session_cases": [("calibrate_read", "SELECT", "USING", member("session_cases.session_id"))],
        "cases": [("calibrate_read", "SELECT", "USING", _sql("cases.id IN (SELECT sc.case_id FROM session_cases sc)"))],
        "raters": [("calibrate_read", "SELECT", "USING", me("id"))],
    }
    for table, pols in policies.items():
        _ddl(conn, "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY", t=_ident(table))
        for name, cmd, clause, expr in pols:
            _ddl(conn, "DROP POLICY IF EXISTS {p} ON {t}", p=_ident(name), t=_ident(table))
            _ddl(conn, "CREATE POLICY {p} ON {t} FOR " + cmd + " TO {g} " + clause + " ({e})",
                 p=_ident(name), t=_ident(table), g=_ident(group), e=expr)


def _recreate_policies_if_enabled(conn, *, grants: bool = False) -> None:
    """After a schema upgrade: bring the policies (and with ``grants`` the privileges) of a
    store with row-level security up to date."""
    settings = _settings(conn)
    if settings is not None:
        if grants:
            _grant(conn, settings[0])
        _create_policies(conn, *settings)


def _sql(template: str, **parts):
    from psycopg import sql

    return sql.SQL(template).format(**parts)


def _raw(column: str):
    """A fixed column reference from this module's own policy texts (never user input)."""
    from psycopg import sql

    return sql.SQL(column)


def _qualified(schema: str, name: str):
    from psycopg import sql

    return sql.Identifier(schema, name)


def _me_expr(role_prefix: str):
    """``rater column`` → SQL true when that rater is the logged-in assessor.

    ``session_user`` (not ``current_user``) so that ``SET ROLE`` cannot change who one is.
    """
    def me(column: str):
        return _sql("({prefix} || {col}) = session_user", prefix=_literal(role_prefix), col=_raw(column))

    return me


def row_level_security_enabled(store) -> bool:
    """Whether :func:`enable_row_level_security` has been run on this store."""
    if store.engine.dialect.name != "postgresql":
        return False
    with store.engine.connect() as conn:
        return _settings(conn) is not None


# ----------------------------------------------------------------------- assessors
def create_assessor(store, rater: str, password: str, *, sessions=()) -> str:
    """Create (or reset the password of) the database role of assessor ``rater``; return
    the URL the assessor's app opens the store with (``Store.open(db_url=url)``).

    The rater is registered in the store and, when given, added to ``sessions``. Run as
    the owner (facilitator) with ``CREATEROLE``, after :func:`enable_row_level_security`.
    An existing role is only reused when it is already an assessor of this store; any other
    role of that name (a superuser, another application) is left alone and an
    :class:`AccessError` is raised.
    """
    _require_postgres(store)
    if not isinstance(password, str) or len(password) < 8:
        raise InputError("an assessor's password needs at least 8 characters.")
    with store.engine.connect() as conn:
        settings = _settings(conn)
    if settings is None:
        raise StoreError(
            f"row-level security is not enabled on {describe_url(store.url)}: run "
            "calibrate.store.access.enable_row_level_security(store) as the owner first."
        )
    group, prefix = settings
    role = validate_rater_id(rater, role_prefix=prefix, group=group)
    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        existing = _role_exists(conn, role)
        if existing is None:
            _ddl(conn, "CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD {p}",
                 r=_ident(role), p=_literal(password))
            _ddl(conn, "GRANT {g} TO {r}", g=_ident(group), r=_ident(role))
        elif existing["rolsuper"] or not _is_member(conn, role, group):
            raise AccessError(
                f"a database role named {role!r} already exists and is not an assessor of this store; "
                "it was left unchanged.",
            )
        else:
            _ddl(conn, "ALTER ROLE {r} WITH LOGIN PASSWORD {p}", r=_ident(role), p=_literal(password))
        store._ensure_raters(conn, [rater])
        for session in sessions:
            conn.execute(
                _insert_ignore(t.session_raters),
                [{"session_id": session, "rater_id": rater}],
            )
    return assessor_url(store, rater, password)


def _insert_ignore(table):
    from sqlalchemy.dialects.postgresql import insert

    return insert(table).on_conflict_do_nothing()


def assessor_url(store, rater: str, password: str | None = None) -> str:
    """The store's URL with the assessor's role (and password) in place of the owner's."""
    with store.engine.connect() as conn:
        settings = _settings(conn)
    group, prefix = settings if settings else (ASSESSOR_GROUP, "")
    role = validate_rater_id(rater, role_prefix=prefix, group=group)
    url = sa.engine.make_url(store.url).set(username=role, password=password)
    return url.render_as_string(hide_password=False)


def remove_assessor(store, rater: str) -> None:
    """Drop the login of assessor ``rater`` (their judgements stay). Owner only."""
    _require_postgres(store)
    with store.engine.connect() as conn:
        settings = _settings(conn)
    if settings is None:
        raise StoreError("row-level security is not enabled on this store; there are no assessor roles.")
    group, prefix = settings
    role = validate_rater_id(rater, role_prefix=prefix, group=group)
    with store.engine.begin() as conn:
        if _role_exists(conn, role) is None:
            return
        if not _is_member(conn, role, group):
            raise AccessError(f"the database role {role!r} is not an assessor of this store; it was left unchanged.")
        _ddl(conn, "DROP ROLE {r}", r=_ident(role))


def connected_rater(store) -> str | None:
    """The rater id of the assessor role this store is connected as, or None (owner,
    facilitator, SQLite). This is the assessor's identity in the app."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        settings = _settings(conn)
        if settings is None:
            return None
        group, prefix = settings
        user = conn.execute(sa.text("SELECT session_user")).scalar_one()
        if not user.startswith(prefix) or not _is_member(conn, user, group):
            return None
    return user[len(prefix):]


def renew_after_upgrade(store) -> tuple[str, str] | None:
    """After ``calibrate upgrade`` of a team store that has row-level security: run
    :func:`enable_row_level_security` again with the group and role prefix it was enabled
    with (policies, grants and the pseudonymising functions of the new version). Returns
    that (group, prefix), or ``None`` when the store has no row-level security (SQLite, or
    never enabled). Run as the owner, with the store's pseudonym key."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        prior = _settings(conn)
    if prior is None:
        return None
    enable_row_level_security(store, group=prior[0], role_prefix=prior[1])
    return prior
