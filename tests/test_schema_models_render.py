"""pydantic models per class, text rendering and the JSON form of a schema."""

from __future__ import annotations

import datetime as dt
import json
import warnings

from pydantic import BaseModel

import syncbridge.schema as schema_pkg
from syncbridge.schema import ClassSchema, FieldSpec, VaultSchema
from syncbridge.schema.metadata_menu import parse_field
from syncbridge.schema.pydantic_models import attribute_name, pydantic_model
from syncbridge.schema.render import render_schema_text, schema_to_dict


def mdm(name: str, ftype: str, **options: object) -> FieldSpec:
    spec = parse_field({"name": name, "type": ftype, "options": options})
    assert spec is not None
    return spec


CLS = ClassSchema(
    name="attachment_theory",
    source="metadata-menu",
    definition_path="Classes/attachment_theory.md",
    fields={
        s.name: s
        for s in (
            mdm("id", "Number"),
            mdm("created", "DateTime", dateFormat="YYYY-MM-DD HH:mm"),
            mdm("first", "Date"),
            mdm("at", "Time"),
            mdm("status", "Select", valuesList={"1": "🟩 complete", "2": "⬜ not started"}),
            mdm("entered", "Boolean"),
            mdm("linked_wounds", "MultiFile"),
            mdm("Coût PM", "Number"),
            mdm("model_config", "Input"),
            mdm("class", "Input"),
            mdm("weekly", "Formula", formula="current.a * 7"),
            mdm("extra", "YAML"),
        )
    },
)


def test_model_types_canonical_values_and_keeps_extras() -> None:
    model = pydantic_model(CLS)
    assert issubclass(model, BaseModel)
    note = model.model_validate(
        {
            "id": 1751727368955,
            "created": "2025-07-05T16:56",
            "first": "2025-07-05",
            "at": "21:30",
            "status": "🟩 complete",
            "entered": False,
            "linked_wounds": ["[[Abandonment Wound]]"],
            "Coût PM": 3,
            "class": "x",
            "tags": ["extra", "allowed"],
        }
    )
    assert note.created == dt.datetime(2025, 7, 5, 16, 56)  # type: ignore[attr-defined]
    assert note.first == dt.date(2025, 7, 5)  # type: ignore[attr-defined]
    assert note.at == dt.time(21, 30)  # type: ignore[attr-defined]
    assert note.linked_wounds == ["[[Abandonment Wound]]"]  # type: ignore[attr-defined]
    assert note.Cout_PM == 3  # type: ignore[attr-defined]
    assert note.model_extra == {"tags": ["extra", "allowed"]}
    dumped = note.model_dump(by_alias=True, exclude_none=True)
    assert dumped["Coût PM"] == 3 and dumped["class"] == "x"


def test_model_is_lenient_misfits_are_kept_without_warnings() -> None:
    model = pydantic_model(CLS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        note = model.model_validate({"id": "many", "created": "someday", "entered": "yes"})
        assert note.id == "many"  # type: ignore[attr-defined]
        assert note.created == "someday"  # type: ignore[attr-defined]
        assert json.loads(note.model_dump_json(by_alias=True))["entered"] == "yes"
    empty = model()
    assert all(value is None for value in empty.model_dump().values())


def test_json_schema_export() -> None:
    schema = pydantic_model(CLS).model_json_schema(by_alias=True)
    assert schema["title"] == "attachment_theory"
    assert schema["additionalProperties"] is True
    props = schema["properties"]
    assert {"type": "string", "format": "date-time"} in props["created"]["anyOf"]
    assert {"type": "string", "format": "date"} in props["first"]["anyOf"]
    assert props["status"]["examples"] == ["🟩 complete", "⬜ not started"]
    assert props["weekly"]["readOnly"] is True
    assert props["Coût PM"]["x-fieldType"] == "Number"
    assert "required" not in schema


def test_attribute_names_are_safe_and_unique() -> None:
    taken: set[str] = set()
    names = [attribute_name(n, taken) for n in ("a b", "a-b", "model_x", "class", "1st", "été")]
    assert names == ["a_b", "a_b_2", "field_model_x", "class_", "field_1st", "ete"]


SCHEMA = VaultSchema(
    classes={
        "attachment_theory": CLS,
        "note": ClassSchema(name="note", fields={}, source="inferred"),
    },
    fileclass_folder="Classes",
    template_folders=("Templates",),
    problems=("wound: extends unknown class 'x'",),
)


def test_render_schema_text_has_a_table_per_class() -> None:
    text = render_schema_text(SCHEMA)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[0].startswith("2 classes; class key 'fileClass'; fileClass folder Classes")
    assert "template folders: Templates" in lines
    header = next(i for i, line in enumerate(lines) if line.startswith("attachment_theory  ("))
    assert "Classes/attachment_theory.md" in lines[header]
    assert lines[header + 1].split() == ["field", "type", "kind", "options", "read-only"]
    created = next(line for line in lines if line.strip().startswith("created "))
    assert created.split()[:3] == ["created", "DateTime", "datetime"]
    assert "format YYYY-MM-DD HH:mm" in created
    status = next(line for line in lines if line.strip().startswith("status "))
    assert "choices: 🟩 complete | ⬜ not started" in status
    weekly = next(line for line in lines if line.strip().startswith("weekly "))
    assert weekly.rstrip().endswith("yes") and "formula current.a * 7" in weekly
    assert "  (no fields)" in lines
    assert "  - wound: extends unknown class 'x'" in lines


def test_schema_to_dict_is_json_and_complete() -> None:
    data = schema_to_dict(SCHEMA)
    assert json.loads(json.dumps(data)) == data
    cls = data["classes"]["attachment_theory"]
    assert [f["name"] for f in cls["fields"]] == list(CLS.fields)
    status = cls["fields"][4]
    assert status["type"] == "Select" and status["kind"] == "text"
    assert status["choices"] == ["🟩 complete", "⬜ not started"]
    assert cls["fields"][10]["read_only"] is True
    assert data["problems"] == ["wound: extends unknown class 'x'"]
    assert data["classes"]["note"]["fields"] == []


def test_public_surface_is_exported() -> None:
    for name in schema_pkg.__all__:
        assert getattr(schema_pkg, name) is not None
    assert {
        "build_vault_schema",
        "to_canonical",
        "to_yaml_value",
        "validate_note",
        "FieldIssue",
        "pydantic_model",
        "render_schema_text",
        "schema_to_dict",
        "parse_vault_datetime",
        "format_vault_datetime",
    } <= set(schema_pkg.__all__)
