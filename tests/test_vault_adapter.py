"""The vault as an adapter: the shared contract suite, plus what only a vault does."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncbridge import Record, StaleVersion, Vault, VaultAdapter
from syncbridge.schema.model import FieldType
from syncbridge.testing.contract import AdapterContract
from tests.conftest import EXAMPLE_VAULT

CONTRACT_CLASS = """---
fields:
  - {name: id, type: Number, options: {}, path: "", id: f00001}
  - {name: name, type: Input, options: {}, path: "", id: f00002}
  - {name: status, type: Select, options: {sourceType: ValuesList, valuesList: {}}, path: "", id: f00003}
  - {name: count, type: Number, options: {}, path: "", id: f00004}
  - {name: ratio, type: Number, options: {}, path: "", id: f00005}
  - {name: done, type: Boolean, options: {}, path: "", id: f00006}
  - {name: day, type: Date, options: {dateFormat: YYYY-MM-DD}, path: "", id: f00007}
  - {name: at, type: DateTime, options: {dateFormat: YYYY-MM-DD HH:mm}, path: "", id: f00008}
  - {name: tags, type: Multi, options: {}, path: "", id: f00009}
  - {name: related, type: MultiFile, options: {}, path: "", id: f00010}
  - {name: parent, type: File, options: {}, path: "", id: f00011}
  - {name: meta, type: JSON, options: {}, path: "", id: f00012}
