"""Data-source query semantics: filters, sorts and cursor pagination, as Notion applies them.

:func:`compile_filter` validates a request ``filter`` against the schema once and returns a
predicate over page records. Timestamps are compared after rounding down to the minute,
like the values Notion shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import floor_minute, parse_iso
from .errors import body_error, validation_error
from .properties import find_property
from .richtext import plain_text
from .validation import expect_list, expect_object

__all__ = ["compile_filter", "paginate", "sort_pages"]

JSON = dict[str, Any]
Predicate = Callable[[JSON], bool]
Schema = dict[str, JSON]

TEXT_TYPES = ("title", "rich_text", "url", "email", "phone_number")
TEXT_CONDITIONS = (
    "equals",
    "does_not_equal",
    "contains",
    "does_not_contain",
    "starts_with",
    "ends_with",
    "is_empty",
    "is_not_empty",
)
NUMBER_CONDITIONS = (
    "equals",
    "does_not_equal",
    "greater_than",
    "less_than",
    "greater_than_or_equal_to",
    "less_than_or_equal_to",
    "is_empty",
    "is_not_empty",
)
DATE_CONDITIONS = (
    "equals",
    "before",
    "after",
    "on_or_before",
    "on_or_after",
    "is_empty",
    "is_not_empty",
    "past_week",
    "past_month",
    "past_year",
    "next_week",
    "next_month",
    "next_year",
    "this_week",
)
SELECT_CONDITIONS = ("equals", "does_not_equal", "is_empty", "is_not_empty")
LIST_CONDITIONS = ("contains", "does_not_contain", "is_empty", "is_not_empty")
CONDITIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(TEXT_TYPES, TEXT_CONDITIONS),
    "number": NUMBER_CONDITIONS,
    "checkbox": ("equals", "does_not_equal"),
    "select": SELECT_CONDITIONS,
    "status": SELECT_CONDITIONS,
    "multi_select": LIST_CONDITIONS,
    "relation": LIST_CONDITIONS,
    "people": LIST_CONDITIONS,
    "files": ("is_empty", "is_not_empty"),
    "date": DATE_CONDITIONS,
    "created_time": DATE_CONDITIONS,
    "last_edited_time": DATE_CONDITIONS,
}
MAX_FILTER_DEPTH = 2
MAX_COMPOUND_ITEMS = 100
_RELATIVE = {
    "today": 0,
    "tomorrow": 1,
    "yesterday": -1,
    "one_week_ago": -7,
    "one_week_from_now": 7,
    "one_month_ago": -30,
    "one_month_from_now": 30,
}
_RANGES = {
    "past_week": (-7, 0),
    "past_month": (-30, 0),
    "past_year": (-365, 0),
    "next_week": (0, 7),
    "next_month": (0, 30),
    "next_year": (0, 365),
}


def _value(schema: Schema, prop: JSON, page: JSON) -> Any:
    """The comparable value of ``prop`` on ``page`` (names for options, text for text)."""
    kind = prop["type"]
    if kind == "created_time":
        return _moment(page["created"])
    if kind == "last_edited_time":
        return _moment(page["edited"])
    stored = page["properties"].get(prop["id"])
    if kind in ("title", "rich_text"):
        return plain_text(stored or [])
    if kind in ("select", "status", "multi_select"):
        names = {o["id"]: o["name"] for o in prop["config"].get("options", [])}
        if kind == "multi_select":
            return [names[i] for i in stored or [] if i in names]
        return names.get(stored) if stored else None
    if kind == "date":
        return parse_iso(stored["start"]) if stored else None
    if kind == "checkbox":
        return bool(stored)
    return (
        stored if stored is not None else ([] if kind in ("relation", "people", "files") else None)
    )


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(floor_minute(epoch), UTC)


def _date_bound(path: str, raw: Any, now: float) -> tuple[datetime, bool]:
    """A filter date and whether it was date-only (then comparisons are by whole day)."""
    if isinstance(raw, str) and raw in _RELATIVE:
        day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return day + timedelta(days=_RELATIVE[raw]), True
    moment = parse_iso(raw) if isinstance(raw, str) else None
    if moment is None:
        raise body_error(path, "should be a valid ISO 8601 date string", raw)
    return moment, len(raw.strip()) == 10


def _date_test(path: str, condition: str, operand: Any, now: float) -> Callable[[Any], bool]:
    if condition in ("is_empty", "is_not_empty"):
        want_empty = condition == "is_empty"
        return lambda v: (v is None) == want_empty
    current = datetime.fromtimestamp(now, UTC)
    if condition in _RANGES:
        low, high = _RANGES[condition]
        start, end = current + timedelta(days=low), current + timedelta(days=high)
        return lambda v: v is not None and start <= v <= end
    if condition == "this_week":
        monday = (current - timedelta(days=current.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return lambda v: v is not None and monday <= v < monday + timedelta(days=7)
    bound, whole_day = _date_bound(path, operand, now)
    next_day = bound + timedelta(days=1)
    tests: dict[str, Callable[[datetime], bool]] = {
        "equals": (lambda v: bound <= v < next_day) if whole_day else (lambda v: v == bound),
        "before": lambda v: v < bound,
        "after": (lambda v: v >= next_day) if whole_day else (lambda v: v > bound),
        "on_or_before": (lambda v: v < next_day) if whole_day else (lambda v: v <= bound),
        "on_or_after": lambda v: v >= bound,
    }
    test = tests[condition]
    return lambda v: v is not None and test(v)


def _check_operand(path: str, kind: str, condition: str, operand: Any) -> None:
    if (
        condition in ("is_empty", "is_not_empty")
        or condition in _RANGES
        or condition == "this_week"
    ):
        return
    if kind in TEXT_TYPES and not isinstance(operand, str):
        raise body_error(path, "should be a string", operand)
    if kind == "number" and (not isinstance(operand, int | float) or isinstance(operand, bool)):
        raise body_error(path, "should be a number", operand)
    if kind == "checkbox" and not isinstance(operand, bool):
        raise body_error(path, "should be a boolean", operand)


def _condition_test(
    path: str, kind: str, condition: str, operand: Any, now: float
) -> Callable[[Any], bool]:
    """A test on a property's comparable value for one filter condition."""
    _check_operand(path, kind, condition, operand)
    if kind in ("date", "created_time", "last_edited_time"):
        return _date_test(path, condition, operand, now)
    if condition == "is_empty":
        return lambda v: v in (None, "", [])
    if condition == "is_not_empty":
        return lambda v: v not in (None, "", [])
    if kind in TEXT_TYPES:
        needle = str(operand)
        low = needle.lower()
        text_tests: dict[str, Callable[[str], bool]] = {
            "equals": lambda v: v == needle,
            "does_not_equal": lambda v: v != needle,
            "contains": lambda v: low in v.lower(),
            "does_not_contain": lambda v: low not in v.lower(),
            "starts_with": lambda v: v.lower().startswith(low),
            "ends_with": lambda v: v.lower().endswith(low),
        }
        text_test = text_tests[condition]
        return lambda v: text_test(v or "")
    if kind == "number":
        number_tests: dict[str, Callable[[float], bool]] = {
            "equals": lambda v: v == operand,
            "does_not_equal": lambda v: v != operand,
            "greater_than": lambda v: v > operand,
            "less_than": lambda v: v < operand,
            "greater_than_or_equal_to": lambda v: v >= operand,
            "less_than_or_equal_to": lambda v: v <= operand,
        }
        number_test = number_tests[condition]
        if condition == "does_not_equal":
            return lambda v: v is None or number_test(v)
        return lambda v: v is not None and number_test(v)
    if kind == "checkbox":
        return (lambda v: v == operand) if condition == "equals" else (lambda v: v != operand)
    if kind in ("select", "status"):
        wanted = set(operand) if isinstance(operand, list) else {operand}
        if condition == "equals":
            return lambda v: v in wanted
        return lambda v: v not in wanted
    # multi_select, relation, people: contains / does_not_contain one name or id
    if kind in ("relation", "people"):
        from .validation import require_id

        operand = require_id(operand, path)
    if condition == "contains":
        return lambda v: operand in (v or [])
    return lambda v: operand not in (v or [])


