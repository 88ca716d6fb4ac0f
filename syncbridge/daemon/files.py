"""The daemon's files in the state folder: its lock, its status, the control API's address.

- ``daemon.lock``: held (``flock``) while a daemon runs on this state; it holds JSON naming
  that daemon (pid, start time, config), so a second one can say who is running.
- ``daemon.json``: the daemon's last status (what ``GET /status`` answers), rewritten
  atomically when it changes; ``syncbridge status`` reads it when the control API is off.
- ``control.json``: mode 0600, the control API's URL and bearer token, while it listens.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from syncbridge.errors import DaemonRunning, StateError
from syncbridge.portable import try_lock, unlock

__all__ = ["DaemonLock", "daemon_files", "read_json", "write_json_atomic"]

LOCK_NAME = "daemon.lock"
STATUS_NAME = "daemon.json"
CONTROL_NAME = "control.json"


def daemon_files(state_path: Path) -> dict[str, Path]:
    """Paths of the lock, status and control files for the state file ``state_path``."""
    folder = state_path.parent
    return {
        "lock": folder / LOCK_NAME,
        "status": folder / STATUS_NAME,
        "control": folder / CONTROL_NAME,
    }


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> None:
    """Write ``data`` as JSON to ``path`` with ``mode``: temp file, then rename (a reader
    sees the old file or the new one, never half)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class DaemonLock:
    """The one-daemon-per-state lock (an advisory lock on ``daemon.lock``, see
    :func:`syncbridge.portable.try_lock`); released when the process ends, however it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, owner: dict[str, Any]) -> None:
        """Take the lock and write ``owner`` into it. :class:`DaemonRunning` naming the
        running daemon (from its lock file) when another holds it; ``StateError`` when the
        state folder cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(
                f"{self.path}: cannot create the daemon's lock ({exc.strerror or exc}); "
                "choose a state folder you may write in ([state] path in the config)"
            ) from None
        if not try_lock(fd):
            os.close(fd)
            running = read_json(self.path) or {}
            raise DaemonRunning(
                f"another 'syncbridge watch' is running on this vault and state: "
                f"pid {running.get('pid', '?')}, started {running.get('started_at', '?')}, "
                f"config {running.get('config', '?')} (lock {self.path}); stop it first "
                "(kill -TERM PID, or stop its service)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(owner, ensure_ascii=False).encode("utf-8"))
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (empties the file first). Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            unlock(fd)
            os.close(fd)

    @staticmethod
    def held(path: Path) -> bool:
        """True when some process holds the lock at ``path`` (a daemon runs)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return False
        try:
            if not try_lock(fd, shared=True):
                return True
            unlock(fd)
        finally:
            os.close(fd)
        return False
