"""A create whose answer was lost, found again in a later run: its links to pages created
after it still become page mentions and relations, as in a run that was never
interrupted.

The two-class vault of ``notion_vault_support`` (projects and tasks linking both ways,
in a cycle, so the first page created links to pages that do not exist yet), with body
wikilinks between the notes, synced into the local Notion server through the real
notion-client. The first page create is answered too late (the fake's ``slow`` fault,
past the adapter's timeout): the run stops at it, the page lands, and the next run finds
it by its create key. A run that was never interrupted is the reference: the same
mentions, the same relations.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from notion_adapter_support import adapter_for, request_counts, reset_counts, stats, writes
from notion_vault_support import TZ, Run, _note, notes
from syncbridge_notion import NotionAdapter
from syncbridge_notion_fake import ManualClock, NotionFakeServer

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.errors import RetryableError
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

BODIES = {
    "Projects/Alpha.md": "Alpha: see [[Write spec]] and [[Ship]].\n",
    "Projects/Beta.md": "Beta ships [[Ship]].\n",
    "Tasks/Write spec.md": "Spec it for [[Alpha]], before [[Ship]].\n",
    "Tasks/Ship.md": "Ship it for [[Alpha]], after [[Write spec]].\n",
}
RELATIONS = [
    ("Alpha", "tasks"),
    ("Alpha", "lead_task"),
    ("Beta", "tasks"),
    ("Write spec", "project"),
    ("Write spec", "blocked_by"),
    ("Ship", "project"),
    ("Ship", "blocked_by"),
]
SLOW_CREATE = {"kind": "slow", "method": "POST", "path": "^/v1/pages$", "delay_s": 1.5}


def _set_bodies(vault: Path) -> None:
    for rel, body in BODIES.items():
        path = vault / rel
        head, _old = path.read_text(encoding="utf-8").split("\n---\n", 1)
        path.write_text(head + "\n---\n" + body, encoding="utf-8")
    spec = vault / "Tasks" / "Write spec.md"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace("blocked_by:\n", 'blocked_by:\n  - "[[Ship]]"\n'), encoding="utf-8"
    )


def _configure(server: NotionFakeServer, **config: Any) -> None:
    httpx.post(f"{server.url}/__fake__/config", json=config).raise_for_status()


def _remote(run: Run, timeout_s: float) -> NotionAdapter:
    return adapter_for(
        run.server,
        run.root,
        run.monkeypatch,
        timezone=TZ,
        timeout_s=timeout_s,
        create_grace_s=600.0,
    )


def _sync(run: Run, timeout_s: float = 5.0) -> dict[str, Any] | None:
    """One run; ``None`` when it stopped (no answer from Notion in ``timeout_s``)."""
    run.remote.close()
    run.remote = _remote(run, timeout_s)
    vault = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    options = SyncOptions(target="notion", timezone=TZ)
    try:
        report = run_sync(vault, run.remote, run.state, options, schema=vault.vault.schema)
    except RetryableError:
        return None
    return report.to_dict()


def _final_state(run: Run) -> dict[str, Any]:
    """What Notion holds, by title: each body's rich text (mentions by the title of the
    page they mention, text as it reads) and each relation's titles."""
    store = run.server.store
    out: dict[str, Any] = {}
    for title in ("Alpha", "Beta", "Write spec", "Ship"):
        page_id = run.page(title)["id"]
        runs = []
        for block in run.remote.api.children(page_id):
            for item in block[block["type"]].get("rich_text") or []:
                if item["type"] == "mention":
                    runs.append(
                        ("mention", store.page_title(store.page(item["mention"]["page"]["id"])))
                    )
                else:
                    runs.append(("text", item["plain_text"]))
        out[title] = runs
    for title, prop in RELATIONS:
        out[f"{title}.{prop}"] = run.related(title, prop)
    return out


def _uninterrupted(tmp_path: Path, monkeypatch: Any) -> dict[str, Any]:
    with NotionFakeServer(clock=ManualClock()) as server:
        from notion_vault_support import two_class_vault

        two_class_vault(tmp_path / "vault")
        _set_bodies(tmp_path / "vault")
        ref = Run(tmp_path, server, monkeypatch)
        try:
            assert _sync(ref) is not None
            return _final_state(ref)
        finally:
            ref.close()


