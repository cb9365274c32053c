"""A throwaway PostgreSQL server on loopback, for the tests and the load benchmark.

It runs Debian's server binaries (``apt-get install postgresql``) in a temporary
directory, listens on 127.0.0.1 only with trust authentication, and is removed on
:meth:`ThrowawayPostgres.stop`. As root the server is run as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


class ThrowawayPostgres:
    """Start with :meth:`start`; ``fast=True`` turns off durability (fsync) for tests."""

    def __init__(self, *, fast: bool = True, prefix: str = "calibrate-pg-"):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise FileNotFoundError("initdb (install PostgreSQL: apt-get install -y postgresql)")
        self.bindir = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.fast = fast
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *cmd, check=True):
        cmd = [str(c) for c in cmd]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def _options(self) -> str:
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=200"
        if self.fast:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return opts

    def _pg_ctl(self, action: str, *extra) -> None:
        # -l: without a log file the postmaster keeps pg_ctl's captured stdout open and
        # subprocess.run never returns
        self._run(self.bindir / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-w", *extra,
                  "-o", self._options(), action)

    def start(self) -> "ThrowawayPostgres":
        self._run(self.bindir / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres",
                  *(["--no-sync"] if self.fast else []))
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """Fast restart: open connections are terminated, as in a server crash or update."""
        self._pg_ctl("restart", "-m", "fast")

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def createdb(self, prefix: str = "t_") -> str:
        """Create a fresh, empty database and return its URL."""
        import sqlalchemy as sa

        name = prefix + uuid.uuid4().hex[:12]
        eng = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                # DDL takes no bind parameters: the (generated) name is quoted by the dialect
                c.execute(sa.text("CREATE DATABASE " + eng.dialect.identifier_preparer.quote(name)))
        finally:
            eng.dispose()
        return self.url(name)

    def stop(self) -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.dir / "data", "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
