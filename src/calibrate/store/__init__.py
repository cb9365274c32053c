"""The workspace store: frameworks, sessions, cases, raters, judgements, consensus.

SQLite in a workspace directory by default, PostgreSQL by URL. Every write is one
transaction (all or nothing). Judgements are never overwritten in place: each save
is appended with its time and the latest per (session, case, rater, item) is current.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import AccessError, InputError, SchemaVersionError, StoreError
from ..schema import CODES, CONSENSUS_COLUMNS, SCORE_COLUMNS, ItemSpec, allowed_values, validate_table
from . import schema as t
from .engine import describe_url, make_engine, url_from_env
from .latest import latest_rows
from .migrations import upgrade_steps
from .retry import DEFAULT_POLICY, RetryPolicy, retrying

DEFAULT_FRAMEWORK = "han-wpl2-2025"


def utcnow() -> str:
    """Now, as an ISO 8601 UTC timestamp with microseconds (sorts as text)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass(frozen=True)
class ImportSummary:
    """What an import did. Counts only — never the imported text."""

    source: str
    rows: int
    appended: int
    unchanged: int
    new_sessions: tuple[str, ...] = ()
    new_cases: tuple[str, ...] = ()
    new_raters: tuple[str, ...] = ()
    replaced: Mapping[str, int] = field(default_factory=dict)

    def message(self) -> str:
        parts = [f"{self.source}: {self.rows} rows read, {self.appended} saved, {self.unchanged} unchanged"]
        if self.new_sessions:
            parts.append(f"{len(self.new_sessions)} new session(s)")
        if self.new_cases:
            parts.append(f"{len(self.new_cases)} new case(s)")
        if self.new_raters:
            parts.append(f"{len(self.new_raters)} new rater(s)")
        if self.replaced:
            parts.append("pseudonymised: " + (", ".join(f"{k} {v}" for k, v in sorted(self.replaced.items()) if v) or "nothing found"))
        return "; ".join(parts) + "."


