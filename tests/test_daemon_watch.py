"""``syncbridge watch`` as a real process: real file events, a real SQLite file, signals.

Every wait polls a condition with a generous timeout (tests/daemon_support.py); no test
asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from daemon_support import (
    DaemonProcess,
    db_rows,
    db_value,
    make_project,
    note_text,
    wait_until,
)
from syncbridge_sqlite.lease import Lease

from syncbridge.daemon import daemon_files
from syncbridge.state import StateStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _note(config: Path, n: int) -> Path:
    return config.parent / "vault" / "Notes" / f"Note {n:05d}.md"


def _synced(daemon: DaemonProcess) -> list[dict[str, object]]:
    return daemon.events("synced")


@pytest.fixture
def running(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = make_project(tmp_path, 5)
    daemon = DaemonProcess(config)
    db = tmp_path / "local.db"
    wait_until(lambda: len(db_rows(db)) == 5, "the first sync")
    yield config, daemon, db
    daemon.kill()


def test_vault_edit_reaches_sqlite_without_echo(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, db = running
    note = _note(config, 2)
    # an editor's save burst: three writes, the last one counts
    for value in (1, 2, 3):
        note.write_text(note_text(2, value), encoding="utf-8")
    wait_until(lambda: db_value(db, "Note 00002") == 3, "the edit in SQLite")
    before = note.read_bytes(), note.stat().st_mtime_ns
    # the SQLite write must not come back as a vault write: a later edit is the clock
    marker = config.parent / "vault" / "Notes" / "Note 00001.md"
    marker.write_text(note_text(1, 7), encoding="utf-8")  # a later edit, as a clock
    wait_until(lambda: db_value(db, "Note 00001") == 7, "the second edit")
    wait_until(lambda: len(_synced(daemon)) >= 3, "its log line")  # written after the commit
    assert (note.read_bytes(), note.stat().st_mtime_ns) == before  # not rewritten
    later = [str(r["message"]) for r in _synced(daemon)[1:]]
    # pushes only (a save burst split by a slow machine may take two), nothing echoed
    assert later and all(m.startswith("synced local: vault no changes; remote ") for m in later)
    assert len(later) <= 4
    assert daemon.stop() == 0


def test_sqlite_edit_reaches_vault_without_echo(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, db = running
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE note SET n = 42 WHERE title = 'Note 00003'")
    wait_until(lambda: "n: 42" in _note(config, 3).read_text(), "the row edit in the note")
    rows = db_rows(db)
    _note(config, 1).write_text(note_text(1, 9), encoding="utf-8")  # a later edit, as a clock
    wait_until(lambda: db_value(db, "Note 00001") == 9, "a later edit")
    wait_until(lambda: len(_synced(daemon)) >= 3, "its log line")  # written after the commit
    assert [r for r in db_rows(db) if r[0] != "Note 00001"] == [
        r for r in rows if r[0] != "Note 00001"
    ]
    later = [str(r["message"]) for r in _synced(daemon)[1:]]
    assert later == [  # the pull, then the clock: the pulled note did not go back
        "synced local: vault 1 updated; remote no changes",
        "synced local: vault no changes; remote 1 updated",
    ]
    assert daemon.stop() == 0


def test_own_writes_and_ignored_paths_start_no_sync(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, db = running
    vault = config.parent / "vault"
    daemon.wait_event("watching")
    (vault / ".obsidian" / "workspace.json").write_text("{}", encoding="utf-8")
    (vault / "Notes" / ".Note 00001.md.swp").write_text("x", encoding="utf-8")
    (vault / "Notes" / "Note 00001 (conflict 2026-11-28 1432).md").write_text("x")
    (vault / "picture.png").write_bytes(b"png")
    note = _note(config, 4)
    note.write_bytes(note.read_bytes())  # saved, unchanged: the content did not change
    _note(config, 5).write_text(note_text(5, 5), encoding="utf-8")  # the clock
    wait_until(lambda: db_value(db, "Note 00005") == 5, "the clock edit")
    wait_until(lambda: len(_synced(daemon)) >= 2, "its log line")  # written after the commit
    assert [r["writes"] for r in _synced(daemon)[1:]] == [1]
    assert len(db_rows(db)) == 5
    assert daemon.stop() == 0


def test_thousand_files_at_once_take_a_few_cycles(tmp_path: Path) -> None:
    config = make_project(tmp_path, 1000, debounce_ms=500, poll_interval_s=30)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(db)) == 1000, "the first sync", timeout_s=120)
        first = len(_synced(daemon))
        # a `git checkout`: 1,000 files rewritten as fast as the disk goes, by temp + rename
        for n in range(1, 1001):
            path = _note(config, n)
            temp = path.with_name(f".{path.name}.tmp")
            temp.write_text(note_text(n, 1), encoding="utf-8")
            os.replace(temp, path)
        wait_until(lambda: all(v == 1 for _, v in db_rows(db)), "all 1,000 edits", 120)
        # the rows are committed before the sync that wrote them logs that it finished
        wait_until(lambda: len(_synced(daemon)) > first, "the sync's log record", 60)
        cycles = len(_synced(daemon)) - first
        assert 1 <= cycles <= 5, f"{cycles} syncs for one checkout"
        assert len(db_rows(db)) == 1000
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_second_daemon_exits_at_once_naming_the_first(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, _ = running
    daemon.wait_started()
    second = subprocess.run(
        [sys.executable, "-m", "syncbridge", "watch", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert f"pid {daemon.proc.pid}" in second.stderr
    assert "another 'syncbridge watch' is running" in second.stderr
    assert daemon.check_alive() is False  # the first one goes on
    assert daemon.stop(signal.SIGINT) == 0


def _status(config: Path, *options: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "syncbridge", "status", "--config", str(config), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


@pytest.mark.parametrize("control", [False, True], ids=["status-file", "control-api"])
def test_status_asks_the_running_daemon(tmp_path: Path, control: bool) -> None:
    config = make_project(tmp_path, 3, control=control)
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(tmp_path / "local.db")) == 3, "the first sync")

        def synced_status() -> dict[str, Any] | None:
            data: dict[str, Any] = json.loads(_status(config, "--json"))
            running = data["daemon"]
            return data if running and running["targets"]["local"]["last_sync"] else None

        data = wait_until(synced_status, "the daemon's status")
        assert data["daemon"]["daemon"]["pid"] == daemon.proc.pid
        assert data["daemon"]["source"] == ("control API" if control else "status file")
        local = data["daemon"]["targets"]["local"]
        assert local["state"] == "ok" and local["open_conflicts"] == 0
        assert local["pending_local_changes"] is False
        assert f"daemon: running (pid {daemon.proc.pid}" in _status(config)
        assert daemon.stop() == 0
        assert "daemon: not running" in _status(config)
    finally:
        daemon.kill()


def test_vault_folder_renamed_away_pauses_and_comes_back(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, db = running
    daemon.wait_event("watching")
    rows = db_rows(db)
    vault = config.parent / "vault"
    away = config.parent / "vault-away"
    vault.rename(away)
    daemon.wait_event("vault_missing")
    (away / "Notes" / "Note 00001.md").write_text(note_text(1, 5), encoding="utf-8")
    with sqlite3.connect(db) as conn:  # a remote edit meanwhile: kept for later
        conn.execute("UPDATE note SET n = 8 WHERE title = 'Note 00002'")
    assert daemon.check_alive() is False
    assert len(db_rows(db)) == 5
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM _trash").fetchone()[0] == 0
    away.rename(vault)
    daemon.wait_event("vault_back")
    wait_until(lambda: db_value(db, "Note 00001") == 5, "the edit made while away")
    wait_until(lambda: "n: 8" in _note(config, 2).read_text(), "the remote edit")
    assert len(db_rows(db)) == len(rows) == 5
    assert len(list((vault / "Notes").glob("*.md"))) == 5
    assert not (vault / ".trash").exists()
    assert daemon.stop() == 0


def test_database_moved_away_stops_the_target_until_it_is_back(running) -> None:  # type: ignore[no-untyped-def]
    """The database file vanishes (moved away; its -wal/-shm stay behind): the target
    stops with a message naming the files, nothing is deleted on either side, and it
    resumes by itself once the file is back."""
    config, daemon, db = running
    daemon.wait_event("synced")
    moved = db.with_name("moved.db")
    db.rename(moved)
    wait_until(
        lambda: daemon.events("target_paused") or daemon.events("target_backoff"),
        "the target stopping",
    )
    stopped = (daemon.events("target_paused") + daemon.events("target_backoff"))[0]
    assert "local.db" in str(stopped["message"])
    _note(config, 1).write_text(note_text(1, 4), encoding="utf-8")  # kept for later
    assert len(list((config.parent / "vault" / "Notes").glob("*.md"))) == 5  # nothing deleted
    assert not (config.parent / "vault" / ".trash").exists()
    moved.rename(db)
    daemon.wait_event("target_ok")
    wait_until(lambda: db_value(db, "Note 00001") == 4, "the edit made while stopped")
    assert len(db_rows(db)) == 5
    assert daemon.stop() == 0


def test_locked_database_backs_off_and_every_queued_edit_arrives_once(tmp_path: Path) -> None:
    config = make_project(tmp_path, 5, busy_timeout_ms=100)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(db)) == 5, "the first sync")
        locked = threading.Event()
        release = threading.Event()

        def hold_lock() -> None:
            conn = sqlite3.connect(db, timeout=30, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(120)
            conn.execute("ROLLBACK")
            conn.close()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        assert locked.wait(30)
        try:
            for n in range(1, 6):
                _note(config, n).write_text(note_text(n, 10 + n), encoding="utf-8")
            new = tmp_path / "vault" / "Notes" / "Created While Down.md"
            new.write_text("---\nid: new-1\nn: 99\n---\nnew\n", encoding="utf-8")
            daemon.wait_event("target_backoff")
            # more edits while it backs off
            _note(config, 1).write_text(note_text(1, 21), encoding="utf-8")
        finally:
            release.set()
            holder.join()
        wait_until(
            lambda: db_value(db, "Note 00001") == 21 and db_value(db, "Created While Down") == 99,
            "the queued edits",
            timeout_s=120,
        )
        wait_until(
            lambda: all(db_value(db, f"Note {n:05d}") == 10 + n for n in range(2, 6)),
            "every queued edit",
        )
        titles = [t for t, _ in db_rows(db)]
        assert len(titles) == len(set(titles)) == 6  # nothing twice
        assert len(daemon.events("target_backoff")) == 1  # one line per change of state
        assert len(daemon.events("target_ok")) == 1
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def _failures(status: Path) -> int:
    """The failed tries of target ``local`` the daemon's status file counts."""
    try:
        return int(json.loads(status.read_text(encoding="utf-8"))["targets"]["local"]["failures"])
    except (OSError, ValueError, KeyError):
        return 0


