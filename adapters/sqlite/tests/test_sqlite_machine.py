"""State machine: syncbridge's writes interleaved with another program's SQL on the same
file. The adapter must always list exactly the live rows, read back exactly what was last
written (by anyone), change a row's version on every write, and refuse stale writes."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
from syncbridge_sqlite.codec import exact_equal

from syncbridge.adapter import Record
from syncbridge.errors import StaleVersion
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

SCHEMA = ClassSchema(
    "emotion",
    {
        "status": FieldSpec("status", FieldType.SELECT, FieldKind.TEXT),
        "intensity": FieldSpec("intensity", FieldType.NUMBER, FieldKind.NUMBER),
        "resolved": FieldSpec("resolved", FieldType.BOOLEAN, FieldKind.BOOLEAN),
        "tags": FieldSpec("tags", FieldType.MULTI, FieldKind.LIST),
    },
    "metadata-menu",
)
values = {
    "status": st.none() | st.sampled_from(["🟨 in progress", "🟩 done", "", "5"]),
    "intensity": st.none() | st.integers(-5, 5) | st.sampled_from([2.5, 5.0, -0.0]),
    "resolved": st.none() | st.booleans(),
    "tags": st.none() | st.lists(st.sampled_from(["a", "b", "[[Grief]]"]), max_size=3),
}
field_maps = st.fixed_dictionaries({}, optional=values)


class SQLiteWithOtherTool(RuleBasedStateMachine):
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        path = Path(self.tmp.name) / "m.db"
        self.adapter = SQLiteAdapter(SQLiteConfig(path=path))
        self.adapter.ensure_collection(SCHEMA)
        self.other = sqlite3.connect(path, isolation_level=None)
        self.model: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, str] = {}
        self.seen: dict[str, set[str]] = {}

    def _noted(self, record_id: str, version: str) -> None:
        assert version not in self.seen.setdefault(record_id, set()), "version reused"
        self.seen[record_id].add(version)
        self.versions[record_id] = version

    def _current(self, record_id: str) -> str:
        return next(r.version for r in self.adapter.list() if r.id == record_id)

    @rule(target=records, fields=field_maps)
    def create(self, fields: dict[str, Any]) -> str:
        ref = self.adapter.create(Record("emotion", fields, body="b", title="T"))
        self.model[ref.id] = dict(fields)
        self._noted(ref.id, ref.version)
        return ref.id

    @rule(record_id=records, fields=field_maps)
    def update(self, record_id: str, fields: dict[str, Any]) -> None:
        if record_id not in self.model:
            return
        ref = self.adapter.update(
            Record("emotion", fields, id=record_id), expected_version=self._current(record_id)
        )
        self.model[record_id] = dict(fields)
        self._noted(record_id, ref.version)

    @rule(record_id=records)
    def stale_update_is_refused(self, record_id: str) -> None:
        if record_id not in self.model or len(self.seen[record_id]) < 2:
            return
        stale = next(v for v in self.seen[record_id] if v != self.versions[record_id])
        try:
            self.adapter.update(Record("emotion", {}, id=record_id), expected_version=stale)
        except StaleVersion:
            return
        raise AssertionError("a stale version was accepted")

    @rule(record_id=consumes(records))
    def delete(self, record_id: str) -> None:
        if record_id in self.model:
            self.adapter.delete(record_id, expected_version=self._current(record_id))
            del self.model[record_id]

    @rule(record_id=records, status=st.sampled_from(["edited", "🟥 draft"]))
    def other_tool_updates(self, record_id: str, status: str) -> None:
        if record_id not in self.model:
            return
        self.other.execute("UPDATE emotion SET status = ? WHERE _id = ?", (status, record_id))
        self.model[record_id]["status"] = status
        self._noted(record_id, self._current(record_id))

    @rule(target=records, intensity=st.integers(0, 9))
    def other_tool_inserts(self, intensity: int) -> str:
        (record_id,) = self.other.execute(
            "INSERT INTO emotion (title, intensity) VALUES ('Hand', ?) RETURNING _id",
            (intensity,),
        ).fetchone()
        self.model[record_id] = {"intensity": intensity}
        self._noted(record_id, self._current(record_id))
        return str(record_id)

    @rule(record_id=consumes(records))
    def other_tool_deletes(self, record_id: str) -> None:
        if record_id in self.model:
            self.other.execute("DELETE FROM emotion WHERE _id = ?", (record_id,))
            del self.model[record_id]
            assert record_id in {d.record_id for d in self.adapter.deletions()}

    @invariant()
    def listing_and_reads_match(self) -> None:
        listed = {r.id: r.version for r in self.adapter.list()}
        assert listed.keys() == self.model.keys()
        assert all(listed[i] == self.versions[i] for i in listed)
        ids = sorted(self.model)
        for record in self.adapter.read_many(ids):
            assert record.id is not None
            assert exact_equal(dict(record.fields), self.model[record.id]), record

    def teardown(self) -> None:
        self.other.close()
        self.adapter.close()
        self.tmp.cleanup()


SQLiteWithOtherTool.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSQLiteWithOtherTool = SQLiteWithOtherTool.TestCase
