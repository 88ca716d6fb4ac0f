"""The records of the state store: base snapshots, links, conflict-log entries, journal."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from syncbridge.adapter import Record

__all__ = [
    "BaseSnapshot",
    "ConflictEntry",
    "JournalEntry",
    "Link",
    "SharedEncoder",
    "SideSnapshot",
    "content_hash",
    "same_json",
]


def content_hash(fields: Mapping[str, Any], body: str) -> str:
    """sha256 hex of the canonical fields (sorted keys) and body; title and ids excluded.

    Equal hashes mean equal content, which is how renames are recognised.
    """
    blob = json.dumps([fields, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_SHARED_MIN = 64
"""Strings at least this long are encoded once (see :func:`_string_text`)."""
_STRING_TEXTS: dict[str, str] = {}
_STRING_TEXTS_MAX = 1024  # a chunk's bodies, journaled and then stored in its bases


def _string_text(value: str) -> str:
    """The JSON text of a long string, remembered for the most recent ones: the executor
    encodes a body in the journal, and again in the base a moment later. (Strings cannot
    change, so a remembered text is always right.)"""
    text = _STRING_TEXTS.get(value)
    if text is None:
        text = str(_ENCODE_STR(value))
        if len(_STRING_TEXTS) >= _STRING_TEXTS_MAX:
            # drop the oldest (another thread may be doing the same)
            with contextlib.suppress(RuntimeError, StopIteration):
                _STRING_TEXTS.pop(next(iter(_STRING_TEXTS)), None)
        _STRING_TEXTS[value] = text
    return text


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False)
_ENCODE_STR: Any = encode_basestring  # the same for a str (C), without the checks


def _short(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` of an id, a version, a title (not shared)."""
    if type(value) is str:
        return str(_ENCODE_STR(value))
    return "null" if value is None else _ENCODE(value)


def same_json(x: Any, y: Any) -> bool:
    """Whether ``json.dumps`` gives ``x`` and ``y`` the same text: equal, with the same
    types throughout (``1``, ``1.0`` and ``True`` differ) and dict keys in the same order."""
    if x is y:
        return True
    kind = type(x)
    if kind is not type(y):
        return False
    if kind is dict:
        if len(x) != len(y):
            return False
        for (kx, vx), (ky, vy) in zip(x.items(), y.items(), strict=True):
            if kx != ky or type(kx) is not type(ky):
                return False
            if vx is vy:
                continue
            value_kind = type(vx)
            if value_kind is str or value_kind is int or value_kind is bool:
                if value_kind is not type(vy) or vx != vy:
                    return False
            elif not same_json(vx, vy):
                return False
        return True
    if kind is list:
        if len(x) != len(y):
            return False
        for vx, vy in zip(x, y, strict=True):
            if vx is vy:
                continue
            value_kind = type(vx)
            if value_kind is str or value_kind is int or value_kind is bool:
                if value_kind is not type(vy) or vx != vy:
                    return False
            elif not same_json(vx, vy):
                return False
        return True
    if kind is float:
        return bool(float.__repr__(x) == float.__repr__(y))
    if kind is str or kind is int or kind is bool:
        return bool(x == y)
    return False


