"""Which file events in the vault matter, and how a burst of them becomes one sync.

Pure and thread-safe: :class:`VaultEventFilter` decides from a path alone (no I/O);
:class:`ChangeBuffer` collects the paths the watcher reports and says when they are due:
``debounce_s`` after the last of them, but never later than ``max_delay_s`` after the first
(a vault that never stays quiet still syncs). A save burst, an editor's write-to-temp-then-
rename and a ``git checkout`` of 1,000 files each arrive as many events and leave as one
batch. Whether a due path really changed is decided later, by its content
(:meth:`syncbridge.daemon.loop.Daemon` compares it with the vault's index), never by timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from syncbridge.engine.options import path_matches
from syncbridge.vault.adapter import CONFLICT_COPY
from syncbridge.vault.fsio import settle_delay_ns
from syncbridge.vault.vault import ALWAYS_SKIPPED

__all__ = ["ChangeBuffer", "DueChanges", "VaultEventFilter", "settle_wait_s"]

# Editors' and tools' temporary names: vim swap/backup, emacs lock/autosave, JetBrains,
# Office lock files, rsync/syncthing partials, our own atomic-write temp files.
_TEMP_SUFFIXES = (".swp", ".swo", ".swx", ".tmp", ".temp", ".part", ".crdownload", "~", ".bak")
_TEMP_PREFIXES = (".#", "~$", ".~", ".sb-", ".syncthing.")


@dataclass(frozen=True)
class VaultEventFilter:
    """Whether an event at a vault-relative POSIX path can change what a sync sees.

    Ignored: anything under ``.obsidian/``, ``.trash/``, ``.git/`` (and every other
    dot-folder, which the vault scan skips too), temporary files of editors and of our own
    atomic writes, conflict copies (``Note (conflict 2026-11-28 1432).md``), files that
    are not notes, and the configured ``ignore`` globs. Folders always matter (a moved
    folder moves its notes).
    """

    ignore: tuple[str, ...] = ()

    def relevant(self, rel: str, *, is_directory: bool = False) -> bool:
        """True when an event at ``rel`` may change the vault's notes."""
        if not rel or rel == ".":
            return False
        parts = rel.split("/")
        if any(p in ALWAYS_SKIPPED or p.startswith(".") for p in parts[:-1]):
            return False
        name = parts[-1]
        if is_directory:
            return not name.startswith(".") and not self._ignored(rel)
        if name.startswith(_TEMP_PREFIXES) or name.endswith(_TEMP_SUFFIXES):
            return False
        if not name.endswith(".md") or CONFLICT_COPY.search(name):
            return False
        return not self._ignored(rel)

    def _ignored(self, rel: str) -> bool:
        return any(path_matches(rel, p) or path_matches(rel + "/", p) for p in self.ignore)


@dataclass(frozen=True)
class DueChanges:
    """A batch of vault changes ready to sync. ``paths``: notes seen changing (to check by
    content); ``structural``: a folder moved or vanished, or events were lost, so the
    vault must be rescanned whatever the notes' contents say."""

    paths: frozenset[str]
    structural: bool
    events: int


@dataclass
class ChangeBuffer:
    """Vault changes waiting for their debounce (times in seconds, ``time.monotonic``).

    :meth:`add` is called from the watcher's thread, :meth:`take_due` from the daemon's;
    ``on_change`` (the daemon's wake-up) is called after each :meth:`add`.
    """

    debounce_s: float
    max_delay_s: float
    clock: Callable[[], float] = time.monotonic
    on_change: Callable[[], None] | None = None
    _paths: set[str] = field(default_factory=set)
    _structural: bool = False
    _events: int = 0
    _first: float | None = None
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, paths: Iterable[str] = (), *, structural: bool = False) -> None:
        """Record changes at ``paths`` (vault-relative); ``structural``: rescan whatever
        the contents say. Side effect: calls ``on_change``."""
        now = self.clock()
        with self._lock:
            before = len(self._paths)
            self._paths.update(paths)
            self._events += max(1, len(self._paths) - before)
            self._structural = self._structural or structural
            if self._first is None:
                self._first = now
            self._last = now
        if self.on_change is not None:
            self.on_change()

    def pending(self) -> int:
        """Paths (or one, for a structural change) waiting now."""
        with self._lock:
            return len(self._paths) + (1 if self._structural and not self._paths else 0)

    def deadline(self) -> float | None:
        """When the waiting changes are due (``None``: nothing waits)."""
        with self._lock:
            if self._first is None or self._last is None:
                return None
            return min(self._last + self.debounce_s, self._first + self.max_delay_s)

    def take_due(self) -> DueChanges | None:
        """The waiting changes if they are due now (and forget them), else ``None``."""
        due = self.deadline()
        if due is None or self.clock() < due:
            return None
        return self.take()

    def take(self) -> DueChanges | None:
        """Every waiting change, due or not (and forget them); ``None`` when none."""
        with self._lock:
            if self._first is None:
                return None
            out = DueChanges(frozenset(self._paths), self._structural, self._events)
            self._paths, self._structural, self._events = set(), False, 0
            self._first = self._last = None
            return out

    def put_back(self, changes: DueChanges | None, paths: Sequence[str] = ()) -> None:
        """Keep ``changes`` (and ``paths``) for the next batch, e.g. when the sync that took
        them could not run; due at once."""
        if changes is None and not paths:
            return
        with self._lock:
            now = self.clock()
            if changes is not None:
                self._paths.update(changes.paths)
                self._structural = self._structural or changes.structural
                self._events += changes.events
            self._paths.update(paths)
            self._first = self._first if self._first is not None else now - self.max_delay_s
            self._last = self._last if self._last is not None else now - self.debounce_s


def settle_wait_s(mtimes_ns: Iterable[int], now_ns: int, settle_ns: int) -> float:
    """Seconds until every file last modified at ``mtimes_ns`` has settled: the vault's
    "a note caught mid-save is read once it has been left alone" rule
    (:func:`syncbridge.vault.fsio.settle_delay_ns`), applied to a batch of events so the sync
    they start reads settled notes. 0: every one has settled."""
    return max((settle_delay_ns(m, now_ns, settle_ns) for m in mtimes_ns), default=0) / 1e9
