"""Schema data model: the vault's classes and their typed fields.

These frozen dataclasses are the shared vocabulary of the schema readers (Metadata Menu,
``types.json``, inference), the adapters (which build collections from them) and the sync
engine (which types and compares values through them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClassSchema", "FieldKind", "FieldSpec", "FieldType", "VaultSchema"]


class FieldType(str, enum.Enum):
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


class FieldKind(str, enum.Enum):
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


@dataclass(frozen=True)
class VaultSchema:
    """Everything the vault says about its notes' types."""

    classes: dict[str, ClassSchema]
    default_class: str = "note"
    class_key: str = "fileClass"
    fileclass_folder: str | None = None
    template_folders: tuple[str, ...] = ()
