"""Damage gets a diagnosis, not a traceback (issue 14, item 4), through the CLI: a full disk
(a real, small tmpfs where we may mount one) and a file-size limit (a real rlimit in a child
process); damaged bytes in a state row and a damaged page; an empty state file; a ``-wal``
left beside a moved database. Each is one line naming the file and what to do, a ``--json``
error object and an exit code of its own; ``doctor`` names the damage and ``repair``
rebuilds the state, after which the sync converges with nothing created twice."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncbridge.cli import ExitCode, main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_VAULT = REPO / "examples" / "vault"
DB = "syncbridge-demo.db"
NOTE = "Psyche/Wounds/Abandonment Wound.md"


def make_project(root: Path) -> Path:
    shutil.copytree(EXAMPLE_VAULT, root / "vault")
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
        f'path = "{DB}"\n',
        encoding="utf-8",
    )
    return root


def cli(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "syncbridge.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def notes(vault: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(vault)): p.read_bytes()
        for p in sorted(vault.rglob("*.md"))
        if ".trash" not in p.parts
    }


def one_line_diagnosis(err: str) -> str:
    """The failure is exactly one line on stderr (no traceback); returns it."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def json_error(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert data["ok"] is False
    error: dict[str, Any] = data["error"]
    return error


# -- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 400 KB tmpfs, mounted for the test (needs root; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def test_a_full_disk_is_one_line_exit_5_and_a_json_error_then_converges(
    capsys: pytest.CaptureFixture[str], small_disk: Path
) -> None:
    project = make_project(small_disk)
    before = notes(project / "vault")
    code, out, err = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.ENVIRONMENT == 5
    line = one_line_diagnosis(err)
    assert "the disk is full" in line and str(small_disk) in line and "free some space" in line
    error = json_error(out)
    assert error["code"] == 5 and error["kind"] == "disk_full"
    assert error["path"] and error["path"].startswith(str(small_disk))
    assert notes(project / "vault") == before  # nothing in the vault was touched
    resize(small_disk, "20m")
    code, out, err = cli(capsys, project, "sync", "--json")
    assert code == 0, err
    assert rows(project / DB) == len(before) - 6  # the example vault's 22 entries, once
    code, out, err = cli(capsys, project, "sync", "--json")
    local = json.loads(out)["targets"]["local"]
    assert code == 0 and local["remote"]["created"] == local["vault"]["created"] == 0


def test_a_full_disk_during_a_sync_of_remote_edits_keeps_them_for_the_next_run(
    capsys: pytest.CaptureFixture[str], small_disk: Path
) -> None:
    resize(small_disk, "20m")
    project = make_project(small_disk)
    assert cli(capsys, project, "sync")[0] == 0
    with sqlite3.connect(project / DB) as conn:
        conn.execute("UPDATE wound SET body = body || ? ", ("\nEdited in SQLite.\n" * 200,))
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - 8192))  # the disk is now full
    code, _out, err = cli(capsys, project, "sync")
    assert code == 5
    assert "the disk is full" in one_line_diagnosis(err)
    (small_disk / "filler").unlink()
    code, _out, err = cli(capsys, project, "sync")
    assert code == 0, err
    assert "Edited in SQLite." in (project / "vault" / NOTE).read_text(encoding="utf-8")
    assert rows(project / DB) == 22


