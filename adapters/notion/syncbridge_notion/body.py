"""Note bodies ⇄ a page's blocks, and the minimal edit from one body to the next.

The Markdown ⇄ blocks conversion itself is the converter's (imported below, the one
place to swap it). This module adds what a sync needs around it:

- **Blocks we do not own stay in Notion.** A top-level block the converter cannot
  represent (``child_page``, ``child_database``, ``synced_block``, ``unsupported``,
  columns, embeds, Notion-hosted files, or any block holding one of those) becomes a
  placeholder line in the note, ``%%notion-block <id> <type>%%`` (an Obsidian comment),
  which maps back to it. An edit never deletes, moves or rewrites such a block; removing
  its placeholder in the vault is reported, and the block is kept.
- **Minimal updates.** :func:`plan_body_edit` diffs the page's current top-level blocks
  against the new body: unchanged blocks are kept, a changed block of the same type is
  updated in place (its id and comments kept), new blocks are inserted with
  ``position``, and only blocks that are really gone are deleted. Never delete-all and
  re-append.

Pure functions, no I/O.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbridge_notion._markdown_standin import (
    blocks_to_markdown,
    markdown_to_blocks,
    split_for_request,
)

__all__ = [
    "OWNED_TYPES",
    "BodyEdit",
    "PageBlock",
    "block_key",
    "blocks_to_markdown",
    "body_from_blocks",
    "body_to_items",
    "markdown_to_blocks",
    "placeholder",
    "plan_body_edit",
    "split_for_request",
]

OWNED_TYPES = frozenset({"paragraph"})
"""Block types the converter turns back into Markdown (the stand-in: paragraphs)."""

NEVER_DELETE = frozenset({"child_page", "child_database"})
"""Deleting these trashes a whole page or database in Notion."""

_PLACEHOLDER_RE = re.compile(
    r"^%%notion-block ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?: [^%\n]*)?%%$",
    re.MULTILINE,
)
_SEPARATOR = "\n\n"


def placeholder(block_id: str, block_type: str) -> str:
    """The line a block we do not own leaves in the note."""
    return f"%%notion-block {block_id} {block_type}%%"


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
    children = content.get("children") or block.get("children") or []
    return all(owned(child) for child in children)


def block_key(block: Mapping[str, Any]) -> str:
    """A comparison key that is equal for a request block and the response block Notion
    makes of it: the type, text with its annotations and links, the type's own settings,
    and the children's keys."""
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


def body_from_blocks(blocks: Sequence[PageBlock]) -> str:
    """The note body of a page: runs of owned blocks through the converter, a
    placeholder line for each block we do not own, joined by blank lines."""
    segments: list[str] = []
    run: list[Mapping[str, Any]] = []
    for item in blocks:
        if item.owned:
            run.append(item.block)
            continue
        if run:
            segments.append(blocks_to_markdown([dict(b) for b in run]))
            run = []
        segments.append(placeholder(item.id, item.type))
    if run:
        segments.append(blocks_to_markdown([dict(b) for b in run]))
    return _SEPARATOR.join(segments)


@dataclass(frozen=True)
class Item:
    """One top-level entry of a body to write: a block to send, or a kept foreign block."""

    key: str
    block: dict[str, Any] | None = None
    foreign_id: str | None = None


def body_to_items(text: str) -> list[Item]:
    """The top-level blocks a body asks for: converted Markdown, and placeholders naming
    blocks to keep. Raises ``ValueError`` for a body Notion cannot hold."""
    items: list[Item] = []
    pos = 0
    for match in _PLACEHOLDER_RE.finditer(text):
        before = text[pos : match.start()]
        if before.endswith(_SEPARATOR):
            before = before[: -len(_SEPARATOR)]
        if before or (pos == 0 and match.start() > 0):
            items.extend(_converted(before))
        items.append(Item(key=f"foreign:{match.group(1)}", foreign_id=match.group(1)))
        pos = match.end()
        if text.startswith(_SEPARATOR, pos):
            pos += len(_SEPARATOR)
    rest = text[pos:]
    if rest or pos == 0:
        items.extend(_converted(rest))
    return items


def _converted(markdown: str) -> list[Item]:
    return [Item(key=block_key(b), block=b) for b in markdown_to_blocks(markdown)]


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

    def request_count(self) -> int:
        return len(self.updates) + len(self.deletes) + len(self.inserts)


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
            # same position, same type, no children either side: update in place
            pairs = min(len(olds), len(news))
            for k in range(pairs):
                old, j = olds[k], news[k]
                block = wanted[j].block
                if (
                    old.owned
                    and block is not None
                    and block.get("type") == old.type
                    and not _has_children(old.block)
                    and not _has_children(block)
                ):
                    edit.updates.append((old.id, _update_body(block)))
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


def _has_children(block: Mapping[str, Any]) -> bool:
    kind = block.get("type", "")
    content = block.get(kind) or {}
    return bool(block.get("has_children") or content.get("children") or block.get("children"))


def _update_body(block: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH /blocks/{id} body that gives a block ``block``'s content."""
    kind = str(block["type"])
    content = {k: v for k, v in (block.get(kind) or {}).items() if k != "children"}
    return {kind: content}
