"""What each assessor really does: latent consensus, implicit cut-offs, many-facet Rasch.

Owns the rater models of calibrate, each in its own module: :mod:`.consensus`
(Dawid–Skene), :mod:`.cutoffs` (implicit verdict cut-offs) and :mod:`.rasch` (many-facet
Rasch measures); :mod:`.report` turns them into the report's section "Wat elke
beoordelaar doet". All take the long score table (CONTRACTS §1). Methods: docs/raters.md.
"""

from calibrate.raters.consensus import ConsensusPrior, LatentConsensus, latent_consensus
from calibrate.raters.cutoffs import cutoff_features, describe_cutoff, implicit_cutoffs
from calibrate.raters.rasch import RaschMeasures, rasch_measures
from calibrate.raters.report import report_section

__all__ = [
    "ConsensusPrior", "LatentConsensus", "RaschMeasures", "cutoff_features", "describe_cutoff",
    "implicit_cutoffs", "latent_consensus", "rasch_measures", "report_section",
]
