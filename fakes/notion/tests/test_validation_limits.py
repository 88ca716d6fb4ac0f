"""Each documented Notion limit: the fake accepts the limit and rejects one past it,
with Notion's ``400 validation_error`` shape and message style."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import APIErrorCode
from notion_fake_support import paragraph, text
from syncbridge_notion_fake import NotionFakeServer


def rejected(call: Callable[[], Any]) -> str:
    """Run ``call``; it must fail with 400 validation_error. Returns the message."""
    with pytest.raises(APIResponseError) as error:
        call()
    assert error.value.status == 400
    assert error.value.code == APIErrorCode.ValidationError
    return str(error.value.body and json.loads(error.value.body)["message"])


@pytest.fixture
def page_id(notion: Client, notion_server: NotionFakeServer) -> str:
    page = notion.pages.create(
        parent={"page_id": notion_server.root_page_id}, properties={"title": text("Doc")}
    )
    return str(page["id"])


def test_error_body_has_notions_shape(notion_server: NotionFakeServer, page_id: str) -> None:
    reply = httpx.patch(
        f"{notion_server.url}/v1/blocks/{page_id}/children",
        json={"children": [paragraph("x" * 2001)]},
        headers={"Authorization": f"Bearer {notion_server.token}", "Notion-Version": "2025-09-03"},
    )
    assert reply.status_code == 400
    body = reply.json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert body["object"] == "error" and body["status"] == 400
    assert body["code"] == "validation_error"
    assert reply.headers["x-notion-request-id"] == body["request_id"]


def test_rich_text_content_over_2000_characters(notion: Client, page_id: str) -> None:
    notion.blocks.children.append(page_id, children=[paragraph("x" * 2000)])
    message = rejected(
        lambda: notion.blocks.children.append(
            page_id, children=[paragraph("ok"), paragraph("x" * 2001)]
        )
    )
    assert message == (
        "body failed validation: body.children[1].paragraph.rich_text[0].text.content.length "
        "should be ≤ `2000`, instead was `2001`."
    )


def test_rich_text_array_over_100_items(notion: Client, page_id: str) -> None:
    items = [{"text": {"content": "a"}}] * 100
    notion.blocks.children.append(page_id, children=[{"paragraph": {"rich_text": items}}])
    message = rejected(
        lambda: notion.blocks.children.append(
            page_id, children=[{"paragraph": {"rich_text": [*items, items[0]]}}]
        )
    )
    assert message == (
        "body failed validation: body.children[0].paragraph.rich_text.length "
        "should be ≤ `100`, instead was `101`."
    )


def test_multi_select_and_relation_arrays_over_100_items(notion: Client, data_source: str) -> None:
    tags = [{"name": f"t{i}"} for i in range(101)]
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source},
            properties={"Name": {"title": text("x")}, "Tags": {"multi_select": tags}},
        )
    )
    assert message.endswith(
        "body.properties.Tags.multi_select.length should be ≤ `100`, instead was `101`."
    )
    page = notion.pages.create(
        parent={"data_source_id": data_source}, properties={"Tags": {"multi_select": tags[:100]}}
    )
    assert len(page["properties"]["Tags"]["multi_select"]) == 100


def test_more_than_100_children_per_request(notion: Client, page_id: str) -> None:
    notion.blocks.children.append(page_id, children=[paragraph("p")] * 100)
    message = rejected(
        lambda: notion.blocks.children.append(page_id, children=[paragraph("p")] * 101)
    )
    assert message == (
        "body failed validation: body.children.length should be ≤ `100`, instead was `101`."
    )
    rejected(
        lambda: notion.pages.create(
            parent={"page_id": page_id},
            properties={"title": text("c")},
            children=[paragraph("p")] * 101,
        )
    )


def _numbered_list(levels: int) -> dict[str, Any]:
    """A numbered list item holding ``levels - 1`` nested items, one per level."""
    item: dict[str, Any] = {"numbered_list_item": {"rich_text": text(f"level {levels}")}}
    for level in range(levels - 1, 0, -1):
        item = {"numbered_list_item": {"rich_text": text(f"level {level}"), "children": [item]}}
    return item


def test_three_block_levels_per_request_are_accepted(notion: Client, page_id: str) -> None:
    created = notion.blocks.children.append(page_id, children=[_numbered_list(3)])["results"]
    second = notion.blocks.children.list(created[0]["id"])["results"]
    third = notion.blocks.children.list(second[0]["id"])["results"]
    assert [b["numbered_list_item"]["rich_text"][0]["plain_text"] for b in second + third] == [
        "level 2",
        "level 3",
    ]
    assert third[0]["has_children"] is False
    page = notion.pages.create(
        parent={"page_id": page_id}, properties={"title": text("c")}, children=[_numbered_list(3)]
    )
    assert len(notion.blocks.children.list(page["id"])["results"]) == 1


def test_a_fourth_level_is_rejected_with_notions_message_and_path(
    notion: Client, page_id: str
) -> None:
    # The path of a real rejection (tryfabric/martian#15): the third-level item's children.
    children = [paragraph("first"), _numbered_list(4)]
    message = rejected(lambda: notion.blocks.children.append(page_id, children=children))
    assert message == (
        "body failed validation: body.children[1].numbered_list_item.children[0]"
        ".numbered_list_item.children[0].numbered_list_item.children should be not present, "
        'instead was `[{"numbered_list_item":{"rich_text":[{"type":"text","te...`.'
    )
    message = rejected(
        lambda: notion.pages.create(
            parent={"page_id": page_id}, properties={"title": text("c")}, children=children
        )
    )
    assert ".numbered_list_item.children should be not present" in message
    assert notion.blocks.children.list(page_id)["results"] == []  # nothing applied


def test_children_at_the_root_of_a_block_are_rejected(notion: Client, page_id: str) -> None:
    misplaced = {"toggle": {"rich_text": text("t")}, "children": [paragraph("lost")]}
    message = rejected(lambda: notion.blocks.children.append(page_id, children=[misplaced]))
    assert message.startswith(
        "body failed validation: body.children[0].children should be not present, instead was "
    )
    assert notion.blocks.children.list(page_id)["results"] == []


def test_commas_in_select_option_names(
    notion: Client, notion_server: NotionFakeServer, data_source: str
) -> None:
    message = rejected(
        lambda: notion.data_sources.update(
            data_source, properties={"Kind": {"select": {"options": [{"name": "a,b"}]}}}
        )
    )
    assert message == "Invalid select option, commas not allowed: a,b"
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source},
            properties={"Tags": {"multi_select": [{"name": "x, y"}]}},
        )
    )
    assert message == "Invalid select option, commas not allowed: x, y"
    rejected(
        lambda: notion.databases.create(
            parent={"page_id": notion_server.root_page_id},
            title=text("d"),
            initial_data_source={
                "properties": {"N": {"title": {}}, "S": {"select": {"options": [{"name": ","}]}}}
            },
        )
    )


def test_urls_over_2000_characters(notion: Client, data_source: str, page_id: str) -> None:
    url = "https://example.com/" + "a" * (2000 - len("https://example.com/"))
    notion.pages.create(parent={"data_source_id": data_source}, properties={"Link": {"url": url}})
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Link": {"url": url + "a"}}
        )
    )
    assert message == (
        "body failed validation: body.properties.Link.url.length should be "
        "≤ `2000`, instead was `2001`."
    )
    link = [{"text": {"content": "l", "link": {"url": url + "a"}}}]
    rejected(
        lambda: notion.blocks.children.append(
            page_id, children=[{"paragraph": {"rich_text": link}}]
        )
    )
    rejected(
        lambda: notion.blocks.children.append(page_id, children=[{"bookmark": {"url": url + "a"}}])
    )


def test_equations_over_1000_characters(notion: Client, page_id: str) -> None:
    notion.blocks.children.append(page_id, children=[{"equation": {"expression": "x" * 1000}}])
    message = rejected(
        lambda: notion.blocks.children.append(
            page_id, children=[{"equation": {"expression": "x" * 1001}}]
        )
    )
    assert message == (
        "body failed validation: body.children[0].equation.expression.length "
        "should be ≤ `1000`, instead was `1001`."
    )
    inline = [{"equation": {"expression": "y" * 1001}}]
    rejected(
        lambda: notion.blocks.children.append(
            page_id, children=[{"paragraph": {"rich_text": inline}}]
        )
    )


def test_email_and_phone_over_200_characters(notion: Client, data_source: str) -> None:
    notion.pages.create(
        parent={"data_source_id": data_source}, properties={"Mail": {"email": "m" * 200}}
    )
    rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source},
            properties={"Phone": {"phone_number": "1" * 201}},
        )
    )


def test_more_than_1000_blocks_in_one_request(notion: Client, page_id: str) -> None:
    def toggles(inner: int) -> list[dict[str, Any]]:
        return [
            {"toggle": {"rich_text": text("t"), "children": [paragraph("c")] * inner}}
            for _ in range(100)
        ]

    notion.blocks.children.append(page_id, children=toggles(9))  # 100 + 900 = 1000 blocks
    message = rejected(lambda: notion.blocks.children.append(page_id, children=toggles(10)))
    assert "`1000` block elements" in message


def test_payload_over_500_kb(notion_server: NotionFakeServer, page_id: str) -> None:
    headers = {
        "Authorization": f"Bearer {notion_server.token}",
        "Notion-Version": "2025-09-03",
        "Content-Type": "application/json",
    }
    payload = json.dumps({"children": [paragraph("x")]})
    small = payload + " " * (500_000 - len(payload))  # exactly 500,000 bytes
    assert len(small.encode()) == 500_000
    ok = httpx.patch(
        f"{notion_server.url}/v1/blocks/{page_id}/children", content=small, headers=headers
    )
    assert ok.status_code == 200
    big = small + " "
    reply = httpx.patch(
        f"{notion_server.url}/v1/blocks/{page_id}/children", content=big, headers=headers
    )
    assert reply.status_code == 400 and reply.json()["code"] == "validation_error"
    assert "500000" in reply.json()["message"]


def test_unknown_properties(notion: Client, data_source: str) -> None:
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Nope": {"number": 1}}
        )
    )
    assert message == "Nope is not a property that exists."
    message = rejected(
        lambda: notion.data_sources.query(
            data_source, filter={"property": "Nope", "number": {"equals": 1}}
        )
    )
    assert message == "Could not find property with name or id: Nope"


def test_wrong_value_types(
    notion: Client, data_source: str, notion_server: NotionFakeServer
) -> None:
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Score": {"rich_text": text("7")}}
        )
    )
    assert message == "Score is expected to be number."
    message = rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Score": {"number": "7"}}
        )
    )
    assert message == (
        "body failed validation: body.properties.Score.number should be a "
        'number or `null`, instead was `"7"`.'
    )
    rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Done": {"checkbox": "yes"}}
        )
    )
    rejected(
        lambda: notion.pages.create(
            parent={"data_source_id": data_source}, properties={"Due": {"date": {"start": "soon"}}}
        )
    )
    rejected(
        lambda: notion.pages.create(
            parent={"page_id": notion_server.root_page_id}, properties={"Score": {"number": 1}}
        )
    )


def test_page_size_over_100(notion: Client, data_source: str, page_id: str) -> None:
    notion.data_sources.query(data_source, page_size=100)
    message = rejected(lambda: notion.data_sources.query(data_source, page_size=101))
    assert message == (
        "body failed validation: body.page_size should be ≤ `100`, instead was `101`."
    )
    rejected(lambda: notion.blocks.children.list(page_id, page_size=101))


def test_filters_nested_deeper_than_two_levels(notion: Client, data_source: str) -> None:
    leaf = {"property": "Done", "checkbox": {"equals": True}}
    notion.data_sources.query(data_source, filter={"and": [{"or": [leaf]}]})
    rejected(
        lambda: notion.data_sources.query(data_source, filter={"and": [{"or": [{"and": [leaf]}]}]})
    )
    rejected(
        lambda: notion.data_sources.query(
            data_source, filter={"property": "Done", "number": {"equals": 1}}
        )
    )


def test_invalid_ids_json_and_version(notion_server: NotionFakeServer, notion: Client) -> None:
    message = rejected(lambda: notion.pages.retrieve("not-an-id"))
    assert message == (
        'path failed validation: path.page_id should be a valid uuid, instead was `"not-an-id"`.'
    )
    headers = {"Authorization": f"Bearer {notion_server.token}"}
    no_version = httpx.get(f"{notion_server.url}/v1/users/me", headers=headers)
    assert no_version.status_code == 400 and no_version.json()["code"] == "missing_version"
    headers["Notion-Version"] = "2025-09-03"
    broken = httpx.post(f"{notion_server.url}/v1/search", content=b"{nope", headers=headers)
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_json"


def test_editing_a_trashed_page_is_rejected(notion: Client, page_id: str) -> None:
    notion.pages.update(page_id, in_trash=True)
    message = rejected(lambda: notion.pages.update(page_id, properties={"title": text("n")}))
    assert message == (
        "Can't edit block that is archived. You must unarchive the block before editing."
    )
    rejected(lambda: notion.blocks.children.append(page_id, children=[paragraph("x")]))
    restored = notion.pages.update(page_id, in_trash=False, properties={"title": text("n")})
    assert restored["properties"]["title"]["title"][0]["plain_text"] == "n"


def test_a_rejected_request_changes_nothing(notion: Client, data_source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": data_source}, properties={"Name": {"title": text("before")}}
    )
    rejected(
        lambda: notion.pages.update(
            page["id"],
            properties={
                "Name": {"title": text("after")},
                "Tags": {"multi_select": [{"name": "new"}]},
                "Score": {"number": "NaN"},
            },
        )
    )
    unchanged = notion.pages.retrieve(page["id"])["properties"]
    assert unchanged["Name"]["title"][0]["plain_text"] == "before"
    options = notion.data_sources.retrieve(data_source)["properties"]["Tags"]["multi_select"]
    assert "new" not in [o["name"] for o in options["options"]]
    rejected(
        lambda: notion.data_sources.update(
            data_source,
            title=text("renamed"),
            properties={"Kind": {"select": {"options": [{"name": "a,b"}]}}},
        )
    )
    assert notion.data_sources.retrieve(data_source)["title"][0]["plain_text"] == "Notes"
