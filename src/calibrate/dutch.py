"""Dates and times the way a Dutch reader writes them: "1 december 2026", "10:42", "1-12-2026".

Owns formatting of dates and times for screens (the store keeps ISO timestamps in UTC; a
screen shows local time) and reading a date typed in any usual Dutch spelling.

>>> import datetime as dt
>>> format_date(dt.date(2026, 12, 1))
'1 december 2026'
>>> parse_date("1-12-2026"), parse_date("01.12.2026"), parse_date("2026-12-01"), parse_date("1 dec 2026")
(datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), datetime.date(2026, 12, 1))
"""

from __future__ import annotations

import datetime as _dt
import re

from calibrate.errors import InputError

__all__ = ["MONTHS", "format_date", "format_datetime", "format_time", "parse_date"]

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")
_MONTH_BY_NAME = {m: i for i, m in enumerate(MONTHS, 1)} | {m[:3]: i for i, m in enumerate(MONTHS, 1)}
_MONTH_BY_NAME["mrt"] = 3
_NUMERIC = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_WORDS = re.compile(r"^\s*(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})\s*$")


def format_date(value: _dt.date | str) -> str:
    """``1 december 2026`` (no leading zero, month in words)."""
    d = _dt.date.fromisoformat(str(value)[:10]) if isinstance(value, str) else value
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _local(value: _dt.datetime | str) -> _dt.datetime:
    ts = _dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if ts.tzinfo is None:  # the store writes UTC
        ts = ts.replace(tzinfo=_dt.timezone.utc)
    return ts.astimezone()


def format_time(value: _dt.datetime | str | None = None) -> str:
    """``10:42`` in local time (now when no value is given)."""
    ts = _dt.datetime.now().astimezone() if value is None else _local(value)
    return f"{ts:%H:%M}"


def format_datetime(value: _dt.datetime | str) -> str:
    """``1 december 2026 om 10:42`` in local time; a stored UTC timestamp is converted."""
    ts = _local(value)
    return f"{format_date(ts.date())} om {ts:%H:%M}"


def parse_date(text: str) -> _dt.date:
    """A date typed as ``1-12-2026``, ``01/12/2026``, ``1.12.2026``, ``1 december 2026``,
    ``1 dec 2026`` or ``2026-12-01``. Day before month, as in Dutch; an error says how to write it."""
    raw = str(text).strip().lower()
    m = _NUMERIC.match(raw)
    try:
        if m:
            return _dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _ISO.match(raw)
        if m:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _WORDS.match(raw)
        if m and m.group(2) in _MONTH_BY_NAME:
            return _dt.date(int(m.group(3)), _MONTH_BY_NAME[m.group(2)], int(m.group(1)))
    except ValueError:
        pass  # e.g. 31-2-2026: falls through to the message below
    raise InputError(
        f"Datum \u2018{text}\u2019 niet herkend.",
        hint="Schrijf de datum als dag-maand-jaar, bijvoorbeeld 1-12-2026 of 1 december 2026.",
    )
