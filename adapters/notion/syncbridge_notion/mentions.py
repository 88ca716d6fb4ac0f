"""The second pass for body wikilinks: mentions of pages created after the linking note.

A body is sent with each wikilink that names a synced note as a page mention
(:mod:`.body_links` resolves them); a link to a note whose page does not exist yet (created
later in the same run, or in a later run) is sent as its text, like any link to a note
that is not synced. Every page written with such links is journaled in the cache
(``mentions_pending``, with the targets). When a batch of writes ends
(:meth:`BodyMentions.finish_batch`, from :meth:`.NotionAdapter.batch`, before the engine
reads its writes back), each journaled page whose links name pages now gets its body edited
the minimal way: the blocks holding those links are updated in place (one ``PATCH`` per
block), then one ``PATCH`` of the fallback property brings the body layout it carries up
to date (the one sent first described those links as text) and answers with the page's
new version. No other property is written. A page whose links still
name nothing costs nothing. A run killed in between finishes it when the next run's
adapter is refreshed, after a ``GET`` shows that nobody edited the page in Notion
meanwhile (a page edited there is left to the engine, which merges it first).
"""

from __future__ import annotations

from syncbridge.adapter import Record
from syncbridge.errors import RecordError, StaleVersion, SyncbridgeError
from syncbridge.wikilinks import find_links
from syncbridge_notion import body as bodies
from syncbridge_notion.block_writes import BlockWriter, record_items
from syncbridge_notion.body_links import is_note_target
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.page_writes import PageWriter
from syncbridge_notion.reading import PageReader
from syncbridge_notion.session import NotionSession, page_version, source_path

__all__ = ["BodyMentions", "unresolved_targets"]


def unresolved_targets(session: NotionSession, record: Record) -> list[str]:
    """The wikilink targets of ``record``'s body (outside code and comments) that could
    name a note but name no synced page now, once each, in order."""
    src = source_path(record)
    out: list[str] = []
    for link in find_links(record.body, skip_comments=True):
        target = link.target.strip()
        if (
            target
            and target not in out
            and is_note_target(target)
            and session.links.resolve(target, src) is None
        ):
            out.append(target)
    return out


