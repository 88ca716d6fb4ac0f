"""Metadata Menu: plugin settings (``data.json``) and fileClass definition notes.

Reading is tolerant: Metadata Menu and users write these files by hand and by plugin,
across plugin versions, so unknown keys are ignored, ``null`` means "unset", and a field
with an unknown type is kept as an Input (text) field rather than rejected.

Side effects: :func:`read_settings` reads one JSON file; everything else is pure.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

__all__ = [
    "READ_ONLY_TYPES",
    "FileClassDefinition",
    "MetadataMenuSettings",
    "kind_of",
    "parse_field",
    "parse_fields",
    "parse_fileclass",
    "read_settings",
    "resolve_classes",
]

SETTINGS_PATH = ".obsidian/plugins/metadata-menu/data.json"

READ_ONLY_TYPES = frozenset(
    {
        FieldType.FORMULA,
        FieldType.LOOKUP,
        FieldType.CANVAS,
        FieldType.CANVAS_GROUP,
        FieldType.CANVAS_GROUP_LINK,
    }
)
"""Computed types: Metadata Menu writes them, sync never does."""

_KINDS: Mapping[FieldType, FieldKind] = {
    FieldType.INPUT: FieldKind.TEXT,
    FieldType.NUMBER: FieldKind.NUMBER,
    FieldType.SELECT: FieldKind.TEXT,
    FieldType.CYCLE: FieldKind.TEXT,
    FieldType.BOOLEAN: FieldKind.BOOLEAN,
    FieldType.DATE: FieldKind.DATE,
    FieldType.DATETIME: FieldKind.DATETIME,
    FieldType.TIME: FieldKind.TIME,
    FieldType.MULTI: FieldKind.LIST,
    FieldType.FILE: FieldKind.LINK,
    FieldType.MULTIFILE: FieldKind.LINKS,
    FieldType.MEDIA: FieldKind.LINK,
    FieldType.MULTIMEDIA: FieldKind.LINKS,
    FieldType.CANVAS: FieldKind.LINKS,
    FieldType.CANVAS_GROUP: FieldKind.LIST,
    FieldType.CANVAS_GROUP_LINK: FieldKind.LINKS,
    FieldType.FORMULA: FieldKind.TEXT,
    FieldType.LOOKUP: FieldKind.LINKS,
    FieldType.JSON: FieldKind.JSON,
    FieldType.YAML: FieldKind.JSON,
    FieldType.OBJECT: FieldKind.JSON,
    FieldType.OBJECT_LIST: FieldKind.JSON,
}

# Lookup's output decides its shape: links, a list of rendered strings, or one summary.
_LOOKUP_KINDS: Mapping[str, FieldKind] = {
    "LinksList": FieldKind.LINKS,
    "LinksBulletList": FieldKind.LINKS,
    "CustomList": FieldKind.LIST,
    "CustomBulletList": FieldKind.LIST,
    "BuiltinSummarizing": FieldKind.NUMBER,
    "CustomSummarizing": FieldKind.TEXT,
}

_TYPES_BY_LOWER = {t.value.lower(): t for t in FieldType}


@dataclass(frozen=True)
class MetadataMenuSettings:
    """The parts of ``data.json`` that decide classes (others are ignored).

    ``class_files_path`` is the fileClass folder without its trailing ``/`` (``None`` when
    unset); ``preset_fields`` are the raw field dicts of the settings' preset fields.
    """

    class_files_path: str | None = None
    file_class_alias: str = "fileClass"
    global_file_class: str | None = None
    preset_fields: tuple[Mapping[str, Any], ...] = ()
    excluded_folders: tuple[str, ...] = ()
    frontmatter_list_display: str = "asArray"


@dataclass(frozen=True)
class FileClassDefinition:
    """A fileClass note's options, before inheritance is resolved."""

    name: str
    path: str
    fields: tuple[FieldSpec, ...]
    extends: str | None = None
    excludes: tuple[str, ...] = ()
    map_with_tag: bool = False
    tag_names: tuple[str, ...] = ()
    files_paths: tuple[str, ...] = ()
    icon: str | None = None
    fields_order: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _names(value: Any) -> tuple[str, ...]:
    """A list of names from a list, or a comma-separated string; ``null`` → ``()``."""
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        return ()
    return tuple(s.strip() for s in items if isinstance(s, str) and s.strip())


