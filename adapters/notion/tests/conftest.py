"""Fixtures for the Notion adapter's tests: the fake Notion server's opt-in plugin gives
``notion_server`` (a running server per test) and ``notion`` (a real ``notion_client.Client``
pointed at it)."""

pytest_plugins = ["syncbridge_notion_fake.plugin"]
