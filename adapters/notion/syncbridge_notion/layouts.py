"""Schema setup: each class's database under the parent page, and its properties.

A class's database is created the first time the class needs one (or found again by
title when it exists, e.g. after the cache was lost), and gets a property for every
field it lacks. What is known is kept in the cache's ``layouts`` table, so a run whose
classes are all known sends no schema request at all. A property someone renamed,
deleted or retyped in Notion raises :class:`.SchemaDrift`, naming it and the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncbridge.adapter import Record
from syncbridge.errors import RecordError, RemoteUnavailable
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType
from syncbridge_notion.pacing import AmbiguousWrite
from syncbridge_notion.properties import EMPTY_CELLS, text_runs
from syncbridge_notion.schema import (
    ClassLayout,
    PropertyPlan,
    SchemaDrift,
    bookkeeping_properties,
    check_drift,
    desired_properties,
    schema_additions,
)
from syncbridge_notion.session import JSON, NotionSession

__all__ = ["ClassLayouts", "inferred_spec"]


def inferred_spec(name: str, value: Any) -> FieldSpec:
    """A field no schema described, typed from one value (as the SQLite adapter does)."""
    if isinstance(value, bool):
        return FieldSpec(name, FieldType.BOOLEAN, FieldKind.BOOLEAN, origin="inferred")
    if isinstance(value, int | float):
        return FieldSpec(name, FieldType.NUMBER, FieldKind.NUMBER, origin="inferred")
    if isinstance(value, list):
        return FieldSpec(name, FieldType.MULTI, FieldKind.LIST, origin="inferred")
    if isinstance(value, dict):
        return FieldSpec(name, FieldType.JSON, FieldKind.JSON, origin="inferred")
    return FieldSpec(name, FieldType.INPUT, FieldKind.TEXT, origin="inferred")


class ClassLayouts:
    """The databases and properties of every class (see the module docstring)."""

    def __init__(self, session: NotionSession) -> None:
        self.session = session
        self._layouts: dict[str, ClassLayout] | None = None
        self._schemas: dict[str, dict[str, JSON]] = {}  # data source → properties (as read)
        self.computed: dict[str, frozenset[str]] = {}
        """Class → its Formula/Lookup fields (never pushed)."""

    def all(self) -> dict[str, ClassLayout]:
        """Class name → layout, as known to the cache (no request)."""
        if self._layouts is None:
            self._layouts = {}
            for cls, (database_id, source, prop_ids) in self.session.cache.layouts().items():
                self._layouts[cls] = ClassLayout(
                    cls, database_id, source, cls, _props_from_ids(prop_ids), {}
                )
        return self._layouts

    def store(self, layout: ClassLayout) -> None:
        """Keep ``layout`` (in the cache and in memory)."""
        prop_ids = {
            f: {
                "name": p.name,
                "type": p.ntype,
                "single": p.single,
                "relation_class": p.relation_class,
            }
            for f, p in layout.props.items()
        }
        self.session.cache.put_layout(
            layout.class_name, layout.database_id, layout.data_source_id, prop_ids
        )
        self.all()[layout.class_name] = layout

    def database_title(self, class_name: str) -> str:
        return f"{self.session.config.database_prefix}{class_name}"

    def find_database(self, class_name: str) -> tuple[str, str] | None:
        """(database id, data source id) of the class's database under the parent page,
        found by title among the parent's child databases that carry our properties."""
        api = self.session.api
        wanted = self.database_title(class_name)
        for block in api.children(self.session.config.parent_page_id):
            if block.get("type") != "child_database":
                continue
            if (block.get("child_database") or {}).get("title") != wanted:
                continue
            database = api.database(block["id"])
            sources = database.get("data_sources") or []
            if sources:
                return database["id"], sources[0]["id"]
        return None

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Create ``cls``'s database under the parent page if it has none (found again by
        title if it exists), and add properties for fields it lacks. Raises
        :class:`.SchemaDrift` naming the property and class when someone changed one of
        ours in Notion."""
        self.computed[cls.name] = frozenset(k for k, f in cls.fields.items() if f.read_only)
        self.ensure(cls.name, desired_properties(cls, self.session.config))

    def ensure(self, class_name: str, wanted: Mapping[str, PropertyPlan]) -> ClassLayout:
        """The class's layout with a property for every field of ``wanted`` (no request
        when it has them all already)."""
        layouts = self.all()
        layout = layouts.get(class_name)
        if layout is not None and all(f in layout.props for f in wanted):
            return layout  # nothing to add: no request at all
        if layout is None:
            found = None
            self.session.check_parent()
            found = self.find_database(class_name)
            if found is None:
                found = self._create_database(class_name)
            layout = ClassLayout(class_name, found[0], found[1], class_name, {}, {})
            self.store(layout)
        return self._add_properties(layout, wanted)

    def _create_database(self, class_name: str) -> tuple[str, str]:
        config = self.session.config
        properties: JSON = {config.title_property: {"title": {}}}
        properties.update(bookkeeping_properties(config))
        body = {
            "parent": {"type": "page_id", "page_id": config.parent_page_id},
            "title": text_runs(self.database_title(class_name)),
            "initial_data_source": {"properties": properties},
        }
        try:
            database = self.session.api.create_database(
                body, f"creating the database of {class_name!r}"
            )
        except AmbiguousWrite as exc:
            found = self.find_database(class_name)
            if found is None:
                raise RemoteUnavailable(
                    f"Notion: creating the database of {class_name!r} got no answer; "
                    "the next sync looks for it before creating it again"
                ) from exc
            return found
        return database["id"], database["data_sources"][0]["id"]

    def source_schema(self, source: str, *, fresh: bool = False) -> dict[str, JSON]:
        """The data source's properties as last read (read again when ``fresh``)."""
        if fresh or source not in self._schemas:
            self._schemas[source] = dict(
                self.session.api.data_source(source).get("properties", {})
            )
        return self._schemas[source]

    def _add_properties(
        self, layout: ClassLayout, wanted: Mapping[str, PropertyPlan]
    ) -> ClassLayout:
        config = self.session.config
        existing = self.source_schema(layout.data_source_id, fresh=True)
        problems = check_drift(layout.class_name, existing, wanted, config)
        if problems:
            raise SchemaDrift("; ".join(problems))
        adds = schema_additions(existing, wanted, config, layout.data_source_id)
        if adds:
            result = self.session.api.update_data_source(
                layout.data_source_id, {"properties": adds}
            )
            existing = dict(result.get("properties", {})) or self.source_schema(
                layout.data_source_id, fresh=True
            )
            self._schemas[layout.data_source_id] = existing
        by_name = {n.casefold(): n for n in existing}
        props = dict(layout.props)
        for fieldname, plan in wanted.items():
            if plan.name.casefold() in by_name:
                props[fieldname] = PropertyPlan(
                    fieldname,
                    by_name[plan.name.casefold()],
                    plan.ntype,
                    plan.single,
                    plan.relation_class,
                )
        new = ClassLayout(
            layout.class_name, layout.database_id, layout.data_source_id, layout.title, props, {}
        )
        self.store(new)
        return new

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        """The fields with a property in the class's database (``None`` before it has
        one): a held field missing from a page is a cleared value."""
        layout = self.all().get(class_name)
        return None if layout is None else frozenset(layout.props)

    def discover(self) -> None:
        """Adopt databases under the parent page that carry our properties (a lost cache
        finds its databases again). Needs the parent page shared: 404 says so."""
        session = self.session
        layouts = self.all()
        known = {layout.database_id for layout in layouts.values()}
        prefix = session.config.database_prefix
        session.check_parent()
        for block in session.api.children(session.config.parent_page_id):
            if block.get("type") != "child_database" or block["id"] in known:
                continue
            title = str((block.get("child_database") or {}).get("title", ""))
            if not title.startswith(prefix) or not title[len(prefix) :]:
                continue
            database = session.api.database(block["id"])
            sources = database.get("data_sources") or []
            if not sources:
                continue
            schema = self.source_schema(sources[0]["id"], fresh=True)
            if session.config.id_property not in schema:
                continue  # not one of ours
            class_name = title[len(prefix) :]
            if class_name in layouts:
                continue
            props = self._props_from_schema(schema)
            self.store(
                ClassLayout(class_name, database["id"], sources[0]["id"], class_name, props, {})
            )

    def _props_from_schema(self, schema: Mapping[str, JSON]) -> dict[str, PropertyPlan]:
        """Field properties of a data source we did not create in this cache's life: every
        property that is not ours or computed maps to the field of its name."""
        ours = {n.casefold() for n in bookkeeping_properties(self.session.config)}
        out = {}
        for name, entry in schema.items():
            ntype = str(entry.get("type"))
            if ntype == "title" or name.casefold() in ours:
                continue
            if ntype not in EMPTY_CELLS:
                continue
            fieldname = name[: -len(" (field)")] if name.endswith(" (field)") else name
            out[fieldname] = PropertyPlan(fieldname, name, ntype)
        return out

    def layout_of(self, page: Mapping[str, Any]) -> ClassLayout:
        """The layout of the database ``page`` lives in (``RecordError`` if none)."""
        parent = page.get("parent") or {}
        source = parent.get("data_source_id")
        database = parent.get("database_id")
        for layout in self.all().values():
            if layout.data_source_id == source or layout.database_id == database:
                return layout
        raise RecordError(f"Notion: page {page.get('id')} is not in a synced database")

    def layout_for(self, record: Record) -> ClassLayout:
        """The record's class layout, with properties for fields it has none for."""
        layout = self.all().get(record.class_name)
        computed = self.computed.get(record.class_name, frozenset())
        unknown = {
            k: v
            for k, v in record.fields.items()
            if (layout is None or k not in layout.props) and k not in computed
        }
        if layout is not None and not unknown:
            return layout
        cls = ClassSchema(
            record.class_name,
            {k: inferred_spec(k, v) for k, v in unknown.items() if v is not None},
            source="inferred",
        )
        wanted = desired_properties(cls, self.session.config)
        return self.ensure(record.class_name, wanted)


def _props_from_ids(prop_ids: Mapping[str, Any]) -> dict[str, PropertyPlan]:
    out = {}
    for fieldname, entry in prop_ids.items():
        if isinstance(entry, dict):
            out[fieldname] = PropertyPlan(
                field=fieldname,
                name=str(entry["name"]),
                ntype=str(entry["type"]),
                single=bool(entry.get("single")),
                relation_class=entry.get("relation_class"),
            )
    return out
