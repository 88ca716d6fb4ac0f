"""The database layout: class tables, their triggers, and the bookkeeping tables.

One table per class. Besides one column per field, each holds:

=============  ==========================================================================
``_id``        the record id, TEXT PRIMARY KEY; defaults to 16 random hex digits, so a row
               inserted by hand gets one
``title``      the note's title (file name without ``.md``)
``body``       the Markdown body
``_version``   INTEGER, 1 on insert, bumped by every write
``_modified``  UTC ISO 8601 with milliseconds (``2026-11-28T01:02:03.456Z``), stamped on
               insert (column default) and on every update (trigger)
``_nulls``     JSON list of the fields present with an empty value; a NULL cell of a field
               not listed is an absent key (so new columns and hand-inserted rows add no
               empty keys to notes)
``_exact``     JSON ``{field: [cell, value]}`` keeping values that the column's type does
               not hold exactly (see :mod:`syncbridge_sqlite.codec`)
=============  ==========================================================================

Bookkeeping tables (names take the configured prefix too): ``_meta`` (which class each table
holds), ``_meta_columns`` (column ⇄ field and the field's kind), ``_deletions`` (one row per
deleted row, written by an AFTER DELETE trigger, with the time) and ``_trash`` (rows deleted
by syncbridge, as JSON, recoverable).

The triggers run inside SQLite, so edits made with the ``sqlite3`` shell, Datasette or DB
Browser are stamped exactly like ours. The update trigger only fires when the writer did not
change ``_version`` itself; syncbridge's own writes bump it explicitly, which keeps them to
one write per row and stops the trigger from re-firing itself.

Other tools can break this layout: DB Browser's "Modify table" rebuilds a table without its
triggers, ``ALTER TABLE ... DROP COLUMN`` removes a field's column. :meth:`Layout.load`
notices both (:attr:`Layout.damaged`), and :meth:`Layout.mend` puts it right in one write
transaction: see there.
"""

from __future__ import annotations

import logging
import sqlite3
import unicodedata
from dataclasses import dataclass, field

from syncbridge.schema.model import FieldKind
from syncbridge_sqlite.codec import SQL_TYPES

__all__ = ["INTERNAL_COLUMNS", "NOW_SQL", "Column", "Layout", "Table", "quote"]

log = logging.getLogger(__name__)

LAYOUT_VERSION = 1
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
"""SQL for "now", UTC, millisecond precision."""

INTERNAL_COLUMNS = ("_id", "title", "body", "_version", "_modified", "_nulls", "_exact")

_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def quote(identifier: str) -> str:
    """``identifier`` as a double-quoted SQL identifier (any characters but NUL)."""
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fold(name: str) -> str:
    """SQLite compares identifiers case-insensitively for ASCII letters only."""
    return name.translate(_ASCII_FOLD)


def _clean(name: str, fallback: str) -> str:
    """``name`` in NFC without control characters, or ``fallback`` if nothing is left."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()
    return text or fallback


def _trigger_names(table_name: str) -> tuple[str, str]:
    """The names of a class table's update and delete triggers."""
    return table_name + "__touch", table_name + "__deleted"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while _fold(candidate) in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(_fold(candidate))
    return candidate


@dataclass(frozen=True)
class Column:
    """A field's column: ``name`` in SQL, ``field`` in the note, ``kind`` for decoding."""

    name: str
    field: str
    kind: FieldKind


@dataclass
class Table:
    """A class table and its field columns, keyed by field name, in creation order."""

    name: str
    class_name: str
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def q(self) -> str:
        return quote(self.name)


