"""Blocks a sync of a page's body does not own, with the real notion-client 3.1.0.

Deleting a ``child_page`` or ``child_database`` block trashes that page or database, as in
Notion (a peer's sync destroyed a user's database this way). Blocks the API cannot expose
(forms, buttons, ... made in Notion's app) are seeded through the admin endpoint and served
as ``unsupported`` with their ``block_type``, read-only. The adapter's tests use both to prove
it never destroys what it does not own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import APIErrorCode
from notion_fake_support import make_database, paragraph, text
from syncbridge_notion_fake import NotionFakeServer


def note_page(client: Client, server: NotionFakeServer, *paragraphs: str) -> str:
    page = client.pages.create(
        parent={"page_id": server.root_page_id},
        properties={"title": text("Note")},
        children=[paragraph(p) for p in paragraphs],
    )
    return str(page["id"])


def child_types(client: Client, page_id: str) -> list[str]:
    return [block["type"] for block in client.blocks.children.list(page_id)["results"]]


def seed_unsupported(server: NotionFakeServer, **spec: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/__fake__/unsupported_blocks", json=spec)


def rejected(call: Any) -> str:
    with pytest.raises(APIResponseError) as error:
        call()
    assert error.value.status == 400 and error.value.code == APIErrorCode.ValidationError
    return str(json.loads(error.value.body)["message"])


# -- child pages and databases ------------------------------------------------------------------


def test_deleting_a_child_page_block_trashes_the_page(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    parent = note_page(notion, notion_server, "intro")
    child = notion.pages.create(parent={"page_id": parent}, properties={"title": text("Sub")})
    block = notion.blocks.children.list(parent)["results"][1]
    assert (block["id"], block["type"], block["child_page"]) == (
        child["id"],
        "child_page",
        {"title": "Sub"},
    )
    deleted = notion.blocks.delete(block["id"])
    assert deleted["type"] == "child_page" and deleted["in_trash"] is True
    assert notion.pages.retrieve(child["id"])["in_trash"] is True
    assert child_types(notion, parent) == ["paragraph"]
    assert [r["id"] for r in notion.search(query="Sub")["results"]] == []
    # Restored from the trash, it is back in its place.
    notion.pages.update(child["id"], in_trash=False)
    assert child_types(notion, parent) == ["paragraph", "child_page"]


def test_deleting_a_child_database_block_trashes_the_database(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    database_id, source_id = make_database(notion, notion_server, title="Reading list")
    block = notion.blocks.retrieve(database_id)
    assert block["type"] == "child_database" and block["child_database"] == {
        "title": "Reading list"
    }
    deleted = notion.blocks.delete(database_id)
    assert deleted["type"] == "child_database" and deleted["in_trash"] is True
    assert notion.databases.retrieve(database_id)["in_trash"] is True
    assert "child_database" not in child_types(notion, notion_server.root_page_id)
    found = notion.search(query="Reading", filter={"property": "object", "value": "data_source"})
    assert found["results"] == []
    notion.databases.update(database_id, in_trash=False)
    assert "child_database" in child_types(notion, notion_server.root_page_id)
    assert [r["id"] for r in notion.search(query="Reading")["results"]] == [source_id]


# -- unsupported blocks -------------------------------------------------------------------------


def test_an_unsupported_block_is_served_with_its_block_type_in_place(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    page_id = note_page(notion, notion_server, "before", "after")
    first = notion.blocks.children.list(page_id)["results"][0]["id"]
    reply = seed_unsupported(notion_server, parent_id=page_id, block_type="form", after=first)
    assert reply.status_code == 200, reply.text
    seeded = reply.json()
    assert seeded["type"] == "unsupported" and seeded["unsupported"] == {"block_type": "form"}
    blocks = notion.blocks.children.list(page_id)["results"]
    assert [b["type"] for b in blocks] == ["paragraph", "unsupported", "paragraph"]
    assert blocks[1]["id"] == seeded["id"]
    assert blocks[1]["parent"] == {"type": "page_id", "page_id": page_id}
    assert blocks[1]["has_children"] is False and blocks[1]["in_trash"] is False
    assert notion.blocks.retrieve(seeded["id"])["unsupported"] == {"block_type": "form"}
    # Seeding stands for an edit in Notion's app: the page's last_edited_time moves with it.
    assert notion.pages.retrieve(page_id)["last_edited_time"] == seeded["last_edited_time"]


def test_an_unsupported_block_is_read_only(notion: Client, notion_server: NotionFakeServer) -> None:
    page_id = note_page(notion, notion_server, "text")
    block_id = seed_unsupported(notion_server, parent_id=page_id, block_type="button").json()["id"]
    body: dict[str, Any] = {"unsupported": {"block_type": "paragraph"}}
    message = rejected(lambda: notion.request(f"blocks/{block_id}", "PATCH", body=body))
    assert message == (
        "Block type `button` is not supported via the API: a block of type `unsupported` "
        "cannot be updated."
    )
    rejected(lambda: notion.blocks.update(block_id, paragraph={"rich_text": text("x")}))
    message = rejected(
        lambda: notion.blocks.children.append(block_id, children=[paragraph("inside")])
    )
    assert "cannot be given children" in message
    creating = {"type": "unsupported", "unsupported": {"block_type": "button"}}
    rejected(lambda: notion.blocks.children.append(page_id, children=[creating]))
    assert notion.blocks.retrieve(block_id)["unsupported"] == {"block_type": "button"}
    assert child_types(notion, page_id) == ["paragraph", "unsupported"]


def test_deleting_an_unsupported_block_trashes_it_like_any_block(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    """Notion lets the API trash it; the adapter's tests rely on the fake allowing it too,
    so that a sync that deletes what it does not own is seen, not refused."""
    page_id = note_page(notion, notion_server, "text")
    block_id = seed_unsupported(notion_server, parent_id=page_id, block_type="drive").json()["id"]
    assert notion.blocks.delete(block_id)["in_trash"] is True
    assert child_types(notion, page_id) == ["paragraph"]
    assert notion.blocks.update(block_id, in_trash=False)["type"] == "unsupported"
    assert child_types(notion, page_id) == ["paragraph", "unsupported"]


def test_2026_03_11_serves_unsupported_blocks_without_archived(
    notion_server: NotionFakeServer, notion: Client
) -> None:
    page_id = note_page(notion, notion_server)
    block_id = seed_unsupported(notion_server, parent_id=page_id, block_type="form").json()["id"]
    client = Client(
        auth=notion_server.token, base_url=notion_server.url, notion_version="2026-03-11"
    )
    block = client.blocks.retrieve(block_id)
    assert block["unsupported"] == {"block_type": "form"} and "archived" not in block


def test_seeding_under_a_block_from_python_and_persisted(tmp_path: Path) -> None:
    state = tmp_path / "notion.json"
    with NotionFakeServer(persist=state) as server:
        client = Client(auth=server.token, base_url=server.url)
        page_id = note_page(client, server)
        toggle = client.blocks.children.append(
            page_id, children=[{"toggle": {"rich_text": text("t")}}]
        )["results"][0]["id"]
        with server.store.lock:
            server.store.add_unsupported_block(toggle, "ai_block")
        seed_unsupported(server, parent_id=page_id.replace("-", ""), block_type="form")
    with NotionFakeServer(persist=state) as again:
        client = Client(auth=again.token, base_url=again.url)
        inside = client.blocks.children.list(toggle)["results"]
        assert [b["unsupported"]["block_type"] for b in inside] == ["ai_block"]
        assert client.blocks.retrieve(toggle)["has_children"] is True
        assert child_types(client, page_id) == ["toggle", "unsupported"]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"parent_id": "0" * 32, "block_type": "form"}, "no page or block with id"),
        ({"block_type": "form"}, "no page or block with id None"),
        ({"parent_id": "PAGE", "block_type": ""}, "block_type must be a non-empty string"),
        ({"parent_id": "PAGE", "block_type": 3}, "block_type must be a non-empty string"),
        ({"parent_id": "PAGE", "block_type": "form", "after": "0" * 32}, "is not a child of"),
    ],
)
def test_seeding_refuses_bad_input_and_changes_nothing(
    notion: Client, notion_server: NotionFakeServer, spec: dict[str, Any], error: str
) -> None:
    page_id = note_page(notion, notion_server, "only")
    spec = {key: page_id if value == "PAGE" else value for key, value in spec.items()}
    reply = seed_unsupported(notion_server, **spec)
    assert reply.status_code == 400 and error in reply.json()["error"]
    assert child_types(notion, page_id) == ["paragraph"]
