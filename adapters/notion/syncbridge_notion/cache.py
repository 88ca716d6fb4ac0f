"""The target's local cache and journal (one SQLite file, stdlib ``sqlite3``).

Notion offers no cheap "list everything" and no atomic multi-request writes, so the
adapter keeps, per target:

- ``pages``: every live page it knows (id, class, version, title), so an incremental run
  only queries what was edited since the last cursor and lists the rest from here;
- ``bodies``: each page's top-level blocks as last read or written (ids and keys), so a
  body edit needs no listing of the page first;
- ``creates``: the journal of creates. A row is written *before* the request that creates
  a page (with the page's create key, and the links it sends that name no page yet), and
  the page id is stored the moment Notion answers, before any other request: a create
  whose answer was lost is looked up by its key, never sent twice, and its links go to
  ``links_pending`` and ``mentions_pending`` as an answered create's do; a page whose
  deeper blocks were not all appended is finished before it is read;
- ``moves``: pages being moved to another class's database (the note's class changed),
  journaled with the properties to write there before the move is sent (:mod:`.moves`);
- ``layouts``: the database and data source of each class, and the property ids seen;
- ``links_pending``: pages written with links (File, MultiFile fields) that named no synced
  page yet, with the relation values sent: once such a page exists (later in the same
  run, or in a later run) the relation is filled in (:mod:`.relations`);
- ``mentions_pending``: pages whose body has wikilinks that named no synced page when it
  was written (sent as text): once such a page exists, the body gets its page mentions
  (:mod:`.mentions`);
- ``meta``: the listing cursor and the run counter.

Every write commits at once (the journal must survive a kill). Losing the file loses
nothing in Notion: the next run lists everything again (a full listing).

A dry run works on a copy in memory (:meth:`NotionCache.dry_copy`): it reads and writes
as a run does (its listing adopts databases, takes pages in, reads bodies), and writes
no byte to disk; the copy is dropped when the dry run ends, so the next run finds the
file exactly as the last real run left it.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncbridge.errors import FatalError

__all__ = ["CachedPage", "NotionCache", "PendingCreate"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    id TEXT PRIMARY KEY, class TEXT NOT NULL, source TEXT NOT NULL, version TEXT NOT NULL,
    modified TEXT NOT NULL, title TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pages_title ON pages (title);
CREATE TABLE IF NOT EXISTS bodies (
    page_id TEXT PRIMARY KEY, version TEXT NOT NULL, blocks TEXT, record TEXT NOT NULL,
    seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')));
CREATE TABLE IF NOT EXISTS creates (
    key TEXT PRIMARY KEY, class TEXT NOT NULL, source TEXT NOT NULL, page_id TEXT,
    deferred TEXT, fingerprint TEXT NOT NULL DEFAULT '', links TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')));
CREATE TABLE IF NOT EXISTS links_pending (
    page_id TEXT PRIMARY KEY, targets TEXT NOT NULL, sent TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mentions_pending (
    page_id TEXT PRIMARY KEY, targets TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS moves (
    page_id TEXT PRIMARY KEY, class TEXT NOT NULL, source TEXT NOT NULL,
    properties TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS layouts (
    class TEXT PRIMARY KEY, database_id TEXT NOT NULL, source TEXT NOT NULL,
    property_ids TEXT NOT NULL DEFAULT '{}');
"""

_GENERATIONS = itertools.count(1)
"""Every cache object's :attr:`NotionCache.generation` values come from here, so a value
never names two states, even of two cache objects (a dry run's copy, then the file)."""


@dataclass(frozen=True)
class CachedPage:
    id: str
    class_name: str
    source: str
    version: str
    modified: str
    title: str


@dataclass(frozen=True)
class PendingCreate:
    """A journaled create: its key, class and data source, the page id once known, and
    blocks still to append (``[[parent block id or page, after id, blocks], ...]``)."""

    key: str
    class_name: str
    source: str
    page_id: str | None
    deferred: list[Any]
    age_s: float = 0.0
    links: dict[str, Any] | None = None
    """What the create sent that named no page yet, for the second passes once the page
    is found: ``{"mentions": [target, ...], "relations": [[field, target], ...], "sent":
    {property: value}}`` (``None``: a row journaled before this was kept)."""