class BodyMentions:
    """Body links to pages that did not exist yet, and the second pass that makes them
    mentions (see the module docstring)."""

    def __init__(
        self,
        session: NotionSession,
        layouts: ClassLayouts,
        reader: PageReader,
        writer: PageWriter,
        blocks: BlockWriter,
    ) -> None:
        self.session = session
        self.layouts = layouts
        self.reader = reader
        self.writer = writer
        self.blocks = blocks

    def note(self, page_id: str, record: Record) -> None:
        """After a write of ``record``'s body: journal its links that name no synced page
        (or forget the page's entry: there are none). Local only."""
        self.note_targets(page_id, unresolved_targets(self.session, record))

    def note_targets(self, page_id: str, targets: list[str]) -> None:
        """Journal ``page_id``'s body as written with links to ``targets`` that named no
        synced page (none: forget its entry). Local only."""
        if targets:
            self.session.cache.put_mentions_pending(page_id, targets)
        else:
            self.session.cache.drop_mentions_pending(page_id)

    def fill(self, *, check: bool) -> None:
        """The second pass: journaled pages whose links name pages now get them as
        mentions (a few requests each, none for a page with nothing new). ``check``:
        first make sure (one ``GET``) the page is still as we last read or wrote it.
        A failure is reported by page, and the page stays journaled."""
        for page_id, targets in sorted(self.session.cache.mentions_pending().items()):
            try:
                self._fill_one(page_id, targets, check=check)
            except RecordError as exc:
                self.session.problem(f"adding the page mentions of page {page_id}: {exc}")

    def unfinished(self) -> list[str]:
        """What :meth:`fill` (with the check, as a run's start does it) would do now, one
        line per journaled page whose body it would edit, decided as it decides: some
        links name a synced page by now, nobody edited the page in Notion since (one
        ``GET`` per such page, a read) and some block holding them needs an update.
        Sends no write, the journal stays."""
        out: list[str] = []
        for page_id, targets in sorted(self.session.cache.mentions_pending().items()):
            loaded = self.reader.last_seen(page_id)
            cached = self.session.cache.page(page_id)
            if cached is None or loaded is None:
                continue  # gone, or changed in Notion: the engine reads it first
            record, known_blocks = loaded
            if self.layouts.all().get(record.class_name) is None:
                continue
            src = source_path(record)
            now = sorted(t for t in targets if self.session.links.resolve(t, src) is not None)
            if not now:
                continue
            try:
                page = self.session.api.page(page_id)
            except RecordError:
                continue
            if page.get("in_trash") or page_version(page) != cached.version.split("+")[0]:
                continue  # edited (or trashed) in Notion: the engine reads it first
            try:  # as the pass does: its blocks as last seen, else listed (a read)
                current = (
                    known_blocks if known_blocks is not None else self.reader.read_blocks(page_id)
                )
            except RecordError:
                continue
            lookup = self.session.links.page_id(src)
            edit = bodies.plan_body_edit(bodies.page_blocks(current), record_items(record, lookup))
            if edit.request_count() == 0:
                continue  # the links are text Notion keeps (in code, HTML...)
            names = ", ".join(f"[[{t}]]" for t in now)
            out.append(
                f"{record.title or page_id!r}: an interrupted run left body links "
                f"to make page mentions: {names}"
            )
        return out

    def _fill_one(self, page_id: str, targets: list[str], *, check: bool) -> None:
        session = self.session
        cache = session.cache
        cached = cache.page(page_id)
        loaded = self.reader.last_seen(page_id)
        if cached is None:
            cache.drop_mentions_pending(page_id)  # gone: nothing to fill
            return
        if loaded is None:
            return  # changed in Notion since we wrote it: filled once the engine read it
        record, known_blocks = loaded
        layout = self.layouts.all().get(record.class_name)
        if layout is None:
            cache.drop_mentions_pending(page_id)  # no longer one of ours
            return
        src = source_path(record)
        if all(session.links.resolve(t, src) is None for t in targets):
            return  # nothing new: no request
        shown = session.listed.get(page_id)  # the page as we last wrote or listed it
        if check:
            shown = session.api.page(page_id, not_found=lambda: self.reader.gone(page_id))
            if page_version(shown) != cached.version.split("+")[0]:
                return  # edited in Notion: the engine reads and merges it first
        current = known_blocks if known_blocks is not None else self.reader.read_blocks(page_id)
        lookup = session.links.page_id(src)
        edit = bodies.plan_body_edit(bodies.page_blocks(current), record_items(record, lookup))
        if edit.request_count() == 0:
            self.note(page_id, record)  # the links are text Notion keeps (in code, HTML...)
            return
        new_blocks = self.blocks.edit_body(page_id, current, record)
        try:
            # the body layout in the fallback property, as it is with the mentions (the
            # one sent before described those links as text): one PATCH of that property
            # alone, which answers with the page's new version; else one GET for it
            update = self.writer.body_layout_update(shown, record) if shown else None
            if update is None:
                page = session.api.page(page_id, not_found=lambda: self.reader.gone(page_id))
                update = None if shown else self.writer.body_layout_update(page, record)
            if update is not None:
                page = self.writer.patch(page_id, {"properties": update})
        except (RecordError, StaleVersion):
            cache.drop_mentions_pending(page_id)  # gone or trashed meanwhile
            return
        session.written_blocks[page_id] = new_blocks
        self.writer.after_write(page, layout, record)
        self.note(page_id, record)

    def finish_batch(self) -> None:
        """At the end of a batch of writes: :meth:`fill` without the check (the pages
        were written moments ago). Never raises: a failure is reported and the pages stay
        journaled for the next batch or run."""
        try:
            self.fill(check=False)
        except SyncbridgeError as exc:
            self.session.problem(f"adding page mentions: {exc}; the next sync tries again")
