"""What is wrong with a framework file, in words: the header check, and pydantic's
validation errors turned into a :class:`~calibrate.errors.FrameworkError` naming the
file, the path inside it, what is wrong and the way out.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Callable, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from calibrate.frameworks import files as f
from .reading import SCHEMA_VERSION, _Place, _describe, _path_text, _short


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
