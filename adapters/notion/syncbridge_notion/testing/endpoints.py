"""One function per Notion endpoint: validate the request, change the store, build the reply.

Every function takes the :class:`~.store.NotionStore` (whose lock the caller holds) and an
:class:`ApiRequest`, and returns the JSON response body without ``request_id``; errors are
raised as :class:`~.errors.NotionAPIError`. Objects are mutated in place, so the caller
decides when to persist.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .blocks import BlockSpec, merge_block_update, parse_children
from .errors import body_error, not_found, validation_error
from .properties import (
    PROPERTY_TYPES,
    apply_schema_update,
    default_value,
    find_property,
    initial_schema,
    parse_value,
    response_value,
)
from .query import compile_filter, paginate, sort_pages
from .richtext import parse_rich_text, plain_text
from .store import NotionStore
from .validation import (
    expect_bool,
    expect_object,
    normalize_id,
    parse_page_size,
    path_id,
    require_id,
)

__all__ = ["ApiRequest"]

JSON = dict[str, Any]
MAX_QUERY_RESULTS = 10_000
ARCHIVED_MESSAGE = "Can't edit block that is archived. You must unarchive the block before editing."


@dataclass
class ApiRequest:
    """A parsed request: route parameters, query string and JSON body."""

    params: dict[str, str]
    query: dict[str, list[str]] = field(default_factory=dict)
    body: JSON = field(default_factory=dict)

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


def _list_response(results: list[JSON], next_cursor: str | None, kind: str) -> JSON:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def _cursor(raw: Any) -> Any:
    return normalize_id(raw) or raw


def _trash_flag(body: JSON) -> bool | None:
    """``in_trash`` (or its deprecated alias ``archived``) from a PATCH body."""
    for key in ("in_trash", "archived"):
        if key in body and body[key] is not None:
            return expect_bool(f"body.{key}", body[key])
    return None


def _icon_or_cover(body: JSON, key: str, current: Any) -> Any:
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


# -- users ---------------------------------------------------------------------------------


def _bot(store: NotionStore) -> JSON:
    return {
        "object": "user",
        "id": store.bot_id,
        "name": "syncbridge-notion-fake",
        "avatar_url": None,
        "type": "bot",
        "bot": {
            "owner": {"type": "workspace", "workspace": True},
            "workspace_name": "syncbridge fake workspace",
            "workspace_id": store.workspace_id,
            "workspace_limits": {"max_file_upload_size_in_bytes": 5_242_880},
        },
    }


def _owner(store: NotionStore) -> JSON:
    """The workspace's one person user, who "shared" the root page with the integration."""
    return {
        "object": "user",
        "id": store.owner_id,
        "name": "Fake Owner",
        "avatar_url": "https://example.invalid/avatar.png",
        "type": "person",
        "person": {"email": "owner@example.invalid", "email_verified": True},
    }


def users_me(store: NotionStore, request: ApiRequest) -> JSON:
    return _bot(store)


def list_users(store: NotionStore, request: ApiRequest) -> JSON:
    parse_page_size(request.query_one("page_size"), "query.page_size")
    return _list_response([_owner(store), _bot(store)], None, "user")


def get_user(store: NotionStore, request: ApiRequest) -> JSON:
    user_id = path_id(request.params["id"], "user_id")
    for user in (_owner(store), _bot(store)):
        if user["id"] == user_id:
            return user
    raise not_found("user", user_id, store.bot_id)


# -- databases and data sources ------------------------------------------------------------


def _page_parent(store: NotionStore, raw: Any) -> JSON:
    parent = expect_object("body.parent", raw)
    if parent.get("type") == "workspace" or parent.get("workspace") is True:
        return {"type": "workspace", "workspace": True}
    page_id = require_id(parent.get("page_id"), "body.parent.page_id")
    page = store.page(page_id)
    if page["in_trash"]:
        raise validation_error(ARCHIVED_MESSAGE)
    return {"type": "page_id", "page_id": page_id}


