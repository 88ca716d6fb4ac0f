"""The state store: a real SQLite file, WAL, mode 0600, migrations, links, journal, log."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from syncbridge.adapter import MISSING
from syncbridge.errors import DamagedFile, StateError
from syncbridge.state import (
    MIGRATIONS,
    ConflictEntry,
    SideSnapshot,
    StateStore,
    default_state_path,
)


def snap(i: str, version: str = "v1", **fields: object) -> SideSnapshot:
    return SideSnapshot(id=i, version=version, class_name="note", fields=fields, body="b\n")


def test_new_file_is_private_wal_and_migrated(tmp_path: Path) -> None:
    path = default_state_path(tmp_path)
    assert path == tmp_path / ".syncbridge" / "state.db"
    with StateStore.open(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("SELECT name FROM migrations")]
    assert names == [name for name, _ in MIGRATIONS]


def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore.open(path).close()
    with StateStore.open(path) as store:
        store.save_link("t", None, snap("a.md"), snap("r1"))
    with StateStore.open(path) as store:
        assert len(store.links("t")) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer"):
        StateStore.open(path)


def test_garbage_file_is_a_damaged_file_with_the_repair_command(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(
        DamagedFile, match=r"s\.db: the database file is damaged .*syncbridge repair"
    ):
        StateStore.open(path)


def test_links_and_snapshots_round_trip(state_store: StateStore) -> None:
    a = snap("Notes/A.md", "va", id=17, status="🟩 complete", tags=["x"])
    b = snap("r1", "vb", id=17, status="🟩 complete")
    link_id = state_store.save_link("t", None, a, b, key="17", vault_path="Notes/A.md")
    links = state_store.links("t")
    link = links[link_id]
    assert (link.a_id, link.b_id) == ("Notes/A.md", "r1")
    assert (link.a_version, link.b_version) == ("va", "vb")
    assert link.key == "17" and link.has_base and link.a_hash == a.content_hash
    assert state_store.links("other") == {}
    base = state_store.snapshots("t", [link_id])[link_id]
    assert base.a == a and base.b == b


def _stored_base(store: StateStore, link_id: int) -> dict[str, object]:
    conn = sqlite3.connect(store.path)
    (text,) = conn.execute("SELECT base FROM links WHERE link_id=?", (link_id,)).fetchone()
    conn.close()
    data: dict[str, object] = json.loads(text)
    return data


def test_a_base_whose_sides_agree_stores_the_content_once(state_store: StateStore) -> None:
    a = SideSnapshot("Notes/A.md", "va", "note", {"id": 17, "tags": ["x"]}, "body\n" * 50, "A")
    b = SideSnapshot("r1", "vb", "note", {"id": 17, "tags": ["x"]}, "body\n" * 50, "A")
    link_id = state_store.save_link("t", None, a, b)
    stored = _stored_base(state_store, link_id)
    assert stored["b"] == {
        "id": "r1",
        "version": "vb",
        "class": "note",
        "content": "a",
        "title": "A",
        "modified": None,
    }
    base = state_store.snapshots("t", [link_id])[link_id]
    assert base.a == a and base.b == b
    assert base.b.fields is not base.a.fields  # two snapshots never share a dict


@pytest.mark.parametrize(
    "b_fields, b_body",
    [
        ({"id": 17, "tags": ["x"]}, "other body\n"),
        ({"id": 17, "tags": ["y"]}, "body\n"),
        ({"id": 17.0, "tags": ["x"]}, "body\n"),  # equal in Python, not the same JSON
        ({"tags": ["x"], "id": 17}, "body\n"),  # other order
    ],
)
def test_a_base_whose_sides_differ_stores_both(
    state_store: StateStore, b_fields: dict[str, object], b_body: str
) -> None:
    a = SideSnapshot("A.md", "va", "note", {"id": 17, "tags": ["x"]}, "body\n")
    b = SideSnapshot("r1", "vb", "note", b_fields, b_body)
    link_id = state_store.save_link("t", None, a, b)
    stored = _stored_base(state_store, link_id)
    assert "content" not in stored["b"]  # type: ignore[operator]
    base = state_store.snapshots("t", [link_id])[link_id]
    assert base.b == b and list(base.b.fields) == list(b_fields)
    assert [type(v) for v in base.b.fields.values()] == [type(v) for v in b_fields.values()]


def test_a_version_1_state_file_is_migrated_and_its_bases_still_read(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    conn.executescript(MIGRATIONS[0][1])
    conn.execute("INSERT INTO migrations VALUES (?, '2026-01-01')", (MIGRATIONS[0][0],))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    full = {
        "id": "x",
        "version": "v",
        "class": "note",
        "fields": {"n": 1},
        "body": "b",
        "title": None,
        "modified": None,
    }
    conn.execute(
        "INSERT INTO links (target, a_id, b_id, a_version, b_version, base, updated_at)"
        " VALUES ('t', 'A.md', 'r1', 'v', 'v', ?, '2026-01-01')",
        (json.dumps({"a": full, "b": {**full, "id": "r1"}}),),
    )
    conn.commit()
    conn.close()
    with StateStore.open(path) as store:
        assert store.schema_version == len(MIGRATIONS) == 2
        (link_id,) = store.links("t")
        base = store.snapshots("t", [link_id])[link_id]
        assert base.b.id == "r1" and base.b.fields == {"n": 1} and base.b.body == "b"


def test_link_without_base_and_held_versions(state_store: StateStore) -> None:
    lid = state_store.save_link("t", None, snap("a"), snap("b"), has_base=False)
    link = state_store.links("t")[lid]
    assert not link.has_base and link.a_version == "" and state_store.snapshots("t", [lid]) == {}
    state_store.save_link("t", lid, snap("a"), snap("b"), hold_versions=True)
    link = state_store.links("t")[lid]
    assert link.has_base and link.a_version == "" and link.b_version == ""


def test_saving_a_link_takes_over_ids_of_a_stale_link(state_store: StateStore) -> None:
    old = state_store.save_link("t", None, snap("a.md"), snap("r1"))
    new = state_store.save_link("t", None, snap("b.md"), snap("r2"))
    state_store.save_link("t", new, snap("a.md"), snap("r2"))  # renamed onto a.md
    assert list(state_store.links("t")) == [new]
    assert old != new


def test_journal_commits_with_the_link(state_store: StateStore) -> None:
    jid = state_store.journal_begin("t", "update", {"writes": [1]})
    assert [e.id for e in state_store.pending_journal("t")] == [jid]
    state_store.save_link("t", None, snap("a"), snap("b"), journal_id=jid)
    assert state_store.pending_journal("t") == []
    jid = state_store.journal_begin("t", "delete", {})
    lid = next(iter(state_store.links("t")))
    state_store.delete_link(lid, journal_id=jid)
    assert state_store.pending_journal("t") == [] and state_store.links("t") == {}


def test_conflicts_are_logged_before_writes_and_deduplicated(state_store: StateStore) -> None:
    entry = ConflictEntry(
        target="t",
        link_id=3,
        vault_id="A.md",
        remote_id="r1",
        field="status",
        vault_value="mine",
        remote_value=MISSING,
        winner="vault",
        decided_by="last_modified",
    )
    state_store.journal_begin("t", "update", {}, [entry])
    state_store.journal_begin("t", "update", {}, [entry])  # same conflict seen again
    logged = state_store.conflicts("t")
    assert len(logged) == 1
    got = logged[0]
    assert got.vault_value == "mine" and got.remote_value is MISSING and got.loser_value is MISSING
    assert got.created_at is not None and got.restored_at is None
    state_store.mark_restored(got.id or 0)
    restored = state_store.conflict(got.id or 0)
    assert restored is not None and restored.restored_at is not None
    state_store.log_conflict(entry)  # after a restore, the same values log anew
    assert len(state_store.conflicts()) == 2


def test_cursors(state_store: StateStore) -> None:
    assert state_store.cursor("t", "since") is None
    state_store.set_cursor("t", "since", "2026-01-01T00:00:00+00:00")
    state_store.set_cursor("t", "since", "2026-01-02T00:00:00+00:00")
    assert state_store.cursor("t", "since") == "2026-01-02T00:00:00+00:00"


def test_a_state_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(StateError, match=r"cannot create or open the state file .*\[state\] path"):
        StateStore.open(tmp_path / "file" / "state.db")
