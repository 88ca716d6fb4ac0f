"""``syncbridge watch``: keep the vault and every target in step, in the background.

One thread syncs (the caller's); the vault watcher, the control API and the signals
(:mod:`syncbridge.daemon.signals`: never acted on inside the handler) have threads of their
own that only *tell* it things (a buffer of changed paths, a request queue, a flag) and
wake it. What it does, each time it wakes:

1. SIGINT/SIGTERM: leave the loop. A sync in flight stops after the chunk it is writing has
   been committed (the engine commits state per chunk), so the state is consistent and the
   next start does not redo finished work; then exit 0. A target waiting to send a request
   (Notion's ``Retry-After``, a retry's backoff: up to minutes) or for a database another
   program holds locked (SQLite's ``busy_timeout_ms``) stops waiting at once and does not
   send it (:meth:`~syncbridge.adapter.Adapter.stop_waiting_on`), so the stop
   takes well under a service manager's stop timeout.
2. SIGHUP: reload the configuration; a bad one is reported and the old one kept.
3. The vault folder gone (an unmounted drive, a moved folder): every target pauses, the
   watcher stops, nothing is synced (so nothing is deleted) until it is back.
4. Vault changes whose debounce expired, checked *by content* against the vault's index
   (so the daemon's own writes, a touch, a save that restored the old bytes, wake nobody):
   every target syncs. A target in backoff keeps them until its next try.
5. Each target whose poll interval passed: its :meth:`~syncbridge.adapter.Adapter.change_token`
   is compared with the one taken before its last sync; a new value (or an adapter that
   cannot tell) syncs it.
6. A failed sync: transient errors (``RetryableError``: the remote away, rate limited,
   locked) back off exponentially with jitter; a safety stop (a side that looks emptied, a
   mass delete) pauses the target with its message; either way it is retried, and one log
   line is written per change of state, not per try.

Each sync is :meth:`syncbridge.bridge.Bridge.sync`, the same call as ``syncbridge sync``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from syncbridge.bridge import Bridge
from syncbridge.config import Config, load_config
from syncbridge.daemon.backoff import Backoff, what_to_do
from syncbridge.daemon.events import ChangeBuffer, DueChanges, VaultEventFilter, settle_wait_s
from syncbridge.daemon.files import DaemonLock, daemon_files, write_json_atomic
from syncbridge.daemon.signals import SignalRelay
from syncbridge.daemon.watcher import VaultWatcher
from syncbridge.engine import SyncReport
from syncbridge.errors import ConfigError, Interrupted, RetryableError, SyncbridgeError
from syncbridge.portable import reload_signal
from syncbridge.vault.fsio import SETTLE_WAIT_MAX_NS

__all__ = ["Daemon", "EventBus", "TargetRuntime"]

log = logging.getLogger("syncbridge.daemon")

VAULT_CHECK_S = 2.0
"""How often the daemon checks that the vault folder is still there."""

Condition = Literal["ok", "backoff", "paused"]


class _Stopping(Exception):
    """Raised from the progress callback to stop a sync between two committed chunks."""


class EventBus:
    """Fan-out of daemon events (``sync_started``, ``sync_finished``, ``conflict``,
    ``error``, ``state``) to subscribers (the control API's event streams). Thread-safe;
    a subscriber that does not keep up loses its oldest events, never blocks the daemon."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.Queue[dict[str, Any] | None]] = []

    def subscribe(self) -> queue.Queue[dict[str, Any] | None]:
        """A new queue receiving every event published from now on (``None``: the end)."""
        q: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=1000)
        with self._lock:
            self._queues.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[dict[str, Any] | None]) -> None:
        with self._lock:
            if q in self._queues:
                self._queues.remove(q)

    def publish(self, kind: str, **data: Any) -> None:
        """Send one event: ``{"event": kind, "time": ISO 8601 UTC, **data}``."""
        event = {"event": kind, "time": _utcnow(), **data}
        with self._lock:
            queues = list(self._queues)
        for q in queues:
            with contextlib.suppress(queue.Full):
                while q.full():
                    q.get_nowait()
            with contextlib.suppress(queue.Full):
                q.put_nowait(event)

    def close(self) -> None:
        """Tell every subscriber the stream ends."""
        with self._lock:
            queues, self._queues = self._queues, []
        for q in queues:
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)


