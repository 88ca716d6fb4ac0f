"""The vault: a folder of notes, scanned into an index, read and written safely.

>>> vault = Vault.open("examples/vault")                     # doctest: +SKIP
>>> for note in vault.notes():                                # doctest: +SKIP
...     print(note.path, note.get("status"))

The index keeps, per note, its size, ``mtime_ns``, ``ctime_ns``, inode, SHA-256 and
frontmatter values (read with the fast YAML 1.2 reader, never with ruamel's round-trip
loader). A rescan re-reads only files whose (size, mtime_ns, ctime_ns, inode) changed — the
ctime and inode cannot be set from outside, so an edit whose mtime was put back (``touch -r``,
a backup restore) is still seen, as in git's index — or whose mtime is too close to
the previous scan to be trusted (the "racy timestamp" case git also guards against); a file
whose bytes hash the same is not re-parsed. With ``cache_path`` the index survives between
processes.

Notes caught mid-save (see :mod:`syncbridge.vault.fsio`, "Mid-save reads"): a file that changed
while it was read, or whose mtime is younger than ``settle_ms``, is read again once it has
settled (one wait for the whole scan, at most ``SETTLE_WAIT_MAX_NS``); one still changing
then is indexed as unreadable for this scan (skipped, never taken for deleted). A note that
the index knew with content and that now reads 0 bytes is *held* for the run that first sees
it (:meth:`Vault.held`): the sync skips it, and takes the emptiness as an edit only in a
later run (a later process, or after :meth:`Vault.begin_run`).

Writes go through :mod:`syncbridge.vault.fsio`: atomic (temp file, fsync, rename) and
compare-and-swap against the bytes that were read. Deletes move notes to ``.trash/``.
Skipped: ``.obsidian/``, ``.trash/``, ``.git/``, every other dot-folder (Obsidian does not
show them) and the configured ``ignore`` globs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncbridge.errors import NoteError, SyncbridgeError
from syncbridge.note.note import Note
from syncbridge.note.split import decode, split_text
from syncbridge.note.yamlio import load_values
from syncbridge.storage import os_failure
from syncbridge.vault.fsio import (
    ABSENT,
    SETTLE_NS,
    SETTLE_WAIT_MAX_NS,
    Absent,
    FileSnapshot,
    is_stale_temp,
    move_file,
    move_to_trash,
    read_once,
    read_snapshot,
    settle_delay_ns,
    stat_key,
    write_atomic,
)

if TYPE_CHECKING:
    from syncbridge.schema.model import VaultSchema

__all__ = ["IndexEntry", "ScanProblem", "ScanReport", "Vault"]

ALWAYS_SKIPPED = (".obsidian", ".trash", ".git")
_CACHE_VERSION = 4  # 4: one JSON line per note, with ctime_ns, inode and emptied_in; older
# caches are ignored (a cold scan)
_RACY_NS = 2_000_000_000  # mtimes this close to the last scan are re-checked by content
_SCANNED_BYTES_MAX = 64 * 1024 * 1024  # bytes of scanned notes kept for the next read()


@dataclass(slots=True)
class IndexEntry:
    """What the index knows about one note, without keeping its text. ``emptied_in``: the
    :attr:`Vault.run_id` of the run that first found this note emptied (0 bytes where the
    index last knew content), kept while it stays empty."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    has_frontmatter: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_line: int | None = None
    ctime_ns: int = 0
    inode: int = 0
    emptied_in: str | None = None

    @property
    def stat_key(self) -> tuple[int, int, int, int]:
        """(size, mtime_ns, ctime_ns, inode): what a rescan compares with ``lstat``."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ScanProblem:
    """Something a scan could not index. ``kind``: ``unreadable`` (a folder or note it may
    not read), ``name`` (not valid UTF-8) or ``symlink`` (links are not followed)."""

    kind: str
    message: str


@dataclass(frozen=True)
class ScanReport:
    """Counts of one scan. ``read`` is the number of files whose bytes were read."""

    added: int
    changed: int
    removed: int
    unchanged: int
    read: int
    seconds: float


ProgressFn = Callable[[int, int], None]


class Vault:
    """A vault rooted at ``root``. Construct with :meth:`open`, which scans it."""

    def __init__(self, root: os.PathLike[str] | str, *, ignore: Sequence[str] = (),
                 cache_path: os.PathLike[str] | str | None = None,
                 default_class: str = "note", template_folders: Sequence[str] = (),
                 settle_ms: int | None = None) -> None:
        self.root = Path(root).resolve()
        self._root_str = str(self.root)
        if not self.root.is_dir():
            raise NoteError("is not a folder; give the path of your Obsidian vault",
                            path=str(root))
        self.ignore = tuple(ignore)
        self.default_class = default_class
        self.template_folders = tuple(template_folders)
        self.cache_path = Path(cache_path) if cache_path is not None else None
        if settle_ms is None:
            settle_ms = _default_settle_ms()
        self.settle_ns = max(0, settle_ms) * 1_000_000
        self.run_id = secrets.token_hex(8)
        self._index: dict[str, IndexEntry] = {}
        self._scanned_ns = 0
        self._problems: dict[str, ScanProblem] = {}
        self._blocked: list[str] = []
        # The bytes the last scan read, kept for one read() of each note (the sync reads
        # every note it found changed, right after the scan): see read().
        self._scanned: dict[str, FileSnapshot] = {}
        self._scanned_bytes = 0
        if self.cache_path is not None:
            self._load_cache()

    @classmethod
    def open(cls, root: os.PathLike[str] | str, *, ignore: Sequence[str] = (),
             cache_path: os.PathLike[str] | str | None = None,
             progress: ProgressFn | None = None, default_class: str = "note",
             template_folders: Sequence[str] = (), settle_ms: int | None = None) -> Vault:
        """Open and scan the vault (reads every note not already in the cache).

        ``default_class`` names the class of notes no fileClass, tag or folder maps;
        ``template_folders`` adds folders whose notes are never entries; a note modified
        less than ``settle_ms`` milliseconds ago is read again once it is that old (the
        scan sleeps, see the module docstring; 0: never wait; default 1000, or
        ``$SYNCBRIDGE_TEST_SETTLE_MS``, which the test suite sets to 0 to run fast)."""
        vault = cls(root, ignore=ignore, cache_path=cache_path, default_class=default_class,
                    template_folders=template_folders, settle_ms=settle_ms)
        vault.rescan(progress=progress)
        return vault

    # --- scanning ------------------------------------------------------------------------

    def _ignored(self, rel: str) -> bool:
        return any(fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel + "/", pat)
                   for pat in self.ignore)

    def _walk(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every note to index: (vault-relative path, ``lstat``). What cannot be listed is
        recorded in ``self._problems``; folders and notes that could not be read go to
        ``self._blocked`` (their indexed notes are kept, see :meth:`rescan`)."""
        self._problems = {}
        self._blocked = []
        stack = [(self.root, "")]
        while stack:
            folder, prefix = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue  # removed while we walked: its notes are gone
            except OSError as exc:
                self._unreadable(prefix or "./", "folder", exc)
                continue
            for entry in entries:
                name = entry.name
                rel = prefix + name
                try:
                    if name.endswith(".md") and entry.is_file(follow_symlinks=False):
                        # a note: the common case first (d_type, no system call but lstat)
                        if self.ignore and self._ignored(rel):
                            continue
                        if not _utf8(name):
                            self._problems[_shown(rel)] = _BAD_NAME
                            continue
                        yield rel, entry.stat(follow_symlinks=False)
                        continue
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_link = entry.is_symlink()
                    is_note = name.endswith(".md")
                    if not (is_dir or is_note or is_link):
                        if name.startswith(".sb-") and is_stale_temp(name):
                            # A write of ours killed before its rename: a partial copy,
                            # never the note.
                            with contextlib.suppress(OSError):
                                os.unlink(entry.path)
                        continue
                    if name.startswith(".") and not is_note:
                        continue  # dot-folders: Obsidian does not show them
                    if self.ignore and self._ignored(rel):
                        continue
                    if not _utf8(name):
                        self._problems[_shown(rel) + ("/" if is_dir else "")] = _BAD_NAME
                        continue
                    if is_dir:
                        stack.append((Path(entry.path), rel + "/"))
                    elif is_link and (is_note or entry.is_dir(follow_symlinks=True)):
                        self._problems[rel + ("" if is_note else "/")] = ScanProblem(
                            "symlink", "a symbolic link: syncbridge does not follow links "
                            "(it never writes through them), so this is not synced; add it "
                            "to vault.ignore to silence this")
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    if _is_dir(entry):
                        self._unreadable(rel + "/", "folder", exc)
                    else:
                        self._unreadable(rel, "note", exc)

    def _unreadable(self, rel: str, what: str, exc: OSError) -> None:
        self._problems[rel] = ScanProblem("unreadable", _cannot_read(what, exc))
        self._blocked.append("" if rel == "./" else rel)

    def rescan(self, progress: ProgressFn | None = None) -> ScanReport:
        """Bring the index up to date with the files on disk; saves the cache if any."""
        started = time.perf_counter()
        scan_ns = time.time_ns()
        trusted_before = self._scanned_ns - _RACY_NS
        seen: set[str] = set()
        added = changed = unchanged = read = 0
        listing = list(self._walk())
        if self._blocked:
            # Notes under a folder (or at a path) that could not be read are still there, as
            # far as anyone can tell: keep them, unreadable, so a sync skips them instead of
            # taking them for deleted. mtime -1: read again as soon as they can be.
            for rel, entry in self._index.items():
                problem = _blocked_by(rel, self._blocked)
                if problem is not None:
                    seen.add(rel)
                    entry.mtime_ns = -1
                    entry.error, entry.error_line = self._problems[problem].message, None
        total = len(listing)
        to_read: list[tuple[str, os.stat_result]] = []
        for rel, st in listing:
            seen.add(rel)
            old = self._index.get(rel)
            # The skip key: (size, mtime, ctime, inode), the mtime not racy (see the module
            # docstring; as in git, the ctime is not: a same-size edit whose mtime was put
            # back changes the ctime, which a stored ctime can only match if the file had
            # already changed within the same clock tick). Field by field: the hot loop.
            if old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size \
                    and old.ctime_ns == st.st_ctime_ns and old.inode == st.st_ino \
                    and st.st_mtime_ns < trusted_before:
                unchanged += 1
            else:
                to_read.append((rel, st))
        if progress is not None:
            progress(unchanged, total)
        for i, (fresh, snap) in enumerate(self._read_entries(to_read)):
            read += 1
            self._keep_scanned(fresh, snap)
            old = self._index.get(fresh.path)
            if fresh.size == 0 and old is not None:
                # Emptied where the index knew content (or could not tell): held for this
                # run, in case a save was caught halfway (see held()); still empty: as it was.
                fresh.emptied_in = self.run_id if old.size != 0 else old.emptied_in
            if old is not None and old.sha256 == fresh.sha256 and old.error == fresh.error:
                old.size, old.mtime_ns = fresh.size, fresh.mtime_ns
                old.ctime_ns, old.inode = fresh.ctime_ns, fresh.inode
                unchanged += 1
            else:
                self._index[fresh.path] = fresh
                if old is None:
                    added += 1
                else:
                    changed += 1
            if progress is not None and (i % 500 == 499 or i == len(to_read) - 1):
                progress(unchanged + added + changed, total)
        seen.update(rel for rel, _ in to_read)
        removed = [rel for rel in self._index if rel not in seen]
        for rel in removed:
            del self._index[rel]
            self._forget_scanned(rel)
        self._scanned_ns = scan_ns
        if added or changed or removed:
            self.__dict__.pop("schema", None)
        if self.cache_path is not None and (added or changed or removed or read):
            self._save_cache()
        return ScanReport(added, changed, len(removed), unchanged, read,
                          time.perf_counter() - started)

    def scan_problems(self) -> dict[str, ScanProblem]:
        """What the last scan could not index, by vault-relative path (folders end in
        ``/``): unreadable folders and notes, names that are not UTF-8, symbolic links."""
        return dict(self._problems)

    def held(self) -> dict[str, str]:
        """Notes held in this run, by vault-relative path → why: found emptied (0 bytes
        where the index knew content) by this run's scans. A sync skips them (never
        deletes or clears anything for them); a later run (another process, or after
        :meth:`begin_run`) takes the emptiness as the user's edit."""
        return {e.path: _HELD_EMPTIED for e in self._index.values()
                if e.emptied_in == self.run_id and e.ok}

    def begin_run(self) -> None:
        """Start a new sync run in this process (a long-running caller, the daemon, calls
        this between runs): notes held as emptied by earlier runs are released (see
        :meth:`held`)."""
        self.run_id = secrets.token_hex(8)

    def _keep_scanned(self, entry: IndexEntry, snap: FileSnapshot) -> None:
        self._forget_scanned(entry.path)
        if entry.error is not None:
            return
        if self._scanned_bytes + snap.size <= _SCANNED_BYTES_MAX:
            self._scanned[entry.path] = snap
            self._scanned_bytes += snap.size

    def _forget_scanned(self, rel: str) -> FileSnapshot | None:
        snap = self._scanned.pop(rel, None)
        if snap is not None:
            self._scanned_bytes -= snap.size
        return snap

    def _read_entries(self, to_read: list[tuple[str, os.stat_result]]
                      ) -> Iterator[tuple[IndexEntry, FileSnapshot]]:
        """Read and parse ``to_read`` (vault-relative paths, with the walk's ``lstat``: a
        file changed since is read again), in this process; files that vanished meanwhile
        are left out. Sleeps while notes settle (see the module
        docstring), once for the whole batch.

        A process fan-out was measured (docs/benchmarks.md, core-index): on 2 cores it was
        slower than this serial loop, because every index entry must be pickled back."""
        root = str(self.root)
        started = time.time_ns()
        young: dict[str, tuple[FileSnapshot, bool]] = {}
        for rel, st in to_read:
            read = _read_file(root, rel, st)
            if read is None:
                continue
            if isinstance(read, IndexEntry):
                yield read, _NO_BYTES
                continue
            snap, steady = read
            known = self._index.get(rel)
            if steady and (not settle_delay_ns(snap.mtime_ns, started, self.settle_ns)
                           or (known is not None and known.sha256 == snap.sha256)):
                # Settled, or the very bytes the index knows (a touch, our own write, a
                # second scan in one run): nothing half-saved to take for an edit.
                yield _index_entry(rel, snap), snap
            else:
                young[rel] = read  # changed while read, or too recently modified
        for rel, outcome in self._settle(root, young).items():
            if isinstance(outcome, IndexEntry):
                yield outcome, _NO_BYTES
            else:
                yield _index_entry(rel, outcome), outcome

    def _settle(self, root: str, young: dict[str, tuple[FileSnapshot, bool]]
                ) -> dict[str, FileSnapshot | IndexEntry]:
        """``young`` (path → first read, and whether the file stood still meanwhile) read
        again until settled: the bytes of a file left alone for ``settle_ns`` since it was
        read, or an unreadable entry for one still changing after ``SETTLE_WAIT_MAX_NS``
        (vanished files are left out). Sleeps; reads files only."""
        done: dict[str, FileSnapshot | IndexEntry] = {}
        deadline = time.time_ns() + SETTLE_WAIT_MAX_NS
        retry_ns = max(self.settle_ns // 10, 10_000_000)
        while young:
            now = time.time_ns()
            wake = max(now + (settle_delay_ns(snap.mtime_ns, now, self.settle_ns)
                              if steady else retry_ns) for snap, steady in young.values())
            time.sleep(max(0, min(wake, deadline) - now) / 1e9)
            now = time.time_ns()
            for rel, (snap, steady) in list(young.items()):
                path = os.path.join(root, rel)
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    del young[rel]
                    continue
                except OSError:
                    st = None
                if steady and st is not None and stat_key(st) == snap.stat_key \
                        and not settle_delay_ns(snap.mtime_ns, now, self.settle_ns):
                    done[rel] = snap  # unchanged since it was read, and old enough now
                    del young[rel]
                    continue
                read = _read_file(root, rel)
                if read is None:
                    del young[rel]
                elif isinstance(read, IndexEntry):
                    done[rel] = read
                    del young[rel]
                elif read[1] and not settle_delay_ns(read[0].mtime_ns, now, self.settle_ns):
                    done[rel] = read[0]  # changed again, but stood still and old enough now
                    del young[rel]
                else:
                    young[rel] = read
            if young and now >= deadline:
                for rel in young:
                    done[rel] = IndexEntry(rel, -1, -1, "", error=_UNSETTLED)
                break
        return done

    # --- the index -----------------------------------------------------------------------

    def paths(self) -> list[str]:
        """Vault-relative POSIX paths of every indexed note, sorted."""
        return sorted(self._index)

    def entries(self) -> Mapping[str, IndexEntry]:
        return self._index

    def entry(self, path: str) -> IndexEntry:
        return self._index[path]

    def __contains__(self, path: object) -> bool:
        return path in self._index

    def __len__(self) -> int:
        return len(self._index)

    def errors(self) -> list[IndexEntry]:
        """Index entries of notes whose frontmatter could not be read."""
        return [e for e in self._index.values() if e.error is not None]

    def notes(self) -> Iterator[Note]:
        """Every note, in path order, as :meth:`read` gives it: the bytes the scan read when
        the file is provably unchanged since (else read from disk now), with the values
        the index parsed from those bytes. Unreadable files are skipped; see
        :meth:`errors`."""
        for rel in self.paths():
            try:
                yield self.read(rel)[0]
            except (OSError, SyncbridgeError):
                continue

    @cached_property
    def schema(self) -> VaultSchema:
        """The vault's schema (Metadata Menu, types.json, inference), from the index."""
        from syncbridge.schema import build_vault_schema

        return build_vault_schema(self.root, {p: e.fields for p, e in self._index.items()},
                                  default_class=self.default_class,
                                  extra_template_folders=self.template_folders)

    # --- reading and writing -------------------------------------------------------------

    def abspath(self, rel: str) -> Path:
        """The absolute path of vault-relative ``rel``; UnsafePath if it would leave the
        vault. Paths the scan itself found (no symlinks followed) skip the check."""
        if rel in self._index:
            return self.root / rel
        from syncbridge.vault.filenames import safe_join

        return safe_join(self.root, rel)

    def read(self, rel: str) -> tuple[Note, FileSnapshot]:
        """The note at ``rel`` and the snapshot to pass to :meth:`write` as ``expected``.

        The first read of a note after the scan that read it takes the scan's bytes when
        the file still has the (size, mtime, ctime, inode) it had then and neither time was
        "racy" (see :meth:`rescan`) at the scan: the test the index itself trusts. Either
        way, :meth:`write` compares against the file's bytes before replacing it."""
        # A path the scan found needs no check (see abspath) nor a Path object: notes()
        # calls this for every note.
        path = f"{self._root_str}/{rel}" if rel in self._index else self.abspath(rel)
        snap = self._scanned_if_unchanged(rel, path)
        if snap is None:
            snap = read_snapshot(path)
        return self._note(rel, snap), snap

    def _scanned_if_unchanged(self, rel: str, path: str | Path) -> FileSnapshot | None:
        """The bytes the last scan read of ``rel`` (forgotten here: served once) if the file
        is provably unchanged since (see :meth:`read`), else None. One ``stat``."""
        snap = self._forget_scanned(rel)
        trusted_before = self._scanned_ns - _RACY_NS
        if snap is None or snap.mtime_ns >= trusted_before:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return snap if stat_key(st) == snap.stat_key else None

    def _note(self, rel: str, snap: FileSnapshot) -> Note:
        """The note of ``snap``, with the values the index parsed from these very bytes
        (same SHA-256) instead of parsing them again."""
        entry = self._index.get(rel)
        if entry is not None and entry.sha256 == snap.sha256 and entry.ok:
            return Note.from_bytes(snap.data, path=rel, values=entry.fields)
        return Note.from_bytes(snap.data, path=rel)

    def write(self, rel: str, note: Note, *, expected: FileSnapshot | Absent) -> FileSnapshot:
        """Write ``note`` to ``rel`` atomically, only if the file is still as ``expected``
        (``ABSENT``: must not exist). Raises WriteConflict otherwise; updates the index."""
        data = note.to_bytes()
        self._forget_scanned(rel)
        path = self.abspath(rel)
        with _environment(path, "writing the note"):
            snap = write_atomic(path, data, expected=expected)
        self._index[rel] = _index_entry(rel, snap)
        self.__dict__.pop("schema", None)
        return snap

    def create(self, rel: str, note: Note) -> FileSnapshot:
        return self.write(rel, note, expected=ABSENT)

    def move(self, rel: str, new_rel: str, *, expected: FileSnapshot | None = None) -> None:
        """Rename note ``rel`` to ``new_rel`` (compare-and-swap with ``expected``; never
        replaces an existing file). Links to the old name in other notes are not rewritten."""
        source = self.abspath(rel)
        target = self.abspath(new_rel)
        with _environment(target, "renaming the note"):
            move_file(source, target, expected=expected)
        self._forget_scanned(rel)
        entry = self._index.pop(rel, None)
        if entry is not None:
            entry.path = new_rel
            self._index[new_rel] = entry
        self.__dict__.pop("schema", None)

    def trash(self, rel: str, *, expected: FileSnapshot | None = None) -> Path:
        """Move ``rel`` to ``.trash/`` (compare-and-swap with ``expected``)."""
        with _environment(self.abspath(rel), "moving the note to .trash/"):
            moved = move_to_trash(self.root, rel, expected=expected)
        self._forget_scanned(rel)
        self._index.pop(rel, None)
        self.__dict__.pop("schema", None)
        return moved

    # --- cache ---------------------------------------------------------------------------

    def _load_cache(self) -> None:
        """Read the index cache: a header line, then one JSON line per note, read one line
        at a time (the whole file is never held in memory at once)."""
        assert self.cache_path is not None
        # One key string for all notes (as json.loads of one document shares them): a
        # vault's notes mostly have the same field names.
        keys: dict[str, str] = {}

        def pairs(items: list[tuple[str, Any]]) -> Any:
            return _decode({keys.setdefault(k, k): v for k, v in items})

        decoder = json.JSONDecoder(object_pairs_hook=pairs)
        index: dict[str, IndexEntry] = {}
        try:
            with open(self.cache_path, encoding="utf-8") as handle:
                head = decoder.decode(handle.readline())
                if head.get("version") != _CACHE_VERSION or head.get("root") != str(self.root):
                    return
                for line in handle:
                    entry = IndexEntry(**decoder.decode(line))
                    index[entry.path] = entry
        except (OSError, ValueError, TypeError, AttributeError):
            return  # no cache or an unreadable one: a cold scan rebuilds it
        self._scanned_ns = int(head["scanned_ns"])
        self._index = index

    def _cache_lines(self) -> Iterator[bytes]:
        """The cache file's lines (see :meth:`_load_cache`), made one at a time."""
        dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
        head = {"version": _CACHE_VERSION, "root": str(self.root),
                "scanned_ns": self._scanned_ns}
        yield dumps(head).encode() + b"\n"
        for e in self._index.values():
            entry = {"path": e.path, "size": e.size, "mtime_ns": e.mtime_ns, "sha256": e.sha256,
                     "has_frontmatter": e.has_frontmatter, "fields": _encode(e.fields),
                     "error": e.error, "error_line": e.error_line, "ctime_ns": e.ctime_ns,
                     "inode": e.inode}
            if e.emptied_in is not None:  # rare: left out otherwise (the default)
                entry["emptied_in"] = e.emptied_in
            yield dumps(entry).encode() + b"\n"

    def _save_cache(self) -> None:
        assert self.cache_path is not None
        # A cache, not user data: atomic (temp file + rename) but not fsynced; a torn or
        # missing cache only means the next scan reads every note again. So a folder we
        # may not write is no error here (the state file beside it reports it).
        temp = self.cache_path.with_name(f".{self.cache_path.name}.{os.getpid()}.tmp")
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb", buffering=1 << 16) as handle:
                handle.writelines(self._cache_lines())
            os.chmod(temp, 0o600)
            os.replace(temp, self.cache_path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if not isinstance(exc, OSError):  # a full disk: no cache this time
                raise


_BAD_NAME = ScanProblem("name", "the name is not valid UTF-8, so it cannot be synced; rename it")


@contextlib.contextmanager
def _environment(path: Path, doing: str) -> Iterator[None]:
    """Raise a full disk, a read-only folder, an I/O error ... as the
    :class:`~syncbridge.errors.StorageFailure` naming ``path`` (other errors pass)."""
    try:
        yield
    except OSError as exc:
        failure = os_failure(exc, path, doing)
        if failure is None:
            raise
        raise failure from exc


def _cannot_read(what: str, exc: OSError) -> str:
    """The message for a ``"folder"`` or ``"note"`` the scan may not read."""
    reason = exc.strerror or str(exc)
    if what == "folder":
        return (f"cannot read this folder ({reason}); its notes are left alone, neither "
                "synced nor deleted, until its permissions are fixed")
    return (f"cannot read this note ({reason}); it is left alone, neither synced nor "
            "deleted, until its permissions are fixed")


def _utf8(rel: str) -> bool:
    """Whether ``rel`` (decoded from the file system) is valid UTF-8 (no surrogates)."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """``rel`` printable: bytes that are not UTF-8 become U+FFFD."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _blocked_by(rel: str, blocked: Sequence[str]) -> str | None:
    """The problem key (a folder ``a/b/``, ``./`` or a note's path) hiding note ``rel``."""
    for prefix in blocked:
        if prefix == "":
            return "./"
        if rel == prefix or (prefix.endswith("/") and rel.startswith(prefix)):
            return prefix
    return None


SETTLE_ENV = "SYNCBRIDGE_TEST_SETTLE_MS"
"""Environment variable overriding the default ``settle_ms`` of every :class:`Vault` (tests)."""


def _default_settle_ms() -> int:
    raw = os.environ.get(SETTLE_ENV, "")
    try:
        return int(raw) if raw else SETTLE_NS // 1_000_000
    except ValueError:
        return SETTLE_NS // 1_000_000


_NO_BYTES = FileSnapshot(b"", 0, -1, "")
_UNSETTLED = ("kept changing while syncbridge read it (an editor or a sync client still "
              "saving it?); it is left alone, neither synced nor deleted, and read again on "
              "the next sync")
_HELD_EMPTIED = ("emptied since syncbridge last read it (0 bytes now); left alone in this "
                 "run in case a save was caught halfway: if you emptied it on purpose, the "
                 "next sync applies it")


def _read_file(root: str, rel: str, st: os.stat_result | None = None
               ) -> tuple[FileSnapshot, bool] | IndexEntry | None:
    """One read of note ``rel`` (:func:`~syncbridge.vault.fsio.read_once`, ``st`` its ``before``);
    an unreadable entry for a file that may not be read; None if it was deleted since the
    walk (the next scan drops it)."""
    try:
        return read_once(os.path.join(root, rel), before=st)  # not pathlib: a hot loop
    except FileNotFoundError:
        return None
    except OSError as exc:
        # kept in the index as unreadable (never taken for deleted); mtime -1: read
        # again on every scan, so it is back as soon as its permissions are fixed
        return IndexEntry(rel, -1, -1, "", error=_cannot_read("note", exc))


def _index_entry(rel: str, snap: FileSnapshot) -> IndexEntry:
    """The index entry of note ``rel`` read as ``snap`` (its values parsed)."""
    data = snap.data
    entry = IndexEntry(rel, snap.size, snap.mtime_ns, snap.sha256, ctime_ns=snap.ctime_ns,
                       inode=snap.inode)
    try:
        parts = split_text(decode(data, path=rel))
        entry.has_frontmatter = parts.frontmatter is not None
        if parts.frontmatter is not None:
            values = load_values(parts.frontmatter, path=rel)
            if values is None:
                values = {}
            if not isinstance(values, dict):
                raise NoteError("frontmatter is not a mapping of fields", path=rel, line=2)
            entry.fields = values
    except NoteError as exc:
        entry.error, entry.error_line = exc.reason, exc.line
    return entry


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any) -> Any:
    """``value`` in a JSON shape that :func:`_decode` turns back into the same value:
    dates are tagged, and a mapping whose keys are not all plain strings (``1:``,
    ``2025-01-01:``, or a key starting with ``$``) is stored as a list of pairs."""
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: v if type(v) in _JSON_SCALARS else _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [v if type(v) in _JSON_SCALARS else _encode(v) for v in value]
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    return value


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$map" in obj:
            return {_hashable(k): v for k, v in obj["$map"]}
    return obj


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key
