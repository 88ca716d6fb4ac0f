"""The public surface: everything exported is documented and importable, nothing private."""

from __future__ import annotations

import importlib
import inspect

import pytest

import syncbridge

MODULES = ["syncbridge", "syncbridge.adapter", "syncbridge.errors", "syncbridge.note",
           "syncbridge.vault", "syncbridge.vault_adapter", "syncbridge.schema",
           "syncbridge.engine", "syncbridge.relink", "syncbridge.wikilinks", "syncbridge.bridge",
           "syncbridge.daemon", "syncbridge.testing.contract", "syncbridge.testing.memory",
           "syncbridge.migrate", "syncbridge.migrate_from", "syncbridge.schema.fileclass_files"]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_are_public_and_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    exported = module.__all__
    assert sorted(exported) == sorted(set(exported))
    for member in exported:
        assert not member.startswith("_")
        obj = getattr(module, member)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{name}.{member} has no docstring"


def test_top_level_api() -> None:
    assert set(syncbridge.__all__) >= {"Note", "Vault", "Adapter", "Record", "MISSING"}


def test_the_adapter_contract_surface() -> None:
    """What an adapter author sees: the capability for check-then-write remotes, the
    errors to raise, conflict copies as the vault side's extra, not every adapter's."""
    from syncbridge import adapter, errors
    from syncbridge.testing import contract, memory

    assert {"ConflictCopies", "Capabilities"} <= set(adapter.__all__)
    assert {"AuthError", "RemoteUnavailable"} <= set(errors.__all__)
    assert {"AdapterContract", "EDGE_VALUES", "SPECIAL_TITLES"} <= set(contract.__all__)
    assert "CheckThenWriteMemoryAdapter" in memory.__all__
    assert adapter.Capabilities().atomic_writes is True
    assert "write_conflict_copy" not in vars(adapter.Adapter)
    assert issubclass(syncbridge.VaultAdapter, adapter.ConflictCopies)
    assert issubclass(memory.MemoryAdapter, adapter.ConflictCopies)
