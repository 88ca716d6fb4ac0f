"""Relations across classes: File and MultiFile links ⇄ relation properties.

A link field's relation points at the database of the class of the notes it links to.
That class is known once one of its links names a synced page: until then the field has
no property (it is *waiting*, :meth:`.ClassLayouts.waiting`), and the first write whose
link names a synced page adds the relation property, pointing at that page's database.
Links to notes of another class, or to notes that are not synced, stay intact in the
vault: the fallback property carries the value as written, and they are reported by
name.

**The second pass.** A note may link to a note whose page does not exist yet (created
later in the same run: two notes linking each other, in any order). Every write whose
links named no page yet is journaled in the cache (``links_pending``, with the relation
and fallback values sent); when a batch of writes ends (:meth:`fill` from
:meth:`.NotionAdapter.batch`, before the engine reads its writes back), each such page
whose links name pages now gets its relation filled in (one ``PATCH``). What is left
waits for a later batch or run (:meth:`.NotionAdapter.refresh` looks again, after
checking that nobody edited the page in Notion meanwhile: a page edited there is filled
in once the engine has read it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from syncbridge.adapter import Record
from syncbridge.errors import RecordError, StaleVersion, SyncbridgeError
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.page_writes import PageWriter
from syncbridge_notion.properties import link_target
from syncbridge_notion.reading import PageReader
from syncbridge_notion.schema import ClassLayout, PropertyPlan
from syncbridge_notion.session import JSON, NotionSession, page_version

__all__ = ["RelationLinks", "link_targets"]


def link_targets(value: Any) -> list[str]:
    """The note names (``Folder/Name``) a field value links to, in order, once each."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        target = link_target(item) if isinstance(item, str) else None
        if target and target not in out:
            out.append(target)
    return out


