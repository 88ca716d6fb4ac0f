"""Sending a block tree within Notion's per-request limits, and checking a request.

:func:`split_for_requests` cuts a tree from :func:`~.markdown_to_blocks` (any depth, any
size) into append requests Notion accepts, in the order they must be sent:

* the first batch appends to the page itself (``parent == ()``) and holds up to three
  levels (top-level blocks, their children, their grandchildren), at most 100 blocks per
  ``children`` array, 1,000 blocks and about 450 KB in all;
* every later batch appends the children a previous batch left out (deeper levels,
  arrays past 100, top-level blocks past the first request's budget) to the block named by
  ``parent``: a path of indices into the original tree (``(2, 0)`` is the first child of
  the third top-level block). ``first_index`` is the index, in that parent's children, of
  the batch's first block, so the ``results`` of the append response map to the paths
  ``parent + (first_index + k,)``.

A table is always sent with its rows (Notion requires it), so a table on the third level
of a batch moves, with the siblings after it, to a later batch. Append every batch at
the end of its parent (no ``position``): batches for one parent come in order.

The append response lists only the blocks on the batch's first level; a later batch whose
parent is deeper than that needs the parent's id from ``GET /v1/blocks/{id}/children``
of its own parent. A new note of up to 100 blocks and three levels is one request.

:func:`check_blocks` lists every way a ``children`` array breaks those limits (the
converter's own output never does; the benchmark and the tests check it).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .limits import (
    MAX_BLOCKS_PER_REQUEST,
    MAX_CHILDREN,
    MAX_EQUATION,
    MAX_NESTING,
    MAX_REQUEST_BYTES,
    MAX_RICH_TEXT_ITEMS,
    MAX_TEXT,
    MAX_URL,
    utf16_len,
)
from .mention_links import mention_problem
from .styles import NOTION_LANGUAGES

__all__ = ["AppendBatch", "check_blocks", "split_for_requests"]

_BATCH_BYTES = 450_000
"""Room left under Notion's 500 KB for the rest of a page-create request (properties)."""


@dataclass(frozen=True)
class AppendBatch:
    """One ``PATCH /v1/blocks/{parent}/children`` request: append ``children`` to the
    block at path ``parent`` (``()`` is the page); ``children[0]`` is child number
    ``first_index`` of that parent in the original tree."""

    parent: tuple[int, ...]
    first_index: int
    children: list[dict[str, Any]]


def _nested(block: dict[str, Any]) -> list[dict[str, Any]]:
    body = block.get(str(block.get("type")))
    return list((body or {}).get("children") or []) if isinstance(body, dict) else []


def _without_children(block: dict[str, Any]) -> dict[str, Any]:
    out = dict(block)
    kind = str(block.get("type"))
    body = dict(block.get(kind) or {})
    body.pop("children", None)
    out[kind] = body
    return out


def _count(block: dict[str, Any]) -> int:
    return 1 + sum(_count(child) for child in _nested(block))


def _size(block: dict[str, Any]) -> int:
    return len(json.dumps(block, ensure_ascii=False).encode("utf-8")) + 1


class _Planner:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.batches: list[AppendBatch] = []

    def trim(
        self,
        block: dict[str, Any],
        path: tuple[int, ...],
        depth: int,
        limit: int,
        later: list[tuple[tuple[int, ...], int, list[dict[str, Any]]]],
    ) -> dict[str, Any]:
        """A copy of ``block`` holding its subtree down to level ``limit``; what is left
        out goes to ``later`` as (parent path, first index, blocks)."""
        kids = _nested(block)
        out = _without_children(block)
        if not kids:
            return out
        if depth >= limit:
            later.append((path, 0, kids))
            return out
        keep = kids[:MAX_CHILDREN]
        if depth + 1 >= limit:  # children on the last level: tables need their rows
            for index, kid in enumerate(keep):
                if kid.get("type") == "table":
                    keep = keep[:index]
                    break
        if len(keep) < len(kids):
            later.append((path, len(keep), kids[len(keep) :]))
        body = out[str(out["type"])]
        if keep:
            body["children"] = [
                self.trim(kid, (*path, i), depth + 1, limit, later) for i, kid in enumerate(keep)
            ]
        return out

    def plan(self, parent: tuple[int, ...], first: int, blocks: list[dict[str, Any]]) -> None:
        index = 0
        while index < len(blocks):
            chunk: list[dict[str, Any]] = []
            later: list[tuple[tuple[int, ...], int, list[dict[str, Any]]]] = []
            count = size = 0
            start = index
            while index < len(blocks) and len(chunk) < MAX_CHILDREN:
                path = (*parent, first + index)
                for limit in range(self.max_depth, 0, -1):
                    pending: list[tuple[tuple[int, ...], int, list[dict[str, Any]]]] = []
                    trimmed = self.trim(blocks[index], path, 1, limit, pending)
                    if trimmed.get("type") == "table" and limit < 2:
                        continue  # a table needs its rows
                    c, s = _count(trimmed), _size(trimmed)
                    if c <= MAX_BLOCKS_PER_REQUEST and s <= _BATCH_BYTES:
                        break
                if chunk and (count + c > MAX_BLOCKS_PER_REQUEST or size + s > _BATCH_BYTES):
                    break
                chunk.append(trimmed)
                later.extend(pending)
                count, size = count + c, size + s
                index += 1
            self.batches.append(AppendBatch(parent, first + start, chunk))
            for path, offset, rest in later:
                self.plan(path, offset, rest)


