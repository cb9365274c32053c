"""Exception types of calibrate.

Every error says what was wrong, where (file, row, column, item, path inside a
framework file) and the way out. Input checks raise these, never ``assert``.
"""

from __future__ import annotations


class CalibrateError(Exception):
    """Base class of every error calibrate raises on purpose."""


class InputError(CalibrateError, ValueError):
    """Bad user input: a file, a row, a column or a parameter.

    ``location`` names the place (e.g. ``"scores.csv, row 5, column 'value'"``)
    and ``hint`` the way out; both are part of the message.
    """

    def __init__(self, message: str, *, location: str | None = None, hint: str | None = None):
        self.location = location
        self.hint = hint
        parts = []
        if location:
            parts.append(f"{location}: ")
        parts.append(message)
        if hint:
            parts.append(f" {hint}")
        super().__init__("".join(parts))


class FrameworkError(InputError):
    """A framework file that does not validate (names file and path inside it)."""


class StoreError(CalibrateError):
    """The workspace store could not do what was asked."""


class SchemaVersionError(StoreError):
    """The database schema is older or newer than this version of calibrate."""


class AccessError(StoreError):
    """An assessor asked for judgements they may not see or change (blind until reveal)."""
