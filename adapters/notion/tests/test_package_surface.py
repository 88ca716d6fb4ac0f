"""The public surface of ``syncbridge_notion.testing`` and its command line."""

from __future__ import annotations

import subprocess
import sys

import httpx
import syncbridge_notion
import syncbridge_notion.testing as testing


def test_exported_members() -> None:
    assert sorted(syncbridge_notion.__all__) == [
        "NotionAdapter",
        "NotionConfig",
        "NotionRateLimiter",
        "parse_notion_id",
    ]
    assert sorted(testing.__all__) == [
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
    for name in testing.__all__:
        assert getattr(testing, name).__module__.startswith("syncbridge_notion.testing.")


def test_module_serves_and_prints_url_token_and_root_page() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "syncbridge_notion.testing", "--port", "0", "--token", "ntn_cli"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        info = dict(line.strip().split(":", 1) for line in lines[1:4])
        url = info["base_url"].strip()
        assert info["token"].strip() == "ntn_cli"
        me = httpx.get(
            f"{url}/v1/users/me",
            headers={"Authorization": "Bearer ntn_cli", "Notion-Version": "2025-09-03"},
        )
        assert me.json()["type"] == "bot"
        root = info["root page id"].strip()
        page = httpx.get(
            f"{url}/v1/pages/{root}",
            headers={"Authorization": "Bearer ntn_cli", "Notion-Version": "2025-09-03"},
        )
        assert page.json()["object"] == "page"
        assert httpx.get(f"{url}/__fake__/info").json()["root_page_id"] == root
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_help_describes_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncbridge_notion.testing", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--port", "--token", "--persist", "--rate-limit"):
        assert option in result.stdout
