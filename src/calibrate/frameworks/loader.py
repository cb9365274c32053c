"""Reading and validating framework files (YAML) into :class:`~.model.Framework` objects.

Owns the file format (``schema_version`` 1), the built-in data directory, ``ref:`` and
``override:`` resolution, and every check, each failing with a
:class:`~calibrate.errors.FrameworkError` that names the file and the path inside it.

File format
-----------
Every file starts with a header::

    schema_version: 1          # the file format; a newer one is refused with a clear message
    kind: framework            # framework | phase_table | scale | profiles | rules
    id: han-wpl2-2025
    version: "2025.1"          # the content's version, as text
    title: ...
    source: {file: <seed file>, section: <section>}

A ``framework`` file holds ``outcomes`` (the kijkkaders) and optionally ``phase_table``,
``scale``, ``profiles``, ``rules`` and ``decision``. Each of these parts is written
inline or as ``{ref: other-file.yaml}`` (relative to the referring file; ``builtin:name.yaml``
points into the built-in data directory); ``scale`` also takes ``override:`` with keys
that replace those of the referenced scale (e.g. other level names or order).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from calibrate.errors import FrameworkError
from calibrate.frameworks.model import (
    ASSESSMENT_MODES,
    PHASE_PREFIX,
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
    VERDICT_CODES,
    build_items,
)

#: The newest file format this version of calibrate reads.
SCHEMA_VERSION = 1
#: Where the built-in framework files live.
DATA_DIR = Path(__file__).with_name("data")

_KINDS = ("framework", "phase_table", "scale", "profiles", "rules")
_HEADER_KEYS = ("schema_version", "kind", "id", "version", "title", "source")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_FILE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_RULE_KINDS = ("count_bands", "threshold")
_REQUIRE = ("all", "more_than_half")
_PROFILE_MEANINGS = ("at_least",)

# Content keys of each part (besides the header keys of a separate file).
_PART_KEYS = {
    "phase_table": (("phases", "dimensions"), ()),
    "scale": (("levels",), ("order", "thresholds")),
    "profiles": (("profiles",), ()),
    "rules": (("rules",), ()),
}


# =========================================================================== public API
def builtin_frameworks() -> list[str]:
    """Ids of the built-in frameworks (files of ``kind: framework`` in the data directory)."""
    ids = []
    for path in sorted(DATA_DIR.glob("*.yaml")):
        data = _read_yaml(path, str(path.name))
        if isinstance(data, dict) and data.get("kind") == "framework" and "id" in data:
            ids.append(str(data["id"]))
    return sorted(ids)


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
        When the file is missing, is not YAML, or does not validate. The message names the
        file and the path inside it (e.g. ``outcomes[2].dimensions[0].indicators[3]``).

    Examples
    --------
    >>> fw = load_framework("han-wpl2-2025")
    >>> fw.outcome("leerklimaat").name
    'Creëren van positief leerklimaat'
    >>> fw.item("leerklimaat.klassenmanagement.1").kind
    'indicator'
    """
    path = _resolve_framework_path(name_or_path)
    return _FrameworkReader(path).read()


# =========================================================================== locations
@dataclass(frozen=True)
class _Loc:
    """A place in a framework file: the file as shown to the user and a path inside it."""

    file: str
    path: str = ""

    def key(self, key: str) -> _Loc:
        return _Loc(self.file, f"{self.path}.{key}" if self.path else key)

    def index(self, i: int) -> _Loc:
        return _Loc(self.file, f"{self.path}[{i}]")

    def error(self, message: str, *, hint: str | None = None) -> FrameworkError:
        location = f"{self.file}: {self.path}" if self.path else self.file
        return FrameworkError(message, location=location, hint=hint)


# =========================================================================== YAML reading
class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys in a mapping (YAML keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Loc(shown).error("file not found.") from None
    except UnicodeDecodeError as exc:
        raise _Loc(shown).error(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}).",
            hint="Save the file as UTF-8.",
        ) from None
    except OSError as exc:
        raise _Loc(shown).error(f"cannot be read ({exc.strerror}).") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise _Loc(shown, where).error(
            f"not valid YAML: {problem}.",
            hint="Check the indentation and quote texts that contain ': ' or start with a special character.",
        ) from None


