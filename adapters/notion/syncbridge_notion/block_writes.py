"""Writing a page's blocks: appends in request-sized pieces, and minimal body edits.

Notion takes at most 100 blocks and three levels per request, so a body is sent as a
first request and deferred ``[path, blocks]`` appends (``path``: indexes from the page
down to the parent block). An append whose answer was lost is checked (the blocks are
looked for) before anything is sent again. A body edit updates changed blocks in place,
inserts with a position, and deletes only blocks we own: never a child page, a child
database, or anything else the converter cannot represent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from syncbridge.adapter import Record
from syncbridge.errors import RecordError, RemoteUnavailable
from syncbridge_notion import body as bodies
from syncbridge_notion.markdown import PageIdLookup, split_for_requests
from syncbridge_notion.pacing import AmbiguousWrite
from syncbridge_notion.reading import PageReader
from syncbridge_notion.session import JSON, NotionSession, source_path

__all__ = ["BlockWriter", "record_items", "split_blocks"]


def split_blocks(blocks: Sequence[JSON]) -> tuple[list[JSON], list[Any]]:
    """Blocks for the first request (the converter's :func:`split_for_requests`: up to
    three levels, a table always with its rows) and the rest as deferred
    ``[path, blocks]`` appends, in the order they must be sent (``path``: indexes from
    the page down to the parent; ``[]`` the page itself, appended at its end)."""
    batches = split_for_requests([dict(b) for b in blocks])
    if not batches:
        return [], []
    first = batches[0].children if batches[0].parent == () else []
    rest = batches[1:] if batches[0].parent == () else batches
    return first, [[list(b.parent), b.children] for b in rest]


def record_items(record: Record, page_id: PageIdLookup | None = None) -> list[bodies.Item]:
    """The record's body as converter items, wikilinks that ``page_id`` resolves as page
    mentions (``RecordError`` naming the note if it cannot be converted)."""
    try:
        return bodies.body_to_items(record.body, page_id)
    except ValueError as exc:
        raise RecordError(f"{record.title or record.id}: {exc}") from exc


class BlockWriter:
    """Appends and edits blocks of pages (see the module docstring)."""

    def __init__(self, session: NotionSession, reader: PageReader) -> None:
        self.session = session
        self.reader = reader

    def append_deferred(self, page_id: str, deferred: Sequence[Any]) -> None:
        """Append blocks left out of a create: ``[path, blocks]`` entries, ``path`` the
        indexes from the page down to the parent block (``[]``: the page itself)."""
        api = self.session.api
        for path, blocks in deferred:
            parent = self._block_at(page_id, path)
            existing = [b for b in api.children(parent) if not b.get("in_trash")]
            have = [bodies.block_key(b) for b in existing]
            want = [bodies.block_key(b) for b in blocks]
            if have[-len(want) :] == want:
                continue  # appended before the answer was lost
            after = existing[-1]["id"] if existing else None
            for start in range(0, len(blocks), 100):
                chunk = blocks[start : start + 100]
                result = self._append(parent, chunk, after, f"appending blocks to {page_id}")
                after = result[-1] if result else after

    def _block_at(self, page_id: str, path: Sequence[int]) -> str:
        block_id = page_id
        for index in path:
            kids = [b for b in self.session.api.children(block_id) if not b.get("in_trash")]
            block_id = kids[index]["id"]
        return block_id

    def _append(self, parent: str, blocks: list[JSON], after: str | None, what: str) -> list[str]:
        """Append ``blocks`` after ``after``; ids of the new top-level blocks. A lost
        answer is checked (the blocks are looked for) before anything is sent again."""
        api = self.session.api
        try:
            result = api.append_children(parent, blocks, after, what)
        except AmbiguousWrite as exc:
            existing = [b for b in api.children(parent) if not b.get("in_trash")]
            keys = [bodies.block_key(b) for b in existing]
            want = [bodies.block_key(b) for b in blocks]
            start = 0
            if after is not None:
                ids = [b["id"] for b in existing]
                start = ids.index(after) + 1 if after in ids else len(ids)
            if keys[start : start + len(want)] == want:
                return [b["id"] for b in existing[start : start + len(want)]]
            raise RemoteUnavailable(
                f"Notion: {what}: no answer ({exc.reason}) and the blocks are not there; "
                "the next sync writes the body again"
            ) from exc
        return [str(b["id"]) for b in result.get("results", [])]

    def edit_body(self, page_id: str, old_blocks: Sequence[JSON], record: Record) -> list[JSON]:
        """Apply the minimal block edit; the page's top-level blocks afterwards (as
        request/response shapes, for the cache)."""
        session = self.session
        current = bodies.page_blocks(old_blocks)
        lookup = session.links.page_id(source_path(record))
        edit = bodies.plan_body_edit(current, record_items(record, lookup))
        label = record.title or page_id
        for block_id in edit.kept_foreign:
            kind = next((b.type for b in current if b.id == block_id), "block")
            session.problem(
                f"{label}: the placeholder of Notion block {block_id} ({kind}) was removed "
                "in the note; the block is kept in Notion (delete it there if intended)"
            )
        for block_id in edit.unknown_placeholders:
            session.problem(f"{label}: placeholder of unknown Notion block {block_id} ignored")
        self._apply(page_id, current, edit, label)
        if edit.has_inserts():
            return self.reader.read_blocks(page_id)  # the new blocks' ids, for the next edit
        # updates and deletes only: the page's blocks are known without asking
        return _patched(old_blocks, edit)

    def _apply(
        self, parent_id: str, current: Sequence[bodies.PageBlock], edit: bodies.BodyEdit, label: str
    ) -> None:
        """Send ``edit`` of the children of ``parent_id`` (a page or a block kept in place):
        updates, deletes, inserts, then the edits of kept blocks' own children."""
        api = self.session.api
        by_id = {b.id: b for b in current}
        for block_id, payload in edit.updates:
            api.update_block(block_id, payload)
        for block_id in edit.deletes:
            kind = next((b.type for b in current if b.id == block_id), "")
            if kind in bodies.NEVER_DELETE or not next(
                (b.owned for b in current if b.id == block_id), False
            ):
                continue  # never: deleting these trashes what we do not own
            block = by_id[block_id].block
            if bodies.has_children(block) and not self._subtree_ours(block_id, label):
                continue  # something only Notion holds sits under it now: kept (reported)
            with contextlib.suppress(RecordError):  # already gone (a retried delete landed)
                api.delete_block(block_id)
        placed: dict[int, str] = {}
        for anchor_index, anchor_id, blocks in edit.inserts:
            after = anchor_id
            if after is not None and after.startswith("@"):
                after = placed.get(int(after[1:]))
            elif anchor_id is None and anchor_index is not None:
                after = placed.get(anchor_index)
            first, deferred = split_blocks(blocks)
            what = f"editing the body of {label}"
            ids = self._append(parent_id, first, after, what)
            for path, kids in deferred:
                if not path:
                    # top-level blocks past the first request: right after those sent
                    last = ids[-1] if ids else after
                    ids.extend(self._append(parent_id, kids, last, what))
                    continue
                self._append_deferred_under(ids[path[0]], path[1:], kids)
            start = (anchor_index + 1) if anchor_index is not None else 0
            for k, new_id in enumerate(ids):
                placed[start + k] = new_id
        for block_id, sub in edit.children:
            kids = bodies.page_blocks(_children(by_id[block_id].block))
            self._apply(block_id, kids, sub, label)

    def _subtree_ours(self, block_id: str, label: str) -> bool:
        """Whether everything under ``block_id`` is, live, what the converter represents.
        The cache may miss a child page nested there within the minute of our last write
        (``last_edited_time`` has minute precision), and deleting the block would trash
        it in Notion: so the children are listed before such a delete (one GET a level)."""
        try:
            kids = self.reader.read_blocks(block_id)
        except RecordError:
            return True  # the block itself is gone: the delete is nothing to do
        foreign = _foreign_under(kids)
        if not foreign:
            return True
        names = ", ".join(foreign)
        self.session.problem(
            f"{label}: Notion block {block_id} was removed in the note but holds {names} "
            "in Notion (not in the note); the block is kept in Notion: move those out and "
            "delete the block there, or put it back in the note"
        )
        return False

    def _append_deferred_under(self, block_id: str, path: Sequence[int], blocks: Any) -> None:
        parent = block_id
        for index in path:
            kids = [b for b in self.session.api.children(parent) if not b.get("in_trash")]
            parent = kids[index]["id"]
        for start in range(0, len(blocks), 100):
            self._append(parent, blocks[start : start + 100], None, f"appending under {parent}")


