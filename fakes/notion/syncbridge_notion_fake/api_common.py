"""What every endpoint module shares: the parsed request, list envelopes, common fields.

Endpoint functions take the :class:`~.store.NotionStore` (whose lock the caller holds) and
an :class:`ApiRequest`, and return the JSON response body without ``request_id``; errors
are raised as :class:`~.errors.NotionAPIError`. They validate the whole request before
changing anything, so a rejected request leaves the store as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .blocks import BlockSpec
from .errors import body_error, validation_error
from .properties import find_property
from .store import NotionStore
from .validation import expect_bool, expect_object, normalize_id, require_id
from .versions import VERSION_2025_09_03

__all__ = ["ARCHIVED_MESSAGE", "ApiRequest"]

JSON = dict[str, Any]
ARCHIVED_MESSAGE = "Can't edit block that is archived. You must unarchive the block before editing."


@dataclass
class ApiRequest:
    """A parsed request: route parameters, query string, JSON body and the API version
    (the ``Notion-Version`` header, one of :data:`~.versions.SUPPORTED_VERSIONS`)."""

    params: dict[str, str]
    query: dict[str, list[str]] = field(default_factory=dict)
    body: JSON = field(default_factory=dict)
    version: str = VERSION_2025_09_03

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


def list_response(results: list[JSON], next_cursor: str | None, kind: str) -> JSON:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def cursor_value(raw: Any) -> Any:
    return normalize_id(raw) or raw


def trash_flag(body: JSON) -> bool | None:
    """``in_trash`` (or its deprecated alias ``archived``, refused under 2026-03-11 before
    this runs) from a PATCH body."""
    for key in ("in_trash", "archived"):
        if key in body and body[key] is not None:
            return expect_bool(f"body.{key}", body[key])
    return None


def icon_or_cover(body: JSON, key: str, current: Any) -> Any:
    if key not in body:
        return current
    value = body[key]
    if value is None:
        return None
    given = expect_object(f"body.{key}", value)
    if key == "icon" and "emoji" in given:
        return {"type": "emoji", "emoji": given["emoji"]}
    external = expect_object(f"body.{key}.external", given.get("external"))
    url = external.get("url")
    if not isinstance(url, str) or not url:
        raise body_error(f"body.{key}.external.url", "should be a string", url)
    return {"type": "external", "external": {"url": url}}


def page_parent(store: NotionStore, raw: Any) -> JSON:
    parent = expect_object("body.parent", raw)
    if parent.get("type") == "workspace" or parent.get("workspace") is True:
        return {"type": "workspace", "workspace": True}
    page_id = require_id(parent.get("page_id"), "body.parent.page_id")
    page = store.page(page_id)
    if page["in_trash"]:
        raise validation_error(ARCHIVED_MESSAGE)
    return {"type": "page_id", "page_id": page_id}


def insert_blocks(
    store: NotionStore, parent: JSON, specs: list[BlockSpec], index: int | None
) -> list[str]:
    """Create block records for ``specs`` under ``parent`` at ``index``; returns ids."""
    now = store.clock.now()
    created = []
    for offset, spec in enumerate(specs):
        block_id = store.new_id()
        store.blocks[block_id] = {
            "id": block_id,
            "parent": parent,
            "type": spec.type,
            "content": spec.content,
            "created": now,
            "edited": now,
            "in_trash": False,
        }
        store.link_child(parent, block_id, None if index is None else index + offset)
        insert_blocks(store, {"type": "block_id", "block_id": block_id}, spec.children, None)
        created.append(block_id)
    return created


def restrict_properties(rendered: JSON, wanted: list[str] | None, schema: dict[str, JSON]) -> JSON:
    """Keep only the ``filter_properties`` ids (or names) in a rendered page."""
    if not wanted:
        return rendered
    keep = {prop["name"] for key in wanted if (prop := find_property(schema, key)) is not None}
    rendered["properties"] = {k: v for k, v in rendered["properties"].items() if k in keep}
    return rendered
