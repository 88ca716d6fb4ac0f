"""Derive a vault's :class:`~syncbridge.schema.model.VaultSchema` from its settings and notes.

The vault scanner (``syncbridge.vault.vault``) parses the notes; this module only receives their
frontmatter as plain values, so it stays independent of note parsing. Precedence for a
field's type: the note's Metadata Menu fileClass, then MDM preset fields, then Obsidian's
``types.json``, then inference from the values seen in that class's notes.

Side effects: reads the vault's ``.obsidian`` settings files, the notes that list
``ValuesListNotePath`` options, and, for fileClass notes the caller did not pass, their
frontmatter from disk.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from syncbridge.schema.inference import infer_field
from syncbridge.schema.metadata_menu import (
    SETTINGS_PATH,
    FileClassDefinition,
    MetadataMenuSettings,
    parse_fields,
    parse_fileclass,
    read_settings,
    resolve_classes,
)
from syncbridge.schema.model import ClassSchema, FieldSpec, VaultSchema, fileclass_names
from syncbridge.schema.obsidian import read_template_folders, read_types_json

__all__ = ["build_vault_schema", "read_fileclass_frontmatter"]

_FENCE_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*\r?$", re.S | re.M)
_EMPTY_FENCE_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n---[ \t]*(\r?\n|\Z)")


def read_fileclass_frontmatter(path: Path) -> dict[str, Any] | None:
    """The frontmatter of the note at ``path`` as plain values (YAML 1.2 safe loader), or
    ``None`` if it cannot be read or parsed. Only for fileClass notes the caller did not
    pass; notes are otherwise parsed by the vault. Side effect: reads the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if _EMPTY_FENCE_RE.match(text):
        return {}
    match = _FENCE_RE.match(text)
    if match is None:
        return None
    try:
        data = YAML(typ="safe", pure=True).load(match.group(1))
    except YAMLError:
        return None
    if data is None:
        return {}
    return data if isinstance(data, dict) else None


def _under(path: str, folder: str) -> bool:
    return bool(folder) and path.startswith(folder.strip("/") + "/")


def _fileclass_definitions(
    root: Path,
    folder: str,
    frontmatters: Mapping[str, Mapping[str, Any]],
    display: str,
) -> dict[str, FileClassDefinition]:
    paths: dict[str, Mapping[str, Any] | None] = {
        p: frontmatters[p] for p in frontmatters if _under(p, folder) and p.endswith(".md")
    }
    base = root / folder
    if base.is_dir():
        for file in sorted(base.rglob("*.md")):
            rel = file.relative_to(root).as_posix()
            if rel not in paths:
                paths[rel] = read_fileclass_frontmatter(file)
    definitions: dict[str, FileClassDefinition] = {}
    for rel in sorted(paths):
        fm = paths[rel]
        name = rel[len(folder) + 1 : -len(".md")]
        problems: tuple[str, ...] = () if fm is not None else ("frontmatter could not be read",)
        definition = parse_fileclass(name, rel, fm or {}, default_display=display)
        if problems:
            definition = dataclasses.replace(definition, problems=definition.problems + problems)
        definitions[name] = definition
    return definitions


def _note_choices(root: Path, rel: str) -> tuple[str, ...] | None:
    """The options of a ``ValuesListNotePath`` note: one per non-empty line of its body
    (frontmatter skipped, trailing spaces stripped), or ``None`` if it cannot be read."""
    path = root / rel if rel.endswith(".md") else root / f"{rel}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _FENCE_RE.match(text)
    if match is not None:
        text = text[match.end() :]
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _with_note_choices(
    root: Path, spec: FieldSpec, cache: dict[str, tuple[str, ...] | None], problems: list[str]
) -> FieldSpec:
    """``spec`` with ``choices`` read from its ``valuesListNotePath`` note, recursively for
    Object children. Side effect: reads those notes (once each, via ``cache``)."""
    children = tuple(_with_note_choices(root, c, cache, problems) for c in spec.children)
    options = spec.options
    rel = options.get("valuesListNotePath")
    choices = spec.choices
    if options.get("sourceType") == "ValuesListNotePath" and isinstance(rel, str) and rel:
        if rel not in cache:
            cache[rel] = _note_choices(root, rel)
            if cache[rel] is None:
                problems.append(f"field {spec.name!r}: values list note {rel!r} not found")
        choices = cache[rel] or ()
    if children == spec.children and choices == spec.choices:
        return spec
    return dataclasses.replace(spec, children=children, choices=choices)


def _extra_fields(
    keys_values: Mapping[str, list[Any]],
    known: Mapping[str, FieldSpec],
    typed: Sequence[Mapping[str, FieldSpec]],
    infer: bool,
) -> dict[str, FieldSpec]:
    """Fields for keys not in ``known``: the first of ``typed`` that names them, else
    inferred from the values (when ``infer``)."""
    extra: dict[str, FieldSpec] = {}
    for key, values in keys_values.items():
        if key in known:
            continue
        for source in typed:
            if key in source:
                extra[key] = source[key]
                break
        else:
            if infer:
                extra[key] = infer_field(key, values)
    return extra


