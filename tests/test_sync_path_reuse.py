"""A path reused by another entry (docs/sync.md, "renamed": by id): N1 deleted and N2
renamed to N1.md is a delete of id 1 and a rename of id 2, never id 2's content written
over id 1's record. Real vault folder, real SQLite file edited with plain SQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from syncbridge.cli import main

CONFIG = (
    '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
    'path = "local.db"\n'
)


def note(key: int, status: str, body: str) -> str:
    return f"---\nid: {key}\nstatus: {status}\n---\n{body}\n"


def sync(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["sync", "--json", "--config", str(project / "syncbridge.toml")])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)["targets"]["local"]
    return code, report


def query(project: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "local.db") as conn:
        return conn.execute(sql).fetchall()


def vault_ids(project: Path) -> dict[str, str]:
    """Vault path → the id line of its frontmatter."""
    return {
        p.name: next(line for line in p.read_text("utf-8").splitlines() if line.startswith("id:"))
        for p in sorted((project / "vault").glob("*.md"))
    }


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "N1.md").write_text(note(1, "one", "body one"), "utf-8")
    (vault / "N2.md").write_text(note(2, "two", "body two"), "utf-8")
    (vault / "N3.md").write_text(note(3, "three", "body three"), "utf-8")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, "utf-8")
    assert sync(tmp_path, capsys)[0] == 0
    return tmp_path


def assert_no_op(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, again = sync(project, capsys)
    assert code == 0 and not again["skipped"], again
    assert all(
        again[s][k] == 0 for s in ("vault", "remote") for k in ("created", "updated", "deleted")
    ), again


@pytest.mark.parametrize("remote_edit", [True, False])
def test_a_deleted_notes_path_taken_by_a_renamed_note_is_a_delete_and_a_rename(
    project: Path, capsys: pytest.CaptureFixture[str], remote_edit: bool
) -> None:
    if remote_edit:
        with sqlite3.connect(project / "local.db") as conn:
            conn.execute("UPDATE note SET status = 'two-edited' WHERE id = 2")
    vault = project / "vault"
    (vault / "N1.md").unlink()
    (vault / "N2.md").rename(vault / "N1.md")
    code, report = sync(project, capsys)
    assert code == 0, report
    assert report["remote"]["deleted"] == 1 and report["remote"]["created"] == 0, report
    assert report["vault"]["created"] == 0, report
    status = "two-edited" if remote_edit else "two"
    assert sorted(query(project, "SELECT id, title, status, body FROM note")) == [
        (2, "N1", status, "body two\n"),
        (3, "N3", "three", "body three\n"),
    ]
    trashed = [json.loads(r) for (r,) in query(project, "SELECT row_json FROM _trash")]
    assert [(r["id"], r["title"], r["body"]) for r in trashed] == [(1, "N1", "body one\n")]
    assert vault_ids(project) == {"N1.md": "id: 2", "N3.md": "id: 3"}  # N2.md not re-created
    assert f"status: {status}" in (vault / "N1.md").read_text("utf-8")
    assert_no_op(project, capsys)


def test_two_notes_swapping_names_keep_their_ids_and_nothing_is_trashed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows_before = dict(query(project, "SELECT id, _id FROM note"))
    vault = project / "vault"
    (vault / "N1.md").rename(vault / "tmp.md")
    (vault / "N2.md").rename(vault / "N1.md")
    (vault / "tmp.md").rename(vault / "N2.md")
    code, report = sync(project, capsys)
    assert code == 0, report
    assert report["remote"]["deleted"] == report["remote"]["created"] == 0, report
    assert sorted(query(project, "SELECT id, title, status, body FROM note")) == [
        (1, "N2", "one", "body one\n"),
        (2, "N1", "two", "body two\n"),
        (3, "N3", "three", "body three\n"),
    ]
    # each record keeps its entry (renamed), not the other's content written over it
    assert dict(query(project, "SELECT id, _id FROM note")) == rows_before
    assert query(project, "SELECT count(*) FROM _trash") == [(0,)]
    assert vault_ids(project) == {"N1.md": "id: 2", "N2.md": "id: 1", "N3.md": "id: 3"}
    assert_no_op(project, capsys)
