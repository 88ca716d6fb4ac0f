"""Fixtures for the fake-server tests: ``notion_server``/``notion`` from the opt-in plugin,
``data_source`` and the helpers from ``notion_fake_support``."""

from notion_fake_support import data_source

pytest_plugins = ["syncbridge_notion_fake.plugin"]

__all__ = ["data_source"]