def test_a_new_reason_to_back_off_is_logged_once_with_what_to_do(tmp_path: Path) -> None:
    # first the database is busy (another program's transaction), then, while the daemon
    # still backs off, that program leaves a sync lease of another live run behind: the
    # user must hear of the new reason (and what to do about it), not only a debug line
    config = make_project(tmp_path, 3, busy_timeout_ms=100)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(db)) == 3, "the first sync")
        holder = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            _note(config, 1).write_text(note_text(1, 7), encoding="utf-8")
            daemon.wait_event("target_backoff")
            # another run's lease (this test process: alive, on this host)
            Lease("_sync_lease", {"state": "other/state.db", "target": "other"}).acquire(holder)
            holder.execute("COMMIT")
            daemon.wait_event("target_backoff_reason")
            # it tries again (a debug line each time) before the lease is given up
            status = daemon_files(tmp_path / ".syncbridge" / "state.db")["status"]
            tries = _failures(status)
            wait_until(lambda: _failures(status) > tries, "another try")
            holder.execute("DELETE FROM _sync_lease")
        finally:
            holder.close()
        daemon.wait_event("target_ok")
        wait_until(lambda: db_value(db, "Note 00001") == 7, "the edit made while locked out")
        (first,) = daemon.events("target_backoff")
        (changed,) = daemon.events("target_backoff_reason")  # once, not once per try
        assert "database is busy" in first["message"]
        assert changed["level"] == "warning"
        assert "being synced by another syncbridge run" in changed["message"]
        assert f"pid {os.getpid()}" in changed["message"]  # who holds it
        assert "stop the process named" in changed["message"]  # and what to do
        assert daemon.stop() == 0
    finally:
        daemon.kill()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_lock_taken_while_a_run_holds_the_lease_does_not_lock_the_daemon_out(
    tmp_path: Path,
) -> None:
    # The flake of the test above, made certain: another program locks the database
    # after a run's last write and before it gives its sync lease up. That run cannot
    # delete its lease row; the row names this (live) process, and every later run used to
    # stop as "being synced by another syncbridge run" (itself) until the daemon restarted.
    config = make_project(tmp_path, 8, busy_timeout_ms=100)
    db = tmp_path / "local.db"
    # the first run stops itself (SIGSTOP) once its 8 creates are committed, lease held;
    # later runs write fewer than 8 times and never stop
    daemon = DaemonProcess(config, env={"SYNCBRIDGE_TEST_KILL_AT": "write:8:committed:stop"})
    try:
        daemon.wait_stopped_itself()
        holder = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            os.kill(daemon.proc.pid, signal.SIGCONT)
            daemon.wait_event("synced")  # the first run ended, its lease left behind
            for n in range(1, 6):
                _note(config, n).write_text(note_text(n, 10 + n), encoding="utf-8")
            new = tmp_path / "vault" / "Notes" / "Created While Down.md"
            new.write_text("---\nid: new-1\nn: 99\n---\nnew\n", encoding="utf-8")
            daemon.wait_event("target_backoff")
        finally:
            holder.close()  # rolls back: the database is free again
        daemon.wait_event("target_ok")
        wait_until(
            lambda: (
                db_value(db, "Created While Down") == 99
                and all(db_value(db, f"Note {n:05d}") == 10 + n for n in range(1, 6))
            ),
            "every queued edit",
        )
        titles = [t for t, _ in db_rows(db)]
        assert len(titles) == len(set(titles)) == 9  # nothing twice
        assert daemon.stop() == 0
        with sqlite3.connect(db) as conn:  # the lease left behind was given up too
            assert conn.execute("SELECT count(*) FROM _sync_lease").fetchone() == (0,)
    finally:
        daemon.kill()