class NotionCache:
    """The cache file at ``path`` (created with its folder on first use), or a copy of it
    in memory (``conn``: :meth:`dry_copy`)."""

    def __init__(self, path: Path, *, conn: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.in_memory = conn is not None
        """A dry run's copy: nothing it holds reaches the file."""
        try:
            if conn is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode = WAL")
            self._conn = conn
            self._conn.executescript(_SCHEMA)
            columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(creates)")}
            if "links" not in columns:  # a cache made before the column was added
                conn.execute("ALTER TABLE creates ADD COLUMN links TEXT")
        except (OSError, sqlite3.Error) as exc:
            raise FatalError(f"{path}: cannot open the Notion cache: {exc}") from exc
        if not self.in_memory:
            path.chmod(0o600)
        self.generation = next(_GENERATIONS)
        """Moves on with every change of a page's title or path (:meth:`page_paths`)."""
        self._names: dict[str, tuple[str, str]] | None = None
        """page id → (folder of its path, title), loaded on first use, kept up to date."""
        self._notes: dict[str, tuple[str, str]] = {}
        """page id → (vault path of its note, the title it was given for), this run's
        (:meth:`set_note_paths`): in memory only, the vault's state says it each run."""

    @classmethod
    def dry_copy(cls, path: Path, of: NotionCache | None = None) -> NotionCache:
        """A copy in memory, for a dry run, of the cache ``of`` (open in this process) or
        else of the file at ``path`` (empty when there is none): the copy reads and
        writes as the file does, and writes no byte to disk.

        The file is never opened in place: SQLite would make its ``-wal`` and ``-shm``
        files beside it, and a read-write connection checkpoints a WAL a killed run left
        into the file when it closes. Its bytes (and those of a WAL left beside it) are
        copied to a temporary folder, opened there (SQLite takes in the WAL's committed
        transactions) and copied into memory; the folder is then removed. Raises
        :class:`~syncbridge.errors.FatalError` if the copy cannot be read (a damaged
        file, or one that changed while it was copied: a sync running at the same
        time)."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            if of is not None:
                of._conn.backup(memory)
            elif path.exists():
                _copy_file_into(path, memory)
        except (OSError, sqlite3.Error) as exc:
            memory.close()
            raise FatalError(
                f"{path}: cannot read the Notion cache for the dry run ({exc}); if a sync "
                "of this target was running meanwhile, run the command again"
            ) from exc
        return cls(path, conn=memory)

    def close(self) -> None:
        self._conn.close()

    # -- meta ------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- pages -----------------------------------------------------------------------------

    def pages(self) -> dict[str, CachedPage]:
        rows = self._conn.execute("SELECT id, class, source, version, modified, title FROM pages")
        return {r[0]: CachedPage(*r) for r in rows}

    def page(self, page_id: str) -> CachedPage | None:
        row = self._conn.execute(
            "SELECT id, class, source, version, modified, title FROM pages WHERE id=?", (page_id,)
        ).fetchone()
        return None if row is None else CachedPage(*row)

    def _name(self, page_id: str, *, title: str | None = None, path: str | None = None) -> None:
        """Keep the in-memory names up to date (a change moves :attr:`generation`)."""
        if self._names is None:
            return
        folder, known = self._names.get(page_id, ("", ""))
        if path is not None:
            folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        if title is not None:
            known = title
        if self._names.get(page_id) != (folder, known):
            self._names[page_id] = (folder, known)
            self.generation = next(_GENERATIONS)

    def put_page(self, page: CachedPage) -> None:
        self._name(page.id, title=page.title)
        self._conn.execute(
            "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)",
            (page.id, page.class_name, page.source, page.version, page.modified, page.title),
        )

    def put_pages(self, pages: list[CachedPage]) -> None:
        for page in pages:
            self._name(page.id, title=page.title)
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)",
                [(p.id, p.class_name, p.source, p.version, p.modified, p.title) for p in pages],
            )

    def drop_pages(self, ids: list[str]) -> None:
        if self._names is not None:
            for page_id in ids:
                if self._names.pop(page_id, None) is not None:
                    self.generation = next(_GENERATIONS)
        with self._conn:
            self._conn.execute("BEGIN")
            for page_id in ids:
                self._conn.execute("DELETE FROM pages WHERE id=?", (page_id,))
                self._conn.execute("DELETE FROM bodies WHERE page_id=?", (page_id,))
                self._conn.execute("DELETE FROM links_pending WHERE page_id=?", (page_id,))
                self._conn.execute("DELETE FROM mentions_pending WHERE page_id=?", (page_id,))
                self._notes.pop(page_id, None)

    def pages_titled(self, title: str) -> list[CachedPage]:
        rows = self._conn.execute(
            "SELECT id, class, source, version, modified, title FROM pages WHERE title=?",
            (title,),
        )
        return [CachedPage(*r) for r in rows]

    def page_paths(self) -> dict[str, str]:
        """Page id → the vault path of its note: the folder of its path as last read or
        written, and its title now (retitled in Notion, the note is renamed to it) with
        ``.md``; or the path :meth:`set_note_paths` recorded for it while its title is the
        one that path was given for. What body wikilinks resolve against. Read from the
        file once, then kept in memory (:attr:`generation` moves when it changes)."""
        if self._names is None:
            rows = self._conn.execute(
                "SELECT p.id, p.title, json_extract(b.record, '$.extra.path') FROM pages p"
                " LEFT JOIN bodies b ON b.page_id = p.id"
            ).fetchall()
            names = {}
            for page_id, title, path in rows:
                held = path if isinstance(path, str) else ""
                folder = held.rsplit("/", 1)[0] + "/" if "/" in held else ""
                names[str(page_id)] = (folder, str(title or ""))
            self._names = names
            self.generation = next(_GENERATIONS)
        notes = self._notes
        out = {}
        for page_id, (folder, title) in self._names.items():
            note = notes.get(page_id)
            if note is not None and note[1] == title:
                out[page_id] = note[0]
            elif title:
                out[page_id] = f"{folder}{title}.md"
        return out

    def page_titles(self) -> dict[str, str]:
        """Page id → its title now, of the pages :meth:`page_paths` knows (in memory)."""
        self.page_paths()
        assert self._names is not None
        return {k: title for k, (_, title) in self._names.items()}

    def note_paths(self) -> dict[str, tuple[str, str]]:
        """Page id → (vault path of its note, the title that path was given for), as
        :meth:`set_note_paths` was told this run."""
        return dict(self._notes)

    def set_note_paths(self, paths: dict[str, tuple[str, str]]) -> bool:
        """Page id → (vault path of its note, the page's title now), for this run (in
        memory: the vault's state, not this cache, knows where notes are, and another
        vault synced with this cache has its own); whether anything changed
        (:attr:`generation` then moves)."""
        changed = {k: v for k, v in paths.items() if self._notes.get(k) != v}
        if not changed:
            return False
        self._notes.update(changed)
        self.generation = next(_GENERATIONS)
        return True

    def body_names(self) -> dict[str, tuple[dict[str, str] | None, str]]:
        """Page id → (the note names of the pages its cached body links to, as they were
        when the body was written, ``None`` if none were stored; the vault path of its
        own note then, ``""`` if none), from the cached records."""
        rows = self._conn.execute(
            "SELECT page_id, json_extract(record, '$.names'), json_extract(record, '$.extra.path')"
            " FROM bodies"
        )
        out: dict[str, tuple[dict[str, str] | None, str]] = {}
        for page_id, names, path in rows:
            data = json.loads(names) if isinstance(names, str) else None
            out[str(page_id)] = (
                data if isinstance(data, dict) else None,
                path if isinstance(path, str) else "",
            )
        return out

    # -- bodies ----------------------------------------------------------------------------

    def body(self, page_id: str) -> tuple[str, list[Any] | None, dict[str, Any]] | None:
        """(version, top-level blocks or None, record as JSON) of a page as last seen."""
        row = self._conn.execute(
            "SELECT version, blocks, record FROM bodies WHERE page_id=?", (page_id,)
        ).fetchone()
        if row is None:
            return None
        blocks = json.loads(row[1]) if row[1] is not None else None
        return str(row[0]), blocks, json.loads(row[2])

    def put_body(
        self,
        page_id: str,
        version: str,
        blocks: list[Any] | None,
        record: dict[str, Any],
        *,
        written: bool = False,
    ) -> None:
        """Keep a page as read (``seen_at`` = now) or as we wrote it (``seen_at`` empty:
        we know what we wrote)."""
        extra = record.get("extra")
        path = extra.get("path") if isinstance(extra, dict) else None
        if isinstance(path, str) and path:
            self._name(page_id, path=path)
        self._conn.execute(
            "INSERT OR REPLACE INTO bodies (page_id, version, blocks, record, seen_at)"
            " VALUES (?, ?, ?, ?, CASE WHEN ? THEN '' ELSE strftime('%Y-%m-%dT%H:%M:%fZ') END)",
            (
                page_id,
                version,
                None if blocks is None else json.dumps(blocks, ensure_ascii=False),
                json.dumps(record, ensure_ascii=False),
                written,
            ),
        )

    def body_links_to(self, page_id: str, targets: Collection[str]) -> bool:
        """Whether the cached blocks of ``page_id`` name any page of ``targets`` (a
        mention or a link: the id, with or without dashes, appears in them)."""
        row = self._conn.execute("SELECT blocks FROM bodies WHERE page_id=?", (page_id,)).fetchone()
        text = str(row[0] or "").lower() if row is not None else ""
        return any(t.lower() in text or t.replace("-", "").lower() in text for t in targets)

    def forget_body(self, page_id: str) -> None:
        """Make the cached body of ``page_id`` stale: the next read takes the page from
        Notion again, the cached body still its prior (its span map made again, with the
        links as they resolve then)."""
        self._conn.execute(
            "UPDATE bodies SET version='', record=json_remove(record, '$.spans') WHERE page_id=?",
            (page_id,),
        )

    def seen_at(self, page_id: str) -> str | None:
        """When (UTC, this machine's clock) the page's body was last read or written."""
        row = self._conn.execute(
            "SELECT seen_at FROM bodies WHERE page_id=?", (page_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def touch_body(self, page_id: str) -> None:
        """The cached body was checked against Notion just now and is still right."""
        self._conn.execute(
            "UPDATE bodies SET seen_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE page_id=?",
            (page_id,),
        )

    def drop_body(self, page_id: str) -> None:
        self._conn.execute("DELETE FROM bodies WHERE page_id=?", (page_id,))

    # -- the create journal ----------------------------------------------------------------

    def begin_create(
        self,
        key: str,
        class_name: str,
        source: str,
        deferred: list[Any],
        fingerprint: str,
        links: dict[str, Any] | None = None,
    ) -> None:
        """Journal a create (and the blocks to append after it) before it is sent;
        ``fingerprint`` identifies the content, to recognise the same create again;
        ``links``: what it sends that names no page yet (:attr:`PendingCreate.links`)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO creates (key, class, source, deferred, fingerprint, links)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                class_name,
                source,
                json.dumps(deferred, ensure_ascii=False) if deferred else None,
                fingerprint,
                None if links is None else json.dumps(links, ensure_ascii=False, sort_keys=True),
            ),
        )

    def unresolved_creates(self, fingerprint: str) -> list[tuple[str, str, float, list[Any]]]:
        """(key, data source, age in seconds, blocks still to append) of journaled
        creates of this content whose page was never seen."""
        rows = self._conn.execute(
            "SELECT key, source, (julianday('now') - julianday(created_at)) * 86400.0,"
            " deferred FROM creates WHERE fingerprint=? AND page_id IS NULL",
            (fingerprint,),
        )
        return [(str(r[0]), str(r[1]), float(r[2]), json.loads(r[3] or "[]")) for r in rows]

    def created(self, key: str, page_id: str, deferred: list[Any]) -> None:
        """The page exists: store its id (and what is left to append) at once."""
        self._conn.execute(
            "UPDATE creates SET page_id=?, deferred=? WHERE key=?",
            (page_id, json.dumps(deferred, ensure_ascii=False) if deferred else None, key),
        )

    def finish_create(self, key: str) -> None:
        self._conn.execute("DELETE FROM creates WHERE key=?", (key,))

    def pending_creates(self) -> Iterator[PendingCreate]:
        rows = self._conn.execute(
            "SELECT key, class, source, page_id, deferred,"
            " (julianday('now') - julianday(created_at)) * 86400.0, links"
            " FROM creates ORDER BY created_at"
        ).fetchall()
        for key, cls, source, page_id, deferred, age, links in rows:
            yield PendingCreate(
                key,
                cls,
                source,
                page_id,
                json.loads(deferred or "[]"),
                float(age),
                json.loads(links) if links else None,
            )

    # -- links waiting for their page ------------------------------------------------------

    def put_links_pending(self, page_id: str, targets: list[Any], sent: dict[str, Any]) -> None:
        """``page_id`` links to ``targets`` (note names) that are no synced page yet;
        ``sent``: its relation and fallback property values as last written."""
        self._conn.execute(
            "INSERT OR REPLACE INTO links_pending VALUES (?, ?, ?)",
            (
                page_id,
                json.dumps(targets, ensure_ascii=False),
                json.dumps(sent, ensure_ascii=False, sort_keys=True),
            ),
        )

    def drop_links_pending(self, page_id: str) -> None:
        self._conn.execute("DELETE FROM links_pending WHERE page_id=?", (page_id,))

    def links_pending(
        self, page_id: str | None = None
    ) -> dict[str, tuple[list[Any], dict[str, Any]]]:
        """page id → (targets, properties sent) of every page waiting for linked pages
        (of ``page_id`` only, when given)."""
        if page_id is None:
            rows = self._conn.execute("SELECT page_id, targets, sent FROM links_pending")
        else:
            rows = self._conn.execute(
                "SELECT page_id, targets, sent FROM links_pending WHERE page_id=?", (page_id,)
            )
        return {str(r[0]): (json.loads(r[1]), json.loads(r[2])) for r in rows.fetchall()}

    def put_mentions_pending(self, page_id: str, targets: list[str]) -> None:
        """``page_id``'s body links to ``targets`` that named no synced page when it was
        written (they are text in Notion)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO mentions_pending VALUES (?, ?)",
            (page_id, json.dumps(targets, ensure_ascii=False)),
        )

    def drop_mentions_pending(self, page_id: str) -> None:
        self._conn.execute("DELETE FROM mentions_pending WHERE page_id=?", (page_id,))

    def mentions_pending(self) -> dict[str, list[str]]:
        """page id → the body link targets that named no synced page when it was written."""
        rows = self._conn.execute("SELECT page_id, targets FROM mentions_pending").fetchall()
        return {str(r[0]): list(json.loads(r[1])) for r in rows}

    # -- moves to another class ------------------------------------------------------------

    def begin_move(
        self, page_id: str, class_name: str, source: str, properties: dict[str, Any]
    ) -> None:
        """Journal a move of ``page_id`` into class ``class_name`` (data source ``source``)
        with the properties to write there, before the move is sent."""
        self._conn.execute(
            "INSERT OR REPLACE INTO moves VALUES (?, ?, ?, ?)",
            (page_id, class_name, source, json.dumps(properties, ensure_ascii=False)),
        )

    def finish_move(self, page_id: str) -> None:
        self._conn.execute("DELETE FROM moves WHERE page_id=?", (page_id,))

    def pending_moves(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(page id, class, data source, properties) of every journaled move."""
        rows = self._conn.execute("SELECT page_id, class, source, properties FROM moves")
        return [(str(r[0]), str(r[1]), str(r[2]), json.loads(r[3])) for r in rows.fetchall()]

    # -- layouts ---------------------------------------------------------------------------

    def layouts(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        rows = self._conn.execute("SELECT class, database_id, source, property_ids FROM layouts")
        return {r[0]: (r[1], r[2], json.loads(r[3])) for r in rows}

    def put_layout(
        self, class_name: str, database_id: str, source: str, property_ids: dict[str, Any]
    ) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO layouts VALUES (?, ?, ?, ?)",
            (class_name, database_id, source, json.dumps(property_ids, sort_keys=True)),
        )

    def drop_layout(self, class_name: str) -> None:
        self._conn.execute("DELETE FROM layouts WHERE class=?", (class_name,))


def _copy_file_into(path: Path, memory: sqlite3.Connection) -> None:
    """The cache file at ``path`` (with the ``-wal`` or ``-journal`` file left beside it,
    if any) copied into the connection ``memory``; the file and its neighbours are only
    read (see :meth:`NotionCache.dry_copy`). A symlinked file is followed: SQLite keeps
    the ``-wal`` beside the file the link points to."""
    path = path.resolve()
    with tempfile.TemporaryDirectory(prefix="syncbridge-dry-run-cache-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-journal"):
            beside = path.with_name(path.name + suffix)
            if beside.exists():
                shutil.copyfile(beside, copy.with_name(copy.name + suffix))
        source = sqlite3.connect(copy)
        try:
            source.backup(memory)
        finally:
            source.close()
