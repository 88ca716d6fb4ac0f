"""Vault classes ⇄ Notion data-source properties (one database per class).

:func:`notion_type` is the type table of ``docs/notion.md``; :func:`desired_properties`
turns a :class:`~syncbridge.schema.model.ClassSchema` into the properties its database
needs, :func:`schema_additions` into the request that adds what an existing data source
lacks, and :func:`check_drift` names the properties someone renamed, deleted or retyped in
Notion; :func:`declared_class` reads a data source back into the class it declares.
Besides one property per field, every database has the title, the create key
(:attr:`.NotionConfig.id_property`, used to find a create whose answer was lost), the
vault path and the fallback text property of :mod:`.properties`.

Pure functions, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncbridge.errors import FatalError
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.properties import MAX_OPTION

__all__ = [
    "ClassLayout",
    "PropertyPlan",
    "adopt_status",
    "check_drift",
    "declared_class",
    "desired_properties",
    "missing_properties",
    "notion_type",
    "option_color",
    "property_config",
    "schema_additions",
    "status_options",
]

_BY_TYPE: Mapping[FieldType, str | None] = {
    FieldType.INPUT: "rich_text",
    FieldType.NUMBER: "number",
    FieldType.SELECT: "select",
    FieldType.CYCLE: "select",
    FieldType.BOOLEAN: "checkbox",
    FieldType.DATE: "date",
    FieldType.DATETIME: "date",
    FieldType.TIME: "rich_text",
    FieldType.MULTI: "multi_select",
    FieldType.FILE: "relation",
    FieldType.MULTIFILE: "relation",
    FieldType.MEDIA: "files",
    FieldType.MULTIMEDIA: "files",
    FieldType.JSON: "rich_text",
    FieldType.YAML: "rich_text",
    FieldType.OBJECT: "rich_text",
    FieldType.OBJECT_LIST: "rich_text",
    FieldType.FORMULA: None,
    FieldType.LOOKUP: None,
    FieldType.CANVAS: None,
    FieldType.CANVAS_GROUP: None,
    FieldType.CANVAS_GROUP_LINK: None,
}

_BY_KIND: Mapping[FieldKind, str] = {
    FieldKind.TEXT: "rich_text",
    FieldKind.NUMBER: "number",
    FieldKind.BOOLEAN: "checkbox",
    FieldKind.DATE: "date",
    FieldKind.DATETIME: "date",
    FieldKind.TIME: "rich_text",
    FieldKind.LINK: "relation",
    FieldKind.LINKS: "relation",
    FieldKind.LIST: "multi_select",
    FieldKind.JSON: "rich_text",
}

_COLORS = {
    "🟥": "red", "🔴": "red", "❤": "red", "🟧": "orange", "🟠": "orange", "🟨": "yellow",
    "🟡": "yellow", "🟩": "green", "🟢": "green", "🟦": "blue", "🔵": "blue", "🟪": "purple",
    "🟣": "purple", "🟫": "brown", "🟤": "brown", "⬜": "gray", "⚪": "gray", "🩷": "pink",
}  # fmt: skip


def notion_type(spec: FieldSpec) -> str | None:
    """The Notion property type of a field, ``None`` for fields never pushed (Formula,
    Lookup, Canvas: computed by the vault). Inferred fields follow their kind."""
    if spec.read_only:
        return None
    if spec.origin == "inferred" and spec.type is FieldType.INPUT:
        return _BY_KIND.get(spec.kind, "rich_text")
    return _BY_TYPE.get(spec.type, _BY_KIND.get(spec.kind, "rich_text"))


_DECLARED: Mapping[str, tuple[FieldType, FieldKind]] = {
    "rich_text": (FieldType.INPUT, FieldKind.TEXT),
    "url": (FieldType.INPUT, FieldKind.TEXT),
    "number": (FieldType.NUMBER, FieldKind.NUMBER),
    "select": (FieldType.SELECT, FieldKind.TEXT),
    "status": (FieldType.SELECT, FieldKind.TEXT),
    "multi_select": (FieldType.MULTI, FieldKind.LIST),
    "checkbox": (FieldType.BOOLEAN, FieldKind.BOOLEAN),
    "date": (FieldType.DATE, FieldKind.DATE),
}


def declared_class(
    layout: ClassLayout,
    waiting: Mapping[str, PropertyPlan],
    properties: Mapping[str, Mapping[str, Any]],
    class_of_source: Mapping[str, str],
) -> ClassSchema:
    """The class as its data source declares it (``properties``: the data source's
    schema as Notion answers it): one field per property of ``layout`` (and per link
    field still ``waiting`` for its relation), in the layout's order, typed by the
    property's type now, select and multi-select options as declared (used or not). A
    relation is File (single) or MultiFile, ``options["class"]`` the class whose data
    source it points at (``class_of_source``); files are Media / MultiMedia. Text and
    dates are Input and Date (Notion does not tell JSON, Time or a date-time apart).
    Properties gone from Notion, or of a type we do not map, are left out. Pure."""
    fields: dict[str, FieldSpec] = {}
    by_name = {n.casefold(): entry for n, entry in properties.items()}
    for fieldname, plan in [*layout.props.items(), *waiting.items()]:
        if fieldname in fields:
            continue
        entry = by_name.get(plan.name.casefold())
        ntype = str(entry.get("type")) if entry is not None else None
        if fieldname in waiting and fieldname not in layout.props:
            ntype = "relation"  # no property yet: no link named a synced note so far
            entry = entry or {}
        if entry is None or ntype is None:
            continue
        config = entry.get(ntype)
        config = config if isinstance(config, Mapping) else {}
        if ntype == "relation":
            ftype, kind = (
                (FieldType.FILE, FieldKind.LINK)
                if plan.single
                else (FieldType.MULTIFILE, FieldKind.LINKS)
            )
            target = class_of_source.get(str(config.get("data_source_id") or ""))
            target = target or plan.relation_class
            options: dict[str, Any] = {"class": target} if target else {}
            fields[fieldname] = FieldSpec(fieldname, ftype, kind, options=options, origin="remote")
            continue
        if ntype == "files":
            ftype, kind = (
                (FieldType.MEDIA, FieldKind.LINK)
                if plan.single
                else (FieldType.MULTIMEDIA, FieldKind.LINKS)
            )
            fields[fieldname] = FieldSpec(fieldname, ftype, kind, origin="remote")
            continue
        if ntype not in _DECLARED:
            continue
        ftype, kind = _DECLARED[ntype]
        choices: tuple[str, ...] = ()
        if ntype == "status":
            choices = status_options(entry)
        elif ntype in ("select", "multi_select"):
            choices = tuple(
                str(o["name"])
                for o in config.get("options") or []
                if isinstance(o, Mapping) and o.get("name")
            )
        fields[fieldname] = FieldSpec(fieldname, ftype, kind, choices=choices, origin="remote")
    return ClassSchema(name=layout.class_name, fields=fields, source="remote")


def status_options(entry: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The option names of a status property (its data-source schema entry), group by
    group: To-do, In progress, Complete (Notion's order of the groups), each group's
    options in their order, then options no group lists. Pure."""
    config = (entry or {}).get("status")
    if not isinstance(config, Mapping):
        return ()
    options = [o for o in config.get("options") or [] if isinstance(o, Mapping)]
    names = {str(o.get("id")): str(o["name"]) for o in options if o.get("name")}
    ordered: dict[str, None] = {}
    for group in config.get("groups") or []:
        if isinstance(group, Mapping):
            for option_id in group.get("option_ids") or []:
                if str(option_id) in names:
                    ordered.setdefault(names[str(option_id)], None)
    for name in names.values():
        ordered.setdefault(name, None)
    return tuple(ordered)


