"""Notion blocks (response- or request-shaped, children nested under the type object or on
the block) → Markdown, the way Obsidian writes it.

Each top-level block is written, read back with the converter and compared with the
block (:func:`comparable`: only what Markdown can hold). The first rendering that reads
back the same wins, in this order: as it is (literal Obsidian syntax stays literal),
list children indented with spaces instead of tabs, only the backslashes that would read
as escapes or hard breaks escaped, syntax characters backslash-escaped too but text
shaped like a wikilink (``[[Gone]]``) kept as written, then that text escaped too. So text
typed in Notion that looks like Markdown (``*not italic*``) comes back escaped, and a note
carried through Notion comes back as written, its wikilinks as written whether or not they
resolved to pages. A space or tab first in a block's text is written ``&#32;`` or ``&#9;``
(but in a paragraph shaped like an indented code block), and so is one last where it would
not read back (see :func:`~.inline_writer.rich_text_to_markdown`). Pure: no I/O.

Blocks with no Markdown equivalent (child pages and databases, synced blocks, embeds,
bookmarks, files hosted by Notion, columns, ``unsupported``...) are written as a
placeholder line, ``%%notion:<type>:<id>%%`` (an Obsidian comment: invisible when
reading), so the note keeps their place; see :func:`placeholder_of`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .inline_writer import LinkTargetLookup, rich_text_to_markdown, segments
from .styles import EMOJI_CALLOUT, MarkdownStyle, safe_fence
from .to_blocks import convert

__all__ = ["PLACEHOLDER_RE", "comparable", "placeholder_of", "render_blocks"]

PLACEHOLDER_RE = re.compile(r"%%notion:(?P<type>[a-z_0-9]+):(?P<id>[0-9a-fA-F-]*)(?: [^\n]*)?%%")
"""A placeholder line for a Notion block the note cannot hold."""
_LIST = ("bulleted_list_item", "numbered_list_item", "to_do")


def _tight(previous: str | None, kind: str) -> bool:
    """Items of one Markdown list follow each other without a blank line."""
    family = {"bulleted_list_item": "-", "to_do": "-", "numbered_list_item": "1"}
    return previous in family and family.get(kind) == family[previous]


_SAME_LINE = (*_LIST, "code", "quote", "callout", "toggle", "heading_1", "heading_2", "heading_3")
_THEMATIC_RE = re.compile(r"[ ]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*(?:\n|\Z)")
"""A line Markdown reads as a thematic break (a divider)."""
_FENCE_RE = re.compile(r"(`{3,}|~{3,})([^\n]*)\Z")
_CALLOUT_RE = re.compile(r"\[![^\]\n]+\][+-]?")
_BARE_MARKER_RE = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]*(?:\n|\Z)")
"""A list item's first line with nothing after its marker."""


_DEFAULT_STYLE = MarkdownStyle()


@dataclass(frozen=True)
class _Style:
    escape: int = 0
    spaces: bool = False
    link_target: LinkTargetLookup | None = None
    md: MarkdownStyle = _DEFAULT_STYLE
    loose: bool = False
    """Blank lines between all blocks inside quotes (else only where Markdown needs one)."""
    simple: bool = False
    """Inline spellings that read back in any context: formatting inside link labels,
    one code span per line (see :func:`~.inline_writer.rich_text_to_markdown`)."""
    edges: bool = False
    """A space or tab a block's text starts or ends with written ``&#32;``/``&#9;``. Without
    it, only the space or tab it starts with, unless the text is a paragraph's shaped like
    an indented code block (:func:`_code_shaped`); the rest is written as it is (it reads
    back where a line follows it: a callout's title over its text, text carried
    verbatim)."""


def placeholder_of(text: str) -> tuple[str, str] | None:
    """``(type, id)`` when ``text`` is a placeholder line, else ``None``."""
    match = PLACEHOLDER_RE.fullmatch(text.strip())
    return (match.group("type"), match.group("id")) if match else None


