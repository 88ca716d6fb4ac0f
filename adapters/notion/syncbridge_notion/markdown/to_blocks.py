"""Markdown → Notion blocks (request-shaped), with the span of source each top-level block
came from.

Block constructs (details in ``docs/notion.md``, "Bodies: Markdown and blocks"):

==========================================  ==============================================
Markdown                                    Notion block
==========================================  ==============================================
``# h1`` .. ``### h3``                      ``heading_1`` .. ``heading_3``
``#### h4`` .. ``###### h6``                ``paragraph`` starting with the literal ``####``
paragraph                                   ``paragraph`` (a paragraph that is only an
                                            external image: ``image``)
``-``/``*``/``+`` items, ``1.`` items       ``bulleted_list_item``, ``numbered_list_item``
``- [ ]`` / ``- [x]``                       ``to_do``
``>`` quote                                 ``quote`` (first paragraph, or a block carried
                                            verbatim first, is its text)
``> [!type] title``                         ``callout`` (type ↔ icon)
``> [!type]- title`` / ``+``                ``toggle``
fenced code                                 ``code`` (language mapped, opener kept in the
                                            caption when it would not come back as is)
``$$ ... $$``                               ``equation``
``---``, ``***``, ``___``                   ``divider``
GFM table                                   ``table`` with ``table_row`` children
two or more blank lines                     one empty ``paragraph`` per extra blank line
==========================================  ==============================================

Carried verbatim (a ``paragraph`` whose plain text is the source as written, which the
writer gives back unchanged): HTML blocks, indented code, ``%%`` comment blocks, setext
headings, headings with closing ``#``s, unclosed fences, math blocks Notion cannot hold,
and paragraphs whose formatting needs more than 100 rich-text items. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it.rules_block.table import escapedSplit
from markdown_it.token import Token

from .inline import PageIdLookup, inline_to_rich_text, plain_run, valid_url
from .limits import MAX_EQUATION, MAX_RICH_TEXT_ITEMS, utf16_len
from .parser import parse_blocks, parse_inline
from .styles import CALLOUT_EMOJI, fence_language, safe_fence

__all__ = ["Node", "SourceSpan", "convert"]

_CALLOUT_RE = re.compile(r"\[!([^\]\n]+)\]([+-]?)")
_CANONICAL_CALLOUT_RE = re.compile(r"\[!([a-z]+)\](?: (\S.*))?\Z", re.S)
_HEADING_RE = re.compile(r"[ ]{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*\Z", re.S)
_ESCAPED_CLOSING_RE = re.compile(r"(?:\A|(?<=[ \t]))\\(#+)\Z")
_BARE_ITEM_RE = re.compile(r"[ \t]*(?:>[ \t]*)*(?:[-*+]|\d{1,9}[.)])[ \t]*")
"""A line that starts a list item and holds nothing else (but the quote markers before)."""
_TASK_RE = re.compile(r"\[([ xX])\](?: |\Z)")
_FENCE_OPEN_RE = re.compile(r"[ ]{0,3}((`{3,}|~{3,}).*)")
_INTERRUPTS = frozenset(
    {"fence", "blockquote", "bullet_list", "ordered_list", "heading", "html_block"}
)
"""Blocks that can start on the line right after a paragraph's line."""
_QUOTE_BLANK_RE = re.compile(r"[ \t]*(?:>[ \t]*)+")
_LIST_TYPES = ("bulleted_list_item", "numbered_list_item", "to_do")


@dataclass(frozen=True)
class SourceSpan:
    """Where one top-level block came from: ``text[start:end]`` (``str`` indices) is its
    Markdown as written, without the line break after it; ``byte_start``/``byte_end`` are
    the same span in the UTF-8 encoding. The text between two spans (and before the first,
    after the last) holds only blank lines and line breaks."""

    start: int
    end: int
    byte_start: int
    byte_end: int


