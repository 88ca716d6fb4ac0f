"""Which of the state and the target moved back in time: generations and restored copies.

Each run that writes advances one counter, its *generation*, in the state (``meta``) and in
the target (:meth:`Adapter.set_generation`; SQLite: ``_sync_generations``). Written in
this order, so a run killed anywhere leaves a state that still recognises its target:

1. the state records the new generation as *pending*;
2. the target records it;
3. the run's writes; at the end the state records it as *done*.

At the start of the next run, with ``s`` the state's done generation, ``p`` its pending one
and ``t`` the target's:

======================  ======================================================================
``t == s`` or ``p``     in step (``t == p``: the last run ended after step 2; adopted)
``t < s``, or none      the **target** was put back from an older copy (or replaced): stop
while ``s > 0``         before writing (:class:`TargetRestored`), unless the user chose
                        ``take_target`` or ``push_vault`` (see :func:`rebase_restored`)
``t > s``               the **state** was put back from an older copy: its links are set
                        aside (a backup of the file is kept) and the two sides re-paired as
                        after a lost state (by id, path, content: nothing created twice)
======================  ======================================================================

Rows whose version went back against the base (:meth:`Adapter.predates`) are a restored
target too, whatever the generations say (a table copied back from an older file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from syncbridge.adapter import Adapter, Record, RecordRef
from syncbridge.engine.merge import FieldConflict
from syncbridge.engine.plan import BaseState, EntryAction, Plan
from syncbridge.errors import TargetRestored
from syncbridge.state import BaseSnapshot, Link, SideSnapshot, StateStore

__all__ = ["Lineage", "RestoredChoice", "check_lineage", "log_overwritten", "rebase_restored"]

RestoredChoice = Literal["stop", "take_target", "push_vault"]


@dataclass(frozen=True)
class Lineage:
    """Where the state and the target stand (see the module docstring)."""

    target: str
    state_done: int
    state_pending: int | None
    target_generation: int | None
    predating: tuple[str, ...] = ()
    """Remote ids whose version went back against the base."""

    @property
    def target_behind(self) -> bool:
        t, s = self.target_generation, self.state_done
        if self.predating:
            return True
        if t is None:
            return s > 0
        return t < s and t != self.state_pending

    @property
    def state_behind(self) -> bool:
        t = self.target_generation
        return t is not None and t > self.state_done and t != self.state_pending

    def next_generation(self) -> int:
        return max(self.state_done, self.state_pending or 0, self.target_generation or 0) + 1

    def restored_message(self, remote: Adapter, missing: int) -> str:
        where = getattr(remote, "path", None) or f"the {remote.name} target"
        found = []
        if self.predating:
            found.append(
                f"{len(self.predating)} record(s) hold an older version than at the last sync"
            )
        if self.target_generation is None:
            found.append("it has no record of the syncs made with this state")
        elif self.target_generation < self.state_done:
            found.append(
                f"its sync generation is {self.target_generation}, the state's {self.state_done}"
            )
        if missing:
            found.append(f"{missing} linked record(s) are missing from it")
        return (
            f"target {self.target!r}: {where} looks restored from an older copy"
            f" ({'; '.join(found)}). Nothing was written. Choose: 'syncbridge sync"
            f" --target {self.target} --take-target' takes the target as it is (notes get"
            " its values; every vault value it overwrites is kept in the conflict log), or"
            f" 'syncbridge sync --target {self.target} --push-vault' writes the vault's"
            " state back into it (every value it overwrites there is logged too)"
        )


def check_lineage(
    state: StateStore,
    remote: Adapter,
    target: str,
    links: Mapping[int, Link],
    remote_listing: Sequence[RecordRef],
    *,
    dry_run: bool = False,
) -> Lineage:
    """Read both generations and look for records whose version went back. No writes,
    except the state's id the first time one is needed (never in a dry run)."""
    done, pending = state.generation(target)
    base_versions = {link.b_id: link.b_version for link in links.values() if link.b_version}
    predating = tuple(
        r.id
        for r in remote_listing
        if r.id in base_versions
        and r.version != base_versions[r.id]
        and remote.predates(r.version, base_versions[r.id])
    )
    state_id = state.known_state_id if dry_run else state.state_id
    generation = remote.generation(state_id) if state_id is not None else None
    return Lineage(target, done, pending, generation, predating)


