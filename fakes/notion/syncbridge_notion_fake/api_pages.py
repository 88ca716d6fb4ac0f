"""Endpoints for pages (properties, trash, property items) and blocks (children, content)."""

from __future__ import annotations

import copy
from typing import Any

from .api_common import (
    ARCHIVED_MESSAGE,
    ApiRequest,
    cursor_value,
    icon_or_cover,
    insert_blocks,
    list_response,
    page_parent,
    restrict_properties,
    trash_flag,
)
from .blocks import UNSUPPORTED, merge_block_update, parse_children
from .errors import body_error, validation_error
from .properties import PROPERTY_TYPES, default_value, find_property, parse_value, response_value
from .query import paginate
from .store import NotionStore
from .validation import expect_bool, expect_object, parse_page_size, path_id, require_id
from .versions import VERSION_2026_03_11

JSON = dict[str, Any]

# -- pages -------------------------------------------------------------------------------------


def _parse_properties(store: NotionStore, parent: JSON, raw: Any) -> tuple[JSON, dict[str, JSON]]:
    """Validate request ``properties`` for a page under ``parent``.

    Returns the stored values by property id and the schema they were parsed against: a
    copy, since new select names add options, which must only happen if the whole
    request is accepted (see :func:`_commit_schema`).
    """
    given = expect_object("body.properties", raw)
    schema = copy.deepcopy(store.schema_of({"parent": parent}))
    titles = store.titles()
    values: JSON = {}
    for key, value in given.items():
        prop = find_property(schema, key)
        if prop is None:
            raise validation_error(f"{key} is not a property that exists.")
        values[prop["id"]] = parse_value(prop, f"body.properties.{key}", value, titles)
    return values, schema


def _commit_schema(store: NotionStore, parent: JSON, schema: dict[str, JSON]) -> None:
    """Keep select options added while parsing values (data-source pages only)."""
    if parent.get("type") == "data_source_id":
        store.data_sources[parent["data_source_id"]]["schema"] = schema


def create_page(store: NotionStore, request: ApiRequest) -> JSON:
    body = request.body
    parent_raw = expect_object("body.parent", body.get("parent"))
    parent: JSON
    if "data_source_id" in parent_raw or "database_id" in parent_raw:
        if "data_source_id" in parent_raw:
            source_id = require_id(parent_raw["data_source_id"], "body.parent.data_source_id")
            source = store.data_source(source_id)
        else:
            database = store.database(
                require_id(parent_raw["database_id"], "body.parent.database_id")
            )
            if len(database["data_sources"]) != 1:
                raise validation_error(
                    "Databases with multiple data sources are not supported in this API "
                    "version. Use a data_source_id parent."
                )
            source = store.data_sources[database["data_sources"][0]]
        if source["in_trash"]:
            raise validation_error(ARCHIVED_MESSAGE)
        parent = {"type": "data_source_id", "data_source_id": source["id"]}
    else:
        parent = page_parent(store, parent_raw)
        if parent["type"] == "workspace":
            raise validation_error(
                "body failed validation: body.parent.page_id should be defined, instead was "
                "`undefined`."
            )
        extra = [
            k for k in expect_object("body.properties", body.get("properties", {})) if k != "title"
        ]
        if extra:
            raise validation_error(
                "Invalid property for a page whose parent is a page: only `title` is allowed; "
                f"got {extra[0]}."
            )
    values, schema = _parse_properties(store, parent, body.get("properties", {}))
    icon = icon_or_cover(body, "icon", None)
    cover = icon_or_cover(body, "cover", None)
    specs = parse_children("body.children", body.get("children", []), store.titles())
    _commit_schema(store, parent, schema)
    page_id = store.add_page(parent, values)
    page = store.pages[page_id]
    page["icon"], page["cover"] = icon, cover
    insert_blocks(store, {"type": "page_id", "page_id": page_id}, specs, None)
    return store.render_page(page)


def get_page(store: NotionStore, request: ApiRequest) -> JSON:
    page = store.page(path_id(request.params["id"], "page_id"))
    return restrict_properties(
        store.render_page(page), request.query.get("filter_properties"), store.schema_of(page)
    )


def update_page(store: NotionStore, request: ApiRequest) -> JSON:
    page = store.page(path_id(request.params["id"], "page_id"))
    body = request.body
    trash = trash_flag(body)
    edits = [k for k in ("properties", "icon", "cover") if body.get(k) is not None]
    if page["in_trash"] and trash is not False and edits:
        raise validation_error(ARCHIVED_MESSAGE)
    if page["is_locked"] and body.get("properties"):
        raise validation_error("Page is locked; unlock it before editing its properties.")
    # Validate everything before changing anything: a rejected request changes nothing.
    values: JSON = {}
    if body.get("properties") is not None:
        values, schema = _parse_properties(store, page["parent"], body["properties"])
    icon = icon_or_cover(body, "icon", page["icon"])
    cover = icon_or_cover(body, "cover", page["cover"])
    locked = expect_bool("body.is_locked", body.get("is_locked", page["is_locked"]))
    if values:
        _commit_schema(store, page["parent"], schema)
        page["properties"].update(values)
    page["icon"], page["cover"], page["is_locked"] = icon, cover, locked
    if trash is not None:
        page["in_trash"] = trash
    page["edited"] = store.clock.now()
    return store.render_page(page)


