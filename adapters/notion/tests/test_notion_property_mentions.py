"""Mentions in text properties, end to end: the example vault ⇄ the Notion adapter ⇄
the local Notion server, through the real notion-client over HTTP, with a real state file.

A text property holding date, user and page mentions made in Notion is pulled as the
links the body writes for them; an edit of its other words in the vault sends it back
with the same mentions; an edit of another field leaves it unsent and untouched. A title
with a mention names its note in plain text, and a rename in the vault keeps the mention.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import request_counts, reset_counts, writes
from notion_vault_support import Run
from syncbridge_notion.client import NotionAPI
from syncbridge_notion_fake import ManualClock, NotionFakeServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"
NOTE = Path("Psyche") / "Wounds" / "Shame Wound.md"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: Any) -> Iterator[Run]:
    """The example vault synced once into a fresh local server (clock pinned)."""
    with NotionFakeServer(clock=ManualClock()) as server:
        shutil.copytree(EXAMPLE, tmp_path / "vault")
        r = Run(tmp_path, server, monkeypatch)
        r.sync()
        yield r
        r.close()


def _mentions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i["mention"] for i in items if i["type"] == "mention"]


def _belief_with_mentions(run: Run) -> tuple[str, str]:
    """Set Shame Wound's ``core_belief`` in Notion to words around a date, a user and a
    page mention (of the synced note Shame), sync, and answer the page id and the line
    the note then holds."""
    page_id = run.page("Shame Wound")["id"]
    shame = run.page("Shame")["id"]
    owner = run.server.store.owner_id  # the workspace's person user, "Fake Owner"
    rich = [
        {"type": "text", "text": {"content": "Met "}},
        {"type": "mention", "mention": {"type": "user", "user": {"id": owner}}},
        {"type": "text", "text": {"content": " on "}},
        {"type": "mention", "mention": {"type": "date", "date": {"start": "2022-12-16"}}},
        {"type": "text", "text": {"content": ", felt "}},
        {"type": "mention", "mention": {"type": "page", "page": {"id": shame}}},
        {"type": "text", "text": {"content": " again."}},
    ]
    run.server.clock.advance(120)  # edited in Notion after the first sync read the page
    run.remote.api.update_page(page_id, {"properties": {"core_belief": {"rich_text": rich}}})
    run.server.clock.advance(120)
    report = run.sync()
    assert report["vault"]["updated"] == 1, report
    line = next(
        line
        for line in (run.root / "vault" / NOTE).read_text(encoding="utf-8").splitlines()
        if line.startswith("core_belief:")
    )
    return page_id, line


def _stored(run: Run, page_id: str) -> Any:
    """The fake's stored ``core_belief`` items (not an API read: what the server holds)."""
    store = run.server.store
    page = store.page(page_id)
    (prop_id,) = [k for k, p in store.schema_of(page).items() if p["name"] == "core_belief"]
    return copy.deepcopy(page["properties"][prop_id])


def test_mentions_in_a_text_property_survive_an_edit_of_its_other_words(
    example: Run,
) -> None:
    run = example
    page_id, line = _belief_with_mentions(run)
    owner = run.server.store.owner_id
    shame = run.page("Shame")["id"].replace("-", "")
    assert line == (
        f'core_belief: "Met [@Fake Owner](notion://user/{owner}) on '
        f"[@2022-12-16](notion://date/2022-12-16), felt "
        f'[@Shame](https://www.notion.so/{shame}) again."'
    )
    before = _mentions(run.remote.api.page(page_id)["properties"]["core_belief"]["rich_text"])
    assert [m["type"] for m in before] == ["user", "date", "page"]
    note = run.root / "vault" / NOTE
    note.write_text(
        note.read_text(encoding="utf-8").replace("Met [@", "Saw [@").replace("again.", "once."),
        encoding="utf-8",
    )
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    assert writes(request_counts(run.server)) == {"PATCH /v1/pages/{id}": 1}
    items = run.remote.api.page(page_id)["properties"]["core_belief"]["rich_text"]
    assert _mentions(items) == before
    assert "".join(i["plain_text"] for i in items) == (
        "Saw @Fake Owner on 2022-12-16, felt Shame once."
    )
    # and it has settled: the next run writes nothing, the note keeps the edit
    edited = note.read_bytes()
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}
    assert note.read_bytes() == edited


