"""The public surface: everything exported is documented and importable, nothing private."""

from __future__ import annotations

import importlib
import inspect

import pytest

import syncbridge

MODULES = [
    "syncbridge",
    "syncbridge.adapter",
    "syncbridge.errors",
    "syncbridge.note.note",
    "syncbridge.vault.vault",
    "syncbridge.vault.adapter",
    "syncbridge.schema",
    "syncbridge.engine",
    "syncbridge.relink",
    "syncbridge.wikilinks",
    "syncbridge.bridge",
    "syncbridge.daemon",
    "syncbridge.testing",
    "syncbridge.testing.contract",
    "syncbridge.testing.files",
    "syncbridge.testing.memory",
    "syncbridge.note",
    "syncbridge.vault",
    "syncbridge.migrate",
    "syncbridge.migrate_from",
    "syncbridge.migrate_relink",
    "syncbridge.schema.fileclass_files",
]


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


PACKAGES = [
    "syncbridge",
    "syncbridge.note",
    "syncbridge.vault",
    "syncbridge.engine",
    "syncbridge.schema",
    "syncbridge.state",
    "syncbridge.daemon",
    "syncbridge.testing",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_equals_the_public_names(name: str) -> None:
    """As httpx guards its surface: ``__all__`` is exactly the package's public names, so a
    name imported for use but not meant for users (or a new class left out) fails here."""
    module = importlib.import_module(name)
    public = {
        member
        for member in dir(module)
        if not member.startswith("_") and not inspect.ismodule(getattr(module, member))
    }
    assert sorted(module.__all__) == sorted(public)


def test_testing_helpers_and_crash_hooks() -> None:
    """The test support is one import away; the crash hooks are test support, not engine API."""
    import syncbridge.engine
    import syncbridge.testing as testing

    assert {
        "AdapterContract",
        "MemoryAdapter",
        "ManualClock",
        "FaultInjector",
        "SimulatedCrash",
    } <= set(testing.__all__)
    assert testing.AdapterContract.__name__ == "AdapterContract"
    assert not {"FaultInjector", "SimulatedCrash"} & set(syncbridge.engine.__all__)
    assert not hasattr(syncbridge.engine, "FaultInjector")


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


def test_the_note_model_depends_only_on_errors() -> None:
    """The bottom layer (docs/design.md, "The code's layers"): syncbridge.note imports no
    other part of syncbridge than syncbridge.errors, so it can be used and reasoned about alone."""
    import ast
    from pathlib import Path

    package = Path(importlib.import_module("syncbridge.note").__file__ or "").parent
    for source in sorted(package.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                assert not (isinstance(node, ast.ImportFrom) and node.level > 1), source
                continue
            for name in names:
                if name.split(".")[0] == "syncbridge":
                    assert name == "syncbridge.errors" or name.startswith("syncbridge.note"), (
                        f"{source.name} imports {name}"
                    )
