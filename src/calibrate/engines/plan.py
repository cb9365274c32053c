"""The aggregate queries, written once as Ibis expressions; each backend compiles them
to its own SQL (DuckDB, PostgreSQL, Spark SQL) and runs them where the data is.

Every coefficient needs the same first step, the value counts of each unit. A unit's
counts are packed into one integer key: the rating of category ``k`` adds
``2 ** (bits * k)``, so ``SUM`` over a unit's rows is its count vector read in base
``2 ** bits`` (``bits`` = 62 // q: 10 for six levels, 31 for two categories). One integer
sum per row instead of one per category; a unit with ``2 ** bits`` or more ratings in one
category is detected (its row count does not match its key) and the query runs again with
one count column per category. Then the units are grouped by their key: the distinct count
patterns ``(P, w)``, a few thousand rows however many judgements there are. Only
aggregates of that size leave the engine.

Queries (all per group and scale):

* ``summary``: ratings off their scale or without a group, case or rater id, and the
  number of raters (one pass over every row);
* ``duplicates``: a rater judging a unit twice (first five);
* ``patterns``: (key, ratings per unit) -> units;
* for Conger's kappa: the distinct rows of the unit x rater matrix (``profiles``; raters
  numbered by ``dense_rank`` within the group, a unit's codes packed base q + 1);
* for the two-way ICC: the rater x category table, the rater x (category, pattern) table
  and a self-join of the ratings on the unit grouped by (rater, rater, ratings per unit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from calibrate.engines.finish import Aggregates
from calibrate.engines.scales import KEY_BITS, MISSING, Scale
from calibrate.errors import InputError

OFF = -1  # a value that is not on its row's scale (or a row without a known kind)
MISS = 0  # no rating (NULL, NaN, empty, n.v.t.)
UNIT, RATER, SCALE, WT, POS, KEY, N, CNT = ("cal_unit", "cal_rater", "cal_scale", "cal_w", "cal_pos",
                                            "cal_key", "cal_n", "cal_count")


def _mapped(v, scale: Scale, result, *, numeric: bool, floating: bool):
    """Ibis CASE: the value ``v`` -> ``result(k)`` for category ``k`` of ``scale``, MISS
    when missing, OFF when not on the scale."""
    if numeric and scale.numeric is not None:
        missing = v.isnull() | v.isnan() if floating else v.isnull()
        return ibis.cases((missing, MISS), *[(v == float(x), result(k)) for k, x in enumerate(scale.numeric)],
                          else_=OFF)
    if numeric:
        v = v.cast("string")
    cats = [(f, result(k)) for k in range(scale.q) for f in scale.forms(k)]
    missing = [(m, MISS) for m in MISSING]
    exact = v.cases(*cats, *missing, else_=ibis.null("int64"))  # CASE v WHEN ... (no TRIM per row)
    stripped = v.strip().cases(*cats, *missing, else_=OFF)  # only where the exact text did not match
    return ibis.ifelse(v.isnull(), MISS, ibis.coalesce(exact, stripped))


@dataclass
class Plan:
    """The queries of one analysis over ``table`` (any Ibis table with the score table's
    columns). ``scales``: one per kind (read from ``kind``) or a single given scale."""

    table: ibis.Table
    by: tuple[str, ...]
    units: str
    raters: str
    values: str
    kind: str | None
    scales: list[Scale]
    wide: bool = False

    def __post_init__(self):
        t = self.table
        missing = [c for c in (*self.by, self.units, self.raters, self.values, *([self.kind] if self.kind else []))
                   if c not in t.columns]
        if missing:
            raise InputError(
                f"the score table lacks the column(s) {missing}; it has {list(t.columns)}.",
                hint="See CONTRACTS §1: session, case, rater, item, kind, value (and the --by columns).",
            )
        self.groups = [f"cal_g{i}" for i in range(len(self.by))]
        cols = {g: t[c].cast("string") for g, c in zip(self.groups, self.by)}
        cols[UNIT] = t[self.units].cast("string")
        cols[RATER] = t[self.raters].cast("string")
        if self.kind is None:
            cols[SCALE] = ibis.literal(0, "int16")
        else:  # simple CASE forms throughout: PostgreSQL inlines a computed column at every use
            k = t[self.kind].cast("string")
            names = [(s.name, s.code) for s in self.scales]
            cols[SCALE] = ibis.coalesce(k.cases(*names, else_=ibis.null("int16")),
                                        k.strip().cases(*names, else_=OFF)).cast("int16")
        cols["cal_value"] = t[self.values]
        cols["cal_kind"] = t[self.kind].cast("string") if self.kind else ibis.literal("", "string")
        base = t.select(**cols)
        dt = base["cal_value"].type()
        numeric, floating = dt.is_numeric(), dt.is_floating()

        v = base["cal_value"]
        pos = base[SCALE].cases(  # 1-based category, MISS (0) or OFF (-1)
            *[(s.code, _mapped(v, s, lambda k: k + 1, numeric=numeric, floating=floating)) for s in self.scales],
            else_=OFF,
        ).cast("int64")
        self.packed = all(s.bits > 0 for s in self.scales) and not self.wide
        base = base.mutate(**{POS: pos})
        if self.packed:  # category k of a scale with ``bits`` bits per count adds 2**(bits * k)
            p = base[POS]
            wt = base[SCALE].cases(*[(s.code, p.cases(*[(k + 1, 1 << (s.bits * k)) for k in range(s.q)], else_=0))
                                     for s in self.scales], else_=0).cast("int64")
            base = base.mutate(**{WT: wt})
        self.base = base
        self.rated = self.base.filter(self.base[POS] > 0)
        self.keys = [*self.groups, SCALE]

    # ------------------------------------------------------------------ queries
    def summary(self):
        """One pass over every row, per group: values off their scale, ratings without an
        id, and the number of raters (of the ratings)."""
        b = self.base
        no_id = ibis.or_(*[b[c].isnull() for c in (*self.groups, UNIT, RATER)])
        return b.group_by(self.keys).aggregate(
            cal_off=(b[POS] < 0).sum(), cal_no_id=((b[POS] > 0) & no_id).sum(),
            cal_raters=b[RATER].nunique(where=b[POS] > 0))

    def off_examples(self):
        b = self.base
        return b.filter(b[POS] < 0).select("cal_kind", "cal_value").distinct().limit(20)

    def no_id_examples(self):
        b = self.rated
        return b.aggregate(**{c: b[c].isnull().sum() for c in (*self.groups, UNIT, RATER)})

    def unit_counts(self):
        """Per unit its packed counts (``KEY``) and rows (``N``, missing ratings included:
        no filter, so the CASE is computed once per row). Units without a rating have key 0."""
        b = self.base
        if self.packed:
            return b.group_by([*self.keys, UNIT]).aggregate(**{KEY: b[WT].sum(), N: b.count()})
        qmax = max(s.q for s in self.scales)
        return b.group_by([*self.keys, UNIT]).aggregate(
            **{f"cal_c{k}": (b[POS] == k + 1).sum() for k in range(qmax)})

    def pattern_columns(self) -> list[str]:
        if self.packed:
            return [KEY]
        return [f"cal_c{k}" for k in range(max(s.q for s in self.scales))]

    def patterns(self):
        u = self.unit_counts()
        more = {N: u[N].max()} if self.packed else {}
        return u.group_by([*self.keys, *self.pattern_columns()]).aggregate(**{CNT: u.count()}, **more)

    def duplicates(self):
        r = self.rated
        d = r.group_by([*self.keys, UNIT, RATER]).aggregate(**{CNT: r.count()})
        return d.filter(d[CNT] > 1).limit(5)

    def classif(self):
        r = self.rated
        return r.group_by([*self.keys, RATER, POS]).aggregate(**{CNT: r.count()})

    def rater_pattern(self):
        r = self.rated.select(*self.keys, UNIT, RATER, POS)
        u = self.unit_counts()
        j = r.join(u, [*self.keys, UNIT])
        return j.group_by([*self.keys, RATER, POS, *self.pattern_columns()]).aggregate(**{CNT: j.count()})

    def profile_base(self) -> tuple[int, int]:
        """(base, raters per key) of the profile keys: a unit's rating by rater j adds
        ``(category + 1) * base ** j`` (0 = not rated), 62 bits per key."""
        base = max(s.q for s in self.scales) + 1
        return base, max(1, int(KEY_BITS / math.log2(base)))

    def profiles(self, n_raters_max: int):
        """The distinct rows of the unit x rater matrix and how many units have each
        (Conger's kappa): raters numbered within the group by ``dense_rank``."""
        r = self.rated
        r = r.mutate(cal_ri=ibis.dense_rank().over(group_by=self.keys, order_by=r[RATER]))
        base, per = self.profile_base()
        digit = ibis.cases(*[((r.cal_ri % per) == j, base ** j) for j in range(per)], else_=0).cast("int64")
        term = (r[POS] * digit).cast("int64")
        blocks = {f"cal_b{b}": ibis.cases(((r.cal_ri // per) == b, term), else_=0).cast("int64").sum()
                  for b in range(-(-n_raters_max // per))}
        u = r.group_by([*self.keys, UNIT]).aggregate(**blocks)
        return u.group_by([*self.keys, *blocks]).aggregate(**{CNT: u.count()})

    def pairs_k(self):
        """Per pair of raters (both orders, and each rater with itself) and number of
        ratings k of the unit: how many units both rated (the two-way ICC's sum 1/k)."""
        r = self.rated
        per_unit = r.group_by([*self.keys, UNIT]).aggregate(cal_k=r.count())
        a = r.select(*self.keys, UNIT, cal_ga=r[RATER])
        b = r.view()
        b = b.select(*self.keys, UNIT, cal_gb=b[RATER])
        j = a.join(b, [*self.keys, UNIT]).join(per_unit, [*self.keys, UNIT])
        return j.group_by([*self.keys, "cal_ga", "cal_gb", "cal_k"]).aggregate(**{CNT: j.count()})


# ---------------------------------------------------------------------- collecting
def _ints(s: pd.Series) -> np.ndarray:
    """Integer column from any backend (PostgreSQL sums come back as Decimal)."""
    if s.dtype == object:
        return np.asarray([int(x) for x in s], dtype=np.int64)
    return s.to_numpy(dtype=np.int64)


def _decode(plan: Plan, pat: pd.DataFrame, scale_of: dict[int, Scale]) -> tuple[np.ndarray, bool]:
    """Count matrix (rows x q_max) of the pattern rows; False when a packed key may have
    overflowed (a unit with 2**bits rows or more)."""
    qmax = max(s.q for s in plan.scales)
    if not plan.packed:
        return np.column_stack([_ints(pat[c]) for c in plan.pattern_columns()]).astype(np.float64), True
    key = _ints(pat[KEY])
    n = _ints(pat[N])
    sc = _ints(pat[SCALE])
    out = np.zeros((len(pat), qmax), dtype=np.int64)
    ok = True
    for code, s in scale_of.items():
        rows = sc == code
        if not rows.any():
            continue
        ok = ok and bool(n[rows].max() < (1 << s.bits))
        mask = (1 << s.bits) - 1
        for k in range(s.q):
            out[rows, k] = (key[rows] >> (s.bits * k)) & mask
    return out.astype(np.float64), ok


@dataclass
class Group:
    key: tuple  # the --by values (strings)
    scale: Scale
    aggregates: Aggregates


def collect(plan: Plan, run, *, need_profiles: bool, need_icc2: bool, check_duplicates: bool = True) -> list[Group]:
    """Run the plan's queries with ``run(expr) -> DataFrame`` and assemble each group's
    :class:`Aggregates`. Raises :class:`InputError` for bad input found on the way."""
    summary = run(plan.summary())
    _check(plan, run, summary)
    raters = summary[_ints(summary["cal_raters"]) > 0]
    if check_duplicates:
        d = run(plan.duplicates())
        if len(d):
            ex = [tuple(r) for r in d[[*plan.groups, UNIT, RATER]].itertuples(index=False)]
            raise InputError(
                f"some raters judged the same case more than once within a group "
                f"({', '.join(plan.by) or 'the whole table'}; case, rater), e.g. {ex}.",
                hint="Keep one judgement per case and rater (the latest save), or group finer with --by "
                     "(e.g. session,item).",
            )
    pat = run(plan.patterns())
    scale_of = {s.code: s for s in plan.scales}
    counts, ok = _decode(plan, pat, scale_of)
    rated = counts.sum(axis=1) > 0  # units of missing ratings only are no units
    pat, counts = pat[rated].reset_index(drop=True), counts[rated]
    if not ok:  # a unit with 2**bits ratings in one category: count columns instead
        wide = Plan(plan.table, plan.by, plan.units, plan.raters, plan.values, plan.kind, plan.scales, wide=True)
        return collect(wide, run, need_profiles=need_profiles, need_icc2=need_icc2, check_duplicates=False)
    gids = _group_ids(plan, pat)
    mixed = gids.duplicated(plan.groups, keep=False) if plan.groups else None
    if mixed is not None and mixed.any():
        bad = gids.loc[mixed].iloc[0]
        kinds = sorted(scale_of[int(c)].name for c in gids.loc[(gids[plan.groups] == bad[plan.groups]).all(axis=1), SCALE])
        raise InputError(
            f"the group {dict(zip(plan.by, bad[plan.groups]))} mixes kinds {kinds}: each group needs one scale.",
            hint="Add item (or kind) to --by.",
        )
    pat = _by_gid(pat.assign(cal_row=np.arange(len(pat))), gids, plan)
    n_raters = _by_gid(raters, gids, plan)
    n_raters = dict(zip(n_raters["cal_gid"].to_numpy(), _ints(n_raters["cal_raters"])))
    tables = {}
    if need_icc2:
        tables = _rater_tables(plan, pat, gids, run)
    if need_profiles and n_raters:
        prof = _by_gid(run(plan.profiles(max(n_raters.values()))), gids, plan)
        tables["profiles"] = prof
    spans = {name: _spans(t) for name, t in tables.items()}
    pspan = _spans(pat)
    groups = []
    for gid, row in enumerate(gids.itertuples(index=False)):
        scale = scale_of[int(getattr(row, SCALE))]
        g = pat.iloc[pspan[gid]]
        P = counts[g["cal_row"].to_numpy(), : scale.q]
        agg = Aggregates(scale, P, _ints(g[CNT]).astype(np.float64), int(n_raters[gid]))
        part = {name: t.iloc[spans[name].get(gid, slice(0, 0))] for name, t in tables.items()}
        if "classif" in part:
            cl = part["classif"]
            classif = np.zeros((int(cl["cal_gl"].max()) + 1 if len(cl) else 0, scale.q))
            np.add.at(classif, (cl["cal_gl"].to_numpy(), _ints(cl[POS]) - 1), _ints(cl[CNT]).astype(np.float64))
            agg.classif = classif
            rp = part["rater_pattern"]
            agg.rater_pattern = (rp["cal_gl"].to_numpy(), _ints(rp[POS]) - 1, rp["cal_p"].to_numpy(),
                                 _ints(rp[CNT]).astype(np.float64))
            pk = part["pairs_k"]
            agg.pairs_k = (pk["cal_gla"].to_numpy(), pk["cal_glb"].to_numpy(), _ints(pk["cal_k"]).astype(np.float64),
                           _ints(pk[CNT]).astype(np.float64))
        if "profiles" in part:
            agg.profiles = _profiles(plan, part["profiles"], agg.n_raters)
        groups.append(Group(tuple(getattr(row, c) for c in plan.groups), scale, agg))
    return groups


def _keys_plain(df: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Group keys in one form whatever the backend returned: text and int64."""
    out = df.copy()
    for c in plan.groups:
        out[c] = out[c].astype(object).map(lambda v: None if v is None or v is pd.NA else str(v))
    out[SCALE] = _ints(out[SCALE])
    return out


def _group_ids(plan: Plan, pat: pd.DataFrame) -> pd.DataFrame:
    """The groups (and scales) present, sorted by their keys as text; ``cal_gid`` = row."""
    g = _keys_plain(pat[plan.keys], plan).drop_duplicates()
    g = g.sort_values(plan.keys, kind="stable", key=lambda s: s.astype(str) if s.dtype == object else s)
    return g.reset_index(drop=True).assign(cal_gid=lambda d: np.arange(len(d)))


def _by_gid(df: pd.DataFrame, gids: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``df`` with each row's group id, sorted by it (rows of unknown groups dropped)."""
    out = _keys_plain(df, plan).merge(gids, on=plan.keys, how="inner", validate="many_to_one")
    return out.sort_values("cal_gid", kind="stable").reset_index(drop=True)


def _spans(df: pd.DataFrame) -> dict[int, slice]:
    """Group id -> the slice of its rows (``df`` sorted by ``cal_gid``)."""
    gid = df["cal_gid"].to_numpy()
    if not len(gid):
        return {}
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    ends = np.r_[starts[1:], len(gid)]
    return {int(gid[a]): slice(int(a), int(b)) for a, b in zip(starts, ends)}


def _rater_tables(plan: Plan, pat: pd.DataFrame, gids: pd.DataFrame, run) -> dict[str, pd.DataFrame]:
    """The two-way ICC's tables with local indices: raters 0..r-1 in sorted order within
    the group (``cal_gl``), patterns as rows of the group's P (``cal_p``)."""
    cl = _by_gid(run(plan.classif()), gids, plan)
    cl[RATER] = cl[RATER].astype(str)
    ids = cl[["cal_gid", RATER]].drop_duplicates().sort_values(["cal_gid", RATER]).reset_index(drop=True)
    first = ids.groupby("cal_gid").cumcount().to_numpy()
    ids = ids.assign(cal_gl=first)
    cl = cl.merge(ids, on=["cal_gid", RATER])
    pcols = plan.pattern_columns()
    pid = pd.DataFrame({c: _ints(pat[c]) for c in pcols}).assign(
        cal_gid=pat["cal_gid"].to_numpy(), cal_p=pat.groupby("cal_gid").cumcount().to_numpy())
    rp = _by_gid(run(plan.rater_pattern()), gids, plan)
    rp[RATER] = rp[RATER].astype(str)
    for c in pcols:
        rp[c] = _ints(rp[c])
    rp = rp.merge(ids, on=["cal_gid", RATER]).merge(pid, on=["cal_gid", *pcols], how="left", validate="many_to_one")
    pk = _by_gid(run(plan.pairs_k()), gids, plan)
    for side in ("a", "b"):
        pk[f"cal_g{side}"] = pk[f"cal_g{side}"].astype(str)
        pk = pk.merge(ids.rename(columns={RATER: f"cal_g{side}", "cal_gl": f"cal_gl{side}"}), on=["cal_gid", f"cal_g{side}"])
    return {name: t.sort_values("cal_gid", kind="stable").reset_index(drop=True)
            for name, t in (("classif", cl), ("rater_pattern", rp), ("pairs_k", pk))}


def _profiles(plan: Plan, prof: pd.DataFrame, n_raters: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode the profile keys: (profiles x raters codes, -1 = not rated; units each)."""
    base, per = plan.profile_base()
    M = np.full((len(prof), n_raters), -1, dtype=np.int64)
    for j in range(n_raters):
        key = _ints(prof[f"cal_b{j // per}"])
        M[:, j] = (key // base ** (j % per)) % base - 1
    return M, _ints(prof[CNT]).astype(np.float64)


def _check(plan: Plan, run, summary: pd.DataFrame) -> None:
    off = int(_ints(summary["cal_off"].fillna(0)).sum())
    no_id = int(_ints(summary["cal_no_id"].fillna(0)).sum())
    if off:
        ex = run(plan.off_examples())
        bad: dict = {}
        for kind, value in ex.itertuples(index=False):
            bad.setdefault(kind if plan.kind else "categories", []).append(None if pd.isna(value) else str(value))
        known = {s.name: list(s.categories) for s in plan.scales}
        if plan.kind:
            unknown = sorted(str(k) for k in bad if k not in known)
            if unknown:
                raise InputError(
                    f"column {plan.kind!r} holds unknown kind(s) {unknown}; allowed are {list(known)}.",
                    hint="See CONTRACTS §1 for the kinds and their codes.",
                )
            raise InputError(
                f"column {plan.values!r} holds {off} value(s) outside the scale of their kind: "
                f"{ {k: sorted(map(str, v))[:10] for k, v in bad.items()} }.",
                hint="Codes per kind are listed in CONTRACTS §1; n.v.t. or an empty value means not rated.",
            )
        raise InputError(
            f"column {plan.values!r} holds {off} value(s) outside 'categories' "
            f"{list(plan.scales[0].categories)!r}: {sorted(map(str, bad.get('categories', [])))[:10]}.",
            hint="Add them to 'categories' or correct the data.",
        )
    if no_id:
        counts = run(plan.no_id_examples()).iloc[0]
        names = dict(zip([*plan.groups, UNIT, RATER], [*plan.by, plan.units, plan.raters]))
        cols = [names[c] for c in counts.index if int(counts[c] or 0) > 0]
        raise InputError(
            f"{no_id} rating(s) have no {' / '.join(repr(c) for c in cols)}.",
            hint="Every judgement needs a case and a rater id, and a value in each --by column.",
        )