---
"""


def _contract_vault(root: Path) -> Path:
    (root / ".obsidian/plugins/metadata-menu").mkdir(parents=True)
    (root / ".obsidian/plugins/metadata-menu/data.json").write_text(
        json.dumps({"classFilesPath": "Classes/", "fileClassAlias": "fileClass"})
    )
    (root / "Classes").mkdir()
    (root / "Classes/contract_item.md").write_text(CONTRACT_CLASS)
    return root


class TestVaultAdapterContract(AdapterContract):
    @pytest.fixture
    def adapter(self, tmp_path: Path) -> Iterator[VaultAdapter]:
        vault = Vault.open(_contract_vault(tmp_path / "vault"))
        with VaultAdapter(vault, timezone="Europe/Berlin") as adapter:
            yield adapter


@pytest.fixture
def example(tmp_path: Path) -> VaultAdapter:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, root)
    return VaultAdapter(Vault.open(root), timezone="Europe/Berlin")


SECURE = "Psyche/Attachment/Secure Attachment.md"


def test_lists_entries_only(example: VaultAdapter) -> None:
    ids = {r.id for r in example.list()}
    assert SECURE in ids
    assert not any(i.startswith(("Classes/", "Templates/")) for i in ids)
    assert example.unreadable() == {}


def test_record_is_typed_through_the_schema(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    assert rec.class_name == "attachment_theory"
    assert rec.fields["created"] == "2025-07-05T16:56"  # MDM DateTime "2025-07-05 16:56"
    assert rec.fields["status"] == "🟩 complete"
    assert rec.modified == dt.datetime(2025, 8, 2, 10, 14, tzinfo=rec.modified.tzinfo)  # type: ignore[union-attr]
    assert rec.modified.utcoffset() == dt.timedelta(hours=2)  # type: ignore[union-attr]
    assert rec.extra["mtime"].tzinfo is not None
    assert rec.title == "Secure Attachment"


def test_update_is_a_minimal_edit(example: VaultAdapter) -> None:
    path = example.vault.abspath(SECURE)
    before = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = example.read(SECURE)
    fields = {**rec.fields, "status": "🟨 in progress", "last_modified": "2026-11-28T14:32"}
    example.update(
        Record(rec.class_name, fields, rec.body, id=rec.id), expected_version=rec.version or ""
    )
    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ("last_modified: 2025-08-02 10:14\n", "last_modified: 2026-11-28 14:32\n"),
        ("status: 🟩 complete\n", "status: 🟨 in progress\n"),
    ]


def test_update_refuses_a_note_changed_meanwhile(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    path = example.vault.abspath(SECURE)
    edited = path.read_bytes().replace(b"type: theory", b"type: pattern")
    path.write_bytes(edited)
    with pytest.raises(StaleVersion, match="changed since"):
        example.update(
            Record(rec.class_name, {**rec.fields, "status": "x"}, rec.body, id=rec.id),
            expected_version=rec.version or "",
        )
    assert path.read_bytes() == edited


def test_create_puts_the_note_with_its_class(example: VaultAdapter) -> None:
    ref = example.create(
        Record(
            "wound",
            {"title": "Shame: a/b?", "intensity": 4, "related": ["[[Secure Attachment]]"]},
            "Body\n",
            title="Shame: a/b?",
        )
    )
    assert ref.id.startswith("Psyche/Wounds/")
    text = example.vault.abspath(ref.id).read_text(encoding="utf-8")
    assert text.startswith("---\nfileClass: wound\n")
    assert 'related: ["[[Secure Attachment]]"]' in text or '  - "[[Secure Attachment]]"' in text
    assert example.read(ref.id).class_name == "wound"


def test_delete_goes_to_trash(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    example.delete(SECURE, expected_version=rec.version or "")
    assert not example.vault.abspath(SECURE).exists()
    assert (example.vault.root / ".trash" / "Secure Attachment.md").exists()


def test_conflict_copy_is_written_next_to_the_note_and_never_listed(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    copy_id = example.write_conflict_copy(
        Record(rec.class_name, rec.fields, "Their body\n", id=rec.id), "2026-11-28 1432"
    )
    assert copy_id == "Psyche/Attachment/Secure Attachment (conflict 2026-11-28 1432).md"
    assert example.vault.abspath(copy_id).read_text(encoding="utf-8").endswith("Their body\n")
    assert copy_id not in {r.id for r in example.list()}


def test_unreadable_notes_are_reported_not_listed(example: VaultAdapter) -> None:
    bad = example.vault.root / "Psyche" / "Bad.md"
    bad.write_bytes(b"---\nfileClass: wound\na: [unclosed\n---\n")
    example.refresh()
    assert "Psyche/Bad.md" not in {r.id for r in example.list()}
    assert "Psyche/Bad.md" in example.unreadable()


def test_retitle_renames_the_note_in_its_folder(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    data = example.vault.abspath(SECURE).read_bytes()
    ref = example.update(
        Record(rec.class_name, rec.fields, rec.body, id=rec.id, title="Earned: Secure Attachment"),
        expected_version=rec.version or "",
    )
    assert ref.id == "Psyche/Attachment/Earned Secure Attachment.md"
    assert not example.vault.abspath(SECURE).exists()
    assert example.vault.abspath(ref.id).read_bytes() == data  # renamed, bytes untouched
    assert ref.version == rec.version
    assert {r.id for r in example.list()} >= {ref.id}
    again = example.read(ref.id)
    assert again.title == "Earned Secure Attachment"


def test_retitle_never_replaces_another_note(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    ref = example.update(
        Record(rec.class_name, rec.fields, rec.body, id=rec.id, title="Anxious Attachment"),
        expected_version=rec.version or "",
    )
    assert ref.id == "Psyche/Attachment/Anxious Attachment 2.md"
    assert example.vault.abspath("Psyche/Attachment/Anxious Attachment.md").exists()


def test_change_of_case_is_a_rename(example: VaultAdapter) -> None:
    rec = example.read(SECURE)
    ref = example.update(
        Record(rec.class_name, rec.fields, rec.body, id=rec.id, title="Secure attachment"),
        expected_version=rec.version or "",
    )
    assert ref.id == "Psyche/Attachment/Secure attachment.md"


# --- canonical values: the shortcuts for plain strings give what to_canonical gives ---------

_RAW = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["2025-07-05", "2025-07-05 16:56", "16:56", "[[Note]]", "true", "12", "1.5", ""]
    )
    | st.dates(),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(FieldType)), _RAW)
def test_canonical_fields_equal_to_canonical_for_every_kind(ftype: FieldType, raw: Any) -> None:
    from syncbridge.adapter import canonical
    from syncbridge.schema import to_canonical
    from syncbridge.schema.metadata_menu import kind_of
    from syncbridge.schema.model import FieldSpec
    from syncbridge.vault.adapter import canonical_fields

    spec = FieldSpec("f", ftype, kind_of(ftype))
    expected = to_canonical(spec, raw)
    try:
        expected = canonical(expected)
    except TypeError:
        expected = str(expected)
    got = canonical_fields({"f": spec}, {"f": raw})["f"]
    assert got == expected and type(got) is type(expected)
    if isinstance(raw, list):
        assert got is not raw  # a copy: the index's own list is never shared


@pytest.mark.parametrize(
    "key", ["false", "true", "null", "~", "0x10", "007", "123", "1.5", "2025-01-01"]
)
def test_a_key_yaml_reads_as_no_string_keeps_its_spelling_through_an_update(
    tmp_path: Path, key: str
) -> None:
    data = f"---\nx: 1\n{key}: kept\n---\nbody\n".encode()
    (tmp_path / "n.md").write_bytes(data)
    adapter = VaultAdapter(Vault.open(tmp_path))
    (record,) = adapter.read_many(["n.md"])
    names = list(record.fields)
    assert names[0] == "x" and len(names) == 2
    fields = {**record.fields, "x": 2}
    assert record.version is not None
    adapter.update(
        Record(record.class_name, fields, "body\n", id="n.md"), expected_version=record.version
    )
    assert (tmp_path / "n.md").read_bytes() == data.replace(b"x: 1", b"x: 2")
    (again,) = adapter.read_many(["n.md"])
    assert again.fields == fields


def test_planned_names_and_links_hold_whatever_the_order_of_creates(
    example: VaultAdapter,
) -> None:
    """Inside ``planned`` (migrate --from): a record goes to the path planned for its
    title even when it is created in another order than planned, and field links to a
    title whose note is named otherwise are written to that note, the title as alias."""
    paths = {"Fear: a": "Fear a 2.md", "Fear  a": "Fear a.md"}
    links = {"Fear: a": "Fear a 2", "Fear  a": "Fear a"}
    with example.planned(paths, links):
        ref = example.create(
            Record("note", {"see": ["[[Fear  a]]", "[[Fear: a#Top]]"]}, body="x\n", title="Links")
        )
        first = example.create(Record("note", {}, body="colon\n", title="Fear: a"))
        second = example.create(Record("note", {}, body="spaces\n", title="Fear  a"))
    assert (first.id, second.id) == ("Fear a 2.md", "Fear a.md")
    assert example.read(ref.id).fields["see"] == [
        "[[Fear a|Fear  a]]",
        "[[Fear a 2#Top|Fear: a#Top]]",
    ]
    # outside it, names are picked as always
    third = example.create(Record("note", {"see": ["[[Fear: a]]"]}, title="Fear: a"))
    assert third.id == "Fear a 3.md"
    assert example.read(third.id).fields["see"] == ["[[Fear: a]]"]
