"""Journal recovery: reconcile what an interrupted run left in flight, before planning.

See ``docs/sync.md`` ("State, journal and crash safety").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from syncbridge.adapter import MISSING, Adapter, Record, RecordRef
from syncbridge.engine.identity import key_of
from syncbridge.engine.journal import NOT_JOURNALED, ActionIntent, SentContent, UpdateIntent
from syncbridge.engine.options import Side, SyncOptions
from syncbridge.engine.report import SIDES
from syncbridge.errors import SkipError
from syncbridge.state import JournalEntry, SideSnapshot, StateStore

__all__ = ["read_existing", "recover"]


def read_existing(adapter: Adapter, ids: Iterable[str]) -> dict[str, Record]:
    """Full records for ``ids``; an id gone since the listing is left out (not an error)."""
    wanted = sorted(ids)
    if not wanted:
        return {}
    try:
        return {r.id: r for r in adapter.read_many(wanted) if r.id is not None}
    except SkipError:
        out: dict[str, Record] = {}
        for record_id in wanted:
            try:
                rec = adapter.read(record_id)
            except SkipError:
                continue  # deleted between list and read: it is simply not there now
            if rec.id is not None:
                out[rec.id] = rec
        return out


def _sent_matches(
    candidate: Record,
    sent: SentContent,
    key: str | None,
    id_field: str | None,
    supports_body: bool,
) -> bool:
    """Whether ``candidate`` is what an interrupted create sent (the side may have dropped
    fields it cannot hold, or the body if it stores none, but kept nothing else)."""
    if key is not None:
        return key_of(candidate.fields, id_field) == key
    fields = sent.fields
    if supports_body and candidate.body != sent.body:
        return False
    if any(fields.get(k, MISSING) != v for k, v in candidate.fields.items()):
        return False
    # All it holds is what we sent. A side may drop fields it cannot hold, but then the
    # title must be ours too: a user's note that merely holds a subset is not our create.
    return dict(candidate.fields) == fields or candidate.title == sent.title


def recover(
    pending: Sequence[JournalEntry],
    adapters: Mapping[Side, Adapter],
    listings: Mapping[Side, Sequence[RecordRef]],
    state: StateStore,
    options: SyncOptions,
) -> None:
    """Reconcile the journal of an interrupted run before planning.

    A create that reached its side but was never linked is found again among that side's
    unlinked records (by id-field value, else by content, the title breaking ties) and
    linked, with the source's snapshot of that time as base, so it is neither duplicated
    nor does it hide an edit made since. Each unlinked record is claimed at most once, so
    identical notes created together map one to one. Every other pending action needs
    nothing: its writes, if any landed, look like "both sides changed to the same value".

    Side effects: reads each side's unlinked records once, links what it finds, and clears
    the journal.
    """
    target = options.target
    caps = {side: adapter.capabilities.supports_body for side, adapter in adapters.items()}
    intents = [(e, ActionIntent.from_payload(e.payload)) for e in pending]
    creates = [(e, i.create) for e, i in intents if i.create is not None]
    pools: dict[Side, list[Record]] = {}
    if creates:
        links = state.links(target).values()
        linked: dict[Side, set[str]] = {
            "vault": {lk.a_id for lk in links},
            "remote": {lk.b_id for lk in links},
        }
        for side in {c.side for _, c in creates}:
            free = [r.id for r in listings[side] if r.id not in linked[side]]
            found = read_existing(adapters[side], free)
            pools[side] = [found[i] for i in sorted(found)]
    intent_of = {entry.id: intent for entry, intent in intents}
    with state.batch():
        for entry, create in creates:
            side, source, sent = create.side, create.source, create.content
            candidates = [
                r
                for r in pools[side]
                if _sent_matches(r, sent, create.key, options.id_field, caps[side])
            ]
            titled = [r for r in candidates if r.title == sent.title]
            if not candidates:
                continue  # the create never reached its side: the planner creates it again
            match = (titled or candidates)[0]
            pools[side].remove(match)
            exact = dict(match.fields) == sent.fields and match.body == sent.body
            if exact:
                found_snap = SideSnapshot.from_record(match)  # untouched since we created it
            else:
                # edited since (or trimmed by its side): what we sent is the base, so the
                # difference shows as that side's edit in the next plan
                assert match.id is not None
                found_snap = SideSnapshot(
                    id=match.id,
                    version="",
                    class_name=match.class_name,
                    fields=dict(sent.fields),
                    body=sent.body,
                    title=sent.title,
                )
            a, b = (found_snap, source) if side == "vault" else (source, found_snap)
            state.save_link(
                target,
                intent_of[entry.id].link_id,
                a,
                b,
                key=create.key,
                vault_path=a.id if options.vault_ids_are_paths else None,
                hold_versions=not exact,
            )
        for entry, intent in intents:
            if intent.update is not None and intent.link_id is not None:
                _recover_update(intent.link_id, intent.update, adapters, state, options, listings)
            state.journal_done(entry.id)


def _find_moved(
    adapter: Adapter,
    listing: Sequence[RecordRef],
    linked: set[str],
    sent: SentContent,
) -> Record | None:
    """The record an update that also retitled it moved to (the vault renames the note):
    the one unlinked record holding exactly what was sent, if there is exactly one."""
    free = [r.id for r in listing if r.id not in linked]
    found = [
        r
        for r in read_existing(adapter, free).values()
        if dict(r.fields) == sent.fields and r.body == sent.body
    ]
    return found[0] if len(found) == 1 else None


def _holds_sent(found: Record, sent: SentContent, *, moved: bool) -> bool:
    """Whether an update's write landed: ``found`` holds all of what was sent, its fields,
    body, class and title.

    The vault names a note after the title it is sent but may adjust the file name
    (characters a name cannot hold, `` 2`` for a taken one), so a note ``moved`` away
    from its plan-time path by the retitle holds it. A title of ``None`` names nothing and
    is not compared; nor are the title and class of a journal written before they were
    journaled.
    """
    if dict(found.fields) != sent.fields or found.body != sent.body:
        return False
    if sent.class_name is not NOT_JOURNALED and sent.class_name != found.class_name:
        return False
    return sent.title is None or found.title == sent.title or moved


def _recover_update(
    link_id: int,
    update: UpdateIntent,
    adapters: Mapping[Side, Adapter],
    state: StateStore,
    options: SyncOptions,
    listings: Mapping[Side, Sequence[RecordRef]],
) -> None:
    """Redo the lost commit of an update whose every write landed.

    A written side that holds exactly what was sent gets it as its base; the side not
    written gets its plan-time snapshot. If any write did not land (or was edited over
    since), nothing changes: the old base makes the planner merge both sides' edits again.
    Why not always leave it to the planner: our own landed write would look like an edit of
    that side, and a key it removed like a key the remote can no longer hold.
    """
    bases: dict[Side, SideSnapshot] = {}
    moved_to: str | None = None
    for side in SIDES:
        plan_time = update.plan_time[side]
        sent = update.sent.get(side)
        if sent is None:
            bases[side] = plan_time
            continue
        found = read_existing(adapters[side], [plan_time.id]).get(plan_time.id)
        if found is None and side == "vault" and options.vault_ids_are_paths:
            # Retitled (so renamed) before the kill: the note lives under its new name now.
            links = state.links(options.target).values()
            linked = {lk.a_id if side == "vault" else lk.b_id for lk in links}
            found = _find_moved(adapters[side], listings[side], linked, sent)
            moved_to = found.id if found is not None else None
        if found is None or not _holds_sent(found, sent, moved=moved_to is not None):
            # Not landed (or edited since): the planner merges from the old base — under
            # the note's new path if it was renamed, so the move is not a delete + create.
            # A retitle that did not land counts too: stored as landed, the base would say
            # the side holds the new title, and the rename would never reach it.
            if moved_to is not None:
                _move_link(state, options, link_id, update, moved_to)
            return
        bases[side] = SideSnapshot.from_record(found)
    state.save_link(
        options.target,
        link_id,
        bases["vault"],
        bases["remote"],
        key=update.key,
        vault_path=bases["vault"].id if options.vault_ids_are_paths else None,
        hold_versions=update.hold,
    )


def _move_link(
    state: StateStore,
    options: SyncOptions,
    link_id: int,
    update: UpdateIntent,
    vault_id: str,
) -> None:
    """Point the link at the note's new path, keeping its base (unversioned, so the note
    is read again and compared by content)."""
    base = state.snapshots(options.target, [link_id]).get(link_id)
    if base is None:
        return
    state.save_link(
        options.target,
        link_id,
        dataclasses.replace(base.a, id=vault_id, version=""),
        base.b,
        key=update.key,
        vault_path=vault_id,
        hold_versions=update.hold,
    )