def stop_if_restored(
    lineage: Lineage,
    remote: Adapter,
    choice: RestoredChoice,
    links: Mapping[int, Link],
    remote_listing: Sequence[RecordRef],
) -> None:
    """Raise :class:`TargetRestored` when the target moved back and no choice was made."""
    if choice != "stop" or not lineage.target_behind:
        return
    if not remote_listing and lineage.target_generation is None:
        return  # an empty or new database: the planner's empty-side guard says it better
    present = {r.id for r in remote_listing}
    missing = sum(1 for link in links.values() if link.b_id not in present)
    raise TargetRestored(lineage.restored_message(remote, missing))


def unread_links(links: Mapping[int, Link]) -> dict[int, Link]:
    """The links with unknown versions, so that every linked record is read in full."""
    return {i: replace(link, a_version="", b_version="") for i, link in links.items()}


def _content_of(side: SideSnapshot, record: Record) -> SideSnapshot:
    """``side``'s ids and version with ``record``'s content."""
    return replace(
        side,
        fields=dict(record.fields),
        body=record.body,
        title=record.title,
        class_name=record.class_name,
    )


def rebase_restored(
    choice: RestoredChoice,
    links: Mapping[int, Link],
    snapshots: Mapping[int, BaseSnapshot],
    vault: Mapping[str, Record],
    remote: Mapping[str, Record],
) -> BaseState:
    """The base that makes the planner carry out the user's choice for a restored target.

    ``take_target``: each entry's base is the note as it is now, on both sides, and the
    remote side counts as changed: every value the target holds differently goes into the
    note (a note whose record is gone goes to the vault's trash). ``push_vault``: each
    base is the target's record as it is now, the vault side counts as changed: every value
    the note holds differently goes to the target (a missing record is created again).
    ``vault`` / ``remote``: the full records of the linked entries, by id.
    """
    out_links: dict[int, Link] = {}
    out_snaps: dict[int, BaseSnapshot] = {}
    for link_id, link in links.items():
        a, b = vault.get(link.a_id), remote.get(link.b_id)
        old = snapshots.get(link_id)
        a_side = SideSnapshot.from_record(a) if a is not None else (old.a if old else None)
        b_side = SideSnapshot.from_record(b) if b is not None else (old.b if old else None)
        if a_side is None or b_side is None:
            out_links[link_id] = replace(link, a_version="", b_version="")
            continue
        if choice == "take_target":
            source = a if a is not None else b
            assert source is not None
            snap = BaseSnapshot(_content_of(a_side, source), _content_of(b_side, source))
            out_links[link_id] = replace(
                link, a_version=a_side.version, b_version="", has_base=True
            )
        else:
            source = b if b is not None else a
            assert source is not None
            snap = BaseSnapshot(_content_of(a_side, source), _content_of(b_side, source))
            out_links[link_id] = replace(
                link, a_version="", b_version=b_side.version, has_base=True
            )
        out_snaps[link_id] = snap
    return BaseState(out_links, out_snaps)


def log_overwritten(plan: Plan, choice: RestoredChoice) -> Plan:
    """The plan with every value the chosen side overwrites logged as a conflict it lost
    (``decided_by="restored_target"``): the executor keeps them in the conflict log (and a
    losing body as a conflict copy) before writing."""
    loser = "vault" if choice == "take_target" else "remote"
    actions: list[EntryAction] = []
    for action in plan.actions:
        extra: list[FieldConflict] = []
        for w in action.writes:
            if w.side != loser or w.op != "update":
                continue
            for change in w.changes:
                if choice == "take_target":
                    extra.append(
                        FieldConflict(
                            change.field, change.old, change.new, "remote", "restored_target"
                        )
                    )
                else:
                    extra.append(
                        FieldConflict(
                            change.field, change.new, change.old, "vault", "restored_target"
                        )
                    )
        actions.append(replace(action, conflicts=(*action.conflicts, *extra)) if extra else action)
    return replace(plan, actions=tuple(actions))
