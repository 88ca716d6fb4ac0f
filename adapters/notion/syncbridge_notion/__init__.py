"""Notion support for syncbridge.

The Notion adapter itself (registered in the ``syncbridge.adapters`` entry-point group)
arrives with the rest of its issue. This distribution ships the body converter,
:func:`markdown_to_blocks` and :func:`blocks_to_markdown` (the pure package
:mod:`syncbridge_notion.markdown`, see ``docs/notion.md``), and
:mod:`syncbridge_notion.testing`, a local, stateful server that speaks Notion's REST API
(``Notion-Version: 2025-09-03``) so the adapter and users' own setups can be tested without
a Notion account.
"""

from .markdown import blocks_to_markdown, markdown_to_blocks

__all__: list[str] = ["blocks_to_markdown", "markdown_to_blocks"]