def _resolve_framework_path(name_or_path: str | os.PathLike[str]) -> Path:
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise FrameworkError(
            f"load_framework() takes a built-in id or a file path, got {type(name_or_path).__name__}.",
            hint=f"Built-in frameworks: {', '.join(builtin_frameworks())}.",
        )
    text = os.fspath(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, os.PathLike)
        or text.endswith((".yaml", ".yml"))
        or os.sep in text
        or "/" in text
    )
    if looks_like_path:
        return Path(text)
    builtin = DATA_DIR / f"{text}.yaml"
    if builtin.is_file():
        data = _read_yaml(builtin, builtin.name)
        if isinstance(data, dict) and data.get("kind") == "framework":
            return builtin
    raise FrameworkError(
        f"No built-in framework {text!r}.",
        hint=f"Built-in frameworks: {', '.join(builtin_frameworks())}; "
        "or pass the path of a framework file (.yaml).",
    )


# =========================================================================== value checks
def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{value!r} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


def _mapping(value: Any, loc: _Loc, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise loc.error(f"expected a mapping (key: value lines), got {_describe(value)}.")
    allowed = required + optional
    for key in value:
        if key not in allowed:
            raise loc.key(str(key)).error(
                f"unknown key {key!r}.", hint=f"Allowed keys here: {', '.join(allowed)}."
            )
    for key in required:
        if key not in value:
            raise loc.error(f"missing key {key!r}.", hint=f"Required keys here: {', '.join(required)}.")
    return value


def _list(value: Any, loc: _Loc, *, min_len: int = 1) -> list:
    if not isinstance(value, list):
        raise loc.error(f"expected a list (lines starting with '- '), got {_describe(value)}.")
    if len(value) < min_len:
        raise loc.error(f"expected at least {min_len} entr{'y' if min_len == 1 else 'ies'}, got {len(value)}.")
    return value


def _text(value: Any, loc: _Loc) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, str):
        raise loc.error("expected a text, got an empty one.")
    hint = None
    if isinstance(value, (bool, int, float)):
        hint = 'Put it in quotes, e.g. "1" or "no go": YAML reads 1, 2.0, yes and no as numbers and booleans.'
    raise loc.error(f"expected a text, got {_describe(value)}.", hint=hint)


def _optional_text(value: Any, loc: _Loc) -> str | None:
    return None if value is None else _text(value, loc)


def _bool(value: Any, loc: _Loc) -> bool:
    if isinstance(value, bool):
        return value
    raise loc.error(f"expected true or false, got {_describe(value)}.")


