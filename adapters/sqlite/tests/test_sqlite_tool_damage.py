"""``syncbridge sync`` end to end after things other SQLite tools do to the database that
are not plain row edits: BLOB cells in ``title``/``body``, tables rebuilt without our
triggers (DB Browser's "Modify table"), columns dropped and added again.

Each test starts from a copy of examples/vault synced into a real SQLite file, makes the
change with another process (the ``sqlite3`` shell, or a separate Python process running
the same SQL) and checks the notes and the database afterwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
from syncbridge_sqlite.testing import ExternalSQL

from syncbridge.adapter import Record
from syncbridge.cli import main
from syncbridge.errors import FatalError

EXAMPLE_VAULT = Path(__file__).resolve().parents[3] / "examples" / "vault"
ZERO = {"created": 0, "updated": 0, "deleted": 0, "conflicts": 0}
NOTES_LINE = b"notes: Grief for what did not happen counts too.\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/vault and the minimal config with one SQLite target."""
    shutil.copytree(EXAMPLE_VAULT, tmp_path / "vault")
    (tmp_path / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
        'path = "demo.db"\n',
        encoding="utf-8",
    )
    return tmp_path


def sync(capsys: pytest.CaptureFixture[str], project: Path, *, code: int = 0) -> dict[str, Any]:
    """One ``syncbridge sync --json``; the report of target ``local``."""
    got = main(["sync", "--json", "--config", str(project / "syncbridge.toml")])
    out, _err = capsys.readouterr()
    assert got == code, out
    report: dict[str, Any] = json.loads(out)["targets"]["local"]
    return report


