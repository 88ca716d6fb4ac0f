"""syncbridge's Notion target: one database per class under a parent page, one page per
note, both ways, within Notion's limits. Registered as entry point ``notion`` in group
``syncbridge.adapters``.

The local Notion API server used by the tests and the offline try lives in
:mod:`syncbridge_notion.testing`; the adapter never imports it.
"""

from syncbridge_notion.adapter import NotionAdapter
from syncbridge_notion.config import NotionConfig, parse_notion_id
from syncbridge_notion.pacing import NotionRateLimiter

__all__ = ["NotionAdapter", "NotionConfig", "NotionRateLimiter", "parse_notion_id"]