def adopt_status(plan: PropertyPlan, entry: Mapping[str, Any] | None) -> PropertyPlan:
    """``plan`` holding its field in the status property ``entry`` when the field wants a
    select (a Select or Cycle field) and the property of its name in Notion is a status:
    a status is a select whose options only Notion's app can change, so the field's
    values go there (those naming no option ride in the fallback). Anything else:
    ``plan`` as it is. Pure."""
    if plan.ntype not in ("select", "status") or not isinstance(entry, Mapping):
        return plan
    if entry.get("type") != "status":
        return plan
    return dataclasses.replace(plan, ntype="status", choices=status_options(entry))


def option_color(name: str) -> str:
    """A Notion colour for a select option from the coloured emoji it starts with
    (``"🟨 in progress"`` → yellow), else ``"default"``."""
    head = name.strip()[:1]
    return _COLORS.get(head, "default")


@dataclass(frozen=True)
class PropertyPlan:
    """The property holding one field: its Notion name and type, whether the field holds
    one value (File, Media) and, for a relation, the class and data source it points at
    (``None`` until the first link that names a synced note decides it)."""

    field: str
    name: str
    ntype: str
    single: bool = False
    relation_class: str | None = None
    choices: tuple[str, ...] = ()
    relation_source: str | None = None


@dataclass(frozen=True)
class ClassLayout:
    """Where a class lives in Notion and how its fields map to properties (as found)."""

    class_name: str
    database_id: str
    data_source_id: str
    title: str
    props: Mapping[str, PropertyPlan]
    """field name → its property (only the properties that exist)."""
    relation_sources: Mapping[str, str]
    """field name → data source id a relation property points at."""
    extra: frozenset[str] = frozenset()
    """Property names with no field (the user's own, our bookkeeping ones excluded)."""


def _reserved(config: NotionConfig) -> set[str]:
    return {
        "title",  # the title property's id: a property key "title" would mean it
        config.title_property.casefold(),
        config.id_property.casefold(),
        config.path_property.casefold(),
        config.fallback_property.casefold(),
    }


def property_name(field: str, config: NotionConfig) -> str:
    """The property name of ``field``: the field name, with `` (field)`` added when it
    would collide with one of our own properties (``Name``, ``Vault path``...)."""
    name = field.strip() or field
    return f"{name} (field)" if name.casefold() in _reserved(config) else name


