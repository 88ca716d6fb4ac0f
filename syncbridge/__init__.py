"""syncbridge: lossless, bidirectional sync between an Obsidian vault and external tools.

The public surface is listed in ``__all__`` (guarded by ``tests/test_public_api.py``):
the sync as one call (:func:`open` → :class:`Bridge`: ``sync``, ``status``, ``conflicts``),
the note model (:class:`Note`), the vault (:class:`Vault`, :class:`VaultAdapter`), the
adapter contract (:class:`Adapter`, :class:`Record`, :class:`RecordRef`, ...) and the
errors. The sync engine lives in :mod:`syncbridge.engine`, the schema in
:mod:`syncbridge.schema`, test support in :mod:`syncbridge.testing`.
"""

from syncbridge.adapter import (
    MISSING,
    Adapter,
    AdapterConfig,
    Capabilities,
    Record,
    RecordRef,
    canonical,
)
from syncbridge.bridge import Bridge, TargetStatus, open
from syncbridge.errors import (
    ConfigError,
    EditError,
    FrontmatterError,
    NoteError,
    StaleVersion,
    SyncbridgeError,
    WriteConflict,
)
from syncbridge.note.note import Note
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

__all__ = [
    "MISSING",
    "Adapter",
    "AdapterConfig",
    "Bridge",
    "Capabilities",
    "ConfigError",
    "EditError",
    "FrontmatterError",
    "Note",
    "NoteError",
    "Record",
    "RecordRef",
    "StaleVersion",
    "SyncbridgeError",
    "TargetStatus",
    "Vault",
    "VaultAdapter",
    "WriteConflict",
    "canonical",
    "open",
]
__version__ = "0.1.0"
