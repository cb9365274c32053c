"""Reading the score table for a report, fast enough for millions of judgements.

``Store.scores()`` builds the contract table row by row; at research scale (2.7 million
judgements) that takes minutes. The report only needs the current value of each
judgement, so this reader scans the append-only ``judgements`` table once in id order,
codes the text columns as integers chunk by chunk (little memory), keeps the latest save
per (session, case, rater, item) with the store's own rule (``calibrate.store.latest``)
and returns categorical columns. Notes are fetched only for the sessions that the report
quotes.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

_CHUNK = 250_000
_KEY = ("session_id", "case_id", "rater_id", "item_id")


class _Coder:
    """Maps strings to stable integer codes across chunks."""

    def __init__(self):
        self.index: dict = {}
        self.labels: list = []

    def codes(self, values) -> np.ndarray:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        lut = np.empty(len(uniques) + 1, dtype=np.int32)
        lut[-1] = -1
        for k, u in enumerate(uniques):
            j = self.index.get(u)
            if j is None:
                j = self.index[u] = len(self.labels)
                self.labels.append(u)
            lut[k] = j
        return lut[codes]

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.labels, dtype=object)) if self.labels else \
            pd.Categorical.from_codes(codes, categories=pd.Index([], dtype=object))


def load_scores(store, *, sessions: Iterable[str] | None = None, notes_for: Iterable[str] = (),
                tick: Callable[[float], None] | None = None) -> pd.DataFrame:
    """Current judgements of ``sessions`` (all when None) with categorical columns
    ``session, session_date, case, rater, item, kind, value`` and ``note`` (filled only for
    the sessions in ``notes_for``). Falls back to ``store.scores()`` for stores that are
    not SQL databases.
    """
    try:
        from ..store import schema as t
        from ..store.latest import latest_rows
    except ImportError:  # pragma: no cover
        t = None
    engine = getattr(store, "engine", None)
    if t is None or engine is None:
        return store.scores(list(sessions) if sessions is not None else None)
    j = t.judgements
    q = sa.select(j.c.id, j.c.session_id, j.c.case_id, j.c.rater_id, j.c.item_id, j.c.value).order_by(j.c.id)
    if sessions is not None:
        q = q.where(j.c.session_id.in_(list(sessions)))
    coders = {c: _Coder() for c in (*_KEY, "value")}
    parts: dict[str, list[np.ndarray]] = {c: [] for c in ("id", *_KEY, "value")}
    with engine.connect() as conn:
        res = conn.execute(q)
        cur = res.cursor
        while True:
            rows = cur.fetchmany(_CHUNK)
            if not rows:
                break
            cols = list(zip(*rows))
            del rows
            parts["id"].append(np.asarray(cols[0], dtype=np.int64))
            for name, col in zip((*_KEY, "value"), cols[1:]):
                parts[name].append(coders[name].codes(col))
            if tick is not None:
                tick(len(cols[0]))
        res.close()
        kinds = dict(conn.execute(sa.select(t.items.c.id, t.items.c.kind)).all())
        dates = dict(conn.execute(sa.select(t.sessions.c.id, t.sessions.c.session_date)).all())
    if not parts["id"]:
        from ..schema import empty_scores

        return empty_scores()
    arr = {k: np.concatenate(v) for k, v in parts.items()}
    # the latest save per (session, case, rater, item): the store's own rule
    last = latest_rows(arr["id"], [arr[c] for c in _KEY], [len(coders[c].labels) for c in _KEY])
    arr = {k: v[last] for k, v in arr.items()}
    sess_labels = coders["session_id"].labels
    item_labels = coders["item_id"].labels
    df = pd.DataFrame({
        "session": coders["session_id"].categorical(arr["session_id"]),
        "session_date": _derived(arr["session_id"], [str(dates.get(s) or "") for s in sess_labels]),
        "case": coders["case_id"].categorical(arr["case_id"]),
        "rater": coders["rater_id"].categorical(arr["rater_id"]),
        "item": coders["item_id"].categorical(arr["item_id"]),
        "kind": _derived(arr["item_id"], [str(kinds.get(i) or "") for i in item_labels]),
        "value": coders["value"].categorical(arr["value"]),
    })
    df["note"] = pd.Series(pd.NA, index=df.index, dtype="string")
    notes_for = list(notes_for)
    if notes_for:
        with engine.connect() as conn:
            nq = sa.select(j.c.id, j.c.note).where(j.c.session_id.in_(notes_for), j.c.note.is_not(None))
            note_rows = conn.execute(nq).all()
        if note_rows:
            ids = pd.Series([r[1] for r in note_rows], index=[r[0] for r in note_rows], dtype="string")
            pos = pd.Series(np.arange(len(arr["id"])), index=arr["id"])
            hit = ids.index.intersection(pos.index)
            df.loc[pos.loc[hit].to_numpy(), "note"] = ids.loc[hit].to_numpy()
    order = np.lexsort((df["item"].cat.codes, df["rater"].cat.codes, df["case"].cat.codes, df["session"].cat.codes))
    return df.iloc[order].reset_index(drop=True)


def _derived(owner_codes: np.ndarray, owner_values: list[str]) -> pd.Categorical:
    """A categorical column whose value follows from another coded column (date per session,
    kind per item): the owners' values become the categories, merged where equal."""
    uniq, inv = np.unique(np.asarray(owner_values, dtype=object).astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inv[owner_codes], categories=pd.Index(uniq, dtype=object))
