"""Fixtures: a fresh SQLite adapter in a tmp dir, and "another SQLite tool" to edit it with.

The other tool (``external_sql``) comes from :mod:`syncbridge_sqlite.testing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
from syncbridge_sqlite.testing import external_sql

from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

__all__ = ["external_sql"]  # re-exported: the fixture lives in syncbridge_sqlite.testing


def _field(name: str, kind: FieldKind, ftype: FieldType = FieldType.INPUT) -> FieldSpec:
    return FieldSpec(name=name, type=ftype, kind=kind)


EMOTION = ClassSchema(
    name="emotion",
    source="metadata-menu",
    fields={
        "status": _field("status", FieldKind.TEXT, FieldType.SELECT),
        "intensity": _field("intensity", FieldKind.NUMBER, FieldType.NUMBER),
        "resolved": _field("resolved", FieldKind.BOOLEAN, FieldType.BOOLEAN),
        "linked_wounds": _field("linked_wounds", FieldKind.LINKS, FieldType.MULTIFILE),
        "created": _field("created", FieldKind.DATETIME, FieldType.DATETIME),
        "meta": _field("meta", FieldKind.JSON, FieldType.OBJECT),
    },
)


@pytest.fixture
def emotion_schema() -> ClassSchema:
    """A class with one field of most kinds."""
    return EMOTION


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sync.db"


@pytest.fixture
def adapter(db_path: Path) -> Iterator[SQLiteAdapter]:
    store = SQLiteAdapter(SQLiteConfig(path=Path("sync.db")), base_dir=db_path.parent)
    store.ensure_collection(EMOTION)
    yield store
    store.close()
