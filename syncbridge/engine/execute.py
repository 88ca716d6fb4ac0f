"""The executor: list both sides, plan, then apply the plan chunk by chunk with a journal.

Per chunk of up to :data:`CHUNK` entries: every action (and its conflicts) is journaled in
one transaction *before* the first write, the writes run with compare-and-swap, the written
records are read back, and one transaction stores the new bases and clears the journal
entries. An entry whose writes did not all succeed keeps
its old base, so the next run sees both sides' changes again: state commits only what
succeeded (Unison's archive rule). A run killed anywhere leaves at most the entries in the
journal to reconcile, which the next run does first (:func:`_recover`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from syncbridge.adapter import MISSING, Adapter, Record, RecordRef
from syncbridge.engine import faults
from syncbridge.engine.faults import FaultInjector
from syncbridge.engine.merge import BODY
from syncbridge.engine.options import Side, SyncOptions
from syncbridge.engine.plan import (
    BaseState,
    EntryAction,
    Plan,
    Write,
    key_of,
    plan_sync,
    records_to_read,
)
from syncbridge.errors import SafetyStop, SkipError
from syncbridge.schema.model import VaultSchema
from syncbridge.state import ConflictEntry, JournalEntry, SideSnapshot, StateStore

__all__ = ["SideCounts", "SyncReport", "run_sync"]

SIDES: tuple[Side, ...] = ("vault", "remote")
CHUNK = 200
"""Actions journaled, written and committed together (two state transactions a chunk)."""


@dataclass
class SideCounts:
    """What one run did to one side. ``conflicts`` counts conflicts this side lost."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "conflicts": self.conflicts,
            "unchanged": self.unchanged,
        }


