"""The real notion-client 3.1.0 against the fake, one test per endpoint family."""

from __future__ import annotations

import pytest
from notion_client import APIResponseError, Client, collect_paginated_api
from notion_client.errors import APIErrorCode
from notion_fake_support import make_database, paragraph, text
from syncbridge_notion_fake import NotionFakeServer


def test_users_me_list_and_retrieve(notion: Client) -> None:
    me = notion.users.me()
    assert me["type"] == "bot" and me["object"] == "user"
    users = notion.users.list()["results"]
    assert {u["type"] for u in users} == {"bot", "person"}
    assert notion.users.retrieve(me["id"])["id"] == me["id"]


def test_database_create_retrieve_update(notion: Client, notion_server: NotionFakeServer) -> None:
    database_id, source_id = make_database(notion, notion_server, title="Reading")
    database = notion.databases.retrieve(database_id)
    assert database["data_sources"] == [{"id": source_id, "name": "Reading"}]
    assert "properties" not in database
    updated = notion.databases.update(database_id, title=text("Books"), icon={"emoji": "📚"})
    assert updated["title"][0]["plain_text"] == "Books"
    assert updated["icon"] == {"type": "emoji", "emoji": "📚"}
    # The database shows up as a child_database block of its parent page.
    children = notion.blocks.children.list(notion_server.root_page_id)["results"]
    assert [(c["type"], c["child_database"]["title"]) for c in children] == [
        ("child_database", "Books")
    ]


def test_database_without_initial_data_source_gets_a_name_title(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": notion_server.root_page_id}, title=text("Plain")
    )
    source = notion.data_sources.retrieve(database["data_sources"][0]["id"])
    assert {name: p["type"] for name, p in source["properties"].items()} == {"Name": "title"}


def test_data_source_create_retrieve_and_trash(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    database_id, _ = make_database(notion, notion_server)
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": database_id},
        properties={"Title": {"title": {}}},
        title=text("Second"),
    )
    assert second["parent"] == {"type": "database_id", "database_id": database_id}
    assert len(notion.databases.retrieve(database_id)["data_sources"]) == 2
    trashed = notion.data_sources.update(second["id"], in_trash=True)
    assert trashed["in_trash"] is True and trashed["archived"] is True
    assert len(notion.databases.retrieve(database_id)["data_sources"]) == 1


def test_schema_changes_add_rename_delete_and_options(notion: Client, data_source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": data_source},
        properties={
            "Name": {"title": text("p")},
            "Kind": {"select": {"name": "idea"}},
            "Score": {"number": 4},
        },
    )
    source = notion.data_sources.update(
        data_source,
        properties={
            "Score": {"name": "Points"},
            "Notes": None,
            "Stars": {"number": {"format": "percent"}},
            "Kind": {"select": {"options": [{"name": "task"}, {"name": "note", "color": "red"}]}},
        },
    )
    props = source["properties"]
    assert "Score" not in props and props["Points"]["type"] == "number"
    assert "Notes" not in props and props["Stars"]["number"] == {"format": "percent"}
    assert [o["name"] for o in props["Kind"]["select"]["options"]] == ["task", "note"]
    fetched = notion.pages.retrieve(page["id"])["properties"]
    assert fetched["Points"]["number"] == 4  # the value follows the renamed property
    assert "Notes" not in fetched
    assert fetched["Kind"]["select"] is None  # its option was removed from the schema


def test_page_create_with_children_retrieve_update_and_trash(
    notion: Client, data_source: str
) -> None:
    page = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": data_source},
        properties={"Name": {"title": text("Hello")}, "Tags": {"multi_select": [{"name": "a"}]}},
        children=[paragraph("one"), paragraph("two")],
        icon={"type": "emoji", "emoji": "🛴"},
    )
    assert page["parent"]["data_source_id"] == data_source
    assert page["properties"]["Name"]["title"][0]["plain_text"] == "Hello"
    children = notion.blocks.children.list(page["id"])["results"]
    assert [c["paragraph"]["rich_text"][0]["plain_text"] for c in children] == ["one", "two"]
    updated = notion.pages.update(page["id"], properties={"Done": {"checkbox": True}}, icon=None)
    assert updated["properties"]["Done"]["checkbox"] is True and updated["icon"] is None
    assert notion.pages.update(page["id"], in_trash=True)["in_trash"] is True
    assert notion.pages.retrieve(page["id"])["archived"] is True
    assert notion.pages.update(page["id"], in_trash=False)["in_trash"] is False