class SharedEncoder:
    """``json.dumps(value, ensure_ascii=False)`` and :func:`content_hash`, encoding each
    dict or list once per encoder, and each long string (a body, mostly) once.

    A base holds both sides of an entry and a journal entry the record sent beside its
    source: mostly the same body and fields twice, and hashing needs them again. Strings
    are matched by equality (their text depends on nothing else; the most recent are
    remembered across encoders), dicts and lists by :func:`same_json` (``1``, ``1.0`` and
    ``True`` are equal but are not the same JSON). Use one encoder for one statement: the
    dicts and lists must not change while it lives. The text is what ``json.dumps`` gives,
    separators included, so it reads back the same.
    """

    def __init__(self) -> None:
        self._hashed: tuple[str, str, str] | None = None  # fields text, body text, hash
        self._objects: list[tuple[Any, str]] = []
        self._sorted: list[tuple[Any, str]] = []

    @staticmethod
    def _known(seen: list[tuple[Any, str]], value: Any) -> str | None:
        for known, text in seen:
            if known is value or (known == value and same_json(known, value)):
                return text
        return None

    def _leaf(self, value: Any) -> str:
        if type(value) is SideSnapshot:
            return self.snapshot(value)  # as its to_json()
        if isinstance(value, str):
            if len(value) < _SHARED_MIN:
                return str(_ENCODE_STR(value))
            return _string_text(value)
        if value is None:
            return "null"
        if isinstance(value, dict | list):
            text = self._known(self._objects, value)
            if text is None:
                text = _ENCODE(value)
                self._objects.append((value, text))
            return text
        return _ENCODE(value)

    def dumps(self, value: Any, *, leaves: frozenset[str] = frozenset({"fields"})) -> str:
        """The JSON text of ``value``. Dicts with string keys are walked (except the values
        of keys in ``leaves``, encoded whole and shared) so that long strings are shared. A
        :class:`SideSnapshot` inside is written as its :meth:`~SideSnapshot.to_json`."""
        return self._dumps(value, leaves, 0)

    def _dumps(self, value: Any, leaves: frozenset[str], depth: int) -> str:
        if type(value) is not dict or depth > 8:
            return self._leaf(value)
        items = []
        for k, v in value.items():
            if type(k) is not str:
                return self._leaf(value)  # json.dumps turns such keys into strings
            if type(v) is dict and k not in leaves:
                text = self._dumps(v, leaves, depth + 1)
            elif type(v) is str and len(v) < _SHARED_MIN:
                text = _ENCODE_STR(v)
            else:
                text = self._leaf(v)
            items.append(_ENCODE_STR(k) + ": " + text)
        return "{" + ", ".join(items) + "}"

    def snapshot(self, snap: SideSnapshot, *, content: str | None = None) -> str:
        """The JSON text of ``snap.to_json()``; with ``content``, the fields and body are
        left out and ``"content": content`` names the snapshot that holds them."""
        if content is not None:
            stored = ', "content": ' + _short(content)
        else:
            fields = snap.fields if type(snap.fields) is dict else dict(snap.fields)
            body = snap.body
            stored = (
                ', "fields": '
                + self._leaf(fields)
                + ', "body": '
                + (
                    _string_text(body)
                    if type(body) is str and len(body) >= _SHARED_MIN
                    else self._leaf(body)
                )
            )
        return (
            '{"id": ' + _short(snap.id)
            + ', "version": ' + _short(snap.version)
            + ', "class": ' + _short(snap.class_name)
            + stored
            + ', "title": ' + _short(snap.title)
            + ', "modified": ' + _short(snap.modified.isoformat() if snap.modified else None)
            + "}"
        )  # fmt: skip

    def content_hash(self, fields: Mapping[str, Any], body: str) -> str:
        """:func:`content_hash`, sharing the body's text with :meth:`dumps`."""
        fields = fields if isinstance(fields, dict) else dict(fields)
        sorted_text = self._known(self._sorted, fields)
        if sorted_text is None:
            sorted_text = json.dumps(
                fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")
            )
            self._sorted.append((fields, sorted_text))
        body_text = self._leaf(body)
        last = self._hashed
        if last is not None and last[0] is sorted_text and last[1] is body_text:
            return last[2]  # the same content as the last one hashed (the other side)
        blob = "[" + sorted_text + "," + body_text + "]"
        digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        self._hashed = (sorted_text, body_text, digest)
        return digest


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


@dataclass(frozen=True, slots=True)  # slots: every link is loaded in every run
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
    ``"vault_wins"``, ``"remote_wins"``, ``"manual"``, ``"no_base"``, ``"computed"``: a
    value typed on the remote into a field the vault computes). ``copy_id`` is the
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
