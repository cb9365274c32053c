"""Safe, bounded reading of a framework file's YAML, and the place inside a file a message
names (``outcomes[2].dimensions[0]``, line 14).

Limits (see :mod:`calibrate.frameworks.loader`, "Limits"): :data:`MAX_FILE_BYTES`, :data:`MAX_DEPTH`,
:data:`MAX_ALIASES`, :data:`MAX_NODES`; a value is quoted in a message up to
:data:`_SHOWN_CHARS` characters.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

from calibrate.errors import FrameworkError


#: The newest file format this version of calibrate reads (it reads 1 up to this one).
SCHEMA_VERSION = 1

#: Where the built-in framework files live.
DATA_DIR = Path(__file__).with_name("data")

#: Largest framework file read, in bytes.
MAX_FILE_BYTES = 1_000_000

#: Deepest nesting of YAML collections.
MAX_DEPTH = 32

#: Most YAML aliases (``*name``) in one file.
MAX_ALIASES = 100

#: Most values in one file once its aliases are expanded.
MAX_NODES = 200_000

_SHOWN_CHARS = 60

_YAML_SUFFIXES = (".yaml", ".yml")


@functools.lru_cache(maxsize=1)
def _builtin_data() -> dict[str, Any]:
    """Built-in file name -> its parsed content. Package data: parsed once per process."""
    return {path.name: _read_yaml(path, str(path), cache=False) for path in sorted(DATA_DIR.glob("*.yaml"))}


# =========================================================================== places
class _Place:
    """A place in a framework file: the file as shown to the user and a path inside it."""

    def __init__(self, file: str, prefix: tuple = ()):
        self.file, self.prefix = file, prefix

    def at(self, *path: str | int) -> _Place:
        return _Place(self.file, self.prefix + path)

    def error(self, message: str, *path: str | int, hint: str | None = None) -> FrameworkError:
        where = _path_text(self.prefix + path)
        return FrameworkError(message, location=f"{self.file}: {where}" if where else self.file, hint=hint)


def _path_text(steps: tuple) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{_short(step)}" if out else _short(step))
    return out


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{value!r} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{_short(repr(value))} ({type(value).__name__})"


# =========================================================================== YAML reading
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep."

_TOO_DEEP_HINT = (
    "A framework file nests about 8 levels (outcomes, dimensions, indicators); check the brackets and the indentation."
)


class _Refused(Exception):
    """A limit of the bounded loader was passed (``mark``: where in the file)."""

    def __init__(self, message: str, hint: str, mark: Any):
        super().__init__(message)
        self.message, self.hint, self.mark = message, hint, mark


if yaml.__with_libyaml__:  # libyaml's parser, PyYAML's composer (so the limits below apply)
    from yaml._yaml import CParser

    class _SafeBase(Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _SafeBase = yaml.SafeLoader


class _BoundedLoader(_SafeBase):
    """PyYAML's safe loader with limits on depth, aliases and expanded size; duplicate
    keys in a mapping are refused (YAML keeps the last)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = self._nodes = self._aliases = 0
        self._sizes: dict[int, int] = {}  # id of an anchored node -> values it expands to
        self._open: set[str] = set()  # anchors whose node is still being read

    def compose_node(self, parent, index):
        event = self.peek_event()
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(
                    f"more than {MAX_ALIASES} YAML aliases (*name).",
                    "Write the repeated parts out, or split the file with ref: parts.",
                    event.start_mark,
                )
            if event.anchor in self._open:
                raise _Refused(
                    "a YAML alias inside its own anchor (a structure that contains itself).", "Remove the alias.", event.start_mark
                )
            node = super().compose_node(parent, index)
            self._count(self._sizes.get(id(node), 1), event)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(_TOO_DEEP, _TOO_DEEP_HINT, event.start_mark)
        start = self._nodes
        self._count(1, event)
        if event.anchor is not None:
            self._open.add(event.anchor)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if event.anchor is not None:
            self._open.discard(event.anchor)
            self._sizes[id(node)] = self._nodes - start
        return node

    def _count(self, n: int, event) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise _Refused(
                f"more than {MAX_NODES:,} values once its YAML aliases are expanded.",
                "A framework file holds a few thousand values; remove the aliases that repeat large parts.",
                event.start_mark,
            )

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict, set)):
                continue  # unhashable: PyYAML's own check refuses it below
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_short(key)!r} (first at line {seen[key].line + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, shown: str, *, cache: bool = True) -> Any:
    """The parsed content of a framework file, within the limits; never its text in an error.

    A built-in file comes from the per-process cache (the loader never changes parsed data).
    """
    if cache and path.parent == DATA_DIR and path.name in _builtin_data():
        return _builtin_data()[path.name]
    place = _Place(shown)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise place.error("is a folder, not a framework file.", hint="Pass the path of a .yaml file.")
        if not stat.S_ISREG(mode):
            raise place.error("is not a regular file.", hint="Pass the path of a .yaml file.")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise place.error("file not found.") from None
    except OSError as exc:
        raise place.error(f"cannot be read ({exc.strerror}).") from None
    if len(raw) > MAX_FILE_BYTES:
        raise place.error(
            f"larger than {MAX_FILE_BYTES // 1_000_000} MB, the most a framework file may have.",
            hint="A framework file is a few tens of kB (the built-in kijkkader is 25 kB); split it with ref: parts.",
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise place.error("UTF-16 text.", hint="Save the file as UTF-8.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise place.error(f"not UTF-8 text ({exc.reason} at byte {exc.start}).", hint="Save the file as UTF-8.") from None
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader equivalent
    except _Refused as exc:
        raise _Place(shown, (_line(exc.mark),)).error(f"refused: {exc.message}", hint=exc.hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or type(exc).__name__
        if "maximum nesting depth" in problem:  # newer libyaml stops at 1,000 levels while it scans ahead
            raise _Place(shown, (_line(mark),) if mark else ()).error(f"refused: {_TOO_DEEP}", hint=_TOO_DEEP_HINT) from None
        raise _Place(shown, (_line(mark),) if mark else ()).error(
            f"not valid YAML: {problem}.",
            hint="Check the indentation and quote texts that contain ': ' or start with a special character.",
        ) from None


def _line(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"
