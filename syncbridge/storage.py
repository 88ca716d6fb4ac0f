"""What the disk, the file system or a SQLite file refused, said in one line.

The failures of the environment around a sync (a full disk, a read-only mount, an I/O
error, a file-size limit, no permission, a damaged database file) are not bugs and not
problems of one note: they end the run, and the user has to fix something outside
syncbridge. :func:`os_failure` and :func:`sqlite_failure` turn the exceptions into
:class:`~syncbridge.errors.StorageFailure` / :class:`~syncbridge.errors.DamagedFile`, whose
message names the path, what was being done and what to do, e.g.::

    /home/me/Notes/Psyche/Shame.md: the disk is full (writing the note); free some space
    and run the sync again (nothing half-written was kept)

Used at the boundaries that touch files (the vault, the state store, the SQLite adapter)
and by the CLI as a last resort.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from syncbridge.errors import DamagedFile, StorageFailure

__all__ = ["leftover_wal", "os_failure", "sqlite_failure"]

_REASONS: dict[int, str] = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "read_only",
    errno.EIO: "io_error",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.EFBIG: "file_too_large",
}

_ADVICE: dict[str, str] = {
    "disk_full": "the disk is full{doing}; free some space and run the sync again "
    "(nothing half-written was kept)",
    "read_only": "cannot write, the file or its file system is read-only{doing}; make it "
    "writable (chmod, or remount read-write), or point the config elsewhere, and run again",
    "io_error": "input/output error{doing}: the disk or file system failed, or a file "
    "grew past a size limit; check it (dmesg, fsck, a disk that was unplugged, ulimit -f) "
    "and run again",
    "permission": "permission denied{doing}; give this user write access to it (or point "
    "the config elsewhere) and run again",
    "file_too_large": "the file grew past the file-size limit{doing} (ulimit -f, or the "
    "file system's maximum); raise the limit and run again",
    "other": "cannot write{doing}",
}


def _message(path: os.PathLike[str] | str | None, reason: str, doing: str, detail: str) -> str:
    text = _ADVICE[reason].format(doing=f" ({doing})" if doing else "")
    where = f"{os.fspath(path)}: " if path is not None else ""
    return f"{where}{text}" + (f" [{detail}]" if detail and reason == "other" else "")


def os_failure(
    exc: OSError, path: os.PathLike[str] | str | None = None, doing: str = ""
) -> StorageFailure | None:
    """The :class:`StorageFailure` for an environment ``OSError`` (full disk, read-only, I/O
    error, permission, file-size limit), or ``None`` for any other (the caller re-raises:
    a missing file or a name clash mean something else)."""
    reason = _REASONS.get(exc.errno or -1)
    if reason is None:
        return None
    where = path if path is not None else exc.filename
    return StorageFailure(_message(where, reason, doing, ""), path=_str(where), reason=reason)


def _str(path: os.PathLike[str] | str | None) -> str | None:
    return os.fspath(path) if path is not None else None


def sqlite_failure(
    exc: sqlite3.Error, path: os.PathLike[str] | str, doing: str = "", repair: str = ""
) -> StorageFailure | DamagedFile | None:
    """The failure a SQLite error stands for: a full disk, a read-only file, an I/O error,
    or a damaged file (``repair``: what to run then); ``None`` for the others (busy,
    locked, a constraint: the caller decides)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    reason: str | None = None
    if primary == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        reason = "disk_full"
    elif primary == sqlite3.SQLITE_READONLY or "readonly database" in text:
        reason = "read_only"
    elif primary == sqlite3.SQLITE_IOERR or "disk I/O error" in text:
        # SQLite reports a write that ran out of space while growing its -shm or -wal as
        # an I/O error: a disk with (almost) nothing free is full
        reason = "disk_full" if _almost_full(Path(path)) else "io_error"
    elif primary == sqlite3.SQLITE_CANTOPEN or "unable to open database" in text:
        reason = "permission" if not os.access(Path(path).parent, os.W_OK) else "other"
    elif primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or (
        "malformed" in text or "not a database" in text or "Could not decode" in text
    ):
        hint = repair or "put a good copy of it back"
        return DamagedFile(
            f"{os.fspath(path)}: the database file is damaged ({text}); {hint}", path=_str(path)
        )
    if reason is None:
        return None
    return StorageFailure(_message(path, reason, doing, text), path=_str(path), reason=reason)


def _almost_full(path: Path) -> bool:
    """Whether the file system holding ``path`` has less than 1 MiB free."""
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def leftover_wal(path: os.PathLike[str] | str) -> list[Path]:
    """The ``-wal`` / ``-shm`` files left beside a SQLite database ``path`` that does not
    exist (it was moved or deleted without them): a new database of that name would take
    the left-over pages for its own."""
    db = Path(path)
    if db.exists():
        return []
    return [
        p for p in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()
    ]
