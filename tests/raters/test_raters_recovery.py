"""Planted assessors of the simulator recovered by the new models in at least 9 of 10 seeds
(tests/raters/recovery.py prints the rates)."""

from __future__ import annotations

import pytest

from recovery import study


@pytest.mark.slow
def test_planted_lenient_and_verdict_lenient_assessors_are_recovered():
    rates = study(10, consensus=True)
    assert rates["rasch_lenient_found"] >= 0.9  # B03 by Rasch severity
    assert rates["cutoff_verdict_lenient_found"] >= 0.9  # B04 by the implicit cut-off
    # the latent consensus recovers the planted truth at least about as well as the majority
    for kind in ("indicator", "level", "phase", "verdict", "decision"):
        assert rates[f"truth_{kind}_model"] >= rates[f"truth_{kind}_majority"] - 0.03, kind
    assert rates["truth_indicator_model"] > 0.8 and rates["truth_verdict_model"] > 0.85
