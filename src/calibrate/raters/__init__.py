"""What each assessor really does: latent consensus, implicit cut-offs, many-facet Rasch.

Owns the rater models of calibrate, each in its own module: :mod:`.consensus`
(Dawid–Skene), :mod:`.cutoffs` (implicit verdict cut-offs) and :mod:`.rasch` (many-facet
Rasch measures). All take the long score table (CONTRACTS §1). Methods: docs/raters.md.
"""

from calibrate.raters.consensus import ConsensusPrior, LatentConsensus, latent_consensus

__all__ = ["ConsensusPrior", "LatentConsensus", "latent_consensus"]
