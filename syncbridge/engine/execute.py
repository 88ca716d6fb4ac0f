"""The executor: list both sides, plan, then apply the plan chunk by chunk with a journal.

Per chunk of up to :data:`CHUNK` entries: every action (and its conflicts) is journaled in
one transaction *before* the first write, the writes run with compare-and-swap, the written
records are read back, and one transaction stores the new bases and clears the journal
entries. Consecutive writes to one side run inside that adapter's :meth:`Adapter.batch`
(SQLite: one transaction), which ends before a write to the other side and before the
read-back; if ending it fails, none of its writes happened and the chunk stays journaled.
An entry whose writes did not all succeed keeps its old base, so the next run sees both
sides' changes again: state commits only what succeeded (Unison's archive rule).
A run killed anywhere leaves at most one chunk in the journal, which the next run
reconciles first (:mod:`syncbridge.engine.recover`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

from syncbridge.adapter import Adapter, ConflictCopies, Record, RecordRef
from syncbridge.engine import faults
from syncbridge.engine.faults import FaultInjector
from syncbridge.engine.journal import ActionIntent, CreateIntent, SentContent, UpdateIntent
from syncbridge.engine.lineage import (
    Lineage,
    check_lineage,
    log_overwritten,
    rebase_restored,
    stop_if_restored,
    unread_links,
)
from syncbridge.engine.merge import BODY
from syncbridge.engine.options import Side, SyncOptions
from syncbridge.engine.order import create_rank, creates_in_link_order, remote_create_id
from syncbridge.engine.plan import (
    BaseState,
    EntryAction,
    Plan,
    Write,
    key_of,
    plan_sync,
    records_to_read,
)
from syncbridge.engine.recover import read_existing, recover
from syncbridge.engine.relink import (
    JOURNAL_KIND,
    LinkRewriter,
    finish_relinks,
    move_intent,
    preview_relinks,
)
from syncbridge.engine.report import (
    SIDES,
    EntryProblem,
    Notice,
    SideCounts,
    SyncReport,
    count_plan,
)
from syncbridge.errors import SafetyStop, SkipError
from syncbridge.schema.model import VaultSchema
from syncbridge.state import ConflictEntry, JournalEntry, Link, SideSnapshot, StateStore
from syncbridge.state.model import same_json
from syncbridge.wikilinks import LinkResolver

__all__ = ["CHUNK", "SideCounts", "SyncReport", "run_sync"]

CHUNK = 200
"""Actions journaled, written and committed together (two state transactions a chunk)."""


@dataclass
class _Staged:
    """An action journaled and about to be (or being) written."""

    action: EntryAction
    link_id: int | None
    journal_id: int
    written: dict[Side, tuple[Write, RecordRef | None]] = field(default_factory=dict)
    error: str | None = None


class _BatchLost(Exception):
    """Ending an adapter's batch failed: none of the writes made in it are durable."""

    def __init__(self, side: Side, cause: BaseException) -> None:
        super().__init__(f"{side}: {cause}")
        self.cause = cause


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
        self._batch: ExitStack | None = None
        self._batch_side: Side | None = None
        self.listed_remote: set[str] | None = None
        """Remote ids listed at plan time, when the remote could not be locked: creates
        there are looked up first (:meth:`_link_concurrent_creates`)."""
        self.rewriter = vault if isinstance(vault, LinkRewriter) else None

    def _enter_batch(self, side: Side) -> None:
        """Make sure the writes to ``side`` run in its batch (ending the other side's)."""
        if self._batch_side == side:
            return
        self._end_batch()
        stack = ExitStack()
        stack.enter_context(self.adapters[side].batch())
        self._batch, self._batch_side = stack, side

    def _end_batch(self) -> None:
        """End the open batch (its writes become durable); :class:`_BatchLost` if that
        fails, when none of them did."""
        stack, side = self._batch, self._batch_side
        self._batch = self._batch_side = None
        if stack is None or side is None:
            return
        try:
            stack.close()
        except Exception as exc:
            raise _BatchLost(side, exc) from exc

    def _abort_batch(self, exc: BaseException) -> None:
        """Leave the open batch because of ``exc`` (its writes may be discarded)."""
        stack = self._batch
        self._batch = self._batch_side = None
        if stack is not None:
            stack.__exit__(type(exc), exc, exc.__traceback__)

    def _fault(self, point: str, *, since: int | None = None) -> None:
        if self.injector is not None:
            self.injector.hit(point, since=since)

    def _perform(self, w: Write) -> RecordRef | None:
        adapter = self.adapters[w.side]
        if self.injector is not None:
            self.injector.count += 1
        self._fault("before")
        self._enter_batch(w.side)
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
                vault_id=action.vault.id if action.vault else None,
                remote_id=action.remote.id if action.remote else None,
                field=c.field,
                vault_value=c.vault_value,
                remote_value=c.remote_value,
                winner=c.winner,
                decided_by=c.decided_by,
            )
            if self.state.open_conflict_id(entry) is not None:
                continue  # seen before and still open (manual): logged and copied already
            vault = self.adapters["vault"]  # conflict copies are the vault side's extra
            if (
                c.field == BODY
                and isinstance(action.vault, Record)
                and (isinstance(vault, ConflictCopies))
            ):
                loser = c.remote_value if c.winner != "remote" else c.vault_value
                label = dt.datetime.now().strftime("%Y-%m-%d %H%M")
                # without the note's id: a copy the user renames to keep is a note of its
                # own, not a second holder of the entry's id (which freezes both)
                id_field = self.options.id_field
                copy = Record(
                    class_name=action.vault.class_name,
                    fields={k: v for k, v in action.vault.fields.items() if k != id_field},
                    body=loser,
                    id=action.vault.id,
                    title=action.vault.title,
                )
                copy_id = vault.write_conflict_copy(copy, label)
            entries.append(replace(entry, copy_id=copy_id))
        return entries

    def _count_unchanged(self, action: EntryAction) -> None:
        for side, rec in (("vault", action.vault), ("remote", action.remote)):
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
            self.report.skip(action)
            return None
        if action.kind == "forget":
            assert link is not None
            self.state.delete_link(link.link_id)  # gone from both sides: nothing to keep
            return None
        self._count_unchanged(action)
        self.report.count_conflicts(action)
        link_id = link.link_id if link else None
        if not action.writes:
            # refresh / rename / pair already equal / manual conflict held: only the base
            # changes, and an open conflict is logged (with its copy) the first time
            link_id = self._save(action, link_id, {})
            for entry in self._conflict_entries(action, link_id):
                self.state.log_conflict(entry)
            return None
        if action.kind == "pair":
            # link first, without a base: if the run dies mid-way, the pair stays paired
            assert isinstance(action.vault, Record) and isinstance(action.remote, Record)
            link_id = self.state.save_link(
                target,
                None,
                SideSnapshot.from_record(action.vault),
                SideSnapshot.from_record(action.remote),
                key=action.key,
                has_base=False,
            )
        creates = [w for w in action.writes if w.op == "create"]
        source = action.vault if creates and creates[0].side == "remote" else action.remote
        create = None
        if creates and isinstance(source, Record):
            sent = creates[0].record
            assert sent is not None
            # what the side will write (field links to planned names): what recovery finds
            sent = self.adapters[creates[0].side].as_created(sent)
            snap = SideSnapshot.from_record(source)
            same = (
                sent.body == snap.body
                and sent.title == snap.title
                and same_json(dict(sent.fields), snap.fields)
            )
            # the source's own content, usually: then it is stored once
            create = CreateIntent(
                creates[0].side,
                action.key,
                snap,
                None if same else SentContent.of(sent, with_class=False),
            )
        update = None
        updates = [w for w in action.writes if w.op == "update"]
        if updates and isinstance(action.vault, Record) and isinstance(action.remote, Record):
            # enough to redo the commit if every write landed (see recover._recover_update)
            update = UpdateIntent(
                plan_time={
                    "vault": SideSnapshot.from_record(action.vault),
                    "remote": SideSnapshot.from_record(action.remote),
                },
                sent={
                    w.side: SentContent.of(w.record, with_class=True)
                    for w in updates
                    if w.record is not None
                },
                key=action.key,
                hold=action.hold,
            )
        intent = ActionIntent(
            action.kind,
            link_id,
            tuple((w.side, w.op, w.record_id) for w in action.writes),
            create=create,
            update=update,
        )
        journal_id = self.state.journal_begin(
            target, action.kind, intent.to_payload(), self._conflict_entries(action, link_id)
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
        written: Mapping[Side, tuple[Write, RecordRef | None]] | None = None,
    ) -> int:
        """Store the entry's new base (both sides as they are now); return the link id."""
        final: dict[Side, Record | RecordRef | None] = {
            "vault": action.vault,
            "remote": action.remote,
        }
        for side, (w, ref) in (written or {}).items():
            if ref is None:
                continue
            seen = read_back.get((side, ref.id))
            own = (ref.version, self.adapters[side].last_written(ref.id))
            if seen is not None and seen.version in own:
                # what the side really stored (it may drop or normalise values), also
                # when the side's own second pass wrote it again (Adapter.last_written)
                final[side] = seen
            else:
                # Changed by someone else after our write (the read-back has another
                # version; on a check-then-write remote the window is a round trip), or
                # gone: what we sent is the base, so the change made meanwhile is seen as
                # an edit next run and synced, never taken for agreed.
                final[side] = _as_sent(w, ref)
        vault, remote = final["vault"], final["remote"]
        assert isinstance(vault, Record) and isinstance(remote, Record), "both sides must be read"
        return self.state.save_link(
            self.options.target,
            link_id,
            SideSnapshot.from_record(vault),
            SideSnapshot.from_record(remote),
            key=action.key,
            has_base=True,
            vault_path=vault.id if self.options.vault_ids_are_paths else None,
            hold_versions=action.hold,
        )

    def _finish(self, staged: _Staged, read_back: Mapping[tuple[Side, str], Record]) -> None:
        """Record one action's outcome (inside the chunk's second transaction, which also
        drops its journal entry)."""
        action = staged.action
        for w, _ in staged.written.values():
            self._count_write(w)
        if staged.error is not None:
            # Not every write succeeded: keep the old base, so the next run sees both
            # sides' edits again and merges them (the edit made meanwhile is not lost).
            self.report.errors.append(EntryProblem(action.label, staged.error))
            return
        if any(w.op == "delete" for w in action.writes):
            assert action.link is not None
            self.state.delete_link(action.link.link_id)
            return
        self._save(action, staged.link_id, read_back, staged.written)

    def _link_concurrent_creates(self, actions: Sequence[EntryAction]) -> list[EntryAction]:
        """Creates on a remote nobody could lock, looked up by id-field value first: a
        record another run created meanwhile with the same id is linked (without a base:
        the next run merges the two) instead of created twice; more such records are
        reported, never linked or copied. Returns the actions still to run."""
        field, remote = self.options.id_field, self.adapters["remote"]
        listed = self.listed_remote
        if field is None or listed is None:
            return list(actions)
        wanted: dict[str, Any] = {}
        for action in actions:
            w = action.writes[0] if len(action.writes) == 1 else None
            if w is None or w.op != "create" or w.side != "remote" or action.key is None:
                continue
            assert w.record is not None
            wanted[action.key] = w.record.fields.get(field)
        found = remote.lookup(field, list(wanted.values())) if wanted else None
        if not found:
            return list(actions)
        fresh: dict[str, list[str]] = {}
        for value, ids in found.items():
            key = key_of({field: value}, field)
            new_ids = sorted(i for i in ids if i not in listed)
            if key is not None and new_ids:
                fresh.setdefault(key, []).extend(new_ids)
        out: list[EntryAction] = []
        for action in actions:
            found_ids = fresh.get(action.key or "") if action.key in wanted else None
            other = read_existing(remote, found_ids[:1]).get(found_ids[0]) if found_ids else None
            if not found_ids or other is None or not isinstance(action.vault, Record):
                out.append(action)
                continue
            self.state.save_link(
                self.options.target,
                None,
                SideSnapshot.from_record(action.vault),
                SideSnapshot.from_record(other),
                key=action.key,
                has_base=False,
            )
            ids = found_ids
            listed.update(ids)
            notice = (
                f"{action.label}: another run created remote record {ids[0]} with the same "
                f"{field} meanwhile; linked to it instead of creating a second one (the "
                "next sync merges the two)"
            )
            if len(ids) > 1:
                notice += (
                    f"; records {', '.join(ids[1:])} carry that {field} too and were left "
                    "alone: delete the duplicates"
                )
            self.report.notices.append(Notice(action.label, notice))
        return out

    def run_chunk(self, actions: Sequence[EntryAction]) -> None:
        """Apply a chunk of actions: journal all, write each, read back, commit all.

        Side effects: two state transactions and the adapters' writes and reads.
        """
        if self.listed_remote is not None:
            actions = self._link_concurrent_creates(actions)
        with self.state.batch():
            staged = [st for st in (self._begin(a) for a in actions) if st is not None]
            intents = self._journal_moves(staged)
        first_write = (self.injector.count + 1) if self.injector is not None else None
        failure: Exception | None = None
        untried: list[_Staged] = []
        try:
            for n, st in enumerate(staged):
                try:
                    self._write(st)
                except _BatchLost:
                    raise
                except Exception as exc:
                    # A failure that ends the run (the remote went away, a bug): commit what
                    # succeeded before it, leave the failed action in the journal (its write
                    # may have landed: the next run's recovery looks), drop the untried ones.
                    failure = exc
                    untried = staged[n + 1 :]
                    staged = staged[:n]
                    break
            self._end_batch()
        except _BatchLost as lost:
            # Writes we counted as done were rolled back: commit nothing of this chunk and
            # leave all of it journaled, as a killed run would (the next run recovers).
            raise lost.cause from lost
        except BaseException as exc:
            self._abort_batch(exc)
            raise
        if self.listed_remote is not None:
            # records this run created are not "another run's" to a later lookup
            for st in staged:
                for side, (_, ref) in st.written.items():
                    if side == "remote" and ref is not None:
                        self.listed_remote.add(ref.id)
        if untried:
            self.state.journal_done(*(rest.journal_id for rest in untried))
        wanted: dict[Side, set[str]] = {"vault": set(), "remote": set()}
        for st in staged:
            if st.error is None:
                for side, (_, ref) in st.written.items():
                    if ref is not None:
                        wanted[side].add(ref.id)
        read_back: dict[tuple[Side, str], Record] = {}
        for side, ids in wanted.items():
            for rid, rec in read_existing(self.adapters[side], ids).items():
                read_back[(side, rid)] = rec
        with self.state.batch():
            for st in staged:
                self._finish(st, read_back)
            if staged:
                self.state.journal_done(*(st.journal_id for st in staged))
            if intents is not None:
                self._commit_moves(staged, *intents)
        if failure is not None:
            raise failure
        if first_write is not None and self.injector is not None:
            self._fault("committed", since=first_write)

    def _journal_moves(self, staged: Sequence[_Staged]) -> tuple[int, list[dict[str, Any]]] | None:
        """Journal the note moves the chunk's vault updates are about to make (a relink
        entry: see :mod:`syncbridge.engine.relink`); (entry id, moves) or None."""
        if self.rewriter is None:
            return None
        moves = []
        for st in staged:
            for w in st.action.writes:
                if w.side == "vault" and w.op == "update" and w.record is not None:
                    intent = move_intent(self.rewriter, w.record, st.link_id)
                    if intent is not None:
                        moves.append(intent)
        if not moves:
            return None
        entry = self.state.journal_begin(self.options.target, JOURNAL_KIND, {"moves": moves})
        return entry, moves

    def _commit_moves(
        self, staged: Sequence[_Staged], entry: int, intents: list[dict[str, Any]]
    ) -> None:
        """Replace the chunk's relink entry by the moves that happened (inside the commit
        transaction); a move of an action not committed stays to be looked up next run."""
        done: dict[str, str] = {}
        for st in staged:
            for side, (w, ref) in st.written.items():
                if (
                    side == "vault"
                    and w.op == "update"
                    and ref is not None
                    and w.record_id is not None
                    and ref.id != w.record_id
                ):
                    done[w.record_id] = ref.id
        moves: list[dict[str, Any]] = [
            {"from": old, "to": new, "resolved": True} for old, new in done.items()
        ]
        committed = {st.link_id for st in staged}
        moves += [m for m in intents if m["from"] not in done and m["link_id"] not in committed]
        self.state.journal_done(entry)
        if moves:
            self.state.journal_begin(self.options.target, JOURNAL_KIND, {"moves": moves})

    def _count_write(self, w: Write) -> None:
        counts = self.report.side(w.side)
        if w.op == "create":
            counts.created += 1
        elif w.op == "update":
            counts.updated += 1
        else:
            counts.deleted += 1


