"""Atomic, compare-and-swap file writes and Obsidian-style trash.

Every change syncbridge makes to a vault goes through this module:

* :func:`read_snapshot` reads a file's exact bytes with their size, ``mtime_ns`` and
  SHA-256, retrying if the file changes while it is read.
* :func:`read_settled` does the same for a file that may be caught mid-save (an editor
  truncating and rewriting it): it waits, a bounded time, until the file has been left
  alone for :data:`SETTLE_NS` (see "Mid-save reads" below).
* :func:`write_atomic` writes a temp file in the target's folder, ``fsync``\\ s it, checks
  that the target still holds the bytes the caller read (compare-and-swap), moves the temp
  file over the target with ``os.replace`` and ``fsync``\\ s the folder. A reader (Obsidian,
  a sync client) sees the old file or the new one, never half of each; after a crash the
  old file is intact. On any failure the temp file is removed and the target is untouched.
* :func:`move_to_trash` deletes a note the way Obsidian does with "Move to Obsidian trash":
  it moves it to ``<vault>/.trash/``.

Compare-and-swap and its limit
------------------------------
``expected`` is what the caller believes is on disk: a :class:`FileSnapshot` (the file
must still hold exactly those bytes; ``mtime`` alone is not trusted, a touched but
unchanged file is not a conflict), :data:`ABSENT` (no file may exist there), or ``None``
(no check: overwrite whatever is there). A mismatch raises
:class:`~syncbridge.errors.WriteConflict` and changes nothing.

POSIX offers no "replace only if unchanged" call, and Obsidian takes no locks, so one
window remains: between the final check (made after the temp file is written and synced,
right before ``os.replace``) and the ``os.replace`` itself, a few microseconds in which
another program's save would be overwritten. The check cannot be made any later. Creating
a new file (``expected=ABSENT``) has no such window: the temp file is hard-linked to the
target name, which fails if a file appeared (file systems without hard links fall back to
check-then-rename). Trashing has no window either: the note is first moved to a private
name, then checked, and put back if it changed.

Mid-save reads
--------------
An editor saving a note often truncates the file and then writes it: a read in between
sees 0 bytes, or a part. A read is only trusted when the file did not change while it was
read (size, mtime, ctime and inode the same before and after, as many bytes as the size
says) and its mtime is at least :data:`SETTLE_NS` old; a file modified more recently is
read again once it has been left alone that long, waiting at most
:data:`SETTLE_WAIT_MAX_NS` in all. :func:`settle_delay_ns` is that rule for one ``stat``
(the vault's scan applies it to a whole batch with a single wait, the daemon to each
event); :func:`read_settled` applies it to one file.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from syncbridge.errors import RetryableError, UnsafePath, WriteConflict
from syncbridge.portable import LINK_NOFOLLOW, process_alive
from syncbridge.vault.filenames import name_key, safe_join

__all__ = [
    "ABSENT",
    "SETTLE_NS",
    "SETTLE_WAIT_MAX_NS",
    "TRASH_DIR",
    "Absent",
    "FileSnapshot",
    "StatKey",
    "is_stale_temp",
    "move_file",
    "move_to_trash",
    "read_once",
    "read_settled",
    "read_snapshot",
    "settle_delay_ns",
    "stat_key",
    "write_atomic",
]

TRASH_DIR: Final = ".trash"
"""Obsidian's vault trash folder, relative to the vault root."""

_TEMP_PREFIX: Final = ".sb-"  # dot-files are hidden from Obsidian and most sync clients
_READ_ATTEMPTS: Final = 5
_READ_FLAGS: Final = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
SETTLE_NS: Final = 1_000_000_000
"""A file whose mtime is younger than this (nanoseconds) may be mid-save: read it again
once it is this old (see "Mid-save reads")."""
SETTLE_WAIT_MAX_NS: Final = 5_000_000_000
"""The longest (nanoseconds) :func:`read_settled` and a vault scan wait for files to
settle; a file still changing after that is left for the next run."""
_NAME_MAX: Final = 255  # bytes; the common file-system limit for one path component
# errno values meaning "this file system cannot hard-link", for the rename fallback.
_NO_HARDLINKS: Final = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
)
# errno values of a directory fsync that the platform does not support (not an I/O error).
_NO_DIR_FSYNC: Final = frozenset({errno.EINVAL, errno.EBADF, errno.ENOTSUP, errno.EACCES})


class Absent(enum.Enum):
    """Type of :data:`ABSENT`: "I saw no file at this path"."""

    ABSENT = "ABSENT"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT
"""``expected=ABSENT``: the write creates the file and must not replace an existing one."""


