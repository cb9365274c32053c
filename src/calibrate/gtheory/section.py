"""The report section "Hoeveel beoordelaars zijn genoeg?" (MAP's shared section shape).

Owns :func:`report_section`: a G-study of the go / no-go decision (cases × assessors) with
a D-study table and figure, and per leeruitkomst (its indicators, fixed; its verdict) and
for the decision Φ, Eρ², Φ(λ) and the number of assessors Φ ≥ 0.70 and ≥ 0.80 need, with
intervals (:func:`~calibrate.gtheory.kijkkader.reliability_overview`). Numbers stay numbers; texts are Dutch and use the
framework's names. The report renders the dict; the analysis is in the sibling modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.figure_text import png
from calibrate.gtheory.dstudy import d_study, phi_lambda, raters_needed
from calibrate.gtheory.figure import d_study_figure
from calibrate.gtheory.kijkkader import CUT_OFF, DECISION_SCOPE, reliability_overview, scope_numbers
from calibrate.gtheory.observations import select_scores
from calibrate.gtheory.study import g_study
from calibrate.gtheory.wording import _komma, raters_needed_sentence
from calibrate.scores import CodedScores, as_frame

SECTION_ID = "betrouwbaarheid"
TITLE = "Hoeveel beoordelaars zijn genoeg?"
D_RATERS = (1, 2, 3, 4, 6, 8, 12)
TARGETS = (0.70, 0.80)



def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _count(x) -> int | None:
    return None if x is None or not np.isfinite(x) else int(x)


def _interval_words(ci, max_raters: int) -> str:
    lo, hi = ci
    onder = f"meer dan {max_raters}" if not math.isfinite(lo) else str(int(lo))
    boven = f"meer dan {max_raters}" if not math.isfinite(hi) else str(int(hi))
    return f"{onder} tot {boven}"


def report_section(scores: Any, framework, *, n_boot: int = 1000, seed=0, max_raters: int = 50) -> dict:
    """The section "Hoeveel beoordelaars zijn genoeg?" of the report.

    Parameters
    ----------
    scores
        The long score table (CONTRACTS §1) or a :class:`~calibrate.scores.CodedScores`.
    framework
        The kijkkader (:class:`~calibrate.frameworks.Framework`): the names of the decision
        and the leeruitkomsten.
    n_boot
        Bootstrap resamples of cases for the intervals of the decision's coefficients and of
        the number of assessors needed.

    Returns
    -------
    dict
        ``{"id": "betrouwbaarheid", "title", "intro", "tables", "figures", "notes"}``: the
        decision's Φ with the current panel and how many assessors Φ ≥ 0.80 needs (with its
        interval), a D-study table for 1 … 12 assessors, a table per leeruitkomst, and the
        D-study figure with alt text. A part without data (no decision judged, a
        leeruitkomst with one assessor) is left out with a note; it never raises for that.
    """
    if isinstance(scores, CodedScores):  # the kinds this section reads, categorical columns kept (no decoding)
        f = scores.frame
        df = f.loc[f["kind"].isin(["decision", "verdict", "indicator"]).to_numpy(),
                   [c for c in ("session", "case", "rater", "item", "kind", "value") if c in f.columns]]
    else:
        df = as_frame(scores, where="report_section")
    if framework is None:
        raise InputError("report_section needs the framework (the names of the decision and the leeruitkomsten).",
                         hint="Pass the framework of the session, e.g. load_framework('han-wpl2-2025').")
    for col in ("case", "rater", "item", "kind", "value"):
        if col not in df.columns:
            raise InputError(f"The score table lacks the column {col!r}.", hint="Pass store.scores() (CONTRACTS §1).")
    intro: list[str] = []
    tables: list[dict] = []
    figures: list[dict] = []
    notes: list[str] = []
    decision_name = "het go/no go-besluit"
    if framework.decision is not None:
        item = next((i for i in framework.items() if i.id == framework.decision.item_id), None)
        if item is not None and item.label:
            decision_name = f"‘{item.label}’"

    # ---- the decision: cases × assessors
    dec = df[df["kind"] == "decision"]
    dec = dec[dec["value"].notna() & (dec["value"].astype("string") != "n.v.t.")]
    g = None
    if dec["rater"].nunique() >= 2 and dec["case"].nunique() >= 3:
        g = g_study(select_scores(dec, kind="decision"), "c x r", n_boot=n_boot, seed=seed, ci=None, jackknife=False)
    if g is None:
        notes.append("Er is te weinig over het go/no go-besluit gescoord (minstens drie casussen met elk twee "
                     "beoordelaars) om te zeggen hoeveel beoordelaars genoeg zijn.")
    else:
        n_r = g.details["facet_levels"]["r"]
        n_c = g.details["facet_levels"]["c"]
        own = d_study(g).iloc[0]
        need = {t: raters_needed(g, t, max_raters=max_raters) for t in TARGETS}
        intro.append(
            f"Hoe betrouwbaar is {decision_name} van dit panel? Φ (phi) zegt hoe dicht het gemiddelde oordeel van "
            f"het panel bij het oordeel komt dat heel veel beoordelaars samen zouden geven: 1 is volledig, 0 is "
            f"niets. Met {n_r} beoordelaars op {n_c} casussen is Φ {_komma(own['Phi'])}.")
        intro.append(raters_needed_sentence(need[0.80], scope=decision_name))
        intro.append("Een gangbare ondergrens is 0,70 voor een oordeel waar een gesprek op volgt en 0,80 voor een "
                     "beslissing over een student. Minder beoordelaars per casus maakt het oordeel minder betrouwbaar; "
                     "meer beoordelaars helpt, maar steeds minder per extra beoordelaar.")
        sizes = sorted(set(D_RATERS) | {int(round(n_r))})
        table = d_study(g, raters=sizes)
        rows = []
        for _, r in table.iterrows():
            rows.append({"beoordelaars": int(r["n_r"]), "phi": _num(r["Phi"]), "phi_low": _num(r.get("Phi_low")),
                         "phi_high": _num(r.get("Phi_high")), "erho2": _num(r["Erho2"])})
        tables.append({
            "caption": f"Betrouwbaarheid van {decision_name} met 1 tot 12 beoordelaars per casus (D-studie)",
            "columns": [["beoordelaars", "Beoordelaars per casus"], ["phi", "Φ"], ["phi_low", "Φ ondergrens (95%)"],
                        ["phi_high", "Φ bovengrens (95%)"], ["erho2", "Eρ² (rangorde)"]],
            "rows": rows})
        fig = d_study_figure(table, raters=sizes, title=f"Betrouwbaarheid van het go/no go-besluit")
        fig_text = ", ".join(f"{int(r['beoordelaars'])}: {_komma(r['phi'])}" for r in rows)
        alt = (f"Lijngrafiek van de betrouwbaarheid van het go/no go-besluit tegen het aantal beoordelaars per casus. "
               f"Φ per aantal beoordelaars: {fig_text}. Stippellijnen bij 0,70 en 0,80; de band rond de lijnen is het "
               f"95%-interval.")
        if need[0.80].n is not None:
            alt += f" De lijn van Φ komt bij {need[0.80].n} beoordelaars boven 0,80."
        figures.append({"png": png(fig, tight=False), "alt": alt,
                        "caption": "Φ (absolute beslissing) en Eρ² (rangorde) met 1 tot 12 beoordelaars per casus."})
        lam = phi_lambda(g, 0.5)
        notes.append(
            f"Φ(λ) bij de grens tussen go en no go is {_komma(lam)}: hoe betrouwbaar het panel de casussen aan de "
            "goede kant van de grens zet; hoger dan Φ wanneer de meeste casussen ver van de grens liggen.")
        notes.append(
            f"Methode: generaliseerbaarheidstheorie, casussen × beoordelaars, variantiecomponenten met "
            f"{'variantieanalyse' if g.method == 'anova' else 'de methode van Henderson' if g.method == 'henderson1' else 'REML'}"
            f"; intervallen met {n_boot} bootstrap-trekkingen van casussen. In de simulatiestudie van calibrate "
            "vielen zulke bootstrapintervallen bij 4–12 casussen te smal uit (67–93 % in plaats "
            "van 95 %): lees het interval als een ondergrens van de onzekerheid.")

    # ---- per leeruitkomst: its indicators (c × r × i, indicators fixed) and its verdict
    # (c × r), the decision beside them: reliability_overview, the overall G- and D-study per scope
    per = reliability_overview(df, framework, by=("indicator", "verdict"), n_boot=n_boot, seed=seed,
                               max_raters=max_raters, targets=TARGETS)
    if g is not None:
        per = pd.concat([per, pd.DataFrame([{
            "scope": DECISION_SCOPE, "kind": "decision", "name": decision_name.strip("‘’"), "design": "c x r",
            **scope_numbers(g, cut_off=CUT_OFF, targets=TARGETS, max_raters=max_raters)}])], ignore_index=True)
    skipped = sorted(set(per.loc[per["note"].notna(), "name"]), key=list(per["name"]).index)
    per = per[per["note"].isna()]

    def needed(r, t: float) -> dict:
        key = f"raters_{round(t * 100)}"
        ci = (r[f"{key}_low"], r[f"{key}_high"])
        return {f"nodig_{round(t * 100)}": _count(r[key]),
                f"nodig_{round(t * 100)}_interval": None if not np.isfinite(ci[0]) else
                str(int(ci[0])) if ci[0] == ci[1] else _interval_words(ci, max_raters)}

    ind = per[per["kind"] == "indicator"]
    if len(ind):
        tables.append({
            "caption": "Betrouwbaarheid per leeruitkomst (de indicatoren samen, zoals het kijkkader ze vastlegt)",
            "columns": [["leeruitkomst", "Leeruitkomst"], ["indicatoren", "Indicatoren"],
                        ["beoordelaars", "Beoordelaars"], ["phi", "Φ nu"], ["phi_low", "Φ ondergrens (95%)"],
                        ["phi_high", "Φ bovengrens (95%)"], ["erho2", "Eρ² (rangorde)"],
                        ["nodig_70", "Beoordelaars nodig voor Φ ≥ 0,70"], ["nodig_70_interval", "95%-interval"],
                        ["nodig_80", "Beoordelaars nodig voor Φ ≥ 0,80"], ["nodig_80_interval", "95%-interval"]],
            "rows": [{"leeruitkomst": r["name"], "indicatoren": int(r["n_items"]), "beoordelaars": int(r["n_raters"]),
                      "phi": _num(r["Phi"]), "phi_low": _num(r["Phi_low"]), "phi_high": _num(r["Phi_high"]),
                      "erho2": _num(r["Erho2"]), **needed(r, 0.70), **needed(r, 0.80)} for _, r in ind.iterrows()]})
        notes.append("Per leeruitkomst: casussen × beoordelaars × indicatoren, de indicatoren vast (elke keer dezelfde). "
                     "Een leeg vak betekent: ook met 50 beoordelaars niet gehaald.")
    verd = per[per["kind"].isin(["verdict", "decision"])]
    if len(verd):
        tables.append({
            "caption": "Betrouwbaarheid van het oordeel per leeruitkomst (voldaan / niet voldaan) en van het go/no go-besluit",
            "columns": [["oordeel", "Oordeel over"], ["casussen", "Casussen"], ["beoordelaars", "Beoordelaars"],
                        ["phi", "Φ nu"], ["phi_low", "Φ ondergrens (95%)"], ["phi_high", "Φ bovengrens (95%)"],
                        ["erho2", "Eρ² (rangorde)"], ["phi_lambda", "Φ(λ) bij de grens"],
                        ["nodig_70", "Beoordelaars nodig voor Φ ≥ 0,70"], ["nodig_70_interval", "95%-interval"],
                        ["nodig_80", "Beoordelaars nodig voor Φ ≥ 0,80"], ["nodig_80_interval", "95%-interval"]],
            "rows": [{"oordeel": r["name"] if r["kind"] == "verdict" else "het go/no go-besluit (alle leeruitkomsten samen)",
                      "casussen": int(r["n_cases"]), "beoordelaars": int(r["n_raters"]),
                      "phi": _num(r["Phi"]), "phi_low": _num(r["Phi_low"]), "phi_high": _num(r["Phi_high"]),
                      "erho2": _num(r["Erho2"]), "phi_lambda": _num(r["Phi_lambda"]), **needed(r, 0.70), **needed(r, 0.80)}
                     for _, r in verd.iterrows()]})
        notes.append("Per leeruitkomst het oordeel voldaan / niet voldaan: casussen × beoordelaars, zoals het go/no go-besluit. "
                     "Φ(λ) is de betrouwbaarheid van de kant van de grens (voldaan of niet, go of no go) waar een casus "
                     "uitkomt.")
    if len(ind) or len(verd):
        notes.append(f"De intervallen per leeruitkomst komen uit {n_boot} bootstrap-trekkingen van casussen. Bij 4–12 "
                     "casussen dekte zo'n interval in de simulatiestudie van calibrate maar 61–92 % in plaats "
                     "van 95 %: lees het dan als een ondergrens van de onzekerheid. ‘Meer dan 50’ betekent: in een deel "
                     "van de trekkingen ook met 50 beoordelaars niet gehaald.")
    if skipped:
        notes.append("Te weinig gegevens voor: " + ", ".join(skipped) + ".")
    return {"id": SECTION_ID, "title": TITLE, "intro": intro, "tables": tables, "figures": figures, "notes": notes}
