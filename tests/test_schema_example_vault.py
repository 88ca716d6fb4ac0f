"""The schema of ``examples/vault``: every note gets the class it was written for, its
values fit, and typing them is lossless."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from syncbridge.schema import (
    FieldKind,
    FieldType,
    VaultSchema,
    build_vault_schema,
    render_schema_text,
    schema_to_dict,
    to_canonical,
    to_yaml_value,
    validate_note,
)

VAULT = Path(__file__).resolve().parent.parent / "examples" / "vault"
_FENCE = re.compile(r"\A---\r?\n(.*?)^---[ \t]*$", re.S | re.M)


def read_frontmatters(root: Path) -> dict[str, dict[str, Any]]:
    """Every note's frontmatter ({} without one), by a plain splitter + YAML 1.2 safe load."""
    yaml = YAML(typ="safe", pure=True)
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".obsidian/"):
            continue
        match = _FENCE.match(path.read_text(encoding="utf-8"))
        out[rel] = (yaml.load(match.group(1)) or {}) if match else {}
    return out


@pytest.fixture(scope="module")
def frontmatters() -> dict[str, dict[str, Any]]:
    return read_frontmatters(VAULT)


@pytest.fixture(scope="module")
def schema(frontmatters: dict[str, dict[str, Any]]) -> VaultSchema:
    return build_vault_schema(VAULT, frontmatters)


EXPECTED_CLASSES = {
    "Psyche/Attachment/Secure Attachment.md": "attachment_theory",
    "Psyche/Attachment/Anxious Attachment.md": "attachment_theory",
    "Psyche/Attachment/Avoidant Attachment.md": "attachment_theory",
    "Psyche/Attachment/Disorganized Attachment.md": "attachment_theory",
    "Psyche/Wounds/Abandonment Wound.md": "wound",
    "Psyche/Wounds/Rejection Wound.md": "wound",
    "Psyche/Wounds/Shame Wound.md": "wound",  # fileClass: [wound]
    "Psyche/Wounds/Betrayal Wound.md": "wound",
    "Psyche/Wounds/Engulfment Wound.md": "wound",
    "Psyche/Emotions/Grief.md": "emotion",
    "Psyche/Emotions/Fear.md": "emotion",
    "Psyche/Emotions/Shame.md": "emotion",  # fileClass: emotion, wound → the first
    "Psyche/Emotions/Anger.md": "emotion",  # no fileClass: filesPaths
    "Psyche/Emotions/Loneliness.md": "emotion",
    "Pathways/Earned Security.md": "healing_pathway",
    "Pathways/Inner Child Work.md": "healing_pathway",
    "Pathways/Somatic Grounding.md": "healing_pathway",
    "Pathways/Self-Compassion Practice.md": "healing_pathway",  # tag = class (mapWithTag)
    "Pathways/Journaling for Repair.md": "healing_pathway",  # tagNames: healing
    "Welcome.md": "note",  # no frontmatter
    "Journal/2025-07-12 Evening check-in.md": "note",
    "Lists/Attachment style types.md": "note",
}


def test_settings_are_read(schema: VaultSchema) -> None:
    assert schema.class_key == "fileClass"
    assert schema.fileclass_folder == "Classes"
    assert schema.template_folders == ("Templates",)
    assert schema.problems == ()
    assert set(schema.classes) == {
        "attachment_theory",
        "wound",
        "emotion",
        "healing_pathway",
        "psyche_entry",
        "note",
    }


def test_every_example_note_gets_its_intended_class(
    schema: VaultSchema, frontmatters: dict[str, dict[str, Any]]
) -> None:
    entries = {p: fm for p, fm in frontmatters.items() if schema.is_entry(p)}
    assert set(entries) == set(EXPECTED_CLASSES)
    got = {path: schema.class_of(path, fm) for path, fm in entries.items()}
    assert got == EXPECTED_CLASSES


def test_definitions_and_templates_are_not_entries(
    schema: VaultSchema, frontmatters: dict[str, dict[str, Any]]
) -> None:
    not_entries = {p for p in frontmatters if not schema.is_entry(p)}
    assert not_entries == {
        "Classes/attachment_theory.md",
        "Classes/emotion.md",
        "Classes/healing_pathway.md",
        "Classes/psyche_entry.md",
        "Classes/wound.md",
        "Templates/Wound Template.md",
    }