def _new_data_source(
    store: NotionStore, database_id: str, title: list[JSON], schema: dict[str, JSON], icon: Any
) -> str:
    source_id = store.new_id()
    now = store.clock.now()
    store.data_sources[source_id] = {
        "id": source_id,
        "database_id": database_id,
        "title": title,
        "description": [],
        "icon": icon,
        "schema": schema,
        "created": now,
        "edited": now,
        "in_trash": False,
    }
    store.databases[database_id]["data_sources"].append(source_id)
    return source_id


def create_database(store: NotionStore, request: ApiRequest) -> JSON:
    body = request.body
    parent = _page_parent(store, body.get("parent"))
    titles = store.titles()
    title = parse_rich_text("body.title", body.get("title", []), titles)
    description = parse_rich_text("body.description", body.get("description", []), titles)
    initial = expect_object("body.initial_data_source", body.get("initial_data_source", {}))
    schema = initial_schema(
        "body.initial_data_source.properties", initial.get("properties", {"Name": {"title": {}}})
    )
    database_id = store.new_id()
    now = store.clock.now()
    store.databases[database_id] = {
        "id": database_id,
        "parent": parent,
        "title": title,
        "description": description,
        "is_inline": expect_bool("body.is_inline", body.get("is_inline", False)),
        "icon": _icon_or_cover(body, "icon", None),
        "cover": _icon_or_cover(body, "cover", None),
        "in_trash": False,
        "is_locked": False,
        "created": now,
        "edited": now,
        "data_sources": [],
    }
    source_title = (
        parse_rich_text("body.initial_data_source.title", initial["title"], titles)
        if "title" in initial
        else title
    )
    _new_data_source(store, database_id, source_title, schema, None)
    store.link_child(parent, database_id)
    return store.render_database(store.databases[database_id])


def get_database(store: NotionStore, request: ApiRequest) -> JSON:
    return store.render_database(store.database(path_id(request.params["id"], "database_id")))


def update_database(store: NotionStore, request: ApiRequest) -> JSON:
    database = store.database(path_id(request.params["id"], "database_id"))
    body = request.body
    titles = store.titles()
    if "properties" in body:
        raise validation_error(
            "body failed validation: body.properties should be not present. Update the "
            "schema with PATCH /v1/data_sources/{data_source_id}."
        )
    # Validate everything before changing anything: a rejected request changes nothing.
    changes: JSON = {
        "icon": _icon_or_cover(body, "icon", database["icon"]),
        "cover": _icon_or_cover(body, "cover", database["cover"]),
    }
    if "title" in body:
        changes["title"] = parse_rich_text("body.title", body["title"], titles)
    if "description" in body:
        changes["description"] = parse_rich_text("body.description", body["description"], titles)
    for flag in ("is_inline", "is_locked"):
        if flag in body:
            changes[flag] = expect_bool(f"body.{flag}", body[flag])
    trash = _trash_flag(body)
    if trash is not None:
        changes["in_trash"] = trash
    database.update(changes)
    database["edited"] = store.clock.now()
    return store.render_database(database)


def create_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    body = request.body
    parent = expect_object("body.parent", body.get("parent"))
    database = store.database(require_id(parent.get("database_id"), "body.parent.database_id"))
    schema = initial_schema("body.properties", body.get("properties"))
    title = parse_rich_text("body.title", body.get("title", []), store.titles())
    source_id = _new_data_source(
        store, database["id"], title, schema, _icon_or_cover(body, "icon", None)
    )
    return store.render_data_source(store.data_sources[source_id])


def get_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source_id = path_id(request.params["id"], "data_source_id")
    return store.render_data_source(store.data_source(source_id))


def update_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source = store.data_source(path_id(request.params["id"], "data_source_id"))
    body = request.body
    titles = store.titles()
    changes: JSON = {"icon": _icon_or_cover(body, "icon", source["icon"])}
    if "title" in body:
        changes["title"] = parse_rich_text("body.title", body["title"], titles)
    if "description" in body:
        changes["description"] = parse_rich_text("body.description", body["description"], titles)
    if "properties" in body:
        changes["schema"] = apply_schema_update(source["schema"], body["properties"])
    trash = _trash_flag(body)
    if trash is not None:
        changes["in_trash"] = trash
    source.update(changes)
    if "schema" in changes:
        for page in store.pages.values():
            if page["parent"].get("data_source_id") == source["id"]:
                # Values of deleted properties are gone, as in Notion.
                page["properties"] = {
                    k: v for k, v in page["properties"].items() if k in changes["schema"]
                }
    source["edited"] = store.clock.now()
    return store.render_data_source(source)