class Layout:
    """Creates and reads the layout in one connection (given by :meth:`bind`). Mutating
    methods write DDL and meta rows; the caller owns the transaction."""

    conn: sqlite3.Connection

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.meta = prefix + "_meta"
        self.meta_columns = prefix + "_meta_columns"
        self.deletions = prefix + "_deletions"
        self.trash = prefix + "_trash"
        self.tables: dict[str, Table] = {}  # by class name
        self.untriggered: list[Table] = []  # tables missing a trigger of ours (see mend)
        self.gone_columns: list[tuple[Table, str, str]] = []  # (table, column, field)

    def bind(self, conn: sqlite3.Connection) -> None:
        """Use ``conn`` from now on."""
        self.conn = conn

    # -- setup -------------------------------------------------------------------------

    def has_bookkeeping(self) -> bool:
        """Whether every bookkeeping table exists already (a read, no lock taken)."""
        names = {self.meta, self.meta_columns, self.deletions, self.trash}
        found = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?)",
            tuple(names),
        ).fetchone()[0]
        return int(found) == len(names)

    def create_bookkeeping(self) -> None:
        """Create the bookkeeping tables if missing (idempotent)."""
        q = quote
        statements = [
            f"""
            CREATE TABLE IF NOT EXISTS {q(self.meta)} (
                table_name TEXT PRIMARY KEY,
                class_name TEXT NOT NULL UNIQUE,
                layout_version INTEGER NOT NULL DEFAULT {LAYOUT_VERSION},
                created_at TEXT NOT NULL DEFAULT ({NOW_SQL})
            )""",
            f"""
            CREATE TABLE IF NOT EXISTS {q(self.meta_columns)} (
                table_name TEXT NOT NULL,
                column_name TEXT NOT NULL,
                field_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                position INTEGER NOT NULL,
                PRIMARY KEY (table_name, column_name),
                UNIQUE (table_name, field_name)
            )""",
            f"""
            CREATE TABLE IF NOT EXISTS {q(self.deletions)} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                table_name TEXT NOT NULL,
                record_id TEXT,
                deleted_at TEXT NOT NULL DEFAULT ({NOW_SQL}),
                origin TEXT NOT NULL DEFAULT 'external'
            )""",
            f"""
            CREATE INDEX IF NOT EXISTS {q(self.deletions + "_by_time")}
                ON {q(self.deletions)} (deleted_at)""",
            f"""
            CREATE TABLE IF NOT EXISTS {q(self.trash)} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                table_name TEXT NOT NULL,
                class_name TEXT NOT NULL,
                record_id TEXT NOT NULL,
                row_json TEXT NOT NULL,
                deleted_at TEXT NOT NULL DEFAULT ({NOW_SQL}),
                restored_at TEXT
            )""",
        ]
        for statement in statements:
            self.conn.execute(statement)

    def load(self) -> None:
        """Read ``_meta`` and ``_meta_columns`` into :attr:`tables`.

        Tables and columns someone dropped or renamed with another tool are left out: their
        rows read as deleted (with a warning), their fields as absent (the column is listed
        in :attr:`gone_columns` for :meth:`mend`), and a later write recreates what it
        needs. Tables missing one of our triggers are listed in :attr:`untriggered`.
        """
        self.tables = {}
        self.untriggered = []
        self.gone_columns = []
        by_table: dict[str, Table] = {}
        existing = self._existing_tables()
        if _fold(self.meta) not in existing or _fold(self.meta_columns) not in existing:
            return  # no bookkeeping yet (created by the first write): no class table
        for table_name, class_name in self.conn.execute(
            f"SELECT table_name, class_name FROM {quote(self.meta)} ORDER BY rowid"
        ):
            if _fold(table_name) not in existing:
                log.warning(
                    "table %s of class %s is gone; its rows count as deleted",
                    table_name,
                    class_name,
                )
                continue
            table = Table(table_name, class_name)
            self.tables[class_name] = table
            by_table[table_name] = table
        present = {
            name: {row[1] for row in self.conn.execute(f"PRAGMA table_info({quote(name)})")}
            for name in by_table
        }
        for table_name, column, field_name, kind in self.conn.execute(
            f"SELECT table_name, column_name, field_name, kind FROM {quote(self.meta_columns)}"
            " ORDER BY table_name, position"
        ):
            if table_name not in by_table:
                continue
            if column not in present[table_name]:
                # said as a warning once, by mend() or (read-only) by the adapter
                log.debug(
                    "column %s of table %s is gone; field %s reads as absent",
                    column,
                    table_name,
                    field_name,
                )
                self.gone_columns.append((by_table[table_name], column, field_name))
                continue
            by_table[table_name].columns[field_name] = Column(column, field_name, FieldKind(kind))
        self.untriggered = self._untriggered(list(by_table.values()))

    @property
    def damaged(self) -> bool:
        """Whether :meth:`load` found something another tool broke that :meth:`mend` fixes."""
        return bool(self.untriggered or self.gone_columns)

    def _untriggered(self, tables: list[Table]) -> list[Table]:
        """The (real, not view) tables among ``tables`` lacking one of our triggers."""
        real: set[str] = set()
        triggers: set[tuple[str, str]] = set()  # (table, trigger), folded
        for kind, name, table_name in self.conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'trigger')"
        ):
            if kind == "table":
                real.add(_fold(name))
            else:
                triggers.add((_fold(table_name), _fold(name)))
        return [
            table
            for table in tables
            if _fold(table.name) in real
            and any(
                (_fold(table.name), _fold(trigger)) not in triggers
                for trigger in _trigger_names(table.name)
            )
        ]

    # -- repairs -----------------------------------------------------------------------

    def damage_summary(self) -> str:
        """What :meth:`mend` would repair and what it means meanwhile, in words."""
        parts = [
            f"table {t.name} has lost syncbridge's triggers, so edits made to it by other"
            " tools are not seen until syncbridge can write to the database"
            for t in self.untriggered
        ]
        parts += [
            f"column {column} of table {t.name} is gone (field {field_name} reads as absent)"
            for t, column, field_name in self.gone_columns
        ]
        return "; ".join(parts)

    def mend(self) -> None:
        """Repair what :meth:`load` found broken; the caller holds a write transaction and
        reloads the layout afterwards.

        * A table that lost its triggers gets them back. Edits made while they were gone
          did not move ``_version``, so every row of the table gets ``_version + 1``: the
          next sync reads each row again and compares it by content with what it last
          synced, which finds those edits (unchanged rows change nothing).
        * A field whose column was dropped is forgotten in ``_meta_columns``, and every row
          of its table gets ``_version + 1``: the next sync reads each row once while the
          table does not hold the field, so the notes keep their values and the engine's
          base forgets the field too. A column added later under that name is the user's
          own; syncbridge adds a column of its own when it writes the field again. Without
          this, such a column would count as ours again, and its NULL cells as cleared
          values, deleting the field from every note read afterwards.

        ``_modified`` is left alone: nothing was edited at this time. The update trigger
        does not fire (the statement sets ``_version`` itself).
        """
        bump: dict[str, Table] = {}
        for table in self.untriggered:
            self._create_triggers(table.name)
            bump[table.name] = table
            log.warning(
                "table %s had lost syncbridge's triggers (%s), e.g. to a table rebuild by"
                " DB Browser's 'Modify table'; recreated them, and every row of %s is read"
                " again on this sync, so edits made meanwhile are found",
                table.name,
                ", ".join(_trigger_names(table.name)),
                table.name,
            )
        for table, column, field_name in self.gone_columns:
            self.conn.execute(
                f"DELETE FROM {quote(self.meta_columns)} WHERE table_name = ? AND column_name = ?",
                (table.name, column),
            )
            bump[table.name] = table
            log.warning(
                "column %s of table %s is gone: syncbridge forgot it and reads every row of"
                " %s again, without field %s (the notes keep their values). A column you add"
                " as %s is yours; syncbridge adds its own when it next writes field %s",
                column,
                table.name,
                table.name,
                field_name,
                column,
                field_name,
            )
        for table in bump.values():
            self.conn.execute(f"UPDATE {table.q} SET _version = coalesce(_version, 0) + 1")

    # -- tables and columns ------------------------------------------------------------

    def _existing_tables(self) -> set[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        return {_fold(name) for (name,) in rows}

    def ensure_table(self, class_name: str) -> Table:
        """The table of ``class_name``, created with its triggers if it does not exist."""
        if class_name in self.tables:
            return self.tables[class_name]
        taken = self._existing_tables()
        base = self.prefix + _clean(class_name, "class")
        if _fold(base).startswith("sqlite_"):
            base = "_" + base  # names starting with sqlite_ are reserved
        name = _unique(base, taken)
        q = quote(name)
        statements = [
            f"""
            CREATE TABLE {q} (
                _id TEXT PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(8)))),
                title TEXT,
                body TEXT,
                _version INTEGER NOT NULL DEFAULT 1,
                _modified TEXT NOT NULL DEFAULT ({NOW_SQL}),
                _nulls TEXT,
                _exact TEXT
            )""",
        ]
        for statement in statements:
            self.conn.execute(statement)
        self._create_triggers(name)
        # OR REPLACE: the class may have had a table that someone dropped.
        self.conn.execute(
            f"INSERT OR REPLACE INTO {quote(self.meta)} (table_name, class_name) VALUES (?, ?)",
            (name, class_name),
        )
        self.conn.execute(f"DELETE FROM {quote(self.meta_columns)} WHERE table_name = ?", (name,))
        table = Table(name, class_name)
        self.tables[class_name] = table
        return table

    def _create_triggers(self, name: str) -> None:
        """(Re)create the triggers of table ``name`` (see the module docstring)."""
        q = quote(name)
        touch, deleted = _trigger_names(name)
        statements = [
            f"DROP TRIGGER IF EXISTS {quote(touch)}",
            f"""
            CREATE TRIGGER {quote(touch)} AFTER UPDATE ON {q}
            FOR EACH ROW WHEN NEW._version IS OLD._version
            BEGIN
                UPDATE {q} SET _version = coalesce(OLD._version, 0) + 1,
                               _modified = {NOW_SQL}
                WHERE rowid = NEW.rowid;
            END""",
            f"DROP TRIGGER IF EXISTS {quote(deleted)}",
            f"""
            CREATE TRIGGER {quote(deleted)} AFTER DELETE ON {q}
            FOR EACH ROW
            BEGIN
                INSERT INTO {quote(self.deletions)} (table_name, record_id, deleted_at)
                VALUES ({_literal(name)}, OLD._id, {NOW_SQL});
            END""",
        ]
        for statement in statements:
            self.conn.execute(statement)

    def ensure_column(self, table: Table, field_name: str, kind: FieldKind) -> Column | None:
        """The column of ``field_name``, added with ALTER TABLE if missing. An existing
        column keeps the kind it was created with (its stored values are of that kind).

        ``None`` when the table already has as many columns as SQLite allows (2,000 by
        default): the table does not hold that field, whose values stay in the notes."""
        if field_name in table.columns:
            return table.columns[field_name]
        existing = [row[1] for row in self.conn.execute(f"PRAGMA table_info({table.q})")]
        if len(existing) >= self.conn.getlimit(sqlite3.SQLITE_LIMIT_COLUMN):
            return None
        taken = {_fold(c) for c in INTERNAL_COLUMNS}
        taken |= {_fold(c.name) for c in table.columns.values()}
        taken |= {_fold(name) for name in existing}
        name = _unique(_clean(field_name, "field"), taken)
        self.conn.execute(f"ALTER TABLE {table.q} ADD COLUMN {quote(name)} {SQL_TYPES[kind]}")
        self.conn.execute(
            f"INSERT OR REPLACE INTO {quote(self.meta_columns)}"
            " (table_name, column_name, field_name, kind, position) VALUES (?, ?, ?, ?, ?)",
            (table.name, name, field_name, kind.value, len(table.columns)),
        )
        column = Column(name, field_name, kind)
        table.columns[field_name] = column
        return column
