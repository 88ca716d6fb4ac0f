"""Older copies put back, through the CLI with file copies (issue 14, items 2 and 3):
a database restored from a backup stops the run before any write and offers the two
choices; a state folder restored from a backup is recognised by its generation, set
aside and re-paired; an empty state file is reported, never taken for a new one."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from syncbridge.cli import main

DB = "syncbridge-demo.db"
NOTE = "Psyche/Wounds/Abandonment Wound.md"


def sync(capsys: pytest.CaptureFixture[str], project: Path, *extra: str) -> tuple[int, Any, str]:
    code = main(["sync", "--json", "--config", str(project / "syncbridge.toml"), *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def checkpoint(path: Path) -> None:
    """Fold the WAL into the file, and close (as a backup tool would before copying)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def copy_db(project: Path, to: Path) -> None:
    """A backup of the database as a user makes one (the file, its WAL checkpointed)."""
    checkpoint(project / DB)
    shutil.copy2(project / DB, to)


def put_back(backup: Path, project: Path) -> None:
    for suffix in ("-wal", "-shm"):
        (project / (DB + suffix)).unlink(missing_ok=True)
    shutil.copy2(backup, project / DB)


def edit_note(project: Path, old: str, new: str) -> None:
    path = project / "vault" / NOTE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def new_note(project: Path) -> Path:
    path = project / "vault" / "Psyche" / "Wounds" / "Brand New Wound.md"
    path.write_text("---\nfileClass: wound\nintensity: 3\n---\nA new note.\n", encoding="utf-8")
    return path


def entry_rows(project: Path) -> list[str]:
    """The database's dump without its bookkeeping of sync runs (lease, generations)."""
    return [
        line
        for line in sqlite3.connect(project / DB).iterdump()
        if "_sync_generations" not in line and "_sync_lease" not in line
    ]


def intensity(project: Path) -> str:
    for line in (project / "vault" / NOTE).read_text(encoding="utf-8").splitlines():
        if line.startswith("intensity:"):
            return line
    raise AssertionError("no intensity line")


def restored_scenario(capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path) -> Path:
    """Sync; back the database up; edit a field and add a note; sync; put the old
    database back. Returns the new note's path."""
    assert sync(capsys, project)[0] == 0
    copy_db(project, tmp_path / "backup.db")
    edit_note(project, "intensity: 8", "intensity: 2")
    created = new_note(project)
    code, data, _ = sync(capsys, project)
    assert code == 0 and data["targets"]["local"]["remote"]["updated"] == 1
    put_back(tmp_path / "backup.db", project)
    return created


