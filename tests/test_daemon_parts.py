"""The daemon's pure parts: which events matter, debouncing, backoff, the lock, JSON logs."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
from pathlib import Path

import pytest

from syncbridge.daemon import Backoff, ChangeBuffer, DaemonLock, VaultEventFilter
from syncbridge.daemon.logs import JsonFormatter
from syncbridge.errors import DaemonRunning


@pytest.mark.parametrize(
    ("path", "relevant"),
    [
        ("Notes/A.md", True),
        ("A.md", True),
        (".obsidian/workspace.json", False),
        (".obsidian/plugins/x/data.md", False),
        (".trash/A.md", False),
        (".git/index", False),
        (".git/x.md", False),
        ("Notes/.hidden/A.md", False),
        ("Notes/.A.md.swp", False),
        ("Notes/A.md~", False),
        ("Notes/.#A.md", False),
        ("Notes/.sb-123-0123456789abcdef.tmp", False),
        ("Notes/A.md.tmp", False),
        ("Notes/A (conflict 2026-11-28 1432).md", False),
        ("Notes/A (conflict 2026-11-28 1432) 2.md", False),
        ("Notes/A (conflict of interest).md", True),
        ("Notes/picture.png", False),
        ("Archive/Old.md", False),
        ("Archive/Deep/Old.md", False),
        ("Drafts/x.excalidraw.md", False),
    ],
)
def test_event_filter(path: str, relevant: bool) -> None:
    events = VaultEventFilter(("Archive/**", "*.excalidraw.md", "Drafts/*.excalidraw.md"))
    assert events.relevant(path) is relevant


def test_event_filter_folders() -> None:
    events = VaultEventFilter(("Archive/**",))
    assert events.relevant("Notes", is_directory=True)
    assert not events.relevant(".obsidian", is_directory=True)
    assert not events.relevant("Archive", is_directory=True)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_buffer_debounces_and_coalesces_a_burst() -> None:
    clock = Clock()
    woken: list[int] = []
    buffer = ChangeBuffer(1.0, 10.0, clock=clock, on_change=lambda: woken.append(1))
    assert buffer.deadline() is None and buffer.take_due() is None
    for i in range(1000):  # a git checkout: 1,000 files, one after the other
        buffer.add([f"Notes/{i}.md"])
        clock.now += 0.001
    buffer.add(["Notes/0.md"])  # written twice
    assert buffer.pending() == 1000 and len(woken) == 1001
    assert buffer.take_due() is None  # still inside the debounce
    clock.now += 1.0
    due = buffer.take_due()
    assert due is not None and len(due.paths) == 1000 and not due.structural
    assert buffer.take_due() is None and buffer.pending() == 0


def test_buffer_max_delay_and_put_back() -> None:
    clock = Clock()
    buffer = ChangeBuffer(1.0, 5.0, clock=clock)
    for _ in range(20):  # never quiet for a whole second
        buffer.add(["A.md"])
        clock.now += 0.5
        if buffer.take_due() is not None:
            break
    assert clock.now - 100.0 <= 5.5  # due at max_delay after the first change
    buffer.add((), structural=True)
    taken = buffer.take()
    assert taken is not None and taken.structural and buffer.take() is None
    buffer.put_back(taken, ["B.md"])
    again = buffer.take_due()  # due at once
    assert again is not None and again.structural and again.paths == {"B.md"}


def test_backoff_grows_with_jitter_is_capped_and_resets() -> None:
    backoff = Backoff(base_s=1.0, max_s=60.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(60.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered
    assert backoff.next_delay(retry_after_s=120.0) == 120.0  # the remote asked for more
    backoff.reset()
    assert backoff.failures == 0 and backoff.next_delay() <= 1.0


def test_lock_names_the_holder_and_is_released_by_death(tmp_path: Path) -> None:
    path = tmp_path / "daemon.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from syncbridge.daemon import DaemonLock;"
            "DaemonLock(Path(sys.argv[1])).acquire({'pid': 4242, 'started_at': 'then',"
            " 'config': 'x.toml'}); print('locked', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert DaemonLock.held(path)
        with pytest.raises(DaemonRunning, match=r"pid 4242, started then, config x\.toml"):
            DaemonLock(path).acquire({"pid": 1})
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock
        holder.wait()
    assert not DaemonLock.held(path)
    lock = DaemonLock(path)
    lock.acquire({"pid": 2})
    assert json.loads(path.read_text()) == {"pid": 2}
    lock.release()
    lock.release()
    assert not DaemonLock.held(path)


def test_json_log_lines_carry_extra_fields() -> None:
    record = logging.LogRecord(
        "syncbridge.daemon", logging.WARNING, __file__, 1, "target %s paused", ("local",), None
    )
    record.event = "target_paused"
    record.target = "local"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "target local paused" and line["level"] == "warning"
    assert line["event"] == "target_paused" and line["target"] == "local"
    assert line["time"].endswith("+00:00")


def test_service_files_run_watch_in_the_foreground() -> None:
    import configparser
    import plistlib

    root = Path(__file__).resolve().parent.parent / "contrib"
    with (root / "launchd" / "org.syncbridge.watch.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    assert plist["ProgramArguments"][1:3] == ["watch", "--config"]
    assert plist["Label"] == "org.syncbridge.watch" and plist["RunAtLoad"] is True
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(root / "systemd" / "syncbridge.service", encoding="utf-8")
    assert " watch --config " in unit["Service"]["ExecStart"]
    assert unit["Service"]["Type"] == "simple"  # the foreground process is the service
    assert unit["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["Install"]["WantedBy"] == "default.target"


def _watch_until(buffer: ChangeBuffer, write: object, path: str) -> None:
    from daemon_support import wait_until

    def seen() -> bool:
        write()  # type: ignore[operator]
        changes = buffer.take()
        return changes is not None and path in changes.paths

    wait_until(seen, f"an event for {path}", every_s=0.5)


def test_watcher_polling_on_request(tmp_path: Path) -> None:
    from syncbridge.daemon.watcher import VaultWatcher

    buffer = ChangeBuffer(0.0, 0.0)
    watcher = VaultWatcher(tmp_path, VaultEventFilter(), buffer, polling=True)
    watcher.start()
    try:
        assert watcher.mode == "polling" and watcher.alive()
        counter = iter(range(10_000))
        _watch_until(buffer, lambda: (tmp_path / "A.md").write_text(f"{next(counter)}"), "A.md")
    finally:
        watcher.stop()
    assert not watcher.alive() and watcher.mode == "stopped"


def test_watcher_falls_back_to_polling_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The native observer cannot be made to fail for real here without changing the
    machine's inotify limits for everyone, so its start is made to raise what inotify
    raises when the watch limit is reached."""
    import syncbridge.daemon.watcher as watcher_module

    class NoInotify(watcher_module.Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watcher_module, "Observer", NoInotify)
    buffer = ChangeBuffer(0.0, 0.0)
    watcher = watcher_module.VaultWatcher(tmp_path, VaultEventFilter(), buffer, polling=False)
    with caplog.at_level(logging.WARNING, logger="syncbridge.daemon"):
        watcher.start()
    try:
        assert watcher.mode == "polling"
        (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert "inotify watch limit reached" in warning.getMessage()
        assert "polling" in warning.getMessage() and "--polling" in warning.getMessage()
        counter = iter(range(10_000))
        _watch_until(buffer, lambda: (tmp_path / "B.md").write_text(f"{next(counter)}"), "B.md")
    finally:
        watcher.stop()


def test_native_watcher_reports_a_rename_into_place(tmp_path: Path) -> None:
    from syncbridge.daemon.watcher import VaultWatcher

    buffer = ChangeBuffer(0.0, 0.0)
    watcher = VaultWatcher(tmp_path, VaultEventFilter(), buffer, polling=False)
    watcher.start()
    try:
        assert watcher.mode == "native"
        counter = iter(range(10_000))

        def save() -> None:  # Obsidian's way: a temp file renamed over the note
            temp = tmp_path / ".C.md.tmp"
            temp.write_text(f"{next(counter)}")
            temp.replace(tmp_path / "C.md")

        _watch_until(buffer, save, "C.md")
        (tmp_path / ".obsidian").mkdir()
        (tmp_path / ".obsidian" / "workspace.json").write_text("{}")
        (tmp_path / "sub").mkdir()
        from daemon_support import wait_until

        changes = wait_until(buffer.take, "the folder event")
        assert changes.structural and ".obsidian/workspace.json" not in changes.paths
    finally:
        watcher.stop()


def test_lock_in_a_folder_we_may_not_write_is_a_clear_error(tmp_path: Path) -> None:
    import os

    from syncbridge.errors import StateError

    if os.geteuid() == 0:  # root writes anywhere: make the folder a file instead
        blocked = tmp_path / "state"
        blocked.write_text("not a folder")
    else:
        blocked = tmp_path / "state"
        blocked.mkdir(mode=0o500)
    with pytest.raises(StateError, match=r"cannot create the daemon's lock.*\[state\] path"):
        DaemonLock(blocked / "sub" / "daemon.lock").acquire({"pid": 1})


def test_settle_wait_applies_the_vaults_mid_save_rule_to_a_batch() -> None:
    from syncbridge.daemon.events import settle_wait_s

    second = 1_000_000_000
    now = 100 * second
    assert settle_wait_s([], now, second) == 0
    assert settle_wait_s([now - 2 * second, now - second], now, second) == 0  # settled
    assert settle_wait_s([now - 2 * second, now - second // 4], now, second) == 0.75
    assert settle_wait_s([now + 5 * second], now, second) == 0  # from the future: settled
