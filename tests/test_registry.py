"""The adapter registry: entry points found lazily, duplicates refused loudly."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from syncbridge import registry
from syncbridge.errors import AdapterNotFound
from syncbridge.testing.memory import MemoryAdapter


def test_memory_adapter_is_registered_by_entry_point() -> None:
    assert registry.available_adapters()["memory"] == "syncbridge.testing.memory:MemoryAdapter"
    assert registry.load_adapter("memory") is MemoryAdapter


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(AdapterNotFound) as info:
        registry.load_adapter("no-such-adapter")
    assert "memory" in str(info.value)
    assert "no-such-adapter" in str(info.value)


def _fake_eps(eps: list[EntryPoint]) -> object:
    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == registry.ENTRY_POINT_GROUP
        return eps

    return entry_points


def test_duplicate_names_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint("dup", "syncbridge.testing.memory:MemoryAdapter", registry.ENTRY_POINT_GROUP),
        EntryPoint("dup", "other_pkg:OtherAdapter", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", _fake_eps(eps))
    with pytest.raises(AdapterNotFound, match="more than once"):
        registry.load_adapter("dup")
    assert "|" in registry.available_adapters()["dup"]


def test_same_distribution_seen_twice_is_not_a_duplicate(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "syncbridge.testing.memory:MemoryAdapter"
    eps = [EntryPoint("m", value, registry.ENTRY_POINT_GROUP)] * 2
    monkeypatch.setattr(registry, "entry_points", _fake_eps(eps))
    assert registry.load_adapter("m") is MemoryAdapter


def test_listing_imports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint("broken", "no_such_module_xyz:Adapter", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", _fake_eps(eps))
    assert registry.available_adapters() == {"broken": "no_such_module_xyz:Adapter"}
    with pytest.raises(ModuleNotFoundError):
        registry.load_adapter("broken")


def test_non_adapter_object_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint("bad", "syncbridge.registry:load_adapter", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", _fake_eps(eps))
    with pytest.raises(AdapterNotFound, match="not a syncbridge Adapter"):
        registry.load_adapter("bad")
