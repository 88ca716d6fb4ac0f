"""The Notion adapter passes syncbridge's adapter contract suite against the local Notion
server, through the real notion-client over HTTP, under both API versions it speaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import adapter_for
from syncbridge_notion import NotionAdapter
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.adapter import Adapter
from syncbridge.testing.contract import AdapterContract


class TestNotionContract(AdapterContract):
    @pytest.fixture(params=["2025-09-03", "2026-03-11"])
    def adapter(
        self,
        request: pytest.FixtureRequest,
        notion_server: NotionFakeServer,
        tmp_path: Path,
        monkeypatch: Any,
    ) -> Iterator[NotionAdapter]:
        self.server = notion_server
        with adapter_for(
            notion_server, tmp_path, monkeypatch, notion_version=request.param
        ) as store:
            yield store

    def trashed_ids(self, adapter: Adapter) -> set[str] | None:
        pages = self.server.store.pages
        return {pid for pid, page in pages.items() if page.get("in_trash")}