def test_page_under_page_and_retrieve_with_filter_properties(
    notion: Client, notion_server: NotionFakeServer, data_source: str
) -> None:
    child = notion.pages.create(
        parent={"page_id": notion_server.root_page_id}, properties={"title": text("Sub")}
    )
    assert child["parent"] == {"type": "page_id", "page_id": notion_server.root_page_id}
    assert list(child["properties"]) == ["title"]
    page = notion.pages.create(
        parent={"data_source_id": data_source}, properties={"Name": {"title": text("x")}}
    )
    limited = notion.pages.retrieve(page["id"], filter_properties=["title"])
    assert list(limited["properties"]) == ["Name"]


def test_retyped_properties_render_their_values_converted(notion: Client, data_source: str) -> None:
    """Retyping a property in Notion converts the values it holds (through their text);
    every page of the data source still renders (it used to drop the connection)."""
    page = notion.pages.create(
        parent={"data_source_id": data_source},
        properties={
            "Name": {"title": text("p")},
            "Score": {"number": 7},
            "Notes": {"rich_text": text("12")},
            "Kind": {"select": {"name": "idea"}},
            "Tags": {"multi_select": [{"name": "a"}, {"name": "b"}]},
            "Done": {"checkbox": True},
            "Due": {"date": {"start": "2025-01-02"}},
        },
    )
    notion.data_sources.update(
        data_source,
        properties={
            "Score": {"rich_text": {}},
            "Notes": {"number": {}},
            "Kind": {"multi_select": {}},
            "Tags": {"rich_text": {}},
            "Done": {"rich_text": {}},
            "Due": {"rich_text": {}},
        },
    )
    props = notion.pages.retrieve(page["id"])["properties"]
    assert props["Score"]["rich_text"][0]["plain_text"] == "7"
    assert props["Notes"]["number"] == 12
    assert [o["name"] for o in props["Kind"]["multi_select"]] == ["idea"]
    assert props["Tags"]["rich_text"][0]["plain_text"] == "a, b"
    assert props["Done"]["rich_text"][0]["plain_text"] == "Yes"
    assert props["Due"]["rich_text"][0]["plain_text"] == "2025-01-02"
    # and back: text that is no number reads as empty
    notion.data_sources.update(
        data_source, properties={"Tags": {"number": {}}, "Score": {"number": {}}}
    )
    props = notion.pages.retrieve(page["id"])["properties"]
    assert props["Tags"]["number"] is None and props["Score"]["number"] == 7
    assert notion.data_sources.query(data_source)["results"][0]["id"] == page["id"]


