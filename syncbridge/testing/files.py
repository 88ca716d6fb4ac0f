"""Snapshots of the files under a folder, for tests that a run changed no byte there (a
dry run) or left two folders alike (a resumed run and an uninterrupted one).

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> before = tree_files(root)
>>> _ = (root / "a.md").write_text("a")
>>> changed_paths(before, tree_files(root))
['a.md']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["changed_paths", "tree_bytes", "tree_files"]


def tree_files(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every file under ``root`` (its path relative to ``root``) with its bytes and mtime
    (ns), and every folder (``"path/"`` → ``None``). Reads every file; writes nothing."""
    out: dict[str, tuple[bytes, int] | None] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            out[os.path.relpath(os.path.join(folder, name), root) + "/"] = None
        for name in names:
            path = Path(folder) / name
            out[str(path.relative_to(root))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The paths whose entry differs between two snapshots (changed, made or gone), sorted."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def tree_bytes(root: Path, *, skip: str = ".syncbridge") -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, leaving out those inside a folder named
    ``skip`` (the state and caches, which differ between two runs that did the same)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and skip not in p.parts
    }
