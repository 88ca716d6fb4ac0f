"""Two setups (two configs, two state folders) syncing one vault and one SQLite database at
the same time, through the CLI in real processes: the database's own lease lets one run,
and the other stops naming it; nothing is ever created twice (issue 14, item 1). And a
target that cannot be locked: creates are looked up first."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.testing.memory import MemoryAdapter

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_VAULT = REPO / "examples" / "vault"


def two_setups(tmp_path: Path) -> tuple[Path, Path]:
    """One vault and one database, two configs with their own state folders."""
    shutil.copytree(EXAMPLE_VAULT, tmp_path / "vault")
    configs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        config = folder / "syncbridge.toml"
        config.write_text(
            '[vault]\npath = "../vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
            'path = "../shared.db"\n',
            encoding="utf-8",
        )
        configs.append(config)
    return configs[0], configs[1]


def cli(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncbridge", "sync", "--json", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_stopped(proc: subprocess.Popen[str], timeout: float = 120.0) -> None:
    """Wait until ``proc`` stopped itself (SIGSTOP at its injected fault point)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state in ("T", "t"):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the first run never reached its first write")


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def notes(vault: Path) -> list[str]:
    return sorted(str(p.relative_to(vault)) for p in vault.rglob("*.md") if ".trash" not in p.parts)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_second_setup_stops_naming_the_first_while_it_syncs(tmp_path: Path) -> None:
    one, two = two_setups(tmp_path)
    before = notes(tmp_path / "vault")
    first = cli(one, env={"SYNCBRIDGE_TEST_KILL_AT": "write:1:before:stop"})
    try:
        wait_stopped(first)  # holds the database's lease, and has written nothing yet
        second = cli(two)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 4, (out, err)
        assert "is being synced by another syncbridge run" in err
        assert f"pid {first.pid}" in err and str(one.parent / ".syncbridge") in err
        error = json.loads(out)["error"]  # --json: one error object on stdout
        assert error["code"] == 4 and error["kind"] == "locked"
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    created = json.loads(out)["targets"]["local"]["remote"]["created"]
    assert created == rows(tmp_path / "shared.db") > 0
    # the second setup now pairs everything the first created: nothing twice, anywhere
    again = cli(two)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    report = json.loads(out)["targets"]["local"]
    assert report["remote"]["created"] == 0 and report["vault"]["created"] == 0
    assert rows(tmp_path / "shared.db") == created
    assert notes(tmp_path / "vault") == before


def test_two_setups_started_together_create_every_entry_once(tmp_path: Path) -> None:
    one, two = two_setups(tmp_path)
    before = notes(tmp_path / "vault")
    runs = [cli(one), cli(two)]
    results = [(p.communicate(timeout=300), p.returncode) for p in runs]
    codes = sorted(code for _, code in results)
    assert codes in ([0, 0], [0, 4]), results  # one waits its turn or stops, never both run
    created = [
        json.loads(out)["targets"]["local"]["remote"]["created"]
        for (out, _), code in results
        if code == 0
    ]
    for (_out, err), code in results:
        if code == 4:
            assert "is being synced by another syncbridge run" in err
    entries = rows(tmp_path / "shared.db")
    assert max(created) == entries and sum(created) == entries
    for config in (one, two):  # and both setups stay quiet afterwards
        proc = cli(config)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        report = json.loads(out)["targets"]["local"]
        assert report["remote"]["created"] == report["vault"]["created"] == 0
    assert rows(tmp_path / "shared.db") == entries
    assert notes(tmp_path / "vault") == before


def test_a_lease_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    one, _two = two_setups(tmp_path)
    killed = cli(one, env={"SYNCBRIDGE_TEST_KILL_AT": "write:3:after"})
    killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        (owner,) = conn.execute("SELECT owner FROM _sync_lease").fetchone()
    assert json.loads(owner)["pid"] == killed.pid  # still there: the process died holding it
    rerun = cli(one)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        assert conn.execute("SELECT count(*) FROM _sync_lease").fetchone() == (0,)


class ConcurrentCreator(MemoryAdapter):
    """A remote nobody can lock, where another setup creates the record with id 7 right
    after our run listed it (the moment two unlocked runs race)."""

    def list(self):  # type: ignore[no-untyped-def]
        refs = list(super().list())
        if not any(s.fields.get("id") == 7 for s in self.records.values()):
            self.put("other-1", {"id": 7, "status": "theirs"}, "from the other setup\n")
            self.put("other-2", {"id": 7, "status": "theirs"}, "from the other setup\n")
        return iter(refs)


def test_a_create_on_an_unlockable_target_links_the_record_another_run_made(
    tmp_path: Path,
) -> None:
    vault = MemoryAdapter()
    vault.put("Note.md", {"id": 7, "status": "mine"}, "my body\n")
    vault.put("Other.md", {"id": 8}, "other body\n")
    remote = ConcurrentCreator()
    with StateStore.open(tmp_path / "state.db") as state:
        report = run_sync(vault, remote, state, SyncOptions(target="t"))
        assert report.remote.created == 1  # Other.md only: Note.md was linked, not doubled
        assert sorted(s.fields.get("id") for s in remote.records.values()) == [7, 7, 8]
        assert any(
            "another run created remote record other-1" in n and "other-2" in n
            for n in (m.message for m in report.notices)
        )
        links = state.links("t")
        assert {(link.a_id, link.b_id) for link in links.values()} >= {("Note.md", "other-1")}
        again = run_sync(vault, remote, state, SyncOptions(target="t"))
    assert again.remote.created == 0
    assert sorted(s.fields.get("id") for s in remote.records.values()) == [7, 7, 8]
