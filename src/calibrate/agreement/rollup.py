"""The kijkkader roll-up: agreement per item, dimension, leeruitkomst, session and overall.

Owns :func:`kijkkader_rollup`, :func:`rater_agreement_matrix`, :func:`disagreements`,
:func:`applicability_disagreements` and the Dutch interpretation bands. Input is the score
table of CONTRACTS §1; a unit is one (session, case, item) judged by several raters.
``n.v.t.`` counts as missing for the coefficients; disagreement about applicability
(one rater ``n.v.t.``, another a value) is reported on its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calibrate.agreement._validate import check_option
from calibrate.agreement.coefficients import gwet_ac, krippendorff_alpha, percent_agreement
from calibrate.errors import InputError

NVT = "n.v.t."

#: Ordered value codes per kind (CONTRACTS §1), lowest first; ``n.v.t.`` is missing.
KIND_CODES: dict[str, tuple[str, ...]] = {
    "indicator": ("niet gezien", "gezien"),
    "level": ("1", "2", "3", "4", "5", "6"),
    "phase": ("begin", "groei", "vergevorderd"),
    "verdict": ("niet voldaan", "voldaan"),
    "decision": ("no go", "go"),
}
#: Level of measurement per kind: order matters for level and phase.
KIND_LEVEL = {"indicator": "nominal", "level": "ordinal", "phase": "ordinal",
              "verdict": "nominal", "decision": "nominal"}
LEVELS = ("item", "dimension", "outcome", "session", "overall")
REQUIRED = ("session", "case", "rater", "item", "kind", "value")

LANDIS_KOCH = (
    (0.0, "slecht"),
    (0.20, "gering"),
    (0.40, "redelijk"),
    (0.60, "matig"),
    (0.80, "substantieel"),
    (1.0, "(bijna) perfect"),
)


def landis_koch_band(value: float) -> str:
    """Dutch Landis & Koch (1977) band: < 0 slecht, ≤ .20 gering, ≤ .40 redelijk,
    ≤ .60 matig, ≤ .80 substantieel, above (bijna) perfect.

    >>> landis_koch_band(0.65)
    'substantieel'
    """
    if value is None or not np.isfinite(value):
        return "niet te bepalen"
    if value < 0:
        return "slecht"
    for upper, label in LANDIS_KOCH[1:]:
        if value <= upper:
            return label
    return "(bijna) perfect"


def krippendorff_band(value: float) -> str:
    """Dutch reading of Krippendorff's (2004) thresholds .800 and .667.

    >>> krippendorff_band(0.7)
    'voorlopig: alleen voorzichtige conclusies'
    """
    if value is None or not np.isfinite(value):
        return "niet te bepalen"
    if value >= 0.800:
        return "betrouwbaar"
    if value >= 0.667:
        return "voorlopig: alleen voorzichtige conclusies"
    return "onvoldoende betrouwbaar"


def _check_scores(scores: Any, func: str) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise InputError(
            f"The 'scores' parameter of {func} must be the score table (a DataFrame). "
            f"Got {type(scores).__name__} instead."
        )
    missing = [c for c in REQUIRED if c not in scores.columns]
    if missing:
        raise InputError(
            f"{func}: the score table lacks the column(s) {missing}.",
            hint="See CONTRACTS §1: session, case, rater, item, kind, value.",
        )
    df = scores.loc[:, list(REQUIRED)].copy()
    for c in REQUIRED:
        df[c] = df[c].astype("string").str.strip()
    unknown = sorted(set(df["kind"].dropna()) - set(KIND_CODES))
    if unknown:
        raise InputError(
            f"{func}: unknown kind(s) {unknown}; allowed are {list(KIND_CODES)}.",
        )
    return df


def _item_map(items: Sequence[str], framework: Any) -> dict[str, tuple[str | None, str | None]]:
    """item -> (dimension_id, outcome_id), from the framework or the id's prefix."""
    out: dict[str, tuple[str | None, str | None]] = {}
    if framework is not None:
        fw = framework
        if isinstance(fw, str):
            from calibrate.frameworks import load_framework  # lazy: optional dependency

            fw = load_framework(fw)
        for it in fw.items():
            out[str(it.id)] = (getattr(it, "dimension_id", None), getattr(it, "outcome_id", None))
    for item in items:
        if item in out:
            continue
        m = re.fullmatch(r"([^.]+)\.([^.]+)\.(\d+)", item)
        if m:
            out[item] = (f"{m.group(1)}.{m.group(2)}", m.group(1))
            continue
        m = re.fullmatch(r"([^.]+)\.(niveau|oordeel)", item)
        if m:
            out[item] = (None, m.group(1))
            continue
        out[item] = (None, None)
    return out


