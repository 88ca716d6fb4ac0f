"""Body wikilinks ⇄ Notion page mentions, end to end: the two-class vault of
``notion_vault_support`` with links in its bodies ⇄ the Notion adapter ⇄ the local Notion
server, through the real notion-client over HTTP, with a real state file.

A wikilink to a synced note is a page mention (an alias, a heading or a block a link to
the page); a link to a note created later gets its mention in the second pass; a link to
a note that is not synced stays text; a mention made in Notion of a page the vault does
not know comes back as a link to it; renames on either side keep the mentions.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import adapter_for, request_counts, reset_counts, writes
from notion_vault_support import TZ, Run, notes

from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

ALPHA_BODY = """Alpha project: see [[Write spec]], [[Tasks/Ship|ship it]] and [[Ship#Steps]].

A block link [[Ship#^b1]], an embed ![[Write spec]], **bold [[Beta]]** and *[[Beta|b]]*.

Not synced: [[Ghost]], ![[diagram.png]] and [[#Local heading]].

| link          | text |
| ------------- | ---- |
| [[Beta\\|B]] | x    |

> [!note] Callout with [[Beta]]
> and [[Write spec#Goal|the goal]] inside.

- item [[Ship]]
\t- nested [[Write spec]]
"""


def _set_body(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    head, _old = text.split("\n---\n", 1)
    path.write_text(head + "\n---\n" + body, encoding="utf-8")


def _blocks(run: Run, page_id: str) -> list[dict[str, Any]]:
    return [b for b in run.remote.api.children(page_id) if not b.get("in_trash")]


def _rich(block: dict[str, Any]) -> list[dict[str, Any]]:
    return list(block[block["type"]].get("rich_text") or [])


def _mentioned(items: list[dict[str, Any]]) -> list[str]:
    return [i["mention"]["page"]["id"] for i in items if i["type"] == "mention"]


@pytest.fixture
def linked(run: Run) -> Run:
    """The two-class vault with links in Alpha's body (to notes synced in the same run,
    before or after Alpha) and in Ship's (back to Alpha)."""
    vault = run.root / "vault"
    _set_body(vault / "Projects" / "Alpha.md", ALPHA_BODY)
    _set_body(vault / "Tasks" / "Ship.md", "Ship it, for [[Alpha]].\n")
    return run


def test_body_links_become_page_mentions_and_come_back_byte_for_byte(linked: Run) -> None:
    run = linked
    before = notes(run.root / "vault")
    report = run.sync()
    assert report["remote"]["created"] == 4
    assert notes(run.root / "vault") == before
    ids = {t: run.page(t)["id"] for t in ("Alpha", "Beta", "Write spec", "Ship")}
    alpha = _blocks(run, ids["Alpha"])
    first = _rich(alpha[0])
    # [[Write spec]] a mention (whichever note was created first: the second pass)
    assert _mentioned(first) == [ids["Write spec"]]
    links = [i["text"]["link"]["url"] for i in first if i["type"] == "text" and i["text"]["link"]]
    ship = "https://www.notion.so/" + ids["Ship"].replace("-", "")
    assert links == [ship, ship + "#Steps"]
    second = _rich(alpha[1])
    assert _mentioned(second) == [ids["Write spec"], ids["Beta"]]
    assert any(
        i["type"] == "text" and i["text"]["link"] and i["text"]["link"]["url"] == ship + "#%5Eb1"
        for i in second
    )
    bold = next(i for i in second if i["type"] == "mention" and i["annotations"]["bold"])
    assert bold["mention"]["page"]["id"] == ids["Beta"]
    # links to what is not synced stay text, as written
    assert _mentioned(_rich(alpha[2])) == []
    assert "[[Ghost]], ![[diagram.png]] and [[#Local heading]]" in "".join(
        i["plain_text"] for i in _rich(alpha[2])
    )
    assert _mentioned(_rich(_blocks(run, ids["Ship"])[0])) == [ids["Alpha"]]
    # the next run: nothing to do, no write; only the link to Ghost waits for its note
    assert run.remote.cache.mentions_pending() == {ids["Alpha"]: ["Ghost"]}
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}
    assert notes(run.root / "vault") == before


def test_a_block_edited_in_notion_keeps_every_link_in_it_as_written(linked: Run) -> None:
    """Each block with links, edited in Notion (a word added at its end), comes back
    with its links byte for byte: mentions, aliases, headings, blocks, embeds, in bold,
    italic, a table, a callout and a nested list."""
    run = linked
    run.sync()
    alpha_id = run.page("Alpha")["id"]
    alpha_path = run.root / "vault" / "Projects" / "Alpha.md"
    before = alpha_path.read_text(encoding="utf-8")
    run.server.clock.advance(120)
    for block in _blocks(run, alpha_id):
        kind = block["type"]
        if kind == "table":
            (_head, row) = run.remote.api.children(block["id"])
            cells = row["table_row"]["cells"]
            cells[1].append({"type": "text", "text": {"content": " Edited"}})
            run.remote.api.update_block(row["id"], {"table_row": {"cells": cells}})
            continue
        if kind == "callout":  # its second line is its child paragraph
            (child,) = run.remote.api.children(block["id"])
            items = [*_rich(child), {"type": "text", "text": {"content": " too"}}]
            run.remote.api.update_block(child["id"], {"paragraph": {"rich_text": items}})
        items = [*_rich(block), {"type": "text", "text": {"content": " Edited"}}]
        run.remote.api.update_block(block["id"], {kind: {"rich_text": items}})
    run.server.clock.advance(120)
    report = run.sync()
    assert report["vault"]["updated"] == 1, report
    after = alpha_path.read_text(encoding="utf-8")
    expected = (
        before.replace("[[Ship#Steps]].\n", "[[Ship#Steps]]. Edited\n")
        .replace("*[[Beta|b]]*.\n", "*[[Beta|b]]*. Edited\n")
        .replace("[[#Local heading]].\n", "[[#Local heading]]. Edited\n")
        .replace("> [!note] Callout with [[Beta]]\n", "> [!note] Callout with [[Beta]] Edited\n")
        .replace("- item [[Ship]]\n", "- item [[Ship]] Edited\n")
        .replace(
            "> and [[Write spec#Goal|the goal]] inside.\n",
            "> and [[Write spec#Goal|the goal]] inside. too\n",
        )
    )
    # the table edited in Notion is written padded to its new column widths
    table = [line for line in after.splitlines() if line.startswith("|")]
    assert table == [
        "| link        | text     |",
        "| ----------- | -------- |",
        "| [[Beta\\|B]] | x Edited |",
    ]
    unpadded = [line for line in expected.splitlines() if not line.startswith("|")]
    assert [line for line in after.splitlines() if not line.startswith("|")] == unpadded
    reset_counts(run.server)
    run.sync()
    assert writes(request_counts(run.server)) == {}


def test_a_mention_of_a_page_the_vault_does_not_know_is_kept(linked: Run) -> None:
    """A mention typed in Notion of a page that is no synced note comes back as a link to
    that page, and stays a mention in Notion when the note is edited later."""
    run = linked
    run.sync()
    outside = run.remote.api.create_page(
        {
            "parent": {"type": "page_id", "page_id": run.server.root_page_id},
            "properties": {"title": {"title": [{"text": {"content": "Team [wiki]"}}]}},
        },
        "creating a page by hand",
    )
    run.server.clock.advance(120)
    beta_id = run.page("Beta")["id"]
    (block,) = _blocks(run, beta_id)
    run.remote.api.update_block(
        block["id"],
        {
            "paragraph": {
                "rich_text": [
                    {"type": "text", "text": {"content": "Beta, see "}},
                    {"type": "mention", "mention": {"type": "page", "page": {"id": outside["id"]}}},
                    {"type": "text", "text": {"content": "."}},
                ]
            }
        },
    )
    run.server.clock.advance(120)
    run.sync()
    beta = run.root / "vault" / "Projects" / "Beta.md"
    url = "https://www.notion.so/" + outside["id"].replace("-", "")
    assert beta.read_text(encoding="utf-8").endswith(f"Beta, see [@Team \\[wiki\\]]({url}).\n")
    # the note edited in the vault (a paragraph added): the mention stays a mention
    beta.write_text(beta.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    reset_counts(run.server)
    run.sync()
    assert request_counts(run.server).get("PATCH /v1/blocks/{id}", 0) == 0
    first, added = _blocks(run, beta_id)
    assert first["id"] == block["id"] and _mentioned(_rich(first)) == [outside["id"]]
    assert _rich(added)[0]["plain_text"] == "More."


def test_date_user_and_database_mentions_made_in_notion_survive_an_edit_in_the_vault(
    linked: Run,
) -> None:
    """Mentions of a date (a range, with a time zone), a user and a database, made in
    Notion, come back as links labelled ``@...``; the user edits another word of that
    paragraph in the vault, the block is updated in place and still holds the same
    mentions (and no other block is written)."""
    run = linked
    run.sync()
    owner = {"id": run.server.store.owner_id}  # the workspace's person user, "Fake Owner"
    database_id = run.remote.cache.layouts()["task"][0]
    dates = {"start": "2022-12-16T09:00:00.000+01:00", "end": "2022-12-20"}
    mentions = [
        {"type": "date", "date": {**dates, "time_zone": "Europe/Berlin"}},
        {"type": "user", "user": {"id": owner["id"]}},
        {"type": "database", "database": {"id": database_id}},
    ]
    beta_id = run.page("Beta")["id"]
    (block,) = _blocks(run, beta_id)
    words = ["Beta is due ", ", owner ", ", listed in ", " for now."]
    rich: list[dict[str, Any]] = []
    for word, mention in zip(words, [*mentions, None], strict=True):
        rich.append({"type": "text", "text": {"content": word}})
        if mention is not None:
            rich.append({"type": "mention", "mention": mention})
    run.server.clock.advance(120)  # edited in Notion after the first sync read the page
    run.remote.api.update_block(block["id"], {"paragraph": {"rich_text": rich}})
    run.server.clock.advance(120)
    run.sync()
    beta = run.root / "vault" / "Projects" / "Beta.md"
    db_url = "https://www.notion.so/" + database_id.replace("-", "") + "?type=database"
    written = (
        "Beta is due [@2022-12-16T09:00:00.000+01:00 → 2022-12-20](notion://date/"
        "2022-12-16T09:00:00.000+01:00/2022-12-20?time_zone=Europe/Berlin), owner "
        f"[@Fake Owner](notion://user/{owner['id']}), listed in [@task]({db_url}) for now.\n"
    )
    assert beta.read_text(encoding="utf-8").endswith("---\n" + written)
    before = [m for m in _rich(_blocks(run, beta_id)[0]) if m["type"] == "mention"]
    beta.write_text(
        beta.read_text(encoding="utf-8").replace("for now.", "for sure."), encoding="utf-8"
    )
    reset_counts(run.server)
    run.sync()
    assert writes(request_counts(run.server)) == {
        "PATCH /v1/blocks/{id}": 1,
        "PATCH /v1/pages/{id}": 1,
    }
    (after,) = _blocks(run, beta_id)
    assert after["id"] == block["id"]
    items = _rich(after)
    assert [m for m in items if m["type"] == "mention"] == before
    assert [m["mention"] for m in before] == [
        {"type": "date", "date": {**dates, "time_zone": "Europe/Berlin"}},
        {"type": "user", "user": {"object": "user", "id": owner["id"]}},
        {"type": "database", "database": {"id": database_id}},
    ]
    assert items[-1]["plain_text"] == " for sure."


def test_renames_on_either_side_keep_the_mentions(linked: Run) -> None:
    run = linked
    run.sync()
    ids = {t: run.page(t)["id"] for t in ("Alpha", "Ship", "Write spec")}
    vault = run.root / "vault"
    # renamed in Notion: the engine renames the note and rewrites the links to it (as
    # Obsidian does); the mentions in Notion keep pointing at the page, nothing is sent
    # for Alpha's blocks
    run.server.clock.advance(120)
    run.remote.api.update_page(
        ids["Write spec"],
        {"properties": {"Name": {"title": [{"text": {"content": "Write the spec"}}]}}},
    )
    run.server.clock.advance(120)
    reset_counts(run.server)
    run.sync()
    assert (vault / "Tasks" / "Write the spec.md").exists()
    alpha = (vault / "Projects" / "Alpha.md").read_text(encoding="utf-8")
    assert "see [[Write the spec]]," in alpha and "[[Write spec" not in alpha
    assert request_counts(run.server).get("PATCH /v1/blocks/{id}", 0) == 0
    assert _mentioned(_rich(_blocks(run, ids["Alpha"])[0])) == [ids["Write spec"]]
    # renamed in the vault (the file and the links to it, as Obsidian does): the same
    # page, retitled; the mentions keep pointing at it
    (vault / "Tasks" / "Ship.md").rename(vault / "Tasks" / "Ship it now.md")
    text = (vault / "Projects" / "Alpha.md").read_text(encoding="utf-8")
    text = (
        text.replace("[[Tasks/Ship|", "[[Tasks/Ship it now|")
        .replace("[[Ship#", "[[Ship it now#")
        .replace("[[Ship]]", "[[Ship it now]]")
    )
    (vault / "Projects" / "Alpha.md").write_text(text, encoding="utf-8")
    before = notes(vault)
    run.sync()
    assert run.page("Ship it now")["id"] == ids["Ship"]
    assert notes(vault) == before
    ship = "https://www.notion.so/" + ids["Ship"].replace("-", "")
    first = _rich(_blocks(run, ids["Alpha"])[0])
    assert [
        i["text"]["link"]["url"] for i in first if i["type"] == "text" and i["text"]["link"]
    ] == [ship, ship + "#Steps"]
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}


def test_a_link_to_a_note_created_later_costs_a_listing_a_block_update_and_a_read(
    run: Run,
) -> None:
    """The second pass's cost, counted by the server: for a page whose body links to a
    note created after it, one listing of its blocks, one update per block holding such
    links, one read of the page's new version."""
    run.sync()
    vault = run.root / "vault"
    _set_body(vault / "Projects" / "Beta.md", "Beta links [[Review]].\n\nAnd [[Review|it]].\n")
    (vault / "Tasks" / "Review.md").write_text(
        (vault / "Tasks" / "Ship.md")
        .read_text(encoding="utf-8")
        .replace("Ship it.\n", "Review it, for [[Beta]].\n"),
        encoding="utf-8",
    )
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["created"] == 1 and report["remote"]["updated"] == 1, report
    counts = request_counts(run.server)
    ids = {t: run.page(t)["id"] for t in ("Beta", "Review")}
    beta = _blocks(run, ids["Beta"])
    review = _blocks(run, ids["Review"])
    assert _mentioned(_rich(beta[0])) == [ids["Review"]]
    url = "https://www.notion.so/" + ids["Review"].replace("-", "")
    assert _rich(beta[1])[1]["text"]["link"]["url"] == url
    assert _mentioned(_rich(review[0])) == [ids["Beta"]]
    # Beta's edit: its paragraph updated in place, one appended; the engine updates Beta
    # before it creates Review, so Beta's second pass updates both its blocks (and lists
    # them, and reads the page's new version once)
    assert counts.get("PATCH /v1/blocks/{id}", 0) == 1 + 2, counts
    assert counts.get("PATCH /v1/blocks/{id}/children", 0) == 1, counts
    assert counts.get("POST /v1/pages", 0) == 1, counts
    # the body layout in the fallback property says the same with the mentions: no
    # property written, one read of the page's new version
    assert counts.get("PATCH /v1/pages/{id}", 0) == 0, counts
    reset_counts(run.server)
    run.sync()
    assert writes(request_counts(run.server)) == {}


def test_a_link_written_another_way_than_its_mention_reads_back_exactly_on_a_fresh_machine(
    run: Run,
) -> None:
    """A body link to a note created later, written as a path with an alias: once it is a
    mention, the body layout in the fallback property must say how it was written (one
    PATCH of that property alone, in place of the read of the page's new version), or a
    machine with no cache reads the mention back as ``[[Review|it]]``."""
    run.sync()
    vault = run.root / "vault"
    _set_body(vault / "Projects" / "Beta.md", "Beta links [[Tasks/Review|it]] and [[Alpha]].\n")
    (vault / "Tasks" / "Review.md").write_text(
        (vault / "Tasks" / "Ship.md").read_text(encoding="utf-8").replace("Ship it.", "Review it."),
        encoding="utf-8",
    )
    reset_counts(run.server)
    run.sync()
    counts = request_counts(run.server)
    beta_id = run.page("Beta")["id"]
    assert counts.get("PATCH /v1/pages/{id}", 0) == 1, counts  # the fallback property only
    local = VaultAdapter(Vault.open(vault), timezone=TZ)
    in_vault = {r.title: r for r in local.read_many(list(local.list_ids()))}
    with adapter_for(run.server, run.root / "fresh", run.monkeypatch, timezone=TZ) as fresh:
        fresh.refresh()
        read = {r.title: r for r in fresh.read_many([x.id for x in fresh.list()])}
    assert (
        read["Beta"].body
        == in_vault["Beta"].body
        == "Beta links [[Tasks/Review|it]] and [[Alpha]].\n"
    )
    assert dict(read["Beta"].fields) == dict(in_vault["Beta"].fields)  # nothing else changed
    first = _rich(_blocks(run, beta_id)[0])
    review_url = "https://www.notion.so/" + run.page("Review")["id"].replace("-", "")
    assert [
        i["text"]["link"]["url"] for i in first if i["type"] == "text" and i["text"]["link"]
    ] == [review_url]  # the aliased link is a link to the page now
    assert _mentioned(first) == [run.page("Alpha")["id"]]
    reset_counts(run.server)
    again = run.sync()
    assert writes(request_counts(run.server)) == {}
    assert again["vault"]["updated"] == again["remote"]["updated"] == 0, again


def test_a_run_ended_before_the_second_pass_is_finished_by_the_next(
    linked: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed (or failed) after the creates, before the second pass: the journal in the
    cache finishes it at the next run's start; a page edited in Notion meanwhile is not
    overwritten, and gets its mentions once the engine has taken the edit in."""
    from syncbridge_notion.mentions import BodyMentions

    run = linked
    monkeypatch.setattr(BodyMentions, "finish_batch", lambda self: None)
    before = notes(run.root / "vault")
    run.sync()
    pending = run.remote.cache.mentions_pending()
    assert pending  # links to pages created after their note, sent as text
    monkeypatch.undo()
    run.sync()
    ids = {t: run.page(t)["id"] for t in ("Alpha", "Write spec", "Ship")}
    assert run.remote.cache.mentions_pending() == {ids["Alpha"]: ["Ghost"]}
    assert notes(run.root / "vault") == before
    assert _mentioned(_rich(_blocks(run, ids["Alpha"])[0])) == [ids["Write spec"]]
    assert _mentioned(_rich(_blocks(run, ids["Ship"])[0])) == [ids["Alpha"]]
    reset_counts(run.server)
    final = run.sync()
    assert final["vault"]["updated"] == final["remote"]["updated"] == 0, final
    assert writes(request_counts(run.server)) == {}


def test_notes_linked_to_are_created_first_so_no_second_pass_is_needed(run: Run) -> None:
    """A chain of new task notes, each linking in its body to the next: whatever order
    the file system lists them in, the engine creates each after the one it links to
    (Capabilities.creates_follow_links, syncbridge/engine/order.py), so each page is
    written with its mention at once: no second pass updates a block."""
    vault = run.root / "vault"
    chain = [f"Step {n}" for n in range(6)]
    for here, there in pairwise(chain):
        (vault / "Tasks" / f"{here}.md").write_text(
            f"---\nfileClass: task\n---\nThen [[{there}]].\n", encoding="utf-8"
        )
    (vault / "Tasks" / f"{chain[-1]}.md").write_text(
        "---\nfileClass: task\n---\nThe end.\n", encoding="utf-8"
    )
    before = notes(vault)
    reset_counts(run.server)
    report = run.sync()
    assert report["remote"]["created"] == 4 + len(chain)
    counts = request_counts(run.server)
    assert counts.get("PATCH /v1/blocks/{id}", 0) == 0, counts
    ids = {t: run.page(t)["id"] for t in chain}
    created = [p["id"] for p in run.server.store.pages.values() if p["id"] in ids.values()]
    assert created == [ids[t] for t in reversed(chain)]
    for here, there in pairwise(chain):
        assert _mentioned(_rich(_blocks(run, ids[here])[0])) == [ids[there]]
    assert run.remote.cache.mentions_pending() == {}
    assert notes(vault) == before
