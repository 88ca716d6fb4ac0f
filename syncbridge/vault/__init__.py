"""The vault: a folder of notes on disk, and the vault as one side of a sync.

:mod:`~syncbridge.vault.vault` scans and indexes the folder and reads and writes notes;
:mod:`~syncbridge.vault.fsio` holds the file-system rules every write follows (atomic,
compare-and-swap, trash, mid-save reads); :mod:`~syncbridge.vault.filenames` makes safe
note names; :mod:`~syncbridge.vault.adapter` is the adapter contract over the vault
(:class:`VaultAdapter`); :mod:`~syncbridge.vault.doctor` checks a vault without changing it.
These build on the note model (:mod:`syncbridge.note`), never the other way round.
"""

from syncbridge.vault.adapter import VaultAdapter, VaultAdapterConfig
from syncbridge.vault.doctor import DoctorReport, Finding, diagnose
from syncbridge.vault.vault import IndexEntry, ScanProblem, ScanReport, Vault

__all__ = [
    "DoctorReport",
    "Finding",
    "IndexEntry",
    "ScanProblem",
    "ScanReport",
    "Vault",
    "VaultAdapter",
    "VaultAdapterConfig",
    "diagnose",
]
