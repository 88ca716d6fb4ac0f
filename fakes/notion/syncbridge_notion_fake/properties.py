"""Data-source schemas and page property values: validation, storage form, response shape.

A schema property is stored as ``{"id", "name", "type", "config"}``; a page stores values
keyed by property id (so renames keep values). Stored values are close to the response
form, except that select/multi_select keep option ids, relation/people keep ids, so
renamed or deleted options show through as Notion shows them.
"""

from __future__ import annotations

import math
import secrets
import string
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from .clock import parse_iso
from .errors import body_error, validation_error
from .richtext import COLORS, parse_rich_text, plain_text, text_item, truncate_page_mentions
from .validation import (
    MAX_ARRAY_ITEMS,
    MAX_EMAIL_LENGTH,
    MAX_SELECT_OPTION_LENGTH,
    MAX_URL_LENGTH,
    expect_list,
    expect_object,
    expect_string,
    require_id,
)

__all__ = [
    "DEFAULT_STATUS_GROUPS",
    "PAGE_REFERENCE_LIMIT",
    "PROPERTY_TYPES",
    "apply_schema_update",
    "convert_value",
    "new_property",
    "parse_value",
    "render_schema",
    "render_value",
    "status_config",
]

PAGE_REFERENCE_LIMIT = 25
"""Page objects show at most 25 relation items, people and page mentions per property."""

_PLAIN_CONFIG = (
    "title",
    "rich_text",
    "checkbox",
    "date",
    "url",
    "email",
    "phone_number",
    "people",
    "files",
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
)
PROPERTY_TYPES = frozenset(
    (*_PLAIN_CONFIG, "number", "select", "multi_select", "status", "relation")
)
READ_ONLY_TYPES = frozenset(("created_time", "last_edited_time", "created_by", "last_edited_by"))
NUMBER_FORMATS = frozenset(
    (
        "number",
        "number_with_commas",
        "percent",
        "dollar",
        "euro",
        "pound",
        "yen",
        "rupee",
        "won",
        "yuan",
        "real",
        "lira",
        "franc",
        "canadian_dollar",
        "australian_dollar",
    )
)
_ARRAY_VALUE_TYPES = frozenset(
    ("title", "rich_text", "multi_select", "relation", "people", "files")
)
_ID_ALPHABET = string.ascii_letters + string.digits + "<>=?@[]^_{|}~;:"

JSON = dict[str, Any]
Titles = Callable[[], dict[str, str]]


def new_property_id() -> str:
    """A Notion-like property id: four random characters, URL-encoded (``%3EQQn``)."""
    return quote("".join(secrets.choice(_ID_ALPHABET) for _ in range(4)), safe="")


def _option_name(path: str, value: Any) -> str:
    name = expect_string(path, value, MAX_SELECT_OPTION_LENGTH)
    if "," in name:
        raise validation_error(f"Invalid select option, commas not allowed: {name}")
    return name


def _options(path: str, raw: Any, current: list[JSON] | None) -> list[JSON]:
    """Validate select options; options keep their id when matched by id or name."""
    given = expect_list(path, raw, None)
    known = {o["id"]: o for o in current or []}
    by_name = {o["name"]: o for o in current or []}
    result: list[JSON] = []
    for index, entry in enumerate(given):
        where = f"{path}[{index}]"
        option = expect_object(where, entry)
        previous = known.get(option.get("id", "")) or by_name.get(option.get("name", ""))
        name = _option_name(f"{where}.name", option.get("name", (previous or {}).get("name")))
        color = option.get("color", (previous or {}).get("color", "default"))
        if color not in COLORS or color.endswith("_background"):
            raise body_error(f"{where}.color", "should be a valid select color", color)
        result.append(
            {
                "id": (previous or {}).get("id") or new_property_id(),
                "name": name,
                "color": color,
                "description": option.get("description", (previous or {}).get("description")),
            }
        )
    return result


def _config(kind: str, path: str, raw: Any, current: JSON | None) -> JSON:
    config = expect_object(path, raw)
    if kind in _PLAIN_CONFIG:
        return {}
    if kind == "number":
        fmt = config.get("format", (current or {}).get("format", "number"))
        if fmt not in NUMBER_FORMATS:
            raise body_error(f"{path}.format", "should be a valid number format", fmt)
        return {"format": fmt}
    if kind in ("select", "multi_select"):
        previous = (current or {}).get("options")
        if "options" not in config:
            return {"options": list(previous or [])}
        return {"options": _options(f"{path}.options", config["options"], previous)}
    if kind == "status":
        if current is not None and "options" in config:
            raise validation_error("Cannot update status options via the API.")
        return current or status_config(DEFAULT_STATUS_GROUPS)
    if kind == "relation":
        target = require_id(config.get("data_source_id"), f"{path}.data_source_id")
        relation_type = "dual_property" if "dual_property" in config else "single_property"
        return {"data_source_id": target, "type": relation_type, relation_type: {}}
    raise body_error(path, "should be a supported property type", kind)


