"""Schema setup: each class's database under the parent page, and its properties.

A class's database is created the first time the class needs one (or found again by
title when it exists, e.g. after the cache was lost), and gets a property for every
field it lacks. What is known is kept in the cache's ``layouts`` table, so a run whose
classes are all known sends no schema request at all. A property someone renamed,
deleted or retyped in Notion raises :class:`.SchemaDrift`, naming it and the class.
"""

from __future__ import annotations

import dataclasses
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
    adopt_status,
    bookkeeping_properties,
    check_drift,
    desired_properties,
    missing_properties,
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
        self._waiting: dict[str, dict[str, PropertyPlan]] = {}
        self.computed: dict[str, frozenset[str]] = {}
        """Class → its Formula/Lookup fields (never pushed)."""
        self._options_read: set[str] = set()  # data sources whose status options were read
        self.listing_read: set[str] = set()
        """Data sources whose schema the latest listing read (:meth:`discover`)."""

    def all(self) -> dict[str, ClassLayout]:
        """Class name → layout, as known to the cache (no request)."""
        if self._layouts is None:
            self._layouts = {}
            for cls, (database_id, source, prop_ids) in self.session.cache.layouts().items():
                props, waiting = _props_from_ids(prop_ids)
                self._layouts[cls] = ClassLayout(cls, database_id, source, cls, props, {})
                self._waiting[cls] = waiting
        return self._layouts

    def forget(self) -> None:
        """Drop what :meth:`all` loaded from the cache (and the waiting fields with it):
        the next call reads the cache again. After a dry run, whose copy of the cache
        is gone (what Notion answered, the data sources' schemas, is kept)."""
        self._layouts = None
        self._waiting = {}

    def waiting(self, class_name: str) -> dict[str, PropertyPlan]:
        """Link fields (File, MultiFile) of the class whose relation has no target yet:
        no link of theirs named a synced note so far (see :meth:`add_relation`)."""
        self.all()
        return self._waiting.setdefault(class_name, {})

    def store(self, layout: ClassLayout) -> None:
        """Keep ``layout`` (in the cache and in memory)."""
        prop_ids = {f: _plan_entry(p) for f, p in layout.props.items()}
        for f, p in self.waiting(layout.class_name).items():
            if f not in prop_ids:
                prop_ids[f] = {**_plan_entry(p), "waiting": True}
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
        waiting = self.waiting(class_name)
        if layout is not None and all(f in layout.props or f in waiting for f in wanted):
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
            self._schemas[source] = dict(self.session.api.data_source(source).get("properties", {}))
        return self._schemas[source]

    def _add_properties(
        self, layout: ClassLayout, wanted: Mapping[str, PropertyPlan], *, fresh: bool = True
    ) -> ClassLayout:
        """Add what ``wanted`` lacks to the class's data source (schema read again first
        unless ``fresh`` is false and this run read it already)."""
        config = self.session.config
        existing = self.source_schema(layout.data_source_id, fresh=fresh)
        by_name = {n.casefold(): n for n in existing}
        wanted = {
            # a Select / Cycle field whose property is a status in Notion: held there
            f: adopt_status(plan, existing.get(by_name.get(plan.name.casefold(), "")))
            for f, plan in wanted.items()
        }
        problems = check_drift(layout.class_name, existing, wanted, config)
        if problems:
            raise SchemaDrift("; ".join(problems))
        wanted = {
            f: _adopt_relation(plan, existing.get(by_name.get(plan.name.casefold(), "")))
            for f, plan in wanted.items()
        }
        for fieldname, plan in list(wanted.items()):
            known = layout.props.get(fieldname)
            if plan.ntype == "relation" and plan.relation_source is None and known is not None:
                # a relation we made before (deleted in Notion since: it is made again)
                source = self.relation_source(known, layout)
                wanted[fieldname] = dataclasses.replace(
                    plan, relation_class=known.relation_class, relation_source=source
                )
        waiting = self.waiting(layout.class_name)
        for fieldname, plan in wanted.items():
            if plan.ntype == "relation" and plan.relation_source is None:
                waiting[fieldname] = plan  # added once a link names a synced note
            else:
                waiting.pop(fieldname, None)
        adds = schema_additions(existing, wanted, config)
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
            if plan.name.casefold() in by_name and fieldname not in waiting:
                name = by_name[plan.name.casefold()]
                plan = adopt_status(dataclasses.replace(plan, choices=()), existing[name])
                props[fieldname] = dataclasses.replace(plan, field=fieldname, name=name)
        if any(p.ntype == "status" for p in props.values()):
            self._options_read.add(layout.data_source_id)  # read just now
        new = ClassLayout(
            layout.class_name, layout.database_id, layout.data_source_id, layout.title, props, {}
        )
        self.store(new)
        return new

    def add_relations(self, layout: ClassLayout, targets: Mapping[str, str]) -> ClassLayout:
        """Give the waiting link fields of ``targets`` (field → class) their relation
        properties, each pointing at the database of its class: one ``PATCH`` of the
        data source for all (and one ``GET`` if its schema was not read in this run);
        the new layout. A property of that name someone made meanwhile is adopted as it
        is."""
        waiting = self.waiting(layout.class_name)
        wanted = {
            fieldname: dataclasses.replace(
                waiting[fieldname],
                relation_class=target_class,
                relation_source=self.all()[target_class].data_source_id,
            )
            for fieldname, target_class in targets.items()
            if fieldname in waiting
        }
        if not wanted:
            return layout
        return self._add_properties(layout, wanted, fresh=False)

    def relation_source(self, plan: PropertyPlan, layout: ClassLayout) -> str:
        """The data source a relation property points at (caches written before
        relations crossed classes: the class's own)."""
        if plan.relation_source is not None:
            return plan.relation_source
        target = self.all().get(plan.relation_class or "")
        return target.data_source_id if target is not None else layout.data_source_id

    def with_fresh_status_options(self, layout: ClassLayout) -> ClassLayout:
        """``layout`` with its status properties' options as Notion shows them now: one
        ``GET`` of the data source, at most once per data source in this adapter's life
        (a run), else ``layout`` as it is. Someone may have added or renamed an option in
        Notion's app since the cache learned them; the caller asks only when a value
        names no option it knows."""
        if layout.data_source_id in self._options_read:
            return layout
        self._options_read.add(layout.data_source_id)
        return self._status_options_from(
            layout, self.source_schema(layout.data_source_id, fresh=True)
        )

    def _status_options_from(
        self, layout: ClassLayout, existing: Mapping[str, JSON]
    ) -> ClassLayout:
        """``layout`` with the status options of ``existing`` (the data source's schema),
        stored if they changed; properties gone or retyped are left to the drift checks."""
        by_name = {n.casefold(): entry for n, entry in existing.items()}
        props = dict(layout.props)
        for fieldname, plan in layout.props.items():
            entry = by_name.get(plan.name.casefold())
            if plan.ntype == "status" and entry is not None and entry.get("type") == "status":
                props[fieldname] = adopt_status(plan, entry)
        if props == dict(layout.props):
            return layout
        new = dataclasses.replace(layout, props=props)
        self.store(new)
        return new

    def explain_refusal(self, layout: ClassLayout, refused: RecordError) -> None:
        """After Notion refused a page write of ``layout``'s class: read the data source
        again (one ``GET``) and raise :class:`.SchemaDrift` naming each property someone
        retyped, renamed or deleted in Notion and what to do; nothing when the schema is
        as we left it (the caller re-raises ``refused``)."""
        existing = self.source_schema(layout.data_source_id, fresh=True)
        config = self.session.config
        problems = check_drift(layout.class_name, existing, layout.props, config)
        problems += missing_properties(layout.class_name, existing, layout.props)
        if problems:
            raise SchemaDrift(
                "; ".join(problems) + ". The sync of this target stops until then; "
                "nothing was written for the note, and the notes keep their values"
            ) from refused
        fresh = self._status_options_from(layout, existing)
        if fresh is not layout:
            changed = sorted(
                p.name for f, p in fresh.props.items() if p.choices != layout.props[f].choices
            )
            raise RecordError(
                f"Notion refused the write ({refused}): the options of status "
                f"propert{'ies' if len(changed) > 1 else 'y'} {', '.join(map(repr, changed))} "
                "changed in Notion meanwhile; nothing was written for the note, and the next "
                "sync sends it with the options as they are now"
            ) from refused

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
            self.listing_read.add(sources[0]["id"])
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
            plan = adopt_status(PropertyPlan(fieldname, name, ntype), entry)
            out[fieldname] = _adopt_relation(plan, entry)
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
        waiting = self.waiting(record.class_name)
        unknown = {
            k: v
            for k, v in record.fields.items()
            if (layout is None or k not in layout.props) and k not in computed and k not in waiting
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

    def planned_for(self, record: Record, cls: ClassSchema | None) -> ClassLayout:
        """The layout a create of ``record`` would use, without creating or adding
        anything: the class's as the cache knows it (only when the cache file exists),
        else as :func:`desired_properties` makes it from ``cls``; plus the properties
        :meth:`layout_for` would add for its other fields. No request, no file."""
        known = self.all() if self.session.cache_path.exists() else {}
        layout = known.get(record.class_name)
        if layout is None:
            wanted = desired_properties(
                cls or ClassSchema(record.class_name, {}, source="inferred"),
                self.session.config,
            )
            layout = ClassLayout(record.class_name, "", "", record.class_name, wanted, {})
        computed = self.computed.get(record.class_name, frozenset())
        waiting = self.waiting(record.class_name)
        unknown = ClassSchema(
            record.class_name,
            {
                k: inferred_spec(k, v)
                for k, v in record.fields.items()
                if k not in layout.props
                and k not in computed
                and k not in waiting
                and v is not None
            },
            source="inferred",
        )
        extra = desired_properties(unknown, self.session.config)
        if extra:
            layout = dataclasses.replace(layout, props={**layout.props, **extra})
        return layout


def _plan_entry(plan: PropertyPlan) -> JSON:
    entry: JSON = {
        "name": plan.name,
        "type": plan.ntype,
        "single": plan.single,
        "relation_class": plan.relation_class,
        "relation_source": plan.relation_source,
    }
    if plan.ntype == "status":
        entry["options"] = list(plan.choices)  # what a value must name (no request to know)
    return entry


def _props_from_ids(
    prop_ids: Mapping[str, Any],
) -> tuple[dict[str, PropertyPlan], dict[str, PropertyPlan]]:
    """(properties that exist, link fields waiting for their relation's target)."""
    out: dict[str, PropertyPlan] = {}
    waiting: dict[str, PropertyPlan] = {}
    for fieldname, entry in prop_ids.items():
        if isinstance(entry, dict):
            plan = PropertyPlan(
                field=fieldname,
                name=str(entry["name"]),
                ntype=str(entry["type"]),
                single=bool(entry.get("single")),
                relation_class=entry.get("relation_class"),
                relation_source=entry.get("relation_source"),
                choices=tuple(str(o) for o in entry.get("options") or ()),
            )
            (waiting if entry.get("waiting") else out)[fieldname] = plan
    return out, waiting


def _adopt_relation(plan: PropertyPlan, entry: Mapping[str, Any] | None) -> PropertyPlan:
    """``plan`` pointing where the existing relation property ``entry`` points (a
    relation made by an earlier run, or by someone in Notion, keeps its target)."""
    if plan.ntype != "relation" or not isinstance(entry, Mapping):
        return plan
    config = entry.get("relation")
    source = config.get("data_source_id") if isinstance(config, Mapping) else None
    if entry.get("type") != "relation" or not isinstance(source, str):
        return plan
    return dataclasses.replace(plan, relation_source=source)
