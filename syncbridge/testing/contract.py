"""The adapter contract suite: subclass :class:`AdapterContract` in your adapter's tests.

Like vdirsyncer's ``StorageTests`` or singer-sdk's ``get_tap_test_class``: every adapter,
first- or third-party, runs the same tests against a real instance. Provide a fixture
named ``adapter`` that returns a fresh, empty adapter (a factory per test)::

    from syncbridge.testing.contract import AdapterContract

    class TestMyAdapter(AdapterContract):
        @pytest.fixture
        def adapter(self, tmp_path):
            with MyAdapter(MyAdapter.config_model(path="db.sqlite"), base_dir=tmp_path) as a:
                yield a

The suite calls ``ensure_collection`` with :attr:`AdapterContract.schema` before writing.
Override :attr:`round_trip_values` to drop kinds your store cannot hold (say why), and
:attr:`supports_body` follows the adapter's capabilities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from syncbridge.adapter import Adapter, Record, RecordRef, canonical
from syncbridge.errors import RecordError, StaleVersion
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

__all__ = ["CONTRACT_SCHEMA", "AdapterContract"]


def _spec(name: str, ftype: FieldType, kind: FieldKind) -> FieldSpec:
    return FieldSpec(name=name, type=ftype, kind=kind)


CONTRACT_SCHEMA = ClassSchema(
    name="contract_item",
    fields={
        "id": _spec("id", FieldType.NUMBER, FieldKind.NUMBER),
        "name": _spec("name", FieldType.INPUT, FieldKind.TEXT),
        "status": _spec("status", FieldType.SELECT, FieldKind.TEXT),
        "count": _spec("count", FieldType.NUMBER, FieldKind.NUMBER),
        "ratio": _spec("ratio", FieldType.NUMBER, FieldKind.NUMBER),
        "done": _spec("done", FieldType.BOOLEAN, FieldKind.BOOLEAN),
        "day": _spec("day", FieldType.DATE, FieldKind.DATE),
        "at": _spec("at", FieldType.DATETIME, FieldKind.DATETIME),
        "tags": _spec("tags", FieldType.MULTI, FieldKind.LIST),
        "related": _spec("related", FieldType.MULTIFILE, FieldKind.LINKS),
        "parent": _spec("parent", FieldType.FILE, FieldKind.LINK),
        "meta": _spec("meta", FieldType.JSON, FieldKind.JSON),
    },
    source="inferred",
)
"""The class the contract suite writes: one field of every kind."""


class AdapterContract:
    """Behaviour every adapter must have. Subclass it and provide an ``adapter`` fixture."""

    schema: ClassVar[ClassSchema] = CONTRACT_SCHEMA
    round_trip_values: ClassVar[Mapping[str, Any]] = {
        "name": "Secure Attachment 🟩 — “quoted”",
        "status": "🟨 in progress",
        "count": 42,
        "ratio": 0.5,
        "done": True,
        "day": "2025-07-05",
        "at": "2025-07-05T16:56",
        "tags": ["attachment", "healing"],
        "related": ["[[Abandonment Wound]]", "[[Earned Security]]"],
        "parent": "[[Psyche]]",
        "meta": {"a": 1, "b": ["x"]},
    }
    """Field → canonical value written and expected back unchanged."""

    def _record(self, title: str = "Contract note", **fields: Any) -> Record:
        return Record(
            class_name=self.schema.name,
            fields={k: canonical(v) for k, v in fields.items()},
            body="Body line one.\n\nBody *two*.\n",
            title=title,
        )

    def _create(self, adapter: Adapter, **fields: Any) -> RecordRef:
        adapter.ensure_collection(self.schema)
        return adapter.create(self._record(**fields))

    # -- listing and reading -------------------------------------------------------------

    def test_empty_adapter_lists_nothing(self, adapter: Adapter) -> None:
        adapter.ensure_collection(self.schema)
        assert list(adapter.list()) == []

    def test_create_then_list_and_read(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="one", count=1)
        refs = list(adapter.list())
        assert [r.id for r in refs] == [ref.id]
        assert refs[0].version == ref.version
        assert refs[0].class_name == self.schema.name
        rec = adapter.read(ref.id)
        assert rec.id == ref.id and rec.version == ref.version
        assert rec.fields.get("name") == "one" and rec.fields.get("count") == 1
        if adapter.capabilities.supports_body:
            assert rec.body == "Body line one.\n\nBody *two*.\n"

    def test_modified_is_tz_aware(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="t")
        assert ref.modified.tzinfo is not None
        rec = adapter.read(ref.id)
        assert rec.modified is not None and rec.modified.tzinfo is not None
        assert rec.modified.utcoffset() is not None

    def test_read_many_keeps_order(self, adapter: Adapter) -> None:
        ids = [self._create(adapter, name=f"n{i}", count=i).id for i in range(3)]
        records = adapter.read_many(list(reversed(ids)))
        assert [r.id for r in records] == list(reversed(ids))
        assert [r.fields["count"] for r in records] == [2, 1, 0]

    def test_read_unknown_id_raises_record_error(self, adapter: Adapter) -> None:
        self._create(adapter, name="x")
        with pytest.raises(RecordError):
            adapter.read_many(["no-such-record-id"])

    @pytest.mark.parametrize("field_name", sorted(round_trip_values))
    def test_canonical_value_round_trips(self, adapter: Adapter, field_name: str) -> None:
        if field_name not in self.round_trip_values:
            pytest.skip(f"{type(adapter).__name__} declares it cannot hold {field_name!r}")
        value = self.round_trip_values[field_name]
        ref = self._create(adapter, **{field_name: value})
        assert adapter.read(ref.id).fields.get(field_name) == canonical(value)

    def test_none_is_kept_as_present_null(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name=None, count=3)
        assert adapter.read(ref.id).fields.get("name", "absent") in (None, "absent")

    # -- writes with compare-and-swap ----------------------------------------------------

    def test_update_replaces_fields_and_changes_version(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="before", count=1)
        rec = adapter.read(ref.id)
        fields = dict(rec.fields)
        fields["name"] = "after"
        new = adapter.update(
            Record(rec.class_name, fields, rec.body, id=rec.id, title=rec.title),
            expected_version=ref.version,
        )
        assert new.version != ref.version
        again = adapter.read(new.id)
        assert again.fields["name"] == "after" and again.fields["count"] == 1
        assert again.version == new.version

    def test_update_with_stale_version_raises_and_keeps_record(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="v1")
        rec = adapter.read(ref.id)
        first = adapter.update(
            Record(rec.class_name, {**rec.fields, "name": "v2"}, rec.body, id=rec.id),
            expected_version=ref.version,
        )
        with pytest.raises(StaleVersion):
            adapter.update(
                Record(rec.class_name, {**rec.fields, "name": "lost"}, rec.body, id=rec.id),
                expected_version=ref.version,
            )
        current = adapter.read(first.id)
        assert current.fields["name"] == "v2" and current.version == first.version

    def test_delete_removes_from_listing(self, adapter: Adapter) -> None:
        keep = self._create(adapter, name="keep")
        gone = self._create(adapter, name="gone")
        adapter.delete(gone.id, expected_version=gone.version)
        assert [r.id for r in adapter.list()] == [keep.id]
        with pytest.raises(RecordError):
            adapter.read_many([gone.id])

    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        """Override to tell the suite which ids sit in your store's trash (None: unknown,
        the trash check is then limited to the listing)."""
        return None

    def test_delete_moves_to_trash_when_supported(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="trash me")
        adapter.delete(ref.id, expected_version=ref.version)
        assert ref.id not in set(adapter.list_ids())
        trashed = self.trashed_ids(adapter)
        if trashed is not None and adapter.capabilities.supports_trash:
            assert ref.id in trashed

    def test_optional_hooks_have_their_documented_shape(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="hooks")
        adapter.refresh()
        assert dict(adapter.unreadable()) == {}
        held = adapter.held_fields(self.schema.name)
        assert held is None or (isinstance(held, frozenset) and "name" in held)
        copy = adapter.write_conflict_copy(adapter.read(ref.id), "2026-11-28 1432")
        assert copy is None or isinstance(copy, str)
        adapter.refresh()
        assert [r.id for r in adapter.list()] == [ref.id]  # a conflict copy is never listed

    def test_delete_with_stale_version_raises(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="x")
        rec = adapter.read(ref.id)
        adapter.update(
            Record(rec.class_name, {**rec.fields, "name": "y"}, rec.body, id=rec.id),
            expected_version=ref.version,
        )
        with pytest.raises(StaleVersion):
            adapter.delete(ref.id, expected_version=ref.version)
        assert ref.id in [r.id for r in adapter.list()] or any(
            r.fields.get("name") == "y" for r in adapter.read_many(list(adapter.list_ids()))
        )

    def test_versions_differ_between_records(self, adapter: Adapter) -> None:
        a = self._create(adapter, name="a", count=1)
        b = self._create(adapter, name="b", count=2)
        assert a.id != b.id

    # -- collections and lifecycle -------------------------------------------------------

    def test_ensure_collection_is_idempotent(self, adapter: Adapter) -> None:
        adapter.ensure_collection(self.schema)
        ref = adapter.create(self._record(name="kept"))
        adapter.ensure_collection(self.schema)
        assert adapter.read(ref.id).fields["name"] == "kept"

    def test_close_is_idempotent(self, adapter: Adapter) -> None:
        adapter.ensure_collection(self.schema)
        adapter.close()
        adapter.close()

    def test_capabilities_are_declared(self, adapter: Adapter) -> None:
        caps = adapter.capabilities
        assert caps.timestamp_precision > dt.timedelta(0)
        assert isinstance(type(adapter).name, str) and type(adapter).name
