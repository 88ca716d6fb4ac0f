"""Atomic compare-and-swap writes and Obsidian-style trash, on real files."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncbridge.errors import SkipError, UnsafePath, WriteConflict
from syncbridge.vault import fsio
from syncbridge.vault.fsio import ABSENT, FileSnapshot, move_to_trash, read_snapshot, write_atomic

NOTE = (
    "\ufeff---\r\nstatus: 🟩 complete\r\ntags: [a, b]\r\n---\r\nBody, trailing space \r\n"
).encode()


def test_public_surface() -> None:
    assert set(fsio.__all__) == {
        "ABSENT",
        "SETTLE_NS",
        "SETTLE_WAIT_MAX_NS",
        "StatKey",
        "TRASH_DIR",
        "Absent",
        "FileSnapshot",
        "read_once",
        "read_settled",
        "settle_delay_ns",
        "stat_key",
        "is_stale_temp",
        "move_file",
        "move_to_trash",
        "read_snapshot",
        "write_atomic",
    }


def listing(folder: Path) -> list[str]:
    """Every entry under ``folder``, hidden ones included, as sorted relative paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "Psyche" / "Wounds").mkdir(parents=True)
    (root / "Psyche" / "Wounds" / "Shame.md").write_bytes(NOTE)
    return root


# --- read_snapshot -----------------------------------------------------------------------