def move_page(store: NotionStore, request: ApiRequest) -> JSON:
    """``POST /v1/pages/{id}/move`` (added in 2025-12 without a new API version): the page,
    with its id, blocks and child pages, under another page or into a data source.

    Moving into a data source keeps the title and every value whose property has the same
    name and type there (select options matched by name); the others are dropped (Notion's
    docs do not say it keeps them, so a client must not count on it). Moving to the parent
    it has already is a no-op, so a repeated move is harmless.
    """
    page = store.page(path_id(request.params["id"], "page_id"))
    if page["in_trash"]:
        raise validation_error(ARCHIVED_MESSAGE)
    raw = expect_object("body.parent", request.body.get("parent"))
    target: JSON
    if "data_source_id" in raw:
        source = store.data_source(require_id(raw["data_source_id"], "body.parent.data_source_id"))
        if source["in_trash"]:
            raise validation_error(ARCHIVED_MESSAGE)
        target = {"type": "data_source_id", "data_source_id": source["id"]}
    elif "page_id" in raw:
        target = page_parent(store, raw)
        if target["page_id"] == page["id"]:
            raise validation_error("A page cannot be moved under itself.")
    else:
        raise body_error(
            "body.parent", "should be an object with `page_id` or `data_source_id`", raw
        )
    if target == page["parent"]:
        return store.render_page(page)
    old_schema = store.schema_of(page)
    new_schema = store.schema_of({"parent": target})
    values: JSON = {}
    for prop_id, stored in page["properties"].items():
        old = old_schema.get(prop_id)
        if old is None:
            continue
        new = next(
            (
                p
                for p in new_schema.values()
                if p["type"] == old["type"] and (p["name"] == old["name"] or p["type"] == "title")
            ),
            None,
        )
        if new is not None:
            values[new["id"]] = _moved_value(old, new, stored)
    old_key = page["parent"].get("page_id")
    if isinstance(old_key, str) and page["id"] in store.children.get(old_key, []):
        store.children[old_key].remove(page["id"])
    page["parent"] = target
    page["properties"] = values
    store.link_child(target, page["id"])
    page["edited"] = store.clock.now()
    return store.render_page(page)


def _moved_value(old: JSON, new: JSON, stored: Any) -> Any:
    """A stored value carried from property ``old`` to ``new`` (same type): select
    options by name, unknown names dropped."""
    if old["type"] not in ("select", "status", "multi_select"):
        return copy.deepcopy(stored)
    names = {o["id"]: o["name"] for o in old["config"].get("options", [])}
    ids = {o["name"]: o["id"] for o in new["config"].get("options", [])}
    if old["type"] == "multi_select":
        return [ids[names[i]] for i in stored or [] if names.get(i) in ids]
    return ids.get(names.get(stored, "")) if stored is not None else None


def get_property_item(store: NotionStore, request: ApiRequest) -> JSON:
    page = store.page(path_id(request.params["id"], "page_id"))
    prop = store.property_of(page, request.params["property_id"])
    if prop is None:
        raise validation_error(f"Could not find property with id: {request.params['property_id']}")
    stored = page["properties"].get(prop["id"])
    kind = prop["type"]
    if kind not in ("title", "rich_text", "relation", "people"):
        value = response_value(
            prop,
            stored if stored is not None else default_value(kind),
            store.computed(page),
            full=True,
        )
        return {"object": "property_item", "id": prop["id"], "type": kind, kind: value}
    full = response_value(prop, stored or [], store.computed(page), full=True)
    items = [
        {"object": "property_item", "type": kind, "id": prop["id"], kind: item} for item in full
    ]
    page_size = parse_page_size(request.query_one("page_size"), "query.page_size")
    start = request.query_one("start_cursor")
    index = 0
    if start is not None:
        if not start.isdigit() or int(start) > len(items):
            raise body_error("query.start_cursor", "should be a valid cursor", start)
        index = int(start)
    window = items[index : index + page_size]
    following = index + page_size
    next_cursor = str(following) if following < len(items) else None
    response = list_response(window, next_cursor, "property_item")
    next_url = None
    if next_cursor is not None:
        next_url = f"/v1/pages/{page['id']}/properties/{prop['id']}?start_cursor={next_cursor}"
    response["property_item"] = {"id": prop["id"], "next_url": next_url, "type": kind, kind: {}}
    return response