def _body(block: dict[str, Any]) -> dict[str, Any]:
    value = block.get(str(block.get("type")))
    return value if isinstance(value, dict) else {}


def _children(block: dict[str, Any]) -> list[dict[str, Any]]:
    nested = _body(block).get("children")
    if nested is None:
        nested = block.get("children")
    return list(nested or [])


def _typed_marker(items: list[dict[str, Any]] | None, text: str) -> re.Match[str] | None:
    """The ``[!type]`` marker ``text`` starts with when the Notion text itself starts with
    it as plain characters (a callout made from Obsidian keeps its marker there), else
    ``None``: a link or bold text that merely renders as ``[!...]`` is not a marker."""
    match = _CALLOUT_RE.match(text)
    if match is None or not items:
        return None
    first = items[0]
    content = (first.get("text") or {}) if first.get("type", "text") == "text" else {}
    plain = str(content.get("content", "")) if isinstance(content, dict) else ""
    styled = (isinstance(content, dict) and content.get("link")) or any(
        (first.get("annotations") or {}).get(name)
        for name in ("bold", "italic", "strikethrough", "underline", "code")
    )
    if styled or not plain.startswith(match.group(0)):
        return None
    return match


def _plain(items: list[dict[str, Any]] | None) -> str:
    out = []
    for item in items or []:
        text = item.get("text")
        if isinstance(text, dict) and "content" in text:
            out.append(str(text["content"]))
        elif item.get("type") == "equation":
            out.append(str((item.get("equation") or {}).get("expression", "")))
        else:
            out.append(str(item.get("plain_text", "")))
    return "".join(out)


def _is_empty_paragraph(block: dict[str, Any]) -> bool:
    return (
        block.get("type") == "paragraph"
        and not _body(block).get("rich_text")
        and not _children(block)
    )


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0] if lines[0] or first.strip() else first.rstrip()]
    for line in lines[1:]:
        out.append(rest + line if line else rest.rstrip())
    return "\n".join(out)


