"""Reading pages: a page object and its blocks decoded into a :class:`Record`.

Every record read or written is remembered (in memory, and in the cache's ``bodies``
table with its blocks and the span map of its body), so a page whose version did not
move is read from there with no request, and a body edit needs no listing of the page
first. A property of ours that is gone or retyped on a page raises
:class:`.SchemaDrift`, naming the property and the class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from syncbridge.adapter import MISSING, Record
from syncbridge.errors import RecordError, StaleVersion
from syncbridge_notion import body as bodies
from syncbridge_notion.body_links import linked_pages
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.markdown import PageIdLookup
from syncbridge_notion.properties import EMPTY_CELLS, Fallback, decode, join_rich_text
from syncbridge_notion.property_styles import has_formatting
from syncbridge_notion.schema import ClassLayout, SchemaDrift
from syncbridge_notion.session import (
    JSON,
    NotionSession,
    page_version,
    source_path,
    stamp,
    title_of,
)

__all__ = ["PageReader", "formatted_text", "prior_of", "spans_of"]


def formatted_text(page: Mapping[str, Any], own: Sequence[str] = ()) -> dict[str, Any]:
    """Property name → response items of each title and text property of ``page`` that
    holds more than plain runs would (annotations, links, mentions: what a push of its
    edited text keeps, :mod:`.property_styles`); ``own``: property names left out. A
    property not named holds plain text."""
    out: dict[str, Any] = {}
    for name, prop in (page.get("properties") or {}).items():
        if name in own or not isinstance(prop, Mapping):
            continue
        kind = prop.get("type")
        items = prop.get(kind) if kind in ("title", "rich_text") else None
        if isinstance(items, list) and has_formatting(items):
            out[name] = items
    return out


def prior_of(data: Mapping[str, Any], page_id: PageIdLookup | None = None) -> bodies.Prior | None:
    """The span map stored with a cached body (``None`` if there is none; made with
    ``page_id`` resolving wikilinks when none was stored)."""
    text = data.get("body")
    if not isinstance(text, str):
        return None
    stored = data.get("spans")
    if stored is None:
        return bodies.Prior.of(text, page_id)
    return bodies.Prior.from_json(text, stored)


def spans_of(text: str, page_id: PageIdLookup | None = None) -> list[Any] | None:
    """The span map of ``text`` to store, its wikilinks resolved by ``page_id``."""
    prior = bodies.Prior.of(text, page_id)
    return prior.to_json() if prior is not None else None


class PageReader:
    """Reads pages (from memory, the cache, or Notion) and remembers what it saw."""

    def __init__(self, session: NotionSession, layouts: ClassLayouts) -> None:
        self.session = session
        self.layouts = layouts

    def read(self, page_id: str) -> Record:
        """The page as a record; ``RecordError`` if it is gone or trashed."""
        session = self.session
        cached = session.cache.page(page_id)
        if cached is not None:
            recent = session.recent.get(page_id)
            if recent is not None and recent[0].version == cached.version:
                return recent[0]
            if self.from_cache(page_id, cached.version):
                return session.recent[page_id][0]
        page = session.listed.get(page_id)
        if page is None or cached is None or page_version(page) != cached.version.split("+")[0]:
            page = session.api.page(page_id, not_found=lambda: self.gone(page_id))
        if page.get("in_trash") or page.get("archived"):
            session.cache.drop_pages([page_id])
            raise self.gone(page_id)
        layout = self.layouts.layout_of(page)
        blocks = self.read_blocks(page_id)
        record = self.record(page, layout, blocks, keep_render=True)
        if cached is not None and cached.version.split("+")[0] == record.version:
            record = dataclasses.replace(record, version=cached.version)
        self.remember(record, layout, blocks, text=self.formatted_text(page))
        return record

    @staticmethod
    def gone(page_id: str) -> RecordError:
        return RecordError(f"Notion: page {page_id} is gone (trashed, deleted or not shared)")

    def read_blocks(self, block_id: str, depth: int = 0) -> list[JSON]:
        """The children of ``block_id``, each with its own children nested under its type
        object (``has_children`` followed, any depth)."""
        out = []
        for block in self.session.api.children(block_id):
            if block.get("in_trash") or block.get("archived"):
                continue
            kind = block.get("type", "")
            if block.get("has_children") and kind not in ("child_page", "child_database"):
                content = dict(block.get(kind) or {})
                content["children"] = self.read_blocks(block["id"], depth + 1)
                block = {**block, kind: content}
            out.append(block)
        return out

    def record(
        self,
        page: Mapping[str, Any],
        layout: ClassLayout,
        blocks: Sequence[JSON],
        *,
        keep_render: bool = False,
    ) -> Record:
        """``page`` (with its top-level ``blocks``) decoded into a record. ``keep_render``:
        keep what the body was written from (``blocks`` are all the page's), for
        :meth:`rerender`."""
        session = self.session
        config = session.config
        props: Mapping[str, Any] = page.get("properties") or {}
        ctx = session.ctx()
        fallback_prop = props.get(config.fallback_property) or {}
        fallback = Fallback.from_text(join_rich_text(fallback_prop.get("rich_text") or []))
        fields: dict[str, Any] = {}
        missing: list[str] = []
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
                fields[name] = None  # present but empty, with no property
        if missing:
            raise SchemaDrift(_drift_message(layout, missing, props))
        path_prop = props.get(config.path_property) or {}
        page_id = str(page["id"])
        # where this run was told the note is (the vault's state), else the path kept
        path = self.note_path(page_id, title_of(page)) or join_rich_text(
            path_prop.get("rich_text") or []
        )
        last = session.cache.body(page_id)
        links = session.links
        prior = prior_of(last[2], links.page_id(path or None)) if last is not None else None
        top = bodies.page_blocks(blocks)
        if keep_render:
            session.renders[page_id] = (page_version(page), top, prior, fallback.body)
        body = self.render_body(top, prior, fallback.body, path or None)
        edited = str(page.get("last_edited_time"))
        return Record(
            class_name=layout.class_name,
            fields=fields,
            body=body,
            id=str(page["id"]),
            version=page_version(page),
            modified=stamp(edited),
            title=title_of(page),
            extra={"path": path} if path else {},
        )

    def render_body(
        self,
        blocks: Sequence[bodies.PageBlock],
        prior: bodies.Prior | None,
        layout: dict[str, Any] | None,
        path: str | None,
    ) -> str:
        """The body of top-level ``blocks``: ``prior`` (the body as last synced) keeps
        its spelling, links name the notes of the pages they link to as the vault has
        them now (:class:`.BodyLinks`), ``layout`` (the body layout Notion carried) is
        applied when there is no prior. ``path``: the vault path of the note. Pure but
        for the cache reads of the link index."""
        links = self.session.links
        body = bodies.body_from_blocks(
            blocks, prior, link_target=links.link_target(path, prior.text if prior else None)
        )
        if prior is None and layout is not None:
            # no local prior (a fresh machine): the layout carried in Notion, if the
            # blocks are still those it was made for
            body = bodies.apply_layout(body, layout)
        return body

    def note_path(self, page_id: str, title: str | None) -> str:
        """The vault path recorded for the page's note (``NotionCache.set_note_paths``)
        while the page keeps the title it was recorded for, else ``""``."""
        note = self.session.cache.note_paths().get(page_id)
        return note[0] if note is not None and note[1] == (title or "") else ""

    def rerender(self, page_id: str) -> bool:
        """Write the body of a page read this run again, from the blocks and prior it was
        read with, now that the notes of the pages it links to may have other paths; the
        record (and the vault path of its note, when recorded) replaced in memory and in
        the cache. Whether it was read this run. No request."""
        held = self.session.renders.get(page_id)
        recent = self.session.recent.get(page_id)
        if held is None or recent is None or (recent[0].version or "").split("+")[0] != held[0]:
            return False  # not read this run, or written since: its blocks are others
        record, kept = recent
        _, blocks, prior, layout = held
        path = self.note_path(page_id, record.title) or source_path(record) or ""
        body = self.render_body(blocks, prior, layout, path or None)
        extra = {**record.extra, "path": path} if path else dict(record.extra)
        self.remember(dataclasses.replace(record, body=body, extra=extra), None, kept)
        return True

    def _full_relation(self, page_id: str, prop: Mapping[str, Any]) -> JSON:
        """A relation property with every item (page objects show at most 25)."""
        ids = []
        for item in self.session.api.property_items(page_id, str(prop.get("id"))):
            rel = item.get("relation") or {}
            if isinstance(rel, Mapping) and rel.get("id"):
                ids.append({"id": rel["id"]})
        return {**prop, "relation": ids, "has_more": False}

    def remember(
        self,
        record: Record,
        layout: ClassLayout | None,
        blocks: Sequence[JSON] | None,
        *,
        written: bool = False,
        text: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep ``record`` (and its blocks, when known) for the reads and edits that
        follow, in memory and in the cache: a page whose version did not move is read
        from there, with no request. ``text``: the page's formatted text properties
        (:func:`formatted_text`), kept for :meth:`.PageWriter.shown_text`; ``None``: those
        the cache holds for this version stay."""
        assert record.id is not None and record.version is not None
        kept = None if blocks is None else [dict(b) for b in blocks]
        if text is None:
            found = self.session.cache.body(record.id)
            if found is not None and found[0] == record.version:
                text = found[2].get("text")
        self.session.recent[record.id] = (record, kept)
        modified = record.modified.isoformat() if record.modified else None
        self.session.cache.put_body(
            record.id,
            record.version,
            kept,
            {
                "class": record.class_name,
                "fields": dict(record.fields),
                "body": record.body,
                "spans": spans_of(record.body, self.session.links.page_id(source_path(record))),
                # the notes its links named when written: told other paths, it is read again
                "names": None
                if kept is None
                else self.session.links.names_of(sorted(linked_pages(kept))),
                "title": record.title,
                "extra": dict(record.extra),
                "modified": modified,
                "decoder": self._decoder(),
                **({"text": dict(text)} if isinstance(text, Mapping) else {}),
            },
            written=written,
        )

    def formatted_text(self, page: Mapping[str, Any]) -> dict[str, Any]:
        """:func:`formatted_text` of ``page``, less our own properties."""
        c = self.session.config
        return formatted_text(page, (c.fallback_property, c.id_property, c.path_property))

    def _decoder(self) -> str:
        """What decoding depends on besides Notion's data: a cached record read under
        another zone or other property names is read again."""
        c = self.session.config
        return json.dumps([c.timezone, c.title_property, c.fallback_property, c.path_property])

    def from_cache(self, page_id: str, version: str) -> bool:
        """Load the page as last seen into memory if it is still at ``version``."""
        found = self.session.cache.body(page_id)
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
        self.session.recent[page_id] = (record, blocks)
        return True

    def last_seen(self, page_id: str) -> tuple[Record, list[JSON] | None] | None:
        """The page's record and blocks as last written or read (memory, else the cache),
        or ``None`` when it is not cached at its current version (listed as changed in
        Notion since). No request."""
        cached = self.session.cache.page(page_id)
        if cached is None:
            return None
        recent = self.session.recent.get(page_id)
        if recent is not None and recent[0].version == cached.version:
            return recent
        if self.from_cache(page_id, cached.version):
            return self.session.recent[page_id]
        return None

    def current(self, page_id: str, expected_version: str) -> tuple[Record, list[JSON] | None]:
        """The page as last read (reading it if needed), after checking that it is still
        at ``expected_version`` (:class:`StaleVersion` if not, or if it is gone)."""
        session = self.session
        cached = session.cache.page(page_id)
        if cached is None:
            raise StaleVersion(f"Notion: page {page_id} no longer exists")
        if cached.version != expected_version:
            raise StaleVersion(
                f"Notion: page {page_id} is at version {cached.version}, not {expected_version}"
            )
        recent = session.recent.get(page_id)
        if (recent is None or recent[0].version != expected_version) and self.from_cache(
            page_id, expected_version
        ):
            recent = session.recent[page_id]
        if recent is None or recent[0].version != expected_version:
            try:
                self.read(page_id)
            except RecordError as exc:
                raise StaleVersion(str(exc)) from exc
            recent = session.recent[page_id]
            if recent[0].version != expected_version:
                raise StaleVersion(f"Notion: page {page_id} changed since it was listed")
        return recent


def _drift_message(layout: ClassLayout, missing: Sequence[str], props: Mapping[str, Any]) -> str:
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
        f"Notion database of class {layout.class_name!r} changed: "
        + "; ".join(parts)
        + ". Nothing was synced for this target (the notes keep their values)."
    )
