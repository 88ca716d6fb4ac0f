"""A note whose class changed: its page moves to the other class's database.

The page is **moved** (``POST /v1/pages/{id}/move`` into the new class's data source), not
re-created: it keeps its id, its blocks (child pages, child databases, synced blocks and
everything else we do not own), its comments, and the links and relations other pages
have to it, and it is never in two databases at once, so no duplicate page can be left
behind. (Creating a new page and trashing the old one would lose what we cannot copy:
trashing a page trashes its child pages and databases, and comments and page ids cannot
be carried over; and between the two requests there would be two live pages.) See
``docs/notion.md``, "A note that changes class".

Notion keeps, on a move, only the values whose property exists in the new database, so
the move is followed by one ``PATCH`` that writes every property of the new class. Both
are journaled first (the cache's ``moves`` table, with the properties to write): a run
that stops between the two finishes the move at the next run's start, before anything is
listed.
"""

from __future__ import annotations

from syncbridge.adapter import Record
from syncbridge.errors import RecordError
from syncbridge_notion.cache import CachedPage
from syncbridge_notion.page_writes import PageWriter
from syncbridge_notion.schema import ClassLayout
from syncbridge_notion.session import JSON, NotionSession, page_version, title_of

__all__ = ["ClassMoves"]


class ClassMoves:
    """Moves pages between class databases (see the module docstring)."""

    def __init__(self, session: NotionSession, writer: PageWriter) -> None:
        self.session = session
        self.writer = writer

    def move(self, page_id: str, record: Record, layout: ClassLayout) -> tuple[JSON, JSON]:
        """Move the page into ``layout``'s database and write all of ``record``'s
        properties there (two requests, journaled before the first); (the page as Notion
        answered, the properties written)."""
        props = self.writer.with_kept_text(self.writer.properties(record, layout), page_id, layout)
        cache = self.session.cache
        cache.begin_move(page_id, layout.class_name, layout.data_source_id, props)
        label = record.title or page_id
        self.session.api.move_page(
            page_id, layout.data_source_id, f"moving {label!r} to class {layout.class_name!r}"
        )
        page = self.writer.patch(page_id, {"properties": props})
        cache.finish_move(page_id)
        return page, props

    def unfinished(self) -> list[str]:
        """What :meth:`finish_pending` would do now, one line per journaled move, found
        by reading only (one ``GET`` per moved page); writes nothing, the journal stays."""
        session = self.session
        out: list[str] = []
        for page_id, class_name, source, _props in session.cache.pending_moves():
            cached = session.cache.page(page_id)
            label = repr(cached.title) if cached and cached.title else f"page {page_id}"
            try:
                page = session.api.page(page_id)
            except RecordError:
                continue  # gone: nothing to finish (the real run forgets the entry)
            parent = page.get("parent") or {}
            if parent.get("data_source_id") == source and not page.get("in_trash"):
                out.append(
                    f"{label}: an interrupted run moved its page to class {class_name!r}; "
                    "its properties there would be written (one PATCH)"
                )
            else:
                out.append(
                    f"{label}: an interrupted move to class {class_name!r} never landed; "
                    "the engine would send the update again"
                )
        return out

    def finish_pending(self) -> None:
        """Finish the moves an interrupted run left: a page that reached its new database
        gets the journaled properties; one that did not (the move never landed), or
        that is gone, is left to the engine, which sends the update again."""
        session = self.session
        cache = session.cache
        for page_id, class_name, source, props in cache.pending_moves():
            try:
                page = session.api.page(page_id)
            except RecordError:
                cache.finish_move(page_id)  # gone: nothing to finish
                continue
            parent = page.get("parent") or {}
            if parent.get("data_source_id") == source and not page.get("in_trash"):
                page = self.writer.patch(page_id, {"properties": props})
                cache.drop_body(page_id)  # read again, in its new class
                cache.put_page(
                    CachedPage(
                        page_id,
                        class_name,
                        source,
                        page_version(page),
                        str(page.get("last_edited_time", "")),
                        title_of(page),
                    )
                )
            cache.finish_move(page_id)
