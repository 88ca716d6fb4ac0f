"""Notion's request limits, as the converter and the request splitter apply them.

Lengths are counted in UTF-16 code units (what Notion's JavaScript validators count), so
an emoji outside the Basic Multilingual Plane counts two: a run the converter makes is
never longer than Notion accepts, whichever way Notion counts.
"""

from __future__ import annotations

__all__ = [
    "MAX_BLOCKS_PER_REQUEST",
    "MAX_CHILDREN",
    "MAX_EQUATION",
    "MAX_NESTING",
    "MAX_REQUEST_BYTES",
    "MAX_RICH_TEXT_ITEMS",
    "MAX_TEXT",
    "MAX_URL",
    "utf16_len",
]

MAX_TEXT = 2000
"""Characters in one rich-text ``text.content``."""
MAX_RICH_TEXT_ITEMS = 100
"""Items in one rich-text array (a block's ``rich_text``, a caption, a table cell)."""
MAX_URL = 2000
"""Characters in a link URL or an image URL."""
MAX_EQUATION = 1000
"""Characters in an equation expression (inline or block)."""
MAX_CHILDREN = 100
"""Blocks in one ``children`` array of a request."""
MAX_NESTING = 3
"""Block levels in one request: top-level blocks, their children, their grandchildren."""
MAX_BLOCKS_PER_REQUEST = 1000
"""Block elements in one request, all levels counted."""
MAX_REQUEST_BYTES = 500_000
"""Request body size (Notion documents 500 KB)."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
