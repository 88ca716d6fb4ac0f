"""Check a state file without trusting it: what ``syncbridge doctor`` says about the state.

SQLite's own ``quick_check`` finds a damaged page (a broken header, a torn write), but not
damaged bytes inside a row, which SQLite stores as they are: every row is read here as
bytes and decoded the way the engine decodes it (UTF-8 text, the JSON of a base, a journal
payload, a logged value), so a row the next sync would stumble on is named now, with its
link and note. Read-only (the file is opened with ``mode=ro``), and the damaged file is
never changed; ``syncbridge repair`` rebuilds a new one beside a backup.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from syncbridge.state.model import content_hash
from syncbridge.storage import leftover_wal

__all__ = ["StateCheck", "check_state"]

# (table, its key column, the columns that hold text, those of them that hold JSON)
_TABLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("links", "link_id", ("target", "a_id", "b_id", "a_version", "b_version", "base"), ("base",)),
    (
        "conflicts",
        "id",
        ("target", "field", "vault_value", "remote_value"),
        ("vault_value", "remote_value"),
    ),
    ("journal", "id", ("target", "kind", "payload"), ("payload",)),
    ("meta", "key", ("key", "value"), ()),
)


@dataclass
class StateCheck:
    """What :func:`check_state` found: ``problems`` (one sentence each, empty when sound)
    and how many links and open conflicts the file holds."""

    path: Path
    exists: bool = True
    links: int = 0
    conflicts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_state(path: Path) -> StateCheck:
    """Check the state file at ``path`` (see the module docstring). Never writes."""
    result = StateCheck(path)
    left = leftover_wal(path)
    if left:
        names = " and ".join(p.name for p in left)
        result.problems.append(
            f"{path} does not exist but {names} beside it are left over from a state file "
            f"that was moved or deleted; move {names} away or put the file back"
        )
    if not path.exists():
        result.exists = False
        return result
    if path.stat().st_size == 0:
        result.problems.append(f"{path} is empty (0 bytes): truncated or replaced")
        return result
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        result.problems.append(f"{path} cannot be opened: {exc}")
        return result
    conn.text_factory = bytes
    try:
        found = conn.execute("PRAGMA quick_check").fetchall()
        if found != [(b"ok",)]:
            detail = "; ".join(str(r[0], "utf-8", "replace") for r in found[:3])
            result.problems.append(f"{path} is damaged (SQLite's check: {detail})")
        _check_schema(conn, path, result)
        for table, key, text_columns, json_columns in _TABLES:
            _check_rows(conn, path, table, key, text_columns, json_columns, result)
    except sqlite3.DatabaseError as exc:
        result.problems.append(f"{path} is damaged ({exc})")
    finally:
        conn.close()
    return result


def _check_schema(conn: sqlite3.Connection, path: Path, result: StateCheck) -> None:
    """The tables the migrations make and the schema version naming them are there (as
    :meth:`StateStore.open` requires; a sync refuses the file otherwise)."""
    from syncbridge.state.store import _TABLES as MADE

    tables = {
        _text(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    missing = sorted(MADE - tables)
    if missing:
        result.problems.append(f"{path} is damaged (table {', '.join(missing)} is missing)")
        return
    row = (
        conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if "meta" in tables
        else None
    )
    if row is None:
        result.problems.append(f"{path} is damaged (its schema version is gone)")


def _check_rows(
    conn: sqlite3.Connection,
    path: Path,
    table: str,
    key: str,
    text_columns: tuple[str, ...],
    json_columns: tuple[str, ...],
    result: StateCheck,
) -> None:
    names = ", ".join(text_columns)
    extra = ", a_id" if table == "links" else ""
    rows = conn.execute(f"SELECT {key}{extra}, {names} FROM {table}")
    for row in rows:
        row_key, cells = row[0], row[1 + bool(extra) :]
        where = f"{table} row {_text(row_key)}"
        if extra:
            where += f" ({_text(row[1])})"
            result.links += 1
        if table == "conflicts":
            result.conflicts += 1
        for column, cell in zip(text_columns, cells, strict=True):
            if cell is None:
                continue
            try:
                text = cell.decode("utf-8") if isinstance(cell, bytes) else str(cell)
            except UnicodeDecodeError as exc:
                result.problems.append(
                    f"{path}: {where}: column {column} holds bytes that are not UTF-8 ({exc})"
                )
                continue
            if column in json_columns:
                try:
                    json.loads(text)
                except ValueError as exc:
                    result.problems.append(
                        f"{path}: {where}: column {column} is not the JSON syncbridge wrote ({exc})"
                    )
                    continue
                if table == "links" and column == "base":
                    _check_base(conn, path, where, row_key, text, result)


def _text(cell: object) -> str:
    if isinstance(cell, bytes):
        return cell.decode("utf-8", "replace")
    return str(cell)


def _check_base(
    conn: sqlite3.Connection, path: Path, where: str, link_id: object, text: str, result: StateCheck
) -> None:
    """A base must read as one and hold the content its stored hashes describe (damaged
    bytes that still spell valid JSON change a body: the hash tells)."""
    from syncbridge.state.store import _load_base

    try:
        base = _load_base(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        result.problems.append(f"{path}: {where}: the saved base cannot be read ({exc!r})")
        return
    row = conn.execute("SELECT a_hash, b_hash FROM links WHERE link_id = ?", (link_id,)).fetchone()
    hashes = tuple(_text(h) for h in row)
    sides = (("vault", base.vault, hashes[0]), ("remote", base.remote, hashes[1]))
    for side, snap, stored in sides:
        if stored and content_hash(snap.fields, snap.body) != stored:
            result.problems.append(
                f"{path}: {where}: the saved {side} content does not match its checksum "
                "(damaged bytes)"
            )
