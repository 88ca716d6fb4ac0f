"""Helpers and fixtures shared by the fake-server tests (``notion_server``/``notion`` come
from the opt-in plugin named in ``conftest.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from syncbridge_notion_fake import NotionFakeServer

SCHEMA: dict[str, Any] = {
    "Name": {"title": {}},
    "Notes": {"rich_text": {}},
    "Score": {"number": {"format": "number"}},
    "Done": {"checkbox": {}},
    "Kind": {"select": {"options": [{"name": "idea", "color": "blue"}, {"name": "task"}]}},
    "Tags": {"multi_select": {"options": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}},
    "Due": {"date": {}},
    "Link": {"url": {}},
    "Mail": {"email": {}},
    "Phone": {"phone_number": {}},
}


def text(content: str) -> list[dict[str, Any]]:
    """A request rich-text array with one plain item."""
    return [{"type": "text", "text": {"content": content}}]


def paragraph(content: str) -> dict[str, Any]:
    return {"object": "block", "type": "paragraph", "paragraph": {"rich_text": text(content)}}


def make_database(
    client: Any,
    server: NotionFakeServer,
    schema: dict[str, Any] | None = None,
    title: str = "Notes",
) -> tuple[str, str]:
    """Create a database under the root page; returns (database id, data source id)."""
    database = client.databases.create(
        parent={"type": "page_id", "page_id": server.root_page_id},
        title=text(title),
        initial_data_source={"properties": schema or SCHEMA},
    )
    return database["id"], database["data_sources"][0]["id"]


@pytest.fixture
def data_source(notion: Any, notion_server: NotionFakeServer) -> str:
    """Id of a data source with :data:`SCHEMA`, under the root page."""
    return make_database(notion, notion_server)[1]
