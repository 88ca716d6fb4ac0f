"""Notion support for syncbridge.

The Notion adapter itself (registered in the ``syncbridge.adapters`` entry-point group)
arrives in a later issue. For now this distribution ships :mod:`syncbridge_notion.testing`,
a local, stateful server that speaks Notion's REST API (``Notion-Version: 2025-09-03``) so
the adapter and users' own setups can be tested without a Notion account.
"""

__all__: list[str] = []