def test_an_edit_of_another_field_leaves_the_mention_property_unsent(
    example: Run, monkeypatch: Any
) -> None:
    run = example
    page_id, line = _belief_with_mentions(run)
    assert "](notion://user/" in line  # pulled as mentions, not as their plain text
    stored = _stored(run, page_id)
    assert [i["type"] for i in stored].count("mention") == 3
    sent: list[Mapping[str, Any]] = []
    real_update = NotionAPI.update_page

    def recording(api: NotionAPI, page: str, body: Mapping[str, Any]) -> Any:
        sent.append(copy.deepcopy(dict(body)))
        return real_update(api, page, body)

    monkeypatch.setattr(NotionAPI, "update_page", recording)
    note = run.root / "vault" / NOTE
    note.write_text(
        note.read_text(encoding="utf-8").replace("intensity: 7", "intensity: 6"), encoding="utf-8"
    )
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    (body,) = sent
    assert body["properties"]["intensity"] == {"number": 6}
    assert "core_belief" not in body["properties"]
    assert run.remote.notion_config.title_property not in body["properties"]
    assert _stored(run, page_id) == stored
    assert line in note.read_text(encoding="utf-8").splitlines()


def test_a_note_renamed_in_the_vault_keeps_the_mentions_of_its_title(example: Run) -> None:
    """A title made in Notion with a date mention names the note with its plain text (a
    file name holds no link); the note renamed in the vault sends the new title with the
    mention kept where the rename left its text alone."""
    run = example
    page_id = run.page("Shame Wound")["id"]
    name = run.remote.notion_config.title_property
    date = {"type": "date", "date": {"start": "2022-12-16"}}
    rich = [{"type": "mention", "mention": date}, {"type": "text", "text": {"content": " Shame"}}]
    run.server.clock.advance(120)
    run.remote.api.update_page(page_id, {"properties": {name: {"title": rich}}})
    run.server.clock.advance(120)
    run.sync()
    folder = run.root / "vault" / NOTE.parent
    pulled = folder / "2022-12-16 Shame.md"
    assert pulled.exists()
    pulled.rename(folder / "2022-12-16 Shame Wound.md")
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    title = run.remote.api.page(page_id)["properties"][name]["title"]
    assert [i["type"] for i in title] == ["mention", "text"]
    assert title[0]["mention"] == {**date, "date": {**date["date"], "end": None, "time_zone": None}}
    assert title[1]["plain_text"] == " Shame Wound"
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}


def test_a_note_that_changes_class_keeps_the_mentions_of_its_title_and_text(
    example: Run,
) -> None:
    """A class change writes every property of the page again (in the other database):
    the mentions of its title and of its text property go with them."""
    run = example
    page_id, line = _belief_with_mentions(run)
    name = run.remote.notion_config.title_property
    date = {"type": "date", "date": {"start": "2022-12-16"}}
    rich = [{"type": "mention", "mention": date}, {"type": "text", "text": {"content": " Shame"}}]
    run.server.clock.advance(120)
    run.remote.api.update_page(page_id, {"properties": {name: {"title": rich}}})
    run.server.clock.advance(120)
    run.sync()
    note = run.root / "vault" / NOTE.parent / "2022-12-16 Shame.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("fileClass: [wound]", "fileClass: [emotion]"),
        encoding="utf-8",
    )
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    page = run.remote.api.page(page_id)
    assert page["parent"]["data_source_id"] == run.source_of("emotion")
    assert [i["type"] for i in page["properties"][name]["title"]] == ["mention", "text"]
    belief = page["properties"]["core_belief"]["rich_text"]  # a text field of no schema there
    assert [m["type"] for m in _mentions(belief)] == ["user", "date", "page"]
    assert line in note.read_text(encoding="utf-8").splitlines()