DEFAULT_STATUS_GROUPS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("To-do", "gray", (("Not started", "default"),)),
    ("In progress", "blue", (("In progress", "blue"),)),
    ("Complete", "green", (("Done", "green"),)),
)
"""A new status property's groups (name, colour, options as (name, colour)), as Notion
makes them: each option in one group, To-do, In progress, Complete in that order."""


def status_config(
    groups: Sequence[tuple[str, str, Sequence[tuple[str, str]]]],
    current: JSON | None = None,
) -> JSON:
    """A status property's config (``options`` and ``groups`` with ``option_ids``) for
    ``groups``; options of ``current`` keep their ids (matched by name), as an edit in
    Notion's app keeps them. Raises ``ValueError`` for an option name given twice, a
    comma in a name, or an unknown colour."""
    known = {o["name"]: o for o in (current or {}).get("options", [])}
    old_groups = {g["name"]: g for g in (current or {}).get("groups", [])}
    options: list[JSON] = []
    rendered: list[JSON] = []
    for group_name, group_color, members in groups:
        ids = []
        for name, color in members:
            if not name or "," in name or len(name) > MAX_SELECT_OPTION_LENGTH:
                raise ValueError(f"invalid status option name {name!r}")
            if any(o["name"] == name for o in options):
                raise ValueError(f"status option {name!r} given twice")
            if color not in COLORS or color.endswith("_background"):
                raise ValueError(f"invalid colour {color!r} for status option {name!r}")
            previous = known.get(name, {})
            option_id = previous.get("id") or new_property_id()
            options.append(
                {
                    "id": option_id,
                    "name": name,
                    "color": color,
                    "description": previous.get("description"),
                }
            )
            ids.append(option_id)
        rendered.append(
            {
                "id": old_groups.get(group_name, {}).get("id") or str(uuid.uuid4()),
                "name": group_name,
                "color": group_color,
                "option_ids": ids,
            }
        )
    return {"options": options, "groups": rendered}


def _property_type(path: str, raw: JSON) -> str | None:
    kind = raw.get("type")
    if kind is None:
        kind = next((key for key in raw if key in PROPERTY_TYPES), None)
    if kind is not None and kind not in PROPERTY_TYPES:
        raise body_error(f"{path}.type", "should be a supported property type", kind)
    return kind


def new_property(path: str, name: str, raw: Any) -> JSON:
    """A schema property named ``name`` from its request config (``{"number": {}}``)."""
    config = expect_object(path, raw)
    kind = _property_type(path, config)
    if kind is None:
        raise body_error(f"{path}.type", "should be defined")
    return {
        "id": "title" if kind == "title" else new_property_id(),
        "name": expect_string(f"{path}.name", config.get("name", name), 100),
        "type": kind,
        "config": _config(kind, f"{path}.{kind}", config.get(kind, {}), None),
        "description": config.get("description"),
    }


def initial_schema(path: str, raw: Any) -> dict[str, JSON]:
    """Schema of a new data source; it must have exactly one title property."""
    given = expect_object(path, raw)
    schema: dict[str, JSON] = {}
    for name, config in given.items():
        prop = new_property(f"{path}.{name}", name, config)
        schema[prop["id"]] = prop
    titles = [p for p in schema.values() if p["type"] == "title"]
    if len(titles) != 1:
        raise validation_error(
            "Title property must be defined exactly once; "
            f"{len(titles)} title properties were given."
        )
    return schema


def find_property(schema: dict[str, JSON], key: str) -> JSON | None:
    """A schema property by name or id (ids may be given URL-decoded)."""
    if key in schema:
        return schema[key]
    encoded = quote(key, safe="")
    for prop in schema.values():
        if prop["name"] == key or prop["id"] == encoded:
            return prop
    return None


