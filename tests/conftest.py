"""Shared fixtures: the real-world corpus (read-only, outside the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLE_VAULT = ROOT / "examples" / "vault"


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
