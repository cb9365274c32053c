"""Every hostile input of issue 14's catalogue through the real command line: refused with
exit 2 and a message naming the file, the database unchanged, nothing planted leaking
(careless but valid inputs accepted). ``count.py`` prints the same as totals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import CASES, run  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_cleanly(case, tmp_path):
    outcome = run(case, tmp_path)
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
