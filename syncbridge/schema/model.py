"""Schema data model: the vault's classes and their typed fields.

These frozen dataclasses are the shared vocabulary of the schema readers (Metadata Menu,
``types.json``, inference), the adapters (which build collections from them) and the sync
engine (which types and compares values through them).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ClassSchema",
    "FieldKind",
    "FieldSpec",
    "FieldType",
    "VaultSchema",
    "fileclass_names",
    "note_tags",
]


class FieldType(enum.StrEnum):
    """Metadata Menu's 22 field types (``Fields.ts``), plus Obsidian Properties' types mapped
    onto them by the readers."""

    INPUT = "Input"
    NUMBER = "Number"
    SELECT = "Select"
    CYCLE = "Cycle"
    BOOLEAN = "Boolean"
    DATE = "Date"
    DATETIME = "DateTime"
    TIME = "Time"
    MULTI = "Multi"
    FILE = "File"
    MULTIFILE = "MultiFile"
    MEDIA = "Media"
    MULTIMEDIA = "MultiMedia"
    CANVAS = "Canvas"
    CANVAS_GROUP = "CanvasGroup"
    CANVAS_GROUP_LINK = "CanvasGroupLink"
    FORMULA = "Formula"
    LOOKUP = "Lookup"
    JSON = "JSON"
    YAML = "YAML"
    OBJECT = "Object"
    OBJECT_LIST = "ObjectList"


class FieldKind(enum.StrEnum):
    """The storage shape of a field, what adapters map to columns / properties.

    Canonical values (see ``syncbridge.adapter.canonical``) per kind:
    ``text`` str; ``number`` int | float; ``boolean`` bool; ``date`` ``"YYYY-MM-DD"``;
    ``datetime`` ISO 8601 ``"YYYY-MM-DDTHH:MM[:SS]"`` (naive = vault-local time);
    ``time`` ``"HH:MM"``; ``link`` str (the wikilink text as written, e.g. ``"[[A]]"``);
    ``list`` / ``links`` list[str]; ``json`` any JSON value (objects, nested YAML).
    ``None`` means "present but empty" for every kind.
    """

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    LINK = "link"
    LINKS = "links"
    LIST = "list"
    JSON = "json"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a class.

    ``options`` are the raw Metadata Menu options (``dateFormat``, ``valuesList`` ...);
    ``read_only`` is true for computed types (Formula, Lookup, Canvas*), which sync never
    writes back into a note.
    """

    name: str
    type: FieldType
    kind: FieldKind
    options: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False
    choices: tuple[str, ...] = ()
    display: str | None = None  # "asArray" | "asList" for multi types, when the class says
    field_id: str | None = None
    """Metadata Menu's 6-character field id (``Bd0Kh8``), when the field comes from MDM."""
    children: tuple[FieldSpec, ...] = ()
    """Sub-fields of an Object / ObjectList field (MDM ``path`` = this field's id)."""
    origin: str = "metadata-menu"
    """Where the field's type came from: ``"metadata-menu"``, ``"types.json"``,
    ``"inferred"`` (keys seen in a class's notes that its definition does not list),
    ``"remote"`` (a target's own schema: :meth:`syncbridge.adapter.Adapter.declared_classes`)."""

    @property
    def date_format(self) -> str | None:
        """The moment.js ``dateFormat`` option of Date / DateTime / Time fields, if any."""
        value = self.options.get("dateFormat")
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ClassSchema:
    """A class of notes (a Metadata Menu fileClass, or the default class).

    ``source`` tells where the definition came from: ``"metadata-menu"``, ``"types.json"``,
    ``"inferred"``.
    """

    name: str
    fields: dict[str, FieldSpec]
    source: str
    extends: str | None = None
    files_paths: tuple[str, ...] = ()
    tag_names: tuple[str, ...] = ()
    map_with_tag: bool = False
    excludes: tuple[str, ...] = ()
    definition_path: str | None = None
    """Vault-relative path of the fileClass note that defines the class, if any."""
    icon: str | None = None

    def field_names(self) -> list[str]:
        """Field names in definition order."""
        return list(self.fields)


