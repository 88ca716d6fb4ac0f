"""The run lease and the sync generations, kept inside the database itself.

Two setups (two config files, two state folders) pointing at one database must not sync it
at the same time: both would list it before the other created anything, and every entry
would be created twice. The state's run lock cannot see the other setup, so the database
carries its own lock: one row of ``_sync_lease``, written in a ``BEGIN IMMEDIATE``
transaction, naming its owner (host, pid, the process's start time, state file, target).

A lease whose owner is gone is taken over: on the same host when that process no longer
exists (or the pid now belongs to another process), elsewhere when it was not renewed for
:data:`LEASE_S` seconds (a run renews it with every transaction after
:data:`RENEW_S` seconds).

A lease a run could not give up (another program locked the database when the run ended)
names this process, alive: nobody else would take it over, and every later run of this
process would stop as locked by it. :data:`LEFT_LEASES` keeps such leases per database
file, for this process's next run on that file (any adapter's) to give up, or its close.

``_sync_generations`` holds, per state file (its ``state_id``), the generation of the last
sync run of that state (see :meth:`syncbridge.adapter.Adapter.set_generation`).

Both tables are created by the first write that needs them, with the configured prefix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from syncbridge.portable import process_alive

__all__ = [
    "LEASE_S",
    "LEFT_LEASES",
    "RENEW_S",
    "Lease",
    "LeftLeases",
    "describe_owner",
    "process_token",
    "read_generation",
    "write_generation",
]

LEASE_S = 600
"""A lease not renewed for this long (seconds) is free, when its owner is on another host."""
RENEW_S = 30
"""A held lease is renewed by a transaction at most this often (seconds)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def process_token(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, Linux ``/proc``), which
    tells a process from a later one given the same pid; ``None`` if it does not exist or
    the system does not say."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split after it
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, token: str | None) -> bool:
    """Whether process ``pid`` (started at ``token``, when known) still runs here."""
    if process_alive(pid) is False:
        return False
    if token is None:
        return True
    now = process_token(pid)
    return now is None or now == token


def describe_owner(owner: Mapping[str, Any]) -> str:
    """``owner`` in words: "pid 123 on host h, state /x/state.db (target local), since …"."""
    parts = [f"pid {owner.get('pid', '?')} on host {owner.get('host', '?')}"]
    if owner.get("state"):
        parts.append(f"state {owner['state']}")
    if owner.get("target"):
        parts[-1] += f" (target {owner['target']})"
    if owner.get("since"):
        parts.append(f"since {str(owner['since'])[:19].replace('T', ' ')} UTC")
    return ", ".join(parts)