def _wait_for_pages(run: Run, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live = [
            p
            for p in run.server.store.pages.values()
            if not p.get("in_trash")
            and p["id"] != run.server.root_page_id
            and (p.get("parent") or {}).get("type") != "page_id"
        ]
        if len(live) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the slow create never landed")


def _expected(tmp_path: Path, monkeypatch: Any) -> dict[str, Any]:
    """The reference (an uninterrupted run), checked: every body link a mention, every
    relation filled."""
    expected = _uninterrupted(tmp_path / "reference", monkeypatch)
    assert expected["Alpha"] == [
        ("text", "Alpha: see "),
        ("mention", "Write spec"),
        ("text", " and "),
        ("mention", "Ship"),
        ("text", "."),
    ]
    assert expected["Alpha.tasks"] == ["Write spec", "Ship"]
    assert expected["Write spec.blocked_by"] == ["Ship"]
    return expected


def _settle_and_compare(run: Run, expected: dict[str, Any], before: dict[str, bytes]) -> None:
    """Runs until one writes nothing; then Notion is as the reference, one page per note,
    the vault untouched, and a further run sends no write."""
    for _ in range(3):  # whatever the second passes still had to finish
        again = _sync(run)
        assert again is not None and again["errors"] == [], again
        if again["remote"]["updated"] == again["vault"]["updated"] == 0:
            break
    assert _final_state(run) == expected
    assert notes(run.root / "vault") == before
    reset_counts(run.server)
    final = _sync(run)
    assert final is not None and final["remote"]["updated"] == final["vault"]["updated"] == 0
    assert writes(request_counts(run.server)) == {}


def test_a_create_found_again_in_the_next_run_gets_its_mentions_and_relations(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _expected(tmp_path, monkeypatch)
    _set_bodies(run.root / "vault")
    before = notes(run.root / "vault")
    _configure(run.server, faults=[{**SLOW_CREATE, "times": 1}])
    assert _sync(run, timeout_s=0.5) is None  # stopped at the first create: no answer in time
    journal = list(run.remote.cache.pending_creates())
    assert len(journal) == 1 and journal[0].page_id is None
    _wait_for_pages(run, 1)  # the slow create lands after all

    report = _sync(run)  # found by its create key; the other three created after it
    assert report is not None and report["errors"] == [], report
    assert report["remote"]["created"] == 3, report
    assert list(run.remote.cache.pending_creates()) == []
    _settle_and_compare(run, expected, before)


def test_a_create_found_in_the_same_run_gets_its_mentions_and_relations(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after Notion made the page: the lookup by create key finds
    it at once and the run goes on as if it had been answered (a regression guard)."""
    expected = _expected(tmp_path, monkeypatch)
    _set_bodies(run.root / "vault")
    before = notes(run.root / "vault")
    drop = {"kind": "drop_after", "method": "POST", "path": "^/v1/pages$", "times": 1}
    _configure(run.server, faults=[drop])
    report = _sync(run)
    assert report is not None and report["errors"] == [], report
    assert report["remote"]["created"] == 4, report
    assert stats(run.server)["faults"] == {"drop_after": 1}
    _settle_and_compare(run, expected, before)


DEEP = "Review before [[Later]].\n\n- one\n\t- two\n\t\t- three\n\t\t\t- four\n\t\t\t\t- five\n"


def _tree(run: Run, block_id: str) -> list[Any]:
    out: list[Any] = []
    for block in run.remote.api.children(block_id):
        kind = block["type"]
        text = "".join(i["plain_text"] for i in block[kind].get("rich_text") or [])
        out.append([text, _tree(run, block["id"])] if block.get("has_children") else text)
    return out


def test_a_resent_create_that_finds_the_earlier_one_finishes_it_as_it_was_sent(
    run: Run,
) -> None:
    """A create got no answer; the same note is created again in the same process (no
    refresh in between) once the page has landed: the earlier page is taken, not sent
    again, it gets the deeper blocks (levels 4 and 5) that create left for later
    appends, and its links to a note created after it become a mention and a relation."""
    run.sync()
    tasks = run.root / "vault" / "Tasks"
    fields = {"fileClass": "task", "project": "[[Alpha]]", "estimate": 1}
    (tasks / "Review.md").write_text(
        _note({**fields, "blocked_by": ["[[Later]]"]}, DEEP), encoding="utf-8"
    )
    (tasks / "Later.md").write_text(_note(fields, "Later.\n"), encoding="utf-8")
    vault = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    review, later = vault.read("Tasks/Review.md"), vault.read("Tasks/Later.md")
    run.remote.close()
    run.remote = remote = _remote(run, 0.5)
    _configure(run.server, faults=[{**SLOW_CREATE, "times": 1}])
    with pytest.raises(RetryableError, match="no answer"):
        remote.create(review)
    _wait_for_pages(run, 5)
    reset_counts(run.server)
    ref = remote.create(review)
    assert request_counts(run.server).get("POST /v1/pages", 0) == 0  # found, not resent
    assert list(remote.cache.pending_creates()) == []
    assert _tree(run, ref.id) == [
        "Review before [[Later]].",
        ["one", [["two", [["three", [["four", ["five"]]]]]]]],
    ]
    with remote.batch():
        remote.create(later)
    assert run.related("Review", "blocked_by") == ["Later"]
    first = next(iter(run.remote.api.children(ref.id)))
    mentions = [i for i in first["paragraph"]["rich_text"] if i["type"] == "mention"]
    assert [
        run.server.store.page_title(run.server.store.page(m["mention"]["page"]["id"]))
        for m in mentions
    ] == ["Later"]


def test_a_cache_made_before_the_links_column_keeps_its_journal_and_takes_links(
    tmp_path: Path,
) -> None:
    """A cache file whose ``creates`` table predates the ``links`` column (a real SQLite
    file): opened, the column is added, a row journaled before comes back with no links
    (nothing known of them), and new rows keep theirs."""
    import sqlite3

    from syncbridge_notion.cache import NotionCache

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE creates (key TEXT PRIMARY KEY, class TEXT NOT NULL, source TEXT NOT"
        " NULL, page_id TEXT, deferred TEXT, fingerprint TEXT NOT NULL DEFAULT '',"
        " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))"
    )
    old.execute("INSERT INTO creates (key, class, source) VALUES ('k0', 'task', 's')")
    old.commit()
    old.close()
    cache = NotionCache(path)
    try:
        links = {"mentions": ["Later"], "relations": [["blocked_by", "Later"]], "sent": {}}
        cache.begin_create("k1", "task", "s", [], "f", links)
        pending = {p.key: p.links for p in cache.pending_creates()}
        assert pending == {"k0": None, "k1": links}
    finally:
        cache.close()