def _held_fields(remote: Adapter, refs: Sequence[RecordRef]) -> dict[str, frozenset[str]]:
    """Class → fields the remote holds, for the classes it lists (unknown ones left out)."""
    out: dict[str, frozenset[str]] = {}
    for cls in {r.class_name for r in refs}:
        held = remote.held_fields(cls)
        if held is not None:
            out[cls] = held
    return out


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
    """Sync ``vault`` with ``remote`` for ``options.target``.

    Side effects: writes both adapters (creates, updates with compare-and-swap, deletes to
    trash, conflict copies in the vault) and the state store, unless ``options.dry_run``
    (then nothing is written and the report's counts and ``plan`` say what would happen).

    ``progress(done, total)`` is called after each chunk of entry actions. ``schema`` lets
    the remote create collections (``ensure_collection``) for the classes it receives, and
    names the computed fields (Formula, Lookup) that are never written into notes.
    ``faults_at`` (tests) stops at a write; ``$SYNCBRIDGE_TEST_KILL_AT`` does the same.

    Holds the state's run lock for ``options.target`` and the target's own lock
    (:meth:`Adapter.exclusive`): :class:`SyncLocked` if another run of that target is going
    on, from this setup or another one. A target that looks put back from an older copy
    raises :class:`TargetRestored` before any write unless ``options.restored`` says what
    to do; a state put back from an older copy is set aside (backed up) and the two sides
    re-paired (see :mod:`syncbridge.engine.lineage`; ``SyncReport.notices`` says so).
    Raises :class:`SafetyStop` before writing anything when the run would delete too much.
    Errors of single entries (:class:`SkipError`, e.g. ``StaleVersion``) are reported in
    ``SyncReport.errors``; those entries sync next run.
    """
    if options.dry_run:
        # both adapters are told: their refresh only reads and says what it would finish
        with vault.dry_run(), remote.dry_run():
            return _run_sync(vault, remote, state, options, progress, schema, faults_at)
    owner = {"state": str(state.path), "target": options.target}
    with state.run_lock(options.target), remote.exclusive(owner) as locked:
        return _run_sync(vault, remote, state, options, progress, schema, faults_at, locked)


