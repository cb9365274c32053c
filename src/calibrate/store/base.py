"""Opening a workspace store, its schema version, and the frameworks it knows.

Owns :class:`StoreBase`: where the store lives (a workspace's SQLite file or a
PostgreSQL URL), one write transaction at a time, the schema version check and the
upgrade on request, and the frameworks (built-in or registered) with their items.
"""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import InputError, SchemaVersionError, StoreError
from ..schema import DEFAULT_FRAMEWORK, allowed_values
from . import schema as t
from .engine import describe_url, make_engine, url_from_env
from .migrations import upgrade_steps
from .retry import DEFAULT_POLICY, RetryPolicy


def utcnow() -> str:
    """Now, as an ISO 8601 UTC timestamp with microseconds (sorts as text)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")




class StoreBase:
    """A workspace database: opening, versions, frameworks (see :class:`calibrate.store.Store`)."""

    def __init__(self, engine: sa.Engine, *, url: str, workspace: Path | None = None):
        self.engine = engine
        self.url = url
        #: how messages name this store ("the database <URL without password>")
        self.where = f"the database {describe_url(url)}"
        self.workspace = workspace
        self._framework_cache: dict[str, Any] = {}
        self._session_framework_ids: dict[str, str] = {}
        self._pseudonymiser = None
        #: the schema version the database had before ``open(..., upgrade=True)`` raised it
        self.upgraded_from: int | None = None
        #: what the upgrade steps said the user should know (e.g. rows moved aside)
        self.upgrade_notes: list[str] = []
        #: how idempotent writes (saves, imports, reveal) are retried on a dropped connection
        self.retry_policy: RetryPolicy = DEFAULT_POLICY
        #: called as ``on_retry(attempt, delay, exc)`` before each retry (the app shows a message)
        self.on_retry = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, workspace: str | Path | None = None, *, db_url: str | None = None, create: bool = True,
             upgrade: bool = False) -> "StoreBase":
        """Open (and on first use create) the store of ``workspace`` or at ``db_url``.

        Raises :class:`SchemaVersionError` when the database was made by an older or
        newer calibrate, with the way out in the message. ``upgrade=True`` (what
        ``calibrate upgrade`` does) brings an older database up to this version in one
        transaction instead; :attr:`upgraded_from` then holds the version it had.
        """
        url = url_from_env(workspace, db_url, create=create)
        ws = None
        if url.startswith("sqlite:///"):
            db_file = Path(url[len("sqlite:///"):])
            ws = db_file.parent
            if not create and not db_file.exists():
                # don't leave an empty database behind for a mistyped path
                raise StoreError(f"no calibrate workspace at {ws} (it holds no {db_file.name}).")
            if db_file.exists():  # not a damaged copy, not another program's database
                from ..paths import check_sqlite_database

                check_sqlite_database(db_file)
        engine = make_engine(url)
        store = cls(engine, url=url, workspace=ws)
        for attempt in range(1, 61):
            try:
                store._init_schema(create=create, upgrade=upgrade)
                break
            except sa.exc.OperationalError as exc:
                # a brand-new SQLite file that several processes open at once: switching it
                # to WAL and creating the tables can answer "locked" without waiting on the
                # busy timeout; the first opener finishes within moments, so try again
                if ws is not None and "locked" in str(exc.orig) and attempt < 60:
                    time.sleep(min(0.05 * attempt, 0.5))
                    continue
                engine.dispose()
                raise StoreError(
                    f"cannot open the database {describe_url(url)}: {exc.orig}. "
                    "Check that the server is running and the URL (--db / CALIBRATE_DB) is right."
                ) from None
        return store

    @classmethod
    def from_env(cls) -> "StoreBase":
        """Open the store named by ``CALIBRATE_DB`` or ``CALIBRATE_WORKSPACE``.

        Neither set is an error (rather than a stray empty workspace beside a notebook).
        """
        import os

        if not (os.environ.get("CALIBRATE_DB") or os.environ.get("CALIBRATE_WORKSPACE")):
            raise StoreError(
                "no workspace given: set CALIBRATE_WORKSPACE to a workspace directory (e.g. the demo: "
                "`uv run calibrate demo --workspace demo-workspace`, then CALIBRATE_WORKSPACE=$PWD/demo-workspace) "
                "or CALIBRATE_DB to a database URL, or pass --workspace / --db."
            )
        ws = os.environ.get("CALIBRATE_WORKSPACE")
        if ws and not os.environ.get("CALIBRATE_DB"):
            from .engine import DB_FILENAME

            path = Path(ws).expanduser().resolve()
            if not (path / DB_FILENAME).exists():
                raise StoreError(
                    f"CALIBRATE_WORKSPACE points at {path}, which holds no calibrate workspace. "
                    "A relative path is taken from the current folder (for a notebook: the notebook's "
                    "folder), so give an absolute path, e.g. CALIBRATE_WORKSPACE=$PWD/demo-workspace."
                )
        return cls.open()

    def _write(self):
        """A write transaction (on SQLite it takes the write lock at its start)."""
        return self.engine.execution_options(write=True).begin()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _init_schema(self, *, create: bool, upgrade: bool = False) -> None:
        # fast path, read-only: an existing workspace needs no lock and no write access
        # (an assessor's database role may only read it)
        with self.engine.connect() as conn:
            if sa.inspect(conn).has_table("meta"):
                row = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")).first()
                if row is not None and not (upgrade and int(row[0]) < t.SCHEMA_VERSION):
                    self.check_version(int(row[0]))
                    return
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(20261122)"))
            insp = sa.inspect(conn)
            existing = set(insp.get_table_names())
            if "meta" not in existing:
                if existing & {"judgements", "sessions"}:
                    raise SchemaVersionError(
                        f"{self.where} has calibrate tables but no schema version: "
                        "it was made by a pre-release calibrate. Export its scores with that version and "
                        "import them into a new workspace."
                    )
                if not create:
                    raise StoreError(f"no calibrate workspace at {describe_url(self.url)}.")
                t.metadata.create_all(conn)
                install_scale_checks(conn)
                install_generation_triggers(conn)
                conn.execute(sa.insert(t.meta).values(key="schema_version", value=str(t.SCHEMA_VERSION)))
                conn.execute(sa.insert(t.meta).values(key="created_at", value=utcnow()))
                return
            version = int(conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one())
            steps = upgrade_steps(version, t.SCHEMA_VERSION) if upgrade and version < t.SCHEMA_VERSION else []
            if steps:
                # all steps and the new version in this one transaction: all or nothing
                try:
                    for step in steps:
                        self.upgrade_notes += step(conn) or []
                except sa.exc.ProgrammingError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "42501":
                        raise
                    raise StoreError(
                        f"upgrading {describe_url(self.url)} from schema version {version} was refused: "
                        f"{' '.join(str(exc.orig).split())[:200]}. Run `calibrate upgrade` as the owner of the "
                        "tables (the facilitator); nothing was changed."
                    ) from None
                conn.execute(sa.update(t.meta).where(t.meta.c.key == "schema_version").values(value=str(t.SCHEMA_VERSION)))
                self.upgraded_from = version
                return
        self.check_version(version)

    def check_version(self, version: int) -> None:
        if version > t.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.where} has schema version {version}, newer than this "
                f"calibrate understands ({t.SCHEMA_VERSION}). Upgrade calibrate (pip install -U calibrate) "
                "before opening it; nothing was changed."
            )
        if version < t.SCHEMA_VERSION:
            steps = upgrade_steps(version, t.SCHEMA_VERSION)
            if not steps:
                raise SchemaVersionError(
                    f"{self.where} has schema version {version}, which this calibrate "
                    f"({t.SCHEMA_VERSION}) cannot upgrade. Export its scores with the calibrate that made it "
                    "(calibrate export scores) and import them into a new workspace; nothing was changed."
                )
            raise SchemaVersionError(
                f"{self.where} has schema version {version}, older than this "
                f"calibrate ({t.SCHEMA_VERSION}). Run `calibrate upgrade --workspace W` (or --db URL) to "
                f"apply {len(steps)} upgrade step(s); make a backup first. Nothing was changed."
            )

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one())

    # --------------------------------------------------------------- frameworks
    def framework(self, framework_id: str = DEFAULT_FRAMEWORK):
        """The framework ``framework_id`` (built-in or registered in this store)."""
        if framework_id not in self._framework_cache:
            from ..frameworks import load_framework

            with self.engine.connect() as conn:
                source = conn.execute(sa.select(t.frameworks.c.source).where(t.frameworks.c.id == framework_id)).scalar()
            if source and Path(source).exists():
                fw = load_framework(source)
            else:
                fw = load_framework(framework_id)
            self._framework_cache[framework_id] = fw
        return self._framework_cache[framework_id]

    def ensure_framework(self, fw) -> None:
        """Register framework ``fw`` and its items (idempotent)."""
        with self._write() as conn:
            self._ensure_framework(conn, fw)
        self._framework_cache[fw.id] = fw

    def _ensure_framework(self, conn, fw) -> None:
        exists = conn.execute(sa.select(t.frameworks.c.id).where(t.frameworks.c.id == fw.id)).scalar()
        if exists:
            return
        source = getattr(fw, "source", None)
        conn.execute(
            sa.insert(t.frameworks).values(
                id=fw.id, version=str(fw.version), title=fw.title, source=str(source) if source else None, loaded_at=utcnow()
            )
        )
        known = {r.id: r.kind for r in conn.execute(sa.select(t.items.c.id, t.items.c.kind))}
        rows = []
        for item in fw.items():
            if item.id in known:
                if known[item.id] != item.kind:
                    raise InputError(
                        f"item {item.id!r} is already stored as a {known[item.id]!r} item; framework {fw.id!r} makes it {item.kind!r}.",
                        location=f"framework {fw.id}",
                    )
                continue
            rows.append({"id": item.id, "kind": item.kind, "framework_id": fw.id, "label": item.label})
        if rows:
            conn.execute(sa.insert(t.items), rows)
            set_item_scales(conn, {item.id: allowed_values(item.kind, item.codes) for item in fw.items()
                                   if item.id in {r["id"] for r in rows}})


def install_scale_checks(conn) -> None:
    """The contract's codes per kind and the triggers that keep every value within its
    item's scale (schema version 3; :func:`calibrate.store.schema.scale_triggers`)."""
    conn.execute(_insert_ignore(conn, t.kind_values), t.kind_value_rows())
    for ddl in t.scale_triggers(conn.dialect.name):
        conn.exec_driver_sql(ddl)


def install_generation_triggers(conn) -> None:
    """The change counter of judgements and consensus (schema version 4, SQLite only;
    :func:`calibrate.store.schema.generation_triggers`)."""
    if conn.dialect.name != "sqlite":
        return
    conn.execute(_insert_ignore(conn, t.meta), [{"key": t.GENERATION_KEY, "value": "0"}])
    for ddl in t.generation_triggers(conn.dialect.name):
        conn.exec_driver_sql(ddl)


def set_item_scales(conn, scales: dict) -> None:
    """Make ``scales`` (item id → allowed values) the items' scales in ``item_values``."""
    if not scales:
        return
    conn.execute(sa.delete(t.item_values).where(t.item_values.c.item_id.in_(list(scales))))
    conn.execute(sa.insert(t.item_values), [{"item_id": i, "value": v} for i, vals in scales.items() for v in vals])


def _insert_ignore(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()
