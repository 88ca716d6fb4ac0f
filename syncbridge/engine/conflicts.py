"""The conflict log API behind ``syncbridge conflicts list | show | restore``."""

from __future__ import annotations

from syncbridge.adapter import MISSING, Adapter, Record
from syncbridge.engine.merge import BODY, TITLE
from syncbridge.errors import RecordError, SyncbridgeError
from syncbridge.state import ConflictEntry, StateStore

__all__ = ["get_conflict", "list_conflicts", "restore_conflict"]


def list_conflicts(state: StateStore, target: str | None = None) -> list[ConflictEntry]:
    """Every logged conflict of ``target`` (all targets when None), oldest first."""
    return state.conflicts(target)


def get_conflict(state: StateStore, conflict_id: int) -> ConflictEntry:
    """One conflict; raises :class:`SyncbridgeError` naming the id when there is none."""
    entry = state.conflict(conflict_id)
    if entry is None:
        raise SyncbridgeError(
            f"no conflict with id {conflict_id}; run 'syncbridge conflicts list' to see them"
        )
    return entry


def restore_conflict(
    state: StateStore, conflict_id: int, vault: Adapter, remote: Adapter
) -> ConflictEntry:
    """Put the losing value of a conflict back, and mark the conflict restored.

    The value is written into the vault note (compare-and-swap, like any sync write); the
    next ``syncbridge sync`` carries it to the remote as an ordinary vault edit. Only when
    the note no longer exists is the remote record written directly. Under the manual
    strategy (no winner) the remote's value is the one restored into the note.

    Side effects: one adapter update, one state transaction. Raises
    :class:`SyncbridgeError` for an unknown or already restored conflict, and
    :class:`~syncbridge.errors.StaleVersion` if the record changes while we write it.
    """
    entry = get_conflict(state, conflict_id)
    if entry.restored_at is not None:
        raise SyncbridgeError(f"conflict {conflict_id} was already restored")
    link = state.link_by_id(entry.link_id) if entry.link_id is not None else None
    value = entry.loser_value
    vault_id = link.vault_id if link else entry.vault_id
    remote_id = link.remote_id if link else entry.remote_id
    adapter, record_id = vault, vault_id
    if record_id is None or record_id not in set(vault.list_ids()):
        adapter, record_id = remote, remote_id
    if record_id is None:
        raise RecordError(f"conflict {conflict_id}: neither side of the entry exists any more")
    current = adapter.read(record_id)
    fields = dict(current.fields)
    body, title = current.body, current.title
    if entry.field == BODY:
        body = value if isinstance(value, str) else ""
    elif entry.field == TITLE:
        title = value if isinstance(value, str) else title
    elif value is MISSING:
        fields.pop(entry.field, None)
    else:
        fields[entry.field] = value
    assert current.version is not None
    adapter.update(
        Record(
            class_name=current.class_name,
            fields=fields,
            body=body,
            id=current.id,
            version=current.version,
            title=title,
            extra=current.extra,
        ),
        expected_version=current.version,
    )
    state.mark_restored(conflict_id)
    restored = state.conflict(conflict_id)
    assert restored is not None
    return restored
