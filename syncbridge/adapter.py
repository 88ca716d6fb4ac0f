"""The adapter contract: one small interface every side of a sync implements.

The vault is an adapter too, so the engine is symmetric: ``sync(a, b, state)`` works for
memory↔memory, vault↔SQLite, vault↔Notion alike.

Adapters are found through the entry-point group ``syncbridge.adapters`` (see
``syncbridge.registry``). A third-party adapter subclasses :class:`Adapter`, declares
``name``, ``config_model`` and ``capabilities``, and runs the contract suite shipped in
``syncbridge.testing``.

Canonical values
----------------
Records carry field values in a canonical, JSON-compatible form so that two sides can be
compared with ``==`` (see :func:`canonical`): ``str``, ``int``, ``float``, ``bool``,
``None``, lists and string-keyed dicts of those. Dates are ISO strings (``"2025-07-05"``),
date-times ISO 8601 without zone when the vault stores local time
(``"2025-07-05T16:56"``). A key that is absent from ``fields`` is absent on that side
(:data:`MISSING`), which is different from a key whose value is ``None``.
"""

from __future__ import annotations

import abc
import builtins
import datetime as dt
import enum
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from syncbridge.schema.model import ClassSchema

__all__ = [
    "MISSING",
    "Adapter",
    "AdapterConfig",
    "Capabilities",
    "ConflictCopies",
    "Missing",
    "Record",
    "RecordRef",
    "canonical",
]


class Missing(enum.Enum):
    """Type of :data:`MISSING`: "this key is absent", as opposed to ``None`` (null)."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing.MISSING


def canonical(value: Any) -> Any:
    """Return ``value`` in canonical form (see module docstring).

    ruamel's scalar subclasses become plain builtins, tuples become lists, dates and
    date-times become ISO strings, integral floats stay floats. Raises ``TypeError`` for
    values with no canonical form (custom objects).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


@dataclass(frozen=True, slots=True)  # slots: one per entry of each side in every run
class RecordRef:
    """A listing entry: what an adapter can tell cheaply about one record.

    ``version`` is an opaque etag that changes on every write (a content hash, a row
    version, Notion's ``last_edited_time`` plus id ...). ``modified`` is tz-aware.
    """

    id: str
    version: str
    modified: dt.datetime
    class_name: str


@dataclass(frozen=True)
class Record:
    """One entry, as an adapter reads or writes it.

    ``id`` is the adapter's own id (``None`` before creation). ``fields`` holds canonical
    values keyed by field name. ``body`` is the Markdown body. ``modified`` is tz-aware.
    ``title`` is a hint for naming (the vault derives a file name from it).
    """

    class_name: str
    fields: Mapping[str, Any]
    body: str = ""
    id: str | None = None
    version: str | None = None
    modified: dt.datetime | None = None
    title: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class AdapterConfig(BaseModel):
    """Base of every adapter's config model; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do. The engine adapts to these instead of failing late.

    ``read_only``: never written to. ``supports_trash``: deletes are recoverable.
    ``supports_body``: the Markdown body is stored. ``timestamp_precision``: the
    granularity of ``modified`` (Notion: one minute).

    ``atomic_writes``: ``update`` and ``delete`` check ``expected_version`` and write in one
    atomic step, so no other writer can slip in between (SQLite: one transaction). ``False``
    for a side that can only check, then write: Notion (read ``last_edited_time``, then
    PATCH: a round trip), the vault (the last check runs right before the rename: a few
    microseconds). An edit landing in that window is overwritten on that side. The engine
    accounts for it (``docs/sync.md``, "Atomic and check-then-write sides"): it never
    deletes on such a side without a trash, and on every side it never takes a record
    changed after its write for the agreed base.

    ``creates_follow_links``: a link can only become a reference to a record that exists
    (Notion: page mentions, relations), and one to a record created later costs a second
    pass; the engine then sends new notes after the new notes they link to
    (:mod:`syncbridge.engine.order`), reading them once more for their links.
    """

    read_only: bool = False
    supports_trash: bool = True
    supports_body: bool = True
    timestamp_precision: dt.timedelta = dt.timedelta(microseconds=1)
    atomic_writes: bool = True
    creates_follow_links: bool = False


