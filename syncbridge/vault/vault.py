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
processes. Within :meth:`Vault.dry_run` a scan writes nothing: the cache is read, not saved
(the next scan outside saves it), and a temp file a killed write of ours left is left.

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
import stat
import sys
import time
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncbridge.errors import NoteError, SyncbridgeError
from syncbridge.note.note import Note
from syncbridge.note.split import decode, frontmatter_of
from syncbridge.note.yamlio import load_values
from syncbridge.storage import os_failure
from syncbridge.vault.cachefile import CacheFile, StoredValues
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
    from syncbridge.adapter import RecordRef
    from syncbridge.schema.model import VaultSchema

__all__ = ["IndexEntry", "ScanProblem", "ScanReport", "Vault"]

ALWAYS_SKIPPED = (".obsidian", ".trash", ".git")
_CACHE_VERSION = 5  # 5: one line per note, its entry as JSON, a tab, then its values as JSON
# (left in the file and read back when asked for, see IndexEntry.values) and their CRC-32 in
# the entry; older caches are ignored (a cold scan)
_RACY_NS = 2_000_000_000  # mtimes this close to the last scan are re-checked by content
_SCANNED_BYTES_MAX = 64 * 1024 * 1024  # bytes of scanned notes kept for the next read()


@dataclass(slots=True)
class IndexEntry:
    """What the index knows about one note, without keeping its text. ``emptied_in``: the
    :attr:`Vault.run_id` of the run that first found this note emptied (0 bytes where the
    index last knew content), kept while it stays empty.

    ``values``: the frontmatter values as the scan parsed them, or, for an entry loaded
    from the index cache, where their compact JSON text is in the cache file
    (:class:`~syncbridge.vault.cachefile.StoredValues`), read and decoded by :attr:`fields`
    on each access and never kept: a no-op sync of a large vault looks at most entries once
    or twice (schema, listing), so leaving the values on disk keeps its memory small (issue
    14). (A ``str``, that text itself, is read the same way.)

    ``listed``: what the vault adapter's listing made of this entry (its
    :class:`~syncbridge.adapter.RecordRef`: class and modified time), kept here so that the
    index and the listing share one object per note instead of a second table; None until
    listed, and again whenever the entry's bytes or mtime change (a new entry) or it
    moves."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    has_frontmatter: bool = False
    values: dict[str, Any] | StoredValues | str = field(default_factory=dict)
    error: str | None = None
    error_line: int | None = None
    ctime_ns: int = 0
    inode: int = 0
    emptied_in: str | None = None
    listed: RecordRef | None = field(default=None, repr=False, compare=False)

    @property
    def fields(self) -> dict[str, Any]:
        """The frontmatter values (``{}`` without frontmatter): a new dict read from the
        cache file and decoded on every access for an entry loaded from the cache (counted
        in :data:`VALUES_DECODED`), so a caller that mutates it changes no other copy.
        Raises RetryableError if the cache file was changed in place meanwhile."""
        values = self.values
        if type(values) is StoredValues:
            return _decode_values(values.text())
        if type(values) is str:
            return _decode_values(values)
        assert isinstance(values, dict)
        return values

    def lazy_fields(self) -> Mapping[str, Any]:
        """:attr:`fields` as a read-only mapping that decodes the cache text only when a
        value it may hold is asked for: ``get(key)`` of a key the text does not name is
        answered without decoding (the schema build and the listing ask most notes for a
        few keys only: fileClass, tags, last_modified). The same values as :attr:`fields`."""
        values = self.values
        if type(values) is StoredValues:
            return _LazyValues(values.text())
        if type(values) is str:
            return _LazyValues(values)
        assert isinstance(values, dict)
        return values

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

    def __init__(
        self,
        root: os.PathLike[str] | str,
        *,
        ignore: Sequence[str] = (),
        cache_path: os.PathLike[str] | str | None = None,
        default_class: str = "note",
        template_folders: Sequence[str] = (),
        settle_ms: int | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self._root_str = str(self.root)
        if not self.root.is_dir():
            raise NoteError("is not a folder; give the path of your Obsidian vault", path=str(root))
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
        # What the cached schema was built from besides the index (see _keeps_schema).
        self._schema_settings: tuple[tuple[int, int, int, int] | None, ...] = ()
        self._schema_notes: frozenset[str] = frozenset()
        self._dry_runs = 0  # depth of dry_run()
        self._cache_behind = False  # a scan in a dry run had something to save
        if self.cache_path is not None:
            self._load_cache()

    @classmethod
    def open(
        cls,
        root: os.PathLike[str] | str,
        *,
        ignore: Sequence[str] = (),
        cache_path: os.PathLike[str] | str | None = None,
        progress: ProgressFn | None = None,
        default_class: str = "note",
        template_folders: Sequence[str] = (),
        settle_ms: int | None = None,
        dry_run: bool = False,
    ) -> Vault:
        """Open and scan the vault (reads every note not already in the cache; with
        ``dry_run`` the scan writes nothing, as within :meth:`dry_run`).

        ``default_class`` names the class of notes no fileClass, tag or folder maps;
        ``template_folders`` adds folders whose notes are never entries; a note modified
        less than ``settle_ms`` milliseconds ago is read again once it is that old (the
        scan sleeps, see the module docstring; 0: never wait; default 1000, or
        ``$SYNCBRIDGE_TEST_SETTLE_MS``, which the test suite sets to 0 to run fast)."""
        vault = cls(
            root,
            ignore=ignore,
            cache_path=cache_path,
            default_class=default_class,
            template_folders=template_folders,
            settle_ms=settle_ms,
        )
        with vault.dry_run() if dry_run else contextlib.nullcontext():
            vault.rescan(progress=progress)
        return vault

    @contextlib.contextmanager
    def dry_run(self) -> Iterator[None]:
        """Within: a dry run; scans write nothing (the index cache is read but not saved,
        a temp file a killed write of ours left is not removed). The first scan after it
        that may write saves the cache if one within had something to save. Nestable."""
        self._dry_runs += 1
        try:
            yield
        finally:
            self._dry_runs -= 1

    @property
    def in_dry_run(self) -> bool:
        """Whether a :meth:`dry_run` block is open: scans write nothing."""
        return self._dry_runs > 0

    # --- scanning ------------------------------------------------------------------------

    def _ignored(self, rel: str) -> bool:
        return any(
            fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel + "/", pat)
            for pat in self.ignore
        )

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
                        if name.startswith(".sb-") and is_stale_temp(name) and not self._dry_runs:
                            # A write of ours killed before its rename: a partial copy,
                            # never the note (a dry run leaves it to the next run).
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
                        key = rel + ("" if is_note else "/")
                        self._problems[key] = ScanProblem(
                            "symlink",
                            "a symbolic link: syncbridge does not follow links "
                            "(it never writes through them), so this is not synced; add it "
                            "to vault.ignore to silence this",
                        )
                        # notes synced from here before (a folder moved elsewhere and
                        # linked back) are kept, never taken for deleted
                        self._blocked.append(key)
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

    def rescan(
        self, progress: ProgressFn | None = None, *, paths: Collection[str] | None = None
    ) -> ScanReport:
        """Bring the index up to date with the files on disk; saves the cache if any.

        ``paths``: the only vault-relative paths that can have changed since the last scan
        (what a watcher's file events named): only they are looked at, one ``lstat`` each
        (plus their folders), and read under the same rules as in a full scan (the settle
        wait, notes held as emptied). A path that is not a plain note in a plain folder
        (a symbolic link, a folder, a name that is not UTF-8, a folder we may not read), or
        a vault with unreadable folders, makes it a full scan: the cases only the walk
        decides. Whatever a scoped scan was not told about stays as the index knew it, so
        the caller must pass every path with an event, and still rescan in full now and
        then (events can be lost). A scoped scan does not move the racy-timestamp mark
        (only a full scan, which looks at every file, may), so a later full scan re-checks
        as much as it would have without it."""
        started = time.perf_counter()
        scan_ns = time.time_ns()
        trusted_before = self._scanned_ns - _RACY_NS
        seen: set[str] = set()
        added = changed = unchanged = read = 0
        scope = None if paths is None else self._list_paths(paths)
        schema_inputs = False  # a change that can change the schema (see _keeps_schema)
        total = 0
        to_read: list[tuple[str, os.stat_result]] = []
        for rel, st in scope[0] if scope is not None else self._walk():
            # Compared as the walk goes: only the stats of notes to read are kept (30,000
            # stat results held at once made the scan a no-op sync's peak, issue 14).
            total += 1
            seen.add(rel)
            old = self._index.get(rel)
            # The skip key: (size, mtime, ctime, inode), the mtime not racy (see the module
            # docstring; as in git, the ctime is not: a same-size edit whose mtime was put
            # back changes the ctime, which a stored ctime can only match if the file had
            # already changed within the same clock tick). Field by field: the hot loop.
            if (
                old is not None
                and old.mtime_ns == st.st_mtime_ns
                and old.size == st.st_size
                and old.ctime_ns == st.st_ctime_ns
                and old.inode == st.st_ino
                and st.st_mtime_ns < trusted_before
            ):
                unchanged += 1
            else:
                to_read.append((rel, st))
        if self._blocked and scope is None:
            # Notes under a folder (or at a path) that could not be read are still there, as
            # far as anyone can tell: keep them, unreadable, so a sync skips them instead of
            # taking them for deleted. mtime -1: read again as soon as they can be.
            for rel, entry in self._index.items():
                problem = _blocked_by(rel, self._blocked)
                if problem is not None:
                    seen.add(rel)
                    entry.mtime_ns = -1
                    entry.error, entry.error_line = self._problems[problem].message, None
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
                if old.mtime_ns != fresh.mtime_ns:
                    old.listed = None  # its modified time may come from the mtime
                old.size, old.mtime_ns = fresh.size, fresh.mtime_ns
                old.ctime_ns, old.inode = fresh.ctime_ns, fresh.inode
                unchanged += 1
            else:
                self._index[fresh.path] = fresh
                if old is None:
                    added += 1
                else:
                    changed += 1
                    schema_inputs = schema_inputs or not self._keeps_schema(old, fresh)
            if progress is not None and (i % 500 == 499 or i == len(to_read) - 1):
                progress(unchanged + added + changed, total)
        seen.update(rel for rel, _ in to_read)
        if scope is None:
            removed = [rel for rel in self._index if rel not in seen]
            self._scanned_ns = scan_ns
        else:
            removed = [rel for rel in scope[1] if rel in self._index and rel not in seen]
        for rel in removed:
            del self._index[rel]
            self._forget_scanned(rel)
        if added or removed or schema_inputs or self._settings_moved():
            self.__dict__.pop("schema", None)
        if self.cache_path is not None and (
            added or changed or removed or read or self._cache_behind
        ):
            if self._dry_runs:
                self._cache_behind = True  # saved by the next scan that may write
            else:
                self._cache_behind = False
                self._save_cache()
        return ScanReport(
            added, changed, len(removed), unchanged, read, time.perf_counter() - started
        )

    def _list_paths(
        self, paths: Collection[str]
    ) -> tuple[list[tuple[str, os.stat_result]], list[str]] | None:
        """What :meth:`_walk` would list of ``paths`` alone: (the notes present, with their
        ``lstat``; the paths looked at), or None when only a full walk can tell (see
        :meth:`rescan`). System calls: an ``lstat`` of each path and of its folders."""
        if self._blocked:
            return None
        present: list[tuple[str, os.stat_result]] = []
        looked: list[str] = []
        folders: dict[str, bool] = {"": True}  # folder → a plain folder the walk enters
        for rel in sorted(set(paths)):
            parts = rel.split("/")
            if not rel or not _utf8(rel) or any(p in ("", ".", "..") for p in parts):
                return None
            if not parts[-1].endswith(".md"):
                continue  # never a note; a folder's events are the caller's structural ones
            walked = True
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    entered = not parts[depth - 1].startswith(".") and not (
                        self.ignore and self._ignored(folder)
                    )
                    if entered:
                        try:
                            mode = os.lstat(f"{self._root_str}/{folder}").st_mode
                        except FileNotFoundError:
                            entered = False
                        except OSError:
                            return None  # unreadable: the walk records the problem
                        else:
                            if stat.S_ISLNK(mode):
                                return None  # the walk reports a linked folder
                            entered = stat.S_ISDIR(mode)
                    folders[folder] = entered
                if not folders[folder]:
                    walked = False
                    break
            if not walked or (self.ignore and self._ignored(rel)):
                continue  # not a note the walk would list (nor one the index holds)
            looked.append(rel)
            try:
                st = os.lstat(f"{self._root_str}/{rel}")
            except FileNotFoundError:
                self._problems.pop(rel, None)
                continue
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
                return None  # a linked note (a problem) or a folder called *.md: the walk's
            self._problems.pop(rel, None)
            if stat.S_ISREG(st.st_mode):
                present.append((rel, st))
        return present, looked

    def _keeps_schema(self, old: IndexEntry, new: IndexEntry) -> bool:
        """Whether the schema built with ``old`` in the index holds with ``new`` in its place:
        the same values (in the same order: inference reads them in order), and not a note
        the schema reads itself (a fileClass definition, a values-list note)."""
        if old.error != new.error or old.has_frontmatter != new.has_frontmatter:
            return False
        if not _same_values(old.fields, new.fields):
            return False
        schema = self.__dict__.get("schema")
        if schema is None:
            return True
        folder = (schema.fileclass_folder or "").strip("/")
        if folder and new.path.startswith(folder + "/"):
            return False
        return new.path not in self._schema_notes

    def _settings_moved(self) -> bool:
        """Whether a settings file the schema was built from changed since (stat keys)."""
        return "schema" in self.__dict__ and self._settings_stat() != self._schema_settings

    def _settings_stat(self) -> tuple[tuple[int, int, int, int] | None, ...]:
        out: list[tuple[int, int, int, int] | None] = []
        for rel in _SCHEMA_SETTINGS:
            try:
                out.append(stat_key(os.stat(f"{self._root_str}/{rel}")))
            except OSError:
                out.append(None)
        return tuple(out)

    def scan_problems(self) -> dict[str, ScanProblem]:
        """What the last scan could not index, by vault-relative path (folders end in
        ``/``): unreadable folders and notes, names that are not UTF-8, symbolic links."""
        return dict(self._problems)

    def held(self) -> dict[str, str]:
        """Notes held in this run, by vault-relative path → why: found emptied (0 bytes
        where the index knew content) by this run's scans. A sync skips them (never
        deletes or clears anything for them); a later run (another process, or after
        :meth:`begin_run`) takes the emptiness as the user's edit."""
        return {
            e.path: _HELD_EMPTIED
            for e in self._index.values()
            if e.emptied_in == self.run_id and e.ok
        }

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

    def _read_entries(
        self, to_read: list[tuple[str, os.stat_result]]
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
            if steady and (
                not settle_delay_ns(snap.mtime_ns, started, self.settle_ns)
                or (known is not None and known.sha256 == snap.sha256)
            ):
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

    def _settle(
        self, root: str, young: dict[str, tuple[FileSnapshot, bool]]
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
            wake = max(
                now + (settle_delay_ns(snap.mtime_ns, now, self.settle_ns) if steady else retry_ns)
                for snap, steady in young.values()
            )
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
                if (
                    steady
                    and st is not None
                    and stat_key(st) == snap.stat_key
                    and not settle_delay_ns(snap.mtime_ns, now, self.settle_ns)
                ):
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

        self._schema_settings = self._settings_stat()  # before reading them: a change
        # made meanwhile is seen next time
        schema = build_vault_schema(
            self.root,
            _IndexValues(self._index),
            default_class=self.default_class,
            extra_template_folders=self.template_folders,
        )
        self._schema_notes = _values_list_notes(schema)
        return schema

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
        old, self._index[rel] = self._index.get(rel), _index_entry(rel, snap)
        if old is None or not self._keeps_schema(old, self._index[rel]):
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
            entry.path, entry.listed = new_rel, None
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
        """Read the index cache: a header line, then one line per note (its entry as JSON,
        a tab, its values as JSON), read one line at a time (the whole file is never held
        in memory at once). The values are left in the file (see :class:`IndexEntry`),
        their CRC-32 checked now and on every later read: a torn or damaged cache is
        ignored (a cold scan)."""
        assert self.cache_path is not None
        loads = json.JSONDecoder().decode
        index: dict[str, IndexEntry] = {}
        try:
            stored = CacheFile(self.cache_path)  # the values are read from this one
            with os.fdopen(stored.fd, "rb", closefd=False) as handle:
                first = handle.readline()
                head = loads(first.decode())
                if head.get("version") != _CACHE_VERSION or head.get("root") != str(self.root):
                    return
                offset = len(first)
                for line in handle:
                    tab = line.find(b"\t")
                    if tab < 0 or not line.endswith(b"\n"):
                        return  # torn: a line is only ever written whole
                    values = line[tab + 1 : -1]
                    fields = loads(line[:tab].decode())
                    crc = zlib.crc32(values)
                    if crc != fields.pop("crc"):
                        return
                    entry = IndexEntry(
                        **fields, values=stored.stored(offset + tab + 1, len(values), crc)
                    )
                    # shared with the state's links (StateStore.links interns them too)
                    entry.path, entry.sha256 = sys.intern(entry.path), sys.intern(entry.sha256)
                    index[entry.path] = entry
                    offset += len(line)
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            return  # no cache or an unreadable one: a cold scan rebuilds it
        self._scanned_ns = int(head["scanned_ns"])
        self._index = index

    def _cache_lines(self, placed: list[tuple[IndexEntry, int, int, int]]) -> Iterator[bytes]:
        """The cache file's lines (see :meth:`_load_cache`), made one at a time; values
        loaded from the cache are written back as the text they were read as, and their
        entries added to ``placed`` with the values' new (offset, length, CRC-32)."""
        dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
        head = {"version": _CACHE_VERSION, "root": str(self.root), "scanned_ns": self._scanned_ns}
        line = dumps(head).encode() + b"\n"
        offset = len(line)
        yield line
        for e in self._index.values():
            values = e.values
            if type(values) is StoredValues:
                text = values.text()
            else:
                text = values if type(values) is str else dumps(_encode(values))
            data = text.encode()  # ASCII: JSON escapes the rest
            crc = zlib.crc32(data)
            entry = {
                "path": e.path,
                "size": e.size,
                "mtime_ns": e.mtime_ns,
                "sha256": e.sha256,
                "has_frontmatter": e.has_frontmatter,
                "error": e.error,
                "error_line": e.error_line,
                "ctime_ns": e.ctime_ns,
                "inode": e.inode,
                "crc": crc,
            }
            if e.emptied_in is not None:  # rare: left out otherwise (the default)
                entry["emptied_in"] = e.emptied_in
            meta = dumps(entry).encode() + b"\t"
            if type(values) is not dict:
                placed.append((e, offset + len(meta), len(data), crc))
            line = meta + data + b"\n"
            offset += len(line)
            yield line

    def _save_cache(self) -> None:
        """Write the index cache (atomically); entries whose values were left in the old
        cache file then point into the new one (the old one is closed once nothing points
        into it)."""
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
        placed: list[tuple[IndexEntry, int, int, int]] = []
        try:
            with os.fdopen(fd, "wb", buffering=1 << 16) as handle:
                # opened before the rename: it reads these very bytes, whoever replaces
                # the cache afterwards
                written = CacheFile(temp)
                handle.writelines(self._cache_lines(placed))
            os.chmod(temp, 0o600)
            os.replace(temp, self.cache_path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if not isinstance(exc, OSError):  # a full disk: no cache this time
                raise
            return
        for entry, offset, length, crc in placed:
            entry.values = written.stored(offset, length, crc)


class _IndexValues(Mapping[str, Mapping[str, Any]]):
    """Path → frontmatter values of an index, each decoded when looked up (see
    :attr:`IndexEntry.fields`), so a caller walking the vault holds one note's at a time."""

    def __init__(self, index: Mapping[str, IndexEntry]) -> None:
        self._index = index

    def __getitem__(self, path: str) -> Mapping[str, Any]:
        return self._index[path].lazy_fields()

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


class _LazyValues(Mapping[str, Any]):
    """An entry's values from their cache text (see :meth:`IndexEntry.lazy_fields`),
    decoded on the first access that needs them, then kept by this object only."""

    __slots__ = ("_text", "_values")

    def __init__(self, text: str) -> None:
        self._text = text
        self._values: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._values is None:
            self._values = _decode_values(self._text)
        return self._values

    def get(self, key: str, default: Any = None) -> Any:
        if self._values is None and not _may_name(self._text, key):
            return default
        return self._decoded().get(key, default)

    def __contains__(self, key: object) -> bool:
        if self._values is None and isinstance(key, str) and not _may_name(self._text, key):
            return False
        return key in self._decoded()

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


def _may_name(text: str, key: str) -> bool:
    """Whether values text ``text`` (see :func:`_encode`) may hold top-level ``key``: its
    JSON form followed by a colon occurs, or the mapping is stored as pairs (``$map``)."""
    return text.startswith('{"$map"') or _json_key(key) in text


@lru_cache(maxsize=256)
def _json_key(key: str) -> str:
    """``key`` as :func:`_encode` writes it in a mapping: its JSON string and a colon."""
    return json.dumps(key) + ":"


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
        return (
            f"cannot read this folder ({reason}); its notes are left alone, neither "
            "synced nor deleted, until its permissions are fixed"
        )
    return (
        f"cannot read this note ({reason}); it is left alone, neither synced nor "
        "deleted, until its permissions are fixed"
    )


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
_UNSETTLED = (
    "kept changing while syncbridge read it (an editor or a sync client still "
    "saving it?); it is left alone, neither synced nor deleted, and read again on "
    "the next sync"
)
_HELD_EMPTIED = (
    "emptied since syncbridge last read it (0 bytes now); left alone in this "
    "run in case a save was caught halfway: if you emptied it on purpose, the "
    "next sync applies it"
)


def _read_file(
    root: str, rel: str, st: os.stat_result | None = None
) -> tuple[FileSnapshot, bool] | IndexEntry | None:
    """One read of note ``rel`` (:func:`~syncbridge.vault.fsio.read_once`, ``st`` its ``before``);
    an unreadable entry for a file that may not be read; None if it was deleted since the
    walk (the next scan drops it)."""
    try:
        return read_once(f"{root}/{rel}", before=st)  # not pathlib nor join: a hot loop
    except FileNotFoundError:
        return None
    except OSError as exc:
        # kept in the index as unreadable (never taken for deleted); mtime -1: read
        # again on every scan, so it is back as soon as its permissions are fixed
        return IndexEntry(rel, -1, -1, "", error=_cannot_read("note", exc))


def _index_entry(rel: str, snap: FileSnapshot) -> IndexEntry:
    """The index entry of note ``rel`` read as ``snap`` (its values parsed)."""
    data = snap.data
    entry = IndexEntry(
        rel, snap.size, snap.mtime_ns, snap.sha256, ctime_ns=snap.ctime_ns, inode=snap.inode
    )
    try:
        fm = frontmatter_of(decode(data, path=rel))
        entry.has_frontmatter = fm is not None
        if fm is not None:
            values = load_values(fm, path=rel)
            if values is None:
                values = {}
            if not isinstance(values, dict):
                raise NoteError("frontmatter is not a mapping of fields", path=rel, line=2)
            entry.values = values
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


VALUES_DECODED = 0
"""How many times :attr:`IndexEntry.fields` decoded an entry's cached values (one counter
for the process; tests read it to check which entries a sync looks into)."""

# One key string for all notes (as json.loads of one document shares them): a vault's
# notes mostly have the same field names. Bounded by the vault's distinct keys.
_KEYS: dict[str, str] = {}


def _shared_keys(items: list[tuple[str, Any]]) -> Any:
    keys = _KEYS
    return _decode({keys.setdefault(k, k): v for k, v in items})


_VALUES_DECODER = json.JSONDecoder(object_pairs_hook=_shared_keys)


def _decode_values(text: str) -> dict[str, Any]:
    """The values of an index entry from their cache text (see :func:`_encode`)."""
    global VALUES_DECODED
    VALUES_DECODED += 1
    values: dict[str, Any] = _VALUES_DECODER.decode(text)
    return values


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


_SCHEMA_SETTINGS = (
    ".obsidian/plugins/metadata-menu/data.json",
    ".obsidian/types.json",
    ".obsidian/templates.json",
    ".obsidian/plugins/templater-obsidian/data.json",
)
"""Settings files the schema reads (Metadata Menu, Obsidian's property types, the template
folders): a change to one rebuilds it at the next scan."""


def _values_list_notes(schema: VaultSchema) -> frozenset[str]:
    """The notes whose bodies give a field's options (Metadata Menu ``ValuesListNotePath``)."""
    out: set[str] = set()
    stack = [spec for cls in schema.classes.values() for spec in cls.fields.values()]
    while stack:
        spec = stack.pop()
        stack.extend(spec.children)
        rel = spec.options.get("valuesListNotePath")
        if isinstance(rel, str) and rel:
            out.add(rel if rel.endswith(".md") else f"{rel}.md")
    return frozenset(out)


def _same_values(a: Any, b: Any) -> bool:
    """``a == b``, types and the order of mapping keys included (the schema's inference
    sees both)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_values(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