def test_sighup_reloads_and_keeps_the_old_config_when_bad(running) -> None:  # type: ignore[no-untyped-def]
    config, daemon, db = running
    daemon.wait_started()
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace("[vault]", "[vault]\npth = 1"), encoding="utf-8")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_event("reload_failed")
    assert "pth: unknown key" in daemon.events("reload_failed")[0]["message"]
    _note(config, 1).write_text(note_text(1, 3), encoding="utf-8")
    wait_until(lambda: db_value(db, "Note 00001") == 3, "an edit under the old config")
    config.write_text(
        good + '\n[[targets]]\nname = "other"\nadapter = "sqlite"\npath = "other.db"\n',
        encoding="utf-8",
    )
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_event("reloaded")
    wait_until(lambda: len(db_rows(config.parent / "other.db")) == 5, "the new target")
    assert daemon.stop() == 0


def test_sigterm_mid_sync_leaves_a_consistent_state(tmp_path: Path) -> None:
    config = make_project(tmp_path, 3000, poll_interval_s=30)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        # the first sync writes 3,000 rows in chunks of 200: stop it in the middle
        wait_until(
            lambda: 0 < len(db_rows(db)) < 3000 or len(db_rows(db)) == 3000,
            "the first rows",
            timeout_s=120,
            every_s=0.01,
        )
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    done = len(db_rows(db))
    with StateStore.open(tmp_path / ".syncbridge" / "state.db") as state:
        assert state.pending_journal("local") == []  # nothing half done
        assert len(state.links("local")) == done  # every row written is linked
    restarted = DaemonProcess(config, log_name="second.log")
    try:
        wait_until(lambda: len(db_rows(db)) == 3000, "the rest", timeout_s=180)
        restarted.wait_event("synced")
        created = restarted.events("synced")[0]["message"]
        assert f"remote {3000 - done} created" in created or done == 3000
        titles = [t for t, _ in db_rows(db)]
        assert len(set(titles)) == 3000
        assert restarted.stop() == 0
    finally:
        restarted.kill()


