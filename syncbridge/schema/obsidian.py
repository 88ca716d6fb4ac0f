"""Obsidian's own settings that shape the schema: ``types.json`` and template folders.

Side effects: each reader reads one JSON file under ``<vault>/.obsidian``; missing or
malformed files read as "nothing configured".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncbridge.schema.model import FieldKind, FieldSpec, FieldType

__all__ = [
    "OBSIDIAN_TYPES",
    "read_template_folders",
    "read_types_json",
    "spec_from_obsidian_type",
]

OBSIDIAN_DATETIME_FORMAT = "YYYY-MM-DDTHH:mm:ss"
"""How Obsidian's Properties editor writes a "Date & time" value."""

OBSIDIAN_TYPES: Mapping[str, tuple[FieldType, FieldKind, Mapping[str, Any]]] = {
    "text": (FieldType.INPUT, FieldKind.TEXT, {}),
    "multitext": (FieldType.MULTI, FieldKind.LIST, {}),
    "number": (FieldType.NUMBER, FieldKind.NUMBER, {}),
    "checkbox": (FieldType.BOOLEAN, FieldKind.BOOLEAN, {}),
    "date": (FieldType.DATE, FieldKind.DATE, {"dateFormat": "YYYY-MM-DD"}),
    "datetime": (FieldType.DATETIME, FieldKind.DATETIME, {"dateFormat": OBSIDIAN_DATETIME_FORMAT}),
    "aliases": (FieldType.MULTI, FieldKind.LIST, {}),
    "tags": (FieldType.MULTI, FieldKind.LIST, {}),
}
"""Obsidian's internal property type names → (MDM type, kind, options)."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def spec_from_obsidian_type(name: str, obsidian_type: str) -> FieldSpec:
    """The field an Obsidian property type declares. Unknown types read as text.

    ``options["obsidianType"]`` keeps the original name (``"multitext"``, ``"tags"`` ...).
    """
    ftype, kind, options = OBSIDIAN_TYPES.get(obsidian_type, OBSIDIAN_TYPES["text"])
    return FieldSpec(
        name=name,
        type=ftype,
        kind=kind,
        options={**options, "obsidianType": obsidian_type},
        origin="types.json",
    )


def read_types_json(root: Path) -> dict[str, FieldSpec]:
    """The properties declared in ``<root>/.obsidian/types.json``, in file order.

    Accepts ``{"types": {name: type}}`` (current) and a bare ``{name: type}`` mapping.
    Returns ``{}`` when absent or malformed. Side effect: reads that file.
    """
    data = _read_json(root / ".obsidian" / "types.json")
    if not isinstance(data, dict):
        return {}
    types = data.get("types", data)
    if not isinstance(types, dict):
        return {}
    return {
        name: spec_from_obsidian_type(name, value)
        for name, value in types.items()
        if isinstance(name, str) and isinstance(value, str)
    }


def read_template_folders(root: Path) -> list[str]:
    """Template folders configured in the vault: Templater's ``templates_folder``
    (``.obsidian/plugins/templater-obsidian/data.json``) and the core Templates plugin's
    ``folder`` (``.obsidian/templates.json``), without leading/trailing ``/``.
    Side effect: reads those two files."""
    folders: list[str] = []
    for rel, key in (
        (".obsidian/plugins/templater-obsidian/data.json", "templates_folder"),
        (".obsidian/templates.json", "folder"),
    ):
        data = _read_json(root / rel)
        if isinstance(data, dict):
            value = data.get(key)
            if isinstance(value, str) and value.strip("/ "):
                folder = value.strip().strip("/")
                if folder not in folders:
                    folders.append(folder)
    return folders
