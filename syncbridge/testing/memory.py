"""``MemoryAdapter``: the in-memory adapter, a public fake for tests (httpx ``MockTransport``).

It can play either side of a sync. As the remote (default) it has opaque ids ``m1``,
``m2`` .... As the vault (``ids_are_paths=True``) it behaves like ``VaultAdapter``: ids are
vault-relative paths chosen from the title, the title is the file stem, a rename keeps the
version (bytes unchanged) but changes the id, ``modified`` comes from the
``last_modified_field`` (local time in ``timezone``) or else the mtime, and conflict copies
are kept next to the note but out of the listing.

Time comes from a clock you control (:class:`ManualClock`). With ``path`` set, the store is
persisted to a JSON file after every write (atomically; crash tests run it in a subprocess).
:class:`CheckThenWriteMemoryAdapter` plays a remote whose version check and write are two
steps (Notion), with a hook inside the window.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from syncbridge.adapter import Adapter, AdapterConfig, Capabilities, Record, RecordRef, canonical
from syncbridge.engine import faults
from syncbridge.errors import RecordError, StaleVersion
from syncbridge.schema.model import ClassSchema

__all__ = ["CheckThenWriteMemoryAdapter", "ManualClock", "MemoryAdapter", "MemoryConfig"]


class ManualClock:
    """A clock that moves only when told: ``clock()`` returns the current tz-aware time."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> dt.datetime:
        """Move forward by ``seconds`` and return the new time."""
        self.now += dt.timedelta(seconds=seconds)
        return self.now


class MemoryConfig(AdapterConfig):
    """Keys of a ``[[targets]]`` table with ``adapter = "memory"``."""

    ids_are_paths: bool = False
    """Behave like the vault: ids are paths made from titles."""
    path: str | None = None
    """JSON file to persist to after every write (relative to the config's folder)."""
    last_modified_field: str | None = None
    """Field whose value (ISO local time) is ``modified``; else the write time."""
    timezone: str = "UTC"
    """Zone of ``last_modified_field`` values."""