def _vault_value(path: Path) -> int | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("n: "):
            return int(line[3:])
    return None


def test_sigkill_at_random_moments_then_restart_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    import random

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    notes = 1200
    config = make_project(tmp_path, notes, debounce_ms=100, poll_interval_s=0.3)
    db = tmp_path / "local.db"
    expected = {n: 0 for n in range(1, notes + 1)}
    created: list[int] = []
    for round_ in range(4):
        daemon = DaemonProcess(config, log_name=f"round{round_}.log")
        try:
            # round 0 is killed during its first sync; later rounds while they push edits
            for _ in range(rng.randrange(5, 40)):
                n = rng.randrange(1, notes + 1)
                expected[n] += 1
                if n <= notes // 2 or round_ == 0:  # vault side
                    _note(config, n).write_text(note_text(n, expected[n]), encoding="utf-8")
                else:  # the SQLite side (once the row exists)
                    expected[n] -= 1
                    if db_value(db, f"Note {n:05d}") is not None:
                        with sqlite3.connect(db, timeout=30) as conn:
                            conn.execute(
                                "UPDATE note SET n = ? WHERE title = ? AND n = ?",
                                (expected[n] + 1, f"Note {n:05d}", expected[n]),
                            )
                            if conn.total_changes:
                                expected[n] += 1
            new = notes + len(created) + 1
            created.append(new)
            expected[new] = 0
            _note(config, new).write_text(note_text(new, 0), encoding="utf-8")
            threading.Event().wait(rng.uniform(0.05, 1.5))
        finally:
            daemon.kill()  # SIGKILL: no handler runs
    final = DaemonProcess(config, log_name="final.log")
    try:

        def converged() -> bool:
            rows = dict(db_rows(db))
            return len(rows) == len(expected) and all(
                rows.get(f"Note {n:05d}") == v for n, v in expected.items()
            )

        wait_until(converged, f"every edit in SQLite (seed {seed})", timeout_s=180)
        titles = [t for t, _ in db_rows(db)]
        assert len(titles) == len(set(titles)) == len(expected), f"seed {seed}"
        for n, value in expected.items():
            assert _vault_value(_note(config, n)) == value, f"note {n}, seed {seed}"
        vault_notes = list((tmp_path / "vault" / "Notes").glob("*.md"))
        assert len(vault_notes) == len(expected), f"seed {seed}"  # no copies, no duplicates
        assert final.stop() == 0
    finally:
        final.kill()
    with StateStore.open(tmp_path / ".syncbridge" / "state.db") as state:
        assert state.pending_journal("local") == []
        assert len(state.links("local")) == len(expected)


