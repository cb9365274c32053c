"""Dutch sentences about a D-study for the report layer (the analysis itself has none).

Owns :func:`raters_needed_sentence` and :func:`coefficient_sentence`; the report section
"Hoeveel beoordelaars zijn genoeg?" calls them. Decimal comma, plain words.
"""

from __future__ import annotations

import math

from calibrate.gtheory.dstudy import RatersNeeded

_COEF = {"phi": "Φ, de betrouwbaarheid van een absolute beslissing", "erho2": "Eρ², de betrouwbaarheid van de rangorde"}


def _komma(x: float, decimals: int = 2) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")


def _aantal(n: float) -> str:
    return "1 beoordelaar" if n == 1 else f"{int(n)} beoordelaars"


def raters_needed_sentence(needed: RatersNeeded, scope: str = "het go/no go-besluit") -> str:
    """E.g. "Voor het go/no go-besluit zijn 4 beoordelaars nodig om Φ … op ten minste 0,80
    te brengen (95%-interval: 3 tot 7 beoordelaars)."""
    coef = _COEF[needed.coefficient]
    doel = _komma(needed.target)
    max_r = len(needed.curve)
    if needed.n is None:
        zin = f"Voor {scope} haalt {coef} zelfs met {max_r} beoordelaars geen {doel}."
    else:
        zin = f"Voor {scope} {'is' if needed.n == 1 else 'zijn'} {_aantal(needed.n)} nodig om {coef}, op ten minste {doel} te brengen"
        zin += f" (met {needed.n} kom je op {_komma(needed.value)})"
        zin += "."
    if needed.ci is not None:
        lo, hi = needed.ci
        pct = f"{needed.confidence:.0%}".replace(".", ",")
        boven = f"meer dan {max_r}" if not math.isfinite(hi) else str(int(hi))
        onder = f"meer dan {max_r}" if not math.isfinite(lo) else str(int(lo))
        zin += f" Onzekerheid ({pct}-interval, bootstrap over de casussen): {onder} tot {boven} beoordelaars."
    return zin


def coefficient_sentence(phi: float, n_raters: float, scope: str = "het go/no go-besluit") -> str:
    """E.g. "Met 2 beoordelaars is Φ voor het go/no go-besluit 0,64."""
    return f"Met {_aantal(n_raters)} is Φ voor {scope} {_komma(phi)}."
