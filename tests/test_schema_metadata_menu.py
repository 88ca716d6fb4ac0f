"""Metadata Menu settings and fileClass definitions: every field type, nesting, extends,
excludes and the mapping options, read from a real vault layout in a tmp dir."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from syncbridge.schema import FieldKind, FieldType, build_vault_schema
from syncbridge.schema.metadata_menu import (
    READ_ONLY_TYPES,
    kind_of,
    parse_fields,
    read_settings,
    settings_from_dict,
)

ALL_TYPES_FILECLASS = """\
---
limit: 20
mapWithTag: false
icon: package
tagNames:
filesPaths:
bookmarksGroups:
excludes:
extends:
savedViews: []
favoriteView:
fieldsOrder: []
version: "2.1"
fields:
  - {name: f_input, type: Input, options: {template: "{{n}} KCal"}, path: "", id: AAAA01}
  - {name: f_number, type: Number, options: {step: 1, min: 0, max: 10}, path: "", id: AAAA02}
  - name: f_select
    type: Select
    options:
      sourceType: ValuesList
      valuesList: {"2": 🌐 public, "1": 🔒 private, "10": later}
    path: ""
    id: AAAA03
  - {name: f_cycle, type: Cycle, options: {sourceType: ValuesList, valuesList: {"1": a, "2": b}, allowNull: true}, path: "", id: AAAA04}
  - {name: f_boolean, type: Boolean, options: {}, path: "", id: AAAA05}
  - {name: f_date, type: Date, options: {dateFormat: DD/MM/YYYY}, path: "", id: AAAA06}
  - {name: f_datetime, type: DateTime, options: {dateFormat: YYYY-MM-DD HH:mm}, path: "", id: AAAA07}
  - {name: f_time, type: Time, options: {dateFormat: HH:mm}, path: "", id: AAAA08}
  - {name: f_multi, type: Multi, options: {sourceType: ValuesList, valuesList: {"1": x, "2": y}}, display: asList, path: "", id: AAAA09}
  - {name: f_file, type: File, options: {dvQueryString: "dv.pages()"}, path: "", id: AAAA10}
  - {name: f_multifile, type: MultiFile, options: {}, path: "", id: AAAA11}
  - {name: f_media, type: Media, options: {embed: false, folders: [Attachments]}, path: "", id: AAAA12}
  - {name: f_multimedia, type: MultiMedia, options: {}, display: asArray, path: "", id: AAAA13}
  - {name: f_canvas, type: Canvas, options: {canvasPath: a.canvas}, path: "", id: AAAA14}
  - {name: f_canvasgroup, type: CanvasGroup, options: {canvasPath: a.canvas}, path: "", id: AAAA15}
  - {name: f_canvasgrouplink, type: CanvasGroupLink, options: {canvasPath: a.canvas}, path: "", id: AAAA16}
  - {name: f_formula, type: Formula, options: {formula: "current.f_number * 2", autoUpdate: true}, path: "", id: AAAA17}
  - {name: f_lookup, type: Lookup, options: {outputType: BuiltinSummarizing, builtinSummarizingFunction: Sum}, path: "", id: AAAA18}
  - {name: f_json, type: JSON, options: {}, path: "", id: AAAA19}
  - {name: f_yaml, type: YAML, options: {}, path: "", id: AAAA20}
  - {name: f_object, type: Object, options: {displayTemplate: "{{child}}"}, path: "", id: AAAA21}
  - {name: child, type: Input, options: {}, path: AAAA21, id: AAAA22}
  - {name: f_objectlist, type: ObjectList, options: {}, path: "", id: AAAA23}
  - {name: item_name, type: Input, options: {}, path: AAAA23, id: AAAA24}
  - {name: item_meta, type: Object, options: {}, path: AAAA23, id: AAAA25}
  - {name: deep, type: number, options: {}, path: AAAA23____AAAA25, id: AAAA26}
---

