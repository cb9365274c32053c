"""Coefficient specs as the command line writes them: ``name[:option[:option]]``.

``krippendorff_alpha:ordinal``, ``gwet_ac:quadratic``, ``fleiss_kappa`` (no option: the
function's default), ``icc:twoway_random:average``. The name is a CONTRACTS §2 function;
the option is its level (alpha), weights (the kappa family, AC, BP, percent agreement) or
model and kind (ICC).
"""

from __future__ import annotations

from dataclasses import dataclass

from calibrate.errors import InputError

LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = ("identity", "linear", "quadratic", "ordinal")
ICC_MODELS = ("oneway", "twoway_random", "twoway_mixed")
ICC_KINDS = ("single", "average")

#: function -> how its aggregates are finished: ``counts`` (value counts per unit, the
#: pattern table), ``pairs`` (Conger: rater x rater tables too), ``alpha``, ``icc``.
FAMILY = {
    "krippendorff_alpha": "alpha",
    "percent_agreement": "counts",
    "fleiss_kappa": "counts",
    "scott_pi": "counts",
    "gwet_ac": "counts",
    "brennan_prediger": "counts",
    "conger_kappa": "pairs",
    "cohen_kappa": "pairs",
    "icc": "icc",
}
#: the ``kind`` argument of ``calibrate.agreement._core.counts_coefficient``
COUNTS_KIND = {"percent_agreement": "pa", "fleiss_kappa": "fleiss", "scott_pi": "fleiss",
               "gwet_ac": "ac", "brennan_prediger": "bp"}
EXACTLY_TWO = ("cohen_kappa", "scott_pi")

DEFAULT = "krippendorff_alpha:ordinal,gwet_ac:quadratic"


@dataclass(frozen=True)
class Spec:
    """One requested coefficient. ``text`` is the spec as given (the output's
    ``coefficient`` column); ``level`` / ``weights`` / ``model`` + ``icc_kind`` the parsed
    option (None: the function's default)."""

    text: str
    name: str
    level: str = "nominal"
    weights: str | None = None
    model: str = "oneway"
    icc_kind: str = "single"

    @property
    def family(self) -> str:
        return FAMILY[self.name]

    def kwargs(self) -> dict:
        """Keyword arguments of the CONTRACTS §2 function for this spec."""
        if self.name == "krippendorff_alpha":
            return {"level": self.level}
        if self.name == "icc":
            return {"model": self.model, "kind": self.icc_kind}
        return {"weights": self.weights}


def _bad(text: str, what: str, allowed) -> InputError:
    return InputError(
        f"coefficient {text!r}: {what}; allowed are {', '.join(allowed)}.",
        hint="Write name[:option], e.g. krippendorff_alpha:ordinal,gwet_ac:quadratic,icc:twoway_random.",
    )


def parse_spec(text: str) -> Spec:
    """One ``name[:option[:option]]`` spec; raises :class:`InputError` naming it."""
    raw = text
    parts = [p.strip() for p in str(text).strip().split(":")]
    name, opts = parts[0], parts[1:]
    if name not in FAMILY:
        raise _bad(raw, f"unknown coefficient {name!r}", FAMILY)
    if name == "icc":
        if len(opts) > 2:
            raise _bad(raw, "icc takes at most a model and a kind", ("icc:MODEL[:KIND]",))
        model = opts[0] if opts else "oneway"
        kind = opts[1] if len(opts) > 1 else "single"
        if model not in ICC_MODELS:
            raise _bad(raw, f"unknown ICC model {model!r}", ICC_MODELS)
        if kind not in ICC_KINDS:
            raise _bad(raw, f"unknown ICC kind {kind!r}", ICC_KINDS)
        return Spec(raw, name, model=model, icc_kind=kind)
    if len(opts) > 1:
        raise _bad(raw, f"{name} takes one option", LEVELS if name == "krippendorff_alpha" else WEIGHTS)
    opt = opts[0] if opts else None
    if name == "krippendorff_alpha":
        level = opt or "nominal"
        if level not in LEVELS:
            raise _bad(raw, f"unknown level {level!r}", LEVELS)
        return Spec(raw, name, level=level)
    if opt in ("", "none"):
        opt = None
    if opt is not None and opt not in WEIGHTS:
        raise _bad(raw, f"unknown weights {opt!r}", WEIGHTS)
    return Spec(raw, name, weights=opt)


def parse_specs(specs) -> list[Spec]:
    """A comma-separated string or a list of specs; never empty, no spec twice."""
    if specs is None:
        specs = DEFAULT
    items = [s for s in (specs.split(",") if isinstance(specs, str) else list(specs))]
    items = [s.strip() for s in items if str(s).strip()]
    if not items:
        raise InputError("no coefficient given.", hint=f"e.g. --coefficient {DEFAULT}")
    out = [parse_spec(s) for s in items]
    seen = set()
    for s in out:
        if s.text in seen:
            raise InputError(f"coefficient {s.text!r} is asked for twice.")
        seen.add(s.text)
    return out