def _restrict(rendered: JSON, wanted: list[str] | None, schema: dict[str, JSON]) -> JSON:
    """Keep only the ``filter_properties`` ids (or names) in a rendered page."""
    if not wanted:
        return rendered
    keep = {prop["name"] for key in wanted if (prop := find_property(schema, key)) is not None}
    rendered["properties"] = {k: v for k, v in rendered["properties"].items() if k in keep}
    return rendered


def query_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source = store.data_source(path_id(request.params["id"], "data_source_id"))
    body = request.body
    schema = source["schema"]
    page_size = parse_page_size(body.get("page_size"), "body.page_size")
    want_trash = expect_bool("body.in_trash", body.get("in_trash", False))
    candidates = [
        p
        for p in store.pages.values()
        if p["parent"].get("data_source_id") == source["id"]
        and p["shared"]
        and p["in_trash"] == want_trash
    ]
    if body.get("filter") is not None:
        test = compile_filter(body["filter"], schema, store.clock.now())
        candidates = [p for p in candidates if test(p)]
    ordered = sort_pages(candidates, body.get("sorts"), schema)
    # One query walks at most 10,000 results; past that Notion stops paginating and says
    # why in request_status (clients must window by created_time).
    ids = [p["id"] for p in ordered][:MAX_QUERY_RESULTS]
    window, next_cursor = paginate(
        ids, _cursor(body.get("start_cursor")), page_size, "body.start_cursor"
    )
    wanted = request.query.get("filter_properties")
    results = [_restrict(store.render_page(store.pages[i]), wanted, schema) for i in window]
    response = _list_response(results, next_cursor, "page_or_data_source")
    if len(ordered) > MAX_QUERY_RESULTS and next_cursor is None:
        response["request_status"] = {
            "type": "incomplete",
            "incomplete_reason": "query_result_limit_reached",
        }
    return response


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


