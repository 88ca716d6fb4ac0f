"""Which synced page a body wikilink names, and which wikilink a page mention stands for.

The converter is pure: it takes a ``page_id(target)`` lookup for writing and a
``link_target(page_id)`` lookup for reading. :class:`BodyLinks` makes both from what
this target has recorded: every page in the cache with the vault path of its note (the
path property as last read or written; the title and ``.md`` when none is known).

- **Writing** (:meth:`BodyLinks.page_id`): a wikilink's target resolves by the vault's own
  rules (:class:`syncbridge.wikilinks.LinkResolver`: the exact path, then relative to the
  note's folder, then the file name or a path suffix, the note's own folder first) among
  the synced notes. A target naming no synced note stays text.
- **Reading** (:meth:`BodyLinks.link_target`): a mention of a page is written as the body
  last synced spelled its link to that page, while that spelling still resolves to it
  (so ``[[note]]``, ``[[Folder/Note]]`` come back as written, and a page retitled in
  Notion keeps the links in unchanged text as they are: the engine's relink rewrites
  them when it renames the note); else as the note's name, or its path without ``.md``
  when the name alone would resolve to another note. A page that is no synced note gets
  ``None``: the converter writes ``[@title](page URL)``, which reads back as the mention.
  A mention of a page whose note is named otherwise than its title (``A B.md`` for the
  title ``A/B``, ``Foo 2.md`` for a second ``Foo``: ``syncbridge migrate --from``) keeps
  the title it shows as the alias, ``[[Foo 2|Foo]]``, and such a link is that mention
  again when written (:meth:`BodyLinks.mention_text`).

The index is rebuilt from the cache whenever its pages changed since the last lookup
(:attr:`.NotionCache.generation`): a page created earlier in the run resolves, a page
retitled resolves by its new name only. Reads the cache; sends nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from syncbridge.wikilinks import LinkResolver, find_links
from syncbridge_notion.cache import NotionCache

__all__ = [
    "ATTACHMENT_EXTENSIONS",
    "BodyLinks",
    "PageIds",
    "Spellings",
    "is_note_target",
    "linked_pages",
]


ATTACHMENT_EXTENSIONS = frozenset(
    {
        "png",
        "jpg",
        "jpeg",
        "gif",
        "bmp",
        "svg",
        "webp",
        "avif",
        "heic",
        "tif",
        "tiff",
        "ico",
        "pdf",
        "mp3",
        "wav",
        "m4a",
        "ogg",
        "oga",
        "flac",
        "3gp",
        "webm",
        "mp4",
        "mov",
        "mkv",
        "ogv",
        "avi",
        "canvas",
        "excalidraw",
        "base",
        "zip",
        "csv",
        "xlsx",
        "docx",
        "pptx",
    }
)
"""File types a wikilink names as an attachment (Obsidian's, and a few common ones): such a
link never waits for a page."""


def is_note_target(target: str) -> bool:
    """Whether a wikilink target can name a note: not ``[[#Heading]]`` of the note
    itself, nor an attachment (``image.png``; a note named ``v1.2`` or ``2025.07.12`` can
    be one)."""
    name = target.strip().rsplit("/", 1)[-1]
    if not name:
        return False
    extension = posixpath.splitext(name)[1].lower()
    return extension[1:] not in ATTACHMENT_EXTENSIONS


def _normal(page_id: str) -> str:
    compact = page_id.replace("-", "").lower()
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"


_NOTION_PAGE_URL = re.compile(
    r"https?://(?:www\.)?notion\.so/(?:[^/?#]*/)?(?:[^/?#]*-)?([0-9a-f]{32})(?:[?#].*)?\Z", re.I
)


def linked_pages(blocks: object) -> set[str]:
    """The ids (dashed, lower case) of the pages ``blocks`` (any shape: request or
    response, nested) mention or link to by URL."""
    found: set[str] = set()
    stack = [blocks]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            page = (
                (item.get("mention") or {}).get("page") if item.get("type") == "mention" else None
            )
            if isinstance(page, dict) and isinstance(page.get("id"), str):
                found.add(_normal(page["id"]))
            link = item.get("link")
            url = link.get("url") if isinstance(link, dict) else None
            matched = _NOTION_PAGE_URL.match(url) if isinstance(url, str) else None
            if matched:
                found.add(_normal(matched.group(1)))
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
    return found


class BodyLinks:
    """Body wikilink resolution against the synced pages (see the module docstring)."""

    def __init__(self, cache: Callable[[], NotionCache]) -> None:
        """``cache``: the target's cache, opened on first use."""
        self._cache = cache
        self._generation = -1
        self._paths: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self._titles: dict[str, str] = {}
        self._resolver = LinkResolver([])

    def _index(self) -> None:
        cache = self._cache()
        if self._generation == cache.generation:
            return
        self._generation = cache.generation
        self._paths = {_normal(k): v for k, v in cache.page_paths().items()}
        self._titles = {_normal(k): v for k, v in cache.page_titles().items()}
        ids: dict[str, str] = {}
        for page_id, path in sorted(self._paths.items()):
            ids.setdefault(path, page_id)  # two pages of one path: the first, always
        self._ids = ids
        self._resolver = LinkResolver(ids)

    def _resolve(self, target: str, source_path: str | None) -> str | None:
        path = self._resolver.resolve(target, source_path)
        return self._ids.get(path) if path is not None else None

    def resolve(self, target: str, source_path: str | None) -> str | None:
        """The page id of the synced note ``target`` names from the note at
        ``source_path`` (vault-relative), or ``None``."""
        if not is_note_target(target):
            return None
        self._index()
        return self._resolve(target, source_path)

    def page_id(self, source_path: str | None) -> PageIds:
        """The converter's ``page_id`` lookup for the body of the note at
        ``source_path``."""
        return PageIds(self, source_path)

    def names_of(self, page_ids: Iterable[str]) -> dict[str, str]:
        """Page id → the vault path of its note as body links name it now (``""`` for a
        page that is no synced note)."""
        self._index()
        return {_normal(p): self._paths.get(_normal(p), "") for p in page_ids}

    def mention_text(self, page_id: str) -> str | None:
        """The title of page ``page_id`` when its note is named otherwise (the alias a
        wikilink standing for its mention carries: ``[[Foo 2|Foo]]``), else ``None``."""
        key = _normal(page_id)
        self._index()
        path, title = self._paths.get(key), self._titles.get(key)
        if path is None or not title:
            return None
        name = path.rsplit("/", 1)[-1]
        stem = name[:-3] if name.lower().endswith(".md") else name
        return None if stem == title else title

    def link_target(self, source_path: str | None, prior: str | None = None) -> Spellings:
        """The converter's ``link_target`` lookup for the body of the note at
        ``source_path``; ``prior``: that body as last synced (its spellings win)."""
        spellings = Spellings(self, source_path)
        for link in find_links(prior or "", skip_comments=True):
            target = link.target
            found = self.resolve(target, source_path) if target.strip() else None
            if found is None:
                continue
            if link.alias is not None:
                spellings.aliased.setdefault((found, link.alias), target)
            elif link.heading is None and link.block is None:
                spellings.plain.setdefault(found, target)
            spellings.any.setdefault(found, target)
        return spellings

    def name_of(self, page_id: str, source_path: str | None) -> str | None:
        """The shortest wikilink target that names page ``page_id`` from
        ``source_path``: the note's name, else its path without ``.md``; ``None`` for a
        page that is no synced note."""
        key = _normal(page_id)
        self._index()
        path = self._paths.get(key)
        if path is None:
            return None
        stem = path[:-3] if path.lower().endswith(".md") else path
        name = stem.rsplit("/", 1)[-1]
        for candidate in (name, stem):
            if self._resolve(candidate, source_path) == key:
                return candidate
        return None


class PageIds:
    """The converter's ``page_id`` lookup for one note's body (:meth:`BodyLinks.page_id`):
    called with a wikilink target, the page id it names; :meth:`mention_text`, the alias
    that makes a link to a page its mention."""

    def __init__(self, links: BodyLinks, source_path: str | None) -> None:
        self.links = links
        self.source_path = source_path

    def __call__(self, target: str) -> str | None:
        return self.links.resolve(target, self.source_path)

    def mention_text(self, page_id: str) -> str | None:
        return self.links.mention_text(page_id)


class Spellings:
    """How a body spelled its links to each page (the converter's ``link_target``):
    called with a page id, the target of a plain ``[[...]]`` link to it (for a mention);
    :meth:`for_text`, the target of a link to it showing a text (an alias)."""

    def __init__(self, links: BodyLinks, source_path: str | None) -> None:
        self.links = links
        self.source_path = source_path
        self.plain: dict[str, str] = {}
        self.aliased: dict[tuple[str, str], str] = {}
        self.any: dict[str, str] = {}

    def __call__(self, page_id: str) -> str | None:
        key = _normal(page_id)
        spelled = self.plain.get(key) or self.any.get(key)
        return spelled if spelled is not None else self.links.name_of(key, self.source_path)

    def mention_alias(self, page_id: str, title: str) -> str | None:
        """The alias of the wikilink for a mention of ``page_id`` showing ``title``: none
        when the body spelled the link plainly (``[[Note]]``) or the note is named by its
        title; else the title (``[[Foo 2|Foo]]``)."""
        key = _normal(page_id)
        if key in self.plain:
            return None
        if key in self.any:
            return title if (key, title) in self.aliased else None
        return title if self.links.mention_text(key) == title else None

    def for_text(self, page_id: str, text: str) -> str | None:
        """The target of a link to ``page_id`` that shows ``text``: as the body spelled
        the link with that alias, else as for a mention."""
        spelled = self.aliased.get((_normal(page_id), text))
        return spelled if spelled is not None else self(page_id)
