"""The SQLite adapter: a real database a user can open with any SQLite tool, edit, and have
the edits flow back into their notes.

The layout (one table per class, triggers, bookkeeping tables) is described in
:mod:`syncbridge_sqlite.layout`, the value mapping in :mod:`syncbridge_sqlite.codec`.

Versions are ``"<_version>@<_modified>"``: every write, ours or anyone's, changes both (our
writes bump ``_version`` themselves, the trigger does it for everybody else), and a row
replaced wholesale (``INSERT OR REPLACE``) gets a new ``_modified``. The version returned by
:meth:`SQLiteAdapter.create` / :meth:`~SQLiteAdapter.update` is read back after the write, so
the engine's base holds exactly what the next :meth:`~SQLiteAdapter.list` reports and our
own writes never look like user edits.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

from syncbridge.adapter import (
    Adapter,
    AdapterConfig,
    Capabilities,
    Record,
    RecordRef,
)
from syncbridge.errors import (
    DamagedFile,
    FatalError,
    Interrupted,
    RecordError,
    RemoteUnavailable,
    StaleVersion,
    SyncLocked,
)
from syncbridge.schema.model import ClassSchema, FieldKind
from syncbridge.storage import leftover_wal, os_failure, sqlite_failure
from syncbridge_sqlite.codec import (
    Cell,
    EncodedRow,
    cell_text,
    decode_fields,
    encode_row,
    exact_entries,
    infer_kind,
    parse_stamp,
)
from syncbridge_sqlite.config import SQLiteConfig
from syncbridge_sqlite.layout import NOW_SQL, Layout, Table, quote
from syncbridge_sqlite.lease import (
    LEFT_LEASES,
    Lease,
    describe_owner,
    read_generation,
    write_generation,
)
from syncbridge_sqlite.trash import (
    Deletion,
    TrashEntry,
    mark_deletion,
    move_to_trash,
    read_deletions,
    read_trash,
    restore_row,
)

__all__ = ["SQLiteAdapter"]

_REPAIR_DB = (
    "recover what it holds with the sqlite3 shell (sqlite3 FILE .recover > dump.sql) or put "
    "a good copy back, then sync again"
)

log = logging.getLogger(__name__)

_ROW_HEAD = ("_id", "title", "body", "_version", "_modified", "_nulls", "_exact")
_CHUNK = 500  # ids per "IN (...)" query, well under SQLite's parameter limit
_HEAD = "rowid, _id, _version, _modified"  # what a write returns
# RETURNING saves a query per write; SQLite before 3.35 (e.g. Debian 11's) lacks it.
_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)
_RECENT = 512  # records kept after our own writes, so the read that follows needs no query
_STATEMENTS = 512  # INSERT statements kept (one per set of filled columns), and prepared
CLOSE_BUSY_TIMEOUT_MS = 1000
"""How long closing waits for a locked database to give up a lease left behind, ms."""


WAIT_SLICE_MS = 100
"""With a stop to watch (:meth:`SQLiteAdapter.stop_waiting_on`), a wait for another
program's lock checks it this often, ms."""


