"""The SQLite state file: schema, migrations, and the transactions the engine relies on."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from syncbridge.adapter import MISSING, Missing
from syncbridge.errors import DamagedFile, StateError, StorageFailure, SyncLocked
from syncbridge.portable import try_lock, unlock
from syncbridge.state.model import (
    BaseSnapshot,
    ConflictEntry,
    JournalEntry,
    Link,
    SharedEncoder,
    SideSnapshot,
    same_json,
)
from syncbridge.storage import leftover_wal, os_failure, sqlite_failure

__all__ = ["MIGRATIONS", "StateStore", "default_state_path"]

_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1
"""The range of an SQLite INTEGER: an id outside it names no row (binding it overflows)."""


def default_state_path(config_dir: Path) -> Path:
    """``<config_dir>/.syncbridge/state.db``: the state file when none is configured."""
    return config_dir / ".syncbridge" / "state.db"


# Named migrations, applied in order; ``meta.schema_version`` is how many have run.
#
# The code calls the two sides ``vault`` and ``remote`` (docs/sync.md, "Names"); the file
# keeps the names it was created with: columns ``a_*`` hold the vault side and ``b_*`` the
# remote (``a_id`` is the vault id, ``b_version`` the remote version ...), and a base's
# JSON has the keys ``"a"`` (vault) and ``"b"`` (remote). They are mapped here, in the
# queries and in ``_load_base`` / ``StateStore._base``, and nowhere else; renaming them
# would rewrite every row of an existing state file for no change in behaviour.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_initial",
        """
        CREATE TABLE links (
            link_id   INTEGER PRIMARY KEY,
            target    TEXT NOT NULL,
            a_id      TEXT NOT NULL,
            b_id      TEXT NOT NULL,
            vault_path TEXT,
            a_version TEXT NOT NULL,
            b_version TEXT NOT NULL,
            a_hash    TEXT NOT NULL DEFAULT '',
            b_hash    TEXT NOT NULL DEFAULT '',
            key       TEXT,
            base      TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX links_a ON links(target, a_id);
        CREATE UNIQUE INDEX links_b ON links(target, b_id);
        CREATE TABLE cursors (
            target TEXT NOT NULL,
            name   TEXT NOT NULL,
            value  TEXT NOT NULL,
            PRIMARY KEY (target, name)
        );
        CREATE TABLE conflicts (
            id           INTEGER PRIMARY KEY,
            target       TEXT NOT NULL,
            link_id      INTEGER,
            vault_id     TEXT,
            remote_id    TEXT,
            field        TEXT NOT NULL,
            vault_value  TEXT NOT NULL,
            remote_value TEXT NOT NULL,
            winner       TEXT,
            decided_by   TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            restored_at  TEXT,
            copy_id      TEXT
        );
        CREATE INDEX conflicts_target ON conflicts(target, link_id);
        CREATE TABLE journal (
            id         INTEGER PRIMARY KEY,
            target     TEXT NOT NULL,
            kind       TEXT NOT NULL,
            payload    TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        # No table changes: from here on, a base whose two sides hold the same content
        # stores it once (the remote side as ``"content": "a"``, see ``StateStore._base``)
        # and a journaled create whose record is its source's content stores it once
        # (``"sent": "source"``). The version bump keeps an older syncbridge, which would
        # not read these, from opening the file.
        "0002_shared_content",
        "",
    ),
)

_TABLES = frozenset(
    re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", " ".join(sql for _, sql in MIGRATIONS))
)
"""The tables the migrations make: a state file missing one is damaged."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _dump_value(value: Any) -> str:
    """JSON of a logged value; :data:`MISSING` is ``{}`` and a present value ``{"v": ...}``."""
    return json.dumps({} if isinstance(value, Missing) else {"v": value}, ensure_ascii=False)


def _load_value(text: str) -> Any:
    data = json.loads(text)
    return data.get("v", MISSING)


def _load_base(text: str) -> BaseSnapshot:
    """The base stored as ``text`` (see :meth:`StateStore._base`): ``"a"`` is the vault's
    snapshot, ``"b"`` the remote's."""
    data = json.loads(text)
    vault_data, remote_data = data["a"], data["b"]
    if remote_data.get("content") == "a":
        # a copy of the fields: the two snapshots must not share a dict
        remote_data = {
            **remote_data,
            "fields": dict(vault_data["fields"]),
            "body": vault_data["body"],
        }
    return BaseSnapshot(SideSnapshot.from_json(vault_data), SideSnapshot.from_json(remote_data))


