"""The door of the rater models: the long score table (CONTRACTS §1) coded into arrays.

Owns :class:`Judgements` and :func:`code_judgements`, the one place where the rater models
turn strings into integer codes (so it can switch to a decoded ``CodedScores`` table later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.schema import CODES, NOT_APPLICABLE

__all__ = ["Judgements", "code_judgements"]

_REQUIRED = ("session", "case", "rater", "item", "kind", "value")
_MISSING = ("", NOT_APPLICABLE)


@dataclass(frozen=True, eq=False)
class Judgements:
    """Coded judgements: one entry per non-missing judgement.

    ``sc`` (a session-case), ``case``, ``rater`` and ``item`` are integer codes into
    :attr:`session_cases`, :attr:`cases`, :attr:`raters` and :attr:`items`; ``value`` is
    the position (0 = lowest) of the judgement's code in its item's ``codes``.
    """

    sc: np.ndarray
    case: np.ndarray
    rater: np.ndarray
    item: np.ndarray
    value: np.ndarray
    session_cases: pd.DataFrame  # one row per sc: session, case
    cases: pd.Index
    raters: pd.Index
    items: pd.DataFrame  # one row per item: item, kind, codes (tuple, lowest first)

    @property
    def n(self) -> int:
        return int(self.value.size)

    def item_kind(self) -> np.ndarray:
        """The kind of each judgement's item (object array)."""
        return self.items["kind"].to_numpy(dtype=object)[self.item]

    def subset(self, mask: np.ndarray) -> "Judgements":
        """The judgements where ``mask`` holds, with the same code tables."""
        return Judgements(
            self.sc[mask], self.case[mask], self.rater[mask], self.item[mask], self.value[mask],
            self.session_cases, self.cases, self.raters, self.items,
        )


