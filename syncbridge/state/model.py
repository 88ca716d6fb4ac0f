"""The records of the state store: base snapshots, links, conflict-log entries, journal."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syncbridge.adapter import Record

__all__ = [
    "BaseSnapshot",
    "ConflictEntry",
    "JournalEntry",
    "Link",
    "SideSnapshot",
    "content_hash",
]


def content_hash(fields: Mapping[str, Any], body: str) -> str:
    """sha256 hex of the canonical fields (sorted keys) and body; title and ids excluded.

    Equal hashes mean equal content, which is how renames are recognised.
    """
    blob = json.dumps([fields, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SideSnapshot:
    """One side of an entry as last agreed: its id, version, time and full content.

    ``modified`` is tz-aware; ``mtime`` is the vault's file time (``Record.extra["mtime"]``)
    when the side has one.
    """

    id: str
    version: str
    class_name: str
    fields: Mapping[str, Any]
    body: str
    title: str | None = None
    modified: dt.datetime | None = None

    @classmethod
    def from_record(cls, record: Record) -> SideSnapshot:
        """The snapshot of a record as read from an adapter (id and version required)."""
        if record.id is None or record.version is None:
            raise ValueError("a snapshot needs a record read back from its adapter")
        return cls(
            id=record.id,
            version=record.version,
            class_name=record.class_name,
            fields=dict(record.fields),
            body=record.body,
            title=record.title,
            modified=record.modified,
        )

    @property
    def content_hash(self) -> str:
        return content_hash(self.fields, self.body)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "class": self.class_name,
            "fields": dict(self.fields),
            "body": self.body,
            "title": self.title,
            "modified": self.modified.isoformat() if self.modified else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SideSnapshot:
        modified = data.get("modified")
        return cls(
            id=data["id"],
            version=data["version"],
            class_name=data["class"],
            fields=data["fields"],
            body=data["body"],
            title=data.get("title"),
            modified=dt.datetime.fromisoformat(modified) if modified else None,
        )


@dataclass(frozen=True)
class BaseSnapshot:
    """Both sides of a linked entry as last agreed (``a`` = vault, ``b`` = remote)."""

    a: SideSnapshot
    b: SideSnapshot


@dataclass(frozen=True)
class Link:
    """A linked entry, cheap to load for 10,000 entries (no contents).

    ``a_version`` / ``b_version`` are the versions at the last agreement; an empty string
    means "unknown, read it again". ``a_hash`` / ``b_hash`` are the content hashes of the
    base (empty without a base). ``key`` is the id-field value as JSON (``"1751752568955"``)
    when the entry has one. ``has_base`` is false for a pair linked but never agreed.
    """

    link_id: int
    a_id: str
    b_id: str
    a_version: str
    b_version: str
    a_hash: str = ""
    b_hash: str = ""
    key: str | None = None
    has_base: bool = True


@dataclass(frozen=True)
class ConflictEntry:
    """One row of the conflict log: both values of ``field`` (or ``"body"``), and the winner.

    ``vault_value`` / ``remote_value`` may be :data:`MISSING` (the key was absent on that
    side). ``winner`` is ``"vault"``, ``"remote"`` or ``None`` (manual: nobody won yet).
    ``decided_by`` says how (``"last_modified"``, ``"file_mtime"``, ``"tie_breaker"``,
    ``"vault_wins"``, ``"remote_wins"``, ``"manual"``, ``"no_base"``). ``copy_id`` is the
    conflict copy written next to the note, if any. Times are tz-aware UTC.
    """

    target: str
    link_id: int | None
    vault_id: str | None
    remote_id: str | None
    field: str
    vault_value: Any
    remote_value: Any
    winner: str | None
    decided_by: str
    id: int | None = None
    created_at: dt.datetime | None = None
    restored_at: dt.datetime | None = None
    copy_id: str | None = None

    @property
    def loser_value(self) -> Any:
        """The value that was overwritten (the remote's under manual: the vault's stayed)."""
        return self.vault_value if self.winner == "remote" else self.remote_value


@dataclass(frozen=True)
class JournalEntry:
    """An action begun (journaled before its first write) but not committed."""

    id: int
    target: str
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
