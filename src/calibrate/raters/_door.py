"""The door of the rater models: the long score table (CONTRACTS §1) coded into arrays.

Owns :class:`Judgements` and :func:`code_judgements`: the rater models' arrays, read from
the one decoded table :class:`calibrate.scores.CodedScores` (the text is decoded there, once;
a ``CodedScores`` from the store's reader is used as it is). What is left here is the
models' own view: only rows with a value, each item's scale (``categories``, framework or
contract codes), positions on it, and the errors that name the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate.errors import InputError
from calibrate.schema import CODES
from calibrate.scores import OFF_SCALE, CodedScores

__all__ = ["Judgements", "code_judgements"]

_REQUIRED = ("session", "case", "rater", "item", "kind", "value")


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


def _unique(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of codes in ``0..size-1``: by a presence
    table when ``size`` is not much larger than the data (no sort), else by sorting."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and size <= 4 * values.size + 1024 and values.min() >= 0:
        seen = np.zeros(size, dtype=bool)
        seen[values] = True
        uniq = np.flatnonzero(seen)
        rank = np.cumsum(seen) - 1
        return uniq, rank[values]
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1)


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
    """Code the score table for the rater models, from the one decoded table.

    ``scores`` is the long score table (CONTRACTS §1) or a
    :class:`~calibrate.scores.CodedScores` (used as it is: the text is not decoded again).
    Missing values (NA, empty, ``n.v.t.``) are dropped. Each item's codes come from
    ``categories`` (by item id or kind), else the framework's item, else the kind's codes
    (CONTRACTS §1). A value outside its item's codes, an item with two kinds, or two
    judgements of the same (session, case, rater, item) raise :class:`InputError`.
    """
    if isinstance(scores, CodedScores):
        coded = scores
        if not coded.with_rater:
            raise InputError(f"The score table given to {func} has no rater column (a consensus table?).",
                             hint="Pass the assessors' judgements (store.scores()).")
    else:
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
        coded = CodedScores.code(scores[list(_REQUIRED)], func=func)
    f = coded.frame
    item_cat = np.asarray(f["item"].cat.categories, dtype=object)
    kind_cat = np.asarray(f["kind"].cat.categories, dtype=object)
    ic, kc = coded.codes("item"), coded.codes("kind")
    keep = (ic >= 0) & (kc >= 0)
    for c in ("session", "case", "rater"):
        keep &= coded.codes(c) >= 0
    if kinds is not None:
        keep &= np.isin(np.append(kind_cat, None), list(set(kinds)))[np.where(kc >= 0, kc, len(kind_cat))]
    if items is not None:
        keep &= np.isin(np.append(item_cat, None), list(set(items)))[np.where(ic >= 0, ic, len(item_cat))]
    pos = f["position"].to_numpy()
    keep &= (pos >= 0) | (pos == OFF_SCALE)  # empty and n.v.t. are missing
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise InputError(
            f"{func}: the score table has no judgements to model"
            + (f" of kind {', '.join(sorted(set(kinds)))}" if kinds is not None else "") + ".",
            hint="Check the kinds= and items= arguments and that values are filled in.",
        )

    # items present, sorted by id (the categories are), and their one kind
    it_codes, item_code = _unique(ic[rows], len(item_cat))
    n_k = len(kind_cat)
    ik = _unique(item_code * n_k + kc[rows], len(it_codes) * n_k)[0]
    pair = pd.DataFrame({"i": ik // n_k, "k": ik % n_k})
    if pair["i"].duplicated().any():
        pair = pd.DataFrame({"i": item_code, "k": kc[rows]}).drop_duplicates()  # named in order of appearance
        bad = int(pair.loc[pair["i"].duplicated(), "i"].iloc[0])
        found = sorted(kind_cat[pair.loc[pair["i"] == bad, "k"]])
        raise InputError(
            f"{func}: item {item_cat[it_codes[bad]]!r} has more than one kind ({', '.join(found)}).",
            hint="An item has one kind; fix the kind column for this item.",
        )
    kind_of = np.empty(len(it_codes), dtype=object)
    kind_of[pair["i"].to_numpy()] = kind_cat[pair["k"].to_numpy()]
    item_ids = item_cat[it_codes]
    codes_of = [_codes_of(str(i), str(k), framework, categories) for i, k in zip(item_ids, kind_of)]

    # positions on these scales: one lookup per (item, distinct value)
    val_cat = list(f["value"].cat.categories)
    vc = coded.codes("value")[rows]
    table = np.full((len(item_ids), len(val_cat) + 1), -1, dtype=np.int64)
    for i, codes in enumerate(codes_of):
        where = {c: k for k, c in enumerate(codes)}
        for j, lab in enumerate(val_cat):
            table[i, j] = where.get(str(lab), -1)
    value = table[item_code, np.where(vc >= 0, vc, len(val_cat))]
    sess_cat = np.asarray(f["session"].cat.categories, dtype=object)
    case_cat = np.asarray(f["case"].cat.categories, dtype=object)
    rater_cat = np.asarray(f["rater"].cat.categories, dtype=object)
    s_all, c_all, r_all = coded.codes("session")[rows], coded.codes("case")[rows], coded.codes("rater")[rows]
    if (value < 0).any():
        bad = np.flatnonzero(value < 0)
        shown = [
            f"{item_ids[item_code[b]]} = {val_cat[vc[b]]!r} (row {int(rows[b]) + 2}, session "
            f"{sess_cat[s_all[b]]}, case {case_cat[c_all[b]]})"
            for b in bad[:5]
        ]
        codes = codes_of[item_code[bad[0]]]
        raise InputError(
            f"{func}: {bad.size} value(s) outside their item's scale: {'; '.join(shown)}.",
            hint=f"Allowed for {item_ids[item_code[bad[0]]]}: {', '.join(map(repr, codes))}; "
            "n.v.t. or empty counts as missing.",
        )

    # session-cases (sessions in order of appearance), cases and raters present, sorted by id
    c_codes, case = _unique(c_all, len(case_cat))
    case_labels = case_cat[c_codes]
    s_new, s_uni = pd.factorize(s_all)
    sess_labels = sess_cat[s_uni]
    sc_key = s_new.astype(np.int64) * len(case_labels) + case
    sc_uni, sc = _unique(sc_key, (int(s_new.max()) + 1) * len(case_labels) if len(s_new) else 0)
    session_cases = pd.DataFrame(
        {"session": sess_labels[sc_uni // len(case_labels)], "case": case_labels[sc_uni % len(case_labels)]}
    ).astype("string")
    r_codes, rater = _unique(r_all, len(rater_cat))
    rater_labels = rater_cat[r_codes]

    # one judgement per (session, case, rater, item)
    key = (sc.astype(np.int64) * len(rater_labels) + rater) * len(item_ids) + item_code
    size = len(sc_uni) * len(rater_labels) * len(item_ids)
    if size <= 4 * key.size + 1024:
        repeated = bool((np.bincount(key, minlength=size) > 1).any())
    else:
        repeated = bool((np.unique(key, return_counts=True)[1] > 1).any())
    if repeated:
        uniq, counts = np.unique(key, return_counts=True)
        dup = uniq[counts > 1][:3]
        shown = []
        for d in dup:
            idx = np.flatnonzero(key == d)
            b = idx[0]
            shown.append(
                f"session {session_cases.at[int(sc[b]), 'session']}, case {session_cases.at[int(sc[b]), 'case']}, "
                f"rater {rater_labels[rater[b]]}, item {item_ids[item_code[b]]} (rows {', '.join(str(int(rows[i]) + 2) for i in idx[:4])})"
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
