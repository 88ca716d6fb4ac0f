"""Behaviour where Notion surprises clients: minute-rounded times, 25-item truncation,
trash, query filters and sorts, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_client import APIResponseError, Client, collect_paginated_api
from notion_fake_support import SCHEMA, make_database, paragraph, text
from syncbridge_notion_fake import ManualClock, NotionFakeServer

START = 1_783_156_133.017  # 2026-07-04T09:08:53.017Z


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(clock: ManualClock) -> Iterator[NotionFakeServer]:
    with NotionFakeServer(clock=clock) as running:
        yield running


@pytest.fixture
def client(server: NotionFakeServer) -> Client:
    return Client(auth=server.token, base_url=server.url)


def titles(result: dict[str, Any]) -> list[str]:
    return [p["properties"]["Name"]["title"][0]["plain_text"] for p in result["results"]]


# -- timestamps ----------------------------------------------------------------------------


def test_times_are_rounded_down_to_the_minute(
    client: Client, server: NotionFakeServer, clock: ManualClock
) -> None:
    database_id, source_id = make_database(client, server)
    database = client.databases.retrieve(database_id)
    assert database["created_time"] == "2026-07-04T09:08:53.017+00:00"  # as recorded
    assert client.data_sources.retrieve(source_id)["created_time"] == "2026-07-04T09:08:00.000Z"
    page = client.pages.create(
        parent={"data_source_id": source_id},
        properties={"Name": {"title": text("t")}},
        children=[paragraph("x")],
    )
    assert page["created_time"] == page["last_edited_time"] == "2026-07-04T09:08:00.000Z"
    clock.advance(70)
    edited = client.pages.update(page["id"], properties={"Score": {"number": 1}})
    assert edited["created_time"] == "2026-07-04T09:08:00.000Z"
    assert edited["last_edited_time"] == "2026-07-04T09:10:00.000Z"


def test_editing_content_bumps_the_page_last_edited_time(
    client: Client, server: NotionFakeServer, clock: ManualClock
) -> None:
    page = client.pages.create(
        parent={"page_id": server.root_page_id},
        properties={"title": text("Doc")},
        children=[paragraph("a")],
    )
    block_id = client.blocks.children.list(page["id"])["results"][0]["id"]
    clock.advance(60)
    client.blocks.update(block_id, paragraph={"rich_text": text("b")})
    assert client.pages.retrieve(page["id"])["last_edited_time"] == "2026-07-04T09:09:00.000Z"
    clock.advance(60)
    client.blocks.children.append(page["id"], children=[paragraph("c")])
    assert client.pages.retrieve(page["id"])["last_edited_time"] == "2026-07-04T09:10:00.000Z"


def test_last_edited_time_filter_is_minute_granular(
    client: Client, server: NotionFakeServer, clock: ManualClock
) -> None:
    _, source = make_database(client, server)
    old = client.pages.create(
        parent={"data_source_id": source}, properties={"Name": {"title": text("old")}}
    )
    clock.advance(120)
    client.pages.create(
        parent={"data_source_id": source}, properties={"Name": {"title": text("new")}}
    )

    def edited(condition: dict[str, Any]) -> list[str]:
        result = client.data_sources.query(
            source,
            filter={"timestamp": "last_edited_time", "last_edited_time": condition},
            sorts=[{"timestamp": "last_edited_time", "direction": "ascending"}],
        )
        return titles(result)

    # The second page was written at 09:10:53, shown and compared as 09:10:00.
    assert edited({"on_or_after": "2026-07-04T09:10:00Z"}) == ["new"]
    assert edited({"after": "2026-07-04T09:10:00Z"}) == []
    assert edited({"before": "2026-07-04T09:10:00.000Z"}) == ["old"]
    assert edited({"equals": "2026-07-04"}) == ["old", "new"]
    assert edited({"past_week": {}}) == ["old", "new"]
    client.pages.update(old["id"], properties={"Done": {"checkbox": True}})
    assert edited({"on_or_after": "2026-07-04T09:10:00Z"}) == ["old", "new"]
    created = client.data_sources.query(
        source,
        filter={"timestamp": "created_time", "created_time": {"before": "2026-07-04T09:10:00Z"}},
    )
    assert titles(created) == ["old"]


# -- 25-item truncation ------------------------------------------------------------------------


def test_relations_over_25_are_truncated_in_page_objects_only(
    client: Client, server: NotionFakeServer
) -> None:
    _, targets = make_database(client, server, {"Name": {"title": {}}}, title="Targets")
    schema = dict(SCHEMA, Refs={"relation": {"data_source_id": targets, "single_property": {}}})
    _, source = make_database(client, server, schema)
    ids = [
        client.pages.create(
            parent={"data_source_id": targets}, properties={"Name": {"title": text(f"t{i}")}}
        )["id"]
        for i in range(30)
    ]
    page = client.pages.create(
        parent={"data_source_id": source},
        properties={"Refs": {"relation": [{"id": i} for i in ids]}},
    )
    refs = page["properties"]["Refs"]
    assert refs["has_more"] is True
    assert [r["id"] for r in refs["relation"]] == ids[:25]
    prop_id = refs["id"]
    first = client.pages.properties.retrieve(page["id"], prop_id, page_size=10)
    assert first["has_more"] is True and first["property_item"]["type"] == "relation"
    assert first["property_item"]["next_url"]
    everything = collect_paginated_api(
        client.pages.properties.retrieve, page_id=page["id"], property_id=prop_id, page_size=10
    )
    assert [item["relation"]["id"] for item in everything] == ids
    few = client.pages.update(page["id"], properties={"Refs": {"relation": [{"id": ids[0]}]}})
    assert few["properties"]["Refs"]["has_more"] is False
    matching = client.data_sources.query(
        source, filter={"property": "Refs", "relation": {"contains": ids[0]}}
    )
    assert len(matching["results"]) == 1


def test_page_mentions_over_25_are_truncated_in_page_objects(
    client: Client, server: NotionFakeServer
) -> None:
    _, source = make_database(client, server)
    target = client.pages.create(
        parent={"page_id": server.root_page_id}, properties={"title": text("Target")}
    )
    mention = {"mention": {"type": "page", "page": {"id": target["id"]}}}
    page = client.pages.create(
        parent={"data_source_id": source}, properties={"Notes": {"rich_text": [mention] * 30}}
    )
    shown = page["properties"]["Notes"]["rich_text"]
    assert len(shown) == 25 and shown[0]["plain_text"] == "Target"
    assert shown[0]["href"] == "https://www.notion.so/" + target["id"].replace("-", "")
    items = collect_paginated_api(
        client.pages.properties.retrieve,
        page_id=page["id"],
        property_id=page["properties"]["Notes"]["id"],
    )
    assert len(items) == 30


def test_a_page_mention_in_a_block_shows_the_pages_title_when_read(
    client: Client, server: NotionFakeServer
) -> None:
    """Notion computes a page mention's ``plain_text`` when it is read: a page retitled
    after the mention was written shows its new title (``href`` is the page's URL)."""
    target = client.pages.create(
        parent={"page_id": server.root_page_id}, properties={"title": text("Old title")}
    )
    mention = {"type": "mention", "mention": {"type": "page", "page": {"id": target["id"]}}}
    made = client.blocks.children.append(
        server.root_page_id,
        children=[{"type": "paragraph", "paragraph": {"rich_text": [*text("see "), mention]}}],
    )["results"][0]
    item = made["paragraph"]["rich_text"][1]
    assert item["plain_text"] == "Old title"
    assert item["href"] == "https://www.notion.so/" + target["id"].replace("-", "")
    assert item["mention"] == {"type": "page", "page": {"id": target["id"]}}
    client.pages.update(target["id"], properties={"title": {"title": text("New title")}})
    read = client.blocks.retrieve(made["id"])["paragraph"]["rich_text"][1]
    assert read["plain_text"] == "New title"
    listed = client.blocks.children.list(server.root_page_id)["results"]
    assert listed[-1]["paragraph"]["rich_text"][1]["plain_text"] == "New title"
    holder = client.pages.create(
        parent={"page_id": server.root_page_id}, properties={"title": {"title": [mention]}}
    )
    client.pages.update(target["id"], properties={"title": {"title": text("Third")}})
    shown = client.pages.retrieve(holder["id"])["properties"]["title"]["title"]
    assert [i["plain_text"] for i in shown] == ["Third"]


def test_date_user_database_and_template_mentions_come_back_as_notion_fills_them(
    client: Client, server: NotionFakeServer
) -> None:
    """Each mention type a request may hold, with the ``plain_text`` and ``href`` Notion
    gives it: a date its start (``start → end`` for a range), a user ``@`` and their
    name, a database its title and URL, a template mention ``@Today``."""
    database_id, _source = make_database(client, server, title="Reading list")
    user = next(u for u in client.users.list()["results"] if u["type"] == "person")
    mentions = [
        {"type": "date", "date": {"start": "2022-12-16"}},
        {"type": "date", "date": {"start": "2022-12-16", "end": "2022-12-20"}},
        {"type": "user", "user": {"id": user["id"]}},
        {"type": "database", "database": {"id": database_id}},
        {
            "type": "template_mention",
            "template_mention": {"type": "template_mention_date", "template_mention_date": "today"},
        },
    ]
    rich = [{"type": "mention", "mention": m} for m in mentions]
    made = client.blocks.children.append(
        server.root_page_id, children=[{"type": "paragraph", "paragraph": {"rich_text": rich}}]
    )["results"][0]
    read = client.blocks.retrieve(made["id"])["paragraph"]["rich_text"]
    assert [(i["plain_text"], i["href"]) for i in read] == [
        ("2022-12-16", None),
        ("2022-12-16 → 2022-12-20", None),
        ("@" + user["name"], None),
        ("Reading list", "https://www.notion.so/" + database_id.replace("-", "")),
        ("@Today", None),
    ]
    assert read[0]["mention"] == {
        "type": "date",
        "date": {"start": "2022-12-16", "end": None, "time_zone": None},
    }
    assert read[2]["mention"] == {"type": "user", "user": {"object": "user", "id": user["id"]}}


@pytest.mark.parametrize(
    "mention",
    [
        {"type": "link_preview", "link_preview": {"url": "https://github.com/x/y/pull/1"}},
        {"type": "link_mention", "link_mention": {"href": "https://github.com/x/y"}},
        {"type": "date", "date": {"start": "soon"}},
        {
            "type": "template_mention",
            "template_mention": {"type": "template_mention_user", "template_mention_user": "you"},
        },
    ],
)
def test_a_mention_a_request_cannot_hold_is_refused(
    client: Client, server: NotionFakeServer, mention: dict[str, Any]
) -> None:
    """Link previews and link mentions are only ever read (the SDK's request type has no
    such mention); a date or template value Notion does not know is refused too."""
    block = {"type": "paragraph", "paragraph": {"rich_text": [{"mention": mention}]}}
    with pytest.raises(APIResponseError) as error:
        client.blocks.children.append(server.root_page_id, children=[block])
    assert error.value.status == 400


# -- trash ---------------------------------------------------------------------------------


def test_trashed_pages_disappear_from_queries_and_search(
    client: Client, server: NotionFakeServer
) -> None:
    _, source = make_database(client, server)
    keep = client.pages.create(
        parent={"data_source_id": source}, properties={"Name": {"title": text("keep")}}
    )
    gone = client.pages.create(
        parent={"data_source_id": source}, properties={"Name": {"title": text("gone")}}
    )
    client.pages.update(gone["id"], in_trash=True)
    assert titles(client.data_sources.query(source)) == ["keep"]
    assert [r["id"] for r in client.search(query="gone")["results"]] == []
    assert titles(client.data_sources.query(source, in_trash=True)) == ["gone"]
    client.pages.update(gone["id"], in_trash=False)
    assert sorted(titles(client.data_sources.query(source))) == ["gone", "keep"]
    assert keep["in_trash"] is False


# -- filters and sorts ----------------------------------------------------------------------


@pytest.fixture
def rows(client: Client, server: NotionFakeServer) -> str:
    """Three pages covering every filterable type; returns the data source id."""
    _, source = make_database(client, server)
    values: list[dict[str, Any]] = [
        {
            "Name": {"title": text("Alpha")},
            "Notes": {"rich_text": text("first draft")},
            "Score": {"number": 1},
            "Done": {"checkbox": True},
            "Kind": {"select": {"name": "task"}},
            "Tags": {"multi_select": [{"name": "a"}, {"name": "b"}]},
            "Due": {"date": {"start": "2026-01-10"}},
            "Link": {"url": "https://a.example"},
            "Mail": {"email": "a@example.com"},
            "Phone": {"phone_number": "+1 555"},
        },
        {
            "Name": {"title": text("Beta")},
            "Notes": {"rich_text": text("Second")},
            "Score": {"number": 5},
            "Kind": {"select": {"name": "idea"}},
            "Tags": {"multi_select": [{"name": "b"}]},
            "Due": {"date": {"start": "2026-02-01T10:00:00Z"}},
        },
        {"Name": {"title": text("gamma")}, "Score": {"number": 3}},
    ]
    for properties in values:
        client.pages.create(parent={"data_source_id": source}, properties=properties)
    return source


CASES = [
    ({"property": "Name", "title": {"contains": "AL"}}, ["Alpha"]),
    ({"property": "Name", "title": {"starts_with": "g"}}, ["gamma"]),
    ({"property": "Name", "rich_text": {"ends_with": "ta"}}, ["Beta"]),
    ({"property": "Name", "title": {"equals": "Beta"}}, ["Beta"]),
    ({"property": "Name", "title": {"does_not_equal": "Beta"}}, ["Alpha", "gamma"]),
    ({"property": "Notes", "rich_text": {"is_empty": True}}, ["gamma"]),
    ({"property": "Notes", "rich_text": {"does_not_contain": "draft"}}, ["Beta", "gamma"]),
    ({"property": "Score", "number": {"greater_than": 1}}, ["Beta", "gamma"]),
    ({"property": "Score", "number": {"less_than_or_equal_to": 3}}, ["Alpha", "gamma"]),
    ({"property": "Score", "number": {"equals": 5}}, ["Beta"]),
    ({"property": "Done", "checkbox": {"equals": True}}, ["Alpha"]),
    ({"property": "Done", "checkbox": {"does_not_equal": True}}, ["Beta", "gamma"]),
    ({"property": "Kind", "select": {"equals": "idea"}}, ["Beta"]),
    ({"property": "Kind", "select": {"is_empty": True}}, ["gamma"]),
    ({"property": "Tags", "multi_select": {"contains": "b"}}, ["Alpha", "Beta"]),
    ({"property": "Tags", "multi_select": {"does_not_contain": "a"}}, ["Beta", "gamma"]),
    ({"property": "Due", "date": {"on_or_after": "2026-02-01"}}, ["Beta"]),
    ({"property": "Due", "date": {"before": "2026-02-01"}}, ["Alpha"]),
    ({"property": "Due", "date": {"equals": "2026-02-01"}}, ["Beta"]),
    ({"property": "Due", "date": {"is_empty": True}}, ["gamma"]),
    ({"property": "Link", "url": {"contains": "a.example"}}, ["Alpha"]),
    ({"property": "Mail", "email": {"is_not_empty": True}}, ["Alpha"]),
    ({"property": "Phone", "phone_number": {"starts_with": "+1"}}, ["Alpha"]),
    (
        {
            "and": [
                {"property": "Score", "number": {"greater_than": 1}},
                {"property": "Tags", "multi_select": {"is_empty": True}},
            ]
        },
        ["gamma"],
    ),
    (
        {
            "or": [
                {"property": "Done", "checkbox": {"equals": True}},
                {
                    "and": [
                        {"property": "Kind", "select": {"equals": "idea"}},
                        {"property": "Score", "number": {"equals": 5}},
                    ]
                },
            ]
        },
        ["Alpha", "Beta"],
    ),
]


@pytest.mark.parametrize(
    ("query_filter", "expected"), CASES, ids=[str(i) for i in range(len(CASES))]
)
def test_filters(
    client: Client, rows: str, query_filter: dict[str, Any], expected: list[str]
) -> None:
    result = client.data_sources.query(
        rows, filter=query_filter, sorts=[{"property": "Name", "direction": "ascending"}]
    )
    assert titles(result) == expected


def test_filters_accept_property_ids(client: Client, rows: str) -> None:
    score_id = client.data_sources.retrieve(rows)["properties"]["Score"]["id"]
    result = client.data_sources.query(rows, filter={"property": score_id, "number": {"equals": 3}})
    assert titles(result) == ["gamma"]


def test_sorts(client: Client, rows: str) -> None:
    def order(*sorts: dict[str, Any]) -> list[str]:
        return titles(client.data_sources.query(rows, sorts=list(sorts)))

    assert order({"property": "Score", "direction": "descending"}) == ["Beta", "gamma", "Alpha"]
    # select sorts by option order (idea before task); empty values go last
    assert order({"property": "Kind", "direction": "ascending"}) == ["Beta", "Alpha", "gamma"]
    assert order({"property": "Due", "direction": "descending"}) == ["Beta", "Alpha", "gamma"]
    assert order(
        {"property": "Done", "direction": "descending"},
        {"property": "Name", "direction": "descending"},
    ) == ["Alpha", "gamma", "Beta"]
    # all three were created in the same minute: ties keep creation order
    assert order({"timestamp": "created_time", "direction": "ascending"}) == [
        "Alpha",
        "Beta",
        "gamma",
    ]


def test_filter_properties_limits_query_results(client: Client, rows: str) -> None:
    result = client.data_sources.query(rows, filter_properties=["title"])
    assert all(list(p["properties"]) == ["Name"] for p in result["results"])


# -- persistence ---------------------------------------------------------------------------


def test_state_survives_a_restart_with_persist(tmp_path: Path) -> None:
    state = tmp_path / "notion.json"
    with NotionFakeServer(persist=state) as first:
        client = Client(auth=first.token, base_url=first.url)
        _, source = make_database(client, first)
        page = client.pages.create(
            parent={"data_source_id": source},
            properties={"Name": {"title": text("kept")}},
            children=[paragraph("body")],
        )
        token, root = first.token, first.root_page_id
    assert state.exists()
    with NotionFakeServer(persist=state) as second:
        assert (second.token, second.root_page_id) == (token, root)
        client = Client(auth=second.token, base_url=second.url)
        assert titles(client.data_sources.query(source)) == ["kept"]
        block = client.blocks.children.list(page["id"])["results"][0]
        assert block["paragraph"]["rich_text"][0]["plain_text"] == "body"


def test_concurrent_writers_do_not_lose_pages(client: Client, server: NotionFakeServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _, source = make_database(client, server)

    shared = Client(auth=server.token, base_url=server.url)  # httpx clients are thread-safe

    def create(index: int) -> str:
        page = shared.pages.create(
            parent={"data_source_id": source}, properties={"Name": {"title": text(f"p{index}")}}
        )
        return str(page["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, range(40)))
    found = collect_paginated_api(client.data_sources.query, data_source_id=source)
    assert sorted(p["id"] for p in found) == sorted(created)


def test_a_query_stops_at_10000_results_and_says_so(
    client: Client, server: NotionFakeServer
) -> None:
    _, source = make_database(client, server, {"Name": {"title": {}}})
    parent = {"type": "data_source_id", "data_source_id": source}
    with server.store.lock:  # 10,001 pages straight into the store: HTTP would take minutes
        for _ in range(10_001):
            server.store.add_page(parent, {})
    first = client.data_sources.query(source)
    assert first["has_more"] is True and "request_status" not in first
    cursor, seen = first["next_cursor"], len(first["results"])
    while True:
        page = client.data_sources.query(source, start_cursor=cursor)
        seen += len(page["results"])
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == 10_000
    assert page["next_cursor"] is None
    assert page["request_status"] == {
        "type": "incomplete",
        "incomplete_reason": "query_result_limit_reached",
    }
