"""Metadata Menu fileClass definition notes for classes that come from a remote.

``syncbridge migrate --from TARGET --into VAULT`` writes one fileClass note per class of
the target into a vault that has none, so the vault opens typed in Obsidian (Metadata Menu
reads them) and syncbridge types the notes by them on the next scan.

A remote that declares a schema of its own (:meth:`syncbridge.adapter.Adapter.declared_classes`:
Notion's database properties) gives :func:`classes_from_records` each field's type and
options as declared: a select option no page uses yet is an option, a number property
with no value is Number, a relation is File or MultiFile pointing at its class. What a
declaration cannot tell (text that held JSON or a time, a date with a time, one link or
several) is refined from the values; fields and classes no declaration covers, and every
class of a remote that declares none, are read from the records: fields in the order the
records give them (a SQLite table's column order: the order the class had when it was
sent), each typed from its values with the vault's own inference rules
(:func:`syncbridge.schema.inference.infer_field`); a Multi field lists the values seen as
its options. :func:`fileclass_text` renders a class as the note Metadata Menu writes
(``fields`` with 6-character ids, ``fieldsOrder``, ``version``).

Pure functions, no I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import string
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML

from syncbridge.adapter import Record
from syncbridge.schema.inference import infer_field
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

__all__ = ["MAX_CHOICES", "classes_from_records", "field_id", "fileclass_text"]

MAX_CHOICES = 100
"""At most this many values seen become a Multi field's options (more: free values)."""

_ID_ALPHABET = string.ascii_letters + string.digits


def field_id(class_name: str, field_name: str) -> str:
    """A stable 6-character Metadata Menu field id for ``field_name`` of ``class_name``."""
    digest = hashlib.sha256(f"{class_name}\0{field_name}".encode()).digest()
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:6])


def classes_from_records(
    records: Iterable[Record],
    *,
    skip: Iterable[str] = (),
    declared: Mapping[str, ClassSchema] | None = None,
) -> dict[str, ClassSchema]:
    """Class name → :class:`ClassSchema` (``source="remote"``) of every class in
    ``records`` and in ``declared`` (the remote's own schema, see the module docstring):
    a declared class's fields first, in its order, typed as declared and refined from
    the values; then the fields only records hold, in order of first appearance, each
    typed from its values. Fields named in ``skip`` (the class key, the id field) are
    left out. The records are taken fullest first (then by title and id), so the order
    does not depend on the order a remote lists them in."""
    skipped = set(skip)
    values: dict[str, dict[str, list[Any]]] = {}
    for class_name in declared or {}:
        values[class_name] = {}
    ordered = sorted(records, key=lambda r: (-len(r.fields), r.title or "", r.id or ""))
    for record in ordered:
        per_class = values.setdefault(record.class_name, {})
        for name, value in record.fields.items():
            if name not in skipped:
                per_class.setdefault(name, []).append(value)
    out: dict[str, ClassSchema] = {}
    for class_name, fields in values.items():
        known = (declared or {}).get(class_name)
        specs: dict[str, FieldSpec] = {}
        for name, spec in (known.fields if known else {}).items():
            if name not in skipped:
                specs[name] = _refined(spec, fields.get(name, []))
        for name, seen in fields.items():
            if name not in specs:
                specs[name] = _inferred(name, seen)
        out[class_name] = ClassSchema(name=class_name, fields=specs, source="remote")
    return out


def _inferred(name: str, seen: list[Any]) -> FieldSpec:
    """The field typed from its values alone (a Multi lists the values as options)."""
    spec = infer_field(name, seen)
    if spec.type is FieldType.MULTI:
        choices = _choices(seen)
        if choices is not None:
            spec = FieldSpec(name, spec.type, spec.kind, choices=choices, origin="inferred")
    return spec


def _fits(declared: FieldSpec, seen: list[Any]) -> bool:
    """Whether every value in ``seen`` has the shape ``declared`` says (a number for
    Number, a string for Select...): a value a remote kept aside because its property
    could not hold it (Notion's fallback property) must not be typed by that property."""

    def one(value: Any) -> bool:
        if value is None:
            return True
        if declared.type is FieldType.NUMBER:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if declared.type is FieldType.BOOLEAN:
            return isinstance(value, bool)
        if declared.type in (FieldType.MULTI, FieldType.MULTIFILE, FieldType.MULTIMEDIA):
            return isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(i, str | int | float) for i in value)
            )
        if declared.type is FieldType.INPUT:
            return not isinstance(value, list)  # JSON-ish text is refined below
        return isinstance(value, str)

    return all(one(v) for v in seen)


