"""Benchmark: a 1,000-note sync into the local Notion server with Notion's rate limit on.

The server enforces 3 requests/s on average (bursts of 10) and answers 429 with
``Retry-After`` past that; the adapter paces itself to 3 requests/s. Reports the requests
made, the wall time against the floor the rate limit sets (requests ÷ 3 s), the 429s the
server had to serve, and the same for a no-op re-sync. Writes the ``notion-sync`` section
of ``docs/benchmarks.md``.

    .venv/bin/python benchmarks/notion_sync.py            # 1,000 notes (about 6 minutes)
    .venv/bin/python benchmarks/notion_sync.py --notes 100 --no-write
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from syncbridge_notion import NotionAdapter, NotionConfig
from syncbridge_notion_fake import NotionFakeServer, RateLimitConfig

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section

ENV = "SYNCBRIDGE_BENCH_NOTION_TOKEN"


def make_vault(root: Path, n: int) -> None:
    root.mkdir(parents=True)
    for i in range(n):
        (root / f"Note {i:04d}.md").write_text(
            f"---\nid: {10_000 + i}\nscore: {i % 17}\ntags: [t{i % 9}, bench]\n"
            f"done: {str(i % 2 == 0).lower()}\nday: 2025-07-{1 + i % 28:02d}\n---\n"
            f"# Note {i}\n\nA paragraph of note {i} with *emphasis* and a [[Note {i - 1:04d}]].\n"
            f"\n- one\n- two\n",
            encoding="utf-8",
        )


def stats(server: NotionFakeServer) -> dict[str, int]:
    data = httpx.get(f"{server.url}/__fake__/stats").json()
    return {"requests": int(data["requests_total"]), "rate_limited": int(data["rate_limited"])}


def reset(server: NotionFakeServer) -> None:
    httpx.post(f"{server.url}/__fake__/config", json={"reset_stats": True}).raise_for_status()


def one_sync(root: Path, server: NotionFakeServer, state: StateStore) -> tuple[dict, float]:
    vault = VaultAdapter(Vault.open(root / "vault"))
    config = NotionConfig(
        parent_page=server.root_page_id, token_env=ENV, base_url=server.url
    )
    reset(server)
    start = time.perf_counter()
    with NotionAdapter(config, base_dir=root) as remote:
        report = run_sync(vault, remote, state, SyncOptions(target="notion"))
    elapsed = time.perf_counter() - start
    if report.errors:
        raise SystemExit(f"errors: {report.errors[:3]}")
    return report.to_dict(), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    rate = RateLimitConfig(enabled=True, rate=3.0, burst=10)
    with tempfile.TemporaryDirectory() as tmp, NotionFakeServer(rate_limit=rate) as server:
        root = Path(tmp)
        os.environ[ENV] = server.token
        make_vault(root / "vault", args.notes)
        with StateStore.open(root / "state.db") as state:
            first, t_first = one_sync(root, server, state)
            s_first = stats(server)
            second, t_second = one_sync(root, server, state)
            s_second = stats(server)
    created = first["remote"]["created"]
    lines = [
        "## Notion sync (`benchmarks/notion_sync.py`)",
        "",
        f"{args.notes} generated notes (5 fields, a heading, a paragraph with a wikilink, a "
        "list) synced into the local Notion server with Notion's rate limit on (3 requests/s, "
        "bursts of 10, 429 + Retry-After past it); the adapter paces itself to 3/s. "
        f"{machine()}.",
        "",
        "| run | pages created | requests | 429s served | wall time | requests ÷ 3/s |",
        "|---|---|---|---|---|---|",
        f"| initial sync | {created} | {s_first['requests']} | {s_first['rate_limited']} | "
        f"{t_first:.1f} s | {s_first['requests'] / 3:.1f} s |",
        f"| no-op re-sync | {second['remote']['created']} | {s_second['requests']} | "
        f"{s_second['rate_limited']} | {t_second:.1f} s | {s_second['requests'] / 3:.1f} s |",
        "",
        "The initial sync needs one request per note (the page with its properties and "
        "blocks), plus one database, one schema update and one listing per class. The no-op "
        "re-sync lists each data source (100 pages per request) and reads nothing else: "
        "unchanged pages come from the local cache.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("notion-sync", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
