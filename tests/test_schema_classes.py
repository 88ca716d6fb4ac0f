"""Which class a note gets (Metadata Menu's priority), which notes are entries, and how
classes without a definition are typed (types.json, inference)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from syncbridge.schema import (
    ClassSchema,
    FieldKind,
    FieldType,
    VaultSchema,
    build_vault_schema,
    fileclass_names,
    note_tags,
)
from syncbridge.schema.inference import detect_date_format, infer_field, infer_fields
from syncbridge.schema.obsidian import read_template_folders, read_types_json


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def cls(name: str, **kw: Any) -> ClassSchema:
    return ClassSchema(name=name, fields={}, source="metadata-menu", **kw)


SCHEMA = VaultSchema(
    classes={
        "book": cls("book"),
        "person": cls("person", map_with_tag=True),
        "project": cls("project", tag_names=("work",), files_paths=("Projects",)),
        "client": cls("client", files_paths=("Projects/Clients",)),
        "note": cls("note"),
    },
    class_key="fileClass",
    fileclass_folder="Classes",
    template_folders=("Templates", "Meta/Templater"),
    definition_paths=frozenset({"Elsewhere/odd class.md"}),
)


@pytest.mark.parametrize(
    ("path", "fields", "expected"),
    [
        # 1. the fileClass value wins over tags and folders
        ("Projects/x.md", {"fileClass": "book", "tags": ["person"]}, "book"),
        # a list, or a comma string: the first known name
        ("a.md", {"fileClass": ["person", "book"]}, "person"),
        ("a.md", {"fileClass": "book, person"}, "book"),
        ("a.md", {"fileClass": "unknown, person"}, "person"),
        # 2. tags: mapWithTag (tag = class name) and tagNames, with or without '#'
        ("Projects/x.md", {"tags": ["#person"]}, "person"),
        ("a.md", {"tags": "work"}, "project"),
        ("a.md", {"tags": ["work/deep"]}, "project"),
        # 3. filesPaths: the deepest folder wins
        ("Projects/y.md", {}, "project"),
        ("Projects/Clients/z.md", {"fileClass": ""}, "client"),
        ("ProjectsX/y.md", {}, "note"),
        # 4. the default class
        ("a.md", {}, "note"),
        ("a.md", {"fileClass": None, "tags": None}, "note"),
    ],
)
def test_class_of_follows_metadata_menu_priority(
    path: str, fields: dict[str, Any], expected: str
) -> None:
    assert SCHEMA.class_of(path, fields) == expected


def test_class_of_uses_the_configured_alias_global_class_and_excluded_folders() -> None:
    schema = VaultSchema(
        classes={"recipe": cls("recipe"), "base": cls("base", files_paths=("Base",))},
        class_key="class",
        global_class="base",
        class_excluded_folders=("Archive",),
    )
    assert schema.class_of("a.md", {"class": "recipe"}) == "recipe"
    assert schema.class_of("a.md", {"fileClass": "recipe"}) == "base"  # global class
    assert schema.class_of("Archive/a.md", {"class": "recipe"}) == "base"


def test_is_entry_excludes_definitions_templates_and_other_files() -> None:
    assert SCHEMA.is_entry("Psyche/Grief.md")
    assert SCHEMA.is_entry("Templates.md")
    assert not SCHEMA.is_entry("Classes/book.md")
    assert not SCHEMA.is_entry("Classes/sub/book.md")
    assert not SCHEMA.is_entry("Templates/Wound.md")
    assert not SCHEMA.is_entry("Meta/Templater/daily.md")
    assert not SCHEMA.is_entry("Elsewhere/odd class.md")
    assert not SCHEMA.is_entry("Attachments/photo.png")


def test_fileclass_names_and_note_tags_parse_obsidian_shapes() -> None:
    assert fileclass_names(" a , b,,") == ["a", "b"]
    assert fileclass_names(["a", None, 3, " "]) == ["a"]
    assert fileclass_names(None) == []
    assert note_tags("#a b,c") == {"a", "b", "c"}
    assert note_tags(["x/y/z"]) == {"x", "x/y", "x/y/z"}
    assert note_tags(7) == set()


def test_types_json_types_the_default_class(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".obsidian/types.json",
        json.dumps(
            {
                "types": {
                    "aliases": "aliases",
                    "tags": "tags",
                    "cssclasses": "multitext",
                    "rating": "number",
                    "done": "checkbox",
                    "day": "date",
                    "at": "datetime",
                    "title": "text",
                    "weird": "somethingnew",
                }
            }
        ),
    )
    specs = read_types_json(tmp_path)
    assert specs["aliases"].kind is FieldKind.LIST
    assert specs["rating"].type is FieldType.NUMBER
    assert specs["done"].kind is FieldKind.BOOLEAN
    assert specs["day"].date_format == "YYYY-MM-DD"
    assert specs["at"].kind is FieldKind.DATETIME
    assert specs["weird"].kind is FieldKind.TEXT
    assert specs["title"].options["obsidianType"] == "text"

    schema = build_vault_schema(
        tmp_path, {"n.md": {"rating": "5", "title": "A", "other": True}, "m.md": {}}
    )
    note = schema.classes["note"]
    assert note.source == "types.json"
    assert list(note.fields) == ["rating", "title", "other"]  # keys the notes carry
    assert note.fields["rating"].origin == "types.json"
    assert note.fields["rating"].type is FieldType.NUMBER  # declared, although "5" is text
    assert (note.fields["other"].type, note.fields["other"].origin) == (
        FieldType.BOOLEAN,
        "inferred",
    )


def test_types_json_accepts_a_bare_mapping_and_ignores_garbage(tmp_path: Path) -> None:
    write(tmp_path, ".obsidian/types.json", '{"a": "number", "b": 3}')
    assert list(read_types_json(tmp_path)) == ["a"]
    write(tmp_path, ".obsidian/types.json", "[1, 2]")
    assert read_types_json(tmp_path) == {}


def test_template_folders_from_templater_core_and_config(tmp_path: Path) -> None:
    write(tmp_path, ".obsidian/templates.json", '{"folder": "Meta/Templates/"}')
    write(
        tmp_path,
        ".obsidian/plugins/templater-obsidian/data.json",
        '{"templates_folder": "Templater"}',
    )
    assert read_template_folders(tmp_path) == ["Templater", "Meta/Templates"]
    schema = build_vault_schema(tmp_path, {}, extra_template_folders=["/Drafts/", "Templater"])
    assert schema.template_folders == ("Templater", "Meta/Templates", "Drafts")
    assert not schema.is_entry("Drafts/x.md")


@pytest.mark.parametrize(
    ("values", "ftype", "fmt"),
    [
        ([True, False, None], FieldType.BOOLEAN, None),
        ([1, 2.5, ""], FieldType.NUMBER, None),
        ([dt.date(2025, 7, 5), "2025-07-06"], FieldType.DATE, "YYYY-MM-DD"),
        (["2025-07-05 16:56", "2025-07-06 09:41"], FieldType.DATETIME, "YYYY-MM-DD HH:mm"),
        ([dt.datetime(2025, 7, 5, 16, 56)], FieldType.DATETIME, "YYYY-MM-DD[T]HH:mm:ss"),
        (["2025-07-05T16:56"], FieldType.DATETIME, "YYYY-MM-DD[T]HH:mm"),
        (["2025.07.05 15:18:22.000 -0700"], FieldType.DATETIME, "YYYY.MM.DD HH:mm:ss.SSS ZZ"),
        (["14:30", "09:05"], FieldType.TIME, "HH:mm"),
        (["[[A]]", [["B"]]], FieldType.FILE, None),
        ([["[[A]]"], "[[B]]", []], FieldType.MULTIFILE, None),
        ([["a", "b"], "c"], FieldType.MULTI, None),
        ([[{"a": 1}], [{"b": 2}]], FieldType.OBJECT_LIST, None),
        ([{"a": 1}], FieldType.YAML, None),
        ([[{"a": 1}, "x"]], FieldType.YAML, None),
        (["text", 3], FieldType.INPUT, None),
        ([None, ""], FieldType.INPUT, None),
        (["2025-07-05", "not a date"], FieldType.INPUT, None),
    ],
)
def test_inference_rules(values: list[Any], ftype: FieldType, fmt: str | None) -> None:
    spec = infer_field("k", values)
    assert spec.type is ftype
    assert spec.origin == "inferred"
    assert spec.date_format == fmt


def test_inference_tolerates_a_few_odd_dates_and_picks_the_common_format() -> None:
    values = ["2025-07-05 16:56"] * 9 + ["2025-07-05T16:56:00"] * 3 + ["last tuesday"]
    spec = infer_field("created", values)
    assert (spec.type, spec.date_format) == (FieldType.DATETIME, "YYYY-MM-DD HH:mm")
    assert infer_field("created", ["2025-07-05", "14:30"]).type is FieldType.INPUT


def test_obsidian_list_properties_are_lists_whatever_the_values() -> None:
    assert infer_field("tags", ["one"]).type is FieldType.MULTI
    assert infer_field("aliases", []).kind is FieldKind.LIST


def test_detect_date_format_remembers_ruamel_space_separator() -> None:
    from ruamel.yaml.timestamp import TimeStamp

    stamp = TimeStamp(2025, 7, 5, 16, 56, 0)
    stamp._yaml["t"] = False
    assert detect_date_format(stamp) == "YYYY-MM-DD HH:mm:ss"
    assert detect_date_format(dt.time(14, 30)) == "HH:mm"
    assert detect_date_format(42) is None


def test_infer_fields_keeps_first_appearance_order_and_skips() -> None:
    fields = infer_fields([{"b": 1, "fileClass": "x"}, {"a": "t", "b": 2}], skip=["fileClass"])
    assert list(fields) == ["b", "a"]


def test_vault_without_settings_infers_a_default_class(tmp_path: Path) -> None:
    schema = build_vault_schema(
        tmp_path,
        {
            "a.md": {"created": "2025-07-05 16:56", "done": False, "links": ["[[b]]"]},
            "b.md": {"created": "2025-07-06 10:00", "done": True},
            "c.md": {},
        },
        default_class="entry",
    )
    assert list(schema.classes) == ["entry"]
    entry = schema.classes["entry"]
    assert entry.source == "inferred"
    kinds = {name: spec.kind for name, spec in entry.fields.items()}
    assert kinds == {
        "created": FieldKind.DATETIME,
        "done": FieldKind.BOOLEAN,
        "links": FieldKind.LINKS,
    }
    assert schema.class_of("c.md", {}) == "entry"


def test_undefined_fileclass_gets_an_inferred_class_and_unlisted_keys_are_added(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        ".obsidian/plugins/metadata-menu/data.json",
        '{"classFilesPath": "Classes/", "fileClassAlias": "fileClass"}',
    )
    write(
        tmp_path,
        "Classes/book.md",
        '---\nfields:\n  - {name: rating, type: Number, options: {}, path: "", id: R1}\n---\n',
    )
    frontmatters: dict[str, dict[str, Any]] = {
        "Classes/book.md": {"fields": [{"name": "rating", "type": "Number"}]},
        "b.md": {"fileClass": "book", "rating": 4, "tags": ["read"]},
        "m.md": {"fileClass": "movie", "year": 1999},
        "t/x.md": {"fileClass": "ghost"},
    }
    schema = build_vault_schema(tmp_path, frontmatters, extra_template_folders=["t"])
    assert set(schema.classes) == {"book", "movie", "note"}  # templates name no classes
    assert schema.classes["movie"].source == "inferred"
    assert schema.classes["movie"].fields["year"].type is FieldType.NUMBER
    book = schema.classes["book"].fields
    assert list(book) == ["rating", "tags"]
    assert book["tags"].origin == "inferred"
    assert schema.class_of("m.md", frontmatters["m.md"]) == "movie"
    assert not schema.is_entry("Classes/book.md")
    strict = build_vault_schema(tmp_path, frontmatters, infer_unlisted=False)
    assert list(strict.classes["book"].fields) == ["rating"]
