"""Faults during a 300-note sync: 5xx, 529, timeouts and connections dropped before and
after writes (and a 429 storm): no duplicate page, no lost edit, and re-runs converge.

The local server injects the faults (seeded, so every run is the same); the adapter talks
to it through the real notion-client. Pacing runs on a manual clock (no real sleeping),
except in the 429 test, where the server's own rate limit answers in real seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from notion_adapter_support import adapter_for
from syncbridge_notion import NotionAdapter
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.errors import RetryableError
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

N = 300
WRITES = r"^/v1/(pages|blocks|databases|data_sources)"


def _faults(probability: float) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "kind": "status",
            "status": status,
            "path": WRITES,
            "probability": probability,
            "times": None,
        }
        for status in (500, 502, 503, 504, 529)
    ]
    rules += [
        {"kind": kind, "path": WRITES, "probability": probability, "times": None}
        for kind in ("drop_before", "drop_after")
    ]
    rules.append(
        {
            "kind": "slow",
            "method": "POST",
            "path": "^/v1/pages$",
            "delay_s": 1.0,
            "times": 2,
            "skip": 40,
        }
    )
    return rules


def _configure(server: NotionFakeServer, **config: Any) -> None:
    httpx.post(f"{server.url}/__fake__/config", json=config).raise_for_status()


class World:
    def __init__(
        self,
        root: Path,
        server: NotionFakeServer,
        monkeypatch: Any,
        notes: dict[str, str] | None = None,
    ) -> None:
        """A vault of ``notes`` (file name → text; default: N notes with fields) and a
        state in ``root``, syncing into ``server``."""
        self.root, self.server, self.monkeypatch = root, server, monkeypatch
        if notes is None:
            notes = {
                f"Note {i:03d}.md": f"---\nid: {1000 + i}\nscore: {i}\ntags: [t{i % 7}]\ndone: {str(i % 2 == 0).lower()}\n"
                f"---\nBody of note {i}.\n\nSecond paragraph {i}.\n"
                for i in range(N)
            }
        vault = root / "vault"
        vault.mkdir()
        for name, text in notes.items():
            (vault / name).write_text(text, encoding="utf-8")
        self.state = StateStore.open(root / "state.db")
        self.log: list[str] = []

    def remote(self, **kw: Any) -> NotionAdapter:
        settings: dict[str, Any] = {"timeout_s": 0.5, "create_grace_s": 1.5, **kw}
        return adapter_for(self.server, self.root, self.monkeypatch, **settings)

    def sync_once(self, **kw: Any) -> dict[str, Any] | None:
        """One run; ``None`` when the remote failed so badly the run stopped."""
        vault = VaultAdapter(Vault.open(self.root / "vault"))
        with self.remote(**kw) as remote:
            try:
                report = run_sync(vault, remote, self.state, SyncOptions(target="notion"))
            except RetryableError as exc:
                self.log.append(f"stopped: {exc}")
                return None
        self.log.append(
            str({k: v for k, v in report.to_dict().items() if k in ("vault", "remote", "errors")})[
                :600
            ]
        )
        return report.to_dict()

    def converge(self, runs: int = 12) -> int:
        """Sync until a run writes nothing and reports no error; the number of runs."""
        for n in range(1, runs + 1):
            report = self.sync_once()
            if report is None or report["errors"]:
                time.sleep(0.3)  # a create with no answer is looked up again after its grace
                continue
            if all(
                report[s][k] == 0
                for s in ("vault", "remote")
                for k in ("created", "updated", "deleted")
            ):
                return n
        raise AssertionError(f"no convergence in {runs} runs: " + "\n".join(self.log))

    def live_pages(self) -> list[dict[str, Any]]:
        store = self.server.store
        return [
            p
            for p in store.pages.values()
            if not p.get("in_trash")
            and p["id"] != self.server.root_page_id
            and (p.get("parent") or {}).get("type") != "page_id"
        ]

    def titles(self) -> Counter[str]:
        return Counter(self.server.store.page_title(p) for p in self.live_pages())


@pytest.fixture
def world(tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any) -> World:
    w = World(tmp_path, notion_server, monkeypatch)
    yield w
    w.state.close()


def _assert_notion_matches_vault(world: World) -> None:
    titles = world.titles()
    assert [t for t, n in titles.items() if n > 1] == []  # no duplicate page, ever
    assert len(titles) == N
    vault = VaultAdapter(Vault.open(world.root / "vault"))
    notes = {r.title: r for r in vault.read_many(list(vault.list_ids()))}
    _configure(world.server, faults=[])
    with world.remote() as remote:
        for rec in remote.read_many(list(remote.list_ids())):
            note = notes[rec.title]
            assert rec.body == note.body, rec.title
            assert dict(rec.fields) == dict(note.fields), rec.title


def test_faults_during_a_300_note_sync_make_no_duplicates_and_lose_no_edit(
    world: World,
) -> None:
    _configure(world.server, faults=_faults(0.006), seed=7)
    world.converge(runs=30)
    _configure(world.server, faults=[])
    _assert_notion_matches_vault(world)
    stats = httpx.get(f"{world.server.url}/__fake__/stats").json()
    assert sum(stats["faults"].values()) > 10  # the faults really fired

    # edits on both sides while faults go on: every one arrives
    for i in range(0, N, 15):
        path = world.root / "vault" / f"Note {i:03d}.md"
        path.write_text(path.read_text().replace(f"Body of note {i}.", f"Edited note {i}."))
    with world.remote() as remote:
        edited_in_notion = []
        for rec in remote.read_many(list(remote.list_ids())):
            number = int(rec.title.split()[1])
            if number % 15 == 7:
                remote.api.update_page(str(rec.id), {"properties": {"score": {"number": -number}}})
                edited_in_notion.append(number)
    _configure(world.server, faults=_faults(0.006), seed=11)
    world.converge(runs=30)
    _configure(world.server, faults=[])
    _assert_notion_matches_vault(world)
    for i in range(0, N, 15):
        text = (world.root / "vault" / f"Note {i:03d}.md").read_text()
        assert f"Edited note {i}." in text
    for number in edited_in_notion:
        text = (world.root / "vault" / f"Note {number:03d}.md").read_text()
        assert f"score: {-number}" in text, number


def test_a_429_storm_is_waited_out_without_duplicates(tmp_path: Path, monkeypatch: Any) -> None:
    """The server's own rate limit (real seconds) against an adapter that paces far too
    fast: every 429 is honoured (Retry-After), nothing is lost or sent twice."""
    from syncbridge_notion_fake import RateLimitConfig

    rate = RateLimitConfig(enabled=True, rate=6.0, burst=3)
    with NotionFakeServer(rate_limit=rate) as server:
        notes = {f"Note {i:03d}.md": f"---\nid: {i}\n---\nBody {i}.\n" for i in range(40)}
        world = World(tmp_path, server, monkeypatch, notes)
        try:
            vault = VaultAdapter(Vault.open(tmp_path / "vault"))
            with adapter_for(
                server, tmp_path, monkeypatch, real_clock=True, max_backoff_s=5.0
            ) as remote:
                report = run_sync(vault, remote, world.state, SyncOptions(target="notion"))
            assert report.errors == []
            assert report.remote.created == 40
            stats = httpx.get(f"{server.url}/__fake__/stats").json()
            assert stats["rate_limited"] > 5  # the storm happened
            titles = world.titles()
            assert len(titles) == 40 and max(titles.values()) == 1
        finally:
            world.state.close()


def test_an_unanswered_create_not_yet_found_holds_back_only_its_own_note(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A create times out and lands only later (Notion was slow): the run stops at it.
    The next run, while the page is not found yet and the grace period lasts, skips only
    that note (reported, saying why and that the next sync looks again) and creates the
    others. Once the page has landed it is found and taken as created: one page each."""
    with NotionFakeServer() as server:
        notes = {f"Note {i}.md": f"---\nid: {i}\n---\nBody {i}.\n" for i in range(4)}
        world = World(tmp_path, server, monkeypatch, notes)
        try:
            slow = {"kind": "slow", "method": "POST", "path": "^/v1/pages$", "delay_s": 1.5}
            _configure(server, faults=[{**slow, "times": 1}])
            assert world.sync_once(create_grace_s=600.0) is None  # stopped: no answer
            assert "no answer" in world.log[-1]
            assert world.titles() == Counter()  # not landed yet

            report = world.sync_once(create_grace_s=600.0)
            assert report is not None
            assert report["remote"]["created"] == 3  # the others went on
            assert len(report["errors"]) == 1, report["errors"]
            assert "may still land" in str(report["errors"][0])
            assert "looks for it again" in str(report["errors"][0])

            deadline = time.monotonic() + 10
            while len(world.titles()) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)  # the slow create lands
            report = world.sync_once(create_grace_s=600.0)
            assert report is not None and report["errors"] == []
            titles = world.titles()
            assert sorted(titles) == [f"Note {i}" for i in range(4)]
            assert max(titles.values()) == 1  # found, not sent again
            assert world.sync_once(create_grace_s=600.0)["remote"]["created"] == 0
        finally:
            world.state.close()