class Store:
    """A workspace database. Open with :meth:`open` or :meth:`from_env`."""

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
        #: how idempotent writes (saves, imports, reveal) are retried on a dropped connection
        self.retry_policy: RetryPolicy = DEFAULT_POLICY
        #: called as ``on_retry(attempt, delay, exc)`` before each retry (the app shows a message)
        self.on_retry = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, workspace: str | Path | None = None, *, db_url: str | None = None, create: bool = True,
             upgrade: bool = False) -> "Store":
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
    def from_env(cls) -> "Store":
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
                conn.execute(sa.insert(t.meta).values(key="schema_version", value=str(t.SCHEMA_VERSION)))
                conn.execute(sa.insert(t.meta).values(key="created_at", value=utcnow()))
                return
            version = int(conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one())
            steps = upgrade_steps(version, t.SCHEMA_VERSION) if upgrade and version < t.SCHEMA_VERSION else []
            if steps:
                # all steps and the new version in this one transaction: all or nothing
                try:
                    for step in steps:
                        step(conn)
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

    def _item_specs(self, conn, item_ids: Iterable[str], framework_ids: Iterable[str] = ()) -> dict[str, ItemSpec]:
        specs: dict[str, ItemSpec] = {}
        for fid in set(framework_ids):
            fw = self.framework(fid)
            for item in fw.items():
                specs[item.id] = ItemSpec(item.id, item.kind, tuple(item.codes))
        ids = [i for i in set(item_ids) if i not in specs]
        for chunk in _chunks(ids, 500):
            for r in conn.execute(sa.select(t.items.c.id, t.items.c.kind).where(t.items.c.id.in_(chunk))):
                specs[r.id] = ItemSpec(r.id, r.kind, CODES[r.kind])
        return specs

    # ------------------------------------------------------- sessions and people
    def create_session(
        self,
        session: str,
        session_date: str | _dt.date,
        *,
        framework: str = DEFAULT_FRAMEWORK,
        title: str | None = None,
        cases: Iterable[str] = (),
        raters: Iterable[str] = (),
        revealed: bool = False,
        parent: str | None = None,
    ) -> None:
        """Create a kalibreersessie with its cases and assessors (blind: not revealed)."""
        date = _parse_date(session_date, f"session {session!r}")
        fw = self.framework(framework)
        with self._write() as conn:
            self._ensure_framework(conn, fw)
            if conn.execute(sa.select(t.sessions.c.id).where(t.sessions.c.id == session)).scalar():
                raise InputError(f"session {session!r} already exists.", hint="Choose another session id.")
            rnd = 1
            if parent:
                prow = conn.execute(sa.select(t.sessions.c.round).where(t.sessions.c.id == parent)).first()
                if prow is None:
                    raise InputError(f"parent session {parent!r} does not exist.")
                rnd = prow.round + 1
            conn.execute(
                sa.insert(t.sessions).values(
                    id=session, session_date=date, framework_id=fw.id, title=title, revealed=revealed,
                    show_rater_names=False, parent_id=parent, round=rnd, created_at=utcnow(),
                )
            )
            case_list = list(cases)
            known_cases = {r[0] for r in conn.execute(sa.select(t.cases.c.id))}
            unknown = [c for c in case_list if c not in known_cases]
            if unknown:
                raise InputError(f"unknown case(s) {', '.join(map(repr, unknown))}.", hint="Import them first with `calibrate import cases`.")
            if case_list:
                conn.execute(sa.insert(t.session_cases), [{"session_id": session, "case_id": c, "position": i} for i, c in enumerate(case_list)])
            rater_list = list(raters)
            self._ensure_raters(conn, rater_list)
            if rater_list:
                conn.execute(sa.insert(t.session_raters), [{"session_id": session, "rater_id": r} for r in rater_list])

    def add_raters(self, raters: Iterable[str] | pd.DataFrame) -> None:
        """Register pseudonymous raters (ids, optionally with a ``role`` column)."""
        with self._write() as conn:
            if isinstance(raters, pd.DataFrame):
                self._ensure_raters(conn, list(raters["rater"]), roles=dict(zip(raters["rater"], raters.get("role", [None] * len(raters)))))
            else:
                self._ensure_raters(conn, list(raters))

    def _ensure_raters(self, conn, rater_ids: list[str], roles: Mapping[str, str] | None = None) -> list[str]:
        known = {r[0] for r in conn.execute(sa.select(t.raters.c.id))}
        new = [r for r in dict.fromkeys(rater_ids) if r not in known]
        if new:
            now = utcnow()
            conn.execute(
                _insert_ignore(conn, t.raters),
                [{"id": r, "role": (roles or {}).get(r), "display_name": None, "created_at": now} for r in new],
            )
        return new

    @retrying("revealing the session")
    def reveal(self, session: str) -> None:
        """Reveal a session: from now on every assessor may see the others' judgements."""
        with self._write() as conn:
            n = conn.execute(sa.update(t.sessions).where(t.sessions.c.id == session).values(revealed=True)).rowcount
        if not n:
            raise InputError(f"session {session!r} does not exist.")

    def is_revealed(self, session: str) -> bool:
        with self.engine.connect() as conn:
            val = conn.execute(sa.select(t.sessions.c.revealed).where(t.sessions.c.id == session)).scalar()
        if val is None:
            raise InputError(f"session {session!r} does not exist.")
        return bool(val)

    def sessions(self) -> pd.DataFrame:
        """Sessions ordered by date: session, session_date, framework, title, revealed, round, parent."""
        q = sa.select(
            t.sessions.c.id.label("session"), t.sessions.c.session_date, t.sessions.c.framework_id.label("framework"),
            t.sessions.c.title, t.sessions.c.revealed, t.sessions.c.round, t.sessions.c.parent_id.label("parent"),
        ).order_by(t.sessions.c.session_date, t.sessions.c.id)
        with self.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).mappings().all(), columns=["session", "session_date", "framework", "title", "revealed", "round", "parent"])
        df["revealed"] = df["revealed"].astype(bool)
        return df

    def session_cases(self, session: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(
                sa.select(t.session_cases.c.case_id).where(t.session_cases.c.session_id == session).order_by(t.session_cases.c.position, t.session_cases.c.case_id)
            )]

    def session_raters(self, session: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(
                sa.select(t.session_raters.c.rater_id).where(t.session_raters.c.session_id == session).order_by(t.session_raters.c.rater_id)
            )]

    def session_framework(self, session: str):
        """The framework a session is scored on (a session's framework never changes, so
        the lookup is cached per store)."""
        fid = self._session_framework_ids.get(session)
        if fid is None:
            with self.engine.connect() as conn:
                fid = conn.execute(sa.select(t.sessions.c.framework_id).where(t.sessions.c.id == session)).scalar()
            if fid is not None:
                self._session_framework_ids[session] = fid
        return self.framework(fid or DEFAULT_FRAMEWORK)

    def cases(self, session: str | None = None) -> pd.DataFrame:
        """Cases (case, title, text, material), those of ``session`` in session order when given."""
        if session is None:
            q = sa.select(t.cases.c.id.label("case"), t.cases.c.title, t.cases.c.text, t.cases.c.material).order_by(t.cases.c.id)
        else:
            q = (
                sa.select(t.cases.c.id.label("case"), t.cases.c.title, t.cases.c.text, t.cases.c.material)
                .join(t.session_cases, t.session_cases.c.case_id == t.cases.c.id)
                .where(t.session_cases.c.session_id == session)
                .order_by(t.session_cases.c.position, t.cases.c.id)
            )
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(q).mappings().all(), columns=["case", "title", "text", "material"])

    def raters(self) -> pd.DataFrame:
        """Raters under their pseudonyms: rater, role."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.raters.c.id.label("rater"), t.raters.c.role).order_by(t.raters.c.id)).mappings().all()
        return pd.DataFrame(rows, columns=["rater", "role"])

    # ------------------------------------------------------------------- cases
    def import_cases(self, df: pd.DataFrame, *, source: str = "cases", pseudonymiser=None) -> ImportSummary:
        """Import cases (columns case, title, text, optional material), all or nothing.

        Text and title go through ``pseudonymiser`` (a :class:`calibrate.privacy.Pseudonymiser`)
        before anything is written; the summary reports replacements by type and count only.
        A case that exists already gets the new title/text/material.
        """
        df = df.copy()
        df.columns = [str(c).strip() for c in df.columns]
        required = ["case", "title", "text"]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise InputError(
                f"column(s) {', '.join(map(repr, missing))} missing from the header.",
                location=f"{source}, row 1",
                hint="A cases file has the columns case, title, text and optionally material.",
            )
        extra = [c for c in df.columns if c not in (*required, "material")]
        if extra:
            raise InputError(f"unknown column(s) {', '.join(map(repr, extra))}.", location=f"{source}, row 1",
                             hint="A cases file has the columns case, title, text and optionally material.")
        if len(df) == 0:
            raise InputError("the cases file has a header but no rows.", location=source)
        if "material" not in df.columns:
            df["material"] = pd.NA
        errors = []
        for idx, case in zip(df.index, df["case"]):
            if pd.isna(case) or not str(case).strip():
                errors.append(f"row {idx + 2}, column 'case': empty; every case needs an anonymised id.")
        dup = df["case"].dropna()
        for case in dup[dup.duplicated()].unique():
            rows = ", ".join(str(i + 2) for i in df.index[df["case"] == case])
            errors.append(f"rows {rows}, column 'case': case id {case!r} appears more than once.")
        if errors:
            raise InputError("problems found, nothing was imported:\n  " + "\n  ".join(errors[:20]), location=source)
        totals: dict[str, int] = {}
        rows = []
        for _, r in df.iterrows():
            rec = {"id": str(r["case"]).strip()}
            for col in ("title", "text", "material"):
                val = None if pd.isna(r[col]) else str(r[col])
                if val is not None and pseudonymiser is not None and col != "material":
                    res = pseudonymiser.pseudonymise(val)
                    val = res.text
                    for k, v in res.counts.items():
                        totals[k] = totals.get(k, 0) + v
                rec[col] = val
            rows.append(rec)
        if pseudonymiser is not None and any(rows):
            for rec in rows:
                for bad in _case_id_problems(rec["id"], pseudonymiser):
                    raise InputError(f"case id {rec['id'][:3]}… looks like personal data ({bad}).", location=source,
                                     hint="Use an anonymised case id such as C01.")
        now = utcnow()
        with self._write() as conn:
            known = {r[0] for r in conn.execute(sa.select(t.cases.c.id))}
            new = [r for r in rows if r["id"] not in known]
            old = [r for r in rows if r["id"] in known]
            if new:
                conn.execute(sa.insert(t.cases), [{**r, "created_at": now} for r in new])
            for r in old:
                conn.execute(sa.update(t.cases).where(t.cases.c.id == r["id"]).values(title=r["title"], text=r["text"], material=r["material"]))
            if pseudonymiser is not None:
                self._check_key(conn, pseudonymiser._key)
                self._store_fingerprints(conn, pseudonymiser)
        self._pseudonymiser = None  # new fingerprints: rebuild on next use
        return ImportSummary(source, len(rows), len(new) + len(old), 0, new_cases=tuple(r["id"] for r in new), replaced=totals)

    def _store_fingerprints(self, conn, pseudonymiser) -> None:
        rows = getattr(pseudonymiser, "fingerprint_rows", None)
        if rows is None:
            return
        data = [{"fingerprint": f, "pseudonym": p, "kind": k} for f, p, k in rows()]
        if data:
            conn.execute(_insert_ignore(conn, t.name_fingerprints), data)

    def name_fingerprints(self) -> list[tuple[str, str, str]]:
        """Stored (fingerprint, pseudonym, kind) rows for pseudonymising notes."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(t.name_fingerprints.c.fingerprint, t.name_fingerprints.c.pseudonym, t.name_fingerprints.c.kind))]

    def key_dir(self) -> Path:
        """Where the pseudonym key file lives: the workspace directory, or for a database
        URL ``~/.config/calibrate`` (teams set ``CALIBRATE_PSEUDONYM_KEY`` instead)."""
        if self.workspace is not None:
            return self.workspace
        path = Path.home() / ".config" / "calibrate"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def note_pseudonymiser(self):
        """A pseudonymiser for notes: patterns plus the roster fingerprints stored here."""
        if self._pseudonymiser is None:
            from .. import privacy

            key = privacy.load_or_create_key(self.key_dir())
            with self._write() as conn:
                self._check_key(conn, key)
            self._pseudonymiser = privacy.Pseudonymiser.from_fingerprints(self.name_fingerprints(), key=key)
        return self._pseudonymiser

    def _check_key(self, conn, key: bytes) -> None:
        """Record the pseudonym key's public id on first use; refuse another key later
        (its pseudonyms would not match the stored ones and names would slip through)."""
        from .. import privacy

        kid = privacy.key_id(key)
        stored = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "pseudonym_key_id")).scalar()
        if stored is None:
            conn.execute(_insert_ignore(conn, t.meta).values(key="pseudonym_key_id", value=kid))
        elif stored != kid:
            raise StoreError(
                f"the pseudonym key ({privacy.KEY_FILENAME} in {self.key_dir()} or {privacy.KEY_ENV}) is not the key "
                f"this database was pseudonymised with (key id {stored}). Restore the original key file or set "
                f"{privacy.KEY_ENV}; nothing was changed."
            )

    # ---------------------------------------------------------------- judgements
    def import_scores(self, df: pd.DataFrame, *, source: str = "scores", pseudonymise_raters: bool = False) -> ImportSummary:
        """Import a score table (CONTRACTS §1), all rows or none.

        Sessions, cases and raters that don't exist yet are created (imported sessions
        count as revealed); a row equal to the current judgement is skipped, so importing
        the same file twice changes nothing. With ``pseudonymise_raters=True`` the
        ``rater`` column holds real names: each is replaced by its keyed pseudonym
        (``beoordelaar-XXXXXX``) and the name is kept only in the store's rater table,
        shown only for sessions that opt in (:meth:`show_rater_names`).
        """
        names: dict[str, str] = {}
        if pseudonymise_raters and "rater" in df.columns:
            from .. import privacy

            key = privacy.load_or_create_key(self.key_dir())
            df = df.copy()
            raw = df["rater"].astype("string").str.strip()
            for name in raw.dropna().unique():
                names[privacy.rater_pseudonym(str(name), key=key)] = str(name)
            df["rater"] = raw.map(lambda n: n if pd.isna(n) else privacy.rater_pseudonym(str(n), key=key))
        summary = self._import(df, source=source, with_rater=True)
        if names:
            with self._write() as conn:
                for rid, name in names.items():
                    conn.execute(sa.update(t.raters).where(t.raters.c.id == rid).values(display_name=name))
        return summary

    def show_rater_names(self, session: str, show: bool = True) -> None:
        """Opt a session in (or out) of showing assessors' names in exports and reports."""
        with self._write() as conn:
            n = conn.execute(sa.update(t.sessions).where(t.sessions.c.id == session).values(show_rater_names=show)).rowcount
        if not n:
            raise InputError(f"session {session!r} does not exist.")

    def with_rater_names(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` (a score table) with pseudonyms replaced by names, but only for sessions
        that opted in with :meth:`show_rater_names` and raters whose name is known."""
        with self.engine.connect() as conn:
            opted = {r[0] for r in conn.execute(sa.select(t.sessions.c.id).where(t.sessions.c.show_rater_names.is_(True)))}
            names = {r.id: r.display_name for r in conn.execute(sa.select(t.raters.c.id, t.raters.c.display_name).where(t.raters.c.display_name.is_not(None)))}
        if not opted or not names or "rater" not in df.columns:
            return df
        df = df.copy()
        mask = df["session"].isin(opted) & df["rater"].isin(names.keys())
        df.loc[mask, "rater"] = df.loc[mask, "rater"].map(names)
        return df

    def import_consensus(self, df: pd.DataFrame, *, source: str = "consensus") -> ImportSummary:
        """Import consensus (benchmark) judgements, same rules as :meth:`import_scores`."""
        return self._import(df, source=source, with_rater=False)

    @retrying("the import")
    def _import(self, df: pd.DataFrame, *, source: str, with_rater: bool) -> ImportSummary:
        with self.engine.connect() as conn:
            sess_fw = {r.id: r.framework_id for r in conn.execute(sa.select(t.sessions.c.id, t.sessions.c.framework_id))}
            item_col = df["item"] if "item" in df.columns else pd.Series([], dtype="string")
            fw_ids = {fid for fid in sess_fw.values() if fid} | {DEFAULT_FRAMEWORK}
            specs = self._item_specs(conn, item_col.dropna().astype(str).str.strip(), fw_ids)
        clean = validate_table(df, source=source, with_rater=with_rater, items=specs)
        n_rows = len(clean)
        replaced: dict[str, int] = {}
        if "note" in clean.columns and clean["note"].notna().any():
            pseudo = self.note_pseudonymiser()
            notes = []
            for note in clean["note"]:
                if pd.isna(note):
                    notes.append(pd.NA)
                    continue
                res = pseudo.pseudonymise(str(note))
                for k, v in res.counts.items():
                    replaced[k] = replaced.get(k, 0) + v
                notes.append(res.text)
            clean["note"] = pd.array(notes, dtype="string")
        table = t.judgements if with_rater else t.consensus
        key = ["session", "case", "rater", "item"] if with_rater else ["session", "case", "item"]
        now = utcnow()
        with self._write() as conn:
            fw = self.framework(DEFAULT_FRAMEWORK)
            self._ensure_framework(conn, fw)
            # sessions: create or check the date
            sess = clean.groupby("session", sort=False)["session_date"].first()
            existing = {r.id: r.session_date for r in conn.execute(sa.select(t.sessions.c.id, t.sessions.c.session_date).where(t.sessions.c.id.in_(list(sess.index))))}
            for s, d in sess.items():
                if s in existing and existing[s] != d:
                    row = int(clean.index[clean["session"] == s][0]) + 2
                    raise InputError(
                        f"session {s!r} is stored with date {existing[s]}, the file says {d}; nothing was imported.",
                        location=f"{source}, row {row}, column 'session_date'",
                        hint="Use the stored date or another session id.",
                    )
            new_sessions = [s for s in sess.index if s not in existing]
            if new_sessions:
                conn.execute(_insert_ignore(conn, t.sessions), [
                    {"id": s, "session_date": sess[s], "framework_id": fw.id, "title": None, "revealed": True,
                     "show_rater_names": False, "parent_id": None, "round": 1, "created_at": now}
                    for s in new_sessions
                ])
            # cases
            case_ids = list(dict.fromkeys(clean["case"]))
            known_cases = set()
            for chunk in _chunks(case_ids, 500):
                known_cases |= {r[0] for r in conn.execute(sa.select(t.cases.c.id).where(t.cases.c.id.in_(chunk)))}
            new_cases = [c for c in case_ids if c not in known_cases]
            if new_cases:
                conn.execute(_insert_ignore(conn, t.cases), [{"id": c, "title": None, "text": None, "material": None, "created_at": now} for c in new_cases])
            pairs = clean[["session", "case"]].drop_duplicates()
            conn.execute(_insert_ignore(conn, t.session_cases), [{"session_id": s, "case_id": c, "position": 0} for s, c in pairs.itertuples(index=False)])
            new_raters: list[str] = []
            if with_rater:
                new_raters = self._ensure_raters(conn, list(dict.fromkeys(clean["rater"])))
                rp = clean[["session", "rater"]].drop_duplicates()
                conn.execute(_insert_ignore(conn, t.session_raters), [{"session_id": s, "rater_id": r} for s, r in rp.itertuples(index=False)])
            # items: custom ones get their kind from the file
            items = clean[["item", "kind"]].drop_duplicates("item")
            stored = {}
            for chunk in _chunks(list(items["item"]), 500):
                stored.update({r.id: r.kind for r in conn.execute(sa.select(t.items.c.id, t.items.c.kind).where(t.items.c.id.in_(chunk)))})
            new_items = [{"id": i, "kind": k, "framework_id": None, "label": None} for i, k in items.itertuples(index=False) if i not in stored]
            if new_items:
                conn.execute(_insert_ignore(conn, t.items), new_items)
            # skip rows equal to the current judgement (idempotent re-import)
            current = self._current(conn, table, sessions=list(sess.index), with_rater=with_rater)
            if len(current):
                merged = clean.merge(current[key + ["value", "note"]], on=key, how="left", suffixes=("", "_cur"), indicator=True)
                same = (merged["_merge"] == "both") & _eq(merged["value"], merged["value_cur"])
                if with_rater:
                    same &= _eq(merged["note"], merged["note_cur"])
                todo = clean.loc[~same.to_numpy()]
            else:
                todo = clean
            if len(todo):
                records = []
                for r in todo.itertuples(index=False):
                    rec = {
                        "session_id": r.session, "case_id": r.case, "item_id": r.item,
                        "value": _none(r.value), "scored_at": _none(r.scored_at) or now, "saved_at": now, "source": source[:255],
                    }
                    if with_rater:
                        rec["rater_id"] = r.rater
                        rec["note"] = _none(r.note)
                    else:
                        rec["note"] = _none(getattr(r, "note", None))
                    records.append(rec)
                for chunk in _chunks(records, 5000):
                    conn.execute(sa.insert(table), chunk)
        return ImportSummary(
            source, n_rows, len(todo), n_rows - len(todo), tuple(new_sessions), tuple(new_cases), tuple(new_raters), replaced
        )

    def _current(self, conn, table, *, sessions: list[str] | None, with_rater: bool, raters: list[str] | None = None) -> pd.DataFrame:
        """The current judgement per key, as a contract-ordered DataFrame of strings.

        One pass over the append-only table (no SQL sort or self-join, which spill to disk
        at millions of rows): fetch in chunks, code the key columns as integers, keep the
        row with the highest id per key, then sort by session date, session, case, rater
        and item.
        """
        key = ["session_id", "case_id"] + (["rater_id"] if with_rater else []) + ["item_id"]
        names = ["session", "session_date", "case"] + (["rater"] if with_rater else []) + ["item", "kind", "value", "note", "scored_at"]
        q = sa.select(table.c.id, *[table.c[k] for k in key], table.c.value, table.c.note, table.c.scored_at)
        if sessions is not None:
            q = q.where(table.c.session_id.in_(sessions))
        if raters is not None:
            q = q.where(table.c.rater_id.in_(raters))
        res = conn.execute(q)
        parts: list[list[np.ndarray]] = []
        while True:
            rows = res.fetchmany(200_000)
            if not rows:
                break
            parts.append([np.asarray(col, dtype=object) for col in zip(*rows)])
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="string") for c in names})
        cols = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
        ids = cols[0].astype(np.int64)
        codes, labels = [], []
        for col in cols[1 : 1 + len(key)]:
            c, u = pd.factorize(col, sort=True)
            codes.append(c.astype(np.int64))
            labels.append(u)
        keep = latest_rows(ids, codes, [len(u) for u in labels])
        # sort: session date, session id, case, (rater), item
        sess_labels = labels[0]
        dates = dict(conn.execute(sa.select(t.sessions.c.id, t.sessions.c.session_date).where(t.sessions.c.id.in_(list(sess_labels)))).all())
        kinds = dict(conn.execute(sa.select(t.items.c.id, t.items.c.kind)).all())
        by_date = sorted(range(len(sess_labels)), key=lambda k: (str(dates.get(sess_labels[k])), sess_labels[k]))
        sess_rank = np.empty(len(sess_labels), dtype=np.int64)
        sess_rank[by_date] = np.arange(len(sess_labels))
        sort_keys = [c[keep] for c in reversed(codes[1:])] + [sess_rank[codes[0][keep]]]
        keep = keep[np.lexsort(sort_keys)]
        out = {
            "session": sess_labels.take(codes[0][keep]),
            "session_date": np.asarray([dates.get(x) for x in sess_labels], dtype=object).take(codes[0][keep]),
        }
        for name, c, u in zip(names[2:2 + len(key) - 1], codes[1:], labels[1:]):
            out[name] = u.take(c[keep])
        out["kind"] = np.asarray([kinds.get(x) for x in labels[-1]], dtype=object).take(codes[-1][keep])
        for name, col in zip(("value", "note", "scored_at"), cols[1 + len(key):]):
            out[name] = col[keep]
        df = pd.DataFrame(out)[names]
        return df.astype("string")

    def scores(self, session: str | Iterable[str] | None = None, *, history: bool = False) -> pd.DataFrame:
        """The score table (contract columns) — the facilitator's view, all raters.

        ``history=True`` returns every save (oldest first) instead of the current judgements.
        """
        sessions = [session] if isinstance(session, str) else (list(session) if session is not None else None)
        with self.engine.connect() as conn:
            if history:
                return self._history(conn, t.judgements, sessions)
            df = self._current(conn, t.judgements, sessions=sessions, with_rater=True)
        return df[list(SCORE_COLUMNS)]

    def consensus(self, session: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Current consensus (benchmark) judgements: contract consensus columns plus ``note`` (the reason)."""
        sessions = [session] if isinstance(session, str) else (list(session) if session is not None else None)
        with self.engine.connect() as conn:
            df = self._current(conn, t.consensus, sessions=sessions, with_rater=False)
        return df[list(CONSENSUS_COLUMNS) + ["note"]]

    def _history(self, conn, table, sessions):
        q = (
            sa.select(
                table.c.session_id.label("session"), t.sessions.c.session_date, table.c.case_id.label("case"),
                table.c.rater_id.label("rater"), table.c.item_id.label("item"), t.items.c.kind, table.c.value,
                table.c.note, table.c.scored_at, table.c.saved_at, table.c.source,
            )
            .select_from(table.join(t.sessions, t.sessions.c.id == table.c.session_id).join(t.items, t.items.c.id == table.c.item_id))
            .order_by(table.c.id)
        )
        if sessions is not None:
            q = q.where(table.c.session_id.in_(sessions))
        rows = conn.execute(q).fetchall()
        cols = list(SCORE_COLUMNS) + ["saved_at", "source"]
        return pd.DataFrame(rows, columns=cols).astype("string")

    @retrying("saving the judgements")
    def save_judgements(
        self,
        session: str,
        case: str,
        rater: str,
        values: Mapping[str, tuple[str | None, str | None] | str | None],
        *,
        source: str = "app",
    ) -> int:
        """Save one assessor's judgements of one case (one transaction); return how many rows were appended.

        ``values`` maps item id → value or (value, note). A value of None with a note
        stores the note alone (a half-filled item is kept). Values are checked against
        the item's scale; unchanged items are not appended again. Notes are pseudonymised.
        """
        fw = self.session_framework(session)
        rows = []
        for item_id, entry in values.items():
            value, note = entry if isinstance(entry, tuple) else (entry, None)
            spec = _checked_item(fw, session, item_id, value)
            if not getattr(spec, "assessed", True):
                raise InputError(f"item {item_id!r} is shown but not assessed (indicatief, niet om te beoordelen).")
            if note is not None:
                # made on the first note only: a save without notes needs no key or roster
                note = self.note_pseudonymiser().pseudonymise(note).text
            if note is not None and not note.strip():
                note = None
            if value is None and note is None:
                continue
            rows.append((item_id, value, note))
        now = utcnow()
        if self.engine.dialect.name == "postgresql":
            return self._save_judgements_pg(session, case, rater, rows, now, source)
        with self._write() as conn:
            self._check_save_membership(conn, session, case, rater)
            cur = self._current_for(conn, session, case, rater)
            todo = [(i, v, n) for i, v, n in rows if cur.get(i) != (v, n)]
            if todo:
                conn.execute(sa.insert(t.judgements), [
                    {"session_id": session, "case_id": case, "rater_id": rater, "item_id": i, "value": v, "note": n,
                     "scored_at": now, "saved_at": now, "source": source}
                    for i, v, n in todo
                ])
        return len(todo)

    def _save_judgements_pg(self, session, case, rater, rows, now, source) -> int:
        """PostgreSQL: the whole save is one statement in its own transaction (autocommit).

        The membership checks, the skipping of unchanged items and the insert all happen in
        the server, in one round trip: when 30 assessors press ``Opslaan`` at once, every
        extra round trip (BEGIN, a check, COMMIT) is another wait for a busy server.
        """
        params = {
            "session": session, "case": case, "rater": rater, "now": now, "source": source,
            "items": [i for i, _, _ in rows], "vals": [v for _, v, _ in rows], "notes": [n for _, _, n in rows],
        }
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            appended = conn.execute(_PG_SAVE, params).rowcount
            if appended == 0:
                # nothing new, or not allowed: say which (as the SQLite path does)
                self._check_save_membership(conn, session, case, rater)
        return appended

    def _check_save_membership(self, conn, session: str, case: str, rater: str) -> None:
        member = conn.execute(
            sa.select(t.session_cases.c.case_id).where(t.session_cases.c.session_id == session, t.session_cases.c.case_id == case)
        ).first()
        if member is None:
            raise InputError(f"case {case!r} is not part of session {session!r}.")
        _check_rater_member(conn, session, rater)

    def _current_for(self, conn, session: str, case: str, rater: str) -> dict[str, tuple[str | None, str | None]]:
        j = t.judgements
        latest = (
            sa.select(sa.func.max(j.c.id).label("id"))
            .where(j.c.session_id == session, j.c.case_id == case, j.c.rater_id == rater)
            .group_by(j.c.item_id)
            .subquery()
        )
        q = sa.select(j.c.item_id, j.c.value, j.c.note).join(latest, latest.c.id == j.c.id)
        return {r.item_id: (r.value, r.note) for r in conn.execute(q)}

    def save_consensus(self, session: str, case: str, values: Mapping[str, tuple[str | None, str | None] | str], *, source: str = "app") -> int:
        """Record the consensus judgement agreed in the discussion, with the reason per item."""
        fw = self.session_framework(session)
        now = utcnow()
        recs = []
        for item_id, entry in values.items():
            value, note = entry if isinstance(entry, tuple) else (entry, None)
            _checked_item(fw, session, item_id, value)
            if note is not None:
                note = self.note_pseudonymiser().pseudonymise(note).text
            recs.append({"session_id": session, "case_id": case, "item_id": item_id, "value": value, "note": note,
                         "scored_at": now, "saved_at": now, "source": source})
        if recs:
            with self._write() as conn:
                conn.execute(sa.insert(t.consensus), recs)
        return len(recs)

    def history(self, session: str, case: str, rater: str, item: str) -> pd.DataFrame:
        """Every save of one judgement, oldest first (the audit trail)."""
        df = self.scores(session, history=True)
        return df[(df["case"] == case) & (df["rater"] == rater) & (df["item"] == item)].reset_index(drop=True)

    def rater_view(self, rater: str) -> "RaterView":
        """The blind view the scoring app uses for assessor ``rater``."""
        return RaterView(self, rater)

    def counts(self) -> dict[str, int]:
        """Row counts per table (for tests and status messages)."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one()
                for name, tbl in (("judgements", t.judgements), ("consensus", t.consensus), ("sessions", t.sessions),
                                  ("cases", t.cases), ("raters", t.raters), ("items", t.items))
            }


class RaterView:
    """What one assessor's app may call: their own sessions, cases and judgements.

    Before a session is revealed nothing here returns another assessor's judgements;
    :meth:`scores` raises :class:`AccessError` instead of filtering silently when asked
    for the panel of an unrevealed session.
    """

    def __init__(self, store: Store, rater: str):
        self._store = store
        self.rater = rater

    def sessions(self) -> pd.DataFrame:
        with self._store.engine.connect() as conn:
            ids = {r[0] for r in conn.execute(sa.select(t.session_raters.c.session_id).where(t.session_raters.c.rater_id == self.rater))}
        df = self._store.sessions()
        return df[df["session"].isin(ids)].reset_index(drop=True)

    def cases(self, session: str) -> pd.DataFrame:
        self._check_member(session)
        return self._store.cases(session)

    def framework(self, session: str):
        return self._store.session_framework(session)

    def my_scores(self, session: str, case: str | None = None) -> pd.DataFrame:
        """This assessor's current judgements in ``session`` (optionally one case)."""
        self._check_member(session)
        with self._store.engine.connect() as conn:
            df = self._store._current(conn, t.judgements, sessions=[session], with_rater=True, raters=[self.rater])
        if case is not None:
            df = df[df["case"] == case]
        return df[list(SCORE_COLUMNS)].reset_index(drop=True)

    def scores(self, session: str) -> pd.DataFrame:
        """Everyone's judgements of ``session`` — only once it is revealed."""
        self._check_member(session)
        if not self._store.is_revealed(session):
            raise AccessError(
                f"session {session!r} has not been revealed yet: an assessor sees only their own judgements "
                "until the facilitator reveals the session."
            )
        return self._store.scores(session)

    def save(self, session: str, case: str, values, *, source: str = "app") -> int:
        # save_judgements itself refuses a rater who is not an assessor of the session
        return self._store.save_judgements(session, case, self.rater, values, source=source)

    def _check_member(self, session: str) -> None:
        with self._store.engine.connect() as conn:
            _check_rater_member(conn, session, self.rater)


# ---------------------------------------------------------------------- helpers
def _check_rater_member(conn, session: str, rater: str) -> None:
    """Raise :class:`AccessError` unless ``rater`` is an assessor of ``session``."""
    member = conn.execute(
        sa.select(t.session_raters.c.rater_id).where(t.session_raters.c.session_id == session, t.session_raters.c.rater_id == rater)
    ).first()
    if member is None:
        raise AccessError(f"assessor {rater!r} is not an assessor of session {session!r}.")


def _checked_item(fw, session: str, item_id: str, value: str | None):
    """The framework's item ``item_id`` (looked up in the framework's own index), with
    ``value`` checked against its scale; errors name the item and what is allowed."""
    try:
        spec = fw.item(item_id)
    except InputError:
        raise InputError(f"item {item_id!r} is not part of framework {fw.id!r} of session {session!r}.") from None
    allowed = allowed_values(spec.kind, spec.codes)
    if value is not None and value not in allowed:
        raise InputError(f"{value!r} is outside the scale of item {item_id!r}; allowed: {', '.join(allowed)}.")
    return spec


_PG_SAVE = sa.text(
    "INSERT INTO judgements (session_id, case_id, rater_id, item_id, value, note, scored_at, saved_at, source) "
    "SELECT CAST(:session AS text), CAST(:case AS text), CAST(:rater AS text), u.item, u.val, u.note, CAST(:now AS text), CAST(:now AS text), CAST(:source AS text) "
    "FROM unnest(CAST(:items AS text[]), CAST(:vals AS text[]), CAST(:notes AS text[])) "
    "WITH ORDINALITY AS u(item, val, note, ord) "
    "WHERE EXISTS (SELECT 1 FROM session_cases sc WHERE sc.session_id = CAST(:session AS text) AND sc.case_id = CAST(:case AS text)) "
    "AND EXISTS (SELECT 1 FROM session_raters sr WHERE sr.session_id = CAST(:session AS text) AND sr.rater_id = CAST(:rater AS text)) "
    "AND NOT EXISTS (SELECT 1 FROM (SELECT j.value, j.note FROM judgements j WHERE j.session_id = CAST(:session AS text) "
    "AND j.case_id = CAST(:case AS text) AND j.rater_id = CAST(:rater AS text) AND j.item_id = u.item ORDER BY j.id DESC LIMIT 1) AS last "
    "WHERE last.value IS NOT DISTINCT FROM u.val AND last.note IS NOT DISTINCT FROM u.note) "
    "ORDER BY u.ord"
)
"""An assessor's save on PostgreSQL as one statement (parameters bound, never formatted)."""


def _insert_ignore(conn, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _none(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _eq(a: pd.Series, b: pd.Series) -> pd.Series:
    a = a.astype("string")
    b = b.astype("string")
    return ((a == b).fillna(False) | (a.isna() & b.isna())).astype(bool)


def _parse_date(value, where: str) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InputError(f"{value!r} is not a date; write it as YYYY-MM-DD.", location=where) from None


def _case_id_problems(case_id: str, pseudonymiser) -> list[str]:
    res = pseudonymiser.pseudonymise(case_id)
    return sorted(k for k, v in res.counts.items() if v) if res.text != case_id else []
