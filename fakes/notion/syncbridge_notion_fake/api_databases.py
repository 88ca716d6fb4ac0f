"""Endpoints for users, databases, data sources (schema and query) and search."""

from __future__ import annotations

from typing import Any

from .api_common import (
    ApiRequest,
    cursor_value,
    icon_or_cover,
    list_response,
    page_parent,
    restrict_properties,
    trash_flag,
)
from .errors import body_error, not_found, validation_error
from .properties import apply_schema_update, convert_value, initial_schema
from .query import compile_filter, paginate, sort_pages
from .richtext import parse_rich_text, plain_text
from .store import BOT_NAME, OWNER_NAME, NotionStore
from .validation import expect_bool, expect_object, parse_page_size, path_id, require_id

JSON = dict[str, Any]
MAX_QUERY_RESULTS = 10_000

# -- users ---------------------------------------------------------------------------------


def _bot(store: NotionStore) -> JSON:
    return {
        "object": "user",
        "id": store.bot_id,
        "name": BOT_NAME,
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
        "name": OWNER_NAME,
        "avatar_url": "https://example.invalid/avatar.png",
        "type": "person",
        "person": {"email": "owner@example.invalid", "email_verified": True},
    }


def users_me(store: NotionStore, request: ApiRequest) -> JSON:
    return _bot(store)


def list_users(store: NotionStore, request: ApiRequest) -> JSON:
    parse_page_size(request.query_one("page_size"), "query.page_size")
    return list_response([_owner(store), _bot(store)], None, "user")


def get_user(store: NotionStore, request: ApiRequest) -> JSON:
    user_id = path_id(request.params["id"], "user_id")
    for user in (_owner(store), _bot(store)):
        if user["id"] == user_id:
            return user
    raise not_found("user", user_id, store.bot_id)


# -- databases and data sources ------------------------------------------------------------


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
    parent = page_parent(store, body.get("parent"))
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
        "icon": icon_or_cover(body, "icon", None),
        "cover": icon_or_cover(body, "cover", None),
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
        "icon": icon_or_cover(body, "icon", database["icon"]),
        "cover": icon_or_cover(body, "cover", database["cover"]),
    }
    if "title" in body:
        changes["title"] = parse_rich_text("body.title", body["title"], titles)
    if "description" in body:
        changes["description"] = parse_rich_text("body.description", body["description"], titles)
    for flag in ("is_inline", "is_locked"):
        if flag in body:
            changes[flag] = expect_bool(f"body.{flag}", body[flag])
    trash = trash_flag(body)
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
        store, database["id"], title, schema, icon_or_cover(body, "icon", None)
    )
    return store.render_data_source(store.data_sources[source_id])


def get_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source_id = path_id(request.params["id"], "data_source_id")
    return store.render_data_source(store.data_source(source_id))


def update_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source = store.data_source(path_id(request.params["id"], "data_source_id"))
    body = request.body
    titles = store.titles()
    changes: JSON = {"icon": icon_or_cover(body, "icon", source["icon"])}
    if "title" in body:
        changes["title"] = parse_rich_text("body.title", body["title"], titles)
    if "description" in body:
        changes["description"] = parse_rich_text("body.description", body["description"], titles)
    if "properties" in body:
        changes["schema"] = apply_schema_update(source["schema"], body["properties"])
    trash = trash_flag(body)
    if trash is not None:
        changes["in_trash"] = trash
    before = source["schema"]
    source.update(changes)
    if "schema" in changes:
        schema = changes["schema"]
        retyped = [
            pid
            for pid, prop in schema.items()
            if pid in before and before[pid]["type"] != prop["type"]
        ]
        for page in store.pages.values():
            if page["parent"].get("data_source_id") == source["id"]:
                # Values of deleted properties are gone, as in Notion; values of retyped
                # ones are converted (through their text), as Notion does.
                values = {k: v for k, v in page["properties"].items() if k in schema}
                for pid in retyped:
                    if pid in values:
                        values[pid] = convert_value(before[pid], schema[pid], values[pid])
                page["properties"] = values
    source["edited"] = store.clock.now()
    return store.render_data_source(source)


def query_data_source(store: NotionStore, request: ApiRequest) -> JSON:
    source = store.data_source(path_id(request.params["id"], "data_source_id"))
    body = request.body
    schema = source["schema"]
    page_size = parse_page_size(body.get("page_size"), "body.page_size")
    # ``archived`` is in_trash's old name (refused under 2026-03-11 before this runs).
    key = "in_trash" if "in_trash" in body or "archived" not in body else "archived"
    want_trash = expect_bool(f"body.{key}", body.get(key, False))
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
        ids, cursor_value(body.get("start_cursor")), page_size, "body.start_cursor"
    )
    wanted = request.query.get("filter_properties")
    results = [
        restrict_properties(store.render_page(store.pages[i]), wanted, schema) for i in window
    ]
    response = list_response(results, next_cursor, "page_or_data_source")
    if len(ordered) > MAX_QUERY_RESULTS and next_cursor is None:
        response["request_status"] = {
            "type": "incomplete",
            "incomplete_reason": "query_result_limit_reached",
        }
    return response


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
            trashed = source["in_trash"] or store.databases[source["database_id"]]["in_trash"]
            if not trashed and needle in plain_text(source["title"]).lower():
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
        ids, cursor_value(body.get("start_cursor")), page_size, "body.start_cursor"
    )
    results = [
        store.render_page(records[i]) if i in store.pages else store.render_data_source(records[i])
        for i in window
    ]
    return list_response(results, next_cursor, "page_or_data_source")