class Adapter(abc.ABC):
    """One side of a sync. Subclasses set the three class attributes below.

    Every write takes the version the caller last saw and raises
    :class:`syncbridge.errors.StaleVersion` if the record changed since (atomically or
    not: :attr:`Capabilities.atomic_writes`). Errors are those of :mod:`syncbridge.errors`,
    vendor errors translated with ``raise ... from``: :class:`~syncbridge.errors.AuthError`
    for credentials the remote refuses (fatal), :class:`~syncbridge.errors.RemoteUnavailable`
    (with ``retry_after_s`` when the remote says) for what may pass, ``SkipError``
    subclasses for one record. The suite in :mod:`syncbridge.testing.contract` checks it.
    """

    name: ClassVar[str]
    """The entry-point name (``"sqlite"``, ``"notion"`` ...)."""

    config_model: ClassVar[type[AdapterConfig]] = AdapterConfig
    """Pydantic model of this adapter's keys in a ``[[targets]]`` table."""

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, config: AdapterConfig, *, base_dir: Path | None = None) -> None:
        """``config`` is an instance of ``config_model``; relative paths in it are resolved
        against ``base_dir`` (the folder of the config file), default the working dir."""
        self.config = config
        self.base_dir = base_dir or Path.cwd()

    @abc.abstractmethod
    def ensure_collection(self, cls: ClassSchema) -> None:
        """Create the collection (table, database) for ``cls`` or add missing fields."""

    @abc.abstractmethod
    def list(self) -> Iterator[RecordRef]:
        """Every live (not trashed) record, cheaply (no bodies)."""

    @abc.abstractmethod
    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        """Full records for ``ids``, in the same order. Unknown ids raise ``RecordError``."""

    @abc.abstractmethod
    def create(self, record: Record) -> RecordRef:
        """Create ``record`` and return its ref. The adapter chooses the id: a ``record.id``
        set by the caller is ignored (it is the other side's id)."""

    @abc.abstractmethod
    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        """Replace ``record.id``'s fields and body; return the new ref.

        Raises ``StaleVersion`` and changes nothing if the record changed since
        ``expected_version`` or no longer exists (an update never creates a record).
        """

    @abc.abstractmethod
    def delete(self, record_id: str, *, expected_version: str) -> None:
        """Move ``record_id`` to the trash (or delete it if there is none).

        A stale version (the record changed since ``expected_version``) raises
        ``StaleVersion`` and deletes nothing: the edit made meanwhile is kept, and the next
        sync sees it. A record that no longer exists (deleted meanwhile, or by a delete
        whose answer was lost) is not an error: nothing happens, so a replayed delete is
        harmless.
        """

    def refresh(self) -> None:  # noqa: B027 - optional hook
        """Bring the adapter's view up to date before a run lists it (the vault rescans),
        and finish what an interrupted run of this adapter left half done (the Notion
        adapter's page moves, relation second passes and lost creates).

        The engine calls it once per run, before :meth:`list`. Inside :meth:`dry_run` it
        must only read: the work it would finish is told by :meth:`unfinished` instead.
        Default: nothing.
        """

    @contextmanager
    def dry_run(self) -> Iterator[None]:
        """Within: a dry run is going on (``sync --dry-run``, ``migrate --dry-run``,
        ``status``): the engine only reads this side, and the adapter must write nothing
        anywhere either: no record, no request that changes the remote, no repair of a
        damaged layout, no journal of its own finished, no byte of a local file (a cache
        it fills as it reads is kept in memory for the while: the Notion adapter's). A
        local SQLite file is not even opened in place (a connection makes ``-wal`` and
        ``-shm`` beside it, and closing it checkpoints a WAL a killed run left into the
        file): it is read through a copy (the SQLite adapter's database). No file is
        created where there is none.
        :meth:`refresh` only reads, and the earlier work it would have finished is told
        by :meth:`unfinished`.

        The engine enters it around every dry run (:func:`syncbridge.engine.run_sync`);
        a caller that reads an adapter for a dry run on its own enters it too. Nestable.
        Default: :attr:`in_dry_run` is ``True`` inside; an adapter whose reads or
        :meth:`refresh` can write checks it.
        """
        depth = getattr(self, "_dry_run_depth", 0)
        self._dry_run_depth = depth + 1
        try:
            yield
        finally:
            self._dry_run_depth = depth

    @property
    def in_dry_run(self) -> bool:
        """Whether a :meth:`dry_run` block is open: write nothing anywhere."""
        return getattr(self, "_dry_run_depth", 0) > 0

    def unfinished(self) -> builtins.list[str]:
        """What an earlier, interrupted run left that :meth:`refresh` would finish now,
        one line each naming the record and the work (a dry run prints them as notices).
        Reads only (requests that read the remote are allowed), writes nothing. Default:
        nothing left.
        """
        return []

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes made inside into one durable unit, if the side can (optional).

        The engine wraps runs of consecutive writes to this side in it (at most one chunk
        of actions, never across a write to the other side). Each write inside still
        succeeds or fails on its own (a failed write leaves nothing behind), but the writes
        that succeeded may only become durable when the block ends: if it raises on the way
        out, none of them did. A block left by an exception may discard them all. Default:
        nothing (every write is durable when it returns).
        """
        yield

    def last_written(self, record_id: str) -> str | None:
        """The version the adapter's own latest write of ``record_id`` left, when that
        can be newer than the ref its write returned: a second pass at the end of a
        :meth:`batch` (links to records created later in it) writes the record again.
        The engine takes a read-back of that version as its own write, not as an edit
        made meanwhile. Default ``None``: the refs writes return are final."""
        return None

    def unreadable(self) -> Mapping[str, str]:
        """Records that exist but cannot be read now: id → message naming the problem.

        The engine treats them as present but skipped, never as deleted (a note with broken
        frontmatter must not delete its remote record). Default: none.
        """
        return {}

    def check(self, record: Record, cls: ClassSchema | None = None) -> builtins.list[str]:
        """What this side would refuse of ``record`` were it created now, one message per
        problem naming the field, found without sending anything (``syncbridge migrate
        --dry-run`` asks it for every note); ``cls`` is the record's class as the vault
        defines it. Default: nothing (every value can be stored). Reads nothing remote
        and writes nothing.
        """
        return []

    def declared_classes(self) -> Mapping[str, ClassSchema] | None:
        """The classes as this side declares them in its own schema (a Notion database's
        properties), class name → :class:`~syncbridge.schema.model.ClassSchema` with the
        fields it holds in its order, each typed by what the side declares (a number
        column is Number even when every value is empty) and with the options it declares
        (a select's options, used or not; ``choices``). A File or MultiFile field whose
        side knows the class its links point at names it in ``options["class"]``. Types
        the side cannot tell apart (text that held JSON or a time, a date with or without
        a time) are the plainest (Input, Date); the caller may refine them from values.

        ``None`` (the default) when the side declares no schema of its own: the caller
        infers the classes from the records (``syncbridge migrate --from`` does). Reads
        only (requests that read the remote are allowed), writes nothing.
        """
        return None

    def as_created(self, record: Record) -> Record:
        """The content :meth:`create` of ``record`` would write, when the side changes it
        on the way (the vault within :meth:`~syncbridge.vault.adapter.VaultAdapter.planned`
        writes field links to the notes' planned names): what the engine journals as
        sent, so that a rerun after a kill finds the create by it. Default: ``record``.
        Pure."""
        return record

    def note_paths(self, paths: Mapping[str, str]) -> None:  # noqa: B027 - optional hook
        """Where the vault notes of these records are, or will be (record id →
        vault-relative path), when their names are not their titles (a title no file
        name can hold, two records of one title: ``syncbridge migrate --from`` names the
        notes ``A B.md``, ``Foo 2.md``). A side that writes links between its records
        into bodies (Notion's page mentions) names those notes by these paths in the
        records it returns from then on, so the links resolve in the vault; it keeps the
        paths across runs. Default: nothing. Writes nothing remote.
        """

    def stop_waiting_on(self, stop: threading.Event) -> None:  # noqa: B027 - optional hook
        """Once ``stop`` is set (the daemon is stopping), end any wait this side is in or
        starts before a request (a rate limit's pause, a ``Retry-After``, a backoff) at
        once, raising :class:`~syncbridge.errors.Interrupted` instead of sending it; a
        create cut short this way is known not to have been sent. For sides whose waits
        can outlast a service manager's stop timeout (Notion's ``Retry-After``; SQLite's
        wait for another program's lock). Called
        once, before the first use, from the thread that owns the adapter. Default:
        nothing (the side does not wait).
        """

    @contextmanager
    def reuse_listing(self) -> Iterator[None]:
        """Within: one run of a caller that lists this side more than once while nothing
        else writes to it (``syncbridge migrate --from`` lists to read every record, then
        plans with the engine and runs it, each of which lists again). The side may answer
        every :meth:`list` after the first from what the first found (with its own writes
        since, as a listing of it would show them): a side whose listing costs requests
        keeps one (Notion: a query per data source). Leaving it, the next :meth:`list`
        lists afresh. Nestable. Default: every :meth:`list` lists."""
        yield

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        """The fields this side can store for ``class_name`` (its columns, properties), or
        ``None`` when it cannot tell (the default) or stores any field.

        The engine uses it to read a key missing from one record: if the side holds that
        field, the value was cleared (an edit that syncs); if not, the side cannot hold it
        and the vault keeps its value. Without the hook, a vanished key is taken for "cannot
        hold" (the safe reading: nothing is deleted from notes).
        """
        return None

    @contextmanager
    def exclusive(self, owner: Mapping[str, Any]) -> Iterator[bool]:
        """Hold this target for one sync run of ``owner`` (who, where: host, pid, state file,
        target name), so that two setups syncing it at once cannot both create every entry.

        Yields ``True`` when the side really holds a lock (SQLite: a lease row inside the
        database), ``False`` when it cannot lock (the default): the engine then looks each
        create up first (:meth:`lookup`). Raises :class:`~syncbridge.errors.SyncLocked`,
        naming the other run, when another run holds it.
        """
        yield False

    def lookup(self, field: str, values: Sequence[Any]) -> Mapping[Any, builtins.list[str]] | None:
        """Ids of the live records whose ``field`` holds one of ``values`` (canonical
        values, mostly the id field's), value → ids; ``None`` when the side cannot look up
        (the default). The engine asks right before creating records on a side it could
        not lock, so that a record another run created meanwhile is linked, not doubled.
        """
        return None

    def generation(self, state_id: str) -> int | None:
        """The sync generation of the state ``state_id`` last recorded in this target
        (see :meth:`set_generation`), or ``None``: never recorded, or the side keeps none
        (the default)."""
        return None

    def set_generation(self, state_id: str, generation: int) -> bool:
        """Record the generation of a sync run of the state ``state_id`` in this target
        (a write of its own, durable on return); ``False`` if the side keeps none.

        A state file and its target advance one counter together, so a target put back
        from an older copy (its generation behind the state's) and a state put back from
        an older copy (behind the target's) are both recognised.
        """
        return False

    def predates(self, version: str, than: str) -> bool:
        """Whether ``version`` of a record is older than the version ``than`` it had at the
        last sync (the record was put back from an older copy), when the side can tell.
        Default ``False`` (versions are opaque)."""
        return False

    def change_token(self) -> str | None:
        """A cheap value that differs whenever records may have changed here since it was
        last taken, other than by this adapter's own writes (those may move it too, at
        the cost of one sync that finds nothing to do); ``None``: cannot tell cheaply.

        The daemon takes it before each sync and polls it every interval; only a new
        value (or ``None``) starts a sync, so an idle target costs one call per interval.
        SQLite: ``PRAGMA data_version``. Default: ``None`` (every poll syncs).
        """
        return None

    def read(self, record_id: str) -> Record:
        """One full record."""
        return self.read_many([record_id])[0]

    def list_ids(self) -> Iterable[str]:
        """The ids of :meth:`list`, in the same order."""
        return (ref.id for ref in self.list())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class ConflictCopies(Protocol):
    """The vault side's extra: it can keep a losing version next to the record.

    Not part of :class:`Adapter`: a remote has nowhere outside sync to put one. The engine
    calls it on the adapter playing the vault when that adapter has it (``VaultAdapter``
    writes ``Title (conflict 2026-11-28 1432).md``; ``MemoryAdapter`` in vault mode keeps
    it out of the listing); otherwise the losing value is kept in the conflict log only.
    """

    def write_conflict_copy(self, record: Record, label: str) -> str | None:
        """Keep ``record`` (a losing version) next to ``record.id``, never listed; return
        the copy's id, or ``None`` if none was written. ``label`` is the human-readable
        time stamp to put in its name."""
