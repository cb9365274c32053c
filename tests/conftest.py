"""Shared fixtures: a real PostgreSQL server on loopback, stores on both back ends,
and a demo workspace that the notebooks (run by nbval) open through CALIBRATE_WORKSPACE."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from calibrate.devtools.pgserver import ThrowawayPostgres

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_DEMO_DIR: Path | None = None


def pytest_configure(config):
    """Build one demo workspace for the notebooks before any kernel starts."""
    global _DEMO_DIR
    # reports in one process (also from `calibrate report`) unless a test asks for the worker
    os.environ.setdefault("CALIBRATE_REPORT_WORKERS", "1")
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


class PostgresServer(ThrowawayPostgres):
    """The tests' PostgreSQL server (fast: no fsync)."""


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
