"""A dry run against the SQLite target changes no byte under the project, through the CLI.

``sync --dry-run``, ``migrate --dry-run`` (both ways) and ``status`` read the target's
database through a copy: opening the file in place makes SQLite's ``-wal`` / ``-shm``
beside it, and a read-write connection checkpoints a WAL that a SIGKILLed sync left into
the file when it closes. Each case snapshots every file under the project (bytes and
mtimes, every folder, the ``-wal`` / ``-shm`` included) before and after the dry runs: on a
fresh project, on a synced one with edits waiting on both sides, and on one whose last
sync was SIGKILLed mid-run; the dry run's report lists what is pending and the real sync
after it carries every edit.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syncbridge_sqlite.testing import run_in_python_process

from syncbridge.cli import ExitCode, main
from syncbridge.testing.files import changed_paths, tree_files

DB = "syncbridge-demo.db"
COUNTS = ("created", "updated", "deleted")


def cli(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "syncbridge.toml")])
    out, err = capsys.readouterr()
    return code, out + err


def dry_runs(capsys: pytest.CaptureFixture[str], project: Path) -> dict[str, Any]:
    """Every dry run through the real CLI entry, asserting after each that no file under
    the project changed, appeared or went; the ``sync --dry-run --json`` counts."""
    before = tree_files(project)
    commands = [
        ["sync", "--dry-run"],
        ["sync", "--dry-run", "--json"],
        ["migrate", "--to", "local", "--dry-run"],
        ["migrate", "--from", "local", "--into", str(project / "copy"), "--dry-run"],
        ["status"],
    ]
    data: dict[str, Any] = {}
    for args in commands:
        code, out = cli(capsys, project, *args)
        # a migration only sends into a target it would not change under the vault:
        # once rows were edited there it stops (having written nothing either)
        allowed = {ExitCode.OK} | ({ExitCode.STOPPED} if args[0] == "migrate" else set())
        assert code in allowed, (args, out)
        assert changed_paths(before, tree_files(project)) == [], args
        if "--json" in args:
            data = json.loads(out)["targets"]["local"]
            assert json.loads(out)["dry_run"] is True
    return data


def counts(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {side: {k: report[side][k] for k in COUNTS} for side in ("vault", "remote")}


def sync_in_subprocess(project: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    """``python -m syncbridge sync``, SIGKILLing itself at ``kill_at``."""
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "syncbridge", "sync", "--config", str(project / "syncbridge.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def row(project: Path, sql: str) -> Any:
    """One value read with a read-only connection (``mode=ro``: writes nothing)."""
    conn = sqlite3.connect(f"file:{project / DB}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()
    finally:
        conn.close()


def edit_both_sides(project: Path) -> tuple[Path, Path]:
    """Anger's intensity edited in its note, Grief's in its row, and a new note Joy."""
    emotions = project / "vault" / "Psyche" / "Emotions"
    anger, grief = emotions / "Anger.md", emotions / "Grief.md"
    text = anger.read_text(encoding="utf-8")
    assert "intensity: 5" in text
    anger.write_text(text.replace("intensity: 5", "intensity: 8"), encoding="utf-8")
    (emotions / "Joy.md").write_text(
        "---\nfileClass: emotion\nintensity: 2\n---\nJoy, after [[Anger]].\n", encoding="utf-8"
    )
    run_in_python_process(project / DB, "UPDATE emotion SET intensity = 1 WHERE title = 'Grief';\n")
    return anger, grief


def check_edits_carried(project: Path, grief: Path) -> None:
    assert row(project, "SELECT intensity FROM emotion WHERE title = 'Anger'") == (8,)
    assert row(project, "SELECT intensity FROM emotion WHERE title = 'Joy'") == (2,)
    assert "intensity: 1\n" in grief.read_text(encoding="utf-8")


def test_a_dry_run_on_a_fresh_project_makes_no_file(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """No database, no state: the dry runs create nothing (no database, no ``-wal``, no
    ``.syncbridge`` folder) and say every note would be created; the real sync does so."""
    pending = dry_runs(capsys, project)
    assert not (project / DB).exists() and not (project / ".syncbridge").exists()
    assert pending["remote"]["created"] >= 15 and pending["plan"], pending
    code, out = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.OK, out
    assert counts(json.loads(out)["targets"]["local"]) == counts(pending)


def test_a_dry_run_with_edits_waiting_on_both_sides_changes_no_byte(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """Synced, then a note edited, a note added and a row edited with SQL: the dry runs
    leave every file as it was, report the three changes, and the real sync makes them."""
    code, out = cli(capsys, project, "sync")
    assert code == ExitCode.OK, out
    _, grief = edit_both_sides(project)
    pending = dry_runs(capsys, project)
    assert counts(pending) == {
        "vault": {"created": 0, "updated": 1, "deleted": 0},
        # Anger's intensity, and Grief's last_modified (stamped by the pull of its row)
        "remote": {"created": 1, "updated": 2, "deleted": 0},
    }, pending
    plan = "\n".join(pending["plan"])
    assert "Anger" in plan and "Joy" in plan and "Grief" in plan, plan
    code, out = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.OK, out
    assert counts(json.loads(out)["targets"]["local"]) == counts(pending)
    check_edits_carried(project, grief)


def test_a_dry_run_after_a_sigkilled_sync_leaves_its_wal_as_it_was(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """A sync SIGKILLed after some of its writes leaves the database with a ``-wal``
    holding committed rows the file does not have yet (and a ``-shm``). The dry runs read
    those rows (they count the work done as done) and change neither the file nor its
    ``-wal`` / ``-shm``; the real sync after them finishes with every edit carried."""
    first = sync_in_subprocess(project, None)
    assert first.returncode == 0, first.stderr
    _, grief = edit_both_sides(project)
    killed = sync_in_subprocess(project, "write:2:after")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    wal = project / f"{DB}-wal"
    assert wal.exists() and wal.stat().st_size > 0, "the killed run left no WAL to fold in"
    assert (project / f"{DB}-shm").exists()
    pending = dry_runs(capsys, project)
    assert wal.exists()
    left = sum(n for side in counts(pending).values() for n in side.values())
    assert 0 < left < 4, pending  # of the four writes (see above), the killed run made some
    notices = " ".join(n["message"] for n in pending["notices"])
    assert "interrupted run" in notices, pending["notices"]
    code, out = cli(capsys, project, "sync", "--json")
    assert code == ExitCode.OK, out
    assert counts(json.loads(out)["targets"]["local"]) == counts(pending)
    check_edits_carried(project, grief)
    code, out = cli(capsys, project, "sync", "--json")
    again = counts(json.loads(out)["targets"]["local"])
    assert all(n == 0 for side in again.values() for n in side.values()), again
