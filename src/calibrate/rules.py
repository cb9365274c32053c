"""The seeds' decision rules, evaluated: go / no go, high-stake, OSR voortgang.

Rules are data (:class:`~calibrate.frameworks.DecisionRule`, read from the framework's
rules file); this module only applies them to a set of values and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from calibrate.errors import InputError
from calibrate.frameworks.model import (
    NOT_APPLICABLE,
    VERDICT_SUFFIX,
    DecisionRule,
    Framework,
    RubricScale,
)

__all__ = ["RuleResult", "apply_decision", "evaluate_rule"]


@dataclass(frozen=True)
class RuleResult:
    """The outcome of a decision rule.

    Attributes
    ----------
    rule_id
        The rule applied.
    value
        The result, one of ``rule.results`` (e.g. ``"go"``, ``"voldaan"``, ``"groen"``).
    reason
        One sentence on why, with the counts that decided it.
    counts
        How often each input code occurred, every code of the rule listed (zeros too), in
        the rule's order (for threshold rules: the scale's level codes, lowest first).
    """

    rule_id: str
    value: str
    reason: str
    counts: dict[str, int]


def evaluate_rule(
    rule: DecisionRule, values: Mapping[str, str], *, scale: RubricScale | None = None
) -> RuleResult:
    """Apply a decision rule to one value per item.

    Parameters
    ----------
    rule
        A rule from ``framework.rules`` (e.g. ``framework.rules["assessmentles_go"]``).
    values
        Item id → code, one entry per item the rule combines (e.g. the LERs' verdicts, the
        leeropbrengsten's rubric levels, the 14 OSR colours). Every item needs a real value:
        missing, empty and ``n.v.t.`` are errors, because a rule like "no compensation"
        cannot be decided on part of the items.
    scale
        The rubric scale; required by ``threshold`` rules (``framework.scale``).

    Returns
    -------
    RuleResult

    Notes
    -----
    ``count_bands``: the values are counted per code; the first band whose limits all hold
    gives the result, else ``rule.otherwise``. This follows the letter of the seed: OSR
    "Groen: minimaal 10 keer groen, maximaal 4 keer geel" says nothing about rood, so
    10 groen + 3 geel + 1 rood is groen; and since geel allows at most 9 groen + 4 geel +
    0 rood, geel needs at least one of the 14 items left uncoloured (absent from
    ``values``; ``osr_voortgang`` has ``max_items=14``).

    ``threshold``: a value meets the rule when its level is at least ``rule.at_least``
    on the scale; ``require="all"`` needs every value to meet it (no compensation),
    ``"more_than_half"`` needs strictly more than half (3 of 4, 3 of 5, 4 of 6).

    Examples
    --------
    >>> from calibrate.frameworks import load_framework
    >>> fw = load_framework("han-wpl2-2025")
    >>> evaluate_rule(fw.rules["assessmentles_go"],
    ...               {"LER 1": "voldaan", "LER 2": "niet voldaan", "LER 3": "voldaan"}).value
    'go'
    >>> evaluate_rule(fw.rules["high_stake"], {"a": "4", "b": "6", "c": "3"}, scale=fw.scale).value
    'niet voldaan'
    """
    if not isinstance(rule, DecisionRule):
        raise InputError(
            f"The 'rule' parameter of evaluate_rule must be a DecisionRule, got {type(rule).__name__}.",
            hint="Take it from framework.rules, e.g. framework.rules['assessmentles_go'].",
        )
    if not isinstance(values, Mapping):
        raise InputError(
            f"The 'values' parameter of evaluate_rule must be a mapping of item id to code, "
            f"got {type(values).__name__}.",
            hint="Pass e.g. {'leerklimaat.oordeel': 'voldaan', ...}.",
        )
    if not values:
        raise InputError(f"Rule {rule.id!r} got no values.", hint="Pass one value per item.")
    if rule.n_items is not None and len(values) != rule.n_items:
        raise InputError(
            f"Rule {rule.id!r} takes exactly {rule.n_items} values, got {len(values)}.",
            hint=f"Give a value for each of the {rule.n_items} items ({rule.source}).",
        )
    if rule.max_items is not None and len(values) > rule.max_items:
        raise InputError(
            f"Rule {rule.id!r} takes at most {rule.max_items} values, got {len(values)}.",
            hint=f"The rule combines at most {rule.max_items} items ({rule.source}).",
        )
    if rule.kind == "count_bands":
        return _count_bands(rule, values)
    if rule.kind == "threshold":
        return _threshold(rule, values, scale)
    raise InputError(f"Rule {rule.id!r} has unknown kind {rule.kind!r}.", hint="Kinds: count_bands, threshold.")


def apply_decision(framework: Framework, verdicts_by_outcome: Mapping[str, str]) -> RuleResult:
    """The framework's overall decision (item ``framework.decision.item_id``) from verdicts.

    Parameters
    ----------
    framework
        A framework that declares ``decision`` (``han-wpl2-2025``: ``besluit`` from
        ``assessmentles_go`` over leerklimaat, afstemmen, leerstof).
    verdicts_by_outcome
        Outcome id (or its verdict item id, ``"<outcome>.oordeel"``) → ``"voldaan"`` /
        ``"niet voldaan"``. Every outcome of the decision needs a verdict; verdicts of other
        outcomes of the framework are ignored.

    Returns
    -------
    RuleResult
        ``value`` is one of the decision item's codes (e.g. ``"go"``).

    Examples
    --------
    >>> from calibrate.frameworks import load_framework
    >>> fw = load_framework("han-wpl2-2025")
    >>> apply_decision(fw, {"leerklimaat": "voldaan", "afstemmen": "niet voldaan",
    ...                     "leerstof": "niet voldaan"}).value
    'no go'
    """
    if framework.decision is None:
        raise InputError(
            f"Framework {framework.id!r} declares no decision.",
            hint="Use evaluate_rule() with one of framework.rules instead.",
        )
    if not isinstance(verdicts_by_outcome, Mapping):
        raise InputError(
            "The 'verdicts_by_outcome' parameter of apply_decision must be a mapping of outcome id "
            f"to verdict, got {type(verdicts_by_outcome).__name__}.",
        )
    spec = framework.decision
    known = {o.id for o in framework.outcomes}
    verdicts: dict[str, str] = {}
    for key, value in verdicts_by_outcome.items():
        outcome_id = key[: -len(VERDICT_SUFFIX) - 1] if str(key).endswith(f".{VERDICT_SUFFIX}") else key
        if outcome_id not in known:
            raise InputError(
                f"Unknown outcome {key!r} in the verdicts for decision {spec.item_id!r}.",
                hint=f"Outcomes of {framework.id!r}: {', '.join(sorted(known))}.",
            )
        if outcome_id in verdicts:
            raise InputError(f"Two verdicts for outcome {outcome_id!r} (as {outcome_id!r} and {key!r}).")
        verdicts[outcome_id] = value
    missing = [f"{o}.{VERDICT_SUFFIX}" for o in spec.outcomes if o not in verdicts]
    if missing:
        raise InputError(
            f"Decision {spec.item_id!r} needs a verdict for {', '.join(repr(m) for m in missing)}.",
            hint=f"It combines the verdicts of {', '.join(spec.outcomes)}.",
        )
    values = {f"{o}.{VERDICT_SUFFIX}": verdicts[o] for o in spec.outcomes}
    return evaluate_rule(framework.rules[spec.rule_id], values, scale=framework.scale)


# --------------------------------------------------------------------------- the two kinds
def _checked(rule: DecisionRule, values: Mapping[str, str], codes: tuple[str, ...], what: str) -> dict[str, str]:
    checked = {}
    for item, value in values.items():
        if value is None or value == "" or value == NOT_APPLICABLE or _is_nan(value):
            raise InputError(
                f"Item {item!r} has no value ({value!r}); rule {rule.id!r} needs a value for every item.",
                hint=f"Allowed {what}: {', '.join(repr(c) for c in codes)}.",
            )
        if value not in codes:
            raise InputError(
                f"Item {item!r} has value {value!r}, which rule {rule.id!r} does not know.",
                hint=f"Allowed {what}: {', '.join(repr(c) for c in codes)}.",
            )
        checked[str(item)] = value
    return checked


def _count_bands(rule: DecisionRule, values: Mapping[str, str]) -> RuleResult:
    checked = _checked(rule, values, rule.codes, "codes")
    counts = {code: 0 for code in rule.codes}
    for value in checked.values():
        counts[value] += 1
    tally = ", ".join(f"{n}× {code}" for code, n in counts.items())
    for band in rule.bands:
        if band.holds(counts):
            return RuleResult(rule.id, band.result, f"{tally}: {_band_text(band)} → {band.result}.", counts)
    failed = "; ".join(f"not {_band_text(b)}" for b in rule.bands)
    return RuleResult(rule.id, rule.otherwise, f"{tally}: {failed} → {rule.otherwise}.", counts)


def _threshold(rule: DecisionRule, values: Mapping[str, str], scale: RubricScale | None) -> RuleResult:
    if scale is None:
        raise InputError(
            f"Rule {rule.id!r} compares rubric levels and needs the scale.",
            hint="Pass scale=framework.scale.",
        )
    if rule.at_least not in scale.thresholds and rule.at_least not in {lv.name for lv in scale.levels}:
        raise InputError(
            f"Rule {rule.id!r} needs level {rule.at_least!r}, which this scale does not name.",
            hint=f"The scale's levels: {', '.join(f'{lv.code} {lv.name}' for lv in scale.levels)}.",
        )
    checked = _checked(rule, values, scale.codes, "level codes (positions on the scale, not names)")
    counts = {code: 0 for code in scale.codes}
    for value in checked.values():
        counts[value] += 1
    bar = scale.threshold(rule.at_least)
    below = [item for item, value in checked.items() if not scale.at_least(value, rule.at_least)]
    n, met = len(checked), len(checked) - len(below)
    fail, passed = rule.results
    if rule.require == "all":
        ok, need = not below, f"all {n}"
    else:  # more_than_half
        ok, need = met * 2 > n, f"more than half ({n // 2 + 1} of {n})"
    head = f"{met} of {n} at least {rule.at_least} ({bar}); {need} needed"
    tail = f"; below: {', '.join(below)}" if below else ""
    return RuleResult(rule.id, passed if ok else fail, f"{head}{tail} → {passed if ok else fail}.", counts)


def _band_text(band) -> str:
    parts = [f"at least {n}× {c}" for c, n in band.minimum.items()]
    parts += [f"at most {n}× {c}" for c, n in band.maximum.items()]
    return " and ".join(parts)


def _is_nan(value) -> bool:
    return isinstance(value, float) and value != value
