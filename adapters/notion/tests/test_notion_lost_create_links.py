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
from notion_adapter_support import adapter_for, request_counts, reset_counts, writes
from notion_vault_support import TZ, Run, notes
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


def test_a_create_found_again_in_the_next_run_gets_its_mentions_and_relations(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _uninterrupted(tmp_path / "reference", monkeypatch)
    # the reference itself: every body link a mention, every relation filled
    assert expected["Alpha"] == [
        ("text", "Alpha: see "),
        ("mention", "Write spec"),
        ("text", " and "),
        ("mention", "Ship"),
        ("text", "."),
    ]
    assert expected["Alpha.tasks"] == ["Write spec", "Ship"]
    assert expected["Write spec.blocked_by"] == ["Ship"]

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
    for _ in range(3):  # whatever the second passes still had to finish
        again = _sync(run)
        assert again is not None and again["errors"] == [], again
        if again["remote"]["updated"] == again["vault"]["updated"] == 0:
            break
    assert _final_state(run) == expected
    assert notes(run.root / "vault") == before
    # and it stays so: a further run writes nothing
    reset_counts(run.server)
    final = _sync(run)
    assert final is not None and final["remote"]["updated"] == final["vault"]["updated"] == 0
    assert writes(request_counts(run.server)) == {}
