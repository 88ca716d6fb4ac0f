"""syncbridge's Notion target: one database per class under a parent page, one page per
note, both ways, within Notion's limits. Registered as entry point ``notion`` in group
``syncbridge.adapters``.

Its tests run against the local fake Notion server, which is a separate distribution
(``syncbridge-notion-fake``, import package ``syncbridge_notion_fake``, in
``fakes/notion/``) that no module of this package imports.
"""

from syncbridge_notion.adapter import NotionAdapter
from syncbridge_notion.config import NotionConfig, parse_notion_id
from syncbridge_notion.pacing import NotionRateLimiter

__all__ = ["NotionAdapter", "NotionConfig", "NotionRateLimiter", "parse_notion_id"]
