"""Hypothesis state machine: random edits, renames, deletes on both sides, syncs, crashes.

memory↔memory, the vault side with path ids (renames change ids, keep versions). Every
edit writes a globally unique token, so "no edit is lost" is checkable: after a complete
sync, every token that was live on a side when the sync started is in the result or in
the conflict log.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from syncbridge.adapter import Capabilities
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.testing import FaultInjector, SimulatedCrash
from syncbridge.testing.memory import ManualClock, MemoryAdapter, MemoryConfig

FIELDS = ("a", "b", "c")
TOKEN = re.compile(r"§\d+§")
SIDES = st.sampled_from(["vault", "remote"])
PICK = st.integers(min_value=0, max_value=10_000)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.vault = MemoryAdapter(
            MemoryConfig(ids_are_paths=True, last_modified_field="last_modified"),
            clock=self.clock,
        )
        self.remote = MemoryAdapter(MemoryConfig(), clock=self.clock)
        self.tmp = tempfile.TemporaryDirectory()
        self.state = StateStore.open(Path(self.tmp.name) / "state.db")
        self.options = SyncOptions(target="m", force_delete=True, timezone="UTC")
        self.counter = 0
        self.crashed = False
        self.origin: dict[str, str] = {}  # token → the side a user wrote it on
        self.dropped: set[str] = set()  # tokens a user overwrote or deleted

    def teardown(self) -> None:
        self.state.close()
        self.tmp.cleanup()

    def token(self, side: str) -> str:
        self.counter += 1
        self.clock.advance(7)
        tok = f"§{self.counter}§"
        self.origin[tok] = side
        return tok

    def drop(self, value: object) -> None:
        """The user is about to overwrite or delete ``value``: its tokens may go."""
        self.dropped.update(TOKEN.findall(str(value)))

    def side(self, name: str) -> MemoryAdapter:
        return self.vault if name == "vault" else self.remote

    def pick(self, name: str, index: int) -> str | None:
        ids = sorted(self.side(name).records)
        return ids[index % len(ids)] if ids else None

    # -- user actions -----------------------------------------------------------------

    @rule(side=SIDES, n_fields=st.integers(0, 3), with_body=st.booleans())
    def create(self, side: str, n_fields: int, with_body: bool) -> None:
        tok = self.token(side)
        fields = {f: self.token(side) for f in FIELDS[:n_fields]}
        body = f"first {tok}\n" if with_body else ""
        record_id = f"N{tok.strip('§')}.md" if side == "vault" else f"user{tok.strip('§')}"
        self.side(side).put(record_id, fields, body)

    @rule(side=SIDES, index=PICK, field=st.sampled_from(FIELDS))
    def edit_field(self, side: str, index: int, field: str) -> None:
        record_id = self.pick(side, index)
        if record_id is not None:
            self.drop(self.side(side).records[record_id].fields.get(field))
            self.side(side).edit(record_id, set_fields={field: self.token(side)})

    @rule(index=PICK, field=st.sampled_from(FIELDS), stale=st.booleans())
    def edit_with_plugin_stamp(self, index: int, field: str, stale: bool) -> None:
        """An edit in Obsidian with a plugin stamping last_modified (or, stale, without)."""
        record_id = self.pick("vault", index)
        if record_id is None:
            return
        tok = self.token("vault")
        self.drop(self.vault.records[record_id].fields.get(field))
        stamp = self.clock().strftime("%Y-%m-%dT%H:%M")
        fields = {field: tok} if stale else {field: tok, "last_modified": stamp}
        self.vault.edit(record_id, set_fields=fields)

    @rule(index=PICK, field=st.sampled_from(FIELDS))
    def delete_field_in_vault(self, index: int, field: str) -> None:
        # only the vault deletes keys: a key vanishing from a remote means "cannot hold it"
        record_id = self.pick("vault", index)
        if record_id is not None:
            self.clock.advance(7)
            self.drop(self.vault.records[record_id].fields.get(field))
            self.vault.edit(record_id, delete_fields=[field])

    @rule(side=SIDES, index=PICK, where=st.sampled_from(["append", "prepend", "replace"]))
    def edit_body(self, side: str, index: int, where: str) -> None:
        record_id = self.pick(side, index)
        if record_id is None:
            return
        tok = self.token(side)
        body = self.side(side).records[record_id].body
        if where == "replace":
            self.drop(body)
        new = {
            "append": f"{body}tail {tok}\n",
            "prepend": f"head {tok}\n{body}",
            "replace": f"new {tok}\n",
        }[where]
        self.side(side).edit(record_id, body=new)

    @rule(index=PICK, field=st.sampled_from((*FIELDS, "body")), later=SIDES)
    def edit_both_sides(self, index: int, field: str, later: str) -> None:
        """The same linked entry edited on both sides: a true conflict (or a clean merge)."""
        links = sorted(
            (
                lk
                for lk in self.state.links("m").values()
                if lk.vault_id in self.vault.records and lk.remote_id in self.remote.records
            ),
            key=lambda lk: lk.link_id,
        )
        if not links:
            return
        link = links[index % len(links)]
        order = ["vault", "remote"] if later == "remote" else ["remote", "vault"]
        for name in order:
            record_id = link.vault_id if name == "vault" else link.remote_id
            adapter = self.side(name)
            current = adapter.records[record_id]
            self.drop(current.body if field == "body" else current.fields.get(field))
            if field == "body":
                adapter.edit(record_id, body=f"{name} {self.token(name)}\n")
            else:
                adapter.edit(record_id, set_fields={field: self.token(name)})

    @rule(index=PICK)
    def rename_in_vault(self, index: int) -> None:
        record_id = self.pick("vault", index)
        if record_id is not None:
            self.vault.rename(record_id, f"Moved/R{self.token('-').strip('§')}.md")

    @rule(side=SIDES, index=PICK)
    def delete(self, side: str, index: int) -> None:
        record_id = self.pick(side, index)
        if record_id is not None:
            self.clock.advance(7)
            gone = self.side(side).records[record_id]
            self.drop([gone.fields, gone.body])
            self.side(side).remove(record_id)

    # -- syncs --------------------------------------------------------------------------

    def live_tokens(self, *, own: bool = False) -> set[str]:
        """Tokens on either side; with ``own``, only where the user wrote them (a copy a
        crashed sync made on the other side is not an edit of its own)."""
        found: set[str] = set()
        for name, adapter in (("vault", self.vault), ("remote", self.remote)):
            for fields, body in adapter.contents().values():
                here = {t for v in fields.values() for t in TOKEN.findall(str(v))}
                here.update(TOKEN.findall(body))
                found.update(t for t in here if not own or self.origin.get(t) == name)
        return found

    def base_tokens(self) -> set[str]:
        """Tokens both sides agreed on (not edits: a delete may legitimately drop them)."""
        found: set[str] = set()
        links = self.state.links("m")
        for snap in self.state.snapshots("m", links).values():
            for side in (snap.vault, snap.remote):
                found.update(t for v in side.fields.values() for t in TOKEN.findall(str(v)))
                found.update(TOKEN.findall(side.body))
        return found

    def kept_tokens(self) -> set[str]:
        kept = self.live_tokens()
        for c in self.state.conflicts("m"):
            for value in (c.vault_value, c.remote_value):
                kept.update(TOKEN.findall(str(value)))
        return kept

    @rule(
        write=st.integers(1, 3), point=st.sampled_from(["before", "during", "after", "committed"])
    )
    def crashing_sync(self, write: int, point: str) -> None:
        self.clock.advance(11)
        try:
            run_sync(
                self.vault,
                self.remote,
                self.state,
                self.options,
                faults_at=FaultInjector(write, point),
            )
        except SimulatedCrash:
            self.crashed = True

    @rule(side=SIDES, field=st.sampled_from(FIELDS))
    def sync_during_a_user_edit(self, side: str, field: str) -> None:
        """The user saves a record the sync is about to write (compare-and-swap refuses)."""
        adapter = self.side(side)

        def user_saves(op: str, record_id: str) -> None:
            adapter.before_write = None  # once
            if record_id in adapter.records:
                self.drop(adapter.records[record_id].fields.get(field))
                adapter.edit(record_id, set_fields={field: self.token(side)})

        adapter.before_write = user_saves
        self.clock.advance(11)
        try:
            report = run_sync(self.vault, self.remote, self.state, self.options)
        finally:
            adapter.before_write = None
        assert all("no longer" in e.message or " is at " in e.message for e in report.errors)

    @rule()
    def sync(self) -> None:
        self.clock.advance(11)
        edits = self.live_tokens(own=True) - self.base_tokens() - self.dropped
        report = run_sync(self.vault, self.remote, self.state, self.options)
        assert report.errors == [], report.errors
        lost = edits - self.kept_tokens()
        assert not lost, f"edits lost: {sorted(lost)}"
        self.check_agreement()
        # a second sync is a no-op: zero writes
        writes = self.vault.write_count + self.remote.write_count
        again = run_sync(self.vault, self.remote, self.state, self.options)
        assert self.vault.write_count + self.remote.write_count == writes, again.plan
        assert again.recovered == 0

    def check_agreement(self) -> None:
        links = self.state.links("m")
        vault, remote = self.vault.contents(), self.remote.contents()
        assert len(links) == len(vault) == len(remote), (links, vault, remote)
        snaps = self.state.snapshots("m", links)
        held = self.held_conflicts()
        for link in links.values():
            (fa, ba), (fb, bb) = vault[link.vault_id], remote[link.remote_id]
            skip = held.get(link.link_id, set())
            if not skip:
                assert (fa, ba) == (fb, bb), (link, vault, remote)
            else:  # manual: the open conflict's field differs, everything else agrees
                assert {k: v for k, v in fa.items() if k not in skip} == {
                    k: v for k, v in fb.items() if k not in skip
                }
                assert "body" in skip or ba == bb
            snap = snaps[link.link_id]
            assert (dict(snap.vault.fields), snap.vault.body) == vault[link.vault_id]
            assert (dict(snap.remote.fields), snap.remote.body) == remote[link.remote_id]
        assert self.state.pending_journal("m") == []

    def held_conflicts(self) -> dict[int, set[str]]:
        """Link id → fields with a manual conflict still open (both sides keep theirs)."""
        held: dict[int, set[str]] = {}
        for c in self.state.conflicts("m"):
            if c.winner is None and c.restored_at is None and c.link_id is not None:
                held.setdefault(c.link_id, set()).add(c.field)
        return held

    @invariant()
    def no_duplicate_links(self) -> None:
        links = self.state.links("m").values()
        assert (
            len({lk.vault_id for lk in links}) == len({lk.remote_id for lk in links}) == len(links)
        )


SyncMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncMachine = SyncMachine.TestCase


class MinuteRemote(MemoryAdapter):
    """A remote that only knows minutes (like Notion): many conflicts end in a tie."""

    capabilities = Capabilities(timestamp_precision=dt.timedelta(minutes=1))


class CoarseRemoteMachine(SyncMachine):
    """The same machine against a minute-precision remote, the remote winning ties."""

    def __init__(self) -> None:
        super().__init__()
        self.remote = MinuteRemote(MemoryConfig(), clock=self.clock)
        self.options = SyncOptions(
            target="m", force_delete=True, timezone="UTC", tie_breaker="remote"
        )


class ManualMachine(SyncMachine):
    """The same machine with the manual strategy: conflicts stay open, nothing is lost."""

    def __init__(self) -> None:
        super().__init__()
        self.options = SyncOptions(target="m", force_delete=True, timezone="UTC", conflict="manual")


ManualMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestManualMachine = ManualMachine.TestCase

CoarseRemoteMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCoarseRemoteMachine = CoarseRemoteMachine.TestCase


def test_regression_recovery_does_not_claim_a_user_note_with_a_subset() -> None:
    # a pending re-create must not claim the user's renamed note holding fewer fields
    m = SyncMachine()
    try:
        m.create(n_fields=1, side="vault", with_body=False)
        m.sync()
        m.edit_both_sides(field="c", index=0, later="vault")
        m.rename_in_vault(index=0)
        m.crashing_sync(point="before", write=1)
        m.delete_field_in_vault(field="c", index=0)
        m.sync()
    finally:
        m.teardown()


def test_regression_recovery_does_not_claim_an_empty_note_for_a_body() -> None:
    # a pending create with a body must not claim an empty note on a side that has bodies
    m = SyncMachine()
    try:
        m.create(n_fields=0, side="vault", with_body=False)
        m.create(n_fields=0, side="remote", with_body=True)
        m.crashing_sync(point="before", write=1)
        m.sync()
    finally:
        m.teardown()


def test_regression_copy_left_by_a_crash_may_follow_a_delete() -> None:
    # the remote copy a crashed create left is not an edit: deleting the note removes it
    m = SyncMachine()
    try:
        m.create(n_fields=1, side="vault", with_body=False)
        m.crashing_sync(point="during", write=1)
        m.delete(index=0, side="vault")
        m.sync()
    finally:
        m.teardown()


def test_regression_recovered_create_edited_since_keeps_the_edit() -> None:
    # a re-created note found again after a crash, then edited: the edit must sync
    m = SyncMachine()
    try:
        m.create(n_fields=0, side="vault", with_body=False)
        m.rename_in_vault(index=0)
        m.create(n_fields=0, side="vault", with_body=False)
        m.rename_in_vault(index=1)
        m.sync()
        m.rename_in_vault(index=0)
        m.edit_both_sides(field="a", index=0, later="vault")
        m.rename_in_vault(index=0)
        m.crashing_sync(point="before", write=3)
        m.delete_field_in_vault(field="a", index=206)
        m.sync()
    finally:
        m.teardown()


def test_regression_field_deleted_by_an_interrupted_write_then_edited() -> None:
    # our own crashed write removed the key remotely; the vault's new edit must go out
    m = SyncMachine()
    try:
        m.create(n_fields=0, side="vault", with_body=False)
        m.sync()
        m.edit_both_sides(field="a", index=0, later="vault")
        m.sync()
        m.delete_field_in_vault(field="a", index=0)
        m.create(n_fields=0, side="vault", with_body=False)
        m.crashing_sync(point="before", write=2)
        m.edit_field(field="a", index=0, side="vault")
        m.sync()
    finally:
        m.teardown()
