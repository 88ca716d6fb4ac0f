"""The public surface of ``syncbridge_notion_fake``, its command line and its plugin."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import syncbridge_notion_fake as testing

BANNER_KEYS = ["base_url", "token", "root page id"]


def _console_script() -> list[str]:
    """``syncbridge-notion-fake`` from the environment this test runs in."""
    script = shutil.which("syncbridge-notion-fake", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("the console script is not installed: pip install -e fakes/notion")
    return [script]


def test_exported_members() -> None:
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
        assert getattr(testing, name).__module__.startswith("syncbridge_notion_fake.")


@pytest.mark.parametrize("how", ["python -m", "console script"])
def test_command_serves_and_prints_url_token_and_root_page(how: str) -> None:
    command = [sys.executable, "-m", "syncbridge_notion_fake"] if how == "python -m" else []
    process = subprocess.Popen(
        [*(command or _console_script()), "--port", "0", "--token", "ntn_cli"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("Notion fake serving at http://127.0.0.1:")
        info = dict(line.strip().split(":", 1) for line in lines[1:4])
        assert list(info) == BANNER_KEYS
        assert "notion_client.Client(auth=TOKEN, base_url=BASE_URL)" in lines[4]
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
        [sys.executable, "-m", "syncbridge_notion_fake", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--port", "--token", "--persist", "--rate-limit"):
        assert option in result.stdout


def test_plugin_is_opt_in_not_a_pytest11_entry_point() -> None:
    plugins = {ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert not any(value.startswith("syncbridge_notion_fake") for value in plugins), plugins


TEST_USING_FIXTURE = """
def test_uses_the_fake(notion, notion_server):
    assert notion.users.me()["type"] == "bot"
    assert notion_server.root_page_id
"""


@pytest.mark.parametrize("named", [False, True])
def test_fixtures_exist_only_in_a_suite_that_names_the_plugin(tmp_path: Path, named: bool) -> None:
    (tmp_path / "test_mine.py").write_text(TEST_USING_FIXTURE, encoding="utf-8")
    if named:
        (tmp_path / "conftest.py").write_text(
            'pytest_plugins = ["syncbridge_notion_fake.plugin"]\n', encoding="utf-8"
        )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if named:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 passed" in result.stdout
    else:
        assert result.returncode == 1
        assert "fixture 'notion' not found" in result.stdout
