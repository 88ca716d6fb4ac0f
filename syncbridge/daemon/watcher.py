"""Watching the vault folder with watchdog: its native backend, or polling.

The native observer (inotify, FSEvents, ReadDirectoryChangesW) is tried first; when it
cannot run (inotify watch limit reached, a network drive, a container without it) the
watcher falls back to watchdog's polling observer and logs one warning saying so.
``polling=True`` (``syncbridge watch --polling``) asks for the polling observer at once.

Every event is reduced to vault-relative paths, filtered (:class:`VaultEventFilter`) and
handed to a :class:`ChangeBuffer`; nothing else happens in watchdog's thread.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from syncbridge.daemon.events import ChangeBuffer, VaultEventFilter

__all__ = ["VaultWatcher"]

log = logging.getLogger("syncbridge.daemon")

POLLING_INTERVAL_S = 2.0
"""How often the polling observer walks the vault."""


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, events: VaultEventFilter, buffer: ChangeBuffer) -> None:
        self.root = str(root)
        self.events = events
        self.buffer = buffer

    def _rel(self, path: str | bytes) -> str | None:
        text = os.fsdecode(path)
        if text == self.root:
            return "."
        if not text.startswith(self.root + os.sep):
            return None  # outside the vault (e.g. the folder itself was moved away)
        return text[len(self.root) + 1 :].replace(os.sep, "/")

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads: nothing changed
        paths = [event.src_path]
        if getattr(event, "dest_path", ""):
            paths.append(event.dest_path)
        changed: list[str] = []
        structural = False
        for path in paths:
            rel = self._rel(path)
            if rel is None or rel == ".":
                structural = structural or rel == "."
                continue
            if not self.events.relevant(rel, is_directory=event.is_directory):
                continue
            if event.is_directory:
                if event.event_type in ("moved", "deleted", "created"):
                    structural = True  # its notes moved with it: no event names them
            else:
                changed.append(rel)
        if changed or structural:
            self.buffer.add(changed, structural=structural)


class VaultWatcher:
    """Reports changes under ``root`` into ``buffer`` while started.

    ``polling``: use the polling observer from the start. :attr:`mode` says which
    observer runs (``"native"`` or ``"polling"``).
    """

    def __init__(
        self, root: Path, events: VaultEventFilter, buffer: ChangeBuffer, *, polling: bool
    ) -> None:
        self.root = root
        self.handler = _Handler(root, events, buffer)
        self.polling = polling
        self.mode = "stopped"
        self._observer: Any = None

    def start(self) -> None:
        """Start observing (native first, unless ``polling``; polling when native fails,
        with one warning). Raises ``OSError`` when the folder cannot be watched at all."""
        if not self.polling:
            try:
                self._run(Observer())
                self.mode = "native"
                return
            except OSError as exc:
                log.warning(
                    "vault %s: file events unavailable (%s); watching by polling every %.0f s "
                    "instead (start with --polling to choose it and skip this warning)",
                    self.root,
                    exc,
                    POLLING_INTERVAL_S,
                )
        self._run(PollingObserver(timeout=POLLING_INTERVAL_S))
        self.mode = "polling"

    def _run(self, observer: Any) -> None:
        observer.schedule(self.handler, str(self.root), recursive=True)
        try:
            observer.start()
        except BaseException:
            observer.unschedule_all()
            raise
        self._observer = observer

    def alive(self) -> bool:
        """True while the observer thread runs (it ends if the folder vanished)."""
        return self._observer is not None and bool(self._observer.is_alive())

    def stop(self) -> None:
        """Stop observing and wait for the observer thread. Idempotent."""
        observer, self._observer = self._observer, None
        self.mode = "stopped"
        if observer is not None:
            observer.stop()
            observer.join(timeout=10)
