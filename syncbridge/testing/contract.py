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
Override :attr:`round_trip_values` to drop kinds your store cannot hold (say why), list in
:attr:`cannot_hold` the edge values (:data:`EDGE_VALUES`, by test id such as ``count-4``)
it cannot keep exactly, with the reason, and set :attr:`batch_discards_on_error` if your
``batch`` is a transaction. ``supports_body`` follows the adapter's capabilities.

What it pins down, beyond reading and writing: compare-and-swap on ``update`` and
``delete`` (a stale version changes nothing; updating a missing record creates nothing;
deleting one is harmless), ``create`` choosing its own id, batches (a failed write inside
leaves nothing, a block left by an exception keeps all of its writes or none), titles
with newlines and special characters, values at the edge of every field kind, and a dry
run (``Adapter.dry_run``) that changes nothing. A
remote without atomic writes (``Capabilities.atomic_writes = False``) must pass it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any, ClassVar

import pytest

from syncbridge.adapter import Adapter, ConflictCopies, Record, RecordRef, canonical
from syncbridge.errors import RecordError, StaleVersion
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

__all__ = ["CONTRACT_SCHEMA", "EDGE_VALUES", "SPECIAL_TITLES", "AdapterContract"]


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

SPECIAL_TITLES: tuple[str, ...] = (
    "Line one\nline two",
    'Slash / back\\slash : colon * star ? "quote" <angle> |pipe',
    "  spaces around  ",
    "#tag [[link]] ^block %% comment %%",
    "..",
    "Ünïcödé 🟩 漢字 שלום",
    "",
)
"""Titles every adapter must take: it may make a name from them safe (the vault's file
names), but must create the record, keep its fields, and keep two of them apart."""

EDGE_VALUES: Mapping[str, tuple[Any, ...]] = {
    "name": (
        "",
        " ",
        "x" * 5000,
        "line one\nline two\n",
        "tab\t\"double\" 'single' \\back",
        "🟩 漢字 שלום",
        "null",
        "true",
        "123",
        "2025-07-05",
        "- not a list",
        "key: value",
        "#not a comment",
        "---",
    ),
    "status": ("", "a,b", "🟨 in progress"),
    "count": (0, -1, 2**31, 2**53 + 1, -(2**63), 2**63 - 1),
    "ratio": (0.0, -2.5, 1e-300, 1.7976931348623157e308, 0.1, 1e16, 123456789.125),
    "done": (True, False),
    "day": ("0001-01-01", "9999-12-31", "2024-02-29"),
    "at": ("2025-07-05T00:00", "2025-07-05T23:59:59", "1970-01-01T00:00"),
    "tags": ((), ("",), ("a,b", "with space", "🟩"), tuple(f"t{i}" for i in range(100))),
    "related": ((), ("[[A|alias]]", "[[Folder/B#Heading]]", "[[C#^block]]")),
    "parent": ("[[A|alias]]", "[[Folder/Deep/Note]]"),
    "meta": ({}, {"nested": {"deep": [1, {"x": None}]}, "unicode": "🟩", "empty": []}),
}
"""Per field of :data:`CONTRACT_SCHEMA`, values at the edge of its kind: empty, long,
YAML look-alikes (``"null"``, ``"123"``), the largest integers SQLite holds, subnormal and
huge floats, the first and last dates. Test ids are ``field-index`` (``count-4``)."""

