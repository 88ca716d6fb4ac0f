"""Note bodies ⇄ a page's blocks, and the minimal edit from one body to the next.

The Markdown ⇄ blocks conversion itself is the converter's (imported below, the one
place to swap it). This module adds what a sync needs around it:

- **Blocks we do not own stay in Notion.** A top-level block the converter cannot
  represent (``child_page``, ``child_database``, ``synced_block``, ``unsupported``,
  columns, embeds, Notion-hosted files, or any block holding one of those) becomes a
  placeholder line in the note, ``%%notion:<type>:<id>%%`` (an Obsidian comment; the
  converter's :data:`~.markdown.PLACEHOLDER_RE`), which maps back to it. The stand-in's
  older ``%%notion-block <id> <type>%%`` is still read. An edit never deletes, moves or
  rewrites such a block; removing its placeholder in the vault is reported, and the
  block is kept.
- **Minimal updates.** :func:`plan_body_edit` diffs the page's current top-level blocks
  against the new body: unchanged blocks are kept, a changed block of the same type is
  updated in place (its id and comments kept), new blocks are inserted with
  ``position``, and only blocks that are really gone are deleted. Never delete-all and
  re-append.
- **Unchanged blocks keep their Markdown.** :func:`body_from_blocks` takes the body last
  synced and its span map (:class:`Prior`): a run of blocks that did not change in Notion
  comes back as the very bytes it came from; only changed blocks are rendered anew.

Pure functions, no I/O.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbridge_notion.markdown import (
    LinkTargetLookup,
    MarkdownStyle,
    PageIdLookup,
    blocks_to_markdown,
    comparable,
    convert_markdown,
    infer_style,
    markdown_to_blocks,
    split_for_requests,
)
from syncbridge_notion.markdown.to_markdown import _Writer

__all__ = [
    "OWNED_TYPES",
    "BodyEdit",
    "PageBlock",
    "Prior",
    "block_key",
    "blocks_to_markdown",
    "body_from_blocks",
    "body_to_items",
    "markdown_to_blocks",
    "placeholder",
    "plan_body_edit",
    "split_for_requests",
]

OWNED_TYPES = frozenset(
    {name[2:] for name in vars(_Writer) if name.startswith("w_")} | {"table_row"}
)
"""Block types the converter turns back into Markdown (those its writer has a method for,
and a table's rows, written by the table; an ``image`` only when external)."""

NEVER_DELETE = frozenset({"child_page", "child_database"})
"""Deleting these trashes a whole page or database in Notion."""

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PLACEHOLDER_RE = re.compile(
    rf"^(?:%%notion:[a-z_0-9]+:(?P<id>{_UUID})(?: [^\n]*)?%%"
    rf"|%%notion-block (?P<old>{_UUID})(?: [^%\n]*)?%%)$",
    re.MULTILINE,
)
"""A placeholder line: the converter's ``%%notion:<type>:<id>[ title]%%``, or the
``%%notion-block <id> <type>%%`` notes synced before the converter may still hold."""
_SEPARATOR = "\n\n"


def placeholder(block_id: str, block_type: str, title: Any = None) -> str:
    """The line a block we do not own leaves in the note: the converter's format,
    ``%%notion:<type>:<id>[ title]%%`` (a child page's or database's title, for the
    reader; it is not read back)."""
    suffix = f" {title}" if isinstance(title, str) and title and "%%" not in title else ""
    return f"%%notion:{block_type}:{block_id}{suffix.replace(chr(10), ' ')}%%"


def _placeholder_of(item: PageBlock) -> str:
    content = item.block.get(item.type)
    title = content.get("title") if isinstance(content, Mapping) else None
    return placeholder(item.id, item.type, title)


@dataclass(frozen=True)
class PageBlock:
    """One top-level block of a page as read: its id, type, whether we own it (the
    converter represents it and everything under it), its comparison key, and the
    response-shaped block with its children nested under its type object."""

    id: str
    type: str
    owned: bool
    key: str
    block: Mapping[str, Any]


def owned(block: Mapping[str, Any]) -> bool:
    """Whether ``block`` and every block under it are of a type the converter owns."""
    kind = block.get("type")
    if kind not in OWNED_TYPES:
        return False
    content = block.get(kind) or {}
    if kind == "image" and content.get("type", "external") != "external":
        return False  # a Notion-hosted file: its URL expires
    children = content.get("children") or block.get("children") or []
    return all(owned(child) for child in children)


def block_key(block: Mapping[str, Any]) -> str:
    """A comparison key that is equal for a request block and the response block Notion
    makes of it: the type, text with its annotations and links, the type's own settings,
    and the children's keys. For a block the converter owns, what Markdown can hold of it
    (:func:`~.markdown.comparable`), so a block only Notion styled (a color) is unchanged."""
    if owned(block):
        return "md:" + repr(comparable(dict(block)))
    kind = str(block.get("type", ""))
    content = block.get(kind) or {}
    parts: dict[str, Any] = {"t": kind}
    for name, value in sorted(content.items()):
        if name == "children":
            continue
        if name in ("rich_text", "caption"):
            parts[name] = [_rich_key(item) for item in value or []]
        elif value not in (None, False, "default", [], {}):
            parts[name] = value  # defaults Notion fills in (icon: null...) compare equal
    children = content.get("children") or block.get("children") or []
    if children:
        parts["c"] = [block_key(child) for child in children]
    return json.dumps(parts, sort_keys=True, ensure_ascii=False)


def _rich_key(item: Mapping[str, Any]) -> Any:
    kind = item.get("type", "text")
    annotations = {
        k: v for k, v in (item.get("annotations") or {}).items() if v not in (False, "default")
    }
    payload = dict(item.get(kind) or {})
    if kind == "text":
        link = payload.get("link")
        payload = {"content": payload.get("content", ""), "link": (link or {}).get("url")}
    return [kind, payload, annotations]


def page_blocks(blocks: Sequence[Mapping[str, Any]]) -> list[PageBlock]:
    """The top-level blocks of a page (response-shaped, children nested) as
    :class:`PageBlock` items."""
    out = []
    for block in blocks:
        kind = str(block.get("type", ""))
        mine = owned(block)
        key = block_key(block) if mine else f"foreign:{block.get('id')}"
        out.append(PageBlock(str(block.get("id")), kind, mine, key, block))
    return out


@dataclass(frozen=True)
class Prior:
    """The body last synced and its span map: ``spans[i]`` is ``(key, start, end)`` of
    its top-level block ``i`` (``text[start:end]`` is that block's Markdown as written)."""

    text: str
    spans: list[tuple[str, int, int]]

    @classmethod
    def of(cls, text: str, page_id: PageIdLookup | None = None) -> Prior | None:
        """The span map of ``text`` (``None`` for a body Notion cannot hold), its wikilinks
        resolved by ``page_id`` as they were when the body was sent."""
        try:
            items = body_to_items(text, page_id)
        except ValueError:
            return None
        return cls(text, [(i.key, i.start, i.end) for i in items])

    def to_json(self) -> list[list[Any]]:
        return [[k, a, b] for k, a, b in self.spans]

    @classmethod
    def from_json(cls, text: str, data: Any) -> Prior | None:
        """A stored span map, or ``None`` if ``data`` is not one for ``text``."""
        try:
            spans = [(str(k), int(a), int(b)) for k, a, b in data]
        except (TypeError, ValueError):
            return None
        if any(not 0 <= a <= b <= len(text) for _, a, b in spans):
            return None
        return cls(text, spans)


def _render(
    item: PageBlock, style: MarkdownStyle | None = None, link_target: LinkTargetLookup | None = None
) -> str:
    if not item.owned:
        return _placeholder_of(item)
    return blocks_to_markdown([dict(item.block)], link_target, style).rstrip("\n")


def body_from_blocks(
    blocks: Sequence[PageBlock],
    prior: Prior | None = None,
    style: MarkdownStyle | None = None,
    link_target: LinkTargetLookup | None = None,
) -> str:
    """The note body of a page: each owned block through the converter, a placeholder
    line for each block we do not own. With ``prior`` (the body last synced), a run of
    blocks whose keys match it comes back as its original bytes, with the original text
    between and around them; blocks new or changed in Notion are rendered and set apart
    by a blank line where no original separator applies, in the note's own style (its
    bullets, emphasis, quote markers... as :func:`~.markdown.infer_style` reads them from
    ``prior``; ``style``, when given, wherever the note does not say). ``link_target``:
    the wikilink target to write for a mentioned page (the converter's)."""
    if prior is None or not prior.spans:
        if not blocks:
            return ""
        return blocks_to_markdown_run(blocks, style, link_target)
    style = infer_style([prior.text], style)
    old = prior.spans
    text = prior.text
    matcher = difflib.SequenceMatcher(
        a=[k for k, _, _ in old], b=[b.key for b in blocks], autojunk=False
    )
    # pieces: (markdown, first old index covered, old index after the covered ones)
    pieces: list[tuple[str, int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append((text[old[i1][1] : old[i2 - 1][2]], i1, i2))
        elif j2 > j1:
            rendered = _join_rendered(
                [_render(b, style, link_target) for b in blocks[j1:j2]],
                blocks[j1:j2],
                style,
                link_target,
            )
            pieces.append((rendered, i1, i2))
        elif pieces:
            prev = pieces[-1]
            pieces[-1] = (prev[0], prev[1], i2)  # deleted blocks: the gap goes with them
    if not pieces:
        return ""
    out: list[str] = []
    first = pieces[0]
    out.append(text[: old[0][1]] if first[1] == 0 and first[2] > 0 else "")
    for index, (markdown, i1, i2) in enumerate(pieces):
        if index:
            _, p1, p2 = pieces[index - 1]
            if p2 == i1 and p2 > p1 and i2 > i1 and p2 - 1 < len(old) and i1 < len(old):
                out.append(text[old[p2 - 1][2] : old[i1][1]])
            else:
                out.append("\n\n")
        out.append(markdown)
    last = pieces[-1]
    if last[2] == len(old) and last[2] > last[1]:
        out.append(text[old[-1][2] :])
    else:
        out.append("\n")
    return "".join(out)


def _join_rendered(
    parts: list[str],
    items: Sequence[PageBlock],
    style: MarkdownStyle | None = None,
    link_target: LinkTargetLookup | None = None,
) -> str:
    """Rendered blocks in a row: items of one list on consecutive lines."""
    if all(i.owned for i in items):
        return blocks_to_markdown([dict(i.block) for i in items], link_target, style).rstrip("\n")
    return _SEPARATOR.join(parts)


def blocks_to_markdown_run(
    blocks: Sequence[PageBlock],
    style: MarkdownStyle | None = None,
    link_target: LinkTargetLookup | None = None,
) -> str:
    """The body of ``blocks`` with no prior: runs of owned blocks through the converter
    (in ``style``, Obsidian's default when ``None``), placeholder lines between them,
    ending with a line break."""
    segments: list[str] = []
    run: list[Mapping[str, Any]] = []
    for item in blocks:
        if item.owned:
            run.append(item.block)
            continue
        if run:
            segments.append(
                blocks_to_markdown([dict(b) for b in run], link_target, style).rstrip("\n")
            )
            run = []
        segments.append(_placeholder_of(item))
    if run:
        segments.append(blocks_to_markdown([dict(b) for b in run], link_target, style).rstrip("\n"))
    return _SEPARATOR.join(segments) + "\n"


@dataclass(frozen=True)
class Item:
    """One top-level entry of a body to write: a block to send, or a kept foreign block;
    ``text[start:end]`` of the body is its Markdown."""

    key: str
    block: dict[str, Any] | None = None
    foreign_id: str | None = None
    start: int = 0
    end: int = 0


def body_to_items(text: str, page_id: PageIdLookup | None = None) -> list[Item]:
    """The top-level blocks a body asks for: converted Markdown (wikilinks that
    ``page_id`` resolves as page mentions), and placeholder lines naming blocks to keep.
    Raises ``ValueError`` for a body Notion cannot hold."""
    items: list[Item] = []
    pos = 0
    for match in _PLACEHOLDER_RE.finditer(text):
        items.extend(_converted(text[pos : match.start()], pos, page_id))
        block_id = match.group("id") or match.group("old")
        items.append(
            Item(
                key=f"foreign:{block_id}", foreign_id=block_id, start=match.start(), end=match.end()
            )
        )
        pos = match.end()
    items.extend(_converted(text[pos:], pos, page_id))
    return items


def _converted(markdown: str, offset: int, page_id: PageIdLookup | None) -> list[Item]:
    if not markdown.strip():
        return []
    conversion = convert_markdown(markdown, page_id)
    return [
        Item(key=block_key(b), block=b, start=offset + span.start, end=offset + span.end)
        for b, span in zip(conversion.blocks, conversion.spans, strict=True)
    ]


@dataclass
class Insert:
    """Blocks to append after ``after`` (``None``: at the start of the page)."""

    after: str | None
    blocks: list[dict[str, Any]]
    anchor_index: int = -1
    """Index in the new item list of the entry ``after`` names (-1: the page start);
    filled when the anchor is itself inserted in an earlier request."""


@dataclass
class BodyEdit:
    """The requests that turn a page's blocks into a new body, in order: in-place
    updates, deletes, then inserts (each after a block that exists by then)."""

    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    inserts: list[tuple[int | None, str | None, list[dict[str, Any]]]] = field(default_factory=list)
    """(index of the anchor among the new items or None, anchor block id if known,
    blocks)."""
    kept_foreign: list[str] = field(default_factory=list)
    """Blocks we do not own whose placeholder the new body dropped: kept (reported)."""
    unknown_placeholders: list[str] = field(default_factory=list)
    """Placeholders naming no block of the page: ignored (reported)."""
    children: list[tuple[str, BodyEdit]] = field(default_factory=list)
    """(id of a block kept in place, the edit of its child list): nested blocks are
    diffed like top-level ones, so unchanged children keep their ids."""

    def request_count(self) -> int:
        own = len(self.updates) + len(self.deletes) + len(self.inserts)
        return own + sum(sub.request_count() for _, sub in self.children)

    def has_inserts(self) -> bool:
        """Whether this edit or one under it appends blocks (their ids come back)."""
        return bool(self.inserts) or any(sub.has_inserts() for _, sub in self.children)


def plan_body_edit(current: Sequence[PageBlock], new: Sequence[Item]) -> BodyEdit:
    """The minimal edit from ``current`` (the page's top-level blocks) to ``new``."""
    edit = BodyEdit()
    present = {b.id for b in current}
    wanted: list[Item] = []
    for item in new:
        if item.foreign_id is not None and item.foreign_id not in present:
            edit.unknown_placeholders.append(item.foreign_id)
            continue
        wanted.append(item)
    old_keys = [b.key for b in current]
    new_keys = [i.key for i in wanted]
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    # ids of the new items as they will be once the edit is done (None: inserted)
    final_ids: list[str | None] = [None] * len(wanted)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                final_ids[j1 + k] = current[i1 + k].id
            continue
        olds = list(current[i1:i2])
        news = list(range(j1, j2))
        if tag == "replace":
            # same position, same type: updated in place (only if its own text or
            # settings changed), its children diffed the same way, recursively
            pairs = min(len(olds), len(news))
            for k in range(pairs):
                old, j = olds[k], news[k]
                block = wanted[j].block
                if (
                    old.owned
                    and block is not None
                    and block.get("type") == old.type
                    and _children_known(old.block)
                ):
                    if _own_key(old.block) != _own_key(block):
                        edit.updates.append((old.id, _update_body(block)))
                    sub = plan_body_edit(
                        page_blocks(_children_of(old.block)),
                        [Item(block_key(c), dict(c)) for c in _children_of(block)],
                    )
                    if sub.request_count():
                        edit.children.append((old.id, sub))
                    final_ids[j] = old.id
                    olds[k] = None  # type: ignore[call-overload]
        for old in olds:
            if old is None:
                continue
            if not old.owned:
                # a block we do not own is never deleted, moved or rewritten
                if old.id not in {i.foreign_id for i in wanted}:
                    edit.kept_foreign.append(old.id)
                continue
            edit.deletes.append(old.id)
    # foreign blocks that stay are where they were; owned blocks still unplaced are
    # inserted after the nearest earlier entry that exists by then
    for j, item in enumerate(wanted):
        if item.foreign_id is not None and final_ids[j] is None:
            final_ids[j] = item.foreign_id  # moved placeholder: the block stays where it is
    j = 0
    while j < len(wanted):
        if final_ids[j] is not None or wanted[j].block is None:
            j += 1
            continue
        start = j
        blocks: list[dict[str, Any]] = []
        while (
            j < len(wanted)
            and final_ids[j] is None
            and wanted[j].block is not None
            and len(blocks) < 100
        ):
            blocks.append(wanted[j].block)  # type: ignore[arg-type]
            j += 1
        anchor = start - 1
        anchor_id = final_ids[anchor] if anchor >= 0 else None
        edit.inserts.append((anchor if anchor >= 0 else None, anchor_id, blocks))
        for k in range(start, j):
            final_ids[k] = f"@{k}"  # placed by this insert; the real id comes back later
    return edit


def _children_of(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = block.get(str(block.get("type", ""))) or {}
    return list(content.get("children") or block.get("children") or [])


def has_children(block: Mapping[str, Any]) -> bool:
    """Whether ``block`` as read has (or had) children."""
    return bool(block.get("has_children") or _children_of(block))


def _children_known(block: Mapping[str, Any]) -> bool:
    """Whether the children of a block as read are all here (``has_children`` with no
    children nested: not loaded, so not diffed)."""
    return not block.get("has_children") or bool(_children_of(block))


def _own_key(block: Mapping[str, Any]) -> str:
    """The comparison key of the block itself, without its children."""
    kind = str(block.get("type", ""))
    content = {k: v for k, v in (block.get(kind) or {}).items() if k != "children"}
    bare = {k: v for k, v in block.items() if k not in ("children", "has_children")}
    return block_key({**bare, kind: content})


def _update_body(block: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH /blocks/{id} body that gives a block ``block``'s content."""
    kind = str(block["type"])
    content = {k: v for k, v in (block.get(kind) or {}).items() if k != "children"}
    return {kind: content}


def canonical_body(
    text: str, page_id: PageIdLookup | None = None, link_target: LinkTargetLookup | None = None
) -> str | None:
    """The body a machine with no prior would read back for ``text`` once written
    (``None`` for a body Notion cannot hold), wikilinks sent as ``page_id`` resolves them
    and mentions read back as ``link_target`` names them."""
    try:
        items = body_to_items(text, page_id)
    except ValueError:
        return None
    blocks = page_blocks(
        [
            {"id": i.foreign_id, "type": "unsupported", "unsupported": {}}
            if i.block is None
            else {"id": "", **i.block}
            for i in items
        ]
    )
    return body_from_blocks(blocks, link_target=link_target)


def layout_of(
    text: str, page_id: PageIdLookup | None = None, link_target: LinkTargetLookup | None = None
) -> dict[str, Any] | None:
    """How ``text`` differs from the canonical rendering of its blocks, for a reader with
    no prior (a fresh machine): the canonical text's line count and line-range edits
    that turn it into ``text``, each with a hash of the canonical lines it replaces (so
    an edit elsewhere that keeps the line count leaves it valid, and writes nothing).
    ``None``: nothing to carry. ``page_id``, ``link_target``: as for
    :func:`canonical_body`."""
    canonical = canonical_body(text, page_id, link_target)
    if canonical is None or canonical == text:
        return None
    a = canonical.splitlines(keepends=True)
    b = text.splitlines(keepends=True)
    ops = [
        [i1, i2, "".join(b[j1:j2]), _context_hash(a, i1, i2)]
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
        if tag != "equal"
    ]
    return {"v": 1, "n": len(a), "d": ops}


def _context_hash(lines: Sequence[str], i1: int, i2: int) -> str:
    context = "".join(lines[i1:i2])
    return hashlib.sha256(context.encode()).hexdigest()[:12]


def apply_layout(canonical: str, layout: Any) -> str:
    """``canonical`` with the edits of :func:`layout_of` whose lines are still as they
    were made for: none if the line count changed in Notion since, and an edit whose
    lines changed is left out."""
    ops = layout.get("d") if isinstance(layout, dict) else None
    if not isinstance(ops, list):
        return canonical
    lines = canonical.splitlines(keepends=True)
    if layout.get("n") != len(lines):
        return canonical
    out: list[str] = []
    pos = 0
    for op in ops:
        if not (isinstance(op, list) and len(op) == 4):
            continue
        i1, i2, replacement, digest = op
        if not (isinstance(i1, int) and isinstance(i2, int) and isinstance(replacement, str)):
            continue
        if not pos <= i1 <= i2 <= len(lines) or digest != _context_hash(lines, i1, i2):
            continue
        out.extend(lines[pos:i1])
        out.append(replacement)
        pos = i2
    out.extend(lines[pos:])
    return "".join(out)
