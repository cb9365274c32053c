"""Inter-rater agreement: every established coefficient with its uncertainty (CONTRACTS §2).

Functions take the long score table (``unit, rater, value``; other names via ``units=``,
``raters=``, ``values=``) and return frozen result objects. The kijkkader roll-up lives in
:mod:`calibrate.agreement.rollup`; methods notes in ``docs/agreement.md``; the Dutch
interpretation bands in :mod:`calibrate.wording`.
"""

from calibrate.agreement._reshape import table_to_long
from calibrate.agreement.coefficients import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)
from calibrate.agreement.result import AgreementResult, DifferenceResult, ICCResult

__all__ = [
    "AgreementResult",
    "DifferenceResult",
    "ICCResult",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "krippendorff_alpha",
    "percent_agreement",
    "scott_pi",
    "table_to_long",
]

from calibrate.agreement.icc import icc  # noqa: E402
from calibrate.agreement.bootstrap import COEFFICIENTS, bootstrap, bootstrap_difference  # noqa: E402

__all__ += ["COEFFICIENTS", "bootstrap", "bootstrap_difference", "icc"]

from calibrate.agreement.rollup import (  # noqa: E402
    applicability_disagreements,
    disagreements,
    kijkkader_rollup,
    rater_agreement_matrix,
)

__all__ += [
    "applicability_disagreements",
    "disagreements",
    "kijkkader_rollup",
    "rater_agreement_matrix",
]
