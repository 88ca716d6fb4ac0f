"""The public surface: everything exported is documented and importable, nothing private."""

from __future__ import annotations

import importlib
import inspect

import pytest

import syncbridge

MODULES = ["syncbridge", "syncbridge.adapter", "syncbridge.errors", "syncbridge.note",
           "syncbridge.vault", "syncbridge.vault_adapter", "syncbridge.schema",
           "syncbridge.engine", "syncbridge.relink", "syncbridge.wikilinks", "syncbridge.bridge",
           "syncbridge.daemon"]


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
