"""The score table decoded once: :class:`CodedScores`.

The long score table of CONTRACTS §1 is text: every row repeats its session, case,
rater and item id and its value code. Every analysis needs the same thing from it —
integer codes for who judged what, and each value's position on its item's own scale —
so the table is decoded once, here, and handed on in that form:

* the store's reader (:mod:`calibrate.store.reader`) builds it straight from the
  database's columns (Arrow dictionaries, no per-row Python);
* every public analysis function still takes the plain long DataFrame and codes it once
  at its door with :meth:`CodedScores.code` (a ``CodedScores`` passes straight through).

What it holds: ``frame`` — one row per judgement, categorical ``session`` (categories in
time order: by date, then id), ``case``, ``rater`` (absent in a consensus table),
``item`` (categories sorted), ``kind``, ``value`` and the int8 ``position`` of the value on
its item's scale (``NO_VALUE``, ``NOT_APPLICABLE_POSITION`` or ``OFF_SCALE`` when it has
none), with ``note`` and ``scored_at`` when they were read; ``items`` — one row per item
category with its ``kind``, ordered ``codes`` and the framework's hierarchy as columns
(``outcome``, ``dimension``; for items no framework describes, the id grammar of
:mod:`calibrate.schema`); ``session_dates`` — the date of each session category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .schema import CODES, KINDS, NOT_APPLICABLE, SCORE_COLUMNS, CONSENSUS_COLUMNS, item_hierarchy

#: ``position`` of a judgement without a value (empty cell).
NO_VALUE = -1
#: ``position`` of ``n.v.t.`` (not applicable: missing to every analysis).
NOT_APPLICABLE_POSITION = -2
#: ``position`` of a value that is not on its item's scale (each analysis says so its own way).
OFF_SCALE = -3

_KEYS = ("session", "case", "rater", "item")


def _categorical(codes: np.ndarray, labels: Sequence, *, ordered: bool = False) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=pd.Index(list(labels), dtype=object), ordered=ordered)


def _text_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and labels of a column read as stripped text; the
    distinct values are stripped once, and labels that become equal share one code."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int64)
        uniques = np.asarray(col.cat.categories, dtype=object)
    else:
        codes, uniques = pd.factorize(col.astype(object), use_na_sentinel=True)
        codes = codes.astype(np.int64)
    labels = np.array([None if u is None or (not isinstance(u, str) and pd.isna(u)) else str(u).strip() for u in uniques],
                      dtype=object)
    labels = np.where(labels == "", None, labels)
    present = np.array([x is not None for x in labels], dtype=bool)
    lcodes, luniq = pd.factorize(labels[present], sort=False) if present.any() else (np.zeros(0, np.int64), np.array([], object))
    lut = np.full(len(labels) + 1, -1, dtype=np.int64)
    lut[np.flatnonzero(present)] = lcodes
    return lut[codes], np.asarray(luniq, dtype=object)


def _sorted_codes(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list]:
    """Recode so that the labels are sorted (as text); -1 stays -1."""
    order = np.argsort(np.array([str(x) for x in labels], dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), [labels[i] for i in order]


def _text(labels: np.ndarray, codes: np.ndarray):
    """A string array of ``labels[codes]`` (the last label is None: missing), built by
    Arrow from the dictionary, not element by element."""
    import pyarrow as pa

    dictionary = pa.array(list(labels[:-1]), type=pa.large_string())
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=np.asarray(codes) >= len(labels) - 1)
    return pd.arrays.ArrowStringArray(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()))


def session_time_order(labels: Sequence[str], dates: Sequence[Any]) -> np.ndarray:
    """Positions of ``labels`` in time order: by date (unparsable or missing dates last),
    then by id."""
    d = pd.to_datetime(pd.Series([None if x is None else str(x) for x in dates], dtype=object), errors="coerce")
    order = pd.DataFrame({"d": d, "s": [str(x) for x in labels]}).sort_values(["d", "s"], kind="stable")
    return order.index.to_numpy()


def item_table(item_ids: Sequence[str], kinds: Sequence[str | None], *, framework=None,
               scales: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """One row per item: ``kind``, ordered ``codes`` (``scales`` first, then the
    framework's item, then the contract codes of the kind), ``steps`` (codes - 1, at least
    1), and the hierarchy ``outcome``, ``dimension`` (the framework's, else the id
    grammar's), ``known`` (the framework describes the item)."""
    fw_items = {}
    if framework is not None and not isinstance(framework, Mapping):
        fw_items = {it.id: it for it in framework.items()}
    elif isinstance(framework, Mapping) and scales is None:
        scales = framework
    rows = []
    for item, kind in zip(item_ids, kinds):
        it = fw_items.get(item)
        if scales is not None and item in scales:
            codes = tuple(scales[item])
        elif it is not None:
            codes = tuple(it.codes)
        else:
            codes = CODES.get(kind, ()) if kind is not None else ()
        if it is not None:
            dim, out = it.dimension_id, it.outcome_id
            if kind is None:
                kind = it.kind
        else:
            dim, out = item_hierarchy(item)
        rows.append({"item": item, "kind": kind, "codes": codes, "steps": float(max(len(codes) - 1, 1)),
                     "outcome": out, "dimension": dim, "known": it is not None})
    out = pd.DataFrame(rows, columns=["item", "kind", "codes", "steps", "outcome", "dimension", "known"])
    for c in ("kind", "outcome", "dimension"):  # None stays None (not NaN): these are labels
        out[c] = pd.Series([r[c] for r in rows], dtype=object, index=out.index)
    return out


def positions(item_codes: np.ndarray, value_codes: np.ndarray, value_labels: Sequence[str],
              items: pd.DataFrame) -> np.ndarray:
    """The position of each value on its item's scale (int8), from one lookup table of
    items x distinct values."""
    lut = np.full((max(len(items), 1), len(value_labels) + 1), NO_VALUE, dtype=np.int8)
    for i, codes in enumerate(items["codes"]):
        pos = {c: k for k, c in enumerate(codes)}
        for j, v in enumerate(value_labels):
            lut[i, j] = pos.get(v, NOT_APPLICABLE_POSITION if v == NOT_APPLICABLE else OFF_SCALE)
    out = lut[np.maximum(item_codes, 0), value_codes]  # value code -1 reads the last column
    return np.where(item_codes >= 0, out, NO_VALUE).astype(np.int8)


@dataclass(frozen=True, eq=False)
class CodedScores:
    """The score (or consensus) table as codes; see the module docstring."""

    frame: pd.DataFrame
    items: pd.DataFrame
    session_dates: tuple

    # ------------------------------------------------------------------ making
    @classmethod
    def code(cls, scores: Any, *, framework=None, scales=None, required: Sequence[str] = ("session", "case", "item", "value"),
             what: str = "scores", func: str | None = None) -> "CodedScores":
        """The door: code a long score table (or pass a ``CodedScores`` through).

        ``framework`` (a Framework) gives the items' scales and hierarchy; ``scales`` (a
        mapping item -> ordered codes, or a Framework) overrides the scales. Text is
        stripped, empty cells are missing. Raises :class:`InputError` when ``scores`` is
        not a DataFrame or lacks a ``required`` column; values off their scale are coded
        ``OFF_SCALE`` for the caller to report.
        """
        if isinstance(scores, CodedScores):
            return scores if scales is None else scores.with_scales(scales)
        if not isinstance(scores, pd.DataFrame):
            name = func or "this function"
            raise InputError(f"The {what!r} parameter of {name} must be a DataFrame (the score table), got {type(scores).__name__}.",
                             hint="Pass store.scores() or a table with the columns of CONTRACTS §1.")
        missing = [c for c in required if c not in scores.columns]
        if missing:
            raise InputError(
                f"{what} lacks the column(s) {', '.join(map(repr, missing))} (found: {', '.join(map(str, scores.columns))}).",
                hint="Pass the long score table of CONTRACTS §1 (store.scores()).",
            )
        if framework is not None and isinstance(framework, Mapping):
            scales, framework = framework, None
        elif scales is not None and not isinstance(scales, Mapping):
            framework, scales = (scales if framework is None else framework), {i.id: tuple(i.codes) for i in scales.items()}
        cols: dict[str, pd.Categorical] = {}
        codes: dict[str, np.ndarray] = {}
        labels: dict[str, list] = {}
        for c in _KEYS + ("kind", "value"):
            if c in scores.columns:
                cc, ll = _text_codes(scores[c])
                if c in ("case", "rater", "item"):
                    cc, ll = _sorted_codes(cc, ll)
                codes[c], labels[c] = cc, list(ll)
        # sessions in time order
        if "session" in codes:
            sc, sl = codes["session"], labels["session"]
            sdates: list = [None] * len(sl)
            if "session_date" in scores.columns and len(sl):
                first = pd.Series(np.arange(len(sc))).groupby(sc).first()
                first = first[first.index >= 0]
                raw = scores["session_date"].to_numpy(dtype=object)
                for s, row in first.items():
                    v = raw[row]
                    sdates[int(s)] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip()
            order = session_time_order(sl, sdates) if len(sl) else np.zeros(0, dtype=np.int64)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes["session"] = np.where(sc >= 0, rank[np.maximum(sc, 0)], -1)
            labels["session"] = [sl[i] for i in order]
            session_dates = tuple(sdates[i] for i in order)
        else:
            session_dates = ()
        # items: kind of the item's first row with a kind
        ic = codes["item"]
        il = labels["item"]
        item_kinds: list[str | None] = [None] * len(il)
        if "kind" in codes:
            kc, kl = codes["kind"], labels["kind"]
            ok = (ic >= 0) & (kc >= 0)
            firsts = pd.Series(kc[ok]).groupby(ic[ok]).first()
            for i, k in firsts.items():
                item_kinds[int(i)] = kl[int(k)]
        items = item_table(il, item_kinds, framework=framework, scales=scales)
        for c in _KEYS:
            if c in codes:
                cols[c] = _categorical(codes[c], labels[c], ordered=(c == "session"))
        if "kind" in codes:
            kl = labels["kind"]
            extra = sorted(set(kl) - set(KINDS))
            cats = list(KINDS) + extra
            remap = np.array([cats.index(k) for k in kl], dtype=np.int64)
            cols["kind"] = _categorical(np.where(codes["kind"] >= 0, remap[np.maximum(codes["kind"], 0)] if len(kl) else -1, -1), cats)
        else:
            cats = list(KINDS) + sorted({k for k in items["kind"] if k is not None} - set(KINDS))
            per_item = np.array([cats.index(k) if k is not None else -1 for k in items["kind"]] + [-1], dtype=np.int64)
            cols["kind"] = _categorical(per_item[np.where(ic >= 0, ic, len(items))], cats)
        vc, vl = codes["value"], labels["value"]
        cols["value"] = _categorical(vc, vl)
        frame = pd.DataFrame(cols, index=scores.index)
        frame["position"] = positions(ic, vc, vl, items)
        for c in ("note", "scored_at"):
            if c in scores.columns:
                frame[c] = scores[c].astype("string")
        order = [c for c in ("session", "case", "rater", "item", "kind", "value", "position", "note", "scored_at") if c in frame]
        return cls(frame[order], items, session_dates)

    def with_scales(self, scales) -> "CodedScores":
        """The same table with the items' scales taken from ``scales`` (a mapping item ->
        codes, or a Framework), positions recomputed per distinct value."""
        framework = None if isinstance(scales, Mapping) else scales
        mapping = scales if isinstance(scales, Mapping) else None
        items = item_table(list(self.items["item"]), list(self.items["kind"]), framework=framework, scales=mapping)
        # keep the kinds the table had
        items["kind"] = self.items["kind"].to_numpy()
        if [tuple(c) for c in items["codes"]] == [tuple(c) for c in self.items["codes"]]:
            return CodedScores(self.frame, items, self.session_dates)  # the same scales: the same positions
        frame = self.frame.copy(deep=False)  # a new position column on the same code arrays
        vals = frame["value"].cat
        frame["position"] = positions(frame["item"].cat.codes.to_numpy().astype(np.int64),
                                      vals.codes.to_numpy().astype(np.int64), list(vals.categories), items)
        return CodedScores(frame, items, self.session_dates)

    def with_framework(self, framework) -> "CodedScores":
        """The same table with the framework's scales and hierarchy (outcome, dimension)."""
        return self.with_scales(framework) if framework is not None else self

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def with_rater(self) -> bool:
        return "rater" in self.frame.columns

    @property
    def sessions(self) -> pd.Index:
        """Session ids in time order."""
        return pd.Index(self.frame["session"].cat.categories)

    def codes(self, column: str) -> np.ndarray:
        """Integer codes of a categorical column (-1: missing)."""
        return self.frame[column].cat.codes.to_numpy().astype(np.int64)

    @property
    def position(self) -> np.ndarray:
        return self.frame["position"].to_numpy()

    def has_value(self) -> np.ndarray:
        """Rows whose value is on its item's scale or off it (everything but empty and n.v.t.)."""
        p = self.position
        return (p >= 0) | (p == OFF_SCALE)

    def steps(self) -> np.ndarray:
        """Scale steps (codes - 1) of each row's item."""
        return self.items["steps"].to_numpy(dtype=float)[np.maximum(self.codes("item"), 0)]

    def select(self, mask) -> "CodedScores":
        """The rows where ``mask`` holds, categories kept (this table itself when every row
        is kept: a coded table is never changed in place, so no copy is needed — at 2.7 M
        judgements the report's history of every session was a second copy)."""
        mask = np.asarray(mask, dtype=bool)
        if len(mask) == len(self.frame) and mask.all():
            return self
        return CodedScores(self.frame[mask], self.items, self.session_dates)

    def of_sessions(self, sessions: Iterable[str]) -> "CodedScores":
        return self.select(self.frame["session"].isin(list(sessions)).to_numpy())

    def session_date(self, session: str) -> str | None:
        return self.session_dates[self.sessions.get_loc(session)]

    def item_kind(self) -> pd.Series:
        """Kind per item id."""
        return pd.Series(self.items["kind"].to_numpy(), index=self.items["item"].to_numpy())

    def to_frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The plain long table of CONTRACTS §1 (text columns), in this table's row order."""
        if columns is None:
            columns = SCORE_COLUMNS if self.with_rater else CONSENSUS_COLUMNS
        f = self.frame
        out = {}
        for c in columns:
            if c == "session_date":
                dates = np.array(list(self.session_dates) + [None], dtype=object)
                sc = self.codes("session")
                out[c] = _text(dates, np.where(sc >= 0, sc, len(self.session_dates)))
            elif c in f.columns and isinstance(f[c].dtype, pd.CategoricalDtype):
                cats = np.append(np.asarray(f[c].cat.categories, dtype=object), None)
                cc = self.codes(c)
                out[c] = _text(cats, np.where(cc >= 0, cc, len(cats) - 1))
            elif c in f.columns:
                out[c] = f[c].astype("string").array
            else:
                out[c] = pd.array([pd.NA] * len(f), dtype="string")
        return pd.DataFrame(out, index=f.index).reset_index(drop=True)


def as_frame(scores: Any, *, where: str) -> pd.DataFrame:
    """The plain long score table of ``scores`` (a DataFrame as given, or a
    :class:`CodedScores` decoded back); anything else is an :class:`InputError` naming
    ``where`` (the function that was called)."""
    if isinstance(scores, CodedScores):
        return scores.to_frame()
    if not isinstance(scores, pd.DataFrame):
        raise InputError(
            f"The 'scores' parameter of {where} must be the score table (a DataFrame or CodedScores), "
            f"got {type(scores).__name__}.", hint="Pass store.scores() (CONTRACTS §1).")
    return scores
