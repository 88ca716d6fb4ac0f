"""The pure planner: one test per decision-table row (docs/sync.md), no I/O at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from syncbridge.adapter import Capabilities, Record, RecordRef
from syncbridge.engine import BaseState, Filters, SyncOptions, plan_sync, records_to_read
from syncbridge.engine.plan import EntryAction, Plan
from syncbridge.state import BaseSnapshot, Link, SideSnapshot

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
OPTS = SyncOptions(target="t")


def rec(i: str, version: str, body: str = "body\n", **fields: Any) -> Record:
    title = i.removesuffix(".md").rsplit("/", 1)[-1] if i.endswith(".md") else "T"
    return Record("note", fields, body, id=i, version=version, modified=T0, title=title)


def ref(r: Record) -> RecordRef:
    assert r.id is not None and r.version is not None
    return RecordRef(r.id, r.version, T0, r.class_name)


def linked(
    vault: Record, remote: Record, link_id: int = 1, key: str | None = None
) -> tuple[Link, BaseSnapshot]:
    vault_snap, remote_snap = SideSnapshot.from_record(vault), SideSnapshot.from_record(remote)
    link = Link(
        link_id,
        vault_snap.id,
        remote_snap.id,
        vault_snap.version,
        remote_snap.version,
        vault_snap.content_hash,
        remote_snap.content_hash,
        key,
    )
    return link, BaseSnapshot(vault_snap, remote_snap)


def base_of(*pairs: tuple[Link, BaseSnapshot]) -> BaseState:
    return BaseState({lk.link_id: lk for lk, _ in pairs}, {lk.link_id: s for lk, s in pairs})


def only(plan: Plan) -> EntryAction:
    assert len(plan.actions) == 1, plan.render()
    return plan.actions[0]


def ops(action: EntryAction) -> list[tuple[str, str]]:
    return [(w.side, w.op) for w in action.writes]


VAULT0 = rec("A.md", "a1", status="x")
REMOTE0 = rec("r1", "b1", status="x")


def test_unchanged_entry_needs_no_read_and_no_action() -> None:
    # row: both versions equal the base → unchanged, not even read
    base = base_of(linked(VAULT0, REMOTE0))
    assert records_to_read([ref(VAULT0)], [ref(REMOTE0)], base.links) == (set(), set(), set())
    plan = plan_sync([ref(VAULT0)], [ref(REMOTE0)], BaseState(base.links), OPTS)
    assert plan.actions == () and plan.unchanged == 1


def test_changed_vault_updates_remote() -> None:
    # row: only the vault changed → update the remote
    vault = rec("A.md", "a2", status="y")
    action = only(plan_sync([vault], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert action.kind == "update" and ops(action) == [("remote", "update")]
    w = action.writes[0]
    assert w.record is not None and w.record.fields == {"status": "y"}
    assert w.expected_version == "b1"


def test_changed_remote_updates_vault() -> None:
    # row: only the remote changed → update the note
    remote = rec("r1", "b2", status="z")
    action = only(plan_sync([VAULT0], [remote], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert ops(action) == [("vault", "update")]
    assert action.writes[0].record is not None
    assert action.writes[0].record.fields["status"] == "z"


def test_same_change_on_both_sides_is_no_conflict_and_no_write() -> None:
    # row: both changed to the same value → refresh the base only
    vault, remote = rec("A.md", "a2", status="y"), rec("r1", "b2", status="y")
    action = only(plan_sync([vault], [remote], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert action.kind == "refresh" and action.writes == () and action.conflicts == ()


def test_touch_without_content_change_only_refreshes() -> None:
    # row: new version, same content (a touch, or an echo of our own write) → refresh
    vault = rec("A.md", "a9", status="x")
    action = only(plan_sync([vault], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert action.kind == "refresh" and action.writes == ()


def test_unchanged_remote_ref_suffices_when_only_vault_changed() -> None:
    # the planner refuses to guess: a record it must merge has to be passed read
    vault = rec("A.md", "a2", status="y")
    with pytest.raises(ValueError, match="full record"):
        plan_sync([vault], [ref(REMOTE0)], base_of(linked(VAULT0, REMOTE0)), OPTS)


def test_deleted_in_vault_untouched_remote_is_deleted() -> None:
    # row: deleted in the vault, remote unchanged → delete remote (to trash)
    plan = plan_sync(
        [rec("Z.md", "z", q=1)], [ref(REMOTE0)], base_of(linked(VAULT0, REMOTE0)), OPTS
    )
    delete = [action for action in plan.actions if action.kind == "delete"]
    assert len(delete) == 1 and ops(delete[0]) == [("remote", "delete")]
    assert delete[0].writes[0].expected_version == "b1"


def test_deleted_on_remote_untouched_vault_is_deleted() -> None:
    # row: deleted on the remote, note unchanged → note to .trash
    plan = plan_sync([ref(VAULT0)], [rec("r9", "x", q=1)], base_of(linked(VAULT0, REMOTE0)), OPTS)
    delete = [action for action in plan.actions if action.kind == "delete"]
    assert ops(delete[0]) == [("vault", "delete")]


def test_delete_versus_edit_the_edit_wins_on_both_sides() -> None:
    # row: deleted on one side, edited on the other → re-create on the deleting side
    remote = rec("r1", "b2", status="edited")
    action = only(
        plan_sync(
            [],
            [remote],
            base_of(linked(VAULT0, REMOTE0)),
            SyncOptions(target="t", force_delete=True),
        )
    )
    assert action.kind == "recreate" and ops(action) == [("vault", "create")]
    vault = rec("A.md", "a2", status="edited")
    action = only(
        plan_sync(
            [vault],
            [],
            base_of(linked(VAULT0, REMOTE0)),
            SyncOptions(target="t", force_delete=True),
        )
    )
    assert action.kind == "recreate" and ops(action) == [("remote", "create")]


def test_deleted_on_both_sides_forgets_the_link() -> None:
    # row: gone from both sides → forget the link, write nothing
    plan = plan_sync(
        [], [], base_of(linked(VAULT0, REMOTE0)), SyncOptions(target="t", force_delete=True)
    )
    assert only(plan).kind == "forget"


def test_new_note_is_created_on_the_remote_and_new_record_in_the_vault() -> None:
    # rows: new on one side → create on the other
    vault, remote = rec("New.md", "n1", body="hi\n", k=1), rec("r7", "n2", body="yo\n", k=2)
    plan = plan_sync([vault], [remote], BaseState(), OPTS)
    assert sorted(ops(x)[0] for x in plan.actions) == [("remote", "create"), ("vault", "create")]
    create_remote = next(x for x in plan.actions if ops(x) == [("remote", "create")])
    sent = create_remote.writes[0].record
    assert sent is not None and sent.id is None and sent.title == "New" and sent.body == "hi\n"


def test_filtered_new_note_is_never_created() -> None:
    # row: a note the target's filters keep out is skipped, never sent
    opts = SyncOptions(
        target="t",
        filters=Filters(exclude=("Private/**",), exclude_values={"visibility": ("🔒 private",)}),
    )
    private = rec("Notes/P.md", "p1", visibility="🔒 private")
    folder = rec("Private/Diary.md", "p2")
    listed = rec("Notes/L.md", "p3", tags=["🔒 private", "x"], visibility=["🔒 private"])
    ok = rec("Notes/Ok.md", "p4", visibility="🌍 public")
    plan = plan_sync([private, folder, listed, ok], [], BaseState(), opts)
    kinds = {x.label: x.kind for x in plan.actions}
    assert kinds == {
        "Notes/P.md": "skip",
        "Private/Diary.md": "skip",
        "Notes/L.md": "skip",
        "Notes/Ok.md": "create",
    }


def test_class_filters() -> None:
    opts = SyncOptions(target="t", filters=Filters(classes=("wound",)))
    w = Record("wound", {}, "", id="W.md", version="1")
    n = Record("note", {}, "", id="N.md", version="2")
    kinds = {x.label: x.kind for x in plan_sync([w, n], [], BaseState(), opts).actions}
    assert kinds == {"W.md": "create", "N.md": "skip"}


def test_linked_note_becoming_filtered_is_frozen_not_deleted() -> None:
    # row: linked, now filtered out → skip: no write either way, the remote record stays
    vault = rec("A.md", "a2", status="x", visibility="🔒 private")
    remote = rec("r1", "b2", status="remote edit")
    opts = SyncOptions(target="t", filters=Filters(exclude_values={"visibility": ("🔒 private",)}))
    action = only(plan_sync([vault], [remote], base_of(linked(VAULT0, REMOTE0)), opts))
    assert action.kind == "skip" and action.writes == ()


def test_rename_with_same_version_moves_the_link() -> None:
    # row: the linked path vanished and one new path has the same version → rename
    moved = rec("Folder/A2.md", "a1", status="x")
    action = only(plan_sync([moved], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert action.renamed_from == "A.md" and action.vault is moved
    # the title follows to the remote; nothing is created or deleted
    assert ops(action) == [("remote", "update")]
    assert action.writes[0].record is not None and action.writes[0].record.title == "A2"


def test_rename_plus_edit_found_by_id_field() -> None:
    # row: renamed and edited, same id-field value → rename + update, never re-created
    vault0, remote0 = rec("A.md", "a1", id=5, status="x"), rec("r1", "b1", id=5, status="x")
    moved = rec("B.md", "a2", id=5, status="edited")
    action = only(plan_sync([moved], [remote0], base_of(linked(vault0, remote0, key="5")), OPTS))
    assert action.renamed_from == "A.md" and ops(action) == [("remote", "update")]


def test_rename_found_by_content_hash() -> None:
    # row: renamed, new version (re-saved), same content → rename
    moved = rec("Elsewhere.md", "a7", status="x")
    action = only(plan_sync([moved], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS))
    assert action.renamed_from == "A.md"
    assert [w.record.fields for w in action.writes if w.record] == [{"status": "x"}]


def test_ambiguous_rename_is_not_guessed() -> None:
    # two candidates with the same content: no rename; delete guard + creates instead
    c1, c2 = rec("C1.md", "c1", status="x"), rec("C2.md", "c2", status="x")
    plan = plan_sync(
        [c1, c2], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), SyncOptions(force_delete=True)
    )
    assert not any(x.renamed_from for x in plan.actions)


def test_unlinked_records_with_same_id_value_are_paired() -> None:
    # row: unlinked on both sides, same id-field value → pair (no duplicate)
    vault = rec("A.md", "a1", id=1751752568955, status="vault")
    remote = rec("r1", "b1", id=1751752568955, status="vault")
    action = only(plan_sync([vault], [remote], BaseState(), OPTS))
    assert action.kind == "pair" and action.writes == ()


def test_unlinked_records_with_same_content_are_paired() -> None:
    # row: unlinked, the remote holds exactly the note's content (fewer fields) → pair
    vault = rec("A.md", "a1", body="same\n", status="x", local_only=[1])
    remote = rec("r1", "b1", body="same\n", status="x")
    action = only(plan_sync([vault], [remote], BaseState(), OPTS))
    assert action.kind == "pair"


def test_pair_without_base_merges_and_logs_true_conflicts() -> None:
    vault = rec("A.md", "a1", id=3, status="vault")
    remote = rec("r1", "b1", id=3, status="remote", extra="only remote")
    action = only(plan_sync([vault], [remote], BaseState(), SyncOptions(conflict="vault_wins")))
    assert action.kind == "pair"
    assert [c.field for c in action.conflicts] == ["status"]
    assert {w.side for w in action.writes} == {"vault", "remote"}


def test_mass_delete_guard_stops_and_force_delete_lifts_it() -> None:
    # row: more than max_delete_fraction of linked entries deleted → SafetyStop
    pairs = [linked(rec(f"N{i}.md", f"a{i}", n=i), rec(f"r{i}", f"b{i}", n=i), i) for i in range(4)]
    base = base_of(*pairs)
    keep = [pairs[0][1].vault]
    vault = [rec(s.id, s.version, **s.fields) for s in keep]
    remote = [rec(lk.remote_id, lk.remote_version, n=i) for i, (lk, _) in enumerate(pairs)]
    plan = plan_sync(vault, remote, base, OPTS)
    assert plan.safety_stop is not None and "--force-delete" in plan.safety_stop
    assert "3 of 4" in plan.safety_stop
    forced = plan_sync(vault, remote, base, SyncOptions(force_delete=True))
    assert forced.safety_stop is None
    assert len([w for w in forced.writes("remote") if w.op == "delete"]) == 3


def test_a_side_found_empty_is_a_safety_stop() -> None:
    # row: a previously non-empty side is now empty → SafetyStop
    plan = plan_sync([], [ref(REMOTE0)], base_of(linked(VAULT0, REMOTE0)), OPTS)
    assert plan.safety_stop is not None and "vault side is empty" in plan.safety_stop


def test_deleting_half_is_allowed() -> None:
    pairs = [linked(rec(f"N{i}.md", f"a{i}"), rec(f"r{i}", f"b{i}"), i) for i in range(2)]
    vault = [rec("N0.md", "a0")]
    remote = [rec("r0", "b0"), rec("r1", "b1")]
    plan = plan_sync(vault, remote, base_of(*pairs), OPTS)
    assert plan.safety_stop is None


def test_read_only_remote_receives_nothing() -> None:
    vault = rec("New.md", "n1")
    caps = (Capabilities(), Capabilities(read_only=True))
    plan = plan_sync([vault], [], BaseState(), OPTS, capabilities=caps)
    assert plan.writes() == []


def test_link_without_base_is_merged_as_never_agreed() -> None:
    vault, remote = rec("A.md", "a1", status="x", v=1), rec("r1", "b1", status="x", w=2)
    link = Link(1, "A.md", "r1", "", "", has_base=False)
    action = only(plan_sync([vault], [remote], BaseState({1: link}), OPTS))
    assert action.why.startswith("linked, never agreed")
    fields = {w.side: w.record.fields for w in action.writes if w.record}
    assert fields["remote"] == {"status": "x", "w": 2, "v": 1}
    assert fields["vault"] == {"status": "x", "v": 1, "w": 2}


def test_render_shows_fields_like_a_diff() -> None:
    vault = rec("A.md", "a2", status="y")
    text = plan_sync([vault], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS).render()
    assert "update A.md: changed in the vault" in text
    assert 'remote status: -"x" +"y"' in text


def test_planning_is_deterministic() -> None:
    vault = rec("A.md", "a2", status="y")
    remote = rec("r1", "b2", status="z")
    base = base_of(linked(VAULT0, REMOTE0))
    assert plan_sync([vault], [remote], base, OPTS) == plan_sync([vault], [remote], base, OPTS)


def test_unreadable_linked_note_is_skipped_never_deleted() -> None:
    # row: the note exists but its frontmatter cannot be read → skip, keep the remote
    bad = {"A.md": "A.md:3: duplicate key"}
    plan = plan_sync([], [REMOTE0], base_of(linked(VAULT0, REMOTE0)), OPTS, unreadable=(bad, {}))
    action = only(plan)
    assert action.kind == "skip" and "duplicate key" in action.why and action.label == "A.md"
    assert plan.safety_stop is None


def test_unreadable_new_note_is_skipped() -> None:
    plan = plan_sync([], [], BaseState(), OPTS, unreadable=({"N.md": "N.md:1: tab"}, {}))
    assert only(plan).kind == "skip" and only(plan).label == "N.md"


def test_rename_plus_field_edit_found_by_body() -> None:
    # row: moved, then a field edited (no id field): same body and a field kept → rename
    vault0 = rec("A.md", "a1", body="A long body\n", status="x", kind="k")
    remote0 = rec("r1", "b1", body="A long body\n", status="x", kind="k")
    moved = rec("Moved.md", "a2", body="A long body\n", status="y", kind="k")
    action = only(plan_sync([moved], [remote0], base_of(linked(vault0, remote0)), OPTS))
    assert action.renamed_from == "A.md" and ops(action) == [("remote", "update")]


def test_new_remote_record_creates_a_note_without_computed_fields() -> None:
    opts = SyncOptions(target="t", computed_fields={"note": ("total",)})
    remote = rec("r7", "n2", total=9, s="x")
    action = only(plan_sync([], [remote], BaseState(), opts))
    assert action.writes[0].record is not None
    assert action.writes[0].record.fields == {"s": "x"}


def test_filtered_note_is_not_paired_with_a_remote_record_either() -> None:
    opts = SyncOptions(target="t", filters=Filters(exclude_values={"visibility": ("🔒 private",)}))
    vault = rec("P.md", "p1", id=4, visibility="🔒 private", s="vault")
    remote = rec("r4", "b4", id=4, visibility="🌍 public", s="remote")
    kinds = sorted(x.kind for x in plan_sync([vault], [remote], BaseState(), opts).actions)
    assert kinds == ["skip", "skip"]  # neither sent nor imported as a duplicate
