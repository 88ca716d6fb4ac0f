"""Notion status properties, end to end through the real notion-client and the local
server: a database whose ``status`` property a user set up in Notion's app (options in
the To-do / In progress / Complete groups) is migrated into an empty vault (a Select
field listing the options group by group), then synced with edits on both sides; a value
the options do not hold is reported by note and field, sent as nothing Notion refuses,
and kept exactly (in the note and in the fallback property, so a fresh machine gets it
back); once the option exists in Notion, the note's next change sends it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV, request_counts, reset_counts, stats
from notion_client import Client
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import ExitCode, main

GROUPS = [
    ("To-do", "gray", [("Not started", "default"), ("Backlog", "gray")]),
    ("In progress", "blue", [("Doing", "blue")]),
    ("Complete", "green", [("Done", "green")]),
]


def text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


def task_database(notion: Client, server: NotionFakeServer) -> str:
    """The ``task`` database as Notion shows one made by syncbridge to which a user gave a
    status property (options set in the app) and three pages; its data source id."""
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": server.root_page_id},
        title=text("task"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "syncbridge id": {"rich_text": {}},
                "Vault path": {"rich_text": {}},
                "syncbridge values": {"rich_text": {}},
                "status": {"status": {}},
                "estimate": {"number": {"format": "number"}},
            }
        },
    )
    source = str(database["data_sources"][0]["id"])
    server.store.set_status_options(source, "status", GROUPS)  # as done in Notion's app
    for title, status, estimate in (("Write spec", "Doing", 2), ("Ship", "Not started", 5)):
        notion.pages.create(
            parent={"data_source_id": source},
            properties={
                "Name": {"title": text(title)},
                "status": {"status": {"name": status}},
                "estimate": {"number": estimate},
            },
        )
    notion.pages.create(
        parent={"data_source_id": source},
        properties={"Name": {"title": text("Plan")}, "estimate": {"number": 1}},
    )
    return source


def project(root: Path, server: NotionFakeServer) -> Path:
    config = root / "syncbridge.toml"
    config.write_text(
        '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{server.url}"\nrequests_per_s = 1000.0\nburst = 100\n',
        encoding="utf-8",
    )
    return config


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr()[0])


def migrated(
    root: Path,
    server: NotionFakeServer,
    notion: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[str, str, Path, Any]:
    """The task database made in Notion and migrated into a new vault ``root/vault``
    through the CLI: (its data source, the config file, the vault, the report)."""
    monkeypatch.setenv(TOKEN_ENV, server.token)
    source = task_database(notion, server)
    config = str(project(root, server))
    vault = root / "vault"
    code, data = cli(
        capsys, "migrate", "--from", "notion", "--into", str(vault), "--config", config
    )
    assert code == ExitCode.OK, data
    return source, config, vault, data


def page(notion: Client, source: str, title: str) -> dict[str, Any]:
    found = [
        p
        for p in notion.data_sources.query(source)["results"]
        if p["properties"]["Name"]["title"][0]["plain_text"] == title
    ]
    assert len(found) == 1
    return found[0]


def status_of(notion: Client, source: str, title: str) -> str | None:
    value = page(notion, source, title)["properties"]["status"]["status"]
    return None if value is None else str(value["name"])


def fallback_of(notion: Client, source: str, title: str) -> str:
    items = page(notion, source, title)["properties"]["syncbridge values"]["rich_text"]
    return "".join(i["plain_text"] for i in items)


def test_status_round_trip_with_an_option_notion_does_not_have(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Notion -> a new vault: the values, and a fileClass typing status as a Select
    source, config, vault, data = migrated(tmp_path, notion_server, notion, monkeypatch, capsys)
    assert data["created"] == 3
    spec = (vault / "Write spec.md").read_text(encoding="utf-8")
    assert "status: Doing\n" in spec and "estimate: 2\n" in spec
    assert "status: Not started\n" in (vault / "Ship.md").read_text(encoding="utf-8")
    assert "status" not in (vault / "Plan.md").read_text(encoding="utf-8")
    fileclass = (vault / "Classes" / "task.md").read_text(encoding="utf-8")
    assert (
        "  - name: status\n    type: Select\n    options:\n      sourceType: ValuesList\n"
        "      valuesList:\n        '1': Not started\n        '2': Backlog\n"
        "        '3': Doing\n        '4': Done\n"
    ) in fileclass, fileclass
    assert cli(capsys, "sync", "--config", config)[0] == ExitCode.OK

    # edits on both sides: a known option in the vault, another in Notion
    ship = vault / "Ship.md"
    ship.write_text(ship.read_text(encoding="utf-8").replace("Not started", "Done"), "utf-8")
    written = page(notion, source, "Write spec")
    notion.pages.update(written["id"], properties={"status": {"status": {"name": "Done"}}})
    reset_counts(notion_server)
    code, data = cli(capsys, "sync", "--config", config)
    assert code == ExitCode.OK, data
    assert status_of(notion, source, "Ship") == "Done"
    assert (vault / "Write spec.md").read_text(encoding="utf-8") == spec.replace(
        "status: Doing", "status: Done"
    )
    assert request_counts(notion_server).get("PATCH /v1/pages/{id}") == 1
    assert request_counts(notion_server).get("GET /v1/data_sources/{id}") is None  # known

    # a value Notion's options do not hold: reported, nothing refused, kept exactly
    plan = vault / "Plan.md"
    before = plan.read_text(encoding="utf-8")
    blocked = before.replace("---\n", "---\nstatus: Blocked\n", 1)
    plan.write_text(blocked, encoding="utf-8")
    reset_counts(notion_server)
    with caplog.at_level(logging.WARNING):
        code, data = cli(capsys, "sync", "--config", config)
    assert code == ExitCode.OK, data
    warned = [r.getMessage() for r in caplog.records if "Blocked" in r.getMessage()]
    assert len(warned) == 1 and "Plan: field 'status'" in warned[0], warned
    assert "'Not started', 'Backlog', 'Doing', 'Done'" in warned[0]
    assert stats(notion_server)["errors"] == {}  # no request Notion refused
    counts = request_counts(notion_server)
    assert counts.get("GET /v1/data_sources/{id}") == 1  # the options read again, once
    assert status_of(notion, source, "Plan") is None
    assert json.loads(fallback_of(notion, source, "Plan"))["exact"] == {"status": [None, "Blocked"]}
    assert plan.read_text(encoding="utf-8") == blocked
    assert cli(capsys, "sync", "--config", config)[0] == ExitCode.OK  # a no-op keeps it
    assert plan.read_text(encoding="utf-8") == blocked

    # a fresh machine (no state, no adapter cache) gets "Blocked" from the fallback
    for cache in (tmp_path / ".syncbridge").glob("notion-*.db*"):
        cache.unlink()
    other = tmp_path / "other"
    code, data = cli(
        capsys, "migrate", "--from", "notion", "--into", str(other), "--config", config
    )
    assert code == ExitCode.OK, data
    assert "status: Blocked\n" in (other / "Plan.md").read_text(encoding="utf-8")
    assert "status: Done\n" in (other / "Ship.md").read_text(encoding="utf-8")

    # the option is added in Notion's app: the note's next change sends the value
    groups = [
        GROUPS[0],
        ("In progress", "blue", [("Doing", "blue"), ("Blocked", "red")]),
        GROUPS[2],
    ]
    notion_server.store.set_status_options(source, "status", groups)
    plan.write_text(blocked.replace("estimate: 1", "estimate: 3"), encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert cli(capsys, "sync", "--config", config)[0] == ExitCode.OK
    assert not [r for r in caplog.records if "Blocked" in r.getMessage()]
    assert status_of(notion, source, "Plan") == "Blocked"
    assert "Blocked" not in fallback_of(notion, source, "Plan")
    assert plan.read_text(encoding="utf-8") == blocked.replace("estimate: 1", "estimate: 3")


def test_an_option_deleted_in_notion_after_the_cache_learned_it(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The cache says "Doing" is an option; someone deletes it in Notion's app. The one
    write sent with it is refused; the options are read again, and the next sync keeps
    the value in the fallback and reports it, with nothing refused."""
    source, config, vault, _ = migrated(tmp_path, notion_server, notion, monkeypatch, capsys)
    assert cli(capsys, "sync", "--config", config)[0] == ExitCode.OK
    without_doing = [GROUPS[0], ("In progress", "blue", []), GROUPS[2]]
    notion_server.store.set_status_options(source, "status", without_doing)
    ship = vault / "Ship.md"
    doing = ship.read_text(encoding="utf-8").replace("Not started", "Doing")
    ship.write_text(doing, encoding="utf-8")
    reset_counts(notion_server)
    code, data = cli(capsys, "sync", "--config", config)
    assert code != ExitCode.OK  # that note could not be written this time
    assert "changed in Notion meanwhile" in json.dumps(data), data
    assert stats(notion_server)["errors"] == {"validation_error": 1}
    assert status_of(notion, source, "Ship") == "Not started"  # nothing applied
    reset_counts(notion_server)
    with caplog.at_level(logging.WARNING):
        code, data = cli(capsys, "sync", "--config", config)
    assert code == ExitCode.OK, data
    assert stats(notion_server)["errors"] == {}
    assert any("Ship: field 'status' holds 'Doing'" in r.getMessage() for r in caplog.records)
    assert status_of(notion, source, "Ship") is None
    assert json.loads(fallback_of(notion, source, "Ship"))["exact"] == {"status": [None, "Doing"]}
    assert ship.read_text(encoding="utf-8") == doing
