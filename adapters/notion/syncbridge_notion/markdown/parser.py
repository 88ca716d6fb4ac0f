"""The markdown-it parser the converter reads notes with, set up the way Obsidian reads them.

One shared :class:`~markdown_it.MarkdownIt` instance (``commonmark`` plus GFM tables and
strikethrough, raw HTML on, ``$``/``$$`` math from mdit-py-plugins' ``dollarmath``) with
three changes that make a lossless converter possible:

* **Source spans for inline tokens.** markdown-it gives block tokens a line ``map`` but
  inline tokens no position. Every inline rule is wrapped so that each token it pushes
  (except plain ``text``) gets ``meta["span"] = (start, end)``: offsets into the inline
  source string. The converter uses them to carry a construct *as written* (a link with a
  title, a code span's exact inner text, the whitespace around a line break).
* **Container-relative source for leaf blocks.** Each leaf block rule (paragraph,
  heading, code, fence, HTML, math, table, thematic break, comment) records
  ``meta["raw"]``: its lines as written, with the enclosing ``>`` markers and list
  indentation removed, so a block without a Notion equivalent can be carried verbatim.
* **Obsidian syntax that must stay literal.** ``%%comment%%`` (inline, and as a block
  when a line opens a comment that closes on a later line) and ``[[wikilinks]]`` get
  their own rules so nothing inside them is parsed as Markdown. Link reference
  definitions, entities and linkify are off: ``[x]: url`` is kept as the text it is, and
  ``&amp;`` stays ``&amp;`` (the converter itself reads ``&#32;`` and ``&#9;`` at a block
  text's two ends, :func:`~.inline.inline_to_rich_text`).

The core ``inline`` rule is disabled: the converter parses inline content on demand with
:func:`parse_inline`, only where it needs it. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

__all__ = ["parse_blocks", "parse_inline"]

_LEAF_RULES = frozenset(
    {
        "code",
        "math_block",
        "fence",
        "hr",
        "html_block",
        "heading",
        "lheading",
        "paragraph",
        "table",
        "obsidian_comment",
        "list",
    }
)
_WIKILINK_RE = re.compile(r"!?\[\[([^\[\]\n]+?)\]\]")


def _comment_inline(state: StateInline, silent: bool) -> bool:
    """``%%...%%`` on one inline run: one ``obsidian_comment`` token, nothing parsed inside."""
    src, pos = state.src, state.pos
    if not src.startswith("%%", pos):
        return False
    end = src.find("%%", pos + 2)
    if end < 0 or end + 2 > state.posMax:
        return False
    if not silent:
        token = state.push("obsidian_comment", "", 0)
        token.content = src[pos : end + 2]
    state.pos = end + 2
    return True


def _wikilink_inline(state: StateInline, silent: bool) -> bool:
    """``[[target|alias]]`` and ``![[embed]]``: one ``wikilink`` token holding the source."""
    src, pos = state.src, state.pos
    if not (src.startswith("[[", pos) or src.startswith("![[", pos)):
        return False
    match = _WIKILINK_RE.match(src, pos, state.posMax)
    if match is None:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = match.group(0)
    state.pos = match.end()
    return True


def _comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A line starting with ``%%`` that does not close the comment on that line opens a
    comment block, running to the line that holds the closing ``%%`` (or the container's
    end): one ``obsidian_comment`` token, carried verbatim."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    first = state.bMarks[start_line] + state.tShift[start_line]
    line_end = state.eMarks[start_line]
    src = state.src
    if not src.startswith("%%", first):
        return False
    if src.find("%%", first + 2, line_end) >= 0:
        return False  # closes on its own line: inline comment in a paragraph
    if silent:
        return True
    line = start_line + 1
    while line < end_line:
        if state.sCount[line] < state.blkIndent and not state.isEmpty(line):
            break  # the container ended
        start = state.bMarks[line] + state.tShift[line]
        if src.find("%%", start, state.eMarks[line]) >= 0:
            line += 1
            break
        line += 1
    token = state.push("obsidian_comment", "", 0)
    token.map = [start_line, line]
    state.line = line
    return True


def _with_inline_spans(fn: Callable[..., bool]) -> Callable[..., bool]:
    def rule(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        ok = fn(state, silent)
        if ok and not silent:
            for token in state.tokens[count:]:
                if token.type != "text":
                    meta = token.meta if isinstance(token.meta, dict) else {}
                    meta.setdefault("span", (start, state.pos))
                    token.meta = meta
        return ok

    return rule


def _container_lines(state: StateBlock, begin: int, end: int) -> str:
    """Lines ``begin`` to ``end`` as written, without the container's indentation
    (``state.blkIndent`` columns), like ``StateBlock.getLines``, except that a tab that
    crosses the container's content column counts as reaching it: ``- a`` followed by
    ``\t<div>`` holds ``<div>``, not ``  <div>`` (Obsidian indents list content with one
    tab per level, and a writer that indents with a tab gets the same lines back)."""
    indent = state.blkIndent
    src = state.src
    out = []
    for line in range(begin, end):
        first, last = state.bMarks[line], state.eMarks[line]
        if line + 1 < end:
            last += 1
        if state.sCount[line] < 0:
            out.append(_lazy_line(src[first:last], state.bsCount[line]))
            continue
        column = 0
        while first < last and column < indent:
            char = src[first]
            if char == "\t":
                column += 4 - (column + state.bsCount[line]) % 4
            elif char == " " or first - state.bMarks[line] < state.tShift[line]:
                column += 1
            else:
                break
            first += 1
        out.append(src[first:last])
    return "".join(out)


def _lazy_line(line: str, column: int) -> str:
    """A lazy continuation line of a quote (one without its ``>``), its leading tabs
    widened to the spaces they stand for where it starts (``column``). Written back it
    gets the quote's ``> ``, and a tab after that marker would stand for fewer columns:
    ``\\t- x``, a paragraph line, would become a list item inside the quote."""
    body = line.lstrip(" \t")
    lead = line[: len(line) - len(body)]
    if "\t" not in lead:
        return line
    width = column
    for char in lead:
        width += 4 - width % 4 if char == "\t" else 1
    return " " * (width - column) + body


def _with_raw_lines(fn: Callable[..., bool]) -> Callable[..., bool]:
    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        count = len(state.tokens)
        ok = fn(state, start_line, end_line, silent)
        if ok and not silent and len(state.tokens) > count:
            first = state.tokens[count]
            meta = first.meta if isinstance(first.meta, dict) else {}
            meta["raw"] = _container_lines(state, start_line, state.line)
            first.meta = meta
        return ok

    return rule


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    dollarmath_plugin(
        md, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True
    )
    md.disable(["reference", "entity", "linkify"])
    md.core.ruler.disable(["inline"])
    md.inline.ruler.before("text", "obsidian_comment", _comment_inline)
    md.inline.ruler.before("link", "wikilink", _wikilink_inline)
    md.block.ruler.before("paragraph", "obsidian_comment", _comment_block)
    for rule in md.inline.ruler.__rules__:
        rule.fn = _with_inline_spans(rule.fn)
    for block_rule in md.block.ruler.__rules__:
        if block_rule.name in _LEAF_RULES:
            block_rule.fn = _with_raw_lines(block_rule.fn)
    md.inline.ruler.__cache__ = None
    md.block.ruler.__cache__ = None
    return md


_MD = _build()


def parse_blocks(text: str) -> list[Token]:
    """Block tokens of ``text`` (``inline`` tokens keep their source in ``content`` and
    have no children: parse them with :func:`parse_inline`)."""
    env: dict[str, Any] = {}
    return _MD.parse(text, env)


def parse_inline(src: str) -> list[Token]:
    """Inline tokens of ``src``, each non-text token with ``meta["span"]`` into ``src``."""
    env: dict[str, Any] = {}
    tokens: list[Token] = []
    _MD.inline.parse(src, _MD, env, tokens)
    return tokens
