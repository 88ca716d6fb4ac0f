"""The fake workspace's state: pages, databases, data sources and blocks, in memory.

All records are JSON-serialisable dicts so the whole state can be persisted to a file
(:meth:`NotionStore.save`). Times are epoch seconds as read from the server's clock;
rendering rounds them the way Notion does. Callers hold :attr:`NotionStore.lock` (an
``RLock``) around every read-modify-write, so one store is safe to share between the
HTTP server's threads.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .clock import Clock, format_database_time, format_minute
from .errors import not_found
from .properties import (
    default_value,
    find_property,
    render_schema,
    render_value,
    status_config,
)
from .richtext import current_mentions, plain_text, text_item

__all__ = ["NotionStore"]

JSON = dict[str, Any]
STATE_VERSION = 1
BOT_NAME = "syncbridge-notion-fake"
"""The integration's bot user's name (``GET /v1/users/me``; ``@`` it in a mention)."""
OWNER_NAME = "Fake Owner"
"""The workspace's one person user's name."""


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")


class NotionStore:
    """One integration's view of a workspace: a bot user, a token and a shared root page."""

    def __init__(
        self, clock: Clock, token: str | None = None, root_title: str = "syncbridge root"
    ) -> None:
        """``root_title`` names the shared root page ("" leaves it untitled)."""
        self.clock = clock
        self.lock = threading.RLock()
        self.token = token or "ntn_fake_" + uuid.uuid4().hex
        self.bot_id = str(uuid.uuid4())
        self.workspace_id = str(uuid.uuid4())
        self.owner_id = str(uuid.uuid4())
        self.pages: dict[str, JSON] = {}
        self.databases: dict[str, JSON] = {}
        self.data_sources: dict[str, JSON] = {}
        self.blocks: dict[str, JSON] = {}
        self.children: dict[str, list[str]] = {}
        self.root_page_id = self.add_page(
            {"type": "workspace", "workspace": True},
            {"title": [text_item(root_title)] if root_title else []},
        )

    # -- ids and records -------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def add_page(self, parent: JSON, properties: JSON, shared: bool = True) -> str:
        """Insert a page record (no validation); returns its id. Side effect: links it
        under a page parent's children."""
        page_id = self.new_id()
        now = self.clock.now()
        self.pages[page_id] = {
            "id": page_id,
            "parent": parent,
            "created": now,
            "edited": now,
            "in_trash": False,
            "is_locked": False,
            "icon": None,
            "cover": None,
            "properties": properties,
            "shared": shared,
        }
        self.link_child(parent, page_id)
        return page_id

    def add_unshared_page(self, title: str = "Private") -> str:
        """A page that exists in the workspace but is not shared with the integration."""
        return self.add_page(
            {"type": "workspace", "workspace": True}, {"title": [text_item(title)]}, shared=False
        )

    def add_unsupported_block(
        self, parent_id: str, block_type: str, *, after: str | None = None
    ) -> str:
        """Seed a block the API cannot expose (a ``form``, ``button``, ``drive`` ... made in
        Notion's app) under the page or block ``parent_id``, at the end or right after the
        child ``after``; returns its id. It is served as type ``unsupported`` with
        ``unsupported.block_type``, and cannot be updated or given children through the API.
        Side effect: bumps the owning page's ``last_edited_time``, as an edit in the app does.
        Raises ``ValueError`` for an unknown parent, an ``after`` that is not its child, or an
        empty ``block_type``."""
        if not isinstance(block_type, str) or not block_type:
            raise ValueError('block_type must be a non-empty string, e.g. "form"')
        if parent_id in self.blocks:
            parent: JSON = {"type": "block_id", "block_id": parent_id}
        elif parent_id in self.pages:
            parent = {"type": "page_id", "page_id": parent_id}
        else:
            raise ValueError(f"no page or block with id {parent_id}")
        index = None
        if after is not None:
            siblings = self.children.get(parent_id, [])
            if after not in siblings:
                raise ValueError(f"{after} is not a child of {parent_id}")
            index = siblings.index(after) + 1
        block_id = self.new_id()
        now = self.clock.now()
        self.blocks[block_id] = {
            "id": block_id,
            "parent": parent,
            "type": "unsupported",
            "content": {"block_type": block_type},
            "created": now,
            "edited": now,
            "in_trash": False,
        }
        self.link_child(parent, block_id, index)
        self.touch(self.blocks[block_id])
        return block_id

    def set_status_options(
        self,
        data_source_id: str,
        prop: str,
        groups: Sequence[tuple[str, str, Sequence[tuple[str, str]]]],
    ) -> JSON:
        """Set the options and groups of the status property ``prop`` (name or id) of a
        data source, as a user does in Notion's app (the API refuses it):
        ``groups`` is ``[(group name, colour, [(option name, colour), ...]), ...]``, in
        order. Options keep their id when their name stays; a page holding an option
        that is gone reads as empty. Returns the property's config. Side effect: bumps
        the data source's ``last_edited_time``. Raises ``ValueError`` for an unknown data
        source or property, a property that is not a status, or a bad option."""
        source = self.data_sources.get(data_source_id)
        if source is None:
            raise ValueError(f"no data source with id {data_source_id}")
        found = find_property(source["schema"], prop)
        if found is None or found["type"] != "status":
            raise ValueError(f"{prop!r} is not a status property of {data_source_id}")
        found["config"] = status_config(groups, found["config"])
        source["edited"] = self.clock.now()
        return dict(found["config"])

    def link_child(self, parent: JSON, child_id: str, index: int | None = None) -> None:
        key = parent.get("page_id") or parent.get("block_id")
        if not isinstance(key, str):
            return
        siblings = self.children.setdefault(key, [])
        siblings.insert(len(siblings) if index is None else index, child_id)

    # -- lookups (404 for unknown or unshared ids) -----------------------------------------

    def _missing(self, kind: str, object_id: str) -> Exception:
        return not_found(kind, object_id, self.bot_id)

    def page(self, page_id: str) -> JSON:
        page = self.pages.get(page_id)
        if page is None or not page["shared"]:
            raise self._missing("page", page_id)
        return page

    def database(self, database_id: str) -> JSON:
        database = self.databases.get(database_id)
        if database is None:
            raise self._missing("database", database_id)
        return database

    def data_source(self, data_source_id: str) -> JSON:
        source = self.data_sources.get(data_source_id)
        if source is None:
            raise self._missing("data_source", data_source_id)
        return source

    def block_kind(self, block_id: str) -> str:
        """``"block"``, ``"page"`` or ``"database"``: which table ``block_id`` lives in."""
        if block_id in self.blocks:
            return "block"
        if block_id in self.pages and self.pages[block_id]["shared"]:
            return "page"
        if block_id in self.databases:
            return "database"
        raise self._missing("block", block_id)

    def schema_of(self, page: JSON) -> dict[str, JSON]:
        """The page's property schema: its data source's, or the lone title property."""
        parent = page["parent"]
        if parent.get("type") == "data_source_id":
            schema: dict[str, JSON] = self.data_sources[parent["data_source_id"]]["schema"]
            return schema
        return {"title": {"id": "title", "name": "title", "type": "title", "config": {}}}

    def titles(self) -> dict[str, str]:
        """Page and user names by id, for mention ``plain_text``."""
        names = {pid: self.page_title(page) for pid, page in self.pages.items()}
        names[self.bot_id] = BOT_NAME
        names[self.owner_id] = OWNER_NAME
        return names

    def page_title(self, page: JSON) -> str:
        schema = self.schema_of(page)
        for prop in schema.values():
            if prop["type"] == "title":
                return plain_text(page["properties"].get(prop["id"], []))
        return ""

    def owning_page(self, parent: JSON) -> JSON | None:
        """The page whose content a block under ``parent`` belongs to."""
        seen = 0
        while seen < 1000:
            seen += 1
            if parent.get("type") == "page_id":
                return self.pages.get(parent["page_id"])
            if parent.get("type") == "block_id" and parent["block_id"] in self.blocks:
                parent = self.blocks[parent["block_id"]]["parent"]
                continue
            return None
        return None

    def touch(self, record: JSON) -> None:
        """Stamp ``record`` (and the page it belongs to) as edited now."""
        now = self.clock.now()
        record["edited"] = now
        owner = self.owning_page(record.get("parent", {}))
        if owner is not None:
            owner["edited"] = now

    def live_children(self, parent_id: str) -> list[str]:
        """Ids of the non-trashed children of a page or block, in order."""
        result = []
        for child_id in self.children.get(parent_id, []):
            record = (
                self.blocks.get(child_id)
                or self.pages.get(child_id)
                or self.databases.get(child_id)
            )
            if record is not None and not record["in_trash"]:
                result.append(child_id)
        return result

    # -- rendering ---------------------------------------------------------------------------

    def user(self) -> JSON:
        return {"object": "user", "id": self.bot_id}

    def computed(self, page: JSON) -> JSON:
        """Values of the read-only timestamp/author property types for ``page``."""
        return {
            "created_time": format_minute(page["created"]),
            "last_edited_time": format_minute(page["edited"]),
            "created_by": self.user(),
            "last_edited_by": self.user(),
        }

    def render_parent(self, parent: JSON) -> JSON:
        if parent.get("type") == "data_source_id":
            source = self.data_sources.get(parent["data_source_id"], {})
            return {
                "type": "data_source_id",
                "data_source_id": parent["data_source_id"],
                "database_id": source.get("database_id"),
            }
        return dict(parent)

    def render_page(self, page: JSON) -> JSON:
        schema = self.schema_of(page)
        computed = self.computed(page)
        properties = {}
        for prop in schema.values():
            stored = page["properties"].get(prop["id"], default_value(prop["type"]))
            properties[prop["name"]] = render_value(prop, stored, computed)
        hex_id = page["id"].replace("-", "")
        slug = _slug(self.page_title(page))
        return {
            "object": "page",
            "id": page["id"],
            "created_time": computed["created_time"],
            "last_edited_time": computed["last_edited_time"],
            "created_by": self.user(),
            "last_edited_by": self.user(),
            "cover": page["cover"],
            "icon": page["icon"],
            "parent": self.render_parent(page["parent"]),
            "in_trash": page["in_trash"],
            "is_archived": False,
            "is_locked": page["is_locked"],
            "properties": current_mentions(properties, self.mention_title),
            "url": f"https://app.notion.com/p/{slug + '-' if slug else ''}{hex_id}",
            "public_url": None,
            "archived": page["in_trash"],
        }

    def render_database(self, database: JSON) -> JSON:
        return {
            "object": "database",
            "id": database["id"],
            "title": database["title"],
            "description": database["description"],
            "parent": dict(database["parent"]),
            "is_inline": database["is_inline"],
            "in_trash": database["in_trash"],
            "is_locked": database["is_locked"],
            "created_time": format_database_time(database["created"]),
            "last_edited_time": format_database_time(database["edited"]),
            "data_sources": [
                {"id": sid, "name": plain_text(self.data_sources[sid]["title"])}
                for sid in database["data_sources"]
                if not self.data_sources[sid]["in_trash"]
            ],
            "icon": database["icon"],
            "cover": database["cover"],
            "url": f"https://app.notion.com/p/{database['id'].replace('-', '')}",
            "public_url": None,
            "archived": database["in_trash"],
        }

    def render_data_source(self, source: JSON) -> JSON:
        database = self.databases[source["database_id"]]
        return {
            "object": "data_source",
            "id": source["id"],
            "cover": None,
            "icon": source["icon"],
            "created_time": format_minute(source["created"]),
            "created_by": self.user(),
            "last_edited_by": self.user(),
            "last_edited_time": format_minute(source["edited"]),
            "title": source["title"],
            "description": source["description"],
            "is_inline": database["is_inline"],
            "properties": render_schema(source["schema"]),
            "parent": {"type": "database_id", "database_id": database["id"]},
            "database_parent": dict(database["parent"]),
            "url": f"https://app.notion.com/p/{database['id'].replace('-', '')}",
            "public_url": None,
            "in_trash": source["in_trash"],
            "archived": source["in_trash"],
        }

    def render_block(self, block_id: str) -> JSON:
        """Any block-like object (block, page as ``child_page``, database as
        ``child_database``) in block form."""
        kind = self.block_kind(block_id)
        if kind == "block":
            record = self.blocks[block_id]
            block_type, content = record["type"], record["content"]
        elif kind == "page":
            record = self.pages[block_id]
            block_type, content = "child_page", {"title": self.page_title(record)}
        else:
            record = self.databases[block_id]
            block_type, content = "child_database", {"title": plain_text(record["title"])}
        return {
            "object": "block",
            "id": block_id,
            "parent": self.render_parent(record["parent"]),
            "created_time": format_minute(record["created"]),
            "last_edited_time": format_minute(record["edited"]),
            "created_by": self.user(),
            "last_edited_by": self.user(),
            "has_children": bool(self.live_children(block_id)),
            "in_trash": record["in_trash"],
            "type": block_type,
            block_type: current_mentions(content, self.mention_title),
            "archived": record["in_trash"],
        }

    def mention_title(self, kind: str, ref_id: str) -> str | None:
        """The title a mention of page or database ``ref_id`` shows now (``None``: one
        this server does not hold; the label stored with the mention stays)."""
        if kind == "page" and ref_id in self.pages:
            return self.page_title(self.pages[ref_id])
        if kind == "database" and ref_id in self.databases:
            return plain_text(self.databases[ref_id]["title"])
        return None

    def property_of(self, page: JSON, key: str) -> JSON | None:
        return find_property(self.schema_of(page), key)

    # -- persistence -------------------------------------------------------------------------

    def snapshot(self) -> JSON:
        """The whole state as one JSON-serialisable dict."""
        return {
            "version": STATE_VERSION,
            "token": self.token,
            "bot_id": self.bot_id,
            "workspace_id": self.workspace_id,
            "root_page_id": self.root_page_id,
            "owner_id": self.owner_id,
            "pages": self.pages,
            "databases": self.databases,
            "data_sources": self.data_sources,
            "blocks": self.blocks,
            "children": self.children,
        }

    def restore(self, state: JSON) -> None:
        """Replace the state with a :meth:`snapshot`; raises ``ValueError`` on a bad file."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state version {state.get('version')!r}")
        self.token, self.bot_id = state["token"], state["bot_id"]
        self.workspace_id, self.root_page_id = state["workspace_id"], state["root_page_id"]
        self.owner_id = state["owner_id"]
        self.pages, self.databases = state["pages"], state["databases"]
        self.data_sources, self.blocks = state["data_sources"], state["blocks"]
        self.children = state["children"]

    def save(self, path: Path) -> None:
        """Write the state to ``path`` atomically (temp file + rename)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        """Read state written by :meth:`save`."""
        self.restore(json.loads(path.read_text(encoding="utf-8")))
