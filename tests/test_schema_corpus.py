"""The real vaults in ../shared/corpus: their Metadata Menu settings, fileClasses and
types.json parse, every note gets a known class, and typing every value is lossless.

Read-only: the corpus is never modified."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

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
from syncbridge.schema.metadata_menu import read_settings
from syncbridge.schema.obsidian import read_types_json

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
VAULTS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
_FENCE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*\r?$", re.S | re.M)

pytestmark = pytest.mark.skipif(
    not VAULTS, reason=f"the shared corpus is absent ({CORPUS}); these tests need it"
)


def read_frontmatters(root: Path) -> dict[str, dict[str, Any]]:
    """Frontmatter per note by a plain splitter + YAML 1.2 safe load; notes whose YAML does
    not parse (templates with {{VALUE}} placeholders) are passed as {}."""
    yaml = YAML(typ="safe", pure=True)
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        text = path.read_bytes().decode("utf-8", errors="replace")
        match = _FENCE.match(text)
        data: Any = None
        if match:
            try:
                data = yaml.load(match.group(1))
            except YAMLError:
                data = None
        out[rel] = data if isinstance(data, dict) else {}
    return out


@pytest.fixture(scope="module", params=VAULTS)
def vault(request: pytest.FixtureRequest) -> tuple[Path, dict[str, dict[str, Any]], VaultSchema]:
    root = CORPUS / request.param
    frontmatters = read_frontmatters(root)
    return root, frontmatters, build_vault_schema(root, frontmatters)


def test_schema_builds_and_every_note_gets_a_known_class(
    vault: tuple[Path, dict[str, dict[str, Any]], VaultSchema],
) -> None:
    _, frontmatters, schema = vault
    assert schema.default_class in schema.classes
    for path, fm in frontmatters.items():
        if schema.is_entry(path):
            assert schema.class_of(path, fm) in schema.classes
    for cls in schema.classes.values():
        for spec in cls.fields.values():
            assert isinstance(spec.kind, FieldKind)
    assert render_schema_text(schema)
    assert schema_to_dict(schema)["classes"]


def test_typing_every_corpus_value_is_lossless_and_validation_never_raises(
    vault: tuple[Path, dict[str, dict[str, Any]], VaultSchema],
) -> None:
    _, frontmatters, schema = vault
    checked = 0
    for path, fm in frontmatters.items():
        if not schema.is_entry(path):
            continue
        cls = schema.classes[schema.class_of(path, fm)]
        validate_note(cls, fm)
        for key, raw in fm.items():
            spec = cls.fields.get(key)
            if spec is None:
                continue
            canonical = to_canonical(spec, raw)
            assert to_yaml_value(spec, canonical, raw) is raw, (path, key, raw)
            checked += 1
    assert checked or not any(frontmatters.values())


def test_labnote_metadata_menu_classes() -> None:
    root = CORPUS / "Univ-Shizuoka-Eisei__LabNote"
    if not root.is_dir():
        pytest.skip("LabNote vault absent from the corpus")
    settings = read_settings(root)
    assert settings is not None and settings.class_files_path == "System/MetadataMenu"
    frontmatters = read_frontmatters(root)
    schema = build_vault_schema(root, frontmatters)
    assert {"Experiment", "Literature", "Reagent", "Task"} <= set(schema.classes)
    assert schema.classes["Literature"].fields["Source"].choices == (
        "Paper",
        "Web site",
        "Book",
        "YouTube",
    )
    assert schema.classes["Task"].fields["referenceNote"].type is FieldType.MULTIFILE
    assert schema.problems == ()
    classes = {schema.class_of(p, fm) for p, fm in frontmatters.items() if schema.is_entry(p)}
    assert {"Experiment", "Reagent"} <= classes
    assert read_types_json(root)["created"].kind is FieldKind.DATETIME


def test_recipes_use_a_custom_class_alias() -> None:
    root = CORPUS / "edombowsky__Recipes"
    if not root.is_dir():
        pytest.skip("Recipes vault absent from the corpus")
    frontmatters = read_frontmatters(root)
    schema = build_vault_schema(root, frontmatters)
    assert schema.class_key == "class"
    assert schema.fileclass_folder == "90 - Organize/Classes"
    recipe = schema.classes["Recipe"]
    assert recipe.fields["course"].options["sourceType"] == "ValuesListNotePath"
    assert recipe.fields["vegan"].kind is FieldKind.BOOLEAN
    entries = [p for p in frontmatters if schema.is_entry(p)]
    assert sum(schema.class_of(p, frontmatters[p]) == "Recipe" for p in entries) > 300


def test_stars_preset_fields_type_the_default_class() -> None:
    root = CORPUS / "Steffo99__stars"
    if not root.is_dir():
        pytest.skip("stars vault absent from the corpus")
    schema = build_vault_schema(root, read_frontmatters(root))
    note = schema.classes["note"]
    assert note.fields["rating"].type is FieldType.NUMBER
    assert note.fields["rating"].options["max"] == 100
    assert note.fields["purchased_on"].kind is FieldKind.DATE
    assert note.fields["identifiers"].type is FieldType.YAML
