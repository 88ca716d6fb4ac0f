"""``SQLiteAdapter.dry_run``: reads see the database through a copy, the file is never
opened in place, and no byte of the file, its ``-wal`` or its ``-shm`` changes (nor is a
file created where there is none)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig

from syncbridge.adapter import Record, RecordRef
from syncbridge.errors import FatalError
from syncbridge.schema.model import ClassSchema


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in ``folder``: bytes and mtime."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def open_adapter(db: Path) -> SQLiteAdapter:
    return SQLiteAdapter(SQLiteConfig(path=Path(db.name)), base_dir=db.parent)


def note(title: str, intensity: int) -> Record:
    return Record("emotion", {"intensity": intensity}, body=f"{title}\n", title=title)


def with_grief(db: Path, schema: ClassSchema) -> tuple[SQLiteAdapter, RecordRef]:
    """An adapter on ``db`` with ``schema``'s table, and the ref of the row "Grief" it
    wrote there."""
    adapter = open_adapter(db)
    adapter.ensure_collection(schema)
    return adapter, adapter.create(note("Grief", 7))


def titles(adapter: SQLiteAdapter) -> list[str]:
    ids = [r.id for r in adapter.list()]
    return sorted(str(r.title) for r in adapter.read_many(ids))


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from syncbridge.adapter import Record, RecordRef
    from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
    db = Path(sys.argv[1])
    adapter = SQLiteAdapter(SQLiteConfig(path=Path(db.name)), base_dir=db.parent)
    adapter.create(Record("emotion", {"intensity": 3}, body="Fear\\n", title="Fear"))
    os.kill(os.getpid(), signal.SIGKILL)  # committed, never checkpointed
    """
)


def killed_after_a_commit(db: Path) -> None:
    """A process that commits a row and is SIGKILLed: the row is only in the ``-wal``."""
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_no_file_a_dry_run_creates_none_even_when_written_to(
    tmp_path: Path, emotion_schema: ClassSchema
) -> None:
    db = tmp_path / "data" / "sync.db"
    adapter = open_adapter(db)
    with adapter.dry_run():
        assert list(adapter.list()) == []
        adapter.ensure_collection(emotion_schema)  # the engine writes nothing; if one did:
        adapter.create(note("Joy", 2))
        assert titles(adapter) == ["Joy"]  # it lands in the copy only
    assert not db.parent.exists()
    assert list(adapter.list()) == []
    adapter.close()
    assert not db.parent.exists()


def test_a_dry_run_after_a_killed_writer_reads_its_wal_and_changes_no_byte(
    tmp_path: Path, emotion_schema: ClassSchema
) -> None:
    db = tmp_path / "sync.db"
    first, _ = with_grief(db, emotion_schema)
    first.close()
    killed_after_a_commit(db)
    wal = tmp_path / "sync.db-wal"
    assert wal.stat().st_size > 0
    before = files(tmp_path)

    adapter = open_adapter(db)
    with adapter.dry_run():
        assert titles(adapter) == ["Fear", "Grief"]  # the WAL's row is seen
        token = adapter.change_token()
        assert token is not None and token == adapter.change_token()
        assert adapter.unfinished() == []
        assert files(tmp_path) == before
    adapter.close()
    assert files(tmp_path) == before  # not even closing folds the WAL in

    # outside a dry run the file is the adapter's to open: the WAL is taken in as usual
    real = open_adapter(db)
    real.create(note("Joy", 2))
    real.close()
    assert not wal.exists()
    conn = sqlite3.connect(db)
    rows = sorted(r[0] for r in conn.execute("SELECT title FROM emotion"))
    conn.close()
    assert rows == ["Fear", "Grief", "Joy"]