def _paradox_note(pa: float | None, alpha: float, ac: float) -> str:
    if pa is None or not np.isfinite(pa) or pa < 0.8:
        return ""
    if np.isfinite(alpha) and alpha >= 0.6:
        return ""
    a = "niet te bepalen" if not np.isfinite(alpha) else f"{alpha:.2f}"
    ac_s = "niet te bepalen" if not np.isfinite(ac) else f"{ac:.2f}"
    return (
        f"Hoge ruwe overeenstemming ({pa:.0%}) maar lage alpha ({a}): bijna iedereen koos "
        "dezelfde score, waardoor de kansovereenstemming hoog is (prevalentieparadox). "
        f"AC1 ({ac_s}) en de verdeling van de scores geven hier een eerlijker beeld."
    )


def _group_stats(sub: pd.DataFrame, kind: str, confidence: float) -> dict[str, Any]:
    cats = list(KIND_CODES[kind])
    lvl = KIND_LEVEL[kind]
    long = pd.DataFrame(
        {"unit": sub["session"] + "\x1f" + sub["case"] + "\x1f" + sub["item"],
         "rater": sub["rater"], "value": sub["value"]}
    )
    valid = long["value"].notna() & (long["value"] != NVT)
    n_ratings = int(valid.sum())
    row: dict[str, Any] = {"n_ratings": n_ratings}
    if n_ratings == 0:
        row.update(n_units=0, n_raters=0, percent_agreement=np.nan, alpha=np.nan,
                   alpha_ci_low=np.nan, alpha_ci_high=np.nan, ac=np.nan, ac_ci_low=np.nan,
                   ac_ci_high=np.nan)
        return row
    a = krippendorff_alpha(long, level=lvl, categories=cats, confidence=confidence)
    w = None if lvl == "nominal" else "quadratic"
    g = gwet_ac(long, weights=w, categories=cats, confidence=confidence)
    p = percent_agreement(long, categories=cats, confidence=confidence)
    per_unit = long[valid].groupby("unit").size()
    row.update(
        n_units=int((per_unit >= 2).sum()),
        n_raters=a.n_raters,
        percent_agreement=p.value,
        alpha=a.value,
        alpha_ci_low=np.nan if a.ci is None else a.ci[0],
        alpha_ci_high=np.nan if a.ci is None else a.ci[1],
        ac=g.value,
        ac_ci_low=np.nan if g.ci is None else g.ci[0],
        ac_ci_high=np.nan if g.ci is None else g.ci[1],
    )
    return row


