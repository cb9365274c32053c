"""Reading framework files (YAML) into :class:`~.model.Framework` objects.

Owns the built-in data directory, safe and bounded YAML reading, ``ref:`` and ``override:``
resolution, the checks that span parts, and the translation of every problem into a
:class:`~calibrate.errors.FrameworkError` that names the file, the path inside it (e.g.
``outcomes[2].dimensions[0].indicators[3]``), what is wrong and the way out. The format
itself (``schema_version`` 1) is the set of pydantic models in
:mod:`calibrate.frameworks.files`.

File format
-----------
Every file starts with a header::

    schema_version: 1          # the file format; another one is refused with a clear message
    kind: framework            # framework | phase_table | scale | profiles | rules
    id: han-wpl2-2025
    version: "2025.1"          # the content's version, as text
    title: ...
    source: {file: <seed file>, section: <section>}

A ``framework`` file holds ``outcomes`` (the kijkkaders) and optionally ``phase_table``,
``scale``, ``profiles``, ``rules`` and ``decision``. Each of these parts is written
inline or as ``{ref: other-file.yaml}``; ``scale`` also takes ``override:`` with keys that
replace those of the referenced scale (e.g. other level names or order).

References
----------
A ``ref`` names a ``.yaml``/``.yml`` file in the folder of the referring file or below it
(``ref: schaal.yaml``, ``ref: delen/schaal.yaml``), or one of calibrate's own files as
``builtin:<name>.yaml``. Absolute paths, ``..`` and links that lead out of the folder are
refused: a framework folder is self-contained (copy it and it still loads), and a
framework file someone hands you cannot make calibrate read, or print, any other file.

Limits
------
A framework file is read with PyYAML's safe loader (libyaml's parser when present; no
Python objects, no custom tags), and refused before any work on its content when it
exceeds :data:`MAX_FILE_BYTES` (1 MB; the built-in kijkkader is 25 kB), nests deeper than
:data:`MAX_DEPTH` (32 levels; the format needs 8), uses more than :data:`MAX_ALIASES` YAML
aliases (``*name``) or would expand to more than :data:`MAX_NODES` values once its aliases
are followed (the "billion laughs" pattern: a small file that unfolds into millions of
values). Error messages quote at most :data:`_SHOWN_CHARS` characters of a value.
"""

from __future__ import annotations

import difflib
import functools
import os
import stat
import types
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Callable, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

from calibrate.errors import FrameworkError, InputError
from calibrate.frameworks import files as f
from calibrate.frameworks.model import (
    VERDICT_CODES,
    CountBand,
    DecisionRule,
    DecisionSpec,
    Dimension,
    Framework,
    Indicator,
    Level,
    Outcome,
    Phase,
    PhaseDimension,
    PhaseProfile,
    PhaseTable,
    ProfileCell,
    ProfileGap,
    RubricScale,
    SeedSource,
    build_items,
)

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


# =========================================================================== public API
def builtin_frameworks() -> list[str]:
    """Ids of the built-in frameworks (files of ``kind: framework`` in the data directory)."""
    return sorted(_builtin_index())


def as_framework(framework: "Framework | str", *, where: str | None = None) -> Framework:
    """``framework`` itself, or the framework a framework id names (:func:`load_framework`);
    anything else is an :class:`InputError` naming the parameter (of ``where``)."""
    if isinstance(framework, Framework):
        return framework
    if isinstance(framework, str):
        return load_framework(framework)
    of = f" of {where}" if where else ""
    raise InputError(
        f"The 'framework' parameter{of} must be a Framework or a framework id, got {type(framework).__name__}.",
        hint="Pass load_framework('han-wpl2-2025') or store.framework().",
    )


def load_framework(name_or_path: str | os.PathLike[str]) -> Framework:
    """Load and validate a framework: a built-in id or the path of a YAML file.

    Parameters
    ----------
    name_or_path
        A built-in id (see :func:`builtin_frameworks`, e.g. ``"han-wpl2-2025"``) or a path
        to a framework file (``.yaml``/``.yml``) of another institute.

    Returns
    -------
    Framework
        Frozen; ``framework.items()`` lists the score-table items in form order.

    Raises
    ------
    FrameworkError
        When the file is missing, is not YAML, exceeds a limit (see the module docstring)
        or does not validate. The message names the file and the path inside it (e.g.
        ``outcomes[2].dimensions[0].indicators[3]``).

    Examples
    --------
    >>> fw = load_framework("han-wpl2-2025")
    >>> fw.outcome("leerklimaat").name
    'Creëren van positief leerklimaat'
    >>> fw.item("leerklimaat.klassenmanagement.1").kind
    'indicator'
    """
    return _Reader(_resolve_framework_path(name_or_path)).read()


