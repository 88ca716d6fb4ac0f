"""Test support for the daemon: a project on disk, the daemon as a real process, waiting.

Nothing here asserts a duration: :func:`wait_until` polls a condition with a generous
timeout and fails naming what it waited for.

Every :class:`DaemonProcess` a test starts is remembered (:data:`STARTED`): when the test
fails, ``tests/conftest.py`` adds each one's log and output to the failure report
(:func:`failure_sections`), since the temporary folder they were in is gone by the time
anyone reads a CI failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

TIMEOUT_S = 60.0

LOG_TAIL_CHARS = 60_000
"""How much of the end of a daemon's log (and of its output) a failure report shows."""


def wait_until(
    condition: Callable[[], T], what: str, timeout_s: float = TIMEOUT_S, every_s: float = 0.05
) -> T:
    """Poll ``condition`` until it returns something truthy (returned); fail after
    ``timeout_s`` naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)


def note_text(n: int, value: int, *, body: str = "") -> str:
    return f"---\nid: note-{n:05d}\nn: {value}\n---\n{body or f'Body of note {n}.'}\n"


def make_project(
    root: Path,
    notes: int = 5,
    *,
    debounce_ms: int = 200,
    poll_interval_s: float = 0.5,
    control: bool = False,
    busy_timeout_ms: int = 5000,
    extra: str = "",
) -> Path:
    """A vault of ``notes`` plain notes (``Notes/Note 00001.md``, fields ``id`` and ``n``)
    and a config syncing it into ``local.db``; returns the config file."""
    vault = root / "vault"
    (vault / "Notes").mkdir(parents=True)
    (vault / ".obsidian").mkdir()
    for n in range(1, notes + 1):
        (vault / "Notes" / f"Note {n:05d}.md").write_text(note_text(n, 0), encoding="utf-8")
    config = root / "syncbridge.toml"
    config.write_text(
        f'[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
        f"[daemon]\ndebounce_ms = {debounce_ms}\npoll_interval_s = {poll_interval_s}\n\n"
        f"[daemon.control]\nenabled = {'true' if control else 'false'}\n\n"
        f'[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "local.db"\n'
        f"busy_timeout_ms = {busy_timeout_ms}\n{extra}",
        encoding="utf-8",
    )
    return config


def db_rows(db: Path) -> list[tuple[str, Any]]:
    """(title, n) of every row of every synced table, sorted; [] before the file exists."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        try:
            tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        except sqlite3.OperationalError:
            return []
        rows: list[tuple[str, Any]] = []
        for table in tables:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
            n = '"n"' if "n" in cols else "NULL"
            rows.extend(conn.execute(f'SELECT title, {n} FROM "{table}"').fetchall())
        return sorted(rows)
    finally:
        conn.close()


def db_value(db: Path, title: str) -> Any:
    """``n`` of the row titled ``title`` (None if absent)."""
    for t, n in db_rows(db):
        if t == title:
            return n
    return None


class DaemonProcess:
    """``python -m syncbridge watch`` on ``config``, logging JSON lines to a file."""

    def __init__(
        self,
        config: Path,
        *args: str,
        log_name: str = "daemon.log",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Start it; ``env``: variables added to this process's environment."""
        self.config = config
        self.log = config.parent / log_name
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        # its output goes to a file, never to a pipe nobody reads while it runs: a full
        # pipe (64 KiB of warnings under load) would block the daemon mid-write
        self.output = config.parent / f"{log_name}.out"
        self._out = self.output.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncbridge",
                "watch",
                "--config",
                str(config),
                "--log-format",
                "json",
                "--log-file",
                str(self.log),
                *args,
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=config.parent,
        )
        STARTED.append(self)

    def records(self) -> list[dict[str, Any]]:
        """Every log record written so far (across rotations: only the current file)."""
        try:
            lines = self.log.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line being written
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def wait_event(self, name: str, count: int = 1, timeout_s: float = TIMEOUT_S) -> None:
        self.check_alive()
        wait_until(
            lambda: len(self.events(name)) >= count or self.check_alive(),
            f"{count} '{name}' log record(s)",
            timeout_s,
        )
        self.check_alive()

    def check_alive(self) -> bool:
        """False while running; raises with its output when it exited."""
        if self.proc.poll() is not None:
            err = self.output.read_bytes()
            raise AssertionError(
                f"daemon exited with {self.proc.returncode}:\n{err.decode(errors='replace')}\n"
                + "\n".join(json.dumps(r) for r in self.records()[-20:])
            )
        return False

    def wait_stopped_itself(self, timeout_s: float = TIMEOUT_S) -> None:
        """Wait until it stopped itself (SIGSTOP at the write ``$SYNCBRIDGE_TEST_KILL_AT``
        names, with ``:stop``); Linux ``/proc`` only."""

        def stopped() -> bool:
            self.check_alive()
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text(encoding="ascii")
            return stat.rpartition(")")[2].split()[0] in ("T", "t")

        wait_until(stopped, "the daemon to stop itself at its injected fault point", timeout_s)

    def wait_started(self) -> None:
        self.wait_event("started")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = TIMEOUT_S) -> int:
        """Send ``sig`` and wait for the exit; the exit code. A daemon still starting is
        given until it says so: a signal before Python has even loaded syncbridge can only
        end it the default way, which is not what these tests are about."""
        if self.proc.poll() is None:
            with contextlib.suppress(AssertionError):  # it may have exited meanwhile
                wait_until(
                    lambda: self.proc.poll() is not None or bool(self.events("started")),
                    "the daemon to start",
                    timeout_s,
                )
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the daemon did not stop") from None
        self._out.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._out.close()


STARTED: list[DaemonProcess] = []
"""The daemons started by the running test (``tests/conftest.py`` empties it per test)."""


def _tail(path: Path) -> str:
    try:
        text = path.read_bytes().decode(errors="replace")
    except OSError as exc:
        return f"(unreadable: {exc})"
    if len(text) > LOG_TAIL_CHARS:
        return f"(... {len(text) - LOG_TAIL_CHARS} characters before)\n" + text[-LOG_TAIL_CHARS:]
    return text


def failure_sections() -> list[tuple[str, str]]:
    """(title, text) of the log file and the output of every daemon in :data:`STARTED`,
    for a failed test's report."""
    sections = []
    for daemon in STARTED:
        pid = daemon.proc.pid
        sections.append((f"daemon {pid} log ({daemon.log})", _tail(daemon.log)))
        sections.append((f"daemon {pid} output ({daemon.output})", _tail(daemon.output)))
    return sections
