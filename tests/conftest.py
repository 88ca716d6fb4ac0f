"""Shared fixtures: the real-world corpus (read-only, outside the repository)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLE_VAULT = ROOT / "examples" / "vault"

# Every scan waits for notes modified less than a second ago to settle (issue 8 item 5);
# tests write notes and sync at once, so they run with no wait (inherited by the CLI
# processes they start). tests/test_vault_settle.py checks the real wait.
os.environ.setdefault("SYNCBRIDGE_TEST_SETTLE_MS", "0")


def corpus_files() -> list[Path]:
    """Every note of ../shared/corpus, or [] when it is absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.rglob("*.md"))


@pytest.fixture(scope="session")
def corpus() -> list[Path]:
    files = corpus_files()
    if not files:
        pytest.skip(f"the shared corpus is absent ({CORPUS}); these tests need it")
    return files


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/vault and the minimal config from issue 3, in tmp_path."""
    if not EXAMPLE_VAULT.is_dir():
        pytest.fail("examples/vault is missing from the repository")
    shutil.copytree(EXAMPLE_VAULT, tmp_path / "vault")
    (tmp_path / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
        'path = "syncbridge-demo.db"\n',
        encoding="utf-8",
    )
    return tmp_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A failed test that started daemons (tests/daemon_support.py) shows their logs and
    output in its report: their temporary folder is gone when a CI failure is read."""
    outcome = yield
    support = sys.modules.get("daemon_support")
    if support is None:
        return
    report = outcome.get_result()
    if report.failed:
        report.sections.extend(support.failure_sections())
    if report.when == "teardown":
        support.STARTED.clear()
