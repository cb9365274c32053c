"""The report section "Wat elke beoordelaar doet": the rater models in Dutch, per assessor.

Owns :func:`report_section`, a thin layer over :func:`~calibrate.raters.rasch_measures`
(severity with interval, fit), :func:`~calibrate.raters.implicit_cutoffs` (where the
assessor puts "voldaan", beside the handbook's rule and the team's) and
:func:`~calibrate.raters.latent_consensus` (where the assessor differs most from the
model's most likely judgement). It returns the shared section shape of the report
(a JSON-able dict: ``id, title, intro, tables, figures, notes``); numbers stay numbers,
texts are Dutch and name the framework's items, never their ids. Cases are never named.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.figure_text import png
from calibrate.raters.consensus import latent_consensus
from calibrate.raters.cutoffs import describe_cutoff, implicit_cutoffs
from calibrate.raters.rasch import rasch_measures
from calibrate.scores import CodedScores, as_frame

__all__ = ["report_section", "item_names"]

TITLE = "Wat elke beoordelaar doet"
_KIND_NL = {"indicator": "indicatoren", "level": "niveaus", "phase": "fasen", "verdict": "oordelen",
            "decision": "besluiten"}
_Z95 = 1.959963984540054


def _nl(x: float, digits: int = 2) -> str:
    """A number in Dutch notation (decimal comma, true minus sign)."""
    s = f"{float(x):.{digits}f}".replace(".", ",")
    return s.replace("-", "−")


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def item_names(framework) -> dict[str, str]:
    """Dutch display name of every item of the framework (no ids): the phase dimension's
    name for a phase, "<leeruitkomst> (niveau)" / "(oordeel)", "Besluit", and
    "<dimensie> (<leeruitkomst>)" for an indicator."""
    names: dict[str, str] = {}
    outcome_name, dim_name = {}, {}
    for o in framework.outcomes:
        outcome_name[o.id] = o.name
        for d in getattr(o, "dimensions", ()):
            dim_name[d.id] = d.name
    phase_dim = {d.id: d.name for d in getattr(framework.phase_table, "dimensions", ())}
    for it in framework.items():
        out = outcome_name.get(it.outcome_id)
        if it.kind == "phase":
            dim = it.dimension_id or ""
            key = dim.split(".", 1)[-1] if dim.startswith("fase.") else dim
            names[it.id] = phase_dim.get(key, phase_dim.get(it.id.split(".", 1)[-1], it.label))
        elif it.kind == "level":
            names[it.id] = f"{out} (niveau)" if out else it.label
        elif it.kind == "verdict":
            names[it.id] = f"{out} (oordeel)" if out else it.label
        elif it.kind == "decision":
            names[it.id] = "Besluit"
        else:
            d = dim_name.get(it.dimension_id)
            names[it.id] = f"{d} ({out})" if d and out else (d or out or it.label)
    return names


def _code_names(framework) -> dict[str, str]:
    """Phase codes -> the phase table's names (``groei`` -> ``Groei-fase``)."""
    table = getattr(framework, "phase_table", None)
    return {p.code: p.name for p in getattr(table, "phases", ())}


def _shown(kind: str, code: Any, code_nl: dict[str, str]) -> str:
    """A code as a user reads it: the phase's name, "niveau 4", or the code itself."""
    code = str(code)
    if kind == "phase":
        return code_nl.get(code, code)
    if kind == "level":
        return f"niveau {code}"
    return code



