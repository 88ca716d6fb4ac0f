"""The vault index: what is scanned, what a rescan re-reads, CAS writes, trash, cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from syncbridge import Note
from syncbridge.errors import WriteConflict
from syncbridge.vault.fsio import ABSENT
from syncbridge.vault.vault import Vault
from tests.conftest import EXAMPLE_VAULT

OLD = time.time() - 3600  # an mtime far enough in the past to be trusted by a rescan


def _write(root: Path, rel: str, data: bytes, *, old: bool = True) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if old:
        os.utime(path, (OLD, OLD))


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    _write(root, "a.md", b"---\nstatus: draft\n---\nA\n")
    _write(root, "Folder/b.md", b"---\ntags: [x]\n---\nB\n")
    _write(root, "plain.md", b"no frontmatter\n")
    _write(root, ".obsidian/workspace.md", b"---\nx: 1\n---\n")
    _write(root, ".trash/old.md", b"---\nx: 1\n---\n")
    _write(root, ".git/x.md", b"x")
    _write(root, "Archive/skip.md", b"---\nx: 1\n---\n")
    _write(root, "image.png", b"\x89PNG")
    _write(root, "broken.md", b"---\na: 1\na: 2\n---\n")
    return root


def test_scan_skips_hidden_folders_and_globs(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir, ignore=["Archive/*"])
    assert vault.paths() == ["Folder/b.md", "a.md", "broken.md", "plain.md"]
    assert vault.entry("a.md").fields == {"status": "draft"}
    assert vault.entry("plain.md").has_frontmatter is False


def test_unreadable_notes_are_reported_with_line(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    [bad] = vault.errors()
    assert bad.path == "broken.md"
    assert bad.error_line == 3
    assert "duplicate key" in (bad.error or "")


def test_warm_rescan_reads_nothing(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    report = vault.rescan()
    assert (report.read, report.unchanged, report.added, report.changed) == (0, 5, 0, 0)


def test_rescan_sees_changes_additions_and_removals(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    _write(vault_dir, "a.md", b"---\nstatus: done\n---\nA\n", old=False)
    _write(vault_dir, "new.md", b"new\n")
    (vault_dir / "plain.md").unlink()
    report = vault.rescan()
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    assert vault.entry("a.md").fields == {"status": "done"}


def test_touched_file_with_same_bytes_is_not_a_change(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    os.utime(vault_dir / "a.md", None)  # mtime now: must be re-read, hashes equal
    report = vault.rescan()
    assert report.read == 1 and report.changed == 0


def test_same_size_same_mtime_edit_is_caught_when_mtime_is_recent(tmp_path: Path) -> None:
    # The racy case: an edit within the mtime granularity of the previous scan.
    _write(tmp_path, "n.md", b"---\na: 1\n---\n", old=False)
    stamp = os.stat(tmp_path / "n.md").st_mtime_ns
    vault = Vault.open(tmp_path)
    (tmp_path / "n.md").write_bytes(b"---\na: 2\n---\n")
    os.utime(tmp_path / "n.md", ns=(stamp, stamp))
    vault.rescan()
    assert vault.entry("n.md").fields == {"a": 2}


def test_cache_survives_processes(vault_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "index.json"
    Vault.open(vault_dir, cache_path=cache)
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    again = Vault(vault_dir, cache_path=cache)
    report = again.rescan()
    assert report.read == 0 and report.unchanged == 5
    assert again.entry("a.md").fields == {"status": "draft"}


def test_write_is_compare_and_swap(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    note, snap = vault.read("a.md")
    note["status"] = "done"
    (vault_dir / "a.md").write_bytes(b"---\nstatus: edited by the user\n---\nA\n")
    with pytest.raises(WriteConflict) as info:
        vault.write("a.md", note, expected=snap)
    assert "a.md" in str(info.value) and "next sync" in str(info.value)
    assert (vault_dir / "a.md").read_bytes() == b"---\nstatus: edited by the user\n---\nA\n"


def test_write_and_create(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    note, snap = vault.read("a.md")
    note["status"] = "done"
    vault.write("a.md", note, expected=snap)
    assert (vault_dir / "a.md").read_bytes() == b"---\nstatus: done\n---\nA\n"
    assert vault.entry("a.md").fields == {"status": "done"}
    vault.create("New/c.md", Note.new({"x": 1}, "C\n"))
    assert (vault_dir / "New/c.md").read_bytes() == b"---\nx: 1\n---\nC\n"
    with pytest.raises(WriteConflict):
        vault.write("New/c.md", Note.new({"x": 2}), expected=ABSENT)


def test_trash(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    moved = vault.trash("Folder/b.md")
    assert moved.parent == vault_dir / ".trash"
    assert moved.read_bytes() == b"---\ntags: [x]\n---\nB\n"
    assert "Folder/b.md" not in vault


def test_notes_iterates_every_readable_note(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    notes = {n.path: n for n in vault.notes()}
    assert set(notes) == {"Archive/skip.md", "Folder/b.md", "a.md", "broken.md", "plain.md"}
    assert notes["Folder/b.md"]["tags"] == ["x"]


def test_example_vault_schema(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, root)
    vault = Vault.open(root)
    assert vault.errors() == []
    assert {"attachment_theory", "wound", "emotion", "healing_pathway"} <= set(vault.schema.classes)
    secure = "Psyche/Attachment/Secure Attachment.md"
    assert vault.schema.class_of(secure, vault.entry(secure).fields) == "attachment_theory"


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a folder"):
        Vault.open(tmp_path / "missing")


def test_move_is_compare_and_swap_and_never_replaces(vault_dir: Path) -> None:
    vault = Vault.open(vault_dir)
    _, snap = vault.read("a.md")
    with pytest.raises(WriteConflict):
        vault.move("a.md", "plain.md", expected=snap)
    assert (vault_dir / "plain.md").read_bytes() == b"no frontmatter\n"
    (vault_dir / "a.md").write_bytes(b"---\nstatus: changed\n---\nA\n")
    with pytest.raises(WriteConflict):
        vault.move("a.md", "Folder/a.md", expected=snap)
    assert (vault_dir / "a.md").exists()
    _, fresh = vault.read("a.md")
    vault.move("a.md", "Folder/a.md", expected=fresh)
    assert "Folder/a.md" in vault and "a.md" not in vault
    assert (vault_dir / "Folder/a.md").read_bytes() == b"---\nstatus: changed\n---\nA\n"


def test_cache_keeps_every_value_exactly(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _write(
        root,
        "odd.md",
        (
            b"---\n1: int key\n2025-01-01: date key\ntrue: bool key\nx: {$date: '2025-01-01'}\n"
            b"y: {$map: [1]}\nwhen: 2025-07-05T16:56:00+02:00\nday: 2025-07-05\nnan: .nan\n"
            b"nested: {a: [1, {b: 2}]}\n---\n"
        ),
    )
    cache = tmp_path / "index.json"
    fresh = Vault.open(root, cache_path=cache).entry("odd.md").fields
    cached = Vault(root, cache_path=cache)
    assert cached.rescan().read == 0
    from syncbridge.note.splice import comparable

    assert comparable(cached.entry("odd.md").fields) == comparable(fresh)
    assert list(cached.entry("odd.md").fields) == list(fresh)
    assert {type(k) for k in fresh} == {type(k) for k in cached.entry("odd.md").fields}


def test_rescan_removes_temp_files_left_by_a_killed_write(vault_dir: Path) -> None:
    import subprocess
    import sys

    dead = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    stale = vault_dir / "Folder" / f".sb-{dead}-0123456789abcdef.tmp"
    stale.write_bytes(b"partial")
    live = vault_dir / "Folder" / f".sb-{os.getpid()}-fedcba9876543210.tmp"
    live.write_bytes(b"being written")
    other = vault_dir / "Folder" / ".sb-notes.tmp"
    other.write_bytes(b"not ours")
    Vault.open(vault_dir)
    assert not stale.exists()
    assert live.exists() and other.exists()


def _count_disk_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import syncbridge.vault.vault as vault_module

    reads: list[str] = []
    real = vault_module.read_snapshot

    def counting(path: os.PathLike[str] | str) -> object:
        reads.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(vault_module, "read_snapshot", counting)
    return reads


def test_the_first_read_after_a_scan_takes_the_scanned_bytes(
    vault_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = Vault.open(vault_dir)
    reads = _count_disk_reads(monkeypatch)
    note, snap = vault.read("a.md")
    assert reads == [] and snap.data == (vault_dir / "a.md").read_bytes()
    assert note.get("status") == "draft"
    vault.read("a.md")  # kept for one read only
    assert reads == ["a.md"]


def test_a_note_changed_after_the_scan_is_read_from_disk(
    vault_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = Vault.open(vault_dir)
    reads = _count_disk_reads(monkeypatch)
    (vault_dir / "a.md").write_bytes(b"---\nstatus: done\n---\nA\n")  # same size, mtime now
    note, snap = vault.read("a.md")
    assert reads == ["a.md"] and note.get("status") == "done"
    note["status"] = "again"
    vault.write("a.md", note, expected=snap)
    assert b"again" in (vault_dir / "a.md").read_bytes()


def test_a_note_racy_at_the_scan_is_read_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its mtime was too recent at the scan to trust: an edit in the same mtime tick could
    # keep size and mtime (see the racy test above), so its scanned bytes are not used.
    _write(tmp_path, "n.md", b"---\na: 1\n---\n", old=False)
    stamp = os.stat(tmp_path / "n.md").st_mtime_ns
    vault = Vault.open(tmp_path)
    reads = _count_disk_reads(monkeypatch)
    (tmp_path / "n.md").write_bytes(b"---\na: 2\n---\n")
    os.utime(tmp_path / "n.md", ns=(stamp, stamp))
    note, _ = vault.read("n.md")
    assert reads == ["n.md"] and note.get("a") == 2


def test_a_note_with_an_impossible_date_is_reported_not_a_crash(tmp_path: Path) -> None:
    _write(tmp_path, "ok.md", b"---\ndate: 2024-02-28\n---\nA\n")
    _write(tmp_path, "bad.md", b"---\ntitle: x\ndate: 2024-02-30\n---\nB\n")
    vault = Vault.open(tmp_path)
    (bad,) = vault.errors()
    assert bad.path == "bad.md" and bad.error_line == 3 and "2024-02-30" in (bad.error or "")
    assert vault.entry("ok.md").ok
    assert (tmp_path / "bad.md").read_bytes() == b"---\ntitle: x\ndate: 2024-02-30\n---\nB\n"


def test_an_index_cache_that_cannot_be_written_is_no_error(vault_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    vault = Vault.open(vault_dir, cache_path=tmp_path / "file" / "index.json")
    assert "a.md" in vault  # scanned; the cache is an optimisation only
