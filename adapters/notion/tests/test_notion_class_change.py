"""A note whose class changes in the vault (its ``fileClass`` edited) moves its page to the
other class's database, end to end through the real notion-client against the local
server: the same page (id, blocks, a child page made in Notion), every value, no
duplicate, and a run that stops between the move and its properties finishes next time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from notion_adapter_support import request_counts, reset_counts, writes
from notion_vault_support import TZ, Run, notes

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.errors import RemoteUnavailable
from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter


def _live(run: Run) -> dict[str, str]:
    """Live page titles (of our databases) → the data source each lives in."""
    store = run.server.store
    out: dict[str, str] = {}
    for page in store.pages.values():
        parent = page["parent"]
        if page.get("in_trash") or parent.get("type") != "data_source_id":
            continue
        title = store.page_title(page)
        assert title not in out, f"two live pages titled {title!r}"
        out[title] = parent["data_source_id"]
    return out


def _retype(run: Run) -> Path:
    """Make the task "Ship" a project in the vault (its fields stay as they are)."""
    note = run.root / "vault" / "Tasks" / "Ship.md"
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("fileClass: task", "fileClass: project"), encoding="utf-8")
    return note


def test_a_note_whose_class_changed_moves_its_page_without_loss(run: Run, tmp_path: Path) -> None:
    run.sync()
    before = run.page("Ship")
    # Notion-only content under the page: a child page someone made there
    child = run.remote.api.create_page(
        {
            "parent": {"page_id": before["id"]},
            "properties": {"title": {"title": [{"text": {"content": "Meeting notes"}}]}},
        },
        "test",
    )
    run.server.clock.advance(120)
    note = _retype(run)
    edited = note.read_bytes()
    report = run.sync()
    assert report["remote"]["updated"] == 1 and report["remote"]["created"] == 0, report
    assert note.read_bytes() == edited  # the note is left as the user wrote it
    # the same page, now in the project database; no copy left in the task database
    after = run.page("Ship")
    assert after["id"] == before["id"]
    live = _live(run)
    assert live["Ship"] == run.source_of("project")
    assert sorted(live) == ["Alpha", "Beta", "Ship", "Write spec"]
    # its values, in the project database's properties (the task fields it keeps are
    # added there), and its blocks and child page are still there
    assert after["properties"]["estimate"]["number"] == 5
    kinds = [(b["type"], b["id"]) for b in run.remote.api.children(after["id"])]
    assert ("child_page", child["id"]) in kinds
    assert any(kind == "paragraph" for kind, _ in kinds)
    # nothing left to do
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}
    # a fresh machine pulls the note back with its new class and every value
    fresh = tmp_path / "fresh"
    (fresh / "vault").mkdir(parents=True)
    shutil.copytree(run.root / "vault" / ".obsidian", fresh / "vault" / ".obsidian")
    shutil.copytree(run.root / "vault" / "Classes", fresh / "vault" / "Classes")
    other = Run(fresh, run.server, run.monkeypatch)
    try:
        other.sync()
    finally:
        other.close()
    original = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    copy = VaultAdapter(Vault.open(fresh / "vault"), timezone=TZ)
    ship = next(r for r in original.read_many(list(original.list_ids())) if r.title == "Ship")
    twin = next(r for r in copy.read_many(list(copy.list_ids())) if r.title == "Ship")
    assert twin.class_name == "project"
    assert dict(twin.fields) == dict(ship.fields)
    # the body as written, and (the vault not having pulled it: the page was written, not
    # read, in the run that moved it) the child page's placeholder line
    assert twin.body.startswith(ship.body)
    assert twin.body[len(ship.body) :].strip() == (
        f"%%notion:child_page:{child['id']} Meeting notes%%"
    )


def test_a_run_stopped_between_the_move_and_its_properties_finishes_next_time(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run.sync()
    page_id = run.page("Ship")["id"]
    _retype(run)
    before = notes(run.root / "vault")
    from syncbridge_notion.page_writes import PageWriter

    real_patch = PageWriter.patch

    def lost(self: PageWriter, pid: str, body: dict[str, object]) -> dict[str, object]:
        raise RemoteUnavailable("Notion: connection dropped (test)")

    # the move lands, then the connection goes away before the properties are written
    monkeypatch.setattr(PageWriter, "patch", lost)
    run.remote.close()
    run.remote = run.open_remote()
    vault = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    with pytest.raises(RemoteUnavailable):
        run_sync(
            vault,
            run.remote,
            run.state,
            SyncOptions(target="notion", timezone=TZ),
            schema=vault.vault.schema,
        )
    assert run.remote.cache.pending_moves()  # journaled before the move was sent
    assert _live(run)["Ship"] == run.source_of("project")  # moved, values not yet there
    monkeypatch.setattr(PageWriter, "patch", real_patch)
    run.sync()
    assert not run.remote.cache.pending_moves()
    assert run.page("Ship")["id"] == page_id
    assert _live(run)["Ship"] == run.source_of("project")
    assert run.page("Ship")["properties"]["estimate"]["number"] == 5
    assert notes(run.root / "vault") == before  # nothing lost in the vault either
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}
