"""End to end over the real parts: the example vault ⇄ the Notion adapter ⇄ the local
Notion server, through the real notion-client over HTTP, with a real state file.

Checks that every note comes back unchanged, that edits on either side flow across, and
the API-call budgets of the issue, counted by the server.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import adapter_for, request_counts, reset_counts, writes
from syncbridge_notion import NotionAdapter
from syncbridge_notion_fake import ManualClock, NotionFakeServer

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"
TZ = "Europe/Paris"


class Setup:
    def __init__(self, root: Path, server: NotionFakeServer, monkeypatch: Any) -> None:
        self.root = root
        self.server = server
        self.monkeypatch = monkeypatch
        shutil.copytree(EXAMPLE, root / "vault")
        self.state = StateStore.open(root / ".syncbridge" / "state.db")
        self.remote: NotionAdapter = self.open_remote()

    def open_remote(self) -> NotionAdapter:
        return adapter_for(self.server, self.root, self.monkeypatch, timezone=TZ)

    def sync(self, **kw: Any) -> dict[str, Any]:
        """One run as the CLI does it: a fresh vault adapter and remote adapter."""
        self.remote.close()
        self.remote = self.open_remote()
        vault = VaultAdapter(Vault.open(self.root / "vault"), timezone=TZ)
        options = SyncOptions(target="notion", timezone=TZ, **kw)
        report = run_sync(vault, self.remote, self.state, options, schema=vault.vault.schema)
        assert report.errors == [], report.errors
        self.last_plan = report.plan.render() if report.plan else ""
        return report.to_dict()

    def page_of(self, title: str) -> dict[str, Any]:
        """The one live page titled ``title``, as the API shows it."""
        hits = [
            p
            for p in self.server.store.pages.values()
            if not p.get("in_trash") and self.server.store.page_title(p) == title
        ]
        assert len(hits) == 1, f"{len(hits)} pages titled {title!r}"
        return self.remote.api.page(hits[0]["id"])


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: Any) -> Iterator[Setup]:
    """The server's clock is pinned in the past (a manual clock): Notion's edit times then
    lie minutes before our own reads, as between two real syncs, so no page's body is
    re-checked for a same-minute edit (see test_notion_setup for that case)."""
    with NotionFakeServer(clock=ManualClock()) as server:
        s = Setup(tmp_path, server, monkeypatch)
        yield s
        s.remote.close()
        s.state.close()


def notes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def test_vault_to_notion_and_back_changes_no_byte(setup: Setup) -> None:
    before = notes(setup.root / "vault")
    first = setup.sync()
    created = first["remote"]["created"]
    assert created > 10 and first["vault"]["created"] == first["vault"]["updated"] == 0
    assert notes(setup.root / "vault") == before
    page = setup.page_of("Shame Wound")
    path = page["properties"]["Vault path"]["rich_text"][0]["plain_text"]
    assert path == "Psyche/Wounds/Shame Wound.md"
    # a fresh machine: the vault is pulled from Notion alone (no state, no cache)
    fresh = setup.root / "fresh"
    (fresh / "vault").mkdir(parents=True)
    shutil.copytree(EXAMPLE / ".obsidian", fresh / "vault" / ".obsidian")
    for cls in (EXAMPLE / "Classes").glob("*.md"):
        (fresh / "vault" / "Classes").mkdir(exist_ok=True)
        shutil.copy(cls, fresh / "vault" / "Classes" / cls.name)
    other = Setup.__new__(Setup)
    other.root, other.server, other.monkeypatch = fresh, setup.server, setup.monkeypatch
    other.state = StateStore.open(fresh / ".syncbridge" / "state.db")
    other.remote = other.open_remote()
    try:
        pulled = other.sync()
        assert pulled["vault"]["created"] == created, pulled
        assert pulled["remote"]["created"] == pulled["remote"]["updated"] == 0, other.last_plan
    finally:
        other.remote.close()
        other.state.close()
    # every field value and every body came back as it was (file names may differ:
    # Notion knows titles, not folders)
    original = VaultAdapter(Vault.open(setup.root / "vault"), timezone=TZ)
    copy = VaultAdapter(Vault.open(fresh / "vault"), timezone=TZ)
    by_title = {r.title: r for r in copy.read_many(list(copy.list_ids()))}
    for rec in original.read_many(list(original.list_ids())):
        twin = by_title[rec.title]
        assert twin.body == rec.body, rec.id
        pulled_fields = dict(twin.fields)
        if "fileClass" not in rec.fields:
            # the vault names the class of a note it creates outside the class's folder
            assert pulled_fields.pop("fileClass", rec.class_name) == rec.class_name
        cls = original.vault.schema.classes.get(rec.class_name)
        computed = {k for k, f in cls.fields.items() if f.read_only} if cls else set()
        # Formula / Lookup fields are computed by the vault, never pushed
        expected = {k: v for k, v in rec.fields.items() if k not in computed}
        assert pulled_fields == expected, rec.id


def test_no_op_sync_makes_no_writes_and_one_query_per_data_source(setup: Setup) -> None:
    setup.sync()
    setup.sync()  # the pages our first run wrote come back once, as no-ops
    reset_counts(setup.server)
    report = setup.sync()
    assert report["remote"]["updated"] == report["vault"]["updated"] == 0
    counts = request_counts(setup.server)
    assert writes(counts) == {}, counts
    sources = len(setup.remote.cache.layouts())
    queries = sum(v for k, v in counts.items() if k.endswith("/query"))
    assert queries == sources, counts
    assert sum(counts.values()) == queries, counts


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_property_only_edit_is_one_request(setup: Setup) -> None:
    setup.sync()
    setup.sync()
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md"
    _edit(note, "intensity: 7", "intensity: 6")
    reset_counts(setup.server)
    report = setup.sync()
    assert report["remote"]["updated"] == 1
    counts = request_counts(setup.server)
    assert writes(counts) == {"PATCH /v1/pages/{id}": 1}, counts
    page = setup.page_of("Shame Wound")
    assert page["properties"]["intensity"]["number"] == 6


def test_one_paragraph_body_edit_is_at_most_three_requests(setup: Setup) -> None:
    setup.sync()
    setup.sync()
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md"
    text = note.read_text(encoding="utf-8")
    body_line = next(line for line in text.split("---", 2)[2].splitlines() if len(line) > 20)
    _edit(note, body_line, body_line + " Edited.")
    reset_counts(setup.server)
    report = setup.sync()
    assert report["remote"]["updated"] == 1
    counts = request_counts(setup.server)
    sources = len(setup.remote.cache.layouts())
    listing = sum(v for k, v in counts.items() if k.endswith("/query"))
    assert listing == sources
    assert sum(counts.values()) - listing <= 3, counts
    assert "DELETE /v1/blocks/{id}" not in counts


def test_new_note_is_one_request(setup: Setup) -> None:
    setup.sync()
    setup.sync()
    body = "\n\n".join(f"Paragraph {i} with *some* text." for i in range(100))
    shame = (setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_text()
    front = shame.split("---\n", 2)[1].replace("id: 1752069904121", "id: 99")
    (setup.root / "vault" / "Psyche" / "Wounds" / "Brand new.md").write_text(
        f"---\n{front}---\n{body}\n", encoding="utf-8"
    )
    reset_counts(setup.server)
    report = setup.sync()
    assert report["remote"]["created"] == 1
    counts = request_counts(setup.server)
    assert writes(counts) == {"POST /v1/pages": 1}, counts


def test_edit_in_notion_flows_into_the_note_as_a_minimal_edit(setup: Setup) -> None:
    setup.sync()
    setup.sync()
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md"
    before = note.read_text(encoding="utf-8")
    page = setup.page_of("Shame Wound")
    setup.remote.api.update_page(page["id"], {"properties": {"intensity": {"number": 3}}})
    report = setup.sync()
    assert report["vault"]["updated"] == 1
    after = note.read_text(encoding="utf-8")
    assert (
        after.replace("intensity: 3", "intensity: 7").split("last_modified")[0]
        == before.split("last_modified")[0]
    )


RICH_BODY = """
# Rich body

