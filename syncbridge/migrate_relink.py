"""Links to a planned note name that was taken meanwhile: ``migrate --from`` rerun after a
kill.

``migrate --from`` saves the note names it planned before its first write
(:data:`~syncbridge.migrate_from.NAMES_CURSOR`), so the notes written before a kill link to
the notes not written yet by those names, and a rerun gives those notes the same names.
If a file appears at such a name before the rerun (the user made ``Foo 4.md``), the
record's note gets another name (``Foo 5.md``), and the links written before the kill
would point at the user's file. This module carries those links over:

1. Before the run (:func:`remember_moves`), with the names: each record whose note gets
   another name than the one saved is recorded with the names notes may link it by
   (cursor :data:`MOVES_CURSOR`), and the records the migration creates are added to
   :data:`CREATED_CURSOR`; a run killed after this still knows both.
2. After the run (:func:`relink_moved`): in every note this migration created, each link
   that resolved to the old name is rewritten to the note the record got
   (:meth:`~syncbridge.vault.adapter.VaultAdapter.plan_relinks`, the engine's rewrite of
   links to moved notes: only the target's characters change, the alias stays). Only
   while the note is as this migration left it: its bytes are those the state recorded
   for it (at the start of this run for a note linked before it), and no conflict was
   logged for it in this run (a note the user edited before it was linked is merged, with
   a conflict copy). A note edited since is left as it is, and each such link is reported
   (warning ``link``) with what to change it to. The user's file is never written: only
   notes the migration created are rewritten.
3. Crash safety: the rewrites are saved first (cursor :data:`RELINKED_CURSOR`: path →
   SHA-256 before and after); each note is written with compare-and-swap against the bytes
   it was planned from, then its link in the state records the new bytes (so the next run
   takes them for the migration's own, not for an edit of the note). A run killed between
   the two finishes it first (:func:`finish_relinked`, before the check), then plans the
   rest again: a note already rewritten resolves to the new name and is left alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from syncbridge.engine import faults
from syncbridge.errors import SkipError
from syncbridge.relink import BrokenLink, LinkChange, NoteRelink
from syncbridge.state import SideSnapshot, StateStore

if TYPE_CHECKING:
    from syncbridge.state import Link
    from syncbridge.vault.adapter import VaultAdapter

__all__ = [
    "CREATED_CURSOR",
    "MOVES_CURSOR",
    "RELINKED_CURSOR",
    "MigrationNotes",
    "finish_relinked",
    "preview_relinks",
    "relink_moved",
    "remember_moves",
]

CREATED_CURSOR = "migrate-from-created"
"""The remote ids of the records a migration planned to create, as a JSON list (every run
adds its own): the notes :func:`relink_moved` may rewrite."""

MOVES_CURSOR = "migrate-from-moved"
"""Remote id → the names notes written by an earlier run link its note by (JSON), for the
records whose note got another name since; dropped once their links are carried over."""

RELINKED_CURSOR = "migrate-from-relinked"
"""Vault path → ``[sha256 before, sha256 after]`` of the notes being rewritten (JSON)."""


def _json_cursor(state: StateStore, target: str, name: str) -> object:
    text = state.cursor(target, name)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _moves(state: StateStore, target: str) -> dict[str, list[str]]:
    data = _json_cursor(state, target, MOVES_CURSOR)
    if not isinstance(data, dict):
        return {}
    return {
        str(k): [p for p in v if isinstance(p, str)] for k, v in data.items() if isinstance(v, list)
    }


def _created(state: StateStore, target: str) -> set[str]:
    data = _json_cursor(state, target, CREATED_CURSOR)
    return {str(i) for i in data} if isinstance(data, list) else set()


@dataclasses.dataclass(frozen=True)
class MigrationNotes:
    """What a run starts from: the version the state had for each note linked before it
    (vault path → SHA-256), and the last conflict logged before it."""

    versions: Mapping[str, str]
    last_conflict: int

    @classmethod
    def at_start(cls, state: StateStore, target: str) -> MigrationNotes:
        conflicts = [c.id for c in state.conflicts(target) if c.id is not None]
        return cls(
            {link.vault_id: link.vault_version for link in state.links(target).values()},
            max(conflicts, default=0),
        )


def remember_moves(
    state: StateStore,
    target: str,
    journaled: Mapping[str, str],
    planned: Mapping[str, str],
    creating: Collection[str],
) -> None:
    """Record (step 1 of the module docstring) the records of ``creating`` (remote ids
    this run creates) whose ``planned`` path (remote id → vault path) is not the one an
    earlier run saved (``journaled``), and add ``creating`` to the created records.
    Writes two cursors of the state."""
    moves = _moves(state, target)
    for remote_id in creating:
        old, new = journaled.get(remote_id), planned.get(remote_id)
        if old is not None and new is not None and old != new:
            names = moves.setdefault(remote_id, [])
            if old not in names:
                names.append(old)
    if moves:
        state.set_cursor(target, MOVES_CURSOR, json.dumps(moves, sort_keys=True))
    created = _created(state, target) | set(creating)
    state.set_cursor(target, CREATED_CURSOR, json.dumps(sorted(created)))


def _save_vault_side(vault: VaultAdapter, state: StateStore, target: str, link: Link) -> None:
    """Record the note of ``link`` as it is now as the vault side of its base (the remote
    side as it was)."""
    base = state.snapshots(target, [link.link_id]).get(link.link_id)
    if base is None:
        return
    record = vault.read(link.vault_id)
    state.save_link(
        target,
        link.link_id,
        SideSnapshot.from_record(record),
        base.remote,
        key=link.key,
        vault_path=link.vault_id,
    )


def finish_relinked(vault: VaultAdapter, state: StateStore, target: str) -> None:
    """Step 3 of the module docstring: the notes an interrupted run rewrote whose link in
    the state still names the bytes before get it recorded now. Reads those notes; writes
    the state."""
    data = _json_cursor(state, target, RELINKED_CURSOR)
    if not isinstance(data, dict) or not data:
        return
    links = {link.vault_id: link for link in state.links(target).values()}
    vault.refresh()
    for path, shas in data.items():
        link = links.get(path)
        if link is None or not isinstance(shas, list) or len(shas) != 2:
            continue
        try:
            now = hashlib.sha256(vault.vault.abspath(path).read_bytes()).hexdigest()
        except OSError:
            continue
        if link.vault_version == shas[0] and now == shas[1]:
            _save_vault_side(vault, state, target, link)
    state.set_cursor(target, RELINKED_CURSOR, "{}")


def relink_moved(
    vault: VaultAdapter, state: StateStore, target: str, start: MigrationNotes
) -> list[dict[str, str]]:
    """Step 2 of the module docstring, after the run: rewrite the links to the old names
    of the records whose note got another name, in the notes this migration created and
    left as they are; the report's warnings (``relink`` per note rewritten, ``link`` per
    link left in a note edited since). Writes those notes and the state."""
    moved = _moves(state, target)
    if not moved:
        return []
    links = list(state.links(target).values())
    moves, left = _old_to_new(moved, {link.remote_id: link.vault_id for link in links})
    created = _created(state, target)
    ours = {link.vault_id: link for link in links if link.remote_id in created}
    warnings: list[dict[str, str]] = []
    if moves and ours:
        vault.refresh()
        edited = {c.vault_id for c in state.conflicts(target) if (c.id or 0) > start.last_conflict}
        plans = vault.plan_relinks(moves, applied=True, only=set(ours))
        writes = []
        for relink in plans:
            link = ours[relink.path]
            unchanged = (
                relink.old_sha256
                == link.vault_version
                == start.versions.get(relink.path, link.vault_version)
                and relink.path not in edited
            )

            if relink.changed and unchanged:
                writes.append(relink)
            else:
                warnings.extend(_left_links(relink.path, relink.changes, moves))
            warnings.extend(_broken(relink.path, relink.broken, moves))
        warnings.extend(_write(vault, state, target, writes, ours, moves))
    state.set_cursor(target, MOVES_CURSOR, json.dumps(left, sort_keys=True))
    return warnings


def _old_to_new(
    moved: Mapping[str, list[str]], note_of: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Old name → the note its record got (``note_of``: remote id → vault path) of the
    records of ``moved``, unless the old name is another record's note; and the records
    whose note is not made yet (their links are carried over when it is)."""
    taken = {path.casefold() for path in note_of.values()}
    moves: dict[str, str] = {}
    left: dict[str, list[str]] = {}
    for remote_id, olds in moved.items():
        new = note_of.get(remote_id)
        if new is None:
            left[remote_id] = list(olds)
            continue
        for old in olds:
            if old != new and old.casefold() not in taken:
                moves[old] = new
    return moves, left


