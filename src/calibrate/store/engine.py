"""Opening a workspace database: embedded SQLite (WAL, foreign keys) or PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

DB_FILENAME = "calibrate.sqlite"
SQLITE_BUSY_TIMEOUT_S = 60


def workspace_url(workspace: str | Path, *, create: bool = True) -> str:
    """The SQLite URL of the workspace directory ``workspace`` (created if needed, unless
    ``create`` is false)."""
    path = Path(workspace).expanduser().resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / DB_FILENAME}"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> sa.Engine:
    """Create the engine; on SQLite turn on WAL, foreign keys and immediate write locks.

    SQLite write transactions (execution option ``write=True``, see ``Store._write``)
    start with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout
    instead of failing half-way with "database is locked".
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            poolclass=sa.pool.NullPool,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # writers take the write lock up front; readers start a deferred transaction
            # (in WAL mode they never wait for a writer)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def url_from_env(workspace: str | Path | None = None, db_url: str | None = None, *, create: bool = True) -> str:
    """Resolve where the store lives: explicit URL, ``CALIBRATE_DB``, a workspace
    directory, ``CALIBRATE_WORKSPACE``, else ``./workspace`` (a workspace directory is
    made unless ``create`` is false)."""
    if db_url:
        return normalise_url(db_url)
    if workspace is not None:
        return workspace_url(workspace, create=create)
    if os.environ.get("CALIBRATE_DB"):
        return normalise_url(os.environ["CALIBRATE_DB"])
    return workspace_url(os.environ.get("CALIBRATE_WORKSPACE") or "workspace", create=create)


def describe_url(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:  # not a URL SQLAlchemy can read: name no part of it
        return "<database>"
