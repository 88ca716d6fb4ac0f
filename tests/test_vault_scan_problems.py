"""What a scan cannot read is reported and left alone: never a crash, never a delete.

Permissions cannot be denied to root (CI runs as root), so "cannot read this folder / note"
is played by wrapping ``os.scandir`` and ``open`` to raise the PermissionError the kernel
would; names that are not UTF-8 and symbolic links are real.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import syncbridge.vault.fsio as fsio_module
import syncbridge.vault.vault as vault_module
from syncbridge.vault.doctor import diagnose
from syncbridge.vault.vault import Vault
from tests.test_cli_sync import run_cli, tree_digest

WOUNDS = "Psyche/Wounds"


class _Denied:
    """``os.scandir`` and ``open`` as a user without permission on some paths sees them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folders: set[str] = set()  # scandir raises
        self.stat: set[str] = set()  # DirEntry.stat raises (folder without execute bit)
        self.files: set[str] = set()  # open raises
        real_scandir, real_open = os.scandir, open
        real_open_to_read = fsio_module._open_to_read

        def scandir(path: Any) -> Iterator[Any]:
            if os.fspath(path) in self.folders:
                raise PermissionError(13, "Permission denied", os.fspath(path))
            with real_scandir(path) as it:
                return _Listing([_Entry(e, self) for e in it])

        def opener(file: Any, *args: Any, **kw: Any) -> Any:
            if os.fspath(file) in self.files:
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open(file, *args, **kw)

        def open_to_read(file: Any) -> int:
            if os.fspath(file) in self.files:
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open_to_read(file)

        monkeypatch.setattr(vault_module.os, "scandir", scandir)
        monkeypatch.setattr(vault_module, "open", opener, raising=False)
        monkeypatch.setattr(fsio_module, "_open_to_read", open_to_read)  # every note read


class _Listing:
    """What ``os.scandir`` returns: an iterator, and a context manager."""

    def __init__(self, entries: list[Any]) -> None:
        self._it = iter(entries)

    def __iter__(self) -> _Listing:
        return self

    def __next__(self) -> Any:
        return next(self._it)

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


class _Entry:
    def __init__(self, entry: os.DirEntry[str], denied: _Denied) -> None:
        self._entry, self._denied = entry, denied
        self.name, self.path = entry.name, entry.path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        if self.path in self._denied.stat:
            raise PermissionError(13, "Permission denied", self.path)
        return self._entry.stat(follow_symlinks=follow_symlinks)


def _rows(root: Path) -> int:
    with sqlite3.connect(root / "syncbridge-demo.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def _sync(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict[str, Any]]:
    code, out = run_cli(capsys, root, "sync", "--json")
    data: dict[str, Any] = json.loads(out)["targets"]["local"]
    return code, data


def test_an_unreadable_folder_is_skipped_never_taken_for_deleted(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = _sync(capsys, project)
    assert code == 0
    rows = _rows(project)
    with sqlite3.connect(project / "syncbridge-demo.db") as conn, conn:
        conn.execute(
            "UPDATE wound SET body = body || 'edited in SQLite' WHERE title = ?", ("Shame Wound",)
        )
    before = tree_digest(project / "vault")
    denied = _Denied(monkeypatch)
    denied.folders.add(str(project / "vault" / WOUNDS))

    code, report = _sync(capsys, project)
    assert code == 1  # some notes could not be synced
    assert report["remote"]["deleted"] == 0 and report["vault"]["created"] == 0, report
    messages = [s["message"] for s in report["skipped"]]
    assert any(f"{WOUNDS}/: cannot read this folder (Permission denied)" in m for m in messages), (
        messages
    )
    assert sum(WOUNDS in s["id"] for s in report["skipped"]) == 5 + 1  # its notes + itself
    monkeypatch.undo()  # permissions fixed: the edit made meanwhile arrives, nothing doubled
    assert _rows(project) == rows and tree_digest(project / "vault") == before
    code, report = _sync(capsys, project)
    assert code == 0 and report["vault"]["updated"] == 1 and report["remote"]["created"] == 0
    assert "edited in SQLite" in (project / "vault" / WOUNDS / "Shame Wound.md").read_text()
    assert _rows(project) == rows and not list((project / "vault").rglob("Shame Wound 1.md"))


def test_a_note_or_folder_that_cannot_be_read_or_statted_is_reported_and_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project / "vault"
    vault = Vault.open(root)
    denied = _Denied(monkeypatch)
    denied.files.add(str(root / "Pathways" / "Earned Security.md"))
    denied.stat.add(str(root / "Psyche" / "Emotions" / "Fear.md"))
    (root / "Pathways" / "Earned Security.md").touch()  # changed: must be read again
    vault.rescan()
    errors = {e.path: e.error for e in vault.errors()}
    assert "cannot read this note (Permission denied)" in errors["Pathways/Earned Security.md"]
    assert "cannot read this note" in errors["Psyche/Emotions/Fear.md"]
    assert "Psyche/Emotions/Fear.md" in vault.scan_problems()
    report = diagnose(vault, check_edits=False)
    found = {(f.severity, f.path) for f in report.findings}
    assert ("error", "Pathways/Earned Security.md") in found
    assert ("error", "Psyche/Emotions/Fear.md") in found
    monkeypatch.undo()
    vault.rescan()
    assert vault.errors() == [] and vault.scan_problems() == {}
    assert vault.entry("Psyche/Emotions/Fear.md").ok


def test_the_whole_vault_unreadable_keeps_every_note(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project / "vault"
    vault = Vault.open(root)
    count = len(vault)
    denied = _Denied(monkeypatch)
    denied.folders.add(str(root.resolve()))
    vault.rescan()
    assert len(vault) == count and len(vault.errors()) == count
    assert list(vault.scan_problems()) == ["./"]


def test_a_name_that_is_not_utf8_is_reported_and_the_rest_syncs(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    folder = os.fsencode(project / "vault" / "Journal")
    with open(os.path.join(folder, b"bad\xffname.md"), "wb") as f:
        f.write(b"---\nx: 1\n---\nb\n")
    code, report = _sync(capsys, project)
    assert code == 1
    (skipped,) = [s for s in report["skipped"] if "bad" in s["id"]]
    assert skipped["id"] == "Journal/bad\ufffdname.md"
    assert "not valid UTF-8" in skipped["message"] and "rename it" in skipped["message"]
    assert report["remote"]["created"] >= 15


def test_symbolic_links_are_reported_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("---\na: 1\n---\n", encoding="utf-8")
    (tmp_path / "link.md").symlink_to(tmp_path / "real.md")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "linked folder").symlink_to(tmp_path / "elsewhere")
    vault = Vault.open(tmp_path)
    assert vault.paths() == ["real.md"]
    problems = vault.scan_problems()
    assert {p: v.kind for p, v in problems.items()} == {
        "link.md": "symlink",
        "linked folder/": "symlink",
    }
    assert "vault.ignore" in problems["link.md"].message
    report = diagnose(vault, check_edits=False)
    assert {(f.severity, f.path) for f in report.findings if f.kind == "symlink"} == {
        ("warning", "link.md"),
        ("warning", "linked folder/"),
    }
    assert Vault.open(tmp_path, ignore=["link.md", "linked folder"]).scan_problems() == {}
