"""Thin views: the assessor's scoring form (one anywidget) and the facilitator's panel (ipywidgets).

The state and the rules live in :mod:`calibrate.scoring` and :mod:`calibrate.facilitator`;
these classes only map state to controls and events to handler calls (``on_*``).

>>> from calibrate.widgets import scoring_app          # doctest: +SKIP
>>> scoring_app()   # reads CALIBRATE_WORKSPACE / CALIBRATE_DB and CALIBRATE_RATER   # doctest: +SKIP
"""

from calibrate.widgets.facilitator import FacilitatorPanel, facilitator_app
from calibrate.widgets.scoring import RaterPicker, ScoringForm, scoring_app

__all__ = ["FacilitatorPanel", "RaterPicker", "ScoringForm", "facilitator_app", "scoring_app"]