def _run_sync(
    vault: Adapter,
    remote: Adapter,
    state: StateStore,
    options: SyncOptions,
    progress: Callable[[int, int], None] | None,
    schema: VaultSchema | None,
    faults_at: FaultInjector | None,
    locked: bool = False,
) -> SyncReport:
    """The run itself, as documented in :func:`run_sync` (the caller holds the locks;
    ``locked``: the remote is held for this run, so nobody else creates records there)."""
    if schema is not None and schema.unreadable_settings:
        raise SafetyStop("; ".join(schema.unreadable_settings))
    if schema is not None and not options.computed_fields:
        computed = {
            name: tuple(k for k, spec in cls.fields.items() if spec.read_only)
            for name, cls in schema.classes.items()
        }
        options = replace(options, computed_fields={k: v for k, v in computed.items() if v})
    injector = faults_at or FaultInjector.from_env()
    report = _sync_pass(vault, remote, state, options, progress, schema, injector, locked)
    last = report
    for _ in range(FOLLOW_UP_PASSES):
        if not last.links.notes or options.dry_run:
            break
        # The notes whose links were rewritten are vault edits now: carry them to the
        # remote in this same run (a follow-up pass), so one sync leaves both sides
        # agreeing. A follow-up can rewrite notes itself (a rewrite a save raced is
        # replayed at its end), hence a few passes, bounded.
        try:
            last = _sync_pass(vault, remote, state, options, progress, schema, injector, locked)
        except SafetyStop as exc:
            report.errors.append(EntryProblem("(links)", str(exc)))
            break
        _merge_follow_up(report, last)
    return report


