"""Markdown ⇄ Notion blocks: the body converter of the Notion adapter. Pure: no I/O.

>>> blocks = markdown_to_blocks("# Title\\n\\nSome **bold** text.\\n")
>>> [b["type"] for b in blocks]
['heading_1', 'paragraph']
>>> blocks_to_markdown(blocks)
'# Title\\n\\nSome **bold** text.\\n'

See ``docs/notion.md`` ("Bodies: Markdown and blocks") for what maps to what, what is
carried verbatim, the source-span map and the request splitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .inline import PageIdLookup, notion_page_url
from .inline_writer import LinkTargetLookup
from .requests import AppendBatch, check_blocks, split_for_requests
from .styles import MarkdownStyle, infer_style
from .to_blocks import SourceSpan, convert
from .to_markdown import PLACEHOLDER_RE, comparable, placeholder_of, render_blocks

__all__ = [
    "PLACEHOLDER_RE",
    "AppendBatch",
    "Conversion",
    "LinkTargetLookup",
    "MarkdownStyle",
    "PageIdLookup",
    "SourceSpan",
    "blocks_to_markdown",
    "check_blocks",
    "comparable",
    "convert_markdown",
    "infer_style",
    "markdown_to_blocks",
    "notion_page_url",
    "placeholder_of",
    "split_for_requests",
]


@dataclass(frozen=True)
class Conversion:
    """The blocks of a Markdown text and, for each top-level block, the span it came from
    (``spans[i]`` belongs to ``blocks[i]``)."""

    text: str
    blocks: list[dict[str, Any]]
    spans: list[SourceSpan]

    def source(self, index: int) -> str:
        """The Markdown, as written, that top-level block ``index`` came from."""
        span = self.spans[index]
        return self.text[span.start : span.end]


def convert_markdown(text: str, page_id: PageIdLookup | None = None) -> Conversion:
    """Blocks of Markdown ``text`` with their source spans (see :class:`SourceSpan`).

    ``page_id`` maps a wikilink target (``[[Target]]``, ``[[Target|alias]]``,
    ``[[Target#Heading]]``: the part before ``|`` and ``#``, as written, trimmed) to the
    Notion page id of the synced note it names, or ``None``: such links become page
    mentions (or text linked to the page), all others stay literal text.
    """
    blocks, spans = convert(text, page_id)
    return Conversion(text, blocks, spans)


def markdown_to_blocks(text: str, page_id: PageIdLookup | None = None) -> list[dict[str, Any]]:
    """Request-shaped Notion blocks for Markdown ``text``; children are nested under their
    parent's type object (``block["toggle"]["children"]``), to any depth: use
    :func:`split_for_requests` to send them within Notion's per-request limits."""
    return convert(text, page_id)[0]


def blocks_to_markdown(
    blocks: list[dict[str, Any]],
    link_target: LinkTargetLookup | None = None,
    style: MarkdownStyle | None = None,
) -> str:
    """Markdown for Notion ``blocks`` (response-shaped, or request-shaped; children nested
    under the type object or on the block as ``children``).

    ``link_target`` maps a Notion page id to the wikilink target to write for it (mentions
    and links to that page become ``[[target]]``, ``[[target|text]]``,
    ``[[target#Heading]]``); a mention of a page it does not know (or without it) is
    written ``[@title](https://www.notion.so/<id>)``, which reads back as that mention;
    so are mentions of databases, users, dates (``[@2022-12-16](notion://date/2022-12-16)``)
    and the other types a request can hold (:mod:`.mention_links`).
    ``style`` says how to spell what has several spellings (Obsidian's defaults;
    :func:`infer_style` reads a vault's).
    """
    return render_blocks(blocks, link_target, style)
