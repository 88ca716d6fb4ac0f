"""Benchmark: a 1,000-note sync into the local Notion server with Notion's rate limit on.

The server enforces 3 requests/s on average (bursts of 10) and answers 429 with
``Retry-After`` past that; the adapter paces itself to 3 requests/s. Reports the requests
made, the wall time against the floor the rate limit sets (requests ÷ 3 s), the 429s the
server had to serve, and the same for a no-op re-sync. Writes the ``notion-sync`` section
of ``docs/benchmarks.md``.

    .venv/bin/python benchmarks/notion_sync.py            # 1,000 notes (about 6 minutes)
    .venv/bin/python benchmarks/notion_sync.py --notes 100 --no-write
    .venv/bin/python benchmarks/notion_sync.py --notes 200 --forward-links

``--forward-links``: each note also links to the note after it, which does not exist yet
when the note is created: with the links both ways, creating notes in link order cannot
spare every page the second pass (``syncbridge_notion/mentions.py``), about every other
one gets its page mention there; writes the ``notion-sync-forward`` section.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def make_vault(root: Path, n: int, forward: bool = False) -> None:
    root.mkdir(parents=True)
    for i in range(n):
        after = f" and [[Note {i + 1:04d}]]" if forward else ""
        (root / f"Note {i:04d}.md").write_text(
            f"---\nid: {10_000 + i}\nscore: {i % 17}\ntags: [t{i % 9}, bench]\n"
            f"done: {str(i % 2 == 0).lower()}\nday: 2025-07-{1 + i % 28:02d}\n---\n"
            f"# Note {i}\n\nA paragraph of note {i} with *emphasis* and a [[Note {i - 1:04d}]]"
            f"{after}.\n"
            f"\n- one\n- two\n",
            encoding="utf-8",
        )


def stats(server: NotionFakeServer) -> dict[str, Any]:
    data = httpx.get(f"{server.url}/__fake__/stats").json()
    return {
        "requests": int(data["requests_total"]),
        "rate_limited": int(data["rate_limited"]),
        "by_endpoint": data.get("requests") or {},
    }


def reset(server: NotionFakeServer) -> None:
    httpx.post(f"{server.url}/__fake__/config", json={"reset_stats": True}).raise_for_status()


def one_sync(root: Path, server: NotionFakeServer, state: StateStore) -> tuple[dict, float]:
    vault = VaultAdapter(Vault.open(root / "vault"))
    config = NotionConfig(parent_page=server.root_page_id, token_env=ENV, base_url=server.url)
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
    parser.add_argument(
        "--forward-links",
        action="store_true",
        help="each note also links to the next one (the second pass)",
    )
    args = parser.parse_args()
    rate = RateLimitConfig(enabled=True, rate=3.0, burst=10)
    with tempfile.TemporaryDirectory() as tmp, NotionFakeServer(rate_limit=rate) as server:
        root = Path(tmp)
        os.environ[ENV] = server.token
        make_vault(root / "vault", args.notes, args.forward_links)
        with StateStore.open(root / "state.db") as state:
            first, t_first = one_sync(root, server, state)
            s_first = stats(server)
            second, t_second = one_sync(root, server, state)
            s_second = stats(server)
    created = first["remote"]["created"]
    if args.forward_links:
        return _forward_report(args, created, s_first, t_first, s_second, t_second)
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
        "Requests of the initial sync by endpoint: "
        + ", ".join(f"`{name}` {count}" for name, count in sorted(s_first["by_endpoint"].items()))
        + ".",
        "",
        "Each note is one `POST /v1/pages` (the page with its properties and blocks), plus one "
        "database, one schema update and one listing per class. Each note's wikilink to the "
        "note before it is a page mention; the engine creates new notes in link order "
        "(`syncbridge/engine/order.py`: a note after the new notes it links to), so each "
        "note's target exists when it is sent, and a link sent as text (a note created "
        "before the note it links to) is left to links that go round in a cycle: the second "
        "pass at the end of the batch makes such a link a mention, with one listing of the "
        "page's blocks, one `PATCH` of the paragraph, one read of the page's new version "
        "(the `GET /v1/blocks/{id}/children`, `PATCH /v1/blocks/{id}` and "
        "`GET /v1/pages/{id}` counts above, less the few of the setup). The no-op re-sync "
        "lists each data source (100 pages per request) and reads nothing else: unchanged "
        "pages come from the local cache.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("notion-sync", text)
    return 0


def _forward_report(
    args: argparse.Namespace,
    created: int,
    s_first: dict[str, Any],
    t_first: float,
    s_second: dict[str, Any],
    t_second: float,
) -> int:
    endpoints = ", ".join(
        f"`{name}` {count}" for name, count in sorted(s_first["by_endpoint"].items())
    )
    lines = [
        "## Notion sync, links to notes created later (`benchmarks/notion_sync.py "
        "--forward-links`)",
        "",
        f"{args.notes} generated notes as above, each paragraph also linking to the next note "
        "(which does not exist yet when the note is created), synced with the rate limit on. "
        f"{machine()}.",
        "",
        "| run | pages created | requests | requests per note | 429s served | wall time | "
        "requests ÷ 3/s |",
        "|---|---|---|---|---|---|---|",
        f"| initial sync | {created} | {s_first['requests']} | "
        f"{s_first['requests'] / max(created, 1):.2f} | {s_first['rate_limited']} | "
        f"{t_first:.1f} s | {s_first['requests'] / 3:.1f} s |",
        f"| no-op re-sync | 0 | {s_second['requests']} | | {s_second['rate_limited']} | "
        f"{t_second:.1f} s | {s_second['requests'] / 3:.1f} s |",
        "",
        f"Requests of the initial sync by endpoint: {endpoints}.",
        "",
        "A link to a note that exists when the linking note is created is sent as a page "
        "mention; one to a note created after it is sent as text, and the second pass at the "
        "batch's end lists the page's blocks, updates the paragraph in place and reads the "
        "page's new version: three requests more per note whose body links to a note "
        "created after it. The engine creates new notes in link order "
        "(`syncbridge/engine/order.py`), but here each note links both ways, so one note of "
        "each linked pair must come first and wait; the order chosen leaves about every "
        "other note waiting (in the vault's listing order, the file system's, most would). "
        "The no-op re-sync finds nothing left to do.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("notion-sync-forward", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
