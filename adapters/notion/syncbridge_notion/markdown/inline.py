"""Inline Markdown → Notion rich text (request-shaped items).

What maps, and how (see ``docs/notion.md``, "Bodies: Markdown and blocks"):

* ``**bold**``, ``*italic*``, ``~~strike~~``, ``` `code` ``` → annotations; a code
  span keeps its inner text as written (one space of padding around a backtick is
  dropped, as CommonMark does). A line break inside a code span stays in the code run
  (CommonMark shows it as a space; Notion as the break it is); where the span's next
  line would be read for block syntax first (``# x``), the writer writes one code span
  per line with a plain line break between them, which compares as the same text (a
  break with nothing on one side within the span is CommonMark's space, inside the code).
* ``[text](https://...)`` (http, https or mailto, no title, within 2,000 characters) and
  ``<https://...>`` → a link (written back as ``[text](url)``). Any other link (relative,
  with a title, a reference link, one right after a link to the same URL, which Notion
  would merge with it) stays literal text.
* ``$x$`` → an inline equation (within 1,000 characters); otherwise literal.
* ``[[Target]]`` → a page mention when ``page_id("Target")`` knows the page, and so is
  ``[[Target|Title]]`` when ``page_id.mention_text(page)`` is ``Title`` (a lookup may
  have that method: the page's title, for a page whose note has another name);
  ``[[Target|alias]]`` → the alias, linked to the page's URL; ``[[Target#Heading]]``,
  ``[[Target#^block]]`` → their text (or alias) linked to the page's URL with the heading
  or block, percent-encoded, as its fragment; ``![[...]]`` → ``!`` before any of these.
  Links to targets ``page_id`` does not know (attachments, notes that are not synced,
  ``[[#Heading]]`` of the note itself) stay literal text. ``[@Title](https://www.notion.so/
  <32 hex digits>)``, the way the writer spells a mention of a page no note stands for,
  is that page mention again, and so is a link labelled ``@...`` to any URL
  :mod:`.mention_links` reads as a mention (a database, a user, a date...).
* Everything else (``%%comments%%``, HTML, ``==highlights==``, ``#tags``, ``^block-ids``,
  footnote references, images inside text) is literal text: it is shown in Notion as
  written and comes back as written. A backslash escape of a character that is inline
  syntax (``\\*not italic\\*``), or block syntax where a line starts (``\\# not a
  heading``), becomes that character (the writer escapes it again where it must); any
  other (``\\:`` or ``\\{`` of LaTeX outside math, ``a \\- b``) is kept as written.
* A line break keeps the spaces around it (``"a  \\nb"`` has the two spaces).
* ``&#32;`` and ``&#9;`` as the first or last characters of a block's text are a space and
  a tab (the writer's spelling of whitespace Markdown drops there, or that would make an
  indented code block); ``\\&#32;`` there is the text ``&#32;``. Anywhere else, and any
  other character reference (``&amp;``), is text as written.

Text longer than 2,000 UTF-16 units is split into runs. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from markdown_it.token import Token

from .limits import MAX_EQUATION, MAX_TEXT, MAX_URL, utf16_len
from .mention_links import mention_of_url
from .parser import parse_inline

__all__ = [
    "PageIdLookup",
    "inline_to_rich_text",
    "mention_text",
    "notion_page_url",
    "plain_run",
    "split_text",
]

PageIdLookup = Callable[[str], "str | None"]
"""Wikilink target (as written, trimmed) → Notion page id, or ``None`` when not synced. It
may also have a method ``mention_text(page_id)``: the alias a wikilink that stands for a
mention of that page carries (its title, when its note is named otherwise), or ``None``."""


def mention_text(page_id: PageIdLookup | None, page: str) -> str | None:
    """What ``page_id.mention_text(page)`` answers (``None`` without the method)."""
    method = getattr(page_id, "mention_text", None)
    found = method(page) if callable(method) else None
    return found if isinstance(found, str) and found else None


_MARKS = {"strong": "bold", "em": "italic", "s": "strikethrough"}
_LINK_RE = re.compile(r"\[(?P<label>.*)\]\((?P<dest>[^\s<>]*)\)\Z", re.S)
_PAGE_ID_RE = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")
_URL_RE = re.compile(r"(?:https?://|mailto:)\S+\Z", re.I)


def notion_page_url(page_id: str) -> str:
    """The URL a link to Notion page ``page_id`` carries."""
    return "https://www.notion.so/" + page_id.replace("-", "")


def split_text(content: str, limit: int = MAX_TEXT) -> list[str]:
    """``content`` cut into pieces of at most ``limit`` UTF-16 units (never inside a
    surrogate pair)."""
    if utf16_len(content) <= limit:
        return [content]
    pieces: list[str] = []
    start = units = 0
    for index, char in enumerate(content):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > limit:
            pieces.append(content[start:index])
            start, units = index, 0
        units += width
    pieces.append(content[start:])
    return pieces


def plain_run(content: str) -> list[dict[str, Any]]:
    """Request items holding ``content`` as plain text (split into 2,000-unit runs)."""
    return [{"type": "text", "text": {"content": piece}} for piece in split_text(content) if piece]


def valid_url(url: str) -> bool:
    """An absolute http(s)/mailto URL Notion accepts for a link or an image."""
    return bool(_URL_RE.match(url)) and utf16_len(url) <= MAX_URL and "\\" not in url


class _Builder:
    """Collects runs: consecutive text with the same annotations and link is one run."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.marks: dict[str, int] = {}
        self.link: str | None = None

    def _annotations(self, code: bool = False) -> dict[str, bool]:
        flags = {name: True for name, depth in self.marks.items() if depth > 0}
        if code:
            flags["code"] = True
        return flags

    def text(self, content: str, code: bool = False) -> None:
        if not content:
            return
        annotations = self._annotations(code)
        last = self.items[-1] if self.items else None
        if (
            last is not None
            and last["type"] == "text"
            and last.get("annotations", {}) == annotations
            and (last["text"].get("link") or {}).get("url") == self.link
        ):
            last["text"]["content"] += content
            return
        item: dict[str, Any] = {"type": "text", "text": {"content": content}}
        if self.link is not None:
            item["text"]["link"] = {"url": self.link}
        if annotations:
            item["annotations"] = annotations
        self.items.append(item)

    def other(self, item: dict[str, Any]) -> None:
        annotations = self._annotations()
        if annotations:
            item["annotations"] = annotations
        self.items.append(item)

    def mark(self, name: str, delta: int) -> None:
        self.marks[name] = self.marks.get(name, 0) + delta

    def finish(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for item in self.items:
            if item["type"] != "text":
                result.append(item)
                continue
            for piece in split_text(item["text"]["content"]):
                copy = {**item, "text": {**item["text"], "content": piece}}
                result.append(copy)
        return result


def _code_inner(raw: str, markup: str) -> str:
    """A code span's text: as written, but for one space of padding on each side of
    text whose ends, past its spaces, are backticks (``` `` `x` `` ``` is `` `x` ``,
    ``` ``  `  `` ``` is `` ` ``: the writer pads such text, CommonMark strips it)."""
    inner = raw[len(markup) : len(raw) - len(markup)]
    stripped = inner[1:-1]
    core = stripped.strip(" ")
    if (
        len(inner) >= 2
        and inner[0] == " "
        and inner[-1] == " "
        and (core.startswith("`") or core.endswith("`"))
    ):
        return stripped
    return inner


def _code_lines(builder: _Builder, inner: str) -> None:
    """A code span's text, as one code run: a line break inside the span stays in the
    code (the writer writes the span over the same lines where they read back, else one
    span per line with a plain line break between them, which compares equal). A line
    break with nothing on one side within the span (``a`` then a break just before the
    closing backticks) is CommonMark's space instead: a paragraph's text cannot start or
    end with a line break, nor hold an empty line, so a break there would not read back."""
    pieces = inner.split("\n")
    text = pieces[0]
    for piece in pieces[1:]:
        text += ("\n" if text and piece else " ") + piece
    builder.text(text, code=True)


def _break_text(src: str, token: Token, floor: int = 0) -> str:
    """A line break's text with the spaces before it (markdown-it trims them off the
    text), not reaching back before ``floor``, the end of the token before it (the space
    of an escape, ``\\ ``, is that token's own)."""
    start, end = token.meta["span"]
    if src[start] == "\\":  # backslash hard break: the backslash is syntax
        return src[start + 1 : end]
    while start > floor and src[start - 1] == " ":
        start -= 1
    return src[start:end]


def _wikilink(builder: _Builder, raw: str, page_id: PageIdLookup | None) -> None:
    """A wikilink to a synced note (``page_id`` knows its target): ``[[Target]]`` a page
    mention; ``[[Target|alias]]`` the alias linked to the page's URL; ``[[Target#Heading]]``
    and ``[[Target#^block]]`` their text (or alias) linked to the page's URL with the
    heading or block as its fragment; an embed ``![[...]]`` a ``!`` before any of these.
    Anything else (unsynced targets, attachments, links within the note) stays text."""
    embed = raw.startswith("!")
    inner = raw[3:-2] if embed else raw[2:-2]
    alias: str | None = None
    if "|" in inner:
        inner, alias = inner.split("|", 1)
        inner = inner.removesuffix("\\")
    name, hashed, sub = inner.partition("#")
    target = name.strip()
    found = page_id(target) if page_id is not None and target else None
    if found is not None and not _PAGE_ID_RE.fullmatch(found):
        found = None  # not a Notion id: Notion would reject the mention, keep the text
    if found is None or alias == "" or (hashed and not sub.strip()):
        builder.text(raw)
        return
    if embed:
        builder.text("!")
    if not hashed and (alias is None or alias == mention_text(page_id, found)):
        # [[Note]], or [[Foo 2|Foo]]: the mention of a page whose note is named otherwise
        builder.other({"type": "mention", "mention": {"type": "page", "page": {"id": found}}})
        return
    url = notion_page_url(found) + ("#" + quote(sub, safe="") if hashed else "")
    if not valid_url(url):
        builder.text(raw[1:] if embed else raw)
        return
    saved, builder.link = builder.link, url
    builder.text(alias if alias is not None else inner)
    builder.link = saved


def _link_mention(tokens: list[Token], index: int, raw: str, token: Token) -> dict[str, Any] | None:
    """``[@Title](url)`` with a URL that stands for a mention (:mod:`.mention_links`: the
    way a mention the vault has no wikilink for is written): that mention again (the
    label is Notion's to show). Any other link, and one whose label does not start with
    ``@`` or holds a link, is ``None``."""
    match = _LINK_RE.match(raw)
    if match is None or token.attrs.get("title"):
        return None
    mention = mention_of_url(match.group("dest"))
    first = tokens[index + 1] if index + 1 < len(tokens) else None
    if mention is None or first is None or first.type != "text":
        return None
    if not first.content.startswith("@"):
        return None
    close = _skip_to_close(tokens, index)
    if any(t.type in ("link_open", "wikilink") for t in tokens[index + 1 : close]):
        return None
    return {"type": "mention", "mention": mention}


def _link_dest(raw: str, token: Token) -> str | None:
    if token.attrs.get("title"):
        return None
    match = _LINK_RE.match(raw)
    if match is None:
        return None
    dest = match.group("dest")
    return dest if valid_url(dest) else None


EDGE_ENTITIES = {" ": "&#32;", "\t": "&#9;"}
"""The spelling of a space or tab that starts or ends a block's text (Markdown drops the
whitespace there, and four spaces or a tab first would make an indented code block)."""
_LEAD_ENTITY_RE = re.compile(r"(\\?)&#(32|9);")
_TRAIL_ENTITY_RE = re.compile(r"(\\*)&#(32|9);\Z")
_ENTITY_CHAR = {"32": " ", "9": "\t"}


def _edges(src: str, lead: bool, trail: bool) -> tuple[str, str, str]:
    """``(head, src, tail)``: ``src`` without the character reference of a space or tab
    at its start (``lead``) and end (``trail``), :data:`EDGE_ENTITIES`, and the text
    each stands for. Escaped (``\\&#32;``: an odd number of backslashes before it) it
    is the reference as text, without that backslash. Elsewhere ``&#32;`` is text, as
    every character reference is."""
    head = tail = ""
    if lead:
        match = _LEAD_ENTITY_RE.match(src)
        if match is not None:
            reference = match.group(0).lstrip("\\")
            head = reference if match.group(1) else _ENTITY_CHAR[match.group(2)]
            src = src[match.end() :]
    if trail:
        match = _TRAIL_ENTITY_RE.search(src)
        if match is not None:
            slashes = len(match.group(1))
            reference = match.group(0)[slashes:]
            if slashes % 2:  # escaped: the reference as text, its backslash dropped
                tail, src = reference, src[: match.end(1) - 1]
            else:
                tail, src = _ENTITY_CHAR[match.group(2)], src[: match.end(1)]
    return head, src, tail


def inline_to_rich_text(
    src: str,
    page_id: PageIdLookup | None = None,
    line_start: bool = True,
    *,
    lead: bool = False,
    trail: bool = False,
) -> list[dict[str, Any]]:
    """Rich-text request items for inline Markdown ``src`` (may be empty); ``line_start``
    says whether ``src`` starts a line where block syntax could begin (not in a heading,
    a callout title or a table cell). With ``lead`` (``trail``), ``src`` is the start
    (end) of a block's text, where ``&#32;`` and ``&#9;`` stand for a space and a tab
    (:func:`_edges`)."""
    builder = _Builder()
    head, src, tail = _edges(src, lead, trail)
    if head:
        builder.text(head)
        line_start = False  # what follows the reference does not start a line
    tokens = parse_inline(src)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        span = token.meta.get("span") if isinstance(token.meta, dict) else None
        raw = src[span[0] : span[1]] if span else token.content
        if kind == "text_special" and token.info == "escape" and span is not None:
            builder.text(token.content if _meaningful(src, span, line_start) else raw)
        elif kind in ("text", "text_special"):
            builder.text(token.content)
        elif kind.endswith("_open") and kind[:-5] in _MARKS:
            builder.mark(_MARKS[kind[:-5]], 1)
        elif kind.endswith("_close") and kind[:-6] in _MARKS:
            builder.mark(_MARKS[kind[:-6]], -1)
        elif kind in ("softbreak", "hardbreak"):
            before = tokens[index - 1].meta if index else None
            floor = before["span"][1] if isinstance(before, dict) and "span" in before else 0
            builder.text(_break_text(src, token, floor))
        elif kind == "code_inline":
            _code_lines(builder, _code_inner(raw, token.markup))
        elif kind == "math_inline" and utf16_len(token.content) <= MAX_EQUATION and token.content:
            builder.other({"type": "equation", "equation": {"expression": token.content}})
        elif kind == "wikilink":
            _wikilink(builder, raw, page_id)
        elif kind == "link_open":
            dest = _link_dest(raw, token)
            last = builder.items[-1] if builder.items else None
            if (
                last is not None
                and last["type"] == "text"
                and dest is not None
                and ((last["text"].get("link") or {}).get("url") == dest)
            ):
                dest = None  # right after a link to the same URL: Notion would merge them
            mention = _link_mention(tokens, index, raw, token) if builder.link is None else None
            if mention is not None:
                builder.other(mention)
                index = _skip_to_close(tokens, index)
            elif dest is None or builder.link is not None:
                builder.text(raw)
                index = _skip_to_close(tokens, index)
            else:
                builder.link = dest
        elif kind == "link_close":
            builder.link = None
        else:  # html_inline, image, math_inline_double, comments, long equations: as written
            builder.text(raw)
        index += 1
    builder.text(tail)
    return builder.finish()


MEANINGFUL_ESCAPES = frozenset("\\*_`[]<>$~|%")
"""Characters whose backslash escape turns inline syntax off anywhere in a line."""
STRUCTURAL_ESCAPES = frozenset("#>-+=.)")
"""Characters whose escape matters only where a line starts (``\\# not a heading``,
``1\\. not a list``)."""


def _meaningful(src: str, span: tuple[int, int], line_start: bool) -> bool:
    """Whether the escape at ``span`` stands for its character (else it is kept as
    written: ``\\:`` or ``\\-`` in the middle of a line mean nothing to Markdown)."""
    char = src[span[0] + 1]
    if char in MEANINGFUL_ESCAPES:
        return True
    if char not in STRUCTURAL_ESCAPES:
        return False
    begin = src.rfind("\n", 0, span[0]) + 1
    if begin == 0 and not line_start:
        return False
    before = src[begin : span[0]].strip(" \t")
    return before == "" or (char in ".)" and before.isdigit())


def _skip_to_close(tokens: list[Token], index: int) -> int:
    depth = 0
    while index < len(tokens):
        if tokens[index].type == "link_open":
            depth += 1
        elif tokens[index].type == "link_close":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return index
