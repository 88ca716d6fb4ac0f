"""Listing pages, and the pull cursor.

An incremental run queries each data source for pages edited since the last cursor
(less a minute: Notion rounds ``last_edited_time`` to it) and lists the rest from the
cache; every ``full_listing_every``-th run lists all pages, which finds pages trashed or
vanished in Notion. The cursor and the run counter live in the cache's ``meta`` table.

Within :meth:`PageListing.reused` (``Adapter.reuse_listing``), only the first listing
queries; the later ones list the pages the cache holds since, which is what that listing
found with the adapter's own writes since (a query again would find the same while
nobody else edits the pages). A listing made in a dry run is kept only until it ends:
the cache it filled is a copy, dropped then.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Mapping

from syncbridge.adapter import RecordRef
from syncbridge_notion import body as bodies
from syncbridge_notion.cache import CachedPage
from syncbridge_notion.layouts import ClassLayouts
from syncbridge_notion.reading import PageReader, prior_of
from syncbridge_notion.session import JSON, NotionSession, page_version, stamp, title_of

__all__ = ["PageListing"]


class PageListing:
    """Lists the live pages of our databases (see the module docstring)."""

    def __init__(self, session: NotionSession, layouts: ClassLayouts, reader: PageReader) -> None:
        self.session = session
        self.layouts = layouts
        self.reader = reader
        self._reusing = 0
        """How many :meth:`reused` blocks are open."""
        self._kept: bool | None = None
        """A listing is kept for reuse: whether it was made in a dry run; ``None``: none."""

    @contextlib.contextmanager
    def reused(self) -> Iterator[None]:
        """Within: :meth:`refs` queries Notion once; later calls list what the cache
        holds since. Leaving the outermost block drops the kept listing."""
        self._reusing += 1
        try:
            yield
        finally:
            self._reusing -= 1
            if not self._reusing:
                self._kept = None

    def dry_run_ended(self) -> None:
        """Drop a listing made in the dry run that ended: the cache copy it filled is gone."""
        if self._kept:
            self._kept = None

    def refs(self) -> Iterator[RecordRef]:
        """Every live page of our databases; moves the cursor and the run counter (not
        in a dry run). Within :meth:`reused`, after the first: the pages of the cache,
        no request."""
        if self._kept is not None and (self.session.dry_run or not self._kept):
            for entry in self.session.cache.pages().values():
                yield _ref(entry)
            return
        yield from self._query()

    def _query(self) -> Iterator[RecordRef]:
        """:meth:`refs` by a query of each data source."""
        session = self.session
        cache = session.cache
        layouts = self.layouts.all()
        runs = int(cache.get("runs") or 0) + 1
        cursor = cache.get("cursor")
        full = cursor is None or runs % session.config.full_listing_every == 0
        self.layouts.listing_read.clear()
        if full:
            self.layouts.discover()
            layouts = self.layouts.all()
        by_source = {layout.data_source_id: layout for layout in layouts.values()}
        known = cache.pages()
        newest = cursor
        updates: list[CachedPage] = []
        seen: set[str] = set()
        session.listed.clear()
        for source, layout in by_source.items():
            body: JSON = {}
            if not full and cursor is not None:
                since = stamp(cursor) - dt.timedelta(minutes=1)
                body["filter"] = {
                    "timestamp": "last_edited_time",
                    "last_edited_time": {"on_or_after": since.isoformat().replace("+00:00", "Z")},
                }
            for page in session.api.query(source, body, f"listing {layout.class_name!r}"):
                if page.get("in_trash") or page.get("archived"):
                    continue
                page_id = str(page["id"])
                seen.add(page_id)
                session.listed[page_id] = page
                edited = str(page.get("last_edited_time", ""))
                if newest is None or edited > newest:
                    newest = edited
                entry = CachedPage(
                    page_id,
                    layout.class_name,
                    source,
                    page_version(page),
                    edited,
                    title_of(page),
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
                    session.recent.pop(page_id, None)
        if not session.dry_run:  # a dry run is no run: the schedule stays as it was
            cache.set("runs", str(runs))
            if newest is not None:
                cache.set("cursor", newest)
        if self._reusing:
            self._kept = session.dry_run
        for entry in known.values():
            yield _ref(entry)

    def _recheck_bodies(
        self, known: Mapping[str, CachedPage], listed: set[str]
    ) -> list[CachedPage]:
        """Pages whose body may have changed although their version did not: Notion's
        ``last_edited_time`` is rounded to the minute, so a block edit made later in the
        minute we last read the body leaves the version as it was (pages we last wrote
        ourselves are not re-checked: that costs a listing per page after every sync). Once that
        minute is over (plus a minute's margin for clock skew), such a page's blocks are
        read once more; a changed body gets a new version, so the engine reads and merges
        it. A run within that window leaves the check to a later run."""
        cache = self.session.cache
        out = []
        now = dt.datetime.now(dt.UTC)
        margin = dt.timedelta(minutes=2)
        for page_id in listed:
            entry = known.get(page_id)
            seen = cache.seen_at(page_id)
            if entry is None or not seen:
                continue  # never read, or last seen as we wrote it
            found = cache.body(page_id)
            if found is None or found[0] != entry.version:
                continue  # the version moved anyway: the engine reads it
            edited = stamp(entry.modified).replace(second=0, microsecond=0)
            if stamp(seen) >= edited + margin:
                continue  # our last look came after that minute: it saw every edit in it
            if now < edited + margin:
                continue  # too early to tell; a later run looks
            blocks = self.reader.read_blocks(page_id)
            body = bodies.body_from_blocks(bodies.page_blocks(blocks), prior_of(found[2]))
            if body == found[2].get("body"):
                cache.touch_body(page_id)
                continue
            cache.drop_body(page_id)
            self.session.recent.pop(page_id, None)
            base = entry.version.split("+", 1)[0]
            version = f"{base}+b{uuid.uuid4().hex[:8]}"
            out.append(
                CachedPage(
                    page_id, entry.class_name, entry.source, version, entry.modified, entry.title
                )
            )
        return out


def _ref(entry: CachedPage) -> RecordRef:
    return RecordRef(entry.id, entry.version, stamp(entry.modified), entry.class_name)