Intro with a [[Shame Wound]] link and **bold** text.

* level 1
    * level 2
        * level 3
            * level 4
                * level 5

> [!note] A callout
> Inside the callout.

```python
print("hi")
```

|  a | b  |
|----|----|
| 1  | 2  |

Last  paragraph here.
"""


def _tree(setup: Setup, block_id: str) -> list[dict[str, Any]]:
    out = []
    for block in setup.remote.api.children(block_id):
        if block.get("in_trash"):
            continue
        kids = _tree(setup, block["id"]) if block.get("has_children") else []
        out.append({**block, "kids": kids})
    return out


def test_a_rich_body_becomes_real_blocks_and_comes_back_byte_for_byte(setup: Setup) -> None:
    source = (setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_text(
        encoding="utf-8"
    )
    head = source.split("\n---\n", 1)[0]
    head = head.replace("title: Shame Wound", "title: Rich Body").replace(
        "id: 1752069904121", "id: 1752069904999"
    )
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Rich Body.md"
    note.write_text(head + "\n---\n" + RICH_BODY, encoding="utf-8")
    before = note.read_bytes()
    setup.sync()
    assert note.read_bytes() == before
    page = setup.page_of("Rich Body")
    tree = _tree(setup, page["id"])
    kinds = [b["type"] for b in tree]
    assert kinds == [
        "heading_1",
        "paragraph",
        "bulleted_list_item",
        "callout",
        "code",
        "table",
        "paragraph",
    ], kinds
    intro = tree[1]["paragraph"]["rich_text"]
    # the wikilink to a synced note is a page mention of its page
    shame = setup.page_of("Shame Wound")["id"]
    mentions = [i["mention"]["page"]["id"] for i in intro if i["type"] == "mention"]
    assert mentions == [shame], intro
    level, depth = tree[2], 1
    while level["kids"]:
        level, depth = level["kids"][0], depth + 1
        assert level["type"] == "bulleted_list_item"
    assert depth == 5  # four levels and more: deeper ones appended in later requests
    assert [r["type"] for r in tree[5]["kids"]] == ["table_row", "table_row"]
    # the server's copy pulled again with no change: not a byte moves
    setup.sync()
    assert note.read_bytes() == before
    # one block edited in Notion: only its lines change in the note
    last = tree[-1]
    setup.server.clock.advance(120)
    setup.remote.api.update_block(
        last["id"],
        {"paragraph": {"rich_text": [{"type": "text", "text": {"content": "Edited in Notion."}}]}},
    )
    setup.server.clock.advance(120)
    report = setup.sync()
    assert report["vault"]["updated"] == 1, report
    after = note.read_text(encoding="utf-8")
    expected = before.decode("utf-8").replace("Last  paragraph here.", "Edited in Notion.")
    _, body_after = after.split("\n---\n", 1)
    assert body_after == expected.split("\n---\n", 1)[1]


STYLED_BODY = """
A __bold__ start and an _italic_ word.

