"""The SQLite adapter passes syncbridge's adapter contract suite, as a third party would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig

from syncbridge.adapter import Adapter, ConflictCopies
from syncbridge.testing.contract import AdapterContract


class TestSQLiteContract(AdapterContract):
    batch_discards_on_error = True  # a batch is one transaction: an exception rolls it back

    @pytest.fixture
    def adapter(self, tmp_path: Path) -> Iterator[SQLiteAdapter]:
        with SQLiteAdapter(SQLiteConfig(path=Path("contract.db")), base_dir=tmp_path) as store:
            yield store

    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        assert isinstance(adapter, SQLiteAdapter)
        return {entry.record_id for entry in adapter.trash()}


def test_sqlite_writes_atomically_and_keeps_no_conflict_copies(tmp_path: Path) -> None:
    """Its version check and write are one transaction; conflict copies are the vault's."""
    assert SQLiteAdapter.capabilities.atomic_writes is True
    with SQLiteAdapter(SQLiteConfig(path=Path("c.db")), base_dir=tmp_path) as store:
        assert not isinstance(store, ConflictCopies)
