"""What differs between POSIX and Windows, in one place.

Three things the sync needs behave differently on Windows, and each one, done the POSIX way
there, is not a small failure: ``import fcntl`` fails (no sync at all), and
``os.kill(pid, 0)`` does not test a process but *terminates* it (CPython maps every signal
other than the two console events to ``TerminateProcess``). So:

- :func:`try_lock` / :func:`unlock`: an advisory, non-blocking lock on an open file,
  released when the process ends however it ends. POSIX: ``flock``. Windows:
  ``msvcrt.locking`` on one byte far past the end of the file (``LOCK_OFFSET``), so the
  file's own content stays readable by other processes (a Windows lock is mandatory for the
  bytes it covers). Windows has no shared lock here: a shared attempt is an exclusive one,
  which callers only use to *test* whether someone holds the lock.
- :func:`process_alive`: whether a process id runs, without signalling it. Windows:
  ``OpenProcess`` + ``GetExitCodeProcess`` through ``ctypes``.
- :func:`reload_signal`: SIGHUP where it exists (the daemon reloads its config on it);
  Windows has none (restart the task instead, see docs/daemon.md).
- :data:`LINK_NOFOLLOW`: the keyword ``os.link`` takes to link a symlink itself, empty where
  ``os.link`` cannot take it (Windows raises ``NotImplementedError`` for it).

The Windows branches are written from the CPython and Win32 documentation and exercised here
only through a stand-in ``msvcrt`` (tests/test_portable.py); nothing of it was run on
Windows.
"""

from __future__ import annotations

import os
import signal
from types import ModuleType
from typing import Any

__all__ = ["LINK_NOFOLLOW", "LOCK_OFFSET", "process_alive", "reload_signal", "try_lock", "unlock"]

LOCK_OFFSET = 0x7FFF_FFF0
"""Where the Windows lock byte sits: far past any lock file's content."""

LINK_NOFOLLOW: dict[str, Any] = (
    {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}
)


def _msvcrt() -> ModuleType | None:
    """The ``msvcrt`` module when the POSIX ``fcntl`` is not there (Windows), else None."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        import msvcrt

        return msvcrt
    return None


def try_lock(fd: int, *, shared: bool = False) -> bool:
    """Take an advisory lock on the open file ``fd`` without waiting: True when taken,
    False when another process holds it. ``shared``: a read lock where the system has one
    (POSIX); on Windows every lock is exclusive. Released by :func:`unlock`, by closing
    ``fd`` (POSIX), or when the process ends."""
    win = _msvcrt()
    if win is None:
        import fcntl

        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    here = os.lseek(fd, 0, os.SEEK_CUR)
    os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
    try:
        win.locking(fd, win.LK_NBLCK, 1)
    except OSError:
        return False
    finally:
        os.lseek(fd, here, os.SEEK_SET)
    return True


def unlock(fd: int) -> None:
    """Release the lock :func:`try_lock` took on ``fd`` (call it before closing ``fd``:
    Windows releases a closed file's locks only eventually). Errors are ignored: the lock
    is released with the process anyway."""
    win = _msvcrt()
    try:
        if win is None:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        here = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        try:
            win.locking(fd, win.LK_UNLCK, 1)
        finally:
            os.lseek(fd, here, os.SEEK_SET)
    except OSError:
        pass


def process_alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs on this machine (True also for someone else's
    process); None when it cannot be told. Never signals the process."""
    if os.name != "nt":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # exists, owned by someone else
        except OSError:
            return None
        return True
    return _windows_process_alive(pid)  # pragma: no cover - Windows only


def _windows_process_alive(pid: int) -> bool | None:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    process_query_limited_information = 0x1000
    still_active = 259
    error_invalid_parameter = 87  # no such process
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        err = ctypes.get_last_error()  # type: ignore[attr-defined]
        if err == error_invalid_parameter:
            return False
        return True if err == 5 else None  # 5: access denied, so it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return None
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def reload_signal() -> signal.Signals | None:
    """The signal that asks the daemon to reload its config: SIGHUP, None on Windows."""
    return getattr(signal, "SIGHUP", None)