class RelationLinks:
    """Link fields as relations, and the second pass (see the module docstring)."""

    def __init__(
        self,
        session: NotionSession,
        layouts: ClassLayouts,
        reader: PageReader,
        writer: PageWriter,
    ) -> None:
        self.session = session
        self.layouts = layouts
        self.reader = reader
        self.writer = writer
        self._noted: set[str] = set()  # pages noted since the last fill, to report

    def link_fields(self, layout: ClassLayout) -> dict[str, PropertyPlan]:
        """The class's link fields: its relation properties and those still waiting."""
        out = {f: p for f, p in layout.props.items() if p.ntype == "relation"}
        for fieldname, plan in self.layouts.waiting(layout.class_name).items():
            out.setdefault(fieldname, plan)
        return out

    def prepare(self, record: Record, layout: ClassLayout) -> ClassLayout:
        """``layout`` with a relation property for each waiting link field of ``record``
        whose links name a synced page (pointing at that page's class); side effect: one
        schema update for all the properties added."""
        return self.layouts.add_relations(layout, self._targets_of(record, layout))

    def _targets_of(self, record: Record, layout: ClassLayout) -> dict[str, str]:
        """Waiting link field → the class its relation can point at now (by the links
        of ``record``; no request)."""
        out = {}
        for fieldname in self.layouts.waiting(layout.class_name):
            if fieldname in layout.props or fieldname not in record.fields:
                continue
            target_class = self._class_of(record.fields[fieldname])
            if target_class is not None:
                out[fieldname] = target_class
        return out

    def _class_of(self, value: Any) -> str | None:
        """The class of the first linked note that is one synced page (by its name)."""
        known = self.layouts.all()
        for target in link_targets(value):
            hits = self.session.cache.pages_titled(target.rsplit("/", 1)[-1])
            if len(hits) == 1 and hits[0].class_name in known:
                return hits[0].class_name
        return None

    def unresolved(self, record: Record, layout: ClassLayout) -> list[list[str]]:
        """``[field, note name]`` of every link of ``record`` its relation cannot hold
        now: no synced page of that name in the relation's database (or no relation)."""
        ctx = self.session.ctx()
        out: list[list[str]] = []
        for fieldname, plan in self.link_fields(layout).items():
            held = fieldname in layout.props
            source = self.layouts.relation_source(plan, layout) if held else None
            for target in link_targets(record.fields.get(fieldname)):
                if source is None or ctx.resolve(target, source) is None:
                    out.append([fieldname, target])
        return out

    def _sent(self, props: Mapping[str, Any], layout: ClassLayout) -> JSON:
        """The relation and fallback values among the page properties ``props``."""
        names = {p.name for p in layout.props.values() if p.ntype == "relation"}
        names.add(self.session.config.fallback_property)
        return {k: v for k, v in props.items() if k in names}

    def note(self, page_id: str, record: Record, layout: ClassLayout, props: JSON) -> None:
        """After a write of ``record`` with properties ``props``: journal the links it
        could not hold as relations yet (or forget the page's entry: all are held)."""
        self.note_waiting(page_id, *self.waiting(record, layout, props))

    def waiting(
        self, record: Record, layout: ClassLayout, props: JSON
    ) -> tuple[list[list[str]], JSON]:
        """What :meth:`note` journals for a write of ``record`` with properties
        ``props``: the links its relations cannot hold now, and the relation and fallback
        values sent. Local only (a create journals it before its request)."""
        return [list(t) for t in self.unresolved(record, layout)], self._sent(props, layout)

    def note_waiting(self, page_id: str, targets: list[list[str]], sent: JSON) -> None:
        """Journal ``page_id`` as written with ``sent`` and waiting for the pages of
        ``targets`` (``[field, note name]``; none: forget its entry). Local only."""
        cache = self.session.cache
        if targets:
            cache.put_links_pending(page_id, targets, sent)
            self._noted.add(page_id)
        else:
            cache.drop_links_pending(page_id)

    def stale(self, page_id: str, props: JSON, layout: ClassLayout) -> JSON:
        """For an update: the relation and fallback values of ``props`` that differ from
        those last sent to a page with links waiting (links that name pages now)."""
        entry = self.session.cache.links_pending(page_id).get(page_id)
        if entry is None:
            return {}
        sent = entry[1]
        return {k: v for k, v in self._sent(props, layout).items() if sent.get(k) != v}

    def fill(self, *, check: bool) -> None:
        """The second pass: fill the relations of waiting pages whose links name pages
        now (one ``PATCH`` each, nothing for pages with nothing new). ``check``: first
        make sure (one ``GET``) the page is still as we last read or wrote it; a page
        edited in Notion since is left to the engine, which reads and merges it first,
        and is filled in after that (a later batch or run). Raises what the requests
        raise."""
        pending = self.session.cache.links_pending()
        self._add_waiting_relations(pending)
        for page_id, (targets, sent) in pending.items():
            try:
                self._fill_one(page_id, targets, sent, check=check)
            except RecordError as exc:
                self.session.problem(f"filling in the relations of page {page_id}: {exc}")

    def _fill_one(self, page_id: str, targets: list[list[str]], sent: JSON, *, check: bool) -> None:
        """Fill one waiting page's relations if its links name pages now."""
        session = self.session
        cache = session.cache
        cached = cache.page(page_id)
        loaded = self._load(page_id)
        layout = self.layouts.all().get(loaded[0].class_name) if loaded else None
        if cached is None or (loaded is not None and layout is None):
            cache.drop_links_pending(page_id)  # gone, or no longer ours: nothing to fill
            return
        if loaded is None or layout is None:
            return  # changed in Notion since we wrote it: filled once the engine read it
        record, blocks = loaded
        now = self.unresolved(record, layout)
        if sorted(now) == sorted(targets) and not self._could_add(record, layout):
            return  # nothing new: no request
        if check:
            page = session.api.page(page_id, not_found=lambda: self.reader.gone(page_id))
            if page_version(page) != cached.version.split("+")[0]:
                return  # edited in Notion: the engine reads and merges it first
        layout = self.prepare(record, layout)
        props = self.writer.properties(record, layout)
        changed = {k: v for k, v in self._sent(props, layout).items() if sent.get(k) != v}
        if changed:
            session.written_blocks[page_id] = blocks
            try:
                page = self.writer.patch(page_id, {"properties": changed})
            except StaleVersion:
                cache.drop_links_pending(page_id)  # trashed meanwhile
                return
            self.writer.after_write(page, layout, record)
        self.note(page_id, record, layout, props)

    def unfinished(self) -> list[str]:
        """What :meth:`fill` (with the check, as a run's start does it) would send now,
        found by reading only (one ``GET`` per page it would check) and deciding as it
        does: a line per class whose waiting link fields would get their relation
        properties (one schema update for the class), then a line per waiting page it
        would write, naming every link its relations would then hold that they do not
        now (one ``PATCH``). Writes nothing, the journal stays."""
        pending = self.session.cache.links_pending()
        adds = self._waiting_targets(pending)
        out: list[str] = []
        for class_name, added in sorted(adds.items()):
            fields = sorted(added)
            out.append(
                f"class {class_name!r}: an interrupted run left relation "
                f"propert{'ies' if len(fields) > 1 else 'y'} {', '.join(fields)} to add "
                "(one schema update)"
            )
        for page_id, (targets, sent) in sorted(pending.items()):
            line = self._would_fill(page_id, targets, sent, adds)
            if line is not None:
                out.append(line)
        return out

    def _would_fill(
        self,
        page_id: str,
        targets: list[list[str]],
        sent: JSON,
        adds: Mapping[str, Mapping[str, str]],
    ) -> str | None:
        """The line for one waiting page that :meth:`_fill_one` would write after the
        relation properties ``adds`` (class → field → class linked) were added, else
        ``None`` (nothing new, nothing to send, gone, or edited in Notion: left to the
        engine). Decided as :meth:`_fill_one` decides, on the layout those additions
        would make."""
        session = self.session
        cached = session.cache.page(page_id)
        loaded = self._load(page_id)
        layout = self.layouts.all().get(loaded[0].class_name) if loaded else None
        if cached is None or loaded is None or layout is None:
            return None
        record = loaded[0]
        layout = self._with_relations(layout, adds.get(layout.class_name, {}))
        now = self.unresolved(record, layout)
        if sorted(now) == sorted(targets) and not self._could_add(record, layout):
            return None
        try:
            page = session.api.page(page_id)
        except RecordError:
            return None
        if page.get("in_trash") or page_version(page) != cached.version.split("+")[0]:
            return None  # edited (or trashed) in Notion: the engine reads it first
        try:
            props = self.writer.properties(record, layout)
        except RecordError:
            return None  # refused as the write would be: reported by the real run
        if not any(sent.get(k) != v for k, v in self._sent(props, layout).items()):
            return None  # what it would send is what it sent: no request
        held = [t for t in targets if t not in now]
        names = ", ".join(f"[[{t}]] ({f})" for f, t in held) or "its links"
        label = record.title or page_id
        return f"{label!r}: an interrupted run left its relations to fill in: {names} (one PATCH)"

    def _with_relations(self, layout: ClassLayout, targets: Mapping[str, str]) -> ClassLayout:
        """``layout`` as :meth:`.ClassLayouts.add_relations` would make it for
        ``targets`` (waiting field → class linked), without a request: each field
        gets its relation property, pointing at that class's data source."""
        waiting = self.layouts.waiting(layout.class_name)
        known = self.layouts.all()
        props = dict(layout.props)
        for fieldname, target_class in targets.items():
            if fieldname in waiting and fieldname not in props and target_class in known:
                props[fieldname] = dataclasses.replace(
                    waiting[fieldname],
                    relation_class=target_class,
                    relation_source=known[target_class].data_source_id,
                )
        return dataclasses.replace(layout, props=props)

    def _waiting_targets(self, pending: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """Class → waiting link field → the class its relation would point at, for the
        relation properties the waiting pages can get now (the first page naming a
        field decides, in the journal's order, as :meth:`fill` does)."""
        by_class: dict[str, dict[str, str]] = {}
        for page_id in pending:
            loaded = self._load(page_id)
            layout = self.layouts.all().get(loaded[0].class_name) if loaded else None
            if loaded is None or layout is None:
                continue
            for fieldname, target in self._targets_of(loaded[0], layout).items():
                by_class.setdefault(layout.class_name, {}).setdefault(fieldname, target)
        return by_class

    def _add_waiting_relations(self, pending: Mapping[str, Any]) -> None:
        """The relation properties the waiting pages can get now, added together: one
        schema update per class (instead of one per page)."""
        for class_name, targets in sorted(self._waiting_targets(pending).items()):
            self.layouts.add_relations(self.layouts.all()[class_name], targets)

    def _could_add(self, record: Record, layout: ClassLayout) -> bool:
        """Whether a waiting link field of ``record`` could get its relation now."""
        return bool(self._targets_of(record, layout))

    def _load(self, page_id: str) -> tuple[Record, list[JSON] | None] | None:
        """The page's record as last written or read (memory, else cache), or ``None``."""
        cached = self.session.cache.page(page_id)
        if cached is None:
            return None
        recent = self.session.recent.get(page_id)
        if recent is not None and recent[0].version == cached.version:
            return recent
        if self.reader.from_cache(page_id, cached.version):
            return self.session.recent[page_id]
        return None

    def finish_batch(self) -> None:
        """At the end of a batch of writes: :meth:`fill` (without the check: the pages
        were written moments ago), then report the links still not held, by note and
        name. Never raises: a failure is reported and the pages stay journaled for the
        next batch or run."""
        try:
            self.fill(check=False)
        except SyncbridgeError as exc:
            self.session.problem(f"filling in relations: {exc}; the next sync tries again")
        pending = self.session.cache.links_pending()
        for page_id in sorted(self._noted):
            entry = pending.get(page_id)
            if entry is None:
                continue
            recent = self.session.recent.get(page_id)
            label = (recent[0].title if recent else None) or page_id
            names = ", ".join(f"[[{t}]] ({f})" for f, t in entry[0])
            self.session.problem(
                f"{label}: {names} name no synced note of the relation's class; kept as "
                f"written in the note and in {self.session.config.fallback_property!r}, "
                "not as a Notion relation"
            )
        self._noted.clear()
