"""The pure planner: (vault listing, remote listing, base state) → a frozen :class:`Plan`.

No I/O happens here. The caller passes full :class:`Record` objects for everything that
needs looking at (see :func:`records_to_read`) and cheap :class:`RecordRef` listings for the
rest: an entry whose two versions equal the base's is unchanged without being read, which
is what makes a no-op re-sync of 10,000 entries cost two listings.

Every branch below carries a one-line comment saying why; ``docs/sync.md`` holds the same
decision table.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from syncbridge.adapter import MISSING, Capabilities, Record, RecordRef
from syncbridge.engine.identity import (
    duplicate_id_message,
    duplicate_ids,
    key_of,
    pair_unlinked,
)
from syncbridge.engine.merge import (
    COMPUTED,
    EntryMerge,
    FieldChange,
    FieldConflict,
    merge_entry,
)
from syncbridge.engine.options import Side, SyncOptions
from syncbridge.state import BaseSnapshot, Link, SideSnapshot, content_hash

__all__ = [
    "BaseState",
    "EntryAction",
    "Plan",
    "Write",
    "key_of",
    "plan_sync",
    "records_to_read",
]

Listing = Mapping[str, Record | RecordRef]


@dataclass(frozen=True)
class BaseState:
    """The state the planner needs: every link, and base snapshots of the links to merge."""

    links: Mapping[int, Link] = field(default_factory=dict)
    snapshots: Mapping[int, BaseSnapshot] = field(default_factory=dict)


@dataclass(frozen=True)
class Write:
    """One adapter call: ``op`` on ``side``. ``record`` is what to send (create/update);
    ``record_id`` / ``expected_version`` are the CAS arguments (update/delete)."""

    side: Side
    op: Literal["create", "update", "delete"]
    record: Record | None = None
    record_id: str | None = None
    expected_version: str | None = None
    changes: tuple[FieldChange, ...] = ()
    """The fields an update changes (``render`` derives a create's from its record)."""


@dataclass(frozen=True)
class EntryAction:
    """Everything to do for one entry, applied by the executor as one unit.

    ``kind``: create | update | delete | recreate | pair | refresh | forget | skip.
    ``vault`` / ``remote``: the entry's vault / remote record as read (None when absent).
    ``why``: the decision-table row that chose this action.
    """

    kind: str
    why: str
    link: Link | None = None
    vault: Record | RecordRef | None = None
    remote: Record | RecordRef | None = None
    writes: tuple[Write, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()
    hold: bool = False
    key: str | None = None
    renamed_from: str | None = None
    subject: str | None = None
    blocking: bool = False
    """A skip the user must resolve (unreadable, duplicate id, ambiguous pairing): the
    command exits 1 until it is fixed. Filtered-out notes are not blocking."""

    @property
    def label(self) -> str:
        """A human name for the entry: the vault id (path) when known, else the remote id."""
        if self.subject is not None:
            return self.subject
        for ref in (self.vault, self.remote):
            if ref is not None and ref.id is not None:
                return ref.id
        if self.link is not None:
            return self.link.vault_id
        return "?"


@dataclass(frozen=True)
class Plan:
    """The actions of one run, the entries left alone, and a safety stop if any."""

    actions: tuple[EntryAction, ...]
    unchanged: int = 0
    vault_count: int = 0
    remote_count: int = 0
    safety_stop: str | None = None

    def writes(self, side: Side | None = None) -> list[Write]:
        return [w for a in self.actions for w in a.writes if side is None or w.side == side]

    def render(self) -> str:
        """The plan as text for ``--dry-run``: per entry and field, like a diff."""
        lines: list[str] = []
        for action in self.actions:
            if action.kind == "refresh":
                continue
            head = f"{action.kind} {action.label}"
            if action.renamed_from:
                head += f" (renamed from {action.renamed_from})"
            lines.append(f"{head}: {action.why}")
            for w in action.writes:
                arrow = "vault" if w.side == "vault" else "remote"
                if w.op == "delete":
                    lines.append(f"  - {arrow}: delete {w.record_id} (to trash)")
                    continue
                if w.op == "create":
                    lines.append(f"  + {arrow}: create")
                changes = w.changes
                if w.op == "create" and w.record is not None:
                    changes = _all(w.record)  # a create sets every field it sends
                for c in changes:
                    old = "" if c.old is MISSING else f"-{_short(c.old)} "
                    new = "(removed)" if c.new is MISSING else f"+{_short(c.new)}"
                    lines.append(f"    {arrow} {c.field}: {old}{new}")
            for conflict in action.conflicts:
                won = conflict.winner or "nobody (manual)"
                lines.append(
                    f"  ! conflict {conflict.field}: vault {_short(conflict.vault_value)} vs"
                    f" remote {_short(conflict.remote_value)} → {won} ({conflict.decided_by})"
                )
        lines.append(f"{self.unchanged} unchanged")
        if self.safety_stop:
            lines.append(f"STOP: {self.safety_stop}")
        return "\n".join(lines)


def _short(value: Any, limit: int = 60) -> str:
    text = "MISSING" if value is MISSING else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def records_to_read(
    vault: Iterable[RecordRef], remote: Iterable[RecordRef], links: Mapping[int, Link]
) -> tuple[set[str], set[str], set[int]]:
    """What the planner must see in full: (vault ids, remote ids, link ids to load bases for).

    An entry whose two versions equal the base's is skipped (the fast path); everything
    else present on a side, and every unlinked record, is read.
    """
    vault_versions = {r.id: r.version for r in vault}
    remote_versions = {r.id: r.version for r in remote}
    unchanged: list[Link] = []
    link_ids: set[int] = set()
    for link in links.values():
        # an empty version means "unknown": read it
        same_vault = (
            bool(link.vault_version) and vault_versions.get(link.vault_id) == link.vault_version
        )
        if same_vault and remote_versions.get(link.remote_id) == link.remote_version:
            unchanged.append(link)
            continue
        link_ids.add(link.link_id)
    for link in unchanged:
        vault_versions.pop(link.vault_id, None)
        remote_versions.pop(link.remote_id, None)
    # The sets are made of what is left, not as every id minus the unchanged ones: a set
    # keeps its size when emptied, and the caller holds these through planning (issue 14:
    # a no-op's memory).
    return set(vault_versions), set(remote_versions), link_ids


def _need(ref: Record | RecordRef | None, what: str) -> Record:
    if not isinstance(ref, Record):
        raise ValueError(f"plan_sync needs the full record of {what}; pass it read")
    return ref


def _similar(record: Record, base: SideSnapshot) -> bool:
    """Same body, and at least one field value in common when the base had fields."""
    if record.body != base.body:
        return False
    if not base.fields:
        return True
    return any(record.fields.get(k, MISSING) == v for k, v in base.fields.items())


class _RenameIndex:
    """Unlinked records of one side by id-field value, version, content hash and body."""

    def __init__(self, free: Mapping[str, Record | RecordRef], id_field: str | None) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.by_version: dict[str, list[str]] = {}
        self.by_hash: dict[str, list[str]] = {}
        self.by_body: dict[str, list[str]] = {}
        self.records = free
        for rid, r in free.items():
            if r.version is not None:
                self.by_version.setdefault(r.version, []).append(rid)
            if isinstance(r, Record):
                key = key_of(r.fields, id_field)
                if key is not None:
                    self.by_key.setdefault(key, []).append(rid)
                self.by_hash.setdefault(content_hash(r.fields, r.body), []).append(rid)
                self.by_body.setdefault(r.body, []).append(rid)

    @staticmethod
    def unique(
        table: Mapping[str, list[str]], value: str | None, free: Mapping[str, object]
    ) -> str | None:
        """The one still-unlinked id filed under ``value``, or None (none, or ambiguous)."""
        if not value:
            return None
        found = [rid for rid in table.get(value, ()) if rid in free]
        return found[0] if len(found) == 1 else None

    def similar(self, base: SideSnapshot | None, free: Mapping[str, object]) -> str | None:
        """The one unlinked record with the base's (non-blank) body and a kept field value."""
        if base is None or not base.body.strip():
            return None
        found = [
            rid
            for rid in self.by_body.get(base.body, ())
            if rid in free and isinstance(rec := self.records[rid], Record) and _similar(rec, base)
        ]
        return found[0] if len(found) == 1 else None


@dataclass
class _Planning:
    """What the phases of :func:`plan_sync` share: both listings, the links still to plan,
    the records no link claims yet (``free_*``) and the actions decided so far."""

    vault: dict[str, Record | RecordRef]
    remote: dict[str, Record | RecordRef]
    base: BaseState
    options: SyncOptions
    capabilities: tuple[Capabilities, Capabilities]
    remote_fields: Mapping[str, frozenset[str]]
    bad_vault: Mapping[str, str]
    bad_remote: Mapping[str, str]
    links: dict[int, Link] = field(default_factory=dict)
    free_vault: dict[str, Record | RecordRef] = field(default_factory=dict)
    free_remote: dict[str, Record | RecordRef] = field(default_factory=dict)
    actions: list[EntryAction] = field(default_factory=list)
    renamed: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    reused: set[int] = field(default_factory=set)
    """Links whose vault path now holds another linked entry (its id-field value): their
    own note is gone from there (deleted, or moved: see :func:`_find_reused_paths`)."""
    unchanged: int = 0


def plan_sync(
    vault_records: Iterable[Record | RecordRef],
    remote_records: Iterable[Record | RecordRef],
    base: BaseState,
    options: SyncOptions,
    *,
    capabilities: tuple[Capabilities, Capabilities] = (Capabilities(), Capabilities()),
    unreadable: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {}),
    remote_fields: Mapping[str, frozenset[str]] | None = None,
) -> Plan:
    """Decide what to do with every entry. Pure: no I/O, no clock, same input → same plan.

    ``vault_records`` / ``remote_records``: every live record of each side, as a full
    :class:`Record` or, for entries unchanged since the base, a :class:`RecordRef`.
    ``unreadable``: per side, ids that exist but cannot be read (id → message); their
    entries are skipped, never taken for deleted. ``remote_fields``: class → the fields the
    remote holds (:meth:`Adapter.held_fields`); a class left out is unknown.
    Raises ``ValueError`` when a record it must look into was passed as a ref only.

    The phases run in this order, each one the rows of the decision table in
    ``docs/sync.md`` it is named after: unreadable entries, renames, linked entries (with
    records sharing an id), filtered-out new notes, re-pairing of unlinked records, new
    entries, and last the safety stops.
    """
    p = _Planning(
        vault={r.id: r for r in vault_records if r.id is not None},
        remote={r.id: r for r in remote_records if r.id is not None},
        base=base,
        options=options,
        capabilities=capabilities,
        remote_fields=remote_fields or {},
        bad_vault=unreadable[0],
        bad_remote=unreadable[1],
    )
    _skip_unreadable(p)
    _keep_ignored(p)
    _find_reused_paths(p)
    _find_renames(p)
    _plan_linked(p)
    _keep_filtered_out(p)
    _pair_unlinked(p)
    _plan_new(p)
    # unreadable records are present: a side holding only those is not "empty"
    n_vault, n_remote = len(p.vault) + len(p.bad_vault), len(p.remote) + len(p.bad_remote)
    plan = Plan(tuple(p.actions), unchanged=p.unchanged, vault_count=n_vault, remote_count=n_remote)
    return Plan(
        plan.actions,
        unchanged=p.unchanged,
        vault_count=n_vault,
        remote_count=n_remote,
        safety_stop=_safety_stop(plan, len(base.links), options),
    )


def _skip_unreadable(p: _Planning) -> None:
    """Rows "unreadable (broken frontmatter)": an entry that exists but cannot be read is
    skipped and reported, never taken for deleted. Sets the links still to plan and the
    records no link claims."""
    for link in p.base.links.values():
        problem = p.bad_vault.get(link.vault_id) or p.bad_remote.get(link.remote_id)
        if problem is not None:
            # exists but cannot be read (broken frontmatter): skip it, never delete it
            p.actions.append(
                EntryAction(
                    "skip",
                    f"unreadable: {problem}",
                    link=link,
                    subject=link.vault_id,
                    blocking=True,
                )
            )
        else:
            p.links[link.link_id] = link
    linked_vault = {link.vault_id for link in p.base.links.values()}
    linked_remote = {link.remote_id for link in p.base.links.values()}
    for bad, linked in ((p.bad_vault, linked_vault), (p.bad_remote, linked_remote)):
        for bad_id, problem in bad.items():
            if bad_id not in linked:
                # new and unreadable: nothing to send until it can be read
                p.actions.append(
                    EntryAction("skip", f"unreadable: {problem}", subject=bad_id, blocking=True)
                )
    p.free_vault = {i: r for i, r in p.vault.items() if i not in linked_vault}
    p.free_remote = {i: r for i, r in p.remote.items() if i not in linked_remote}


def _find_reused_paths(p: _Planning) -> None:
    """Row "path taken by another entry": the note at a link's vault path carries the id of
    another linked entry whose own path is gone or taken too (N1 deleted and N2 renamed to
    N1.md; N1 and N2 swapped). That link's note is gone from the path, and the note there
    is free to be found as the other entry's rename. A note whose id was merely edited (no
    other entry holds the new one) stays the same entry, as before."""
    id_field = p.options.id_field
    if id_field is None:
        return
    by_key = {link.key: link for link in p.links.values() if link.key is not None}
    held: dict[int, str] = {}  # link id → key of the note at its path, where it differs
    for link in p.links.values():
        rec = p.vault.get(link.vault_id)
        if link.key is None or not isinstance(rec, Record) or rec.version == link.vault_version:
            continue
        key = key_of(rec.fields, id_field)
        if key is not None and key != link.key:
            held[link.link_id] = key
    for link_id, key in held.items():
        other = by_key.get(key)
        if other is None or other.link_id == link_id:
            continue
        if other.vault_id in p.vault and other.link_id not in held:
            continue  # the entry with that id is still at its own path: a duplicate id
        p.reused.add(link_id)
        path = p.links[link_id].vault_id
        p.free_vault[path] = p.vault[path]


def _find_renames(p: _Planning) -> None:
    """Row "renamed": a linked id gone from its side, and exactly one unlinked record there
    that is the same entry (same id-field value, same version, or same content) → move the
    link. Indexed once per side, so a folder of 1,000 moved notes costs 1,000 lookups."""
    indexes: list[_RenameIndex | None] = [None, None]  # built on the first missing link
    for link in p.links.values():
        moved: list[str | None] = [None, None]
        snap = p.base.snapshots.get(link.link_id)
        for i, (ids, free, old, version, chash) in enumerate(
            (
                (p.vault, p.free_vault, link.vault_id, link.vault_version, link.vault_hash),
                (p.remote, p.free_remote, link.remote_id, link.remote_version, link.remote_hash),
            )
        ):
            if (old in ids and not (i == 0 and link.link_id in p.reused)) or not free:
                continue
            index = indexes[i]
            if index is None:
                index = indexes[i] = _RenameIndex(free, p.options.id_field)
            side_base = (snap.vault if i == 0 else snap.remote) if snap else None
            match = (
                index.unique(index.by_key, link.key, free)  # same id-field value: strongest
                or index.unique(index.by_version, version, free)  # bytes untouched by the move
                or index.unique(index.by_hash, chash, free)  # same content, new name
                or index.similar(side_base, free)  # same body, some fields kept: moved + edited
            )
            if match is not None:
                moved[i] = match
                del free[match]
        if moved != [None, None]:
            p.renamed[link.link_id] = (moved[0], moved[1])


def _keep_ignored(p: _Planning) -> None:
    """Row "ignored in the vault": a linked note gone from the vault's listing because its
    path is ignored now (``[vault] ignore``) is frozen, as a filtered-out one is: the link
    and the remote record are kept, neither side is written."""
    if not (p.options.filters.vault_ignore and p.options.vault_ids_are_paths):
        return
    for link_id, link in list(p.links.items()):
        if link.vault_id in p.vault:
            continue
        pattern = p.options.filters.ignored_in_vault(link.vault_id)
        if pattern is not None:
            del p.links[link_id]
            p.actions.append(
                EntryAction(
                    "skip",
                    f"ignored in the vault by {pattern!r}: its record on the target is kept"
                    " (frozen); delete it there if you mean to",
                    link=link,
                    subject=link.vault_id,
                )
            )


def _plan_linked(p: _Planning) -> None:
    """The rows of linked entries (unchanged, changed on one or both sides, deleted), and
    the two rows of records sharing an id with another."""
    # Records of one side sharing an id are all skipped until each has its own (the rule
    # `syncbridge doctor` reports): a linked one is frozen, an unlinked one neither paired
    # nor created — else a copied note, or a row inserted with an existing id, would be
    # synced as a second entry carrying the same id.
    dup_vault, dup_remote = _duplicate_holders(
        p.vault, p.remote, p.links.values(), p.renamed, p.options.id_field
    )

    for link in p.links.values():
        new_vault, new_remote = p.renamed.get(link.link_id, (None, None))
        vault_id, remote_id = new_vault or link.vault_id, new_remote or link.remote_id
        problem = dup_vault.get(vault_id) or dup_remote.get(remote_id)
        if problem is not None:
            # shares its id with another record: frozen (link and base kept) until fixed
            p.actions.append(
                EntryAction(
                    "skip",
                    problem,
                    link=link,
                    subject=vault_id if vault_id in p.vault else remote_id,
                    blocking=True,
                )
            )
            continue
        vault, remote = p.vault.get(vault_id), p.remote.get(remote_id)
        if link.link_id in p.reused and new_vault is None:
            vault = None  # its path holds another entry now: this note is gone
        snap = p.base.snapshots.get(link.link_id)
        rename = link.vault_id if new_vault else (link.remote_id if new_remote else None)
        same_vault = (
            vault is not None and vault.version == link.vault_version and bool(link.vault_version)
        )
        same_remote = (
            remote is not None
            and remote.version == link.remote_version
            and bool(link.remote_version)
        )
        if same_vault and same_remote and rename is None:
            p.unchanged += 1  # both versions equal the base: unchanged, not even read
            continue
        p.actions.append(
            _plan_link(
                link, vault, remote, snap, p.options, p.capabilities, rename, p.remote_fields
            )
        )

    for rid in [rid for rid in p.free_vault if rid in dup_vault]:
        # shares its id with another note: neither paired nor created
        p.actions.append(
            EntryAction("skip", dup_vault[rid], vault=p.free_vault.pop(rid), blocking=True)
        )
    for rid in [rid for rid in p.free_remote if rid in dup_remote]:
        remote_rec = p.free_remote.pop(rid)
        p.actions.append(
            EntryAction(
                "skip",
                dup_remote[rid],
                remote=remote_rec,
                blocking=True,
                subject=_remote_name(remote_rec, None),
            )
        )


def _keep_filtered_out(p: _Planning) -> None:
    """Rows "new, filtered out" and "new, same id as a filtered-out note": a new note the
    target's filters keep out is never sent, not even by pairing."""
    filtered_keys: set[str] = set()
    for vault_id, r in list(p.free_vault.items()):
        rec = _need(r, f"new vault record {vault_id}")
        reason = p.options.filters.reason_excluded(
            rec, path=vault_id if p.options.vault_ids_are_paths else None
        )
        if reason is not None:
            # never sent
            p.actions.append(EntryAction("skip", f"filtered out: {reason}", vault=rec))
            del p.free_vault[vault_id]
            key = key_of(rec.fields, p.options.id_field)
            if key is not None:
                filtered_keys.add(key)
    for remote_id, r in list(p.free_remote.items()):
        rec = _need(r, f"new remote record {remote_id}")
        if key_of(rec.fields, p.options.id_field) in filtered_keys:
            # the same entry as a note kept out of this target: importing (or pairing) it
            # would duplicate that note, so leave both alone
            p.actions.append(
                EntryAction("skip", "same id as a note filtered out of this target", remote=rec)
            )
            del p.free_remote[remote_id]


def _pair_unlinked(p: _Planning) -> None:
    """Rows "unlinked / unlinked, same entry" and "several equally likely"
    (:func:`~syncbridge.engine.identity.pair_unlinked`): unlinked records on both sides that
    are the same entry — an interrupted first sync, a lost state file — are paired by id,
    exact title, then content, never duplicated; a group with no one-to-one answer is
    neither paired nor created, and reported."""
    if not (p.free_vault and p.free_remote):
        return
    pairing = pair_unlinked(
        {i: _need(r, f"new vault record {i}") for i, r in p.free_vault.items()},
        {i: _need(r, f"new remote record {i}") for i, r in p.free_remote.items()},
        p.options.id_field,
    )
    for vault_rec, remote_rec in pairing.pairs:
        assert vault_rec.id is not None and remote_rec.id is not None
        del p.free_vault[vault_rec.id]
        del p.free_remote[remote_rec.id]
        held = p.remote_fields.get(remote_rec.class_name)
        p.actions.append(_plan_pair(vault_rec, remote_rec, p.options, p.capabilities, held))
    for amb in pairing.ambiguous:
        for vault_id in amb.vault_ids:
            p.actions.append(
                EntryAction(
                    "skip",
                    amb.message(vault_id, "vault"),
                    vault=p.free_vault.pop(vault_id),
                    blocking=True,
                )
            )
        for remote_id in amb.remote_ids:
            p.actions.append(
                EntryAction(
                    "skip",
                    amb.message(remote_id, "remote"),
                    remote=p.free_remote.pop(remote_id),
                    subject=amb.remote_label(remote_id),
                    blocking=True,
                )
            )


def _plan_new(p: _Planning) -> None:
    """Rows "new / —" and "— / new": what only one side has is created on the other (unless
    that side takes no writes)."""
    for vault_id, r in p.free_vault.items():
        rec = _need(r, f"new vault record {vault_id}")
        if p.capabilities[1].read_only:
            continue  # the remote takes no writes
        p.actions.append(
            EntryAction(
                "create",
                "new in the vault",  # only the vault has it: create it on the remote
                vault=rec,
                writes=(Write("remote", "create", record=_copy_for(rec)),),
                key=key_of(rec.fields, p.options.id_field),
            )
        )
    for remote_id, r in p.free_remote.items():
        rec = _need(r, f"new remote record {remote_id}")
        if p.capabilities[0].read_only:
            continue  # the vault takes no writes
        writes, conflicts = _note_from_remote(rec, None, p.options, p.capabilities)
        p.actions.append(
            EntryAction(
                "create",
                "new on the remote",  # only the remote has it: create the note
                remote=rec,
                writes=writes,
                conflicts=conflicts,
                key=key_of(rec.fields, p.options.id_field),
            )
        )


def _duplicate_holders(
    vault: Listing,
    remote: Listing,
    links: Collection[Link],
    renamed: Mapping[int, tuple[str | None, str | None]],
    id_field: str | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Per side, record id → the skip message of every record sharing its id-field value
    with another record of that side (:func:`identity.duplicate_ids`), and of every
    unlinked record whose id a *linked* record of the other side holds (creating it would
    give that side the id twice). A record not read (unchanged since its base) has its
    link's key (``renamed``: link id → its new ids, None where unchanged)."""
    if id_field is None:
        return {}, {}
    linked_key_vault: dict[str, str | None] = {}
    linked_key_remote: dict[str, str | None] = {}
    for lk in links:
        new_vault, new_remote = renamed.get(lk.link_id, (None, None))
        vault_id, remote_id = new_vault or lk.vault_id, new_remote or lk.remote_id
        linked_key_vault[vault_id] = linked_key_remote[remote_id] = lk.key
    sides = ((vault, linked_key_vault), (remote, linked_key_remote))
    # records without an id are left out: they share nothing
    keys = [
        {
            rid: k
            for rid, r in listing.items()
            if (k := key_of(r.fields, id_field) if isinstance(r, Record) else linked_key.get(rid))
            is not None
        }
        for listing, linked_key in sides
    ]

    partner_of_remote: dict[str, str] | None = None  # built only to name a duplicate (rare)

    def name(i: int, rid: str) -> str:
        nonlocal partner_of_remote
        if i == 0:
            return rid
        if partner_of_remote is None:
            partner_of_remote = {}
            for lk in links:
                new_vault, new_remote = renamed.get(lk.link_id, (None, None))
                partner_of_remote[new_remote or lk.remote_id] = new_vault or lk.vault_id
        return _remote_name(remote[rid], partner_of_remote.get(rid))

    out: list[dict[str, str]] = [{}, {}]
    for i, (_, linked_key) in enumerate(sides):
        what = "note" if i == 0 else "record"
        for key, holders in duplicate_ids(keys[i]).items():
            for holder in holders:
                others = [name(i, h) for h in holders if h != holder]
                out[i][holder] = duplicate_id_message(id_field, key, others, what=what)
        # an unlinked record carrying the id of an entry linked on the other side
        other_linked = sides[1 - i][1]
        linked_other = {
            k: rid for rid, k in keys[1 - i].items() if k is not None and rid in other_linked
        }
        for rid, held in keys[i].items():
            if held is None or rid in linked_key or rid in out[i] or held not in linked_other:
                continue
            out[i][rid] = duplicate_id_message(
                id_field, held, [name(1 - i, linked_other[held])], what=what
            )
    return out[0], out[1]


def _remote_name(r: Record | RecordRef, linked_to: str | None) -> str:
    """``remote record 7 ("Grief")``, or ``(linked to Psyche/Grief.md)`` when not read."""
    title = r.title if isinstance(r, Record) else None
    if title:
        return f"remote record {r.id} ({json.dumps(title, ensure_ascii=False)})"
    return f"remote record {r.id}" + (f" (linked to {linked_to})" if linked_to else "")


def _note_from_remote(
    rec: Record,
    base: SideSnapshot | None,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities],
) -> tuple[tuple[Write, ...], tuple[FieldConflict, ...]]:
    """The writes that create a note from remote record ``rec``, and their conflicts.

    The note gets no field the vault computes (Formula, Lookup, Canvas: vault → target
    only). If the record holds such fields, it is updated to hold the vault's state (none
    yet), as an edit of them would be, and a value typed there — one its ``base`` does not
    hold (a new record: any) — is logged as a conflict the remote lost
    (``decided_by="computed"``): it never vanishes silently.
    """
    computed = options.computed_fields.get(rec.class_name, ())
    writes = [Write("vault", "create", record=_copy_for(rec, drop=computed))]
    held = [k for k in computed if k in rec.fields]
    if not held or caps[1].read_only:
        return tuple(writes), ()
    conflicts = tuple(
        FieldConflict(k, MISSING, rec.fields[k], "vault", COMPUTED)
        for k in held
        if rec.fields[k] not in (None, "", [])
        and (base is None or base.fields.get(k, MISSING) != rec.fields[k])
    )
    cleared = Record(
        class_name=rec.class_name,
        fields={k: v for k, v in rec.fields.items() if k not in held},
        body=rec.body,
        id=rec.id,
        version=rec.version,
        title=rec.title,
        extra=rec.extra,
    )
    writes.append(
        Write(
            "remote",
            "update",
            record=cleared,
            record_id=rec.id,
            expected_version=rec.version,
            changes=tuple(FieldChange(k, rec.fields[k], MISSING) for k in held),
        )
    )
    return tuple(writes), conflicts


def _copy_for(rec: Record, drop: Iterable[str] = ()) -> Record:
    """The record to create on the other side: same content (less ``drop``), no id. The
    source's ``path`` hint is kept (the vault path: Notion stores it in a property)."""
    skip = set(drop)
    fields = {k: v for k, v in rec.fields.items() if k not in skip}
    path = rec.extra.get("path")
    return Record(
        class_name=rec.class_name,
        fields=fields,
        body=rec.body,
        title=rec.title,
        extra={"path": path} if isinstance(path, str) else {},
    )


def _all(rec: Record) -> tuple[FieldChange, ...]:
    changes = [FieldChange(k, MISSING, v) for k, v in rec.fields.items()]
    if rec.body:
        changes.append(FieldChange("body", MISSING, rec.body))
    return tuple(changes)


def _safety_stop(plan: Plan, linked: int, options: SyncOptions) -> str | None:
    """The mass-delete guard (rclone bisync's --max-delete, vdirsyncer's empty-side check)."""
    if options.force_delete or linked == 0:
        return None
    for side, count in (("vault", plan.vault_count), ("remote", plan.remote_count)):
        if count == 0:
            return (
                f"the {side} side is empty but {linked} entries were linked. If its "
                "database or folder was moved, deleted or replaced, or its tables dropped, "
                "put it back (or fix the path in the config) and sync again; if emptying "
                "it was really intended, re-run with --force-delete (deleted notes go to "
                "the vault's .trash/)"
            )
    sides: tuple[Side, ...] = ("vault", "remote")
    for side in sides:
        deletes = sum(1 for w in plan.writes(side) if w.op == "delete")
        if deletes and deletes / linked > options.max_delete_fraction:
            return (
                f"this run would delete {deletes} of {linked} linked entries on the {side} "
                f"side (more than {options.max_delete_fraction:.0%}); if that is really "
                "intended, re-run with --force-delete"
            )
    return None


UNSAFE_DELETE = (
    "not deleted on the other side: it checks versions, then deletes, and has no trash, so an "
    "edit made in between would be lost; delete it there yourself"
)


def _deletes_safely(caps: Capabilities) -> bool:
    """Whether the engine may delete on a side: its delete checks the version atomically,
    or what it deletes goes to a trash (where an edit made meanwhile survives)."""
    return caps.atomic_writes or caps.supports_trash


def _plan_link(
    link: Link,
    vault: Record | RecordRef | None,
    remote: Record | RecordRef | None,
    snap: BaseSnapshot | None,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities],
    rename: str | None,
    remote_fields: Mapping[str, frozenset[str]],
) -> EntryAction:
    """One linked entry that is not trivially unchanged."""
    vault_changed = vault is None or vault.version != link.vault_version or not link.has_base
    remote_changed = remote is None or remote.version != link.remote_version or not link.has_base
    if vault is None and remote is None:
        return EntryAction("forget", "deleted on both sides", link=link)  # nothing left to sync
    if vault is None:
        assert remote is not None
        if not remote_changed and not _deletes_safely(caps[1]):
            # a check-then-delete remote without a trash could destroy an edit made between
            # its check and its delete: keep the record, say so (every run, until resolved)
            return EntryAction(
                "skip",
                f"deleted in the vault; {UNSAFE_DELETE}",
                link=link,
                remote=remote,
                subject=link.vault_id,
            )
        if not remote_changed:
            # deleted in the vault, untouched on the remote: delete there (to its trash)
            return EntryAction(
                "delete",
                "deleted in the vault",
                link=link,
                remote=remote,
                writes=(
                    Write("remote", "delete", record_id=remote.id, expected_version=remote.version),
                ),
            )
        remote_rec = _need(remote, f"remote record {remote.id}")
        writes, conflicts = _note_from_remote(
            remote_rec, snap.remote if snap is not None and link.has_base else None, options, caps
        )
        # deleted in the vault but edited on the remote: the edit wins, re-create the note
        return EntryAction(
            "recreate",
            "deleted in the vault, edited on the remote: the edit wins",
            link=link,
            remote=remote_rec,
            writes=writes,
            conflicts=conflicts,
            key=key_of(remote_rec.fields, options.id_field),
        )
    if remote is None:
        if not vault_changed and not _deletes_safely(caps[0]):
            # the same rule for a vault side that checks, then deletes, without a trash
            return EntryAction(
                "skip", f"deleted on the remote; {UNSAFE_DELETE}", link=link, vault=vault
            )
        if not vault_changed:
            # deleted on the remote, untouched in the vault: delete the note (to .trash)
            return EntryAction(
                "delete",
                "deleted on the remote",
                link=link,
                vault=vault,
                writes=(
                    Write("vault", "delete", record_id=vault.id, expected_version=vault.version),
                ),
            )
        vault_rec = _need(vault, f"vault record {vault.id}")
        # deleted on the remote but edited in the vault: the edit wins, re-create remotely
        return EntryAction(
            "recreate",
            "deleted on the remote, edited in the vault: the edit wins",
            link=link,
            vault=vault_rec,
            writes=(Write("remote", "create", record=_copy_for(vault_rec)),),
            key=key_of(vault_rec.fields, options.id_field),
        )
    vault_rec = _need(vault, f"vault record {vault.id}")
    remote_rec = _need(remote, f"remote record {remote.id}")
    reason = options.filters.reason_excluded(
        vault_rec, path=vault_rec.id if options.vault_ids_are_paths else None
    )
    if reason is not None:
        # filtered out after being linked: frozen, the remote record is kept, not deleted
        return EntryAction(
            "skip", f"filtered out: {reason}", link=link, vault=vault_rec, remote=remote_rec
        )
    held = remote_fields.get(remote_rec.class_name)
    merged = merge_entry(
        vault_rec, remote_rec, snap if link.has_base else None, options, caps, held
    )
    why = {
        (True, False): "changed in the vault",
        (False, True): "changed on the remote",
        (True, True): "changed on both sides",
        (False, False): "renamed",
    }[(vault_changed, remote_changed)]
    if not link.has_base:
        why = "linked, never agreed: merged without a base"
    return _action_from_merge(
        "update", why, link, vault_rec, remote_rec, merged, options, caps, rename
    )


