"""The kijkkader roll-up: agreement per item, dimension, leeruitkomst, session and overall.

Owns :func:`kijkkader_rollup`, :func:`rater_agreement_matrix`, :func:`disagreements` and
:func:`applicability_disagreements`. Input is the score table of CONTRACTS §1 (or the same
table already coded, :class:`~calibrate.scores.CodedScores`); a unit is one (session,
case, item) judged by several raters. The Dutch reading lives in :mod:`calibrate.wording`.
``n.v.t.`` counts as missing for the coefficients; disagreement about applicability
(one rater ``n.v.t.``, another a value) is reported on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calibrate.agreement import _core
from calibrate.agreement._reshape import Counts, _check_duplicates, _key
from calibrate.agreement._validate import check_option
from calibrate.agreement._weights import weight_matrix
from calibrate.agreement.coefficients import _alpha_result, _counts_result
from calibrate.errors import InputError
from calibrate.schema import CODES, KINDS, MISSING_CODES, NOT_APPLICABLE
from calibrate.scores import CodedScores

#: Level of measurement per kind: order matters for level and phase.
KIND_LEVEL = {"indicator": "nominal", "level": "ordinal", "phase": "ordinal",
              "verdict": "nominal", "decision": "nominal"}
LEVELS = ("item", "dimension", "outcome", "session", "overall")
REQUIRED = ("session", "case", "rater", "item", "kind", "value")


def _door(scores: Any, func: str, framework: Any = None) -> CodedScores:
    """The score table coded once (:class:`~calibrate.scores.CodedScores`), with this
    module's own messages for a table that is not one."""
    if isinstance(scores, CodedScores):
        return scores if framework is None else scores.with_framework(_framework(framework))
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
    return CodedScores.code(scores[list(REQUIRED)], framework=_framework(framework))


def _framework(framework: Any):
    if isinstance(framework, str):
        from calibrate.frameworks import load_framework

        return load_framework(framework)
    return framework


def _check_scores(scores: Any, func: str) -> pd.DataFrame:
    """The score table as stripped text (for the functions that group by value)."""
    coded = _door(scores, func)
    unknown = sorted(set(coded.frame["kind"].dropna().astype(object)) - set(KINDS))
    if unknown:
        raise InputError(f"{func}: unknown kind(s) {unknown}; allowed are {list(KINDS)}.")
    df = coded.to_frame(list(REQUIRED))
    df.index = coded.frame.index
    return df


def _combine(*codes_sizes: tuple[np.ndarray, int]) -> np.ndarray:
    """One code per distinct combination of several code columns (-1 where any is -1)."""
    out = np.zeros(len(codes_sizes[0][0]), dtype=np.int64)
    bad = np.zeros(len(out), dtype=bool)
    size = 1
    for c, n in codes_sizes:
        bad |= c < 0
        if size * max(n, 1) >= 2**62:  # re-code to keep the mixed-radix key small
            out, uniq = pd.factorize(np.where(bad, -1, out), sort=False)
            out, size = out.astype(np.int64), len(uniq) + 1
        out = out * max(n, 1) + np.maximum(c, 0)
        size *= max(n, 1)
    out[bad] = -1
    return out


