"""The vault's schema: classes of notes, their typed fields, and value typing.

Entry points: :func:`build_vault_schema` (derive the schema), :func:`to_canonical` /
:func:`to_yaml_value` (type values), :func:`validate_note` (doctor warnings),
:func:`pydantic_model` (typed access, JSON Schema), :func:`render_schema_text` /
:func:`schema_to_dict` (``syncbridge schema``).
"""

from syncbridge.schema.build import build_vault_schema
from syncbridge.schema.model import (
    ClassSchema,
    FieldKind,
    FieldSpec,
    FieldType,
    VaultSchema,
    fileclass_names,
    note_tags,
)
from syncbridge.schema.pydantic_models import pydantic_model
from syncbridge.schema.render import render_schema_text, schema_to_dict
from syncbridge.schema.validate import FieldIssue, validate_note
from syncbridge.schema.values import (
    canonical_datetime,
    canonical_time,
    format_vault_datetime,
    parse_vault_datetime,
    to_canonical,
    to_yaml_value,
)

__all__ = [
    "ClassSchema",
    "FieldIssue",
    "FieldKind",
    "FieldSpec",
    "FieldType",
    "VaultSchema",
    "build_vault_schema",
    "canonical_datetime",
    "canonical_time",
    "fileclass_names",
    "format_vault_datetime",
    "note_tags",
    "parse_vault_datetime",
    "pydantic_model",
    "render_schema_text",
    "schema_to_dict",
    "to_canonical",
    "to_yaml_value",
    "validate_note",
]
