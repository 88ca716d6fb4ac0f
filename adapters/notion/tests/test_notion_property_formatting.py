"""Formatting of a text property that lives only in Notion, end to end: the example vault
⇄ the Notion adapter ⇄ the local Notion server, through the real notion-client over
HTTP, with a real state file.

A text property made in Notion with a bold word, a link and a coloured word is pulled
(the note holds its text); the vault edits another word of it and the push sends it back
in one PATCH with the bold, the link and the colour where they were, whether this run
listed the page or the cache kept what it last read of it.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import request_counts, reset_counts, writes
from notion_vault_support import Run
from syncbridge_notion_fake import ManualClock, NotionFakeServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"
NOTE = Path("Psyche") / "Wounds" / "Shame Wound.md"
LINK = "https://example.com/did"
RICH = [
    {"type": "text", "text": {"content": "Something is "}},
    {"type": "text", "text": {"content": "wrong"}, "annotations": {"bold": True}},
    {"type": "text", "text": {"content": " with me: not with "}},
    {"type": "text", "text": {"content": "what I did", "link": {"url": LINK}}},
    {"type": "text", "text": {"content": ", with all of "}},
    {"type": "text", "text": {"content": "me"}, "annotations": {"color": "red"}},
    {"type": "text", "text": {"content": "."}},
]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: Any) -> Iterator[Run]:
    """The example vault synced once into a fresh local server (clock pinned)."""
    with NotionFakeServer(clock=ManualClock()) as server:
        shutil.copytree(EXAMPLE, tmp_path / "vault")
        r = Run(tmp_path, server, monkeypatch)
        r.sync()
        yield r
        r.close()


def _stored(run: Run, page_id: str) -> list[dict[str, Any]]:
    """The fake's stored ``core_belief`` items (not an API read: what the server holds)."""
    store = run.server.store
    page = store.page(page_id)
    (prop_id,) = [k for k, p in store.schema_of(page).items() if p["name"] == "core_belief"]
    return copy.deepcopy(page["properties"][prop_id])


def _formatted(run: Run) -> str:
    """Give Shame Wound's ``core_belief`` bold, a link and a colour in Notion (with the
    text ``Something is wrong with me: not with what I did, with all of me.``), pull it, and
    answer the page id."""
    page_id = str(run.page("Shame Wound")["id"])
    run.server.clock.advance(120)  # edited in Notion after the first sync read the page
    run.remote.api.update_page(page_id, {"properties": {"core_belief": {"rich_text": RICH}}})
    run.server.clock.advance(120)
    report = run.sync()
    assert report["vault"]["updated"] == 1, report
    note = (run.root / "vault" / NOTE).read_text(encoding="utf-8")
    assert 'core_belief: "Something is wrong with me: not with what I did, with all of me."' in note
    return page_id


def _styles(items: list[dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    """Text of each stored item → (annotations, href)."""
    return {i["plain_text"]: (i["annotations"], i["href"]) for i in items}


def _edit_a_word(run: Run) -> None:
    note = run.root / "vault" / NOTE
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("me: not with", "me: never with"), encoding="utf-8")


def _check_pushed(run: Run, page_id: str, before: list[dict[str, Any]]) -> None:
    after = _stored(run, page_id)
    assert "".join(i["plain_text"] for i in after) == (
        "Something is wrong with me: never with what I did, with all of me."
    )
    was, now = _styles(before), _styles(after)
    for word in ("wrong", "what I did", "me"):  # the untouched formatted words
        assert now.get(word) == was[word], (word, after)
    assert now["wrong"][0]["bold"] is True
    assert now["what I did"][1] == LINK
    assert now["me"][0]["color"] == "red"
    assert now[" with me: never with "] == was[" with me: not with "]  # plain, as it was
    # and it has settled: the next run writes nothing
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}


def test_an_edit_of_one_word_keeps_the_bold_link_and_colour_of_the_others(
    example: Run,
) -> None:
    run = example
    page_id = _formatted(run)
    before = _stored(run, page_id)
    assert [i["annotations"]["bold"] for i in before].count(True) == 1
    _edit_a_word(run)
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    counts = request_counts(run.server)
    assert writes(counts) == {"PATCH /v1/pages/{id}": 1}
    assert "GET /v1/pages/{id}" not in counts  # the page as listed: no read for it
    _check_pushed(run, page_id, before)


def test_a_page_the_run_did_not_list_keeps_its_formatting_from_the_cache(
    example: Run,
) -> None:
    """The page was read in an earlier run and is not edited in Notion since, so this
    run's listing does not hold it: what the cache kept of its text serves, no read."""
    run = example
    page_id = _formatted(run)
    before = _stored(run, page_id)
    # another page edited in Notion later moves the listing's cursor past this one's
    other = str(run.page("Betrayal Wound")["id"])
    run.server.clock.advance(600)
    belief = {"rich_text": [{"type": "text", "text": {"content": "Trust is a trap."}}]}
    run.remote.api.update_page(other, {"properties": {"core_belief": belief}})
    run.server.clock.advance(600)
    assert run.sync()["vault"]["updated"] == 1
    _edit_a_word(run)
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    counts = request_counts(run.server)
    assert writes(counts) == {"PATCH /v1/pages/{id}": 1}
    assert "GET /v1/pages/{id}" not in counts
    _check_pushed(run, page_id, before)


def test_a_note_renamed_in_the_vault_keeps_the_bold_of_its_title(example: Run) -> None:
    """A title made bold in part in Notion names the note in plain text; the note renamed
    in the vault sends the new title with the bold word still bold."""
    run = example
    page_id = str(run.page("Shame Wound")["id"])
    name = run.remote.notion_config.title_property
    rich = [
        {"type": "text", "text": {"content": "Shame"}, "annotations": {"bold": True}},
        {"type": "text", "text": {"content": " Wound"}},
    ]
    run.server.clock.advance(120)
    run.remote.api.update_page(page_id, {"properties": {name: {"title": rich}}})
    run.server.clock.advance(120)
    run.sync()
    note = run.root / "vault" / NOTE
    assert note.exists()
    note.rename(note.with_name("Shame Wound Deep.md"))
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    # (other pages follow the rename too: their PATCHes are not this one's)
    assert "GET /v1/pages/{id}" not in request_counts(run.server)
    title = run.remote.api.page(page_id)["properties"][name]["title"]
    assert [(i["plain_text"], i["annotations"]["bold"]) for i in title] == [
        ("Shame", True),
        (" Wound Deep", False),
    ]


def test_a_cache_that_kept_no_formatting_reads_the_page_once(example: Run) -> None:
    """A cache written before formatting was kept (its record of the page holds no
    ``text``): the push reads the page once, then keeps the formatting as well."""
    run = example
    page_id = _formatted(run)
    before = _stored(run, page_id)
    other = str(run.page("Betrayal Wound")["id"])
    run.server.clock.advance(600)
    belief = {"rich_text": [{"type": "text", "text": {"content": "Trust is a trap."}}]}
    run.remote.api.update_page(other, {"properties": {"core_belief": belief}})
    run.server.clock.advance(600)
    assert run.sync()["vault"]["updated"] == 1
    found = run.remote.cache.body(page_id)
    assert found is not None and "text" in found[2]
    version, blocks, data = found
    del data["text"]
    run.remote.cache.put_body(page_id, version, blocks, data, written=True)
    _edit_a_word(run)
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    counts = request_counts(run.server)
    assert writes(counts) == {"PATCH /v1/pages/{id}": 1}
    assert counts.get("GET /v1/pages/{id}") == 1
    _check_pushed(run, page_id, before)