def test_a_connection_open_on_the_file_is_set_aside_and_taken_back(
    tmp_path: Path, emotion_schema: ClassSchema
) -> None:
    """An adapter that wrote already (its connection open, its WAL not checkpointed)
    reads the same rows in a dry run, through a copy: what the dry run writes stays in
    the copy, the files stay as they were, and afterwards the adapter works on the file
    again and sees what others committed meanwhile."""
    db = tmp_path / "sync.db"
    adapter, grief = with_grief(db, emotion_schema)
    before = files(tmp_path)
    assert "sync.db-wal" in before
    with adapter.dry_run():
        with adapter.dry_run():  # nested: the same copy
            assert titles(adapter) == ["Grief"]
        record = adapter.read(grief.id)
        adapter.update(
            Record("emotion", {"intensity": 1}, body="changed\n", id=grief.id, title="Grief"),
            expected_version=grief.version,
        )
        assert adapter.read(grief.id).fields["intensity"] == 1
        assert files(tmp_path) == before
    assert files(tmp_path) == before
    assert adapter.read(grief.id) == record  # the dry run's write is gone
    assert [r.version for r in adapter.list()] == [grief.version]
    other = sqlite3.connect(db)
    other.execute("UPDATE emotion SET intensity = 4 WHERE title = 'Grief'")
    other.commit()
    other.close()
    assert adapter.read(grief.id).fields["intensity"] == 4
    adapter.create(note("Joy", 2))
    assert titles(adapter) == ["Grief", "Joy"]
    adapter.close()


def test_closing_inside_a_dry_run_closes_the_connection_set_aside(
    tmp_path: Path, emotion_schema: ClassSchema
) -> None:
    db = tmp_path / "sync.db"
    adapter, _ = with_grief(db, emotion_schema)
    with adapter.dry_run():
        assert titles(adapter) == ["Grief"]
        adapter.close()
    assert not (tmp_path / "sync.db-wal").exists()  # the last connection closed: checkpointed
    with pytest.raises(FatalError, match="closed"):
        adapter.create(note("Joy", 2))


def test_a_dry_run_cannot_start_inside_a_write(tmp_path: Path) -> None:
    adapter = open_adapter(tmp_path / "sync.db")
    with adapter.transaction(), pytest.raises(FatalError, match="dry run"), adapter.dry_run():
        pass
    assert not adapter.in_dry_run
    adapter.close()


def test_a_damaged_file_is_named_and_left_as_it_is(tmp_path: Path) -> None:
    db = tmp_path / "sync.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(4080))
    before = files(tmp_path)
    adapter = open_adapter(db)
    with adapter.dry_run(), pytest.raises(Exception, match=str(db)):
        list(adapter.list())
    adapter.close()
    assert files(tmp_path) == before


HOT_JOURNAL = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA cache_size = 1")  # spill pages into the file before the commit
    conn.execute("BEGIN")
    conn.execute("UPDATE emotion SET body = ?", ("x" * 50_000,))
    os.kill(os.getpid(), signal.SIGKILL)  # a hot journal left: the change is rolled back
    """
)


def test_your_own_database_with_a_hot_journal_is_read_rolled_back_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    """A database of your own (rollback journal, no bookkeeping tables) whose writer was
    killed mid-transaction: the dry run reads it (as holding no class yet) without
    rolling the hot journal back into the file, which any connection to the file itself
    does with its first read."""
    db = tmp_path / "own.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE emotion (_id TEXT, title TEXT, body TEXT)")
    conn.executemany(
        "INSERT INTO emotion VALUES (?, ?, ?)", [(str(i), f"E{i}", "b") for i in range(50)]
    )
    conn.commit()
    conn.close()
    done = subprocess.run(
        [sys.executable, "-c", HOT_JOURNAL, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (tmp_path / "own.db-journal").stat().st_size > 0
    before = files(tmp_path)
    adapter = open_adapter(db)
    with adapter.dry_run():
        assert list(adapter.list()) == [] and adapter.table_name("emotion") is None
    adapter.close()
    assert files(tmp_path) == before


def test_a_database_behind_a_symbolic_link_is_read_with_its_wal(
    tmp_path: Path, emotion_schema: ClassSchema
) -> None:
    real = tmp_path / "real" / "sync.db"
    real.parent.mkdir()
    first, _ = with_grief(real, emotion_schema)
    first.close()
    killed_after_a_commit(real)
    link = tmp_path / "sync.db"
    link.symlink_to(real)
    before = files(real.parent)
    adapter = open_adapter(link)
    with adapter.dry_run():
        assert titles(adapter) == ["Fear", "Grief"]
    adapter.close()
    assert files(real.parent) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "sync.db"]