def _insert_blocks(
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
        _insert_blocks(store, {"type": "block_id", "block_id": block_id}, spec.children, None)
        created.append(block_id)
    return created


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
        parent = _page_parent(store, parent_raw)
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
    icon = _icon_or_cover(body, "icon", None)
    cover = _icon_or_cover(body, "cover", None)
    specs = parse_children("body.children", body.get("children", []), store.titles())
    _commit_schema(store, parent, schema)
    page_id = store.add_page(parent, values)
    page = store.pages[page_id]
    page["icon"], page["cover"] = icon, cover
    _insert_blocks(store, {"type": "page_id", "page_id": page_id}, specs, None)
    return store.render_page(page)


def get_page(store: NotionStore, request: ApiRequest) -> JSON:
    page = store.page(path_id(request.params["id"], "page_id"))
    return _restrict(
        store.render_page(page), request.query.get("filter_properties"), store.schema_of(page)
    )


def update_page(store: NotionStore, request: ApiRequest) -> JSON:
    page = store.page(path_id(request.params["id"], "page_id"))
    body = request.body
    trash = _trash_flag(body)
    edits = [k for k in ("properties", "icon", "cover") if body.get(k) is not None]
    if page["in_trash"] and trash is not False and edits:
        raise validation_error(ARCHIVED_MESSAGE)
    if page["is_locked"] and body.get("properties"):
        raise validation_error("Page is locked; unlock it before editing its properties.")
    # Validate everything before changing anything: a rejected request changes nothing.
    values: JSON = {}
    if body.get("properties") is not None:
        values, schema = _parse_properties(store, page["parent"], body["properties"])
    icon = _icon_or_cover(body, "icon", page["icon"])
    cover = _icon_or_cover(body, "cover", page["cover"])
    locked = expect_bool("body.is_locked", body.get("is_locked", page["is_locked"]))
    if values:
        _commit_schema(store, page["parent"], schema)
        page["properties"].update(values)
    page["icon"], page["cover"], page["is_locked"] = icon, cover, locked
    if trash is not None:
        page["in_trash"] = trash
    page["edited"] = store.clock.now()
    return store.render_page(page)


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
    response = _list_response(window, next_cursor, "property_item")
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
    trash = _trash_flag(body)
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
    return store.render_block(block_id)


def _children_parent(store: NotionStore, block_id: str) -> tuple[JSON, JSON]:
    """The record and the parent reference new children of ``block_id`` get."""
    kind = store.block_kind(block_id)
    record = _block_record(store, block_id)
    if kind == "database":
        raise validation_error("Cannot append children to a database; create pages in it.")
    parent_type = "page_id" if kind == "page" else "block_id"
    return record, {"type": parent_type, parent_type: block_id}


def list_children(store: NotionStore, request: ApiRequest) -> JSON:
    block_id = path_id(request.params["id"], "block_id")
    _children_parent(store, block_id)
    page_size = parse_page_size(request.query_one("page_size"), "query.page_size")
    ids = store.live_children(block_id)
    window, next_cursor = paginate(
        ids, _cursor(request.query_one("start_cursor")), page_size, "query.start_cursor"
    )
    return _list_response([store.render_block(i) for i in window], next_cursor, "block")


def _insert_index(store: NotionStore, parent_id: str, body: JSON) -> int | None:
    """Where appended children go: ``position`` (start/end/after_block) or ``after``."""
    after: Any = None
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
    index = _insert_index(store, block_id, body)
    created = _insert_blocks(store, parent, specs, index)
    store.touch(record)
    return _list_response([store.render_block(i) for i in created], None, "block")


# -- search ------------------------------------------------------------------------------------


def search(store: NotionStore, request: ApiRequest) -> JSON:
    body = request.body
    text = body.get("query") or ""
    if not isinstance(text, str):
        raise body_error("body.query", "should be a string", text)
    wanted: str | None = None
    if body.get("filter") is not None:
        search_filter = expect_object("body.filter", body["filter"])
        wanted = search_filter.get("value")
        if search_filter.get("property") != "object" or wanted not in ("page", "data_source"):
            raise body_error("body.filter.value", "should be `page` or `data_source`", wanted)
    candidates: list[tuple[float, str, JSON]] = []
    needle = text.lower()
    if wanted in (None, "page"):
        for page in store.pages.values():
            if page["shared"] and not page["in_trash"] and needle in store.page_title(page).lower():
                candidates.append((page["edited"], page["id"], page))
    if wanted in (None, "data_source"):
        for source in store.data_sources.values():
            if not source["in_trash"] and needle in plain_text(source["title"]).lower():
                candidates.append((source["edited"], source["id"], source))
    direction = "descending"
    if body.get("sort") is not None:
        sort = expect_object("body.sort", body["sort"])
        if sort.get("timestamp") != "last_edited_time":
            raise body_error(
                "body.sort.timestamp", "should be `last_edited_time`", sort.get("timestamp")
            )
        direction = sort.get("direction", "descending")
        if direction not in ("ascending", "descending"):
            raise body_error(
                "body.sort.direction", "should be `ascending` or `descending`", direction
            )
    ordered = [entry for entry in enumerate(candidates)]
    ordered.sort(key=lambda item: (item[1][0], item[0]), reverse=direction == "descending")
    ids = [entry[1] for _, entry in ordered]
    records = {entry[1]: entry[2] for entry in candidates}
    page_size = parse_page_size(body.get("page_size"), "body.page_size")
    window, next_cursor = paginate(
        ids, _cursor(body.get("start_cursor")), page_size, "body.start_cursor"
    )
    results = [
        store.render_page(records[i]) if i in store.pages else store.render_data_source(records[i])
        for i in window
    ]
    return _list_response(results, next_cursor, "page_or_data_source")
