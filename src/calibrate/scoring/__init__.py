"""The scoring model: one assessor's blind judgements of the cases of one kalibreersessie.

Owns the state of a scoring form (value and evidence note per item, the motivation), what is
still missing, completeness and progress, the quality nudges of the Kwaliteitscriteria
(seed 001), and save/load through the store's blind :class:`~calibrate.store.RaterView`.
Pure Python: :mod:`calibrate.widgets` is a thin view over it and the tests need no widgets.

Rooms: :mod:`.form` (one case's form and its nudges), :mod:`.session` (one assessor in one
session: cases, forms, save, progress) and :mod:`.notes` (what a note says: global phrases,
the text kept). Everything public is imported here: use ``calibrate.scoring``.

Conventions
-----------
- **Completeness.** A case is complete when every assessable item (``framework.assessable_items()``)
  has a value. For an indicator ``n.v.t.`` is a value here: the assessor has decided the
  indicator does not apply. (In the score table and the agreement analyses ``n.v.t.`` still
  counts as missing, CONTRACTS §1.) Indicators of a dimension marked not assessed
  (Differentiatie, "indicatief (niet om te beoordelen)") are shown, never scored.
- **Motivation.** The short motivation the Kwaliteitscriteria ask for is stored as the
  *note of the decision item* (``besluit``) — :func:`motivation_item_id`. A framework without
  a decision keeps it as the note of its last verdict item, else of its last level item.
  A note without a value is kept by the store, so a motivation written before the decision
  is chosen is not lost.
- **Nudges are pointed out, never blocking**: :meth:`CaseForm.nudges` lists them, saving
  never depends on them.

Example
-------
>>> from calibrate.frameworks import load_framework
>>> form = CaseForm(load_framework("han-wpl2-2025"))
>>> form.set_value("leerklimaat.klassenmanagement.1", "gezien")
>>> form.set_note("leerklimaat.klassenmanagement.1", "Gaat wel goed")
>>> form.progress_text()
'1 van 123 onderdelen ingevuld'
>>> [n.kind for n in form.nudges()]
['global_phrase']
"""

from __future__ import annotations

from .notes import GLOBAL_PHRASES, clean_text, global_phrases_in, is_global_statement
from .form import CaseForm, CaseInfo, Entry, INDICATOR_CHOICES, Nudge, Progress, SaveResult, motivation_item_id
from .session import ScoringSession, latest_session, sessions_for

__all__ = [
    "GLOBAL_PHRASES",
    "INDICATOR_CHOICES",
    "CaseForm",
    "CaseInfo",
    "Entry",
    "Nudge",
    "Progress",
    "SaveResult",
    "ScoringSession",
    "global_phrases_in",
    "is_global_statement",
    "motivation_item_id",
    "clean_text",
    "latest_session",
    "sessions_for",
]
