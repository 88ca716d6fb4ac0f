"""run_sync end to end, memory↔memory: real state file, the vault played by MemoryAdapter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from syncbridge.adapter import Capabilities, Record, RecordRef
from syncbridge.engine import (
    Filters,
    SyncOptions,
    get_conflict,
    list_conflicts,
    restore_conflict,
    run_sync,
)
from syncbridge.errors import SafetyStop, SyncbridgeError
from syncbridge.state import StateStore
from syncbridge.testing import FaultInjector, SimulatedCrash
from syncbridge.testing.memory import ManualClock, MemoryAdapter, MemoryConfig

OPTS = SyncOptions(target="t", timezone="UTC")


class MinuteVault(MemoryAdapter):
    """A vault whose times are minute-precise, like last_modified: 2025-07-05 16:56."""

    capabilities = Capabilities(timestamp_precision=dt.timedelta(minutes=1))


@pytest.fixture
def vault(manual_clock: ManualClock) -> MemoryAdapter:
    return MinuteVault(
        MemoryConfig(ids_are_paths=True, last_modified_field="last_modified"),
        clock=manual_clock,
    )


def sync(
    vault: MemoryAdapter, remote: MemoryAdapter, state: StateStore, **kw: Any
) -> dict[str, Any]:
    return run_sync(
        vault, remote, state, SyncOptions(**{"target": "t", "timezone": "UTC", **kw})
    ).to_dict()


def seed(vault: MemoryAdapter) -> None:
    vault.put("Psyche/Secure.md", {"id": 1, "status": "🟩 complete", "tags": ["a"]}, "Body\n")
    vault.put("Psyche/Wound.md", {"status": "🟥 todo"}, "Wound body\n")


def test_initial_sync_then_noop(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    seed(vault)
    first = sync(vault, memory_remote, state_store)
    assert first["remote"]["created"] == 2 and first["vault"]["unchanged"] == 2
    remote_side = sorted(memory_remote.contents().values(), key=repr)
    assert remote_side == sorted(vault.contents().values(), key=repr)
    writes = vault.write_count + memory_remote.write_count
    second = sync(vault, memory_remote, state_store)
    assert vault.write_count + memory_remote.write_count == writes  # a no-op: zero writes
    assert second["vault"] == {
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "conflicts": 0,
        "unchanged": 2,
    }
    assert second["remote"]["unchanged"] == 2


def test_noop_resync_reads_nothing(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    seed(vault)
    sync(vault, memory_remote, state_store)
    reads: list[int] = []
    for adapter in (vault, memory_remote):
        real = adapter.read_many

        def counting(ids: Any, real: Any = real) -> list[Record]:
            reads.append(len(ids))
            return list(real(ids))

        adapter.read_many = counting  # type: ignore[method-assign]
    sync(vault, memory_remote, state_store)
    assert sum(reads) == 0


def test_remote_edit_flows_into_note_with_stamp(
    vault: MemoryAdapter,
    memory_remote: MemoryAdapter,
    state_store: StateStore,
    manual_clock: ManualClock,
) -> None:
    vault.put("N.md", {"status": "a", "last_modified": "2026-01-01T11:00"}, "x\n")
    sync(vault, memory_remote, state_store)
    (rid,) = memory_remote.records
    manual_clock.advance(3600 + 37)
    memory_remote.edit(rid, set_fields={"status": "b"})
    report = sync(vault, memory_remote, state_store)
    assert report["vault"]["updated"] == 1
    fields, _ = vault.contents()["N.md"]
    assert fields == {"status": "b", "last_modified": "2026-01-01T13:00"}
    # the remote holds the field too, so it carries the same stamp; then all is quiet
    assert memory_remote.contents()[rid][0]["last_modified"] == "2026-01-01T13:00"
    writes = vault.write_count + memory_remote.write_count
    sync(vault, memory_remote, state_store)
    assert vault.write_count + memory_remote.write_count == writes


def test_conflict_is_logged_with_conflict_copy_and_restorable(
    vault: MemoryAdapter,
    memory_remote: MemoryAdapter,
    state_store: StateStore,
    manual_clock: ManualClock,
) -> None:
    vault.put("N.md", {"status": "a"}, "line\n")
    sync(vault, memory_remote, state_store)
    (rid,) = memory_remote.records
    vault.edit("N.md", set_fields={"status": "vault"}, body="vault line\n")
    manual_clock.advance(600)
    memory_remote.edit(rid, set_fields={"status": "remote"}, body="remote line\n")
    report = sync(vault, memory_remote, state_store)
    assert report["vault"]["conflicts"] == 2 and report["remote"]["conflicts"] == 0
    assert vault.contents()["N.md"] == ({"status": "remote"}, "remote line\n")
    conflicts = list_conflicts(state_store, "t")
    assert {(c.field, c.vault_value, c.remote_value, c.winner) for c in conflicts} == {
        ("status", "vault", "remote", "remote"),
        ("body", "vault line\n", "remote line\n", "remote"),
    }
    body = next(c for c in conflicts if c.field == "body")
    assert body.copy_id is not None and body.copy_id.startswith("N (conflict ")
    assert vault.conflict_copies[body.copy_id].body == "vault line\n"
    assert body.copy_id not in {r.id for r in vault.list()}
    # restore the losing status: it goes into the note, and the next sync carries it over
    status = next(c for c in conflicts if c.field == "status")
    restored = restore_conflict(state_store, status.id or 0, vault, memory_remote)
    assert restored.restored_at is not None
    assert vault.contents()["N.md"][0]["status"] == "vault"
    manual_clock.advance(60)
    sync(vault, memory_remote, state_store)
    assert memory_remote.contents()[rid][0]["status"] == "vault"
    with pytest.raises(SyncbridgeError, match="already restored"):
        restore_conflict(state_store, status.id or 0, vault, memory_remote)
    with pytest.raises(SyncbridgeError, match="no conflict with id"):
        get_conflict(state_store, 999)


def test_manual_conflict_stays_open_until_resolved(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    vault.put("N.md", {"status": "a", "other": 1}, "")
    sync(vault, memory_remote, state_store, conflict="manual")
    (rid,) = memory_remote.records
    vault.edit("N.md", set_fields={"status": "vault", "other": 2})
    memory_remote.edit(rid, set_fields={"status": "remote"})
    sync(vault, memory_remote, state_store, conflict="manual")
    # non-conflicting edits still flow; the conflicting field keeps both values
    assert memory_remote.contents()[rid][0] == {"status": "remote", "other": 2}
    assert vault.contents()["N.md"][0] == {"status": "vault", "other": 2}
    sync(vault, memory_remote, state_store, conflict="manual")
    (c,) = list_conflicts(state_store, "t")  # seen again, logged once
    assert c.winner is None and c.decided_by == "manual"
    vault.edit("N.md", set_fields={"status": "remote"})  # the user decides
    sync(vault, memory_remote, state_store, conflict="manual")
    assert memory_remote.contents()[rid][0]["status"] == "remote"
    writes = vault.write_count + memory_remote.write_count
    sync(vault, memory_remote, state_store, conflict="manual")
    assert vault.write_count + memory_remote.write_count == writes


class EditedDuringSync(MemoryAdapter):
    """A vault where the user saves the note between our read and our write."""

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        if record.id == "N.md" and not getattr(self, "_fired", False):
            self._fired = True
            self.edit("N.md", set_fields={"mine": "typed while syncing"})
        return super().update(record, expected_version=expected_version)


def test_stale_version_keeps_the_edit_and_syncs_it_next_run(
    memory_remote: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    vault = EditedDuringSync(MemoryConfig(ids_are_paths=True), clock=manual_clock)
    vault.put("N.md", {"status": "a"}, "b\n")
    sync(vault, memory_remote, state_store)
    (rid,) = memory_remote.records
    memory_remote.edit(rid, set_fields={"status": "remote"})
    report = sync(vault, memory_remote, state_store)
    assert len(report["errors"]) == 1 and report["errors"][0]["id"] == "N.md"
    # the user's edit was not overwritten
    assert vault.contents()["N.md"][0] == {"status": "a", "mine": "typed while syncing"}
    report = sync(vault, memory_remote, state_store)
    assert report["errors"] == []
    assert vault.contents()["N.md"][0] == {"status": "remote", "mine": "typed while syncing"}
    assert memory_remote.contents()[rid][0] == {"status": "remote", "mine": "typed while syncing"}


def test_mass_delete_stops_before_writing(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    for i in range(4):
        vault.put(f"N{i}.md", {"n": i}, "")
    sync(vault, memory_remote, state_store)
    for i in range(3):
        vault.remove(f"N{i}.md")
    writes = memory_remote.write_count
    with pytest.raises(SafetyStop, match="--force-delete"):
        sync(vault, memory_remote, state_store)
    assert memory_remote.write_count == writes
    dry = sync(vault, memory_remote, state_store, dry_run=True)
    assert dry["safety_stop"] and dry["remote"]["deleted"] == 3
    report = sync(vault, memory_remote, state_store, force_delete=True)
    assert report["remote"]["deleted"] == 3 and len(memory_remote.trash) == 3


def test_dry_run_writes_nothing_and_renders(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    seed(vault)
    report = run_sync(vault, memory_remote, state_store, SyncOptions(target="t", dry_run=True))
    assert report.to_dict()["remote"]["created"] == 2
    assert memory_remote.write_count == 0 and state_store.links("t") == {}
    assert report.plan is not None
    assert "create Psyche/Secure.md: new in the vault" in report.plan.render()


def test_filters_keep_private_notes_out_and_freeze_later_ones(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    filters = Filters(exclude_values={"visibility": ("🔒 private",)})
    vault.put("Pub.md", {"visibility": "🌍 public"}, "")
    vault.put("Priv.md", {"visibility": "🔒 private"}, "")
    report = sync(vault, memory_remote, state_store, filters=filters)
    assert report["remote"]["created"] == 1 and report["skipped"][0]["id"] == "Priv.md"
    vault.edit("Pub.md", set_fields={"visibility": "🔒 private"})
    report = sync(vault, memory_remote, state_store, filters=filters)
    # made private later: the remote record is kept as it was, not deleted or updated
    assert report["remote"]["deleted"] == 0 and report["remote"]["updated"] == 0
    assert [f["visibility"] for f, _ in memory_remote.contents().values()] == ["🌍 public"]


def test_rename_updates_link_never_recreates(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    seed(vault)
    sync(vault, memory_remote, state_store)
    ids = set(memory_remote.records)
    vault.rename("Psyche/Wound.md", "Archive/Old Wound.md")
    vault.rename("Psyche/Secure.md", "Secure2.md")
    vault.edit("Secure2.md", set_fields={"status": "moved+edited"})
    report = sync(vault, memory_remote, state_store)
    assert report["remote"]["created"] == 0 and report["remote"]["deleted"] == 0
    assert set(memory_remote.records) == ids
    titles = {s.title for s in memory_remote.records.values()}
    assert titles == {"Old Wound", "Secure2"}
    links = {lk.a_id for lk in state_store.links("t").values()}
    assert links == {"Archive/Old Wound.md", "Secure2.md"}


def test_delete_vs_edit_recreates_on_the_deleting_side(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    seed(vault)
    sync(vault, memory_remote, state_store)
    rid = next(i for i, s in memory_remote.records.items() if s.fields.get("id") == 1)
    vault.remove("Psyche/Secure.md")
    memory_remote.edit(rid, set_fields={"status": "edited remotely"})
    report = sync(vault, memory_remote, state_store)
    assert report["vault"]["created"] == 1
    recreated = [f for f, _ in vault.contents().values() if f.get("id") == 1]
    assert recreated == [{"id": 1, "status": "edited remotely", "tags": ["a"]}]
    assert len(state_store.links("t")) == 2


def test_interrupted_create_is_recovered_not_duplicated(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    vault.put("A.md", {"status": "a"}, "body a\n")  # no id field: found again by content
    with pytest.raises(SimulatedCrash):
        run_sync(vault, memory_remote, state_store, OPTS, faults_at=FaultInjector(1, "after"))
    assert len(memory_remote.records) == 1 and state_store.links("t") == {}
    assert len(state_store.pending_journal("t")) == 1
    vault.edit("A.md", set_fields={"status": "edited after the crash"})
    report = run_sync(vault, memory_remote, state_store, OPTS)
    assert report.recovered == 1 and report.remote.created == 0 and report.remote.updated == 1
    assert [f for f, _ in memory_remote.contents().values()] == [
        {"status": "edited after the crash"}
    ]
    assert state_store.pending_journal("t") == []


def test_a_journaled_create_stores_the_content_once_unless_trimmed(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    vault.put("A.md", {"status": "a"}, "body a\n")
    memory_remote.put("r-b", {"status": "b", "total": 3}, "body b\n", title="B")
    # "total" is computed by the vault (a Formula): never written into a note
    opts = SyncOptions(target="t", timezone="UTC", computed_fields={"note": ("total",)})
    with pytest.raises(SimulatedCrash):
        run_sync(vault, memory_remote, state_store, opts, faults_at=FaultInjector(2, "after"))
    sent = {
        e.payload["create"]["source"]["id"]: e.payload["create"]["sent"]
        for e in state_store.pending_journal("t")
    }
    # A's record is its source's content: stored once; B's lost the computed field
    assert sent == {
        "A.md": "source",
        "r-b": {"fields": {"status": "b"}, "body": "body b\n", "title": "B"},
    }
    report = run_sync(vault, memory_remote, state_store, opts)
    assert report.recovered == 2
    assert report.remote.created == report.vault.created == 0
    assert vault.contents()["B.md"] == ({"status": "b"}, "body b\n")
    assert sorted(f["status"] for f, _ in memory_remote.contents().values()) == ["a", "b"]
    again = run_sync(vault, memory_remote, state_store, opts).to_dict()
    assert all(
        again[side][k] == 0
        for side in ("vault", "remote")
        for k in ("created", "updated", "deleted", "conflicts")
    )


def test_state_file_relative_to_tmp(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "x" / "state.db") as st:
        assert st.links("t") == {}


def test_identical_notes_created_together_recover_one_to_one(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    for name in ("A.md", "B.md", "C.md"):
        vault.put(name, {}, "")  # three empty notes: same content, no id field
    with pytest.raises(SimulatedCrash):
        run_sync(vault, memory_remote, state_store, OPTS, faults_at=FaultInjector(3, "after"))
    assert len(memory_remote.records) == 3 and state_store.links("t") == {}
    report = run_sync(vault, memory_remote, state_store, OPTS)
    assert report.recovered == 3 and report.remote.created == 0
    assert len(memory_remote.records) == 3 and len(state_store.links("t")) == 3
    titles = sorted(s.title or "" for s in memory_remote.records.values())
    assert titles == ["A", "B", "C"]
    links = {
        lk.a_id: memory_remote.records[lk.b_id].title for lk in state_store.links("t").values()
    }
    assert links == {"A.md": "A", "B.md": "B", "C.md": "C"}


def test_open_manual_body_conflict_is_copied_once(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    vault.put("N.md", {}, "base\n")
    sync(vault, memory_remote, state_store, conflict="manual")
    (rid,) = memory_remote.records
    vault.edit("N.md", body="vault\n")
    memory_remote.edit(rid, body="remote\n")
    for _ in range(3):
        sync(vault, memory_remote, state_store, conflict="manual")
    assert len(vault.conflict_copies) == 1
    (copy,) = vault.conflict_copies.values()
    assert copy.body == "remote\n"  # the vault keeps its body; the remote's sits beside it
    assert len(list_conflicts(state_store, "t")) == 1


def test_a_second_run_of_the_same_target_is_refused_while_one_runs(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    from syncbridge.errors import SyncLocked

    seed(vault)
    with state_store.run_lock("t"):
        with pytest.raises(SyncLocked, match="another sync of target 't'"):
            sync(vault, memory_remote, state_store)
        # another target, or a dry run, is not blocked
        sync(vault, MemoryAdapter(), state_store, target="other")
        sync(vault, memory_remote, state_store, dry_run=True)
    assert sync(vault, memory_remote, state_store)["remote"]["created"] == 2


def test_undo_after_a_crash_is_not_mistaken_for_a_remote_drop(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    vault.put("N.md", {"status": "x", "keep": 1}, "")
    sync(vault, memory_remote, state_store)
    (rid,) = memory_remote.records
    vault.edit("N.md", delete_fields=["status"])
    with pytest.raises(SimulatedCrash):  # the remote lost the key, the state never knew
        run_sync(vault, memory_remote, state_store, OPTS, faults_at=FaultInjector(1, "after"))
    assert "status" not in memory_remote.contents()[rid][0]
    vault.edit("N.md", set_fields={"status": "x"})  # the user undoes the deletion
    report = run_sync(vault, memory_remote, state_store, OPTS)
    assert report.recovered == 1
    assert memory_remote.contents()[rid][0] == {"status": "x", "keep": 1}
    assert vault.contents()["N.md"][0] == {"status": "x", "keep": 1}


def test_folder_move_relinks_every_note(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    for i in range(200):
        vault.put(f"Old/N{i}.md", {"status": "x", "n": i}, f"body {i}\n")
    sync(vault, memory_remote, state_store)
    remote_ids = set(memory_remote.records)
    for i in range(200):
        vault.rename(f"Old/N{i}.md", f"New/N{i}.md")
        if i % 2:
            vault.edit(f"New/N{i}.md", set_fields={"status": "moved and edited"})
    report = sync(vault, memory_remote, state_store)
    assert report["remote"] == {
        "created": 0,
        "updated": 100,
        "deleted": 0,
        "conflicts": 0,
        "unchanged": 100,
    }
    assert set(memory_remote.records) == remote_ids
    assert {lk.a_id.split("/")[0] for lk in state_store.links("t").values()} == {"New"}


class FailsMidRun(MemoryAdapter):
    """A remote that goes away after two creates (a transient failure ending the run)."""

    def create(self, record: Record) -> RecordRef:
        from syncbridge.errors import RemoteUnavailable

        if len(self.records) >= 2:
            raise RemoteUnavailable("remote unreachable")
        return super().create(record)


def test_a_run_ending_in_a_transient_failure_keeps_what_succeeded(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    from syncbridge.errors import RemoteUnavailable

    remote = FailsMidRun(clock=manual_clock)
    for i in range(5):
        vault.put(f"N{i}.md", {"n": i}, "")
    with pytest.raises(RemoteUnavailable):
        run_sync(vault, remote, state_store, OPTS)
    assert len(state_store.links("t")) == 2  # the two creates that succeeded are linked
    assert len(state_store.pending_journal("t")) == 1  # the failed one is left to recovery
    good = MemoryAdapter(clock=manual_clock)
    good.records = remote.records
    good.trash = remote.trash
    good._counter = remote._counter
    report = run_sync(vault, good, state_store, OPTS)
    assert report.remote.created == 3 and len(good.records) == 5


class ColumnsRemote(MemoryAdapter):
    """A remote that knows its columns (like SQLite): status and note only."""

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        return frozenset({"status", "note"})


def test_cell_cleared_on_the_remote_clears_the_note_field(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    remote = ColumnsRemote(clock=manual_clock)
    vault.put("N.md", {"status": "a", "note": "some text", "local": "kept"}, "")
    sync(vault, remote, state_store)
    (rid,) = remote.records
    remote.records[rid].fields.pop("local", None)  # a column it does not have
    remote.edit(rid, delete_fields=["note"])  # the user clears the cell
    report = sync(vault, remote, state_store)
    assert report["vault"]["updated"] == 1
    assert vault.contents()["N.md"][0] == {"status": "a", "local": "kept"}


def test_a_dry_run_after_an_interrupted_run_says_so_and_recovers_nothing(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    """The engine's own journal recovery is the real run's: a dry run leaves the journal
    and the links as they are, writes nothing, and says a sync would reconcile them."""
    from dataclasses import replace

    vault.put("A.md", {"status": "a"}, "body a\n")
    with pytest.raises(SimulatedCrash):
        run_sync(vault, memory_remote, state_store, OPTS, faults_at=FaultInjector(1, "after"))
    writes = vault.write_count + memory_remote.write_count
    dry = run_sync(vault, memory_remote, state_store, replace(OPTS, dry_run=True))
    assert dry.recovered == 0 and vault.write_count + memory_remote.write_count == writes
    assert len(state_store.pending_journal("t")) == 1 and state_store.links("t") == {}
    assert [n.message for n in dry.notices] == [
        "an interrupted run left 1 action(s) in the journal; a sync would reconcile them "
        "first (the plan above does not count them)"
    ]
    report = run_sync(vault, memory_remote, state_store, OPTS)
    assert report.recovered == 1 and report.remote.created == 0
    assert state_store.pending_journal("t") == []
