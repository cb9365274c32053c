"""Decisions and verdicts against the seeds' decision rules.

Owns :func:`decision_consistency` (go / no go, colour, high-stake against the rule applied
to the assessor's own judgements) and :func:`level_verdict_consistency` (each verdict
against the rule applied to the level of that outcome).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.model import VERDICT_CODES, DecisionRule, Framework
from calibrate.schema import level_item, verdict_item

from ._common import _KEY, _check_values, _framework, _table

# =========================================================================== 2. rules
def _rule(fw: Framework, rule: str | DecisionRule) -> DecisionRule:
    if isinstance(rule, DecisionRule):
        return rule
    if rule not in fw.rules:
        raise InputError(f"Unknown rule {rule!r}.", hint=f"Rules of {fw.id!r}: {', '.join(fw.rules)}.")
    return fw.rules[rule]


def _rank(value: str, results: tuple[str, ...], codes: tuple[str, ...] | None, what: str) -> int:
    """Position of a decision on the rule's result order (worst first): the rule's own word,
    else the item's code at the same position (``no go`` ↔ ``niet voldaan``, ``go`` ↔ ``voldaan``)."""
    if value in results:
        return results.index(value)
    if codes is not None and value in codes and len(codes) == len(results):
        return codes.index(value)
    raise InputError(
        f"{what} {value!r} is neither a result of the rule ({', '.join(map(repr, results))}) "
        f"nor a code at the same position{f' ({chr(44).join(map(repr, codes))})' if codes else ''}.",
        hint="Map the decision item's codes onto the rule's results, worst first.",
    )


