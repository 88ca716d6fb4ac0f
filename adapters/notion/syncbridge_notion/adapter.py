"""The Notion adapter: one database per class under ``parent_page``, one page per note.

Contract methods only; the pieces live next door: :mod:`.client` (requests, pacing,
errors), :mod:`.schema` (databases and properties), :mod:`.properties` (values),
:mod:`.body` (blocks), :mod:`.cache` (listing cache and create journal).

Versions are ``"<last_edited_time>/<hash of the properties>"``. Notion rounds
``last_edited_time`` to the minute, so the hash tells two property edits in one minute
apart; a body edit in Notion moves ``last_edited_time``. The version returned by a write
is taken from Notion's answer (or one ``GET`` after block edits), so our own writes never
look like user edits.

No duplicate pages: each create carries a random create key in the id property; the key
is journaled before the request and the page id the moment Notion answers. A create
whose answer was lost (timeout, dropped connection, 5xx) is looked up by its key and
never blindly sent again; if it cannot be found yet, the note is reported and the next
run looks again before anything is created.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from syncbridge.adapter import (
    MISSING,
    Adapter,
    AdapterConfig,
    Capabilities,
    Record,
    RecordRef,
)
from syncbridge.errors import FatalError, RecordError, RemoteUnavailable, StaleVersion
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType
from syncbridge_notion import body as bodies
from syncbridge_notion.cache import CachedPage, NotionCache
from syncbridge_notion.client import NotionAPI, NotionNotShared, read_token
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.markdown import split_for_requests
from syncbridge_notion.pacing import AmbiguousWrite, Clock
from syncbridge_notion.properties import (
    EMPTY_CELLS,
    Fallback,
    PropertyContext,
    decode,
    encode,
    exact_equal,
    join_rich_text,
    text_runs,
)
from syncbridge_notion.schema import (
    ClassLayout,
    PropertyPlan,
    SchemaDrift,
    bookkeeping_properties,
    check_drift,
    desired_properties,
    notion_type,
    schema_additions,
)

__all__ = ["NotionAdapter"]

log = logging.getLogger(__name__)

JSON = dict[str, Any]


def _stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _page_version(page: Mapping[str, Any]) -> str:
    props = json.dumps(page.get("properties", {}), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(props.encode()).hexdigest()[:16]
    return f"{page.get('last_edited_time', '')}/{digest}"


def _inferred_spec(name: str, value: Any) -> FieldSpec:
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


def _inferred_type(name: str, value: Any) -> str:
    """The property type :meth:`NotionAdapter._layout_for` would add for a field."""
    spec = _inferred_spec(name, value)
    return str(notion_type(spec) or "rich_text")


class NotionAdapter(Adapter):
    """Sync target in Notion (through notion-client 3.1.0, paced and retried).

    Nothing is sent before the first call that needs Notion; the token is read then.
    Creates databases under ``parent_page`` as classes need them, adds properties for
    new fields, trashes (never deletes) pages, and never deletes or rewrites blocks it
    does not own. Keeps its cache and create journal in ``cache_path``.
    """

    name: ClassVar[str] = "notion"
    config_model: ClassVar[type[AdapterConfig]] = NotionConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        read_only=False,
        supports_trash=True,
        supports_body=True,
        timestamp_precision=dt.timedelta(minutes=1),
        # Notion has no conditional write: the version is read, compared, then PATCHed.
        atomic_writes=False,
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        base_dir: Path | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``clock`` and ``rng`` (tests) drive pacing and backoff."""
        if not isinstance(config, NotionConfig):
            config = NotionConfig.model_validate(config.model_dump())
        super().__init__(config, base_dir=base_dir)
        self.notion_config: NotionConfig = config
        self._cache_path = config.cache_path
        self._clock = clock
        self._rng = rng
        self._api: NotionAPI | None = None
        self._cache: NotionCache | None = None
        self._layouts: dict[str, ClassLayout] | None = None
        self._schemas: dict[str, dict[str, JSON]] = {}  # data source → properties (as read)
        self._listed: dict[str, JSON] = {}  # page id → page object from this run's query
        # page id → (record, top-level blocks or None when not read) as last read or written
        self._recent: dict[str, tuple[Record, list[JSON] | None]] = {}
        self._written_blocks: dict[str, list[JSON] | None] = {}
        self._refs: dict[str, RecordRef] = {}
        self._closed = False
        self._computed: dict[str, frozenset[str]] = {}  # class → Formula/Lookup fields
        self.problems: list[str] = []
        """What this adapter kept or could not do, by note (also logged as warnings)."""

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def api(self) -> NotionAPI:
        if self._closed:
            raise FatalError("the Notion adapter is closed")
        if self._api is None:
            self._api = NotionAPI(
                self.notion_config, read_token(self.notion_config), clock=self._clock, rng=self._rng
            )
        return self._api

    @property
    def cache(self) -> NotionCache:
        if self._closed:
            raise FatalError("the Notion adapter is closed")
        if self._cache is None:
            self._cache = NotionCache(self.cache_path)
        return self._cache

    @property
    def cache_path(self) -> Path:
        """Where the cache lives (``cache_path``, default beside the state)."""
        config = self.notion_config
        path = self._cache_path or Path(".syncbridge") / f"notion-{config.parent_page_id}.db"
        path = path.expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def _ctx(self) -> PropertyContext:
        cache = self.cache

        def resolve(target: str, source: str) -> str | None:
            name = target.rsplit("/", 1)[-1]
            hits = [p for p in cache.pages_titled(name) if p.source == source]
            return hits[0].id if len(hits) == 1 else None

        def title_of(page_id: str) -> str | None:
            found = cache.page(page_id)
            return found.title if found else None

        return PropertyContext(self.notion_config.timezone, resolve, title_of)

    def _not_shared(self) -> FatalError:
        return NotionNotShared(
            f"Notion answers 404 for the parent page {self.notion_config.parent_page_id}: "
            "open it in Notion, click ••• → Connections → add your integration (the page "
            "must be shared with it), then run the sync again"
        )

    # -- layouts -----------------------------------------------------------------------------

    def _load_layouts(self) -> dict[str, ClassLayout]:
        if self._layouts is None:
            self._layouts = {}
            for cls, (database_id, source, prop_ids) in self.cache.layouts().items():
                self._layouts[cls] = ClassLayout(
                    cls, database_id, source, cls, self._props_from_ids(prop_ids), {}
                )
        return self._layouts

    @staticmethod
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

    def _store_layout(self, layout: ClassLayout) -> None:
        prop_ids = {
            f: {
                "name": p.name,
                "type": p.ntype,
                "single": p.single,
                "relation_class": p.relation_class,
            }
            for f, p in layout.props.items()
        }
        self.cache.put_layout(
            layout.class_name, layout.database_id, layout.data_source_id, prop_ids
        )
        self._load_layouts()[layout.class_name] = layout

    def _database_title(self, class_name: str) -> str:
        return f"{self.notion_config.database_prefix}{class_name}"

    def _find_database(self, class_name: str) -> tuple[str, str] | None:
        """(database id, data source id) of the class's database under the parent page,
        found by title among the parent's child databases that carry our properties."""
        wanted = self._database_title(class_name)
        for block in self.api.children(self.notion_config.parent_page_id):
            if block.get("type") != "child_database":
                continue
            if (block.get("child_database") or {}).get("title") != wanted:
                continue
            database = self.api.database(block["id"])
            sources = database.get("data_sources") or []
            if sources:
                return database["id"], sources[0]["id"]
        return None

    def _children_of_parent_check(self) -> None:
        self.api.page(self.notion_config.parent_page_id, not_found=self._not_shared)

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Create ``cls``'s database under the parent page if it has none (found again by
        title if it exists), and add properties for fields it lacks. Raises
        :class:`.SchemaDrift` naming the property and class when someone changed one of
        ours in Notion."""
        self._computed[cls.name] = frozenset(k for k, f in cls.fields.items() if f.read_only)
        self._ensure(cls.name, desired_properties(cls, self.notion_config))

    def _ensure(self, class_name: str, wanted: Mapping[str, PropertyPlan]) -> ClassLayout:
        layouts = self._load_layouts()
        layout = layouts.get(class_name)
        if layout is not None and all(f in layout.props for f in wanted):
            return layout  # nothing to add: no request at all
        if layout is None:
            found = None
            self._children_of_parent_check()
            found = self._find_database(class_name)
            if found is None:
                found = self._create_database(class_name)
            layout = ClassLayout(class_name, found[0], found[1], class_name, {}, {})
            self._store_layout(layout)
        return self._add_properties(layout, wanted)

    def _create_database(self, class_name: str) -> tuple[str, str]:
        config = self.notion_config
        properties: JSON = {config.title_property: {"title": {}}}
        properties.update(bookkeeping_properties(config))
        body = {
            "parent": {"type": "page_id", "page_id": config.parent_page_id},
            "title": text_runs(self._database_title(class_name)),
            "initial_data_source": {"properties": properties},
        }
        try:
            database = self.api.create_database(body, f"creating the database of {class_name!r}")
        except AmbiguousWrite as exc:
            found = self._find_database(class_name)
            if found is None:
                raise RemoteUnavailable(
                    f"Notion: creating the database of {class_name!r} got no answer; "
                    "the next sync looks for it before creating it again"
                ) from exc
            return found
        return database["id"], database["data_sources"][0]["id"]

    def _source_schema(self, source: str, *, fresh: bool = False) -> dict[str, JSON]:
        if fresh or source not in self._schemas:
            self._schemas[source] = dict(self.api.data_source(source).get("properties", {}))
        return self._schemas[source]

    def _add_properties(
        self, layout: ClassLayout, wanted: Mapping[str, PropertyPlan]
    ) -> ClassLayout:
        existing = self._source_schema(layout.data_source_id, fresh=True)
        problems = check_drift(layout.class_name, existing, wanted, self.notion_config)
        if problems:
            raise SchemaDrift("; ".join(problems))
        adds = schema_additions(existing, wanted, self.notion_config, layout.data_source_id)
        if adds:
            result = self.api.update_data_source(layout.data_source_id, {"properties": adds})
            existing = dict(result.get("properties", {})) or self._source_schema(
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
        self._store_layout(new)
        return new

    def check(self, record: Record, cls: ClassSchema | None = None) -> builtins.list[str]:
        """What a create of ``record`` would be refused for (the fallback property over its
        200,000 characters), by the very code a create runs, with the class's database as
        the cache knows it or as :func:`desired_properties` would make it. Sends nothing;
        reads the cache only when its file exists (a dry run creates no file)."""
        known = self._load_layouts() if self.cache_path.exists() else {}
        layout = known.get(record.class_name)
        if layout is None:
            wanted = desired_properties(
                cls or ClassSchema(record.class_name, {}, source="inferred"), self.notion_config
            )
            layout = ClassLayout(record.class_name, "", "", record.class_name, wanted, {})
        extra = {k: PropertyPlan(k, k, _inferred_type(k, v)) for k, v in record.fields.items()
                 if k not in layout.props and v is not None}
        if extra:
            layout = dataclasses.replace(layout, props={**layout.props, **extra})
        try:
            self._properties(record, layout, ctx=PropertyContext(self.notion_config.timezone))
        except RecordError as exc:
            return [str(exc)]
        return []

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        """The fields with a property in the class's database (``None`` before it has
        one): a held field missing from a page is a cleared value."""
        layout = self._load_layouts().get(class_name)
        return None if layout is None else frozenset(layout.props)

    # -- listing -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Finish what an interrupted run left: creates whose answer was lost are looked
        up by key, pages whose deeper blocks were not all appended get them."""
        for pending in list(self.cache.pending_creates()):
            page_id = pending.page_id or self._lookup_create(pending.source, pending.key)
            if page_id is None:
                if pending.age_s > self._grace_s():
                    self.cache.finish_create(pending.key)  # it never reached Notion
                continue  # it may still land: create() looks again before sending
            self.cache.created(pending.key, page_id, pending.deferred)
            self._append_deferred(page_id, pending.deferred)
            self.cache.finish_create(pending.key)

    def _grace_s(self) -> float:
        """How long a create that got no answer may still land, seconds."""
        return max(self.notion_config.create_grace_s, self.notion_config.timeout_s)

    def _lookup_create(self, source: str, key: str) -> str | None:
        body = {
            "filter": {"property": self.notion_config.id_property, "rich_text": {"equals": key}}
        }
        for page in self.api.query(source, body, f"looking up create {key}"):
            return str(page["id"])
        return None

    def list(self) -> Iterator[RecordRef]:
        """Every live page of our databases. An incremental run queries each data source
        for pages edited since the last cursor (less a minute: Notion rounds to it) and
        lists the rest from the cache; every ``full_listing_every``-th run lists all
        pages, which finds pages trashed or vanished in Notion."""
        cache = self.cache
        layouts = self._load_layouts()
        runs = int(cache.get("runs") or 0) + 1
        cursor = cache.get("cursor")
        full = cursor is None or runs % self.notion_config.full_listing_every == 0
        if full:
            self._discover()
            layouts = self._load_layouts()
        by_source = {layout.data_source_id: layout for layout in layouts.values()}
        known = cache.pages()
        newest = cursor
        updates: list[CachedPage] = []
        seen: set[str] = set()
        self._listed.clear()
        for source, layout in by_source.items():
            body: JSON = {}
            if not full and cursor is not None:
                since = _stamp(cursor) - dt.timedelta(minutes=1)
                body["filter"] = {
                    "timestamp": "last_edited_time",
                    "last_edited_time": {"on_or_after": since.isoformat().replace("+00:00", "Z")},
                }
            for page in self.api.query(source, body, f"listing {layout.class_name!r}"):
                if page.get("in_trash") or page.get("archived"):
                    continue
                page_id = str(page["id"])
                seen.add(page_id)
                self._listed[page_id] = page
                edited = str(page.get("last_edited_time", ""))
                if newest is None or edited > newest:
                    newest = edited
                entry = CachedPage(
                    page_id,
                    layout.class_name,
                    source,
                    _page_version(page),
                    edited,
                    self._title_of(page),
                )
                if known.get(page_id) != entry:
                    updates.append(entry)
                    known[page_id] = entry
        for entry in self._recheck_bodies(known, seen):
            updates.append(entry)
            known[entry.id] = entry
        if updates:
            cache.put_pages(updates)
        if full:
            sources = set(by_source)
            gone = [i for i, p in known.items() if i not in seen or p.source not in sources]
            if gone:
                cache.drop_pages(gone)
                for page_id in gone:
                    known.pop(page_id, None)
                    self._recent.pop(page_id, None)
        cache.set("runs", str(runs))
        if newest is not None:
            cache.set("cursor", newest)
        for entry in known.values():
            yield RecordRef(entry.id, entry.version, _stamp(entry.modified), entry.class_name)

    def _recheck_bodies(
        self, known: Mapping[str, CachedPage], listed: set[str]
    ) -> builtins.list[CachedPage]:
        """Pages whose body may have changed although their version did not: Notion's
        ``last_edited_time`` is rounded to the minute, so a block edit made later in the
        minute we last read the body leaves the version as it was (pages we last wrote
        ourselves are not re-checked: that costs a listing per page after every sync). Once that
        minute is over (plus a minute's margin for clock skew), such a page's blocks are
        read once more; a changed body gets a new version, so the engine reads and merges
        it. A run within that window leaves the check to a later run."""
        out = []
        now = dt.datetime.now(dt.UTC)
        margin = dt.timedelta(minutes=2)
        for page_id in listed:
            entry = known.get(page_id)
            seen = self.cache.seen_at(page_id)
            if entry is None or not seen:
                continue  # never read, or last seen as we wrote it
            found = self.cache.body(page_id)
            if found is None or found[0] != entry.version:
                continue  # the version moved anyway: the engine reads it
            edited = _stamp(entry.modified).replace(second=0, microsecond=0)
            if _stamp(seen) >= edited + margin:
                continue  # our last look came after that minute: it saw every edit in it
            if now < edited + margin:
                continue  # too early to tell; a later run looks
            blocks = self._read_blocks(page_id)
            body = bodies.body_from_blocks(bodies.page_blocks(blocks), _prior(found[2]))
            if body == found[2].get("body"):
                self.cache.touch_body(page_id)
                continue
            self.cache.drop_body(page_id)
            self._recent.pop(page_id, None)
            base = entry.version.split("+", 1)[0]
            version = f"{base}+b{uuid.uuid4().hex[:8]}"
            out.append(
                CachedPage(page_id, entry.class_name, entry.source, version, entry.modified,
                           entry.title)
            )
        return out

    def _discover(self) -> None:
        """Adopt databases under the parent page that carry our properties (a lost cache
        finds its databases again). Needs the parent page shared: 404 says so."""
        layouts = self._load_layouts()
        known = {layout.database_id for layout in layouts.values()}
        prefix = self.notion_config.database_prefix
        self._children_of_parent_check()
        for block in self.api.children(self.notion_config.parent_page_id):
            if block.get("type") != "child_database" or block["id"] in known:
                continue
            title = str((block.get("child_database") or {}).get("title", ""))
            if not title.startswith(prefix) or not title[len(prefix) :]:
                continue
            database = self.api.database(block["id"])
            sources = database.get("data_sources") or []
            if not sources:
                continue
            schema = self._source_schema(sources[0]["id"], fresh=True)
            if self.notion_config.id_property not in schema:
                continue  # not one of ours
            class_name = title[len(prefix) :]
            if class_name in layouts:
                continue
            props = self._props_from_schema(schema)
            self._store_layout(
                ClassLayout(class_name, database["id"], sources[0]["id"], class_name, props, {})
            )

    def _props_from_schema(self, schema: Mapping[str, JSON]) -> dict[str, PropertyPlan]:
        """Field properties of a data source we did not create in this cache's life: every
        property that is not ours or computed maps to the field of its name."""
        ours = {n.casefold() for n in bookkeeping_properties(self.notion_config)}
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

    def _title_of(self, page: Mapping[str, Any]) -> str:
        for prop in (page.get("properties") or {}).values():
            if isinstance(prop, Mapping) and prop.get("type") == "title":
                return join_rich_text(prop.get("title") or [])
        return ""

    # -- reading -----------------------------------------------------------------------------

    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        """Full records (properties, body) for ``ids``; ``RecordError`` for a page that
        is gone or trashed. Pages just written or read come from memory."""
        return [self._read(i) for i in ids]

    def _read(self, page_id: str) -> Record:
        cached = self.cache.page(page_id)
        if cached is not None:
            recent = self._recent.get(page_id)
            if recent is not None and recent[0].version == cached.version:
                return recent[0]
            if self._from_cache(page_id, cached.version):
                return self._recent[page_id][0]
        page = self._listed.get(page_id)
        if page is None or cached is None or _page_version(page) != cached.version.split("+")[0]:
            page = self.api.page(page_id, not_found=lambda: self._gone(page_id))
        if page.get("in_trash") or page.get("archived"):
            self.cache.drop_pages([page_id])
            raise self._gone(page_id)
        layout = self._layout_of(page)
        blocks = self._read_blocks(page_id)
        record = self._record(page, layout, blocks)
        if cached is not None and cached.version.split("+")[0] == record.version:
            record = dataclasses.replace(record, version=cached.version)
        self._remember(record, layout, blocks)
        return record

    def _gone(self, page_id: str) -> RecordError:
        return RecordError(f"Notion: page {page_id} is gone (trashed, deleted or not shared)")

    def _layout_of(self, page: Mapping[str, Any]) -> ClassLayout:
        parent = page.get("parent") or {}
        source = parent.get("data_source_id")
        database = parent.get("database_id")
        for layout in self._load_layouts().values():
            if layout.data_source_id == source or layout.database_id == database:
                return layout
        raise RecordError(f"Notion: page {page.get('id')} is not in a synced database")

    def _read_blocks(self, block_id: str, depth: int = 0) -> builtins.list[JSON]:
        """The children of ``block_id``, each with its own children nested under its type
        object (``has_children`` followed, any depth)."""
        out = []
        for block in self.api.children(block_id):
            if block.get("in_trash") or block.get("archived"):
                continue
            kind = block.get("type", "")
            if block.get("has_children") and kind not in ("child_page", "child_database"):
                content = dict(block.get(kind) or {})
                content["children"] = self._read_blocks(block["id"], depth + 1)
                block = {**block, kind: content}
            out.append(block)
        return out

    def _record(
        self, page: Mapping[str, Any], layout: ClassLayout, blocks: Sequence[JSON]
    ) -> Record:
        config = self.notion_config
        props: Mapping[str, Any] = page.get("properties") or {}
        ctx = self._ctx()
        fallback_prop = props.get(config.fallback_property) or {}
        fallback = Fallback.from_text(join_rich_text(fallback_prop.get("rich_text") or []))
        fields: dict[str, Any] = {}
        missing: builtins.list[str] = []
        for fieldname, plan in layout.props.items():
            prop = props.get(plan.name)
            if not isinstance(prop, Mapping) or prop.get("type") != plan.ntype:
                missing.append(fieldname)  # deleted or retyped in Notion: not held now
                continue
            if plan.ntype == "relation" and prop.get("has_more"):
                prop = self._full_relation(str(page["id"]), prop)
            single = plan.single or fieldname in fallback.one
            cell = decode(plan.ntype, prop, ctx, single=single)
            value = fallback.value_of(fieldname, cell, EMPTY_CELLS.get(plan.ntype))
            if value is not MISSING:
                fields[fieldname] = value
        for name, entry in fallback.exact.items():
            if name not in layout.props and name not in fields:
                fields[name] = entry[1]  # a field with no property: carried in full
        for name in fallback.null:
            if name not in layout.props and name not in fields:
                fields[name] = None  # a null field with no property (never had a value)
        if missing:
            raise SchemaDrift(self._drift_message(layout, missing, props))
        path_prop = props.get(config.path_property) or {}
        path = join_rich_text(path_prop.get("rich_text") or [])
        last = self.cache.body(str(page["id"]))
        prior = _prior(last[2]) if last is not None else None
        body = bodies.body_from_blocks(bodies.page_blocks(blocks), prior)
        if prior is None and fallback.body is not None:
            # no local prior (a fresh machine): the layout carried in Notion, if the
            # blocks are still those it was made for
            body = bodies.apply_layout(body, fallback.body)
        edited = str(page.get("last_edited_time"))
        return Record(
            class_name=layout.class_name,
            fields=fields,
            body=body,
            id=str(page["id"]),
            version=_page_version(page),
            modified=_stamp(edited),
            title=self._title_of(page),
            extra={"path": path} if path else {},
        )

    def _drift_message(
        self, layout: ClassLayout, missing: Sequence[str], props: Mapping[str, Any]
    ) -> str:
        """What changed in a class's database, naming each property, and what to do."""
        parts = []
        for fieldname in missing:
            plan = layout.props[fieldname]
            found = props.get(plan.name)
            if isinstance(found, Mapping):
                parts.append(
                    f"property {plan.name!r} is now of type {found.get('type')!r}; change it "
                    f"back to {plan.ntype!r}"
                )
            else:
                parts.append(
                    f"property {plan.name!r} is gone (renamed or deleted); rename it back, or "
                    f"re-create it as a {plan.ntype!r} property"
                )
        return (
            f"Notion database of class {layout.class_name!r} changed: " + "; ".join(parts)
            + ". Nothing was synced for this target (the notes keep their values)."
        )

    def _full_relation(self, page_id: str, prop: Mapping[str, Any]) -> JSON:
        """A relation property with every item (page objects show at most 25)."""
        ids = []
        for item in self.api.property_items(page_id, str(prop.get("id"))):
            rel = item.get("relation") or {}
            if isinstance(rel, Mapping) and rel.get("id"):
                ids.append({"id": rel["id"]})
        return {**prop, "relation": ids, "has_more": False}

    def _remember(
        self,
        record: Record,
        layout: ClassLayout,
        blocks: Sequence[JSON] | None,
        *,
        written: bool = False,
    ) -> None:
        """Keep ``record`` (and its blocks, when known) for the reads and edits that
        follow, in memory and in the cache: a page whose version did not move is read
        from there, with no request."""
        assert record.id is not None and record.version is not None
        kept = None if blocks is None else [dict(b) for b in blocks]
        self._recent[record.id] = (record, kept)
        modified = record.modified.isoformat() if record.modified else None
        self.cache.put_body(
            record.id,
            record.version,
            kept,
            {
                "class": record.class_name,
                "fields": dict(record.fields),
                "body": record.body,
                "spans": _spans(record.body),
                "title": record.title,
                "extra": dict(record.extra),
                "modified": modified,
                "decoder": self._decoder(),
            },
            written=written,
        )

    def _decoder(self) -> str:
        """What decoding depends on besides Notion's data: a cached record read under
        another zone or other property names is read again."""
        c = self.notion_config
        return json.dumps([c.timezone, c.title_property, c.fallback_property, c.path_property])

    def _from_cache(self, page_id: str, version: str) -> bool:
        """Load the page as last seen into memory if it is still at ``version``."""
        found = self.cache.body(page_id)
        if found is None or found[0] != version:
            return False
        _, blocks, data = found
        if data.get("decoder") != self._decoder():
            return False
        modified = data.get("modified")
        record = Record(
            class_name=str(data["class"]),
            fields=data["fields"],
            body=str(data["body"]),
            id=page_id,
            version=version,
            modified=dt.datetime.fromisoformat(modified) if modified else None,
            title=data.get("title"),
            extra=data.get("extra") or {},
        )
        self._recent[page_id] = (record, blocks)
        return True

    # -- writing: properties -----------------------------------------------------------------

    def _layout_for(self, record: Record) -> ClassLayout:
        """The record's class layout, with properties for fields it has none for."""
        layout = self._load_layouts().get(record.class_name)
        computed = self._computed.get(record.class_name, frozenset())
        unknown = {
            k: v
            for k, v in record.fields.items()
            if (layout is None or k not in layout.props) and k not in computed
        }
        if layout is not None and not unknown:
            return layout
        cls = ClassSchema(
            record.class_name,
            {k: _inferred_spec(k, v) for k, v in unknown.items() if v is not None},
            source="inferred",
        )
        wanted = desired_properties(cls, self.notion_config)
        return self._ensure(record.class_name, wanted)

    def _properties(
        self, record: Record, layout: ClassLayout, *, create_key: str | None = None,
        ctx: PropertyContext | None = None,
    ) -> JSON:
        """The page properties for ``record`` (every held one, plus ours); ``ctx``: how
        links resolve (default: through the cache)."""
        config = self.notion_config
        ctx = ctx or self._ctx()
        out: JSON = {}
        fallback = Fallback()
        for fieldname, plan in layout.props.items():
            value = record.fields.get(fieldname, MISSING)
            empty = EMPTY_CELLS.get(plan.ntype)
            if value is MISSING:
                enc = encode(plan.ntype, None, ctx, source=layout.data_source_id)
                if empty is False:
                    fallback.absent.append(fieldname)
                out[plan.name] = enc.request
                continue
            enc = encode(plan.ntype, value, ctx, source=layout.data_source_id)
            out[plan.name] = enc.request
            if plan.ntype in ("relation", "files") and isinstance(value, str):
                fallback.one.append(fieldname)
            if value is None:
                fallback.null.append(fieldname)  # present but empty: not absent
                continue
            differs = not exact_equal(enc.cell, value) or exact_equal(enc.cell, empty)
            if differs and not (empty is False and value is False):
                fallback.exact[fieldname] = [enc.cell, value]
        computed = self._computed.get(record.class_name, frozenset())
        for fieldname, value in record.fields.items():
            if fieldname in computed:
                continue  # Formula / Lookup: the vault computes them, never pushed
            if fieldname in layout.props:
                continue
            if value is None:
                fallback.null.append(fieldname)  # null, with no property: still present
            else:
                fallback.exact[fieldname] = [None, value]  # no property could be added
        fallback.body = bodies.layout_of(record.body)
        text = fallback.to_text()
        runs = text_runs(text)
        if len(runs) > 100 and fallback.body is not None:
            # too much to carry: a machine with no prior reads the canonical body
            fallback.body = None
            text = fallback.to_text()
            runs = text_runs(text)
        if len(runs) > 100:
            raise RecordError(
                f"{record.title or record.id}: fields {sorted(fallback.exact)} hold values "
                "Notion cannot store as they are, and together they exceed what the "
                "fallback property can carry (200,000 characters); nothing was sent"
            )
        out[config.fallback_property] = {"rich_text": runs}
        title = record.title or ""
        out[config.title_property] = {"title": text_runs(title)}
        if create_key is not None:
            out[config.id_property] = {"rich_text": text_runs(create_key)}
        path = record.extra.get("path") if record.extra else None
        if isinstance(path, str) and path:
            out[config.path_property] = {"rich_text": text_runs(path)}
        return out

    # -- writing: pages ----------------------------------------------------------------------

    def create(self, record: Record) -> RecordRef:
        """Create the page (properties and the first three block levels in one request;
        deeper levels and blocks past 100 in later appends). The create key is journaled
        before the request, the page id before the next one."""
        layout = self._layout_for(record)
        key = uuid.uuid4().hex
        props = self._properties(record, layout, create_key=key)
        items = self._items(record)
        children = [i.block for i in items if i.block is not None]
        first, deferred = _split_blocks(children)
        cache = self.cache
        fingerprint = hashlib.sha256(
            json.dumps(
                [props_without_key(props, self.notion_config), children],
                sort_keys=True,
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        for old_key, source, age in cache.unresolved_creates(fingerprint):
            # the same content was sent before and got no answer: find it, never resend
            found = self._lookup_create(source, old_key)
            if found is not None:
                cache.finish_create(old_key)
                return self._after_write(self.api.page(found), layout, record)
            if age <= self._grace_s():
                raise RemoteUnavailable(
                    f"Notion: an earlier create of {record.title or 'this note'!r} got no "
                    "answer and may still land; the next sync looks for it again"
                )
            cache.finish_create(old_key)
        cache.begin_create(key, layout.class_name, layout.data_source_id, deferred, fingerprint)
        body: JSON = {
            "parent": {"type": "data_source_id", "data_source_id": layout.data_source_id},
            "properties": props,
        }
        if first:
            body["children"] = first
        what = f"creating {record.title or 'a page'!r}"
        page = self._create_page(body, layout.data_source_id, key, what)
        page_id = str(page["id"])
        cache.created(key, page_id, deferred)
        if deferred:
            self._append_deferred(page_id, deferred)
            page = self.api.page(page_id)
        cache.finish_create(key)
        return self._after_write(page, layout, record)

    def _create_page(self, body: JSON, source: str, key: str, what: str) -> JSON:
        """POST the page; on a lost answer, look it up by its create key first. A create
        the server answered with an error status and that is not there is sent once
        more (same key); one with no answer at all (timeout, dropped connection) is not:
        it may still land, and the next run looks for it before creating anything."""
        for attempt in range(2):
            try:
                return self.api.create_page(body, what)
            except AmbiguousWrite as exc:
                found = self._lookup_create(source, key)
                if found is not None:
                    return self.api.page(found)
                if exc.answered and attempt == 0:
                    self.api.pacer.limiter.pause_until(self.api.pacer.backoff(0))
                    continue
                if exc.answered:
                    # Notion answered an error twice and the page is not there: it was
                    # not created, and the next run may create it without waiting
                    self.cache.finish_create(key)
                raise RemoteUnavailable(
                    f"Notion: {what}: no answer ({exc.reason}); not retried, the next sync "
                    "looks for the page before creating it again"
                ) from exc
        raise AssertionError("unreachable")

    def _items(self, record: Record) -> builtins.list[bodies.Item]:
        try:
            return bodies.body_to_items(record.body)
        except ValueError as exc:
            raise RecordError(f"{record.title or record.id}: {exc}") from exc

    def _append_deferred(self, page_id: str, deferred: Sequence[Any]) -> None:
        """Append blocks left out of a create: ``[path, blocks]`` entries, ``path`` the
        indexes from the page down to the parent block (``[]``: the page itself)."""
        for path, blocks in deferred:
            parent = self._block_at(page_id, path)
            existing = [b for b in self.api.children(parent) if not b.get("in_trash")]
            have = [bodies.block_key(b) for b in existing]
            want = [bodies.block_key(b) for b in blocks]
            if have[-len(want) :] == want:
                continue  # appended before the answer was lost
            after = existing[-1]["id"] if existing else None
            for start in range(0, len(blocks), 100):
                chunk = blocks[start : start + 100]
                result = self._append(parent, chunk, after, f"appending blocks to {page_id}")
                after = result[-1] if result else after

    def _block_at(self, page_id: str, path: Sequence[int]) -> str:
        block_id = page_id
        for index in path:
            kids = [b for b in self.api.children(block_id) if not b.get("in_trash")]
            block_id = kids[index]["id"]
        return block_id

    def _append(
        self, parent: str, blocks: builtins.list[JSON], after: str | None, what: str
    ) -> builtins.list[str]:
        """Append ``blocks`` after ``after``; ids of the new top-level blocks. A lost
        answer is checked (the blocks are looked for) before anything is sent again."""
        try:
            result = self.api.append_children(parent, blocks, after, what)
        except AmbiguousWrite as exc:
            existing = [b for b in self.api.children(parent) if not b.get("in_trash")]
            keys = [bodies.block_key(b) for b in existing]
            want = [bodies.block_key(b) for b in blocks]
            start = 0
            if after is not None:
                ids = [b["id"] for b in existing]
                start = ids.index(after) + 1 if after in ids else len(ids)
            if keys[start : start + len(want)] == want:
                return [b["id"] for b in existing[start : start + len(want)]]
            raise RemoteUnavailable(
                f"Notion: {what}: no answer ({exc.reason}) and the blocks are not there; "
                "the next sync writes the body again"
            ) from exc
        return [str(b["id"]) for b in result.get("results", [])]

    def _after_write(self, page: JSON, layout: ClassLayout, record: Record) -> RecordRef:
        """Cache the page as written and return its ref (no further request)."""
        page_id = str(page["id"])
        version = _page_version(page)
        edited = str(page.get("last_edited_time"))
        self.cache.put_page(
            CachedPage(
                page_id,
                layout.class_name,
                layout.data_source_id,
                version,
                edited,
                self._title_of(page),
            )
        )
        self._listed[page_id] = page
        stored = self._record_as_written(page, layout, record)
        blocks = self._written_blocks.pop(page_id, None)
        if blocks is not None:
            stored = Record(
                stored.class_name,
                stored.fields,
                bodies.body_from_blocks(
                    bodies.page_blocks(blocks), bodies.Prior.of(record.body)
                ),
                stored.id,
                stored.version,
                stored.modified,
                stored.title,
                stored.extra,
            )
        self._remember(stored, layout, blocks, written=True)
        ref = RecordRef(page_id, version, _stamp(edited), layout.class_name)
        self._refs[page_id] = ref
        return ref

    def _record_as_written(self, page: JSON, layout: ClassLayout, record: Record) -> Record:
        """The record as the next read will see it: decoded from Notion's answer."""
        decoded = self._record(page, layout, [])
        return Record(
            decoded.class_name,
            decoded.fields,
            record.body,
            decoded.id,
            decoded.version,
            decoded.modified,
            decoded.title,
            decoded.extra,
        )

    def _current(
        self, page_id: str, expected_version: str
    ) -> tuple[Record, builtins.list[JSON] | None]:
        """The page as last read (reading it if needed), after checking that it is still
        at ``expected_version`` (:class:`StaleVersion` if not, or if it is gone)."""
        cached = self.cache.page(page_id)
        if cached is None:
            raise StaleVersion(f"Notion: page {page_id} no longer exists")
        if cached.version != expected_version:
            raise StaleVersion(
                f"Notion: page {page_id} is at version {cached.version}, not {expected_version}"
            )
        recent = self._recent.get(page_id)
        if (recent is None or recent[0].version != expected_version) and self._from_cache(
            page_id, expected_version
        ):
            recent = self._recent[page_id]
        if recent is None or recent[0].version != expected_version:
            try:
                self._read(page_id)
            except RecordError as exc:
                raise StaleVersion(str(exc)) from exc
            recent = self._recent[page_id]
            if recent[0].version != expected_version:
                raise StaleVersion(f"Notion: page {page_id} changed since it was listed")
        return recent

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        """Send the properties that changed (one PATCH) and the minimal block edit for a
        changed body. ``StaleVersion`` if the page changed since ``expected_version``."""
        if record.id is None:
            raise RecordError("update() needs a record id")
        page_id = record.id
        old, old_blocks = self._current(page_id, expected_version)
        if record.class_name != old.class_name:
            raise RecordError(
                f"{record.title or page_id}: moving a note from class {old.class_name!r} to "
                f"{record.class_name!r} is not supported in Notion yet; the page stays"
            )
        layout = self._layout_for(record)
        new_props = self._properties(record, layout)
        old_props = self._properties(
            Record(
                old.class_name, old.fields, old.body, old.id, title=old.title, extra=record.extra
            ),
            layout,
        )
        changed = {k: v for k, v in new_props.items() if old_props.get(k) != v}
        page: JSON | None = None
        if changed:
            page = self._patch_page(page_id, {"properties": changed})
        if record.body != old.body:
            if old_blocks is None:
                old_blocks = self._read_blocks(page_id)
            blocks = self._edit_body(page_id, old_blocks, record)
            page = self.api.page(page_id)
            self._written_blocks[page_id] = blocks
        if page is None:
            ref = self._refs.get(page_id)
            return ref or RecordRef(
                page_id,
                old.version or "",
                old.modified or _stamp("1970-01-01T00:00:00Z"),
                old.class_name,
            )
        if page_id not in self._written_blocks:
            self._written_blocks[page_id] = old_blocks
        return self._after_write(page, layout, record)

    def _patch_page(self, page_id: str, body: JSON) -> JSON:
        try:
            return self.api.update_page(page_id, body)
        except RecordError as exc:
            if "archived" in str(exc) or "trash" in str(exc):
                raise StaleVersion(f"Notion: page {page_id} was trashed meanwhile") from exc
            raise

    def _edit_body(
        self, page_id: str, old_blocks: Sequence[JSON], record: Record
    ) -> builtins.list[JSON]:
        """Apply the minimal block edit; the page's top-level blocks afterwards (as
        request/response shapes, for the cache)."""
        current = bodies.page_blocks(old_blocks)
        edit = bodies.plan_body_edit(current, self._items(record))
        label = record.title or page_id
        for block_id in edit.kept_foreign:
            kind = next((b.type for b in current if b.id == block_id), "block")
            self._problem(
                f"{label}: the placeholder of Notion block {block_id} ({kind}) was removed "
                "in the note; the block is kept in Notion (delete it there if intended)"
            )
        for block_id in edit.unknown_placeholders:
            self._problem(f"{label}: placeholder of unknown Notion block {block_id} ignored")
        for block_id, payload in edit.updates:
            self.api.update_block(block_id, payload)
        for block_id in edit.deletes:
            kind = next((b.type for b in current if b.id == block_id), "")
            if kind in bodies.NEVER_DELETE or not next(
                (b.owned for b in current if b.id == block_id), False
            ):
                continue  # never: deleting these trashes what we do not own
            with contextlib.suppress(RecordError):  # already gone (a retried delete landed)
                self.api.delete_block(block_id)
        placed: dict[int, str] = {}
        for anchor_index, anchor_id, blocks in edit.inserts:
            after = anchor_id
            if after is not None and after.startswith("@"):
                after = placed.get(int(after[1:]))
            elif anchor_id is None and anchor_index is not None:
                after = placed.get(anchor_index)
            first, deferred = _split_blocks(blocks)
            ids = self._append(page_id, first, after, f"editing the body of {label}")
            for path, kids in deferred:
                if not path:
                    # top-level blocks past the first request: right after those sent
                    last = ids[-1] if ids else after
                    ids.extend(self._append(page_id, kids, last, f"editing the body of {label}"))
                    continue
                self._append_deferred_under(ids[path[0]], path[1:], kids)
            start = (anchor_index + 1) if anchor_index is not None else 0
            for k, new_id in enumerate(ids):
                placed[start + k] = new_id
        if edit.inserts:
            return self._read_blocks(page_id)  # the new blocks' ids, for the next edit
        # updates and deletes only: the page's blocks are known without asking
        updated = dict(edit.updates)
        deleted = set(edit.deletes)
        out: builtins.list[JSON] = []
        for block in old_blocks:
            if block["id"] in deleted:
                continue
            change = updated.get(str(block["id"]))
            if change is not None:
                kind = str(block["type"])
                block = {**block, kind: {**(block.get(kind) or {}), **change[kind]}}
            out.append(dict(block))
        return out

    def _problem(self, message: str) -> None:
        """Report something kept or skipped (a warning on stderr through logging)."""
        self.problems.append(message)
        log.warning("notion: %s", message)

    def _append_deferred_under(self, block_id: str, path: Sequence[int], blocks: Any) -> None:
        parent = block_id
        for index in path:
            kids = [b for b in self.api.children(parent) if not b.get("in_trash")]
            parent = kids[index]["id"]
        for start in range(0, len(blocks), 100):
            self._append(parent, blocks[start : start + 100], None, f"appending under {parent}")

    def delete(self, record_id: str, *, expected_version: str) -> None:
        """Move the page to Notion's trash (``in_trash``); restorable there for 30 days.
        A page already gone is nothing to do; ``StaleVersion`` if it changed since."""
        cached = self.cache.page(record_id)
        if cached is None:
            return
        if cached.version != expected_version:
            raise StaleVersion(
                f"Notion: page {record_id} is at version {cached.version}, not {expected_version}"
            )
        try:
            self.api.update_page(record_id, {"in_trash": True})
        except RecordError:
            # done either way if it is already trashed or gone; anything else is raised
            try:
                page = self.api.page(record_id)
            except RecordError:
                page = {"in_trash": True}
            if not (page.get("in_trash") or page.get("archived")):
                raise
        self.cache.drop_pages([record_id])
        self._recent.pop(record_id, None)
        self._refs.pop(record_id, None)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client and the cache (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._api is not None:
            self._api.close()
        if self._cache is not None:
            self._cache.close()

    def __repr__(self) -> str:
        return f"NotionAdapter(parent_page={self.notion_config.parent_page_id!r})"


def props_without_key(props: Mapping[str, Any], config: NotionConfig) -> dict[str, Any]:
    """Page properties less the create key (which differs between two sends)."""
    return {k: v for k, v in props.items() if k != config.id_property}


def _split_blocks(blocks: Sequence[JSON]) -> tuple[builtins.list[JSON], builtins.list[Any]]:
    """Blocks for the first request (the converter's :func:`split_for_requests`: up to
    three levels, a table always with its rows) and the rest as deferred
    ``[path, blocks]`` appends, in the order they must be sent (``path``: indexes from
    the page down to the parent; ``[]`` the page itself, appended at its end)."""
    batches = split_for_requests([dict(b) for b in blocks])
    if not batches:
        return [], []
    first = batches[0].children if batches[0].parent == () else []
    rest = batches[1:] if batches[0].parent == () else batches
    return first, [[list(b.parent), b.children] for b in rest]


def _prior(data: Mapping[str, Any]) -> bodies.Prior | None:
    """The span map stored with a cached body (``None`` if there is none)."""
    text = data.get("body")
    if not isinstance(text, str):
        return None
    stored = data.get("spans")
    if stored is None:
        return bodies.Prior.of(text)
    return bodies.Prior.from_json(text, stored)


def _spans(text: str) -> builtins.list[Any] | None:
    prior = bodies.Prior.of(text)
    return prior.to_json() if prior is not None else None
