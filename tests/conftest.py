"""Shared fixtures: a real PostgreSQL server on loopback, stores on both back ends,
and a demo workspace that the notebooks (run by nbval) open through CALIBRATE_WORKSPACE."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_DEMO_DIR: Path | None = None


def pytest_configure(config):
    """Build one demo workspace for the notebooks before any kernel starts."""
    global _DEMO_DIR
    if os.environ.get("CALIBRATE_TEST_KEEP_ENV"):
        return
    _DEMO_DIR = Path(tempfile.mkdtemp(prefix="calibrate-demo-"))
    from calibrate.demo import build_demo

    build_demo(_DEMO_DIR / "ws", report=False, quiet=True)
    os.environ["CALIBRATE_WORKSPACE"] = str(_DEMO_DIR / "ws")
    os.environ.pop("CALIBRATE_DB", None)
    os.environ.setdefault("CALIBRATE_RATER", "B01")


def pytest_unconfigure(config):
    if _DEMO_DIR is not None:
        shutil.rmtree(_DEMO_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_workspace() -> Path:
    """The demo workspace built at start-up (read-only for tests: copy it to change it)."""
    return Path(os.environ["CALIBRATE_WORKSPACE"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary directory, on 127.0.0.1 only."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise FileNotFoundError("initdb")
        self.bindir = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="calibrate-pg-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *cmd, check=True):
        cmd = [str(c) for c in cmd]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def start(self):
        data = self.dir / "data"
        self._run(self.bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        self._run(
            self.bindir / "pg_ctl", "-D", data, "-l", self.dir / "log", "-w", "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -k {self.dir} -c max_connections=200",
            "start",
        )
        return self

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def createdb(self) -> str:
        import sqlalchemy as sa

        name = "t_" + uuid.uuid4().hex[:12]
        eng = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            eng.dispose()
        return self.url(name)

    def restart(self):
        data = self.dir / "data"
        self._run(self.bindir / "pg_ctl", "-D", data, "-l", self.dir / "log", "-w", "-m", "fast", "restart", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off -k {self.dir} -c max_connections=200")

    def stop(self):
        self._run(self.bindir / "pg_ctl", "-D", self.dir / "data", "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server; in CI its absence is a failure, locally a skip."""
    try:
        server = PostgresServer().start()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but could not start: {detail}")
        pytest.skip(f"PostgreSQL not available: {detail}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """URL of a fresh, empty database on the test server."""
    return pg_server.createdb()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """An empty store on each back end."""
    from calibrate.store import Store

    if request.param == "sqlite":
        st = Store.open(tmp_path / "ws")
    else:
        st = Store.open(db_url=request.getfixturevalue("pg_url"))
    yield st
    st.close()
