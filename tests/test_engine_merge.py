"""Three-way merge of one entry: fields, body, title, winners and the last_modified stamp."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from syncbridge.adapter import MISSING, Capabilities, Record
from syncbridge.engine import BODY, TITLE, SyncOptions, merge_entry
from syncbridge.engine.merge import decide_winner, format_local_time, merge_text
from syncbridge.state import BaseSnapshot, SideSnapshot

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
OPTS = SyncOptions(target="t", timezone="UTC")
MINUTE = Capabilities(timestamp_precision=dt.timedelta(minutes=1))
FINE = Capabilities()


def rec(
    i: str,
    fields: dict[str, Any],
    body: str = "b\n",
    modified: dt.datetime = T0,
    mtime: dt.datetime | None = None,
    title: str | None = None,
) -> Record:
    extra = {"mtime": mtime} if mtime else {}
    return Record(
        "note", fields, body, id=i, version="v", modified=modified, title=title, extra=extra
    )


def base(vault: Record, remote: Record) -> BaseSnapshot:
    return BaseSnapshot(SideSnapshot.from_record(vault), SideSnapshot.from_record(remote))


BASE_VAULT = rec("A.md", {"s": "x", "n": 1, "only_vault": "keep"}, "one\ntwo\nthree\n", title="A")
BASE_REMOTE = rec("r1", {"s": "x", "n": 1}, "one\ntwo\nthree\n", title="A")
BASE = base(BASE_VAULT, BASE_REMOTE)


def test_field_changed_only_in_vault_goes_to_remote() -> None:
    vault = rec("A.md", {**BASE_VAULT.fields, "s": "y"}, BASE_VAULT.body, title="A")
    m = merge_entry(vault, BASE_REMOTE, BASE, OPTS)
    assert m.remote_fields["s"] == "y" and not m.vault_changes and m.conflicts == ()


def test_field_deleted_in_vault_is_deleted_on_remote() -> None:
    vault = rec("A.md", {"s": "x", "only_vault": "keep"}, BASE_VAULT.body, title="A")
    m = merge_entry(vault, BASE_REMOTE, BASE, OPTS)
    assert "n" not in m.remote_fields


def test_field_the_remote_cannot_hold_stays_in_the_vault_untouched() -> None:
    # only_vault was absent from the remote at the last agreement: it cannot hold it
    vault = rec("A.md", {**BASE_VAULT.fields, "only_vault": "edited"}, BASE_VAULT.body, title="A")
    m = merge_entry(vault, BASE_REMOTE, BASE, OPTS)
    assert "only_vault" not in m.remote_fields and not m.remote_changes and not m.vault_changes


def test_field_vanishing_from_the_remote_never_deletes_a_vault_value() -> None:
    remote = rec("r1", {"s": "x"}, BASE_REMOTE.body, title="A")  # n dropped (column removed)
    m = merge_entry(BASE_VAULT, remote, BASE, OPTS)
    assert m.vault_fields["n"] == 1 and not m.vault_changes


def test_field_changed_only_on_remote_goes_to_vault() -> None:
    remote = rec("r1", {"s": "z", "n": 1}, BASE_REMOTE.body, title="A")
    m = merge_entry(BASE_VAULT, remote, BASE, OPTS)
    assert m.vault_fields == {"s": "z", "n": 1, "only_vault": "keep"}


def test_both_changed_same_value_is_not_a_conflict() -> None:
    vault = rec("A.md", {**BASE_VAULT.fields, "s": "same"}, BASE_VAULT.body, title="A")
    remote = rec("r1", {"s": "same", "n": 1}, BASE_REMOTE.body, title="A")
    m = merge_entry(vault, remote, BASE, OPTS)
    assert m.conflicts == () and not m.vault_changes and not m.remote_changes


def test_different_fields_changed_on_each_side_merge_without_conflict() -> None:
    vault = rec("A.md", {**BASE_VAULT.fields, "s": "vault"}, BASE_VAULT.body, title="A")
    remote = rec("r1", {"s": "x", "n": 2}, BASE_REMOTE.body, title="A")
    m = merge_entry(vault, remote, BASE, OPTS)
    assert m.vault_fields["n"] == 2 and m.remote_fields["s"] == "vault" and m.conflicts == ()


def test_true_conflict_later_side_wins_and_loser_is_reported() -> None:
    vault = rec(
        "A.md", {**BASE_VAULT.fields, "s": "vault"}, BASE_VAULT.body, modified=T0, title="A"
    )
    remote = rec(
        "r1", {"s": "remote", "n": 1}, BASE_REMOTE.body, modified=T0 + dt.timedelta(hours=1)
    )
    m = merge_entry(vault, remote, BASE, OPTS)
    (c,) = m.conflicts
    assert (c.field, c.vault_value, c.remote_value, c.winner) == ("s", "vault", "remote", "remote")
    assert c.decided_by == "last_modified"
    assert m.vault_fields["s"] == "remote" and m.remote_fields["s"] == "remote"


def test_vault_deleting_a_field_the_remote_edited_is_a_conflict() -> None:
    vault = rec(
        "A.md", {"n": 1, "only_vault": "keep"}, BASE_VAULT.body, modified=T0 + dt.timedelta(hours=1)
    )
    remote = rec("r1", {"s": "remote", "n": 1}, BASE_REMOTE.body, modified=T0)
    (c,) = merge_entry(vault, remote, BASE, OPTS).conflicts
    assert c.vault_value is MISSING and c.winner == "vault"


@pytest.mark.parametrize(
    ("strategy", "winner"),
    [("vault_wins", "vault"), ("remote_wins", "remote"), ("manual", None)],
)
def test_fixed_strategies(strategy: Any, winner: str | None) -> None:
    vault = rec("A.md", {**BASE_VAULT.fields, "s": "vault"}, BASE_VAULT.body, title="A")
    remote = rec("r1", {"s": "remote", "n": 1}, BASE_REMOTE.body, title="A")
    m = merge_entry(vault, remote, BASE, SyncOptions(conflict=strategy))
    assert m.conflicts[0].winner == winner and m.conflicts[0].decided_by == strategy
    if winner is None:
        # manual: both keep their value and the conflict stays open
        assert m.hold and not m.vault_changes and not m.remote_changes


def test_equal_times_at_the_coarser_precision_use_the_tie_breaker() -> None:
    vault = rec("A.md", {**BASE_VAULT.fields, "s": "v"}, modified=T0 + dt.timedelta(seconds=50))
    remote = rec("r1", {"s": "r", "n": 1}, modified=T0 + dt.timedelta(seconds=10))
    # the remote (Notion-like) only knows minutes: 12:00:50 and 12:00:10 are equal
    assert decide_winner(vault, remote, BASE, OPTS, (FINE, MINUTE)) == ("vault", "tie_breaker")
    remote_tb = SyncOptions(tie_breaker="remote")
    assert decide_winner(vault, remote, BASE, remote_tb, (FINE, MINUTE)) == (
        "remote",
        "tie_breaker",
    )
    # at full precision the vault is later
    assert decide_winner(vault, remote, BASE, OPTS, (FINE, FINE)) == ("vault", "last_modified")


def test_missing_time_uses_the_tie_breaker() -> None:
    vault = Record("note", {}, "", id="A.md", version="v", modified=None)
    assert decide_winner(vault, BASE_REMOTE, BASE, OPTS, (FINE, FINE)) == ("vault", "tie_breaker")


def test_stale_last_modified_field_falls_back_to_file_mtime() -> None:
    # the note changed, but its last_modified field did not: the user edited without a
    # plugin stamping it, so the file's mtime is the real time of the edit
    lm_base = {"last_modified": "2026-01-01T10:00", "s": "x"}
    vault_base = rec("A.md", lm_base, modified=T0 - dt.timedelta(hours=2))
    snap = base(vault_base, rec("r1", {"s": "x"}))
    vault = rec(
        "A.md",
        {**lm_base, "s": "vault"},
        modified=T0 - dt.timedelta(hours=2),  # from the stale field
        mtime=T0 + dt.timedelta(hours=1),  # the real edit time
    )
    remote = rec("r1", {"s": "remote"}, modified=T0)
    assert decide_winner(vault, remote, snap, OPTS, (FINE, FINE)) == ("vault", "file_mtime")
    # a stamped field is trusted
    stamped = rec(
        "A.md",
        {"last_modified": "2026-01-01T11:00", "s": "vault"},
        modified=T0 - dt.timedelta(hours=1),
        mtime=T0 + dt.timedelta(hours=1),
    )
    assert decide_winner(stamped, remote, snap, OPTS, (FINE, FINE)) == ("remote", "last_modified")


def test_body_edits_on_both_sides_that_do_not_overlap_merge() -> None:
    vault = rec("A.md", BASE_VAULT.fields, "zero\none\ntwo\nthree\n", title="A")
    remote = rec("r1", BASE_REMOTE.fields, "one\ntwo\nthree\nfour\n", title="A")
    m = merge_entry(vault, remote, BASE, OPTS)
    assert m.vault_body == m.remote_body == "zero\none\ntwo\nthree\nfour\n" and m.conflicts == ()


def test_overlapping_body_edits_are_a_conflict_winner_takes_body() -> None:
    vault = rec("A.md", BASE_VAULT.fields, "one\nTWO vault\nthree\n", modified=T0, title="A")
    remote = rec(
        "r1", BASE_REMOTE.fields, "one\nTWO remote\nthree\n", modified=T0 + dt.timedelta(minutes=5)
    )
    m = merge_entry(vault, remote, BASE, OPTS)
    (c,) = m.conflicts
    assert c.field == BODY and c.winner == "remote" and c.vault_value == "one\nTWO vault\nthree\n"
    assert m.vault_body == m.remote_body == "one\nTWO remote\nthree\n"


def test_body_changed_on_one_side_only() -> None:
    vault = rec("A.md", BASE_VAULT.fields, "new body\n", title="A")
    assert merge_entry(vault, BASE_REMOTE, BASE, OPTS).remote_body == "new body\n"
    remote = rec("r1", BASE_REMOTE.fields, "remote body\n", title="A")
    assert merge_entry(BASE_VAULT, remote, BASE, OPTS).vault_body == "remote body\n"


def test_body_is_left_alone_when_a_side_stores_none() -> None:
    vault = rec("A.md", BASE_VAULT.fields, "vault body\n", title="A")
    remote = rec("r1", BASE_REMOTE.fields, "", title="A")
    m = merge_entry(vault, remote, BASE, OPTS, (FINE, Capabilities(supports_body=False)))
    assert m.vault_body == "vault body\n" and m.remote_body == "" and m.conflicts == ()


def test_no_base_empty_body_loses_nothing() -> None:
    vault = rec("A.md", {}, "text\n")
    remote = rec("r1", {}, "")
    m = merge_entry(vault, remote, None, OPTS)
    assert m.vault_body == m.remote_body == "text\n" and m.conflicts == ()


def test_merge_text_reports_overlap_as_none() -> None:
    assert merge_text("a\nb\n", "a\nb\nc\n", "a\nb\nd\n") is None
    assert merge_text("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n") == "A\nb\nC\n"


def test_title_renamed_in_vault_goes_to_remote() -> None:
    vault = rec("B.md", BASE_VAULT.fields, BASE_VAULT.body, title="B")
    m = merge_entry(vault, BASE_REMOTE, BASE, OPTS)
    assert m.remote_title == "B" and [c.field for c in m.remote_changes] == [TITLE]


def test_remote_changes_stamp_the_notes_last_modified_with_remote_time() -> None:
    fields = {"s": "x", "last_modified": "2026-01-01T10:00"}
    vault0, remote0 = rec("A.md", fields), rec("r1", {"s": "x"})
    remote = rec("r1", {"s": "remote"}, modified=dt.datetime(2026, 1, 1, 12, 34, 56, tzinfo=UTC))
    m = merge_entry(vault0, remote, base(vault0, remote0), OPTS, (MINUTE, FINE))
    assert m.vault_fields == {"s": "remote", "last_modified": "2026-01-01T12:34"}
    # a note without the field does not get one
    n0 = rec("A.md", {"s": "x"})
    m = merge_entry(n0, remote, base(n0, remote0), OPTS, (MINUTE, FINE))
    assert "last_modified" not in m.vault_fields


def test_stamp_is_copied_to_a_remote_that_holds_the_field() -> None:
    fields = {"s": "x", "last_modified": "2026-01-01T10:00"}
    vault0, remote0 = rec("A.md", fields), rec("r1", fields)
    remote = rec(
        "r1", {**fields, "s": "remote"}, modified=dt.datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
    )
    m = merge_entry(vault0, remote, base(vault0, remote0), OPTS, (MINUTE, FINE))
    assert m.vault_fields["last_modified"] == m.remote_fields["last_modified"] == "2026-01-01T13:00"


def test_format_local_time_uses_the_configured_zone() -> None:
    t = dt.datetime(2025, 7, 5, 14, 56, 30, tzinfo=UTC)
    assert format_local_time(t, "Europe/Paris", dt.timedelta(minutes=1)) == "2025-07-05T16:56"
    assert format_local_time(t, "UTC", dt.timedelta(seconds=1)) == "2025-07-05T14:56:30"


def test_computed_fields_are_never_written_into_the_note() -> None:
    # row: a Formula/Lookup field edited on the remote: the note's computed value rules
    opts = SyncOptions(target="t", computed_fields={"note": ("total",)})
    vault0, remote0 = rec("A.md", {"total": 3, "s": "x"}), rec("r1", {"total": 3, "s": "x"})
    remote = rec("r1", {"total": 99, "s": "remote"})
    m = merge_entry(vault0, remote, base(vault0, remote0), opts)
    assert m.vault_fields == {"total": 3, "s": "remote"}
    assert m.remote_fields["total"] == 3  # the remote is put back to the vault's value
    vault = rec("A.md", {"total": 4, "s": "x"})  # recomputed in the vault: goes out
    assert merge_entry(vault, remote0, base(vault0, remote0), opts).remote_fields["total"] == 4


def test_vault_edit_of_a_field_gone_from_the_remote_is_sent_again() -> None:
    # row: both changed, the remote by losing the key: the vault's edit wins and is sent
    remote = rec("r1", {"s": "x"}, BASE_REMOTE.body, title="A")  # n gone from the remote
    vault = rec("A.md", {**BASE_VAULT.fields, "n": 2}, BASE_VAULT.body, title="A")
    m = merge_entry(vault, remote, BASE, OPTS)
    assert m.remote_fields["n"] == 2 and m.conflicts == () and not m.vault_changes


def test_note_changing_class_moves_the_remote_record() -> None:
    vault0, remote0 = rec("A.md", {"s": "x"}), rec("r1", {"s": "x"})
    vault = Record("wound", {"s": "x"}, "b\n", id="A.md", version="v2", modified=T0)
    m = merge_entry(vault, remote0, base(vault0, remote0), OPTS)
    assert m.remote_class == "wound" and [c.field for c in m.remote_changes] == ["(class)"]
    assert merge_entry(vault0, remote0, base(vault0, remote0), OPTS).remote_class is None


def test_a_cleared_value_of_a_field_the_remote_holds_is_cleared_in_the_note() -> None:
    # row: the remote holds the field (a column) and this record lost it: a cleared cell
    remote = rec("r1", {"s": "x"}, BASE_REMOTE.body, title="A")  # n cleared
    m = merge_entry(BASE_VAULT, remote, BASE, OPTS, remote_holds=frozenset({"s", "n"}))
    assert "n" not in m.vault_fields and [c.field for c in m.vault_changes] == ["n"]
    # without the adapter saying so, the vanished key is "cannot hold": nothing deleted
    assert merge_entry(BASE_VAULT, remote, BASE, OPTS).vault_fields["n"] == 1


def test_cleared_on_the_remote_while_edited_in_the_vault_is_a_true_conflict() -> None:
    remote = rec(
        "r1", {"s": "x"}, BASE_REMOTE.body, modified=T0 + dt.timedelta(hours=1)
    )  # n cleared, later
    vault = rec("A.md", {**BASE_VAULT.fields, "n": 5}, BASE_VAULT.body, modified=T0, title="A")
    m = merge_entry(vault, remote, BASE, OPTS, remote_holds=frozenset({"s", "n"}))
    (c,) = m.conflicts
    assert (c.field, c.vault_value, c.remote_value, c.winner) == ("n", 5, MISSING, "remote")
    assert "n" not in m.vault_fields


def test_a_field_the_remote_holds_is_sent_even_if_it_lacked_it_last_time() -> None:
    # the remote added the column since: the vault's edit now goes out
    vault0, remote0 = rec("A.md", {"s": "x", "new": 1}), rec("r1", {"s": "x"})
    vault = rec("A.md", {"s": "x", "new": 2})
    m = merge_entry(
        vault, remote0, base(vault0, remote0), OPTS, remote_holds=frozenset({"s", "new"})
    )
    assert m.remote_fields["new"] == 2
