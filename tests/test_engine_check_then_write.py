"""Sides whose version check and write are not atomic, and edits that land around our writes.

A remote like Notion can only check a record's version, then write it
(``Capabilities.atomic_writes = False``). The engine accounts for the windows around its
writes: a record changed after our write is never taken for the agreed base (its change
syncs next run), and it never deletes on a check-then-write side that has no trash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from syncbridge.adapter import Capabilities, Record, RecordRef
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.engine.plan import BaseState, plan_sync
from syncbridge.state import Link, StateStore
from syncbridge.testing.memory import (
    CheckThenWriteMemoryAdapter,
    ManualClock,
    MemoryAdapter,
    MemoryConfig,
)

OPTS = SyncOptions(target="t", timezone="UTC")


def sync(vault: MemoryAdapter, remote: MemoryAdapter, state: StateStore) -> dict[str, Any]:
    return run_sync(vault, remote, state, OPTS).to_dict()


@pytest.fixture
def vault(manual_clock: ManualClock) -> MemoryAdapter:
    return MemoryAdapter(MemoryConfig(ids_are_paths=True), clock=manual_clock)


class EditedRightAfterWrite(CheckThenWriteMemoryAdapter):
    """A remote where the user saves right after our update returns, before the engine
    reads the record back (on Notion: between the PATCH and the GET)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.typed_after_write: Mapping[str, Any] | None = None

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        ref = super().update(record, expected_version=expected_version)
        if self.typed_after_write is not None and record.id is not None:
            typed, self.typed_after_write = self.typed_after_write, None
            self.edit(record.id, set_fields=typed)
        return ref


def test_an_edit_landing_after_our_write_syncs_next_run(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    remote = EditedRightAfterWrite(MemoryConfig(), clock=manual_clock)
    vault.put("N.md", {"status": "a"}, "body\n")
    sync(vault, remote, state_store)
    (rid,) = remote.records
    vault.edit("N.md", set_fields={"status": "b"})
    remote.typed_after_write = {"owner": "typed on the remote"}
    assert sync(vault, remote, state_store)["remote"]["updated"] == 1
    assert remote.contents()[rid][0] == {"status": "b", "owner": "typed on the remote"}
    # The next run sees the typed field as a remote edit and brings it into the note
    # (before, the read-back was taken as agreed and the edit never reached the vault).
    report = sync(vault, remote, state_store)
    assert report["vault"]["updated"] == 1
    assert vault.contents()["N.md"][0] == {"status": "b", "owner": "typed on the remote"}
    # ... and a later edit in the vault keeps it on both sides.
    vault.edit("N.md", set_fields={"status": "c"})
    sync(vault, remote, state_store)
    assert remote.contents()[rid][0] == {"status": "c", "owner": "typed on the remote"}
    assert vault.contents()["N.md"][0] == {"status": "c", "owner": "typed on the remote"}


def test_no_change_after_the_write_keeps_the_fast_no_op(
    vault: MemoryAdapter, memory_remote: MemoryAdapter, state_store: StateStore
) -> None:
    """The read-back check compares versions: an untouched record stays unchanged next run,
    not even read."""
    vault.put("N.md", {"status": "a"}, "body\n")
    sync(vault, memory_remote, state_store)
    vault.edit("N.md", set_fields={"status": "b"})
    sync(vault, memory_remote, state_store)
    reads: list[int] = []
    original = memory_remote.read_many
    memory_remote.read_many = lambda ids: reads.append(len(ids)) or original(ids)  # type: ignore[method-assign]
    report = sync(vault, memory_remote, state_store)
    assert report["remote"]["unchanged"] == 1 and sum(reads) == 0


class CheckThenWriteNoTrash(CheckThenWriteMemoryAdapter):
    """A check-then-write remote whose deletes are final."""

    capabilities: ClassVar[Capabilities] = Capabilities(atomic_writes=False, supports_trash=False)


def test_no_delete_on_a_check_then_write_side_without_a_trash(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    remote = CheckThenWriteNoTrash(MemoryConfig(), clock=manual_clock)
    vault.put("Keep.md", {"status": "kept"}, "")  # an emptied side is a safety stop
    vault.put("N.md", {"status": "a"}, "body\n")
    sync(vault, remote, state_store)
    rid = next(i for i, (fields, _) in remote.contents().items() if fields["status"] == "a")
    vault.remove("N.md")
    report = sync(vault, remote, state_store)
    assert rid in remote.records and remote.trash == {}
    assert report["remote"]["deleted"] == 0
    (skipped,) = report["skipped"]
    assert skipped["id"] == "N.md"
    assert "it checks versions, then deletes, and has no trash" in skipped["message"]
    assert "delete it there yourself" in skipped["message"]
    # Asked again every run, and nothing else happens meanwhile.
    assert sync(vault, remote, state_store)["skipped"] == [skipped]
    assert rid in remote.records


def test_a_delete_on_a_check_then_write_side_with_a_trash_keeps_an_edit_made_in_its_window(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    remote = CheckThenWriteMemoryAdapter(MemoryConfig(), clock=manual_clock)
    vault.put("Keep.md", {"status": "kept"}, "")  # an emptied side is a safety stop
    vault.put("N.md", {"status": "a"}, "body\n")
    sync(vault, remote, state_store)
    rid = next(i for i, (fields, _) in remote.contents().items() if fields["status"] == "a")
    vault.remove("N.md")
    remote.between_check_and_write = lambda op, record_id: remote.edit(
        record_id, set_fields={"status": "typed in the window"}
    )
    assert sync(vault, remote, state_store)["remote"]["deleted"] == 1
    assert rid not in remote.records
    assert remote.trash[rid].fields["status"] == "typed in the window"  # recoverable


def test_an_update_on_a_check_then_write_side_overwrites_an_edit_in_its_window(
    vault: MemoryAdapter, state_store: StateStore, manual_clock: ManualClock
) -> None:
    """The limit that stays (docs/sync.md): the adapter must keep this window short."""
    remote = CheckThenWriteMemoryAdapter(MemoryConfig(), clock=manual_clock)
    assert remote.capabilities.atomic_writes is False
    vault.put("N.md", {"status": "a"}, "body\n")
    sync(vault, remote, state_store)
    (rid,) = remote.records
    vault.edit("N.md", set_fields={"status": "b"})
    remote.between_check_and_write = lambda op, record_id: remote.edit(
        record_id, set_fields={"status": "typed in the window"}
    )
    sync(vault, remote, state_store)
    assert remote.contents()[rid][0] == {"status": "b"}


@pytest.mark.parametrize("side", ["vault", "remote"])
def test_the_planner_keeps_records_a_side_cannot_delete_safely(side: str) -> None:
    unsafe = Capabilities(atomic_writes=False, supports_trash=False)
    caps = (unsafe, Capabilities()) if side == "vault" else (Capabilities(), unsafe)
    link = Link(1, "N.md", "m1", "va", "vb")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ref_a, ref_b = RecordRef("N.md", "va", now, "note"), RecordRef("m1", "vb", now, "note")
    left = ([], [ref_b]) if side == "remote" else ([ref_a], [])
    plan = plan_sync(*left, BaseState({1: link}), OPTS, capabilities=caps)
    (action,) = plan.actions
    assert action.kind == "skip" and action.writes == ()
    assert "has no trash" in action.why
    safe = plan_sync(*left, BaseState({1: link}), OPTS)
    assert [w.op for w in safe.actions[0].writes] == ["delete"]