def preview_relinks(
    vault: VaultAdapter,
    state: StateStore,
    target: str,
    journaled: Mapping[str, str],
    planned: Mapping[str, str],
    creating: Collection[str],
    pairs: Mapping[str, tuple[str, bool]],
) -> list[dict[str, str]]:
    """What :func:`relink_moved` would do after the run that ``planned`` (remote id →
    vault path of every record's note) and ``creating`` (remote ids it creates) describe,
    with the names an earlier run saved (``journaled``): for a dry run, read only.

    The notes it may rewrite are those of records an earlier run created: linked in the
    state, or, for a create a kill left unrecorded, paired by the run (``pairs``: vault
    path → remote id and whether the pair agrees, its plan writing nothing: the note is
    as the migration wrote it; one that does not was edited since). A warning per link:
    ``relink`` (would be rewritten, with ``link``, ``new``,
    ``old_target`` and ``new_target``) or ``link`` (left: the note was edited since, or
    the link cannot be rewritten). Reads the notes; writes nothing."""
    moved = _moves(state, target)
    for remote_id in creating:
        old, new = journaled.get(remote_id), planned.get(remote_id)
        if old is not None and new is not None and old != new:
            names = moved.setdefault(remote_id, [])
            if old not in names:
                names.append(old)
    if not moved:
        return []
    moves, _ = _old_to_new(moved, planned)
    created = _created(state, target)
    expected: dict[str, str | None] = {
        link.vault_id: link.vault_version
        for link in state.links(target).values()
        if link.remote_id in created
    }
    for path, (remote_id, agrees) in pairs.items():
        if remote_id in created:
            expected.setdefault(path, None if agrees else "")
    if not moves or not expected:
        return []
    vault.refresh()
    present = set(vault.vault.paths())
    also = sorted({new for new in moves.values() if new not in present})
    warnings: list[dict[str, str]] = []
    for relink in vault.plan_relinks(moves, applied=True, only=set(expected), also=also):
        version = expected[relink.path]
        if relink.changed and version in (None, relink.old_sha256):
            warnings.extend(_would_rewrite(relink, moves))
        else:
            warnings.extend(_left_links(relink.path, relink.changes, moves))
        warnings.extend(_broken(relink.path, relink.broken, moves))
    return warnings


