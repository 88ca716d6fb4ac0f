"""Writing a page's properties, and taking in what Notion answered to a write.

A record's fields become the page properties of its class's layout; values Notion cannot
hold as they are (and fields with no property) are carried in full in the fallback text
property, so nothing is altered silently. After a write, the page as Notion answered is
cached and remembered, so our own write never looks like a user's edit on the next read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncbridge.adapter import MISSING, Record, RecordRef
from syncbridge.errors import RecordError, StaleVersion
from syncbridge_notion import body as bodies
from syncbridge_notion.cache import CachedPage
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.properties import (
    EMPTY_CELLS,
    Fallback,
    PropertyContext,
    encode,
    exact_equal,
    join_rich_text,
    text_runs,
)
from syncbridge_notion.reading import PageReader
from syncbridge_notion.schema import ClassLayout
from syncbridge_notion.session import (
    JSON,
    NotionSession,
    page_version,
    source_path,
    stamp,
    title_of,
)

__all__ = ["PageWriter", "props_without_key"]


def props_without_key(props: Mapping[str, Any], config: NotionConfig) -> dict[str, Any]:
    """Page properties less the create key (which differs between two sends)."""
    return {k: v for k, v in props.items() if k != config.id_property}


class PageWriter:
    """Encodes records as page properties and records what a write left in Notion."""

    def __init__(self, session: NotionSession, layouts: ClassLayouts, reader: PageReader) -> None:
        self.session = session
        self.layouts = layouts
        self.reader = reader

    def properties(
        self,
        record: Record,
        layout: ClassLayout,
        *,
        create_key: str | None = None,
        ctx: PropertyContext | None = None,
    ) -> JSON:
        """The page properties for ``record`` (every held one, plus ours); ``ctx``: how
        links resolve (default: through the cache)."""
        config = self.session.config
        links = self.session.links if ctx is None else None  # a check() reads no cache
        ctx = ctx or self.session.ctx()
        out: JSON = {}
        fallback = Fallback()
        for fieldname, plan in layout.props.items():
            value = record.fields.get(fieldname, MISSING)
            empty = EMPTY_CELLS.get(plan.ntype)
            source = self.layouts.relation_source(plan, layout) if plan.ntype == "relation" else ""
            if value is MISSING:
                enc = encode(plan.ntype, None, ctx, source=source)
                if empty is False:
                    fallback.absent.append(fieldname)
                out[plan.name] = enc.request
                continue
            enc = encode(plan.ntype, value, ctx, source=source)
            out[plan.name] = enc.request
            if plan.ntype in ("relation", "files") and isinstance(value, str):
                fallback.one.append(fieldname)
            if value is None:
                fallback.null.append(fieldname)  # present but empty: not absent
                continue
            differs = not exact_equal(enc.cell, value) or exact_equal(enc.cell, empty)
            if differs and not (empty is False and value is False):
                fallback.exact[fieldname] = [enc.cell, value]
        computed = self.layouts.computed.get(record.class_name, frozenset())
        for fieldname, value in record.fields.items():
            if fieldname in computed:
                continue  # Formula / Lookup: the vault computes them, never pushed
            if fieldname in layout.props:
                continue
            if value is None:
                fallback.null.append(fieldname)  # a property added later reads empty
            else:
                fallback.exact[fieldname] = [None, value]  # no property (yet)
        src = source_path(record)
        fallback.body = bodies.layout_of(
            record.body,
            links.page_id(src) if links is not None else None,
            links.link_target(src) if links is not None else None,
        )
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

    def body_layout_update(self, page: JSON, record: Record) -> JSON | None:
        """The fallback property of ``page`` with only its body layout brought up to date
        for ``record``'s body as the links resolve now (the exact values, absent and null
        fields it carries stay as they are: the cells they describe were not rewritten),
        or ``None`` when it already says that."""
        config = self.session.config
        shown = (page.get("properties") or {}).get(config.fallback_property) or {}
        old_text = join_rich_text(shown.get("rich_text") or [])
        fallback = Fallback.from_text(old_text)
        links = self.session.links
        src = source_path(record)
        fallback.body = bodies.layout_of(record.body, links.page_id(src), links.link_target(src))
        runs = text_runs(fallback.to_text())
        if len(runs) > 100 and fallback.body is not None:
            fallback.body = None  # too much to carry, as properties() decides
            runs = text_runs(fallback.to_text())
        if join_rich_text(runs) == old_text or len(runs) > 100:
            return None
        return {config.fallback_property: {"rich_text": runs}}

    def patch(self, page_id: str, body: JSON) -> JSON:
        """PATCH the page; :class:`StaleVersion` if it was trashed meanwhile."""
        try:
            return self.session.api.update_page(page_id, body)
        except RecordError as exc:
            if "archived" in str(exc) or "trash" in str(exc):
                raise StaleVersion(f"Notion: page {page_id} was trashed meanwhile") from exc
            raise

    def after_write(self, page: JSON, layout: ClassLayout, record: Record) -> RecordRef:
        """Cache the page as written and return its ref (no further request)."""
        session = self.session
        page_id = str(page["id"])
        version = page_version(page)
        edited = str(page.get("last_edited_time"))
        session.cache.put_page(
            CachedPage(
                page_id,
                layout.class_name,
                layout.data_source_id,
                version,
                edited,
                title_of(page),
            )
        )
        session.listed[page_id] = page
        stored = self._record_as_written(page, layout, record)
        blocks = session.written_blocks.pop(page_id, None)
        if blocks is not None:
            src = source_path(record)
            stored = Record(
                stored.class_name,
                stored.fields,
                bodies.body_from_blocks(
                    bodies.page_blocks(blocks),
                    bodies.Prior.of(record.body, session.links.page_id(src)),
                    link_target=session.links.link_target(src, record.body),
                ),
                stored.id,
                stored.version,
                stored.modified,
                stored.title,
                stored.extra,
            )
        self.reader.remember(stored, layout, blocks, written=True)
        ref = RecordRef(page_id, version, stamp(edited), layout.class_name)
        session.refs[page_id] = ref
        return ref

    def _record_as_written(self, page: JSON, layout: ClassLayout, record: Record) -> Record:
        """The record as the next read will see it: decoded from Notion's answer."""
        decoded = self.reader.record(page, layout, [])
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