def kijkkader_rollup(
    scores: pd.DataFrame,
    *,
    framework: Any = None,
    levels: Sequence[str] = LEVELS,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Agreement at every level of the kijkkader, with n, CI and a Dutch reading.

    One row per (level, group, kind): ``level`` is ``item``, ``dimension``,
    ``outcome`` (leeruitkomst), ``session`` or ``overall``; items of a group are pooled,
    each (session, case, item) being one unit, per kind (their scales differ).
    Coefficients: Krippendorff's alpha (nominal for indicators, verdicts and decisions;
    ordinal for levels and phases) with its Gwet SE and t interval, Gwet's AC1 (AC2 with
    quadratic weights for ordinal kinds) and percent agreement, all over the full scale of
    the kind. ``n_units`` counts units with at least two ratings.

    Columns: level, group, kind, n_units, n_raters, n_ratings, percent_agreement, alpha,
    alpha_ci_low, alpha_ci_high, ac, ac_ci_low, ac_ci_high, band_landis_koch,
    band_krippendorff, note (Dutch; flags high raw agreement with low alpha).

    ``framework`` (a Framework or its id) maps items to dimension and outcome; without
    it, or for items it does not know, ids of the form ``<outcome>.<dimension>.<n>`` and
    ``<outcome>.niveau|oordeel`` are parsed, and other items (a researcher's own) only
    appear at item, session and overall level.
    """
    func = "kijkkader_rollup"
    for lv in levels:
        check_option(func, "levels", lv, LEVELS)
    df = _check_scores(scores, func)
    imap = _item_map(sorted(df["item"].dropna().unique()), framework)
    df["dimension"] = df["item"].map(lambda i: imap.get(i, (None, None))[0])
    df["outcome"] = df["item"].map(lambda i: imap.get(i, (None, None))[1])
    rows = []
    keys = {"item": "item", "dimension": "dimension", "outcome": "outcome", "session": "session"}
    for lv in levels:
        if lv == "overall":
            groups = [("overall", df)]
        else:
            col = keys[lv]
            groups = [(str(k), g) for k, g in df[df[col].notna()].groupby(col, sort=True)]
        for name, g in groups:
            for kind, gk in g.groupby("kind", sort=False):
                st = _group_stats(gk, str(kind), confidence)
                st.update(level=lv, group=name, kind=str(kind))
                rows.append(st)
    cols = ["level", "group", "kind", "n_units", "n_raters", "n_ratings", "percent_agreement",
            "alpha", "alpha_ci_low", "alpha_ci_high", "ac", "ac_ci_low", "ac_ci_high"]
    out = pd.DataFrame(rows, columns=cols)
    out["band_landis_koch"] = [landis_koch_band(v) for v in out["alpha"]]
    out["band_krippendorff"] = [krippendorff_band(v) for v in out["alpha"]]
    out["note"] = [
        _paradox_note(pa, al, ac)
        for pa, al, ac in zip(out["percent_agreement"], out["alpha"], out["ac"], strict=True)
    ]
    return out


def rater_agreement_matrix(
    scores: pd.DataFrame,
    *,
    statistic: str = "percent_agreement",
    kind: str | None = None,
) -> pd.DataFrame:
    """Pairwise rater agreement: a square DataFrame (raters x raters).

    ``statistic``: ``"percent_agreement"`` (share of identical codes over the units both
    rated) or ``"n_common"`` (how many units both rated). ``kind`` restricts to one kind.
    ``n.v.t.`` is missing. The diagonal is 1 (or the rater's number of units).
    """
    func = "rater_agreement_matrix"
    check_option(func, "statistic", statistic, ("percent_agreement", "n_common"))
    if kind is not None:
        check_option(func, "kind", kind, tuple(KIND_CODES))
    df = _check_scores(scores, func)
    if kind is not None:
        df = df[df["kind"] == kind]
    df = df[df["value"].notna() & (df["value"] != NVT)]
    unit = df["session"] + "\x1f" + df["case"] + "\x1f" + df["item"]
    wide = pd.DataFrame({"unit": unit, "rater": df["rater"], "value": df["value"]}).pivot_table(
        index="unit", columns="rater", values="value", aggfunc="last"
    )
    raters = list(wide.columns)
    codes = wide.to_numpy(dtype=object)
    present = wide.notna().to_numpy()
    out = pd.DataFrame(np.nan, index=raters, columns=raters, dtype=float)
    for i, j in itertools.combinations_with_replacement(range(len(raters)), 2):
        both = present[:, i] & present[:, j]
        nc = int(both.sum())
        if statistic == "n_common":
            val = float(nc)
        else:
            val = float(np.mean(codes[both, i] == codes[both, j])) if nc else np.nan
        out.iat[i, j] = out.iat[j, i] = val
    out.index.name = "rater"
    out.columns.name = "rater"
    return out


def disagreements(scores: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """The (session, case, item) units where raters disagree most, first.

    ``disagreement`` is the share of rater pairs that differ (nominal kinds) or the mean
    pairwise distance divided by the scale's range (level, phase), in [0, 1]. Columns:
    session, case, item, kind, n_ratings, disagreement, distribution (e.g.
    ``"gezien: 3, niet gezien: 1"``), values (rater -> code), n_nvt. Only units with at
    least two ratings (``n.v.t.`` excluded) and some disagreement are listed.
    """
    df = _check_scores(scores, "disagreements")
    nvt = df["value"] == NVT
    n_nvt = df[nvt].groupby(["session", "case", "item"]).size()
    df = df[df["value"].notna() & ~nvt]
    rows = []
    for (s, c, i, k), g in df.groupby(["session", "case", "item", "kind"], sort=False):
        vals = list(g["value"])
        m = len(vals)
        if m < 2:
            continue
        codes = KIND_CODES[str(k)]
        pos = {v: p for p, v in enumerate(codes)}
        pairs = list(itertools.combinations(vals, 2))
        if KIND_LEVEL[str(k)] == "ordinal" and all(v in pos for v in vals):
            d = float(np.mean([abs(pos[a] - pos[b]) for a, b in pairs]) / (len(codes) - 1))
        else:
            d = float(np.mean([a != b for a, b in pairs]))
        if d <= 0:
            continue
        counts = pd.Series(vals).value_counts()
        rows.append(
            {
                "session": s, "case": c, "item": i, "kind": k, "n_ratings": m,
                "disagreement": d,
                "distribution": ", ".join(f"{v}: {n}" for v, n in counts.items()),
                "values": dict(zip(g["rater"], g["value"], strict=True)),
                "n_nvt": int(n_nvt.get((s, c, i), 0)),
            }
        )
    cols = ["session", "case", "item", "kind", "n_ratings", "disagreement", "distribution",
            "values", "n_nvt"]
    out = pd.DataFrame(rows, columns=cols)
    out = out.sort_values(["disagreement", "n_ratings", "session", "case", "item"],
                          ascending=[False, False, True, True, True], kind="stable")
    out = out.reset_index(drop=True)
    return out if top is None else out.head(top)


def applicability_disagreements(scores: pd.DataFrame) -> pd.DataFrame:
    """Units where one rater said ``n.v.t.`` and another gave a value (e.g. ``gezien``).

    Columns: session, case, item, kind, raters_nvt, raters_scored, values (the codes the
    other raters gave). Sorted by how evenly the raters split, most contested first.
    """
    df = _check_scores(scores, "applicability_disagreements")
    df = df[df["value"].notna()]
    rows = []
    for (s, c, i, k), g in df.groupby(["session", "case", "item", "kind"], sort=False):
        is_nvt = g["value"] == NVT
        if is_nvt.any() and (~is_nvt).any():
            rows.append(
                {
                    "session": s, "case": c, "item": i, "kind": k,
                    "raters_nvt": sorted(g.loc[is_nvt, "rater"]),
                    "raters_scored": sorted(g.loc[~is_nvt, "rater"]),
                    "values": ", ".join(sorted(g.loc[~is_nvt, "value"].unique())),
                    "split": min(is_nvt.sum(), (~is_nvt).sum()) / len(g),
                }
            )
    cols = ["session", "case", "item", "kind", "raters_nvt", "raters_scored", "values", "split"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["split", "session", "case", "item"], ascending=[False, True, True, True],
                           kind="stable").reset_index(drop=True)


def interpretation(value: float) -> Mapping[str, str]:
    """Both Dutch bands for one coefficient value."""
    return {"landis_koch": landis_koch_band(value), "krippendorff": krippendorff_band(value)}