FOLLOW_UP_PASSES = 3
"""Passes after the first that carry link rewrites to the remote within one run."""


def _merge_follow_up(report: SyncReport, follow: SyncReport) -> None:
    """Add the follow-up pass's counts to the run's report (its entries written there were
    counted unchanged by the first pass)."""
    for side in SIDES:
        first, second = report.side(side), follow.side(side)
        written = second.created + second.updated + second.deleted
        first.created += second.created
        first.updated += second.updated
        first.deleted += second.deleted
        first.conflicts += second.conflicts
        first.unchanged = max(0, first.unchanged - written)
    report.errors.extend(follow.errors)
    # what the follow-up found again (a skipped note, a notice) is listed once
    report.skipped.extend(s for s in follow.skipped if s not in report.skipped)
    report.notices.extend(n for n in follow.notices if n not in report.notices)
    report.links.notes += follow.links.notes
    report.links.links += follow.links.links
    report.links.broken.extend(follow.links.broken)
    if follow.recovered:
        report.links.pending = follow.links.pending


def _wants_note_paths(remote: Adapter) -> bool:
    """Whether ``remote`` does something with :meth:`Adapter.note_paths` (overrides the
    default, which ignores them): only then is the map built, a query of every link and a
    dict of them in each pass (the daemon's path, for SQLite on every saved note)."""
    return getattr(remote.note_paths, "__func__", None) is not Adapter.note_paths


