"""The names and Dutch readings of the report's content.

Owns how the content names what it reports: the kader's names of every group id
(:func:`_names`), level and phase names for codes (:func:`_value_label`), dates in Dutch
in titles (:func:`dutch_dates`), the coefficient per kind (``ALPHA_SPEC``, ``KIND_ORDER``,
:func:`_agreement_by_kind`), and beside the agenda's cases the consensus or the model's
most likely judgement (:func:`_agenda_readings`) and the agreed readings of the kijkkader
(:func:`_readings`).
"""

from __future__ import annotations

import re

import pandas as pd

from ..dutch import format_date
from ..errors import InputError
from ..schema import phase_item
from ..scores import CodedScores
from ..wording import KIND_LABELS
from .numbers import _num

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

#: The alpha coefficient per kind (kijkkader_rollup: nominal for indicators, verdicts and
#: decisions; ordinal for levels and phases).
ALPHA_SPEC = {"indicator": "krippendorff_alpha:nominal", "verdict": "krippendorff_alpha:nominal",
              "decision": "krippendorff_alpha:nominal", "level": "krippendorff_alpha:ordinal",
              "phase": "krippendorff_alpha:ordinal"}
KIND_ORDER = ("indicator", "level", "phase", "verdict", "decision")


def dutch_dates(text: str) -> str:
    """``Kalibreersessie 2026-07-06`` -> ``Kalibreersessie 6 juli 2026``."""
    return _ISO_DATE.sub(lambda m: format_date(m.group(0)), text)


def _names(framework) -> dict[str, str]:
    """Every group id of the report (leeruitkomst, dimension, item) -> its name in the kader."""
    out: dict[str, str] = {}
    if framework is None:
        return out
    for o in framework.outcomes:
        out[o.id] = o.name
        for d in getattr(o, "dimensions", ()):
            out[d.id] = d.name
    for it in framework.items():
        out[it.id] = it.label
    for dim in getattr(framework.phase_table, "dimensions", ()):
        out.setdefault(phase_item(dim.id), f"Fase — {dim.name}")
        out.setdefault(dim.id, dim.name)  # the roll-up's phase groups
    return out


def _value_label(framework, item_id: str, code) -> str:
    """The name of a value (level and phase names), else the code itself."""
    if framework is None or code is None:
        return "—" if code is None else str(code)
    from ..discussion import value_label

    try:
        return value_label(framework, framework.item(item_id), str(code))
    except (InputError, KeyError):
        return str(code)


def _agreement_by_kind(agreement: dict) -> list[dict]:
    """One row per kind present: kind, coefficient, value, ci_low, ci_high, n_units, n_raters
    (CONTRACTS §4), plus the Dutch kind, AC1/AC2, % agreement and Krippendorff's reading."""
    if not agreement.get("available"):
        return []
    rows = {r["kind"]: r for r in agreement.get("overall_rows", [])}
    out = []
    for kind in [k for k in KIND_ORDER if k in rows] + [k for k in rows if k not in KIND_ORDER]:
        r = rows[kind]
        out.append({
            "kind": kind, "kind_label": KIND_LABELS.get(kind, kind), "coefficient": ALPHA_SPEC.get(kind, "krippendorff_alpha"),
            "value": r.get("alpha"), "ci_low": r.get("alpha_ci_low"), "ci_high": r.get("alpha_ci_high"),
            "n_units": r.get("n_units"), "n_raters": r.get("n_raters"),
            "percent_agreement": r.get("percent_agreement"), "ac": r.get("ac"), "ac_ci_low": r.get("ac_ci_low"),
            "ac_ci_high": r.get("ac_ci_high"), "reading": r.get("band_krippendorff"),
        })
    return out


def _agenda_readings(agenda: list[dict], focus: CodedScores, focus_consensus: CodedScores | None, framework,
                     titles: dict, warnings: list[str]) -> None:
    """Beside each agenda case's spread: the consensus (value and reason) where one was
    recorded, else the most likely judgement of the latent-consensus model
    (:func:`calibrate.raters.latent_consensus`), marked as a model estimate."""
    if not agenda:
        return
    cons = {}
    if focus_consensus is not None and len(focus_consensus):
        cf = focus_consensus.to_frame(["case", "item", "value", "note"]) if "note" in focus_consensus.frame else \
            focus_consensus.to_frame(["case", "item", "value"]).assign(note=None)
        cons = {(str(c), str(i)): (v, n) for c, i, v, n in zip(cf["case"], cf["item"], cf["value"], cf["note"])}
    missing = [(c["case"], a["item"]) for a in agenda for c in a["cases"] if (c["case"], a["item"]) not in cons]
    model = {}
    if missing:
        items = sorted({i for _, i in missing})
        sub = focus.select(focus.frame["item"].isin(items).to_numpy())
        try:
            from ..raters import latent_consensus

            fit = latent_consensus(sub.to_frame(["session", "case", "rater", "item", "kind", "value"]), framework=framework,
                                   n_boot=0)
            ml = fit.most_likely
            model = {(str(c), str(i)): (v, p) for c, i, v, p in zip(ml["case"], ml["item"], ml["value"], ml["p"])}
        except (InputError, ValueError) as exc:
            warnings.append(f"Het waarschijnlijke oordeel (model) kon niet worden geschat: {exc}")
    for a in agenda:
        for c in a["cases"]:
            key = (c["case"], a["item"])
            c["title"] = titles.get(c["case"])
            c["value_labels"] = {k: _value_label(framework, a["item"], k) for k in c["values"]}
            if key in cons:
                v, n = cons[key]
                c["consensus"] = {"value": None if v is None else str(v), "label": _value_label(framework, a["item"], v),
                                  "reason": None if n is None or pd.isna(n) else str(n)}
                c["model"] = None
            else:
                c["consensus"] = None
                if key in model:
                    v, p = model[key]
                    c["model"] = {"value": str(v), "label": _value_label(framework, a["item"], v), "p": _num(p, 3)}
                else:
                    c["model"] = None


def _readings(focus_consensus: CodedScores | None, framework, names: dict, titles: dict) -> list[dict]:
    """The agreed readings of the kijkkader: every consensus of the session that carries a
    reason, per case (title) and item (name), in kader order."""
    if focus_consensus is None or not len(focus_consensus) or "note" not in focus_consensus.frame:
        return []
    cf = focus_consensus.to_frame(["case", "item", "value", "note"])
    cf = cf[cf["note"].notna() & (cf["note"].astype(str).str.strip() != "")]
    order = {it.id: k for k, it in enumerate(framework.items())} if framework is not None else {}
    rows = [{"case": str(c), "title": titles.get(str(c)), "item": str(i), "name": names.get(str(i), str(i)),
             "value": str(v), "label": _value_label(framework, str(i), v), "reason": str(n)}
            for c, i, v, n in zip(cf["case"], cf["item"], cf["value"], cf["note"])]
    rows.sort(key=lambda r: (r["case"], order.get(r["item"], 10**6), r["item"]))
    return rows
