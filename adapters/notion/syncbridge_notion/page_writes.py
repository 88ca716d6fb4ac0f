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
    MAX_ITEMS,
    Fallback,
    PropertyContext,
    encode,
    exact_equal,
    join_rich_text,
    text_runs,
)
from syncbridge_notion.property_mentions import retitled
from syncbridge_notion.property_styles import restyled
from syncbridge_notion.reading import PageReader
from syncbridge_notion.schema import ClassLayout, PropertyPlan
from syncbridge_notion.session import (
    JSON,
    NotionSession,
    page_version,
    source_path,
    stamp,
    title_of,
)

__all__ = ["PageWriter", "props_without_key", "with_statuses"]


def props_without_key(props: Mapping[str, Any], config: NotionConfig) -> dict[str, Any]:
    """Page properties less the create key (which differs between two sends)."""
    return {k: v for k, v in props.items() if k != config.id_property}


class PageWriter:
    """Encodes records as page properties and records what a write left in Notion."""

    def __init__(self, session: NotionSession, layouts: ClassLayouts, reader: PageReader) -> None:
        self.session = session
        self.layouts = layouts
        self.reader = reader
        self.reported: set[tuple[str, str, str]] = set()
        """(note, field, value) of status values reported in this run."""

    def properties(
        self,
        record: Record,
        layout: ClassLayout,
        *,
        create_key: str | None = None,
        ctx: PropertyContext | None = None,
        report: bool = True,
    ) -> JSON:
        """The page properties for ``record`` (every held one, plus ours); ``ctx``: how
        links resolve (default: through the cache; a ``ctx`` given means a check: no
        request, nothing reported; ``report`` false: the previous version of a note, whose
        properties are only compared, reads no options and reports nothing).

        A status value that names none of the options the cache knows makes the layout's
        options read again (one ``GET`` of the data source, once per run); one that still
        names none is sent as an empty status, carried in the fallback and, when
        ``report``, reported by note and field (:meth:`.NotionSession.problem`): the API
        cannot add a status option, and Notion refuses a value that names none."""
        config = self.session.config
        live = ctx is None
        links = self.session.links if live else None  # a check() reads no cache
        ctx = ctx or self.session.ctx()
        if live and report and _unknown_statuses(record, layout):
            layout = self.layouts.with_fresh_status_options(layout)
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
            enc = encode(plan.ntype, value, ctx, source=source, options=plan.choices)
            out[plan.name] = enc.request
            unknown = plan.ntype == "status" and value is not None and value not in plan.choices
            if unknown and live and report:
                self._report_status(record, fieldname, plan, value)
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

    def with_kept_text(self, changed: JSON, page_id: str, layout: ClassLayout) -> JSON:
        """``changed`` (the properties a PATCH of ``page_id`` sends) with each title and
        text property it sends keeping what only Notion holds of the value the page has:
        the annotations and links where the edit left the text alone
        (:func:`.restyled`), and the title's mentions the rename left alone
        (:func:`.retitled`: a note's name is plain text). The page's text as this run
        listed or last read or wrote it (:meth:`shown_text`). Same request when nothing
        is kept, or when keeping it takes more than 100 items."""
        config = self.session.config
        kinds = {config.title_property: "title"}
        kinds.update(
            {p.name: p.ntype for p in layout.props.values() if p.ntype in ("title", "rich_text")}
        )
        sent = [name for name in kinds if isinstance(changed.get(name), Mapping)]
        if not sent:
            return changed
        shown = self.shown_text(page_id)
        out = dict(changed)
        for name in sent:
            old = shown.get(name)
            if not old:
                continue  # plain text in Notion: nothing to keep
            kind = kinds[name]
            items: list[Any] = list(changed[name].get(kind) or [])
            if name == config.title_property:
                items = retitled(old, join_rich_text(items)) or items
            styled = restyled(old, items)
            for candidate in (styled, items):
                if candidate is not None and len(candidate) <= MAX_ITEMS:
                    out[name] = {kind: candidate}
                    break
        return out

    def shown_text(self, page_id: str) -> Mapping[str, Any]:
        """Property name → response items of the page's formatted text and title
        properties (:func:`.formatted_text`; one not named is plain text) at the version
        the cache has for the page (the one an update was checked against): the page as
        this run listed or wrote it, else as the cache kept it when it was last read or
        written, else (a cache written before it kept them, or a page listed at another
        version) one ``GET``."""
        session = self.session
        cached = session.cache.page(page_id)
        page = session.listed.get(page_id)
        if page is not None and (
            cached is None or page_version(page) == cached.version.split("+")[0]
        ):
            return self.reader.formatted_text(page)
        found = session.cache.body(page_id)
        if cached is not None and found is not None and found[0] == cached.version:
            text = found[2].get("text")
            if isinstance(text, dict):
                return text
        page = session.api.page(page_id, not_found=lambda: self.reader.gone(page_id))
        return self.reader.formatted_text(page)

    def _report_status(
        self, record: Record, fieldname: str, plan: PropertyPlan, value: Any
    ) -> None:
        """Say (once per note, field and value in a run) that ``value`` names no option
        of the status property of ``fieldname`` and where it is kept."""
        label = record.title or record.id or "a note"
        key = (label, fieldname, repr(value))
        if key in self.reported:
            return
        self.reported.add(key)
        known = ", ".join(repr(o) for o in plan.choices) or "none"
        self.session.problem(
            f"{label}: field {fieldname!r} holds {value!r}, which is not an option of the "
            f"Notion status property {plan.name!r} (options: {known}); the API cannot add "
            "a status option, so the property was left empty and the value is kept as "
            f"written in the note and in {self.session.config.fallback_property!r}. Add the "
            "option in Notion (or pick one of those) and the note's next change sends it"
        )

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
        self.reader.remember(
            stored, layout, blocks, written=True, text=self.reader.formatted_text(page)
        )
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


def _unknown_statuses(record: Record, layout: ClassLayout) -> bool:
    """Whether a status field of ``record`` holds a value naming no option ``layout``
    knows (so the options may be worth reading again)."""
    return any(
        plan.ntype == "status"
        and record.fields.get(fieldname) is not None
        and record.fields.get(fieldname, MISSING) is not MISSING
        and record.fields[fieldname] not in plan.choices
        for fieldname, plan in layout.props.items()
    )


def with_statuses(
    changed: JSON, new_props: Mapping[str, Any], layout: ClassLayout, config: NotionConfig
) -> JSON:
    """``changed`` (the properties a PATCH sends) with every status property of
    ``new_props`` and the fallback property added, when anything is sent and the class
    has a status property: whether a status value could be sent depends on the options
    at the time, so the previous properties recomputed now may not be what the page
    holds (an option added since: the page's status still empty, its value in the
    fallback). Same request."""
    statuses = [p.name for p in layout.props.values() if p.ntype == "status"]
    if not changed or not statuses:
        return changed
    out = dict(changed)
    for name in [*statuses, config.fallback_property]:
        if name in new_props:
            out[name] = new_props[name]
    return out
