"""syncbridge's Notion target: one database per class under a parent page, one page per
note, both ways, within Notion's limits. Registered as entry point ``notion`` in group
``syncbridge.adapters``.

The body converter, :func:`markdown_to_blocks` and :func:`blocks_to_markdown` (the pure
package :mod:`syncbridge_notion.markdown`, see ``docs/notion.md``), works on its own too.
Its tests run against the local fake Notion server, which is a separate distribution
(``syncbridge-notion-fake``, import package ``syncbridge_notion_fake``, in
``fakes/notion/``) that no module of this package imports.
"""

from syncbridge_notion.adapter import NotionAdapter
from syncbridge_notion.config import NotionConfig, parse_notion_id
from syncbridge_notion.markdown import blocks_to_markdown, markdown_to_blocks
from syncbridge_notion.pacing import NotionRateLimiter

__all__ = [
    "NotionAdapter",
    "NotionConfig",
    "NotionRateLimiter",
    "blocks_to_markdown",
    "markdown_to_blocks",
    "parse_notion_id",
]
