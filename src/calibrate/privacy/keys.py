"""The pseudonym key (file or ``CALIBRATE_PSEUDONYM_KEY``), its id, and the keyed MACs and
tokens that make a pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

from calibrate.errors import InputError
from .words import KEY_ENV, KEY_FILENAME, _HEX_DIGITS, _MIN_KEY_BYTES
from .text import _identity


_KEY_HINT = "Write 64 hex digits (python -c 'import secrets; print(secrets.token_hex(32))')."


def _check_key(key: object, *, location: str | None = None) -> bytes:
    if not isinstance(key, (bytes, bytearray)):
        raise InputError(
            f"the pseudonym key must be bytes, got {type(key).__name__}.", location=location,
            hint=f"Use load_or_create_key(workspace) or set {KEY_ENV}.",
        )
    if len(key) < _MIN_KEY_BYTES:
        raise InputError(
            f"the pseudonym key has {len(key)} bytes; at least {_MIN_KEY_BYTES} are needed.",
            location=location, hint=_KEY_HINT,
        )
    return bytes(key)


def _parse_hex_key(text: str, *, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        # never echo the value
        raise InputError("the pseudonym key is not a hex string.", location=where, hint=_KEY_HINT) from None
    return _check_key(key, location=where)


def load_or_create_key(
    workspace: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """Return the pseudonym key: from ``CALIBRATE_PSEUDONYM_KEY`` (hex), else
    ``<workspace>/pseudonym.key``, created with mode 0600 when missing.

    The key lives outside the database file: whoever has the database alone cannot
    recompute or reverse a pseudonym. With PostgreSQL (no workspace directory) set the
    environment variable. The environment wins over the file so a deployment can keep the
    key in its secret store.
    """
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _parse_hex_key(env[KEY_ENV], where=f"environment variable {KEY_ENV}")
    if workspace is None:
        raise InputError(
            "no pseudonym key: neither a workspace nor the environment variable is set.",
            hint=f"Pass --workspace DIR (the key is kept in DIR/{KEY_FILENAME}) or set {KEY_ENV}.",
        )
    path = Path(workspace) / KEY_FILENAME
    if path.exists():
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings.warn(
                f"{path} can be read by other users; run 'chmod 600 {path}'.",
                stacklevel=2,
            )
        return _parse_hex_key(path.read_text(encoding="ascii", errors="replace"), where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # write a complete temporary file, then link it into place: a process racing us
    # either wins (and we read its key) or sees the whole file, never an empty one
    tmp = path.with_name(f".{KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return _parse_hex_key(path.read_text(encoding="ascii", errors="replace"), where=str(path))
    finally:
        tmp.unlink(missing_ok=True)
    return key


def key_id(key: bytes) -> str:
    """A public 16-hex-digit id of ``key``: store it beside the fingerprints to notice a
    database opened with another key (its pseudonyms would not match)."""
    return hmac.new(_check_key(key), b"calibrate-key-id", hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, namespace: str, value: str) -> str:
    return hmac.new(key, f"{namespace}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _token(key: bytes, prefix: str, namespace: str, value: str) -> str:
    return f"[{prefix}-{_mac(key, namespace, value)[:_HEX_DIGITS].upper()}]"


def rater_pseudonym(name: str, *, key: bytes) -> str:
    """The pseudonymous rater id for an assessor's real name, e.g. ``beoordelaar-3F9A1C``.

    The same hash as the token ``[beoordelaar-3F9A1C]`` that a roster entry with role
    ``beoordelaar`` gets in text, so ids and notes agree. The store keeps the mapping."""
    return _token(_check_key(key), "beoordelaar", "person", _identity(name))[1:-1]
