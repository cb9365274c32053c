"""The score-table contract (shared/CONTRACTS.md §1): its one home.

One row per rater judgement, long format. This module owns every constant of the
contract — the column names, the kinds and their value codes, ``n.v.t.``, the item-id
grammar of the built-in frameworks and the default framework — and the validator every
import goes through. Every other module imports them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError

SCORE_COLUMNS = ("session", "session_date", "case", "rater", "item", "kind", "value", "note", "scored_at")
"""Columns of the score table, in export order."""

CONSENSUS_COLUMNS = ("session", "session_date", "case", "item", "kind", "value", "scored_at")
"""Columns of a consensus (benchmark) table: the score table minus ``rater`` and ``note``."""

OPTIONAL_COLUMNS = {"note", "scored_at"}

KINDS = ("indicator", "level", "phase", "verdict", "decision")

NOT_APPLICABLE = "n.v.t."

CODES: Mapping[str, tuple[str, ...]] = {
    "indicator": ("niet gezien", "gezien"),
    "level": ("1", "2", "3", "4", "5", "6"),
    "phase": ("begin", "groei", "vergevorderd"),
    "verdict": ("niet voldaan", "voldaan"),
    "decision": ("no go", "go"),
}
"""Ordered value codes per kind, lowest first. ``n.v.t.`` is also allowed for indicators
and means "not applicable"; analyses treat it as missing."""

MISSING_CODES = ("", NOT_APPLICABLE)
"""Value codes that mean "no rating" to an analysis (empty, not applicable)."""

DEFAULT_FRAMEWORK = "han-wpl2-2025"
"""The built-in framework a session, an import or a report uses unless told otherwise."""

# ----------------------------------------------------------------- item-id grammar
# The ids of the built-in frameworks (docs/design.md "Item ids"):
#   indicator  <outcome>.<dimension-slug>.<n>     level    <outcome>.niveau
#   verdict    <outcome>.oordeel                  phase    fase.<phase-dimension>
LEVEL_SUFFIX = "niveau"
VERDICT_SUFFIX = "oordeel"
PHASE_PREFIX = "fase"


def level_item(outcome_id: str) -> str:
    """The level item of a leeruitkomst: ``<outcome>.niveau``."""
    return f"{outcome_id}.{LEVEL_SUFFIX}"


def verdict_item(outcome_id: str) -> str:
    """The verdict item of a leeruitkomst: ``<outcome>.oordeel``."""
    return f"{outcome_id}.{VERDICT_SUFFIX}"


def phase_item(dimension_id: str) -> str:
    """The phase item of a row of the phase table: ``fase.<dimension>``."""
    return f"{PHASE_PREFIX}.{dimension_id}"


def is_verdict_item(item_id: str) -> bool:
    return item_id.endswith(f".{VERDICT_SUFFIX}")


def is_level_item(item_id: str) -> bool:
    return item_id.endswith(f".{LEVEL_SUFFIX}")


def is_phase_item(item_id: str) -> bool:
    return item_id.startswith(f"{PHASE_PREFIX}.")


def outcome_of(item_id: str) -> str:
    """The leeruitkomst of a level or verdict item (the id before its last dot)."""
    return item_id.rsplit(".", 1)[0]


def item_hierarchy(item_id: str) -> tuple[str | None, str | None]:
    """``(dimension, outcome)`` of an item id read by the grammar, for items that no
    framework describes: ``<outcome>.<dimension>.<n>`` (n digits) gives both,
    ``<outcome>.niveau`` and ``<outcome>.oordeel`` the outcome, anything else neither."""
    parts = item_id.split(".")
    if len(parts) == 3 and all(parts) and parts[2].isdigit() and parts[2].isascii():
        return f"{parts[0]}.{parts[1]}", parts[0]
    if len(parts) == 2 and parts[0] and parts[1] in (LEVEL_SUFFIX, VERDICT_SUFFIX):
        return None, parts[0]
    return None, None


def allowed_values(kind: str, codes: Iterable[str] | None = None) -> tuple[str, ...]:
    """Every value a judgement of ``kind`` may take (scale codes plus ``n.v.t.`` for indicators)."""
    base = tuple(codes) if codes is not None else CODES[kind]
    return base + ((NOT_APPLICABLE,) if kind == "indicator" else ())


@dataclass(frozen=True)
class ItemSpec:
    """What the validator needs to know of an item: its kind and ordered codes."""

    id: str
    kind: str
    codes: tuple[str, ...]


def shown(value, limit: int = 30) -> str:
    """A cell value fit for an error message: quoted and cut short, and masked to its
    shape (``99-99999999``) when it looks like personal data, which must never reach a
    message or a log."""
    text = str(value)
    from .privacy import scan_text_for_personal_data

    if scan_text_for_personal_data(text):
        masked = "".join("9" if c.isdigit() else "x" if c.isalpha() else c for c in text)
        return repr(masked[:limit]) + " (masked: it looks like personal data)"
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _spreadsheet_row(index: int) -> int:
    """Row number as a spreadsheet shows it: the header is row 1, the first data row 2."""
    return int(index) + 2


def clean_text(series: pd.Series) -> pd.Series:
    """A column as stripped text, empty cells as NA (in Arrow, not row by row in Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = series.astype("string")
    arr = pa.array(text.array)  # the Arrow array under (or made from) the string column
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    out = pd.arrays.ArrowStringArray(arr.cast(pa.large_string()))
    return pd.Series(out, index=series.index, name=series.name).astype("string")


def _per_unique(series: pd.Series, func) -> pd.Series:
    """``func`` applied to the distinct values of ``series`` (a Series in, a Series out),
    broadcast back to every row."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = func(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    full = pd.concat([mapped.reset_index(drop=True), pd.Series([pd.NA], dtype=mapped.dtype)], ignore_index=True)
    return pd.Series(full.to_numpy()[codes], index=series.index)


class _Labels:
    """Stable integer codes for the labels of one column across chunks."""

    def __init__(self) -> None:
        self.index = pd.Index([], dtype=object)

    def codes(self, values: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
        pos = self.index.get_indexer(uniques)
        new = pos < 0
        if new.any():
            pos[new] = np.arange(len(self.index), len(self.index) + int(new.sum()))
            self.index = self.index.append(pd.Index(np.asarray(uniques, dtype=object)[new], dtype=object))
        lut = np.append(pos, -1).astype(np.int64)
        return lut[codes]


def _header_cell(cell: str) -> str:
    """A header cell for a message: a column name as it is, anything else (a header-less
    file's first row holds data: a name, an e-mail address) cut to its shape."""
    import re

    if cell in SCORE_COLUMNS or cell in OPTIONAL_COLUMNS or re.fullmatch(r"[a-z_]{1,20}", cell):
        return repr(cell)
    from .privacy import _mask

    return repr(_mask(cell[:40]))


class TableValidator:
    """Checks a score (or consensus) table chunk by chunk, the way :func:`validate_table`
    checks a whole one; what spans chunks (an item's kind, a session's date, two rows for
    one judgement) is remembered between them in a few integers per row.

    Use :meth:`check_header` once, :meth:`chunk` per chunk (it returns the normalised
    rows, exact duplicate rows within the chunk dropped), then :meth:`finish`, which raises
    :class:`InputError` listing every problem (at most ``max_errors``) with its
    spreadsheet row and column, and otherwise returns the row labels of later exact copies
    of earlier rows (for the caller to leave out).
    """

    def __init__(self, *, source: str, with_rater: bool = True, items: Mapping[str, ItemSpec] | None = None,
                 max_errors: int = 20):
        self.source = source
        self.with_rater = with_rater
        self.items = dict(items or {})
        self.max_errors = max_errors
        self.columns = SCORE_COLUMNS if with_rater else CONSENSUS_COLUMNS
        self.optional = OPTIONAL_COLUMNS if with_rater else {"scored_at", "note"}
        self.what = "score table" if with_rater else "consensus table"
        self.key = ["session", "case", "rater", "item"] if with_rater else ["session", "case", "item"]
        self.errors: list[str] = []
        self.out_columns: list[str] = list(self.columns)
        self._first_kind: dict[str, tuple[str, int]] = {}
        self._session_dates: dict[str, tuple[str, int]] = {}
        self._multi_date: dict[str, set[str]] = {}
        self._labels = {c: _Labels() for c in self.key}
        self._keys: list[np.ndarray] = []
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._labels_of: list[np.ndarray] = []
        self._n_chunks = 0
        self.n_seen = 0

    # ------------------------------------------------------------------ errors
    def _err(self, idx, col: str, msg: str) -> None:
        self.errors.append(f"row {_spreadsheet_row(idx)}, column '{col}': {msg}")

    def _room(self) -> int:
        """How many more messages are worth writing: one past ``max_errors`` tells that
        there are more than are shown."""
        return max(self.max_errors + 1 - len(self.errors), 0)

    # ------------------------------------------------------------------ header
    def check_header(self, header: Iterable) -> list[str]:
        """Check the header once; return it stripped. Raises at once: without the right
        columns no row can be read."""
        header = [str(c).strip() for c in header]
        columns, what, source = self.columns, self.what, self.source
        if not header:
            raise InputError(
                f"the file is empty; a {what} needs a header row with the columns {', '.join(columns)}.",
                location=source,
            )
        missing = [c for c in columns if c not in header and c not in self.optional]
        if missing:
            raise InputError(
                f"column(s) {', '.join(repr(c) for c in missing)} missing from the header "
                f"(found: {', '.join(_header_cell(c) for c in header)}).",
                location=f"{source}, row 1",
                hint=f"A {what} has the columns {', '.join(columns)} (see CONTRACTS §1).",
            )
        allowed = set(columns) | ({"note"} if not self.with_rater else set())
        extra = [c for c in header if c not in allowed]
        if extra:
            raise InputError(
                f"unknown column(s) {', '.join(_header_cell(c) for c in extra)} in the header.",
                location=f"{source}, row 1",
                hint=f"Remove them; a {what} has exactly the columns {', '.join(columns)}.",
            )
        dupes = sorted(c for c in set(header) if header.count(c) > 1)
        if dupes:
            raise InputError(f"column(s) {', '.join(map(repr, dupes))} appear twice in the header.", location=f"{source}, row 1")
        self.out_columns = list(columns) + (["note"] if not self.with_rater and "note" in header else [])
        return header

    # ------------------------------------------------------------------ rows
    def chunk(self, df: pd.DataFrame) -> pd.DataFrame:
        """Check one chunk (its index: spreadsheet row - 2); return it normalised."""
        df = df.copy()
        df.columns = [str(c).strip() for c in df.columns]
        for col in self.optional:
            if col not in df.columns:
                df[col] = pd.NA
        df = df[self.out_columns]
        for col in self.out_columns:
            df[col] = clean_text(df[col])
        self._n_chunks += 1
        self.n_seen += len(df)

        for col in (c for c in self.columns if c not in self.optional):
            for idx in df.index[df[col].isna()][: self._room()]:
                self._err(idx, col, "empty; every judgement needs a value here.")

        kind = df["kind"]
        bad_kind = kind.notna() & ~kind.isin(KINDS)
        for idx in df.index[bad_kind][: self._room()]:
            self._err(idx, "kind", f"unknown kind {shown(kind.at[idx])}; use one of {', '.join(KINDS)}.")

        self._items_kinds_values(df)
        df["session_date"] = self._dates(df)
        df["scored_at"] = self._stamps(df)

        key = self.key
        repeated = df.duplicated(subset=key, keep=False).to_numpy()  # an exact copy repeats its key too
        if repeated.any():
            copies = np.zeros(len(df), dtype=bool)
            copies[repeated] = df[repeated].duplicated().to_numpy()
            df = df[~copies]
            repeated = repeated[~copies]
        dup = df[repeated & df.duplicated(subset=key, keep=False).to_numpy()].dropna(subset=key) if repeated.any() else df.iloc[0:0]
        if len(dup):
            for _, grp in dup.groupby(key, sort=False):
                if not self._room():
                    break
                rows = ", ".join(str(_spreadsheet_row(i)) for i in grp.index)
                self._err(grp.index[-1], "value", f"rows {rows} give different judgements for the same ({', '.join(key)}); keep one.")
        self._remember_keys(df)
        return df

    def _items_kinds_values(self, df: pd.DataFrame) -> None:
        """An item keeps one kind (the framework's, when it knows the item) and its values
        stay on the item's scale. Each distinct (item, kind, value) is checked once: the
        rows are compared as integer codes, the few distinct labels in Python."""
        ok = (df["item"].notna() & df["kind"].notna() & df["kind"].isin(KINDS)).to_numpy()
        if not ok.any():
            return
        rows = df.index[ok]
        icodes, iuniq = pd.factorize(df.loc[ok, "item"], use_na_sentinel=True)
        kcodes, kuniq = pd.factorize(df.loc[ok, "kind"], use_na_sentinel=True)
        vcodes, vuniq = pd.factorize(df.loc[ok, "value"], use_na_sentinel=True)
        iuniq, kuniq, vuniq = (list(np.asarray(u, dtype=object)) for u in (iuniq, kuniq, vuniq))
        kpos = {k: n for n, k in enumerate(kuniq)}

        def kind_code(kind) -> int:  # -1: none; -2: a kind no row of this chunk has
            return -1 if kind is None else kpos.get(kind, -2)

        spec = np.array([kind_code(self.items[i].kind if i in self.items else None) for i in iuniq], dtype=np.int64)
        mismatch = (spec[icodes] != -1) & (spec[icodes] != kcodes)
        fine = np.flatnonzero(~mismatch)
        _, first_at = np.unique(icodes[fine], return_index=True)
        for k in fine[first_at]:
            self._first_kind.setdefault(iuniq[icodes[k]], (kuniq[kcodes[k]], _spreadsheet_row(rows[k])))
        first = np.array([kind_code(self._first_kind[i][0]) if i in self._first_kind else -3 for i in iuniq], dtype=np.int64)
        conflict = ~mismatch & (first[icodes] != kcodes)
        check = ~mismatch & ~conflict & (vcodes >= 0)
        n_k, n_v = len(kuniq), len(vuniq)
        triple = (icodes.astype(np.int64) * n_k + kcodes) * n_v + vcodes
        bad_triples = []
        allowed_of = {}
        for code in np.unique(triple[check]):
            i, rest = divmod(int(code), n_k * n_v)
            k, v = divmod(rest, n_v)
            item, kind = iuniq[i], kuniq[k]
            item_spec = self.items.get(item)
            codes = allowed_values(kind, item_spec.codes if item_spec is not None else None)
            allowed_of[(item, kind)] = codes
            if vuniq[v] not in codes:
                bad_triples.append(code)
        bad_value = check & np.isin(triple, bad_triples) if bad_triples else np.zeros(len(rows), dtype=bool)
        flagged = np.flatnonzero(mismatch | conflict | bad_value)[: self._room()]
        for k in flagged:
            idx, item, kind = rows[k], iuniq[icodes[k]], kuniq[kcodes[k]]
            if mismatch[k]:
                self._err(idx, "kind", f"item {item!r} is a {self.items[item].kind!r} item in the framework, not {kind!r}.")
            elif conflict[k]:
                fk, frow = self._first_kind[item]
                self._err(idx, "kind", f"item {item!r} has kind {kind!r} here but {fk!r} in row {frow}; an item has one kind.")
            else:
                codes = allowed_of[(item, kind)]
                value = vuniq[vcodes[k]]
                self._err(idx, "value", f"{shown(value)} is outside the scale of item {shown(item)} ({kind}); allowed: {', '.join(codes)}.")

    def _dates(self, df: pd.DataFrame) -> pd.Series:
        raw = df["session_date"]
        norm = _per_unique(raw, lambda u: pd.to_datetime(u, errors="coerce", format="ISO8601").dt.strftime("%Y-%m-%d"))
        norm = norm.astype("string")
        for idx in df.index[(raw.notna() & norm.isna()).to_numpy()][: self._room()]:
            self._err(idx, "session_date", f"{shown(raw.at[idx])} is not a date; write it as YYYY-MM-DD.")
        pairs = pd.DataFrame({"s": df["session"], "d": norm}).dropna()
        pairs = pairs[~pairs.duplicated()]
        for s, d, idx in zip(pairs["s"], pairs["d"], pairs.index):
            self._session_dates.setdefault(s, (idx, set()))[1].add(d)
        for s in sorted(set(pairs["s"])):
            first, dates = self._session_dates[s]
            if len(dates) > 1 and s not in self._multi_date and self._room():
                self._multi_date[s] = set(dates)
                self._err(first, "session_date", f"session {s!r} has more than one date ({', '.join(sorted(dates))}).")
        return norm

    def _stamps(self, df: pd.DataFrame) -> pd.Series:
        raw = df["scored_at"]
        norm = _per_unique(raw, lambda u: _iso_timestamps(pd.to_datetime(u, errors="coerce", format="ISO8601", utc=True)))
        norm = norm.astype("string")
        for idx in df.index[(raw.notna() & norm.isna()).to_numpy()][: self._room()]:
            self._err(idx, "scored_at", f"{shown(raw.at[idx])} is not a timestamp; write it as YYYY-MM-DDTHH:MM:SS.")
        return norm.where(raw.notna(), pd.NA)

    def _remember_keys(self, df: pd.DataFrame) -> None:
        """Codes of each row's key and a hash of the whole row, to find two rows for one
        judgement in different chunks (:meth:`finish`)."""
        full = df[self.key].notna().all(axis=1).to_numpy()
        part = df[full]
        self._keys.append(np.column_stack([self._labels[c].codes(part[c]) for c in self.key]).astype(np.int32))
        rest = [c for c in part.columns if c not in self.key]  # rows with one key differ only here
        self._hashes.append(pd.util.hash_pandas_object(part[rest], index=False).to_numpy())
        self._rows.append(np.full(len(part), self._n_chunks, dtype=np.int32))
        self._labels_of.append(np.asarray(part.index, dtype=np.int64))

    # ------------------------------------------------------------------ end
    def finish(self) -> np.ndarray:
        """Raise every problem found; else return the row labels to leave out (exact copies,
        in a later chunk, of an earlier row)."""
        if self.n_seen == 0:
            raise InputError(f"the {self.what} has a header but no rows.", location=self.source, hint="Add at least one judgement.")
        drop = np.zeros(0, dtype=np.int64)
        if self._n_chunks > 1:
            drop = self._across_chunks()
        if self.errors:
            listed = self.errors[: self.max_errors]
            more = f"\n  … and more (first {self.max_errors} shown)" if len(self.errors) > self.max_errors else ""
            raise InputError(
                f"{len(listed)} problem(s) found, nothing was imported:\n  " + "\n  ".join(listed) + more,
                location=self.source,
                hint="\nFix these rows and import the file again; the workspace is unchanged.",
            )
        return drop

    def _across_chunks(self) -> np.ndarray:
        keys = np.concatenate(self._keys)
        hashes = np.concatenate(self._hashes)
        chunk = np.concatenate(self._rows)
        labels = np.concatenate(self._labels_of)
        combined = np.zeros(len(keys), dtype=np.int64)
        for k, c in enumerate(self.key):
            combined = combined * max(len(self._labels[c].index), 1) + keys[:, k].astype(np.int64)
        if len(self.key) and np.prod([float(max(len(self._labels[c].index), 1)) for c in self.key]) >= 2**62:
            combined = pd.MultiIndex.from_arrays([keys[:, k] for k in range(keys.shape[1])]).factorize()[0]
        del keys
        order = np.argsort(combined, kind="stable")  # a sort needs less memory than a hash table
        same = combined[order[1:]] == combined[order[:-1]]
        dup = np.zeros(len(combined), dtype=bool)
        dup[order[1:][same]] = True
        dup[order[:-1][same]] = True
        del order, same
        drop: list[int] = []
        if not dup.any():
            return np.zeros(0, dtype=np.int64)
        frame = pd.DataFrame({"key": combined[dup], "hash": hashes[dup], "chunk": chunk[dup], "label": labels[dup]})
        for _, grp in frame.groupby("key", sort=False):
            if grp["chunk"].nunique() < 2:
                continue  # within one chunk: settled there
            distinct = grp.drop_duplicates("hash")
            if len(distinct) == 1:
                drop.extend(grp["label"].iloc[1:].tolist())
            elif self._room():
                rows = ", ".join(str(_spreadsheet_row(i)) for i in distinct["label"])
                self._err(distinct["label"].iloc[-1], "value",
                          f"rows {rows} give different judgements for the same ({', '.join(self.key)}); keep one.")
        return np.asarray(drop, dtype=np.int64)


def validate_table(
    df: pd.DataFrame,
    *,
    source: str,
    with_rater: bool = True,
    items: Mapping[str, ItemSpec] | None = None,
    max_errors: int = 20,
) -> pd.DataFrame:
    """Check a score (or consensus) table and return it normalised.

    Checks: required columns present and no unknown ones; no empty required cell;
    ``kind`` one of :data:`KINDS`; ``value`` inside the item's scale (the framework's
    codes for a known item, the kind's contract codes otherwise); the same item always
    with the same kind; ``session_date`` a date and the same for every row of a session;
    ``scored_at`` a timestamp when given; no two different values for the same
    (session, case, rater, item). Every problem is reported with its spreadsheet row
    (header = row 1) and column; at most ``max_errors`` are listed.

    Returns a DataFrame with exactly the contract columns (``note`` and ``scored_at``
    filled with NA where absent), ``session_date`` as ISO date strings and
    ``scored_at`` as ISO timestamps or NA, exact duplicate rows dropped.
    A file too large to hold goes through :class:`TableValidator` chunk by chunk instead.
    """
    check = TableValidator(source=source, with_rater=with_rater, items=items, max_errors=max_errors)
    if df.shape[1] == 0:
        check.check_header([])
    check.check_header(df.columns)
    clean = check.chunk(df)
    check.finish()
    return clean.reset_index(drop=True)


def _iso_timestamps(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as ISO strings with a 'Z'-free '+00:00' suffix, microseconds when present."""
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00").str.replace(".000000+", "+", regex=False)
    return text.astype("string")


def empty_scores(with_rater: bool = True) -> pd.DataFrame:
    """An empty score (or consensus) table with the contract columns."""
    cols = SCORE_COLUMNS if with_rater else CONSENSUS_COLUMNS
    return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
