"""MemoryAdapter passes the public adapter contract suite, in both of its roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncbridge.adapter import Adapter, Record
from syncbridge.testing.contract import AdapterContract
from syncbridge.testing.memory import CheckThenWriteMemoryAdapter, MemoryAdapter, MemoryConfig


class TestMemoryRemoteContract(AdapterContract):
    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        assert isinstance(adapter, MemoryAdapter)
        return set(adapter.trash)

    @pytest.fixture
    def adapter(self) -> MemoryAdapter:
        return MemoryAdapter(MemoryConfig())


class TestMemoryVaultContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> MemoryAdapter:
        return MemoryAdapter(MemoryConfig(ids_are_paths=True, last_modified_field="last_modified"))


class TestCheckThenWriteMemoryContract(AdapterContract):
    """A remote whose version check and write are two steps keeps the same contract."""

    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        assert isinstance(adapter, MemoryAdapter)
        return set(adapter.trash)

    @pytest.fixture
    def adapter(self) -> MemoryAdapter:
        adapter = CheckThenWriteMemoryAdapter(MemoryConfig())
        assert adapter.capabilities.atomic_writes is False
        return adapter


class TestPersistedMemoryContract(AdapterContract):
    @pytest.fixture
    def adapter(self, tmp_path: Path) -> MemoryAdapter:
        return MemoryAdapter(MemoryConfig(path="store.json"), base_dir=tmp_path)


def test_persisted_store_survives_a_new_instance(tmp_path: Path) -> None:
    first = MemoryAdapter(MemoryConfig(path="store.json"), base_dir=tmp_path)
    ref = first.create(Record("note", {"a": 1}, "body\n", title="T"))
    second = MemoryAdapter(MemoryConfig(path="store.json"), base_dir=tmp_path)
    rec = second.read(ref.id)
    assert rec.fields == {"a": 1} and rec.body == "body\n" and rec.version == ref.version
    assert second.create(Record("note", {}, "", title="U")).id != ref.id
