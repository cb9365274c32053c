"""The score-table contract (shared/CONTRACTS.md §1) and its validation.

One row per rater judgement, long format. This module owns the column names,
the value codes per kind and the checks every import goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

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


def _clean_text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


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
    """
    columns = SCORE_COLUMNS if with_rater else CONSENSUS_COLUMNS
    optional = OPTIONAL_COLUMNS if with_rater else {"scored_at", "note"}
    allowed_cols = set(columns) | ({"note"} if not with_rater else set())
    what = "score table" if with_rater else "consensus table"
    if df.shape[1] == 0 or (df.shape[0] == 0 and len(df.columns) == 0):
        raise InputError(
            f"the file is empty; a {what} needs a header row with the columns {', '.join(columns)}.",
            location=source,
        )
    header = [str(c).strip() for c in df.columns]
    df = df.copy()
    df.columns = header
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        raise InputError(
            f"column(s) {', '.join(repr(c) for c in missing)} missing from the header "
            f"(found: {', '.join(repr(c) for c in header)}).",
            location=f"{source}, row 1",
            hint=f"A {what} has the columns {', '.join(columns)} (see CONTRACTS §1).",
        )
    extra = [c for c in header if c not in allowed_cols]
    if extra:
        raise InputError(
            f"unknown column(s) {', '.join(repr(c) for c in extra)} in the header.",
            location=f"{source}, row 1",
            hint=f"Remove them; a {what} has exactly the columns {', '.join(columns)}.",
        )
    dupes = [c for c in set(header) if header.count(c) > 1]
    if dupes:
        raise InputError(f"column(s) {', '.join(map(repr, dupes))} appear twice in the header.", location=f"{source}, row 1")
    if len(df) == 0:
        raise InputError(f"the {what} has a header but no rows.", location=source, hint="Add at least one judgement.")

    for col in optional:
        if col not in df.columns:
            df[col] = pd.NA
    out_cols = list(columns) + (["note"] if not with_rater and "note" in header else [])
    df = df[out_cols]
    for col in out_cols:
        df[col] = _clean_text(df[col])
        df.loc[df[col] == "", col] = pd.NA

    errors: list[str] = []

    def err(idx, col, msg):
        errors.append(f"row {_spreadsheet_row(idx)}, column '{col}': {msg}")

    required = [c for c in columns if c not in optional]
    for col in required:
        for idx in df.index[df[col].isna()]:
            err(idx, col, "empty; every judgement needs a value here.")

    bad_kind = df["kind"].notna() & ~df["kind"].isin(KINDS)
    for idx in df.index[bad_kind]:
        err(idx, "kind", f"unknown kind {shown(df.at[idx, 'kind'])}; use one of {', '.join(KINDS)}.")

    # item ↔ kind consistency and values inside the scale
    known = items or {}
    first_kind: dict[str, tuple[str, int]] = {}
    for idx, item, kind, value in zip(df.index, df["item"], df["kind"], df["value"]):
        if pd.isna(item) or pd.isna(kind) or kind not in KINDS:
            continue
        spec = known.get(item)
        if spec is not None and spec.kind != kind:
            err(idx, "kind", f"item {item!r} is a {spec.kind!r} item in the framework, not {kind!r}.")
            continue
        if item in first_kind and first_kind[item][0] != kind:
            err(idx, "kind", f"item {item!r} has kind {kind!r} here but {first_kind[item][0]!r} in row {first_kind[item][1]}; an item has one kind.")
            continue
        first_kind.setdefault(item, (kind, _spreadsheet_row(idx)))
        if pd.isna(value):
            continue
        codes = allowed_values(kind, spec.codes if spec is not None else None)
        if value not in codes:
            err(idx, "value", f"{shown(value)} is outside the scale of item {shown(item)} ({kind}); allowed: {', '.join(codes)}.")
        if len(errors) >= max_errors:
            break

    dates = pd.to_datetime(df["session_date"], errors="coerce", format="ISO8601")
    for idx in df.index[df["session_date"].notna() & dates.isna()]:
        err(idx, "session_date", f"{shown(df.at[idx, 'session_date'])} is not a date; write it as YYYY-MM-DD.")
    df["session_date"] = dates.dt.strftime("%Y-%m-%d").astype("string")
    per_session = df.dropna(subset=["session", "session_date"]).groupby("session")["session_date"].nunique()
    for session in per_session.index[per_session > 1]:
        rows = df.index[df["session"] == session]
        err(rows[0], "session_date", f"session {session!r} has more than one date ({', '.join(sorted(df.loc[rows, 'session_date'].dropna().unique()))}).")

    stamps = pd.to_datetime(df["scored_at"], errors="coerce", format="ISO8601", utc=True)
    for idx in df.index[df["scored_at"].notna() & stamps.isna()]:
        err(idx, "scored_at", f"{shown(df.at[idx, 'scored_at'])} is not a timestamp; write it as YYYY-MM-DDTHH:MM:SS.")
    df["scored_at"] = _iso_timestamps(stamps).where(df["scored_at"].notna(), pd.NA)

    key = ["session", "case", "rater", "item"] if with_rater else ["session", "case", "item"]
    df = df.drop_duplicates()
    dup = df[df.duplicated(subset=key, keep=False)].dropna(subset=key)
    if len(dup):
        for _, grp in dup.groupby(key, sort=False):
            if grp["value"].nunique(dropna=False) > 1 or len(grp) > 1:
                rows = ", ".join(str(_spreadsheet_row(i)) for i in grp.index)
                err(grp.index[-1], "value", f"rows {rows} give different judgements for the same ({', '.join(key)}); keep one.")
            if len(errors) >= max_errors:
                break

    if errors:
        listed = errors[:max_errors]
        more = f"\n  … and more (first {max_errors} shown)" if len(errors) > max_errors else ""
        raise InputError(
            f"{len(listed)} problem(s) found, nothing was imported:\n  " + "\n  ".join(listed) + more,
            location=source,
            hint="\nFix these rows and import the file again; the workspace is unchanged.",
        )
    return df.reset_index(drop=True)


def _iso_timestamps(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as ISO strings with a 'Z'-free '+00:00' suffix, microseconds when present."""
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00").str.replace(".000000+", "+", regex=False)
    return text.astype("string")


def empty_scores(with_rater: bool = True) -> pd.DataFrame:
    """An empty score (or consensus) table with the contract columns."""
    cols = SCORE_COLUMNS if with_rater else CONSENSUS_COLUMNS
    return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
