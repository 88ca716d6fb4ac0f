"""Checks a note's values against its class, for ``syncbridge doctor``.

Warnings only: nothing here rewrites a note. Empty values (absent, ``null``, ``""``,
``[]``) are never reported: Metadata Menu writes ``key: `` for "not set yet".
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncbridge.schema.dateformat import moment_format
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType
from syncbridge.schema.values import date_format_of, parse_temporal

__all__ = ["FieldIssue", "validate_note", "validate_value"]

_WIKILINK_RE = re.compile(r"!?\[\[[^\[\]]+\]\]")
_MDLINK_RE = re.compile(r"!?\[[^\]]*\]\([^)]+\)")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one field of a note. ``severity`` is always ``"warning"`` for
    value problems (the note stays as it is)."""

    field: str
    message: str
    severity: str = "warning"
    value: Any = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_link(value: Any) -> bool:
    if isinstance(value, str):
        text = value.strip()
        return bool(_WIKILINK_RE.fullmatch(text) or _MDLINK_RE.fullmatch(text))
    # an unquoted [[X]] read by YAML as [["X"]]: a link to Obsidian, worth a warning though
    return False


def _unquoted_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], list)
        and len(value[0]) == 1
        and isinstance(value[0][0], str)
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return not (isinstance(value, float) and math.isnan(value))
    return False


def _choice_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_temporal(spec: FieldSpec, value: Any) -> str | None:
    fmt = date_format_of(spec)
    if isinstance(value, str) and _WIKILINK_RE.fullmatch(value.strip()):
        inner = value.strip().lstrip("!")[2:-2].split("|")[0].split("#")[0]
        if moment_format(fmt).parse(inner.rsplit("/", 1)[-1]) is not None:
            return None  # a date inserted as a link (defaultInsertAsLink)
    if isinstance(value, dt.datetime):
        return "is a date-time, not a time" if spec.kind is FieldKind.TIME else None
    if isinstance(value, dt.date):
        return "is a date, not a time" if spec.kind is FieldKind.TIME else None
    if isinstance(value, dt.time):
        return None if spec.kind is FieldKind.TIME else "is a time, not a date"
    if not isinstance(value, str):
        return f"expected a date in format {fmt!r}, got {type(value).__name__} {value!r}"
    if spec.origin == "metadata-menu" and spec.date_format:
        if moment_format(fmt).parse(value) is None:
            return f"{value!r} is not in dateFormat {fmt!r}"
        return None
    if parse_temporal(fmt, value) is None:
        return f"{value!r} is not a date in format {fmt!r} or ISO 8601"
    return None


def validate_value(spec: FieldSpec, value: Any) -> list[str]:
    """Messages for what is wrong with ``value`` (a raw frontmatter value) for ``spec``;
    ``[]`` when it fits or is empty. Read-only (computed) fields are not checked."""
    if _empty(value) or spec.read_only:
        return []
    t = spec.type
    problems: list[str] = []
    if t is FieldType.NUMBER:
        if not _is_number(value):
            if isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()):
                problems.append(f"number written as a string: {value!r}")
            else:
                problems.append(f"expected a number, got {type(value).__name__} {value!r}")
        else:
            low, high = spec.options.get("min"), spec.options.get("max")
            if _is_number(low) and value < low:
                problems.append(f"{value} is below min {low}")
            if _is_number(high) and value > high:
                problems.append(f"{value} is above max {high}")
    elif t is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            problems.append(f"expected true or false, got {value!r}")
    elif t in (FieldType.SELECT, FieldType.CYCLE):
        if isinstance(value, list | dict):
            problems.append(f"expected a single value, got {type(value).__name__} {value!r}")
        elif spec.choices and _choice_text(value) not in spec.choices:
            problems.append(f"{value!r} is not one of {list(spec.choices)!r}")
    elif t is FieldType.MULTI:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, list | dict):
                problems.append(f"item {item!r} is not a single value")
            elif spec.choices and not _empty(item) and _choice_text(item) not in spec.choices:
                problems.append(f"item {item!r} is not one of {list(spec.choices)!r}")
    elif spec.kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.TIME):
        problem = _check_temporal(spec, value)
        if problem:
            problems.append(problem)
    elif t in (FieldType.FILE, FieldType.MEDIA):
        if _unquoted_link(value):
            problems.append("unquoted [[link]]: YAML reads it as a nested list; quote it")
        elif not _is_link(value):
            problems.append(f'expected a link like "[[Note]]", got {value!r}')
    elif t in (FieldType.MULTIFILE, FieldType.MULTIMEDIA):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if _unquoted_link(item):
                problems.append("unquoted [[link]] in list: YAML reads it as a nested list")
            elif not _empty(item) and not _is_link(item):
                problems.append(f'item {item!r} is not a link like "[[Note]]"')
    elif t is FieldType.JSON:
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                problems.append("not valid JSON")
    elif t is FieldType.OBJECT:
        if not isinstance(value, Mapping):
            problems.append(f"expected a mapping, got {type(value).__name__}")
    elif t is FieldType.OBJECT_LIST:
        if not isinstance(value, list) or not all(isinstance(i, Mapping) for i in value):
            problems.append("expected a list of mappings")
    elif t is FieldType.INPUT and isinstance(value, list | dict):
        problems.append(f"expected a single value, got {type(value).__name__}")
    return problems


def validate_note(cls: ClassSchema, fields: Mapping[str, Any]) -> list[FieldIssue]:
    """Warnings for the values in ``fields`` (a note's frontmatter) that do not fit
    ``cls``, in the class's field order. Keys the class does not define are not reported.
    Pure; never modifies ``fields``."""
    issues: list[FieldIssue] = []
    for name, spec in cls.fields.items():
        if name not in fields:
            continue
        value = fields[name]
        for message in validate_value(spec, value):
            issues.append(FieldIssue(field=name, message=message, value=value))
    return issues