@dataclass
class SyncReport:
    """The outcome of one run of one target (or what it would do, under ``dry_run``)."""

    target: str
    dry_run: bool = False
    vault: SideCounts = field(default_factory=SideCounts)
    remote: SideCounts = field(default_factory=SideCounts)
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    recovered: int = 0
    safety_stop: str | None = None
    plan: Plan | None = None

    def side(self, side: Side) -> SideCounts:
        return self.vault if side == "vault" else self.remote

    @property
    def writes(self) -> int:
        """Adapter writes made (or planned), both sides."""
        return sum(c.created + c.updated + c.deleted for c in (self.vault, self.remote))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per side counts, errors and skipped notes with messages."""
        return {
            "target": self.target,
            "dry_run": self.dry_run,
            "vault": self.vault.to_dict(),
            "remote": self.remote.to_dict(),
            "errors": list(self.errors),
            "skipped": list(self.skipped),
            "recovered": self.recovered,
            "safety_stop": self.safety_stop,
        }


def _read_existing(adapter: Adapter, ids: Iterable[str]) -> dict[str, Record]:
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


@dataclass
class _Staged:
    """An action journaled and about to be (or being) written."""

    action: EntryAction
    link_id: int | None
    journal_id: int
    written: dict[Side, tuple[Write, RecordRef | None]] = field(default_factory=dict)
    error: str | None = None


def _as_sent(w: Write, ref: RecordRef) -> Record:
    """The record as we sent it, for a side that cannot read it back."""
    assert w.record is not None
    return Record(
        class_name=w.record.class_name,
        fields=dict(w.record.fields),
        body=w.record.body,
        id=ref.id,
        version=ref.version,
        modified=ref.modified,
        title=w.record.title,
    )


class _Executor:
    def __init__(
        self,
        vault: Adapter,
        remote: Adapter,
        state: StateStore,
        options: SyncOptions,
        report: SyncReport,
        injector: FaultInjector | None,
    ) -> None:
        self.adapters: dict[Side, Adapter] = {"vault": vault, "remote": remote}
        self.state = state
        self.options = options
        self.report = report
        self.injector = injector

    def _fault(self, point: str, *, since: int | None = None) -> None:
        if self.injector is not None:
            self.injector.hit(point, since=since)

    def _perform(self, w: Write) -> RecordRef | None:
        adapter = self.adapters[w.side]
        if self.injector is not None:
            self.injector.count += 1
        self._fault("before")
        ref: RecordRef | None = None
        if w.op == "create":
            assert w.record is not None
            ref = adapter.create(w.record)
        elif w.op == "update":
            assert w.record is not None and w.expected_version is not None
            ref = adapter.update(w.record, expected_version=w.expected_version)
        else:
            assert w.record_id is not None and w.expected_version is not None
            adapter.delete(w.record_id, expected_version=w.expected_version)
        self._fault("after")
        return ref

    def _conflict_entries(self, action: EntryAction, link_id: int | None) -> list[ConflictEntry]:
        entries = []
        for c in action.conflicts:
            copy_id = None
            entry = ConflictEntry(
                target=self.options.target,
                link_id=link_id,
                vault_id=action.a.id if action.a else None,
                remote_id=action.b.id if action.b else None,
                field=c.field,
                vault_value=c.vault_value,
                remote_value=c.remote_value,
                winner=c.winner,
                decided_by=c.decided_by,
            )
            if self.state.open_conflict_id(entry) is not None:
                continue  # seen before and still open (manual): logged and copied already
            if c.field == BODY and isinstance(action.a, Record):
                loser = c.remote_value if c.winner != "remote" else c.vault_value
                label = dt.datetime.now().strftime("%Y-%m-%d %H%M")
                copy = Record(
                    class_name=action.a.class_name,
                    fields=dict(action.a.fields),
                    body=loser,
                    id=action.a.id,
                    title=action.a.title,
                )
                copy_id = self.adapters["vault"].write_conflict_copy(copy, label)
            entries.append(replace(entry, copy_id=copy_id))
        return entries

    def _count_unchanged(self, action: EntryAction) -> None:
        for side, rec in (("vault", action.a), ("remote", action.b)):
            if rec is not None and not any(w.side == side for w in action.writes):
                self.report.side(side).unchanged += 1  # type: ignore[arg-type]

    def _begin(self, action: EntryAction) -> _Staged | None:
        """Count, journal and (for pairs) pre-link one action; ``None`` if it has no writes.

        Runs inside the chunk's first transaction, before any write of the chunk.
        """
        target = self.options.target
        link = action.link
        if action.kind == "skip":
            # filtered out or unreadable: nothing is written either way, the link is kept
            self.report.skipped.append({"id": action.label, "message": action.why})
            return None
        if action.kind == "forget":
            assert link is not None
            self.state.delete_link(link.link_id)  # gone from both sides: nothing to keep
            return None
        self._count_unchanged(action)
        for c in action.conflicts:
            for side in SIDES:
                if c.winner != side:
                    self.report.side(side).conflicts += 1
        link_id = link.link_id if link else None
        if not action.writes:
            # refresh / rename / pair already equal / manual conflict held: only the base
            # changes, and an open conflict is logged (with its copy) the first time
            link_id = self._save(action, link_id, {}, None)
            for entry in self._conflict_entries(action, link_id):
                self.state.log_conflict(entry)
            return None
        if action.kind == "pair":
            # link first, without a base: if the run dies mid-way, the pair stays paired
            assert isinstance(action.a, Record) and isinstance(action.b, Record)
            link_id = self.state.save_link(
                target,
                None,
                SideSnapshot.from_record(action.a),
                SideSnapshot.from_record(action.b),
                key=action.key,
                has_base=False,
            )
        payload: dict[str, Any] = {
            "kind": action.kind,
            "link_id": link_id,
            "writes": [{"side": w.side, "op": w.op, "id": w.record_id} for w in action.writes],
        }
        creates = [w for w in action.writes if w.op == "create"]
        source = action.a if creates and creates[0].side == "remote" else action.b
        if creates and isinstance(source, Record):
            sent = creates[0].record
            assert sent is not None
            payload["create"] = {
                "side": creates[0].side,
                "key": action.key,
                "source": SideSnapshot.from_record(source).to_json(),
                "sent": {"fields": dict(sent.fields), "body": sent.body, "title": sent.title},
            }
        updates = [w for w in action.writes if w.op == "update"]
        if updates and isinstance(action.a, Record) and isinstance(action.b, Record):
            # enough to redo the commit if every write landed (see _recover_update)
            payload["update"] = {
                "plan_time": {
                    "vault": SideSnapshot.from_record(action.a).to_json(),
                    "remote": SideSnapshot.from_record(action.b).to_json(),
                },
                "sent": {
                    w.side: {"fields": dict(w.record.fields), "body": w.record.body}
                    for w in updates
                    if w.record is not None
                },
                "key": action.key,
                "hold": action.hold,
            }
        journal_id = self.state.journal_begin(
            target, action.kind, payload, self._conflict_entries(action, link_id)
        )
        return _Staged(action, link_id, journal_id)

    def _write(self, staged: _Staged) -> None:
        """Perform one action's writes in order; stop at the first that fails."""
        try:
            for w in staged.action.writes:
                staged.written[w.side] = (w, self._perform(w))
        except SkipError as exc:
            staged.error = str(exc)

    def _save(
        self,
        action: EntryAction,
        link_id: int | None,
        read_back: Mapping[tuple[Side, str], Record],
        journal_id: int | None,
        written: Mapping[Side, tuple[Write, RecordRef | None]] | None = None,
    ) -> int:
        """Store the entry's new base (both sides as they are now); return the link id."""
        final: dict[Side, Record | RecordRef | None] = {"vault": action.a, "remote": action.b}
        for side, (w, ref) in (written or {}).items():
            if ref is None:
                continue
            # what the side really stored (it may drop or normalise values); if it vanished
            # right after our write, what we sent is the best base there is
            final[side] = read_back.get((side, ref.id)) or _as_sent(w, ref)
        a, b = final["vault"], final["remote"]
        assert isinstance(a, Record) and isinstance(b, Record), "both sides must be read"
        return self.state.save_link(
            self.options.target,
            link_id,
            SideSnapshot.from_record(a),
            SideSnapshot.from_record(b),
            key=action.key,
            has_base=True,
            vault_path=a.id if self.options.vault_ids_are_paths else None,
            hold_versions=action.hold,
            journal_id=journal_id,
        )

    def _finish(self, staged: _Staged, read_back: Mapping[tuple[Side, str], Record]) -> None:
        """Record one action's outcome (inside the chunk's second transaction)."""
        action = staged.action
        for w, _ in staged.written.values():
            self._count_write(w)
        if staged.error is not None:
            # Not every write succeeded: keep the old base, so the next run sees both
            # sides' edits again and merges them (the edit made meanwhile is not lost).
            self.report.errors.append({"id": action.label, "message": staged.error})
            self.state.journal_done(staged.journal_id)
            return
        if any(w.op == "delete" for w in action.writes):
            assert action.link is not None
            self.state.delete_link(action.link.link_id, journal_id=staged.journal_id)
            return
        self._save(action, staged.link_id, read_back, staged.journal_id, staged.written)

    def run_chunk(self, actions: Sequence[EntryAction]) -> None:
        """Apply a chunk of actions: journal all, write each, read back, commit all.

        Side effects: two state transactions and the adapters' writes and reads.
        """
        with self.state.batch():
            staged = [st for st in (self._begin(a) for a in actions) if st is not None]
        first_write = (self.injector.count + 1) if self.injector is not None else None
        for st in staged:
            self._write(st)
        wanted: dict[Side, set[str]] = {"vault": set(), "remote": set()}
        for st in staged:
            if st.error is None:
                for side, (_, ref) in st.written.items():
                    if ref is not None:
                        wanted[side].add(ref.id)
        read_back: dict[tuple[Side, str], Record] = {}
        for side, ids in wanted.items():
            for rid, rec in _read_existing(self.adapters[side], ids).items():
                read_back[(side, rid)] = rec
        with self.state.batch():
            for st in staged:
                self._finish(st, read_back)
        if first_write is not None and self.injector is not None:
            self._fault("committed", since=first_write)

    def _count_write(self, w: Write) -> None:
        counts = self.report.side(w.side)
        if w.op == "create":
            counts.created += 1
        elif w.op == "update":
            counts.updated += 1
        else:
            counts.deleted += 1


