"""A local Notion API server that behaves like Notion, for tests, benchmarks and demos.

Stateful and in memory (optionally persisted to a JSON file), bound to 127.0.0.1, speaking
``Notion-Version: 2025-09-03`` as ``notion-client`` 3.1.0 sends it. It is written from
Notion's documentation and recorded traffic, independently of the Notion adapter, so it
catches the adapter's mistakes instead of repeating them. It is its own distribution,
``syncbridge-notion-fake``, so that installing the adapter installs no server and no pytest
fixtures; see ``fakes/notion/README.md``.

    with NotionFakeServer() as server:
        client = notion_client.Client(auth=server.token, base_url=server.url)
"""

from .clock import Clock, ManualClock, SteppingClock, SystemClock
from .errors import NotionAPIError
from .faults import FaultRule
from .ratelimit import RateLimitConfig, TokenBucket
from .server import NotionFakeServer
from .store import NotionStore

__all__ = [
    "Clock",
    "FaultRule",
    "ManualClock",
    "NotionAPIError",
    "NotionFakeServer",
    "NotionStore",
    "RateLimitConfig",
    "SteppingClock",
    "SystemClock",
    "TokenBucket",
]