def test_page_move_into_another_data_source_keeps_its_id_blocks_and_matching_values(
    notion: Client, notion_server: NotionFakeServer, data_source: str
) -> None:
    _, other = make_database(
        notion,
        notion_server,
        {
            "Title": {"title": {}},
            "Score": {"number": {}},
            "Kind": {"select": {"options": [{"name": "task"}]}},
            "Notes": {"number": {}},
        },
        title="Other",
    )
    page = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": data_source},
        properties={
            "Name": {"title": text("Moving")},
            "Score": {"number": 4},
            "Kind": {"select": {"name": "task"}},
            "Notes": {"rich_text": text("n")},
            "Done": {"checkbox": True},
        },
        children=[paragraph("kept")],
    )
    moved = notion.pages.move(
        page["id"], parent={"type": "data_source_id", "data_source_id": other}
    )
    assert moved["id"] == page["id"] and moved["parent"]["data_source_id"] == other
    props = moved["properties"]
    assert props["Title"]["title"][0]["plain_text"] == "Moving"  # the title always
    assert props["Score"]["number"] == 4 and props["Kind"]["select"]["name"] == "task"
    assert props["Notes"]["number"] is None  # same name, another type: not carried
    assert "Done" not in props
    children = notion.blocks.children.list(page["id"])["results"]
    assert [c["paragraph"]["rich_text"][0]["plain_text"] for c in children] == ["kept"]
    # moving again to the same parent changes nothing; a page parent works too
    again = notion.pages.move(page["id"], parent={"data_source_id": other})
    assert again["last_edited_time"] == moved["last_edited_time"]
    under = notion.pages.move(page["id"], parent={"page_id": notion_server.root_page_id})
    assert under["parent"] == {"type": "page_id", "page_id": notion_server.root_page_id}
    kids = notion.blocks.children.list(notion_server.root_page_id)["results"]
    assert page["id"] in [k["id"] for k in kids]
    with pytest.raises(APIResponseError):
        notion.pages.move(page["id"], parent={"nowhere": True})


def test_property_item_endpoint(notion: Client, data_source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": data_source},
        properties={"Name": {"title": text("T")}, "Score": {"number": 7}},
    )
    score_id = notion.data_sources.retrieve(data_source)["properties"]["Score"]["id"]
    item = notion.pages.properties.retrieve(page["id"], score_id)
    assert item == {
        "object": "property_item",
        "id": score_id,
        "type": "number",
        "number": 7,
        "request_id": item["request_id"],
    }
    title = notion.pages.properties.retrieve(page["id"], "title")
    assert title["type"] == "property_item" and title["results"][0]["title"]["plain_text"] == "T"


