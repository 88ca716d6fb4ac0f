"""``syncbridge migrate --to notion``: the example vault into the local Notion server through
the real notion-client over HTTP, as the CLI runs it, in process and as a SIGKILLed
process that is run again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV, request_counts, reset_counts, writes
from notion_cli_support import make_project, migrate_cli, migrate_process
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import ExitCode, main

NOTES = 22
CLASSES = 5  # with a database each (the default class has no note here)
LINK_FIELDS = 13
"""File and MultiFile fields of the example vault's classes (inherited ones counted in each)."""
BODY_LINKING_NOTES, BODY_LINKS = 13, 20
"""Notes of the example vault whose bodies link to other notes, and those links."""


def live_titles(server: NotionFakeServer) -> Counter[str]:
    store = server.store
    return Counter(
        store.page_title(p)
        for p in store.pages.values()
        if not p.get("in_trash") and p["id"] != server.root_page_id
    )


def migrate(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    return migrate_cli(root, capsys, "--to", "notion", *extra)


def test_migrate_into_notion_once_within_the_request_budget(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    code, dry = migrate(root, capsys, "--dry-run")
    assert code == ExitCode.OK and dry["created"] == NOTES
    assert not live_titles(notion_server)  # a dry run sends nothing
    reset_counts(notion_server)
    code, data = migrate(root, capsys)
    assert code == ExitCode.OK, data
    assert data["created"] == NOTES and data["classes"] == dry["classes"]
    titles = live_titles(notion_server)
    assert sum(titles.values()) == NOTES and max(titles.values()) == 1
    counts = request_counts(notion_server)
    assert counts.get("POST /v1/pages", 0) == NOTES  # one create per note, no retry
    # relations across classes (docs/notion.md, "Relations"): a note linking to a note
    # created after it gets its relation filled in by one more PATCH (at most one per
    # note), and each class's link fields get their relation properties in at most one
    # schema update per field (fields of one class are added together when one note
    # names them all); besides, each class's properties are added once at the start and
    # a field outside its schema (the fileClass some notes carry) at most once
    fills = counts.get("PATCH /v1/pages/{id}", 0)
    assert fills <= NOTES, counts
    schema_updates = counts.get("PATCH /v1/data_sources/{id}", 0)
    assert schema_updates <= 2 * CLASSES + LINK_FIELDS, counts
    # body wikilinks to notes created after the linking note (docs/notion.md, "Page
    # mentions"): the second pass lists the page's blocks, updates each block holding
    # such a link in place and reads the page's new version once
    block_updates = counts.get("PATCH /v1/blocks/{id}", 0)
    assert block_updates <= BODY_LINKS, counts
    # the budget of issue 12: about one request per note plus setup (5 databases here)
    total = sum(counts.values()) - fills - schema_updates - block_updates
    assert total <= NOTES + 30 + 2 * BODY_LINKING_NOTES, counts

    # a rerun and a sync after it: nothing more created or changed
    code, again = migrate(root, capsys)
    assert code == ExitCode.OK and again["created"] == 0 and again["already"] == NOTES
    assert main(["sync", "--json", "--config", str(root / "syncbridge.toml")]) == 0
    synced = json.loads(capsys.readouterr()[0])["targets"]["notion"]
    for side in ("vault", "remote"):
        assert synced[side]["created"] == synced[side]["updated"] == 0, synced
    assert live_titles(notion_server) == titles


def run_cli(root: Path, server: NotionFakeServer, kill_at: str | None) -> Any:
    return migrate_process(root, server, "--to", "notion", kill_at=kill_at)


@pytest.mark.parametrize("kill_at", ["write:1:after", "write:9:before", "write:16:after"])
def test_sigkilled_migration_into_notion_resumes_without_a_duplicate_page(
    tmp_path: Path, notion_server: NotionFakeServer, kill_at: str
) -> None:
    root = make_project(tmp_path, notion_server)
    killed = run_cli(root, notion_server, kill_at)
    assert killed.returncode == -9, killed.stderr
    resumed = run_cli(root, notion_server, None)
    assert resumed.returncode == 0, resumed.stderr
    titles = live_titles(notion_server)
    assert sum(titles.values()) == NOTES and max(titles.values()) == 1, titles
    again = json.loads(run_cli(root, notion_server, None).stdout)
    assert again["created"] == 0 and again["already"] == NOTES
    assert live_titles(notion_server) == titles


def test_dry_run_finds_the_values_notion_would_refuse_before_anything_is_sent(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    huge = root / "vault" / "Psyche" / "Emotions" / "Huge.md"
    huge.write_text(
        "---\nfileClass: emotion\nnotes: " + json.dumps("x" * 250_000) + "\n---\nbody\n",
        encoding="utf-8",
    )
    reset_counts(notion_server)
    code, dry = migrate(root, capsys, "--dry-run")
    assert code == ExitCode.PROBLEMS
    assert [n["id"] for n in dry["not_transferred"]] == ["Psyche/Emotions/Huge.md"]
    item = dry["not_transferred"][0]
    assert item["class"] == "emotion" and "200,000 characters" in item["reason"]
    assert dry["created"] == NOTES and dry["problems_per_class"]["emotion"] == {
        "not_transferred": 1
    }
    assert not writes(request_counts(notion_server)) and not live_titles(notion_server)
    # the run agrees with the dry run: the same note is not sent, the others are
    code, data = migrate(root, capsys)
    assert code == ExitCode.PROBLEMS and data["created"] == NOTES
    assert [n["id"] for n in data["not_transferred"]] == ["Psyche/Emotions/Huge.md"]
