"""Deleted rows: the ``_deletions`` log (filled by a trigger, for every tool) and the
``_trash`` table (rows syncbridge deleted, as JSON, recoverable).

Functions over one connection; the caller owns the transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from syncbridge_sqlite.codec import loads_or, parse_stamp, stamp
from syncbridge_sqlite.layout import NOW_SQL, Layout, Table, quote

__all__ = [
    "Deletion",
    "TrashEntry",
    "mark_deletion",
    "move_to_trash",
    "read_deletions",
    "read_trash",
    "restore_row",
]


@dataclass(frozen=True)
class Deletion:
    """A row deleted from a class table, as logged by the AFTER DELETE trigger.

    ``origin`` is ``"external"`` (any other tool), ``"syncbridge"`` (our delete, the row is
    in the trash) or ``"syncbridge-move"`` (the note changed class; the row moved table).
    ``deleted_at`` is tz-aware UTC, millisecond precision.
    """

    record_id: str
    class_name: str
    deleted_at: dt.datetime
    origin: str


@dataclass(frozen=True)
class TrashEntry:
    """A row syncbridge deleted; :meth:`SQLiteAdapter.restore` brings it back."""

    record_id: str
    class_name: str
    title: str | None
    deleted_at: dt.datetime


def _json_cell(cell: object) -> object:
    if isinstance(cell, bytes):
        return {"$base64": base64.b64encode(cell).decode("ascii")}
    return cell


def _cell_from_json(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return base64.b64decode(str(value["$base64"]))
    return value


def mark_deletion(
    conn: sqlite3.Connection, layout: Layout, table: Table, record_id: str, origin: str
) -> None:
    """Set the origin of the latest logged deletion of ``record_id`` (ours, not a user's)."""
    deletions = quote(layout.deletions)
    conn.execute(
        f"UPDATE {deletions} SET origin = ? WHERE seq = (SELECT max(seq) FROM {deletions}"
        " WHERE table_name = ? AND record_id = ?)",
        (origin, table.name, record_id),
    )


def move_to_trash(
    conn: sqlite3.Connection, layout: Layout, table: Table, rowid: int, record_id: str
) -> None:
    """Copy the row into ``_trash`` (every column, as JSON), delete it, log it as ours."""
    cursor = conn.execute(f"SELECT * FROM {table.q} WHERE rowid = ?", (rowid,))
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, (_json_cell(c) for c in cursor.fetchone()), strict=True))
    conn.execute(
        f"INSERT INTO {quote(layout.trash)}"
        " (table_name, class_name, record_id, row_json) VALUES (?, ?, ?, ?)",
        (table.name, table.class_name, record_id, json.dumps(row, ensure_ascii=False)),
    )
    conn.execute(f"DELETE FROM {table.q} WHERE rowid = ?", (rowid,))
    mark_deletion(conn, layout, table, record_id, "syncbridge")


def read_deletions(
    conn: sqlite3.Connection, layout: Layout, since: dt.datetime | None, include_own: bool
) -> list[Deletion]:
    """Logged deletions, oldest first (see ``SQLiteAdapter.deletions``)."""
    query = (
        f"SELECT d.record_id, coalesce(m.class_name, d.table_name), d.deleted_at, d.origin"
        f" FROM {quote(layout.deletions)} d"
        f" LEFT JOIN {quote(layout.meta)} m ON m.table_name = d.table_name"
        " WHERE (? OR d.origin = 'external') AND d.deleted_at >= ? ORDER BY d.seq"
    )
    floor = "" if since is None else stamp(since)
    rows = conn.execute(query, (include_own, floor)).fetchall()
    return [Deletion(str(r[0]), str(r[1]), parse_stamp(r[2]), str(r[3])) for r in rows]


def read_trash(conn: sqlite3.Connection, layout: Layout) -> list[TrashEntry]:
    """Rows in ``_trash`` not restored yet, oldest first."""
    rows = conn.execute(
        f"SELECT record_id, class_name, row_json, deleted_at"
        f" FROM {quote(layout.trash)} WHERE restored_at IS NULL ORDER BY seq"
    ).fetchall()
    entries = []
    for record_id, class_name, row_json, deleted_at in rows:
        title = loads_or(row_json, {}).get("title")
        entries.append(
            TrashEntry(
                str(record_id),
                str(class_name),
                title if isinstance(title, str) else None,
                parse_stamp(deleted_at),
            )
        )
    return entries


def restore_row(
    conn: sqlite3.Connection, layout: Layout, record_id: str
) -> tuple[Table, int] | None:
    """Insert the latest trashed copy of ``record_id`` back into its class table (created
    if needed) with ``_version`` one past the trashed one; mark it restored. Returns the
    table and the new rowid, or ``None`` when ``record_id`` is not in the trash. Cells of
    columns that no longer exist are dropped."""
    trash = quote(layout.trash)
    found = conn.execute(
        f"SELECT seq, class_name, row_json FROM {trash}"
        " WHERE record_id = ? AND restored_at IS NULL ORDER BY seq DESC LIMIT 1",
        (record_id,),
    ).fetchone()
    if found is None:
        return None
    seq, class_name, row_json = found
    row: dict[str, Any] = loads_or(row_json, {})
    table = layout.ensure_table(str(class_name))
    known = {"title", "body", "_nulls", "_exact"} | {c.name for c in table.columns.values()}
    names = [n for n in row if n in known]
    version = int(row.get("_version") or 0) + 1
    columns = ", ".join(quote(n) for n in ["_id", "_version", *names])
    marks = ", ".join("?" * (len(names) + 2))
    cursor = conn.execute(
        f"INSERT INTO {table.q} ({columns}) VALUES ({marks})",
        [record_id, version, *(_cell_from_json(row[n]) for n in names)],
    )
    conn.execute(f"UPDATE {trash} SET restored_at = {NOW_SQL} WHERE seq = ?", (seq,))
    assert cursor.lastrowid is not None
    return table, cursor.lastrowid