def _leaf(path: str, raw: JSON, schema: Schema, now: float) -> Predicate:
    if "timestamp" in raw:
        kind = raw["timestamp"]
        if kind not in ("created_time", "last_edited_time"):
            raise body_error(
                f"{path}.timestamp", "should be `created_time` or `last_edited_time`", kind
            )
        prop: JSON = {"id": kind, "name": kind, "type": kind, "config": {}}
    else:
        key = raw.get("property")
        if not isinstance(key, str):
            raise body_error(f"{path}.property", "should be defined", raw.get("property", ...))
        found = find_property(schema, key)
        if found is None:
            raise validation_error(f"Could not find property with name or id: {key}")
        prop = found
    kind = prop["type"]
    type_key = kind
    if type_key not in raw:
        # Notion accepts the type key of a compatible condition family, e.g. "rich_text"
        # for a title, or "date" for a timestamp property.
        alternatives = [k for k in CONDITIONS if k in raw]
        if len(alternatives) != 1:
            raise body_error(f"{path}.{kind}", "should be defined", ...)
        type_key = alternatives[0]
        if CONDITIONS[type_key] != CONDITIONS.get(kind):
            raise validation_error(
                f"body failed validation: {path}.{type_key} does not match the type of "
                f'property "{prop["name"]}" ({kind}).'
            )
    conditions = expect_object(f"{path}.{type_key}", raw[type_key])
    if len(conditions) != 1:
        raise validation_error(
            f"body failed validation: {path}.{type_key} should have exactly one condition, "
            f"instead had {len(conditions)}."
        )
    condition, operand = next(iter(conditions.items()))
    if condition not in CONDITIONS[kind]:
        raise body_error(f"{path}.{type_key}.{condition}", "should be not present", operand)
    test = _condition_test(f"{path}.{type_key}.{condition}", kind, condition, operand, now)
    return lambda page: test(_value(schema, prop, page))


