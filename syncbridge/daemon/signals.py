"""The daemon's signals, acted on in a thread of their own, never in the signal handler.

A Python signal handler runs in the main thread between two of its bytecodes, whatever that
thread is doing, and the daemon's main thread is the one that syncs and sleeps: inside
``threading.Event.wait`` or ``set`` it holds the event's ``Condition`` lock for an instant.
A handler that sets such an event then waits for a lock its own thread holds, and never
returns (the daemon hangs until SIGKILL). So :class:`SignalRelay` lets the handler do
nothing: the interpreter's C-level handler writes the signal's number to a socket
(:func:`signal.set_wakeup_fd`, async-signal-safe), and a thread reading that socket calls
the action for it, where taking a lock is an ordinary wait. The thread is woken by the write
itself, so an action runs at once also while the main thread is blocked in C code that does
not return to Python (a lock's wait, SQLite's busy wait).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from types import FrameType, TracebackType
from typing import Any

__all__ = ["SignalRelay"]

log = logging.getLogger("syncbridge.daemon")

_END = b"\0"  # no signal has number 0: tells the thread to end


def _ignore(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing (the relay thread acts on the signal)."""


class SignalRelay:
    """While installed, each signal in ``actions`` runs ``actions[signum]()`` in the
    relay's thread (named ``syncbridge-signals``), once per signal received; an action
    that raises is logged. :meth:`install` and :meth:`uninstall` only from the main thread
    (Python's rule for signal handlers); the handlers and wake-up fd that were there
    before are put back by :meth:`uninstall`. Also a context manager."""

    def __init__(self, actions: Mapping[int, Callable[[], None]]) -> None:
        self.actions = dict(actions)
        self._previous: dict[int, Any] = {}
        self._previous_fd: int | None = None
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    def install(self) -> None:
        """Start the thread, point the wake-up fd at it and install the handlers."""
        if self._sockets is not None:
            return
        reader, writer = socket.socketpair()
        writer.setblocking(False)  # the C handler must never block; a full buffer drops
        self._sockets = (reader, writer)
        self._thread = threading.Thread(
            target=self._relay, args=(reader,), name="syncbridge-signals", daemon=True
        )
        self._thread.start()
        self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        for signum in self.actions:
            self._previous[signum] = signal.signal(signum, _ignore)

    def uninstall(self) -> None:
        """Put the previous handlers and wake-up fd back, end the thread (after the
        actions of signals already received) and close the sockets. Idempotent."""
        if self._sockets is None:
            return
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_fd if self._previous_fd is not None else -1)
        reader, writer = self._sockets
        writer.setblocking(True)
        writer.send(_END)
        if self._thread is not None:
            self._thread.join()
        reader.close()
        writer.close()
        self._sockets = self._thread = None

    def _relay(self, reader: socket.socket) -> None:
        while True:
            try:
                data = reader.recv(512)
            except OSError:
                return
            for signum in data:
                if signum == _END[0]:
                    return
                action = self.actions.get(signum)
                if action is None:
                    continue  # a signal someone else handles (its wake-up byte is ours)
                try:
                    action()
                except Exception:
                    log.exception("handling signal %d failed", signum)
            if not data:
                return

    def __enter__(self) -> SignalRelay:
        self.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()
