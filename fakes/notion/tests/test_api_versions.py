"""Notion-Version 2025-09-03 and 2026-03-11 side by side, with the real notion-client 3.1.0.

Under 2026-03-11 (Notion's upgrade guide) ``archived`` is gone from requests and responses
(only ``in_trash`` remains) and append takes ``position``, no longer ``after``. The version
is per request: two clients on different versions share one workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import APIErrorCode
from notion_fake_support import make_database, paragraph, text
from syncbridge_notion_fake import NotionFakeServer


@pytest.fixture
def notion_2026(notion_server: NotionFakeServer) -> Iterator[Client]:
    """A real client on the same server, sending ``Notion-Version: 2026-03-11``."""
    client = Client(
        auth=notion_server.token,
        base_url=notion_server.url,
        notion_version="2026-03-11",
        timeout_ms=10_000,
    )
    try:
        yield client
    finally:
        client.close()


def keys_named(payload: Any, key: str) -> int:
    """How many dicts anywhere in ``payload`` have ``key``."""
    if isinstance(payload, dict):
        return (key in payload) + sum(keys_named(v, key) for v in payload.values())
    if isinstance(payload, list):
        return sum(keys_named(v, key) for v in payload)
    return 0


def rejected(call: Any) -> str:
    with pytest.raises(APIResponseError) as error:
        call()
    assert error.value.status == 400 and error.value.code == APIErrorCode.ValidationError
    return str(json.loads(error.value.body)["message"])


def workspace(client: Client, server: NotionFakeServer) -> tuple[str, str, str]:
    """A data source with one row whose body holds one paragraph: (source, page, block)."""
    _, source = make_database(client, server)
    page = client.pages.create(
        parent={"data_source_id": source},
        properties={"Name": {"title": text("Row")}},
        children=[paragraph("first")],
    )
    block = client.blocks.children.list(page["id"])["results"][0]
    return source, page["id"], block["id"]


def every_response(client: Client, server: NotionFakeServer) -> list[Any]:
    """A response of every kind that carries a page, block, database or data source."""
    source, page_id, block_id = workspace(client, server)
    database_id = client.data_sources.retrieve(source)["parent"]["database_id"]
    return [
        client.pages.retrieve(page_id),
        client.pages.update(page_id, properties={"Score": {"number": 1}}),
        client.blocks.retrieve(block_id),
        client.blocks.children.list(page_id),
        client.blocks.children.append(page_id, children=[paragraph("more")]),
        client.blocks.update(block_id, paragraph={"rich_text": text("edited")}),
        client.databases.retrieve(database_id),
        client.data_sources.retrieve(source),
        client.data_sources.query(source),
        client.search(query=""),
        client.blocks.children.list(server.root_page_id),  # the child_database block
        client.blocks.delete(block_id),
    ]


def test_2025_09_03_responses_carry_in_trash_and_archived(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    for response in every_response(notion, notion_server):
        assert keys_named(response, "archived") == keys_named(response, "in_trash") > 0


def test_2026_03_11_responses_carry_in_trash_only(
    notion_2026: Client, notion_server: NotionFakeServer
) -> None:
    for response in every_response(notion_2026, notion_server):
        assert keys_named(response, "archived") == 0, response
        assert keys_named(response, "in_trash") > 0
    page = every_response(notion_2026, notion_server)[0]
    assert page["is_archived"] is False  # a different field, kept in both versions


def test_2026_03_11_refuses_archived_in_every_request(
    notion: Client, notion_2026: Client, notion_server: NotionFakeServer
) -> None:
    source, page_id, block_id = workspace(notion, notion_server)
    database_id = notion.data_sources.retrieve(source)["parent"]["database_id"]
    calls = [
        lambda: notion_2026.pages.update(page_id, archived=True),
        lambda: notion_2026.blocks.update(block_id, archived=True),
        lambda: notion_2026.data_sources.update(source, archived=True),
        lambda: notion_2026.data_sources.query(source, archived=True),
        # databases.update does not forward `archived`; the client's escape hatch does.
        lambda: notion_2026.request(f"databases/{database_id}", "PATCH", body={"archived": True}),
    ]
    for call in calls:
        assert rejected(call) == (
            "body failed validation: body.archived should be not present, instead was `true`."
        )
    # Nothing was trashed, and in_trash does the job under 2026-03-11.
    assert notion.pages.retrieve(page_id)["in_trash"] is False
    assert notion.blocks.retrieve(block_id)["in_trash"] is False
    assert notion.databases.retrieve(database_id)["in_trash"] is False
    assert notion_2026.pages.update(page_id, in_trash=True)["in_trash"] is True
    assert notion.pages.retrieve(page_id)["archived"] is True  # the same page, seen in 2025


def test_2025_09_03_still_takes_archived_as_in_trash(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source, page_id, _ = workspace(notion, notion_server)
    assert notion.pages.update(page_id, archived=True)["in_trash"] is True
    assert notion.data_sources.query(source)["results"] == []
    trashed = notion.data_sources.query(source, archived=True)["results"]
    assert [p["id"] for p in trashed] == [page_id]


def test_2026_03_11_refuses_after_on_append_and_takes_position(
    notion: Client, notion_2026: Client, notion_server: NotionFakeServer
) -> None:
    _, page_id, first = workspace(notion, notion_server)
    message = rejected(
        lambda: notion_2026.blocks.children.append(page_id, children=[paragraph("x")], after=first)
    )
    assert message == (
        f'body failed validation: body.after should be not present, instead was `"{first}"`.'
    )
    assert len(notion.blocks.children.list(page_id)["results"]) == 1  # nothing appended
    notion_2026.blocks.children.append(page_id, children=[paragraph("last")])
    notion_2026.blocks.children.append(
        page_id,
        children=[paragraph("second")],
        position={"type": "after_block", "after_block": {"id": first}},
    )
    notion_2026.blocks.children.append(
        page_id, children=[paragraph("zeroth")], position={"type": "start"}
    )
    notion.blocks.children.append(page_id, children=[paragraph("third")], after=first)  # 2025
    texts = [
        b["paragraph"]["rich_text"][0]["plain_text"]
        for b in notion.blocks.children.list(page_id)["results"]
    ]
    assert texts == ["zeroth", "first", "third", "second", "last"]


@pytest.mark.parametrize("version", ["2022-06-28", "2026-3-11", "latest"])
def test_a_version_the_fake_does_not_serve_is_refused(
    notion_server: NotionFakeServer, version: str
) -> None:
    client = Client(auth=notion_server.token, base_url=notion_server.url, notion_version=version)
    with pytest.raises(APIResponseError) as error:
        client.users.me()
    assert error.value.status == 400 and error.value.code == APIErrorCode.ValidationError
    assert str(error.value) == (
        "Notion-Version header failed validation: Notion-Version header should be "
        f'`2025-09-03` or `2026-03-11`, instead was `"{version}"`. '
        "(This local fake serves only these.)"
    )
    missing = httpx.get(
        f"{notion_server.url}/v1/users/me",
        headers={"Authorization": f"Bearer {notion_server.token}"},
    )
    assert missing.status_code == 400 and missing.json()["code"] == "missing_version"