def _linked_note_paths(state: StateStore, target: str) -> dict[str, str]:
    """Record id → vault path of every entry linked for ``target`` (one state query)."""
    return {k.remote_id: k.vault_id for k in state.links(target).values()}


def _sync_pass(
    vault: Adapter,
    remote: Adapter,
    state: StateStore,
    options: SyncOptions,
    progress: Callable[[int, int], None] | None,
    schema: VaultSchema | None,
    injector: FaultInjector | None,
    locked: bool,
) -> SyncReport:
    """List, recover, plan and execute once; then rewrite the links of moved notes
    (``locked``: as in :func:`_run_sync`)."""
    target = options.target
    report = SyncReport(target=target, dry_run=options.dry_run)
    adapters: dict[Side, Adapter] = {"vault": vault, "remote": remote}
    vault.refresh()
    if options.vault_ids_are_paths and _wants_note_paths(remote):
        # where the linked records' notes are: a remote that writes links between its
        # records into bodies names those notes (Adapter.note_paths), before it reads
        remote.note_paths(_linked_note_paths(state, target))
    remote.refresh()
    if options.dry_run:
        _tell_unfinished(adapters, target, report)
    listings: dict[Side, list[RecordRef]] = {
        "vault": list(vault.list()),
        "remote": list(remote.list()),
    }
    links = state.links(target)
    lineage = check_lineage(
        state, remote, target, links, listings["remote"], dry_run=options.dry_run
    )
    stop_if_restored(lineage, remote, options.restored, links, listings["remote"])
    repaired = lineage.state_behind
    if repaired:
        links = _set_stale_state_aside(state, lineage, report, dry_run=options.dry_run)
    elif lineage.target_generation is not None and (
        lineage.target_generation == lineage.state_pending and not options.dry_run
    ):
        # the last run ended after marking the target: its generation is ours
        state.set_generation(target, lineage.target_generation)
    pending = state.pending_journal(target)
    if pending and options.dry_run:
        report.notices.append(
            Notice(
                target,
                (
                    f"an interrupted run left {len(pending)} action(s) in the journal; a sync "
                    "would reconcile them first (the plan above does not count them)"
                ),
            )
        )
    if pending and not options.dry_run:
        # An interrupted run's link rewrites (relink entries) are finished after this
        # run's plan is executed, with this run's own (_finish_relinks below), not before
        # planning: a rewrite made first would look like the user's edit of the note, and
        # an edit wins against a delete, so a note whose record was deleted on the remote
        # would be sent back to it instead of going to the trash.
        recover([e for e in pending if e.kind != JOURNAL_KIND], adapters, listings, state, options)
        report.recovered = len(pending)
    if pending and not options.dry_run:
        links = state.links(target)  # recovery linked or moved entries
    rebase = options.restored != "stop" and lineage.target_behind
    read_vault, read_remote, link_ids = records_to_read(
        listings["vault"], listings["remote"], unread_links(links) if rebase else links
    )
    streamed = [] if options.dry_run or rebase else _new_notes_to_stream(listings, links)
    if streamed:
        streamed = _without_shared_ids(vault, streamed, links, options.id_field)
    read_vault.difference_update(streamed)
    full_vault, full_remote = read_existing(vault, read_vault), read_existing(remote, read_remote)
    base = BaseState(links, state.snapshots(target, link_ids))
    if rebase:
        base = rebase_restored(options.restored, links, base.snapshots, full_vault, full_remote)
        side = "the target's" if options.restored == "take_target" else "the vault's"
        report.notices.append(
            Notice(
                target,
                (
                    f"the target looked restored from an older copy; {side} values were taken "
                    "(every value overwritten is in the conflict log: syncbridge conflicts list)"
                ),
            )
        )
    plan = plan_sync(
        [
            full_vault.get(r.id, r)
            for r in listings["vault"]
            if r.id in full_vault or (r.id not in read_vault and r.id not in streamed)
        ],
        [
            full_remote.get(r.id, r)
            for r in listings["remote"]
            if r.id in full_remote or r.id not in read_remote
        ],
        base,
        options,
        capabilities=(vault.capabilities, remote.capabilities),
        unreadable=(dict(vault.unreadable()), dict(remote.unreadable())),
        remote_fields=_held_fields(remote, listings["remote"]),
    )
    if rebase:
        plan = log_overwritten(plan, options.restored)
    report.plan = plan
    report.safety_stop = plan.safety_stop
    if options.dry_run:
        count_plan(plan, report)
        if isinstance(vault, LinkRewriter):
            records = [w.record for w in plan.writes("vault") if w.op == "update" and w.record]
            preview_relinks(vault, records, options, report.links)
        return report
    if plan.safety_stop:
        raise SafetyStop(plan.safety_stop)
    generation: int | None = None
    if repaired or rebase or any(a.writes for a in plan.actions):
        # pending in the state first, then the target: a run killed in between is
        # recognised next time (lineage module docstring)
        generation = lineage.next_generation()
        state.set_generation(target, lineage.state_done, pending=generation)
        if not remote.set_generation(state.state_id, generation):
            generation = None
    report.vault.unchanged = report.remote.unchanged = plan.unchanged
    if schema is not None:
        classes = {w.record.class_name for w in plan.writes("remote") if w.record}
        if streamed and not remote.capabilities.read_only:
            wanted = set(streamed)
            classes.update(r.class_name for r in listings["vault"] if r.id in wanted)
        for cls in sorted(classes):
            if cls in schema.classes:
                remote.ensure_collection(schema.classes[cls])
    rank: dict[str, int] | None = None
    if remote.capabilities.creates_follow_links and options.vault_ids_are_paths:
        plan, streamed, rank = _in_link_order(vault, plan, streamed, listings["vault"])
        report.plan = plan
    executor = _Executor(vault, remote, state, options, report, injector)
    if not locked:
        executor.listed_remote = {r.id for r in listings["remote"]}
    faults.activate(injector)
    try:
        total = len(plan.actions) + len(streamed)
        for start in range(0, len(plan.actions), CHUNK):
            executor.run_chunk(plan.actions[start : start + CHUNK])
            if progress is not None:
                progress(min(start + CHUNK, total), total)
        for start in range(0, len(streamed), CHUNK):
            # new notes, read and planned a chunk at a time (see _new_notes_to_stream)
            part = plan_sync(
                read_existing(vault, streamed[start : start + CHUNK]).values(),
                [],
                BaseState(),
                options,
                capabilities=(vault.capabilities, remote.capabilities),
            )
            executor.run_chunk(
                part.actions if rank is None else creates_in_link_order(part.actions, rank)
            )
            if progress is not None:
                progress(len(plan.actions) + min(start + CHUNK, len(streamed)), total)
        _finish_relinks(vault, state, options, report, None, injector)
    finally:
        faults.activate(None)
    if generation is not None:
        state.set_generation(target, generation)
    return report