def desired_properties(cls: ClassSchema, config: NotionConfig) -> dict[str, PropertyPlan]:
    """field name → the property it needs, for every field that is pushed."""
    out: dict[str, PropertyPlan] = {}
    taken: set[str] = set()
    for key, spec in cls.fields.items():
        ntype = notion_type(spec)
        if ntype is None:
            continue
        name = property_name(spec.name or key, config)
        if name.casefold() in taken:
            continue  # two fields differing only in case: the second rides in the fallback
        taken.add(name.casefold())
        single = spec.type in (FieldType.FILE, FieldType.MEDIA) or (
            ntype == "relation" and spec.kind is FieldKind.LINK
        )
        out[key] = PropertyPlan(
            field=key,
            name=name,
            ntype=ntype,
            single=single,
            choices=spec.choices,
        )
    return out


def property_config(plan: PropertyPlan) -> dict[str, Any]:
    """The data-source schema entry that creates ``plan``'s property (a relation's target
    must be known: :attr:`PropertyPlan.relation_source`)."""
    if plan.ntype in ("select", "multi_select"):
        options = [
            {"name": c, "color": option_color(c)}
            for c in dict.fromkeys(plan.choices)
            if c and "," not in c and len(c) <= MAX_OPTION
        ][:100]
        return {plan.ntype: {"options": options}}
    if plan.ntype == "number":
        return {"number": {"format": "number"}}
    if plan.ntype == "relation":
        if plan.relation_source is None:
            raise ValueError("a relation needs its data source id")
        return {"relation": {"data_source_id": plan.relation_source, "single_property": {}}}
    return {plan.ntype: {}}


def bookkeeping_properties(config: NotionConfig) -> dict[str, dict[str, Any]]:
    """Our own properties (besides the title): create key, vault path, fallback."""
    return {
        config.id_property: {"rich_text": {}},
        config.path_property: {"rich_text": {}},
        config.fallback_property: {"rich_text": {}},
    }


def schema_additions(
    existing: Mapping[str, Mapping[str, Any]],
    wanted: Mapping[str, PropertyPlan],
    config: NotionConfig,
) -> dict[str, dict[str, Any]]:
    """Properties to add to a data source whose schema is ``existing`` (name → response
    entry): the wanted ones and our bookkeeping ones it lacks. A relation whose target is
    not known yet is left out (it is added once a link decides it). Existing properties
    are never changed here (see :func:`check_drift`)."""
    have = {name.casefold() for name in existing}
    adds: dict[str, dict[str, Any]] = {}
    for name, entry in bookkeeping_properties(config).items():
        if name.casefold() not in have:
            adds[name] = entry
    for plan in wanted.values():
        if plan.ntype == "relation" and plan.relation_source is None:
            continue
        if plan.name.casefold() not in have:
            adds[plan.name] = property_config(plan)
    return adds


def check_drift(
    class_name: str,
    existing: Mapping[str, Mapping[str, Any]],
    wanted: Mapping[str, PropertyPlan],
    config: NotionConfig,
) -> list[str]:
    """Problems with a data source someone edited in Notion: our bookkeeping properties
    or field properties of another type. Each message names the property and the class
    and says what to do. (A deleted field property is simply added again.)"""
    problems: list[str] = []
    by_name = {name.casefold(): (name, entry) for name, entry in existing.items()}
    expected = {n: e for n, e in bookkeeping_properties(config).items()}
    title = [name for name, entry in existing.items() if entry.get("type") == "title"]
    if title and title[0] != config.title_property:
        problems.append(
            f"class {class_name!r}: the title property is called {title[0]!r} in Notion, "
            f"not {config.title_property!r}; rename it back, or set "
            f"title_property = {title[0]!r} in the target"
        )
    for name, entry in expected.items():
        found = by_name.get(name.casefold())
        if found is not None and found[1].get("type") != next(iter(entry)):
            problems.append(_retyped(class_name, found[0], found[1], next(iter(entry))))
    for plan in wanted.values():
        found = by_name.get(plan.name.casefold())
        if found is not None and found[1].get("type") != plan.ntype:
            problems.append(_retyped(class_name, found[0], found[1], plan.ntype))
    return problems


def _retyped(class_name: str, name: str, entry: Mapping[str, Any], wanted: str) -> str:
    return (
        f"class {class_name!r}: property {name!r} is of type {entry.get('type')!r} in "
        f"Notion, syncbridge needs {wanted!r}; change its type back to {wanted!r} in Notion "
        "(its values there are converted back), then sync again"
    )


def missing_properties(
    class_name: str, existing: Mapping[str, Mapping[str, Any]], held: Mapping[str, PropertyPlan]
) -> list[str]:
    """Problems for properties we hold that are gone from the data source (renamed or
    deleted in Notion), each naming the property and the class and what to do."""
    have = {name.casefold() for name in existing}
    return [
        f"class {class_name!r}: property {plan.name!r} is gone from Notion (renamed or "
        f"deleted); rename it back, or re-create it as a {plan.ntype!r} property"
        for plan in held.values()
        if plan.name.casefold() not in have
    ]


class SchemaDrift(FatalError):
    """A database's properties no longer match what syncbridge maps to them."""
