"""Rich text: validate request items and build the response items Notion returns.

Request items may omit ``type``, ``annotations`` and ``link``; responses always carry
``type``, the type object, full ``annotations``, ``plain_text`` and ``href``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import body_error
from .validation import (
    MAX_ARRAY_ITEMS,
    MAX_EQUATION_LENGTH,
    MAX_TEXT_LENGTH,
    expect_bool,
    expect_list,
    expect_object,
    expect_string,
    expect_url,
    require_id,
)

__all__ = [
    "COLORS",
    "count_page_mentions",
    "current_mentions",
    "parse_rich_text",
    "plain_text",
    "text_item",
]

BASE_COLORS = (
    "default",
    "gray",
    "brown",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "red",
)
COLORS = frozenset(BASE_COLORS) | {f"{c}_background" for c in BASE_COLORS if c != "default"}
_ANNOTATION_FLAGS = ("bold", "italic", "strikethrough", "underline", "code")
_MENTION_TYPES = ("page", "database", "user", "date", "template_mention", "custom_emoji")
"""The mention types a request may hold (``MentionRichTextItemRequest`` in Notion's SDK):
``link_preview`` and ``link_mention`` are only ever read."""


def _annotations(path: str, raw: Any) -> dict[str, Any]:
    result: dict[str, Any] = {flag: False for flag in _ANNOTATION_FLAGS}
    result["color"] = "default"
    if raw is None:
        return result
    given = expect_object(path, raw)
    for key, value in given.items():
        if key in _ANNOTATION_FLAGS:
            result[key] = expect_bool(f"{path}.{key}", value)
        elif key == "color":
            if value not in COLORS:
                raise body_error(f"{path}.color", "should be a valid color", value)
            result["color"] = value
        else:
            raise body_error(f"{path}.{key}", "should be not present", value)
    return result


def _date_value(path: str, raw: Any) -> dict[str, Any]:
    from .clock import parse_iso

    date = expect_object(path, raw)
    start = expect_string(f"{path}.start", date.get("start"))
    if parse_iso(start) is None:
        raise body_error(f"{path}.start", "should be a valid ISO 8601 date string", start)
    end = date.get("end")
    if end is not None and parse_iso(expect_string(f"{path}.end", end)) is None:
        raise body_error(f"{path}.end", "should be a valid ISO 8601 date string", end)
    time_zone = date.get("time_zone")
    if time_zone is not None:
        expect_string(f"{path}.time_zone", time_zone)
    return {"start": start, "end": end, "time_zone": time_zone}


_TEMPLATE_WORDS = {"template_mention_date": ("today", "now"), "template_mention_user": ("me",)}


def _date_label(date: dict[str, Any]) -> str:
    """A date mention's ``plain_text``: the start, ``start → end`` for a range, and
    ``start → `` for a time without an end (as a recorded response shows it)."""
    if date["end"] is not None:
        return f"{date['start']} → {date['end']}"
    return f"{date['start']} → " if "T" in date["start"] else date["start"]


def _template_mention(path: str, raw: Any) -> tuple[dict[str, Any], str]:
    given = expect_object(path, raw)
    sub = given.get("type") or next((k for k in _TEMPLATE_WORDS if k in given), None)
    if sub not in _TEMPLATE_WORDS or sub not in given:
        raise body_error(f"{path}.type", "should be a valid template mention type", sub)
    word = given[sub]
    if word not in _TEMPLATE_WORDS[sub]:
        raise body_error(f"{path}.{sub}", "should be a valid template mention value", word)
    return {"type": sub, sub: word}, "@" + word.capitalize()


def _mention(path: str, raw: Any, titles: dict[str, str]) -> tuple[dict[str, Any], str, str | None]:
    mention = expect_object(path, raw)
    kind = mention.get("type") or next((k for k in _MENTION_TYPES if k in mention), None)
    if kind not in _MENTION_TYPES or kind not in mention:
        raise body_error(f"{path}.type", "should be a valid mention type", kind)
    if kind in ("page", "database", "user"):
        ref = expect_object(f"{path}.{kind}", mention[kind])
        ref_id = require_id(ref.get("id"), f"{path}.{kind}.id")
        label = titles.get(ref_id, "Untitled")
        value: dict[str, Any] = {"id": ref_id}
        if kind == "user":
            value = {"object": "user", "id": ref_id}
            label = "@" + titles.get(ref_id, "Anonymous")
        href = None if kind == "user" else f"https://www.notion.so/{ref_id.replace('-', '')}"
        return {"type": kind, kind: value}, label, href
    if kind == "date":
        date = _date_value(f"{path}.date", mention["date"])
        return {"type": "date", "date": date}, _date_label(date), None
    if kind == "template_mention":
        template, label = _template_mention(f"{path}.template_mention", mention[kind])
        return {"type": kind, kind: template}, label, None
    emoji = expect_object(f"{path}.custom_emoji", mention["custom_emoji"])
    emoji_id = require_id(emoji.get("id"), f"{path}.custom_emoji.id")
    name = expect_string(f"{path}.custom_emoji.name", emoji.get("name", "emoji"))
    url = emoji.get("url")
    if url is not None:
        url = expect_url(f"{path}.custom_emoji.url", url)
    return {"type": kind, kind: {"id": emoji_id, "name": name, "url": url}}, f":{name}:", None


def text_item(content: str, link: str | None = None) -> dict[str, Any]:
    """A response rich-text item holding plain ``content``."""
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": _annotations("", None),
        "plain_text": content,
        "href": link,
    }


def parse_rich_text(
    path: str, raw: Any, titles: dict[str, str] | None = None, max_items: int = MAX_ARRAY_ITEMS
) -> list[dict[str, Any]]:
    """Validate a request rich-text array at ``path`` and return response items.

    ``titles`` maps page/user ids to names for mention ``plain_text``. Raises
    ``validation_error`` for arrays over 100 items, text over 2,000 characters,
    equations over 1,000 and links over 2,000.
    """
    items = expect_list(path, raw, max_items)
    result: list[dict[str, Any]] = []
    for index, entry in enumerate(items):
        where = f"{path}[{index}]"
        item = expect_object(where, entry)
        kind = item.get("type") or next(
            (k for k in ("text", "mention", "equation") if k in item), None
        )
        annotations = _annotations(f"{where}.annotations", item.get("annotations"))
        if kind == "text" and "text" in item:
            text = expect_object(f"{where}.text", item["text"])
            content = expect_string(f"{where}.text.content", text.get("content"), MAX_TEXT_LENGTH)
            link_raw = text.get("link")
            link = None
            if link_raw is not None:
                link = expect_url(
                    f"{where}.text.link.url",
                    expect_object(f"{where}.text.link", link_raw).get("url"),
                )
            result.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": {"url": link} if link else None},
                    "annotations": annotations,
                    "plain_text": content,
                    "href": link,
                }
            )
        elif kind == "equation" and "equation" in item:
            equation = expect_object(f"{where}.equation", item["equation"])
            expression = expect_string(
                f"{where}.equation.expression", equation.get("expression"), MAX_EQUATION_LENGTH
            )
            result.append(
                {
                    "type": "equation",
                    "equation": {"expression": expression},
                    "annotations": annotations,
                    "plain_text": expression,
                    "href": None,
                }
            )
        elif kind == "mention" and "mention" in item:
            mention, label, href = _mention(f"{where}.mention", item["mention"], titles or {})
            result.append(
                {
                    "type": "mention",
                    "mention": mention,
                    "annotations": annotations,
                    "plain_text": label,
                    "href": href,
                }
            )
        else:
            raise body_error(f"{where}.text", "should be defined", item.get("text", ...))
    return result


def current_mentions(value: Any, title_of: Callable[[str, str], str | None]) -> Any:
    """``value`` (a block's content, or any JSON holding rich text) with the
    ``plain_text`` of each page and database mention as Notion shows it when read: the
    mentioned page's or database's title now (``title_of(kind, id)``; ``None`` keeps the
    label stored with the mention). A page retitled after the mention was written shows
    its new title. Returns ``value`` itself when it holds no mention."""
    if isinstance(value, list):
        items = [current_mentions(item, title_of) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not isinstance(value, dict):
        return value
    if value.get("type") == "mention" and isinstance(value.get("mention"), dict):
        mention = value["mention"]
        kind = mention.get("type")
        ref = mention.get(kind) if kind in ("page", "database") else None
        title = title_of(str(kind), str(ref.get("id"))) if isinstance(ref, dict) else None
        if title is None or title == value.get("plain_text"):
            return value
        return {**value, "plain_text": title}
    changed = {k: current_mentions(v, title_of) for k, v in value.items()}
    return value if all(changed[k] is value[k] for k in value) else changed


def plain_text(items: list[dict[str, Any]]) -> str:
    """Concatenated ``plain_text`` of response items."""
    return "".join(str(item.get("plain_text", "")) for item in items)


def count_page_mentions(items: list[dict[str, Any]]) -> int:
    return sum(
        1
        for item in items
        if item.get("type") == "mention" and item["mention"].get("type") == "page"
    )


def truncate_page_mentions(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Drop page-mention items after the first ``limit`` (page objects show only 25)."""
    kept: list[dict[str, Any]] = []
    seen = 0
    for item in items:
        if item.get("type") == "mention" and item["mention"].get("type") == "page":
            seen += 1
            if seen > limit:
                continue
        kept.append(item)
    return kept