class _Writer:
    def __init__(self, style: _Style) -> None:
        self.style = style

    def rich(
        self, items: list[dict[str, Any]] | None, at_line_start: bool = True, code: bool = False
    ) -> str:
        """A block's text (``items``, all of it) as inline Markdown; ``code``: a
        paragraph's, which may be written as the indented code block it has the shape of
        (:func:`_code_shaped`)."""
        items = list(items or [])
        plain = _plain(items)
        edges = self.style.edges or (
            plain[:1] in (" ", "\t") and not (code and _code_shaped(plain))
        )
        return rich_text_to_markdown(
            items,
            escape=self.style.escape,
            link_target=self.style.link_target,
            at_line_start=at_line_start,
            italic=self.style.md.italic if self.style.escape < 2 else "*",
            bold=self.style.md.bold if self.style.escape < 2 else "**",
            simple=self.style.simple,
            edges=edges,
        )

    def sequence(self, blocks: list[dict[str, Any]], contained: bool = False) -> str:
        return join_blocks(
            blocks, self.block, self.style.md, contained=contained and not self.style.loose
        )

    def block(self, block: dict[str, Any], number: int = 1) -> str:
        kind = str(block.get("type"))
        body = _body(block)
        children = _children(block)
        method: Callable[[dict[str, Any], list[dict[str, Any]], int], str] | None = getattr(
            self, "w_" + kind, None
        )
        if method is None:
            return _placeholder(block, kind)
        return method(body, children, number)

    def _then(self, head: str, children: list[dict[str, Any]]) -> str:
        """``head`` followed by ``children`` as sibling blocks (Markdown cannot nest them)."""
        if not children:
            return head
        return head + "\n\n" + self.sequence(children)

    def w_paragraph(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        text = self.rich(body.get("rich_text"), code=True)
        if text.startswith("\n") and text.strip():
            # a line break first: an empty first line would be a blank line, so the break
            # is written as Markdown's hard break (a backslash), as it was read
            text = "\\" + text
        return self._then(text, children)

    def _heading(self, level: int, body: dict[str, Any], children: list[dict[str, Any]]) -> str:
        text = _protect_closing_hashes(self.rich(body.get("rich_text"), at_line_start=False))
        return self._then("#" * level + (" " + text if text else ""), children)

    def w_heading_1(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._heading(1, body, children)

    def w_heading_2(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._heading(2, body, children)

    def w_heading_3(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._heading(3, body, children)

    def w_heading_4(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._heading(4, body, children)

    def _item(
        self,
        marker: str,
        body: dict[str, Any],
        children: list[dict[str, Any]],
        width: int = 0,
        kind: str = "",
    ) -> str:
        """A list item of type ``kind``; ``width`` is where its content starts (the
        marker's width)."""
        text = self.rich(body.get("rich_text"))
        if text.startswith("\n"):
            # a line break first: an empty first line would end the item's text, so the
            # break is written as Markdown's hard break (a backslash), as it was read
            text = "\\" + text
        unit = self.style.md.indent
        width = width or len(marker)
        if text.startswith("\\\n"):
            unit = " " * width  # a tab would leave columns that read back as text
        elif self.style.spaces or (unit != "\t" and len(unit) < width) or width > 4:
            unit = " " * width
        nested = self.sequence(children).rstrip("\n") if children else ""
        # The item's own lines line up under its text, with spaces (as Obsidian writes
        # them): a tab there would reach past the text's column, and the columns past it
        # read back as spaces in the text.
        lines = " " * width
        if not nested.strip():  # no children, or only empty paragraphs (nothing to write)
            return _indent(text, marker, lines) if text else marker.rstrip()
        first = str(children[0].get("type"))
        # an empty to-do's line still holds a paragraph, its "[ ]": what follows it on that
        # line would be its text, and what follows on the next line must not join it
        holds_text = bool(text) or kind == "to_do"
        if not holds_text and first in _SAME_LINE:
            joined = _indent(nested, marker, unit)
            if not _THEMATIC_RE.match(joined):  # "- - -" would be a divider
                return joined
        if not text and first == "paragraph" and kind:
            # a paragraph carried verbatim (``%%``, ``0.``) may start on the marker's line
            # when it does not read back as the item's text there: as it was written
            joined = _indent(nested, marker, unit)
            # read alone, an item numbered 2 would start a list at 2: check it as item 1
            alone = re.sub(r"\A\d+", "1", joined) if kind == "numbered_list_item" else joined
            if _reads_as_item(alone, kind, body, children):
                return joined
        head = _indent(text, marker, lines) if text else marker.rstrip()
        # an item with an empty first line cannot interrupt the text above it: a bare
        # "-" there is a setext underline, a bare "1." more text; a blank line first
        tight = first in _LIST and not _BARE_MARKER_RE.match(nested)
        sep = "\n" if tight or not holds_text else "\n\n"
        return head + sep + _indent(nested, unit, unit)

    def w_bulleted_list_item(
        self, body: dict[str, Any], children: list[dict[str, Any]], _n: int
    ) -> str:
        return self._item(self.style.md.bullet + " ", body, children, kind="bulleted_list_item")

    def w_numbered_list_item(
        self, body: dict[str, Any], children: list[dict[str, Any]], number: int
    ) -> str:
        return self._item(f"{number}. ", body, children, kind="numbered_list_item")

    def w_to_do(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        box = self.style.md.bullet + (" [x] " if body.get("checked") else " [ ] ")
        text = self.rich(body.get("rich_text"))
        if not text and not children:
            return box.rstrip()
        return self._item(box, body, children, width=len(self.style.md.bullet) + 1, kind="to_do")

    def w_quote(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        items = list(body.get("rich_text") or [])
        head = [{"type": "paragraph", "paragraph": {"rich_text": items}}] if items else []
        inner = self.sequence(head + children, contained=True)
        return _indent(inner, self.style.md.quote, self.style.md.quote)

    def _title(self, items: list[dict[str, Any]] | None) -> str:
        """A callout's or toggle's title (a space or tab it starts with is ``&#32;`` or
        ``&#9;``: after the marker's one space it would make the marker text)."""
        return self.rich(items, at_line_start=False)

    def w_callout(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        text = self._title(body.get("rich_text"))
        if not _typed_marker(body.get("rich_text"), text):
            icon = body.get("icon") or {}
            kind = EMOJI_CALLOUT.get(str(icon.get("emoji", "")), "note")
            text = f"[!{kind}]" + (" " + text if text else "")
        return self._callout_lines(text, children)

    def _callout_lines(self, header: str, children: list[dict[str, Any]]) -> str:
        inner = header
        body = self.sequence(children, contained=True) if children else ""
        first = next((c for c in children if not _is_empty_paragraph(c)), None)
        kind = str(first.get("type")) if first is not None else ""
        # an item with an empty first line cannot start right under the title (it would
        # be a setext underline or more title): one blank line more, which is not an
        # empty paragraph there
        bare = kind in _LIST and _BARE_MARKER_RE.match(body.lstrip("\n")) is not None
        if first is None:
            inner += body  # only blank lines: one ">" line each
        elif bare:
            inner += "\n\n" + body
        elif kind in _SAME_LINE or (kind in ("paragraph", "image") and first is children[0]):
            inner += "\n" + body  # starts right under the title (a paragraph joins it)
        else:  # after blank lines, or an equation, divider, table...: a blank line first
            inner += "\n\n" + body
        prefix = self.style.md.callout or self.style.md.quote
        return _indent(inner, prefix, prefix)

    def w_toggle(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        text = self._title(body.get("rich_text"))
        match = _typed_marker(body.get("rich_text"), text)
        if match is None or not match.group(0).endswith(("+", "-")):
            text = "[!note]-" + (" " + text if text else "")
        return self._callout_lines(text, children)

    def w_code(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        content = _plain(body.get("rich_text"))
        caption = _plain(body.get("caption"))
        language = str(body.get("language") or "plain text")
        opener = caption if _FENCE_RE.fullmatch(caption) else None
        if opener is None or (opener[0] == "`" and "`" in opener.lstrip("`")):
            opener = "```" + ("" if language == "plain text" else language)
        fence_match = _FENCE_RE.fullmatch(opener)
        assert fence_match is not None
        fence, info = fence_match.group(1), fence_match.group(2)
        fence = safe_fence(content, fence)
        return self._then(f"{fence}{info}\n{content}\n{fence}", children)

    def w_equation(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._then(f"$${body.get('expression', '')}$$", children)

    def w_divider(self, _body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        return self._then("---", children)

    def w_image(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        if body.get("type", "external") != "external":
            return _placeholder({"type": "image", **body}, "image")
        url = str((body.get("external") or {}).get("url", ""))
        alt = _plain(body.get("caption")).replace("\n", " ")
        return self._then(f"![{alt}]({url})", children)

    def w_table(self, body: dict[str, Any], children: list[dict[str, Any]], _n: int) -> str:
        width = int(body.get("table_width") or 0) or max(
            (len(_body(r).get("cells") or []) for r in children), default=1
        )
        rows = []
        for row in children:
            cells = list(_body(row).get("cells") or [])
            cells = (cells + [[]] * width)[:width]
            rows.append(
                [
                    self.rich(cell, at_line_start=False).replace("\n", " ").replace("|", "\\|")
                    for cell in cells
                ]
            )
        if not rows:
            rows = [[""] * width]
        padded = self.style.md.padded_tables
        widths = [max(3, *(len(r[i]) for r in rows)) if padded else 3 for i in range(width)]

        def line(cells: list[str]) -> str:
            if padded:
                cells = [c.ljust(w) for c, w in zip(cells, widths, strict=True)]
            return "| " + " | ".join(cells) + " |"

        lines = [line(rows[0]), line(["-" * w for w in widths])]
        lines.extend(line(r) for r in rows[1:])
        return "\n".join(lines)


_CLOSING_HASHES_RE = re.compile(r"(?:\A|(?<=[ \t]))(\\?)(#+)[ \t]*\Z")
"""A heading's text ending in ``#``s after a space: the closing sequence Markdown drops
(``## Title #`` is "Title"), or, after a backslash, that sequence escaped (``\\#``)."""


def _protect_closing_hashes(text: str) -> str:
    """A heading's inline Markdown ``text`` with the ``#``s it ends with kept as text: a
    backslash before them (``Title \\#``, which reads back as ``Title #``), and a backslash
    already there (typed in Notion) doubled, as it would read as that escape (see
    :meth:`~.to_blocks._Converter.heading_text`)."""
    match = _CLOSING_HASHES_RE.search(text)
    if match is None:
        return text
    return text[: match.start()] + "\\" * (len(match.group(1)) + 1) + text[match.start(2) :]


_INDENTED_LINE_RE = re.compile(r"(?: {0,3}\t| {4})|[ \t]*\Z")


def _code_shaped(text: str) -> bool:
    """``text`` has the shape of an indented code block (the text a note's indented code
    block is carried in, as a paragraph): each line indented by four columns or blank,
    not all blank. Written as it is, a paragraph or quote text of that shape reads back
    as it, and a note's indented code block comes back as written; so it is not given
    ``&#32;`` (Obsidian shows it as the code block, its spaces kept)."""
    lines = text.split("\n")
    return bool(text.strip()) and all(_INDENTED_LINE_RE.match(line) for line in lines)


def _reads_as_item(
    text: str, kind: str, body: dict[str, Any], children: list[dict[str, Any]]
) -> bool:
    """``text`` reads back as one list item of type ``kind`` with ``body``'s text and
    these ``children``."""
    parsed, _spans = convert(text)
    want = comparable({"type": kind, kind: {**body, "children": children}})
    return len(parsed) == 1 and comparable(parsed[0]) == want


def _placeholder(block: dict[str, Any], kind: str) -> str:
    title = _body(block).get("title")
    suffix = f" {title}" if isinstance(title, str) and title and "%%" not in title else ""
    return f"%%notion:{kind}:{block.get('id', '')}{suffix.replace(chr(10), ' ')}%%"


def _rich_key(items: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Rich text as Markdown can hold it: formatting and links as segments (whitespace at
    its two ends included: ``&#32;`` and ``&#9;`` hold it there)."""
    out = []
    for s in segments(items):
        value = s.value
        if s.kind == "mention":
            value = value.replace("-", "").lower()
        out.append((s.kind, value, s.marks, s.code, s.link if s.kind == "text" else None))
    return tuple(out)


def comparable(block: dict[str, Any]) -> tuple[Any, ...]:
    """What Markdown can hold of ``block`` (request- or response-shaped), for comparing."""
    kind = str(block.get("type"))
    body = _body(block)

    def rich(key: str = "rich_text") -> tuple[Any, ...]:
        return _rich_key(list(body.get(key) or []))

    children = tuple(comparable(child) for child in _children(block))
    if kind == "code":
        return (
            kind,
            _plain(body.get("rich_text")),
            body.get("language"),
            _plain(body.get("caption")),
            children,
        )
    if kind == "equation":
        return (kind, body.get("expression"), children)
    if kind == "image":
        return (kind, str((body.get("external") or {}).get("url")), _plain(body.get("caption")))
    if kind == "table":
        return (kind, body.get("table_width"), children)
    if kind == "table_row":
        return (kind, tuple(_rich_key(list(c)) for c in body.get("cells") or []))
    if kind == "to_do":
        return (kind, rich(), bool(body.get("checked")), children)
    if kind == "callout":
        return (kind, rich(), str((body.get("icon") or {}).get("emoji", "")), children)
    return (kind, rich(), children)


def _touching(previous: dict[str, Any], block: dict[str, Any], number: int) -> bool:
    """``block`` may start on the line right after ``previous`` (inside a quote, where a
    blank line is a ``>`` line of its own) without Markdown reading them as one block."""
    before, kind = str(previous.get("type")), str(block.get("type"))
    has_text = bool(_body(block).get("rich_text"))
    if before in _LIST:
        return _tight(before, kind)
    if kind in ("bulleted_list_item", "to_do") or (kind == "numbered_list_item" and number == 1):
        return has_text
    if kind == "code" or kind.startswith("heading_"):
        return True
    return kind == "paragraph" and (before == "code" or before.startswith("heading_"))


def join_blocks(
    blocks: list[dict[str, Any]],
    render: Callable[[dict[str, Any], int], str],
    style: MarkdownStyle,
    *,
    contained: bool = False,
) -> str:
    """``blocks`` rendered by ``render(block, number)`` and joined: a blank line between
    blocks (none between items of one list, none after a heading when ``style`` says so,
    and inside quotes (``contained``) none where Markdown does not need one), and one more
    blank line for each empty paragraph."""
    out: list[str] = []
    previous: dict[str, Any] | None = None
    number = 0
    blank = 0
    for block in blocks:
        kind = str(block.get("type"))
        if _is_empty_paragraph(block):
            blank += 1
            continue
        before = str(previous.get("type")) if previous is not None else None
        number = number + 1 if kind == "numbered_list_item" and before == kind and not blank else 1
        text = render(block, number)
        if out and previous is not None:
            if contained:
                tight = not blank and _touching(previous, block, number)
            else:
                tight = not blank and (
                    _tight(before, kind)
                    or (not style.blank_after_heading and str(before).startswith("heading_"))
                )
            out.append(("\n" if tight else "\n\n") + "\n" * blank)
        elif blank:
            out.append("\n" * blank)
        out.append(text)
        previous, blank = block, 0
    if blank:
        out.append("\n" * blank)
    return "".join(out)


def render_blocks(
    blocks: list[dict[str, Any]],
    link_target: LinkTargetLookup | None = None,
    style: MarkdownStyle | None = None,
) -> str:
    """Markdown for ``blocks`` (see the module docstring); ends with a line break unless
    there are no blocks."""
    md_style = style or MarkdownStyle()
    inverse: dict[str, str] = {}
    texts: dict[str, str] = {}
    if link_target is not None:
        _collect_targets(blocks, link_target, inverse, texts)
    page_id = _Inverse(inverse, texts) if link_target is not None else None
    plain = _Writer(_Style(0, False, link_target, md_style))
    text = join_blocks(blocks, plain.block, md_style)
    if _reads_back(text, blocks, page_id):
        return text + "\n" if text else ""

    escalated: dict[int, int] = {}  # blocks that misread in context: the least escaping
    by_id = {id(block): index for index, block in enumerate(blocks)}

    def verified(block: dict[str, Any], number: int) -> str:
        least = escalated.get(by_id.get(id(block), -1), 0)
        return _verified(block, number, link_target, page_id, md_style, least)

    for _round in range(6):
        text = join_blocks(blocks, verified, md_style)
        wrong = _first_misread(text, blocks, page_id)
        if wrong is None or min(escalated.get(i, 0) for i in (wrong - 1, wrong)) >= 3:
            break
        # A block that reads back alone can still swallow the next one (an unclosed
        # ``%%`` or ``$$`` typed in Notion): escape the pair where the reading went wrong,
        # wikilink-shaped text too if that was not enough.
        for index in (wrong - 1, wrong):
            escalated[index] = 3 if escalated.get(index, 0) >= 2 else 2
    return text + "\n" if text else ""


def _first_misread(
    text: str, blocks: list[dict[str, Any]], page_id: Callable[[str], str | None] | None
) -> int | None:
    """Index of the first block ``text`` does not read back as, or ``None``."""
    parsed, _spans = convert(text, page_id)
    got = [comparable(b) for b in parsed]
    want = [comparable(b) for b in blocks]
    if got == want:
        return None
    return next(
        (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
        min(len(got), len(want)),
    )


def _reads_back(
    text: str, blocks: list[dict[str, Any]], page_id: Callable[[str], str | None] | None
) -> bool:
    return _first_misread(text, blocks, page_id) is None


_ATTEMPTS = (
    (0, False, False),
    (0, True, False),
    (0, False, True),
    (1, False, False),
    (1, True, False),
    (1, False, True),
    (2, False, False),
    (2, True, False),
    (2, False, True),
    (2, True, True),
    (3, False, False),
    (3, True, False),
    (3, False, True),
    (3, True, True),
)


def _verified(
    block: dict[str, Any],
    number: int,
    link_target: LinkTargetLookup | None,
    page_id: Callable[[str], str | None] | None,
    md_style: MarkdownStyle,
    least: int = 0,
) -> str:
    """``block`` written in the first way that reads back as itself (escaping at least
    ``least``)."""
    if "w_" + str(block.get("type")) not in _Writer.__dict__:
        return _placeholder(block, str(block.get("type")))  # nothing to verify
    expected = [comparable(block)]
    first: str | None = None
    for escape, spaces, loose in _ATTEMPTS:
        if escape < least:
            continue
        tried: set[str] = set()
        for edges, simple in ((False, False), (False, True), (True, False), (True, True)):
            style = _Style(escape, spaces, link_target, md_style, loose, simple, edges)
            writer = _Writer(style)
            text = writer.block(block, number)
            if text in tried:
                continue  # nothing the simple or edge spellings change
            tried.add(text)
            if first is None:
                first = text
            # Read alone, an item numbered 2 would start a list at 2 (kept verbatim):
            # check the same writing as item 1.
            alone = writer.block(block, 1) if number != 1 else text
            parsed, _spans = convert(alone, page_id)
            if [comparable(b) for b in parsed] == expected:
                return text
    return first or ""


class _Inverse:
    """The ``page_id`` lookup a body written by :func:`render_blocks` is read back with:
    each target it wrote → its page, and the alias it gave mentions (``mention_text``)."""

    def __init__(self, targets: dict[str, str], texts: dict[str, str]) -> None:
        self.targets = targets
        self.texts = texts

    def __call__(self, target: str) -> str | None:
        return self.targets.get(target)

    def mention_text(self, page_id: str) -> str | None:
        return self.texts.get(page_id)


def _collect_targets(
    blocks: list[dict[str, Any]],
    link_target: LinkTargetLookup,
    inverse: dict[str, str],
    texts: dict[str, str],
) -> None:
    from .inline_writer import mention_alias, page_link_of_url, shown_target, target_for

    for block in blocks:
        body = _body(block)
        groups = [body.get("rich_text") or [], body.get("caption") or []]
        groups.extend(body.get("cells") or [])
        for items in groups:
            for item in items:
                page: str | None = None
                sub: str | None = None
                if item.get("type") == "mention":
                    page = str(((item.get("mention") or {}).get("page") or {}).get("id", ""))
                else:
                    url = ((item.get("text") or {}).get("link") or {}).get("url")
                    page, sub = page_link_of_url(url) if url else (None, None)
                if page:
                    text = str((item.get("text") or {}).get("content", ""))
                    shown = text if item.get("type", "text") == "text" else None
                    target = target_for(link_target, page, shown)
                    if target is not None and item.get("type") == "mention":
                        alias = mention_alias(link_target, page, item.get("plain_text"))
                        if alias is not None:
                            texts.setdefault(page, alias)
                    if target is not None:
                        inverse.setdefault(target.strip(), page)
                        name = shown_target(text, sub, target) if sub else None
                        if name is not None:
                            inverse.setdefault(name, page)  # [[Note#Heading]] as written
        _collect_targets(_children(block), link_target, inverse, texts)