@functools.lru_cache(maxsize=1)
def _builtin_data() -> dict[str, Any]:
    """Built-in file name -> its parsed content. Package data: parsed once per process."""
    return {path.name: _read_yaml(path, str(path), cache=False) for path in sorted(DATA_DIR.glob("*.yaml"))}


def _builtin_files(kind: str) -> list[str]:
    """Names of the built-in files of one kind."""
    return [name for name, data in _builtin_data().items() if isinstance(data, dict) and data.get("kind") == kind]


def _builtin_index() -> dict[str, Path]:
    """Built-in framework id -> its file."""
    return {str(_builtin_data()[name].get("id")): DATA_DIR / name for name in _builtin_files("framework")}


def _resolve_framework_path(name_or_path: str | os.PathLike[str]) -> Path:
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise FrameworkError(
            f"load_framework() takes a built-in id or a file path, got {type(name_or_path).__name__}.",
            hint=f"Built-in frameworks: {', '.join(builtin_frameworks())}.",
        )
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or text.endswith(_YAML_SUFFIXES) or os.sep in text or "/" in text:
        if Path(text).suffix.lower() not in _YAML_SUFFIXES:
            raise _Place(text).error(
                "not a framework file: a framework file is YAML text ending in .yaml or .yml.",
                hint=f"Pass the path of a framework file, or a built-in id ({', '.join(builtin_frameworks())}).",
            )
        return Path(text)
    if text in _builtin_index():
        return _builtin_index()[text]
    raise FrameworkError(
        f"No built-in framework {_short(text)!r}.",
        hint=f"Built-in frameworks: {', '.join(builtin_frameworks())}; or pass the path of a framework file (.yaml).",
    )


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


# =========================================================================== headers
def _check_header(data: Any, place: _Place, kind: str) -> None:
    """The top, ``schema_version`` and ``kind`` of a file, before anything else: a file of
    another format or kind has other keys."""
    if not isinstance(data, dict):
        what = {type(None): "empty", str: "a text", list: "a list", bool: "a yes/no value"}.get(type(data), "a value")
        raise place.error(
            f"not a {kind} file: its top level is {what}, not a mapping of keys.",
            hint=f"A framework file is YAML with one 'key: value' per line, starting with 'schema_version: {SCHEMA_VERSION}' "
            f"and 'kind: {kind}'.",
        )
    understood = f"schema_version {', '.join(str(v) for v in range(1, SCHEMA_VERSION + 1))}"
    if "schema_version" not in data:
        raise place.error(
            "missing key 'schema_version'.",
            hint=f"This version of calibrate reads {understood}: start the file with 'schema_version: {SCHEMA_VERSION}'.",
        )
    version = data["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise place.error(
            f"expected a whole number of at least 1, got {_describe(version)}.",
            "schema_version",
            hint=f"This version of calibrate reads {understood} (file formats are numbered 1, 2, ..., without "
            f"decimals or quotes). Write 'schema_version: {SCHEMA_VERSION}' if the file follows this format; a file "
            "for a newer format needs a newer calibrate (pip install -U calibrate).",
        )
    if version > SCHEMA_VERSION:
        raise place.error(
            f"this file uses schema_version {version}, newer than this version of calibrate reads ({understood}).",
            "schema_version",
            hint=f"Upgrade calibrate (pip install -U calibrate), or use a file written for schema_version {SCHEMA_VERSION}.",
        )
    if "kind" not in data:
        raise place.error("missing key 'kind'.", hint=f"Add 'kind: {kind}'.")
    found = data["kind"]
    if found not in f.KINDS:
        raise place.error(f"unknown kind {_describe(found)}.", "kind", hint=f"Allowed: {', '.join(f.KINDS)}.")
    if found != kind:
        raise place.error(f"expected a file of kind {kind!r}, got {found!r}.", "kind")