REPAIR_HINT = (
    "run 'syncbridge repair' to rebuild it by pairing the vault with its targets again "
    "(the damaged file is kept as a backup), or put a good copy of it back"
)


def _state_failure(exc: BaseException, path: Path, doing: str) -> Exception:
    """What a failure reading or writing the state file means, in words (see
    :mod:`syncbridge.storage`); ``exc`` itself when it is none of those."""
    if isinstance(exc, sqlite3.Error):
        found = sqlite_failure(exc, path, doing, repair=REPAIR_HINT)
        if found is not None:
            return found
    if isinstance(exc, OSError):
        failure = os_failure(exc, path, doing)
        if failure is not None:
            return failure
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        # bytes that are not UTF-8 or not the JSON we wrote: damaged rows
        return DamagedFile(
            f"{path}: the state file is damaged ({doing}: {exc}); {REPAIR_HINT}", path=str(path)
        )
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


class _Guard:
    """Turn a failure inside the block into what it means for the state file at ``path``
    (:func:`_state_failure`): a full disk, a damaged row ..."""

    __slots__ = ("doing", "path")

    def __init__(self, path: Path, doing: str) -> None:
        self.path = path
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None or isinstance(exc, StateError | DamagedFile | StorageFailure):
            return
        if isinstance(exc, sqlite3.Error | OSError | ValueError | KeyError | TypeError):
            translated = _state_failure(exc, self.path, self.doing)
            if translated is not exc:
                raise translated from exc


class _Transaction:
    """The context manager of :meth:`StateStore._transaction` (a class: it runs for every
    write method, and a generator-based one costs several times more)."""

    __slots__ = ("_outer", "_store")

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        if not store._depth:
            try:
                store._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _state_failure(exc, store.path, "starting a transaction") from exc
            store._stamp = _now()
            self._outer = True
        store._depth += 1
        return store._conn

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        store = self._store
        store._depth -= 1
        if not self._outer:
            return  # inside batch(): the outer transaction commits
        if kind is not None:
            if store._conn.in_transaction:
                store._conn.execute("ROLLBACK")
            if exc is not None and isinstance(exc, sqlite3.Error | ValueError | KeyError):
                translated = _state_failure(exc, store.path, "writing the state")
                if translated is not exc:
                    raise translated from exc
            return
        try:
            store._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if store._conn.in_transaction:
                store._conn.execute("ROLLBACK")
            raise _state_failure(exc, store.path, "committing the state") from exc


