"""``syncbridge watch`` with a Notion target: the daemon as a real process, the Notion
adapter and the real notion-client over HTTP to the local Notion server (the fake, running
in this test's process), real file events.

Notion rounds ``last_edited_time`` to the minute, so an edit made in Notion within the
minute of syncbridge's own last write to that page cannot be told from it (the documented
limit, docs/notion.md). The server's clock here runs on real time plus an offset that a
test moves on by two minutes before it edits in Notion, as a user coming back later would.
No test asserts a duration: each waits for a condition, with a generous timeout.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_support import DaemonProcess, note_text, wait_until

pytest.importorskip("syncbridge_notion")
fake = pytest.importorskip("syncbridge_notion_fake")
notion_client = pytest.importorskip("notion_client")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

TOKEN_ENV = "SYNCBRIDGE_TEST_NOTION_TOKEN"
NOTES = 5


class ShiftedClock:
    """Real time plus an offset that :meth:`shift` moves forward (thread-safe)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic()

    def shift(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class Setup:
    """A vault of ``NOTES`` notes, a config syncing it into the server, the daemon."""

    def __init__(self, root: Path, server: Any, clock: ShiftedClock) -> None:
        self.root, self.server, self.clock = root, server, clock
        vault = root / "vault"
        (vault / "Notes").mkdir(parents=True)
        (vault / ".obsidian").mkdir()
        for n in range(1, NOTES + 1):
            self.note(n).write_text(note_text(n, 0), encoding="utf-8")
        self.config = root / "syncbridge.toml"
        self.config.write_text(
            '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
            "[daemon]\ndebounce_ms = 200\npoll_interval_s = 1.0\n\n"
            "[daemon.control]\nenabled = true\n\n"
            '[[targets]]\nname = "notion"\nadapter = "notion"\n'
            f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
            f'base_url = "{server.url}"\nrequests_per_s = 1000.0\nburst = 100\n'
            "timeout_s = 2.0\nmax_retries = 2\nmax_backoff_s = 0.5\n",
            encoding="utf-8",
        )
        # the test's own reads meet the server's rate limit too: they wait it out (only
        # the daemon's requests are under test)
        self.client = notion_client.Client(
            auth=server.token,
            base_url=server.url,
            retry=notion_client.RetryOptions(
                max_retries=20, initial_retry_delay_ms=50, max_retry_delay_ms=500
            ),
        )
        self.daemon: DaemonProcess | None = None

    def note(self, n: int) -> Path:
        return self.root / "vault" / "Notes" / f"Note {n:05d}.md"

    def start(self) -> DaemonProcess:
        self.daemon = DaemonProcess(self.config)
        wait_until(lambda: len(self.pages()) == NOTES, "the first sync into Notion", 120)
        self.daemon.wait_event("synced")
        return self.daemon

    def pages(self) -> dict[str, list[str]]:
        """Live pages (not the root) by title → their ids."""
        store = self.server.store
        out: dict[str, list[str]] = {}
        for page in list(store.pages.values()):
            if page.get("in_trash") or page["id"] == self.server.root_page_id:
                continue
            out.setdefault(store.page_title(page), []).append(page["id"])
        return out

    def n_in_notion(self, n: int) -> Any:
        """``n`` of the page of note ``n`` as the API shows it (None if no such page)."""
        ids = self.pages().get(f"Note {n:05d}", [])
        if len(ids) != 1:
            return None
        page = self.client.pages.retrieve(page_id=ids[0])
        return page["properties"]["n"]["number"]

    def edit_in_notion(self, n: int, value: int) -> None:
        self.clock.shift(120)  # a later minute than syncbridge's own last write
        (page_id,) = self.pages()[f"Note {n:05d}"]
        self.client.pages.update(page_id=page_id, properties={"n": {"number": value}})

    def n_in_vault(self, n: int) -> int | None:
        for line in self.note(n).read_text(encoding="utf-8").splitlines():
            if line.startswith("n: "):
                return int(line[3:])
        return None

    def stats(self) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("GET", "/__fake__/stats")
        data: dict[str, Any] = json.loads(conn.getresponse().read())
        conn.close()
        return data

    def reset_stats(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        body = json.dumps({"reset_stats": True})
        conn.request("POST", "/__fake__/config", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.close()

    def status(self) -> dict[str, Any]:
        """``GET /status`` of the daemon's control API."""
        info = json.loads((self.root / ".syncbridge" / "control.json").read_text())
        conn = http.client.HTTPConnection("127.0.0.1", int(info["port"]), timeout=30)
        conn.request(
            "GET",
            "/status",
            headers={
                "Host": f"127.0.0.1:{info['port']}",
                "Authorization": f"Bearer {info['token']}",
            },
        )
        data: dict[str, Any] = json.loads(conn.getresponse().read())
        conn.close()
        return data

    def close(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()
        self.client.close()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    clock = ShiftedClock()
    with fake.NotionFakeServer(clock=clock) as server:
        monkeypatch.setenv(TOKEN_ENV, server.token)
        s = Setup(tmp_path, server, clock)
        try:
            yield s
        finally:
            s.close()


def _page_writes(setup: Setup) -> int:
    return int(setup.stats()["requests"].get("PATCH /v1/pages/{id}", 0))


def test_edits_flow_both_ways_and_nothing_echoes(setup: Setup) -> None:
    daemon = setup.start()
    # Notion → vault, within a poll interval (the test only waits for it)
    setup.edit_in_notion(2, 7)
    wait_until(lambda: setup.n_in_vault(2) == 7, "the Notion edit in the vault")
    pulled = setup.note(2).read_bytes(), setup.note(2).stat().st_mtime_ns
    setup.reset_stats()
    # vault → Notion, after the debounce
    setup.note(3).write_text(note_text(3, 5), encoding="utf-8")
    wait_until(lambda: setup.n_in_notion(3) == 5, "the vault edit in Notion")
    pushed = setup.note(3).read_bytes(), setup.note(3).stat().st_mtime_ns
    # a later edit on each side as the clock: whatever echoed would have by then
    setup.edit_in_notion(4, 8)
    wait_until(lambda: setup.n_in_vault(4) == 8, "the second Notion edit")
    setup.note(5).write_text(note_text(5, 9), encoding="utf-8")
    wait_until(lambda: setup.n_in_notion(5) == 9, "the second vault edit")
    # no echo: page 2 was not written back, note 3 not rewritten; the page writes since
    # the reset are the two pushes and the test's own edit of page 4
    assert _page_writes(setup) == 3
    assert (setup.note(2).read_bytes(), setup.note(2).stat().st_mtime_ns) == pulled
    assert (setup.note(3).read_bytes(), setup.note(3).stat().st_mtime_ns) == pushed
    assert setup.n_in_notion(2) == 7
    assert {t: len(ids) for t, ids in setup.pages().items()} == {
        f"Note {n:05d}": 1 for n in range(1, NOTES + 1)
    }
    assert daemon.stop() == 0


def test_a_failing_remote_backs_off_keeps_every_edit_and_delivers_each_once(
    setup: Setup,
) -> None:
    daemon = setup.start()
    # Notion down: every request answered 503
    setup.server.configure(faults=[fake.FaultRule("status", status=503, times=None)])
    setup.note(1).write_text(note_text(1, 11), encoding="utf-8")
    setup.note(2).write_text(note_text(2, 12), encoding="utf-8")
    setup.note(6).write_text(note_text(6, 16), encoding="utf-8")  # a new note
    daemon.wait_event("target_backoff")
    status = wait_until(
        lambda: (s := setup.status())["targets"]["notion"]["state"] == "backoff" and s,
        "the control API reporting the backoff",
    )
    target = status["targets"]["notion"]
    assert target["failures"] >= 1 and target["pending_local_changes"] is True
    assert "503" in target["reason"] or "unavailable" in target["reason"].lower()
    assert daemon.check_alive() is False
    # Then it comes back, badly at first: rate limited (429s), the create's answer lost
    # after the page was made (a blind retry would duplicate it), connections dropped.
    setup.server.configure(
        rate_limit=fake.RateLimitConfig(enabled=True, rate=4.0, burst=2),
        faults=[
            fake.FaultRule("drop_after", method="POST", path=r"^/v1/pages$", times=1),
            fake.FaultRule("drop_before", method="PATCH", times=2),
        ],
        seed=7,
    )
    wait_until(
        lambda: (setup.n_in_notion(1), setup.n_in_notion(2), setup.n_in_notion(6)) == (11, 12, 16),
        "every queued edit in Notion",
        120,
    )
    daemon.wait_event("target_ok")
    wait_until(
        lambda: setup.status()["targets"]["notion"]["state"] == "ok", "the status back to ok"
    )
    stats = setup.stats()  # since the server started
    faults = stats["faults"]
    assert faults["status_503"] >= 1 and stats["rate_limited"] > 0  # the faults were met
    assert faults["drop_before"] == 2 and faults["drop_after"] == 1
    # one create per note carried out: the five of the first sync and the new one, whose
    # answer was lost once after the page was made (found again, not sent twice); requests
    # answered 503 or 429 made nothing, and how many of them came depends on timing
    assert stats["applied"]["POST /v1/pages"] == NOTES + 1
    # each edit once: one page per note, no duplicate of the new one, no conflict copy
    assert {t: len(ids) for t, ids in setup.pages().items()} == {
        f"Note {n:05d}": 1 for n in range(1, NOTES + 2)
    }
    notes = sorted(p.name for p in (setup.root / "vault").rglob("*.md"))
    assert notes == [f"Note {n:05d}.md" for n in range(1, NOTES + 2)]
    assert [setup.n_in_vault(n) for n in (1, 2, 6)] == [11, 12, 16]
    # one log line per change of state, not one per retry
    assert len(daemon.events("target_backoff")) <= 2
    assert daemon.stop() == 0


RETRY_AFTER_S = 300
"""What the server asks the daemon to wait in the stop test: far past any stop timeout
(launchd's and systemd's are 20 s and 90 s) and the test's bound on the exit."""


def test_sigterm_while_notion_asks_to_wait_exits_at_once_and_the_next_run_creates_once(
    setup: Setup,
) -> None:
    # Retry-After honoured in full (the fixture caps waits at 0.5 s)
    config = setup.config.read_text(encoding="utf-8")
    setup.config.write_text(
        config.replace("max_backoff_s = 0.5", f"max_backoff_s = {RETRY_AFTER_S}.0"),
        encoding="utf-8",
    )
    daemon = setup.start()
    sent_before = setup.stats()["requests"].get("POST /v1/pages", 0)
    # every create is refused with 429, Retry-After: 300 s
    setup.server.configure(
        faults=[
            fake.FaultRule(
                "status",
                status=429,
                method="POST",
                path=r"^/v1/pages$",
                retry_after=RETRY_AFTER_S,
                times=None,
            )
        ]
    )
    setup.note(6).write_text(note_text(6, 16), encoding="utf-8")  # a new note: a create
    wait_until(lambda: setup.stats()["faults"].get("status_429", 0) >= 1, "the create answered 429")
    # the daemon now waits out the Retry-After before sending the create again: SIGTERM
    # must end it well before (a bound on the behaviour, not a benchmark: 60 s of 300)
    assert daemon.stop(timeout_s=60) == 0
    assert daemon.events("sync_interrupted") and not daemon.events("target_backoff")
    stats = setup.stats()
    assert stats["requests"]["POST /v1/pages"] == sent_before + 1  # never sent again
    assert stats["applied"]["POST /v1/pages"] == NOTES
    # Notion answers again: the next run creates the page at once (the create the stop
    # cut short was no lost create to look for and wait on), and once
    setup.server.configure(faults=[])
    setup.daemon = DaemonProcess(setup.config, log_name="daemon-2.log")
    wait_until(lambda: setup.n_in_notion(6) == 16, "the new note in Notion")
    setup.daemon.wait_event("synced")
    assert not setup.daemon.events("entry_error")
    assert {t: len(ids) for t, ids in setup.pages().items()} == {
        f"Note {n:05d}": 1 for n in range(1, NOTES + 2)
    }
    assert setup.stats()["applied"]["POST /v1/pages"] == NOTES + 1
    assert setup.daemon.stop() == 0