def split_for_requests(
    blocks: list[dict[str, Any]], *, max_depth: int = MAX_NESTING
) -> list[AppendBatch]:
    """Append batches for block tree ``blocks`` (see the module docstring); the input is
    not modified. ``max_depth`` is the number of block levels one request may hold."""
    if max_depth < 1:
        raise ValueError("max_depth must be at least 1")
    planner = _Planner(max_depth)
    if blocks:
        planner.plan((), 0, copy.deepcopy(blocks))
    return planner.batches


def _check_rich(path: str, items: Any, problems: list[str]) -> None:
    if not isinstance(items, list):
        problems.append(f"{path}: not an array")
        return
    if len(items) > MAX_RICH_TEXT_ITEMS:
        problems.append(f"{path}: {len(items)} items (at most {MAX_RICH_TEXT_ITEMS})")
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        text = item.get("text")
        if isinstance(text, dict):
            content = text.get("content")
            if not isinstance(content, str):
                problems.append(f"{where}.text.content: not a string")
            elif utf16_len(content) > MAX_TEXT:
                problems.append(f"{where}.text.content: {utf16_len(content)} characters")
            link = text.get("link")
            if link is not None:
                _check_url(f"{where}.text.link.url", (link or {}).get("url"), problems)
        elif item.get("type") == "equation":
            expression = (item.get("equation") or {}).get("expression")
            if not isinstance(expression, str) or utf16_len(expression) > MAX_EQUATION:
                problems.append(f"{where}.equation.expression: missing or too long")
        elif item.get("type") == "mention":
            problem = mention_problem(item.get("mention"))
            if problem is not None:
                problems.append(f"{where}.mention: {problem}")
        else:
            problems.append(f"{where}: not a text, equation or mention item")


def _check_url(path: str, url: Any, problems: list[str]) -> None:
    if not isinstance(url, str) or not url:
        problems.append(f"{path}: missing")
    elif utf16_len(url) > MAX_URL:
        problems.append(f"{path}: {utf16_len(url)} characters (at most {MAX_URL})")
    elif not url.lower().startswith(("http://", "https://", "mailto:")):
        problems.append(f"{path}: not an absolute URL")


def _check_block(path: str, block: dict[str, Any], problems: list[str]) -> None:
    kind = block.get("type")
    body = block.get(str(kind))
    if not isinstance(body, dict):
        problems.append(f"{path}.{kind}: missing")
        return
    where = f"{path}.{kind}"
    if "rich_text" in body:
        _check_rich(f"{where}.rich_text", body["rich_text"], problems)
    if "caption" in body:
        _check_rich(f"{where}.caption", body["caption"], problems)
    if kind == "code" and body.get("language") not in NOTION_LANGUAGES:
        problems.append(f"{where}.language: {body.get('language')!r} is not Notion's")
    if kind == "equation":
        expression = body.get("expression")
        if not isinstance(expression, str) or utf16_len(expression) > MAX_EQUATION:
            problems.append(f"{where}.expression: missing or over {MAX_EQUATION} characters")
    if kind == "image":
        _check_url(f"{where}.external.url", (body.get("external") or {}).get("url"), problems)
    if kind == "table":
        rows = body.get("children") or []
        if not rows:
            problems.append(f"{where}.children: a table needs its rows in the same request")
        for index, row in enumerate(rows):
            cells = (row.get("table_row") or {}).get("cells") or []
            if row.get("type") != "table_row" or len(cells) != body.get("table_width"):
                problems.append(f"{where}.children[{index}]: not a row of the table's width")
    if kind == "table_row":
        for index, cell in enumerate(body.get("cells") or []):
            _check_rich(f"{where}.cells[{index}]", cell, problems)


def check_blocks(children: list[dict[str, Any]], *, max_depth: int = MAX_NESTING) -> list[str]:
    """Every way one request's ``children`` array breaks Notion's limits (empty when
    Notion would accept it): sizes of text, URLs, equations and arrays, nesting deeper
    than ``max_depth`` levels, block and byte totals, code languages, table shapes."""
    problems: list[str] = []
    total = [0]

    def walk(path: str, blocks: list[dict[str, Any]], depth: int) -> None:
        if len(blocks) > MAX_CHILDREN:
            problems.append(f"{path}: {len(blocks)} blocks (at most {MAX_CHILDREN})")
        for index, block in enumerate(blocks):
            where = f"{path}[{index}]"
            total[0] += 1
            _check_block(where, block, problems)
            nested = _nested(block)
            if "children" in block:
                problems.append(f"{where}.children: children belong in the type object")
            if nested:
                if depth >= max_depth:
                    problems.append(f"{where}: children nested deeper than {max_depth} levels")
                walk(f"{where}.{block.get('type')}.children", nested, depth + 1)

    walk("children", children, 1)
    if total[0] > MAX_BLOCKS_PER_REQUEST:
        problems.append(f"children: {total[0]} blocks in one request (at most 1000)")
    size = len(json.dumps({"children": children}, ensure_ascii=False).encode("utf-8"))
    if size > MAX_REQUEST_BYTES:
        problems.append(f"request body: {size} bytes (at most {MAX_REQUEST_BYTES})")
    return problems