def _in_link_order(
    vault: Adapter, plan: Plan, streamed: list[str], listed: Sequence[RecordRef]
) -> tuple[Plan, list[str], dict[str, int]]:
    """``plan`` and ``streamed`` with the notes to create on the remote in link order
    (:mod:`syncbridge.engine.order`), and that order (id → place). Reads the streamed notes
    once more, a chunk at a time, for their links only (nothing is kept but their link
    targets); the planned creates' records are in the plan already."""
    planned = [a.vault for a in plan.actions if remote_create_id(a) and isinstance(a.vault, Record)]
    if len(planned) + len(streamed) < 2:
        return plan, streamed, {}  # nothing to order (the daemon's usual pass)
    resolver = LinkResolver([r.id for r in listed])

    def records() -> Iterator[Record]:
        yield from planned
        for start in range(0, len(streamed), CHUNK):
            yield from read_existing(vault, streamed[start : start + CHUNK]).values()

    rank = create_rank(records(), resolver)
    ordered = sorted(streamed, key=lambda i: rank.get(i, len(rank)))
    return replace(plan, actions=tuple(creates_in_link_order(plan.actions, rank))), ordered, rank


def _tell_unfinished(adapters: Mapping[Side, Adapter], target: str, report: SyncReport) -> None:
    """A dry run's notices for the work an interrupted run left to each adapter
    (:meth:`Adapter.unfinished`): what a sync's refresh would finish first."""
    for side, adapter in adapters.items():
        label = target if side == "remote" else "vault"
        for line in adapter.unfinished():
            report.notices.append(Notice(label, f"a sync would first finish: {line}"))