def read_settings(root: Path) -> MetadataMenuSettings | None:
    """Read ``.obsidian/plugins/metadata-menu/data.json`` under the vault ``root``.

    Returns ``None`` when the file is absent or not a JSON object (a vault without the
    plugin). Side effect: reads that one file.
    """
    path = root / SETTINGS_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return settings_from_dict(data)


def settings_from_dict(data: Mapping[str, Any]) -> MetadataMenuSettings:
    """Settings from the parsed ``data.json`` object."""
    folder = _str_or_none(data.get("classFilesPath"))
    presets = data.get("presetFields")
    excluded = data.get("fileClassExcludedFolders")
    return MetadataMenuSettings(
        class_files_path=folder.strip("/") if folder else None,
        file_class_alias=_str_or_none(data.get("fileClassAlias")) or "fileClass",
        global_file_class=_str_or_none(data.get("globalFileClass")),
        preset_fields=tuple(p for p in presets if isinstance(p, Mapping))
        if isinstance(presets, list)
        else (),
        excluded_folders=tuple(
            f.strip("/") for f in excluded if isinstance(f, str) and f.strip("/")
        )
        if isinstance(excluded, list)
        else (),
        frontmatter_list_display=_str_or_none(data.get("frontmatterListDisplay")) or "asArray",
    )


def field_type(name: Any) -> FieldType | None:
    """The :class:`FieldType` named ``name`` (any case, as MDM capitalizes on read)."""
    if not isinstance(name, str):
        return None
    return _TYPES_BY_LOWER.get(name.strip().lower())


def kind_of(ftype: FieldType, options: Mapping[str, Any] | None = None) -> FieldKind:
    """The storage kind of a Metadata Menu type (Lookup depends on its ``outputType``)."""
    if ftype is FieldType.LOOKUP and options:
        output = options.get("outputType")
        if isinstance(output, str) and output in _LOOKUP_KINDS:
            return _LOOKUP_KINDS[output]
    return _KINDS[ftype]


def _choices(options: Mapping[str, Any]) -> tuple[str, ...]:
    values = options.get("valuesList")
    if isinstance(values, Mapping):
        # Keys are "1", "2" ...: order by their number when they are numbers.
        def order(key: Any) -> tuple[int, str]:
            text = str(key)
            return (int(text), text) if text.isdigit() else (10**9, text)

        items = [values[k] for k in sorted(values, key=order)]
    elif isinstance(values, list):
        items = list(values)
    else:
        return ()
    return tuple(str(v) for v in items if v is not None and str(v) != "")


def parse_field(raw: Mapping[str, Any], *, default_display: str | None = None) -> FieldSpec | None:
    """A :class:`FieldSpec` from one Metadata Menu field object, or ``None`` if it has no
    name. Unknown types become Input (text); ``display`` defaults to ``default_display``
    for multi types. Children of Object / ObjectList fields are attached by
    :func:`parse_fields`."""
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    ftype = field_type(raw.get("type")) or FieldType.INPUT
    options = raw.get("options")
    options = dict(options) if isinstance(options, Mapping) else {}
    display = raw.get("display")
    kind = kind_of(ftype, options)
    if not isinstance(display, str):
        display = default_display if kind in (FieldKind.LIST, FieldKind.LINKS) else None
    source = options.get("sourceType", "ValuesList")
    choices = _choices(options) if source in ("ValuesList", None) else ()
    field_id = raw.get("id")
    return FieldSpec(
        name=name,
        type=ftype,
        kind=kind,
        options=options,
        read_only=ftype in READ_ONLY_TYPES,
        choices=choices,
        display=display,
        field_id=str(field_id) if field_id is not None else None,
    )


