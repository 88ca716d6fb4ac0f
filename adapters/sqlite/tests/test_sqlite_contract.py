"""The SQLite adapter passes syncbridge's adapter contract suite, as a third party would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig

from syncbridge.adapter import Adapter
from syncbridge.testing.contract import AdapterContract


class TestSQLiteContract(AdapterContract):
    @pytest.fixture
    def adapter(self, tmp_path: Path) -> Iterator[SQLiteAdapter]:
        with SQLiteAdapter(SQLiteConfig(path=Path("contract.db")), base_dir=tmp_path) as store:
            yield store

    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        assert isinstance(adapter, SQLiteAdapter)
        return {entry.record_id for entry in adapter.trash()}