def test_read_snapshot(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    assert snap.data == NOTE
    assert snap.size == len(NOTE) == path.stat().st_size
    assert snap.mtime_ns == path.stat().st_mtime_ns
    assert snap.sha256 == hashlib.sha256(NOTE).hexdigest()
    assert "data" not in repr(snap)  # notes can be large; repr stays short


def test_read_snapshot_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_snapshot(tmp_path / "nope.md")


# --- write_atomic ------------------------------------------------------------------------


def test_write_replaces_with_exact_bytes(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    new = NOTE.replace(b"complete", b"in progress")
    written = write_atomic(path, new, expected=snap)
    assert path.read_bytes() == new  # BOM and CRLF kept byte for byte
    assert written == read_snapshot(path)
    assert listing(vault) == ["Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_chained_writes_use_the_returned_snapshot(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    for i in range(3):
        snap = write_atomic(path, NOTE + str(i).encode(), expected=snap)
    assert path.read_bytes() == NOTE + b"2"


def test_create_with_absent_makes_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "vault" / "New" / "Deep" / "Note.md"
    snap = write_atomic(path, b"---\nx: 1\n---\n", expected=ABSENT)
    assert path.read_bytes() == b"---\nx: 1\n---\n"
    assert snap.size == 13
    assert listing(tmp_path / "vault") == ["New", "New/Deep", "New/Deep/Note.md"]


def test_new_file_gets_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.md", b"x", expected=ABSENT)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.md").stat().st_mode) == 0o640


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o664, 0o755])
def test_permission_bits_are_kept(vault: Path, mode: int) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    path.chmod(mode)
    write_atomic(path, b"new", expected=read_snapshot(path))
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_cas_refuses_when_the_note_changed(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    path.write_bytes(NOTE + b"edited in Obsidian\r\n")
    with pytest.raises(WriteConflict) as info:
        write_atomic(path, b"ours", expected=snap)
    assert path.read_bytes() == NOTE + b"edited in Obsidian\r\n"
    message = str(info.value)
    assert "Shame.md" in message
    assert "changed since syncbridge read it" in message
    assert "next sync will pick up" in message
    assert isinstance(info.value, SkipError)
    assert listing(vault) == ["Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_cas_ignores_a_touch_without_changes(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    os.utime(path, ns=(1, 1))
    write_atomic(path, b"ours", expected=snap)
    assert path.read_bytes() == b"ours"


def test_cas_refuses_when_the_note_was_deleted(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    path.unlink()
    with pytest.raises(WriteConflict, match="deleted"):
        write_atomic(path, b"ours", expected=snap)
    assert not path.exists()
    assert listing(vault) == ["Psyche", "Psyche/Wounds"]


def test_absent_refuses_an_existing_file(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    with pytest.raises(WriteConflict, match="created"):
        write_atomic(path, b"ours", expected=ABSENT)
    assert path.read_bytes() == NOTE


def test_absent_is_case_sensitive_only_as_the_filesystem_is(vault: Path) -> None:
    """On case-insensitive file systems "shame.md" IS the existing file, and the hard-link
    create refuses it; on Linux they are two files. Either way nothing is overwritten."""
    other = vault / "Psyche" / "Wounds" / "shame.md"
    with contextlib.suppress(WriteConflict):
        write_atomic(other, b"ours", expected=ABSENT)
    assert (vault / "Psyche" / "Wounds" / "Shame.md").read_bytes() == NOTE


def test_no_expectation_overwrites(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    write_atomic(path, b"forced")
    assert path.read_bytes() == b"forced"


def test_accepts_bytearray_and_refuses_str(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.md", bytearray(b"ab"))
    assert (tmp_path / "a.md").read_bytes() == b"ab"
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "b.md", "text")  # type: ignore[arg-type]
    assert listing(tmp_path) == ["a.md"]


def test_empty_and_large_payloads(tmp_path: Path) -> None:
    write_atomic(tmp_path / "empty.md", b"", expected=ABSENT)
    assert (tmp_path / "empty.md").read_bytes() == b""
    big = os.urandom(5_000_000)
    write_atomic(tmp_path / "big.bin", big)
    assert (tmp_path / "big.bin").read_bytes() == big


def test_symlinked_note_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_bytes(b"real")
    (tmp_path / "link.md").symlink_to(real)
    with pytest.raises(UnsafePath, match="symlink"):
        write_atomic(tmp_path / "link.md", b"x")
    assert real.read_bytes() == b"real"
    assert (tmp_path / "link.md").is_symlink()


def test_parent_that_is_a_file_fails_without_debris(tmp_path: Path) -> None:
    (tmp_path / "file.md").write_bytes(b"x")
    with pytest.raises(OSError):
        write_atomic(tmp_path / "file.md" / "child.md", b"y")
    assert listing(tmp_path) == ["file.md"]


def _fail_on_fsync(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> list[int]:
    """Run ``action`` at the first fsync (of the temp file), as a disk or a concurrent
    editor would act midway through a write. fsync is the one call we cannot make fail
    for real here (a full disk)."""
    calls: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            action()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_io_error_midway_removes_temp_and_keeps_target(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)

    def disk_error() -> None:
        # the temp file exists at this point, fully written
        assert any(p.name.startswith(".sb-") for p in path.parent.iterdir())
        raise OSError(errno.EIO, "Input/output error")

    _fail_on_fsync(monkeypatch, disk_error)
    with pytest.raises(OSError, match="Input/output"):
        write_atomic(path, b"ours", expected=snap)
    assert path.read_bytes() == NOTE
    assert listing(vault) == ["Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_keyboard_interrupt_midway_removes_temp(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"

    def interrupt() -> None:
        raise KeyboardInterrupt

    _fail_on_fsync(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"ours")
    assert path.read_bytes() == NOTE
    assert listing(vault) == ["Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_change_during_the_write_is_caught_by_the_final_check(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Obsidian saves while our temp file is being synced: the check right before
    os.replace sees it, the save survives, the temp file goes."""
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    _fail_on_fsync(monkeypatch, lambda: path.write_bytes(b"saved by Obsidian"))
    with pytest.raises(WriteConflict):
        write_atomic(path, b"ours", expected=snap)
    assert path.read_bytes() == b"saved by Obsidian"
    assert listing(vault) == ["Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_file_appearing_during_a_create_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "New.md"
    _fail_on_fsync(monkeypatch, lambda: path.write_bytes(b"theirs"))
    with pytest.raises(WriteConflict):
        write_atomic(path, b"ours", expected=ABSENT)
    assert path.read_bytes() == b"theirs"
    assert listing(tmp_path) == ["New.md"]


def test_folder_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fail_on_fsync(monkeypatch, lambda: None)
    write_atomic(tmp_path / "a.md", b"x")
    assert len(calls) == 2  # the temp file, then the folder


# --- move_to_trash -----------------------------------------------------------------------


def test_trash_is_flat_like_obsidian(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    path.chmod(0o640)
    trashed = move_to_trash(vault, "Psyche/Wounds/Shame.md")
    assert trashed == vault.resolve() / ".trash" / "Shame.md"
    assert trashed.read_bytes() == NOTE
    assert trashed.stat().st_mtime_ns == 1_600_000_000_000_000_000
    assert stat.S_IMODE(trashed.stat().st_mode) == 0o640
    assert listing(vault) == [".trash", ".trash/Shame.md", "Psyche", "Psyche/Wounds"]


def test_trash_never_overwrites(vault: Path) -> None:
    (vault / ".trash").mkdir()
    (vault / ".trash" / "Shame.md").write_bytes(b"older shame")
    (vault / ".trash" / "shame 2.md").write_bytes(b"other case")
    (vault / "Archive").mkdir()
    (vault / "Archive" / "Shame.md").write_bytes(b"archived")
    (vault / "SHAME.md").write_bytes(b"root")
    first = move_to_trash(vault, "Psyche/Wounds/Shame.md")
    second = move_to_trash(
        vault, "Archive/Shame.md", expected=read_snapshot(vault / "Archive" / "Shame.md")
    )
    third = move_to_trash(vault, "SHAME.md")
    assert [first.name, second.name, third.name] == ["Shame 3.md", "Shame 4.md", "SHAME 5.md"]
    assert (vault / ".trash" / "Shame.md").read_bytes() == b"older shame"
    assert (vault / ".trash" / "shame 2.md").read_bytes() == b"other case"
    assert first.read_bytes() == NOTE
    assert second.read_bytes() == b"archived"
    assert third.read_bytes() == b"root"


def test_trash_collision_is_normalization_insensitive(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Émotion.md")
    nfc = unicodedata.normalize("NFC", "Émotion.md")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / nfd).write_bytes(b"old")
    (tmp_path / nfc).write_bytes(b"new")
    trashed = move_to_trash(tmp_path, nfc)
    assert trashed.name == unicodedata.normalize("NFC", "Émotion 2.md")


def test_trash_names_stay_within_255_bytes(tmp_path: Path) -> None:
    name = "é" * 125 + ".md"  # 253 bytes
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / name).write_bytes(b"old")
    (tmp_path / name).write_bytes(b"new")
    trashed = move_to_trash(tmp_path, name)
    assert trashed.name.endswith(" 2.md")
    assert len(trashed.name.encode()) <= 255
    assert trashed.read_bytes() == b"new"


def test_trash_cas_refusal_leaves_the_note_in_place(vault: Path) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    path.write_bytes(b"edited after we read it")
    with pytest.raises(WriteConflict, match="changed since syncbridge read it"):
        move_to_trash(vault, "Psyche/Wounds/Shame.md", expected=snap)
    assert path.read_bytes() == b"edited after we read it"
    assert listing(vault) == [".trash", "Psyche", "Psyche/Wounds", "Psyche/Wounds/Shame.md"]


def test_trash_with_matching_expectation(vault: Path) -> None:
    snap = read_snapshot(vault / "Psyche" / "Wounds" / "Shame.md")
    trashed = move_to_trash(vault, "Psyche/Wounds/Shame.md", expected=snap)
    assert read_snapshot(trashed).data == snap.data


def test_trash_of_a_deleted_note(vault: Path) -> None:
    snap = read_snapshot(vault / "Psyche" / "Wounds" / "Shame.md")
    (vault / "Psyche" / "Wounds" / "Shame.md").unlink()
    with pytest.raises(WriteConflict, match="deleted"):
        move_to_trash(vault, "Psyche/Wounds/Shame.md", expected=snap)
    with pytest.raises(FileNotFoundError):
        move_to_trash(vault, "Psyche/Wounds/Shame.md")
    assert not (vault / ".trash").exists()


def test_trash_of_a_note_deleted_during_the_move(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    real_rename = os.rename

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(src) == path:
            path.unlink()  # deleted by another program just before our move
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(WriteConflict, match="deleted"):
        move_to_trash(vault, "Psyche/Wounds/Shame.md", expected=snap)
    assert listing(vault / ".trash") == []


@pytest.mark.parametrize("rel", ["../outside.md", "/etc/passwd", "Psyche/../../x.md", "a\x00.md"])
def test_trash_refuses_unsafe_paths(vault: Path, rel: str) -> None:
    with pytest.raises(UnsafePath):
        move_to_trash(vault, rel)


def test_trash_refuses_folders(vault: Path) -> None:
    with pytest.raises(IsADirectoryError):
        move_to_trash(vault, "Psyche")
    assert (vault / "Psyche" / "Wounds" / "Shame.md").read_bytes() == NOTE


def test_trash_symlinked_outside_is_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    elsewhere = tmp_path / "elsewhere"
    vault.mkdir()
    elsewhere.mkdir()
    (vault / "Note.md").write_bytes(b"x")
    (vault / ".trash").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafePath):
        move_to_trash(vault, "Note.md")
    assert (vault / "Note.md").read_bytes() == b"x"
    assert list(elsewhere.iterdir()) == []


def test_trash_keeps_a_concurrent_save(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new note is saved at the same path after ours was taken but before the check: the
    new note is not touched, ours stays in the trash, and the caller learns of it."""
    path = vault / "Psyche" / "Wounds" / "Shame.md"
    snap = read_snapshot(path)
    path.write_bytes(b"changed")  # so the check fails
    real_rename = os.rename

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_rename(src, dst)
        if Path(src) == path:
            path.write_bytes(b"new note saved meanwhile")

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(WriteConflict, match="kept in the trash"):
        move_to_trash(vault, "Psyche/Wounds/Shame.md", expected=snap)
    assert path.read_bytes() == b"new note saved meanwhile"
    assert (vault / ".trash" / "Shame.md").read_bytes() == b"changed"
    assert not [p for p in (vault / ".trash").iterdir() if p.name.startswith(".sb-")]


def test_snapshot_of_builds_hash() -> None:
    snap = FileSnapshot.of(b"abc", 5)
    assert snap == FileSnapshot(b"abc", 3, 5, hashlib.sha256(b"abc").hexdigest())


@settings(max_examples=60, deadline=None)
@given(first=st.binary(max_size=2000), second=st.binary(max_size=2000))
def test_any_bytes_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory, first: bytes, second: bytes
) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    path = folder / "Note.md"
    snap = write_atomic(path, first, expected=ABSENT)
    assert read_snapshot(path) == snap
    if first != second:
        with pytest.raises(WriteConflict):
            write_atomic(path, b"never", expected=FileSnapshot.of(second, snap.mtime_ns))
    snap = write_atomic(path, second, expected=snap)
    assert path.read_bytes() == second
    assert read_snapshot(path) == snap
    assert os.listdir(folder) == ["Note.md"]


def test_move_file_refuses_changed_source_and_existing_target(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.md", tmp_path / "sub" / "b.md"
    src.write_bytes(b"one")
    snap = fsio.read_snapshot(src)
    src.write_bytes(b"two")
    with pytest.raises(WriteConflict):
        fsio.move_file(src, dst, expected=snap)
    assert src.read_bytes() == b"two" and not dst.exists()
    fsio.move_file(src, dst, expected=fsio.read_snapshot(src))
    assert dst.read_bytes() == b"two" and not src.exists()
    src.write_bytes(b"three")
    with pytest.raises(WriteConflict, match="already exists"):
        fsio.move_file(src, dst)
    assert dst.read_bytes() == b"two" and src.read_bytes() == b"three"


def test_temp_file_of_a_dead_process_is_stale(tmp_path: Path) -> None:
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(child.stdout)
    assert fsio.is_stale_temp(f".sb-{dead}-0123456789abcdef.tmp")
    assert not fsio.is_stale_temp(f".sb-{os.getpid()}-0123456789abcdef.tmp")
    assert not fsio.is_stale_temp(".sb-1-0123456789abcdef.tmp")  # pid 1 is alive
    assert not fsio.is_stale_temp("note.md")