def test_inheritance_in_the_example_classes(schema: VaultSchema) -> None:
    base = list(schema.classes["psyche_entry"].fields)
    wound = schema.classes["wound"]
    assert list(wound.fields)[: len(base)] == base
    assert wound.fields["backlinked_emotions"].read_only
    emotion = schema.classes["emotion"]
    assert "priority" not in emotion.fields  # excludes
    assert emotion.files_paths == ("Psyche/Emotions",)
    pathway = schema.classes["healing_pathway"]
    assert pathway.map_with_tag and pathway.tag_names == ("healing",)
    assert [c.name for c in pathway.fields["steps"].children] == ["step", "minutes"]
    assert pathway.fields["weekly_minutes"].read_only
    assert pathway.fields["tags"].origin == "types.json"


def test_default_class_is_typed_by_types_json_and_inference(schema: VaultSchema) -> None:
    note = schema.classes["note"]
    assert note.source == "types.json"
    assert note.fields["mood"].kind is FieldKind.LIST
    assert note.fields["energy"].type is FieldType.NUMBER
    assert note.fields["shared_with_therapist"].kind is FieldKind.BOOLEAN
    created = note.fields["created"]
    assert (created.origin, created.kind, created.date_format) == (
        "inferred",
        FieldKind.DATETIME,
        "YYYY-MM-DD HH:mm",
    )


def test_example_values_fit_their_classes(
    schema: VaultSchema, frontmatters: dict[str, dict[str, Any]]
) -> None:
    for path, fm in frontmatters.items():
        if schema.is_entry(path):
            cls = schema.classes[schema.class_of(path, fm)]
            assert validate_note(cls, fm) == [], path


def test_typing_example_values_is_lossless(
    schema: VaultSchema, frontmatters: dict[str, dict[str, Any]]
) -> None:
    for path, fm in frontmatters.items():
        if not schema.is_entry(path):
            continue
        cls = schema.classes[schema.class_of(path, fm)]
        for key, raw in fm.items():
            spec = cls.fields.get(key)
            if spec is not None:
                assert to_yaml_value(spec, to_canonical(spec, raw), raw) is raw, (path, key)


def test_canonical_values_of_a_seed_like_note(
    schema: VaultSchema, frontmatters: dict[str, dict[str, Any]]
) -> None:
    path = "Psyche/Attachment/Anxious Attachment.md"
    fm = frontmatters[path]
    cls = schema.classes["attachment_theory"]
    canon = {k: to_canonical(cls.fields[k], v) for k, v in fm.items() if k in cls.fields}
    assert cls.fields["style_type"].choices[:2] == ("Secure", "Anxious-preoccupied")
    assert canon["id"] == 1751731942310
    assert canon["created"] == "2025-07-05T18:12"
    assert canon["status"] == "🟨 in progress"
    assert canon["visibility"] == "🔒 private"
    assert canon["linked_wounds"] == ["[[Abandonment Wound]]", "[[Rejection Wound]]"]
    assert canon["healing_pathways"][0] == "[[Earned Security]]"
    assert canon["notes"] is None  # `notes: ` with a trailing space
    assert canon["growth_path"].endswith("not five.\n")
    assert canon["scores"] == {"anxiety": 5.4, "avoidance": 2.1}
    # a changed last_modified is written back in the note's own format
    assert to_yaml_value(cls.fields["last_modified"], "2025-09-01T08:05", fm["last_modified"]) == (
        "2025-09-01 08:05"
    )


def test_example_schema_renders(schema: VaultSchema) -> None:
    text = render_schema_text(schema)
    assert "attachment_theory  (metadata-menu; Classes/attachment_theory.md)" in text
    assert "choices: 🔒 private | 🌐 public" in text
    data = schema_to_dict(schema)
    assert [f["name"] for f in data["classes"]["wound"]["fields"]][:3] == [
        "id",
        "created",
        "last_modified",
    ]
