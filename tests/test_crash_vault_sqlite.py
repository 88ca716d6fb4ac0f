"""Crash safety on the real parts: the example vault ↔ the SQLite adapter, SIGKILLed.

A sync subprocess kills itself before / after the N-th adapter write or right after a
commit (``SYNCBRIDGE_TEST_KILL_AT``); the re-run must converge: every note linked to
exactly one row (no duplicates), every edit present (or in the conflict log), and the run
after that writes nothing. ("During" a write is the adapters' own atomicity: the vault
writes by atomic replace, SQLite in transactions; their tests cover it.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncbridge.state import StateStore

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
SHAME = "Psyche/Wounds/Shame Wound.md"

WORKER = r"""
import json, sys
from pathlib import Path
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.registry import load_adapter
from syncbridge.state import StateStore
from syncbridge.vault.vault import Vault
from syncbridge.vault.adapter import VaultAdapter
d = Path(sys.argv[1])
reports = []
for _ in range(int(sys.argv[2])):
    vault = VaultAdapter(Vault.open(d / "vault"), timezone="UTC")
    cls = load_adapter("sqlite")
    remote = cls(cls.config_model(path="demo.db"), base_dir=d)
    options = SyncOptions(target="local", timezone="UTC", conflict="vault_wins")
    with StateStore.open(d / "state.db") as state:
        report = run_sync(vault, remote, state, options, schema=vault.vault.schema)
    remote.close()
    reports.append(report.to_dict())
print(json.dumps(reports))
"""


def worker(d: Path, kill_at: str | None = None, runs: int = 1) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", WORKER, str(d), str(runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def rows(d: Path) -> list[tuple[str, str, Any]]:
    """(table, title, status) of every row of every class table."""
    out = []
    with sqlite3.connect(d / "demo.db") as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not r[0].startswith(("_", "sqlite"))
        ]
        for t in tables:
            cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')}
            status = "status" if "status" in cols else "NULL"
            out += [(t, r[0], r[1]) for r in conn.execute(f'SELECT title, {status} FROM "{t}"')]
    return out


def converge(d: Path, kill_at: str) -> list[dict[str, Any]]:
    killed = worker(d, kill_at)
    assert killed.returncode == -signal.SIGKILL, (kill_at, killed.returncode, killed.stderr)
    done = worker(d, runs=2)
    assert done.returncode == 0, done.stderr
    recovering, quiet = json.loads(done.stdout)
    assert recovering["errors"] == [] and quiet["errors"] == []
    for side in ("vault", "remote"):
        assert all(quiet[side][k] == 0 for k in ("created", "updated", "deleted")), quiet
    with StateStore.open(d / "state.db") as state:
        links = state.links("local")
        assert state.pending_journal("local") == []
    table_rows = rows(d)
    titles = [title for _, title, _ in table_rows]
    assert len(titles) == len(set(titles)) == len(links), "duplicate or unlinked rows"
    return [recovering, quiet]


@pytest.mark.parametrize(
    "kill_at", ["write:1:before", "write:7:after", "write:3:committed", "write:15:after"]
)
def test_initial_sync_killed_then_converges(tmp_path: Path, kill_at: str) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    converge(tmp_path, kill_at)
    notes_synced = len(rows(tmp_path))
    assert notes_synced > 10


@pytest.mark.parametrize("kill_at", ["write:1:before", "write:2:after", "write:3:committed"])
def test_incremental_sync_killed_then_converges(tmp_path: Path, kill_at: str) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    first = worker(tmp_path)
    assert first.returncode == 0, first.stderr
    # a note edit, a row edit (sqlite3-style), a conflict, a new note
    shame = tmp_path / "vault" / SHAME
    shame.write_text(
        shame.read_text("utf-8").replace("priority: 🟡 Medium", "priority: 🔴 High"), "utf-8"
    )
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        conn.execute("UPDATE wound SET status = '🟨 in progress' WHERE title = 'Shame Wound'")
        conn.execute("UPDATE wound SET priority = '🟢 Low' WHERE title = 'Shame Wound'")
    new = tmp_path / "vault" / "Psyche" / "Wounds" / "Crash Test Wound.md"
    new.write_text("---\nfileClass: wound\nstatus: ⬜ not started\n---\nNew.\n", "utf-8")
    converge(tmp_path, kill_at)
    text = shame.read_text("utf-8")
    assert "status: 🟨 in progress" in text  # the row's edit reached the note
    assert "priority: 🔴 High" in text  # the note won the conflict (vault_wins)
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        (priority,) = conn.execute(
            "SELECT priority FROM wound WHERE title = 'Shame Wound'"
        ).fetchone()
        (count,) = conn.execute(
            "SELECT count(*) FROM wound WHERE title = 'Crash Test Wound'"
        ).fetchone()
    assert priority == "🔴 High" and count == 1
    with StateStore.open(tmp_path / "state.db") as state:
        logged = {(c.field, c.remote_value) for c in state.conflicts("local")}
    assert ("priority", "🟢 Low") in logged  # the loser is kept


def titles_by_path(d: Path) -> dict[str, str | None]:
    """Linked note path → the title its row holds now."""
    with StateStore.open(d / "state.db") as state:
        links = list(state.links("local").values())
    out: dict[str, str | None] = {}
    with sqlite3.connect(d / "demo.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        titles = {
            str(rid): title
            for t in tables
            for rid, title in conn.execute(f'SELECT _id, title FROM "{t}"')
        }
    for link in links:
        out[link.vault_id] = titles.get(link.remote_id)
    return out


@pytest.mark.parametrize("point", ["before", "after", "committed"])
@pytest.mark.parametrize(
    "new_path",
    [
        pytest.param("Psyche/Emotions/Sorrow.md", id="rename"),
        pytest.param("Psyche/Kept/Sorrow.md", id="move-and-rename"),
    ],
)
def test_rename_killed_at_its_write_reaches_the_row(
    tmp_path: Path, new_path: str, point: str
) -> None:
    """A note renamed (or moved and renamed) in the vault retitles its row; killed at that
    write, the re-run must still retitle it. Recovery used to store the row's old title
    as if the write had landed: both sides then looked unchanged forever (issue 8)."""
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    first = worker(tmp_path)
    assert first.returncode == 0, first.stderr
    vault = tmp_path / "vault"
    (vault / new_path).parent.mkdir(parents=True, exist_ok=True)
    os.rename(vault / "Psyche/Emotions/Grief.md", vault / new_path)
    converge(tmp_path, f"write:1:{point}")
    titles = titles_by_path(tmp_path)
    assert titles[new_path] == "Sorrow", titles
    assert all(Path(p).stem == t for p, t in titles.items()), titles
