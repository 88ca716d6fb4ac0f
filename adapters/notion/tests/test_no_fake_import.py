"""The adapter never imports the fake Notion server: the fake is a separate distribution,
written independently, so it catches the adapter's mistakes instead of sharing them."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import syncbridge_notion

FAKE = re.compile(r"^syncbridge_notion_fake(\.|$)")
PACKAGE_DIR = Path(syncbridge_notion.__file__).parent


def fake_references(source: str) -> list[str]:
    """Imports of the fake in ``source``: ``import``/``from`` statements, and module names
    given as strings (``importlib.import_module("syncbridge_notion_fake")``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if FAKE.match(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] if FAKE.match(node.module) else []
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [node.value] if FAKE.match(node.value) else []
    return found


def test_the_check_sees_every_form_of_import() -> None:
    assert fake_references("import syncbridge_notion_fake") == ["syncbridge_notion_fake"]
    assert fake_references("from syncbridge_notion_fake.store import NotionStore")
    assert fake_references("import importlib\nimportlib.import_module('syncbridge_notion_fake')")
    assert fake_references('"""Tested against ``syncbridge_notion_fake``."""') == []
    assert fake_references("from . import blocks\nimport syncbridge_notion.x") == []


def test_no_module_of_syncbridge_notion_imports_the_fake() -> None:
    modules = sorted(PACKAGE_DIR.rglob("*.py"))
    assert PACKAGE_DIR / "__init__.py" in modules
    offenders = {
        str(path.relative_to(PACKAGE_DIR)): refs
        for path in modules
        if (refs := fake_references(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"syncbridge_notion must not import the fake: {offenders}"


def test_importing_every_module_loads_nothing_of_the_fake() -> None:
    script = (
        "import importlib, json, pkgutil, sys, syncbridge_notion\n"
        "names = [m.name for m in pkgutil.walk_packages(syncbridge_notion.__path__,"
        " 'syncbridge_notion.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('syncbridge_notion_fake')]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout) == []


def test_the_distribution_depends_on_the_fake_only_for_its_tests() -> None:
    requires = importlib.metadata.requires("syncbridge-notion") or []
    on_fake = [r for r in requires if r.startswith("syncbridge-notion-fake")]
    assert on_fake and all('extra == "test"' in r for r in on_fake), requires
    entry_points = importlib.metadata.distribution("syncbridge-notion").entry_points
    assert not [ep for ep in entry_points if ep.group == "pytest11"]