# -- blocks ------------------------------------------------------------------------------------


def _block_record(store: NotionStore, block_id: str) -> JSON:
    kind = store.block_kind(block_id)
    table = {"block": store.blocks, "page": store.pages, "database": store.databases}[kind]
    return table[block_id]


def get_block(store: NotionStore, request: ApiRequest) -> JSON:
    return store.render_block(path_id(request.params["id"], "block_id"))


def update_block(store: NotionStore, request: ApiRequest) -> JSON:
    block_id = path_id(request.params["id"], "block_id")
    record = _block_record(store, block_id)
    body = request.body
    trash = trash_flag(body)
    if store.block_kind(block_id) == "block":
        has_content = any(key in body for key in (record["type"], *PROPERTY_TYPES))
        if record["in_trash"] and trash is not False and has_content:
            raise validation_error(ARCHIVED_MESSAGE)
        record["content"] = merge_block_update(
            record["type"], record["content"], body, store.titles()
        )
    if trash is not None:
        record["in_trash"] = trash
    store.touch(record)
    return store.render_block(block_id)


def delete_block(store: NotionStore, request: ApiRequest) -> JSON:
    block_id = path_id(request.params["id"], "block_id")
    record = _block_record(store, block_id)
    record["in_trash"] = True
    store.touch(record)
    _trash_pages_under(store, block_id)
    return store.render_block(block_id)


def _trash_pages_under(store: NotionStore, block_id: str) -> None:
    """As in Notion, the child pages and databases under a deleted block (any depth) are
    trashed with it."""
    for child_id in store.live_children(block_id):
        held = store.pages.get(child_id) or store.databases.get(child_id)
        if held is not None:
            held["in_trash"] = True
        else:
            _trash_pages_under(store, child_id)


def _children_parent(store: NotionStore, block_id: str) -> tuple[JSON, JSON]:
    """The record and the parent reference new children of ``block_id`` get."""
    kind = store.block_kind(block_id)
    record = _block_record(store, block_id)
    if kind == "database":
        raise validation_error("Cannot append children to a database; create pages in it.")
    if kind == "block" and record["type"] == UNSUPPORTED:
        raise validation_error(
            f"Block type `{record['content']['block_type']}` is not supported via the API: "
            "a block of type `unsupported` cannot be given children."
        )
    parent_type = "page_id" if kind == "page" else "block_id"
    return record, {"type": parent_type, parent_type: block_id}


def list_children(store: NotionStore, request: ApiRequest) -> JSON:
    block_id = path_id(request.params["id"], "block_id")
    _children_parent(store, block_id)
    page_size = parse_page_size(request.query_one("page_size"), "query.page_size")
    ids = store.live_children(block_id)
    window, next_cursor = paginate(
        ids, cursor_value(request.query_one("start_cursor")), page_size, "query.start_cursor"
    )
    return list_response([store.render_block(i) for i in window], next_cursor, "block")


def _insert_index(store: NotionStore, parent_id: str, body: JSON, version: str) -> int | None:
    """Where appended children go: ``position`` (start/end/after_block) or, before
    2026-03-11 only, ``after``."""
    after: Any = None
    if version == VERSION_2026_03_11 and "after" in body:
        raise body_error("body.after", "should be not present", body["after"])
    if body.get("after") is not None:
        if body.get("position") is not None:
            raise validation_error(
                "body failed validation: body.after and body.position should not both be present."
            )
        after = require_id(body["after"], "body.after")
    elif body.get("position") is not None:
        position = expect_object("body.position", body["position"])
        kind = position.get("type")
        if kind == "start":
            return 0
        if kind == "end":
            return None
        if kind != "after_block":
            raise body_error(
                "body.position.type", "should be `start`, `end` or `after_block`", kind
            )
        target = expect_object("body.position.after_block", position.get("after_block"))
        after = require_id(target.get("id"), "body.position.after_block.id")
    if after is None:
        return None
    siblings = store.children.get(parent_id, [])
    if after not in siblings or store.blocks.get(after, {}).get("in_trash"):
        raise validation_error(
            f"Block {after} is not a child of block {parent_id}; cannot append after it."
        )
    return siblings.index(after) + 1


def append_children(store: NotionStore, request: ApiRequest) -> JSON:
    block_id = path_id(request.params["id"], "block_id")
    record, parent = _children_parent(store, block_id)
    if record["in_trash"]:
        raise validation_error(ARCHIVED_MESSAGE)
    body = request.body
    specs = parse_children("body.children", body.get("children"), store.titles())
    index = _insert_index(store, block_id, body, request.version)
    created = insert_blocks(store, parent, specs, index)
    store.touch(record)
    return list_response([store.render_block(i) for i in created], None, "block")
