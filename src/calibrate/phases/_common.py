"""What every phase analysis takes in: the framework, the options, the score table.

The score table arrives as the long table of CONTRACTS §1 or already coded
(:class:`~calibrate.scores.CodedScores`); :func:`_table` gives the few columns these
analyses read, as text, judgements without a value (empty, ``n.v.t.``) left out.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from calibrate.errors import InputError
from calibrate.frameworks.loader import as_framework as _framework  # a Framework or its id
from calibrate.frameworks.model import NOT_APPLICABLE, Framework
from calibrate.schema import VERDICT_SUFFIX
from calibrate.scores import CodedScores

#: Classification codes, in display order.
CLASSIFICATIONS = ("consistent", "lenient", "severe", "insufficient")
#: Whose phases a verdict is compared with.
REFERENCES = ("own", "panel", "consensus")

_REQUIRED = ("session", "case", "rater", "item", "value")
_KEY = ["session", "case", "rater"]


def _table(df: Any, func: str, *, with_rater: bool = True, name: str = "scores") -> pd.DataFrame:
    """The columns we need, as strings, with missing values (NA, '', n.v.t.) dropped."""
    if isinstance(df, CodedScores):
        return _coded_table(df, func, with_rater=with_rater, name=name)
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"The {name!r} parameter of {func} must be a DataFrame (the score table), got {type(df).__name__}.",
            hint="Pass store.scores() or a table with the columns of CONTRACTS §1.",
        )
    need = [c for c in _REQUIRED if with_rater or c != "rater"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(
            f"The {name!r} table given to {func} lacks the column(s) {', '.join(map(repr, missing))}.",
            hint=f"It needs at least {', '.join(need)} (CONTRACTS §1).",
        )
    out = df[need].astype("string")
    for col in need:
        out[col] = out[col].str.strip()
    keep = out["value"].notna() & (out["value"] != "") & (out["value"] != NOT_APPLICABLE)
    out = out[keep & out[need].notna().all(axis=1)]
    if not with_rater:
        out = out.assign(rater="__consensus__")
    return out.reset_index(drop=True)




def _coded_table(coded: CodedScores, func: str, *, with_rater: bool, name: str) -> pd.DataFrame:
    """:func:`_table` of a coded score table: the rows with a value, as text."""
    need = [c for c in _REQUIRED if with_rater or c != "rater"]
    missing = [c for c in need if c != "value" and c not in coded.frame.columns]
    if missing:
        raise InputError(
            f"The {name!r} table given to {func} lacks the column(s) {', '.join(map(repr, missing))}.",
            hint=f"It needs at least {', '.join(need)} (CONTRACTS §1).",
        )
    keep = coded.has_value()
    for c in need:
        if c != "value":
            keep &= coded.codes(c) >= 0
    sub = coded.select(keep)
    out = sub.to_frame(need)
    if not with_rater:
        out = out.assign(rater="__consensus__")
    return out


def _verdict_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The verdict judgements (items ``<outcome>.oordeel``), with their ``outcome`` id."""
    suffix = f".{VERDICT_SUFFIX}"
    ver = df[df["item"].str.endswith(suffix)].copy()
    ver["outcome"] = ver["item"].str[: -len(suffix)]
    return ver


def _check_values(df: pd.DataFrame, codes: Sequence[str], what: str, func: str) -> None:
    bad = df.loc[~df["value"].isin(codes)]
    if len(bad):
        shown = "; ".join(
            f"{r.item} = {r.value!r} (session {r.session}, case {r.case}, rater {r.rater})"
            for r in bad.head(5).itertuples()
        )
        raise InputError(
            f"{func}: {len(bad)} {what} value(s) outside the scale: {shown}.",
            hint=f"Allowed: {', '.join(map(repr, codes))}; n.v.t. or empty counts as missing.",
        )

