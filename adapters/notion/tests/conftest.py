"""Fixtures for the fake-server tests; the helpers live in ``notion_fake_support``."""

from notion_fake_support import data_source

__all__ = ["data_source"]
