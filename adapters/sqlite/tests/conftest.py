"""Fixtures: a fresh SQLite adapter in a tmp dir, and "another SQLite tool" to edit it with.

The other tool is run two ways, both separate processes working on the real file: the
``sqlite3`` command-line shell, and ``python -c`` with the stdlib ``sqlite3`` module (so
the behaviour is checked even where the shell is not installed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig

from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

ExternalSQL = Callable[[Path, str], str]

_PYTHON_TOOL = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=5)
for row in conn.execute("SELECT 1 WHERE 0"):
    pass
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


def _sqlite3_cli(db: Path, sql: str) -> str:
    result = subprocess.run(
        ["sqlite3", "-bail", str(db)],
        input=".timeout 5000\n" + sql,
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    return result.stdout.strip()


def _python_process(db: Path, sql: str) -> str:
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
        return _sqlite3_cli
    return _python_process


def _field(name: str, kind: FieldKind, ftype: FieldType = FieldType.INPUT) -> FieldSpec:
    return FieldSpec(name=name, type=ftype, kind=kind)


EMOTION = ClassSchema(
    name="emotion",
    source="metadata-menu",
    fields={
        "status": _field("status", FieldKind.TEXT, FieldType.SELECT),
        "intensity": _field("intensity", FieldKind.NUMBER, FieldType.NUMBER),
        "resolved": _field("resolved", FieldKind.BOOLEAN, FieldType.BOOLEAN),
        "linked_wounds": _field("linked_wounds", FieldKind.LINKS, FieldType.MULTIFILE),
        "created": _field("created", FieldKind.DATETIME, FieldType.DATETIME),
        "meta": _field("meta", FieldKind.JSON, FieldType.OBJECT),
    },
)


@pytest.fixture
def emotion_schema() -> ClassSchema:
    """A class with one field of most kinds."""
    return EMOTION


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sync.db"


@pytest.fixture
def adapter(db_path: Path) -> Iterator[SQLiteAdapter]:
    store = SQLiteAdapter(SQLiteConfig(path=Path("sync.db")), base_dir=db_path.parent)
    store.ensure_collection(EMOTION)
    yield store
    store.close()