class Lease:
    """One run's hold on the database (see the module docstring). The caller owns the
    transactions: :meth:`acquire`, :meth:`renew` and :meth:`release` run inside one."""

    def __init__(self, table: str, owner: Mapping[str, Any]) -> None:
        self.table = table
        self.q = '"' + table.replace('"', '""') + '"'
        pid = os.getpid()
        self.owner: dict[str, Any] = {
            **owner,
            "host": socket.gethostname(),
            "pid": pid,
            "token": process_token(pid),
            "since": _now().isoformat(),
        }
        self.renewed = 0.0

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.q} ("
            " name TEXT PRIMARY KEY, owner TEXT NOT NULL, renewed_at TEXT NOT NULL)"
        )

    def holder(self, conn: sqlite3.Connection) -> dict[str, Any] | None:
        """The owner of a live lease held by another run, or ``None`` (free or stale)."""
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.table,)
        ).fetchone()
        if exists is None:
            return None
        row = conn.execute(f"SELECT owner, renewed_at FROM {self.q} WHERE name = 'sync'").fetchone()
        if row is None:
            return None
        try:
            other: dict[str, Any] = json.loads(row[0])
            renewed = dt.datetime.fromisoformat(row[1])
        except (ValueError, TypeError):
            return None  # a lease row someone damaged holds nothing
        if other.get("host") == self.owner["host"]:
            pid = other.get("pid")
            if not isinstance(pid, int) or not _alive(pid, other.get("token")):
                return None  # its process died (killed, crashed): the lease is free
            if pid == self.owner["pid"] and other.get("since") == self.owner["since"]:
                return None  # ours
            return other
        if (_now() - renewed).total_seconds() > LEASE_S:
            return None  # not renewed for too long by a run elsewhere
        return other

    def acquire(self, conn: sqlite3.Connection) -> dict[str, Any] | None:
        """Take the lease; the owner of the live lease instead, if another run holds it."""
        other = self.holder(conn)
        if other is not None:
            return other
        self._create(conn)
        conn.execute(
            f"INSERT OR REPLACE INTO {self.q} (name, owner, renewed_at) VALUES ('sync', ?, ?)",
            (json.dumps(self.owner, ensure_ascii=False), _now().isoformat()),
        )
        return None

    def renew(self, conn: sqlite3.Connection, monotonic: float) -> None:
        """Stamp the lease as alive (at most every :data:`RENEW_S` seconds)."""
        if monotonic - self.renewed < RENEW_S:
            return
        self.renewed = monotonic
        conn.execute(
            f"UPDATE {self.q} SET renewed_at = ? WHERE name = 'sync' AND owner = ?",
            (_now().isoformat(), json.dumps(self.owner, ensure_ascii=False)),
        )

    def release(self, conn: sqlite3.Connection) -> None:
        """Give the lease up (only if it is still ours)."""
        conn.execute(
            f"DELETE FROM {self.q} WHERE name = 'sync' AND owner = ?",
            (json.dumps(self.owner, ensure_ascii=False),),
        )


class LeftLeases:
    """The leases this process's runs could not give up, per database file (its real
    path); thread-safe. :meth:`take` them to give them up, :meth:`add` back the ones
    that could not be."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_file: dict[str, list[Lease]] = {}

    def add(self, file: str, *leases: Lease) -> None:
        with self._lock:
            self._by_file.setdefault(file, []).extend(leases)

    def take(self, file: str) -> list[Lease]:
        """Every lease left on ``file``, forgotten here (add back what stays)."""
        with self._lock:
            return self._by_file.pop(file, [])

    def __contains__(self, file: object) -> bool:
        with self._lock:
            return bool(self._by_file.get(file))  # type: ignore[call-overload]


LEFT_LEASES = LeftLeases()
"""This process's leases not given up (see the module docstring)."""


def _generations_table(conn: sqlite3.Connection, table: str, *, create: bool) -> str | None:
    q = '"' + table.replace('"', '""') + '"'
    if create:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {q} (state_id TEXT PRIMARY KEY,"
            " generation INTEGER NOT NULL, updated_at TEXT NOT NULL)"
        )
        return q
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return q if exists else None


def read_generation(conn: sqlite3.Connection, table: str, state_id: str) -> int | None:
    """The generation recorded for ``state_id``, or ``None``."""
    q = _generations_table(conn, table, create=False)
    if q is None:
        return None
    row = conn.execute(f"SELECT generation FROM {q} WHERE state_id = ?", (state_id,)).fetchone()
    return int(row[0]) if row is not None else None


def any_generation(conn: sqlite3.Connection, table: str) -> bool:
    """Whether any state recorded a generation here (the database was synced before)."""
    q = _generations_table(conn, table, create=False)
    return q is not None and conn.execute(f"SELECT 1 FROM {q} LIMIT 1").fetchone() is not None


def write_generation(conn: sqlite3.Connection, table: str, state_id: str, generation: int) -> None:
    """Record ``generation`` for ``state_id`` (in the caller's transaction)."""
    q = _generations_table(conn, table, create=True)
    conn.execute(
        f"INSERT OR REPLACE INTO {q} (state_id, generation, updated_at) VALUES (?, ?, ?)",
        (state_id, generation, _now().isoformat()),
    )