def _would_rewrite(relink: NoteRelink, moves: Mapping[str, str]) -> list[dict[str, str]]:
    """A dry run's warning per link the run would rewrite in ``relink.path``."""
    return [
        {
            "id": relink.path,
            "class": "",
            "kind": "relink",
            "link": c.old,
            "new": c.new,
            "old_target": _old_name(c.target, moves),
            "new_target": c.target,
            "message": f"line {c.line}: {c.old} → {c.new} would be rewritten (it points at "
            f"{_old_name(c.target, moves)}, a name taken meanwhile by a file this migration "
            f"did not write; the note of that record is {c.target})",
        }
        for c in relink.changes
    ]


def _write(
    vault: VaultAdapter,
    state: StateStore,
    target: str,
    planned: list[NoteRelink],
    ours: Mapping[str, Link],
    moves: Mapping[str, str],
) -> list[dict[str, str]]:
    """Write the planned rewrites (journaled first), each note's state after it."""
    if not planned:
        return []
    state.set_cursor(
        target,
        RELINKED_CURSOR,
        json.dumps(
            {r.path: [r.old_sha256, hashlib.sha256(r.data).hexdigest()] for r in planned},
            sort_keys=True,
        ),
    )
    warnings: list[dict[str, str]] = []
    for number, relink in enumerate(planned, 1):
        faults.step("relink", number, "before")  # tests: killed journaled, not written
        outcome = vault.write_relinked(relink)
        if outcome != "written":
            warnings.extend(_left_links(relink.path, relink.changes, moves))
            continue
        faults.step("relink", number, "after")  # tests: killed written, state not saved
        with contextlib.suppress(SkipError):  # unreadable now: the next run reads it
            _save_vault_side(vault, state, target, ours[relink.path])
        shown = ", ".join(f"{c.old} → {c.new}" for c in relink.changes)
        warnings.append(
            {
                "id": relink.path,
                "class": "",
                "kind": "relink",
                "message": f"links to a note name taken meanwhile by a file this migration "
                f"did not write, rewritten to the note the record got: {shown}",
            }
        )
    state.set_cursor(target, RELINKED_CURSOR, "{}")
    return warnings


def _old_name(target: str, moves: Mapping[str, str]) -> str:
    """The old name(s) of the note at ``target``, for messages."""
    return " or ".join(old for old, new in sorted(moves.items()) if new == target) or "?"


def _left_links(
    path: str, changes: Iterable[LinkChange], moves: Mapping[str, str]
) -> list[dict[str, str]]:
    """A warning per link left pointing at a taken name in a note edited since."""
    return [
        _link_warning(
            path,
            c.line,
            c.old,
            c.target,
            moves,
            "The note was edited since the migration wrote it, so it was left as it is: "
            f"change the link to {c.new}",
        )
        for c in changes
    ]


def _broken(
    path: str, broken: Iterable[BrokenLink], moves: Mapping[str, str]
) -> list[dict[str, str]]:
    """A warning per link to a taken name that cannot be rewritten."""
    return [
        _link_warning(
            path,
            b.line,
            b.link,
            b.target,
            moves,
            f"The link could not be rewritten ({b.reason}): point it there by hand",
        )
        for b in broken
    ]


def _link_warning(
    path: str, line: int, link: str, target: str, moves: Mapping[str, str], advice: str
) -> dict[str, str]:
    return {
        "id": path,
        "class": "",
        "kind": "link",
        "message": f"line {line}: {link} points at {_old_name(target, moves)}, a file this "
        f"migration did not write (the name was taken after it planned it); the note of "
        f"that record is {target}. {advice}",
    }