@dataclass(frozen=True, slots=True)
class FileSnapshot:
    """A file's exact bytes as read, with ``size`` in bytes, ``mtime_ns`` (nanoseconds
    since the epoch, as ``os.stat`` reports it) and ``sha256`` (hex digest of ``data``)."""

    data: bytes = field(repr=False)
    size: int
    mtime_ns: int
    sha256: str
    # Where the bytes were found (0: unknown); metadata, not part of a snapshot's identity.
    ctime_ns: int = field(default=0, compare=False)
    inode: int = field(default=0, compare=False)

    @classmethod
    def of(cls, data: bytes, mtime_ns: int, *, ctime_ns: int = 0, inode: int = 0) -> FileSnapshot:
        """Snapshot of ``data`` with the given ``mtime_ns``; size and hash are computed."""
        return cls(
            bytes(data), len(data), mtime_ns, hashlib.sha256(data).hexdigest(), ctime_ns, inode
        )

    @property
    def stat_key(self) -> StatKey:
        """(size, mtime_ns, ctime_ns, inode) of the file when these bytes were read."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode)


StatKey = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode): what tells a changed file from an unchanged one
without reading it. ctime and inode cannot be set from outside, so an edit whose mtime was
put back (a backup restore, ``touch -r``) still changes the key (git's index does the same)."""