@dataclass(frozen=True)
class VaultSchema:
    """Everything the vault says about its notes' types."""

    classes: dict[str, ClassSchema]
    default_class: str = "note"
    class_key: str = "fileClass"
    fileclass_folder: str | None = None
    template_folders: tuple[str, ...] = ()
    global_class: str | None = None
    """Metadata Menu's ``globalFileClass``: the class of notes that match nothing else."""
    class_excluded_folders: tuple[str, ...] = ()
    """MDM ``fileClassExcludedFolders``: notes there only get the global / default class."""
    definition_paths: frozenset[str] = frozenset()
    """Vault-relative paths of every fileClass definition note (never entries)."""
    problems: tuple[str, ...] = ()
    """What the readers could not use (bad field entries, unknown ``extends`` ...), for
    ``syncbridge doctor``."""
    unreadable_settings: tuple[str, ...] = ()
    """Settings files that exist but cannot be read (Metadata Menu's ``data.json``,
    ``types.json``): without them notes would be classified and typed wrongly, so a sync
    stops until they are fixed (``syncbridge doctor`` lists them as errors)."""

    def class_of(self, path: str, fields: Mapping[str, Any]) -> str:
        """The class of the note at vault-relative POSIX ``path`` with frontmatter ``fields``.

        Metadata Menu's priority: the ``class_key`` value (a list or a comma-separated
        string; the first name that is a known class), then ``mapWithTag`` / ``tagNames``
        tags, then ``filesPaths`` folders (the deepest wins), then the global class, then
        ``default_class``. Pure; no I/O.
        """
        if not _under_any(path, self.class_excluded_folders):
            for name in fileclass_names(fields.get(self.class_key)):
                if name in self.classes:
                    return name
            tags = note_tags(fields.get("tags"))
            if tags:
                for cls in sorted(self.classes.values(), key=lambda c: c.name):
                    if (cls.map_with_tag and cls.name in tags) or tags.intersection(
                        t.lstrip("#") for t in cls.tag_names
                    ):
                        return cls.name
            best: tuple[int, str] | None = None
            for cls in self.classes.values():
                for folder in cls.files_paths:
                    if _under(path, folder):
                        depth = len(folder.strip("/"))
                        if best is None or depth > best[0]:
                            best = (depth, cls.name)
            if best is not None:
                return best[1]
        if self.global_class and self.global_class in self.classes:
            return self.global_class
        return self.default_class

    def is_entry(self, path: str) -> bool:
        """False for fileClass definition notes, notes in template folders and non-``.md``
        files; true for every other note. Pure; no I/O."""
        if not path.endswith(".md") or path in self.definition_paths:
            return False
        if self.fileclass_folder and _under(path, self.fileclass_folder):
            return False
        return not _under_any(path, self.template_folders)


def fileclass_names(value: Any) -> list[str]:
    """Class names in a ``fileClass`` value: a list, or a comma-separated string (as
    Metadata Menu's ``FieldIndex`` reads it). Empty and non-string items are dropped."""
    items: list[Any]
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return []
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def note_tags(value: Any) -> set[str]:
    """The tags of a ``tags`` value (a list, or a space/comma-separated string), without
    ``#``. A nested tag ``a/b`` also counts as ``a``, as in Obsidian's tag search."""
    raw: list[Any]
    if isinstance(value, str):
        raw = value.replace(",", " ").split()
    elif isinstance(value, list | tuple):
        raw = list(value)
    else:
        return set()
    tags: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            continue
        tag = item.strip().lstrip("#")
        if not tag:
            continue
        tags.add(tag)
        parts = tag.split("/")
        for i in range(1, len(parts)):
            tags.add("/".join(parts[:i]))
    return tags


def _under(path: str, folder: str) -> bool:
    folder = folder.strip().strip("/")
    if not folder:
        return False
    return path == folder or path.startswith(folder + "/")


def _under_any(path: str, folders: tuple[str, ...]) -> bool:
    return any(_under(path, folder) for folder in folders)