def _plan_pair(
    vault: Record,
    remote: Record,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities],
    held: frozenset[str] | None,
) -> EntryAction:
    """Two unlinked records found to be the same entry: link them and merge with no base."""
    merged = merge_entry(vault, remote, None, options, caps, held)
    return _action_from_merge(
        "pair",
        "same entry on both sides, not linked yet",
        None,
        vault,
        remote,
        merged,
        options,
        caps,
        None,
    )


def _action_from_merge(
    kind: str,
    why: str,
    link: Link | None,
    vault: Record,
    remote: Record,
    merged: EntryMerge,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities],
    rename: str | None,
) -> EntryAction:
    writes: list[Write] = []
    vault_dirty, remote_dirty = bool(merged.vault_changes), bool(merged.remote_changes)
    if vault_dirty and not caps[0].read_only:
        writes.append(
            Write(
                "vault",
                "update",
                record=Record(
                    class_name=vault.class_name,
                    fields=merged.vault_fields,
                    body=merged.vault_body,
                    id=vault.id,
                    version=vault.version,
                    title=merged.vault_title,
                    extra=vault.extra,
                ),
                record_id=vault.id,
                expected_version=vault.version,
                changes=merged.vault_changes,
            )
        )
    if remote_dirty and not caps[1].read_only:
        writes.append(
            Write(
                "remote",
                "update",
                record=Record(
                    class_name=merged.remote_class or remote.class_name,
                    fields=merged.remote_fields,
                    body=merged.remote_body,
                    id=remote.id,
                    version=remote.version,
                    title=merged.remote_title,
                    extra=remote.extra,
                ),
                record_id=remote.id,
                expected_version=remote.version,
                changes=merged.remote_changes,
            )
        )
    if not writes and kind == "update":
        # content equal to the base on both sides (a touch, an echo, the same edit on both):
        # nothing to write, only the base's versions to refresh
        kind, why = "refresh", "no content change"
        if rename:
            kind, why = "rename", "renamed, content unchanged"
    key = key_of(vault.fields, options.id_field) or key_of(remote.fields, options.id_field)
    return EntryAction(
        kind,
        why,
        link=link,
        vault=vault,
        remote=remote,
        writes=tuple(writes),
        conflicts=merged.conflicts,
        hold=merged.hold,
        key=key,
        renamed_from=rename,
    )
