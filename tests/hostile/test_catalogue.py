"""Every hostile input of issue 14's catalogue through the real command line: refused with
exit 2 and a message naming the file, the database unchanged, nothing planted leaking
(careless but valid inputs accepted). ``count.py`` prints the same as totals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import catalogue  # noqa: E402
from catalogue import CASES, run  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_cleanly(case, tmp_path):
    _check(case, run(case, tmp_path))


PG_CASES = [c for c in CASES if c.pg]


@pytest.mark.postgres
@pytest.mark.parametrize("case", PG_CASES, ids=[c.id for c in PG_CASES])
def test_hostile_input_is_refused_cleanly_on_postgresql(case, tmp_path, pg_url, monkeypatch):
    import secrets

    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", secrets.token_hex(32))
    monkeypatch.setattr(catalogue, "DB_URL", pg_url)
    outcome = run(case, tmp_path)
    assert not (tmp_path / "ws").exists()  # it really ran against the database
    _check(case, outcome)


def _check(case, outcome):
    assert "Traceback" not in outcome.err, outcome.err
    assert not outcome.leaked, f"leaked {len(outcome.leaked)} planted string(s): {outcome.err}"
    if case.accept:
        assert outcome.rc == 0, outcome.err
    else:
        assert outcome.rc == 2, outcome.err
        assert outcome.db_unchanged
        assert outcome.err.startswith("calibrate: error: ")
        if case.mentions:
            assert case.mentions in outcome.err


def test_catalogue_covers_every_point_of_issue_14_we_own():
    assert {c.point for c in CASES} >= {"2", "6", "7", "8", "9"}
    assert len(CASES) >= 40