def parse_fields(
    raws: Iterable[Any], *, default_display: str | None = None
) -> tuple[list[FieldSpec], list[str]]:
    """Root fields (with nested children attached) and problems found, from a ``fields``
    list. Nesting follows MDM's ``path``: ``""`` for root, ``"<parentId>"`` or
    ``"<grandParentId>____<parentId>"`` below. Later definitions of a name replace earlier
    ones at the same level."""
    problems: list[str] = []
    parsed: list[tuple[str, FieldSpec]] = []
    for index, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            problems.append(f"fields[{index}] is not a mapping")
            continue
        spec = parse_field(raw, default_display=default_display)
        if spec is None:
            problems.append(f"fields[{index}] has no name")
            continue
        if field_type(raw.get("type")) is None:
            problems.append(f"field {spec.name!r}: unknown type {raw.get('type')!r}, read as Input")
        path = raw.get("path")
        parsed.append((path.strip() if isinstance(path, str) else "", spec))

    def build(parent_path: str) -> list[FieldSpec]:
        out: dict[str, FieldSpec] = {}
        for path, spec in parsed:
            if path != parent_path:
                continue
            if spec.type in (FieldType.OBJECT, FieldType.OBJECT_LIST) and spec.field_id:
                child_path = f"{parent_path}____{spec.field_id}" if parent_path else spec.field_id
                kids = tuple(build(child_path))
                spec = dataclasses.replace(spec, children=kids)
            out[spec.name] = spec
        return list(out.values())

    roots = build("")
    parents = {s.field_id for _, s in parsed if s.type in (FieldType.OBJECT, FieldType.OBJECT_LIST)}
    for path, spec in parsed:
        if path and path.split("____")[-1] not in parents:
            problems.append(f"field {spec.name!r}: parent {path!r} not found")
    return roots, problems


def parse_fileclass(
    name: str, path: str, frontmatter: Mapping[str, Any], *, default_display: str | None = None
) -> FileClassDefinition:
    """A fileClass definition from its note's frontmatter (``fields``, ``extends``,
    ``excludes``, ``mapWithTag``, ``tagNames``, ``filesPaths``, ``icon``, ``fieldsOrder``).
    Problems (bad field entries) are collected, not raised."""
    raw_fields = frontmatter.get("fields")
    problems: list[str] = []
    fields: list[FieldSpec] = []
    if isinstance(raw_fields, list):
        fields, problems = parse_fields(raw_fields, default_display=default_display)
    elif raw_fields is not None:
        problems.append("fields is not a list")
    order = frontmatter.get("fieldsOrder")
    return FileClassDefinition(
        name=name,
        path=path,
        fields=tuple(fields),
        extends=_str_or_none(frontmatter.get("extends")),
        excludes=_names(frontmatter.get("excludes")),
        map_with_tag=frontmatter.get("mapWithTag") is True,
        tag_names=tuple(t.lstrip("#") for t in _names(frontmatter.get("tagNames"))),
        files_paths=tuple(p.strip("/") for p in _names(frontmatter.get("filesPaths"))),
        icon=_str_or_none(frontmatter.get("icon")),
        fields_order=tuple(str(i) for i in order) if isinstance(order, list) else (),
        problems=tuple(problems),
    )


def resolve_classes(
    definitions: Mapping[str, FileClassDefinition],
) -> tuple[dict[str, ClassSchema], list[str]]:
    """Resolve ``extends`` chains into flat :class:`ClassSchema` objects.

    A child inherits its parent's fields (recursively) minus its ``excludes``, and
    overrides a parent field by defining the same name; inherited fields come first, in
    the parent's order. Unknown parents and cycles are reported and ignored.
    """
    problems: list[str] = []
    resolved: dict[str, list[FieldSpec]] = {}

    def fields_of(name: str, stack: tuple[str, ...]) -> list[FieldSpec]:
        if name in resolved:
            return resolved[name]
        definition = definitions[name]
        inherited: list[FieldSpec] = []
        parent = definition.extends
        if parent is not None:
            if parent in stack:
                cycle = (*stack[stack.index(parent) :], name, parent)
                problems.append(f"{name}: extends cycle {' → '.join(cycle)}")
            elif parent not in definitions:
                problems.append(f"{name}: extends unknown class {parent!r}")
            else:
                inherited = fields_of(parent, (*stack, name))
        excluded = set(definition.excludes)
        own = {spec.name: spec for spec in definition.fields}
        merged: dict[str, FieldSpec] = {}
        for spec in inherited:
            if spec.name in excluded:
                continue
            merged[spec.name] = own.get(spec.name, spec)
        for spec in definition.fields:
            merged.setdefault(spec.name, spec)
        resolved[name] = list(merged.values())
        return resolved[name]

    classes: dict[str, ClassSchema] = {}
    for name, definition in definitions.items():
        fields = fields_of(name, ())
        problems.extend(f"{name}: {p}" for p in definition.problems)
        classes[name] = ClassSchema(
            name=name,
            fields={spec.name: spec for spec in fields},
            source="metadata-menu",
            extends=definition.extends,
            files_paths=definition.files_paths,
            tag_names=definition.tag_names,
            map_with_tag=definition.map_with_tag,
            excludes=definition.excludes,
            definition_path=definition.path,
            icon=definition.icon,
        )
    return classes, problems
