"""Fixtures for the scoring app: a writable copy of the demo workspace per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

UPCOMING = "K05"  # the demo's unrevealed session starts with this


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory) -> Path:
    """The demo workspace to copy: the suite's read-only ``demo_workspace`` (CALIBRATE_WORKSPACE,
    built at start-up), or one built here when the environment names none."""
    ws = os.environ.get("CALIBRATE_WORKSPACE")
    if ws and (Path(ws) / "calibrate.sqlite").exists():
        return Path(ws)
    from calibrate.demo import build_demo

    path = tmp_path_factory.mktemp("scoring-demo") / "ws"
    build_demo(path, report=False, quiet=True)
    return path


@pytest.fixture
def ws(demo_source, tmp_path) -> Path:
    """A private, writable copy of the demo workspace (database and pseudonym key)."""
    dst = tmp_path / "ws"
    dst.mkdir()
    for f in demo_source.iterdir():
        if f.name.startswith("calibrate.sqlite") or f.name == "pseudonym.key":
            shutil.copy2(f, dst / f.name)
    return dst


@pytest.fixture
def st(ws):
    from calibrate.store import Store

    store = Store.open(ws)
    yield store
    store.close()


@pytest.fixture
def upcoming(st) -> str:
    s = st.sessions()
    return next(x for x in s["session"] if x.startswith(UPCOMING))


@pytest.fixture
def fw():
    from calibrate.frameworks import load_framework

    return load_framework("han-wpl2-2025")


@pytest.fixture
def fill_all():
    """Fill every assessable item of a form with its first offered choice (and a note)."""

    def _fill(form, *, note: str | None = None) -> None:
        for item in form.assessable_items:
            form.set_value(item.id, form.choices(item.id)[0])
            if note:
                form.set_note(item.id, note)

    return _fill
