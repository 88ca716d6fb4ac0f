"""Behaviour of the SQLite adapter on real database files."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
from syncbridge_sqlite.codec import exact_equal

from syncbridge.adapter import Record
from syncbridge.errors import (
    Interrupted,
    RecordError,
    RemoteUnavailable,
    StaleVersion,
    SyncbridgeError,
)
from syncbridge.registry import load_adapter
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType


def grief(**fields: Any) -> Record:
    values: dict[str, Any] = {
        "status": "🟨 in progress",
        "intensity": 7,
        "resolved": False,
        "linked_wounds": ["[[Abandonment Wound]]", "[[Rejection Wound]]"],
        "created": "2025-07-05T16:56",
        "meta": {"source": "journal", "pages": [1, 2]},
    }
    values.update(fields)
    return Record("emotion", values, body="# Grief\n\nA wave.\n", title="Grief")


def columns(path: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return {row[1]: row[2] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def test_registered_under_entry_point_sqlite() -> None:
    assert load_adapter("sqlite") is SQLiteAdapter
    assert SQLiteAdapter.config_model is SQLiteConfig
    assert SQLiteAdapter.capabilities.supports_trash
    assert SQLiteAdapter.capabilities.timestamp_precision == dt.timedelta(milliseconds=1)


def test_relative_path_resolves_against_base_dir(tmp_path: Path) -> None:
    with SQLiteAdapter(SQLiteConfig(path=Path("sub/x.db")), base_dir=tmp_path) as store:
        assert store.path == tmp_path / "sub" / "x.db"
        store.create(Record("emotion", {}))
    assert (tmp_path / "sub" / "x.db").is_file()
    with sqlite3.connect(tmp_path / "sub" / "x.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    with SQLiteAdapter(SQLiteConfig(path=Path("sub/none.db")), base_dir=tmp_path) as store:
        assert list(store.list()) == []
        assert store.deletions() == [] and store.trash() == []
        assert store.table_name("emotion") is None
        with pytest.raises(RecordError):
            store.read("abc")
    assert not (tmp_path / "sub").exists()


def test_typed_columns_per_kind(adapter: SQLiteAdapter, db_path: Path) -> None:
    cols = columns(db_path, "emotion")
    assert cols["status"] == "TEXT"
    assert cols["intensity"] == "NUMERIC"
    assert cols["resolved"] == "INTEGER"
    assert cols["linked_wounds"] == "TEXT"
    assert cols["created"] == "TEXT"
    assert {"_id", "title", "body", "_version", "_modified"} <= cols.keys()


def test_cells_are_natural_sql_values(adapter: SQLiteAdapter, db_path: Path) -> None:
    ref = adapter.create(grief())
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT status, intensity, resolved, linked_wounds, created, _exact"
            " FROM emotion WHERE _id = ?",
            (ref.id,),
        ).fetchone()
    assert row == (
        "🟨 in progress",
        7,
        0,
        '["[[Abandonment Wound]]", "[[Rejection Wound]]"]',
        "2025-07-05T16:56",
        None,  # every value was held exactly by its column
    )


def test_create_then_read_round_trips(adapter: SQLiteAdapter) -> None:
    record = grief()
    ref = adapter.create(record)
    got = adapter.read(ref.id)
    assert exact_equal(dict(got.fields), dict(record.fields))
    assert got.body == record.body and got.title == "Grief"
    assert got.version == ref.version and got.modified == ref.modified
    assert got.modified is not None and got.modified.tzinfo is not None


def test_our_writes_are_what_list_reports(adapter: SQLiteAdapter) -> None:
    """The version a write returns is the one the next listing shows (no echo)."""
    ref = adapter.create(grief(intensity=5.0))  # 5.0 needs the _exact fix-up write
    assert [(r.id, r.version) for r in adapter.list()] == [(ref.id, ref.version)]
    ref2 = adapter.update(
        Record("emotion", {"status": "🟩 done"}, id=ref.id, title="Grief"),
        expected_version=ref.version,
    )
    assert ref2.version != ref.version
    assert [(r.id, r.version) for r in adapter.list()] == [(ref.id, ref2.version)]


def test_every_write_bumps_the_version(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    seen = {ref.version}
    for n in range(5):
        record = Record("emotion", {"intensity": n}, id=ref.id)
        ref = adapter.update(record, expected_version=ref.version)
        assert ref.version not in seen
        seen.add(ref.version)


def test_update_with_stale_version_raises(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    adapter.update(Record("emotion", {"intensity": 1}, id=ref.id), expected_version=ref.version)
    with pytest.raises(StaleVersion):
        adapter.update(Record("emotion", {"intensity": 2}, id=ref.id), expected_version=ref.version)
    assert adapter.read(ref.id).fields["intensity"] == 1


def test_update_of_a_deleted_record_is_stale(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    adapter.delete(ref.id, expected_version=ref.version)
    with pytest.raises(StaleVersion):
        adapter.update(Record("emotion", {}, id=ref.id), expected_version=ref.version)


def test_deleting_a_row_that_is_gone_does_nothing(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    adapter.delete(ref.id, expected_version=ref.version)
    adapter.delete(ref.id, expected_version=ref.version)  # replayed: harmless
    assert [t.record_id for t in adapter.trash()] == [ref.id]


def test_delete_with_stale_version_keeps_the_row(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    with pytest.raises(StaleVersion):
        adapter.delete(ref.id, expected_version="1@2000-01-01T00:00:00.000Z")
    assert [r.id for r in adapter.list()] == [ref.id]


def test_delete_moves_to_trash_and_restore_brings_it_back(adapter: SQLiteAdapter) -> None:
    record = grief(intensity=2.5, resolved=None)
    ref = adapter.create(record)
    adapter.delete(ref.id, expected_version=ref.version)
    assert list(adapter.list()) == []
    assert [(t.record_id, t.title) for t in adapter.trash()] == [(ref.id, "Grief")]
    own = adapter.deletions(include_own=True)
    assert [(d.record_id, d.origin) for d in own] == [(ref.id, "syncbridge")]
    assert adapter.deletions() == []  # ours are not reported as external deletions

    restored = adapter.restore(ref.id)
    assert restored.id == ref.id and restored.version != ref.version
    got = adapter.read(ref.id)
    assert exact_equal(dict(got.fields), dict(record.fields))
    assert adapter.trash() == []
    with pytest.raises(RecordError):
        adapter.restore(ref.id)


def test_read_many_keeps_order_and_rejects_unknown_ids(adapter: SQLiteAdapter) -> None:
    ids = [adapter.create(grief(intensity=n)).id for n in range(3)]
    got = adapter.read_many(list(reversed(ids)))
    assert [r.id for r in got] == list(reversed(ids))
    assert [r.fields["intensity"] for r in got] == [2, 1, 0]
    with pytest.raises(RecordError, match="nope"):
        adapter.read_many([ids[0], "nope"])


def test_absent_and_null_fields_are_distinct(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(Record("emotion", {"status": None}, title="Blank"))
    got = adapter.read(ref.id)
    assert dict(got.fields) == {"status": None}  # intensity etc. are absent, not null


def test_values_that_do_not_fit_their_column_round_trip(adapter: SQLiteAdapter) -> None:
    odd: dict[str, Any] = {
        "status": 42,  # a number in a text field
        "intensity": "n/a",  # text in a number field
        "resolved": "maybe",
        "linked_wounds": "[[Single Link]]",  # a bare string in a list field
        "created": ["2025-07-05"],
        "meta": "plain text",
    }
    ref = adapter.create(Record("emotion", odd))
    assert exact_equal(dict(adapter.read(ref.id).fields), odd)
    tricky: dict[str, Any] = {
        "status": "[1, 2]",
        "intensity": True,
        "resolved": 1,
        "linked_wounds": '["looks", "like json"]',
        "meta": "5",
        "created": 3.0,
    }
    ref = adapter.update(Record("emotion", tricky, id=ref.id), expected_version=ref.version)
    assert exact_equal(dict(adapter.read(ref.id).fields), tricky)


def test_numbers_keep_int_and_float_apart(adapter: SQLiteAdapter) -> None:
    for value in (5, 5.0, -0.0, 2.5, 10**30, 1e300, float("inf")):
        ref = adapter.create(Record("emotion", {"intensity": value}))
        got = adapter.read(ref.id).fields["intensity"]
        assert exact_equal(got, value), (value, got)


def test_unknown_fields_get_columns(adapter: SQLiteAdapter, db_path: Path) -> None:
    record = Record("emotion", {"mood 🌧": "grey", "weight": 1.5, "tags": ["a"]})
    ref = adapter.create(record)
    assert exact_equal(dict(adapter.read(ref.id).fields), dict(record.fields))
    cols = columns(db_path, "emotion")
    assert cols["mood 🌧"] == "TEXT" and cols["weight"] == "NUMERIC" and cols["tags"] == "TEXT"


def test_new_schema_fields_add_columns_without_touching_rows(
    adapter: SQLiteAdapter, db_path: Path, emotion_schema: ClassSchema
) -> None:
    ref = adapter.create(grief())
    fields = dict(emotion_schema.fields)
    fields["healing pathway"] = FieldSpec("healing pathway", FieldType.INPUT, FieldKind.TEXT)
    adapter.ensure_collection(ClassSchema("emotion", fields, "metadata-menu"))
    assert "healing pathway" in columns(db_path, "emotion")
    got = adapter.read(ref.id)
    assert "healing pathway" not in got.fields  # absent, not null
    assert got.version == ref.version


@pytest.mark.parametrize(
    "name",
    ["Status", "title", "body", "_id", 'quote"d', "Ré­sumé ✨", "a; DROP TABLE emotion;--", ""],
)
def test_awkward_field_names_are_safe(adapter: SQLiteAdapter, name: str) -> None:
    record = Record("emotion", {"status": "a", name: "value of " + name}, title="T")
    ref = adapter.create(record)
    got = adapter.read(ref.id)
    assert dict(got.fields) == dict(record.fields)
    assert got.title == "T"


def test_awkward_class_names_get_their_own_tables(adapter: SQLiteAdapter) -> None:
    names = ["Emotion", "sqlite_master", "_meta", "wound 🩹", 'x"y']
    refs = {n: adapter.create(Record(n, {"k": n})) for n in names}
    for name, ref in refs.items():
        got = adapter.read(ref.id)
        assert got.class_name == name and got.fields == {"k": name}
    tables = {adapter.table_name(n) for n in ["emotion", *names]}
    assert len(tables) == len(names) + 1


def test_class_change_moves_the_row_and_keeps_its_id(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    moved = adapter.update(
        Record("wound", {"status": "open"}, id=ref.id, title="Grief"),
        expected_version=ref.version,
    )
    assert moved.id == ref.id and moved.class_name == "wound"
    assert [(r.id, r.class_name) for r in adapter.list()] == [(ref.id, "wound")]
    assert adapter.read(ref.id).fields == {"status": "open"}
    assert adapter.deletions() == []  # a move is not an external deletion


def test_table_prefix_namespaces_every_table(tmp_path: Path) -> None:
    config = SQLiteConfig(path=Path("shared.db"), table_prefix="sb_")
    with SQLiteAdapter(config, base_dir=tmp_path) as store:
        store.create(Record("emotion", {"a": 1}))
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sb_emotion", "sb__meta", "sb__meta_columns", "sb__deletions", "sb__trash"} <= names
    assert "emotion" not in names


def test_a_second_connection_sees_new_columns(db_path: Path, adapter: SQLiteAdapter) -> None:
    other = SQLiteAdapter(SQLiteConfig(path=db_path), base_dir=None)
    try:
        ref = other.create(Record("emotion", {"added later": "x"}))
    finally:
        other.close()
    assert adapter.read(ref.id).fields == {"added later": "x"}


def test_locked_database_is_a_retryable_error(tmp_path: Path) -> None:
    config = SQLiteConfig(path=Path("busy.db"), busy_timeout_ms=50)
    with SQLiteAdapter(config, base_dir=tmp_path) as store:
        store.create(Record("emotion", {}))
        blocker = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(RemoteUnavailable):
                store.create(Record("emotion", {}))
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        store.create(Record("emotion", {}))  # fine once the lock is gone
        assert len(list(store.list())) == 2


def _open_handles(path: Path) -> list[str]:
    """This process's file descriptors open on ``path`` (Linux ``/proc``)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own fd)
            if os.path.samefile(os.readlink(fd), path):
                found.append(fd.name)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_a_file_that_fails_after_it_was_opened_is_not_left_open(tmp_path: Path) -> None:
    # sqlite3.connect opens anything; the first read finds it is no database. The error
    # (as the daemon keeps its last, or a report) used to hold the connection, the file
    # open with it, until it was dropped
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are not the pages of an SQLite database\n" * 100)
    store = SQLiteAdapter(SQLiteConfig(path=db), base_dir=tmp_path)
    with pytest.raises(SyncbridgeError) as failed:
        list(store.list())
    assert "notes.db" in str(failed.value)
    assert _open_handles(db) == []
    # a database put in its place is opened by the next use
    db.unlink()
    with SQLiteAdapter(SQLiteConfig(path=db), base_dir=tmp_path) as other:
        other.create(Record("note", {"title": "Put back"}))
    assert [r.fields["title"] for r in store.read_many([ref.id for ref in store.list()])] == [
        "Put back"
    ]
    store.close()
    assert _open_handles(db) == []


