"""Test support: edit a database file "from another SQLite tool", as a user would.

Two separate processes work on the real file: the ``sqlite3`` command-line shell, and
``python -c`` with the stdlib ``sqlite3`` module (so the behaviour is checked even where the
shell is not installed). :func:`external_sql` is a pytest fixture running both.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

__all__ = ["ExternalSQL", "external_sql", "run_in_python_process", "run_in_sqlite3_shell"]

ExternalSQL = Callable[[Path, str], str]
"""Runs an SQL script on a database file; returns result rows as ``a|b`` lines."""

_PYTHON_TOOL = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=5)
script = sys.stdin.read()
cursor = conn.cursor()
statements, buffer = [], ""
for line in script.splitlines(keepends=True):
    buffer += line
    if sqlite3.complete_statement(buffer):
        statements.append(buffer)
        buffer = ""
out = []
for statement in statements:
    for row in cursor.execute(statement):
        out.append("|".join("" if v is None else str(v) for v in row))
conn.commit()
print("\\n".join(out))
"""


def run_in_sqlite3_shell(db: Path, sql: str) -> str:
    """Run ``sql`` with the ``sqlite3`` shell (``-bail``, 5 s busy timeout)."""
    result = subprocess.run(
        ["sqlite3", "-bail", str(db)],
        input=".timeout 5000\n" + sql,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    return result.stdout.strip()


def run_in_python_process(db: Path, sql: str) -> str:
    """Run ``sql`` in a separate Python process with the stdlib ``sqlite3`` module."""
    result = subprocess.run(
        [sys.executable, "-c", _PYTHON_TOOL, str(db)],
        input=sql,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    return result.stdout.strip()


@pytest.fixture(params=["sqlite3-cli", "python-process"])
def external_sql(request: pytest.FixtureRequest) -> ExternalSQL:
    """Run SQL against a database file from another process, as a user's tool would."""
    if request.param == "sqlite3-cli":
        if shutil.which("sqlite3") is None:
            pytest.skip(
                "the sqlite3 command-line shell is not installed (apt-get install sqlite3); "
                "the python-process variant of this test runs the same SQL"
            )
        return run_in_sqlite3_shell
    return run_in_python_process