def _new_notes_to_stream(
    listings: Mapping[Side, Sequence[RecordRef]], links: Mapping[int, Link]
) -> list[str]:
    """Vault notes that are new (unlinked) and can only become creates on the remote:
    planned and read a chunk at a time while the run executes, instead of holding every
    note's content at once (an initial sync of 30,000 notes). That is the case when the
    remote holds no unlinked record (nothing to pair them with) and no linked note is
    missing from the vault (nothing they could be a rename of). Returns their ids, in
    listing order; empty when the whole run must be planned together."""
    linked_vault = {link.vault_id for link in links.values()}
    linked_remote = {link.remote_id for link in links.values()}
    if any(r.id not in linked_remote for r in listings["remote"]):
        return []
    listed_vault = {r.id for r in listings["vault"]}
    if not linked_vault <= listed_vault:
        return []
    new = [r.id for r in listings["vault"] if r.id not in linked_vault]
    return new if len(new) > CHUNK else []


def _without_shared_ids(
    vault: Adapter, streamed: list[str], links: Mapping[int, Link], id_field: str | None
) -> list[str]:
    """``streamed`` less the notes whose id-field value another note also holds (a new one,
    or a linked one): the planner's duplicate-id rule needs all holders together, so those
    are planned with the rest. Reads the new notes a chunk at a time for their ids only."""
    if id_field is None:
        return streamed
    holders: dict[str, list[str]] = {}
    for start in range(0, len(streamed), CHUNK):
        for rid, rec in read_existing(vault, streamed[start : start + CHUNK]).items():
            key = key_of(rec.fields, id_field)
            if key is not None:
                holders.setdefault(key, []).append(rid)
    linked_keys = {link.key for link in links.values() if link.key}
    shared = {
        rid for key, ids in holders.items() if len(ids) > 1 or key in linked_keys for rid in ids
    }
    return [rid for rid in streamed if rid not in shared]