def _sent_matches(
    candidate: Record,
    sent: Mapping[str, Any],
    key: str | None,
    id_field: str | None,
    supports_body: bool,
) -> bool:
    """Whether ``candidate`` is what an interrupted create sent (the side may have dropped
    fields it cannot hold, or the body if it stores none, but kept nothing else)."""
    if key is not None:
        return key_of(candidate.fields, id_field) == key
    fields = sent["fields"]
    if supports_body and candidate.body != sent["body"]:
        return False
    if any(fields.get(k, MISSING) != v for k, v in candidate.fields.items()):
        return False
    # All it holds is what we sent. A side may drop fields it cannot hold, but then the
    # title must be ours too: a user's note that merely holds a subset is not our create.
    return dict(candidate.fields) == fields or candidate.title == sent.get("title")


def _recover(
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
    creates = [(e, e.payload["create"]) for e in pending if e.payload.get("create")]
    pools: dict[Side, list[Record]] = {}
    if creates:
        links = state.links(target).values()
        linked: dict[Side, set[str]] = {
            "vault": {lk.a_id for lk in links},
            "remote": {lk.b_id for lk in links},
        }
        for side in {c["side"] for _, c in creates}:
            free = [r.id for r in listings[side] if r.id not in linked[side]]
            found = _read_existing(adapters[side], free)
            pools[side] = [found[i] for i in sorted(found)]
    with state.batch():
        for entry, create in creates:
            side = create["side"]
            sent = create["sent"]
            candidates = [
                r
                for r in pools[side]
                if _sent_matches(r, sent, create["key"], options.id_field, caps[side])
            ]
            titled = [r for r in candidates if r.title == sent.get("title")]
            if not candidates:
                continue  # the create never reached its side: the planner creates it again
            match = (titled or candidates)[0]
            pools[side].remove(match)
            source = SideSnapshot.from_json(create["source"])
            exact = dict(match.fields) == sent["fields"] and match.body == sent["body"]
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
                    fields=sent["fields"],
                    body=sent["body"],
                    title=sent.get("title"),
                )
            a, b = (found_snap, source) if side == "vault" else (source, found_snap)
            state.save_link(
                target,
                entry.payload.get("link_id"),
                a,
                b,
                key=create["key"],
                vault_path=a.id if options.vault_ids_are_paths else None,
                hold_versions=not exact,
            )
        for entry in pending:
            if entry.payload.get("update") and entry.payload.get("link_id") is not None:
                _recover_update(entry.payload, adapters, state, options)
            state.journal_done(entry.id)


