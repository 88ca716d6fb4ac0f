"""What every part of the Notion adapter shares during one run: the client, the cache,
and what this run has already read or written.

The client and the cache open on first use (the token is read then), so constructing an
adapter sends nothing. After :meth:`NotionSession.close` both refuse to be used. During a
dry run (:meth:`NotionSession.dry_run_scope`) the cache is a copy in memory
(:meth:`.NotionCache.dry_copy`), dropped at its end: a dry run writes no file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import random
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from syncbridge.adapter import Record, RecordRef
from syncbridge.errors import FatalError
from syncbridge_notion.body_links import BodyLinks
from syncbridge_notion.cache import NotionCache
from syncbridge_notion.client import NotionAPI, NotionNotShared, read_token
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.pacing import Clock
from syncbridge_notion.properties import PropertyContext, join_rich_text

__all__ = ["JSON", "NotionSession", "page_version", "source_path", "stamp", "title_of"]

log = logging.getLogger("syncbridge_notion.adapter")

JSON = dict[str, Any]


def stamp(text: str) -> dt.datetime:
    """A Notion timestamp (``...Z``) as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def page_version(page: Mapping[str, Any]) -> str:
    """``"<last_edited_time>/<hash of the properties>"``: Notion rounds
    ``last_edited_time`` to the minute, the hash tells two edits in one minute apart.
    Empty properties are left out of the hash: a property added to the database (a
    relation once a link decides its target) shows empty on every page, and changes none
    of their versions; a value set or cleared does."""
    shown = page.get("properties") or {}
    kept = {k: v for k, v in shown.items() if not _empty_property(v)}
    props = json.dumps(kept, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(props.encode()).hexdigest()[:16]
    return f"{page.get('last_edited_time', '')}/{digest}"


def _empty_property(value: Any) -> bool:
    """A property value that holds nothing (``[]``, ``null``, ``false``, ``""``)."""
    if not isinstance(value, Mapping):
        return False
    held = value.get(str(value.get("type")))
    return held is None or held is False or held == [] or held == ""


def source_path(record: Record) -> str | None:
    """The vault path of ``record``'s note, when known (body wikilinks resolve from it)."""
    path = record.extra.get("path") if record.extra else None
    return path if isinstance(path, str) and path else None


def title_of(page: Mapping[str, Any]) -> str:
    """The plain text of a page's title property (``""`` if it has none)."""
    for prop in (page.get("properties") or {}).values():
        if isinstance(prop, Mapping) and prop.get("type") == "title":
            return join_rich_text(prop.get("title") or [])
    return ""


class NotionSession:
    """The shared connection and run memory of one :class:`.NotionAdapter`."""

    def __init__(
        self,
        config: NotionConfig,
        base_dir: Path,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.base_dir = base_dir
        self._clock = clock
        self._rng = rng
        self._stop: threading.Event | None = None
        self._api: NotionAPI | None = None
        self._cache: NotionCache | None = None
        self._dry_cache: NotionCache | None = None
        self.closed = False
        self.listed: dict[str, JSON] = {}
        """Page id → page object from this run's query."""
        self.recent: dict[str, tuple[Record, list[JSON] | None]] = {}
        """Page id → (record, top-level blocks or ``None`` when not read), as last read
        or written."""
        self.written_blocks: dict[str, list[JSON] | None] = {}
        self.renders: dict[str, tuple[str, list[Any], Any, dict[str, Any] | None]] = {}
        """Page id → (version, top-level blocks, prior body, body layout Notion carried) of the
        body read this run: what :meth:`.PageReader.rerender` writes it from again when
        the vault paths of the pages it links to become known."""
        self.refs: dict[str, RecordRef] = {}
        self.problems: list[str] = []
        """What the adapter kept or could not do, by note (also logged as warnings)."""
        self.dry_run = False
        """A dry run is going on (:meth:`dry_run_scope`): finish nothing, write no file."""
        self.links = BodyLinks(lambda: self.cache)
        """Body wikilinks ⇄ page mentions: which synced page a link names, and back."""

    @property
    def api(self) -> NotionAPI:
        """The paced client (opened, and the token read, on first use)."""
        if self.closed:
            raise FatalError("the Notion adapter is closed")
        if self._api is None:
            self._api = NotionAPI(
                self.config,
                read_token(self.config),
                clock=self._clock,
                rng=self._rng,
                stop=self._stop,
            )
        return self._api

    @property
    def cache(self) -> NotionCache:
        """The cache and create journal (opened, its file made, on first use); in a dry
        run, a copy in memory of it (made on first use, no file made or written)."""
        if self.closed:
            raise FatalError("the Notion adapter is closed")
        if self.dry_run:
            if self._dry_cache is None:
                self._dry_cache = NotionCache.dry_copy(self.cache_path, self._cache)
            return self._dry_cache
        if self._cache is None:
            self._cache = NotionCache(self.cache_path)
        return self._cache

    def stop_waiting_on(self, stop: threading.Event) -> None:
        """The client's waits end when ``stop`` is set (:meth:`.NotionAdapter.stop_waiting_on`)."""
        self._stop = stop
        if self._api is not None:
            self._api.pacer.limiter.stop = stop

    def has_cache(self) -> bool:
        """Whether the cache is open or its file exists (a read; makes no file)."""
        return self._cache is not None or self.cache_path.exists()

    @contextlib.contextmanager
    def dry_run_scope(self) -> Iterator[bool]:
        """Within: a dry run (:attr:`dry_run`); the cache is a copy in memory, dropped
        on the way out, so what the dry run's listing and reads put in it never reaches
        the file and the next run sees the file as the last real run left it. Yields
        whether this is the outermost scope (nested ones share the copy)."""
        if self.dry_run:
            yield False
            return
        self.dry_run = True
        try:
            yield True
        finally:
            self.dry_run = False
            copy, self._dry_cache = self._dry_cache, None
            if copy is not None:
                copy.close()

    @property
    def cache_path(self) -> Path:
        """Where the cache lives (``cache_path``, default beside the state)."""
        config = self.config
        path = config.cache_path or Path(".syncbridge") / f"notion-{config.parent_page_id}.db"
        path = path.expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def ctx(self) -> PropertyContext:
        """How property values are encoded and decoded now (zone, link lookups in the
        cache)."""
        cache = self.cache

        def resolve(target: str, source: str) -> str | None:
            name = target.rsplit("/", 1)[-1]
            hits = [p for p in cache.pages_titled(name) if p.source == source]
            return hits[0].id if len(hits) == 1 else None

        def title_for(page_id: str) -> str | None:
            found = cache.page(page_id)
            return found.title if found else None

        return PropertyContext(self.config.timezone, resolve, title_for)

    def not_shared(self) -> FatalError:
        """The error for a parent page Notion answers 404 for, saying what to do."""
        return NotionNotShared(
            f"Notion answers 404 for the parent page {self.config.parent_page_id}: "
            "open it in Notion, click ••• → Connections → add your integration (the page "
            "must be shared with it), then run the sync again"
        )

    def check_parent(self) -> None:
        """One GET of the parent page: :class:`.NotionNotShared` if Notion cannot see it."""
        self.api.page(self.config.parent_page_id, not_found=self.not_shared)

    def problem(self, message: str) -> None:
        """Report something kept or skipped (a warning on stderr through logging)."""
        self.problems.append(message)
        log.warning("notion: %s", message)

    def close(self) -> None:
        """Close the HTTP client and the cache (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self._api is not None:
            self._api.close()
        if self._cache is not None:
            self._cache.close()
        if self._dry_cache is not None:
            self._dry_cache.close()