class StateStore:
    """The state file of one project (all its targets). Not thread-safe; one per run.

    Every public write method commits its own transaction before returning, so a killed
    process leaves the file at the last committed action.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._depth = 0
        self._stamp = _now()  # the time of the open transaction (its rows' updated_at)

    @classmethod
    def open(cls, path: Path) -> StateStore:
        """Open (creating the file with mode 0600 and its folder) and migrate ``path``.

        Raises :class:`StateError` if the file is not a syncbridge state file or comes from
        a newer syncbridge (more migrations than this one knows).
        """
        path = Path(path)
        left = leftover_wal(path)
        if left:
            names = " and ".join(p.name for p in left)
            raise DamagedFile(
                f"{path} does not exist but {names} beside it are left over from a state file"
                " that was moved or deleted without them; a new state file of that name would"
                f" take their pages for its own. Put the state file back beside them, or move"
                f" {names} away, and run again",
                path=str(path),
            )
        try:
            if path.exists() and path.stat().st_size == 0:
                raise DamagedFile(
                    f"{path}: the state file is empty (0 bytes): it was truncated or replaced,"
                    " and syncbridge does not take it for a new one. Put a good copy back, or"
                    " run 'syncbridge repair' to rebuild it by pairing the vault with its"
                    " targets again (the empty file is kept as a backup)",
                    path=str(path),
                )
            if not path.exists():
                cls._create(path)
        except OSError as exc:
            failure = os_failure(exc, path, "creating the state file")
            if failure is not None:
                raise failure from exc
            raise StateError(
                f"{path}: cannot create or open the state file ({exc.strerror or exc}); "
                "choose a folder you may write in ([state] path in the config)"
            ) from None
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise cls._unusable(exc, path) from exc
        store = cls(conn, path)
        try:
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise cls._unusable(exc, path) from exc
        except BaseException:
            conn.close()
            raise
        return store

    @staticmethod
    def _unusable(exc: sqlite3.Error, path: Path) -> Exception:
        translated = _state_failure(exc, path, "opening the state file")
        if translated is exc:
            return StateError(f"{path}: not a usable state file ({exc})")
        return translated

    @classmethod
    def _create(cls, path: Path) -> None:
        """Create a new, empty state file at ``path`` whole: made and migrated under a
        temporary name, then renamed, so a run killed meanwhile leaves no empty file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.new")
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        os.chmod(temp, 0o600)
        try:
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                cls(conn, temp)._migrate()
            finally:
                conn.close()
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def _migrate(self) -> None:
        c = self._conn
        c.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StateError(
                f"{self.path} has state schema version {version}, newer than this "
                f"syncbridge knows ({len(MIGRATIONS)}); upgrade syncbridge"
            )
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables & _TABLES:
            raise DamagedFile(
                f"{self.path}: the state file is damaged (its schema version is gone but "
                f"its tables are there: {', '.join(sorted(tables & _TABLES))}); {REPAIR_HINT}",
                path=str(self.path),
            )
        for number, (name, sql) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._transaction():
                for statement in sql.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute("INSERT INTO migrations VALUES (?, ?)", (name, _now()))
                c.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(number),)
                )
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = sorted(_TABLES - tables)
        if missing:
            raise DamagedFile(
                f"{self.path}: the state file is damaged (table {', '.join(missing)} is "
                f"missing); {REPAIR_HINT}",
                path=str(self.path),
            )

    @property
    def schema_version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _transaction(self) -> _Transaction:
        """One transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back if the block
        raises); inside :meth:`batch`, the outer transaction commits."""
        return _Transaction(self)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the write methods called inside into one transaction (all or nothing).

        The executor journals a chunk of actions in one batch before writing any of them,
        and commits their results in another: the crash guarantees are per batch.
        """
        with self._transaction():
            yield

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- links and base snapshots -------------------------------------------------------

    def links(self, target: str) -> dict[int, Link]:
        """Every link of ``target`` without contents (cheap: no JSON parsing)."""
        with _Guard(self.path, f"reading the links of target {target!r}"):
            rows = self._conn.execute(
                "SELECT link_id, a_id, b_id, a_version, b_version, a_hash, b_hash, key,"
                " base IS NOT NULL FROM links WHERE target=?",
                (target,),
            )
            # One string object where the vault index and the listings hold the same value
            # (ids and versions: the vault and the SQLite adapter intern them too), and one
            # for the two content hashes of an entry both sides agree on: every link is
            # loaded in every run, so this is most of what a no-op sync holds (issue 14).
            intern = sys.intern
            return {
                r[0]: Link(
                    r[0],
                    intern(r[1]),
                    intern(r[2]),
                    intern(r[3]),
                    intern(r[4]),
                    r[5],
                    r[5] if r[6] == r[5] else r[6],
                    r[7],
                    bool(r[8]),
                )
                for r in rows
            }

    def snapshots(self, target: str, link_ids: Iterable[int]) -> dict[int, BaseSnapshot]:
        """Base snapshots of the given links (links without a base are left out)."""
        out: dict[int, BaseSnapshot] = {}
        ids = list(link_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with _Guard(self.path, f"reading the saved state of target {target!r}"):
                rows = self._conn.execute(
                    f"SELECT link_id, base FROM links WHERE target=? AND link_id IN ({marks})"
                    " AND base IS NOT NULL",
                    (target, *chunk),
                ).fetchall()
            for link_id, base in rows:
                with _Guard(
                    self.path,
                    f"reading the saved state of link {link_id} ({self._link_name(link_id)})",
                ):
                    out[link_id] = _load_base(base)
        return out

    def _link_name(self, link_id: int) -> str:
        """The vault path of a link, for messages (``?`` if that is unreadable too)."""
        try:
            row = self._conn.execute(
                "SELECT a_id FROM links WHERE link_id=?", (link_id,)
            ).fetchone()
            return str(row[0]) if row else "?"
        except (sqlite3.Error, ValueError):
            return "?"

    @staticmethod
    def _base(vault: SideSnapshot, remote: SideSnapshot, enc: SharedEncoder) -> str:
        """The JSON text of a base: the vault's snapshot under ``"a"``, the remote's under
        ``"b"`` (the file's names, see :data:`MIGRATIONS`). When both sides hold the same
        content (the usual case right after a sync), the remote side's fields and body are
        stored once, as ``"content": "a"``: half the bytes to encode, write and read back."""
        vault_text = enc.snapshot(vault)
        if vault.body == remote.body and same_json(vault.fields, remote.fields):
            return '{"a": ' + vault_text + ', "b": ' + enc.snapshot(remote, content="a") + "}"
        return '{"a": ' + vault_text + ', "b": ' + enc.snapshot(remote) + "}"

    def _save_link(
        self,
        target: str,
        link_id: int | None,
        vault: SideSnapshot,
        remote: SideSnapshot,
        *,
        key: str | None,
        has_base: bool,
        vault_path: str | None,
        hold_versions: bool = False,
    ) -> int:
        vault_version, remote_version = (
            ("", "") if hold_versions or not has_base else (vault.version, remote.version)
        )
        base: str | None = None
        vault_hash = remote_hash = ""
        if has_base:
            # both sides mostly hold the same content: one encoder encodes it once
            enc = SharedEncoder()
            base = self._base(vault, remote, enc)
            vault_hash = enc.content_hash(vault.fields, vault.body)
            remote_hash = enc.content_hash(remote.fields, remote.body)
        values = (
            vault.id,
            remote.id,
            vault_path,
            vault_version,
            remote_version,
            vault_hash,
            remote_hash,
            key,
            base,
            self._stamp,
        )
        c = self._conn
        if link_id is None:
            # OR REPLACE frees the ids first: the other links of this target holding this
            # vault id or remote id (unique indexes links_a, links_b) are deleted, as a rename
            # may take over an id another, now deleted, link still holds within this commit.
            cur = c.execute(
                "INSERT OR REPLACE INTO links (target, a_id, b_id, vault_path, a_version,"
                " b_version, a_hash, b_hash, key, base, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (target, *values),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid
        # The same for an existing link (which keeps its row even if it is gone meanwhile).
        c.execute(
            "DELETE FROM links WHERE target=? AND (a_id=? OR b_id=?) AND link_id IS NOT ?",
            (target, vault.id, remote.id, link_id),
        )
        c.execute(
            "UPDATE links SET a_id=?, b_id=?, vault_path=?, a_version=?, b_version=?,"
            " a_hash=?, b_hash=?, key=?, base=?, updated_at=? WHERE link_id=?",
            (*values, link_id),
        )
        return link_id

    def save_link(
        self,
        target: str,
        link_id: int | None,
        vault: SideSnapshot,
        remote: SideSnapshot,
        *,
        key: str | None = None,
        has_base: bool = True,
        vault_path: str | None = None,
        hold_versions: bool = False,
        journal_id: int | None = None,
    ) -> int:
        """Record (insert or replace) a link and its base in one transaction; return its id.

        ``has_base=False`` links a pair that never agreed (the next run merges it with no
        base). ``hold_versions`` stores empty versions so the next run re-reads the entry
        (used while a manual conflict is open). ``journal_id`` is deleted in the same
        transaction: the action it journaled is now committed.
        """
        with self._transaction():
            new_id = self._save_link(
                target,
                link_id,
                vault,
                remote,
                key=key,
                has_base=has_base,
                vault_path=vault_path,
                hold_versions=hold_versions,
            )
            if journal_id is not None:
                self._conn.execute("DELETE FROM journal WHERE id=?", (journal_id,))
        return new_id

    def delete_link(self, link_id: int, *, journal_id: int | None = None) -> None:
        """Forget a link (both sides are gone); also clears ``journal_id``."""
        with self._transaction():
            self._conn.execute("DELETE FROM links WHERE link_id=?", (link_id,))
            if journal_id is not None:
                self._conn.execute("DELETE FROM journal WHERE id=?", (journal_id,))

    # -- journal ------------------------------------------------------------------------

    def journal_begin(
        self,
        target: str,
        kind: str,
        payload: Mapping[str, Any],
        conflicts: Sequence[ConflictEntry] = (),
    ) -> int:
        """Journal an action about to write, with its conflicts, before the first write.

        ``payload`` is stored as JSON (a :class:`SideSnapshot` in it as its ``to_json()``)
        and read back by :meth:`pending_journal`.

        The conflicts are logged now, not at commit, so a losing value is on disk before the
        write that overwrites it. A conflict identical to one still open (same link, field
        and values, not restored) is not logged twice.
        """
        with self._transaction():
            cur = self._conn.execute(
                "INSERT INTO journal (target, kind, payload, created_at) VALUES (?,?,?,?)",
                (target, kind, SharedEncoder().dumps(payload), self._stamp),
            )
            for conflict in conflicts:
                self._log_conflict(conflict)
            assert cur.lastrowid is not None
            return cur.lastrowid

    def journal_done(self, journal_id: int, *more: int) -> None:
        """Drop journal entries whose actions need no state change (e.g. they failed) or
        whose results were stored in the same transaction (see :meth:`batch`)."""
        ids = (journal_id, *more)
        with self._transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                self._conn.execute(f"DELETE FROM journal WHERE id IN ({marks})", chunk)

    def pending_journal(self, target: str) -> list[JournalEntry]:
        """Actions of ``target`` begun and never committed (an interrupted run)."""
        with _Guard(self.path, "reading the journal of interrupted actions"):
            rows = self._conn.execute(
                "SELECT id, target, kind, payload FROM journal WHERE target=? ORDER BY id",
                (target,),
            )
            return [JournalEntry(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    # -- conflicts ----------------------------------------------------------------------

    def open_conflict_id(self, c: ConflictEntry) -> int | None:
        """The id of a logged, unrestored conflict with the same link, field and values."""
        row = self._conn.execute(
            "SELECT id FROM conflicts WHERE target=? AND link_id IS ? AND field=?"
            " AND vault_value=? AND remote_value=? AND restored_at IS NULL",
            (c.target, c.link_id, c.field, _dump_value(c.vault_value), _dump_value(c.remote_value)),
        ).fetchone()
        return int(row[0]) if row else None

    def _log_conflict(self, c: ConflictEntry) -> int:
        vault_value, remote_value = _dump_value(c.vault_value), _dump_value(c.remote_value)
        known = self.open_conflict_id(c)
        if known is not None:
            return known
        cur = self._conn.execute(
            "INSERT INTO conflicts (target, link_id, vault_id, remote_id, field, vault_value,"
            " remote_value, winner, decided_by, created_at, copy_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                c.target,
                c.link_id,
                c.vault_id,
                c.remote_id,
                c.field,
                vault_value,
                remote_value,
                c.winner,
                c.decided_by,
                (c.created_at or dt.datetime.now(dt.UTC)).isoformat(),
                c.copy_id,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def log_conflict(self, conflict: ConflictEntry) -> int:
        """Add one conflict to the log (deduplicated as in :meth:`journal_begin`)."""
        with self._transaction():
            return self._log_conflict(conflict)

    def _conflict(self, r: Sequence[Any]) -> ConflictEntry:
        return ConflictEntry(
            id=r[0],
            target=r[1],
            link_id=r[2],
            vault_id=r[3],
            remote_id=r[4],
            field=r[5],
            vault_value=_load_value(r[6]),
            remote_value=_load_value(r[7]),
            winner=r[8],
            decided_by=r[9],
            created_at=dt.datetime.fromisoformat(r[10]),
            restored_at=dt.datetime.fromisoformat(r[11]) if r[11] else None,
            copy_id=r[12],
        )

    _CONFLICT_COLUMNS = (
        "id, target, link_id, vault_id, remote_id, field, vault_value, remote_value,"
        " winner, decided_by, created_at, restored_at, copy_id"
    )

    def conflicts(self, target: str | None = None) -> list[ConflictEntry]:
        """The conflict log, oldest first, for one target or all."""
        sql = f"SELECT {self._CONFLICT_COLUMNS} FROM conflicts"
        args: tuple[Any, ...] = ()
        if target is not None:
            sql, args = sql + " WHERE target=?", (target,)
        with _Guard(self.path, "reading the conflict log"):
            return [self._conflict(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    def conflict(self, conflict_id: int) -> ConflictEntry | None:
        """One conflict by id, or ``None`` (also for one no SQLite integer can be)."""
        if not _SQLITE_INT_MIN <= conflict_id <= _SQLITE_INT_MAX:
            return None
        row = self._conn.execute(
            f"SELECT {self._CONFLICT_COLUMNS} FROM conflicts WHERE id=?", (conflict_id,)
        ).fetchone()
        return self._conflict(row) if row else None

    def mark_restored(self, conflict_id: int) -> None:
        """Stamp a conflict as restored (now, UTC)."""
        with self._transaction():
            self._conn.execute(
                "UPDATE conflicts SET restored_at=? WHERE id=?", (_now(), conflict_id)
            )

    def link_by_id(self, link_id: int) -> Link | None:
        """One link by id (any target), or ``None`` (also for one no SQLite integer can be)."""
        if not _SQLITE_INT_MIN <= link_id <= _SQLITE_INT_MAX:
            return None
        r = self._conn.execute(
            "SELECT link_id, a_id, b_id, a_version, b_version, a_hash, b_hash, key,"
            " base IS NOT NULL FROM links WHERE link_id=?",
            (link_id,),
        ).fetchone()
        return Link(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8])) if r else None

    # -- run lock -----------------------------------------------------------------------

    @contextmanager
    def run_lock(self, target: str) -> Iterator[None]:
        """Hold the exclusive lock of one run of ``target`` (a ``.lock`` file next to the
        state, mode 0600, an advisory lock, :func:`syncbridge.portable.try_lock`); released
        when the block ends or the process dies. Raises
        :class:`~syncbridge.errors.SyncLocked` at once if it is held.
        """
        digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:16]
        lock_path = self.path.with_name(f"{self.path.name}.{digest}.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not try_lock(fd):
                raise SyncLocked(
                    f"another sync of target {target!r} is running (lock {lock_path}); "
                    "run again when it has finished"
                )
            try:
                yield
            finally:
                unlock(fd)
        finally:
            os.close(fd)

    # -- identity and generations -------------------------------------------------------

    @property
    def state_id(self) -> str:
        """A random id of this state file, made when first asked for and kept in ``meta``:
        a target records its generation per state id (a copy of the file keeps it)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='state_id'").fetchone()
        if row is not None:
            return str(row[0])
        new = uuid.uuid4().hex
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('state_id', ?)", (new,))
        row = self._conn.execute("SELECT value FROM meta WHERE key='state_id'").fetchone()
        return str(row[0])

    @property
    def known_state_id(self) -> str | None:
        """:attr:`state_id` if this file has one yet (never makes one)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='state_id'").fetchone()
        return str(row[0]) if row is not None else None

    def generation(self, target: str) -> tuple[int, int | None]:
        """(the generation of the last committed run of ``target``, the generation of a run
        begun and not committed or ``None``); ``(0, None)`` before the first."""
        row = self._conn.execute(
            "SELECT value FROM meta WHERE key=?", (f"generation:{target}",)
        ).fetchone()
        if row is None:
            return 0, None
        try:
            data = json.loads(row[0])
            pending = data.get("pending")
            return int(data["done"]), (int(pending) if pending is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(
                f"{self.path}: the generation of target {target!r} is damaged ({row[0]!r});"
                " run 'syncbridge repair' to rebuild the state"
            ) from exc

    def set_generation(self, target: str, done: int, pending: int | None = None) -> None:
        """Store ``target``'s generation: ``done`` committed, ``pending`` begun (one
        transaction)."""
        with self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (f"generation:{target}", json.dumps({"done": done, "pending": pending})),
            )

    def forget_target(self, target: str) -> int:
        """Drop every link, journal entry and cursor of ``target`` (the conflict log stays),
        in one transaction; return how many links there were. After it, the next run pairs
        the two sides again as after a lost state."""
        with self._transaction():
            (count,) = self._conn.execute(
                "SELECT count(*) FROM links WHERE target=?", (target,)
            ).fetchone()
            for table in ("links", "journal", "cursors"):
                self._conn.execute(f"DELETE FROM {table} WHERE target=?", (target,))
        return int(count)

    def backup(self, suffix: str) -> Path:
        """Copy the whole state (a consistent snapshot, SQLite's backup API) to
        ``<state file>.<suffix>-<UTC time>``, mode 0600; return the copy's path."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        copy = self.path.with_name(f"{self.path.name}.{suffix}-{stamp}")
        with _Guard(copy, "copying the state file aside"):
            fd = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(fd)
            dest = sqlite3.connect(copy)
            try:
                self._conn.backup(dest)
            finally:
                dest.close()
        return copy

    def salvage_conflicts(self, old: Path) -> int:
        """Copy the readable rows of the conflict log of the (damaged) state file ``old``
        into this one (their link ids dropped: they mean nothing here), in one transaction;
        return how many. Rows that cannot be read stay in ``old`` only."""
        try:
            source = sqlite3.connect(f"file:{old}?mode=ro", uri=True)
            source.text_factory = bytes
            rows = source.execute(
                "SELECT target, vault_id, remote_id, field, vault_value, remote_value,"
                " winner, decided_by, created_at, restored_at, copy_id FROM conflicts"
            ).fetchall()
            source.close()
        except sqlite3.Error:
            return 0
        copied = 0
        with self._transaction():
            for row in rows:
                try:
                    cells = [c.decode("utf-8") if isinstance(c, bytes) else c for c in row]
                    _load_value(cells[4]), _load_value(cells[5])
                    dt.datetime.fromisoformat(cells[8])
                except (ValueError, TypeError, AttributeError):
                    continue
                self._conn.execute(
                    "INSERT INTO conflicts (target, link_id, vault_id, remote_id, field,"
                    " vault_value, remote_value, winner, decided_by, created_at, restored_at,"
                    " copy_id) VALUES (?,NULL,?,?,?,?,?,?,?,?,?,?)",
                    cells,
                )
                copied += 1
        return copied

    # -- cursors ------------------------------------------------------------------------

    def cursor(self, target: str, name: str) -> str | None:
        """A saved cursor value (adapter-defined string), or ``None``."""
        row = self._conn.execute(
            "SELECT value FROM cursors WHERE target=? AND name=?", (target, name)
        ).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, target: str, name: str, value: str) -> None:
        """Save a cursor; callers never move it past the time their run started."""
        with self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO cursors VALUES (?,?,?)", (target, name, value)
            )