def _recover_update(
    payload: Mapping[str, Any],
    adapters: Mapping[Side, Adapter],
    state: StateStore,
    options: SyncOptions,
) -> None:
    """Redo the lost commit of an update whose every write landed.

    A written side that holds exactly what was sent gets it as its base; the side not
    written gets its plan-time snapshot. If any write did not land (or was edited over
    since), nothing changes: the old base makes the planner merge both sides' edits again.
    Why not always leave it to the planner: our own landed write would look like an edit of
    that side, and a key it removed like a key the remote can no longer hold.
    """
    update = payload["update"]
    bases: dict[Side, SideSnapshot] = {}
    for side in SIDES:
        plan_time = SideSnapshot.from_json(update["plan_time"][side])
        sent = update["sent"].get(side)
        if sent is None:
            bases[side] = plan_time
            continue
        found = _read_existing(adapters[side], [plan_time.id]).get(plan_time.id)
        if found is None or dict(found.fields) != sent["fields"] or found.body != sent["body"]:
            return  # not landed (or edited since): the planner merges from the old base
        bases[side] = SideSnapshot.from_record(found)
    state.save_link(
        options.target,
        payload["link_id"],
        bases["vault"],
        bases["remote"],
        key=update["key"],
        vault_path=bases["vault"].id if options.vault_ids_are_paths else None,
        hold_versions=bool(update["hold"]),
    )


def run_sync(
    vault: Adapter,
    remote: Adapter,
    state: StateStore,
    options: SyncOptions,
    *,
    progress: Callable[[int, int], None] | None = None,
    schema: VaultSchema | None = None,
    faults_at: FaultInjector | None = None,
) -> SyncReport:
    """Sync ``vault`` (side A) with ``remote`` (side B) for ``options.target``.

    Side effects: writes both adapters (creates, updates with compare-and-swap, deletes to
    trash, conflict copies in the vault) and the state store, unless ``options.dry_run``
    (then nothing is written and the report's counts and ``plan`` say what would happen).

    ``progress(done, total)`` is called after each chunk of entry actions. ``schema`` lets
    the remote create collections (``ensure_collection``) for the classes it receives, and
    names the computed fields (Formula, Lookup) that are never written into notes.
    ``faults_at`` (tests) stops at a write; ``$SYNCBRIDGE_TEST_KILL_AT`` does the same.

    Holds the state's run lock for ``options.target``: :class:`SyncLocked` if another run
    of that target is going on. Raises :class:`SafetyStop` before writing anything when the
    run would delete too much. Errors of single entries (:class:`SkipError`, e.g.
    ``StaleVersion``) are reported in ``SyncReport.errors``; those entries sync next run.
    """
    if options.dry_run:
        return _run_sync(vault, remote, state, options, progress, schema, faults_at)
    with state.run_lock(options.target):
        return _run_sync(vault, remote, state, options, progress, schema, faults_at)