def _busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock."""
    text = str(exc)
    return "locked" in text or "busy" in text


def _read_only(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused a write because the database cannot be written to."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_READONLY) or (
        "readonly database" in str(exc)
    )


class SQLiteAdapter(Adapter):
    """Sync target stored in one SQLite file (stdlib ``sqlite3``, WAL mode).

    The file and its bookkeeping tables are created by the first write. Every write is one
    ``BEGIN IMMEDIATE`` transaction (or a savepoint inside :meth:`transaction`), so other
    tools see whole records only. Deletes move rows to the ``_trash`` table.
    """

    name: ClassVar[str] = "sqlite"
    config_model: ClassVar[type[AdapterConfig]] = SQLiteConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        read_only=False,
        supports_trash=True,
        supports_body=True,
        timestamp_precision=dt.timedelta(milliseconds=1),
    )

    def __init__(self, config: AdapterConfig, *, base_dir: Path | None = None) -> None:
        """Point at the database at ``config.path``, resolved against ``base_dir``.

        Nothing is created until the first write (so ``--dry-run`` and ``status`` leave no
        file behind): reads of a file that does not exist see an empty database. The first
        write creates the parent folder, the file (WAL mode) and the bookkeeping tables.
        The file is opened by the first use, not here: a dry run (:meth:`dry_run`) entered
        before it reads a copy and never opens the file itself.
        """
        if not isinstance(config, SQLiteConfig):
            config = SQLiteConfig.model_validate(config.model_dump())
        super().__init__(config, base_dir=base_dir)
        self.sqlite_config: SQLiteConfig = config
        path = config.path.expanduser()
        self.path: Path = path if path.is_absolute() else self.base_dir / path
        self._depth = 0
        self._lock = threading.RLock()
        self._where: dict[str, Table] = {}  # record id → table, refreshed by list()
        self._schema_version = -1
        self._txn_data_version = -1
        self._connection: sqlite3.Connection | None = None
        self._inode = -1  # of the file the connection has open
        self._closed = False
        self._sql: dict[tuple[str, str, int], str] = {}
        self._inserts: dict[tuple[str, int, bool, tuple[int, ...]], str] = {}
        self._defaults: dict[tuple[str, int], frozenset[int]] = {}
        self._positions: dict[tuple[str, int], dict[str, tuple[int, FieldKind]]] = {}
        # Records as we last wrote them, with the data_version seen in that transaction:
        # valid while no other connection has committed since (PRAGMA data_version).
        self._recent: OrderedDict[str, tuple[int, Record]] = OrderedDict()
        self._unreadable: dict[str, str] = {}  # record id → why it cannot be synced now
        self._unmendable = -2  # the schema_version a repair failed at (read-only file)
        self._layout = Layout(config.table_prefix)
        self._lease: Lease | None = None  # held while a sync run has the database
        self._bookkept = False  # the file has our bookkeeping tables (see _connect)
        # during a dry run: the connection to the file itself, set aside (see dry_run)
        self._aside: tuple[sqlite3.Connection | None, int, bool, Layout] | None = None
        self._stop: threading.Event | None = None  # the daemon's (stop_waiting_on)
        self._closing = False
        self._check_leftovers()

    def _check_leftovers(self) -> None:
        """:class:`DamagedFile` if the database is gone but its ``-wal`` / ``-shm`` are not
        (it was moved away without them)."""
        left = leftover_wal(self.path)
        if left:
            names = " and ".join(p.name for p in left)
            raise DamagedFile(
                f"{self.path} does not exist but {names} beside it are left over from a"
                " database that was moved or deleted without them: a new database of that name"
                f" would take their pages for its own. Move {names} away (or put the database"
                " back beside them) and run again",
                path=str(self.path),
            )

    def _connect(self) -> sqlite3.Connection:
        """Open (creating if needed) the file. A file that exists without our bookkeeping
        tables (someone's own database) is opened as it is: its journal mode becomes WAL
        and the tables are made by the first write (:meth:`transaction`)."""
        if self._closed:
            raise FatalError(f"{self.path}: the adapter is closed")
        self._check_leftovers()
        if self.in_dry_run:
            return self._connect_copy()
        config = self.sqlite_config
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=config.busy_timeout_ms / 1000,
                check_same_thread=False,
                cached_statements=_STATEMENTS + 64,
            )
            try:
                self._prepare(conn)
                inode = os.stat(self.path).st_ino
            except BaseException:
                # not left open: the error (kept by whoever reports it) holds this frame,
                # and the file with it (a handle on Windows forbids replacing it)
                conn.close()
                raise
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from exc
        except sqlite3.Error as exc:
            failure = sqlite_failure(exc, self.path, "opening the database", repair=_REPAIR_DB)
            raise failure or FatalError(f"{self.path}: cannot open SQLite database: {exc}") from exc
        except OSError as exc:
            raise os_failure(exc, self.path, "opening the database") or FatalError(
                f"{self.path}: cannot open SQLite database: {exc}"
            ) from exc
        self._connection = conn
        self._inode = inode
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Set up a connection just opened on the file: busy timeout, layout, WAL (on a
        file with our bookkeeping tables), synchronous mode."""
        conn.execute(f"PRAGMA busy_timeout = {int(self.sqlite_config.busy_timeout_ms)}")
        self._layout.bind(conn)
        # a file without our bookkeeping tables (someone's own database) gets them, and
        # WAL, with the first write (transaction()), not on open: reads, status and dry
        # runs leave it as it is
        self._bookkept = self._layout.has_bookkeeping()
        if self._bookkept:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")

    def _connect_copy(self) -> sqlite3.Connection:
        """For a dry run: a copy of the database in memory, taken from the file's bytes
        and those of the ``-wal`` / ``-journal`` beside it (:func:`_copy_into`); an empty
        database when there is no file. The file is never opened in place, and nothing
        is created. Not even a connection already open on the file (set aside by
        :meth:`dry_run`) is read through: a reader of a WAL database writes its read
        marks into the ``-shm``. What the run writes to the copy (nothing, from the
        engine) is gone when the dry run ends."""
        memory = sqlite3.connect(
            ":memory:",
            isolation_level=None,
            check_same_thread=False,
            cached_statements=_STATEMENTS + 64,
        )
        try:
            inode = _copy_into(self.path, memory) if self.path.exists() else -1
            self._layout.bind(memory)
            self._bookkept = self._layout.has_bookkeeping()
        except sqlite3.Error as exc:
            memory.close()
            failure = sqlite_failure(
                exc, self.path, "reading the database for the dry run", repair=_REPAIR_DB
            )
            raise failure or FatalError(
                f"{self.path}: cannot read the SQLite database for the dry run: {exc}"
            ) from exc
        except OSError as exc:
            memory.close()
            raise os_failure(exc, self.path, "reading the database for the dry run") or FatalError(
                f"{self.path}: cannot read the SQLite database for the dry run: {exc}"
            ) from exc
        except BaseException:
            memory.close()
            raise
        self._connection = memory
        self._inode = inode
        return memory

    @contextmanager
    def dry_run(self) -> Iterator[None]:
        """Within: reads see a copy of the database (taken by the first read), and the
        file is never opened in place: SQLite would make its ``-wal`` and ``-shm`` beside
        it, and a read-write connection checkpoints a WAL that a killed run left into the
        file when it closes. A connection already open on the file is set aside for the
        while, untouched, and used again afterwards; the copy is dropped. No file is
        created, and none of the database, its ``-wal`` or its ``-shm`` changes.
        Nestable; not inside :meth:`transaction`."""
        with ExitStack() as stack:
            with self._lock:
                outer = not self.in_dry_run
                if outer and self._depth:
                    raise FatalError(f"{self.path}: a dry run cannot start inside a write")
                stack.enter_context(super().dry_run())
                if outer:
                    self._aside = (self._connection, self._inode, self._bookkept, self._layout)
                    self._connection = None
                    self._layout = Layout(self.sqlite_config.table_prefix)
                    self._forget_reads()
                    stack.callback(self._end_dry_run)
            yield

    def _end_dry_run(self) -> None:
        """Drop the dry run's copy; take back the connection set aside (if any)."""
        with self._lock:
            copy, self._connection = self._connection, None
            if copy is not None:
                copy.close()
            assert self._aside is not None
            (conn, self._inode, self._bookkept, self._layout), self._aside = self._aside, None
            self._forget_reads()
            if conn is not None and self._closed:
                conn.close()
            elif conn is not None:
                self._connection = conn

    def _forget_reads(self) -> None:
        """Forget what the connection told us (another connection takes its place)."""
        self._sql.clear()
        self._inserts.clear()
        self._defaults.clear()
        self._positions.clear()
        self._schema_version = -1
        self._unmendable = -2
        self._recent.clear()  # keyed by data_version, which a new connection restarts
        self._where.clear()

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connection or self._connect()

    # -- stopping a wait for another program's lock --------------------------------------

    def stop_waiting_on(self, stop: threading.Event) -> None:
        """Once ``stop`` is set, a wait for a database locked by another program (up to
        ``busy_timeout_ms``) ends within :data:`WAIT_SLICE_MS`: the statement that waits
        (a write transaction's ``BEGIN IMMEDIATE`` or ``COMMIT``) waits in slices and
        checks ``stop`` between them, and :class:`~syncbridge.errors.Interrupted` is raised
        (the transaction rolls back; nothing of it is kept). A transaction begun after the
        stop on a locked database raises it after one slice. Closing is not cut short (it
        waits at most :data:`CLOSE_BUSY_TIMEOUT_MS` to give up a lease).
        ``Connection.interrupt()`` cannot do this: it does not end SQLite's busy wait
        (3.40 checked)."""
        self._stop = stop

    def _execute_waiting(self, conn: sqlite3.Connection, sql: str) -> None:
        """Run ``sql`` (a BEGIN or a COMMIT: it may wait for another program's lock). With
        a stop to watch (:meth:`stop_waiting_on`), the connection's busy timeout is waited
        out in slices of :data:`WAIT_SLICE_MS`, tried again while it lasts, and
        ``sqlite3.OperationalError("interrupted")`` is raised when a slice ends busy and
        the stop is set (not while closing). A statement that gets the lock runs even
        after the stop (the chunk in flight commits when it can). Trying a BEGIN or a
        COMMIT again after SQLITE_BUSY is safe: it changed nothing."""
        stop = self._stop
        if stop is None:
            conn.execute(sql)
            return
        (timeout_ms,) = conn.execute("PRAGMA busy_timeout").fetchone()
        deadline = time.monotonic() + timeout_ms / 1000
        conn.execute(f"PRAGMA busy_timeout = {min(WAIT_SLICE_MS, int(timeout_ms))}")
        try:
            while True:
                try:
                    conn.execute(sql)  # tried even when stopping: a COMMIT that can, does
                    return
                except sqlite3.OperationalError as exc:
                    if not _busy(exc):
                        raise
                    if stop.is_set() and not self._closing:
                        raise sqlite3.OperationalError("interrupted") from exc
                    if time.monotonic() >= deadline:
                        raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")

    def _absent(self) -> bool:
        """True while no database file exists (nothing was ever written)."""
        return self._connection is None and not self.path.exists()

    # -- transactions and errors ---------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction (much faster for many records). Nested calls
        become savepoints: a failing inner write rolls back only itself. Holds the
        adapter's lock, so threads sharing one adapter take turns."""
        with self._lock:
            conn = self._conn
            outer = self._depth == 0
            try:
                if outer and not self._bookkept:
                    conn.execute("PRAGMA journal_mode = WAL")  # not inside a transaction
                if outer:
                    self._execute_waiting(conn, "BEGIN IMMEDIATE")
                else:
                    conn.execute("SAVEPOINT sb_write")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            self._depth += 1
            try:
                if outer and not self._bookkept:
                    self._layout.create_bookkeeping()  # the first write to this file
                    self._bookkept = True
                if outer:
                    self._refresh_layout()
                    if self._layout.damaged:
                        self._mend_layout()
                yield
            except BaseException as exc:
                self._depth -= 1
                conn.execute("ROLLBACK" if outer else "ROLLBACK TO sb_write")
                if not outer:
                    conn.execute("RELEASE sb_write")
                self._forget()
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                raise
            else:
                self._depth -= 1
                try:
                    if outer and self._lease is not None:
                        self._lease.renew(conn, time.monotonic())
                    if outer:
                        self._execute_waiting(conn, "COMMIT")
                    else:
                        conn.execute("RELEASE sb_write")
                except sqlite3.Error as exc:
                    if outer and conn.in_transaction:
                        conn.execute("ROLLBACK")
                    self._forget()
                    raise self._translate(exc) from exc

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The engine's hook for a run of writes: one :meth:`transaction` (a write that
        fails rolls back alone; the others commit together when the block ends)."""
        with self.transaction():
            yield

    def _forget(self) -> None:
        """Drop what may describe rolled-back work: layout, statements, recent records."""
        self._bookkept = self._layout.has_bookkeeping()  # a first write's tables too
        self._layout.load()  # DDL of the failed write is gone too
        self._sql.clear()
        self._inserts.clear()
        self._defaults.clear()
        self._positions.clear()
        self._schema_version = -1
        self._recent.clear()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A consistent snapshot for multi-table reads (a no-op inside a transaction)."""
        with self._lock:
            if self._absent():
                yield  # no database yet: every table is empty
                return
            outer = self._depth == 0
            try:
                if outer:
                    self._begin_reading()
                else:
                    self._refresh_layout()
                try:
                    yield
                finally:
                    if outer:
                        self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    def _begin_reading(self) -> None:
        """BEGIN a read snapshot with the layout up to date. A layout another tool broke
        (lost triggers, a dropped column) is mended first, in a write transaction of its
        own: a read snapshot cannot write, and what is read must come after the repair.
        Not in a dry run (:meth:`dry_run`): the layout is read as it is, and
        :meth:`unfinished` says what a sync would repair."""
        conn = self._conn
        conn.execute("BEGIN")
        self._refresh_layout()
        if (
            self._layout.damaged
            and self._schema_version != self._unmendable
            and not self.in_dry_run
        ):  # a dry run reads the layout as it is
            conn.execute("COMMIT")
            self._mend_alone()
            conn.execute("BEGIN")
            self._refresh_layout()

    def _mend_alone(self) -> None:
        """:meth:`_mend_layout` in its own ``BEGIN IMMEDIATE`` transaction.

        A database syncbridge cannot write to (read-only file or disk) is read as it is,
        with a warning: the sync's first write fails with a clear error anyway, and
        ``status`` still works. Any other error (a lock held too long) is raised.
        """
        conn = self._conn
        seen = self._schema_version
        try:
            self._execute_waiting(conn, "BEGIN IMMEDIATE")
            self._schema_version = -1  # another program may have changed it meanwhile
            self._refresh_layout()
            if self._layout.damaged:
                self._mend_layout()
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._forget()
            if not _read_only(exc):
                raise
            self._unmendable = seen
            log.warning(
                "%s: cannot repair the database, it is read-only (%s): %s",
                self.path,
                exc,
                self._layout.damage_summary(),
            )

    def _mend_layout(self) -> None:
        """Repair the layout in the caller's write transaction (see :meth:`.Layout.mend`)
        and read it again. Rows' versions moved: records remembered from our writes are
        dropped, so the next reads ask the database."""
        self._layout.mend()
        self._recent.clear()
        self._schema_version = -1  # forgetting a column changes no schema_version
        self._refresh_layout()

    def _translate(self, exc: sqlite3.Error) -> Exception:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and text == "interrupted":
            # raised by _execute_waiting on a stop (stop_waiting_on)
            return Interrupted(
                f"{self.path}: stopped waiting for the database (locked by another"
                " program): syncbridge is stopping; nothing of this transaction was kept"
            )
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return RemoteUnavailable(f"{self.path}: database is busy: {text}")
        failure = sqlite_failure(exc, self.path, "writing the database", repair=_REPAIR_DB)
        if failure is not None:
            return failure
        return FatalError(f"{self.path}: SQLite error: {text}")

    def _refresh_layout(self) -> None:
        """Re-read ``_meta`` when another connection changed the schema; note the
        ``data_version`` (it only moves when another connection commits)."""
        schema_version, data_version = self._conn.execute(
            "SELECT * FROM pragma_schema_version(), pragma_data_version()"
        ).fetchone()
        self._txn_data_version = int(data_version)
        if schema_version != self._schema_version:
            self._layout.load()
            self._sql.clear()  # cached statements name the old columns
            self._inserts.clear()
            self._defaults.clear()
            self._positions.clear()
            self._schema_version = schema_version

    # -- the run lease, lookups and generations (see syncbridge_sqlite.lease) -----------

    @contextmanager
    def exclusive(self, owner: Mapping[str, Any]) -> Iterator[bool]:
        """Hold the database for one sync run: a lease row in ``_sync_lease``, taken in a
        ``BEGIN IMMEDIATE`` transaction (creating the file if needed). Raises
        :class:`SyncLocked` naming the other run when one holds it. Yields ``True``.

        A lease this process could not give up (the database locked by another program
        when its run ended, :data:`~syncbridge_sqlite.lease.LEFT_LEASES`) is given up by
        the next run, in the transaction that takes the new one: its owner is this
        process, alive, so nobody else would free it and every later run of this process
        (the daemon's) would stop as locked by itself."""
        lease = Lease(self._layout.prefix + "_sync_lease", owner)
        left = LEFT_LEASES.take(self._lease_file)
        try:
            with self.transaction():
                for old in left:
                    old.release(self._conn)
                other = lease.acquire(self._conn)
        except BaseException:
            LEFT_LEASES.add(self._lease_file, *left)
            raise
        if other is not None:
            raise SyncLocked(
                f"{self.path} is being synced by another syncbridge run"
                f" ({describe_owner(other)}); run again when it has finished"
            )
        lease.renewed = time.monotonic()
        self._lease = lease
        try:
            yield True
        finally:
            self._lease = None
            try:
                with self.transaction():
                    lease.release(self._conn)
            except (FatalError, RemoteUnavailable, Interrupted) as exc:
                LEFT_LEASES.add(self._lease_file, lease)
                log.warning(
                    "%s: could not give up the sync lease (%s); the next run does",
                    self.path,
                    exc,
                )

    def lookup(self, field: str, values: Sequence[Any]) -> dict[Any, builtins.list[str]]:
        """Ids of the rows whose ``field`` column holds one of ``values``, value → ids."""
        found: dict[Any, builtins.list[str]] = {}
        if not values:
            return found
        with self._reading():
            if self._connection is None:
                return found
            for table in self._layout.tables.values():
                column = table.columns.get(field)
                if column is None:
                    continue
                for start in range(0, len(values), _CHUNK):
                    chunk = list(values[start : start + _CHUNK])
                    marks = ", ".join("?" * len(chunk))
                    rows = self._conn.execute(
                        f"SELECT {quote(column.name)}, _id FROM {table.q}"
                        f" WHERE {quote(column.name)} IN ({marks})",
                        chunk,
                    )
                    for value, record_id in rows:
                        found.setdefault(value, []).append(str(record_id))
        return found

    def generation(self, state_id: str) -> int | None:
        """The generation recorded in ``_sync_generations`` for ``state_id``."""
        with self._reading():
            if self._connection is None:
                return None
            return read_generation(self._conn, self._layout.prefix + "_sync_generations", state_id)

    def set_generation(self, state_id: str, generation: int) -> bool:
        """Record ``generation`` for ``state_id`` in its own transaction."""
        with self.transaction():
            write_generation(
                self._conn, self._layout.prefix + "_sync_generations", state_id, generation
            )
        return True

    def predates(self, version: str, than: str) -> bool:
        """A row put back from an older copy: a lower ``_version`` *and* an earlier
        ``_modified`` than at the last sync (a row replaced wholesale with ``INSERT OR
        REPLACE`` restarts at version 1 too, but with a later time)."""
        try:
            number, _, stamp = version.partition("@")
            base_number, _, base_stamp = than.partition("@")
            return int(number) < int(base_number) and stamp < base_stamp
        except ValueError:
            return False

    # -- schema --------------------------------------------------------------------------

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Create ``cls``'s table, or add columns for fields it does not have yet."""
        with self.transaction():
            table = self._layout.ensure_table(cls.name)
            for key, spec in cls.fields.items():
                self._layout.ensure_column(table, spec.name or key, spec.kind)

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        """The fields the class's table has columns for (``None`` before it exists): a
        held field missing from a record is a cleared cell, not a field we cannot hold."""
        with self._reading():
            table = self._layout.tables.get(class_name)
        return None if table is None else frozenset(table.columns)

    def table_name(self, class_name: str) -> str | None:
        """The table holding ``class_name``, or ``None`` if it has none yet."""
        with self._reading():
            table = self._layout.tables.get(class_name)
        return table.name if table else None

    def _table_for(self, record: Record) -> Table:
        """The record's class table, with columns for all its fields (DDL in the caller's
        transaction). Fields no schema described get a column of the kind of their value."""
        table = self._layout.ensure_table(record.class_name)
        for field, value in record.fields.items():
            if field not in table.columns:
                self._layout.ensure_column(table, field, infer_kind(value))
        return table

    # -- reading -------------------------------------------------------------------------

    def _select(self, table: Table) -> str:
        key = ("select", table.name, len(table.columns))
        sql = self._sql.get(key)
        if sql is None:
            names = [*_ROW_HEAD, *(c.name for c in table.columns.values())]
            sql = self._sql[key] = f"SELECT {', '.join(quote(n) for n in names)} FROM {table.q}"
        return sql

    def _data_version(self) -> int:
        (version,) = self._conn.execute("PRAGMA data_version").fetchone()
        return int(version)

    def _remember(self, record: Record, data_version: int) -> None:
        assert record.id is not None
        self._recent[record.id] = (data_version, record)
        self._recent.move_to_end(record.id)
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def _record(self, table: Table, row: Sequence[Any]) -> Record:
        record_id, title, body, version, modified, nulls_cell, exact_cell, *cells = row
        try:
            title_text, body_text = cell_text(title), cell_text(body)
        except UnicodeDecodeError:
            # changed between list() and this read: skipped like list() skips it
            problem = self._not_text(table, str(record_id), title, body)
            self._unreadable[str(record_id)] = problem
            raise RecordError(problem) from None
        kinds = [(c.field, c.kind) for c in table.columns.values()]
        return Record(
            class_name=table.class_name,
            fields=decode_fields(kinds, cells, nulls_cell, exact_cell),
            body=body_text or "",
            id=str(record_id),
            version=f"{version}@{modified}",
            modified=parse_stamp(modified),
            title=title_text,
        )

    def _not_text(self, table: Table, record_id: str, title: Cell, body: Cell) -> str:
        """Why a row whose ``title`` or ``body`` is a BLOB of bytes that are not UTF-8
        cannot be synced, naming the table, the row and what to do."""
        bad = []
        for name, cell in (("title", title), ("body", body)):
            try:
                cell_text(cell)
            except UnicodeDecodeError:
                bad.append(name)
        named = ""
        if "title" not in bad and title is not None:
            named = f" (title '{cell_text(title)}')"
        cells = " and ".join(bad)
        verb = "is a BLOB" if len(bad) == 1 else "are BLOBs"
        return (
            f"{self.path}: table {table.name}, row _id {record_id}{named}: its {cells} {verb}"
            " whose bytes are not UTF-8 text, so the row is not synced and its note is left"
            f" as it is; store text there, e.g. UPDATE {table.q} SET {bad[0]} = '...'"
            f" WHERE _id = '{record_id}'"
        )

    def unfinished(self) -> builtins.list[str]:
        """The repair of a layout another tool broke (lost triggers, dropped columns)
        that the next read outside a dry run makes, in words; read only."""
        if self._absent():
            return []
        with self._reading():
            if self._layout.damaged:
                return [
                    f"{self.path}: the layout would be repaired: {self._layout.damage_summary()}"
                ]
        return []

    def unreadable(self) -> dict[str, str]:
        """Rows that exist but cannot be synced now, found by the last :meth:`list` (and
        the reads since): id → message. Today: a ``title`` or ``body`` BLOB that is not
        UTF-8. The engine skips them, never takes them for deleted."""
        return dict(self._unreadable)

    def list(self) -> Iterator[RecordRef]:
        """Every live record of every class table, as of one snapshot. Reads three columns
        per row; also remembers each id's table for the reads and writes that follow."""
        refs: builtins.list[RecordRef] = []
        where: dict[str, Table] = {}
        unreadable: dict[str, str] = {}
        with self._reading():
            for table in self._layout.tables.values():
                # typeof() reads no cell content: cheap even for long bodies
                rows = self._conn.execute(
                    "SELECT _id, _version, _modified,"
                    f" typeof(title) = 'blob' OR typeof(body) = 'blob' FROM {table.q}"
                )
                for record_id, version, modified, blob in rows:
                    key = sys.intern(str(record_id))  # shared with the state's links
                    if blob:
                        problem = self._blob_problem(table, key)
                        if problem is not None:
                            unreadable[key] = problem  # not listed: skipped, not deleted
                            continue
                    if key in where:
                        log.warning(
                            "%s: id %s is in tables %s and %s; ignoring the second",
                            self.path,
                            key,
                            where[key].name,
                            table.name,
                        )
                        continue
                    where[key] = table
                    refs.append(
                        RecordRef(
                            key,
                            sys.intern(f"{version}@{modified}"),
                            parse_stamp(modified),
                            table.class_name,
                        )
                    )
        self._where = where
        self._unreadable = unreadable
        return iter(refs)

    def _blob_problem(self, table: Table, record_id: str) -> str | None:
        """Why the row cannot be synced, if its BLOB ``title`` / ``body`` is not UTF-8."""
        title, body = self._conn.execute(
            f"SELECT title, body FROM {table.q} WHERE _id = ?", (record_id,)
        ).fetchone()
        try:
            cell_text(title)
            cell_text(body)
        except UnicodeDecodeError:
            return self._not_text(table, record_id, title, body)
        return None

    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        """Full records for ``ids``, in order; ``RecordError`` naming the first unknown id."""
        found: dict[str, Record] = {}
        if self._recent and self._connection is not None:
            try:
                with self._lock:
                    now = self._data_version()
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            for record_id in ids:
                cached = self._recent.get(record_id)
                if cached is not None and cached[0] == now:
                    found[record_id] = cached[1]
            if len(found) == len(ids):
                return [found[i] for i in ids]
        with self._reading():
            pending = [i for i in dict.fromkeys(ids) if i not in found]
            tables = list(self._layout.tables.values())
            # Ask the table list() saw each id in first, then every table for the rest.
            by_table: dict[str, builtins.list[str]] = {}
            for record_id in pending:
                table = self._where.get(record_id)
                if table is not None and table.class_name in self._layout.tables:
                    by_table.setdefault(table.class_name, []).append(record_id)
            for class_name, chunk_ids in by_table.items():
                self._read_into(found, self._layout.tables[class_name], chunk_ids)
            missing = [i for i in pending if i not in found]
            for table in tables:
                if not missing:
                    break
                self._read_into(found, table, missing)
                missing = [i for i in missing if i not in found]
        for record_id in ids:
            if record_id not in found:
                raise RecordError(f"{self.path}: no record with id {record_id!r}")
        return [found[i] for i in ids]

    def _read_into(self, found: dict[str, Record], table: Table, ids: Sequence[str]) -> None:
        select = self._select(table)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._conn.execute(f"{select} WHERE _id IN ({marks})", chunk):
                record = self._record(table, row)
                assert record.id is not None
                found.setdefault(record.id, record)
                self._where[record.id] = table

    def _locate(self, record_id: str) -> tuple[Table, int, str] | None:
        """(table, rowid, version) of a live record, or ``None``."""
        cached = self._where.get(record_id)
        tables = list(self._layout.tables.values())
        if cached is not None and cached.class_name in self._layout.tables:
            tables.insert(0, self._layout.tables[cached.class_name])
        for table in tables:
            row = self._conn.execute(
                f"SELECT rowid, _version, _modified FROM {table.q} WHERE _id = ?", (record_id,)
            ).fetchone()
            if row is not None:
                return table, row[0], f"{row[1]}@{row[2]}"
        return None

    # -- writing -------------------------------------------------------------------------

    def _row(self, table: Table, record: Record) -> EncodedRow:
        """The cells to write for ``record`` (see :func:`.codec.encode_row`)."""
        key = (table.name, len(table.columns))
        positions = self._positions.get(key)
        if positions is None:
            positions = {c.field: (i, c.kind) for i, c in enumerate(table.columns.values())}
            self._positions[key] = positions
        fields = record.fields
        if len(fields) > len(positions) or not positions.keys() >= fields.keys():
            # fields past SQLite's column limit: not held here (held_fields says so)
            fields = {k: v for k, v in fields.items() if k in positions}
        return encode_row(positions, fields)

    def _finish_write(
        self, table: Table, head: Sequence[Any], record: Record, row: EncodedRow
    ) -> Record:
        """The record as stored, given ``head`` = (rowid, _id, _version, _modified) as the
        write returned them. When every cell was stored as sent, that is all we need;
        otherwise the row is read back, and ``_exact`` fixed if SQLite's type affinity
        changed a cell (one more write, which bumps ``_version`` again)."""
        rowid = head[0]
        head = head[1:]
        if row.as_sent:
            stored = Record(
                class_name=table.class_name,
                fields=dict(record.fields),
                body=record.body,
                id=str(head[0]),
                version=f"{head[1]}@{head[2]}",
                modified=parse_stamp(head[2]),
                title=record.title,
            )
        else:
            select = f"{self._select(table)} WHERE rowid = ?"
            cells = self._conn.execute(select, (rowid,)).fetchone()
            kinds = {c.field: c.kind for c in table.columns.values()}
            values = {f: v for f, v in record.fields.items() if f in kinds}
            entries = exact_entries(
                kinds, values, dict(zip(kinds, cells[len(_ROW_HEAD) :], strict=True))
            )
            actual = json.dumps(entries, ensure_ascii=False) if entries else None
            if actual != row.exact:
                self._conn.execute(
                    f"UPDATE {table.q} SET _exact = ?, _version = _version + 1 WHERE rowid = ?",
                    (actual, rowid),
                )
                cells = self._conn.execute(select, (rowid,)).fetchone()
            stored = self._record(table, cells)
        assert stored.id is not None
        self._where[stored.id] = table
        self._remember(stored, self._txn_data_version)
        return stored

    @staticmethod
    def _ref(record: Record) -> RecordRef:
        assert record.id is not None and record.version is not None
        assert record.modified is not None
        return RecordRef(record.id, record.version, record.modified, record.class_name)

    def _insert(
        self,
        table: Table,
        record: Record,
        *,
        record_id: str | None = None,
        version: int = 1,
        row: EncodedRow | None = None,
    ) -> Record:
        if row is None:
            row = self._row(table, record)
        # Only the columns with a value: the others are NULL anyway, and a wide class table
        # (every field any note of the class has) costs a bound parameter per column.
        # (A column someone gave a DEFAULT is always written, so that it stays NULL.)
        cells = row.cells
        filled = row.filled
        defaulted = self._defaulted(table)
        if defaulted:
            filled = tuple(sorted(defaulted.union(filled)))
        key = (table.name, len(table.columns), record_id is not None, filled)
        sql = self._inserts.get(key)
        if sql is None:
            leading = ["title", "body", "_nulls", "_exact", "_version"]
            if record_id is not None:
                leading.append("_id")
            columns = list(table.columns.values())
            names = [*leading, *(columns[i].name for i in filled)]
            marks = ", ".join("?" * len(names))
            listed = ", ".join(quote(n) for n in names)
            returning = f" RETURNING {_HEAD}" if _RETURNING else ""
            if len(self._inserts) >= _STATEMENTS:
                self._inserts.clear()
            sql = self._inserts[key] = (
                f"INSERT INTO {table.q} ({listed}) VALUES ({marks}){returning}"
            )
        values: builtins.list[Any] = [record.title, record.body, row.nulls, row.exact, version]
        if record_id is not None:
            values.append(record_id)
        values.extend(cells[i] for i in filled)
        cursor = self._conn.execute(sql, values)
        head = cursor.fetchall()[0] if _RETURNING else self._head(table, cursor.lastrowid)
        return self._finish_write(table, head, record, row)

    def _defaulted(self, table: Table) -> frozenset[int]:
        """Positions (in ``table.columns``) of the field columns that have a DEFAULT: ours
        have none, but a user may have rebuilt the table with some."""
        key = (table.name, len(table.columns))
        found = self._defaults.get(key)
        if found is None:
            with_default = {
                row[1]
                for row in self._conn.execute(f"PRAGMA table_info({table.q})")
                if row[4] is not None
            }
            found = frozenset(
                i for i, c in enumerate(table.columns.values()) if c.name in with_default
            )
            self._defaults[key] = found
        return found

    def _head(self, table: Table, rowid: int | None) -> Sequence[Any]:
        """(rowid, _id, _version, _modified) of a row, where RETURNING is not available."""
        head: Sequence[Any] = self._conn.execute(
            f"SELECT {_HEAD} FROM {table.q} WHERE rowid = ?", (rowid,)
        ).fetchone()
        return head

    def create(self, record: Record) -> RecordRef:
        """Insert ``record`` as a new row (its ``id`` is ignored; SQLite draws one). Creates
        the class table and columns for unknown fields as needed."""
        with self._lock:
            if self._depth and self._connection is not None:
                # Inside a transaction (the engine's batch), the common case is one
                # statement: the table and its columns exist, and every cell is stored as
                # sent (no read-back, no _exact fix-up). One INSERT is atomic by itself
                # (a failing statement is rolled back alone), so it needs no savepoint.
                table = self._layout.tables.get(record.class_name)
                if table is not None and table.columns.keys() >= record.fields.keys():
                    row = self._row(table, record)
                    if row.as_sent:
                        try:
                            stored = self._insert(table, record, row=row)
                        except sqlite3.Error as exc:
                            self._forget()
                            raise self._translate(exc) from exc
                        return self._ref(stored)
        with self.transaction():
            table = self._table_for(record)
            stored = self._insert(table, record)
        return self._ref(stored)

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        """Replace the row's title, body and fields (absent fields become NULL cells).

        ``StaleVersion`` if the row changed since ``expected_version`` or is gone. A record
        whose class changed moves to the new class's table, keeping its id.
        """
        if record.id is None:
            raise RecordError("update() needs a record id")
        with self.transaction():
            located = self._locate(record.id)
            if located is None:
                raise StaleVersion(f"{self.path}: record {record.id} no longer exists")
            current, rowid, version = located
            if version != expected_version:
                raise StaleVersion(
                    f"{self.path}: record {record.id} is at version {version}, "
                    f"not {expected_version}"
                )
            table = self._table_for(record)
            if table is not current:
                stored = self._move(current, table, record)
                return self._ref(stored)
            row = self._row(table, record)
            key = ("update", table.name, len(table.columns))
            sql = self._sql.get(key)
            if sql is None:
                names = ["title", "body", "_nulls", "_exact"]
                names += [c.name for c in table.columns.values()]
                assignments = ", ".join(f"{quote(n)} = ?" for n in names)
                returning = f" RETURNING {_HEAD}" if _RETURNING else ""
                sql = self._sql[key] = (
                    f"UPDATE {table.q} SET {assignments}, _version = _version + 1,"
                    f" _modified = {NOW_SQL} WHERE rowid = ?{returning}"
                )
            cursor = self._conn.execute(
                sql, [record.title, record.body, row.nulls, row.exact, *row.cells, rowid]
            )
            head = cursor.fetchall()[0] if _RETURNING else self._head(table, rowid)
            stored = self._finish_write(table, head, record, row)
        return self._ref(stored)

    def _move(self, current: Table, table: Table, record: Record) -> Record:
        assert record.id is not None
        (old_version,) = self._conn.execute(
            f"SELECT _version FROM {current.q} WHERE _id = ?", (record.id,)
        ).fetchone()
        self._conn.execute(f"DELETE FROM {current.q} WHERE _id = ?", (record.id,))
        mark_deletion(self._conn, self._layout, current, record.id, "syncbridge-move")
        return self._insert(table, record, record_id=record.id, version=int(old_version) + 1)

    def delete(self, record_id: str, *, expected_version: str) -> None:
        """Move the row to ``_trash`` (see :meth:`restore`); ``StaleVersion`` if it changed
        since ``expected_version``. Deleting a row that is already gone does nothing (as
        in the vault adapter), so a replayed delete is harmless. Logged as ours."""
        if self._absent():
            return
        with self.transaction():
            located = self._locate(record_id)
            if located is None:
                return
            table, rowid, version = located
            if version != expected_version:
                raise StaleVersion(
                    f"{self.path}: record {record_id} is at version {version}, "
                    f"not {expected_version}"
                )
            move_to_trash(self._conn, self._layout, table, rowid, record_id)
            self._where.pop(record_id, None)
            self._recent.pop(record_id, None)

    # -- deletions and trash -------------------------------------------------------------

    def deletions(
        self, since: dt.datetime | None = None, *, include_own: bool = False
    ) -> builtins.list[Deletion]:
        """Rows deleted from class tables (by default only by other tools), oldest first,
        optionally only those deleted at or after ``since`` (tz-aware)."""
        with self._reading():
            if self._connection is None or not self._bookkept:
                return []
            return read_deletions(self._conn, self._layout, since, include_own)

    def trash(self) -> builtins.list[TrashEntry]:
        """Rows syncbridge deleted and nobody restored, oldest first."""
        with self._reading():
            if self._connection is None or not self._bookkept:
                return []
            return read_trash(self._conn, self._layout)

    def restore(self, record_id: str) -> RecordRef:
        """Put the most recent trashed copy of ``record_id`` back into its class table,
        with a new version. ``RecordError`` if it is not in the trash or is live again."""
        with self.transaction():
            if self._locate(record_id) is not None:
                raise RecordError(f"{self.path}: record {record_id} exists; not restoring")
            restored = restore_row(self._conn, self._layout, record_id)
            if restored is None:
                raise RecordError(f"{self.path}: record {record_id} is not in the trash")
            table, rowid = restored
            select = f"{self._select(table)} WHERE rowid = ?"
            stored = self._record(table, self._conn.execute(select, (rowid,)).fetchone())
            self._where[record_id] = table
        return self._ref(stored)

    # -- lifecycle -----------------------------------------------------------------------

    def change_token(self) -> str | None:
        """The file's inode and ``PRAGMA data_version`` (which moves only when another
        connection commits: our own writes leave it be); ``"absent"`` while there is no
        file. A file that vanished or was replaced (moved away, a backup restored) drops
        the connection, so the next read sees the file now at :attr:`path`, not the old
        one. No lock is taken."""
        with self._lock:
            if self._depth:
                return None  # inside our own transaction: cannot tell
            try:
                inode = os.stat(self.path).st_ino
            except FileNotFoundError:
                self._drop_connection()
                return "absent"
            except OSError as exc:
                raise RemoteUnavailable(f"{self.path}: cannot stat the database: {exc}") from exc
            if self._connection is not None and inode != self._inode:
                self._drop_connection()
            try:
                (version,) = self._conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
            return f"{inode}:{version}"

    def _drop_connection(self) -> None:
        """Close the connection and forget what it told us (the next use reconnects)."""
        if self._connection is None:
            return
        self._connection.close()
        self._connection = None
        self._forget_reads()
        self._layout = Layout(self.sqlite_config.table_prefix)  # read again from the file

    def close(self) -> None:
        """Close the connection (idempotent). WAL files are checkpointed by SQLite."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closing = True  # a stop no longer interrupts: closing waits at most 1 s
            self._give_up_left_lease()
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._aside is not None and self._aside[0] is not None:
                self._aside[0].close()  # the file's, set aside by a dry run
                self._aside = (None, *self._aside[1:])

    @property
    def _lease_file(self) -> str:
        """The database file, as :data:`~syncbridge_sqlite.lease.LEFT_LEASES` knows it."""
        return os.path.realpath(self.path)

    def _give_up_left_lease(self) -> None:
        """Release the leases this process could not give up on this file (see
        :meth:`exclusive`), if the database lets us within :data:`CLOSE_BUSY_TIMEOUT_MS`
        (not the configured busy timeout: a daemon stopping must not wait it out again);
        else they stay for this process's next run on the file, and when the process
        ends any run takes them over."""
        if self._connection is None or self.in_dry_run or self._lease_file not in LEFT_LEASES:
            return
        timeout_ms = min(CLOSE_BUSY_TIMEOUT_MS, int(self.sqlite_config.busy_timeout_ms))
        left = LEFT_LEASES.take(self._lease_file)
        try:
            self._connection.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            with self.transaction():
                for lease in left:
                    lease.release(self._conn)
        except (sqlite3.Error, FatalError, RemoteUnavailable) as exc:
            LEFT_LEASES.add(self._lease_file, *left)
            log.info(
                "%s: closing without giving up the sync lease (%s); the next run gives it up",
                self.path,
                exc,
            )

    def __repr__(self) -> str:
        return f"SQLiteAdapter({str(self.path)!r})"


def _stamps(path: Path) -> builtins.list[tuple[int, int, int] | None]:
    """(inode, size, mtime) of the database and of the ``-wal`` / ``-journal`` beside it."""
    out: builtins.list[tuple[int, int, int] | None] = []
    for name in (path.name, path.name + "-wal", path.name + "-journal"):
        try:
            st = os.stat(path.with_name(name))
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return out


def _copy_into(path: Path, memory: sqlite3.Connection, attempts: int = 3) -> int:
    """Copy the database at ``path`` into the connection ``memory`` without opening it:
    its bytes and those of the ``-wal`` or ``-journal`` beside it (a killed run's
    committed rows, or the one it was rolling back) go to a temporary folder, are opened
    there (SQLite takes the WAL in, or rolls the journal back) and backed up into
    ``memory``; the folder is then removed. Tried again when the files changed while they
    were copied (another program writing meanwhile); :class:`RemoteUnavailable` after
    ``attempts``. Returns the database's inode. A ``path`` that is a symbolic link is
    followed: SQLite keeps the ``-wal`` beside the file the link points to."""
    path = path.resolve()
    for _ in range(attempts):
        seen = _stamps(path)
        if seen[0] is None:
            raise FileNotFoundError(f"{path}: no such file")
        with tempfile.TemporaryDirectory(prefix="syncbridge-dry-run-sqlite-") as tmp:
            copy = Path(tmp) / path.name
            shutil.copyfile(path, copy)
            for suffix in ("-wal", "-journal"):
                beside = path.with_name(path.name + suffix)
                with suppress(FileNotFoundError):
                    shutil.copyfile(beside, copy.with_name(copy.name + suffix))
            if _stamps(path) != seen:
                continue  # changed while copied: the copy may mix two states
            source = sqlite3.connect(copy)
            try:
                source.backup(memory)
            finally:
                source.close()
        return seen[0][0]
    raise RemoteUnavailable(
        f"{path}: the database kept changing while it was copied for the dry run (a sync"
        " running meanwhile?); run the command again when it has finished"
    )