def _int(value: Any, loc: _Loc, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise loc.error(f"expected a whole number, got {_describe(value)}.")
    if value < minimum:
        raise loc.error(f"expected a whole number of at least {minimum}, got {value}.")
    return value


def _slug(value: Any, loc: _Loc) -> str:
    text = _text(value, loc)
    if not _SLUG.match(text):
        raise loc.error(
            f"{text!r} is not a valid id.",
            hint="Ids are lower-case ascii letters, digits and underscores, starting with a letter "
            "(e.g. klassenmanagement, groeps_en_communicatieproces).",
        )
    return text


def _one_of(value: Any, loc: _Loc, allowed: tuple[str, ...], *, what: str) -> str:
    text = _text(value, loc)
    if text not in allowed:
        raise loc.error(f"unknown {what} {text!r}.", hint=f"Allowed: {', '.join(allowed)}.")
    return text


def _unique(pairs: list[tuple[str, _Loc]], *, what: str) -> None:
    seen: dict[str, _Loc] = {}
    for value, loc in pairs:
        if value in seen:
            raise loc.error(f"duplicate {what} {value!r} (also at {seen[value].path}).", hint=f"Each {what} must be unique.")
        seen[value] = loc


def _seed_source(value: Any, loc: _Loc) -> SeedSource:
    m = _mapping(value, loc, required=("file", "section"))
    return SeedSource(file=_text(m["file"], loc.key("file")), section=_text(m["section"], loc.key("section")))


# =========================================================================== file reader
class _FrameworkReader:
    """Reads one framework file and the files it refers to, checking every field."""

    def __init__(self, path: Path):
        self.path = path
        self.loc = _Loc(str(path))

    # -- header --------------------------------------------------------------------------
    @staticmethod
    def _header(data: Any, loc: _Loc, *, kind: str, content: tuple[tuple[str, ...], tuple[str, ...]]) -> dict:
        if not isinstance(data, dict):
            raise loc.error(f"expected a mapping at the top of the file, got {_describe(data)}.")
        # schema_version first: a newer file may use keys this version does not know.
        if "schema_version" not in data:
            raise loc.error(
                "missing key 'schema_version'.",
                hint=f"Start the file with 'schema_version: {SCHEMA_VERSION}'.",
            )
        version = data["schema_version"]
        vloc = loc.key("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise vloc.error(f"expected a whole number of at least 1, got {_describe(version)}.")
        if version > SCHEMA_VERSION:
            raise vloc.error(
                f"this file uses schema_version {version}, newer than this version of calibrate "
                f"reads (up to {SCHEMA_VERSION}).",
                hint="Upgrade calibrate (pip install -U calibrate), or use a file written for "
                f"schema_version {SCHEMA_VERSION}.",
            )
        # then kind: a file of another kind has other keys.
        if "kind" not in data:
            raise loc.error("missing key 'kind'.", hint=f"Add 'kind: {kind}'.")
        found = _one_of(data["kind"], loc.key("kind"), _KINDS, what="kind")
        if found != kind:
            raise loc.key("kind").error(f"expected a file of kind {kind!r}, got {found!r}.")
        required, optional = content
        m = _mapping(data, loc, required=_HEADER_KEYS + required, optional=optional)
        file_id = _text(m["id"], loc.key("id"))
        if not _FILE_ID.match(file_id):
            raise loc.key("id").error(
                f"{file_id!r} is not a valid id.",
                hint="Use lower-case letters, digits, '-', '_' and '.', e.g. han-wpl2-2025.",
            )
        _text(m["version"], loc.key("version"))
        _text(m["title"], loc.key("title"))
        _seed_source(m["source"], loc.key("source"))
        return m

    # -- parts: inline or ref ------------------------------------------------------------
    def _part(self, value: Any, loc: _Loc, *, kind: str) -> tuple[dict, Callable[[str], _Loc], dict]:
        """Resolve a part to (content, where-is-each-key, header-of-its-file)."""
        required, optional = _PART_KEYS[kind]
        if isinstance(value, dict) and "ref" in value:
            extra = ("override",) if kind == "scale" else ()
            m = _mapping(value, loc, required=("ref",), optional=extra)
            ref = _text(m["ref"], loc.key("ref"))
            if ref.startswith("builtin:"):
                target = DATA_DIR / ref[len("builtin:"):]
            else:
                target = (self.path.parent / ref)
            shown = str(target)
            if not target.is_file():
                raise loc.key("ref").error(
                    f"refers to {ref!r}, but there is no file {shown}.",
                    hint="A ref is relative to the file that contains it; 'builtin:<file>' "
                    f"refers to calibrate's own data ({', '.join(p.name for p in sorted(DATA_DIR.glob('*.yaml')))}).",
                )
            ref_loc = _Loc(shown)
            header = self._header(_read_yaml(target, shown), ref_loc, kind=kind, content=(required, optional))
            content = {k: header[k] for k in required + optional if k in header}
            owners = {k: ref_loc for k in content}
            if "override" in m:
                oloc = loc.key("override")
                override = _mapping(m["override"], oloc, required=(), optional=required + optional)
                for k, v in override.items():
                    content[k] = v
                    owners[k] = oloc
            return content, lambda k: owners.get(k, ref_loc).key(k), header
        m = _mapping(value, loc, required=required, optional=optional + ("title", "source"))
        return {k: m[k] for k in required + optional if k in m}, loc.key, {}

    # -- framework -----------------------------------------------------------------------
    def read(self) -> Framework:
        data = _read_yaml(self.path, str(self.path))
        m = self._header(
            data,
            self.loc,
            kind="framework",
            content=(("outcomes",), ("phase_table", "scale", "profiles", "rules", "decision")),
        )
        loc = self.loc
        outcomes = self._outcomes(m["outcomes"], loc.key("outcomes"))
        phase_table = self._phase_table(m["phase_table"], loc.key("phase_table")) if "phase_table" in m else None
        scale = self._scale(m["scale"], loc.key("scale")) if "scale" in m else None
        profiles = self._profiles(m["profiles"], loc.key("profiles"), phase_table) if "profiles" in m else {}
        rules = self._rules(m["rules"], loc.key("rules"), scale) if "rules" in m else {}
        decision = self._decision(m["decision"], loc.key("decision"), outcomes, rules) if "decision" in m else None
        framework = Framework(
            id=m["id"],
            version=m["version"],
            title=m["title"],
            outcomes=outcomes,
            phase_table=phase_table,
            scale=scale,
            profiles=profiles,
            rules=rules,
            decision=decision,
            seed=_seed_source(m["source"], loc.key("source")),
            source=self.path.resolve(),
        )
        self._check_item_ids(framework)
        return framework

    def _outcomes(self, value: Any, loc: _Loc) -> tuple[Outcome, ...]:
        entries = _list(value, loc)
        ids = []
        outcomes = []
        for i, entry in enumerate(entries):
            oloc = loc.index(i)
            m = _mapping(
                entry,
                oloc,
                required=("id", "name", "description", "assessment", "dimensions"),
                optional=("level_name", "source", "numbering_note", "assessment_note"),
            )
            oid = _slug(m["id"], oloc.key("id"))
            if oid == PHASE_PREFIX:
                raise oloc.key("id").error(
                    f"{oid!r} is reserved for the phase items (fase.<dimension>).", hint="Choose another id."
                )
            ids.append((oid, oloc.key("id")))
            outcomes.append(
                Outcome(
                    id=oid,
                    name=_text(m["name"], oloc.key("name")),
                    description=_text(m["description"], oloc.key("description")),
                    assessment=_one_of(m["assessment"], oloc.key("assessment"), ASSESSMENT_MODES, what="assessment"),
                    level_name=_optional_text(m.get("level_name"), oloc.key("level_name")),
                    dimensions=self._dimensions(m["dimensions"], oloc.key("dimensions"), oid),
                    source=_seed_source(m["source"], oloc.key("source")) if "source" in m else None,
                    numbering_note=_optional_text(m.get("numbering_note"), oloc.key("numbering_note")),
                    assessment_note=_optional_text(m.get("assessment_note"), oloc.key("assessment_note")),
                )
            )
        _unique(ids, what="outcome id")
        return tuple(outcomes)

    def _dimensions(self, value: Any, loc: _Loc, outcome_id: str) -> tuple[Dimension, ...]:
        entries = _list(value, loc)
        slugs = []
        dims = []
        for j, entry in enumerate(entries):
            dloc = loc.index(j)
            m = _mapping(entry, dloc, required=("id", "name", "indicators"), optional=("assessed", "note"))
            slug = _slug(m["id"], dloc.key("id"))
            slugs.append((slug, dloc.key("id")))
            did = f"{outcome_id}.{slug}"
            assessed = _bool(m["assessed"], dloc.key("assessed")) if "assessed" in m else True
            texts = _list(m["indicators"], dloc.key("indicators"))
            indicators = tuple(
                Indicator(
                    id=f"{did}.{n}",
                    text=_text(t, dloc.key("indicators").index(n - 1)),
                    outcome_id=outcome_id,
                    dimension_id=did,
                    assessed=assessed,
                )
                for n, t in enumerate(texts, start=1)
            )
            dims.append(
                Dimension(
                    id=did,
                    name=_text(m["name"], dloc.key("name")),
                    indicators=indicators,
                    assessed=assessed,
                    note=_optional_text(m.get("note"), dloc.key("note")),
                )
            )
        _unique(slugs, what="dimension id")
        return tuple(dims)

    # -- phase table ---------------------------------------------------------------------
    def _phase_table(self, value: Any, loc: _Loc) -> PhaseTable:
        content, where, header = self._part(value, loc, kind="phase_table")
        phases = []
        for i, entry in enumerate(_list(content["phases"], where("phases"), min_len=2)):
            ploc = where("phases").index(i)
            m = _mapping(entry, ploc, required=("code", "name"))
            phases.append(Phase(code=_slug(m["code"], ploc.key("code")), name=_text(m["name"], ploc.key("name"))))
        _unique([(p.code, where("phases").index(i).key("code")) for i, p in enumerate(phases)], what="phase code")
        codes = tuple(p.code for p in phases)
        rows = []
        for i, entry in enumerate(_list(content["dimensions"], where("dimensions"))):
            rloc = where("dimensions").index(i)
            m = _mapping(entry, rloc, required=("id", "name", "descriptors"))
            dloc = rloc.key("descriptors")
            desc = _mapping(m["descriptors"], dloc, required=(), optional=codes)
            for code in codes:
                if code not in desc:
                    raise dloc.error(f"missing the cell for phase {code!r}.", hint=f"Give one text per phase: {', '.join(codes)}.")
            rows.append(
                PhaseDimension(
                    id=_slug(m["id"], rloc.key("id")),
                    name=_text(m["name"], rloc.key("name")),
                    descriptors={code: _text(desc[code], dloc.key(code)) for code in codes},
                )
            )
        _unique([(r.id, where("dimensions").index(i).key("id")) for i, r in enumerate(rows)], what="dimension id")
        return PhaseTable(
            phases=tuple(phases),
            dimensions=tuple(rows),
            **self._part_meta(header),
        )

    # -- scale ---------------------------------------------------------------------------
    def _scale(self, value: Any, loc: _Loc) -> RubricScale:
        content, where, header = self._part(value, loc, kind="scale")
        levels = []
        for i, entry in enumerate(_list(content["levels"], where("levels"), min_len=2)):
            lloc = where("levels").index(i)
            m = _mapping(entry, lloc, required=("name",), optional=("code", "named_in_seed", "note", "descriptor"))
            position = i + 1
            if "code" in m:
                code = _text(m["code"], lloc.key("code"))
                if code != str(position):
                    raise lloc.key("code").error(
                        f"level codes are their positions on the scale, lowest first: expected {str(position)!r}, got {code!r}.",
                        hint="List the levels lowest first; to change the order, reorder the names.",
                    )
            levels.append(
                Level(
                    code=str(position),
                    position=position,
                    name=_text(m["name"], lloc.key("name")),
                    named_in_seed=_bool(m["named_in_seed"], lloc.key("named_in_seed")) if "named_in_seed" in m else True,
                    note=_optional_text(m.get("note"), lloc.key("note")),
                    descriptor=_optional_text(m.get("descriptor"), lloc.key("descriptor")),
                )
            )
        _unique([(lv.name, where("levels").index(i).key("name")) for i, lv in enumerate(levels)], what="level name")
        order_inferred, reasoning = False, None
        if "order" in content:
            oloc = where("order")
            m = _mapping(content["order"], oloc, required=("inferred",), optional=("reasoning",))
            order_inferred = _bool(m["inferred"], oloc.key("inferred"))
            reasoning = _optional_text(m.get("reasoning"), oloc.key("reasoning"))
        thresholds: dict[str, str] = {}
        if "thresholds" in content:
            tloc = where("thresholds")
            names = [lv.name for lv in levels]
            for i, name in enumerate(_list(content["thresholds"], tloc, min_len=0)):
                text = _text(name, tloc.index(i))
                if text not in names:
                    raise tloc.index(i).error(
                        f"threshold {text!r} names no level of the scale.",
                        hint=f"Thresholds are level names: {', '.join(names)}.",
                    )
                if text in thresholds:
                    raise tloc.index(i).error(f"duplicate threshold {text!r}.")
                thresholds[text] = levels[names.index(text)].code
        return RubricScale(
            levels=tuple(levels),
            thresholds=thresholds,
            order_inferred=order_inferred,
            order_reasoning=reasoning,
            **self._part_meta(header),
        )

    # -- profiles ------------------------------------------------------------------------
    def _profiles(self, value: Any, loc: _Loc, table: PhaseTable | None) -> dict[str, PhaseProfile]:
        content, where, header = self._part(value, loc, kind="profiles")
        if table is None:
            raise loc.error(
                "profiles need a phase_table: their cells name its dimensions and phases.",
                hint="Add phase_table (inline or {ref: ...}) to the framework.",
            )
        default_source = _seed_source(header["source"], _Loc("")) if header else None
        dim_ids = [d.id for d in table.dimensions]
        profiles: dict[str, PhaseProfile] = {}
        ploc_list = where("profiles")
        for i, entry in enumerate(_list(content["profiles"], ploc_list)):
            ploc = ploc_list.index(i)
            m = _mapping(
                entry,
                ploc,
                required=("name", "cells"),
                optional=("description", "meaning", "not_expected", "source"),
            )
            name = _text(m["name"], ploc.key("name"))
            if name in profiles:
                raise ploc.key("name").error(f"duplicate profile name {name!r}.")
            source = _seed_source(m["source"], ploc.key("source")) if "source" in m else default_source
            cells = []
            seen: list[tuple[str, _Loc]] = []
            for j, cell in enumerate(_list(m["cells"], ploc.key("cells"))):
                cloc = ploc.key("cells").index(j)
                c = _mapping(
                    cell,
                    cloc,
                    required=("dimension", "phase", "quote"),
                    optional=("descriptor", "inferred", "note", "source"),
                )
                dim = self._known(c["dimension"], cloc.key("dimension"), dim_ids, what="dimension of the phase table")
                phase = self._known(c["phase"], cloc.key("phase"), list(table.codes), what="phase code")
                descriptor = _optional_text(c.get("descriptor"), cloc.key("descriptor"))
                expected = table.dimension(dim).descriptors[phase]
                if descriptor is not None and descriptor != expected:
                    raise cloc.key("descriptor").error(
                        f"does not match the phase table's cell for {dim} / {phase}.",
                        hint=f"The table says: {expected!r}.",
                    )
                seen.append((dim, cloc.key("dimension")))
                cells.append(
                    ProfileCell(
                        dimension_id=dim,
                        phase=phase,
                        quote=_text(c["quote"], cloc.key("quote")),
                        source=_seed_source(c["source"], cloc.key("source")) if "source" in c else source,
                        descriptor=descriptor if descriptor is not None else expected,
                        inferred=_bool(c["inferred"], cloc.key("inferred")) if "inferred" in c else False,
                        note=_optional_text(c.get("note"), cloc.key("note")),
                    )
                )
            _unique(seen, what="profile dimension")
            gaps = []
            if "not_expected" in m:
                nloc = ploc.key("not_expected")
                for j, gap in enumerate(_list(m["not_expected"], nloc, min_len=0)):
                    gloc = nloc.index(j)
                    g = _mapping(gap, gloc, required=("dimension", "reason"))
                    dim = self._known(g["dimension"], gloc.key("dimension"), dim_ids, what="dimension of the phase table")
                    if any(cell.dimension_id == dim for cell in cells):
                        raise gloc.key("dimension").error(f"{dim!r} has a cell in this profile and cannot also be not_expected.")
                    gaps.append(ProfileGap(dimension_id=dim, reason=_text(g["reason"], gloc.key("reason"))))
            profiles[name] = PhaseProfile(
                name=name,
                cells=tuple(cells),
                description=_optional_text(m.get("description"), ploc.key("description")),
                meaning=_one_of(m.get("meaning", "at_least"), ploc.key("meaning"), _PROFILE_MEANINGS, what="meaning"),
                not_expected=tuple(gaps),
                source=source,
            )
        return profiles

    # -- rules ---------------------------------------------------------------------------
    def _rules(self, value: Any, loc: _Loc, scale: RubricScale | None) -> dict[str, DecisionRule]:
        content, where, _ = self._part(value, loc, kind="rules")
        rules: dict[str, DecisionRule] = {}
        rloc_list = where("rules")
        for i, entry in enumerate(_list(content["rules"], rloc_list)):
            rloc = rloc_list.index(i)
            m = _mapping(
                entry,
                rloc,
                required=("id", "title", "kind", "results", "quote", "source"),
                optional=("codes", "bands", "otherwise", "n_items", "max_items", "at_least", "require", "note"),
            )
            rid = _slug(m["id"], rloc.key("id"))
            if rid in rules:
                raise rloc.key("id").error(f"duplicate rule id {rid!r}.")
            kind = _one_of(m["kind"], rloc.key("kind"), _RULE_KINDS, what="rule kind")
            results = self._codes(m["results"], rloc.key("results"), what="result")
            common = dict(
                id=rid,
                title=_text(m["title"], rloc.key("title")),
                kind=kind,
                results=results,
                quote=_text(m["quote"], rloc.key("quote")),
                source=_seed_source(m["source"], rloc.key("source")),
                note=_optional_text(m.get("note"), rloc.key("note")),
                n_items=_int(m["n_items"], rloc.key("n_items"), minimum=1) if "n_items" in m else None,
                max_items=_int(m["max_items"], rloc.key("max_items"), minimum=1) if "max_items" in m else None,
            )
            if "n_items" in m and "max_items" in m:
                raise rloc.key("max_items").error("give n_items (exactly) or max_items (at most), not both.")
            if kind == "count_bands":
                rules[rid] = self._count_rule(m, rloc, common)
            else:
                rules[rid] = self._threshold_rule(m, rloc, common, scale)
        return rules

    def _count_rule(self, m: dict, loc: _Loc, common: dict) -> DecisionRule:
        self._forbid(m, loc, ("at_least", "require"), kind="count_bands")
        for key in ("codes", "bands", "otherwise"):
            if key not in m:
                raise loc.error(f"missing key {key!r} (needed by kind count_bands).")
        codes = self._codes(m["codes"], loc.key("codes"), what="code")
        results = common["results"]
        bands = []
        for j, band in enumerate(_list(m["bands"], loc.key("bands"))):
            bloc = loc.key("bands").index(j)
            b = _mapping(band, bloc, required=("result",), optional=("min", "max"))
            if "min" not in b and "max" not in b:
                raise bloc.error("a band needs 'min' or 'max' (or both).")
            limits = {}
            for key in ("min", "max"):
                lim: dict[str, int] = {}
                if key in b:
                    lloc = bloc.key(key)
                    for code, n in _mapping(b[key], lloc, required=(), optional=codes).items():
                        lim[code] = _int(n, lloc.key(code), minimum=0)
                limits[key] = lim
            bands.append(
                CountBand(
                    result=self._known(b["result"], bloc.key("result"), list(results), what="result"),
                    minimum=limits["min"],
                    maximum=limits["max"],
                )
            )
        return DecisionRule(
            **common,
            codes=codes,
            bands=tuple(bands),
            otherwise=self._known(m["otherwise"], loc.key("otherwise"), list(results), what="result"),
        )

    def _threshold_rule(self, m: dict, loc: _Loc, common: dict, scale: RubricScale | None) -> DecisionRule:
        self._forbid(m, loc, ("codes", "bands", "otherwise"), kind="threshold")
        for key in ("at_least", "require"):
            if key not in m:
                raise loc.error(f"missing key {key!r} (needed by kind threshold).")
        if scale is None:
            raise loc.key("at_least").error(
                "a threshold rule compares rubric levels, but the framework has no scale.",
                hint="Add scale (inline or {ref: ...}) to the framework.",
            )
        at_least = _text(m["at_least"], loc.key("at_least"))
        known = list(scale.thresholds) + [lv.name for lv in scale.levels if lv.name not in scale.thresholds]
        if at_least not in known:
            raise loc.key("at_least").error(
                f"threshold {at_least!r} names no level of the scale.",
                hint=f"Use one of: {', '.join(known)}.",
            )
        if len(common["results"]) != 2:
            raise loc.key("results").error(
                f"a threshold rule has exactly two results (not met, met), got {len(common['results'])}."
            )
        return DecisionRule(
            **common,
            at_least=at_least,
            require=_one_of(m["require"], loc.key("require"), _REQUIRE, what="require"),
        )

    # -- decision ------------------------------------------------------------------------
    def _decision(self, value: Any, loc: _Loc, outcomes: tuple[Outcome, ...], rules: dict[str, DecisionRule]) -> DecisionSpec:
        m = _mapping(value, loc, required=("item", "rule", "outcomes"), optional=("note",))
        item = _slug(m["item"], loc.key("item"))
        rule_id = self._known(m["rule"], loc.key("rule"), list(rules), what="rule")
        rule = rules[rule_id]
        if rule.kind != "count_bands" or set(rule.codes) != set(VERDICT_CODES):
            raise loc.key("rule").error(
                f"rule {rule_id!r} does not count verdicts: the decision combines the outcomes' "
                f"verdicts ({', '.join(VERDICT_CODES)}).",
                hint="Use a count_bands rule with codes ['niet voldaan', 'voldaan'].",
            )
        by_id = {o.id: o for o in outcomes}
        chosen = []
        oloc = loc.key("outcomes")
        for i, oid in enumerate(_list(m["outcomes"], oloc)):
            known = self._known(oid, oloc.index(i), list(by_id), what="outcome")
            if not by_id[known].summative:
                raise oloc.index(i).error(
                    f"outcome {known!r} is formatief and has no verdict to decide on.",
                    hint="List only summatief outcomes.",
                )
            chosen.append((known, oloc.index(i)))
        _unique(chosen, what="outcome")
        if rule.n_items is not None and rule.n_items != len(chosen):
            raise oloc.error(f"rule {rule_id!r} takes exactly {rule.n_items} values, got {len(chosen)} outcomes.")
        if rule.max_items is not None and len(chosen) > rule.max_items:
            raise oloc.error(f"rule {rule_id!r} takes at most {rule.max_items} values, got {len(chosen)} outcomes.")
        return DecisionSpec(
            item_id=item,
            rule_id=rule_id,
            outcomes=tuple(o for o, _ in chosen),
            note=_optional_text(m.get("note"), loc.key("note")),
        )

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _known(value: Any, loc: _Loc, allowed: list[str], *, what: str) -> str:
        text = _text(value, loc)
        if text not in allowed:
            raise loc.error(f"unknown {what} {text!r}.", hint=f"Known: {', '.join(allowed)}.")
        return text

    @staticmethod
    def _codes(value: Any, loc: _Loc, *, what: str) -> tuple[str, ...]:
        entries = _list(value, loc, min_len=2)
        codes = tuple(_text(c, loc.index(i)) for i, c in enumerate(entries))
        _unique([(c, loc.index(i)) for i, c in enumerate(codes)], what=what)
        return codes

    @staticmethod
    def _forbid(m: dict, loc: _Loc, keys: tuple[str, ...], *, kind: str) -> None:
        for key in keys:
            if key in m:
                raise loc.key(key).error(f"{key!r} does not apply to rules of kind {kind}.")

    @staticmethod
    def _part_meta(header: dict) -> dict:
        if not header:
            return {}
        return dict(
            id=header["id"],
            version=header["version"],
            title=header["title"],
            source=SeedSource(file=header["source"]["file"], section=header["source"]["section"]),
        )

    def _check_item_ids(self, framework: Framework) -> None:
        seen: dict[str, str] = {}
        for item in build_items(framework):
            if item.id in seen:
                raise self.loc.error(
                    f"item id {item.id!r} is used twice ({seen[item.id]} and {item.kind}).",
                    hint="Rename the outcome, dimension or decision item so every item id is unique.",
                )
            seen[item.id] = item.kind
