"""The public surface of the engine, state, registry, adapter and testing modules is exactly
``__all__``, and every name in it exists (httpx ``test_exported_members.py``)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

MODULES = [
    "syncbridge.adapter",
    "syncbridge.registry",
    "syncbridge.state",
    "syncbridge.state.model",
    "syncbridge.state.store",
    "syncbridge.engine",
    "syncbridge.engine.plan",
    "syncbridge.engine.merge",
    "syncbridge.engine.execute",
    "syncbridge.engine.options",
    "syncbridge.engine.conflicts",
    "syncbridge.engine.faults",
    "syncbridge.engine.identity",
    "syncbridge.engine.recover",
    "syncbridge.engine.relink",
    "syncbridge.engine.report",
    "syncbridge.testing.memory",
    "syncbridge.testing.contract",
    "syncbridge.testing.plugin",
]


def public_names(module: ModuleType) -> set[str]:
    """Names defined in the module itself (not imported), without a leading underscore."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module.__name__) == module.__name__
        and (callable(value) or isinstance(value, type))
    }


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(set(module.__all__))
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"


@pytest.mark.parametrize("name", [m for m in MODULES if m != "syncbridge.engine"])
def test_public_definitions_are_exported(name: str) -> None:
    module = importlib.import_module(name)
    missing = public_names(module) - set(module.__all__)
    assert not missing, f"{name}: public but not in __all__: {sorted(missing)}"


def test_engine_package_reexports_the_api_others_call() -> None:
    engine = importlib.import_module("syncbridge.engine")
    for member in (
        "SyncOptions",
        "Filters",
        "plan_sync",
        "run_sync",
        "Plan",
        "SyncReport",
        "list_conflicts",
        "get_conflict",
        "restore_conflict",
    ):
        assert member in engine.__all__