@dataclass
class Node:
    """A block token with its nested tokens (``open`` is the token itself for leaves)."""

    open: Token
    children: list[Node] = field(default_factory=list)

    @property
    def type(self) -> str:
        return self.open.type.removesuffix("_open")


def _tree(tokens: list[Token]) -> list[Node]:
    root: list[Node] = []
    stack: list[Node] = []
    for token in tokens:
        if token.nesting == -1:
            stack.pop()
            continue
        node = Node(token)
        (stack[-1].children if stack else root).append(node)
        if token.nesting == 1:
            stack.append(node)
    return root


def _raw(token: Token) -> str:
    meta = token.meta if isinstance(token.meta, dict) else {}
    return str(meta.get("raw", token.content))


def _block(
    kind: str, body: dict[str, Any], children: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    if children:
        body["children"] = children
    return {"object": "block", "type": kind, kind: body}


def _merge(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join a literal prefix run with a plain run after it (fewer items, same text)."""
    out: list[dict[str, Any]] = []
    for item in items:
        last = out[-1] if out else None
        if (
            last is not None
            and item["type"] == last["type"] == "text"
            and "annotations" not in item
            and "annotations" not in last
            and "link" not in item["text"]
            and "link" not in last["text"]
            and utf16_len(last["text"]["content"] + item["text"]["content"]) <= 2000
        ):
            out[-1] = {
                "type": "text",
                "text": {"content": last["text"]["content"] + item["text"]["content"]},
            }
        else:
            out.append(item)
    return out


def _fit(items: list[dict[str, Any]], raw: str) -> list[dict[str, Any]]:
    """``items`` merged, or ``raw`` as plain text when they exceed 100 items."""
    merged = _merge(items)
    return merged if len(merged) <= MAX_RICH_TEXT_ITEMS else plain_run(raw)


def carrier(raw: str) -> list[dict[str, Any]]:
    """Paragraphs whose plain text is ``raw`` as written (more than one only past 200,000
    characters, which a single rich-text array cannot hold)."""
    runs = plain_run(raw)
    if not runs:
        return [_block("paragraph", {"rich_text": []})]
    return [
        _block("paragraph", {"rich_text": runs[i : i + MAX_RICH_TEXT_ITEMS]})
        for i in range(0, len(runs), MAX_RICH_TEXT_ITEMS)
    ]


def _callout_marker(header: str) -> re.Match[str] | None:
    """The ``[!type]`` marker a quote's first line starts with, when it is literal text
    there: ``[!tip](url)`` is a link and ``[!tip]`` inside ``**...**`` bold text, not a
    marker (Obsidian reads the marker from the text as rendered)."""
    match = _CALLOUT_RE.match(header)
    if match is None:
        return None
    tokens = parse_inline(header)
    first = tokens[0] if tokens else None
    if first is None or first.type != "text" or not first.content.startswith(match.group(0)):
        return None
    return match


class _Converter:
    def __init__(self, page_id: PageIdLookup | None) -> None:
        self.page_id = page_id
        self.lines: list[str] = []

    def rich(
        self, src: str, line_start: bool = True, lead: bool = True, trail: bool = True
    ) -> list[dict[str, Any]] | None:
        """Rich text of inline ``src``, ``None`` past 100 items; ``src`` is a whole block
        text, where ``&#32;``/``&#9;`` first (``lead``) and last (``trail``) stand for a
        space and a tab (see :func:`~.inline.inline_to_rich_text`)."""
        items = inline_to_rich_text(src, self.page_id, line_start, lead=lead, trail=trail)
        return items if len(items) <= MAX_RICH_TEXT_ITEMS else None

    def nodes(self, nodes: list[Node]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for node in nodes:
            out.extend(self.node(node))
        return out

    def node(self, node: Node) -> list[dict[str, Any]]:
        kind = node.type
        token = node.open
        if kind == "paragraph":
            return self.paragraph(node)
        if kind == "heading":
            return self.heading(node)
        if kind == "ordered_list" and token.attrs.get("start", 1) != 1:
            return carrier(_raw(token).rstrip("\n"))  # Notion numbers every list from 1
        if kind in ("bullet_list", "ordered_list"):
            return [self.list_item(item, kind) for item in node.children]
        if kind == "blockquote":
            return [self.blockquote(node)]
        if kind == "fence":
            return self.fence(token)
        if kind == "math_block":
            return self.math(token)
        if kind == "hr":
            return [_block("divider", {})]
        if kind == "table":
            return self.table(node)
        # code_block, html_block, obsidian_comment and anything unknown: verbatim
        return carrier(_raw(token).rstrip("\n"))

    def paragraph(self, node: Node) -> list[dict[str, Any]]:
        content = node.children[0].open.content if node.children else ""
        image = self.image(content)
        if image is not None:
            return [image]
        items = self.rich(content)
        if items is None:
            return carrier(_raw(node.open).strip("\n"))
        return [_block("paragraph", {"rich_text": items})]

    def image(self, content: str) -> dict[str, Any] | None:
        if not content.startswith("!["):
            return None
        tokens = parse_inline(content)
        if len(tokens) != 1 or tokens[0].type != "image":
            return None
        token = tokens[0]
        match = re.fullmatch(r"!\[(?P<alt>[^\]\n]*)\]\((?P<url>[^\s<>()]+)\)", content)
        if token.attrs.get("title") or match is None or not valid_url(match.group("url")):
            return None
        if not match.group("url").lower().startswith("http"):
            return None
        alt = match.group("alt")
        return _block(
            "image",
            {
                "type": "external",
                "external": {"url": match.group("url")},
                "caption": plain_run(alt),
            },
        )

    def heading(self, node: Node) -> list[dict[str, Any]]:
        raw = _raw(node.open).rstrip("\n")
        content = node.children[0].open.content if node.children else ""
        match = _HEADING_RE.fullmatch(raw)
        if node.open.markup not in ("#", "##", "###", "####", "#####", "######") or (
            match is None or (match.group(2) or "") != content
        ):
            return carrier(raw)  # setext heading, or closing hashes: as written
        level = len(match.group(1))
        if level > 3:
            prefix = raw[: match.start(2)] if content else raw
            items = self.rich(content, line_start=False, lead=False)  # after "#### "
            if items is None:
                return carrier(raw)
            return [_block("paragraph", {"rich_text": _fit(plain_run(prefix) + items, raw)})]
        items = self.heading_text(content)
        if items is None:
            return carrier(raw)
        return [_block(f"heading_{level}", {"rich_text": items})]

    def heading_text(self, content: str) -> list[dict[str, Any]] | None:
        """Rich text of a heading's ``content``, ``None`` past 100 items. The ``#``s it
        ends with after ``\\`` and a space (``## Title \\#``, the writer's spelling of a
        heading whose text ends in `` #``, which would otherwise be the closing sequence)
        are text, without the backslash: elsewhere in a line ``\\#`` is kept as written."""
        match = _ESCAPED_CLOSING_RE.search(content)
        if match is None:
            return self.rich(content, line_start=False)
        items = self.rich(content[: match.start()], line_start=False, trail=False)
        if items is None:
            return None
        merged = _merge(items + plain_run(match.group(1)))
        return merged if len(merged) <= MAX_RICH_TEXT_ITEMS else None

    def list_item(self, item: Node, list_kind: str) -> dict[str, Any]:
        children = item.children
        text: list[dict[str, Any]] = []
        kind = "numbered_list_item" if list_kind == "ordered_list" else "bulleted_list_item"
        body: dict[str, Any] = {}
        if children and children[0].type == "paragraph" and not self._is_image(children[0]):
            content = children[0].children[0].open.content if children[0].children else ""
            task = _TASK_RE.match(content) if kind == "bulleted_list_item" else None
            if task is not None and (task.group(1) != "X"):
                kind = "to_do"
                body["checked"] = task.group(1) == "x"
                content = content[task.end() :]
            items = self.rich(content)
            if items is not None:
                text = items
                children = children[1:]
            elif kind == "to_do":
                kind, body = "bulleted_list_item", {}
        body = {"rich_text": text, **body}
        return _block(kind, body, self.nodes(children))

    def _is_image(self, node: Node) -> bool:
        content = node.children[0].open.content if node.children else ""
        return self.image(content) is not None

    def _blank(self, index: int) -> bool:
        """Line ``index`` is empty but for quote markers (``>``) and whitespace."""
        if not 0 <= index < len(self.lines):
            return False
        return _QUOTE_BLANK_RE.fullmatch(self.lines[index]) is not None

    def _content_end(self, node: Node) -> int:
        """The line after ``node``'s last line of content: its map without the blank lines
        at its end. Blank at the node's own level: a quote's blank ``>`` lines are its own,
        and a line blank only for an outer quote (``> >`` in a comment block inside a
        quote) is the node's text."""
        begin, end = node.open.map or (0, 0)
        if node.type == "blockquote":
            return end
        meta = node.open.meta if isinstance(node.open.meta, dict) else {}
        raw = meta.get("raw")
        if isinstance(raw, str):
            lines = raw.split("\n")
            while end > begin + 1 and len(lines) > 1 and not lines[-1].strip():
                lines.pop()
                end -= 1
            return end
        while end > begin + 1 and self._blank(end - 1):
            end -= 1
        return end

    def spaced(
        self, nodes: list[Node], after: int | None, end: int, leading: bool = False
    ) -> list[dict[str, Any]]:
        """Blocks of ``nodes`` inside a quote, with an empty paragraph for each blank ``>``
        line past the first between two blocks (and between line ``after`` and the first
        block), for each one after ``after`` when ``leading`` (the line under a callout's
        header), and for each one after the last block, before line ``end``."""
        out: list[dict[str, Any]] = []
        previous = after
        for position, node in enumerate(nodes):
            begin = (node.open.map or (0, 0))[0]
            if previous is not None:
                gap = sum(1 for i in range(previous, begin) if self._blank(i))
                extra = gap - 1
                if position == 0 and leading and node.type in _INTERRUPTS:
                    # could have started right under the callout's title, but for a list
                    # whose first item's line is empty (a setext underline there)
                    extra = gap - 1 if _BARE_ITEM_RE.fullmatch(self.lines[begin]) else gap
                out.extend(_block("paragraph", {"rich_text": []}) for _ in range(max(0, extra)))
            out.extend(self.node(node))
            previous = self._content_end(node)
        if previous is not None:
            tail = sum(1 for i in range(previous, end) if self._blank(i))
            out.extend(_block("paragraph", {"rich_text": []}) for _ in range(tail))
        return out

    def blockquote(self, node: Node) -> dict[str, Any]:
        children = node.children
        first = children[0] if children else None
        end = (node.open.map or (0, 0))[1]
        if first is not None and first.type == "paragraph" and first.children:
            content = first.children[0].open.content
            header, _, rest = content.partition("\n")
            match = _callout_marker(header)
            if match is not None:
                if rest:
                    more = self.spaced(children[1:], self._content_end(first), end)
                else:
                    header_end = (first.open.map or (0, 0))[0] + 1
                    more = self.spaced(children[1:], header_end, end, leading=True)
                return self.callout(match, header, rest, more)
            if not self._is_image(first):
                items = self.rich(content)
                if items is not None:
                    body = self.spaced(children[1:], self._content_end(first), end)
                    return _block("quote", {"rich_text": items}, body)
        body = self.spaced(children, None, end)
        head = body[0] if body else None
        if (
            head is not None
            and head["type"] == "paragraph"
            and set(head["paragraph"]) == {"rich_text"}
            and head["paragraph"]["rich_text"]
        ):
            # A paragraph first (one carried verbatim: HTML, a setext heading, `####`...)
            # is the quote's text, as Markdown writes a quote's text: a quote with no text
            # and a paragraph under it has no Markdown of its own.
            return _block("quote", {"rich_text": head["paragraph"]["rich_text"]}, body[1:])
        return _block("quote", {"rich_text": []}, body)

    def callout(
        self, match: re.Match[str], header: str, rest: str, more: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind_name, fold = match.group(1), match.group(2)
        marker, title_src = header[: match.end()], header[match.end() :]
        body_blocks: list[dict[str, Any]] = []
        if rest:
            body_blocks.extend(self._paragraph_from(rest))
        body_blocks.extend(more)
        plain_title = title_src == "" or (
            title_src.startswith(" ") and not title_src[1:2].isspace() and title_src[1:] != ""
        )
        if fold:  # foldable callout: a toggle
            if fold == "-" and kind_name == "note" and plain_title:
                text = self._title(title_src[1:])
            else:
                text = plain_run(marker) + self._title(title_src, lead=False)
            return _block("toggle", {"rich_text": _fit(text, header)}, body_blocks)
        if kind_name in CALLOUT_EMOJI and plain_title:
            text = self._title(title_src[1:])
        else:
            text = plain_run(marker) + self._title(title_src, lead=False)
        icon = CALLOUT_EMOJI.get(kind_name.lower(), CALLOUT_EMOJI["note"])
        body = {"rich_text": _fit(text, header), "icon": {"type": "emoji", "emoji": icon}}
        return _block("callout", body, body_blocks)

    def _title(self, src: str, lead: bool = True) -> list[dict[str, Any]]:
        """A callout's or toggle's title text (``lead``: it starts the block's text, not
        the ``[!type]`` marker kept as text before it)."""
        items = self.rich(src, line_start=False, lead=lead)
        return items if items is not None else plain_run(src)

    def _paragraph_from(self, src: str) -> list[dict[str, Any]]:
        image = self.image(src)
        if image is not None:
            return [image]
        items = self.rich(src)
        if items is None:
            return carrier(src)
        return [_block("paragraph", {"rich_text": items})]

    def fence(self, token: Token) -> list[dict[str, Any]]:
        raw = _raw(token).rstrip("\n")
        lines = raw.split("\n")
        opener = _FENCE_OPEN_RE.fullmatch(lines[0])
        if opener is None or len(lines) < 2:
            return carrier(raw)
        fence = opener.group(2)
        closing = lines[-1].strip()
        if not (closing.startswith(fence) and set(closing) == {fence[0]}):
            return carrier(raw)  # unclosed: it ran to the end of its container
        content = token.content[:-1] if token.content.endswith("\n") else token.content
        runs = plain_run(content)
        if len(runs) > MAX_RICH_TEXT_ITEMS:
            return carrier(raw)
        language = fence_language(token.info)
        expected = safe_fence(content) + ("" if language == "plain text" else language)
        body: dict[str, Any] = {"rich_text": runs, "language": language}
        first_line = opener.group(1)
        if first_line != expected or closing != fence:
            body["caption"] = plain_run(first_line)
        return [_block("code", body)]

    def math(self, token: Token) -> list[dict[str, Any]]:
        raw = _raw(token).rstrip("\n")
        stripped = raw.strip()
        expression = stripped[2:-2]
        if (
            len(stripped) < 4
            or not stripped.startswith("$$")
            or not stripped.endswith("$$")
            or not expression.strip()
            or "$$" in expression
            or utf16_len(expression) > MAX_EQUATION
        ):
            return carrier(raw)
        return [_block("equation", {"expression": expression})]

    def table(self, node: Node) -> list[dict[str, Any]]:
        rows: list[list[str]] = []
        for section in node.children:
            for row in section.children:
                rows.append(
                    [
                        cell.children[0].open.content if cell.children else ""
                        for cell in row.children
                    ]
                )
        width = len(rows[0]) if rows else 0
        raw = _raw(node.open).rstrip("\n")
        if width == 0 or _cells_dropped(raw, width):
            return carrier(raw)
        row_blocks = []
        for cells in rows:
            padded = (cells + [""] * width)[:width]
            rich_cells = [self.rich(c, line_start=False) or plain_run(c) for c in padded]
            row_blocks.append(
                {"object": "block", "type": "table_row", "table_row": {"cells": rich_cells}}
            )
        body = {"table_width": width, "has_column_header": True, "has_row_header": False}
        return [_block("table", body, row_blocks)]


def _cells_dropped(raw: str, width: int) -> bool:
    """A row of the table written ``raw`` has more cells than its header, ``width``:
    markdown-it drops the rest (``a |`` over ``---`` then ``[[Note|alias]]``), so the
    table is carried as written, losing nothing."""
    for number, line in enumerate(re.split(r"\r\n|\r|\n", raw)):
        if number == 1:
            continue  # the delimiter row (as many cells as the header, or no table)
        cells = escapedSplit(line.strip())
        if cells and cells[0] == "":
            cells.pop(0)
        if cells and cells[-1] == "":
            cells.pop()
        if len(cells) > width:
            return True
    return False


def _split_lines(text: str) -> tuple[list[int], list[str]]:
    """Start offset and content (without its line break) of each line, with the line
    breaks markdown-it counts: ``\\r\\n``, ``\\r`` and ``\\n``."""
    starts, lines, position = [0], [], 0
    for match in re.finditer(r"\r\n?|\n", text):
        lines.append(text[position : match.start()])
        position = match.end()
        starts.append(position)
    lines.append(text[position:])
    return starts, lines


def convert(
    text: str, page_id: PageIdLookup | None = None
) -> tuple[list[dict[str, Any]], list[SourceSpan]]:
    """Blocks for Markdown ``text`` and one :class:`SourceSpan` per top-level block."""
    converter = _Converter(page_id)
    starts, lines = _split_lines(text)
    converter.lines = lines
    blocks: list[dict[str, Any]] = []
    line_spans: list[tuple[int, int]] = []
    previous_end: int | None = None
    for node in _tree(parse_blocks(text)):
        begin, end = node.open.map or (0, 0)
        if previous_end is not None:
            blank = [i for i in range(previous_end, begin) if not lines[i].strip()]
            for extra in blank[1:]:
                blocks.append(_block("paragraph", {"rich_text": []}))
                line_spans.append((extra, extra))
        produced = converter.node(node)
        if node.type in ("bullet_list", "ordered_list") and len(produced) == len(node.children):
            item_maps = [item.open.map or (begin, end) for item in node.children]
        else:
            item_maps = [(begin, end)] * len(produced)
        for block, (b, e) in zip(produced, item_maps, strict=True):
            while e > b + 1 and not lines[e - 1].strip():
                e -= 1
            blocks.append(block)
            line_spans.append((b, e - 1))
        last = item_maps[-1][1] if item_maps else end
        while last > begin + 1 and not lines[last - 1].strip():
            last -= 1
        previous_end = last
    return blocks, _char_spans(text, starts, lines, line_spans)


def _char_spans(
    text: str, starts: list[int], lines: list[str], line_spans: list[tuple[int, int]]
) -> list[SourceSpan]:
    spans: list[SourceSpan] = []
    byte_pos = char_pos = 0
    for first, last in line_spans:
        start = starts[first]
        end = starts[last] + len(lines[last])
        byte_start = byte_pos + len(text[char_pos:start].encode("utf-8"))
        byte_end = byte_start + len(text[start:end].encode("utf-8"))
        spans.append(SourceSpan(start, end, byte_start, byte_end))
        byte_pos, char_pos = byte_end, end
    return spans