* first item
* second item

>a quote without a space
"""


def test_a_block_edited_in_notion_comes_back_in_the_notes_own_style(setup: Setup) -> None:
    """A changed block is written the way the note writes Markdown (``*`` bullets,
    ``__bold__``, ``_italic_``, ``>`` quotes), not in Obsidian's default spelling."""
    source = (setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_text(
        encoding="utf-8"
    )
    head = source.split("\n---\n", 1)[0]
    head = head.replace("title: Shame Wound", "title: Styled Body").replace(
        "id: 1752069904121", "id: 1752069904998"
    )
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Styled Body.md"
    note.write_text(head + "\n---\n" + STYLED_BODY, encoding="utf-8")
    setup.sync()
    tree = _tree(setup, setup.page_of("Styled Body")["id"])
    assert [b["type"] for b in tree] == [
        "paragraph",
        "bulleted_list_item",
        "bulleted_list_item",
        "quote",
    ]
    setup.server.clock.advance(120)
    bold = {"bold": True}
    italic = {"italic": True}
    setup.remote.api.update_block(
        tree[2]["id"],
        {
            "bulleted_list_item": {
                "rich_text": [
                    {"type": "text", "text": {"content": "second "}},
                    {"type": "text", "text": {"content": "edited"}, "annotations": bold},
                    {"type": "text", "text": {"content": " in "}},
                    {"type": "text", "text": {"content": "Notion"}, "annotations": italic},
                ]
            }
        },
    )
    setup.remote.api.update_block(
        tree[3]["id"],
        {"quote": {"rich_text": [{"type": "text", "text": {"content": "a quote edited"}}]}},
    )
    setup.server.clock.advance(120)
    report = setup.sync()
    assert report["vault"]["updated"] == 1, report
    _, body_after = note.read_text(encoding="utf-8").split("\n---\n", 1)
    assert body_after == STYLED_BODY.replace(
        "* second item", "* second __edited__ in _Notion_"
    ).replace(">a quote without a space", ">a quote edited")


SPACED_BODY = """
A plain first paragraph.

- an item

## A heading

> [!tip] A title
> Its text.
"""


def test_text_edited_in_notion_with_spaces_and_tabs_at_its_ends_comes_back_exactly(
    setup: Setup,
) -> None:
    """Spaces and tabs typed first or last in Notion reach the note as ``&#32;``/``&#9;``,
    and the next run sends nothing back: the note reads as the same blocks."""
    source = (setup.root / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_text(
        encoding="utf-8"
    )
    head = source.split("\n---\n", 1)[0]
    head = head.replace("title: Shame Wound", "title: Spaced Body").replace(
        "id: 1752069904121", "id: 1752069904997"
    )
    note = setup.root / "vault" / "Psyche" / "Wounds" / "Spaced Body.md"
    note.write_text(head + "\n---\n" + SPACED_BODY, encoding="utf-8")
    setup.sync()
    tree = _tree(setup, setup.page_of("Spaced Body")["id"])
    assert [b["type"] for b in tree] == ["paragraph", "bulleted_list_item", "heading_2", "callout"]
    setup.server.clock.advance(120)
    edits = {
        0: ("paragraph", "  two spaces first"),
        1: ("bulleted_list_item", "\ta tab first, two spaces last  "),
        2: ("heading_2", "    four spaces first"),
        3: ("callout", " a space first"),
    }
    for index, (kind, content) in edits.items():
        setup.remote.api.update_block(
            tree[index]["id"],
            {kind: {"rich_text": [{"type": "text", "text": {"content": content}}]}},
        )
    setup.server.clock.advance(120)
    report = setup.sync()
    assert report["vault"]["updated"] == 1, report
    _, body = note.read_text(encoding="utf-8").split("\n---\n", 1)
    assert body == (
        "\n&#32; two spaces first\n\n- &#9;a tab first, two spaces last &#32;\n\n"
        "## &#32;   four spaces first\n\n> [!tip] &#32;a space first\n> Its text.\n"
    )
    reset_counts(setup.server)
    report = setup.sync()
    assert report["remote"]["updated"] == report["vault"]["updated"] == 0, report
    assert writes(request_counts(setup.server)) == {}
    after = _tree(setup, setup.page_of("Spaced Body")["id"])
    for index, (kind, content) in edits.items():
        assert "".join(i["plain_text"] for i in after[index][kind]["rich_text"]) == content
