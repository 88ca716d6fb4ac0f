"""pytest plugin, opt-in: a fresh fake Notion server per test.

It is not registered as a ``pytest11`` entry point, so installing the fake adds nothing to
anyone's test session. A suite that wants the fixtures names the plugin in its
``conftest.py``::

    pytest_plugins = ["syncbridge_notion_fake.plugin"]

(pytest reads ``pytest_plugins`` only from a conftest it loads at start-up: one in the
rootdir, in a directory given on the command line or in ``testpaths``, or in a ``test*``
folder directly below one of those.)

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
