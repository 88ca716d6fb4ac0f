"""The daemon's incremental pass: a sync after file events rescans only the notes they
named; a periodic full rescan catches an edit whose event was lost.

A lost event is made for real: the note is rewritten through a hard link outside the
vault, which the kernel reports to watchers of that other folder only (inotify watches
folders, and the daemon watches the vault's).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from daemon_support import DaemonProcess, db_value, make_project, note_text, wait_until

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="inotify: hard-link writes")


def _project(tmp_path: Path, full_scan_interval_s: float) -> Path:
    config = make_project(tmp_path, 5)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[daemon]\n", f"[daemon]\nfull_scan_interval_s = {full_scan_interval_s}\n"),
        encoding="utf-8",
    )
    return config


def _note(config: Path, n: int) -> Path:
    return config.parent / "vault" / "Notes" / f"Note {n:05d}.md"


def test_an_edit_syncs_with_an_incremental_rescan(tmp_path: Path) -> None:
    config = _project(tmp_path, 3600)
    db = tmp_path / "local.db"
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: db_value(db, "Note 00005") == 0, "the first sync")
        daemon.wait_event("synced")
        assert daemon.events("synced")[0]["scan"] == "full"
        _note(config, 3).write_text(note_text(3, 42), encoding="utf-8")
        wait_until(lambda: db_value(db, "Note 00003") == 42, "the edit in SQLite")
        daemon.wait_event("synced", 2)
        assert [r["scan"] for r in daemon.events("synced")[1:]] == ["incremental"]
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_an_edit_whose_event_was_lost_is_synced_by_the_next_full_rescan(tmp_path: Path) -> None:
    config = _project(tmp_path, 2)
    db = tmp_path / "local.db"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = outside / "same-inode.md"
    os.link(_note(config, 4), link)  # before the daemon: its own events are not at stake
    daemon = DaemonProcess(config)
    try:
        wait_until(lambda: db_value(db, "Note 00004") == 0, "the first sync")
        # an edit with its event, synced incrementally: the start's full scans are over
        _note(config, 1).write_text(note_text(1, 5), encoding="utf-8")
        wait_until(lambda: db_value(db, "Note 00001") == 5, "the edit with its event")
        wait_until(
            lambda: any(r["scan"] == "incremental" for r in daemon.events("synced")),
            "an incremental sync",
        )
        with open(link, "r+", encoding="utf-8") as handle:  # same inode, other folder
            handle.truncate(0)
            handle.write(note_text(4, 99))
        assert _note(config, 4).read_text(encoding="utf-8") == note_text(4, 99)
        wait_until(lambda: db_value(db, "Note 00004") == 99, "the full rescan's sync")
        daemon.wait_event("missed_changes")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
