"""The Notion adapter: one database per class under ``parent_page``, one page per note.

Contract methods only; the pieces live next door: :mod:`.session` (the client, the cache
and this run's memory), :mod:`.layouts` (databases and properties), :mod:`.listing`
(listing and the pull cursor), :mod:`.reading` (pages into records), :mod:`.page_writes`
(records into properties), :mod:`.block_writes` (appends and body edits),
:mod:`.recovery` (creates whose answer was lost), :mod:`.relations` (links across
classes), :mod:`.moves` (a note whose class changed); below them :mod:`.client` (requests,
pacing, errors), :mod:`.schema`, :mod:`.properties` (values), :mod:`.body` (blocks) and
:mod:`.cache` (listing cache and create journal).

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
import datetime as dt
import hashlib
import json
import random
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from syncbridge.adapter import Adapter, AdapterConfig, Capabilities, Record, RecordRef
from syncbridge.errors import RecordError, StaleVersion
from syncbridge.schema.model import ClassSchema
from syncbridge_notion.block_writes import BlockWriter, record_items, split_blocks
from syncbridge_notion.cache import NotionCache
from syncbridge_notion.client import NotionAPI
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.listing import PageListing
from syncbridge_notion.mentions import BodyMentions, unresolved_targets
from syncbridge_notion.moves import ClassMoves
from syncbridge_notion.pacing import Clock
from syncbridge_notion.page_writes import PageWriter, props_without_key, with_statuses
from syncbridge_notion.properties import PropertyContext
from syncbridge_notion.reading import PageReader
from syncbridge_notion.recovery import LostCreates
from syncbridge_notion.relations import RelationLinks
from syncbridge_notion.schema import ClassLayout, declared_class
from syncbridge_notion.session import JSON, NotionSession, source_path, stamp

__all__ = ["NotionAdapter"]


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
        # a mention or relation needs its page: linked notes are created first
        creates_follow_links=True,
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
        self.session = NotionSession(config, self.base_dir, clock=clock, rng=rng)
        self.layouts = ClassLayouts(self.session)
        self.reader = PageReader(self.session, self.layouts)
        self.listing = PageListing(self.session, self.layouts, self.reader)
        self.writer = PageWriter(self.session, self.layouts, self.reader)
        self.blocks = BlockWriter(self.session, self.reader)
        self.relations = RelationLinks(self.session, self.layouts, self.reader, self.writer)
        self.moves = ClassMoves(self.session, self.writer)
        self.mentions = BodyMentions(
            self.session, self.layouts, self.reader, self.writer, self.blocks
        )
        self.creates = LostCreates(self.session, self.blocks, self.mentions, self.relations)

    @property
    def api(self) -> NotionAPI:
        """The paced client (opened, and the token read, on first use)."""
        return self.session.api

    @property
    def cache(self) -> NotionCache:
        """The cache and create journal (opened on first use)."""
        return self.session.cache

    @property
    def cache_path(self) -> Path:
        """Where the cache lives (``cache_path``, default beside the state)."""
        return self.session.cache_path

    @property
    def problems(self) -> builtins.list[str]:
        """What this adapter kept or could not do, by note (also logged as warnings)."""
        return self.session.problems

    # -- schema ------------------------------------------------------------------------------

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Create ``cls``'s database under the parent page if it has none (found again by
        title if it exists), and add properties for fields it lacks. Raises
        :class:`.SchemaDrift` naming the property and class when someone changed one of
        ours in Notion."""
        self.layouts.ensure_collection(cls)

    def check(self, record: Record, cls: ClassSchema | None = None) -> builtins.list[str]:
        """What a create of ``record`` would be refused for (the fallback property over its
        200,000 characters), by the very property encoding a create runs, with the class's
        database as the cache knows it or as the schema would make it. Sends nothing;
        reads the cache only when its file exists (a dry run creates no file)."""
        layout = self.layouts.planned_for(record, cls)
        try:
            self.writer.properties(record, layout, ctx=PropertyContext(self.notion_config.timezone))
        except RecordError as exc:
            return [str(exc)]
        return []

    def declared_classes(self) -> dict[str, ClassSchema]:
        """Every class with a database, as its data source declares it now
        (:func:`.schema.declared_class`): property types, select and multi-select
        options, relations pointing at their class. One ``GET`` of each data source,
        but none of those the latest listing read (a full listing that adopts a
        database reads its schema: a fresh machine's ``migrate --from`` lists, then asks
        this). A database Notion no longer shows (deleted, unshared: a
        ``RecordError``) is left out: its records, if any, are typed from their values.
        Reads only."""
        layouts = self.layouts.all()
        class_of_source = {lay.data_source_id: name for name, lay in layouts.items()}
        out: dict[str, ClassSchema] = {}
        read = self.layouts.listing_read
        for name, layout in sorted(layouts.items()):
            source = layout.data_source_id
            try:
                properties = self.layouts.source_schema(source, fresh=source not in read)
            except RecordError as exc:
                self.session.problem(f"class {name!r}: its database's schema: {exc}")
                continue
            out[name] = declared_class(
                layout, self.layouts.waiting(name), properties, class_of_source
            )
        return out

    def held_fields(self, class_name: str) -> frozenset[str] | None:
        """The fields with a property in the class's database (``None`` before it has
        one): a held field missing from a page is a cleared value."""
        return self.layouts.held_fields(class_name)

    # -- listing and reading -----------------------------------------------------------------

    def refresh(self) -> None:
        """Finish what an interrupted run left: creates whose answer was lost are looked
        up by key, pages whose deeper blocks were not all appended get them, pages moved
        to another class's database get their properties there (:mod:`.moves`),
        relations whose linked pages exist now are filled in (:mod:`.relations`), and body
        links to them become page mentions (:mod:`.mentions`). Inside :meth:`dry_run`:
        nothing (no request, the journal stays); what it would finish is told by
        :meth:`unfinished`."""
        if self.in_dry_run:
            return
        self.creates.finish_pending()
        self.moves.finish_pending()
        self.mentions.fill(check=True)
        self.relations.fill(check=True)

    @contextlib.contextmanager
    def dry_run(self) -> Iterator[None]:
        """A dry run: :meth:`refresh` finishes nothing, the listing moves neither the
        pull cursor nor the run counter; the engine only reads (see
        :meth:`Adapter.dry_run`). The cache is a copy in memory for the while
        (:meth:`.NotionSession.dry_run_scope`): no file is made or written. On the way
        out, what the adapter knows of databases is read from the file again."""
        with super().dry_run(), self.session.dry_run_scope() as outermost:
            try:
                yield
            finally:
                if outermost:
                    self.layouts.forget()
                    self.listing.dry_run_ended()

    def unfinished(self) -> builtins.list[str]:
        """The work :meth:`refresh` would finish now, one line each, decided as it
        decides: lost creates (one query per create whose page is unknown), interrupted
        moves, relation and page-mention second passes (one ``GET`` per page it would
        write, as its check does; a line per class whose relation properties it adds).
        Sends no write; nothing (and no cache file made) when the adapter has no cache
        yet."""
        if not self.session.has_cache():
            return []
        return [
            *self.creates.unfinished(),
            *self.moves.unfinished(),
            *self.mentions.unfinished(),
            *self.relations.unfinished(),
        ]

    def list(self) -> Iterator[RecordRef]:
        """Every live page of our databases. An incremental run queries each data source
        for pages edited since the last cursor (less a minute: Notion rounds to it) and
        lists the rest from the cache; every ``full_listing_every``-th run lists all
        pages, which finds pages trashed or vanished in Notion."""
        return self.listing.refs()

    @contextlib.contextmanager
    def reuse_listing(self) -> Iterator[None]:
        """Within: :meth:`list` queries each data source once; the later listings are the
        pages the cache holds since (that listing's, with this adapter's writes), no
        request (:meth:`.PageListing.reused`)."""
        with self.listing.reused():
            yield

    def note_paths(self, paths: Mapping[str, str]) -> None:
        """Where the notes of these pages are, or are about to be, in the vault (page id
        → vault path; ``syncbridge migrate --from`` names a note ``A B.md`` for the title
        ``A/B``, ``Foo 2.md`` for a second ``Foo``; the engine tells the linked notes'
        paths each run), so that page mentions and links to those pages name those
        notes while the page keeps its title: in every read from now on, and in the
        bodies read before (written again from the blocks they were read with, no
        request). A body cached by an earlier run whose links named other notes is read
        again from Notion when next asked for (not in a dry run: it keeps the cache as it
        is). For this run only (in memory); sends no request."""
        if not paths or not self.session.has_cache():
            return  # no page known yet (and a dry run makes no cache file)
        cache = self.cache
        pages = cache.pages()
        before = cache.page_paths()
        wanted = {
            page_id: (path, pages[page_id].title)
            for page_id, path in paths.items()
            if page_id in pages and path.endswith(".md")
        }
        if not cache.set_note_paths(wanted):
            return
        moved = {k for k, v in cache.page_paths().items() if before.get(k) != v}
        if not moved or self.in_dry_run:
            return  # a dry run previews with the bodies as cached: it writes no cache
        links = self.session.links
        now = cache.page_paths()
        for page_id, (names, own) in sorted(cache.body_names().items()):
            if self.reader.rerender(page_id):
                continue
            stale = (
                cache.body_links_to(page_id, moved)
                if names is None
                else links.names_of(names) != names
            )
            if stale or (page_id in moved and own != now.get(page_id)):
                self.session.recent.pop(page_id, None)
                cache.forget_body(page_id)  # read again from Notion, by the new names

    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        """Full records (properties, body) for ``ids``; ``RecordError`` for a page that
        is gone or trashed. Pages just written or read come from memory."""
        return [self.reader.read(i) for i in ids]

    # -- writing -----------------------------------------------------------------------------

    def create(self, record: Record) -> RecordRef:
        """Create the page (properties and the first three block levels in one request;
        deeper levels and blocks past 100 in later appends). The create key is journaled
        before the request (with the links that name no page yet, for the second passes
        of a create whose answer is lost), the page id before the next one."""
        layout = self.relations.prepare(record, self.layouts.layout_for(record))
        key = uuid.uuid4().hex
        props = self.writer.properties(record, layout, create_key=key)
        items = record_items(record, self.session.links.page_id(source_path(record)))
        children = [i.block for i in items if i.block is not None]
        first, deferred = split_blocks(children)
        cache = self.cache
        fingerprint = hashlib.sha256(
            json.dumps(
                [props_without_key(props, self.notion_config), children],
                sort_keys=True,
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        found = self.creates.earlier_send(fingerprint, record.title or "this note")
        if found is not None:
            ref = self.writer.after_write(self.api.page(found), layout, record)
            self.relations.note(found, record, layout, props)
            self.mentions.note(found, record)
            return ref
        # what the second passes need, should the answer be lost (recovery.py)
        relation_targets, sent = self.relations.waiting(record, layout, props)
        links = {
            "mentions": unresolved_targets(self.session, record),
            "relations": relation_targets,
            "sent": sent,
        }
        cache.begin_create(
            key, layout.class_name, layout.data_source_id, deferred, fingerprint, links
        )
        body: JSON = {
            "parent": {"type": "data_source_id", "data_source_id": layout.data_source_id},
            "properties": props,
        }
        if first:
            body["children"] = first
        what = f"creating {record.title or 'a page'!r}"
        with self._schema_checked(layout):
            page = self.creates.create_page(body, layout.data_source_id, key, what)
        page_id = str(page["id"])
        cache.created(key, page_id, deferred)
        self.mentions.note(page_id, record)  # journaled before any other request
        if deferred:
            self.blocks.append_deferred(page_id, deferred)
            page = self.api.page(page_id)
        cache.finish_create(key)
        ref = self.writer.after_write(page, layout, record)
        self.relations.note(page_id, record, layout, props)
        return ref

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        """Send the properties that changed (one PATCH) and the minimal block edit for a
        changed body; a note whose class changed moves its page to that class's database
        (:mod:`.moves`). ``StaleVersion`` if the page changed since ``expected_version``."""
        if record.id is None:
            raise RecordError("update() needs a record id")
        page_id = record.id
        session = self.session
        old, old_blocks = self.reader.current(page_id, expected_version)
        layout = self.relations.prepare(record, self.layouts.layout_for(record))
        page: JSON | None = None
        if record.class_name != old.class_name:
            # the note's class changed: the page moves to the other database (moves.py)
            with self._schema_checked(layout):
                page, new_props = self.moves.move(page_id, record, layout)
        else:
            new_props = self.writer.properties(record, layout)
            layout = self.layouts.all().get(layout.class_name, layout)  # options re-read
            old_props = self.writer.properties(
                Record(
                    old.class_name,
                    old.fields,
                    old.body,
                    old.id,
                    title=old.title,
                    extra=record.extra,
                ),
                layout,
                report=False,
            )
            changed = {k: v for k, v in new_props.items() if old_props.get(k) != v}
            changed.update(self.relations.stale(page_id, new_props, layout))
            changed = with_statuses(changed, new_props, layout, self.notion_config)
            changed = self.writer.with_kept_text(changed, page_id, layout)
            if changed:
                with self._schema_checked(layout):
                    page = self.writer.patch(page_id, {"properties": changed})
        if record.body != old.body:
            if old_blocks is None:
                old_blocks = self.reader.read_blocks(page_id)
            self.mentions.note(page_id, record)  # journaled before the blocks change
            blocks = self.blocks.edit_body(page_id, old_blocks, record)
            page = self.api.page(page_id)
            session.written_blocks[page_id] = blocks
        if page is None:
            ref = session.refs.get(page_id)
            return ref or RecordRef(
                page_id,
                old.version or "",
                old.modified or stamp("1970-01-01T00:00:00Z"),
                old.class_name,
            )
        if page_id not in session.written_blocks:
            session.written_blocks[page_id] = old_blocks
        ref = self.writer.after_write(page, layout, record)
        self.relations.note(page_id, record, layout, new_props)
        return ref

    @contextlib.contextmanager
    def _schema_checked(self, layout: ClassLayout) -> Iterator[None]:
        """A page write of ``layout``'s class: if Notion refuses it, :class:`.SchemaDrift`
        names the property someone changed in Notion (one more ``GET``), else the
        refusal is raised as it is."""
        try:
            yield
        except RecordError as exc:
            self.layouts.explain_refusal(layout, exc)
            raise

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
        self._refuse_if_holding_pages(record_id, cached.title)
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
        self.session.recent.pop(record_id, None)
        self.session.refs.pop(record_id, None)

    def _refuse_if_holding_pages(self, page_id: str, title: str | None) -> None:
        """``RecordError`` if the page holds child pages or databases, live (its blocks
        listed, one ``GET`` a level of blocks with children): trashing the page would
        trash them in Notion, and the note only held placeholders of them."""
        try:
            blocks = self.reader.read_blocks(page_id)
        except RecordError:
            return  # gone already: the trash below settles it
        held = _pages_under(blocks)
        if held:
            raise RecordError(
                f"Notion: page {title or page_id!r} ({page_id}) holds sub-pages "
                f"{', '.join(held)}; not moved to Notion's trash: move them out of it or "
                "delete the page in Notion (or restore the note); until then each sync "
                "reports this and changes nothing"
            )

    def last_written(self, record_id: str) -> str | None:
        """The version our latest write of the page left (the second passes of
        :meth:`batch` write pages again after the engine's write returned)."""
        ref = self.session.refs.get(record_id)
        return ref.version if ref is not None else None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """A run of writes; when it ends without an error, the second passes of
        :mod:`.mentions` and :mod:`.relations`: body links and relations to pages created
        in it (or earlier) are filled in, before the engine reads the writes back. Never
        raises for that: what fails is reported (:attr:`problems`) and stays journaled for
        the next batch or run."""
        yield
        self.mentions.finish_batch()
        self.relations.finish_batch()

    # -- lifecycle ---------------------------------------------------------------------------

    def stop_waiting_on(self, stop: threading.Event) -> None:
        """Once ``stop`` is set, a request waiting for the rate limit, a ``Retry-After``
        or a backoff is not sent: :class:`~syncbridge.errors.Interrupted` (a create cut
        short so is taken out of the create journal: it never reached Notion)."""
        self.session.stop_waiting_on(stop)

    def close(self) -> None:
        """Close the HTTP client and the cache (idempotent)."""
        self.session.close()

    def __repr__(self) -> str:
        return f"NotionAdapter(parent_page={self.notion_config.parent_page_id!r})"


def _pages_under(blocks: Any) -> list[str]:
    """The child pages and databases among ``blocks`` and under them, named."""
    out: list[str] = []
    for block in blocks:
        kind = str(block.get("type", ""))
        content = block.get(kind) or {}
        if kind in ("child_page", "child_database"):
            title = content.get("title") if isinstance(content, dict) else None
            out.append(f"{title!r} ({block.get('id')})" if title else f"{kind} {block.get('id')}")
            continue
        if isinstance(content, dict):
            out.extend(_pages_under(content.get("children") or []))
    return out
