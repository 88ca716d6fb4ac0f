"""Helpers for the adapter tests: a NotionAdapter pointed at a running local server.

The local server comes from the fake's distribution (only the tests import it; the adapter
never does).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
from syncbridge_notion import NotionAdapter, NotionConfig
from syncbridge_notion.pacing import ManualClock
from syncbridge_notion_fake import NotionFakeServer

TOKEN_ENV = "SYNCBRIDGE_TEST_NOTION_TOKEN"


def adapter_for(
    server: NotionFakeServer, tmp_path: Path, monkeypatch: Any, **overrides: Any
) -> NotionAdapter:
    """A NotionAdapter on ``server``'s root page, its cache in ``tmp_path``, pacing on a
    manual clock (no real sleeping) unless ``real_clock=True``."""
    monkeypatch.setenv(TOKEN_ENV, server.token)
    real_clock = overrides.pop("real_clock", False)
    settings: dict[str, Any] = {
        "parent_page": server.root_page_id,
        "token_env": TOKEN_ENV,
        "base_url": server.url,
        "requests_per_s": 1000.0,
        "burst": 100,
        "timeout_s": 5.0,
    }
    settings.update(overrides)
    config = NotionConfig(**settings)
    return NotionAdapter(
        config,
        base_dir=tmp_path,
        clock=None if real_clock else ManualClock(),
        rng=random.Random(0),
    )


def stats(server: NotionFakeServer) -> dict[str, Any]:
    """The server's counters (its documented admin endpoint ``GET /__fake__/stats``)."""
    return dict(httpx.get(f"{server.url}/__fake__/stats").json())


def request_counts(server: NotionFakeServer) -> dict[str, int]:
    """Requests served by endpoint since the last reset (``"POST /v1/pages"``: n)."""
    return dict(stats(server)["requests"])


def writes(counts: dict[str, int]) -> dict[str, int]:
    """The requests among ``counts`` that change something (not GETs, not queries)."""
    return {
        k: v for k, v in counts.items() if not k.startswith("GET ") and not k.endswith("/query")
    }


def reset_counts(server: NotionFakeServer) -> None:
    httpx.post(f"{server.url}/__fake__/config", json={"reset_stats": True})
