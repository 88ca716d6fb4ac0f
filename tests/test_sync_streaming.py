"""An initial sync holds one chunk of new notes at a time, not every note's content
(issue 14, item 6; the figures are in docs/benchmarks.md, benchmarks/sync_memory.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from syncbridge.adapter import Record
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.engine.execute import CHUNK
from syncbridge.state import StateStore
from syncbridge.testing.memory import MemoryAdapter


class CountingReads(MemoryAdapter):
    """Remembers how many records each ``read_many`` asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def read_many(self, ids: Sequence[str]) -> list[Record]:
        self.batches.append(len(ids))
        return super().read_many(ids)


def test_an_initial_sync_reads_new_notes_a_chunk_at_a_time(tmp_path: Path) -> None:
    vault = CountingReads()
    total = 2 * CHUNK + 57
    for i in range(total):
        vault.put(f"n{i:04d}.md", {"id": i, "status": "x"}, f"body {i}\n")
    remote = MemoryAdapter()
    with StateStore.open(tmp_path / "state.db") as state:
        report = run_sync(vault, remote, state, SyncOptions(target="t"))
        assert report.remote.created == total and not report.errors
        assert max(vault.batches) <= CHUNK  # never every note at once
        assert sorted(s.fields["id"] for s in remote.records.values()) == list(range(total))
        assert len(state.links("t")) == total
        again = run_sync(vault, remote, state, SyncOptions(target="t"))
    assert again.remote.created == again.vault.created == 0


def test_notes_sharing_an_id_in_two_chunks_are_not_linked_to_each_other(
    tmp_path: Path,
) -> None:
    """On a target that cannot be locked, creates are looked up first: a record this very
    run created earlier is not taken for another run's."""
    vault = MemoryAdapter()
    total = CHUNK + 10
    for i in range(total):
        vault.put(f"n{i:04d}.md", {"id": i}, f"body {i}\n")
    vault.put("zz-copy.md", {"id": 3}, "a copy with the same id\n")  # in the second chunk
    remote = MemoryAdapter()
    with StateStore.open(tmp_path / "state.db") as state:
        report = run_sync(vault, remote, state, SyncOptions(target="t"))
        links = state.links("t")
    assert not any("another run created" in str(n) for n in report.notices)
    assert len({link.remote_id for link in links.values()}) == len(links)


def test_notes_sharing_an_id_across_chunks_meet_the_duplicate_id_rule_together(
    tmp_path: Path,
) -> None:
    """Streamed new notes are planned a chunk at a time, but two notes with one id (in
    different chunks) are still planned together: the planner's duplicate-id rule sees
    both, as it does without streaming."""
    vault = MemoryAdapter()
    for i in range(CHUNK + 10):
        vault.put(f"n{i:04d}.md", {"id": i}, f"body {i}\n")
    vault.put("zz-copy.md", {"id": 3}, "a copy with the same id\n")
    streamed_remote, whole_remote = MemoryAdapter(), MemoryAdapter()
    with StateStore.open(tmp_path / "a.db") as state:
        streamed = run_sync(vault, streamed_remote, state, SyncOptions(target="t"))
    with StateStore.open(tmp_path / "b.db") as state:
        whole = run_sync(vault, whole_remote, state, SyncOptions(target="t", dry_run=True))
    assert streamed.remote.created == whole.remote.created
    assert sorted(str(s) for s in streamed.skipped) == sorted(str(s) for s in whole.skipped)
