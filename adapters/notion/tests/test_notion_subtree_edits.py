"""Editing a block that has nested children keeps it and its children in place (ids and
comments kept): the block is PATCHed, its child list diffed like the top level."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import request_counts, reset_counts, writes
from syncbridge_notion import NotionAdapter, NotionConfig
from syncbridge_notion.pacing import ManualClock as PaceClock
from syncbridge_notion_fake import ManualClock, NotionFakeServer

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

BODY = "---\nstatus: a\n---\nIntro\n\n- Parent item\n  - child one\n  - child two\n"


def _sync(root: Path, server: NotionFakeServer, state: StateStore, *, check: bool = True) -> Any:
    vault = VaultAdapter(Vault.open(root / "vault"))
    cfg = NotionConfig(
        parent_page=server.root_page_id,
        token_env="SB_TOKEN",
        base_url=server.url,
        requests_per_s=1000.0,
        burst=100,
        timeout_s=5.0,
    )
    with NotionAdapter(cfg, base_dir=root, clock=PaceClock(), rng=random.Random(0)) as remote:
        report = run_sync(
            vault, remote, state, SyncOptions(target="notion"), schema=vault.vault.schema
        )
    assert not check or not report.errors, report.errors
    return report, list(remote.problems)


def _clock() -> ManualClock:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    return ManualClock(start=start.replace(second=0, microsecond=0).timestamp())


def _tree(store: Any, parent: str) -> list[tuple[str, str, list[Any]]]:
    out = []
    for bid in store.live_children(parent):
        block = store.render_block(bid)
        kind = block["type"]
        text = "".join(t["plain_text"] for t in block[kind].get("rich_text", []))
        out.append((bid, text, _tree(store, bid)))
    return out


@pytest.mark.parametrize(
    ("old", "new", "patches", "deletes", "appends"),
    [
        ("Parent item", "Parent item (typo fixed)", 1, 0, 0),
        ("  - child two\n", "  - child two, edited\n", 1, 0, 0),
        ("  - child two\n", "  - child two\n  - child three\n", 0, 0, 1),
        ("  - child one\n", "", 0, 1, 0),
    ],
)
def test_an_edit_in_a_list_item_with_children_keeps_the_subtree_in_place(
    tmp_path: Path,
    monkeypatch: Any,
    old: str,
    new: str,
    patches: int,
    deletes: int,
    appends: int,
) -> None:
    monkeypatch.setenv("SYNCBRIDGE_TEST_SETTLE_MS", "0")
    (tmp_path / "vault").mkdir()
    note = tmp_path / "vault" / "Plan.md"
    note.write_text(BODY, encoding="utf-8")
    clock = _clock()
    with NotionFakeServer(clock=clock) as server, StateStore.open(tmp_path / "state.db") as state:
        monkeypatch.setenv("SB_TOKEN", server.token)
        _sync(tmp_path, server, state)
        store = server.store
        (pid,) = [p for p, r in store.pages.items() if store.page_title(r) == "Plan"]
        before = _tree(store, pid)
        clock.advance(300)
        note.write_text(BODY.replace(old, new), encoding="utf-8")
        reset_counts(server)
        _sync(tmp_path, server, state)
        counts = writes(request_counts(server))
        after = _tree(store, pid)
        assert counts.get("PATCH /v1/blocks/{id}", 0) == patches, counts
        assert counts.get("DELETE /v1/blocks/{id}", 0) == deletes, counts
        assert counts.get("PATCH /v1/blocks/{id}/children", 0) == appends, counts
        # the parent item and every child not removed keep their ids
        assert [b[0] for b in after] == [b[0] for b in before]
        kept_before = {b[0] for b in before[1][2]}
        kept_after = {b[0] for b in after[1][2]}
        assert len(kept_before - kept_after) == deletes
        assert len(kept_after - kept_before) == appends
        # and the next run has nothing to do
        reset_counts(server)
        _sync(tmp_path, server, state)
        assert writes(request_counts(server)) == {}


STALE = "---\nstatus: a\n---\nIntro\n\n- Keep me\n  - nested\n- Remove me\n  - nested too\n"


@pytest.mark.parametrize("sub_page", [True, False])
def test_a_removed_block_is_listed_live_before_its_delete(
    tmp_path: Path, monkeypatch: Any, sub_page: bool
) -> None:
    """A child page nested under a bullet in Notion within the minute of our last write
    leaves the page's version as cached; removing the bullet in the vault must not DELETE
    it (Notion would trash the sub-page): its children are listed live first."""
    monkeypatch.setenv("SYNCBRIDGE_TEST_SETTLE_MS", "0")
    (tmp_path / "vault").mkdir()
    note = tmp_path / "vault" / "Plan.md"
    note.write_text(STALE, encoding="utf-8")
    clock = _clock()
    with NotionFakeServer(clock=clock) as server, StateStore.open(tmp_path / "state.db") as state:
        monkeypatch.setenv("SB_TOKEN", server.token)
        _sync(tmp_path, server, state)
        clock.advance(120)
        note.write_text(STALE.replace("Intro", "Intro, edited"), encoding="utf-8")
        _sync(tmp_path, server, state)
        store = server.store
        (pid,) = [p for p, rec in store.pages.items() if store.page_title(rec) == "Plan"]
        bullet = store.live_children(pid)[2]
        clock.advance(20)
        if sub_page:  # same minute, in the Notion app
            title = {"title": [{"type": "text", "text": {"content": "Meeting notes"}}]}
            child = store.add_page({"type": "block_id", "block_id": bullet}, title)
            store.touch(store.pages[child])
            store.pages[pid]["edited"] = clock.now()
        clock.advance(600)
        note.write_text(
            STALE.replace("Intro", "Intro, edited").split("- Remove")[0], encoding="utf-8"
        )
        reset_counts(server)
        _, problems = _sync(tmp_path, server, state)
        counts = request_counts(server)
        # one listing of the removed bullet's children, whatever they are
        assert counts.get("GET /v1/blocks/{id}/children", 0) == 1, counts
        if sub_page:
            assert counts.get("DELETE /v1/blocks/{id}", 0) == 0, counts
            assert not store.blocks[bullet]["in_trash"]
            assert not store.pages[child]["in_trash"]
            assert any(bullet in p and "child_page" in p and "Plan" in p for p in problems), (
                problems
            )
            reset_counts(server)
            _sync(tmp_path, server, state)  # kept, reported again, still not deleted
            assert not store.blocks[bullet]["in_trash"]
        else:
            assert counts.get("DELETE /v1/blocks/{id}", 0) == 1, counts
            assert store.blocks[bullet]["in_trash"]


def test_a_deleted_note_whose_page_holds_a_sub_page_is_not_trashed(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The note only held a placeholder of the sub-page: its page is kept, the refusal
    reported each run (no write), and the note is not brought back in the vault."""
    monkeypatch.setenv("SYNCBRIDGE_TEST_SETTLE_MS", "0")
    vault = tmp_path / "vault"
    vault.mkdir()
    for name in ("Plan", "Other", "Third", "Fourth"):
        (vault / f"{name}.md").write_text(f"---\nstatus: a\n---\n{name} text\n", encoding="utf-8")
    clock = _clock()
    with NotionFakeServer(clock=clock) as server, StateStore.open(tmp_path / "state.db") as state:
        monkeypatch.setenv("SB_TOKEN", server.token)
        _sync(tmp_path, server, state)
        store = server.store
        (pid,) = [p for p, rec in store.pages.items() if store.page_title(rec) == "Plan"]
        clock.advance(300)
        title = {"title": [{"type": "text", "text": {"content": "Sub-page made in Notion"}}]}
        child = store.add_page({"type": "page_id", "page_id": pid}, title)
        store.pages[pid]["edited"] = clock.now()
        clock.advance(300)
        _sync(tmp_path, server, state)
        assert "%%notion:child_page:" in (vault / "Plan.md").read_text(encoding="utf-8")
        clock.advance(300)
        kept = (vault / "Plan.md").read_bytes()
        (vault / "Plan.md").unlink()
        for _ in range(2):
            reset_counts(server)
            report, _ = _sync(tmp_path, server, state, check=False)
            counts = request_counts(server)
            message = " ".join(e.message for e in report.errors)
            assert "Sub-page made in Notion" in message or child in message, message
            assert "not moved to Notion's trash" in message
            assert not store.pages[pid]["in_trash"]
            assert not store.pages[child]["in_trash"]
            assert writes(counts) == {}, counts
            assert counts.get("GET /v1/blocks/{id}/children", 0) == 1, counts
            assert not (vault / "Plan.md").exists()  # not brought back either
        # the other note's page is deleted as before: one listing, one trash
        (vault / "Other.md").unlink()
        reset_counts(server)
        report, _ = _sync(tmp_path, server, state, check=False)  # Plan still refused
        assert len(report.errors) == 1
        (oid,) = [p for p, rec in store.pages.items() if store.page_title(rec) == "Other"]
        assert store.pages[oid]["in_trash"]
        # restoring the note ends it: it syncs as before, nothing to write
        (vault / "Plan.md").write_bytes(kept)
        reset_counts(server)
        _sync(tmp_path, server, state)
        assert writes(request_counts(server)) == {}
        assert (vault / "Plan.md").read_bytes() == kept
