"""Signals reach the daemon without its signal handler taking a lock
(:mod:`syncbridge.daemon.signals`).

The daemon runs in the test process's main thread (signal handlers can only be installed
there) on a real vault and SQLite file; the signal is raised from inside the daemon's own
thread, at the moment that used to hang it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path

import pytest
from daemon_support import TIMEOUT_S, make_project, wait_until

from syncbridge.daemon import Daemon
from syncbridge.daemon.signals import SignalRelay


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


pytestmark = pytest.mark.skipif(
    not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal"
)


def test_sigterm_while_the_daemon_holds_its_events_locks_stops_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A Python signal handler runs in the main thread between two bytecodes: also while
    # that thread is inside threading.Event.wait / set, holding the event's Condition lock
    # for an instant. A handler that sets that event (the stop event, the wake-up event)
    # waited forever for its own thread. Here the daemon's thread holds both locks when
    # SIGTERM comes, so that instant is certain.
    if not _in_main_thread():
        pytest.skip("signal handlers can only be installed in the main thread")
    caplog.set_level(logging.INFO, logger="syncbridge.daemon")
    daemon = Daemon(make_project(tmp_path, 2))
    locks = [daemon._stopping._cond, daemon._wake._cond]  # what Event.wait/set hold
    entered, raised, deadlocked, returned = (threading.Event() for _ in range(4))
    failures: list[str] = []

    def signal_while_holding_the_locks() -> None:  # runs in the daemon's (main) thread
        for lock in locks:
            lock.acquire()
        entered.set()
        try:
            signal.raise_signal(signal.SIGTERM)  # its Python handler runs in here
            raised.set()
        finally:
            for lock in locks:
                with contextlib.suppress(RuntimeError):  # released by the watchdog
                    lock.release()

    def watchdog() -> None:
        try:
            wait_until(
                lambda: daemon.status().get("targets", {}).get("local", {}).get("last_sync"),
                "the first sync",
            )
            daemon.call_in_loop(signal_while_holding_the_locks, timeout_s=30)
        except TimeoutError:
            if entered.is_set() and not raised.is_set():
                deadlocked.set()
                for lock in locks:  # let the stuck handler go on, so the test ends
                    with contextlib.suppress(RuntimeError):
                        lock.release()
        except BaseException as exc:  # reported by the test, in the main thread
            failures.append(repr(exc))
        if not returned.wait(TIMEOUT_S):
            failures.append("the daemon did not stop on SIGTERM")
            daemon.request_stop("test watchdog")

    term_before = signal.getsignal(signal.SIGTERM)
    helper = threading.Thread(target=watchdog)
    helper.start()
    try:
        assert daemon.run(signals=True) == 0
    finally:
        returned.set()
        helper.join()
    assert not deadlocked.is_set(), "the signal handler waited for a lock its thread held"
    assert raised.is_set() and not failures
    assert any(r.getMessage().startswith("stopped (SIGTERM)") for r in caplog.records)
    assert signal.getsignal(signal.SIGTERM) is term_before  # put back


def test_the_relay_runs_each_signals_action_in_its_thread() -> None:
    if not _in_main_thread():
        pytest.skip("signal handlers can only be installed in the main thread")
    threads: list[str] = []
    ran = threading.Event()

    def action() -> None:
        threads.append(threading.current_thread().name)
        ran.set()

    before = signal.getsignal(signal.SIGUSR1) if hasattr(signal, "SIGUSR1") else None
    if before is None:
        pytest.skip("needs SIGUSR1")
    with SignalRelay({signal.SIGUSR1: action}):
        signal.raise_signal(signal.SIGUSR1)
        assert ran.wait(TIMEOUT_S)
    assert threads == ["syncbridge-signals"]
    assert signal.getsignal(signal.SIGUSR1) is before