# =========================================================================== validation
def _validate(model: type[BaseModel], data: Any, place: Callable[[Any], _Place]) -> Any:
    """``model`` validated from ``data``; ``place(first key)`` says where ``data`` lives."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        if first["type"] == "missing":  # a mistyped key shows as missing too: name the typo
            first = next(
                (e for e in errors if e["type"] == "extra_forbidden" and e["loc"][:-1] == first["loc"][:-1]), first
            )
        path, message, hint = _explain(first, model)
        if len(errors) > 1:
            hint = f"{hint + ' ' if hint else ''}({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this part.)"
        raise place(path[0] if path else None).error(message, *path, hint=hint) from None


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            tp = next(a for a in get_args(tp) if a is not type(None))
        else:
            return tp


def _walk(model: type[BaseModel], loc: tuple) -> tuple[tuple, type[BaseModel], Any, str | None]:
    """Follow a pydantic error location through the models: (path in the file, the model
    holding the last step, the type at the location, the rule kind passed on the way)."""
    tp: Any = model
    path: list = []
    parent, tag, tagged = model, None, None
    for step in loc:
        if step == "[key]":  # pydantic's marker for a bad key of a mapping
            continue
        tp = _unwrap(tp)
        if get_origin(tp) in (Union, types.UnionType):  # a discriminated union: pydantic adds the tag to loc
            member = next((m for m in get_args(tp) if step in get_args(m.model_fields["kind"].annotation)), None)
            if member is not None:
                tp = tagged = member
                tag = step
                continue
        path.append(step)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            parent, tag = tp, tag if tp is tagged else None
            field = tp.model_fields.get(step) if isinstance(step, str) else None
            tp = field.annotation if field else Any
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            tp = Any
    return tuple(path), parent, _unwrap(tp), tag


_PATTERN_HINTS = {
    f.SLUG_PATTERN: "Ids are lower-case ascii letters, digits and underscores, starting with a letter "
    "(e.g. klassenmanagement, groeps_en_communicatieproces).",
    f.FILE_ID_PATTERN: "Use lower-case letters, digits, '-', '_' and '.', e.g. han-wpl2-2025.",
}
_QUOTE_HINT = 'Put it in quotes, e.g. "1" or "no go": YAML reads 1, 2.0, yes, no and dates as numbers, booleans and dates.'


def _explain(error: dict, model: type[BaseModel]) -> tuple[tuple, str, str | None]:
    """(path in the file, message, hint) for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc = tuple(error["loc"]) + (tuple(ctx.get("at", ())) if kind == "calibrate" else ())
    path, parent, target, tag = _walk(model, loc)
    of_kind = f" (for a rule of kind {tag})" if tag else ""
    if kind == "calibrate":
        message = ctx["message"].rstrip(".")
        if ctx.get("also"):
            also = _walk(model, tuple(error["loc"]) + tuple(ctx["also"]))[0]
            message += f" (also at {_path_text(also)})"
        return path, message + ".", ctx.get("hint")
    if kind == "missing":
        required = [k for k, v in parent.model_fields.items() if v.is_required()]
        return path[:-1], f"missing key {path[-1]!r}{of_kind}.", f"Required keys here: {', '.join(required)}."
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(path[-1]), list(parent.model_fields), n=1)
        maybe = f"Did you mean {close[0]!r}? " if close else ""
        return path, f"unknown key {_short(path[-1])!r}{of_kind}.", f"{maybe}Allowed keys here: {', '.join(parent.model_fields)}."
    if kind == "string_type":
        hint = _QUOTE_HINT if isinstance(value, (bool, int, float)) or hasattr(value, "isoformat") else None
        return path, f"expected a text, got {_describe(value)}.", hint
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") in _PATTERN_HINTS:
            return path, f"{_short(value)!r} is not a valid id.", _PATTERN_HINTS[ctx["pattern"]]
        return path, "expected a text, got an empty one.", None
    if kind == "list_type":
        return path, f"expected a list (lines starting with '- '), got {_describe(value)}.", None
    if kind == "too_short":
        n = ctx["min_length"]
        return path, f"expected at least {n} entr{'y' if n == 1 else 'ies'}, got {ctx['actual_length']}.", None
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return path, f"expected a mapping (key: value lines), got {_describe(value)}.", None
    if kind == "bool_type":
        return path, f"expected true or false, got {_describe(value)}.", None
    if kind == "int_type":
        return path, f"expected a whole number, got {_describe(value)}.", None
    if kind == "greater_than_equal":
        return path, f"expected a whole number of at least {ctx['ge']}, got {value}.", None
    if kind == "literal_error":
        allowed = get_args(target) if get_origin(target) is Literal else ()
        shown = _short(repr(value)) if isinstance(value, str) else _describe(value)
        return path, f"unknown {path[-1]} {shown}.", f"Allowed: {', '.join(allowed)}." if allowed else None
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [t for m in get_args(target) for t in get_args(m.model_fields["kind"].annotation)]
        if kind == "union_tag_not_found":
            return path, "missing key 'kind'.", f"Allowed kinds: {', '.join(tags)}."
        return path + ("kind",), f"unknown kind {_short(ctx['tag'])!r}.", f"Allowed: {', '.join(tags)}."
    return path, f"{error['msg']}.", None


