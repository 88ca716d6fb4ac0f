"""Status properties as Notion has them: options grouped To-do / In progress / Complete,
values set on pages by option name or id, options that only the app can change (the API
refuses an option edit, and a value naming no option is a ``validation_error``, with
nothing applied). Through the real notion-client over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_fake_support import make_database, text
from syncbridge_notion_fake import NotionFakeServer

GROUPS = [
    ("To-do", "gray", [("Backlog", "default"), ("Not started", "default")]),
    ("In progress", "blue", [("Doing", "blue"), ("Review", "purple")]),
    ("Complete", "green", [("Done", "green"), ("Dropped", "red")]),
]


def status_source(notion: Client, server: NotionFakeServer) -> str:
    return make_database(
        notion, server, {"Name": {"title": {}}, "Stage": {"status": {}}}, title="Tasks"
    )[1]


def test_a_new_status_property_has_notions_three_groups(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source = status_source(notion, notion_server)
    config = notion.data_sources.retrieve(source)["properties"]["Stage"]["status"]
    names = {o["id"]: o["name"] for o in config["options"]}
    assert [o["name"] for o in config["options"]] == ["Not started", "In progress", "Done"]
    assert [(g["name"], [names[i] for i in g["option_ids"]]) for g in config["groups"]] == [
        ("To-do", ["Not started"]),
        ("In progress", ["In progress"]),
        ("Complete", ["Done"]),
    ]
    assert set(config["options"][0]) == {"id", "name", "color", "description"}
    assert set(config["groups"][0]) == {"id", "name", "color", "option_ids"}


def test_options_set_in_the_app_keep_their_ids_and_are_served_in_group_order(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source = status_source(notion, notion_server)
    before = notion.data_sources.retrieve(source)["properties"]["Stage"]["status"]
    kept = next(o["id"] for o in before["options"] if o["name"] == "Not started")
    answer = httpx.post(
        f"{notion_server.url}/__fake__/status_options",
        json={
            "data_source_id": source,
            "property": "Stage",
            "groups": [
                {"name": g, "color": c, "options": [{"name": n, "color": oc} for n, oc in opts]}
                for g, c, opts in GROUPS
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    config = notion.data_sources.retrieve(source)["properties"]["Stage"]["status"]
    by_name = {o["name"]: o for o in config["options"]}
    assert by_name["Not started"]["id"] == kept
    assert [o["name"] for o in config["options"]] == [n for _, _, opts in GROUPS for n, _ in opts]
    assert [len(g["option_ids"]) for g in config["groups"]] == [2, 2, 2]
    bad = httpx.post(
        f"{notion_server.url}/__fake__/status_options",
        json={"data_source_id": source, "property": "Name", "groups": []},
    )
    assert bad.status_code == 400 and "not a status property" in bad.json()["error"]


def test_a_page_value_is_set_by_name_or_id_and_cleared_with_null(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source = status_source(notion, notion_server)
    notion_server.store.set_status_options(source, "Stage", GROUPS)
    options = notion.data_sources.retrieve(source)["properties"]["Stage"]["status"]["options"]
    doing = next(o for o in options if o["name"] == "Doing")
    page = notion.pages.create(
        parent={"data_source_id": source},
        properties={"Name": {"title": text("t")}, "Stage": {"status": {"name": "Review"}}},
    )
    value = page["properties"]["Stage"]
    assert value["type"] == "status" and value["status"]["name"] == "Review"
    assert set(value["status"]) == {"id", "name", "color"}
    page = notion.pages.update(page["id"], properties={"Stage": {"status": {"id": doing["id"]}}})
    assert page["properties"]["Stage"]["status"] == {
        "id": doing["id"],
        "name": "Doing",
        "color": "blue",
    }
    item = notion.pages.properties.retrieve(page["id"], page["properties"]["Stage"]["id"])
    assert item["object"] == "property_item" and item["status"]["name"] == "Doing"
    page = notion.pages.update(page["id"], properties={"Stage": {"status": None}})
    assert page["properties"]["Stage"]["status"] is None


def test_a_value_naming_no_option_is_refused_and_adds_none(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source = status_source(notion, notion_server)
    page = notion.pages.create(
        parent={"data_source_id": source},
        properties={"Name": {"title": text("t")}, "Stage": {"status": {"name": "Done"}}},
    )
    with pytest.raises(APIResponseError) as refused:
        notion.pages.update(page["id"], properties={"Stage": {"status": {"name": "Blocked"}}})
    assert refused.value.status == 400 and refused.value.code == "validation_error"
    assert 'Status option "Blocked" does not exist' in str(refused.value)
    with pytest.raises(APIResponseError) as by_id:
        notion.pages.create(
            parent={"data_source_id": source},
            properties={"Name": {"title": text("u")}, "Stage": {"status": {"id": "nope"}}},
        )
    assert by_id.value.code == "validation_error"
    with pytest.raises(APIResponseError) as edit:
        notion.data_sources.update(
            source, properties={"Stage": {"status": {"options": [{"name": "Blocked"}]}}}
        )
    assert edit.value.code == "validation_error"
    config: dict[str, Any] = notion.data_sources.retrieve(source)["properties"]["Stage"]
    assert "Blocked" not in [o["name"] for o in config["status"]["options"]]
    again = notion.pages.retrieve(page["id"])["properties"]["Stage"]["status"]
    assert again["name"] == "Done"  # the refused write changed nothing


def test_a_query_filters_on_a_status_by_name(
    notion: Client, notion_server: NotionFakeServer
) -> None:
    source = status_source(notion, notion_server)
    notion_server.store.set_status_options(source, "Stage", GROUPS)
    for title, stage in (("a", "Doing"), ("b", "Done"), ("c", "Doing")):
        notion.pages.create(
            parent={"data_source_id": source},
            properties={"Name": {"title": text(title)}, "Stage": {"status": {"name": stage}}},
        )
    found = notion.data_sources.query(
        source, filter={"property": "Stage", "status": {"equals": "Doing"}}
    )
    assert [p["properties"]["Name"]["title"][0]["plain_text"] for p in found["results"]] == [
        "a",
        "c",
    ]
