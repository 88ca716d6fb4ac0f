"""A minimal, lossless stand-in for the Markdown ⇄ blocks converter (``markdown/``).

It exists only until the real converter lands: every Markdown chunk between blank lines
(``"\\n\\n"``) becomes one paragraph holding the chunk's text verbatim (split into runs of
2,000 units), and paragraphs are joined back with ``"\\n\\n"``. So any body comes back
byte for byte, though Notion shows Markdown syntax as typed. :mod:`.body` is the only
module that imports it; swapping in the real converter changes one import there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syncbridge_notion.properties import MAX_ITEMS, join_rich_text, text_runs

__all__ = ["blocks_to_markdown", "markdown_to_blocks", "split_for_request"]

_MAX_CHUNK = MAX_ITEMS * 2000 // 2  # leave room: surrogate pairs count twice


def markdown_to_blocks(text: str) -> list[dict[str, Any]]:
    """Request-shaped paragraph blocks, one per chunk between blank lines."""
    if text == "":
        return []
    blocks: list[dict[str, Any]] = []
    for chunk in text.split("\n\n"):
        if len(chunk) > _MAX_CHUNK:
            raise ValueError(
                f"a paragraph of {len(chunk)} characters is longer than one Notion block "
                f"can hold ({_MAX_CHUNK}); split it with a blank line"
            )
        blocks.append(
            {"object": "block", "type": "paragraph", "paragraph": {"rich_text": text_runs(chunk)}}
        )
    return blocks


def blocks_to_markdown(blocks: Sequence[dict[str, Any]]) -> str:
    """The Markdown of paragraph blocks (response- or request-shaped)."""
    parts = []
    for block in blocks:
        kind = block.get("type", "")
        content = block.get(kind) or {}
        parts.append(join_rich_text(content.get("rich_text", [])))
    return "\n\n".join(parts)


def split_for_request(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as one request may carry them (the stand-in never nests)."""
    return blocks