_TEXT_SHAPES = frozenset(
    {FieldType.TIME, FieldType.JSON, FieldType.YAML, FieldType.OBJECT, FieldType.OBJECT_LIST}
)
"""Types a remote keeps as plain text: a declared Input holding them is refined."""


def _refined(declared: FieldSpec, seen: list[Any]) -> FieldSpec:
    """``declared`` (a remote's type and options) made exact by the values where the
    declaration cannot tell: Input holding times or JSON, Date holding date-times, one
    link or several (File or Media). Its options and choices are kept."""
    if not any(v is not None and v != "" for v in seen):
        return declared
    inferred = infer_field(declared.name, seen)
    if not _fits(declared, seen):
        return _inferred(declared.name, seen)  # values the declaration cannot describe
    keep = dataclasses.replace(
        inferred,
        options={**inferred.options, **declared.options},
        choices=declared.choices,
        origin=declared.origin,
    )
    if declared.type is FieldType.INPUT and inferred.type in _TEXT_SHAPES:
        return keep
    if declared.type is FieldType.DATE and inferred.type in (FieldType.DATE, FieldType.DATETIME):
        return keep
    links = (FieldType.FILE, FieldType.MULTIFILE)
    if declared.type in links and inferred.type in links:
        return keep
    media = {
        FieldType.FILE: (FieldType.MEDIA, FieldKind.LINK),
        FieldType.MULTIFILE: (FieldType.MULTIMEDIA, FieldKind.LINKS),
    }
    if declared.type in (FieldType.MEDIA, FieldType.MULTIMEDIA) and inferred.type in media:
        ftype, kind = media[inferred.type]
        return dataclasses.replace(declared, type=ftype, kind=kind)
    return declared


def _choices(seen: Iterable[Any]) -> tuple[str, ...] | None:
    """The distinct items of a list field's values, first seen first; ``None`` when there
    are more than :data:`MAX_CHOICES` (an open list, not a set of options)."""
    out: dict[str, None] = {}
    for value in seen:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int | float) and not isinstance(item, bool) and item != "":
                out.setdefault(str(item), None)
                if len(out) > MAX_CHOICES:
                    return None
    return tuple(out)


def _options(spec: FieldSpec) -> dict[str, Any]:
    """Metadata Menu's options object for ``spec``."""
    if spec.type in (FieldType.MULTI, FieldType.SELECT, FieldType.CYCLE):
        return {
            "sourceType": "ValuesList",
            "valuesList": {str(i): c for i, c in enumerate(spec.choices, start=1)},
        }
    if spec.type in (FieldType.DATE, FieldType.DATETIME, FieldType.TIME):
        return {
            "dateFormat": spec.date_format or _DEFAULT_FORMATS[spec.type],
            "defaultInsertAsLink": False,
            "dateShiftInterval": "1 day",
            "linkPath": "",
        }
    if spec.type in (FieldType.FILE, FieldType.MULTIFILE):
        query = spec.options.get("dvQueryString")
        return {"dvQueryString": query if isinstance(query, str) else ""}
    return {}


_DEFAULT_FORMATS: Mapping[FieldType, str] = {
    FieldType.DATE: "YYYY-MM-DD",
    FieldType.DATETIME: "YYYY-MM-DDTHH:mm",
    FieldType.TIME: "HH:mm",
}


def fileclass_text(cls: ClassSchema) -> str:
    """The fileClass note of ``cls`` as Metadata Menu writes it: its settings keys, one
    entry per field (name, type, options, ``path: ""``, a stable id), ``fieldsOrder``.
    List fields display as block lists (``asList``), as Obsidian's Properties write
    them."""
    fields = []
    for spec in cls.fields.values():
        entry: dict[str, Any] = {
            "name": spec.name,
            "type": spec.type.value,
            "options": _options(spec),
        }
        if spec.kind in (FieldKind.LIST, FieldKind.LINKS):
            entry["display"] = "asList"
        entry["path"] = ""
        entry["id"] = field_id(cls.name, spec.name)
        fields.append(entry)
    frontmatter: dict[str, Any] = {
        "limit": 20,
        "mapWithTag": False,
        "icon": "package",
        "tagNames": None,
        "filesPaths": list(cls.files_paths) or None,
        "bookmarksGroups": None,
        "excludes": None,
        "extends": None,
        "savedViews": [],
        "favoriteView": None,
        "fieldsOrder": [f["id"] for f in fields],
        "version": "2.5",
        "fields": fields,
    }
    body = (
        f"Class {cls.name!r}, written by syncbridge migrate from the target's schema "
        "and records (edit it in Metadata Menu like any fileClass).\n"
    )
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(frontmatter, out)
    # ruamel writes an empty value as "key:" already; a flow list only for []
    return "---\n" + out.getvalue() + "---\n\n" + body