def apply_schema_update(schema: dict[str, JSON], raw: Any) -> dict[str, JSON]:
    """``PATCH /data_sources/{id}`` ``properties``: add, rename, retype, delete; new schema.

    ``null`` deletes a property; ``{"name": ...}`` renames; a type key changes the type or
    its options (omitted select options are removed). The title property cannot be
    deleted or retyped.
    """
    given = expect_object("body.properties", raw)
    result = {pid: dict(prop) for pid, prop in schema.items()}
    for key, change in given.items():
        path = f"body.properties.{key}"
        existing = find_property(result, key)
        if change is None:
            if existing is None:
                raise validation_error(f"{key} is not a property that exists.")
            if existing["type"] == "title":
                raise validation_error("Cannot delete the title property.")
            del result[existing["id"]]
            continue
        if existing is None:
            prop = new_property(path, key, change)
            if prop["type"] == "title":
                raise validation_error("Cannot create a second title property.")
            result[prop["id"]] = prop
            continue
        update = expect_object(path, change)
        kind = _property_type(path, update)
        if kind is not None:
            if existing["type"] == "title" and kind != "title":
                raise validation_error("Cannot change the type of the title property.")
            current = existing["config"] if kind == existing["type"] else None
            existing["config"] = _config(kind, f"{path}.{kind}", update.get(kind, {}), current)
            existing["type"] = kind
        if "name" in update:
            new_name = expect_string(f"{path}.name", update["name"], 100)
            clash = find_property(result, new_name)
            if clash is not None and clash["id"] != existing["id"]:
                raise validation_error(f"A property named {new_name} already exists.")
            existing["name"] = new_name
        if "description" in update:
            existing["description"] = update["description"]
    return result


def render_schema(schema: dict[str, JSON]) -> JSON:
    """The data source's ``properties`` object, keyed by name."""
    return {
        prop["name"]: {
            "id": prop["id"],
            "name": prop["name"],
            "description": prop.get("description"),
            "type": prop["type"],
            prop["type"]: prop["config"],
        }
        for prop in schema.values()
    }


def _expected(prop: JSON, path: str, what: str, value: Any) -> Exception:
    return body_error(f"{path}.{prop['type']}", f"should be {what}", value)


def _select_option(prop: JSON, path: str, raw: Any) -> str:
    """Option id for a select value given by name or id; unknown names become options."""
    option = expect_object(path, raw)
    options: list[JSON] = prop["config"].setdefault("options", [])
    if "id" in option:
        match = next((o for o in options if o["id"] == option["id"]), None)
        if match is None:
            raise validation_error(f"Invalid select option id: {option['id']}")
        return str(match["id"])
    name = _option_name(f"{path}.name", option.get("name"))
    match = next((o for o in options if o["name"] == name), None)
    if match is None:
        if prop["type"] == "status":
            raise validation_error(f'Invalid status option. Status option "{name}" does not exist.')
        match = {
            "id": new_property_id(),
            "name": name,
            "color": option.get("color", "default"),
            "description": None,
        }
        options.append(match)
    return str(match["id"])


def _id_list(path: str, raw: Any) -> list[str]:
    items = expect_list(path, raw, MAX_ARRAY_ITEMS)
    return [
        require_id(expect_object(f"{path}[{i}]", item).get("id"), f"{path}[{i}].id")
        for i, item in enumerate(items)
    ]


