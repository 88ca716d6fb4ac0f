"""Daemon benchmark against Notion: ``syncbridge watch`` with a Notion target, the local
Notion server with its rate limit on (3 requests/s, bursts of 10, as Notion documents).

The daemon runs as a real process (``python -m syncbridge watch``) with the default timing
(``debounce_ms = 1000``) and a ``poll_interval_s`` of 10; the Notion adapter paces itself
at Notion's rate (``requests_per_s = 3``, ``burst = 3``), through the real notion-client
over HTTP to the server running in this process. Measured:

* saved edit → Notion: a note's ``n`` is rewritten in the vault, then the server's store is
  read (in process: no request, so no share of the rate limit) every 10 ms until the page
  holds the new value; ``--edits`` times, a different note each time. Goal: debounce + 1 s;
* edit in Notion → vault: a page's ``n`` is changed through the API, then the note is read
  every 10 ms until it holds the value; it waits for the next poll, so about half a poll
  interval on average plus one sync (each edit is made at a random point of the cycle);
* the requests and 429s the server counted meanwhile.

Notion rounds ``last_edited_time`` to the minute, so the server's clock is moved on two
minutes before each edit made in Notion (as a user coming back later): an edit within the
minute of syncbridge's own last write to a page is the documented limit (docs/notion.md).

Run: ``python benchmarks/daemon_notion.py [--notes N] [--edits N] [--no-report]``. Writes
the ``daemon-notion`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from notion_client import Client
from syncbridge_notion_fake import NotionFakeServer, RateLimitConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section

DEBOUNCE_MS = 1000
POLL_INTERVAL_S = 10.0
LIMIT = RateLimitConfig(enabled=True, rate=3.0, burst=10)
TOKEN_ENV = "SYNCBRIDGE_BENCH_NOTION_TOKEN"


class ShiftedClock:
    """Real time plus an offset that :meth:`shift` moves on (the server's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def shift(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


def note_text(i: int, value: int) -> str:
    return f"---\nid: {i}\nn: {value}\n---\nBody of note {i}.\n"


def _wait(condition: Any, what: str, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def _pages(server: NotionFakeServer) -> dict[str, str]:
    """Live page title → id (not the root), read from the store in process."""
    store = server.store
    for _ in range(100):
        try:
            return {
                store.page_title(p): p["id"]
                for p in list(store.pages.values())
                if not p.get("in_trash") and p["id"] != server.root_page_id
            }
        except RuntimeError:  # the server thread changed the dict meanwhile
            time.sleep(0.001)
    raise SystemExit("could not read the server's store")


def _n(server: NotionFakeServer, page_id: str) -> Any:
    for _ in range(100):
        try:
            page = server.store.render_page(server.store.pages[page_id])
            return page["properties"]["n"]["number"]
        except (RuntimeError, KeyError):
            time.sleep(0.001)
    return None


def _n_in_note(path: Path) -> int | None:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("n: "):
                return int(line[3:])
    except (OSError, ValueError):
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()

    clock = ShiftedClock()
    with (
        tempfile.TemporaryDirectory(prefix="syncbridge-bench-daemon-notion-") as tmp,
        NotionFakeServer(clock=clock, rate_limit=LIMIT) as server,
    ):
        root = Path(tmp)
        notes = root / "vault" / "Notes"
        notes.mkdir(parents=True)
        (root / "vault" / ".obsidian").mkdir()
        for i in range(args.notes):
            (notes / f"Note {i:05d}.md").write_text(note_text(i, 0), encoding="utf-8")
        config = root / "syncbridge.toml"
        config.write_text(
            '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
            f"[daemon]\ndebounce_ms = {DEBOUNCE_MS}\npoll_interval_s = {POLL_INTERVAL_S}\n\n"
            '[[targets]]\nname = "notion"\nadapter = "notion"\n'
            f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
            f'base_url = "{server.url}"\nrequests_per_s = 3.0\nburst = 3\n',
            encoding="utf-8",
        )
        log = root / "watch.log"
        env = dict(os.environ, **{TOKEN_ENV: server.token})
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncbridge",
                "watch",
                "--config",
                str(config),
                "--log-format",
                "json",
                "--log-file",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        client = Client(auth=server.token, base_url=server.url)
        try:
            _wait(lambda: len(_pages(server)) == args.notes, "the initial sync", 1800)
            initial_s = time.perf_counter() - started
            time.sleep(3)
            httpx.post(f"{server.url}/__fake__/config", json={"reset_stats": True})
            pages = _pages(server)
            to_notion: list[float] = []
            for k in range(args.edits):
                i = (k * 37) % args.notes
                saved = time.perf_counter()
                (notes / f"Note {i:05d}.md").write_text(note_text(i, 100 + k), "utf-8")
                page = pages[f"Note {i:05d}"]
                _wait(lambda p=page, v=100 + k: _n(server, p) == v, f"vault edit {k}", 120)
                to_notion.append(time.perf_counter() - saved)
                time.sleep(1.5)
            to_vault: list[float] = []
            rng = random.Random(0)
            for k in range(max(3, args.edits // 2)):
                i = (k * 53 + 11) % args.notes
                # at a random point of the poll cycle: the previous edit landed right
                # after a poll, so the next edit would otherwise always wait a whole one
                time.sleep(rng.uniform(0, POLL_INTERVAL_S))
                clock.shift(120)
                saved = time.perf_counter()
                client.pages.update(
                    page_id=pages[f"Note {i:05d}"], properties={"n": {"number": 500 + k}}
                )
                path = notes / f"Note {i:05d}.md"
                _wait(lambda p=path, v=500 + k: _n_in_note(p) == v, f"Notion edit {k}", 120)
                to_vault.append(time.perf_counter() - saved)
            stats = httpx.get(f"{server.url}/__fake__/stats").json()
            elapsed = time.perf_counter() - started - initial_s
        finally:
            client.close()
            proc.terminate()
            _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"the daemon exited with {proc.returncode}: {err.decode()}")
        synced = [json.loads(line) for line in log.read_text().splitlines() if '"synced"' in line]

    load = os.getloadavg()
    goal = DEBOUNCE_MS / 1000 + 1
    lines = [
        "## Daemon with a Notion target (`benchmarks/daemon_notion.py`)",
        "",
        f"`syncbridge watch` as a real process, {args.notes} notes synced into the local "
        "Notion server through the real notion-client over HTTP, the server's rate limit "
        f"on ({LIMIT.rate:g} requests/s, bursts of {LIMIT.burst}) and the adapter pacing "
        f"itself at 3 requests/s; debounce {DEBOUNCE_MS} ms, poll interval "
        f"{POLL_INTERVAL_S:g} s. {machine()}; load average during the run {load[1]:.1f} "
        f"(1-minute {load[0]:.1f}).",
        "",
        "| | measured | goal |",
        "|---|---|---|",
        f"| saved edit → page in Notion, median of {len(to_notion)} | "
        f"{statistics.median(to_notion):.2f} s (worst {max(to_notion):.2f} s) | "
        f"within debounce + 1 s = {goal:.1f} s |",
        f"| edit in Notion → note in the vault, median of {len(to_vault)} | "
        f"{statistics.median(to_vault):.2f} s (worst {max(to_vault):.2f} s) | within one "
        f"poll interval ({POLL_INTERVAL_S:g} s) plus a sync |",
        f"| requests during the edits ({elapsed:.0f} s) | {stats['requests_total']} "
        f"({stats['requests_total'] / elapsed:.2f}/s), {stats['rate_limited']} answered 429 "
        "| under 3/s |",
        f"| daemon start to first sync done ({args.notes} creates) | {initial_s:.1f} s | |",
        "",
        "A saved edit waits for the debounce, then one sync: a query of the data source "
        "for pages edited since the last look, and one `PATCH` of the page; a Notion edit "
        "waits for the next poll (half an interval on average), which lists what changed "
        "and writes the note. Each poll costs requests even when nothing changed (the "
        "adapter has no cheap change token), which is what the request rate above is "
        f"mostly made of. {len(synced)} sync log lines (syncs that wrote something).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_report:
        write_section("daemon-notion", text)


if __name__ == "__main__":
    main()