def _leases(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [owner for (owner,) in conn.execute("SELECT owner FROM _sync_lease")]


def test_a_lease_the_database_lock_kept_us_from_giving_up_is_given_up_later(
    tmp_path: Path,
) -> None:
    # Another program locks the database during a run: the run cannot delete its lease
    # row, which names this live process. The next run of this adapter (the daemon's)
    # must not take it for another run's and stop as locked by itself.
    config = SQLiteConfig(path=Path("busy.db"), busy_timeout_ms=50)
    owner = {"state": "state.db", "target": "local"}
    with SQLiteAdapter(config, base_dir=tmp_path) as store:
        with store.exclusive(owner):
            blocker = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
        blocker.execute("ROLLBACK")
        assert len(_leases(tmp_path / "busy.db")) == 1  # left behind
        with store.exclusive(owner):
            assert len(_leases(tmp_path / "busy.db")) == 1  # the new run's alone
        assert _leases(tmp_path / "busy.db") == []
        # and closing gives up one left behind by the last run
        with store.exclusive(owner):
            blocker.execute("BEGIN EXCLUSIVE")
        blocker.execute("ROLLBACK")
        blocker.close()
        assert len(_leases(tmp_path / "busy.db")) == 1
    assert _leases(tmp_path / "busy.db") == []


def test_closing_a_locked_database_leaves_a_left_lease_briefly_for_the_next_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A daemon stopping must not wait out the busy timeout again to give up a lease it
    # left behind (another program still holds the database): closing tries briefly and
    # leaves it, and this process's next run on the file gives it up.
    db = tmp_path / "busy.db"
    owner = {"state": "state.db", "target": "local"}
    blocker = sqlite3.connect(db, isolation_level=None)
    store = SQLiteAdapter(SQLiteConfig(path=db, busy_timeout_ms=50), base_dir=tmp_path)
    with store.exclusive(owner):
        blocker.execute("BEGIN EXCLUSIVE")
    assert len(_leases_locked(blocker)) == 1  # left behind
    # an adapter waiting 10 minutes for a lock (its busy_timeout_ms) closes at once
    slow = SQLiteAdapter(SQLiteConfig(path=db, busy_timeout_ms=600_000), base_dir=tmp_path)
    assert slow.generation("state-id") is None  # opens its connection
    caplog.set_level(logging.INFO, logger="syncbridge_sqlite.adapter")
    closing = threading.Thread(target=slow.close)
    closing.start()
    closing.join(60)  # a bound on the behaviour (1 s of 600 s), not a benchmark
    done = not closing.is_alive()
    store.close()  # cannot give it up either: the lock is still held
    blocker.execute("ROLLBACK")  # lets a close that did wait return
    closing.join()
    blocker.close()
    assert done, "close waited for the busy timeout to give up the lease"
    assert "closing without giving up the sync lease" in caplog.text
    assert len(_leases(db)) == 1
    # the next run of this process (a new adapter: the daemon reloaded) gives it up
    later = SQLiteAdapter(SQLiteConfig(path=db), base_dir=tmp_path)
    with later, later.exclusive(owner):
        assert len(_leases(db)) == 1  # its own lease alone
    assert _leases(db) == []


def _leases_locked(conn: sqlite3.Connection) -> list[str]:
    """The lease owners, read inside ``conn``'s transaction (which holds the lock)."""
    return [owner for (owner,) in conn.execute("SELECT owner FROM _sync_lease")]


def test_failed_write_inside_a_transaction_rolls_back_only_itself(
    adapter: SQLiteAdapter,
) -> None:
    ref = adapter.create(grief())
    with adapter.transaction():
        kept = adapter.create(Record("emotion", {"status": "kept"}))
        with pytest.raises(StaleVersion):
            adapter.update(Record("emotion", {}, id=ref.id), expected_version="0@x")
        with pytest.raises(RuntimeError), adapter.transaction():
            adapter.create(Record("brand new class", {}))
            raise RuntimeError("boom")
    assert {r.id for r in adapter.list()} == {ref.id, kept.id}
    assert adapter.table_name("brand new class") is None


def test_read_after_our_write_sees_a_later_external_edit(
    adapter: SQLiteAdapter, db_path: Path
) -> None:
    """Reads right after our writes are served from memory only while no other
    connection has committed; then they go to the database again."""
    ref = adapter.create(grief())
    assert adapter.read(ref.id).fields["intensity"] == 7
    with sqlite3.connect(db_path) as other:
        other.execute("UPDATE emotion SET intensity = 3 WHERE _id = ?", (ref.id,))
    got = adapter.read(ref.id)
    assert got.fields["intensity"] == 3 and got.version != ref.version


def test_rolled_back_write_is_not_read_back(adapter: SQLiteAdapter) -> None:
    ref = adapter.create(grief())
    with pytest.raises(RuntimeError), adapter.transaction():
        adapter.update(Record("emotion", {"intensity": 1}, id=ref.id), expected_version=ref.version)
        raise RuntimeError("boom")
    got = adapter.read(ref.id)
    assert got.fields["intensity"] == 7 and got.version == ref.version


def test_works_without_returning(adapter: SQLiteAdapter, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite before 3.35 (still shipped by some distributions) has no RETURNING."""
    import syncbridge_sqlite.adapter as module

    monkeypatch.setattr(module, "_RETURNING", False)
    fresh = SQLiteAdapter(SQLiteConfig(path=adapter.path))
    try:
        ref = fresh.create(grief(intensity=5.0))
        ref = fresh.update(
            Record("emotion", {"intensity": 4}, id=ref.id), expected_version=ref.version
        )
        assert [(r.id, r.version) for r in fresh.list()] == [(ref.id, ref.version)]
        assert fresh.read(ref.id).fields == {"intensity": 4}
    finally:
        fresh.close()


def test_threads_sharing_one_adapter_take_turns(adapter: SQLiteAdapter) -> None:
    import threading

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                ref = adapter.create(Record("emotion", {"intensity": n * 100 + i}))
                adapter.update(
                    Record("emotion", {"intensity": -i}, id=ref.id), expected_version=ref.version
                )
                list(adapter.list())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(adapter.list())) == 150


def test_opening_and_reading_need_no_write_lock(db_path: Path, adapter: SQLiteAdapter) -> None:
    """``syncbridge status`` works while another program holds the write lock."""
    ref = adapter.create(grief())
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        config = SQLiteConfig(path=db_path, busy_timeout_ms=50)
        with SQLiteAdapter(config) as reader:
            assert [r.id for r in reader.list()] == [ref.id]
            assert reader.read(ref.id).fields["intensity"] == 7
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_change_token_moves_for_other_writers_only_and_follows_a_replaced_file(
    tmp_path: Path,
) -> None:
    """The daemon polls change_token: another connection's commit moves it, our own
    writes do not; a file moved away reads as absent (not the old file), and a file put
    back is read again."""
    db = tmp_path / "t.db"
    adapter = SQLiteAdapter(SQLiteConfig(path=db))
    assert adapter.change_token() == "absent"
    ref = adapter.create(Record(class_name="note", fields={}, body="a", title="A"))
    token = adapter.change_token()
    assert token not in (None, "absent")
    adapter.update(
        Record(class_name="note", fields={}, body="b", title="A", id=ref.id),
        expected_version=ref.version,
    )
    assert adapter.change_token() == token  # our own write
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE note SET body = 'c'")
    moved = adapter.change_token()
    assert moved != token  # someone else's
    db.rename(tmp_path / "away.db")
    assert adapter.change_token() == "absent"
    assert list(adapter.list()) == []  # not the moved file
    assert not db.exists()  # and nothing created
    (tmp_path / "away.db").rename(db)
    assert adapter.change_token() not in (None, "absent")
    assert [r.body for r in adapter.read_many([r.id for r in adapter.list()])] == ["c"]
    adapter.close()


def test_a_stop_ends_a_wait_for_a_database_locked_by_another_program(tmp_path: Path) -> None:
    # stop_waiting_on: the daemon stopping must not wait out busy_timeout_ms (10 minutes)
    # for another program's lock; the wait ends with Interrupted, nothing is kept, and
    # the adapter's next run (the lock released) proceeds normally
    db = tmp_path / "busy.db"
    owner = {"state": "state.db", "target": "local"}
    store = SQLiteAdapter(SQLiteConfig(path=db, busy_timeout_ms=600_000), base_dir=tmp_path)
    with store.exclusive(owner):
        store.create(grief(title="First"))
    stop = threading.Event()
    store.stop_waiting_on(stop)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    raised: list[BaseException] = []

    def run() -> None:
        try:
            with store.exclusive(owner):
                store.create(grief(title="Second"))
        except BaseException as exc:
            raised.append(exc)

    running = threading.Thread(target=run)
    running.start()
    running.join(0.5)  # let it start waiting (it cannot finish: the database is locked)
    stop.set()
    running.join(60)  # a bound on the behaviour (at once vs 600 s), not a benchmark
    done = not running.is_alive()
    if done:  # a transaction begun after the stop does not wait either
        with pytest.raises(Interrupted), store.transaction():
            pass
    blocker.execute("ROLLBACK")  # lets a run that did wait go on
    running.join()
    blocker.close()
    assert done, "the stop did not end the wait for the lock"
    assert [type(e) for e in raised] == [Interrupted]
    assert "stopping" in str(raised[0])
    assert _leases(db) == []
    # with the lock gone, a write goes through even after the stop
    with store.transaction():
        pass
    store.close()
    with SQLiteAdapter(SQLiteConfig(path=db), base_dir=tmp_path) as again:
        assert len(list(again.list())) == 1  # nothing of the cut run was kept
        with again.exclusive(owner):
            again.create(grief(title="Second"))
        assert len(list(again.list())) == 2