def note(project: Path, title: str) -> Path:
    (path,) = (project / "vault").rglob(f"{title}.md")
    return path


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def query(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def counts(report: dict[str, Any]) -> list[int]:
    return [report[side][k] for side in ("vault", "remote") for k in ZERO]


# -- BLOB title and body ------------------------------------------------------------------


def test_blob_body_that_is_utf8_reads_as_its_text(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    external_sql(db, "UPDATE emotion SET body = CAST('hello ✨\n' AS BLOB) WHERE title = 'Grief';")
    report = sync(capsys, project)
    assert report["vault"]["updated"] == 1 and report["errors"] == []
    text = note(project, "Grief").read_text(encoding="utf-8")
    assert text.endswith("\n---\nhello ✨\n")
    assert "b'" not in text
    # What the row holds is that text (as the BLOB, or as TEXT if the row was written).
    assert query(db, "SELECT CAST(body AS TEXT) FROM emotion WHERE title = 'Grief'") == [
        ("hello ✨\n",)
    ]
    assert counts(sync(capsys, project)) == [0] * 8


def test_blob_title_that_is_utf8_names_the_note_by_its_text(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync(capsys, project)
    external_sql(
        project / "demo.db",
        "INSERT INTO emotion (title, body, intensity) VALUES (CAST('Awe' AS BLOB), 'Vast.', 4);",
    )
    report = sync(capsys, project)
    assert report["vault"]["created"] == 1 and report["errors"] == []
    created = note(project, "Awe").read_text(encoding="utf-8")
    assert "intensity: 4" in created and created.endswith("Vast.")
    assert not [p for p in (project / "vault").rglob("*") if "b'" in p.name]
    assert counts(sync(capsys, project)) == [0] * 8


def test_blob_that_is_not_utf8_skips_its_row_with_a_message_and_the_others_sync(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    grief = note(project, "Grief")
    before = grief.read_bytes()
    (grief_id,) = query(db, "SELECT _id FROM emotion WHERE title = 'Grief'")[0]
    external_sql(
        db,
        "UPDATE emotion SET body = X'FF00FE' WHERE title = 'Grief';\n"
        "UPDATE emotion SET intensity = 2 WHERE title = 'Shame';\n"
        "INSERT INTO emotion (_id, title, body) VALUES ('badtitle', X'C328', 'x');\n",
    )
    report = sync(capsys, project, code=1)  # exit 1: rows could not be synced
    messages = {item["id"]: item["message"] for item in report["skipped"]}
    # a linked entry is named by its note, a new row by its id
    assert set(messages) == {"Psyche/Emotions/Grief.md", "badtitle"}, report["skipped"]
    grief_message = messages["Psyche/Emotions/Grief.md"]
    for part in ("table emotion", f"_id {grief_id}", "title 'Grief'", "body", "UTF-8"):
        assert part in grief_message
    assert "UPDATE" in grief_message
    assert "table emotion" in messages["badtitle"] and "_id badtitle" in messages["badtitle"]
    assert "title" in messages["badtitle"]
    for message in messages.values():  # no Python repr of the bytes (b'\xff...')
        assert "\\x" not in message and "b'\\" not in message
    # The other rows sync on; the broken one is left alone on both sides.
    assert report["vault"]["updated"] == 1 and report["vault"]["deleted"] == 0
    assert b"\nintensity: 2\n" in note(project, "Shame").read_bytes()
    assert grief.read_bytes() == before
    assert query(db, "SELECT body FROM emotion WHERE _id = ?", grief_id) == [(b"\xff\x00\xfe",)]
    assert not list((project / "vault").rglob("*.md.*"))  # no stray copies either

    # Once the cells hold text again, both rows sync like any edit.
    external_sql(
        db,
        "UPDATE emotion SET body = 'Mended.\n' WHERE title = 'Grief';\n"
        "UPDATE emotion SET title = 'Ache' WHERE _id = 'badtitle';\n",
    )
    mended = sync(capsys, project)
    assert mended["skipped"] == [] and mended["errors"] == []
    assert grief.read_text(encoding="utf-8").endswith("\n---\nMended.\n")
    assert note(project, "Ache").read_text(encoding="utf-8").endswith("x")


# -- triggers lost ------------------------------------------------------------------------


def _rebuild_like_db_browser(db: Path, table: str) -> str:
    """The SQL DB Browser's "Modify table" runs: a new table, copy, drop, rename. The
    table's triggers go with the dropped table."""
    ((create,),) = query(
        db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table
    )
    temp = "sqlb_temp_table_1"
    create = create.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{temp}"', 1)
    assert temp in create
    return (
        "PRAGMA foreign_keys = 0;\nBEGIN;\n"
        f"{create};\n"
        f'INSERT INTO "{temp}" SELECT * FROM "{table}";\n'
        f'DROP TABLE "{table}";\n'
        f'ALTER TABLE "{temp}" RENAME TO "{table}";\n'
        "COMMIT;\n"
    )


def _triggers(db: Path, table: str) -> set[str]:
    rows = query(
        db, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", table
    )
    return {name for (name,) in rows}


def test_edits_made_after_a_table_lost_its_triggers_are_found(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    external_sql: ExternalSQL,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    assert _triggers(db, "emotion") == {"emotion__touch", "emotion__deleted"}
    others = {p: d for p, d in digests(project / "vault").items() if not p.endswith("Grief.md")}
    external_sql(
        db,
        _rebuild_like_db_browser(db, "emotion")
        + "UPDATE emotion SET intensity = 1 WHERE title = 'Grief';\n",
    )
    assert _triggers(db, "emotion") == set()

    with caplog.at_level(logging.WARNING):
        report = sync(capsys, project)
    assert report["vault"]["updated"] == 1 and report["errors"] == []
    assert b"\nintensity: 1\n" in note(project, "Grief").read_bytes()
    # Every other row was read again and found unchanged: no note touched.
    assert {p: d for p, d in digests(project / "vault").items() if p in others} == others
    assert any("emotion" in r.getMessage() and "trigger" in r.getMessage() for r in caplog.records)
    assert _triggers(db, "emotion") == {"emotion__touch", "emotion__deleted"}

    # The triggers work again: the next hand edit and delete are seen like any other.
    external_sql(
        db,
        "UPDATE emotion SET intensity = 5 WHERE title = 'Grief';\n"
        "DELETE FROM emotion WHERE title = 'Loneliness';\n",
    )
    assert query(db, "SELECT count(*) FROM _deletions WHERE table_name = 'emotion'") == [(1,)]
    again = sync(capsys, project)
    assert again["vault"]["updated"] == 1 and again["vault"]["deleted"] == 1
    assert b"\nintensity: 5\n" in note(project, "Grief").read_bytes()
    assert counts(sync(capsys, project)) == [0] * 8


def test_dropped_triggers_alone_are_recreated_and_the_edit_syncs(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    external_sql(
        db,
        "DROP TRIGGER emotion__touch;\nDROP TRIGGER emotion__deleted;\n"
        "UPDATE emotion SET status = '🟩 complete' WHERE title = 'Grief';\n",
    )
    report = sync(capsys, project)
    assert report["vault"]["updated"] == 1
    assert b"\nstatus: \xf0\x9f\x9f\xa9 complete\n" in note(project, "Grief").read_bytes()
    assert _triggers(db, "emotion") == {"emotion__touch", "emotion__deleted"}
    assert counts(sync(capsys, project)) == [0] * 8


# -- a column dropped, then added again ---------------------------------------------------


def _column_of(db: Path, field: str) -> list[str]:
    rows = query(
        db,
        "SELECT column_name FROM _meta_columns WHERE table_name = 'emotion' AND field_name = ?",
        field,
    )
    return [name for (name,) in rows]


def test_a_column_dropped_and_added_again_never_deletes_the_field_from_notes(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    external_sql: ExternalSQL,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    grief = note(project, "Grief")
    before = grief.read_bytes()
    assert NOTES_LINE in before
    vault_before = digests(project / "vault")

    external_sql(db, "ALTER TABLE emotion DROP COLUMN notes;\n")
    with caplog.at_level(logging.WARNING):
        dropped = sync(capsys, project)
    assert counts(dropped) == [0] * 8 and dropped["errors"] == []
    assert digests(project / "vault") == vault_before  # every note keeps its notes
    assert _column_of(db, "notes") == []  # forgotten: a column of that name is the user's
    assert any("notes" in r.getMessage() and "emotion" in r.getMessage() for r in caplog.records)

    external_sql(
        db,
        "ALTER TABLE emotion ADD COLUMN notes TEXT;\n"
        "UPDATE emotion SET intensity = 3 WHERE title = 'Grief';\n",
    )
    edited = sync(capsys, project)
    assert edited["vault"]["updated"] == 1 and edited["errors"] == []
    after = grief.read_bytes()
    assert NOTES_LINE in after  # byte for byte
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(new_lines) == len(old_lines)
    changed = {a for a, b in zip(old_lines, new_lines, strict=True) if a != b}
    assert changed == {b"intensity: 6\n", _line(before, b"last_modified:")}
    assert counts(sync(capsys, project)) == [0] * 8

    # An edit of the field in the note reaches the database, in syncbridge's own column;
    # the column the user added stays theirs (untouched).
    grief.write_bytes(after.replace(NOTES_LINE, b"notes: Still here.\n"))
    sent = sync(capsys, project)
    assert sent["remote"]["updated"] == 1 and sent["errors"] == []
    (column,) = _column_of(db, "notes")
    assert column != "notes"
    assert query(db, f"SELECT \"{column}\", notes FROM emotion WHERE title = 'Grief'") == [
        ("Still here.", None)
    ]
    assert b"notes: Still here.\n" in grief.read_bytes()
    assert counts(sync(capsys, project)) == [0] * 8


def _line(data: bytes, start: bytes) -> bytes:
    """The one line of ``data`` starting with ``start``."""
    (line,) = [ln for ln in data.splitlines(keepends=True) if ln.startswith(start)]
    return line


def test_a_column_dropped_while_the_vault_writes_that_class_keeps_every_value(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    # The run that finds the column gone also writes the class (a note was edited), so
    # syncbridge adds its column again in that run: later hand edits still keep the notes.
    sync(capsys, project)
    db = project / "demo.db"
    shame = note(project, "Shame")
    shame.write_bytes(shame.read_bytes().replace(b"\nintensity: 8\n", b"\nintensity: 4\n"))
    external_sql(db, "ALTER TABLE emotion DROP COLUMN notes;\n")
    first = sync(capsys, project)
    assert first["remote"]["updated"] == 1 and first["errors"] == []
    assert _column_of(db, "notes") == ["notes"]  # syncbridge's column, added back

    grief = note(project, "Grief")
    external_sql(db, "UPDATE emotion SET intensity = 3 WHERE title = 'Grief';\n")
    second = sync(capsys, project)
    assert second["vault"]["updated"] == 1
    assert NOTES_LINE in grief.read_bytes()
    assert b"\nintensity: 3\n" in grief.read_bytes()
    assert counts(sync(capsys, project)) == [0] * 8


# -- a database syncbridge cannot write to -------------------------------------------------


@pytest.fixture
def read_only_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``sqlite3`` connection opened from now on refuses writes (``query_only``), as
    a file on a read-only disk does: SQLite answers "attempt to write a readonly database"."""
    connect = sqlite3.connect

    def read_only(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(sqlite3, "connect", read_only)


def test_a_read_only_database_with_lost_triggers_is_read_with_a_warning(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    external_sql: ExternalSQL,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    sync(capsys, project)
    db = project / "demo.db"
    rows = query(db, "SELECT _id, _version FROM emotion ORDER BY _id")
    external_sql(db, "DROP TRIGGER emotion__touch;\nALTER TABLE emotion DROP COLUMN notes;\n")
    request.getfixturevalue("read_only_connections")
    with caplog.at_level(logging.WARNING), SQLiteAdapter(SQLiteConfig(path=db)) as store:
        refs = [r for r in store.list() if r.class_name == "emotion"]
        assert sorted(r.id for r in refs) == sorted(i for i, _ in rows)
        held = store.held_fields("emotion")
        assert held is not None and "notes" not in held
        record = store.read(refs[0].id)
        assert "notes" not in record.fields
        with pytest.raises(FatalError, match=r"is read-only .*make it writable"):
            store.update(record, expected_version=refs[0].version)
    warned = [r.getMessage() for r in caplog.records if "read-only" in r.getMessage()]
    assert len(warned) == 1  # said once, not at every read
    assert "emotion__touch" in warned[0] or "triggers" in warned[0]
    assert "table emotion" in warned[0] and "column notes" in warned[0]
    # Nothing was changed: no trigger made, no version bumped, the column not forgotten.
    assert (
        external_sql(db, "SELECT count(*) FROM sqlite_master WHERE name = 'emotion__touch';") == "0"
    )
    assert (
        external_sql(
            db,
            "SELECT count(*) FROM _meta_columns WHERE table_name = 'emotion' AND field_name = 'notes';",
        )
        == "1"
    )
    assert external_sql(
        db, "SELECT _id || '|' || _version FROM emotion ORDER BY _id;"
    ).splitlines() == [f"{i}|{v}" for i, v in rows]


def test_a_write_mends_the_layout_first_in_its_own_transaction(
    adapter: SQLiteAdapter, db_path: Path, external_sql: ExternalSQL
) -> None:
    # No read comes first: the write's transaction repairs the table before writing.
    first = adapter.create(Record("emotion", {"intensity": 1}, title="Grief"))
    external_sql(db_path, "DROP TRIGGER emotion__touch;\nUPDATE emotion SET intensity = 2;\n")
    assert external_sql(db_path, "SELECT _version FROM emotion;") == first.version.split("@")[0]
    second = adapter.create(Record("emotion", {"intensity": 5}, title="Awe"))
    assert _triggers(db_path, "emotion") == {"emotion__touch", "emotion__deleted"}
    refs = {r.id: r for r in adapter.list()}
    assert refs[first.id].version != first.version  # read again: the edit is found
    assert adapter.read(first.id).fields == {"intensity": 2}
    assert refs[second.id].version == second.version  # written after the repair
    external_sql(db_path, f"UPDATE emotion SET intensity = 3 WHERE _id = '{first.id}';")
    assert next(r for r in adapter.list() if r.id == first.id).version != refs[first.id].version


def test_a_dry_run_reports_the_repair_and_leaves_the_database_as_it_is(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    """Reads repair a layout another tool broke; a dry run reads without repairing (not
    one byte of the database changes) and says what a sync would repair."""
    sync(capsys, project)
    db = project / "demo.db"
    external_sql(db, "DROP TRIGGER emotion__touch;\n")
    before = {p.name: p.read_bytes() for p in project.glob("demo.db*")}
    for args in (["sync", "--dry-run"], ["status"]):
        assert main([*args, "--config", str(project / "syncbridge.toml")]) == 0
        out = capsys.readouterr().out
        assert "emotion has lost syncbridge's triggers" in out or args == ["status"], out
        assert _triggers(db, "emotion") == {"emotion__deleted"}
    assert {p.name: p.read_bytes() for p in project.glob("demo.db*")} == before
    sync(capsys, project)  # a real run repairs it
    assert _triggers(db, "emotion") == {"emotion__touch", "emotion__deleted"}


def test_a_dry_run_against_a_database_of_ones_own_adds_nothing_to_it(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """``path`` names a database syncbridge never wrote (the user's own): ``status`` and
    ``--dry-run`` read it as empty and add nothing to it, not even the bookkeeping
    tables; the first real sync does."""
    db = project / "demo.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE mine (a TEXT)")
        conn.execute("INSERT INTO mine VALUES ('kept')")
    conn.close()
    before = db.read_bytes()
    for args in (["sync", "--dry-run"], ["status"], ["migrate", "--to", "local", "--dry-run"]):
        assert main([*args, "--config", str(project / "syncbridge.toml")]) == 0, args
        capsys.readouterr()
        assert db.read_bytes() == before, args
        assert [n for (n,) in query(db, "SELECT name FROM sqlite_master")] == ["mine"]
    assert counts(sync(capsys, project))[:4] == [0, 0, 0, 0]
    assert {"_meta", "_trash", "mine"} <= {
        n for (n,) in query(db, "SELECT name FROM sqlite_master")
    }
    assert query(db, "SELECT a FROM mine") == [("kept",)]