def stat_key(st: os.stat_result) -> StatKey:
    """The :data:`StatKey` of a ``stat`` result."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def settle_delay_ns(mtime_ns: int, now_ns: int, settle_ns: int = SETTLE_NS) -> int:
    """Nanoseconds until a file last modified at ``mtime_ns`` has been left alone for
    ``settle_ns`` (0: settled now). A file modified in the future counts as settled."""
    delay = mtime_ns + settle_ns - now_ns
    return delay if 0 < delay <= settle_ns else 0


def read_once(
    path: os.PathLike[str] | str, *, before: os.stat_result | None = None
) -> tuple[FileSnapshot, bool]:
    """Read ``path`` whole (following symlinks), once: its snapshot, and whether the file
    stood still while it was read (same :data:`StatKey` before and after, as many bytes as
    its size). ``before``: a ``stat`` of ``path`` taken earlier (a scan's ``lstat``), then
    the file must not have changed since that either (and one ``stat`` is saved). Raises
    the usual ``OSError`` subclasses. Writes nothing."""
    # os.open and os.read, not open(): no file object is built (a vault scan calls this for
    # every note it reads, so it is a hot path), and one read() takes a file that did not
    # grow since ``before``: a short read is caught by the size check below.
    fd = _open_to_read(path)
    try:
        if before is None:
            before = os.fstat(fd)
        want = max(before.st_size, 0) + 1
        data = os.read(fd, want)
        if len(data) == want:  # grew since: read on to the end
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    steady = stat_key(before) == stat_key(after) and len(data) == after.st_size
    return FileSnapshot.of(
        data, after.st_mtime_ns, ctime_ns=after.st_ctime_ns, inode=after.st_ino
    ), steady


def _open_to_read(path: os.PathLike[str] | str) -> int:
    """A file descriptor open for reading ``path`` (following symlinks): every read of a
    note starts here (tests count and refuse reads through it)."""
    return os.open(path, _READ_FLAGS)


def read_snapshot(path: os.PathLike[str] | str) -> FileSnapshot:
    """Read ``path`` whole (following symlinks) and return its bytes and metadata.

    Retries when the file changes during the read; raises
    :class:`~syncbridge.errors.RetryableError` if the file keeps changing, and the usual
    ``FileNotFoundError`` / ``IsADirectoryError`` / ``PermissionError``. Writes nothing.
    Does not wait for a recently modified file to settle: see :func:`read_settled`.
    """
    for _ in range(_READ_ATTEMPTS):
        snap, steady = read_once(path)
        if steady:
            return snap
    raise RetryableError(f"{os.fspath(path)}: the file kept changing while it was read")


def read_settled(
    path: os.PathLike[str] | str,
    *,
    settle_ns: int = SETTLE_NS,
    max_wait_ns: int = SETTLE_WAIT_MAX_NS,
    clock: Callable[[], int] = time.time_ns,
    sleep: Callable[[float], None] = time.sleep,
) -> FileSnapshot:
    """Read ``path`` once it has settled (see "Mid-save reads"): when its mtime is younger
    than ``settle_ns``, sleep until it is that old and read again, until two reads agree
    on a settled file, waiting at most ``max_wait_ns`` in all. Raises
    :class:`~syncbridge.errors.RetryableError` if the file is still changing then (take it
    next run), and the usual ``OSError`` subclasses. Writes nothing; sleeps."""
    deadline = clock() + max_wait_ns
    while True:
        snap, steady = read_once(path)
        now = clock()
        delay = settle_delay_ns(snap.mtime_ns, now, settle_ns) if steady else settle_ns // 10
        if steady and delay == 0:
            return snap
        if now + delay > deadline:
            raise RetryableError(
                f"{os.fspath(path)}: the file kept changing while it was read (an editor or "
                "a sync client still writing it?); it was left as it is"
            )
        sleep(max(delay, 1_000_000) / 1e9)
        if steady:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # gone meanwhile: the next read says so
            if stat_key(st) == snap.stat_key:
                return snap  # left alone for settle_ns since it was read: settled


def _conflict(path: Path, what: str) -> WriteConflict:
    return WriteConflict(
        f"{path}: {what} since syncbridge read it, so this change was not applied and the "
        "file was left as it is; the next sync will pick up the new version"
    )


def _check(path: Path, expected: FileSnapshot | Absent | None) -> None:
    """Raise WriteConflict unless ``path`` is in the ``expected`` state. Reads only."""
    if expected is None:
        return
    if expected is ABSENT:
        if os.path.lexists(path):
            raise _conflict(path, "a file was created at this path")
        return
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        raise _conflict(path, "the note was deleted") from None
    if current != expected.data:
        raise _conflict(path, "the note changed")


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where directories cannot be synced)."""
    if os.name == "nt":  # pragma: no cover - Windows cannot open directories for fsync
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_FSYNC:
            raise
    finally:
        os.close(fd)


def _rename_noreplace(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``; raise FileExistsError instead of replacing a file.

    Hard link + unlink is atomic against a file appearing at ``target``; where hard links
    are not supported, falls back to check-then-rename (tiny window, documented above).
    """
    try:
        os.link(source, target, **LINK_NOFOLLOW)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "file exists", os.fspath(target)) from None
        os.rename(source, target)
        return
    os.unlink(source)


def move_file(
    source: os.PathLike[str] | str,
    target: os.PathLike[str] | str,
    *,
    expected: FileSnapshot | None = None,
) -> None:
    """Rename ``source`` to ``target`` (same file system), never replacing a file there.

    With ``expected``, ``source`` must still hold exactly ``expected.data``. Raises
    :class:`~syncbridge.errors.WriteConflict` (nothing moved) if it changed or if
    ``target`` exists. Side effects: creates ``target``'s folder, fsyncs both folders.
    """
    src, dst = Path(source), Path(target)
    _check(src, expected)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        _rename_noreplace(src, dst)
    except FileExistsError:
        raise WriteConflict(
            f"{dst}: a file with this name already exists; {src} was not renamed"
        ) from None
    _fsync_dir(dst.parent)
    if src.parent != dst.parent:
        _fsync_dir(src.parent)


def _temp_path(folder: Path, suffix: str) -> Path:
    # The writer's pid is part of the name, so a temp file left by a killed process can be
    # told from one another process is still writing (see is_stale_temp).
    return folder / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{suffix}"


_STALE_TEMP = re.compile(r"\.sb-(\d+)-[0-9a-f]{16}\.tmp")


def is_stale_temp(name: str) -> bool:
    """True when ``name`` is a temp file of :func:`write_atomic` whose process is gone
    (killed mid-write): safe to delete. Files of live processes are never stale."""
    match = _STALE_TEMP.fullmatch(name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    return process_alive(pid) is False  # alive, or cannot tell: kept


def write_atomic(
    path: os.PathLike[str] | str,
    data: bytes | bytearray | memoryview,
    *,
    expected: FileSnapshot | Absent | None = None,
) -> FileSnapshot:
    """Replace (or create) ``path`` with exactly ``data``, atomically and only if it still
    is in the ``expected`` state (see the module docstring). Returns the snapshot of what
    was written, to pass as ``expected`` to the next write.

    Side effects: creates missing parent folders (even if the write is then refused
    because the file changed, which only happens when they existed), writes and removes a
    hidden temp file ``.sb-<random>.tmp`` in the target's folder, keeps the permission bits
    of the file it replaces (a new file gets ``0o666`` minus the umask), fsyncs the file
    and the folder. Owner, extended attributes and hard links to the old file are not
    carried over (the new file is a new inode). Raises
    :class:`~syncbridge.errors.WriteConflict` (nothing changed),
    :class:`~syncbridge.errors.UnsafePath` if ``path`` is a symlink (replacing it would
    break the link; writing through it could leave the vault), ``OSError`` for I/O
    failures (the target is untouched and the temp file removed).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    payload = bytes(data)
    target = Path(path)
    if target.is_symlink():
        raise UnsafePath(f"{target}: is a symlink; syncbridge does not write through links")
    _check(target, expected)  # refuse early, before creating anything
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temp = _temp_path(folder, ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags | getattr(os, "O_CLOEXEC", 0), 0o666)  # the umask applies
    try:
        try:
            if mode is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, mode)
                else:  # pragma: no cover - Windows before 3.13
                    os.chmod(temp, mode)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            # A rename keeps the mtime and inode; it may advance the ctime (a later scan
            # then re-reads the note once and finds the same bytes).
            stored = os.fstat(fd)
        finally:
            os.close(fd)
        _check(target, expected)  # as late as possible: right before the swap
        if expected is ABSENT:
            try:
                _rename_noreplace(temp, target)
            except FileExistsError:
                raise _conflict(target, "a file was created at this path") from None
        else:
            os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_dir(folder)
    return FileSnapshot.of(
        payload, stored.st_mtime_ns, ctime_ns=stored.st_ctime_ns, inode=stored.st_ino
    )


def _numbered_names(name: str) -> Iterator[str]:
    """``name``, then ``stem 2.ext``, ``stem 3.ext``, ... each within ``_NAME_MAX`` bytes."""
    yield name
    stem, ext = os.path.splitext(name)
    number = 2
    while True:
        tail = f" {number}{ext}"
        cut = stem
        while cut and len((cut + tail).encode("utf-8")) > _NAME_MAX:
            cut = cut[:-1]
        yield cut + tail
        number += 1


def move_to_trash(
    vault_root: os.PathLike[str] | str,
    rel_path: str,
    *,
    expected: FileSnapshot | None = None,
) -> Path:
    """Move the note at vault-relative ``rel_path`` into ``<vault>/.trash/`` and return
    its new path.

    Like Obsidian, the trash is flat: ``Psyche/Wounds/Shame.md`` becomes
    ``.trash/Shame.md`` (Obsidian's ``trashLocal`` does not keep folders either). A name
    already in the trash is never overwritten: ``Shame 2.md``, ``Shame 3.md``, ... are
    used, compared case- and normalization-insensitively so the trash stays valid on
    macOS and Windows. Bytes, permissions and mtime are kept (it is a rename).

    With ``expected``, the note must still hold exactly ``expected.data``: it is moved to
    a private name first, checked there, and put back if it changed, so a concurrent save
    is never trashed by mistake; a mismatch raises
    :class:`~syncbridge.errors.WriteConflict`. Raises
    :class:`~syncbridge.errors.UnsafePath` for paths outside the vault (also a ``.trash``
    symlinked elsewhere), ``FileNotFoundError`` if there is no file and no ``expected``,
    ``IsADirectoryError`` for folders. Creates ``.trash`` if needed; fsyncs both folders.
    """
    source = safe_join(vault_root, rel_path)
    trash = safe_join(vault_root, TRASH_DIR)
    if not os.path.lexists(source):
        if expected is not None:
            raise _conflict(source, "the note was deleted")
        raise FileNotFoundError(errno.ENOENT, "no such note", os.fspath(source))
    if source.is_dir() and not source.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "only notes can be trashed", os.fspath(source))
    trash.mkdir(exist_ok=True)
    if trash.is_symlink() or not trash.is_dir():
        raise UnsafePath(f"{trash}: the vault's trash is not a plain folder")
    holding = _temp_path(trash, ".trashing")
    try:
        os.rename(source, holding)  # a random new name: nothing can be overwritten
    except FileNotFoundError:
        if expected is not None:  # deleted between our look and the move
            raise _conflict(source, "the note was deleted") from None
        raise
    try:
        if expected is not None and holding.read_bytes() != expected.data:
            try:
                _rename_noreplace(holding, source)  # put it back, as it was
            except FileExistsError:
                pass  # a new note took its place meanwhile: keep the old one in the trash
            else:
                raise _conflict(source, "the note changed")
            destination = _claim_trash_name(holding, trash, source.name)
            raise _conflict(source, f"the note changed (kept in the trash as {destination})")
        destination = _claim_trash_name(holding, trash, source.name)
    except BaseException:
        if holding.exists() or holding.is_symlink():
            # If even that fails it stays in the trash under its hidden name: never lost.
            with contextlib.suppress(OSError):
                _rename_noreplace(holding, source)
        raise
    _fsync_dir(trash)
    _fsync_dir(source.parent)
    return destination


def _claim_trash_name(holding: Path, trash: Path, name: str) -> Path:
    taken = {name_key(entry) for entry in os.listdir(trash)}
    for candidate in _numbered_names(name):
        if name_key(candidate) in taken:
            continue
        destination = trash / candidate
        try:
            _rename_noreplace(holding, destination)
        except FileExistsError:
            taken.add(name_key(candidate))
            continue
        return destination
    raise AssertionError("unreachable")  # pragma: no cover - the generator is endless
