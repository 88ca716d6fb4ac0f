"""syncbridge.portable: locks, process checks and signals that also work where there is
no ``fcntl`` (Windows).

Windows cannot run here, so its branch is driven through a stand-in ``msvcrt`` whose
``locking`` keeps Windows' contract (a byte range from the current position, ``OSError``
when another process holds it) on top of POSIX record locks. What is proved: every module
imports and every lock works with ``fcntl`` absent, the lock byte lies past the file's
content (a Windows lock is mandatory for the bytes it covers, so the lock file stays
readable), and a second process is refused while the first holds the lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from syncbridge import portable
from syncbridge.daemon.files import DaemonLock
from syncbridge.state.store import StateStore
from syncbridge.vault.fsio import is_stale_temp

# A stand-in msvcrt (the module CPython has on Windows), installed with fcntl made
# unimportable, so that syncbridge takes its Windows branch.
STAND_IN = textwrap.dedent(
    """
    import fcntl as _posix, os, sys, types
    import getpass, subprocess  # stdlib modules that take a present msvcrt for Windows
    calls = []
    def locking(fd, mode, nbytes):
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        calls.append((mode, pos, nbytes))
        if mode == msvcrt.LK_UNLCK:
            _posix.lockf(fd, _posix.LOCK_UN, nbytes, pos, os.SEEK_SET)
            return
        # Windows locks a read-only handle too; a POSIX write lock needs write access
        ro = _posix.fcntl(fd, _posix.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        kind = _posix.LOCK_SH if ro else _posix.LOCK_EX
        try:
            _posix.lockf(fd, kind | _posix.LOCK_NB, nbytes, pos, os.SEEK_SET)
        except OSError as exc:
            raise PermissionError(13, "Permission denied") from exc
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK = 0, 1, 2
    msvcrt.locking, msvcrt.calls = locking, calls
    sys.modules["msvcrt"] = msvcrt
    sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError, as on Windows
    """
)


def run_windows(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that has no fcntl and the stand-in msvcrt."""
    return subprocess.run(
        [sys.executable, "-c", STAND_IN + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_posix_lock_refuses_a_second_holder_and_frees_on_unlock(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT)
    second = os.open(path, os.O_RDWR)
    try:
        assert portable.try_lock(first)
        assert not portable.try_lock(second)
        assert not portable.try_lock(second, shared=True)
        portable.unlock(first)
        assert portable.try_lock(second)
    finally:
        os.close(first)
        os.close(second)


def test_without_fcntl_every_lock_works_and_the_lock_file_stays_readable(
    tmp_path: Path,
) -> None:
    # the run lock and the daemon's lock, held by a process that has no fcntl
    script = STAND_IN + textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        import syncbridge, syncbridge.daemon.loop, syncbridge.cli  # imports without fcntl
        import syncbridge_sqlite
        from syncbridge.daemon.files import DaemonLock
        from syncbridge.state.store import StateStore
        folder = Path(sys.argv[1])
        store = StateStore.open(folder / "state.db")
        lock = DaemonLock(folder / "daemon.lock")
        lock.acquire({"pid": 4242, "started_at": "then", "config": "sb.toml"})
        with store.run_lock("t"):
            (folder / "ready").write_text("1")
            while not (folder / "done").exists():
                time.sleep(0.05)
        lock.release()
        print(sorted({pos for _, pos, _ in sys.modules["msvcrt"].calls}))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if (tmp_path / "ready").exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "ready").exists(), proc.communicate(timeout=30)
        # a second process without fcntl is refused both locks, and names the daemon
        second = run_windows(
            """
            import sys
            from pathlib import Path
            from syncbridge.daemon.files import DaemonLock
            from syncbridge.errors import DaemonRunning, SyncLocked
            from syncbridge.state.store import StateStore
            folder = Path(sys.argv[1])
            print("held" if DaemonLock.held(folder / "daemon.lock") else "free")
            try:
                DaemonLock(folder / "daemon.lock").acquire({"pid": 1})
            except DaemonRunning as exc:
                print("refused:", exc)
            try:
                with StateStore.open(folder / "state.db").run_lock("t"):
                    print("run lock taken")
            except SyncLocked:
                print("run lock refused")
            """,
            str(tmp_path),
        )
        assert second.returncode == 0, second.stderr
        lines = second.stdout.splitlines()
        assert lines[0] == "held"
        # the lock file's content was readable under the lock: the message names the pid
        assert lines[1].startswith("refused:") and "pid 4242" in lines[1]
        assert lines[2] == "run lock refused"
    finally:
        (tmp_path / "done").write_text("1")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    # every Windows lock sat on the one byte far past any content
    assert out.strip() == f"[{portable.LOCK_OFFSET}]"
    # released: both are free again, for a process with or without fcntl
    assert not DaemonLock.held(tmp_path / "daemon.lock")
    with StateStore.open(tmp_path / "state.db").run_lock("t"):
        pass
    again = run_windows(
        """
        import sys
        from pathlib import Path
        from syncbridge.daemon.files import DaemonLock
        print(DaemonLock.held(Path(sys.argv[1]) / "daemon.lock"))
        """,
        str(tmp_path),
    )
    assert again.stdout.strip() == "False", again.stderr


def test_process_alive_tells_without_signalling(tmp_path: Path) -> None:
    assert portable.process_alive(os.getpid()) is True
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert portable.process_alive(child.pid) is False
    # a temp file of a dead writer is stale; one of a live process is not
    assert is_stale_temp(f".sb-{child.pid}-0123456789abcdef.tmp")
    assert not is_stale_temp(f".sb-{os.getppid()}-0123456789abcdef.tmp")


def test_reload_signal_is_none_where_there_is_no_sighup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert portable.reload_signal() is signal.SIGHUP
    monkeypatch.delattr(signal, "SIGHUP")
    assert portable.reload_signal() is None