_EDGE_CASES = [(name, i) for name, values in EDGE_VALUES.items() for i in range(len(values))]


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

    cannot_hold: ClassVar[Mapping[str, str]] = {}
    """Edge values (by test id, ``count-4``) the store cannot keep exactly → why."""

    batch_discards_on_error: ClassVar[bool] = False
    """True when ``batch`` is a transaction, so a block left by an exception keeps none of
    its writes (SQLite); otherwise each write was durable when it returned."""

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
        if isinstance(adapter, ConflictCopies):  # the vault side's extra
            copy = adapter.write_conflict_copy(adapter.read(ref.id), "2026-11-28 1432")
            assert copy is None or isinstance(copy, str)
            adapter.refresh()
        assert [r.id for r in adapter.list()] == [ref.id]  # a conflict copy is never listed

    def test_a_dry_run_reads_and_changes_nothing(self, adapter: Adapter) -> None:
        """Inside ``dry_run()`` (nestable) the adapter knows it (``in_dry_run``); refresh,
        listing, reading and ``unfinished()`` leave every record as it was."""
        ref = self._create(adapter, name="dry")
        before = sorted((r.id, r.version) for r in adapter.list())
        record = adapter.read(ref.id)
        assert not adapter.in_dry_run
        with adapter.dry_run():
            with adapter.dry_run():
                assert adapter.in_dry_run
            assert adapter.in_dry_run
            adapter.refresh()
            lines = adapter.unfinished()
            assert isinstance(lines, list) and all(isinstance(x, str) for x in lines)
            assert sorted((r.id, r.version) for r in adapter.list()) == before
            assert adapter.read(ref.id) == record
        assert not adapter.in_dry_run
        adapter.refresh()
        assert sorted((r.id, r.version) for r in adapter.list()) == before

    def test_delete_with_stale_version_raises_and_keeps_the_edit(self, adapter: Adapter) -> None:
        ref = self._create(adapter, name="x")
        rec = adapter.read(ref.id)
        edited = adapter.update(
            Record(rec.class_name, {**rec.fields, "name": "y"}, rec.body, id=rec.id),
            expected_version=ref.version,
        )
        with pytest.raises(StaleVersion):
            adapter.delete(ref.id, expected_version=ref.version)
        assert [r.id for r in adapter.list()] == [edited.id]
        assert adapter.read(edited.id).fields["name"] == "y"

    def test_delete_of_a_missing_record_does_nothing(self, adapter: Adapter) -> None:
        once = self._create(adapter, title="Once", name="once")
        adapter.delete(once.id, expected_version=once.version)
        kept = self._create(adapter, title="Kept", name="kept")
        adapter.delete(once.id, expected_version=once.version)  # replayed: harmless
        adapter.delete("never-existed-id", expected_version=kept.version)
        assert [r.id for r in adapter.list()] == [kept.id]
        assert adapter.read(kept.id).fields["name"] == "kept"

    def test_updating_a_missing_record_raises_and_creates_nothing(self, adapter: Adapter) -> None:
        gone = self._create(adapter, title="Gone", name="gone")
        adapter.delete(gone.id, expected_version=gone.version)
        kept = self._create(adapter, title="Kept", name="kept")
        for missing in (gone.id, "never-existed-id"):
            back = Record(self.schema.name, {"name": "back"}, "", id=missing, title="Back")
            with pytest.raises(StaleVersion):
                adapter.update(back, expected_version=gone.version)
        adapter.refresh()
        assert [r.id for r in adapter.list()] == [kept.id]

    def test_create_ignores_the_callers_id(self, adapter: Adapter) -> None:
        adapter.ensure_collection(self.schema)
        foreign = "id-on-the-other-side"
        first = adapter.create(replace(self._record(title="First", name="a"), id=foreign))
        second = adapter.create(replace(self._record(title="Second", name="b"), id=foreign))
        assert foreign not in (first.id, second.id) and first.id != second.id
        assert sorted(adapter.list_ids()) == sorted([first.id, second.id])
        assert [r.fields["name"] for r in adapter.read_many([first.id, second.id])] == ["a", "b"]
        with pytest.raises(RecordError):
            adapter.read_many([foreign])

    # -- batches ---------------------------------------------------------------------------

    def test_a_failed_write_in_a_batch_leaves_nothing_and_the_others_stand(
        self, adapter: Adapter
    ) -> None:
        ref = self._create(adapter, title="Edited", name="v1")
        rec = adapter.read(ref.id)
        edited = replace(rec, fields={**rec.fields, "name": "v2"})
        adapter.update(edited, expected_version=ref.version)
        with adapter.batch():
            adapter.create(self._record(title="First", name="first"))
            with pytest.raises(StaleVersion):
                adapter.update(
                    replace(rec, fields={**rec.fields, "name": "lost"}),
                    expected_version=ref.version,
                )
            adapter.create(self._record(title="Second", name="second"))
        adapter.refresh()
        names = sorted(r.fields["name"] for r in adapter.read_many(list(adapter.list_ids())))
        assert names == ["first", "second", "v2"]

    def test_a_batch_left_by_an_exception_keeps_all_or_none_of_its_writes(
        self, adapter: Adapter
    ) -> None:
        before = self._create(adapter, title="Before", name="before")

        class Interrupted(Exception):
            pass

        with pytest.raises(Interrupted), adapter.batch():
            adapter.create(self._record(title="Inside", name="inside"))
            rec = adapter.read(before.id)
            adapter.update(
                replace(rec, fields={**rec.fields, "name": "changed"}),
                expected_version=before.version,
            )
            raise Interrupted
        adapter.refresh()
        names = sorted(r.fields["name"] for r in adapter.read_many(list(adapter.list_ids())))
        if self.batch_discards_on_error:
            assert names == ["before"]  # rolled back
        else:
            assert names in (["before"], ["changed", "inside"])
        after = adapter.create(self._record(title="After", name="after"))  # still usable
        assert adapter.read(after.id).fields["name"] == "after"

    # -- titles and values at the edges ----------------------------------------------------

    @pytest.mark.parametrize("title", SPECIAL_TITLES)
    def test_titles_with_newlines_and_special_characters(
        self, adapter: Adapter, title: str
    ) -> None:
        ref = self._create(adapter, title=title, name="one")
        twin = adapter.create(self._record(title=title, name="two"))
        assert ref.id != twin.id
        assert ".." not in PurePosixPath(ref.id).parts, "an id made from a title escapes"
        assert sorted(adapter.list_ids()) == sorted([ref.id, twin.id])
        one, two = adapter.read_many([ref.id, twin.id])
        assert (one.fields["name"], two.fields["name"]) == ("one", "two")
        if adapter.capabilities.supports_body:
            assert one.body == "Body line one.\n\nBody *two*.\n"
        if one.title != title:
            # an adapter that names things after titles may make them safe, not empty
            assert one.title and "\n" not in one.title and "/" not in one.title

    @pytest.mark.parametrize(
        ("field_name", "index"), _EDGE_CASES, ids=[f"{n}-{i}" for n, i in _EDGE_CASES]
    )
    def test_edge_values_survive_create_and_update(
        self, adapter: Adapter, field_name: str, index: int
    ) -> None:
        case = f"{field_name}-{index}"
        if case in self.cannot_hold:
            pytest.skip(f"{type(adapter).__name__}: {self.cannot_hold[case]}")
        value = canonical(EDGE_VALUES[field_name][index])
        ref = self._create(adapter, **{field_name: value})
        assert adapter.read(ref.id).fields.get(field_name, "(absent)") == value
        other = self._create(adapter, title="Updated", **{field_name: None})
        rec = adapter.read(other.id)
        new = adapter.update(
            replace(rec, fields={**rec.fields, field_name: value}), expected_version=other.version
        )
        assert adapter.read(new.id).fields.get(field_name, "(absent)") == value

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
