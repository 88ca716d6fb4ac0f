"""The code is linted (ruff) and type-checked (mypy --strict) as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PACKAGES = [
    "syncbridge",
    "adapters/sqlite/syncbridge_sqlite",
    "adapters/notion/syncbridge_notion",
    "fakes/notion/syncbridge_notion_fake",
]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(ROOT / ".venv" / "bin")) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return path


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_mypy_strict_is_clean(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
