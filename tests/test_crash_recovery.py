"""Crash safety with real processes: a sync SIGKILLed at injected points, then re-run.

Both sides are MemoryAdapters persisted to JSON files (atomic replace after every write)
and the state is the real SQLite file, so a killed process leaves exactly what a real one
would. ``SYNCBRIDGE_TEST_KILL_AT=write:N:POINT`` makes the executor kill itself before,
during, after the N-th adapter write, or after committing it. The re-run must converge:
both sides equal, no duplicate records, every edit in the result or the conflict log, and
the run after that writes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.testing.memory import MemoryAdapter, MemoryConfig

WORKER = r"""
import json, sys
from pathlib import Path
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.testing.memory import MemoryAdapter, MemoryConfig
d = Path(sys.argv[1])
vault = MemoryAdapter(MemoryConfig(ids_are_paths=True, path="vault.json"), base_dir=d)
remote = MemoryAdapter(MemoryConfig(path="remote.json"), base_dir=d)
reports = []
for _ in range(int(sys.argv[2])):
    with StateStore.open(d / "state.db") as state:
        report = run_sync(vault, remote, state, SyncOptions(target="crash", force_delete=True))
    reports.append(report.to_dict())
print(json.dumps(reports))
"""

TOKEN = re.compile(r"§\w+§")
POINTS = ("before", "during", "after", "committed")


def adapters(d: Path) -> tuple[MemoryAdapter, MemoryAdapter]:
    vault = MemoryAdapter(MemoryConfig(ids_are_paths=True, path="vault.json"), base_dir=d)
    remote = MemoryAdapter(MemoryConfig(path="remote.json"), base_dir=d)
    return vault, remote


def run_worker(
    d: Path, kill_at: str | None = None, runs: int = 1
) -> subprocess.CompletedProcess[str]:
    """Sync ``runs`` times in a fresh process (killing itself at ``kill_at`` if given)."""
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", WORKER, str(d), str(runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tokens(adapter: MemoryAdapter) -> set[str]:
    found: set[str] = set()
    for fields, body in adapter.contents().values():
        found.update(TOKEN.findall(json.dumps(fields, ensure_ascii=False)))
        found.update(TOKEN.findall(body))
    return found


def initial_scenario(d: Path) -> set[str]:
    """Both sides have entries, nothing linked yet: creates in both directions."""
    vault, remote = adapters(d)
    vault.put("A.md", {"id": 1, "s": "§a1§"}, "alpha §a2§\n")
    vault.put("Folder/B.md", {"s": "§b1§"}, "beta §b2§\n")
    vault.put("C.md", {}, "gamma §c1§\n")
    remote.put("r-x", {"s": "§x1§"}, "remote x §x2§\n", title="X")
    remote.put("r-y", {"id": 9, "s": "§y1§"}, "", title="Y")
    return tokens(vault) | tokens(remote)


def incremental_scenario(d: Path) -> set[str]:
    """After a clean sync: edits on both sides, a conflict, a delete, a rename, a create."""
    initial_scenario(d)
    vault, remote = adapters(d)
    with StateStore.open(d / "state.db") as state:  # a clean first sync, in-process
        run_sync(vault, remote, state, SyncOptions(target="crash", force_delete=True))
    by_id = {s.fields.get("id"): rid for rid, s in remote.records.items()}
    vault.edit("A.md", set_fields={"s": "§va§"}, body="alpha §a2§\nvault line §vb§\n")
    remote.edit(by_id[1], set_fields={"s": "§ra§"})  # conflict on s
    x_note = next(p for p, s in vault.records.items() if s.fields.get("s") == "§x1§")
    vault.rename(x_note, "Moved/X2.md")
    b_remote = next(r for r, s in remote.records.items() if s.fields.get("s") == "§b1§")
    remote.edit(b_remote, set_fields={"t": "§rt§"})
    vault.remove("C.md")
    vault.put("D.md", {"s": "§d1§"}, "delta §d2§\n")
    remote.put("r-z", {"s": "§z1§"}, "", title="Z")
    base_tokens = {"§a1§", "§b1§", "§b2§", "§a2§", "§x1§", "§x2§", "§y1§", "§c1§"}
    return (tokens(vault) | tokens(remote)) - base_tokens


def assert_converged(d: Path, edits: set[str]) -> None:
    vault, remote = adapters(d)
    with StateStore.open(d / "state.db") as state:
        links = state.links("crash")
        assert state.pending_journal("crash") == []
        logged: set[str] = set()
        for c in state.conflicts("crash"):
            values = json.dumps([c.vault_value, c.remote_value], ensure_ascii=False)
            logged.update(TOKEN.findall(values))
    vc, rc = vault.contents(), remote.contents()
    # no duplicates: every record on each side is linked exactly once
    assert len(links) == len(vc) == len(rc), (links, vc, rc)
    assert {lk.vault_id for lk in links.values()} == set(vc)
    assert {lk.remote_id for lk in links.values()} == set(rc)
    for link in links.values():
        assert vc[link.vault_id] == rc[link.remote_id]
        # the title too: a rename that never reached the other side is not converged
        assert PurePosixPath(link.vault_id).stem == remote.records[link.remote_id].title, link
    lost = edits - (tokens(vault) | tokens(remote) | logged)
    assert not lost, f"edits lost: {lost}"


def crash_then_converge(d: Path, edits: set[str], kill_at: str) -> None:
    killed = run_worker(d, kill_at)
    if killed.returncode == 0:
        pytest.fail(f"{kill_at}: the run made fewer writes than that; pick a smaller N")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before_rerun = _files(d)
    rerun = run_worker(d, runs=2)  # the recovering run, then one that must be quiet
    assert rerun.returncode == 0, rerun.stderr
    recovering, quiet = json.loads(rerun.stdout)
    assert recovering["errors"] == [] and quiet["errors"] == []
    assert_converged(d, edits)
    for side in ("vault", "remote"):
        assert all(quiet[side][k] == 0 for k in ("created", "updated", "deleted")), quiet
    assert before_rerun != _files(d) or recovering["recovered"] >= 0


def _files(d: Path) -> tuple[str, str]:
    return ((d / "vault.json").read_text("utf-8"), (d / "remote.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("write", "point"), [(1, "before"), (2, "during"), (3, "after"), (4, "committed")]
)
def test_initial_sync_killed_converges(tmp_path: Path, write: int, point: str) -> None:
    edits = initial_scenario(tmp_path)
    crash_then_converge(tmp_path, edits, f"write:{write}:{point}")


def planned_writes(d: Path) -> int:
    """How many adapter writes the next run makes (a dry run of the engine)."""
    vault, remote = adapters(d)
    options = SyncOptions(target="crash", force_delete=True, dry_run=True)
    with StateStore.open(d / "state.db") as state:
        report = run_sync(vault, remote, state, options)
    assert report.plan is not None
    return len(report.plan.writes())


@pytest.mark.parametrize("point", POINTS)
def test_incremental_sync_killed_at_every_write_converges(tmp_path: Path, point: str) -> None:
    """Every write of a run with edits, a conflict, a delete, a create on each side and a
    note moved to another folder under a new name: killed at any of them, the re-run leaves
    both sides agreeing on content *and* title (the rename reached the remote)."""
    template = tmp_path / "template"
    template.mkdir()
    edits = incremental_scenario(template)
    count = planned_writes(template)
    assert count >= 6, count
    for number in range(1, count + 1):
        case = tmp_path / f"w{number}"
        shutil.copytree(template, case)
        crash_then_converge(case, edits, f"write:{number}:{point}")


def test_killed_twice_in_a_row_still_converges(tmp_path: Path) -> None:
    edits = incremental_scenario(tmp_path)
    first = run_worker(tmp_path, "write:2:after")
    assert first.returncode == -signal.SIGKILL
    crash_then_converge(tmp_path, edits, "write:1:during")