def test_a_database_put_back_from_an_older_copy_stops_before_writing(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    created = restored_scenario(capsys, project, tmp_path)
    vault_before = {p: p.read_bytes() for p in (project / "vault").rglob("*.md")}
    db_before = list(sqlite3.connect(project / DB).iterdump())
    code, data, err = sync(capsys, project)
    assert code == 3
    stop = data["targets"]["local"]["safety_stop"]
    assert "looks restored from an older copy" in stop and "--take-target" in stop
    assert "--push-vault" in stop and "1 linked record(s) are missing" in stop
    assert "stopped" in err
    # nothing written on either side: the edit and the new note are still there
    assert {p: p.read_bytes() for p in (project / "vault").rglob("*.md")} == vault_before
    assert list(sqlite3.connect(project / DB).iterdump()) == db_before
    assert intensity(project) == "intensity: 2" and created.exists()
    assert not (project / "vault" / ".trash").exists()


def test_push_vault_writes_the_vault_state_back_into_the_restored_database(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    created = restored_scenario(capsys, project, tmp_path)
    code, data, _ = sync(capsys, project, "--push-vault")
    assert code == 0, data
    local = data["targets"]["local"]
    assert local["vault"]["updated"] == local["vault"]["deleted"] == 0
    assert local["remote"]["created"] == 1 and local["remote"]["updated"] >= 1
    assert intensity(project) == "intensity: 2" and created.exists()
    with sqlite3.connect(project / DB) as conn:
        assert conn.execute(
            "SELECT intensity FROM wound WHERE title = 'Abandonment Wound'"
        ).fetchone() == (2,)
        assert conn.execute(
            "SELECT count(*) FROM wound WHERE title = 'Brand New Wound'"
        ).fetchone() == (1,)
    # the restored database's old value is kept too
    conflicts = json.loads(_cli(capsys, project, "conflicts", "list", "--json"))
    assert {(c["field"], c["remote_value"], c["winner"]) for c in conflicts} >= {
        ("intensity", 8, "vault")
    }
    # and from now on the two are in step again
    again = sync(capsys, project)
    assert again[0] == 0 and again[1]["targets"]["local"]["remote"]["updated"] == 0


def test_take_target_takes_the_restored_database_and_logs_every_overwritten_value(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    created = restored_scenario(capsys, project, tmp_path)
    code, data, _ = sync(capsys, project, "--take-target", "--force-delete")
    assert code == 0, data
    local = data["targets"]["local"]
    assert local["vault"]["updated"] >= 1 and local["vault"]["deleted"] == 1
    assert intensity(project) == "intensity: 8"
    assert not created.exists()  # its record is gone from the target: to the vault's trash
    assert list((project / "vault" / ".trash").rglob("Brand New Wound.md"))
    conflicts = json.loads(_cli(capsys, project, "conflicts", "list", "--json"))
    assert {(c["field"], c["vault_value"], c["winner"], c["decided_by"]) for c in conflicts} >= {
        ("intensity", 2, "remote", "restored_target")
    }
    again = sync(capsys, project)
    assert again[0] == 0 and again[1]["targets"]["local"]["vault"]["updated"] == 0


def test_a_row_put_back_at_an_older_version_is_a_restored_target_too(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    assert sync(capsys, project)[0] == 0
    with sqlite3.connect(project / DB) as conn:
        old = conn.execute(
            "SELECT intensity, _version, _modified FROM wound WHERE title = 'Abandonment Wound'"
        ).fetchone()
    edit_note(project, "intensity: 8", "intensity: 2")
    assert sync(capsys, project)[0] == 0
    with sqlite3.connect(project / DB) as conn:  # one row copied back from an old file
        conn.execute(
            "UPDATE wound SET intensity = ?, _version = ?, _modified = ?"
            " WHERE title = 'Abandonment Wound'",
            old,
        )
    code, data, _ = sync(capsys, project)
    assert code == 3
    assert "1 record(s) hold an older version" in data["targets"]["local"]["safety_stop"]
    assert intensity(project) == "intensity: 2"


def test_a_row_replaced_with_insert_or_replace_is_an_edit_not_a_restore(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    assert sync(capsys, project)[0] == 0
    edit_note(project, "intensity: 8", "intensity: 7")
    assert sync(capsys, project)[0] == 0  # the row is at _version 2 now
    with sqlite3.connect(project / DB) as conn:  # the whole row replaced: _version 1 again
        conn.execute("CREATE TEMP TABLE w AS SELECT * FROM wound WHERE title = 'Abandonment Wound'")
        conn.execute(
            "UPDATE w SET intensity = 5, _version = 1,"
            " _modified = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second')"
        )
        conn.execute("INSERT OR REPLACE INTO wound SELECT * FROM w")
        assert conn.execute(
            "SELECT _version FROM wound WHERE title = 'Abandonment Wound'"
        ).fetchone() == (1,)
    code, data, _ = sync(capsys, project)
    assert code == 0 and data["targets"]["local"]["vault"]["updated"] == 1
    assert intensity(project) == "intensity: 5"


def _cli(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> str:
    code = main([*args, "--config", str(project / "syncbridge.toml")])
    out, _err = capsys.readouterr()
    assert code == 0, out
    return out


def test_a_state_folder_put_back_from_an_older_copy_is_recognised_and_re_paired(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    assert sync(capsys, project)[0] == 0
    state = project / ".syncbridge"
    checkpoint(state / "state.db")
    shutil.copytree(state, tmp_path / "old-state")
    with sqlite3.connect(project / DB) as conn:  # an edit made in the database
        conn.execute("UPDATE wound SET intensity = 4 WHERE title = 'Abandonment Wound'")
    assert sync(capsys, project)[0] == 0
    assert intensity(project) == "intensity: 4"
    gone = project / "vault" / "Psyche" / "Wounds" / "Rejection Wound.md"
    assert gone.exists()
    gone.unlink()  # a note deleted in the vault
    code, data, _ = sync(capsys, project)
    assert code == 0 and data["targets"]["local"]["remote"]["deleted"] == 1
    rows_before = entry_rows(project)

    shutil.rmtree(state)
    shutil.copytree(tmp_path / "old-state", state)  # the older copy put back
    code, data, err = sync(capsys, project)
    assert code == 0, err
    local = data["targets"]["local"]
    assert any(
        "the state is behind target 'local'" in n and "paired again" in n
        for n in (m["message"] for m in local["notices"])
    )
    assert local["remote"]["created"] == local["vault"]["created"] == 0
    assert local["remote"]["updated"] == local["vault"]["updated"] == 0
    assert intensity(project) == "intensity: 4"  # the database's edit is not undone
    assert not gone.exists()  # the deleted note does not come back
    assert entry_rows(project) == rows_before
    assert list(state.glob("state.db.stale-*"))  # the stale file is kept
    again = sync(capsys, project)
    assert again[0] == 0 and not again[1]["targets"]["local"]["notices"]


def test_a_dry_run_says_the_state_is_behind_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    assert sync(capsys, project)[0] == 0
    state = project / ".syncbridge"
    checkpoint(state / "state.db")
    shutil.copy2(state / "state.db", tmp_path / "old.db")
    edit_note(project, "intensity: 8", "intensity: 6")
    assert sync(capsys, project)[0] == 0
    for suffix in ("-wal", "-shm"):
        (state / ("state.db" + suffix)).unlink(missing_ok=True)
    shutil.copy2(tmp_path / "old.db", state / "state.db")
    before = (state / "state.db").read_bytes()
    code, data, err = sync(capsys, project, "--dry-run")
    assert code == 0, (data, err)
    assert any(
        "a sync would set its links aside" in n
        for n in (m["message"] for m in data["targets"]["local"]["notices"])
    )
    assert (state / "state.db").read_bytes() == before