def _settings_problem(root: Path, rel: str, owner: str) -> str | None:
    """Why the settings file ``rel`` cannot be used although it exists, else ``None``."""
    path = root / rel
    if not os.path.lexists(path):
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    except ValueError as exc:
        reason = f"not valid JSON: {exc}"
    else:
        if isinstance(data, dict) and (
            rel != ".obsidian/types.json" or isinstance(data.get("types", data), dict)
        ):
            return None
        reason = "not the JSON object expected"
    return (
        f"{rel} cannot be read ({reason}); without it notes would be classified and "
        f"typed wrongly. Fix it ({owner} rewrites it when you change a setting) or "
        "remove it, then sync again"
    )


def build_vault_schema(
    root: Path,
    frontmatters: Mapping[str, Mapping[str, Any]],
    *,
    default_class: str = "note",
    extra_template_folders: Sequence[str] = (),
    infer_unlisted: bool = True,
) -> VaultSchema:
    """The schema of the vault at ``root``.

    ``frontmatters`` maps vault-relative POSIX paths (``"Psyche/Secure Attachment.md"``) to
    each note's parsed frontmatter (``{}`` for a note without one). Classes come from the
    Metadata Menu fileClass notes under ``classFilesPath`` (``extends`` / ``excludes``
    resolved); a class named in a note's frontmatter with no definition, and the
    ``default_class`` (for notes no fileClass, tag or folder maps), are typed by MDM preset
    fields, ``types.json`` and inference. With ``infer_unlisted``, keys a class's notes
    carry that its definition does not list are added to it too (``origin`` tells where
    their type came from), so sync can carry them. Template folders: Templater's, the core
    Templates plugin's, and ``extra_template_folders``. Options of Select / Multi fields whose
    ``sourceType`` is ``ValuesListNotePath`` are read from that note (one per line). Problems
    in definitions are
    collected in ``VaultSchema.problems``; this function does not raise on bad input.
    """
    unreadable = [
        m
        for m in (
            _settings_problem(root, SETTINGS_PATH, "Metadata Menu"),
            _settings_problem(root, ".obsidian/types.json", "Obsidian"),
        )
        if m is not None
    ]
    settings = read_settings(root) or MetadataMenuSettings()
    class_key = settings.file_class_alias
    folder = settings.class_files_path
    problems: list[str] = []

    definitions: dict[str, FileClassDefinition] = {}
    if folder:
        definitions = _fileclass_definitions(
            root, folder, frontmatters, settings.frontmatter_list_display
        )
    classes, class_problems = resolve_classes(definitions)
    problems.extend(class_problems)

    presets_list, preset_problems = parse_fields(
        settings.preset_fields, default_display=settings.frontmatter_list_display
    )
    problems.extend(f"presetFields: {p}" for p in preset_problems)
    presets = {spec.name: spec for spec in presets_list}
    types_json = read_types_json(root)

    template_folders: list[str] = []
    for name in (*read_template_folders(root), *extra_template_folders):
        cleaned = name.strip().strip("/")
        if cleaned and cleaned not in template_folders:
            template_folders.append(cleaned)

    def schema_with(all_classes: dict[str, ClassSchema]) -> VaultSchema:
        return VaultSchema(
            classes=all_classes,
            default_class=default_class,
            class_key=class_key,
            fileclass_folder=folder,
            template_folders=tuple(template_folders),
            global_class=settings.global_file_class,
            class_excluded_folders=settings.excluded_folders,
            definition_paths=frozenset(d.path for d in definitions.values()),
            problems=tuple(problems),
            unreadable_settings=tuple(unreadable),
        )

    # Classes named in notes but never defined get an (inferred) class of their own.
    probe = schema_with(classes)
    # Paths only: ``frontmatters`` may decode each note's values on access (the vault
    # index), so they are looked up one note at a time and never all held at once.
    entries = [p for p in sorted(frontmatters) if probe.is_entry(p)]
    placeholders: dict[str, ClassSchema] = {}
    for path in entries:
        names = fileclass_names(frontmatters[path].get(class_key))
        if names and not any(n in classes for n in names) and names[0] not in placeholders:
            placeholders[names[0]] = ClassSchema(name=names[0], fields={}, source="inferred")
    if default_class not in classes:
        placeholders.setdefault(
            default_class,
            ClassSchema(
                name=default_class, fields={}, source="types.json" if types_json else "inferred"
            ),
        )
    probe = schema_with({**classes, **placeholders})

    values_by_class: dict[str, dict[str, list[Any]]] = {name: {} for name in probe.classes}
    for path in entries:
        fm = frontmatters[path]
        bucket = values_by_class[probe.class_of(path, fm)]
        for key, value in fm.items():
            if isinstance(key, str) and key != class_key:
                bucket.setdefault(key, []).append(value)

    final: dict[str, ClassSchema] = {}
    for name, cls in probe.classes.items():
        is_placeholder = name in placeholders
        extra = _extra_fields(
            values_by_class[name],
            cls.fields,
            (presets, types_json),
            infer=infer_unlisted or is_placeholder,
        )
        if name == default_class and name not in classes:
            # MDM preset fields apply to every note: keep them even if no note uses them yet.
            extra = {**{k: v for k, v in presets.items() if k not in extra}, **extra}
        final[name] = dataclasses.replace(cls, fields={**cls.fields, **extra})

    # Select / Multi options listed in a note (sourceType ValuesListNotePath).
    cache: dict[str, tuple[str, ...] | None] = {}
    for name, cls in final.items():
        fields = {k: _with_note_choices(root, v, cache, problems) for k, v in cls.fields.items()}
        final[name] = dataclasses.replace(cls, fields=fields)
    return schema_with(final)
