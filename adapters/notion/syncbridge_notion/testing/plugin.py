"""pytest plugin (entry point ``pytest11``): a fresh fake Notion server per test.

Fixtures:

- ``notion_server``: a started :class:`~.server.NotionFakeServer` on a free port, stopped
  after the test. Rate limiting and faults are off; change them with
  ``notion_server.configure(...)``.
- ``notion``: a real ``notion_client.Client`` pointed at it, with retries on and a
  10-second timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server import NotionFakeServer


@pytest.fixture
def notion_server() -> Iterator[NotionFakeServer]:
    """A running fake Notion server, private to the test."""
    with NotionFakeServer() as server:
        yield server


@pytest.fixture
def notion(notion_server: NotionFakeServer) -> Iterator[Any]:
    """``notion_client.Client(auth=<token>, base_url=<fake url>)``."""
    from notion_client import Client

    client = Client(auth=notion_server.token, base_url=notion_server.url, timeout_ms=10_000)
    try:
        yield client
    finally:
        client.close()