def _limit_file_size() -> None:  # runs in the child, before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_file_size_limit_is_a_diagnosis_not_a_traceback(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncbridge",
            "sync",
            "--json",
            "--config",
            str(project / "syncbridge.toml"),
        ],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        check=False,
    )
    assert done.returncode == 5, done.stderr
    line = one_line_diagnosis(done.stderr)
    assert str(tmp_path) in line and "run again" in line
    assert json_error(done.stdout)["code"] == 5
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncbridge",
            "sync",
            "--json",
            "--config",
            str(project / "syncbridge.toml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert rows(project / DB) == 22


# -- a damaged state ------------------------------------------------------------------------


def checkpointed(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def damage_bytes(path: Path, inside: bytes, count: int = 64) -> None:
    """Overwrite ``count`` bytes of the file in the middle of where ``inside`` is stored."""
    data = bytearray(path.read_bytes())
    at = data.find(inside)
    assert at >= 0, "the row is not in the main file"
    data[at : at + count] = b"\xff" * count
    path.write_bytes(bytes(data))


def edit_note(project: Path) -> None:
    path = project / "vault" / NOTE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("intensity: 8", "intensity: 3", 1), encoding="utf-8")


def test_damaged_bytes_in_a_state_row_are_diagnosed_and_repaired(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    assert cli(capsys, project, "sync")[0] == 0
    state = project / ".syncbridge" / "state.db"
    checkpointed(state)
    body = (project / "vault" / NOTE).read_text(encoding="utf-8").split("---\n", 2)[2]
    damage_bytes(state, json.dumps(body[:80], ensure_ascii=False)[1:60].encode("utf-8"))
    assert sqlite3.connect(state).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    edit_note(project)  # the entry's base is needed now
    db_before = rows(project / DB)

    code, out, err = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.DAMAGED == 6
    line = one_line_diagnosis(err)
    assert str(state) in line and "syncbridge repair" in line and NOTE in line
    assert json_error(out)["kind"] == "damaged"

    code, out, _err = cli(capsys, project, "doctor")
    assert code == 6
    assert "state: " in out and "not UTF-8" in out and "syncbridge repair --config" in out

    code, out, err = cli(capsys, project, "repair")
    assert code == 0, err
    backups = list(state.parent.glob("state.db.damaged-*Z"))
    assert len(backups) == 1 and f"kept as {backups[0]}" in out
    assert rows(project / DB) == db_before  # re-paired: nothing created twice
    # paired without a base: the edit either won or is kept in the conflict log
    with sqlite3.connect(project / DB) as conn:
        (value,) = conn.execute(
            "SELECT intensity FROM wound WHERE title = 'Abandonment Wound'"
        ).fetchone()
    if value != 3:
        logged = json.loads(cli(capsys, project, "conflicts", "list", "--json")[1])
        assert ("intensity", 3) in {(c["field"], c["vault_value"]) for c in logged}
    assert cli(capsys, project, "doctor")[0] == 0


def test_a_damaged_page_is_a_diagnosis_and_repair_rebuilds_the_state(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    assert cli(capsys, project, "sync")[0] == 0
    state = project / ".syncbridge" / "state.db"
    checkpointed(state)
    data = bytearray(state.read_bytes())
    page = 4096
    data[page : page + 16] = b"\xa5" * 16  # the header of the second page (a b-tree)
    state.write_bytes(bytes(data))
    code, _out, err = cli(capsys, project, "sync")
    assert code == 6
    line = one_line_diagnosis(err)
    assert "damaged" in line and "syncbridge repair" in line and str(state) in line
    code, _out, err = cli(capsys, project, "repair")
    assert code == 0, err
    assert rows(project / DB) == 22
    assert cli(capsys, project, "sync")[0] == 0


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("DROP TABLE links", "table links is missing"),
        ("DROP TABLE journal", "table journal is missing"),
        ("DELETE FROM meta", "schema version is gone"),
    ],
)
def test_a_state_file_missing_a_table_or_its_version_is_damaged_and_repaired(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, damage: str, says: str
) -> None:
    project = make_project(tmp_path)
    assert cli(capsys, project, "sync")[0] == 0
    state = project / ".syncbridge" / "state.db"
    with sqlite3.connect(state) as conn:
        conn.execute(damage)
    conn.close()
    checkpointed(state)
    before = state.read_bytes()
    code, out, err = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.DAMAGED
    assert json_error(out)["kind"] == "damaged"
    line = one_line_diagnosis(err)
    assert says in line and str(state) in line and "syncbridge repair" in line
    assert state.read_bytes() == before  # left as it is, for repair to keep
    code, _out, err = cli(capsys, project, "repair")
    assert code == 0, err
    assert rows(project / DB) == 22
    code, _out, err = cli(capsys, project, "sync")
    assert code == 0, err


def test_an_empty_state_file_is_reported_never_taken_for_a_new_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    assert cli(capsys, project, "sync")[0] == 0
    state = project / ".syncbridge" / "state.db"
    for suffix in ("", "-wal", "-shm"):
        path = state.with_name(state.name + suffix)
        if path.exists():
            path.write_bytes(b"")
    code, out, err = cli(capsys, project, "sync", "--json")
    assert code == 6 and json_error(out)["kind"] == "damaged"
    line = one_line_diagnosis(err)
    assert "is empty (0 bytes)" in line and "syncbridge repair" in line
    assert state.stat().st_size == 0  # left as it is
    code, _out, err = cli(capsys, project, "repair")
    assert code == 0, err
    assert rows(project / DB) == 22


def test_a_wal_left_beside_a_moved_database_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    assert cli(capsys, project, "sync")[0] == 0
    keeper = sqlite3.connect(project / DB)  # another tool with the database open
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("UPDATE wound SET intensity = 1")
    keeper.commit()
    assert (project / (DB + "-wal")).exists()
    os.replace(project / DB, tmp_path / "moved.db")  # moved away without its -wal / -shm
    try:
        code, out, err = cli(capsys, project, "sync", "--json")
        assert code == 6
        line = one_line_diagnosis(err)
        assert f"{DB}-wal" in line and "left over" in line and "Move" in line
        assert json_error(out)["kind"] == "damaged"
        code, out, _err = cli(capsys, project, "doctor")
        assert code == 6 and f"{DB}-wal" in out
    finally:
        keeper.close()