def parse_value(prop: JSON, path: str, raw: Any, titles: dict[str, str]) -> Any:
    """Validate a request value for ``prop`` and return its stored form.

    The value is ``{"<type>": ...}`` (array types also take the bare array); anything
    else gives Notion's ``X is expected to be <type>.``. New select names
    are added to the schema's options as a side effect (Notion does the same).
    """
    kind = prop["type"]
    if isinstance(raw, dict) and kind in raw:
        value = raw[kind]
    elif isinstance(raw, list) and kind in _ARRAY_VALUE_TYPES:
        value = raw  # the bare-array form, e.g. {"title": [...]} as the cassettes send it
    else:
        raise validation_error(f"{prop['name']} is expected to be {kind}.")
    if kind in READ_ONLY_TYPES:
        raise validation_error(f"{prop['name']} is a read-only property of type {kind}.")
    where = f"{path}.{kind}"
    if kind in ("title", "rich_text"):
        return parse_rich_text(where, value, titles)
    if kind == "number":
        if value is not None and (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise _expected(prop, path, "a number or `null`", value)
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise _expected(prop, path, "a boolean", value)
        return value
    if kind in ("select", "status"):
        return None if value is None else _select_option(prop, where, value)
    if kind == "multi_select":
        items = expect_list(where, value, MAX_ARRAY_ITEMS)
        ids = [_select_option(prop, f"{where}[{i}]", item) for i, item in enumerate(items)]
        return list(dict.fromkeys(ids))
    if kind == "date":
        if value is None:
            return None
        date = expect_object(where, value)
        start = date.get("start")
        if not isinstance(start, str) or parse_iso(start) is None:
            raise body_error(f"{where}.start", "should be a valid ISO 8601 date string", start)
        end = date.get("end")
        if end is not None and (not isinstance(end, str) or parse_iso(end) is None):
            raise body_error(f"{where}.end", "should be a valid ISO 8601 date string", end)
        return {"start": start, "end": end, "time_zone": date.get("time_zone")}
    if kind in ("url", "email", "phone_number"):
        if value is None:
            return None
        limit = MAX_URL_LENGTH if kind == "url" else MAX_EMAIL_LENGTH
        return expect_string(where, value, limit)
    if kind in ("relation", "people"):
        return _id_list(where, value)
    if kind == "files":
        files = expect_list(where, value, MAX_ARRAY_ITEMS)
        result = []
        for i, entry in enumerate(files):
            item = expect_object(f"{where}[{i}]", entry)
            ext = expect_object(f"{where}[{i}].external", item.get("external"))
            url = expect_string(f"{where}[{i}].external.url", ext.get("url"), MAX_URL_LENGTH)
            name = expect_string(f"{where}[{i}].name", item.get("name", url), 100)
            result.append({"name": name, "type": "external", "external": {"url": url}})
        return result
    raise validation_error(f"{prop['name']} has an unsupported property type {kind}.")


def _plain(prop: JSON, stored: Any) -> str:
    """The text a stored value shows as (what a retype to a text property keeps)."""
    kind = prop["type"]
    if stored is None:
        return ""
    if kind in ("title", "rich_text"):
        return plain_text(stored)
    if kind == "number":
        number = float(stored)
        return str(int(number)) if number.is_integer() else repr(number)
    if kind == "checkbox":
        return "Yes" if stored else ""
    if kind in ("select", "status"):
        option = _option(prop, stored)
        return option["name"] if option else ""
    if kind == "multi_select":
        return ", ".join(o["name"] for o in (_option(prop, i) for i in stored) if o)
    if kind == "date":
        return str(stored.get("start") or "")
    if kind in ("url", "email", "phone_number"):
        return str(stored)
    return ""


def convert_value(old: JSON, new: JSON, stored: Any) -> Any:
    """A stored value of property ``old`` as property ``new`` (same id, retyped in the
    UI): converted through its text as Notion does, best effort (``"12"`` → 12, 7 →
    ``"7"``, a select → a multi_select of that option); what does not convert is empty.
    Options the values need are added to ``new``."""
    kind = new["type"]
    if kind == old["type"]:
        return stored
    text = _plain(old, stored).strip()
    if kind in ("title", "rich_text"):
        return [text_item(text)] if text else []
    if kind == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() else number
    if kind == "checkbox":
        return text.casefold() in ("yes", "true", "checked", "1", "x")
    if kind in ("select", "multi_select"):
        names = [n.strip() for n in text.split(",")] if kind == "multi_select" else [text]
        names = [n for n in names if n and len(n) <= MAX_SELECT_OPTION_LENGTH]
        ids = [_select_option(new, "conversion", {"name": n}) for n in names]
        if kind == "select":
            return ids[0] if ids else None
        return list(dict.fromkeys(ids))
    if kind == "date":
        return {"start": text, "end": None, "time_zone": None} if parse_iso(text) else None
    if kind in ("url", "email", "phone_number"):
        return text or None
    return default_value(kind)


def default_value(kind: str) -> Any:
    """The stored value of a property never written."""
    if kind in ("title", "rich_text", "multi_select", "relation", "people", "files"):
        return []
    if kind == "checkbox":
        return False
    return None


def _option(prop: JSON, option_id: str) -> JSON | None:
    for option in prop["config"].get("options", []):
        if option["id"] == option_id:
            return {"id": option["id"], "name": option["name"], "color": option["color"]}
    return None


def response_value(prop: JSON, stored: Any, computed: JSON, full: bool) -> Any:
    """The value under ``prop['type']`` in a response; ``full=False`` truncates to 25."""
    kind = prop["type"]
    if kind in READ_ONLY_TYPES:
        return computed[kind]
    if kind in ("select", "status"):
        return None if stored is None else _option(prop, stored)
    if kind == "multi_select":
        return [o for o in (_option(prop, i) for i in stored) if o is not None]
    if kind == "relation":
        ids = stored if full else stored[:PAGE_REFERENCE_LIMIT]
        return [{"id": i} for i in ids]
    if kind == "people":
        ids = stored if full else stored[:PAGE_REFERENCE_LIMIT]
        return [{"object": "user", "id": i} for i in ids]
    if kind in ("title", "rich_text") and not full:
        return truncate_page_mentions(stored, PAGE_REFERENCE_LIMIT)
    return stored


def render_value(prop: JSON, stored: Any, computed: JSON) -> JSON:
    """A property value as it appears in a page object (``{"id", "type", <type>}``)."""
    rendered: JSON = {
        "id": prop["id"],
        "type": prop["type"],
        prop["type"]: response_value(prop, stored, computed, full=False),
    }
    if prop["type"] == "relation":
        rendered["has_more"] = len(stored) > PAGE_REFERENCE_LIMIT
    return rendered