# =========================================================================== the reader
class _Reader:
    """Reads one framework file and the files it refers to into a :class:`Framework`."""

    def __init__(self, path: Path):
        self.path = path
        self.place = _Place(str(path))

    def read(self) -> Framework:
        data = _read_yaml(self.path, str(self.path))
        _check_header(data, self.place, "framework")
        doc: f.FrameworkDoc = _validate(f.FrameworkDoc, data, lambda _: self.place)
        outcomes = tuple(_outcome(o) for o in doc.outcomes)
        table = self._phase_table(doc.phase_table) if doc.phase_table is not None else None
        scale = self._scale(doc.scale) if doc.scale is not None else None
        profiles = self._profiles(doc.profiles, table) if doc.profiles is not None else {}
        rules = self._rules(doc.rules, scale) if doc.rules is not None else {}
        decision = self._decision(doc.decision, outcomes, rules) if doc.decision is not None else None
        framework = Framework(
            id=doc.id,
            version=doc.version,
            title=doc.title,
            outcomes=outcomes,
            phase_table=table,
            scale=scale,
            profiles=profiles,
            rules=rules,
            decision=decision,
            seed=_seed(doc.source),
            source=self.path.resolve(),
        )
        seen: dict[str, str] = {}
        for item in build_items(framework):
            if item.id in seen:
                raise self.place.error(
                    f"item id {item.id!r} is used twice ({seen[item.id]} and {item.kind}).",
                    hint="Rename the outcome, dimension or decision item so every item id is unique.",
                )
            seen[item.id] = item.kind
        return framework

    # -- parts: inline or ref ------------------------------------------------------------
    def _part(self, kind: str, value: dict) -> tuple[Any, _Place, dict]:
        """A part validated: (its model, the place of its content, its metadata)."""
        model = f.PARTS[kind]
        here = self.place.at(kind)
        if "ref" not in value:
            doc = _validate(model, value, lambda _: here)
            return doc, here, {"title": doc.title, "source": _seed(doc.source)}
        ref: f.RefDoc = _validate(f.RefDoc, value, lambda _: here)
        content = [k for k in model.model_fields if k not in f.PartDoc.model_fields]
        if ref.override is not None and kind != "scale":
            raise here.error("unknown key 'override'.", "override", hint="Only a scale takes an override.")
        override = ref.override or {}
        for key in override:
            if key not in content:
                raise here.error(
                    f"unknown key {_short(key)!r}.", "override", key, hint=f"Keys an override may replace: {', '.join(content)}."
                )
        target = self._ref_target(ref.ref, here.at("ref"), kind)
        there = _Place(str(target))
        data = _read_yaml(target, str(target))
        _check_header(data, there, kind)
        header_keys = f.HeaderDoc.model_fields
        header: f.HeaderDoc = _validate(f.HeaderDoc, {k: v for k, v in data.items() if k in header_keys}, lambda _: there)
        body = {k: v for k, v in data.items() if k not in header_keys} | override
        doc = _validate(model, body, lambda key: here.at("override") if key in override else there)
        return doc, there, {"id": header.id, "version": header.version, "title": header.title, "source": _seed(header.source)}

    def _ref_target(self, ref: str, place: _Place, kind: str) -> Path:
        builtin = _builtin_files(kind)
        way_out = (
            f"A ref names a {kind} file (kind: {kind}, ending in .yaml) in the folder of {self.path.name} or below "
            f"it, e.g. 'ref: {kind.replace('_', '-')}.yaml'; or calibrate's own: {', '.join('builtin:' + b for b in builtin)}."
        )
        if ref.startswith("builtin:"):
            name = ref[len("builtin:"):]
            if name not in _builtin_data():
                raise place.error(f"refers to {_short(ref)!r}, but calibrate has no such file.", hint=way_out)
            return DATA_DIR / name
        rel = PurePosixPath(ref.replace("\\", "/"))
        folder = self.path.parent
        target = folder / rel
        if (
            rel.is_absolute()
            or PureWindowsPath(ref).anchor
            or ".." in rel.parts
            or rel.suffix.lower() not in _YAML_SUFFIXES
        ):
            raise place.error(f"refers to {_short(ref)!r}, which is not a file a framework may refer to.", hint=way_out)
        if not target.is_file():
            raise place.error(f"refers to {_short(ref)!r}, but there is no file {_short(target)}.", hint=way_out)
        if not target.resolve().is_relative_to(folder.resolve()):
            raise place.error(f"refers to {_short(ref)!r}, a link that leads out of the framework's folder.", hint=way_out)
        return target

    # -- phase table, scale --------------------------------------------------------------
    def _phase_table(self, value: dict) -> PhaseTable:
        doc, _, meta = self._part("phase_table", value)
        codes = [p.code for p in doc.phases]
        return PhaseTable(
            phases=tuple(Phase(code=p.code, name=p.name) for p in doc.phases),
            dimensions=tuple(
                PhaseDimension(id=r.id, name=r.name, descriptors={c: r.descriptors[c] for c in codes}) for r in doc.dimensions
            ),
            **meta,
        )

    def _scale(self, value: dict) -> RubricScale:
        doc, _, meta = self._part("scale", value)
        levels = tuple(
            Level(code=str(i), position=i, name=lv.name, named_in_seed=lv.named_in_seed, note=lv.note,
                  descriptor=lv.descriptor)
            for i, lv in enumerate(doc.levels, start=1)
        )
        code = {lv.name: lv.code for lv in levels}
        return RubricScale(
            levels=levels,
            thresholds={name: code[name] for name in doc.thresholds},
            order_inferred=doc.order.inferred if doc.order else False,
            order_reasoning=doc.order.reasoning if doc.order else None,
            **meta,
        )

    # -- profiles: cells name the phase table's dimensions and phases --------------------
    def _profiles(self, value: dict, table: PhaseTable | None) -> dict[str, PhaseProfile]:
        if table is None:
            raise self.place.error(
                "profiles need a phase_table: their cells name its dimensions and phases.",
                "profiles",
                hint="Add phase_table (inline or {ref: ...}) to the framework.",
            )
        doc, there, meta = self._part("profiles", value)
        dims = [d.id for d in table.dimensions]
        profiles = {}
        for i, p in enumerate(doc.profiles):
            at = there.at("profiles", i)
            source = _seed(p.source) or meta["source"]
            cells = []
            for j, c in enumerate(p.cells):
                _known(c.dimension, dims, "dimension of the phase table", at.at("cells", j, "dimension"))
                _known(c.phase, list(table.codes), "phase code", at.at("cells", j, "phase"))
                expected = table.dimension(c.dimension).descriptors[c.phase]
                if c.descriptor is not None and c.descriptor != expected:
                    raise at.error(
                        f"does not match the phase table's cell for {c.dimension} / {c.phase}.",
                        "cells", j, "descriptor",
                        hint=f"The table says: {expected!r}.",
                    )
                cells.append(
                    ProfileCell(
                        dimension_id=c.dimension,
                        phase=c.phase,
                        quote=c.quote,
                        source=_seed(c.source) or source,
                        descriptor=expected,
                        inferred=c.inferred,
                        note=c.note,
                    )
                )
            for j, g in enumerate(p.not_expected):
                _known(g.dimension, dims, "dimension of the phase table", at.at("not_expected", j, "dimension"))
            profiles[p.name] = PhaseProfile(
                name=p.name,
                cells=tuple(cells),
                description=p.description,
                meaning=p.meaning,
                not_expected=tuple(ProfileGap(dimension_id=g.dimension, reason=g.reason) for g in p.not_expected),
                source=source,
            )
        return profiles

    # -- rules: a threshold names a level of the scale -----------------------------------
    def _rules(self, value: dict, scale: RubricScale | None) -> dict[str, DecisionRule]:
        doc, there, _ = self._part("rules", value)
        rules = {}
        for i, r in enumerate(doc.rules):
            common = dict(
                id=r.id, title=r.title, kind=r.kind, results=tuple(r.results), quote=r.quote,
                source=_seed(r.source), note=r.note, n_items=r.n_items, max_items=r.max_items,
            )
            if r.kind == "count_bands":
                bands = tuple(CountBand(result=b.result, minimum=dict(b.min), maximum=dict(b.max)) for b in r.bands)
                rules[r.id] = DecisionRule(**common, codes=tuple(r.codes), bands=bands, otherwise=r.otherwise)
                continue
            if scale is None:
                raise there.error(
                    "a threshold rule compares rubric levels, but the framework has no scale.",
                    "rules", i, "at_least",
                    hint="Add scale (inline or {ref: ...}) to the framework.",
                )
            known = list(scale.thresholds) + [lv.name for lv in scale.levels if lv.name not in scale.thresholds]
            if r.at_least not in known:
                raise there.error(
                    f"threshold {_short(r.at_least)!r} names no level of the scale.",
                    "rules", i, "at_least",
                    hint=f"Use one of: {', '.join(known)}.",
                )
            rules[r.id] = DecisionRule(**common, at_least=r.at_least, require=r.require)
        return rules

    # -- decision: a verdict-counting rule over summative outcomes -----------------------
    def _decision(self, doc: f.DecisionDoc, outcomes: tuple[Outcome, ...], rules: dict[str, DecisionRule]) -> DecisionSpec:
        at = self.place.at("decision")
        _known(doc.rule, list(rules), "rule", at.at("rule"))
        rule = rules[doc.rule]
        if rule.kind != "count_bands" or set(rule.codes) != set(VERDICT_CODES):
            raise at.error(
                f"rule {doc.rule!r} does not count verdicts: the decision combines the outcomes' "
                f"verdicts ({', '.join(VERDICT_CODES)}).",
                "rule",
                hint="Use a count_bands rule with codes ['niet voldaan', 'voldaan'].",
            )
        by_id = {o.id: o for o in outcomes}
        for i, oid in enumerate(doc.outcomes):
            _known(oid, list(by_id), "outcome", at.at("outcomes", i))
            if not by_id[oid].summative:
                raise at.error(
                    f"outcome {oid!r} is formatief and has no verdict to decide on.", "outcomes", i,
                    hint="List only summatief outcomes.",
                )
            if oid in doc.outcomes[:i]:
                raise at.error(f"duplicate outcome {oid!r}.", "outcomes", i, hint="Each outcome must be unique.")
        n = len(doc.outcomes)
        if rule.n_items is not None and rule.n_items != n:
            raise at.error(f"rule {doc.rule!r} takes exactly {rule.n_items} values, got {n} outcomes.", "outcomes")
        if rule.max_items is not None and n > rule.max_items:
            raise at.error(f"rule {doc.rule!r} takes at most {rule.max_items} values, got {n} outcomes.", "outcomes")
        return DecisionSpec(item_id=doc.item, rule_id=doc.rule, outcomes=tuple(doc.outcomes), note=doc.note)


# =========================================================================== builders
def _seed(source: f.SourceDoc | None) -> SeedSource | None:
    return SeedSource(file=source.file, section=source.section) if source is not None else None


def _known(value: str, allowed: list[str], what: str, place: _Place) -> None:
    if value not in allowed:
        raise place.error(f"unknown {what} {_short(value)!r}.", hint=f"Known: {', '.join(allowed)}.")


def _outcome(o: f.OutcomeDoc) -> Outcome:
    dimensions = []
    for d in o.dimensions:
        did = f"{o.id}.{d.id}"
        indicators = tuple(
            Indicator(id=f"{did}.{n}", text=text, outcome_id=o.id, dimension_id=did, assessed=d.assessed)
            for n, text in enumerate(d.indicators, start=1)
        )
        dimensions.append(Dimension(id=did, name=d.name, indicators=indicators, assessed=d.assessed, note=d.note))
    return Outcome(
        id=o.id,
        name=o.name,
        description=o.description,
        assessment=o.assessment,
        level_name=o.level_name,
        dimensions=tuple(dimensions),
        source=_seed(o.source),
        numbering_note=o.numbering_note,
        assessment_note=o.assessment_note,
    )