def _clean_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorize, then strip the (few) distinct strings: codes with -1 for missing, labels."""
    values = series.to_numpy(dtype=object) if not isinstance(series.dtype, pd.CategoricalDtype) else series
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # object arrays factorize ~3x faster
    labels = np.array([str(u).strip() for u in uniques], dtype=object)
    merged, labels2 = pd.factorize(labels)
    codes = np.where(codes >= 0, merged[np.maximum(codes, 0)] if len(merged) else -1, -1)
    return codes.astype(np.int64), np.asarray(labels2, dtype=object)


def _codes_of(item: str, kind: str, framework: Any, categories: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    if categories is not None:
        if item in categories:
            return tuple(map(str, categories[item]))
        if kind in categories:
            return tuple(map(str, categories[kind]))
    if framework is not None:
        try:
            return tuple(framework.item(item).codes)
        except InputError:
            pass
    if kind not in CODES:
        raise InputError(
            f"Item {item!r} has kind {kind!r}, which has no codes.",
            hint=f"Kinds are {', '.join(CODES)} (CONTRACTS §1), or pass categories={{item: [...]}}.",
        )
    return tuple(CODES[kind])


def code_judgements(
    scores: Any,
    *,
    func: str,
    kinds: Iterable[str] | None = None,
    items: Iterable[str] | None = None,
    framework: Any = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> Judgements:
    """Code the long score table for the rater models.

    Missing values (NA, empty, ``n.v.t.``) are dropped. Each item's codes come from
    ``categories`` (by item id or kind), else the framework's item, else the kind's codes
    (CONTRACTS §1). A value outside its item's codes, an item with two kinds, or two
    judgements of the same (session, case, rater, item) raise :class:`InputError`.
    """
    if not isinstance(scores, pd.DataFrame):
        raise InputError(
            f"The 'scores' parameter of {func} must be a DataFrame (the score table), got {type(scores).__name__}.",
            hint="Pass store.scores() or a table with the columns of CONTRACTS §1.",
        )
    missing = [c for c in _REQUIRED if c not in scores.columns]
    if missing:
        raise InputError(
            f"The score table given to {func} lacks the column(s) {', '.join(map(repr, missing))}.",
            hint=f"It needs at least {', '.join(_REQUIRED)} (CONTRACTS §1).",
        )
    row_of = np.arange(len(scores))  # spreadsheet row = row_of[i] + 2 (header is row 1)
    if kinds is not None or items is not None:  # drop other rows before coding the strings
        pre = np.ones(len(scores), bool)
        for col, wanted in (("kind", kinds), ("item", items)):
            if wanted is not None:
                code, lab = _clean_codes(scores[col])
                pre &= np.isin(lab, list(set(wanted)))[np.maximum(code, 0)] & (code >= 0)
        if not pre.all():
            scores = scores.loc[pre, list(_REQUIRED)]
            row_of = np.flatnonzero(pre)
    cols = {c: _clean_codes(scores[c]) for c in _REQUIRED}
    vcode, vlab = cols["value"]
    bad_value = np.isin(vlab, _MISSING)
    keep = vcode >= 0
    if bad_value.any():
        keep &= ~bad_value[np.maximum(vcode, 0)]
    for c in ("session", "case", "rater", "item", "kind"):
        code, lab = cols[c]
        keep &= code >= 0
        if (lab == "").any():
            keep &= lab[np.maximum(code, 0)] != ""
    icode, ilab = cols["item"]
    kcode, klab = cols["kind"]
    if kinds is not None:
        wanted = set(kinds)
        keep &= np.isin(klab, list(wanted))[np.maximum(kcode, 0)]
    if items is not None:
        wanted_items = set(items)
        keep &= np.isin(ilab, list(wanted_items))[np.maximum(icode, 0)]
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise InputError(
            f"{func}: the score table has no judgements to model"
            + (f" of kind {', '.join(sorted(set(kinds)))}" if kinds is not None else "") + ".",
            hint="Check the kinds= and items= arguments and that values are filled in.",
        )

    # items and their one kind
    it_raw, kd_raw = icode[rows], kcode[rows]
    it_new, it_uni = pd.factorize(it_raw)
    pair = pd.DataFrame({"i": it_new, "k": kd_raw}).drop_duplicates()
    if pair["i"].duplicated().any():
        bad = int(pair.loc[pair["i"].duplicated(), "i"].iloc[0])
        found = sorted(klab[pair.loc[pair["i"] == bad, "k"]])
        raise InputError(
            f"{func}: item {ilab[it_uni[bad]]!r} has more than one kind ({', '.join(found)}).",
            hint="An item has one kind; fix the kind column for this item.",
        )
    kind_of = np.empty(len(it_uni), dtype=object)
    kind_of[pair["i"].to_numpy()] = klab[pair["k"].to_numpy()]
    item_ids = ilab[it_uni]
    order = np.argsort(item_ids.astype(str), kind="stable")  # items sorted by id
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    item_code = rank[it_new]
    item_ids, kind_of = item_ids[order], kind_of[order]
    codes_of = [_codes_of(str(i), str(k), framework, categories) for i, k in zip(item_ids, kind_of)]

    # values: a lookup table item x distinct value -> position, -1 outside the scale
    v_raw = vcode[rows]
    v_new, v_uni = pd.factorize(v_raw)
    v_labels = vlab[v_uni]
    table = np.full((len(item_ids), len(v_labels)), -1, dtype=np.int64)
    for i, codes in enumerate(codes_of):
        pos = {c: p for p, c in enumerate(codes)}
        for j, lab in enumerate(v_labels):
            table[i, j] = pos.get(str(lab), -1)
    value = table[item_code, v_new]
    if (value < 0).any():
        bad = np.flatnonzero(value < 0)
        shown = []
        for b in bad[:5]:
            r = rows[b]
            shown.append(
                f"{item_ids[item_code[b]]} = {v_labels[v_new[b]]!r} (row {int(row_of[r]) + 2}, session "
                f"{cols['session'][1][cols['session'][0][r]]}, case {cols['case'][1][cols['case'][0][r]]})"
            )
        codes = codes_of[item_code[bad[0]]]
        raise InputError(
            f"{func}: {bad.size} value(s) outside their item's scale: {'; '.join(shown)}.",
            hint=f"Allowed for {item_ids[item_code[bad[0]]]}: {', '.join(map(repr, codes))}; "
            "n.v.t. or empty counts as missing.",
        )

    # session-cases, cases, raters
    s_raw, c_raw, r_raw = cols["session"][0][rows], cols["case"][0][rows], cols["rater"][0][rows]
    c_new, c_uni = pd.factorize(c_raw, sort=False)
    case_labels = cols["case"][1][c_uni]
    c_order = np.argsort(case_labels.astype(str), kind="stable")
    c_rank = np.empty_like(c_order)
    c_rank[c_order] = np.arange(c_order.size)
    case = c_rank[c_new]
    case_labels = case_labels[c_order]
    s_new, s_uni = pd.factorize(s_raw)
    sess_labels = cols["session"][1][s_uni]
    sc_key = s_new.astype(np.int64) * len(case_labels) + case
    sc_uni, sc = np.unique(sc_key, return_inverse=True)
    session_cases = pd.DataFrame(
        {"session": sess_labels[sc_uni // len(case_labels)], "case": case_labels[sc_uni % len(case_labels)]}
    ).astype("string")
    r_new, r_uni = pd.factorize(r_raw)
    rater_labels = cols["rater"][1][r_uni]
    r_order = np.argsort(rater_labels.astype(str), kind="stable")
    r_rank = np.empty_like(r_order)
    r_rank[r_order] = np.arange(r_order.size)
    rater = r_rank[r_new]
    rater_labels = rater_labels[r_order]

    # one judgement per (session, case, rater, item)
    key = (sc.astype(np.int64) * len(rater_labels) + rater) * len(item_ids) + item_code
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = uniq[counts > 1][:3]
        shown = []
        for d in dup:
            idx = np.flatnonzero(key == d)
            b = idx[0]
            shown.append(
                f"session {session_cases.at[int(sc[b]), 'session']}, case {session_cases.at[int(sc[b]), 'case']}, "
                f"rater {rater_labels[rater[b]]}, item {item_ids[item_code[b]]} (rows {', '.join(str(int(row_of[rows[i]]) + 2) for i in idx[:4])})"
            )
        raise InputError(
            f"{func}: {int((counts > 1).sum())} (session, case, rater, item) judged more than once: {'; '.join(shown)}.",
            hint="Pass the current judgements (store.scores()), one row per rater and item.",
        )
    items_df = pd.DataFrame({"item": item_ids.astype(str), "kind": kind_of.astype(str), "codes": codes_of})
    return Judgements(
        sc=sc.astype(np.int64), case=case.astype(np.int64), rater=rater.astype(np.int64),
        item=item_code.astype(np.int64), value=value.astype(np.int64),
        session_cases=session_cases, cases=pd.Index(case_labels.astype(str), name="case"),
        raters=pd.Index(rater_labels.astype(str), name="rater"), items=items_df,
    )