def _children(block: Mapping[str, Any]) -> list[JSON]:
    content = block.get(str(block.get("type", ""))) or {}
    return list(content.get("children") or block.get("children") or [])


def _patched(blocks: Sequence[JSON], edit: bodies.BodyEdit) -> list[JSON]:
    """``blocks`` (response shapes, children nested) after an edit without inserts."""
    updated = dict(edit.updates)
    deleted = set(edit.deletes)
    nested = dict(edit.children)
    out: list[JSON] = []
    for block in blocks:
        if block["id"] in deleted:
            continue
        kind = str(block["type"])
        content = dict(block.get(kind) or {})
        change = updated.get(str(block["id"]))
        if change is not None:
            content.update(change[kind])
        sub = nested.get(str(block["id"]))
        if sub is not None:
            kids = _patched(_children(block), sub)
            content["children"] = kids
            block = {**block, "has_children": bool(kids)}
        out.append({**block, kind: content})
    return out


def _foreign_under(blocks: Sequence[JSON]) -> list[str]:
    """What under ``blocks`` the converter does not represent, named for a message."""
    out: list[str] = []
    for block in blocks:
        kind = str(block.get("type", ""))
        if not bodies.owned({**block, kind: {**(block.get(kind) or {}), "children": []}}):
            content = block.get(kind) or {}
            title = content.get("title") if isinstance(content, dict) else None
            out.append(
                f"{kind} {title!r} ({block.get('id')})" if title else f"{kind} {block.get('id')}"
            )
            continue
        out.extend(_foreign_under(_children(block)))
    return out
