"""Notion support for syncbridge.

The Notion adapter itself (registered in the ``syncbridge.adapters`` entry-point group)
arrives in a later issue. Its tests run against the local fake Notion server, which is a
separate distribution (``syncbridge-notion-fake``, import package ``syncbridge_notion_fake``,
in ``fakes/notion/``) that no module of this package imports.
"""

__all__: list[str] = []
