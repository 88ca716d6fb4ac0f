"""The sync state store: what both sides last agreed on, per target, in one SQLite file.

Like Unison's archive, the state holds for every linked entry the contents "at the last
moment when they were the same" on both sides (:class:`BaseSnapshot`), and it is only ever
updated for entries whose writes all succeeded. A journal of in-flight actions lets an
interrupted run recover (see ``docs/sync.md``).

Location: ``<config dir>/.syncbridge/state.db`` by default (:func:`default_state_path`),
configurable per project. The file is created with mode 0600, in WAL mode, with a schema
version and named migrations (:data:`MIGRATIONS`); a file written by a newer syncbridge is
refused with :class:`~syncbridge.errors.StateError`.

Tables: ``links`` (one row per linked entry: both ids, the vault path, versions, content
hashes, the base snapshot as JSON), ``cursors``, ``conflicts`` (the conflict log),
``journal`` (actions begun but not yet committed), ``migrations`` and ``meta``.
"""

from syncbridge.state.model import (
    BaseSnapshot,
    ConflictEntry,
    JournalEntry,
    Link,
    SideSnapshot,
    content_hash,
)
from syncbridge.state.store import MIGRATIONS, StateStore, default_state_path

__all__ = [
    "MIGRATIONS",
    "BaseSnapshot",
    "ConflictEntry",
    "JournalEntry",
    "Link",
    "SideSnapshot",
    "StateStore",
    "content_hash",
    "default_state_path",
]
