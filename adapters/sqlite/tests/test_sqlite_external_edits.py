"""Edits made by other SQLite tools (another process on the same file) are detected with a
time: the ``sqlite3`` shell and a separate Python process run the same SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter

from syncbridge.adapter import Record
from syncbridge.errors import StaleVersion

ExternalSQL = Callable[[Path, str], str]  # the ``external_sql`` fixture (conftest.py)


def _grief(adapter: SQLiteAdapter) -> Record:
    ref = adapter.create(
        Record(
            "emotion",
            {"status": "🟨 in progress", "intensity": 7, "resolved": False, "created": None},
            body="A wave.\n",
            title="Grief",
        )
    )
    return adapter.read(ref.id)


def test_row_edited_by_hand_has_new_version_and_time(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    before = _grief(adapter)
    external_sql(db_path, f"UPDATE emotion SET status = '🟩 done' WHERE _id = '{before.id}';")
    (ref,) = adapter.list()
    assert ref.id == before.id
    assert ref.version != before.version
    assert before.modified is not None and ref.modified >= before.modified
    after = adapter.read(before.id)
    # The edited field changed; every other value (and the null) is exactly as before.
    assert dict(after.fields) == {**before.fields, "status": "🟩 done"}
    assert after.body == before.body and after.title == before.title
    stamped = external_sql(db_path, f"SELECT _modified FROM emotion WHERE _id = '{before.id}';")
    assert after.modified is not None
    assert stamped == after.modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_each_hand_edit_bumps_the_version(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    before = _grief(adapter)
    external_sql(
        db_path,
        f"UPDATE emotion SET intensity = 8 WHERE _id = '{before.id}';\n"
        f"UPDATE emotion SET intensity = 9 WHERE _id = '{before.id}';",
    )
    versions = external_sql(db_path, f"SELECT _version FROM emotion WHERE _id = '{before.id}';")
    assert int(versions) == int(before.version.split("@")[0]) + 2
    assert adapter.read(before.id).fields["intensity"] == 9


def test_row_inserted_by_hand_becomes_a_record(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    new_id = external_sql(
        db_path,
        "INSERT INTO emotion (title, body, status, intensity, resolved, linked_wounds)"
        " VALUES ('Awe', 'Vast.', 'new', 3, 1, '[\"[[Wonder]]\"]');\n"
        "SELECT _id FROM emotion WHERE title = 'Awe';",
    )
    assert len(new_id) == 16
    (ref,) = adapter.list()
    assert ref.id == new_id and ref.class_name == "emotion"
    record = adapter.read(new_id)
    assert record.title == "Awe" and record.body == "Vast."
    # Only the cells the user set become fields: NULL cells are absent keys, not nulls.
    assert dict(record.fields) == {
        "status": "new",
        "intensity": 3,
        "resolved": True,
        "linked_wounds": ["[[Wonder]]"],
    }
    assert record.modified is not None and record.modified.tzinfo is not None


def test_row_deleted_by_hand_is_reported_gone_with_its_time(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    before = _grief(adapter)
    external_sql(db_path, f"DELETE FROM emotion WHERE _id = '{before.id}';")
    assert list(adapter.list()) == []
    (gone,) = adapter.deletions()
    assert gone.record_id == before.id and gone.class_name == "emotion"
    assert gone.origin == "external"
    assert before.modified is not None and gone.deleted_at >= before.modified
    assert adapter.deletions(since=gone.deleted_at) == [gone]


def test_our_update_after_a_hand_edit_needs_the_new_version(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    before = _grief(adapter)
    external_sql(db_path, f"UPDATE emotion SET intensity = 1 WHERE _id = '{before.id}';")
    with pytest.raises(StaleVersion):
        adapter.update(
            Record("emotion", {"intensity": 2}, id=before.id), expected_version=str(before.version)
        )
    assert adapter.read(before.id).fields["intensity"] == 1


def test_columns_and_tables_dropped_by_hand_do_not_break_sync(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    before = _grief(adapter)
    other = adapter.create(Record("wound", {"depth": 3}, title="Abandonment"))
    external_sql(
        db_path,
        "ALTER TABLE emotion DROP COLUMN intensity;\n"
        "ALTER TABLE emotion RENAME COLUMN status TO state;\n"
        "DROP TABLE wound;\n",
    )
    refs = {r.id: r for r in adapter.list()}
    assert set(refs) == {before.id}  # the dropped table's rows count as deleted
    got = adapter.read(before.id)
    assert "intensity" not in got.fields and "status" not in got.fields
    assert got.fields["resolved"] is False
    # Writing the fields again recreates what is needed, next to the user's own column.
    ref = adapter.update(
        Record("emotion", {"status": "🟩 done", "intensity": 2}, id=before.id),
        expected_version=refs[before.id].version,
    )
    assert adapter.read(ref.id).fields == {"status": "🟩 done", "intensity": 2}
    assert external_sql(db_path, f"SELECT state FROM emotion WHERE _id = '{before.id}';") == (
        "🟨 in progress"
    )
    again = adapter.create(Record("wound", {"depth": 1}, title="Betrayal"))
    assert adapter.read(again.id).fields == {"depth": 1}
    assert other.id not in {r.id for r in adapter.list()}