def test_blocks_children_append_with_after_and_position(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    page = notion.pages.create(
        parent={"page_id": notion_server.root_page_id}, properties={"title": text("Doc")}
    )
    first = notion.blocks.children.append(page["id"], children=[paragraph("a"), paragraph("d")])
    a_id = first["results"][0]["id"]
    notion.blocks.children.append(page["id"], children=[paragraph("b")], after=a_id)
    notion.blocks.children.append(page["id"], children=[paragraph("0")], position={"type": "start"})
    b_id = notion.blocks.children.list(page["id"])["results"][2]["id"]
    notion.blocks.children.append(
        page["id"],
        children=[paragraph("c")],
        position={"type": "after_block", "after_block": {"id": b_id}},
    )
    notion.blocks.children.append(page["id"], children=[paragraph("e")], position={"type": "end"})
    texts = [
        b["paragraph"]["rich_text"][0]["plain_text"]
        for b in collect_paginated_api(
            notion.blocks.children.list, block_id=page["id"], page_size=2
        )
    ]
    assert texts == ["0", "a", "b", "c", "d", "e"]


def test_nested_children_and_has_children(notion: Client, notion_server: NotionFakeServer) -> None:
    page = notion.pages.create(
        parent={"page_id": notion_server.root_page_id}, properties={"title": text("Nest")}
    )
    toggle = {"toggle": {"rich_text": text("t"), "children": [paragraph("inside")]}}
    created = notion.blocks.children.append(page["id"], children=[toggle])["results"]
    assert created[0]["has_children"] is True
    inner = notion.blocks.children.list(created[0]["id"])["results"]
    assert inner[0]["parent"] == {"type": "block_id", "block_id": created[0]["id"]}


def test_block_retrieve_update_delete_restore(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    page = notion.pages.create(
        parent={"page_id": notion_server.root_page_id}, properties={"title": text("Doc")}
    )
    block = notion.blocks.children.append(page["id"], children=[paragraph("x")])["results"][0]
    assert notion.blocks.retrieve(block["id"])["paragraph"]["rich_text"][0]["plain_text"] == "x"
    updated = notion.blocks.update(
        block["id"],
        paragraph={"rich_text": [{"text": {"content": "y"}, "annotations": {"bold": True}}]},
    )
    assert updated["paragraph"]["rich_text"][0]["annotations"]["bold"] is True
    deleted = notion.blocks.delete(block["id"])
    assert deleted["in_trash"] is True
    assert notion.blocks.children.list(page["id"])["results"] == []
    assert notion.blocks.retrieve(block["id"])["in_trash"] is True
    assert notion.blocks.update(block["id"], archived=False)["in_trash"] is False
    assert len(notion.blocks.children.list(page["id"])["results"]) == 1


def test_delete_block_of_a_page_trashes_the_page(notion: Client, data_source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": data_source}, properties={"Name": {"title": text("gone")}}
    )
    block = notion.blocks.delete(page["id"])
    assert block["type"] == "child_page" and block["child_page"] == {"title": "gone"}
    assert notion.pages.retrieve(page["id"])["in_trash"] is True
    assert notion.data_sources.query(data_source)["results"] == []


def test_search_pages_and_data_sources(
    notion: Client, notion_server: NotionFakeServer, data_source: str
) -> None:
    notion.pages.create(
        parent={"data_source_id": data_source},
        properties={"Name": {"title": text("Findable note")}},
    )
    found = notion.search(query="findable")["results"]
    assert [r["object"] for r in found] == ["page"]
    sources = notion.search(filter={"property": "object", "value": "data_source"})["results"]
    assert [s["id"] for s in sources] == [data_source]
    everything = collect_paginated_api(
        notion.search, page_size=1, sort={"timestamp": "last_edited_time", "direction": "ascending"}
    )
    assert len(everything) == 3  # root page, data source, the note


def test_query_paginates_with_start_cursor(notion: Client, data_source: str) -> None:
    for index in range(5):
        notion.pages.create(
            parent={"data_source_id": data_source},
            properties={"Name": {"title": text(f"n{index}")}},
        )
    first = notion.data_sources.query(
        data_source, page_size=2, sorts=[{"property": "Name", "direction": "ascending"}]
    )
    assert first["has_more"] is True and first["next_cursor"]
    names = [
        p["properties"]["Name"]["title"][0]["plain_text"]
        for p in collect_paginated_api(
            notion.data_sources.query,
            data_source_id=data_source,
            page_size=2,
            sorts=[{"property": "Name", "direction": "ascending"}],
        )
    ]
    assert names == ["n0", "n1", "n2", "n3", "n4"]


def test_errors_reach_the_client_as_notion_errors(
    notion_server: NotionFakeServer, notion: Client
) -> None:
    wrong = Client(auth="ntn_wrong", base_url=notion_server.url)
    with pytest.raises(APIResponseError) as unauthorized:
        wrong.users.me()
    assert unauthorized.value.code == APIErrorCode.Unauthorized
    assert unauthorized.value.status == 401
    with pytest.raises(APIResponseError) as missing:
        notion.pages.retrieve("00000000-0000-0000-0000-000000000000")
    assert missing.value.code == APIErrorCode.ObjectNotFound
    assert missing.value.additional_data == {"integration_id": notion.users.me()["id"]}
    with pytest.raises(APIResponseError) as bad_url:
        notion.request(path="nowhere", method="GET")
    assert bad_url.value.code == APIErrorCode.InvalidRequestURL


def test_unshared_pages_are_not_found(notion: Client, notion_server: NotionFakeServer) -> None:
    private = notion_server.store.add_unshared_page("Diary")
    with pytest.raises(APIResponseError) as error:
        notion.pages.retrieve(private)
    assert error.value.code == APIErrorCode.ObjectNotFound
    assert notion.search(query="Diary")["results"] == []


def test_async_client_works_too(notion_server: NotionFakeServer) -> None:
    import asyncio

    from notion_client import AsyncClient

    async def run() -> tuple[str, str]:
        client = AsyncClient(auth=notion_server.token, base_url=notion_server.url)
        try:
            me = await client.users.me()
            page = await client.pages.create(
                parent={"page_id": notion_server.root_page_id}, properties={"title": text("async")}
            )
            return me["type"], page["properties"]["title"]["title"][0]["plain_text"]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == ("bot", "async")
