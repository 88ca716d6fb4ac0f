"""Notion support for syncbridge.

The Notion adapter itself (registered in the ``syncbridge.adapters`` entry-point group)
arrives with the rest of its issue. This distribution ships the body converter,
:func:`markdown_to_blocks` and :func:`blocks_to_markdown` (the pure package
:mod:`syncbridge_notion.markdown`, see ``docs/notion.md``). Its tests run against the local
fake Notion server, which is a separate distribution (``syncbridge-notion-fake``, import
package ``syncbridge_notion_fake``, in ``fakes/notion/``) that no module of this package
imports.
"""

from .markdown import blocks_to_markdown, markdown_to_blocks

__all__: list[str] = ["blocks_to_markdown", "markdown_to_blocks"]
