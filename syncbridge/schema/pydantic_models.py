"""pydantic models per class: typed access to canonical values and JSON Schema export.

Models are lenient: every field is optional, unknown keys are kept (``extra="allow"``),
and a value that does not fit its type is kept as it is instead of failing validation
(the vault is the user's; we report, we do not reject). They never coerce (``"yes"``
stays a string in a Boolean field); only ISO text becomes ``date``/``datetime``/``time``.
Field names that are not Python identifiers (``"Coût PM"``, ``"date created"``) get a
safe attribute name and keep the original as their alias, so ``model_validate`` and
``model_dump(by_alias=True)`` use the frontmatter names.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
    create_model,
)

from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec

__all__ = ["attribute_name", "pydantic_model", "python_type"]

_JSON = Any


def _keep_on_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return value


def _fits(kind: FieldKind, value: Any) -> bool:
    if value is None:
        return True
    if kind is FieldKind.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind in (FieldKind.LINKS, FieldKind.LIST):
        return isinstance(value, list) and all(isinstance(i, str) for i in value)
    if kind is FieldKind.DATE:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind is FieldKind.JSON:
        return True
    expected = {FieldKind.DATETIME: dt.datetime, FieldKind.TIME: dt.time, FieldKind.BOOLEAN: bool}
    return isinstance(value, expected.get(kind, str))


def _serializer(kind: FieldKind) -> WrapSerializer:
    """Serialize fitting values normally and kept misfits as they are (no warnings)."""

    def serialize(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        return handler(value) if _fits(kind, value) else value

    return WrapSerializer(serialize)


# Strict scalars: no lax coercions ("yes" → True, "7" → 7), canonical values are already
# typed. Dates stay lax so that ISO text becomes date / datetime / time objects.
_PY_TYPES: dict[FieldKind, Any] = {
    FieldKind.TEXT: StrictStr,
    FieldKind.NUMBER: StrictInt | StrictFloat,
    FieldKind.BOOLEAN: StrictBool,
    FieldKind.DATE: dt.date,
    FieldKind.DATETIME: dt.datetime,
    FieldKind.TIME: dt.time,
    FieldKind.LINK: StrictStr,
    FieldKind.LINKS: list[StrictStr],
    FieldKind.LIST: list[StrictStr],
    FieldKind.JSON: _JSON,
}


def python_type(spec: FieldSpec) -> Any:
    """The annotation of ``spec``'s attribute: its kind's Python type, optional, lenient."""
    base = _PY_TYPES[spec.kind]
    return Annotated[base | None, WrapValidator(_keep_on_error), _serializer(spec.kind)]


def attribute_name(name: str, taken: set[str]) -> str:
    """A Python identifier for field ``name``, unique within ``taken`` (which it updates).
    Accents are stripped, other characters become ``_``; pydantic's reserved ``model_``
    prefix and keywords get a ``field_`` / trailing ``_`` guard."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ident = re.sub(r"\W+", "_", ascii_name).strip("_") or "field"
    if ident[0].isdigit() or ident.startswith("model_") or ident.startswith("_"):
        ident = f"field_{ident}"
    if keyword.iskeyword(ident) or ident in dir(BaseModel):
        ident = f"{ident}_"
    candidate, n = ident, 2
    while candidate in taken:
        candidate = f"{ident}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def pydantic_model(cls: ClassSchema) -> type[BaseModel]:
    """A new pydantic model for ``cls`` (not cached: call once per schema).

    Attributes are typed by kind (text → ``str``, number → ``int | float``, date →
    ``date``, datetime → ``datetime``, links/list → ``list[str]``, json → any), all
    ``None`` by default. Feed it canonical values (``to_canonical``) keyed by field name:
    ``Model.model_validate({"created": "2025-07-05T16:56"}).created`` is a ``datetime``.
    ``Model.model_json_schema(by_alias=True)`` is the class's JSON Schema; read-only fields
    are marked ``readOnly``.
    """
    taken: set[str] = set()
    definitions: dict[str, Any] = {}
    for spec in cls.fields.values():
        attr = attribute_name(spec.name, taken)
        extra: dict[str, Any] = {"x-fieldType": spec.type.value, "x-kind": spec.kind.value}
        if spec.read_only:
            extra["readOnly"] = True
        if spec.choices and spec.kind is FieldKind.TEXT:
            extra["examples"] = list(spec.choices)
        info = Field(
            default=None,
            alias=spec.name,
            title=spec.name,
            json_schema_extra=extra,
            description=f"{spec.type.value} field ({spec.origin})",
        )
        definitions[attr] = (python_type(spec), info)
    model_name = re.sub(r"\W+", "_", cls.name).strip("_") or "Note"
    config = ConfigDict(extra="allow", populate_by_name=True, title=cls.name)
    model: type[BaseModel] = create_model(
        f"{model_name[0].upper()}{model_name[1:]}Note",
        __config__=config,
        **definitions,
    )
    return model