def _severity_figure(raters: pd.DataFrame) -> tuple[str, str]:
    """Forest plot of the assessors' severities with 95% intervals; (base64 PNG, alt text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = raters.sort_values("measure")
    y = np.arange(len(r))
    fig, ax = plt.subplots(figsize=(6.0, 0.45 * len(r) + 1.0))
    lo, hi = r["measure"] - _Z95 * r["se"], r["measure"] + _Z95 * r["se"]
    colour = np.where(hi < 0, "#1f5f99", np.where(lo > 0, "#b2182b", "#555555"))
    ax.hlines(y, lo, hi, colors=colour, linewidth=2)
    ax.scatter(r["measure"], y, c=colour, zorder=3)
    ax.axvline(0, color="#8c8c8c", linestyle="--", linewidth=1)
    ax.set_yticks(y, r["element"])
    ax.set_xlabel("strengheid (logit; 0 = teamgemiddelde; links milder, rechts strenger)")
    ax.set_title("Strengheid per beoordelaar met 95%-interval")
    image = png(fig)  # cropped to what is drawn (labels included)
    first, last = r.iloc[0], r.iloc[-1]
    milder = [str(e) for e, h in zip(r["element"], hi) if h < 0]
    stricter = [str(e) for e, l_ in zip(r["element"], lo) if l_ > 0]
    alt = (f"Stippen met horizontale lijnen: de strengheid van {len(r)} beoordelaars in logits met hun "
           f"95%-interval, van mild (onder) naar streng (boven); de stippellijn bij 0 is het teamgemiddelde. "
           f"Mildst: {first['element']} ({_nl(first['measure'])}), strengst: {last['element']} ({_nl(last['measure'])}). "
           + (f"Duidelijk milder dan het team (interval links van 0): {', '.join(milder)}. " if milder else "")
           + (f"Duidelijk strenger (interval rechts van 0): {', '.join(stricter)}." if stricter else
              "Geen beoordelaar is duidelijk strenger dan het team."))
    return image, alt.strip()


def report_section(scores: Any, framework, consensus: pd.DataFrame | None = None, *, n_boot: int = 50,
                   random_state: int = 0) -> dict:
    """The section "Wat elke beoordelaar doet" of the report (MAP's shared section shape).

    Parameters
    ----------
    scores
        The long score table (CONTRACTS §1) or a :class:`~calibrate.scores.CodedScores`.
    framework
        The kijkkader (:class:`~calibrate.frameworks.Framework`): item names, codes, the
        handbook's profile for the cut-off.
    consensus
        The recorded consensus table (CONTRACTS §1, plain or coded; optional): each
        assessor's agreement with it is reported beside the model's.
    n_boot
        Bootstrap resamples of cases for the intervals of the cut-offs and the confusion
        summary.

    Returns
    -------
    dict
        ``{"id": "beoordelaars", "title", "intro": [Dutch paragraphs, one per assessor
        after an opening one], "tables": [per assessor; largest differences from the
        model], "figures": [severity forest plot with alt text], "notes": [methods]}``.
        A part that cannot be computed (e.g. a framework without a phase profile) is left
        out with a note saying why; it never raises for that.
    """
    if isinstance(scores, CodedScores):  # decoded once, by the store's reader: the models read its codes
        model_in, df = scores, scores.to_frame(["session", "case", "rater", "item", "value"])
    else:
        model_in = df = as_frame(scores, where="report_section")
    if framework is None:
        raise InputError("report_section needs the framework (item names and the handbook's rule).",
                         hint="Pass the framework of the session, e.g. load_framework('han-wpl2-2025').")
    names = item_names(framework)
    code_nl = _code_names(framework)
    notes: list[str] = []

    def name_of(item: str) -> str:
        return names.get(item, "een item buiten het kijkkader")

    # --- severity (many-facet Rasch)
    try:
        rm = rasch_measures(model_in, framework=framework, bias=False)
        raters = rm.raters
    except InputError:
        raters = None
        notes.append("Strengheid niet berekend: er zijn geen indicatoren, niveaus of fasen met genoeg variatie "
                     "(elke beoordeling gelijk) om een schaal op te bouwen.")
    # --- implicit cut-offs
    try:
        cut = implicit_cutoffs(model_in, framework, n_boot=n_boot, random_state=random_state)
    except InputError:
        cut = None
        notes.append("Impliciete grens niet berekend: het kijkkader heeft geen faseprofiel voor het "
                     "tussenniveau, of er zijn geen oordelen met alle fasen van dat profiel ingevuld.")
    # --- latent consensus
    try:
        lc = latent_consensus(model_in, framework=framework, n_boot=n_boot, random_state=random_state)
    except InputError:
        lc = None
        notes.append("Waarschijnlijk oordeel (model) niet berekend: er zijn geen beoordelingen om te combineren.")

    all_raters = sorted(set(df["rater"].dropna().astype(str).str.strip().unique()) - {""})
    rows: list[dict] = []
    diff_rows: list[dict] = []
    paragraphs = [
        "Per beoordelaar: hoe streng die is op een gemeenschappelijke schaal (eerlijk voor de casussen die "
        "die toevallig kreeg), hoe voorspelbaar die oordeelt, waar die 'voldaan' legt naast de regel van de "
        "handleiding, en waar die het meest afwijkt van het waarschijnlijk oordeel (model). Het waarschijnlijk "
        "oordeel is een modelschatting uit alle beoordelingen samen, geen vastgelegde consensus."
    ]
    rec = None
    if isinstance(consensus, CodedScores):
        consensus = consensus.to_frame()
    if consensus is not None and len(consensus):
        c = consensus.copy()
        for col in ("session", "case", "item", "value"):
            c[col] = c[col].astype("string").str.strip()
        rec = c.dropna(subset=["value"])[["session", "case", "item", "value"]].rename(columns={"value": "consensus"})
        # every assessor's judgements beside the recorded consensus, joined once
        j = df[["session", "case", "rater", "item", "value"]].copy()
        for col in ("session", "case", "rater", "item", "value"):
            j[col] = j[col].astype("string").str.strip()
        joined = j.merge(rec, on=["session", "case", "item"])
        same = joined["value"] == joined["consensus"]
        rec_of = {str(r): (float(same.iloc[g].mean()), int(g.size))
                  for r, g in joined.groupby("rater", sort=False).indices.items()}
    rasch_of = raters.set_index("element") if raters is not None else None
    rasch_els = set(raters["element"]) if raters is not None else set()
    # where the assessors differ from the model, for all of them at once (each assessor's
    # rows keep the order of LatentConsensus.differences)
    diffs = lc.differences(min_p=0.9) if lc is not None else None
    diffs_of = {str(r): g.index.to_numpy() for r, g in diffs.groupby("rater", sort=False)} if diffs is not None else {}
    kind_order = {k: i for i, k in enumerate(_KIND_NL)}
    lc_of: dict[str, list] = {}  # rater -> (kind, accuracy, leniency) in the model's row order
    if lc is not None:
        for r_, k_, a_, l_ in zip(lc.raters["rater"].tolist(), lc.raters["kind"].tolist(),
                                  lc.raters["accuracy"].tolist(), lc.raters["leniency"].tolist()):
            lc_of.setdefault(str(r_), []).append((k_, a_, l_))

    for r in all_raters:
        row: dict[str, Any] = {"rater": r}
        parts: list[str] = []
        if raters is not None and r in rasch_els:
            x = rasch_of.loc[r]
            m, se = float(x["measure"]), float(x["se"])
            lo, hi = m - _Z95 * se, m + _Z95 * se
            row.update(severity=m, severity_ci_low=lo, severity_ci_high=hi, infit=float(x["infit"]),
                       outfit=float(x["outfit"]), n_ratings=int(x["n"]))
            side = ("milder dan het team" if hi < 0 else "strenger dan het team" if lo > 0
                    else "niet duidelijk milder of strenger dan het team")
            parts.append(f"strengheid {_nl(m)} logit (95%-interval {_nl(lo)} tot {_nl(hi)}): {side}")
            infit = float(x["infit"])
            fit_word = ("onvoorspelbaar: meer onverwachte beoordelingen dan het model verwacht" if infit > 1.5 else
                        "erg voorspelbaar, mogelijk weinig gebruik van de uitersten van de schaal" if infit < 0.5 else
                        "consistent")
            parts.append(f"infit {_nl(infit)}, outfit {_nl(float(x['outfit']))} ({fit_word})")
        sentence = None
        if cut is not None:
            cr = cut[cut["rater"] == r]
            if len(cr):
                c0 = cr.iloc[0]
                sentence = describe_cutoff(c0)
                nd = float(c0["n_dimensions"]) if pd.notna(c0.get("n_dimensions")) else np.nan
                clip = (lambda v: None if pd.isna(v) else float(np.clip(v, 0, nd)))
                row.update(cutoff=None if pd.isna(c0["cutoff"]) else int(c0["cutoff"]),
                           cutoff_ci_low=clip(c0.get("cutoff_ci_low")), cutoff_ci_high=clip(c0.get("cutoff_ci_high")),
                           framework_cutoff=None if pd.isna(c0["framework_cutoff"]) else int(c0["framework_cutoff"]),
                           team_cutoff=None if pd.isna(c0.get("team_cutoff")) else int(c0["team_cutoff"]),
                           cutoff_classification={"lenient": "milder", "severe": "strenger",
                                                  "consistent": "als het team"}.get(str(c0["classification"]), None))
        if lc is not None:
            bits = []
            for kind, accuracy, leniency in sorted(lc_of.get(r, []), key=lambda t: kind_order.get(t[0], 99)):
                row[f"agreement_{kind}"] = float(accuracy)
                if kind in ("level", "phase"):
                    row[f"leniency_{kind}"] = float(leniency)
                bits.append(f"{_KIND_NL.get(kind, kind)} {_pct(accuracy)}")
            if bits:
                parts.append("gelijk aan het waarschijnlijk oordeel (model) bij " + ", ".join(bits))
            d = diffs.iloc[diffs_of[r]].reset_index(drop=True) if r in diffs_of else diffs.iloc[0:0]
            d = d[d["kind"] != "indicator"] if (d["kind"] != "indicator").any() else d
            if len(d):
                # most differences first, ties in item order (as a stable sort of the sorted groups)
                by_item = sorted(Counter(d["item"].tolist()).items(), key=lambda t: (-t[1], t[0]))
                for rank, (item, n) in enumerate(by_item[:3]):
                    sub = d[d["item"] == item]
                    kind = str(sub["kind"].iloc[0])
                    pairs = Counter(zip(sub["value"].tolist(), sub["most_likely"].tolist()))
                    pair = min(pairs.items(), key=lambda t: (-t[1], t[0]))[0]
                    said, model = (_shown(kind, v, code_nl) for v in pair)
                    if rank == 0:
                        parts.append(
                            f"grootste verschil met het model: {name_of(item)} ({int(n)} keer anders dan een "
                            f"waarschijnlijk oordeel met p ≥ 0,9, meestal '{said}' waar het model '{model}' schat)")
                    diff_rows.append({"rater": r, "item": name_of(item), "kind": _KIND_NL.get(kind, kind),
                                      "n_different": int(n), "typical_value": said, "typical_model": model,
                                      "mean_p": float(sub["p"].mean())})
        if rec is not None and rec_of.get(r, (0, 0))[1]:
            share, n_mm = rec_of[r]
            row["agreement_recorded_consensus"] = share
            parts.append(f"gelijk aan de vastgelegde consensus bij {_pct(share)} van {n_mm} beoordelingen")
        text = f"{r}: " + "; ".join(parts) + "." if parts else f"{r}: geen beoordelingen om te modelleren."
        if sentence:
            text += " " + sentence
        paragraphs.append(text)
        rows.append(row)

    columns = [["rater", "Beoordelaar"], ["severity", "Strengheid (logit)"], ["severity_ci_low", "95%-interval van"],
               ["severity_ci_high", "95%-interval tot"], ["infit", "Infit"], ["outfit", "Outfit"],
               ["cutoff", "Geeft voldaan vanaf (dimensies)"], ["cutoff_ci_low", "Grens-interval van"],
               ["cutoff_ci_high", "Grens-interval tot"], ["framework_cutoff", "Handleiding vraagt"],
               ["team_cutoff", "Team gemiddeld"], ["cutoff_classification", "Grens t.o.v. team"],
               ["agreement_level", "Niveaus gelijk aan model"], ["agreement_phase", "Fasen gelijk aan model"],
               ["agreement_verdict", "Oordelen gelijk aan model"], ["leniency_phase", "Fase t.o.v. model (posities)"]]
    if rec is not None:
        columns.append(["agreement_recorded_consensus", "Gelijk aan vastgelegde consensus"])
    present = {k for row in rows for k in row}
    columns = [c for c in columns if c[0] in present]
    tables = [{"caption": "Per beoordelaar: strengheid, fit, impliciete grens en overeenstemming met het "
                          "waarschijnlijk oordeel (model)",
               "columns": columns, "rows": [{k: row.get(k) for k, _ in columns} for row in rows]}]
    if diff_rows:
        tables.append({
            "caption": "Waar elke beoordelaar het meest afwijkt van het waarschijnlijk oordeel (model), "
                       "bij beoordelingen waar het model zeker is (p ≥ 0,9)",
            "columns": [["rater", "Beoordelaar"], ["item", "Onderdeel"], ["kind", "Soort"],
                        ["n_different", "Aantal keer anders"], ["typical_value", "Meestal gegeven"],
                        ["typical_model", "Meestal volgens model"], ["mean_p", "Gemiddelde zekerheid model"]],
            "rows": diff_rows,
        })
    figures = []
    if raters is not None and len(raters):
        png, alt = _severity_figure(raters)
        figures.append({"png": png, "alt": alt,
                        "caption": "Strengheid per beoordelaar (many-facet Rasch) met 95%-interval; 0 = teamgemiddelde."})
    notes += [
        "Strengheid: many-facet Rasch-model (casus × beoordelaar × onderdeel, beoordelingsschaal per soort, "
        "geschat met JMLE zoals FACETS) op indicatoren, niveaus en fasen; interval = meting ± 1,96 × standaardfout. "
        "Infit/outfit tussen 0,5 en 1,5 is gebruikelijk.",
        "Impliciete grens: per beoordelaar een logistische regressie van 'voldaan' op het aantal dimensies van het "
        "tussenniveau-profiel dat die zelf op het verwachte fase-niveau zette; interval door bootstrap over casussen.",
        "Waarschijnlijk oordeel (model): Dawid–Skene (ordinaal voor niveaus en fasen) over alle beoordelaars; een "
        "modelschatting, geen consensus. Percentages: verwacht aandeel beoordelingen gelijk aan het modeloordeel.",
    ]
    return {"id": "beoordelaars", "title": TITLE, "intro": paragraphs, "tables": tables, "figures": figures,
            "notes": notes}