def decision_consistency(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    rule: str | DecisionRule | None = None,
    decision_item: str | None = None,
    inputs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each assessor's decision against the rule applied to their own judgements.

    By default the framework's decision: ``besluit`` (go / no go) from ``assessmentles_go``
    over the verdicts of leerklimaat, afstemmen and leerstof — seed 000, "Indien een go":
    "Je mag maximaal één LER als niet voldaan scoren". Any other rule works the same way:
    ``rule="high_stake"`` with ``inputs`` the level items (002: every leeropbrengst at least
    bekwaam, no compensation), or ``rule="osr_voortgang"`` with the 14 colour items (003,
    bijlage 2).

    The decision is compared on the rule's result order, worst first: ``lenient`` when the
    assessor's decision is better than the rule gives (go where the rule says no go),
    ``severe`` when worse, ``insufficient`` when an input is missing. A decision item whose
    codes differ from the rule's words is matched by position (``no go``/``go`` ↔
    ``niet voldaan``/``voldaan``). For rules with ``max_items`` (OSR: an item may stay
    uncoloured) a missing input is simply not counted, as the rule itself says.

    Returns
    -------
    DataFrame
        One row per decision given, columns ``session``, ``case``, ``rater``, ``rule``,
        ``decision_item``, ``decision``, ``expected`` (the rule's result, NA when
        undetermined), ``classification``, ``reason`` (the rule's own explanation, with
        counts), ``inputs`` (dict item → value used), ``missing`` (tuple of input items
        without a value).
    """
    from calibrate.rules import evaluate_rule

    func = "decision_consistency"
    fw = _framework(framework)
    spec = fw.decision
    if rule is None or decision_item is None or inputs is None:
        if spec is None:
            raise InputError(
                f"Framework {fw.id!r} declares no decision; give rule=, decision_item= and inputs=.",
            )
    the_rule = _rule(fw, rule if rule is not None else spec.rule_id)
    item = decision_item if decision_item is not None else spec.item_id
    items = list(inputs) if inputs is not None else [verdict_item(o) for o in spec.outcomes]
    try:
        codes = fw.item(item).codes
    except InputError:
        codes = None
    df = _table(scores, func)
    values = {k: dict(zip(g["item"], g["value"])) for k, g in df[df["item"].isin(items)].groupby(_KEY)}
    omit_missing = the_rule.max_items is not None and the_rule.n_items is None
    rows = []
    for r in df[df["item"] == item].sort_values(_KEY).itertuples(index=False):
        given = values.get((r.session, r.case, r.rater), {})
        used = {i: given[i] for i in items if i in given}
        missing = tuple(i for i in items if i not in given)
        obs = _rank(r.value, the_rule.results, codes, f"Decision {item} of rater {r.rater}, case {r.case}:")
        if missing and not omit_missing or not used:
            rows.append((r.session, r.case, r.rater, the_rule.id, item, r.value, pd.NA, "insufficient",
                         f"no value for {', '.join(missing)}", used, missing))
            continue
        res = evaluate_rule(the_rule, used, scale=fw.scale)
        exp = the_rule.results.index(res.value)
        cls = "consistent" if obs == exp else ("lenient" if obs > exp else "severe")
        rows.append((r.session, r.case, r.rater, the_rule.id, item, r.value, res.value, cls, res.reason, used, missing))
    cols = ["session", "case", "rater", "rule", "decision_item", "decision", "expected", "classification",
            "reason", "inputs", "missing"]
    return pd.DataFrame(rows, columns=cols)


def level_verdict_consistency(
    scores: pd.DataFrame,
    framework: Framework | str,
    *,
    rule: str | DecisionRule = "high_stake",
    outcomes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each verdict against the rule applied to the same assessor's level of that outcome.

    With the default ``high_stake`` rule a leeruitkomst is ``voldaan`` when its level is at
    least bekwaam (002: "alle leeropbrengsten minimaal het niveau bekwaam"; 000: "In de
    assessmentles toon je de bijbehorende LERs op niveau 4 aan"). ``lenient``: voldaan with
    a level below the bar; ``severe``: niet voldaan at or above it; ``insufficient``: no
    level given.

    Returns
    -------
    DataFrame
        One row per verdict, columns ``session``, ``case``, ``rater``, ``outcome``,
        ``level``, ``verdict``, ``expected``, ``classification``, ``reason``.
    """
    from calibrate.rules import evaluate_rule

    func = "level_verdict_consistency"
    fw = _framework(framework)
    the_rule = _rule(fw, rule)
    if the_rule.kind != "threshold":
        raise InputError(f"Rule {the_rule.id!r} is not a threshold rule on levels.", hint="Use e.g. 'high_stake'.")
    chosen = list(outcomes) if outcomes is not None else [o.id for o in fw.outcomes if o.summative]
    df = _table(scores, func)
    verdict_items = {verdict_item(o): o for o in chosen}
    ver = df[df["item"].isin(verdict_items)]
    _check_values(ver, VERDICT_CODES, "verdict", func)
    wanted = {level_item(o) for o in chosen}
    lv = df[df["item"].isin(wanted)]
    levels = dict(zip(zip(lv["session"], lv["case"], lv["rater"], lv["item"]), lv["value"]))
    rows = []
    for r in ver.sort_values(_KEY + ["item"]).itertuples(index=False):
        outcome = verdict_items[r.item]
        level = levels.get((r.session, r.case, r.rater, level_item(outcome)))
        obs = _rank(r.value, the_rule.results, VERDICT_CODES, f"Verdict {r.item}")
        if level is None:
            rows.append((r.session, r.case, r.rater, outcome, pd.NA, r.value, pd.NA, "insufficient", "no level given"))
            continue
        res = evaluate_rule(the_rule, {level_item(outcome): level}, scale=fw.scale)
        exp = the_rule.results.index(res.value)
        cls = "consistent" if obs == exp else ("lenient" if obs > exp else "severe")
        rows.append((r.session, r.case, r.rater, outcome, level, r.value, res.value, cls, res.reason))
    cols = ["session", "case", "rater", "outcome", "level", "verdict", "expected", "classification", "reason"]
    return pd.DataFrame(rows, columns=cols)


