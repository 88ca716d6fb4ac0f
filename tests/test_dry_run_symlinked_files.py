"""A dry run reads the state file and the Notion adapter's cache through a copy; when the
file is a symlink, the copy must take the ``-wal`` beside the file the link points to
(where SQLite keeps it), or a killed run's committed rows are missed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

KILLED_WRITER = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("INSERT INTO t VALUES ('in the wal')")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_writer_left_a_wal(tmp_path: Path) -> Path:
    """A database in ``tmp_path/real/`` whose last committed row is only in its
    ``-wal`` (the writer was SIGKILLed), and a symlink to it; returns the link."""
    real = tmp_path / "real" / "file.db"
    real.parent.mkdir()
    conn = sqlite3.connect(real, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES ('in the file')")
    conn.close()  # checkpointed: this row is in the file
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(real)], capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (real.parent / "file.db-wal").stat().st_size > 0
    link = tmp_path / "link.db"
    link.symlink_to(real)
    return link


def _rows(conn: sqlite3.Connection) -> list[str]:
    return sorted(v for (v,) in conn.execute("SELECT v FROM t"))


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_the_state_copy_follows_a_symlink_to_its_wal(tmp_path: Path) -> None:
    from syncbridge.bridge import _copy_sqlite

    link = _killed_writer_left_a_wal(tmp_path)
    before = _files(tmp_path / "real")
    copy = tmp_path / "copy" / "state.db"
    copy.parent.mkdir()
    _copy_sqlite(link, copy)
    conn = sqlite3.connect(copy)
    try:
        assert _rows(conn) == ["in the file", "in the wal"]
    finally:
        conn.close()
    assert _files(tmp_path / "real") == before  # only read


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_the_notion_cache_copy_follows_a_symlink_to_its_wal(tmp_path: Path) -> None:
    from syncbridge_notion.cache import _copy_file_into

    link = _killed_writer_left_a_wal(tmp_path)
    before = _files(tmp_path / "real")
    memory = sqlite3.connect(":memory:")
    try:
        _copy_file_into(link, memory)
        assert _rows(memory) == ["in the file", "in the wal"]
    finally:
        memory.close()
    assert _files(tmp_path / "real") == before  # only read
