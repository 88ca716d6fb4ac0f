"""pytest plugin registered under ``pytest11``: fixtures for adapter contract tests."""