def _run_sync(
    vault: Adapter,
    remote: Adapter,
    state: StateStore,
    options: SyncOptions,
    progress: Callable[[int, int], None] | None,
    schema: VaultSchema | None,
    faults_at: FaultInjector | None,
) -> SyncReport:
    """The run itself, as documented in :func:`run_sync` (the caller holds the lock)."""
    target = options.target
    if schema is not None and not options.computed_fields:
        computed = {
            name: tuple(k for k, spec in cls.fields.items() if spec.read_only)
            for name, cls in schema.classes.items()
        }
        options = replace(options, computed_fields={k: v for k, v in computed.items() if v})
    report = SyncReport(target=target, dry_run=options.dry_run)
    adapters: dict[Side, Adapter] = {"vault": vault, "remote": remote}
    vault.refresh()
    remote.refresh()
    listings: dict[Side, list[RecordRef]] = {
        "vault": list(vault.list()),
        "remote": list(remote.list()),
    }
    pending = state.pending_journal(target)
    if pending and not options.dry_run:
        _recover(pending, adapters, listings, state, options)
        report.recovered = len(pending)
    links = state.links(target)
    read_a, read_b, link_ids = records_to_read(listings["vault"], listings["remote"], links)
    full_a, full_b = _read_existing(vault, read_a), _read_existing(remote, read_b)
    plan = plan_sync(
        [full_a.get(r.id, r) for r in listings["vault"] if r.id in full_a or r.id not in read_a],
        [full_b.get(r.id, r) for r in listings["remote"] if r.id in full_b or r.id not in read_b],
        BaseState(links, state.snapshots(target, link_ids)),
        options,
        capabilities=(vault.capabilities, remote.capabilities),
        unreadable=(dict(vault.unreadable()), dict(remote.unreadable())),
    )
    report.plan = plan
    report.safety_stop = plan.safety_stop
    if options.dry_run:
        _count_plan(plan, report)
        return report
    if plan.safety_stop:
        raise SafetyStop(plan.safety_stop)
    report.vault.unchanged = report.remote.unchanged = plan.unchanged
    if schema is not None:
        for cls in sorted({w.record.class_name for w in plan.writes("remote") if w.record}):
            if cls in schema.classes:
                remote.ensure_collection(schema.classes[cls])
    injector = faults_at or FaultInjector.from_env()
    executor = _Executor(vault, remote, state, options, report, injector)
    faults.activate(injector)
    try:
        total = len(plan.actions)
        for start in range(0, total, CHUNK):
            executor.run_chunk(plan.actions[start : start + CHUNK])
            if progress is not None:
                progress(min(start + CHUNK, total), total)
    finally:
        faults.activate(None)
    return report


def _count_plan(plan: Plan, report: SyncReport) -> None:
    """Fill ``report``'s counts from the plan (dry run: what would be done)."""
    report.vault.unchanged = report.remote.unchanged = plan.unchanged
    for action in plan.actions:
        if action.kind == "skip":
            report.skipped.append({"id": action.label, "message": action.why})
            continue
        for side, rec in (("vault", action.a), ("remote", action.b)):
            if rec is not None and not any(w.side == side for w in action.writes):
                report.side(side).unchanged += 1  # type: ignore[arg-type]
        for w in action.writes:
            counts = report.side(w.side)
            if w.op == "create":
                counts.created += 1
            elif w.op == "update":
                counts.updated += 1
            else:
                counts.deleted += 1
        for c in action.conflicts:
            for side in SIDES:
                if c.winner != side:
                    report.side(side).conflicts += 1