def test_mass_delete_in_the_vault_pauses_and_deletes_nothing(tmp_path: Path) -> None:
    config = make_project(tmp_path, 5)
    vault = tmp_path / "vault"
    (vault / "Notes" / "Note 00005.md").rename(vault / "Note 00005.md")
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(db)) == 5, "the first sync")
        daemon.wait_event("synced")
        # 4 of 5 notes gone in one move: more than max_delete_fraction (0.5)
        (vault / "Notes").rename(tmp_path / "elsewhere")
        daemon.wait_event("target_paused")
        assert "--force-delete" in daemon.events("target_paused")[0]["message"]
        assert len(db_rows(db)) == 5
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM _trash").fetchone()[0] == 0
        (tmp_path / "elsewhere").rename(vault / "Notes")  # put back: it resumes by itself
        daemon.wait_event("target_ok")
        assert len(db_rows(db)) == 5
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_a_note_emptied_is_held_for_one_run_then_synced(running) -> None:  # type: ignore[no-untyped-def]
    """Issue 8's rule in the daemon: the run that first finds a note emptied holds it (a
    save may have been caught halfway); the next run, without any other change, takes
    the emptiness as the user's edit. The daemon held it until restarted before."""
    config, daemon, db = running
    daemon.wait_event("synced")
    _note(config, 3).write_bytes(b"")
    daemon.wait_event("held")
    assert daemon.events("held")[0]["notes"] == ["Notes/Note 00003.md"]
    wait_until(lambda: ("Note 00003", None) in db_rows(db), "the emptied note in SQLite")
    assert len(db_rows(db)) == 5  # emptied, not deleted
    assert daemon.stop() == 0


def _sleeping_in_sqlite(pid: int) -> bool:
    """Whether the daemon's syncing (main) thread sleeps in a busy wait: SQLite's busy
    handler sleeps (nanosleep) between tries; the idle loop waits on a futex instead."""
    try:
        return "nanosleep" in Path(f"/proc/{pid}/wchan").read_text(encoding="ascii")
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc")
def test_sigterm_ends_a_wait_for_a_database_locked_by_another_program(tmp_path: Path) -> None:
    # busy_timeout_ms of 10 minutes: without stop_waiting_on the daemon would wait it out
    # after SIGTERM (far past DaemonProcess.stop's 60 s)
    config = make_project(tmp_path, 3, busy_timeout_ms=600_000)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: len(db_rows(db)) == 3, "the first sync")
        holder = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            _note(config, 2).write_text(note_text(2, 5), encoding="utf-8")
            wait_until(lambda: _sleeping_in_sqlite(daemon.proc.pid), "the run to wait for the lock")
            assert daemon.stop() == 0
        finally:
            holder.close()  # rolls back: the database is free again
        (stopped,) = daemon.events("sync_interrupted")
        assert stopped["target"] == "local"
        assert db_value(db, "Note 00002") == 0  # nothing of the cut run was written
        with sqlite3.connect(db) as conn:  # no lease was left behind
            assert conn.execute("SELECT count(*) FROM _sync_lease").fetchone() == (0,)
    finally:
        daemon.kill()
    # the next run syncs the edit
    again = DaemonProcess(config, log_name="daemon2.log")
    try:
        wait_until(lambda: db_value(db, "Note 00002") == 5, "the edit made while locked")
        assert again.stop() == 0
    finally:
        again.kill()
