"""Fixtures for the Notion adapter's tests: the fake Notion server's opt-in plugin gives
``notion_server`` (a running server per test) and ``notion`` (a real ``notion_client.Client``
pointed at it); ``run`` is a two-class vault syncing into a fresh server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_vault_support import Run, two_class_vault
from syncbridge_notion_fake import ManualClock, NotionFakeServer

pytest_plugins = ["syncbridge_notion_fake.plugin"]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: Any) -> Iterator[Run]:
    """A two-class vault (notion_vault_support) and a state, syncing into a fresh local
    server whose clock is pinned (edit times lie before our reads, as between syncs)."""
    with NotionFakeServer(clock=ManualClock()) as server:
        two_class_vault(tmp_path / "vault")
        r = Run(tmp_path, server, monkeypatch)
        yield r
        r.close()