@dataclass
class _Stored:
    class_name: str
    fields: dict[str, Any]
    body: str
    title: str | None
    version: str
    mtime: dt.datetime
    ctime: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.class_name,
            "fields": self.fields,
            "body": self.body,
            "title": self.title,
            "version": self.version,
            "mtime": self.mtime.isoformat(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> _Stored:
        return cls(
            d["class"],
            d["fields"],
            d["body"],
            d["title"],
            d["version"],
            dt.datetime.fromisoformat(d["mtime"]),
        )


class MemoryAdapter(Adapter):
    """Records in a dict. Writes are compare-and-swap; deletes move records to ``trash``.

    ``write_count`` counts create/update/delete calls (a no-op sync makes none).
    """

    name: ClassVar[str] = "memory"
    config_model: ClassVar[type[AdapterConfig]] = MemoryConfig
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(
        self,
        config: AdapterConfig | None = None,
        *,
        base_dir: Path | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        config = config if config is not None else MemoryConfig()
        super().__init__(config, base_dir=base_dir)
        assert isinstance(config, MemoryConfig)
        self.cfg = config
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.records: dict[str, _Stored] = {}
        self.trash: dict[str, _Stored] = {}
        self.conflict_copies: dict[str, Record] = {}
        self.collections: dict[str, ClassSchema] = {}
        self.write_count = 0
        self.before_write: Callable[[str, str], None] | None = None
        """Test hook called as ``(op, record_id)`` before an update or delete checks its
        version: edit the record there to play a user saving during a sync."""
        self.between_check_and_write: Callable[[str, str], None] | None = None
        """Test hook of :class:`CheckThenWriteMemoryAdapter`, called as ``(op, record_id)``
        after the version check passed and before the write: an edit made there is
        overwritten, as on a check-then-write remote."""
        self._counter = 0
        self._closed = False
        self._file = (self.base_dir / config.path) if config.path else None
        if self._file is not None and self._file.exists():
            data = json.loads(self._file.read_text("utf-8"))
            self._counter = data["counter"]
            self.records = {k: _Stored.from_json(v) for k, v in data["records"].items()}
            self.trash = {k: _Stored.from_json(v) for k, v in data["trash"].items()}

    # -- persistence --------------------------------------------------------------------

    def _save(self) -> None:
        """Write the store to ``path`` atomically (temp file, then replace).

        No fsync: the file survives a killed process (what the crash tests do), not a
        power cut, and tests stay fast on slow disks.
        """
        if self._file is None:
            faults.during_write()  # in memory, "during" a write is already after it
            return
        data = {
            "counter": self._counter,
            "records": {k: v.to_json() for k, v in self.records.items()},
            "trash": {k: v.to_json() for k, v in self.trash.items()},
        }
        tmp = self._file.with_name(self._file.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        faults.during_write()  # a crash here leaves the old file: writes are atomic
        os.replace(tmp, self._file)

    def _next_version(self) -> str:
        self._counter += 1
        return f"v{self._counter}"

    # -- the contract -------------------------------------------------------------------

    def _modified(self, s: _Stored) -> dt.datetime:
        lm = self.cfg.last_modified_field
        value = s.fields.get(lm) if lm else None
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                return s.mtime
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(self.cfg.timezone))
            return parsed
        return s.mtime

    def _title(self, record_id: str, s: _Stored) -> str | None:
        return PurePosixPath(record_id).stem if self.cfg.ids_are_paths else s.title

    def _ref(self, record_id: str, s: _Stored) -> RecordRef:
        return RecordRef(record_id, s.version, self._modified(s), s.class_name)

    def _record(self, record_id: str, s: _Stored) -> Record:
        return Record(
            class_name=s.class_name,
            fields=json.loads(json.dumps(s.fields)),
            body=s.body,
            id=record_id,
            version=s.version,
            modified=self._modified(s),
            title=self._title(record_id, s),
            extra={"mtime": s.mtime},
        )

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Remember ``cls`` (idempotent); memory holds any field of any class."""
        self.collections[cls.name] = cls

    def list(self) -> Iterator[RecordRef]:
        for record_id in sorted(self.records):
            yield self._ref(record_id, self.records[record_id])

    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        out = []
        for record_id in ids:
            s = self.records.get(record_id)
            if s is None:
                raise RecordError(f"memory: no record {record_id!r}")
            out.append(self._record(record_id, s))
        return out

    def lookup(self, field: str, values: Sequence[Any]) -> dict[Any, builtins.list[str]]:
        """Ids of the records whose ``field`` holds one of ``values`` (memory cannot lock,
        so the engine looks its creates up first)."""
        wanted = list(values)
        found: dict[Any, builtins.list[str]] = {}
        for record_id in sorted(self.records):
            value = self.records[record_id].fields.get(field)
            if value is not None and value in wanted:
                found.setdefault(value, []).append(record_id)
        return found

    def _new_id(self, title: str | None) -> str:
        if not self.cfg.ids_are_paths:
            return f"m{self._counter + 1}"
        stem = (title or "Untitled").replace("/", "-")
        candidate, n = f"{stem}.md", 1
        while candidate in self.records or candidate in self.conflict_copies:
            candidate, n = f"{stem} {n}.md", n + 1
        return candidate

    def create(self, record: Record) -> RecordRef:
        record_id = self._new_id(record.title)
        now = self.clock()
        s = _Stored(
            record.class_name,
            {k: canonical(v) for k, v in record.fields.items()},
            record.body,
            record.title,
            self._next_version(),
            now,
        )
        self.records[record_id] = s
        self.write_count += 1
        self._save()
        return self._ref(record_id, s)

    def _window(self, op: str, record_id: str, checked: _Stored) -> _Stored:
        """After a passed check: run the check-then-write hook, return what to write over."""
        if not self.capabilities.atomic_writes and self.between_check_and_write is not None:
            self.between_check_and_write(op, record_id)
            return self.records.get(record_id, checked)
        return checked

    def _current(self, record_id: str | None, expected_version: str) -> _Stored:
        s = self.records.get(record_id) if record_id is not None else None
        if s is None:
            raise StaleVersion(f"memory: {record_id!r} no longer exists")
        if s.version != expected_version:
            raise StaleVersion(f"memory: {record_id!r} is at {s.version}, not {expected_version}")
        return s

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        if self.before_write is not None and record.id is not None:
            self.before_write("update", record.id)
        s = self._current(record.id, expected_version)
        assert record.id is not None
        s = self._window("update", record.id, s)
        s.class_name = record.class_name  # a class change moves it (memory: relabels it)
        s.fields = {k: canonical(v) for k, v in record.fields.items()}
        s.body = record.body
        if not self.cfg.ids_are_paths:
            s.title = record.title
        s.version = self._next_version()
        s.mtime = self.clock()
        self.write_count += 1
        self._save()
        return self._ref(record.id, s)

    def delete(self, record_id: str, *, expected_version: str) -> None:
        if self.before_write is not None:
            self.before_write("delete", record_id)
        if record_id not in self.records:
            return  # already gone (deleted meanwhile, or a replayed delete): nothing to do
        s = self._window("delete", record_id, self._current(record_id, expected_version))
        self.trash[record_id] = s
        del self.records[record_id]
        self.write_count += 1
        self._save()

    def write_conflict_copy(self, record: Record, label: str) -> str | None:
        """In vault mode, keep ``Title (conflict LABEL).md`` out of the listing."""
        if not self.cfg.ids_are_paths or record.id is None:
            return None
        path = PurePosixPath(record.id)
        name = str(path.with_name(f"{path.stem} (conflict {label}){path.suffix}"))
        n = 1
        while name in self.conflict_copies:
            n += 1
            name = str(path.with_name(f"{path.stem} (conflict {label} {n}){path.suffix}"))
        self.conflict_copies[name] = record
        return name

    def close(self) -> None:
        self._closed = True

    # -- user edits (test helpers: no CAS, like a person editing the file) --------------

    def put(
        self,
        record_id: str,
        fields: Mapping[str, Any] | None = None,
        body: str = "",
        *,
        class_name: str = "note",
        title: str | None = None,
    ) -> str:
        """Create or overwrite ``record_id`` as a user would; return its new version."""
        s = _Stored(
            class_name,
            {k: canonical(v) for k, v in (fields or {}).items()},
            body,
            title if title is not None else PurePosixPath(record_id).stem,
            self._next_version(),
            self.clock(),
        )
        self.records[record_id] = s
        self._save()
        return s.version

    def edit(
        self,
        record_id: str,
        *,
        set_fields: Mapping[str, Any] | None = None,
        delete_fields: Sequence[str] = (),
        body: str | None = None,
    ) -> str:
        """Edit fields and/or body of ``record_id`` as a user would; return its new version."""
        s = self.records[record_id]
        for k, v in (set_fields or {}).items():
            s.fields[k] = canonical(v)
        for k in delete_fields:
            s.fields.pop(k, None)
        if body is not None:
            s.body = body
        s.version = self._next_version()
        s.mtime = self.clock()
        self._save()
        return s.version

    def rename(self, old: str, new: str) -> None:
        """Move ``old`` to ``new`` keeping its bytes (and so its version)."""
        if new in self.records:
            raise ValueError(f"{new!r} exists")
        self.records[new] = self.records.pop(old)
        self._save()

    def remove(self, record_id: str) -> None:
        """Delete ``record_id`` as a user would (to the trash)."""
        self.trash[record_id] = self.records.pop(record_id)
        self._save()

    def contents(self) -> dict[str, tuple[dict[str, Any], str]]:
        """Every live record's (fields, body), by id."""
        return {k: (dict(v.fields), v.body) for k, v in self.records.items()}


class CheckThenWriteMemoryAdapter(MemoryAdapter):
    """A :class:`MemoryAdapter` playing a remote whose version check and write are two
    steps, as Notion's are (read ``last_edited_time``, then PATCH): ``atomic_writes`` is
    false, and :attr:`between_check_and_write` runs in the window, where an edit is
    overwritten by the write that follows."""

    capabilities: ClassVar[Capabilities] = Capabilities(atomic_writes=False)
