"""Values left in the index cache file (issue 14 item 6): read back right, or refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncbridge.errors import RetryableError
from syncbridge.vault import Vault
from syncbridge.vault.cachefile import StoredValues


def _vault(tmp_path: Path, n: int = 5) -> tuple[Path, Path]:
    root = tmp_path / "vault"
    root.mkdir()
    for i in range(n):
        (root / f"n{i}.md").write_text(f"---\nstatus: s{i}\ntags: [a, {i}]\n---\nBody\n")
    past = os.stat(root / "n0.md").st_mtime - 10
    for i in range(n):
        os.utime(root / f"n{i}.md", (past, past))
    return root, tmp_path / "index.json"


def _open_fds() -> int:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counting open files needs /proc (Linux)")
    return len(os.listdir("/proc/self/fd"))


def test_values_read_back_from_the_cache_file_are_those_the_scan_parsed(tmp_path: Path) -> None:
    root, cache = _vault(tmp_path)
    fresh = {e.path: e.fields for e in Vault.open(root, cache_path=cache).entries().values()}
    cached = Vault.open(root, cache_path=cache)
    assert all(type(e.values) is StoredValues for e in cached.entries().values())
    assert {e.path: e.fields for e in cached.entries().values()} == fresh
    assert {n.path: dict(n) for n in cached.notes()} == fresh


def test_after_a_save_the_values_are_read_from_the_new_cache(tmp_path: Path) -> None:
    root, cache = _vault(tmp_path)
    Vault.open(root, cache_path=cache)
    vault = Vault.open(root, cache_path=cache)
    before = _open_fds()
    for round_ in range(3):
        (root / "n0.md").write_text(f"---\nstatus: edited {round_}\n---\nBody\n")
        vault.rescan()  # reads n0, saves the cache: the others now point into the new file
        assert vault.entry("n1.md").fields == {"status": "s1", "tags": ["a", 1]}
        assert vault.entry("n0.md").fields == {"status": f"edited {round_}"}
    # one file open for the values at a time: each replaced cache is closed
    assert _open_fds() <= before
    # and a vault opened from the saved cache reads the same
    again = Vault.open(root, cache_path=cache)
    assert {e.path: e.fields for e in again.entries().values()} == {
        e.path: e.fields for e in vault.entries().values()
    }


def test_a_cache_replaced_by_another_process_leaves_the_open_vault_right(tmp_path: Path) -> None:
    root, cache = _vault(tmp_path)
    Vault.open(root, cache_path=cache)
    vault = Vault.open(root, cache_path=cache)
    expected = {e.path: e.fields for e in vault.entries().values()}
    # another syncbridge saves a different index over it (written aside, then renamed)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("---\nstatus: other\n---\n")
    Vault.open(other, cache_path=tmp_path / "other.json")
    os.replace(tmp_path / "other.json", cache)
    assert {e.path: e.fields for e in vault.entries().values()} == expected


def test_a_cache_edited_in_place_is_refused_not_read_as_other_values(tmp_path: Path) -> None:
    root, cache = _vault(tmp_path)
    Vault.open(root, cache_path=cache)
    vault = Vault.open(root, cache_path=cache)
    data = cache.read_bytes()
    with open(cache, "r+b") as handle:  # same length, other values: "s1" becomes "s9"
        handle.write(data.replace(b'"status":"s1"', b'"status":"s9"'))
    with pytest.raises(RetryableError, match="index cache changed") as info:
        _ = vault.entry("n1.md").fields
    assert str(cache) in str(info.value) and "run the command again" in str(info.value)
    assert vault.entry("n2.md").fields == {"status": "s2", "tags": ["a", 2]}
    cache.write_bytes(data[: len(data) // 2])  # truncated in place
    with pytest.raises(RetryableError):
        _ = vault.entry("n4.md").fields


def _bytes_and_mtimes(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_a_dry_run_scan_reads_the_cache_and_writes_nothing(tmp_path: Path) -> None:
    """``--dry-run`` changes no byte: a scan within :meth:`Vault.dry_run` neither makes
    nor saves the index cache (nor removes a killed write's temp file); the first scan
    outside one saves what it had, so the next run is warm and right."""
    root, _ = _vault(tmp_path)
    cache = tmp_path / "state" / "vault-index.json"  # its folder does not exist yet
    stale = root / f".sb-{_dead_pid()}-{'0' * 16}.tmp"
    stale.write_bytes(b"partial")
    before = _bytes_and_mtimes(tmp_path)
    vault = Vault.open(root, cache_path=cache, dry_run=True)  # a fresh machine
    assert len(vault.entries()) == 5
    assert _bytes_and_mtimes(tmp_path) == before and not cache.parent.exists()
    vault.rescan()  # nothing changed on disk: still, the cache the dry run skipped is saved
    assert cache.exists() and not stale.exists()
    assert Vault.open(root, cache_path=cache).rescan().read == 0  # warm: nothing re-read
    # an existing cache and an edited note: read, used, not written
    (root / "n0.md").write_text("---\nstatus: edited\n---\nBody\n")
    stale.write_bytes(b"partial")
    before = _bytes_and_mtimes(tmp_path)
    dry = Vault.open(root, cache_path=cache, dry_run=True)
    assert dry.entry("n0.md").fields == {"status": "edited"}
    assert type(dry.entry("n1.md").values) is StoredValues  # taken from the cache
    with dry.dry_run():
        dry.rescan()
    assert _bytes_and_mtimes(tmp_path) == before
    Vault.open(root, cache_path=cache)  # a real scan saves it
    assert _bytes_and_mtimes(tmp_path) != before and not stale.exists()
    again = Vault.open(root, cache_path=cache)
    assert type(again.entry("n0.md").values) is StoredValues
    assert again.entry("n0.md").fields == {"status": "edited"}


def _dead_pid() -> int:
    """The pid of a process that has ended (a killed writer's temp file names it)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
