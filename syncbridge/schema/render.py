"""Presenting a schema: a text table per class (``syncbridge schema VAULT``) and a
JSON-able dict (``--json``). Pure functions."""

from __future__ import annotations

from typing import Any

from syncbridge.schema.model import ClassSchema, FieldSpec, FieldType, VaultSchema

__all__ = ["field_to_dict", "options_summary", "render_schema_text", "schema_to_dict"]

_MAX_OPTIONS = 70


def _clip(text: str, width: int = _MAX_OPTIONS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def options_summary(spec: FieldSpec) -> str:
    """A one-line summary of ``spec``'s options: choices, date format, range, query ..."""
    o = spec.options
    parts: list[str] = []
    source = o.get("sourceType")
    if spec.choices:
        parts.append("choices: " + " | ".join(spec.choices))
    elif source == "ValuesListNotePath" and o.get("valuesListNotePath"):
        parts.append(f"values from note {o['valuesListNotePath']}")
    elif source == "ValuesFromDVQuery":
        parts.append("values from a Dataview query")
    if spec.date_format:
        parts.append(f"format {spec.date_format}")
    for key in ("min", "max", "step"):
        if o.get(key) is not None and spec.type is FieldType.NUMBER:
            parts.append(f"{key} {o[key]}")
    if o.get("dvQueryString"):
        parts.append(f"query {o['dvQueryString']}")
    if isinstance(o.get("folders"), list) and o["folders"]:
        parts.append("folders " + ", ".join(map(str, o["folders"])))
    if spec.type is FieldType.FORMULA and o.get("formula"):
        parts.append(f"formula {o['formula']}")
    if spec.type is FieldType.LOOKUP:
        parts.append(f"{o.get('outputType', 'LinksList')} of {o.get('targetFieldName', '?')}")
    if spec.children:
        parts.append("fields " + ", ".join(child.name for child in spec.children))
    if spec.display:
        parts.append(spec.display)
    if spec.origin != "metadata-menu":
        parts.append(f"from {spec.origin}")
    return _clip("; ".join(parts))


def _class_header(cls: ClassSchema) -> str:
    bits = [cls.source]
    if cls.definition_path:
        bits.append(cls.definition_path)
    if cls.extends:
        bits.append(f"extends {cls.extends}")
    if cls.excludes:
        bits.append("excludes " + ", ".join(cls.excludes))
    if cls.map_with_tag:
        bits.append(f"tag #{cls.name}")
    if cls.tag_names:
        bits.append("tags " + ", ".join(f"#{t}" for t in cls.tag_names))
    if cls.files_paths:
        bits.append("folders " + ", ".join(cls.files_paths))
    count = len(cls.fields)
    return f"{cls.name}  ({'; '.join(bits)})  {count} field{'s' if count != 1 else ''}"


def render_schema_text(schema: VaultSchema) -> str:
    """The schema as text: a summary line, then per class a header and a table with the
    columns field, type, kind, options, read-only. Ends with a newline."""
    lines = [
        f"{len(schema.classes)} classes; class key {schema.class_key!r}; "
        f"fileClass folder {schema.fileclass_folder or '-'}; default class {schema.default_class}"
    ]
    if schema.template_folders:
        lines.append("template folders: " + ", ".join(schema.template_folders))
    if schema.global_class:
        lines.append(f"global class: {schema.global_class}")
    for cls in schema.classes.values():
        lines.append("")
        lines.append(_class_header(cls))
        rows = [("field", "type", "kind", "options", "read-only")]
        for spec in cls.fields.values():
            rows.append(
                (
                    spec.name,
                    spec.type.value,
                    spec.kind.value,
                    options_summary(spec),
                    "yes" if spec.read_only else "",
                )
            )
        if len(rows) == 1:
            lines.append("  (no fields)")
            continue
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
            lines.append("  " + "  ".join(cells).rstrip())
    if schema.problems:
        lines.append("")
        lines.append("problems:")
        lines.extend(f"  - {p}" for p in schema.problems)
    return "\n".join(lines) + "\n"


def field_to_dict(spec: FieldSpec) -> dict[str, Any]:
    """``spec`` as JSON-able data (options as Metadata Menu wrote them)."""
    out: dict[str, Any] = {
        "name": spec.name,
        "type": spec.type.value,
        "kind": spec.kind.value,
        "read_only": spec.read_only,
        "origin": spec.origin,
        "options": _jsonable(spec.options),
    }
    if spec.choices:
        out["choices"] = list(spec.choices)
    if spec.display:
        out["display"] = spec.display
    if spec.field_id:
        out["id"] = spec.field_id
    if spec.children:
        out["fields"] = [field_to_dict(child) for child in spec.children]
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def schema_to_dict(schema: VaultSchema) -> dict[str, Any]:
    """The schema as JSON-able data: settings, then ``classes`` keyed by name, each with
    its mapping rules and ordered ``fields``."""
    return {
        "class_key": schema.class_key,
        "default_class": schema.default_class,
        "fileclass_folder": schema.fileclass_folder,
        "template_folders": list(schema.template_folders),
        "global_class": schema.global_class,
        "problems": list(schema.problems),
        "classes": {
            cls.name: {
                "source": cls.source,
                "definition_path": cls.definition_path,
                "extends": cls.extends,
                "excludes": list(cls.excludes),
                "map_with_tag": cls.map_with_tag,
                "tag_names": list(cls.tag_names),
                "files_paths": list(cls.files_paths),
                "fields": [field_to_dict(spec) for spec in cls.fields.values()],
            }
            for cls in schema.classes.values()
        },
    }