class _Coded:
    """The score table coded once for the roll-up: one row per unit (session, case,
    item, kind) with its category counts on the kind's scale."""

    def __init__(self, coded: CodedScores, func: str):
        kinds_all = list(KINDS)
        klabels = list(coded.frame["kind"].cat.categories)
        kused = np.unique(coded.codes("kind"))
        unknown = sorted({klabels[k] for k in kused if k >= 0} - set(KINDS))
        if unknown:
            raise InputError(f"{func}: unknown kind(s) {unknown}; allowed are {list(KINDS)}.")
        kind = coded.codes("kind")  # the categories start with KINDS, in order
        kind = np.where(kind < len(kinds_all), kind, -1)
        # value -> position on its kind's scale (-1: missing, -2: not on the scale)
        vcode = coded.codes("value")
        vlabels = np.asarray(coded.frame["value"].cat.categories, dtype=object)
        lut = np.full((len(kinds_all), len(vlabels) + 1), -1, dtype=np.int64)
        for ki, k in enumerate(kinds_all):
            pos = {_key(c): i for i, c in enumerate(CODES[k])}
            for j, v in enumerate(vlabels):
                if v not in MISSING_CODES:
                    lut[ki, j + 1] = pos.get(_key(v), -2)
        vpos = np.where(kind >= 0, lut[np.maximum(kind, 0), vcode + 1], -1)
        if (vpos == -2).any():
            bad = {}
            for ki in np.unique(kind[vpos == -2]):
                vals = vlabels[np.unique(vcode[(vpos == -2) & (kind == ki)])]
                bad[kinds_all[ki]] = sorted(map(str, vals))[:10]
            raise InputError(
                f"{func}: column 'value' holds codes outside the scale of their kind: {bad}.",
                hint="Codes per kind are listed in CONTRACTS §1; n.v.t. means not applicable.",
            )
        scode, slabels = coded.codes("session"), np.asarray(coded.sessions, dtype=object)
        ccode, clabels = coded.codes("case"), np.asarray(coded.frame["case"].cat.categories, dtype=object)
        icode, ilabels = coded.codes("item"), np.asarray(coded.items["item"], dtype=object)
        rcode, rlabels = coded.codes("rater"), np.asarray(coded.frame["rater"].cat.categories, dtype=object)
        valid = vpos >= 0
        unit = _combine((scode, len(slabels)), (ccode, len(clabels)), (icode, len(ilabels)),
                        (kind, len(kinds_all)))
        lacking = valid & ((unit < 0) | (rcode < 0))
        if lacking.any():
            rows = coded.frame.index[lacking][:5].tolist()
            raise InputError(
                f"{func}: rows {rows} have a score but no session, case, item or rater.",
                hint="Every judgement needs a session, case, item and rater id.",
            )
        has_unit = unit >= 0
        ucode, ukeys = pd.factorize(unit[has_unit], sort=False)
        ucode = ucode.astype(np.int64)
        n_units = len(ukeys)
        rows = np.flatnonzero(has_unit)
        # per unit: its session, item, kind and first row (rows of a unit share them)
        first = np.full(n_units, len(coded), dtype=np.int64)
        np.minimum.at(first, ucode, rows)
        self.unit_session = scode[first]
        self.unit_item = icode[first]
        self.unit_kind = kind[first]
        self.unit_first = first
        # valid ratings
        vr = valid[has_unit]
        vu, vrater, vp = ucode[vr], rcode[has_unit][vr], vpos[has_unit][vr]
        nr = len(rlabels)
        _check_duplicates(
            func, vu, vrater,
            lambda u: (slabels[scode[first[u]]], clabels[ccode[first[u]]], ilabels[icode[first[u]]]),
            rlabels,
        )
        q = max(len(c) for c in CODES.values())
        self.counts = np.bincount(vu * q + vp, minlength=n_units * q).reshape(n_units, q)
        self.r = self.counts.sum(axis=1)
        self.rating_unit = vu
        self.rating_rater = vrater
        self.n_rater_ids = nr
        self.slabels, self.ilabels = slabels, ilabels
        # the hierarchy outcome -> dimension -> item, as columns of the coded table
        self.dim_labels, self.item_dim = self._item_groups(list(coded.items["dimension"]))
        self.out_labels, self.item_out = self._item_groups(list(coded.items["outcome"]))

    @staticmethod
    def _item_groups(names: list) -> tuple[np.ndarray, np.ndarray]:
        labels = sorted({n for n in names if n is not None})
        pos = {n: i for i, n in enumerate(labels)}
        return np.array(labels, dtype=object), np.array([pos.get(n, -1) for n in names], dtype=np.int64)

    def level_groups(self, level: str) -> tuple[np.ndarray, np.ndarray]:
        """Group code per unit (-1: not in any group) and the group labels, for a level."""
        if level == "overall":
            return np.zeros(len(self.r), dtype=np.int64), np.array(["overall"], dtype=object)
        if level == "item":
            g, labels = self.unit_item, self.ilabels
        elif level == "session":
            g, labels = self.unit_session, self.slabels
        else:
            per_item = self.item_dim if level == "dimension" else self.item_out
            labels = self.dim_labels if level == "dimension" else self.out_labels
            g = np.where(self.unit_item >= 0, per_item[np.maximum(self.unit_item, 0)], -1)
        # groups in sorted order of their label (as groupby(sort=True))
        order = np.argsort(np.array([str(x) for x in labels], dtype=object), kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        g = np.where(g >= 0, rank[np.maximum(g, 0)], -1)
        return g, np.asarray(labels, dtype=object)[order]


def _segment_stats(coded: _Coded, units: np.ndarray, n_raters: int, kind: str, confidence: float) -> dict[str, Any]:
    cats = CODES[kind]
    q = len(cats)
    units = units[coded.r[units] > 0]
    n_ratings = int(coded.r[units].sum())
    row: dict[str, Any] = {"n_ratings": n_ratings}
    if n_ratings == 0:
        row.update(n_units=0, n_raters=0, percent_agreement=np.nan, alpha=np.nan,
                   alpha_ci_low=np.nan, alpha_ci_high=np.nan, ac=np.nan, ac_ci_low=np.nan,
                   ac_ci_high=np.nan)
        return row
    lvl = KIND_LEVEL[kind]
    data = Counts(counts_int=coded.counts[units, :q], n_raters=n_raters, categories=cats)
    opts = dict(f=0.0, confidence=confidence, ci_method="t", alternative="two-sided", per_category=False)
    a = _alpha_result(data, lvl, **opts)
    W = weight_matrix(None if lvl == "nominal" else "quadratic", q, func="gwet_ac")
    g = _counts_result("gwet_ac", "ac", data, W, "identity" if lvl == "nominal" else "quadratic", **opts)
    P, w = data.patterns
    pa = _core.counts_coefficient(P, np.eye(q), "pa", w=w).value
    row.update(
        n_units=int((coded.r[units] >= 2).sum()),
        n_raters=n_raters,
        percent_agreement=pa,
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
    the kind. ``n_units`` counts units with at least two ratings; ``n_ratings`` the
    ratings that are not missing (empty or ``n.v.t.``).

    Columns: level, group, kind, n_units, n_raters, n_ratings, percent_agreement, alpha,
    alpha_ci_low, alpha_ci_high, ac, ac_ci_low, ac_ci_high. The Dutch reading (Landis &
    Koch and Krippendorff bands, the prevalence-paradox note) is added by
    :func:`calibrate.wording.with_readings`.

    ``framework`` (a Framework or its id) maps items to dimension and outcome; without
    it, or for items it does not know, the id grammar of :mod:`calibrate.schema` places
    ``<outcome>.<dimension>.<n>`` and ``<outcome>.niveau|oordeel``, and other items (a
    researcher's own) only appear at item, session and overall level.

    The table comes coded (:class:`~calibrate.scores.CodedScores`) or is coded once at the
    door (text stripped per distinct value), then one count row per unit;
    every group is then a set of units whose count rows feed the same formulas as
    :func:`krippendorff_alpha`, :func:`gwet_ac` and :func:`percent_agreement`.
    """
    func = "kijkkader_rollup"
    for lv in levels:
        check_option(func, "levels", lv, LEVELS)
    coded = _Coded(_door(scores, func, framework), func)
    kinds_all = list(KINDS)
    nk = len(kinds_all)
    nr = coded.n_rater_ids
    rows = []
    for lv in levels:
        g, labels = coded.level_groups(lv)
        inside = (g >= 0) & (coded.unit_kind >= 0)
        seg = np.where(inside, g * nk + np.maximum(coded.unit_kind, 0), -1)
        # distinct raters per segment, from the valid ratings
        rseg = seg[coded.rating_unit]
        ok = rseg >= 0
        pairs = np.unique(rseg[ok] * nr + coded.rating_rater[ok])
        n_raters = np.bincount(pairs // nr, minlength=len(labels) * nk) if nr else np.zeros(len(labels) * nk, int)
        # units per segment; kinds within a group in order of first appearance
        units_in = np.flatnonzero(inside)
        order = units_in[np.argsort(seg[units_in], kind="stable")]
        sseg = seg[order]
        cut = np.flatnonzero(np.diff(sseg)) + 1
        starts = np.concatenate([[0], cut]) if len(sseg) else np.zeros(0, dtype=np.int64)
        ends = np.concatenate([cut, [len(sseg)]]) if len(sseg) else np.zeros(0, dtype=np.int64)
        segs = sseg[starts]
        firsts = np.minimum.reduceat(coded.unit_first[order], starts) if len(starts) else starts
        arrangement = np.lexsort((firsts, segs // nk))
        for i in arrangement:
            sg = int(segs[i])
            kind = kinds_all[sg % nk]
            st = _segment_stats(coded, order[starts[i]:ends[i]], int(n_raters[sg]), kind, confidence)
            st.update(level=lv, group=str(labels[sg // nk]), kind=kind)
            rows.append(st)
    cols = ["level", "group", "kind", "n_units", "n_raters", "n_ratings", "percent_agreement",
            "alpha", "alpha_ci_low", "alpha_ci_high", "ac", "ac_ci_low", "ac_ci_high"]
    return pd.DataFrame(rows, columns=cols)


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
        check_option(func, "kind", kind, KINDS)
    df = _check_scores(scores, func)
    if kind is not None:
        df = df[df["kind"] == kind]
    df = df[df["value"].notna() & (df["value"] != NOT_APPLICABLE)]
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
    nvt = df["value"] == NOT_APPLICABLE
    n_nvt = df[nvt].groupby(["session", "case", "item"]).size()
    df = df[df["value"].notna() & ~nvt]
    rows = []
    for (s, c, i, k), g in df.groupby(["session", "case", "item", "kind"], sort=False):
        vals = list(g["value"])
        m = len(vals)
        if m < 2:
            continue
        codes = CODES[str(k)]
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
        is_nvt = g["value"] == NOT_APPLICABLE
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