@dataclass
class TargetRuntime:
    """What the daemon knows of one target between syncs (times: ``time.monotonic``)."""

    name: str
    adapter: str
    interval_s: float
    next_poll: float = 0.0
    token: str | None = None
    token_known: bool = False
    pending_local: bool = True  # the first sync after start covers everything
    requested: bool = False
    condition: Condition = "ok"
    reason: str | None = None
    failure_kind: str | None = None  # the class of the error it backs off for
    retry_at: float | None = None
    backoff: Backoff = field(default_factory=Backoff)
    last_sync: dict[str, Any] | None = None
    open_conflicts: int = 0

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "state": self.condition,
            "reason": self.reason,
            "failures": self.backoff.failures,
            "retry_in_s": round(max(0.0, self.retry_at - now), 1)
            if self.retry_at is not None
            else None,
            "pending_local_changes": self.pending_local,
            "poll_interval_s": self.interval_s,
            "last_sync": self.last_sync,
            "open_conflicts": self.open_conflicts,
        }


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class Daemon:
    """The watch loop for the configuration at ``config_path``.

    ``polling``: watch the vault by polling (``--polling``; also ``[daemon] polling``).
    ``control``: serve the control API when ``[daemon.control] enabled``
    (:mod:`syncbridge.daemon.control`). Construct, then :meth:`run` in the main thread
    (it installs the signal handlers) or :meth:`run` with ``signals=False`` in tests.
    """

    def __init__(self, config_path: Path, *, polling: bool = False) -> None:
        self.config_path = config_path.absolute()
        self.config: Config = load_config(self.config_path)
        self.force_polling = polling
        self.events = EventBus()
        self._wake = threading.Event()
        self._stop_signal: str | None = None
        self._stopping = threading.Event()  # set with _stop_signal: ends the targets' waits
        self._reload_requested = False
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._bridge = Bridge(self.config, stop=self._stopping)
        self._buffer = self._new_buffer()
        self._watcher: VaultWatcher | None = None
        self._targets: dict[str, TargetRuntime] = {}
        self._vault_present = True
        self._vault_inode: int | None = None
        self._next_vault_check = 0.0
        self._settle_until = 0.0  # due vault changes wait for their notes to settle
        self._settling_since: float | None = None
        # The incremental pass: the notes with file events since the vault was last
        # scanned (a sync rescans only those), unless a full scan is due (at the start, after
        # a folder moved or the watcher restarted, for a requested sync, and every
        # full_scan_interval_s, which catches what lost events missed).
        self._unscanned: set[str] = set()
        self._full_scan = True
        self._next_full_scan = 0.0
        self.full_scans = 0
        """Full rescans of the vault so far (tests)."""
        self._lock: DaemonLock | None = None
        self._control: Any = None
        self._status_lock = threading.Lock()
        self._status: dict[str, Any] = {}
        self._started_at = _utcnow()
        self._syncing: str | None = None
        self.wakeups = 0
        """Times the loop woke up (a test checks that an idle daemon does not spin)."""
        self.vault_checks = 0
        """Times the vault folder's presence was checked."""
        self._build_targets()

    # -- set-up ---------------------------------------------------------------------------

    def _new_buffer(self) -> ChangeBuffer:
        d = self.config.daemon
        return ChangeBuffer(
            debounce_s=d.debounce_ms / 1000,
            max_delay_s=d.max_delay_ms / 1000,
            on_change=self._wake.set,
        )

    def _build_targets(self) -> None:
        old = self._targets
        self._targets = {}
        for t in self._bridge.targets():
            runtime = TargetRuntime(t.name, t.section.adapter, self.config.poll_interval_s(t))
            if t.name in old:  # a reload keeps what the daemon learnt, not the timing
                runtime.last_sync = old[t.name].last_sync
                runtime.open_conflicts = old[t.name].open_conflicts
            self._targets[t.name] = runtime

    @property
    def files(self) -> dict[str, Path]:
        return daemon_files(self.config.state_path)

    def _start_watcher(self) -> None:
        c = self.config
        watcher = VaultWatcher(
            c.vault_path.resolve(),
            VaultEventFilter(tuple(c.vault.ignore)),
            self._buffer,
            polling=self.force_polling or c.daemon.polling,
        )
        watcher.start()
        self._watcher = watcher
        log.info(
            "watching %s (%s file events)",
            c.vault_path,
            watcher.mode,
            extra={"event": "watching", "mode": watcher.mode},
        )

    def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    # -- control from other threads -------------------------------------------------------

    def request_stop(self, why: str = "stop requested") -> None:
        """Leave the loop after the chunk in flight, ending the targets' waits (thread-safe;
        not from a signal handler: it sets events, which take locks)."""
        self._stop_signal = why
        self._stopping.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Reload the configuration at the next wake-up (thread-safe; not from a signal
        handler)."""
        self._reload_requested = True
        self._wake.set()

    def request_sync(self, target: str | None = None) -> list[str]:
        """Sync ``target`` (or every target) now; returns the names queued.
        ``ConfigError`` for an unknown name."""
        targets = self._targets  # a reload swaps the whole dict
        if target is not None and target not in targets:
            known = ", ".join(targets) or "none"
            raise ConfigError(f"no target named {target!r} (known: {known})")
        names = [target] if target is not None else list(targets)
        for name in names:
            targets[name].requested = True
        self._wake.set()
        return names

    def call_in_loop(self, fn: Callable[[], Any], timeout_s: float = 120.0) -> Any:
        """Run ``fn`` in the daemon's thread, between syncs, and return its result (or
        raise its exception); ``TimeoutError`` if the daemon did not get to it in time."""
        future: Future[Any] = Future()
        self._jobs.put((fn, future))
        self._wake.set()
        return future.result(timeout=timeout_s)

    def restore_conflict(self, conflict_id: int) -> Any:
        """Restore a conflict (:meth:`Bridge.restore`) in the daemon's thread, between
        syncs; returns the ``ConflictEntry``. Raises what that raises."""
        return self.call_in_loop(lambda: self._bridge.restore(conflict_id))

    def status(self) -> dict[str, Any]:
        """The last status snapshot (what ``GET /status`` answers)."""
        with self._status_lock:
            return dict(self._status)

    # -- the loop -------------------------------------------------------------------------

    def run(self, *, signals: bool = True) -> int:
        """Run until SIGINT/SIGTERM (or :meth:`request_stop`); returns the exit code, 0.

        Raises :class:`~syncbridge.errors.DaemonRunning` at once when another daemon holds
        this state, and ``ConfigError`` for a configuration it cannot start with."""
        self._lock = DaemonLock(self.files["lock"])
        self._lock.acquire(
            {
                "pid": os.getpid(),
                "started_at": self._started_at,
                "config": str(self.config_path),
                "vault": str(self.config.vault_path),
                "state": str(self.config.state_path),
            }
        )
        relay = self._signal_relay() if signals else None
        try:
            if relay is not None:
                relay.install()
            self._start_control()
            log.info(
                "syncbridge watch started (pid %d, config %s, targets: %s)",
                os.getpid(),
                self.config_path,
                ", ".join(self._targets),
                extra={"event": "started", "pid": os.getpid()},
            )
            self._loop()
        finally:
            self._shutdown()
            if relay is not None:
                relay.uninstall()
        log.info(
            "stopped (%s); state is consistent",
            self._stop_signal or "done",
            extra={"event": "stopped"},
        )
        return 0

    def _signal_relay(self) -> SignalRelay:
        """SIGINT/SIGTERM stop, SIGHUP reloads; acted on in the relay's thread, not in the
        signal handler, which could otherwise wait forever for a lock the main thread
        held when the signal came (an event's, inside its wait: see
        :mod:`syncbridge.daemon.signals`)."""
        actions: dict[int, Callable[[], None]] = {
            signal.SIGINT: lambda: self.request_stop("SIGINT"),
            signal.SIGTERM: lambda: self.request_stop("SIGTERM"),
        }
        hup = reload_signal()
        if hup is not None:  # none on Windows: restart the task to reload
            actions[hup] = self.request_reload
        return SignalRelay(actions)

    def _start_control(self) -> None:
        control = self.config.daemon.control
        if not control.enabled:
            with contextlib.suppress(FileNotFoundError):
                self.files["control"].unlink()
            return
        from syncbridge.daemon.control import ControlServer

        self._control = ControlServer(self, port=control.port)
        self._control.start()
        log.info(
            "control API on %s (token in %s)",
            self._control.url,
            self.files["control"],
            extra={"event": "control", "url": self._control.url},
        )

    def _shutdown(self) -> None:
        self._stop_watcher()
        if self._control is not None:
            self._control.stop()
            self._control = None
        self.events.close()
        with contextlib.suppress(OSError):
            self._write_status(running=False)
        self._bridge.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        # jobs nobody will run
        while True:
            try:
                _, future = self._jobs.get_nowait()
            except queue.Empty:
                break
            future.set_exception(RuntimeError("the daemon is stopping"))

    def _loop(self) -> None:
        while self._stop_signal is None:
            self.wakeups += 1
            self._wake.clear()
            try:
                self._cycle()
            except _Stopping:
                break
            if self._stop_signal is not None:
                break
            self._write_status()
            self._wake.wait(self._sleep_for())

    def _sleep_for(self) -> float:
        now = time.monotonic()
        deadlines = [self._next_vault_check]
        if not self._full_scan:  # else the next sync scans in full: nothing to wake for
            deadlines.append(self._next_full_scan)
        if not self._vault_present:  # nothing runs until it is back
            return max(0.0, self._next_vault_check - now) + 0.01
        due = self._buffer.deadline()
        if due is not None and self._vault_present:
            deadlines.append(max(due, self._settle_until))
        for t in self._targets.values():
            if t.retry_at is not None:
                deadlines.append(t.retry_at)
            else:
                deadlines.append(t.next_poll)
        return max(0.0, min(deadlines) - now) + 0.01

    def _cycle(self) -> None:
        """One wake-up: reload, jobs, vault presence, local changes, polls, retries."""
        if self._reload_requested:
            self._reload_requested = False
            self._reload()
        self._run_jobs()
        now = time.monotonic()
        watching = self._watcher is not None and self._watcher.alive()
        if now >= self._next_vault_check or (self._vault_present and not watching):
            self._next_vault_check = now + VAULT_CHECK_S
            self._check_vault()
        if not self._vault_present:
            return
        due = self._buffer.take_due() if now >= self._settle_until else None
        if due is not None and self._must_settle(due):
            due = None
        if due is not None:
            self._unscanned.update(due.paths)
            self._full_scan = self._full_scan or due.structural
        if due is not None and self._vault_changed(due):
            for t in self._targets.values():
                t.pending_local = True
        if now >= self._next_full_scan and not self._full_scan:
            self._scan_in_full()
        ran = False
        for t in list(self._targets.values()):
            self._run_jobs()
            if self._stop_signal is not None:
                return
            now = time.monotonic()
            if t.retry_at is not None and now < t.retry_at and not t.requested:
                continue  # backing off (or paused): its changes wait for the retry
            why = self._why_sync(t, now)
            if why is not None:
                self._sync(t, why)
                ran = True
        if ran:
            self._end_run()

    def _end_run(self) -> None:
        """The syncs of one wake-up are one run (``Bridge.begin_run``): a note found emptied
        was held by each of them, in case a save was caught halfway; the next run, a
        debounce from now, takes it as the user's edit (a note still saving has settled
        by then). Without this the daemon held it until it restarted."""
        held = self._bridge.begin_run()
        if not held:
            return
        log.info(
            "%d note(s) found emptied, held for this run in case a save was caught halfway "
            "(%s); the next sync takes them as they are then",
            len(held),
            ", ".join(sorted(held)[:5]) + (" ..." if len(held) > 5 else ""),
            extra={"event": "held", "notes": sorted(held)},
        )
        soon = time.monotonic() + self.config.daemon.debounce_ms / 1000
        for t in self._targets.values():
            t.token_known = False  # the next poll syncs, whatever the target says
            t.next_poll = min(t.next_poll, soon)

    def _why_sync(self, t: TargetRuntime, now: float) -> str | None:
        if t.requested:
            self._full_scan = True  # asked for: look at every note, not only the events'
            return "requested"
        if t.retry_at is not None:
            return "retry"
        if t.pending_local:
            return "vault changed"
        if now >= t.next_poll:
            t.next_poll = now + t.interval_s
            token = self._token(t.name)
            if token is None or not t.token_known or token != t.token:
                return "poll"
        return None

    def _token(self, name: str) -> str | None:
        try:
            return self._bridge.remote(name).change_token()
        except Exception:  # the sync that follows reports it
            return None

    def _run_jobs(self) -> None:
        while True:
            try:
                fn, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

    # -- the vault ------------------------------------------------------------------------

    def _vault_inode_now(self) -> int | None:
        try:
            st = os.stat(self.config.vault_path)
        except OSError:
            return None
        import stat as stat_module

        return st.st_ino if stat_module.S_ISDIR(st.st_mode) else None

    def _check_vault(self) -> None:
        self.vault_checks += 1
        inode = self._vault_inode_now()
        if inode is None:
            if self._vault_present:
                self._vault_present = False
                self._stop_watcher()
                self._buffer.take()  # events of a folder that is gone say nothing
                for t in self._targets.values():
                    t.condition, t.reason = "paused", "the vault folder is gone"
                log.warning(
                    "vault folder %s is gone (unmounted, moved or renamed?): every target is "
                    "paused and nothing is deleted; syncing resumes when it is back",
                    self.config.vault_path,
                    extra={"event": "vault_missing"},
                )
                self.events.publish("error", target=None, message="vault folder is gone")
            return
        watching = self._watcher is not None and self._watcher.alive()
        if not self._vault_present or not watching or inode != self._vault_inode:
            was_missing = not self._vault_present
            self._vault_present = True
            self._stop_watcher()
            try:
                self._start_watcher()
            except OSError as exc:
                log.error("cannot watch %s: %s", self.config.vault_path, exc)
                self._vault_present = False
                return
            restarted = self._vault_inode is not None
            self._vault_inode = inode
            if restarted:  # events may have been lost meanwhile (the first sync is full)
                self._buffer.add((), structural=True)
            if was_missing:
                for t in self._targets.values():
                    if t.reason == "the vault folder is gone":
                        t.condition, t.reason = "ok", None
                    t.pending_local = True
                log.info(
                    "vault folder %s is back: resuming",
                    self.config.vault_path,
                    extra={"event": "vault_back"},
                )

    def _scan_in_full(self) -> None:
        """The periodic full rescan (``full_scan_interval_s``): brings the vault's index up
        to date with every note, also those whose file events were lost (a watcher's
        queue overflowing, a network drive); when it finds a change, every target syncs."""
        self._next_full_scan = time.monotonic() + self.config.daemon.full_scan_interval_s
        try:
            vault = self._bridge.vault()
            report = vault.vault.rescan()
        except (SyncbridgeError, OSError) as exc:
            log.debug("full rescan failed (%s): the next sync scans in full", exc)
            self._full_scan = True
            return
        self.full_scans += 1
        self._unscanned.clear()
        if report.added or report.changed or report.removed:
            log.info(
                "a full rescan of the vault found %d change(s) no file event announced",
                report.added + report.changed + report.removed,
                extra={"event": "missed_changes"},
            )
            for t in self._targets.values():
                t.pending_local = True

    def _must_settle(self, due: DueChanges) -> bool:
        """Put ``due`` back (and return True) while one of its notes is younger than the
        vault's settle time (``Vault.settle_ns``: a note caught mid-save is read once it
        has been left alone), so the sync it starts reads settled notes; never for longer
        than ``SETTLE_WAIT_MAX_NS`` in a row (a note always being written is left to the
        vault's own rule, which skips it for the run)."""
        try:
            vault = self._bridge.vault().vault
        except SyncbridgeError:
            return False
        now = time.monotonic()
        if self._settling_since is not None and now - self._settling_since > (
            SETTLE_WAIT_MAX_NS / 1e9
        ):
            self._settling_since = None
            return False
        mtimes = []
        for rel in due.paths:
            with contextlib.suppress(OSError):
                mtimes.append(os.stat(vault.root / rel).st_mtime_ns)
        wait = settle_wait_s(mtimes, time.time_ns(), vault.settle_ns)
        if wait <= 0:
            self._settling_since = None
            return False
        self._settling_since = self._settling_since or now
        self._settle_until = now + wait
        self._buffer.put_back(due)
        return True

    def _vault_changed(self, due: DueChanges) -> bool:
        """Whether ``due`` changed any note, by content: each path's bytes against the
        vault index (which holds what the last scan saw and what our own writes wrote)."""
        if due.structural:
            return True
        try:
            vault = self._bridge.vault()
        except SyncbridgeError:
            return True
        root = vault.vault.root
        entries = vault.vault.entries()
        for rel in due.paths:
            digest = _sha256(root / rel)
            entry = entries.get(rel)
            if digest != (entry.sha256 if entry is not None else None):
                log.debug("changed: %s", rel)
                return True
        log.debug("%d event(s), no note changed", due.events)
        return False

    # -- one sync -------------------------------------------------------------------------

    def _progress(self, label: str, done: int, total: int) -> None:
        if self._stop_signal is not None:
            raise _Stopping

    def _sync(self, t: TargetRuntime, why: str) -> None:
        token = self._token(t.name)
        t.requested = False
        self._syncing = t.name
        self.events.publish("sync_started", target=t.name, reason=why)
        log.debug("sync %s (%s)", t.name, why)
        started = time.monotonic()
        changed = None if self._full_scan else frozenset(self._unscanned)
        try:
            report = self._bridge.sync(t.name, progress=self._progress, changed=changed)
        except (_Stopping, Interrupted):
            log.info(
                "sync of %s stopped after its last committed chunk",
                t.name,
                extra={"event": "sync_interrupted", "target": t.name},
            )
            raise _Stopping from None
        except RetryableError as exc:
            self._failed(t, exc)
            return
        except SyncbridgeError as exc:
            self._failed(t, exc)
            return
        except Exception as exc:
            log.exception("sync of %s failed unexpectedly", t.name)
            self._failed(t, exc)
            return
        finally:
            self._syncing = None
        self._scanned(changed)
        t.next_poll = time.monotonic() + t.interval_s
        self._keep_index_in_memory()
        if report.safety_stop:
            self._pause(t, report.safety_stop)
            return
        # Entries that failed (a note edited while we wrote it, a record we cannot map) keep
        # their old base: the next poll syncs again even if nothing else moves.
        # A token that moved during the sync (the file created by it, replaced meanwhile)
        # is not known: the next poll syncs again rather than trust an "absent" taken
        # before the file existed, which an absent file would match again later.
        t.token, t.token_known = token, not report.errors and self._token(t.name) == token
        t.pending_local = False
        self._succeeded(
            t, report, time.monotonic() - started, "full" if changed is None else "incremental"
        )

    def _scanned(self, changed: frozenset[str] | None) -> None:
        """A sync returned: the vault was rescanned (at ``changed``, or in full). Paths
        whose sync failed stay in ``_unscanned`` (read again next time: idempotent)."""
        if changed is None:
            self._unscanned.clear()
            self._full_scan = False
            self.full_scans += 1
            self._next_full_scan = time.monotonic() + self.config.daemon.full_scan_interval_s
        else:
            self._unscanned.difference_update(changed)

    def _keep_index_in_memory(self) -> None:
        """After the first sync, stop rewriting the vault's index cache on every rescan.

        The daemon holds the index in memory; rewriting the whole cache file (10,000 notes:
        a few MB of JSON) after each saved note was a third of the time from a save to the
        target. A cache left older than the files is safe: the next process re-reads every
        note whose size or mtime differs from it (``Vault.rescan``)."""
        vault = self._bridge.vault().vault
        if vault.cache_path is not None:
            vault.cache_path = None

    def _succeeded(self, t: TargetRuntime, report: SyncReport, seconds: float, scan: str) -> None:
        """Record a sync that ran (``scan``: ``"full"`` or ``"incremental"``, how the
        vault was rescanned); log it if it wrote something, publish its events."""
        back = t.condition != "ok"
        if back:
            log.info(
                "target %s is back: synced again after %d failed tr%s",
                t.name,
                t.backoff.failures,
                "y" if t.backoff.failures == 1 else "ies",
                extra={"event": "target_ok", "target": t.name},
            )
        t.condition, t.reason, t.retry_at, t.failure_kind = "ok", None, None, None
        t.backoff.reset()
        data = report.to_dict()
        t.last_sync = {
            "at": _utcnow(),
            "seconds": round(seconds, 3),
            "scan": scan,
            "ok": not report.blocked,  # as `syncbridge sync` would exit 0
            "vault": data["vault"],
            "remote": data["remote"],
            "errors": len(report.errors),
            "skipped": len(report.skipped),
        }
        with contextlib.suppress(SyncbridgeError):
            t.open_conflicts = len(self._bridge.conflicts(t.name))
        if report.writes:
            log.info(
                "synced %s: vault %s; remote %s",
                t.name,
                _counts(data["vault"]),
                _counts(data["remote"]),
                extra={
                    "event": "synced",
                    "target": t.name,
                    "writes": report.writes,
                    "scan": scan,
                },
            )
        self._write_status()  # before the events: GET /status then agrees with them
        if back:
            self.events.publish("state", target=t.name, state="ok")
        self.events.publish(
            "sync_finished",
            target=t.name,
            vault=data["vault"],
            remote=data["remote"],
            errors=data["errors"],
        )
        conflicts = report.vault.conflicts + report.remote.conflicts
        if conflicts:
            self.events.publish(
                "conflict", target=t.name, count=conflicts, open_conflicts=t.open_conflicts
            )
        for item in report.errors:
            log.warning(
                "%s: %s: %s",
                t.name,
                item.id,
                item.message,
                extra={"event": "entry_error", "target": t.name},
            )
            self.events.publish("error", target=t.name, message=item.message, entry=item.id)

    def _failed(self, t: TargetRuntime, exc: BaseException) -> None:
        retry_after = getattr(exc, "retry_after_s", None)
        delay = t.backoff.next_delay(retry_after if isinstance(retry_after, int | float) else None)
        t.retry_at = time.monotonic() + delay
        message = str(exc) or type(exc).__name__
        was, t.condition, t.reason = t.condition, "backoff", message
        kind, t.failure_kind = t.failure_kind, type(exc).__name__
        if was == "backoff" and kind == t.failure_kind:
            log.debug("target %s still failing; next try in %.1f s: %s", t.name, delay, message)
            return
        self._write_status()  # a subscriber that asks GET /status sees what it heard
        if was != "backoff":
            log.warning(
                "target %s is %s, retrying with backoff (local changes are kept): %s. %s",
                t.name,
                "unavailable" if isinstance(exc, RetryableError) else "failing",
                message,
                what_to_do(exc, t.name),
                extra={"event": "target_backoff", "target": t.name},
            )
        else:  # still backing off, for another reason: what to do may have changed
            log.warning(
                "target %s still retrying with backoff, now because: %s. %s",
                t.name,
                message,
                what_to_do(exc, t.name),
                extra={"event": "target_backoff_reason", "target": t.name},
            )
        self.events.publish("error", target=t.name, message=message)

    def _pause(self, t: TargetRuntime, why: str) -> None:
        t.retry_at = time.monotonic() + t.interval_s
        was, t.condition, t.reason = t.condition, "paused", why
        if was != "paused":
            self._write_status()  # a subscriber that asks GET /status sees what it heard
            log.warning(
                "target %s paused, nothing written: %s. It resumes by itself when this clears",
                t.name,
                why,
                extra={"event": "target_paused", "target": t.name},
            )
            self.events.publish("error", target=t.name, message=why)

    # -- reload ---------------------------------------------------------------------------

    def _reload(self) -> None:
        try:
            config = load_config(self.config_path)
            Bridge(config).targets()
        except ConfigError as exc:
            log.error(
                "configuration reload failed, keeping the old one: %s",
                exc,
                extra={"event": "reload_failed"},
            )
            self.events.publish("error", target=None, message=f"reload failed: {exc}")
            return
        if config.state_path != self.config.state_path:
            log.error(
                "configuration reload: [state] path changed; restart the daemon to "
                "use it (keeping the old configuration)",
                extra={"event": "reload_failed"},
            )
            return
        self._bridge.close()
        self.config = config
        self._bridge = Bridge(config, stop=self._stopping)
        pending = self._buffer.take()
        self._full_scan = True  # a new bridge: it scans the vault in full anyway
        self._buffer = self._new_buffer()
        self._buffer.put_back(pending)
        self._build_targets()
        self._stop_watcher()
        self._vault_present = True
        self._check_vault()
        log.info(
            "configuration reloaded (targets: %s)",
            ", ".join(self._targets),
            extra={"event": "reloaded"},
        )

    # -- status ---------------------------------------------------------------------------

    def _write_status(self, *, running: bool = True) -> None:
        now = time.monotonic()
        snapshot = {
            "daemon": {
                "running": running,
                "pid": os.getpid(),
                "started_at": self._started_at,
                "config": str(self.config_path),
                "vault": str(self.config.vault_path),
                "vault_present": self._vault_present,
                "watching": self._watcher.mode if self._watcher is not None else "stopped",
                "pending_vault_changes": self._buffer.pending(),
                "syncing": self._syncing,
                "control_url": self._control.url if self._control is not None else None,
            },
            "targets": {name: t.to_dict(now) for name, t in self._targets.items()},
        }
        with self._status_lock:
            changed = _without_times(snapshot) != _without_times(self._status)
            self._status = snapshot
        if changed or not running:
            write_json_atomic(self.files["status"], snapshot)


def _without_times(status: dict[str, Any]) -> Any:
    """The status without the countdowns (which change every second)."""
    if not status:
        return None
    targets = {k: {**v, "retry_in_s": None} for k, v in status.get("targets", {}).items()}
    return {**status, "targets": targets}


def _counts(counts: dict[str, int]) -> str:
    parts = [
        f"{counts[k]} {k}" for k in ("created", "updated", "deleted", "conflicts") if counts.get(k)
    ]
    return ", ".join(parts) or "no changes"
