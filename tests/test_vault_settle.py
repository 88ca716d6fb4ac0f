"""What the vault reads is what is really on disk: notes caught mid-save (issue 8 item 5),
edits whose mtime was put back (issue 14 item 5), and notes served from the scan's own
read (issue 8 item 6). Real files, real writer threads, the real CLI and SQLite.

The test suite runs with ``SYNCBRIDGE_TEST_SETTLE_MS=0`` (tests/conftest.py); the tests
here that need the real wait pass ``settle_ms`` or set the variable themselves.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

import syncbridge.vault.fsio as fsio_module
import syncbridge.vault.vault as vault_module
from syncbridge.errors import RetryableError
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.fsio import read_settled
from syncbridge.vault.vault import Vault
from tests.test_cli_sync import run_cli, sync_json

OLD = time.time() - 3600  # an mtime well past every settle and racy window
FULL = b"---\nstatus: draft\ntags: [a, b]\n---\nThe whole note.\n"
NEW = b"---\nstatus: done\ntags: [a, b, c]\n---\nThe whole note, saved again.\n"


def _old(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))


def _save_in_two_steps(path: Path, data: bytes, gap_s: float) -> threading.Thread:
    """An editor's save as many editors do it: truncate the file now, write ``data``
    ``gap_s`` seconds later (in a thread, started before this returns)."""
    path.write_bytes(b"")

    def finish() -> None:
        time.sleep(gap_s)
        path.write_bytes(data)

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def _keep_changing(path: Path, seconds: float) -> threading.Thread:
    """Append to ``path`` every 20 ms for ``seconds`` (a note that never settles); the
    first append is made before this returns."""
    end = time.monotonic() + seconds
    with open(path, "ab") as handle:
        handle.write(b"line 0\n")

    def run() -> None:
        n = 0
        while time.monotonic() < end:
            n += 1
            with open(path, "ab") as handle:
                handle.write(f"line {n}\n".encode())
            time.sleep(0.02)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


# --- mid-save: the scan waits for a note to settle -----------------------------------------


def test_a_note_caught_mid_save_is_read_once_the_save_is_over(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    _old(root / "b.md", FULL)
    saving = _save_in_two_steps(root / "a.md", NEW, gap_s=0.3)
    try:
        vault = Vault.open(root, settle_ms=1000)
    finally:
        saving.join()
    entry = vault.entry("a.md")
    assert (entry.size, entry.fields) == (len(NEW), {"status": "done", "tags": ["a", "b", "c"]})
    assert vault.held() == {}
    assert [n.to_bytes() for n in vault.notes()] == [NEW, FULL]


def test_a_rescan_also_waits_and_never_sees_the_truncated_file(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    vault = Vault.open(root, settle_ms=1000)
    saving = _save_in_two_steps(root / "a.md", NEW, gap_s=0.3)
    try:
        report = vault.rescan()
    finally:
        saving.join()
    assert report.changed == 1
    assert vault.entry("a.md").fields["status"] == "done"
    assert vault.held() == {}  # it never looked emptied: the 0 bytes were not trusted
    note, snap = vault.read("a.md")
    assert snap.data == NEW and note["status"] == "done"


def test_a_note_that_never_settles_is_left_alone_for_this_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    _old(root / "b.md", FULL)
    vault = Vault.open(root, settle_ms=200)
    adapter = VaultAdapter(vault)
    monkeypatch.setattr(vault_module, "SETTLE_WAIT_MAX_NS", 400_000_000)  # 0.4 s, not 5 s
    writer = _keep_changing(root / "a.md", seconds=1.5)
    try:
        vault.rescan()
    finally:
        writer.join()
    assert "a.md" in vault  # present, never taken for deleted
    assert "kept changing" in (vault.entry("a.md").error or "")
    assert [r.id for r in adapter.list()] == ["b.md"]
    assert "kept changing" in adapter.unreadable()["a.md"]
    vault.rescan()  # it stopped changing: read again, as it is now
    assert vault.entry("a.md").ok and vault.entry("a.md").size > len(FULL)


def test_read_settled_waits_for_the_save_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    _old(path, FULL)
    saving = _save_in_two_steps(path, NEW, gap_s=0.3)
    try:
        snap = read_settled(path, settle_ns=1_000_000_000)
    finally:
        saving.join()
    assert snap.data == NEW
    assert time.time_ns() - snap.mtime_ns >= 1_000_000_000  # left alone that long


def test_read_settled_gives_up_on_a_file_that_keeps_changing(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    _old(path, FULL)
    writer = _keep_changing(path, seconds=1.0)
    try:
        with pytest.raises(RetryableError, match="kept changing"):
            read_settled(path, settle_ns=200_000_000, max_wait_ns=400_000_000)
    finally:
        writer.join()


def test_read_settled_does_not_wait_for_an_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    _old(path, FULL)
    slept: list[float] = []
    assert read_settled(path, sleep=slept.append).data == FULL
    assert slept == []


# --- a note found emptied is held for the run that first sees it ---------------------------


def _row(project: Path, table: str, title: str) -> dict[str, Any]:
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(f"SELECT * FROM {table} WHERE title = ?", (title,)).fetchone()
    assert row is not None, title
    return dict(row)


def _titles(project: Path, table: str) -> set[str]:
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        return {title for (title,) in conn.execute(f"SELECT title FROM {table}")}


def _note(project: Path, title: str) -> Path:
    (path,) = (project / "vault").rglob(f"{title}.md")
    return path


def test_a_note_emptied_is_not_pushed_as_a_clearing_edit_in_the_run_that_first_sees_it(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    sync_json(capsys, project)
    before = _row(project, "wound", "Abandonment Wound")
    assert before["intensity"] == 8 and before["core_belief"]
    note = _note(project, "Abandonment Wound")
    note.write_bytes(b"")  # what a read in the middle of a truncate-and-rewrite save sees
    os.utime(note, (OLD, OLD))  # and old enough that no settle wait can tell

    code, out = run_cli(capsys, project, "sync", "--json")
    report = json.loads(out)["targets"]["local"]
    assert code == 1  # some notes were not synced
    assert report["remote"]["updated"] == 0
    [skipped] = report["skipped"]
    assert "Abandonment Wound.md" in skipped["id"] and "emptied" in skipped["message"]
    assert _row(project, "wound", "Abandonment Wound") == before
    assert note.read_bytes() == b""  # and the note is left as it is, not restored

    # Still empty on the next run: the user meant it, and the clearing is synced.
    report = sync_json(capsys, project)["targets"]["local"]
    assert report["remote"]["updated"] == 1 and report["skipped"] == []
    # with no fileClass left it is a plain note now, every wound field gone
    after = _row(project, "note", "Abandonment Wound")
    assert "intensity" not in after and not after.get("body")
    assert "Abandonment Wound" not in _titles(project, "wound")


def test_a_note_emptied_and_saved_again_before_the_next_run_syncs_its_new_content(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    sync_json(capsys, project)
    note = _note(project, "Abandonment Wound")
    data = note.read_bytes()
    note.write_bytes(b"")
    code, _out = run_cli(capsys, project, "sync", "--json")
    assert code == 1
    note.write_bytes(data.replace(b"intensity: 8\n", b"intensity: 5\n"))
    report = sync_json(capsys, project)["targets"]["local"]
    assert report["remote"]["updated"] == 1
    assert _row(project, "wound", "Abandonment Wound")["intensity"] == 5


def test_a_new_run_in_the_same_process_releases_a_held_note(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    vault = Vault.open(root)
    (root / "a.md").write_bytes(b"")
    vault.rescan()
    vault.rescan()  # a second scan of the same run (the CLI scans, then the sync rescans)
    assert list(vault.held()) == ["a.md"]
    assert "a.md" in VaultAdapter(vault).unreadable()
    vault.begin_run()  # what a daemon does before each run
    vault.rescan()
    assert vault.held() == {}
    assert [r.id for r in VaultAdapter(vault).list()] == ["a.md"]


def test_a_note_that_was_always_empty_is_not_held(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _old(root / "empty.md", b"")
    vault = Vault.open(root)
    (root / "empty.md").touch()
    vault.rescan()
    assert vault.held() == {}


# --- the skip key: an edit whose mtime was put back ------------------------------------------


def test_an_edit_with_its_mtime_put_back_reaches_sqlite(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    sync_json(capsys, project)
    note = _note(project, "Abandonment Wound")
    st = note.stat()
    data = note.read_bytes()
    note.write_bytes(data.replace(b"intensity: 8\n", b"intensity: 3\n"))  # same size
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r`, a backup restore
    assert (note.stat().st_size, note.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)

    report = sync_json(capsys, project)["targets"]["local"]
    assert report["remote"]["updated"] == 1
    assert _row(project, "wound", "Abandonment Wound")["intensity"] == 3


def test_a_file_replaced_by_another_with_the_same_size_and_mtime_is_read_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    vault = Vault.open(root)
    other = root / "other.tmp"
    _old(other, FULL.replace(b"draft", b"later"))  # same size, same mtime, new inode
    os.replace(other, root / "a.md")
    report = vault.rescan()
    assert report.changed == 1 and vault.entry("a.md").fields["status"] == "later"


def test_an_index_cache_of_an_older_version_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    _old(root / "b.md", FULL)
    cache = tmp_path / "index.json"
    st = (root / "a.md").stat()
    # what version 2 wrote: no ctime or inode, so it cannot vouch for an unchanged file
    cache.write_text(
        json.dumps(
            {
                "version": 2,
                "root": str(root.resolve()),
                "scanned_ns": time.time_ns(),
                "entries": [
                    {
                        "path": p,
                        "size": st.st_size,
                        "mtime_ns": st.st_mtime_ns,
                        "sha256": "0" * 64,
                        "has_frontmatter": True,
                        "fields": {"status": "stale"},
                        "error": None,
                        "error_line": None,
                    }
                    for p in ("a.md", "b.md")
                ],
            }
        )
    )
    vault = Vault.open(root, cache_path=cache)
    assert vault.entry("a.md").fields["status"] == "draft"
    head, *entries = cache.read_text().splitlines()
    assert json.loads(head)["version"] == vault_module._CACHE_VERSION
    # a cache of this version with an entry it does not understand: a cold scan too
    meta, _ = entries[0].split("\t")
    first = json.loads(meta)
    stale = json.dumps({"status": "stale"})
    first["crc"] = zlib.crc32(stale.encode())
    first["unknown"] = 1
    cache.write_text("\n".join([head, json.dumps(first) + "\t" + stale, *entries[1:]]) + "\n")
    assert Vault.open(root, cache_path=cache).entry(first["path"]).fields["status"] == "draft"


@pytest.mark.parametrize("damage", ["values", "crc", "torn", "no tab"])
def test_a_damaged_index_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    # The values stay text until looked at (IndexEntry.values): damage to them must be
    # caught when the cache is read (a cold scan), never met later in the middle of a sync.
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    _old(root / "b.md", FULL)
    cache = tmp_path / "index.json"
    Vault.open(root, cache_path=cache)
    head, *lines = cache.read_text().splitlines()
    meta, values = lines[0].split("\t")
    if damage == "values":  # a byte flipped inside the values, still valid JSON
        lines[0] = meta + "\t" + values.replace("draft", "dreft")
    elif damage == "crc":
        entry = json.loads(meta)
        entry["crc"] += 1
        lines[0] = json.dumps(entry) + "\t" + values
    elif damage == "no tab":
        lines[0] = meta + values
    text = "\n".join([head, *lines]) + "\n"
    if damage == "torn":  # the file ends halfway through the last line
        text = text[: -len(lines[-1]) // 2]
    cache.write_text(text)
    cached = Vault(root, cache_path=cache)
    assert cached.rescan().read == 2  # cold: every note read again
    assert {cached.entry(p).fields["status"] for p in ("a.md", "b.md")} == {"draft"}


# --- reading every note serves what the scan read ------------------------------------------


class _CountedOpens:
    """Counts the files fsio opens (every note read goes through it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real_open = fsio_module._open_to_read

        def counted(file: Any) -> int:
            self.paths.append(os.fspath(file))
            return real_open(file)

        monkeypatch.setattr(fsio_module, "_open_to_read", counted)


def test_reading_every_note_after_open_serves_the_scans_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    for i in range(5):
        _old(root / f"n{i}.md", FULL.replace(b"draft", f"draft {i}".encode()))
    vault = Vault.open(root)
    opens = _CountedOpens(monkeypatch)
    notes = list(vault.notes())
    assert opens.paths == []  # nothing read twice
    assert [dict(n) for n in notes] == [
        {"status": f"draft {i}", "tags": ["a", "b"]} for i in range(5)
    ]
    assert [n.to_bytes() for n in notes] == [(root / f"n{i}.md").read_bytes() for i in range(5)]


def test_a_value_read_from_a_note_can_be_mutated_without_touching_the_index(
    tmp_path: Path,
) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    vault = Vault.open(root)
    [note] = vault.notes()
    tags = note["tags"]
    tags.append("mine")
    fields = dict(note)
    fields["tags"].append("also mine")
    note.fields["tags"].clear()
    assert note["tags"] == ["a", "b"]
    assert vault.entry("a.md").fields == {"status": "draft", "tags": ["a", "b"]}
    note["tags"] = tags  # assigning it back is the way to change it
    assert note["tags"] == ["a", "b", "mine"]
    assert vault.entry("a.md").fields["tags"] == ["a", "b"]  # the index is the file's


def test_a_note_changed_after_the_scan_is_read_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    _old(root / "b.md", FULL)
    vault = Vault.open(root)
    st = (root / "a.md").stat()
    (root / "a.md").write_bytes(FULL.replace(b"draft", b"DRAFT"))  # same size
    os.utime(root / "a.md", ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime
    opens = _CountedOpens(monkeypatch)
    notes = {n.path: n for n in vault.notes()}
    assert notes["a.md"]["status"] == "DRAFT"
    assert notes["b.md"]["status"] == "draft"
    assert opens.paths == [str(root.resolve() / "a.md")]


def test_the_cli_waits_for_a_note_caught_mid_save(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_json(capsys, project)
    monkeypatch.setenv(vault_module.SETTLE_ENV, "1000")  # the default, as users run it
    note = _note(project, "Abandonment Wound")
    data = note.read_bytes()
    saving = _save_in_two_steps(note, data.replace(b"intensity: 8\n", b"intensity: 4\n"), 0.3)
    try:
        report = sync_json(capsys, project)["targets"]["local"]
    finally:
        saving.join()
    assert report["remote"]["updated"] == 1 and report["skipped"] == []
    row = _row(project, "wound", "Abandonment Wound")
    assert row["intensity"] == 4 and row["core_belief"]


def _typed(value: Any) -> Any:
    """``value`` with the type of every part spelled out (``1 == True`` must not pass)."""
    if isinstance(value, dict):
        return [(_typed(k), _typed(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def test_every_corpus_note_served_from_the_cached_index_reads_as_its_own_bytes(
    tmp_path: Path, corpus: list[Path]
) -> None:
    from syncbridge import Note
    from syncbridge.errors import NoteError

    root = tmp_path / "vault"
    for i, source in enumerate(corpus):
        _old(root / f"{i:04d}.md", source.read_bytes())
    cache = tmp_path / "index.json"
    Vault.open(root, cache_path=cache)
    vault = Vault.open(root, cache_path=cache)  # values from the JSON cache, nothing parsed
    compared = 0
    for note in vault.notes():
        own = Note.from_bytes(note.to_bytes(), path=note.path)
        try:
            expected = _typed(dict(own))
        except NoteError:
            continue  # unreadable frontmatter: served as bytes, its values raise alike
        assert _typed(dict(note)) == expected, note.path
        assert _typed(note.fields) == expected, note.path
        compared += 1
    assert compared > 1000


def test_a_recent_file_with_the_bytes_the_index_knows_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    _old(root / "a.md", FULL)
    vault = Vault.open(root, settle_ms=1000)
    (root / "a.md").write_bytes(FULL)  # rewritten just now, same bytes (or our own write)
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(vault_module.time, "sleep", sleep)
    assert vault.rescan().unchanged == 1
    assert slept == []
    (root / "a.md").write_bytes(NEW)  # new bytes just now: waited for
    assert vault.rescan().changed == 1
    assert slept and max(slept) > 0.5


def test_a_long_lived_bridge_holds_an_emptied_note_until_its_run_ends(project: Path) -> None:
    """The daemon keeps one Bridge (and one Vault) across runs and ends each run with
    ``Bridge.begin_run``: the note is held by every sync of the run that first saw it
    emptied, and taken as the user's edit by the next run."""
    import syncbridge

    with syncbridge.open(project / "syncbridge.toml") as bridge:
        bridge.sync()
        note = _note(project, "Abandonment Wound")
        note.write_bytes(b"")
        for _ in range(2):  # one run: every sync in it holds the note
            held = bridge.sync()["local"]
            assert held.remote.updated == 0
            assert any("emptied" in s.message for s in held.skipped)
            assert _row(project, "wound", "Abandonment Wound")["intensity"] == 8
        assert list(bridge.begin_run()) == ["Psyche/Wounds/Abandonment Wound.md"]
        taken = bridge.sync()["local"]
        assert taken.remote.updated == 1 and taken.skipped == []
        assert bridge.begin_run() == {}
    assert "Abandonment Wound" not in _titles(project, "wound")