def _set_stale_state_aside(
    state: StateStore, lineage: Lineage, report: SyncReport, *, dry_run: bool
) -> dict[int, Link]:
    """The state is behind its target: keep a copy of the file, drop the target's links
    (the two sides are then paired again as after a lost state); return the links left
    (none). A dry run only says so."""
    behind = (
        f"the state is behind target {lineage.target!r} (state generation "
        f"{lineage.state_done}, target {lineage.target_generation}): it looks put back from "
        "an older copy"
    )
    if dry_run:
        report.notices.append(
            Notice(
                lineage.target,
                (
                    f"{behind}; a sync would set its links aside and pair the vault and the target "
                    "again by id, path and content"
                ),
            )
        )
        return {}
    copy = state.backup("stale")
    count = state.forget_target(lineage.target)
    state.set_generation(lineage.target, lineage.target_generation or 0)
    report.notices.append(
        Notice(
            lineage.target,
            (
                f"{behind}; its {count} links were set aside (a copy of the old file is kept as "
                f"{copy}) and the vault and the target paired again by id, path and content"
            ),
        )
    )
    return {}


def _finish_relinks(
    vault: Adapter,
    state: StateStore,
    options: SyncOptions,
    report: SyncReport,
    entries: Sequence[JournalEntry] | None,
    injector: FaultInjector | None = None,
) -> bool:
    """Rewrite the links of the notes this run (or an interrupted one) moved; True if
    notes were written. A vault that cannot rewrite links drops such entries."""
    if isinstance(vault, LinkRewriter):
        return finish_relinks(
            vault, state, options, report.links, injector=injector, entries=entries
        )
    if entries:
        state.journal_done(*(e.id for e in entries))
    return False