def compile_filter(
    raw: Any, schema: Schema, now: float, path: str = "body.filter", depth: int = 0
) -> Predicate:
    """Validate a query ``filter`` and return a predicate over page records.

    ``and``/``or`` may nest two levels deep; property filters name properties by name or
    id; timestamp filters use ``created_time``/``last_edited_time``.
    """
    given = expect_object(path, raw)
    for combinator in ("and", "or"):
        if combinator in given:
            if depth >= MAX_FILTER_DEPTH:
                raise body_error(f"{path}.{combinator}", "should be not present", given[combinator])
            parts = expect_list(f"{path}.{combinator}", given[combinator], MAX_COMPOUND_ITEMS)
            tests = [
                compile_filter(part, schema, now, f"{path}.{combinator}[{i}]", depth + 1)
                for i, part in enumerate(parts)
            ]
            if combinator == "and":
                return lambda page: all(test(page) for test in tests)
            return lambda page: any(test(page) for test in tests)
    return _leaf(path, given, schema, now)


def sort_pages(pages: list[JSON], raw: Any, schema: Schema) -> list[JSON]:
    """Order ``pages`` by request ``sorts`` (first sort wins); empty values go last."""
    sorts = expect_list("body.sorts", raw if raw is not None else [], 100)
    ordered = list(pages)
    for index in reversed(range(len(sorts))):
        path = f"body.sorts[{index}]"
        spec = expect_object(path, sorts[index])
        direction = spec.get("direction", "ascending")
        if direction not in ("ascending", "descending"):
            raise body_error(
                f"{path}.direction", "should be `ascending` or `descending`", direction
            )
        if "timestamp" in spec:
            kind = spec["timestamp"]
            if kind not in ("created_time", "last_edited_time"):
                raise body_error(
                    f"{path}.timestamp", "should be `created_time` or `last_edited_time`", kind
                )
            prop: JSON = {"id": kind, "name": kind, "type": kind, "config": {}}
        else:
            key = spec.get("property")
            found = find_property(schema, key) if isinstance(key, str) else None
            if found is None:
                raise validation_error(f"Could not find sort property with name or id: {key}")
            prop = found
        ordered = _sort_by(ordered, prop, schema, direction == "descending")
    return ordered


def _sort_by(pages: list[JSON], prop: JSON, schema: Schema, descending: bool) -> list[JSON]:
    option_rank = {o["name"]: i for i, o in enumerate(prop["config"].get("options", []))}

    def key(page: JSON) -> Any:
        value = _value(schema, prop, page)
        if prop["type"] in ("select", "status"):
            return option_rank.get(value, -1)
        if prop["type"] == "multi_select":
            return [option_rank.get(v, -1) for v in value]
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, list):
            return len(value)
        return value

    present = [p for p in pages if _value(schema, prop, p) not in (None, "", [])]
    empty = [p for p in pages if _value(schema, prop, p) in (None, "", [])]
    return sorted(present, key=key, reverse=descending) + empty


def paginate(
    ids: Sequence[str], start_cursor: Any, page_size: int, path: str
) -> tuple[list[str], str | None]:
    """One page of ``ids`` starting at ``start_cursor`` (an id); returns it and the
    next cursor (the id of the first item not returned) or ``None``."""
    start = 0
    if start_cursor is not None:
        if not isinstance(start_cursor, str) or start_cursor not in ids:
            raise body_error(path, "should be a valid start_cursor", start_cursor)
        start = list(ids).index(start_cursor)
    window = list(ids[start : start + page_size])
    following = start + page_size
    return window, (ids[following] if following < len(ids) else None)