Body ignored.
"""

EXPECTED = {
    "f_input": (FieldType.INPUT, FieldKind.TEXT, False),
    "f_number": (FieldType.NUMBER, FieldKind.NUMBER, False),
    "f_select": (FieldType.SELECT, FieldKind.TEXT, False),
    "f_cycle": (FieldType.CYCLE, FieldKind.TEXT, False),
    "f_boolean": (FieldType.BOOLEAN, FieldKind.BOOLEAN, False),
    "f_date": (FieldType.DATE, FieldKind.DATE, False),
    "f_datetime": (FieldType.DATETIME, FieldKind.DATETIME, False),
    "f_time": (FieldType.TIME, FieldKind.TIME, False),
    "f_multi": (FieldType.MULTI, FieldKind.LIST, False),
    "f_file": (FieldType.FILE, FieldKind.LINK, False),
    "f_multifile": (FieldType.MULTIFILE, FieldKind.LINKS, False),
    "f_media": (FieldType.MEDIA, FieldKind.LINK, False),
    "f_multimedia": (FieldType.MULTIMEDIA, FieldKind.LINKS, False),
    "f_canvas": (FieldType.CANVAS, FieldKind.LINKS, True),
    "f_canvasgroup": (FieldType.CANVAS_GROUP, FieldKind.LIST, True),
    "f_canvasgrouplink": (FieldType.CANVAS_GROUP_LINK, FieldKind.LINKS, True),
    "f_formula": (FieldType.FORMULA, FieldKind.TEXT, True),
    "f_lookup": (FieldType.LOOKUP, FieldKind.NUMBER, True),
    "f_json": (FieldType.JSON, FieldKind.JSON, False),
    "f_yaml": (FieldType.YAML, FieldKind.JSON, False),
    "f_object": (FieldType.OBJECT, FieldKind.JSON, False),
    "f_objectlist": (FieldType.OBJECT_LIST, FieldKind.JSON, False),
}


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def mdm_vault(root: Path, settings: dict[str, object] | None = None) -> Path:
    data: dict[str, object] = {"classFilesPath": "Classes/", "fileClassAlias": "fileClass"}
    data.update(settings or {})
    write(root, ".obsidian/plugins/metadata-menu/data.json", json.dumps(data))
    return root


def fileclass(fields: str, **options: str) -> str:
    head = "".join(f"{k}: {v}\n" for k, v in options.items())
    return f"---\n{head}fields:\n{textwrap.indent(textwrap.dedent(fields), '  ')}---\n"


def test_all_22_field_types_are_parsed_with_kind_and_read_only(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Classes/everything.md", ALL_TYPES_FILECLASS)
    schema = build_vault_schema(root, {})
    cls = schema.classes["everything"]
    assert cls.source == "metadata-menu"
    assert cls.definition_path == "Classes/everything.md"
    assert list(cls.fields) == list(EXPECTED)
    assert {spec.type for spec in cls.fields.values()} == set(FieldType)
    for name, (ftype, kind, read_only) in EXPECTED.items():
        spec = cls.fields[name]
        assert (spec.type, spec.kind, spec.read_only) == (ftype, kind, read_only), name
    assert {t for t, _, ro in EXPECTED.values() if ro} == READ_ONLY_TYPES
    assert schema.problems == ()


def test_field_options_are_kept_and_choices_ordered_by_key(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Classes/everything.md", ALL_TYPES_FILECLASS)
    fields = build_vault_schema(root, {}).classes["everything"].fields
    # valuesList keys "1", "2", "10" sort as numbers, not as text
    assert fields["f_select"].choices == ("🔒 private", "🌐 public", "later")
    assert fields["f_cycle"].choices == ("a", "b")
    assert fields["f_number"].options == {"step": 1, "min": 0, "max": 10}
    assert fields["f_date"].date_format == "DD/MM/YYYY"
    assert fields["f_input"].options["template"] == "{{n}} KCal"
    assert fields["f_formula"].options["formula"] == "current.f_number * 2"
    assert fields["f_multi"].display == "asList"
    # frontmatterListDisplay (asArray by default) applies to multi fields without display
    assert fields["f_multifile"].display == "asArray"
    assert fields["f_input"].display is None
    assert fields["f_input"].field_id == "AAAA01"


def test_object_and_objectlist_children_nest_by_path(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Classes/everything.md", ALL_TYPES_FILECLASS)
    fields = build_vault_schema(root, {}).classes["everything"].fields
    assert "child" not in fields and "item_name" not in fields and "deep" not in fields
    assert [c.name for c in fields["f_object"].children] == ["child"]
    items = {c.name: c for c in fields["f_objectlist"].children}
    assert list(items) == ["item_name", "item_meta"]
    (deep,) = items["item_meta"].children
    # type names are case-insensitive ("number" → Number), as MDM capitalizes on read
    assert (deep.name, deep.type) == ("deep", FieldType.NUMBER)


def test_unknown_type_reads_as_input_and_is_reported() -> None:
    fields, problems = parse_fields(
        [
            {"name": "a", "type": "Rating", "options": {}},
            {"type": "Input"},
            "not a mapping",
            {"name": "orphan", "type": "Input", "path": "NOPE00"},
        ]
    )
    assert [(f.name, f.type) for f in fields] == [("a", FieldType.INPUT)]
    assert len(problems) == 4
    assert any("unknown type 'Rating'" in p for p in problems)
    assert any("orphan" in p for p in problems)


def test_lookup_kind_follows_output_type() -> None:
    assert kind_of(FieldType.LOOKUP, {}) is FieldKind.LINKS
    assert kind_of(FieldType.LOOKUP, {"outputType": "LinksBulletList"}) is FieldKind.LINKS
    assert kind_of(FieldType.LOOKUP, {"outputType": "CustomList"}) is FieldKind.LIST
    assert kind_of(FieldType.LOOKUP, {"outputType": "CustomSummarizing"}) is FieldKind.TEXT


def test_extends_inherits_overrides_and_excludes(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(
        root,
        "Classes/base.md",
        fileclass(
            """\
            - {name: id, type: Number, options: {}, path: "", id: B00001}
            - {name: status, type: Select, options: {valuesList: {"1": open, "2": done}}, path: "", id: B00002}
            - {name: priority, type: Cycle, options: {valuesList: {"1": low}}, path: "", id: B00003}
            """
        ),
    )
    write(
        root,
        "Classes/child.md",
        fileclass(
            """\
            - {name: status, type: Multi, options: {valuesList: {"1": x}}, path: "", id: C00001}
            - {name: extra, type: Boolean, options: {}, path: "", id: C00002}
            """,
            extends="base",
            excludes="priority",
        ),
    )
    write(
        root,
        "Classes/grandchild.md",
        fileclass(
            """\
            - {name: more, type: Input, options: {}, path: "", id: D00001}
            """,
            extends="child",
            excludes="[extra, id]",
        ),
    )
    classes = build_vault_schema(root, {}).classes
    child = classes["child"]
    # inherited fields first, in the parent's order; the override takes the parent's place
    assert list(child.fields) == ["id", "status", "extra"]
    assert child.fields["status"].type is FieldType.MULTI
    assert child.extends == "base" and child.excludes == ("priority",)
    assert list(classes["grandchild"].fields) == ["status", "more"]
    assert list(classes["base"].fields) == ["id", "status", "priority"]


def test_extends_cycles_and_unknown_parents_are_reported_not_raised(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    field = '- {name: a, type: Input, options: {}, path: "", id: E00001}\n'
    write(root, "Classes/a.md", fileclass(field, extends="b"))
    write(root, "Classes/b.md", fileclass(field.replace("a,", "b,"), extends="a"))
    write(root, "Classes/c.md", fileclass(field, extends="missing"))
    schema = build_vault_schema(root, {})
    assert set(schema.classes) >= {"a", "b", "c"}
    assert list(schema.classes["c"].fields) == ["a"]
    assert [p for p in schema.problems if "cycle" in p] == ["b: extends cycle a → b → a"]
    assert any("unknown class 'missing'" in p for p in schema.problems)


def test_mapping_options_tagnames_filespaths_and_subfolder_names(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(
        root,
        "Classes/sub/project.md",
        '---\nmapWithTag: true\ntagNames: "work, #job"\nfilesPaths:\n  - Projects/\n'
        "icon: briefcase\nfields: []\n---\n",
    )
    cls = build_vault_schema(root, {}).classes["sub/project"]
    assert cls.map_with_tag is True
    assert cls.tag_names == ("work", "job")
    assert cls.files_paths == ("Projects",)
    assert cls.icon == "briefcase"


def test_fileclass_frontmatter_passed_by_the_caller_wins_over_disk(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Classes/thing.md", "---\nfields: []\n---\n")
    given = {"Classes/thing.md": {"fields": [{"name": "x", "type": "Number"}]}}
    assert list(build_vault_schema(root, given).classes["thing"].fields) == ["x"]


def test_unreadable_fileclass_is_a_problem_not_an_error(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Classes/broken.md", "---\nfields: [unclosed\n---\n")
    schema = build_vault_schema(root, {})
    assert schema.classes["broken"].fields == {}
    assert any("broken" in p for p in schema.problems)


def test_settings_alias_trailing_slash_presets_and_defaults(tmp_path: Path) -> None:
    assert read_settings(tmp_path) is None
    settings = settings_from_dict(
        {
            "classFilesPath": "90 - Organize/Classes/",
            "fileClassAlias": "class",
            "globalFileClass": "",
            "presetFields": [{"name": "rating", "type": "Number"}, "junk"],
            "fileClassExcludedFolders": ["Archive/"],
        }
    )
    assert settings.class_files_path == "90 - Organize/Classes"
    assert settings.file_class_alias == "class"
    assert settings.global_file_class is None
    assert len(settings.preset_fields) == 1
    assert settings.excluded_folders == ("Archive",)
    defaults = settings_from_dict({"classFilesPath": None, "fileClassAlias": None})
    assert (defaults.class_files_path, defaults.file_class_alias) == (None, "fileClass")


def test_malformed_settings_file_means_no_plugin(tmp_path: Path) -> None:
    write(tmp_path, ".obsidian/plugins/metadata-menu/data.json", "{not json")
    assert read_settings(tmp_path) is None
    schema = build_vault_schema(tmp_path, {"a.md": {"x": 1}})
    assert schema.class_key == "fileClass"
    assert schema.fileclass_folder is None


@pytest.mark.parametrize("alias", ["fileClass", "class"])
def test_preset_fields_type_the_default_class(tmp_path: Path, alias: str) -> None:
    mdm_vault(
        tmp_path,
        {
            "classFilesPath": None,
            "fileClassAlias": alias,
            "presetFields": [
                {"name": "rating", "type": "Number", "options": {"min": 1}, "path": "", "id": "P1"},
                {"name": "done_on", "type": "Date", "options": {}, "path": "", "id": "P2"},
            ],
        },
    )
    schema = build_vault_schema(tmp_path, {"game.md": {"rating": "7", alias: ""}})
    assert schema.class_key == alias
    fields = schema.classes["note"].fields
    assert fields["rating"].type is FieldType.NUMBER  # the preset wins over inference ("7")
    assert fields["done_on"].kind is FieldKind.DATE  # kept although no note uses it yet
    assert alias not in fields


def test_values_list_note_path_options_are_read_from_the_note(tmp_path: Path) -> None:
    root = mdm_vault(tmp_path)
    write(root, "Lists/Moods.md", "---\ntags: [list]\n---\nCalm  \n\nTense\n")
    write(
        root,
        "Classes/day.md",
        fileclass(
            """\
            - {name: mood, type: Select, options: {sourceType: ValuesListNotePath, valuesListNotePath: Lists/Moods.md}, path: "", id: M00001}
            - {name: moods, type: Multi, options: {sourceType: ValuesListNotePath, valuesListNotePath: Lists/Moods}, path: "", id: M00002}
            - {name: gone, type: Select, options: {sourceType: ValuesListNotePath, valuesListNotePath: Lists/Gone.md}, path: "", id: M00003}
            """
        ),
    )
    schema = build_vault_schema(root, {})
    fields = schema.classes["day"].fields
    assert fields["mood"].choices == ("Calm", "Tense")
    assert fields["moods"].choices == ("Calm", "Tense")
    assert fields["gone"].choices == ()
    assert any("Lists/Gone.md" in p for p in schema.problems)
