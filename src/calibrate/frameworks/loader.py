"""Reading framework files (YAML) into :class:`~.model.Framework` objects.

Owns finding a framework (a built-in id or a file), ``ref:`` and ``override:`` resolution,
the checks that span parts, and building the model. Its neighbours: safe and bounded YAML
reading in :mod:`calibrate.frameworks.reading`, and the translation of every problem into a
:class:`~calibrate.errors.FrameworkError` that names the file, the path inside it (e.g.
``outcomes[2].dimensions[0].indicators[3]``), what is wrong and the way out in
:mod:`calibrate.frameworks.messages`. The format itself (``schema_version`` 1) is the set of
pydantic models in :mod:`calibrate.frameworks.files`.

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

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

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
from .reading import (  # the limits and the reader are named from here too, as before
    DATA_DIR,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    SCHEMA_VERSION,
    _BoundedLoader,
    _Place,
    _YAML_SUFFIXES,
    _builtin_data,
    _read_yaml,
    _short,
)
from .messages import _check_header, _validate


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
